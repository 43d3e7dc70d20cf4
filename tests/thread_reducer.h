/* An in-process transport for the reduction tests: P threads are the
 * participants; each sum deposits every thread's vector, rank 0 adds them in
 * rank order, and every thread copies the result back (three barriers).
 * fail_at makes the n-th call (counted per team, 1-based) return
 * CLH_E_IO on every participant, to test that a failing transport leaves
 * the caller's state unchanged. Header-only. */
#ifndef CLH_TEST_THREAD_REDUCER_H
#define CLH_TEST_THREAD_REDUCER_H

#include <pthread.h>
#include <string.h>

#include "clheads.h"

enum { TEAM_MAX = 8 };

typedef struct team {
    int size;
    pthread_barrier_t barrier;
    void *slots[TEAM_MAX];
    double scratch[1 << 16];
    int calls, fail_at;
} team;

typedef struct member {
    team *team;
    int rank;
} member;

static inline void team_init(team *t, int size) {
    memset(t, 0, sizeof *t);
    t->size = size;
    pthread_barrier_init(&t->barrier, NULL, (unsigned)size);
}

static inline void team_destroy(team *t) { pthread_barrier_destroy(&t->barrier); }

/* The sum in rank order, in chunks of the scratch's size. */
#define TEAM_SUM(name, type)                                                          \
    static inline clh_status name(void *context, type *values, size_t count) {       \
        member *m = context;                                                          \
        team *t = m->team;                                                            \
        pthread_barrier_wait(&t->barrier);                                            \
        if (m->rank == 0) t->calls++;                                                 \
        pthread_barrier_wait(&t->barrier);                                            \
        if (t->calls == t->fail_at) {                                                 \
            pthread_barrier_wait(&t->barrier);                                        \
            return CLH_E_IO;                                                          \
        }                                                                             \
        t->slots[m->rank] = values;                                                   \
        size_t chunk = (sizeof t->scratch) / (sizeof(type));                            \
        for (size_t begin = 0; begin < count; begin += chunk) {                       \
            size_t n = count - begin < chunk ? count - begin : chunk;                 \
            pthread_barrier_wait(&t->barrier);                                        \
            if (m->rank == 0) {                                                       \
                type *out = (type *)t->scratch;                                       \
                memcpy(out, (type *)t->slots[0] + begin, n * sizeof(type));           \
                for (int p = 1; p < t->size; p++)                                     \
                    for (size_t i = 0; i < n; i++) out[i] += ((type *)t->slots[p])[begin + i]; \
            }                                                                         \
            pthread_barrier_wait(&t->barrier);                                        \
            memcpy(values + begin, t->scratch, n * sizeof(type));                     \
        }                                                                             \
        pthread_barrier_wait(&t->barrier);                                            \
        return CLH_OK;                                                                \
    }
TEAM_SUM(team_sum_f32, float)
TEAM_SUM(team_sum_f64, double)
#undef TEAM_SUM

static inline void member_reducer(member *m, team *t, int rank, clh_reducer *r) {
    m->team = t;
    m->rank = rank;
    clh_reducer_init(r);
    r->rank = rank;
    r->size = t->size;
    r->context = m;
    r->sum_f32 = team_sum_f32;
    r->sum_f64 = team_sum_f64;
}

#endif
