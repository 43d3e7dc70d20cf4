/* Allocation wrappers with a failure-injection hook for tests. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "alloc.h"

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

/* Returns 1 when this allocation must fail (injected). */
static int injected_failure(void) {
    alloc_count++;
    if (atomic_load(&fail_countdown) <= 0) return 0;
    return atomic_fetch_sub(&fail_countdown, 1) == 1;
}

void *clh_malloc(size_t bytes) {
    note_request(bytes);
    if (injected_failure()) return NULL;
    return malloc(bytes ? bytes : 1);
}

void *clh_calloc(size_t count, size_t size) {
    note_request(size && count > SIZE_MAX / size ? SIZE_MAX : count * size);
    if (injected_failure()) return NULL;
    if (count == 0 || size == 0) return calloc(1, 1);
    return calloc(count, size);
}

void *clh_realloc(void *ptr, size_t bytes) {
    note_request(bytes);
    if (injected_failure()) return NULL;
    return realloc(ptr, bytes ? bytes : 1);
}

void clh_free(void *ptr) { free(ptr); }

void clh_test_fail_alloc_after(long countdown) { fail_countdown = countdown; }

unsigned long clh_test_alloc_count(void) { return alloc_count; }

size_t clh_test_largest_alloc(void) { return atomic_exchange(&largest_request, 0); }
