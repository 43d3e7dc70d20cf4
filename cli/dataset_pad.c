/* --pad32: every 28x28 image framed by two rows/columns of zeros on each side
 * (32x32, 1,024 inputs), the input of Hsu et al. 2018's MLP (see dataset.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"

#define SIDE 28
#define PADDED 32
#define BORDER ((PADDED - SIDE) / 2)

/* The palette index of the value 0 (idx and synthetic codes: 0; the 10k
 * file's palette of distinct values holds 0 somewhere); -1 if none. */
static int zero_code(const cli_images *images) {
    for (int k = 0; k < 256; k++)
        if (images->palette[k] == 0.0f) return k;
    return -1;
}

int cli_images_pad32(cli_images *images, char *err, size_t err_len) {
    if (images->dim != SIDE * SIDE) {
        snprintf(err, err_len, "--pad32 pads 28x28 images (784 values), these have %lld",
                 (long long)images->dim);
        return 1;
    }
    size_t count = (size_t)cli_images_held(images), pixels;
    size_t elem = images->values ? sizeof(float) : 1;
    if (__builtin_mul_overflow(count, (size_t)PADDED * PADDED, &pixels) || __builtin_mul_overflow(pixels, elem, &pixels)) {
        snprintf(err, err_len, "--pad32: the size of %zu padded images overflows", count);
        return 1;
    }
    int zero = images->values ? 0 : zero_code(images);
    if (zero < 0) {
        snprintf(err, err_len, "--pad32: the data's palette has no value 0 to pad with");
        return 1;
    }
    /* calloc: the frame of float images is 0.0f already; codes get `zero`. */
    unsigned char *out = calloc(pixels ? pixels : 1, 1);
    if (!out) {
        snprintf(err, err_len, "out of memory padding %zu images to 32x32", count);
        return 1;
    }
    if (images->values) {
        float *dst = (float *)(void *)out;
        for (size_t i = 0; i < count; i++)
            for (int r = 0; r < SIDE; r++)
                memcpy(dst + i * PADDED * PADDED + (size_t)(r + BORDER) * PADDED + BORDER,
                       images->values + i * SIDE * SIDE + (size_t)r * SIDE, SIDE * sizeof(float));
        free(images->values);
        images->values = dst;
    } else {
        if (zero != 0) memset(out, zero, pixels);
        for (size_t i = 0; i < count; i++)
            for (int r = 0; r < SIDE; r++)
                memcpy(out + i * PADDED * PADDED + (size_t)(r + BORDER) * PADDED + BORDER,
                       images->codes + i * SIDE * SIDE + (size_t)r * SIDE, SIDE);
        free(images->codes);
        images->codes = out;
    }
    images->dim = PADDED * PADDED;
    return 0;
}
