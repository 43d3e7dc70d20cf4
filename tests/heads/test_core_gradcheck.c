/* Finite-difference gradient check for every paradigm, including a mixed MTL
 * batch with unequal class counts, and d(feature).
 *
 * Loss (in double, over the float forward): L = Σ_valid (G·l + ½ l²), so
 * dL/dlogits = G + l is what backward receives; padding positions of the mixed
 * batch get NaN there (backward must not read them) and are left out of L.
 * Central differences perturb every parameter (through the flat vector) and
 * every input element by about 1e-2; the step actually taken in float is
 * used as the denominator. L is quadratic in each single coordinate, so
 * central differences are exact up to float rounding of the forward. */
#include <stdint.h>
#include <string.h>

#include "test_core_util.h"

#define EPS 1e-2
#define TOL 5e-4 /* relative to the largest analytic gradient of the array */

typedef struct problem {
    const char *name;
    clh_heads *h;
    int64_t batch, task, width, in;
    const int64_t *tasks; /* non-NULL: mixed MTL */
    float *x, *G, *logits;
} problem;

static double loss(problem *p) {
    clh_status st =
        p->tasks ? clh_heads_forward_mixed(p->h, p->x, p->batch, p->tasks, p->logits, NULL, 0)
                 : clh_heads_forward(p->h, p->x, p->batch, p->task, p->logits);
    if (st != CLH_OK) return NAN;
    double sum = 0;
    for (int64_t i = 0; i < p->batch * p->width; i++) {
        double l = p->logits[i];
        if (isinf(l)) continue; /* padding or masked */
        sum += (double)p->G[i] * l + 0.5 * l * l;
    }
    return sum;
}

/* Central difference of L in *v (a float inside the handle or in x). */
static double central_difference(problem *p, float *v) {
    float saved = *v;
    float up = (float)(saved + EPS), down = (float)(saved - EPS);
    *v = up;
    double lu = loss(p);
    *v = down;
    double ld = loss(p);
    *v = saved;
    return (lu - ld) / ((double)up - (double)down);
}

static void compare(const char *what, const char *name, const float *analytic,
                    const double *numeric, size_t n) {
    double scale = 0, worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)analytic[i]) > scale) scale = fabs((double)analytic[i]);
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)analytic[i] - numeric[i]);
        if (!(e <= worst)) worst = e, at = i;
    }
    check_count++;
    if (!(worst <= TOL * (scale > 1 ? scale : 1))) {
        check_failures++;
        fprintf(stderr, "%s %s: |analytic - numeric| = %.3g at %zu (%.7g vs %.7g), scale %.3g\n",
                name, what, worst, at, (double)analytic[at], numeric[at], scale);
    }
    printf("  %-22s %-7s %4zu values, max |diff| %.2e (scale %.2f)\n", name, what, n, worst,
           scale);
}

static void gradcheck(problem *p) {
    size_t nlog = (size_t)(p->batch * p->width), nx = (size_t)(p->batch * p->in);
    p->logits = malloc((nlog ? nlog : 1) * sizeof(float));
    float *dlogits = malloc((nlog ? nlog : 1) * sizeof(float));
    float *dx = test_sentinel_floats(nx);
    CHECK(!isnan(loss(p)));
    for (size_t i = 0; i < nlog; i++)
        dlogits[i] = isinf(p->logits[i]) ? NAN : p->G[i] + p->logits[i];

    clh_heads_zero_grad(p->h);
    if (p->tasks) {
        CHECK_OK(clh_heads_backward_mixed(p->h, p->x, p->batch, p->tasks, dlogits, dx, NULL, 0));
    } else {
        CHECK_OK(clh_heads_backward(p->h, p->x, p->batch, p->task, dlogits, dx));
    }

    float *params = NULL, *grads = NULL;
    size_t count = 0;
    clh_heads_flat(p->h, &params, &grads, &count);
    CHECK(params && grads && count > 0);
    double *numeric = malloc((count > nx ? count : nx) * sizeof(double));
    for (size_t i = 0; i < count; i++) numeric[i] = central_difference(p, &params[i]);
    compare("params", p->name, grads, numeric, count);
    for (size_t i = 0; i < nx; i++) numeric[i] = central_difference(p, &p->x[i]);
    compare("dx", p->name, dx, numeric, nx);

    free(numeric);
    free(dx);
    free(dlogits);
    free(p->logits);
}

static clh_heads *make(clh_paradigm paradigm, int64_t in, const int64_t *ids,
                       const int64_t *classes, size_t n) {
    clh_heads *h = NULL;
    CHECK_OK(clh_heads_create(&h, paradigm, in, 2024));
    if (paradigm == CLH_TIL || paradigm == CLH_CIL)
        for (size_t i = 0; i < n; i++) CHECK_OK(clh_heads_setup_task(h, ids[i], classes[i]));
    else if (paradigm == CLH_MTL)
        CHECK_OK(clh_heads_setup_tasks(h, ids, classes, n));
    else
        CHECK_OK(clh_heads_setup_single(h, classes[0]));
    return h;
}

static void run(const char *name, clh_paradigm paradigm, const int64_t *ids,
                const int64_t *classes, size_t n, int64_t batch, int64_t task,
                const int64_t *tasks) {
    const int64_t in = 7;
    problem p = {name, make(paradigm, in, ids, classes, n), batch, task, 0, in, tasks,
                 NULL, NULL, NULL};
    if (!p.h) return;
    CHECK_OK(clh_heads_logits_width(p.h, tasks ? CLH_NO_TASK : task, &p.width));
    p.x = test_random_floats((size_t)(batch * in));
    p.G = test_random_floats((size_t)(batch * p.width));
    gradcheck(&p);
    free(p.x);
    free(p.G);
    clh_heads_free(p.h);
}

int main(void) {
    const int64_t ids[] = {3, 1, 2}, classes[] = {4, 2, 5}, equal[] = {3, 3, 3};
    const int64_t mixed[] = {2, 3, 1, 1, 2, 3, 2}, one[] = {0}, four[] = {4};
    printf("finite differences (eps %g), tolerance %g x max(1, max |analytic|):\n", EPS, TOL);
    run("TIL task 1", CLH_TIL, ids, classes, 3, 5, 1, NULL);
    run("CIL", CLH_CIL, ids, classes, 3, 4, CLH_NO_TASK, NULL);
    run("DIL", CLH_DIL, one, four, 1, 3, CLH_NO_TASK, NULL);
    run("STL", CLH_STL, one, four, 1, 1, CLH_NO_TASK, NULL);
    run("MTL task 3", CLH_MTL, ids, classes, 3, 4, 3, NULL);
    run("MTL mixed, equal", CLH_MTL, ids, equal, 3, 7, CLH_NO_TASK, mixed);
    run("MTL mixed, unequal", CLH_MTL, ids, classes, 3, 7, CLH_NO_TASK, mixed);
    return check_done("test_core_gradcheck");
}
