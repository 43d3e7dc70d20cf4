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
/* a*b*sizeof(float) as size_t. */
static inline int clh_float_bytes(int64_t rows, int64_t cols, size_t *out) {
    size_t n;
    if (rows < 0 || cols < 0) return 0;
    if (!clh_mul_size((size_t)rows, (size_t)cols, &n)) return 0;
    return clh_mul_size(n, sizeof(float), out);
}

#endif
