/* Internal: the checked reducer and an agreement test built on its sum
 * (src/reduce.c), shared by the gradient and the statistics reductions. */
#ifndef CLH_INTERNAL_REDUCE_H
#define CLH_INTERNAL_REDUCE_H

#include <stdint.h>

#include "clheads/reduce.h"

/* Copies the caller's reducer into *full after checking it (struct_size,
 * rank, size, callbacks); what names the calling function in messages. */
clh_status clh_reducer_read(const clh_reducer *given, clh_reducer *full, const char *what);

/* Every participant passes its value; *differs is -1 when all values equal
 * rank 0's, else the first rank whose value differs. One f64 sum of 2 * size
 * values (each value as two exact 32-bit halves in its rank's slots). */
clh_status clh_reduce_agree(const clh_reducer *reducer, uint64_t value, int *differs);

/* FNV-1a 64 over bytes, continuing from h (start: CLH_FNV_START). */
#define CLH_FNV_START 0xcbf29ce484222325ull
uint64_t clh_fnv1a64(uint64_t h, const void *bytes, size_t len);

#endif
