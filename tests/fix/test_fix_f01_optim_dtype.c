/* Finding 1 (library side): an optimizer buffer stored in another dtype with
 * the right element count is never read as float32. Every dtype of the
 * format is tried for Adam's exp_avg_sq: F16, BF16 and F64 are converted
 * exactly (values chosen representable), every other dtype is
 * CLH_E_MISMATCH naming the tensor, with the optimizer unchanged. A buffer
 * of the right count but the wrong shape is rejected too. Run under the
 * sanitizers, an out-of-bounds read would abort. */
#include <stdint.h>
#include <string.h>

#include "check.h"

#define TARGET "optim.heads.0.weight.exp_avg_sq"
static const float values[6] = {0.5f, 0.25f, 2.0f, 0.125f, 1.5f, 3.0f};

/* Adam state for TIL heads (task 0: 2 classes of 3 inputs) after one step. */
static clh_optim *trained_optimizer(clh_heads **heads_out) {
    clh_heads *heads = NULL;
    CHECK_OK(clh_heads_create(&heads, CLH_TIL, 3, 1));
    CHECK_OK(clh_heads_setup_task(heads, 0, 2));
    float x[3] = {1, 2, 3}, dlogits[2] = {0.5f, -0.5f};
    CHECK_OK(clh_heads_backward(heads, x, 1, 0, dlogits, NULL));
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_ADAM, 0.01);
    clh_optim *optim = NULL;
    CHECK_OK(clh_optim_create(&optim, &config));
    CHECK_OK(clh_optim_step_heads(optim, heads));
    *heads_out = heads;
    return optim;
}

/* The bytes of `values` in dtype d, or of the integer 1 for non-floating ones. */
static size_t encode(clh_dtype d, unsigned char *out) {
    size_t size = clh_dtype_size(d);
    for (int i = 0; i < 6; i++) {
        unsigned char *p = out + (size_t)i * size;
        memset(p, 0, size);
        if (d == CLH_DT_F16) {
            uint16_t h = clh_f32_to_f16(values[i]);
            memcpy(p, &h, 2);
        } else if (d == CLH_DT_BF16) {
            uint16_t h = clh_f32_to_bf16(values[i]);
            memcpy(p, &h, 2);
        } else if (d == CLH_DT_F64) {
            double v = values[i];
            memcpy(p, &v, 8);
        } else {
            p[0] = 1;
        }
    }
    return 6 * size;
}

/* Loads the exported state with TARGET replaced by dtype d, shape `shape`. */
static clh_status load_with(const clh_optim_export *e, clh_dtype d, size_t ndim,
                            const int64_t *shape, clh_optim *into) {
    size_t n = 0, n_meta = 0;
    const clh_st_tensor *tensors = clh_optim_export_tensors(e, &n);
    const clh_st_meta *meta = clh_optim_export_meta(e, &n_meta);
    clh_st_tensor copy[16];
    unsigned char bytes[6 * 8];
    CHECK(n <= 16);
    for (size_t i = 0; i < n && i < 16; i++) {
        copy[i] = tensors[i];
        if (strcmp(copy[i].name, TARGET) != 0) continue;
        copy[i].dtype = d;
        copy[i].ndim = ndim;
        memcpy(copy[i].shape, shape, ndim * sizeof *shape);
        copy[i].data = bytes;
        copy[i].nbytes = encode(d, bytes);
    }
    unsigned char *file_bytes = NULL;
    size_t len = 0;
    CHECK_OK(clh_st_encode(copy, n, meta, n_meta, &file_bytes, &len));
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_parse(&file, file_bytes, len));
    clh_status st = clh_optim_load_file(into, file);
    clh_st_free(file);
    clh_st_bytes_free(file_bytes);
    return st;
}

int main(void) {
    clh_heads *heads = NULL;
    clh_optim *optim = trained_optimizer(&heads);
    clh_optim_export *e = NULL;
    CHECK_OK(clh_optim_export_create(optim, &e));
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_ADAM, 0.01);
    const int64_t shape[2] = {2, 3}, flat[1] = {6};

    for (int d = 0; d < CLH_DT_COUNT; d++) {
        if (d == CLH_DT_F32) continue;
        clh_optim *fresh = NULL;
        CHECK_OK(clh_optim_create(&fresh, &config));
        clh_status st = load_with(e, (clh_dtype)d, 2, shape, fresh);
        int floating = d == CLH_DT_F16 || d == CLH_DT_BF16 || d == CLH_DT_F64;
        clh_optim_layout layout;
        CHECK_OK(clh_optim_get_layout(fresh, &layout));
        if (floating) {
            CHECK_OK(st);
            clh_optim_buffer b;
            CHECK_OK(clh_optim_buffer_at(fresh, 1, &b)); /* exp_avg_sq */
            CHECK(strcmp(b.name, "exp_avg_sq") == 0 && b.count == 8);
            const float *got = b.data;
            for (int i = 0; i < 6; i++) CHECK(got[i] == values[i]);
        } else {
            CHECK_STATUS(st, CLH_E_MISMATCH);
            CHECK(strstr(clh_last_error(), TARGET) != NULL);
            CHECK(strstr(clh_last_error(), clh_dtype_name((clh_dtype)d)) != NULL);
            CHECK(layout.binding == CLH_OPTIM_UNBOUND);
        }
        printf("  %s stored as %-7s: %s\n", TARGET, clh_dtype_name((clh_dtype)d),
               floating ? "converted exactly" : clh_last_error());
        clh_optim_free(fresh);
    }
    /* The right element count in the wrong shape. */
    clh_optim *fresh = NULL;
    CHECK_OK(clh_optim_create(&fresh, &config));
    CHECK_STATUS(load_with(e, CLH_DT_F32, 1, flat, fresh), CLH_E_MISMATCH);
    CHECK(strstr(clh_last_error(), "shape [6], expected [2, 3]") != NULL);
    clh_optim_free(fresh);

    clh_optim_export_free(e);
    clh_optim_free(optim);
    clh_heads_free(heads);
    return check_done("test_fix_f01_optim_dtype");
}
