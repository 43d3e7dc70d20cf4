/* Allocation wrappers with a failure-injection hook for tests. */
#include <stdatomic.h>
#include <stdlib.h>

#include "alloc.h"
#include "testing.h"

/* Atomic so that concurrent forward calls (which may allocate a workspace)
 * stay race-free; injection itself is for single-threaded tests. */
static _Atomic long fail_countdown;
static _Atomic unsigned long alloc_count;

/* Returns 1 when this allocation must fail (injected). */
static int injected_failure(void) {
    alloc_count++;
    if (atomic_load(&fail_countdown) <= 0) return 0;
    return atomic_fetch_sub(&fail_countdown, 1) == 1;
}

void *clh_malloc(size_t bytes) {
    if (injected_failure()) return NULL;
    return malloc(bytes ? bytes : 1);
}

void *clh_calloc(size_t count, size_t size) {
    if (injected_failure()) return NULL;
    if (count == 0 || size == 0) return calloc(1, 1);
    return calloc(count, size);
}

void *clh_realloc(void *ptr, size_t bytes) {
    if (injected_failure()) return NULL;
    return realloc(ptr, bytes ? bytes : 1);
}

void clh_free(void *ptr) { free(ptr); }

void clh_test_fail_alloc_after(long countdown) { fail_countdown = countdown; }

unsigned long clh_test_alloc_count(void) { return alloc_count; }
