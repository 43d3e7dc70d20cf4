/* Internal: every allocation of the library goes through these, so tests can
 * make the n-th one fail and check that the failing call changed nothing. */
#ifndef CLH_INTERNAL_ALLOC_H
#define CLH_INTERNAL_ALLOC_H

#include <stddef.h>

void *clh_malloc(size_t bytes);
void *clh_calloc(size_t count, size_t size);
void *clh_realloc(void *ptr, size_t bytes);
void clh_free(void *ptr);

#endif
