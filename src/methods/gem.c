/* GEM's gradient projection (Lopez-Paz & Ranzato 2017, as Hsu et al. use
 * it): the dual QP over the memory tasks, solved exactly by enumerating the
 * active sets. With u = v − margin the problem is
 *     min ½ uᵀ P u + cᵀ u  s.t. u ≥ 0,   P = G Gᵀ + eps I,  c = P·margin·1 + G g,
 * whose KKT point (u ≥ 0, Pu + c ≥ 0, complementary) is unique when P is
 * positive definite: for each set S of free variables, u_S solves
 * P_SS u_S = −c_S (Cholesky) with the rest at 0, and the first S whose u
 * meets the KKT conditions is the solution. k ≤ CLH_GEM_MAX_TASKS keeps the
 * 2^k subsets cheap (each a k×k solve). Everything is in double. */
#include <math.h>
#include <string.h>

#include "clheads/methods.h"
#include "common/error.h"

enum { K_MAX = CLH_GEM_MAX_TASKS };

/* Solves P_SS x = rhs for the indices in idx[0..n) by Cholesky; 0 when P_SS
 * is not (numerically) positive definite. */
static int solve_subset(double p[K_MAX][K_MAX], const int *idx, int n, const double *rhs,
                        double *x) {
    double l[K_MAX][K_MAX];
    double scale = 0.0;
    for (int i = 0; i < n; i++) scale = fmax(scale, p[idx[i]][idx[i]]);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j <= i; j++) {
            double s = p[idx[i]][idx[j]];
            for (int m = 0; m < j; m++) s -= l[i][m] * l[j][m];
            if (i == j) {
                if (!(s > 1e-13 * scale)) return 0;
                l[i][i] = sqrt(s);
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    double y[K_MAX];
    for (int i = 0; i < n; i++) {
        double s = rhs[i];
        for (int m = 0; m < i; m++) s -= l[i][m] * y[m];
        y[i] = s / l[i][i];
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = y[i];
        for (int m = i + 1; m < n; m++) s -= l[m][i] * x[m];
        x[i] = s / l[i][i];
    }
    return 1;
}

/* The KKT point u of min ½uᵀPu + cᵀu, u ≥ 0; 0 when none was found. */
static int solve_nonnegative_qp(double p[K_MAX][K_MAX], const double *c, int k, double *u) {
    double scale = 0.0;
    for (int i = 0; i < k; i++) {
        scale = fmax(scale, fabs(c[i]));
        for (int j = 0; j < k; j++) scale = fmax(scale, fabs(p[i][j]));
    }
    for (unsigned long mask = 0; mask < (1ul << k); mask++) {
        int idx[K_MAX], n = 0;
        double rhs[K_MAX], x[K_MAX];
        for (int i = 0; i < k; i++)
            if (mask & (1ul << i)) {
                idx[n] = i;
                rhs[n] = -c[i];
                n++;
            }
        if (n > 0 && !solve_subset(p, idx, n, rhs, x)) continue;
        double cand[K_MAX] = {0}, umax = 0.0;
        for (int i = 0; i < n; i++) {
            cand[idx[i]] = x[i];
            umax = fmax(umax, fabs(x[i]));
        }
        double tol = 1e-10 * scale * (1.0 + umax);
        int ok = 1;
        for (int i = 0; i < k && ok; i++) {
            if (mask & (1ul << i)) {
                ok = cand[i] >= -tol;
            } else {
                double r = c[i];
                for (int j = 0; j < k; j++) r += p[i][j] * cand[j];
                ok = r >= -tol;
            }
        }
        if (!ok) continue;
        for (int i = 0; i < k; i++) u[i] = cand[i] > 0.0 ? cand[i] : 0.0;
        return 1;
    }
    return 0;
}

clh_status clh_gem_project(float *grad, size_t count, const float *memory_grads, size_t k,
                           double margin, double eps, int *projected) {
    static const char what[] = "clh_gem_project";
    if (projected) *projected = 0;
    if (count > 0 && (!grad || (k > 0 && !memory_grads)))
        return clh_fail(CLH_E_NULL, "%s: %s is NULL", what, grad ? "memory_grads" : "grad");
    if (k > K_MAX)
        return clh_fail(CLH_E_INVALID_ARG, "%s: %zu memory tasks, at most %d", what, k, K_MAX);
    if (!(margin >= 0.0 && isfinite(margin)))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid margin %g (must be >= 0)", what, margin);
    if (!(eps >= 0.0 && isfinite(eps)))
        return clh_fail(CLH_E_INVALID_ARG, "%s: invalid eps %g (must be >= 0)", what, eps);
    if (k == 0 || count == 0) return CLH_OK;

    double p[K_MAX][K_MAX], q[K_MAX];
    int violated = 0;
    for (size_t a = 0; a < k; a++) {
        const float *ga = memory_grads + a * count;
        double dot = 0.0;
        for (size_t i = 0; i < count; i++) dot += (double)ga[i] * (double)grad[i];
        if (!isfinite(dot))
            return clh_fail(CLH_E_INVALID_ARG, "%s: gradients are not finite (memory task %zu)",
                            what, a);
        q[a] = dot;
        violated |= dot < 0.0;
        for (size_t b = 0; b <= a; b++) {
            const float *gb = memory_grads + b * count;
            double s = 0.0;
            for (size_t i = 0; i < count; i++) s += (double)ga[i] * (double)gb[i];
            p[a][b] = p[b][a] = s;
        }
    }
    if (!violated) return CLH_OK;

    double c[K_MAX], u[K_MAX];
    for (size_t a = 0; a < k; a++) {
        p[a][a] += eps;
        double row = 0.0;
        for (size_t b = 0; b < k; b++) row += p[a][b];
        c[a] = margin * row + q[a];
    }
    if (!solve_nonnegative_qp(p, c, (int)k, u))
        return clh_fail(CLH_E_INVALID_ARG,
                        "%s: no active set of the %zu memory tasks meets the optimality "
                        "conditions (ill-conditioned gradients; use eps > 0)",
                        what, k);
    double v[K_MAX];
    for (size_t a = 0; a < k; a++) v[a] = u[a] + margin;
    for (size_t i = 0; i < count; i++) {
        double x = (double)grad[i];
        for (size_t a = 0; a < k; a++) x += v[a] * (double)memory_grads[a * count + i];
        grad[i] = (float)x;
    }
    if (projected) *projected = 1;
    return CLH_OK;
}
