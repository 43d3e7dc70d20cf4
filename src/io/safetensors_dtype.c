/* safetensors dtypes: names, element sizes, and conversion of floating
 * tensors to float32. Tensor bytes are little-endian whatever the host. */
#include <math.h>
#include <string.h>

#include "clheads/safetensors.h"
#include "common/checked.h"
#include "common/little_endian.h"
#include "common/error.h"
#include "io/safetensors_internal.h"

static const struct {
    const char *name;
    size_t size;
} dtype_table[CLH_DT_COUNT] = {
    [CLH_DT_F32] = {"F32", 4},          [CLH_DT_F16] = {"F16", 2},
    [CLH_DT_BF16] = {"BF16", 2},        [CLH_DT_F64] = {"F64", 8},
    [CLH_DT_I64] = {"I64", 8},          [CLH_DT_I32] = {"I32", 4},
    [CLH_DT_I16] = {"I16", 2},          [CLH_DT_I8] = {"I8", 1},
    [CLH_DT_U64] = {"U64", 8},          [CLH_DT_U32] = {"U32", 4},
    [CLH_DT_U16] = {"U16", 2},          [CLH_DT_U8] = {"U8", 1},
    [CLH_DT_BOOL] = {"BOOL", 1},        [CLH_DT_F8_E4M3] = {"F8_E4M3", 1},
    [CLH_DT_F8_E5M2] = {"F8_E5M2", 1},
};

const char *clh_dtype_name(clh_dtype dtype) {
    if ((unsigned)dtype >= CLH_DT_COUNT) return NULL;
    return dtype_table[dtype].name;
}

size_t clh_dtype_size(clh_dtype dtype) {
    if ((unsigned)dtype >= CLH_DT_COUNT) return 0;
    return dtype_table[dtype].size;
}

clh_status clh_dtype_parse(const char *name, clh_dtype *out) {
    if (!name || !out) return clh_fail(CLH_E_NULL, "clh_dtype_parse: name and out are required");
    for (int d = 0; d < CLH_DT_COUNT; d++) {
        if (strcmp(name, dtype_table[d].name) == 0) {
            *out = (clh_dtype)d;
            return CLH_OK;
        }
    }
    return clh_fail(CLH_E_INVALID_ARG, "unknown dtype \"%.32s\"", name);
}

int clh_shape_numel(const int64_t *shape, size_t ndim, size_t *numel) {
    size_t count = 1;
    int overflows = 0, empty = 0;
    for (size_t d = 0; d < ndim; d++) {
        if (shape[d] < 0) return 0;
        size_t extent;
        if (shape[d] == 0) empty = 1;
        /* An extent past SIZE_MAX (a 32-bit size_t) overflows too; a plain
         * cast would keep its low bits (2^32 as 0). */
        else if (!overflows && (!clh_i64_to_size(shape[d], &extent) ||
                                !clh_mul_size(count, extent, &count)))
            overflows = 1;
    }
    if (empty) count = 0;
    else if (overflows) return 0;
    *numel = count;
    return 1;
}

size_t clh_st_numel(const clh_st_tensor *tensor) {
    /* The reader and writer have checked that this product does not overflow
     * (nbytes = numel x element size); for other callers a negative extent
     * gives 0 and an overflowing product saturates. */
    if (!tensor) return 0;
    size_t ndim = tensor->ndim < CLH_ST_MAX_DIMS ? tensor->ndim : CLH_ST_MAX_DIMS, count;
    if (clh_shape_numel(tensor->shape, ndim, &count)) return count;
    for (size_t d = 0; d < ndim; d++)
        if (tensor->shape[d] < 0) return 0;
    return SIZE_MAX;
}


/* double -> float, rounding to nearest; values past the float range (where
 * the C conversion is undefined) become infinities, as IEEE rounding gives. */
static float narrow_double(double value) {
    const double overflow = 0x1.ffffffp127; /* FLT_MAX + half an ulp rounds up */
    if (value >= overflow) return INFINITY;
    if (value <= -overflow) return -INFINITY;
    return (float)value;
}

clh_status clh_st_to_f32(const clh_st_tensor *tensor, float *out, size_t count) {
    if (!tensor || (!out && count > 0))
        return clh_fail(CLH_E_NULL, "clh_st_to_f32: tensor and out are required");
    const char *name = tensor->name ? tensor->name : "";
    size_t numel = clh_st_numel(tensor);
    size_t element = clh_dtype_size(tensor->dtype);
    size_t needed;
    if (element == 0)
        return clh_fail(CLH_E_MISMATCH, "tensor '%.200s': invalid dtype %d", name,
                        (int)tensor->dtype);
    if (!clh_mul_size(numel, element, &needed) || needed != tensor->nbytes)
        return clh_fail(CLH_E_MISMATCH, "tensor '%.200s': %zu bytes do not hold %zu %s elements",
                        name, tensor->nbytes, numel, clh_dtype_name(tensor->dtype));
    if (count != numel)
        return clh_fail(CLH_E_MISMATCH, "tensor '%.200s' has %zu elements, the caller expects %zu",
                        name, numel, count);
    if (numel > 0 && !tensor->data)
        return clh_fail(CLH_E_NULL, "tensor '%.200s' has no data", name);
    const unsigned char *bytes = tensor->data;
    switch (tensor->dtype) {
    case CLH_DT_F32:
        for (size_t i = 0; i < numel; i++) {
            uint32_t bits = clh_load_le32(bytes + 4 * i);
            memcpy(&out[i], &bits, sizeof bits);
        }
        return CLH_OK;
    case CLH_DT_F16:
        for (size_t i = 0; i < numel; i++) out[i] = clh_f16_to_f32(clh_load_le16(bytes + 2 * i));
        return CLH_OK;
    case CLH_DT_BF16:
        for (size_t i = 0; i < numel; i++) out[i] = clh_bf16_to_f32(clh_load_le16(bytes + 2 * i));
        return CLH_OK;
    case CLH_DT_F64:
        for (size_t i = 0; i < numel; i++) {
            uint64_t bits = clh_load_le64(bytes + 8 * i);
            double value;
            memcpy(&value, &bits, sizeof value);
            out[i] = narrow_double(value);
        }
        return CLH_OK;
    default:
        return clh_fail(CLH_E_MISMATCH, "tensor '%.200s' has dtype %s, not a floating type",
                        name, clh_dtype_name(tensor->dtype));
    }
}
