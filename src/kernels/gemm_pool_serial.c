/* The thread pool of a build without threads (CLH_WITH_THREADS=OFF, the device
 * core): the calling thread does every chunk (see gemm_pool.h). */
#include "kernels/gemm_pool.h"

void clh_pool_run(int workers, int64_t chunks, clh_pool_task task, void *ctx) {
    (void)workers;
    for (int64_t chunk = 0; chunk < chunks; chunk++) task(ctx, chunk);
}

int clh_pool_workers(int wanted) {
    (void)wanted;
    return 1;
}

void clh_pool_shutdown(void) {}
