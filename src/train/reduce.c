/* The reducer interface (include/clheads/reduce.h): checks, the single
 * participant's identity transport, and the heads' gradient reduction. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "common/checked.h"
#include "common/error.h"
#include "train/reduce_internal.h"
#include "common/versioned.h"

/* Where the first release's last member ends. */
#define CLH_REDUCER_FIRST_SIZE (offsetof(clh_reducer, sum_f64) + sizeof(clh_reduce_f64_fn))

static clh_status identity_f32(void *context, float *values, size_t count) {
    (void)context, (void)values, (void)count;
    return CLH_OK;
}

static clh_status identity_f64(void *context, double *values, size_t count) {
    (void)context, (void)values, (void)count;
    return CLH_OK;
}

void clh_reducer_init(clh_reducer *reducer) {
    if (!reducer) return;
    memset(reducer, 0, sizeof *reducer);
    reducer->struct_size = sizeof *reducer;
    reducer->rank = 0;
    reducer->size = 1;
    reducer->sum_f32 = identity_f32;
    reducer->sum_f64 = identity_f64;
}

clh_status clh_reducer_read(const clh_reducer *given, clh_reducer *full, const char *what) {
    if (!given) return clh_fail(CLH_E_NULL, "%s: reducer is NULL", what);
    clh_reducer tmp;
    clh_reducer_init(&tmp);
    tmp.sum_f32 = NULL;
    tmp.sum_f64 = NULL;
    clh_status st = clh_versioned_read(&tmp, sizeof tmp, CLH_REDUCER_FIRST_SIZE, given,
                                       "clh_reducer");
    if (st != CLH_OK) return st;
    if (tmp.size < 1)
        return clh_fail(CLH_E_INVALID_ARG, "%s: clh_reducer.size = %d (must be >= 1)", what,
                        tmp.size);
    if (tmp.rank < 0 || tmp.rank >= tmp.size)
        return clh_fail(CLH_E_INVALID_ARG, "%s: clh_reducer.rank = %d is outside [0, %d)", what,
                        tmp.rank, tmp.size);
    if (!tmp.sum_f32 || !tmp.sum_f64)
        return clh_fail(CLH_E_NULL, "%s: clh_reducer.%s is NULL", what,
                        tmp.sum_f32 ? "sum_f64" : "sum_f32");
    *full = tmp;
    return CLH_OK;
}

clh_status clh_reducer_check(const clh_reducer *reducer) {
    clh_reducer full;
    clh_reducer_init(&full);
    return clh_reducer_read(reducer, &full, "clh_reducer_check");
}

/* A transport's failure is passed on; one that reports success is trusted
 * (the values are the caller's to check). */
static clh_status transport_failed(clh_status st, const char *what, size_t count) {
    return clh_fail(st, "%s: the transport's sum of %zu values failed (%s)", what, count,
                    clh_status_name(st));
}

/* What clh_reduce_f32 and _f64 check before the sum: the reducer (read into
 * *r) and, when there is something to sum, the values. */
static clh_status check_sum(const clh_reducer *reducer, clh_reducer *r, const void *values,
                            size_t count, const char *what) {
    clh_reducer_init(r);
    clh_status st = clh_reducer_read(reducer, r, what);
    if (st != CLH_OK) return st;
    if (count > 0 && !values) return clh_fail(CLH_E_NULL, "%s: values is NULL", what);
    return CLH_OK;
}

clh_status clh_reduce_f32(const clh_reducer *reducer, float *values, size_t count) {
    static const char what[] = "clh_reduce_f32";
    clh_reducer r;
    clh_status st = check_sum(reducer, &r, values, count, what);
    if (st != CLH_OK || count == 0) return st;
    st = r.sum_f32(r.context, values, count);
    return st == CLH_OK ? CLH_OK : transport_failed(st, what, count);
}

clh_status clh_reduce_f64(const clh_reducer *reducer, double *values, size_t count) {
    static const char what[] = "clh_reduce_f64";
    clh_reducer r;
    clh_status st = check_sum(reducer, &r, values, count, what);
    if (st != CLH_OK || count == 0) return st;
    st = r.sum_f64(r.context, values, count);
    return st == CLH_OK ? CLH_OK : transport_failed(st, what, count);
}

uint64_t clh_fnv1a64(uint64_t h, const void *bytes, size_t len) {
    const unsigned char *p = bytes;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

clh_status clh_reduce_agree(const clh_reducer *reducer, uint64_t value, int *differs) {
    size_t n;
    if (!clh_mul_size(2, (size_t)reducer->size, &n) || n > SIZE_MAX / sizeof(double))
        return clh_fail(CLH_E_OVERFLOW, "clh_reducer: %d participants overflow", reducer->size);
    double *slots = clh_calloc(n, sizeof(double));
    if (!slots) return clh_fail(CLH_E_NOMEM, "clh_reducer: no memory for %zu values", n);
    slots[2 * (size_t)reducer->rank] = (double)(value >> 32);
    slots[2 * (size_t)reducer->rank + 1] = (double)(value & 0xffffffffu);
    clh_status st = reducer->sum_f64(reducer->context, slots, n);
    if (st != CLH_OK) {
        clh_free(slots);
        return transport_failed(st, "clh_reducer", n);
    }
    *differs = -1;
    for (int p = 1; p < reducer->size && *differs < 0; p++)
        if (slots[2 * (size_t)p] != slots[0] || slots[2 * (size_t)p + 1] != slots[1]) *differs = p;
    clh_free(slots);
    return CLH_OK;
}

clh_status clh_heads_reduce_grad(clh_heads *heads, const clh_reducer *reducer) {
    static const char what[] = "clh_heads_reduce_grad";
    clh_reducer r;
    clh_reducer_init(&r);
    clh_status st = clh_reducer_read(reducer, &r, what);
    if (st != CLH_OK) return st;
    if (!heads) return clh_fail(CLH_E_NULL, "%s: heads is NULL", what);
    float *params = NULL, *grads = NULL;
    size_t count = 0;
    clh_heads_flat(heads, &params, &grads, &count);
    int differs = -1;
    st = clh_reduce_agree(&r, (uint64_t)count, &differs);
    if (st != CLH_OK) return st;
    if (differs >= 0)
        return clh_fail(CLH_E_MISMATCH, "%s: participant %d's heads have another number of "
                        "parameters than rank 0's (%zu here)", what, differs, count);
    if (count == 0) return CLH_OK;
    st = r.sum_f32(r.context, grads, count);
    return st == CLH_OK ? CLH_OK : transport_failed(st, what, count);
}
