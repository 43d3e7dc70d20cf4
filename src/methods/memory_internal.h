/* Internal: the rehearsal memory's handle, shared by memory.c (selection,
 * sampling) and memory_io.c (safetensors export and load). */
#ifndef CLH_INTERNAL_MEMORY_H
#define CLH_INTERNAL_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "clheads/methods.h"

/* The two generator streams: [0] picks a new task's items, [1] draws replay
 * batches. Both are splitmix64 states (src/rng.h); [0] starts at the seed,
 * [1] at seed ^ CLH_MEMORY_SAMPLE_STREAM. */
#define CLH_MEMORY_SAMPLE_STREAM UINT64_C(0x5851F42D4C957F2D)

struct clh_memory {
    size_t capacity;
    size_t width;
    uint64_t seed;
    uint64_t rng[2];
    size_t size;        /* items held, grouped by task in arrival order */
    float *inputs;      /* [capacity, width] */
    int64_t *labels;    /* [capacity] */
    int64_t *item_task; /* [capacity] */
    size_t *scratch;    /* [capacity] index permutation for sampling */
    size_t num_tasks;
    size_t task_cap;
    int64_t *tasks;       /* [task_cap] ids in arrival order */
    int64_t *task_counts; /* [task_cap] items each */
};

/* A memory with nothing in it (the loader fills it); NULL detail on failure. */
clh_status clh_memory_alloc(clh_memory **out, size_t capacity, size_t width, uint64_t seed,
                            size_t task_cap);

#endif
