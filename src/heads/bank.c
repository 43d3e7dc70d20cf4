/* The growing parameter bank: weights [rows, in] then biases [rows] in one
 * buffer, gradients in a second buffer of the same layout (see heads_internal.h). */
#include <string.h>

#include "common/alloc.h"
#include "common/checked.h"
#include "heads/heads_internal.h"

void clh_bank_release(clh_bank *bank) {
    clh_free(bank->params);
    clh_free(bank->grads);
    bank->params = NULL;
    bank->grads = NULL;
    bank->rows = 0;
    bank->cap_rows = 0;
}

/* Bytes of a buffer holding `rows` rows of in weights plus one bias each. */
static int bank_bytes(int64_t rows, int64_t in, size_t *bytes) {
    int64_t row_floats;
    if (!clh_add_i64(in, 1, &row_floats)) return 0;
    return clh_float_bytes(rows, row_floats, bytes);
}

clh_status clh_bank_reserve(const clh_heads *heads, clh_bank *bank, int64_t new_rows) {
    if (new_rows <= bank->cap_rows) return CLH_OK;

    /* Geometric growth keeps appending amortised O(1) copies per row; when
     * doubling would overflow, fall back to exactly what is needed. */
    int64_t cap = new_rows, doubled;
    size_t bytes;
    if (clh_mul_i64(bank->cap_rows, 2, &doubled) && doubled > cap && bank_bytes(doubled, bank->in, &bytes))
        cap = doubled;
    if (!bank_bytes(cap, bank->in, &bytes))
        return clh_heads_fail(heads, CLH_E_OVERFLOW,
                              "bank of %lld rows x (in_features %lld + 1) floats overflows size_t",
                              (long long)new_rows, (long long)bank->in);

    /* Allocate both new buffers before touching the old ones, so a failure
     * leaves the bank (values and pointers) exactly as it was. */
    float *params = clh_malloc(bytes);
    float *grads = params ? clh_malloc(bytes) : NULL;
    if (!params || !grads) {
        clh_free(params);
        return clh_heads_fail(heads, CLH_E_NOMEM,
                              "cannot allocate %zu bytes for a bank of %lld rows (in_features %lld)",
                              bytes, (long long)cap, (long long)bank->in);
    }
    /* Rows in use: weights then biases, contiguous, so one copy keeps the layout. */
    size_t used = (size_t)bank->rows * (size_t)(bank->in + 1);
    if (used) {
        memcpy(params, bank->params, used * sizeof(float));
        memcpy(grads, bank->grads, used * sizeof(float));
    }
    clh_free(bank->params);
    clh_free(bank->grads);
    bank->params = params;
    bank->grads = grads;
    bank->cap_rows = cap;
    return CLH_OK;
}

/* Moves one buffer's bias block behind the grown weight block and zeroes the new rows. */
static void grow_buffer(float *buf, int64_t in, int64_t old_rows, int64_t new_rows) {
    float *old_bias = buf + old_rows * in;
    float *new_bias = buf + new_rows * in;
    memmove(new_bias, old_bias, (size_t)old_rows * sizeof(float));
    memset(old_bias, 0, (size_t)((new_rows - old_rows) * in) * sizeof(float));
    memset(new_bias + old_rows, 0, (size_t)(new_rows - old_rows) * sizeof(float));
}

void clh_bank_append_rows(clh_bank *bank, int64_t added) {
    if (added <= 0) return;
    int64_t new_rows = bank->rows + added;
    grow_buffer(bank->params, bank->in, bank->rows, new_rows);
    grow_buffer(bank->grads, bank->in, bank->rows, new_rows);
    bank->rows = new_rows;
}
