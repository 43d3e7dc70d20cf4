/* The one place where a tensor read from a file is checked against what its
 * reader expects (dtype set, rank, extents, byte size); see "what a reader
 * expects of a tensor" in include/clheads/safetensors.h. */
#include <stdio.h>
#include <string.h>

#include "common/checked.h"
#include "common/error.h"
#include "io/safetensors_internal.h"

/* "F32, F16, BF16 or F64" from a dtype mask. */
static void describe_dtypes(unsigned dtypes, char *text, size_t cap) {
    size_t used = 0, listed = 0, total = 0;
    for (int d = 0; d < CLH_DT_COUNT; d++) total += (dtypes & CLH_ST_DTYPE_BIT(d)) != 0;
    text[0] = '\0';
    for (int d = 0; d < CLH_DT_COUNT && used < cap; d++) {
        if (!(dtypes & CLH_ST_DTYPE_BIT(d))) continue;
        const char *sep = listed == 0 ? "" : listed + 1 == total ? " or " : ", ";
        int n = snprintf(text + used, cap - used, "%s%s", sep, clh_dtype_name((clh_dtype)d));
        if (n < 0) break;
        used += (size_t)n;
        listed++;
    }
}

/* "[3, any]" from an expected shape. */
static void describe_shape(const int64_t *shape, size_t ndim, char *text, size_t cap) {
    size_t used = 0;
    int n = snprintf(text, cap, "[");
    used = n > 0 ? (size_t)n : 0;
    for (size_t d = 0; d < ndim && used < cap; d++) {
        n = shape[d] == CLH_ST_ANY_EXTENT
                ? snprintf(text + used, cap - used, "%sany", d ? ", " : "")
                : snprintf(text + used, cap - used, "%s%lld", d ? ", " : "", (long long)shape[d]);
        if (n < 0) break;
        used += (size_t)n;
    }
    if (used < cap) snprintf(text + used, cap - used, "]");
}

clh_status clh_st_expect_tensor(const clh_st_tensor *tensor, const char *source, unsigned dtypes,
                                size_t ndim, const int64_t *shape) {
    if (!tensor || (ndim > 0 && !shape))
        return clh_fail(CLH_E_NULL, "clh_st_expect_tensor: tensor and shape are required");
    const char *name = tensor->name ? tensor->name : "";
    if ((unsigned)tensor->dtype >= CLH_DT_COUNT || !(dtypes & CLH_ST_DTYPE_BIT(tensor->dtype))) {
        char wanted[96];
        describe_dtypes(dtypes, wanted, sizeof wanted);
        const char *got = clh_dtype_name(tensor->dtype);
        return clh_fail(CLH_E_MISMATCH, "%s: tensor '%.120s' has dtype %s, expected %s", source,
                        name, got ? got : "(invalid)", wanted);
    }
    int shape_ok = tensor->ndim == ndim && ndim <= CLH_ST_MAX_DIMS;
    for (size_t d = 0; shape_ok && d < ndim; d++)
        shape_ok = tensor->shape[d] >= 0 &&
                   (shape[d] == CLH_ST_ANY_EXTENT || tensor->shape[d] == shape[d]);
    if (!shape_ok) {
        char wanted[160], got[160];
        describe_shape(shape, ndim, wanted, sizeof wanted);
        describe_shape(tensor->shape, tensor->ndim <= CLH_ST_MAX_DIMS ? tensor->ndim : 0, got,
                       sizeof got);
        return clh_fail(CLH_E_MISMATCH, "%s: tensor '%.120s' has shape %s, expected %s", source,
                        name, got, wanted);
    }
    size_t numel, nbytes;
    if (!clh_shape_numel(tensor->shape, tensor->ndim, &numel) ||
        !clh_mul_size(numel, clh_dtype_size(tensor->dtype), &nbytes) || nbytes != tensor->nbytes)
        return clh_fail(CLH_E_MISMATCH, "%s: tensor '%.120s' holds %zu bytes, which is not its "
                        "shape times the %s element size", source, name, tensor->nbytes,
                        clh_dtype_name(tensor->dtype));
    return CLH_OK;
}

clh_status clh_st_expect(const clh_st_file *file, const char *source, const char *name,
                         unsigned dtypes, size_t ndim, const int64_t *shape,
                         const clh_st_tensor **out) {
    if (!file || !name || !out)
        return clh_fail(CLH_E_NULL, "clh_st_expect: file, name and out are required");
    const clh_st_tensor *tensor = clh_st_find(file, name);
    if (!tensor)
        return clh_fail(CLH_E_MISMATCH, "%s: tensor '%.120s' is missing", source, name);
    clh_status st = clh_st_expect_tensor(tensor, source, dtypes, ndim, shape);
    if (st) return st;
    *out = tensor;
    return CLH_OK;
}

clh_st_tensor clh_st_view(const char *name, clh_dtype dtype, size_t ndim, int64_t d0, int64_t d1,
                          const void *data) {
    clh_st_tensor t;
    memset(&t, 0, sizeof t);
    t.name = name;
    t.dtype = dtype;
    t.ndim = ndim;
    t.shape[0] = d0;
    t.shape[1] = d1;
    t.nbytes = clh_dtype_size(dtype) * (size_t)d0 * (ndim == 2 ? (size_t)d1 : 1);
    t.data = t.nbytes ? data : NULL;
    return t;
}
