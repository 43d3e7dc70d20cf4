/* Internal: the helper threads of the portable multiply.
 *
 * clh_pool_run splits work into chunks that the calling thread and up to
 * workers - 1 helper threads claim one at a time. The caller works too and
 * waits only for chunks a helper has already claimed: a helper the scheduler
 * has not run yet (a busy machine) finds no work left when it wakes, so a
 * late helper delays a call by at most the chunks it did claim. One call uses
 * the helpers at a time; a concurrent call runs on its own thread. Helpers
 * start on first use and stay asleep between calls until clh_pool_shutdown
 * (or the library's unloading) joins them. Never fails: without helpers (none
 * could be started) the caller does every chunk.
 *
 * Two implementations: gemm_pool.c (pthreads) and gemm_pool_serial.c (a build
 * without threads, CLH_WITH_THREADS=OFF: every chunk on the calling thread).
 */
#ifndef CLH_INTERNAL_GEMM_POOL_H
#define CLH_INTERNAL_GEMM_POOL_H

#include <stdint.h>

typedef void (*clh_pool_task)(void *ctx, int64_t chunk);

void clh_pool_run(int workers, int64_t chunks, clh_pool_task task, void *ctx);

/* The workers a multiply uses when `wanted` are asked for: wanted itself,
 * every online core when wanted <= 0; always 1 without threads. */
int clh_pool_workers(int wanted);

/* Joins the helper threads (after a multiply that uses them returns); a
 * later multiply starts them again. */
void clh_pool_shutdown(void);

#endif
