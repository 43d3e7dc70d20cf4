/* Helper threads for the portable multiply (see gemm_pool.h).
 *
 * One job is published at a time through `pool.job` under `pool.lock`. A
 * helper joins it (job->joined++) only while it is published; the caller
 * unpublishes it once every chunk is claimed, then waits until every helper
 * that joined has left. So the job may live on the caller's stack, and a
 * helper that wakes late sees no job and sleeps again.
 *
 * Stopping: with pool.busy held no job runs, so every helper is asleep or on
 * its way to sleep; pool.stopping wakes them to return, and they are joined.
 * clh_shutdown_threads() does this, and so does the library's destructor, so
 * a dlclose()d shared library never has its code unmapped under a helper. */
#define _GNU_SOURCE /* pthread_setname_np (glibc); otherwise POSIX.1-2008 */

#include "kernels/gemm_pool.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

enum { MAX_HELPERS = 63 };
/* A helper's stack: the multiply's 64 KiB packing buffer plus its frames,
 * with room to spare. Set explicitly so it does not follow RLIMIT_STACK
 * (glibc's default for new threads), which may be small or 8 MiB each. */
enum { HELPER_STACK_BYTES = 1 << 20 };

typedef struct pool_job {
    clh_pool_task task;
    void *ctx;
    int64_t chunks;
    atomic_llong next;   /* next chunk to claim */
    int helpers_wanted;  /* helpers with index < this may join */
    int joined;          /* helpers working on it (under pool.lock) */
} pool_job;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work;   /* a job was published */
    pthread_cond_t left;   /* a helper left a job */
    pthread_mutex_t busy;  /* held by the one caller using the helpers */
    pool_job *job;         /* the published job, or NULL */
    uint64_t generation;   /* bumped per published job */
    int started;           /* helper threads running (changed under pool.lock) */
    int stopping;          /* helpers must return (under pool.lock) */
    pthread_t threads[MAX_HELPERS];
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
          PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, 0, {0}};

/* Claims and runs chunks until none are left. */
static void work_on(pool_job *job) {
    for (;;) {
        long long chunk = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (chunk >= job->chunks) return;
        job->task(job->ctx, chunk);
    }
}

static void *helper_main(void *arg) {
    const int index = (int)(intptr_t)arg;
    uint64_t seen = 0;
#ifdef __GLIBC__
    pthread_setname_np(pthread_self(), "clh-gemm"); /* what ps/top/gdb show */
#endif
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (!pool.stopping && (pool.job == NULL || pool.generation == seen))
            pthread_cond_wait(&pool.work, &pool.lock);
        if (pool.stopping) break;
        seen = pool.generation;
        pool_job *job = pool.job;
        if (index >= job->helpers_wanted) continue;
        job->joined++;
        pthread_mutex_unlock(&pool.lock);
        work_on(job);
        pthread_mutex_lock(&pool.lock);
        if (--job->joined == 0) pthread_cond_signal(&pool.left);
    }
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

/* fork(): the child has none of the helpers. Holding pool.lock across the
 * fork keeps the pool's state consistent; the child starts from no helpers. */
static void before_fork(void) { pthread_mutex_lock(&pool.lock); }
static void after_fork_in_parent(void) { pthread_mutex_unlock(&pool.lock); }
static void after_fork_in_child(void) {
    /* This thread took pool.lock in before_fork; the helpers waiting on the
     * conditions do not exist here. If another thread held pool.busy at the
     * fork, the child's calls just run on their own thread. */
    pthread_cond_init(&pool.work, NULL);
    pthread_cond_init(&pool.left, NULL);
    pool.job = NULL;
    pool.started = 0;
    pool.stopping = 0;
    pthread_mutex_unlock(&pool.lock);
}

static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;
static void install_fork_handlers(void) {
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

/* Starts helpers up to `count` (called with pool.busy held). Helpers block
 * every signal, so signals keep going to the application's threads. */
static void start_helpers(int count) {
    pthread_once(&fork_handlers_once, install_fork_handlers);
    if (count > MAX_HELPERS) count = MAX_HELPERS;
    if (pool.started >= count) return;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    while (pool.started < count) {
        pthread_attr_t attr;
        if (pthread_attr_init(&attr) != 0) break;
        pthread_attr_setstacksize(&attr, HELPER_STACK_BYTES); /* on failure: the default */
        int failed = pthread_create(&pool.threads[pool.started], &attr, helper_main,
                                    (void *)(intptr_t)pool.started);
        pthread_attr_destroy(&attr);
        if (failed) break; /* fewer helpers; the caller does the rest */
        pthread_mutex_lock(&pool.lock);
        pool.started++;
        pthread_mutex_unlock(&pool.lock);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void clh_pool_run(int workers, int64_t chunks, clh_pool_task task, void *ctx) {
    pool_job job = {task, ctx, chunks, 0, workers - 1, 0};
    if (workers <= 1 || chunks <= 1 || pthread_mutex_trylock(&pool.busy) != 0) {
        work_on(&job); /* one thread wanted, or another call has the helpers */
        return;
    }
    start_helpers(workers - 1);
    pthread_mutex_lock(&pool.lock);
    pool.job = &job;
    pool.generation++;
    pthread_cond_broadcast(&pool.work);
    pthread_mutex_unlock(&pool.lock);

    work_on(&job);

    pthread_mutex_lock(&pool.lock);
    pool.job = NULL; /* late helpers find nothing */
    while (job.joined > 0) pthread_cond_wait(&pool.left, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.busy);
}

int clh_pool_workers(int wanted) {
    if (wanted > 0) return wanted;
    /* Counted once: glibc reads /sys for it, too slow for every multiply. */
    static atomic_int online_cores;
    int cores = atomic_load_explicit(&online_cores, memory_order_relaxed);
    if (cores == 0) {
        long counted = sysconf(_SC_NPROCESSORS_ONLN);
        cores = counted < 1 ? 1 : counted > INT_MAX ? INT_MAX : (int)counted;
        atomic_store_explicit(&online_cores, cores, memory_order_relaxed);
    }
    return cores;
}

/* Wakes every helper to return and joins them (called with pool.busy held,
 * so no job is published and none is being worked on). */
static void stop_helpers(void) {
    pthread_mutex_lock(&pool.lock);
    const int count = pool.started;
    pool.stopping = 1;
    pthread_cond_broadcast(&pool.work);
    pthread_mutex_unlock(&pool.lock);
    for (int i = 0; i < count; i++) pthread_join(pool.threads[i], NULL);
    pthread_mutex_lock(&pool.lock);
    pool.started = 0;
    pool.stopping = 0;
    pthread_mutex_unlock(&pool.lock);
}

static int helpers_running(void) {
    pthread_mutex_lock(&pool.lock);
    const int running = pool.started > 0;
    pthread_mutex_unlock(&pool.lock);
    return running;
}

void clh_pool_shutdown(void) {
    /* None running: nothing to wait for (also in a fork child, whose
     * pool.busy may stay held by a parent thread that is not there). */
    if (!helpers_running()) return;
    pthread_mutex_lock(&pool.busy); /* waits for a multiply using the helpers */
    stop_helpers();
    pthread_mutex_unlock(&pool.busy);
}

/* At dlclose() and at exit. A multiply still using the helpers then (another
 * thread calling exit() mid-call) is not waited for: exit must not block. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((destructor)) static void stop_helpers_at_unload(void) {
    if (!helpers_running() || pthread_mutex_trylock(&pool.busy) != 0) return;
    stop_helpers();
    pthread_mutex_unlock(&pool.busy);
}
#endif
