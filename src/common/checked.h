/* Internal: size arithmetic that reports overflow instead of wrapping. */
#ifndef CLH_INTERNAL_CHECKED_H
#define CLH_INTERNAL_CHECKED_H

#include <stddef.h>
#include <stdint.h>

/* Each returns 1 and writes *out on success, 0 on overflow (or a negative operand). */
static inline int clh_mul_size(size_t a, size_t b, size_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline int clh_add_size(size_t a, size_t b, size_t *out) {
    return !__builtin_add_overflow(a, b, out);
}
static inline int clh_mul_i64(int64_t a, int64_t b, int64_t *out) {
    return a >= 0 && b >= 0 && !__builtin_mul_overflow(a, b, out);
}
static inline int clh_add_i64(int64_t a, int64_t b, int64_t *out) {
    return a >= 0 && b >= 0 && !__builtin_add_overflow(a, b, out);
}
/* v as size_t: 0 when negative or, where size_t has 32 bits, past SIZE_MAX
 * (a plain cast would keep the low bits and hide the overflow). */
static inline int clh_i64_to_size(int64_t v, size_t *out) {
    if (v < 0) return 0;
#if SIZE_MAX < INT64_MAX
    if (v > (int64_t)SIZE_MAX) return 0;
#endif
    *out = (size_t)v;
    return 1;
}
/* a*b*sizeof(float) as size_t. */
static inline int clh_float_bytes(int64_t rows, int64_t cols, size_t *out) {
    size_t r, c, n;
    if (!clh_i64_to_size(rows, &r) || !clh_i64_to_size(cols, &c)) return 0;
    if (!clh_mul_size(r, c, &n)) return 0;
    return clh_mul_size(n, sizeof(float), out);
}

#endif
