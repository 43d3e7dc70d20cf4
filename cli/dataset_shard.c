/* The shard of one process in a data-parallel run (see dataset.h): image i
 * belongs to process i % size, so every process holds about 1/size of every
 * task's training and test images, and the global batches, drawn from the
 * same shuffled order on every process, split among the processes by the
 * owners of their images. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"

int cli_images_shard(cli_images *images, int rank, int size, char *err, size_t err_len) {
    if (size <= 1) return 0;
    if (images->row_of) {
        snprintf(err, err_len, "the images are sharded already");
        return 1;
    }
    int64_t count = images->count, dim = images->dim;
    int64_t *row_of = malloc((size_t)(count > 0 ? count : 1) * sizeof(int64_t));
    if (!row_of) {
        snprintf(err, err_len, "out of memory for the shard's index of %lld images",
                 (long long)count);
        return 1;
    }
    int64_t held = 0;
    size_t elem = images->values ? sizeof(float) : 1, row_bytes = (size_t)dim * elem;
    unsigned char *pixels = images->values ? (unsigned char *)(void *)images->values
                                           : images->codes;
    for (int64_t i = 0; i < count; i++) {
        if (i % size != rank) {
            row_of[i] = -1;
            continue;
        }
        /* Rows move down only (held <= i), so in place. */
        memmove(pixels + (size_t)held * row_bytes, pixels + (size_t)i * row_bytes, row_bytes);
        row_of[i] = held++;
    }
    /* Give the other processes' rows back; a failing shrink keeps the block. */
    void *smaller = realloc(pixels, held > 0 ? (size_t)held * row_bytes : 1);
    if (smaller) pixels = smaller;
    if (images->values)
        images->values = (float *)pixels;
    else
        images->codes = pixels;
    images->row_of = row_of;
    images->held = held;
    return 0;
}
