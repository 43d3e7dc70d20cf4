/* The library's allocation point: the allocator of clh_set_allocator (or
 * malloc/realloc/free), a count of live blocks, and the failure-injection
 * hook for tests (testing.h). */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "clheads/allocator.h"
#include "common/error.h"
#include "common/testing.h"
#include "common/versioned.h"

/* The end of clh_allocator's first released layout (its last member: ctx). */
#define CLH_ALLOCATOR_FIRST_SIZE (offsetof(clh_allocator, ctx) + sizeof(void *))

/* NULL functions: the C library's. Changed only while no block is live and
 * no other thread is inside clheads (allocator.h). */
static clh_allocator current = {sizeof(clh_allocator), NULL, NULL, NULL, NULL};

/* Atomic so that concurrent forward calls (which may allocate a workspace)
 * stay race-free; injection itself is for single-threaded tests. */
static _Atomic long fail_countdown;
static _Atomic unsigned long alloc_count;
static _Atomic size_t largest_request;

static void note_request(size_t bytes) {
    size_t seen = atomic_load(&largest_request);
    while (bytes > seen && !atomic_compare_exchange_weak(&largest_request, &seen, bytes)) {
    }
}
static _Atomic size_t live_blocks;

/* Returns 1 when this allocation must fail (injected). */
static int injected_failure(void) {
    alloc_count++;
    if (atomic_load(&fail_countdown) <= 0) return 0;
    return atomic_fetch_sub(&fail_countdown, 1) == 1;
}

static void *allocate(size_t bytes) {
    void *p = current.alloc ? current.alloc(current.ctx, bytes) : malloc(bytes);
    if (p) live_blocks++;
    return p;
}

void *clh_malloc(size_t bytes) {
    note_request(bytes);
    if (injected_failure()) return NULL;
    return allocate(bytes ? bytes : 1);
}

void *clh_calloc(size_t count, size_t size) {
    note_request(size && count > SIZE_MAX / size ? SIZE_MAX : count * size);
    if (injected_failure()) return NULL;
    if (count == 0 || size == 0) count = size = 1;
    if (count > (size_t)-1 / size) return NULL;
    void *p = allocate(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void *clh_realloc(void *ptr, size_t bytes) {
    note_request(bytes);
    if (injected_failure()) return NULL;
    if (!ptr) return allocate(bytes ? bytes : 1);
    if (!bytes) bytes = 1;
    return current.realloc ? current.realloc(current.ctx, ptr, bytes) : realloc(ptr, bytes);
}

void clh_free(void *ptr) {
    if (!ptr) return;
    live_blocks--;
    if (current.free)
        current.free(current.ctx, ptr);
    else
        free(ptr);
}

void clh_allocator_init(clh_allocator *allocator) {
    if (!allocator) return;
    memset(allocator, 0, sizeof *allocator);
    allocator->struct_size = sizeof *allocator;
}

clh_status clh_set_allocator(const clh_allocator *allocator) {
    clh_allocator next;
    clh_allocator_init(&next);
    if (allocator) {
        clh_status st = clh_versioned_read(&next, sizeof next, CLH_ALLOCATOR_FIRST_SIZE, allocator,
                                           "clh_set_allocator");
        if (st) return st;
        if (!next.alloc || !next.realloc || !next.free)
            return clh_fail(CLH_E_NULL, "clh_set_allocator: alloc, realloc and free are all required "
                            "(pass NULL for the default allocator)");
    }
    size_t live = atomic_load(&live_blocks);
    if (live)
        return clh_fail(CLH_E_INVALID_ARG,
                        "clh_set_allocator: %zu blocks of the current allocator are still live; "
                        "free every clheads object first",
                        live);
    current = next;
    return CLH_OK;
}

clh_status clh_get_allocator(clh_allocator *allocator) {
    if (!allocator) return clh_fail(CLH_E_NULL, "clh_get_allocator: allocator is NULL");
    return clh_versioned_write(allocator, &current, sizeof current, CLH_ALLOCATOR_FIRST_SIZE,
                               "clh_get_allocator");
}

size_t clh_allocator_live_blocks(void) { return atomic_load(&live_blocks); }

void clh_test_fail_alloc_after(long countdown) { fail_countdown = countdown; }

unsigned long clh_test_alloc_count(void) { return alloc_count; }

size_t clh_test_largest_alloc(void) { return atomic_exchange(&largest_request, 0); }
