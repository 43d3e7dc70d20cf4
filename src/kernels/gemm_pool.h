/* Internal: the helper threads of the portable multiply.
 *
 * clh_pool_run splits work into chunks that the calling thread and up to
 * workers - 1 helper threads claim one at a time. The caller works too and
 * waits only for chunks a helper has already claimed: a helper the scheduler
 * has not run yet (a busy machine) finds no work left when it wakes, so a
 * late helper delays a call by at most the chunks it did claim. One call uses
 * the helpers at a time; a concurrent call runs on its own thread. Helpers
 * start on first use and stay asleep between calls. Never fails: without
 * helpers (none could be started) the caller does every chunk.
 */
#ifndef CLH_INTERNAL_GEMM_POOL_H
#define CLH_INTERNAL_GEMM_POOL_H

#include <stdint.h>

typedef void (*clh_pool_task)(void *ctx, int64_t chunk);

void clh_pool_run(int workers, int64_t chunks, clh_pool_task task, void *ctx);

#endif
