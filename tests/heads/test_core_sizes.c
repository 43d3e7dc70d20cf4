/* Sizes past a 32-bit size_t. On 32-bit ARM (scripts/cross_arm.sh runs this
 * under qemu-arm) a plain (size_t) cast of an int64_t keeps the low 32 bits,
 * so 2^32 + 1 rows would pass for 1 and a call would read far past its
 * buffers. Every such size must be CLH_E_OVERFLOW (or CLH_E_MISMATCH for a
 * layout that cannot match) with nothing written:
 *   - the conversion itself (checked.h), on every target;
 *   - an optimizer layout whose rows or in_features wrap, on every target
 *     (on 64-bit the product then simply does not match the count);
 *   - batch sizes and class counts of 2^32 + 1 in the public calls, where
 *     size_t has 32 bits (on 64-bit they fit and would need 16 GiB buffers). */
#include <stdint.h>
#include <string.h>

#include "common/checked.h"
#include "test_core_util.h"

#define IN 3
/* Low 32 bits: 1. */
#define WRAPS ((int64_t)1 << 32 | 1)

static void conversions(void) {
    size_t out = 77;
    CHECK(!clh_i64_to_size(-1, &out) && out == 77);
    CHECK(clh_i64_to_size(0, &out) && out == 0);
    CHECK(clh_i64_to_size(INT32_MAX, &out) && out == (size_t)INT32_MAX);
    const int fits = SIZE_MAX >= (uint64_t)WRAPS;
    size_t bytes = 77;
    out = 77;
    CHECK(clh_i64_to_size(WRAPS, &out) == fits);
    CHECK(clh_i64_to_size(INT64_MAX, &out) == (SIZE_MAX >= (uint64_t)INT64_MAX));
#if SIZE_MAX < INT64_MAX
    CHECK(out == 77); /* not the low 32 bits, 1 */
    CHECK(!clh_float_bytes(WRAPS, 1, &bytes) && !clh_float_bytes(1, WRAPS, &bytes) && bytes == 77);
#else
    CHECK(clh_i64_to_size(WRAPS, &out) && (uint64_t)out == (uint64_t)WRAPS);
    CHECK(clh_float_bytes(WRAPS, 1, &bytes) && (uint64_t)bytes == (uint64_t)WRAPS * 4);
    CHECK(clh_float_bytes(1, WRAPS, &bytes) && (uint64_t)bytes == (uint64_t)WRAPS * 4);
#endif
    printf("  size_t has %u bits: 2^32 + 1 %s\n", (unsigned)(sizeof(size_t) * 8),
           fits ? "fits" : "is rejected");
}

/* A layout of 2^32 + 1 rows (or inputs) claiming 2 parameters: the count
 * that the low 32 bits of rows x (in + 1) would give. */
static void optimizer_layout(void) {
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_SGD, 0.1);
    clh_optim *optim = NULL;
    CHECK_OK(clh_optim_create(&optim, &config));
    int64_t steps[1] = {0};
    clh_optim_buffer step = {"step", 1, steps, 1};
    const int64_t ids[1] = {0};
    const int64_t wrapping_rows[1] = {WRAPS};
    clh_optim_layout rows = {CLH_OPTIM_HEADS, CLH_TIL, 2, 1, 1, ids, wrapping_rows};
    CHECK_STATUS(clh_optim_restore(optim, &rows, &step, 1), CLH_E_MISMATCH);
    const int64_t one_row[1] = {1};
    clh_optim_layout inputs = {CLH_OPTIM_HEADS, CLH_TIL, 2, WRAPS, 1, ids, one_row};
    CHECK_STATUS(clh_optim_restore(optim, &inputs, &step, 1), CLH_E_MISMATCH);
    /* Nothing was bound. */
    clh_optim_layout now;
    CHECK_OK(clh_optim_get_layout(optim, &now));
    CHECK(now.binding == CLH_OPTIM_UNBOUND && now.count == 0);
    clh_optim_free(optim);
}

#if SIZE_MAX < INT64_MAX
static void wrapping_calls(void) {
    float x[4 * IN], w[2 * IN], b[2], dout[4 * 2];
    for (int i = 0; i < 4 * IN; i++) x[i] = test_uniform();
    for (int i = 0; i < 2 * IN; i++) w[i] = test_uniform();
    b[0] = b[1] = 0.5f;
    memset(dout, 0, sizeof dout);
    float *out = test_sentinel_floats(64), *dw = test_sentinel_floats(64);
    CHECK_STATUS(clh_linear_forward(out, x, w, b, WRAPS, IN, 2), CLH_E_OVERFLOW);
    CHECK_STATUS(clh_linear_forward(out, x, w, b, 4, WRAPS, 2), CLH_E_OVERFLOW);
    CHECK_STATUS(clh_linear_forward(out, x, w, b, 4, IN, WRAPS), CLH_E_OVERFLOW);
    CHECK_STATUS(clh_linear_backward(out, dw, NULL, dout, x, w, WRAPS, IN, 2), CLH_E_OVERFLOW);
    CHECK(test_is_sentinel(out, 64) && test_is_sentinel(dw, 64));

    int64_t labels[4] = {0, 1, 0, 1};
    float loss = 42.0f;
    CHECK_STATUS(clh_cross_entropy(x, WRAPS, 2, labels, &loss, out), CLH_E_OVERFLOW);
    CHECK_STATUS(clh_cross_entropy(x, 2, WRAPS, labels, &loss, out), CLH_E_OVERFLOW);
    CHECK(loss == 42.0f && test_is_sentinel(out, 64));

    clh_heads *til = NULL, *mtl = NULL;
    CHECK_OK(clh_heads_create(&til, CLH_TIL, IN, 1));
    CHECK_OK(clh_heads_create(&mtl, CLH_MTL, IN, 1));
    CHECK_OK(clh_heads_setup_task(til, 1, 2));
    const int64_t ids[2] = {1, 2}, classes[2] = {2, 2};
    CHECK_OK(clh_heads_setup_tasks(mtl, ids, classes, 2));
    core_snapshot til_before = snapshot_take(til), mtl_before = snapshot_take(mtl);
    /* A head of 2^32 + 1 classes: the bank's bytes must not wrap to a few. */
    CHECK_STATUS(clh_heads_setup_task(til, 7, WRAPS), CLH_E_OVERFLOW);
    CHECK_STATUS(clh_heads_forward(til, x, WRAPS, 1, out), CLH_E_OVERFLOW);
    CHECK_STATUS(clh_heads_backward(til, x, WRAPS, 1, dout, out), CLH_E_OVERFLOW);
    const int64_t tasks[4] = {1, 2, 2, 1};
    size_t bytes = 4242;
    CHECK_STATUS(clh_heads_mixed_workspace_size(mtl, WRAPS, &bytes), CLH_E_OVERFLOW);
    CHECK(bytes == 4242);
    CHECK_STATUS(clh_heads_forward_mixed(mtl, x, WRAPS, tasks, out, NULL, 0), CLH_E_OVERFLOW);
    CHECK(test_is_sentinel(out, 64));
    CHECK_UNCHANGED(til, til_before);
    CHECK_UNCHANGED(mtl, mtl_before);
    snapshot_free(&til_before);
    snapshot_free(&mtl_before);
    clh_heads_free(til);
    clh_heads_free(mtl);
    free(out);
    free(dw);
    printf("  calls with 2^32 + 1 rows, columns or classes: rejected, nothing written\n");
}
#endif

int main(void) {
    conversions();
    optimizer_layout();
#if SIZE_MAX < INT64_MAX
    wrapping_calls();
#else
    printf("  calls with 2^32 + 1 rows: not run (64-bit size_t; the 32-bit ARM run has them)\n");
#endif
    return check_done("test_core_sizes");
}
