/* Minimal assertions shared by the test programs: each failed check prints
 * where and what, and the program exits non-zero at the end (CHECK_DONE). */
#ifndef CLH_TEST_CHECK_H
#define CLH_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "clheads.h"

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        check_count++;                                                               \
        if (!(cond)) {                                                               \
            check_failures++;                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

/* Checks a clheads call's status; on mismatch prints both names and the detail. */
#define CHECK_STATUS(call, expected)                                                     \
    do {                                                                                 \
        clh_status check_got_ = (call);                                                  \
        check_count++;                                                                   \
        if (check_got_ != (expected)) {                                                  \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n", __FILE__,       \
                    __LINE__, #call, clh_status_name(check_got_),                        \
                    clh_status_name(expected), clh_last_error());                        \
        }                                                                                \
    } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, CLH_OK)

/* |got - want| <= tol * scale, with scale the caller's reference magnitude. */
#define CHECK_CLOSE(got, want, tol, scale)                                                \
    do {                                                                                  \
        double check_g_ = (double)(got), check_w_ = (double)(want);                       \
        check_count++;                                                                    \
        if (!(fabs(check_g_ - check_w_) <= (tol) * (scale))) {                            \
            check_failures++;                                                             \
            fprintf(stderr, "%s:%d: %s = %.9g, expected %.9g (tol %g x %g)\n", __FILE__,  \
                    __LINE__, #got, check_g_, check_w_, (double)(tol), (double)(scale));  \
        }                                                                                 \
    } while (0)

/* Largest |x| over n floats (the scale for relative comparisons). */
static inline double check_max_abs(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)x[i]) > m) m = fabs((double)x[i]);
    return m;
}

/* Prints a summary; returns the process exit code. */
static inline int check_done(const char *name) {
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* The has-grad flag of the head at set-up position i (the library's calls
 * take a task id; clh_heads_task_at gives it): 0 or 1, -1 on error. */
static inline int grad_at(const clh_heads *h, size_t i) {
    int64_t id = 0;
    int flag = 0;
    if (clh_heads_task_at(h, i, &id) != CLH_OK || clh_heads_task_has_grad(h, id, &flag) != CLH_OK)
        return -1;
    return flag;
}

static inline clh_status set_grad_at(clh_heads *h, size_t i, int flag) {
    int64_t id = 0;
    clh_status st = clh_heads_task_at(h, i, &id);
    return st != CLH_OK ? st : clh_heads_set_task_has_grad(h, id, flag);
}

#endif
