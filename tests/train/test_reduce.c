/* The reduction interface (include/clheads/reduce.h) on an in-process
 * transport of 1 to 3 threads (tests/thread_reducer.h):
 *   - reducer checks: struct_size, size, rank, callbacks;
 *   - float and double sums equal the values added in rank order;
 *   - clh_heads_reduce_grad sums the heads' gradient block;
 *   - clh_analytic_reduce over participants that each saw a share of the
 *     samples gives the statistics of one handle that saw all of them:
 *     the solved heads agree to 1e-9 (relative; float64 statistics) for
 *     ridge (with bias), NCM, normalised NCM and LDA, in CIL and TIL, and the
 *     counts exactly; with one participant given no sample of some classes;
 *   - twice, task by task (reduce, reset on ranks > 0, next task, reduce)
 *     equals one handle over both tasks;
 *   - a participant with another set-up is CLH_E_MISMATCH naming it, and a
 *     transport that fails (first or second call of LDA) leaves the
 *     statistics unchanged on every participant. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "analytic/analytic_internal.h"
#include "test_analytic_util.h"
#include "thread_reducer.h"

enum { TASKS = 2, CLASSES = 3, PER_TASK = 300, D = 12, N = TASKS * PER_TASK, MAXP = 3 };

static float X[N * D];
static int64_t Y[N]; /* global class */

/* ---- the configurations under test ---------------------------------------- */

typedef struct setting {
    clh_paradigm paradigm;
    clh_analytic_method method;
    int normalize;
} setting;

static clh_analytic *make_handle(const setting *s, int64_t first_class_count) {
    clh_analytic_config c;
    clh_analytic_config_init(&c, s->method);
    c.lambda = 0.3;
    c.shrinkage = 0.05;
    c.fit_bias = s->method == CLH_ANALYTIC_RIDGE;
    c.normalize = s->normalize;
    clh_analytic *a = NULL;
    if (clh_analytic_create(&a, &c, s->paradigm, D) != CLH_OK) return NULL;
    for (int64_t t = 0; t < TASKS; t++)
        if (clh_analytic_setup_task(a, t, t == 0 ? first_class_count : CLASSES) != CLH_OK) {
            clh_analytic_free(a);
            return NULL;
        }
    return a;
}

static int64_t label_of(const setting *s, int64_t i) {
    return s->paradigm == CLH_TIL ? Y[i] - (i / PER_TASK) * CLASSES : Y[i];
}

/* Which participant sees sample i: round robin, except that with `skewed`
 * participant 0 never sees class 0 (another sees it all). */
static int owner_of(int64_t i, int size, int skewed) {
    if (skewed && size > 1 && Y[i] == 0) return 1;
    return (int)(i % size);
}

/* Adds the samples of task t that `rank` owns, in batches of 32. */
static clh_status add_task(clh_analytic *a, const setting *s, int64_t t, int rank, int size,
                           int skewed) {
    static float xs[MAXP][PER_TASK * D];
    static int64_t ys[MAXP][PER_TASK];
    int64_t n = 0;
    for (int64_t i = t * PER_TASK; i < (t + 1) * PER_TASK; i++) {
        if (owner_of(i, size, skewed) != rank) continue;
        memcpy(xs[rank] + n * D, X + i * D, D * sizeof(float));
        ys[rank][n++] = label_of(s, i);
    }
    int64_t id = s->paradigm == CLH_TIL ? t : CLH_NO_TASK;
    for (int64_t b = 0; b < n; b += 32) {
        clh_status st = clh_analytic_update(a, xs[rank] + b * D, n - b < 32 ? n - b : 32, id,
                                            ys[rank] + b);
        if (st != CLH_OK) return st;
    }
    return CLH_OK;
}

static clh_heads *solve(const clh_analytic *a, const setting *s) {
    clh_heads *h = NULL;
    if (clh_heads_create(&h, s->paradigm, D, 5) != CLH_OK) return NULL;
    for (int64_t t = 0; t < TASKS; t++) clh_heads_setup_task(h, t, CLASSES);
    if (clh_analytic_solve(a, h, CLH_NO_TASK) != CLH_OK) {
        clh_heads_free(h);
        return NULL;
    }
    return h;
}

/* ---- one participant's work, run on its thread ----------------------------- */

typedef enum scenario { ONE_ROUND, TWO_ROUNDS, MISMATCH, FAILING } scenario;

typedef struct job {
    team *team;
    int rank;
    const setting *s;
    scenario what;
    int skewed;
    clh_status status;     /* of the (last) reduce */
    clh_analytic *a;       /* the participant's statistics afterwards */
    int64_t samples_before, samples_after; /* task 0's samples around a failing reduce */
} job;

static void *participant(void *arg) {
    job *j = arg;
    member m;
    clh_reducer r;
    member_reducer(&m, j->team, j->rank, &r);
    int size = j->team->size;
    int64_t first = j->what == MISMATCH && j->rank == size - 1 ? CLASSES + 1 : CLASSES;
    j->a = make_handle(j->s, first);
    if (!j->a) {
        j->status = CLH_E_NOMEM;
        return NULL;
    }
    if (j->what == TWO_ROUNDS) {
        j->status = add_task(j->a, j->s, 0, j->rank, size, j->skewed);
        if (j->status == CLH_OK) j->status = clh_analytic_reduce(j->a, &r);
        if (j->status == CLH_OK && j->rank > 0) clh_analytic_reset(j->a);
        if (j->status == CLH_OK) j->status = add_task(j->a, j->s, 1, j->rank, size, j->skewed);
        if (j->status == CLH_OK) j->status = clh_analytic_reduce(j->a, &r);
        return NULL;
    }
    for (int64_t t = 0; t < TASKS && j->what != MISMATCH; t++)
        if ((j->status = add_task(j->a, j->s, t, j->rank, size, j->skewed)) != CLH_OK) return NULL;
    clh_analytic_task_samples(j->a, 0, &j->samples_before);
    j->status = clh_analytic_reduce(j->a, &r);
    clh_analytic_task_samples(j->a, 0, &j->samples_after);
    return NULL;
}

/* Runs a team of `size` on a scenario; jobs[] keep each participant's result. */
static void run_team(int size, const setting *s, scenario what, int skewed, int fail_at,
                     job *jobs) {
    static team t;
    team_init(&t, size);
    t.fail_at = fail_at;
    pthread_t threads[MAXP];
    for (int p = 0; p < size; p++) {
        jobs[p] = (job){&t, p, s, what, skewed, CLH_OK, NULL, 0, 0};
        pthread_create(&threads[p], NULL, participant, &jobs[p]);
    }
    for (int p = 0; p < size; p++) pthread_join(threads[p], NULL);
    team_destroy(&t);
}

/* The reference: one handle shown every sample. */
static clh_analytic *reference(const setting *s) {
    clh_analytic *a = make_handle(s, CLASSES);
    CHECK(a != NULL);
    if (!a) return NULL;
    for (int64_t t = 0; t < TASKS; t++) CHECK_OK(add_task(a, s, t, 0, 1, 0));
    return a;
}

/* The statistics themselves (analytic_internal.h): counts exactly, class sums
 * and matrices relative to their largest value; returns the larger error. */
static double stats_error(const clh_analytic *got, const clh_analytic *want) {
    CHECK(got->rows == want->rows && got->num_mats == want->num_mats);
    if (got->rows != want->rows || got->num_mats != want->num_mats) return 1;
    for (int64_t c = 0; c < got->rows; c++) CHECK(got->counts[c] == want->counts[c]);
    for (size_t m = 0; m < got->num_mats; m++) CHECK(got->mat_samples[m] == want->mat_samples[m]);
    double diff = 0, scale = 0;
    for (int64_t k = 0; k < got->rows * got->in; k++) {
        double d = fabs(got->sums[k] - want->sums[k]);
        if (!(d <= diff)) diff = d;
        if (fabs(want->sums[k]) > scale) scale = fabs(want->sums[k]);
    }
    double err = diff / scale;
    for (size_t m = 0; m < got->num_mats; m++) {
        diff = scale = 0;
        for (int64_t i = 0; i < got->dim; i++)
            for (int64_t j = 0; j <= i; j++) {
                double w = clh_analytic_mat_at(want, m, i, j);
                double d = fabs(clh_analytic_mat_at(got, m, i, j) - w);
                if (!(d <= diff)) diff = d;
                if (fabs(w) > scale) scale = fabs(w);
            }
        if (!(diff / scale <= err)) err = diff / scale;
    }
    return err;
}

static double heads_error(clh_heads *got, clh_heads *want) {
    float *pa, *pb;
    size_t na = 0, nb = 0;
    clh_heads_flat(got, &pa, NULL, &na);
    clh_heads_flat(want, &pb, NULL, &nb);
    if (na != nb || na == 0) return 1;
    CHECK(check_max_abs(pb, nb) > 1e-3); /* the heads hold something */
    return rel_error(pa, pb, na);
}

static const char *name_of(const setting *s) {
    static char buf[64];
    snprintf(buf, sizeof buf, "%s %s%s", clh_paradigm_name(s->paradigm),
             clh_analytic_method_name(s->method), s->normalize ? " normalised" : "");
    return buf;
}

static void check_equivalence(const setting *s) {
    clh_analytic *want_stats = reference(s);
    clh_heads *want = want_stats ? solve(want_stats, s) : NULL;
    CHECK(want != NULL);
    for (int size = 1; size <= MAXP; size++)
        for (int round = 0; round < 2; round++)
            for (int skewed = 0; skewed < 2; skewed++) {
                job jobs[MAXP];
                run_team(size, s, round ? TWO_ROUNDS : ONE_ROUND, skewed, 0, jobs);
                for (int p = 0; p < size; p++) {
                    CHECK_OK(jobs[p].status);
                    int64_t n0 = -1, n1 = -1;
                    clh_analytic_task_samples(jobs[p].a, 0, &n0);
                    clh_analytic_task_samples(jobs[p].a, 1, &n1);
                    /* Task 1 is in every participant's last reduce. */
                    CHECK(n1 == PER_TASK);
                    CHECK(n0 == PER_TASK);
                    double stats = want_stats ? stats_error(jobs[p].a, want_stats) : 1;
                    clh_heads *got = solve(jobs[p].a, s);
                    CHECK(got != NULL);
                    double err = got && want ? heads_error(got, want) : 1;
                    if (p == 0)
                        printf("%s, %d participant%s%s%s: statistics %.3g, heads %.3g from one "
                               "handle\n", name_of(s), size, size > 1 ? "s" : "",
                               round ? ", two rounds" : "", skewed ? ", skewed" : "", stats, err);
                    CHECK(stats <= 1e-12);
                    CHECK(err <= 1e-9);
                    clh_heads_free(got);
                    clh_analytic_free(jobs[p].a);
                }
            }
    clh_heads_free(want);
    clh_analytic_free(want_stats);
}

static void check_mismatch_and_failure(const setting *s) {
    job jobs[MAXP];
    run_team(3, s, MISMATCH, 0, 0, jobs);
    for (int p = 0; p < 3; p++) {
        CHECK_STATUS(jobs[p].status, CLH_E_MISMATCH);
        clh_analytic_free(jobs[p].a);
    }
    /* LDA makes three calls (agreement, sums, scatters); the others two. */
    int calls = s->method == CLH_ANALYTIC_LDA ? 3 : 2;
    for (int fail_at = 1; fail_at <= calls; fail_at++) {
        run_team(2, s, FAILING, 0, fail_at, jobs);
        for (int p = 0; p < 2; p++) {
            CHECK_STATUS(jobs[p].status, CLH_E_IO);
            CHECK(jobs[p].samples_before == PER_TASK / 2);
            CHECK(jobs[p].samples_after == jobs[p].samples_before);
            clh_analytic_free(jobs[p].a);
        }
    }
}

/* ---- plain vectors and the heads' gradient ----------------------------------- */

typedef struct vec_job {
    team *team;
    int rank;
    float f[5];
    double g[3];
    float grad0;
    size_t grads;
    clh_status st_f, st_g, st_h, st_mismatch;
    char mismatch_detail[256];
} vec_job;

static void *vec_participant(void *arg) {
    vec_job *j = arg;
    member m;
    clh_reducer r;
    member_reducer(&m, j->team, j->rank, &r);
    for (int i = 0; i < 5; i++) j->f[i] = (float)(j->rank + 1) * 0.5f + (float)i;
    for (int i = 0; i < 3; i++) j->g[i] = 1e-3 * (j->rank + 1) + (double)i;
    j->st_f = clh_reduce_f32(&r, j->f, 5);
    j->st_g = clh_reduce_f64(&r, j->g, 3);
    clh_heads *h = NULL;
    clh_heads_create(&h, CLH_CIL, 4, 1);
    clh_heads_setup_task(h, 0, 2);
    float *params, *grads;
    clh_heads_flat(h, &params, &grads, &j->grads);
    for (size_t i = 0; i < j->grads; i++) grads[i] = (float)(j->rank + 1) * (float)(i + 1);
    j->st_h = clh_heads_reduce_grad(h, &r);
    j->grad0 = grads[j->grads - 1];
    clh_heads_free(h);
    /* Participant 2 with a head of 3 classes: no sum, an error naming it. */
    h = NULL;
    clh_heads_create(&h, CLH_CIL, 4, 1);
    clh_heads_setup_task(h, 0, j->rank == 2 ? 3 : 2);
    j->st_mismatch = clh_heads_reduce_grad(h, &r);
    snprintf(j->mismatch_detail, sizeof j->mismatch_detail, "%s", clh_last_error());
    clh_heads_free(h);
    return NULL;
}

static void check_vectors(void) {
    static team t;
    team_init(&t, 3);
    vec_job jobs[3];
    pthread_t threads[3];
    for (int p = 0; p < 3; p++) {
        memset(&jobs[p], 0, sizeof jobs[p]);
        jobs[p].team = &t;
        jobs[p].rank = p;
        pthread_create(&threads[p], NULL, vec_participant, &jobs[p]);
    }
    for (int p = 0; p < 3; p++) pthread_join(threads[p], NULL);
    team_destroy(&t);
    for (int p = 0; p < 3; p++) {
        CHECK_OK(jobs[p].st_f);
        CHECK_OK(jobs[p].st_g);
        CHECK_OK(jobs[p].st_h);
        /* 0.5 + 1.0 + 1.5 + 3i */
        for (int i = 0; i < 5; i++) CHECK(jobs[p].f[i] == 3.0f + 3.0f * (float)i);
        for (int i = 0; i < 3; i++) CHECK(jobs[p].g[i] == ((1e-3 + i) + (2e-3 + i)) + (3e-3 + i));
        CHECK(jobs[p].grads == 10); /* 2 rows x (4 + 1) */
        CHECK(jobs[p].grad0 == 6.0f * 10.0f);
        CHECK_STATUS(jobs[p].st_mismatch, CLH_E_MISMATCH);
        CHECK(strstr(jobs[p].mismatch_detail, "participant 2") != NULL);
    }
}

static void check_reducer_checks(void) {
    clh_reducer r;
    clh_reducer_init(&r);
    CHECK(r.size == 1 && r.rank == 0 && r.struct_size == sizeof r);
    CHECK_OK(clh_reducer_check(&r));
    float v[2] = {1.5f, -2.0f};
    CHECK_OK(clh_reduce_f32(&r, v, 2)); /* one participant: unchanged */
    CHECK(v[0] == 1.5f && v[1] == -2.0f);
    CHECK_STATUS(clh_reduce_f32(&r, NULL, 2), CLH_E_NULL);
    CHECK_OK(clh_reduce_f32(&r, NULL, 0));
    clh_reducer bad = r;
    bad.rank = 1;
    CHECK_STATUS(clh_reducer_check(&bad), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "rank") != NULL);
    bad = r;
    bad.size = 0;
    CHECK_STATUS(clh_reducer_check(&bad), CLH_E_INVALID_ARG);
    bad = r;
    bad.struct_size = 0;
    CHECK_STATUS(clh_reducer_check(&bad), CLH_E_INVALID_ARG);
    bad = r;
    bad.struct_size = sizeof r + 8;
    CHECK_STATUS(clh_reducer_check(&bad), CLH_E_INVALID_ARG);
    bad = r;
    bad.sum_f64 = NULL;
    CHECK_STATUS(clh_reducer_check(&bad), CLH_E_NULL);
    CHECK(strstr(clh_last_error(), "sum_f64") != NULL);
    CHECK_STATUS(clh_reducer_check(NULL), CLH_E_NULL);
    CHECK_STATUS(clh_analytic_reduce(NULL, &r), CLH_E_NULL);
    clh_analytic_reset(NULL); /* accepted */
}

int main(void) {
    make_class_data(X, Y, TASKS, CLASSES, PER_TASK, D, 0x9E3779B97F4A7C15u);
    check_reducer_checks();
    check_vectors();
    static const setting settings[] = {
        {CLH_CIL, CLH_ANALYTIC_RIDGE, 0}, {CLH_TIL, CLH_ANALYTIC_RIDGE, 0},
        {CLH_CIL, CLH_ANALYTIC_NCM, 0},   {CLH_CIL, CLH_ANALYTIC_NCM, 1},
        {CLH_CIL, CLH_ANALYTIC_LDA, 0},   {CLH_TIL, CLH_ANALYTIC_LDA, 0},
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        check_equivalence(&settings[i]);
        check_mismatch_and_failure(&settings[i]);
    }
    return check_done("test_reduce");
}
