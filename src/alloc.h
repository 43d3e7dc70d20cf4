/* Internal: every allocation of the library goes through these, so tests can
 * make the n-th one fail and check that the failing call changed nothing. */
#ifndef CLH_INTERNAL_ALLOC_H
#define CLH_INTERNAL_ALLOC_H

#include <stddef.h>

void *clh_malloc(size_t bytes);
void *clh_calloc(size_t count, size_t size);
void *clh_realloc(void *ptr, size_t bytes);
void clh_free(void *ptr);

/* Test hook: the allocation `countdown` calls from now fails (1 = the next
 * one); 0 turns injection off. Not thread-safe; for tests only. */
void clh_test_fail_alloc_after(long countdown);
/* Test hook: allocations made since the process started (for "no allocation
 * in the steady state" checks). */
unsigned long clh_test_alloc_count(void);
/* Test hook: the largest single request (bytes, count x size for calloc)
 * since the last call, which resets it (for "a small file never asks for
 * gigabytes" checks). */
size_t clh_test_largest_alloc(void);

#endif
