/* idx files, LeCun's MNIST format (see dataset.h): a strict parser, a whole
 * file reader that gunzips through zlib, and the loader of a directory with
 * the four files of a training/test split (full MNIST, Fashion-MNIST). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "cli.h"
#include "dataset.h"

#define IMAGES_HEADER 16u
#define LABELS_HEADER 8u
#define SIDE 28u
#define READ_CHUNK ((size_t)1 << 20)

static uint32_t read_be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int cli_idx_read_file(const char *path, unsigned char **bytes, size_t *len, char *err,
                      size_t err_len) {
    *bytes = NULL;
    *len = 0;
    struct stat st;
    if (stat(path, &st) != 0)
        return cli_err(err, err_len, "cannot open data file %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cli_err(err, err_len, "data file %s is not a regular file", path);
    /* gzread reads a file without the gzip magic as it is. */
    gzFile f = gzopen(path, "rb");
    if (!f) return cli_err(err, err_len, "cannot open data file %s: %s", path, strerror(errno));
    size_t cap = 0, got = 0;
    unsigned char *buf = NULL;
    int rc = 1;
    for (;;) {
        if (got == cap) {
            /* Room for one byte past the limit, to tell "at the limit" from "over". */
            size_t next = cap ? cap * 2 : READ_CHUNK;
            if (next > CLI_IDX_MAX_BYTES + 1) next = CLI_IDX_MAX_BYTES + 1;
            if (next == cap) {
                cli_err(err, err_len, "data file %s holds more than %zu bytes (decompressed); "
                        "not an MNIST-sized idx file", path, CLI_IDX_MAX_BYTES);
                goto done;
            }
            unsigned char *grown = realloc(buf, next);
            if (!grown) {
                cli_err(err, err_len, "out of memory reading %s (%zu bytes)", path, next);
                goto done;
            }
            buf = grown;
            cap = next;
        }
        size_t want = cap - got < READ_CHUNK ? cap - got : READ_CHUNK;
        int n = gzread(f, buf + got, (unsigned)want);
        if (n <= 0) break; /* the end, or an error reported below */
        got += (size_t)n;
    }
    /* A gzip stream cut short ends with a short read and Z_BUF_ERROR; bad
     * deflate data or a bad CRC/length trailer fail with Z_DATA_ERROR. */
    int code = Z_OK;
    const char *message = gzerror(f, &code);
    if (code != Z_OK) {
        /* zlib's message starts with the path: show it once. */
        size_t plen = strlen(path);
        if (strncmp(message, path, plen) == 0 && strncmp(message + plen, ": ", 2) == 0)
            message += plen + 2;
        cli_err(err, err_len, "cannot read data file %s: %s%s", path, message,
                gzdirect(f) ? "" : " (truncated or corrupt gzip)");
        goto done;
    }
    rc = 0;
done:
    if (gzclose_r(f) != Z_OK && rc == 0)
        rc = cli_err(err, err_len, "cannot read data file %s (gzip trailer or read error)", path);
    if (rc) {
        free(buf);
        return 1;
    }
    *bytes = buf;
    *len = got;
    return 0;
}

/* The start both kinds of idx file share: room for the header of `kind`
 * ("images", "labels") and its magic number. */
static int check_start(const unsigned char *b, size_t len, const char *name, unsigned header,
                       uint32_t want_magic, const char *kind, char *err, size_t err_len) {
    if (len < header)
        return cli_err(err, err_len, "%s: %zu bytes, shorter than the %u-byte header of idx %s "
                       "(truncated)", name, len, header, kind);
    uint32_t magic = read_be32(b);
    if (magic != want_magic)
        return cli_err(err, err_len, "%s: bad magic 0x%08x, expected 0x%08x (idx %s of unsigned "
                       "bytes)", name, magic, want_magic, kind);
    return 0;
}

/* Checks an images file's header and exact size; *count is its image count. */
static int check_images(const unsigned char *b, size_t len, const char *name, uint32_t *count,
                        char *err, size_t err_len) {
    if (check_start(b, len, name, IMAGES_HEADER, CLI_IDX_IMAGES_MAGIC, "images", err, err_len))
        return 1;
    uint32_t n = read_be32(b + 4), rows = read_be32(b + 8), cols = read_be32(b + 12);
    if (rows != SIDE || cols != SIDE)
        return cli_err(err, err_len, "%s: images are %ux%u, expected %ux%u", name, rows, cols, SIDE,
                       SIDE);
    if (n == 0) return cli_err(err, err_len, "%s holds no images", name);
    size_t pixels, expected;
    if (__builtin_mul_overflow(n, (size_t)SIDE * SIDE, &pixels) ||
        __builtin_add_overflow(pixels, IMAGES_HEADER, &expected))
        return cli_err(err, err_len, "%s: the size of %u images overflows", name, n);
    if (len != expected)
        return cli_err(err, err_len, "%s: %zu bytes, but its header describes %u images of %ux%u, "
                       "%zu bytes (%s)", name, len, n, SIDE, SIDE, expected,
                       len < expected ? "truncated" : "trailing bytes");
    *count = n;
    return 0;
}

/* Checks a labels file's header, exact size and every label. */
static int check_labels(const unsigned char *b, size_t len, const char *name, uint32_t *count,
                        char *err, size_t err_len) {
    if (check_start(b, len, name, LABELS_HEADER, CLI_IDX_LABELS_MAGIC, "labels", err, err_len))
        return 1;
    uint32_t n = read_be32(b + 4);
    if (n == 0) return cli_err(err, err_len, "%s holds no labels", name);
    size_t expected;
    if (__builtin_add_overflow(n, LABELS_HEADER, &expected))
        return cli_err(err, err_len, "%s: the size of %u labels overflows", name, n);
    if (len != expected)
        return cli_err(err, err_len, "%s: %zu bytes, but its header describes %u labels, %zu "
                       "bytes (%s)", name, len, n, expected,
                       len < expected ? "truncated" : "trailing bytes");
    for (uint32_t i = 0; i < n; i++)
        if (b[LABELS_HEADER + i] > 9)
            return cli_err(err, err_len, "%s: label %u of image %u is out of range (classes are "
                           "0..9)", name, b[LABELS_HEADER + i], i);
    *count = n;
    return 0;
}

/* One images/labels pair, checked against each other. */
typedef struct idx_pair {
    const unsigned char *images, *labels;
    size_t images_len, labels_len;
    const char *images_name, *labels_name;
    uint32_t count;
} idx_pair;

static int check_pair(idx_pair *p, char *err, size_t err_len) {
    uint32_t n_images = 0, n_labels = 0;
    if (check_images(p->images, p->images_len, p->images_name, &n_images, err, err_len) ||
        check_labels(p->labels, p->labels_len, p->labels_name, &n_labels, err, err_len))
        return 1;
    if (n_images != n_labels)
        return cli_err(err, err_len, "%s holds %u images but %s holds %u labels", p->images_name,
                       n_images, p->labels_name, n_labels);
    p->count = n_images;
    return 0;
}

/* Allocates *images for the pairs (checked) and copies them in order. */
static int fill(cli_images *images, idx_pair *pairs, size_t n_pairs, char *err, size_t err_len) {
    memset(images, 0, sizeof *images);
    size_t count = 0, pixels;
    for (size_t i = 0; i < n_pairs; i++)
        if (__builtin_add_overflow(count, pairs[i].count, &count))
            return cli_err(err, err_len, "the image count overflows");
    if (__builtin_mul_overflow(count, (size_t)SIDE * SIDE, &pixels))
        return cli_err(err, err_len, "the pixel count of %zu images overflows", count);
    images->labels = malloc(count);
    images->codes = malloc(pixels);
    if (!images->labels || !images->codes) {
        cli_images_free(images);
        return cli_err(err, err_len, "out of memory for %zu images", count);
    }
    images->count = (int64_t)count;
    images->dim = (int64_t)SIDE * SIDE;
    /* idx pixels are bytes k meaning k/255. */
    for (int k = 0; k < 256; k++) images->palette[k] = (float)(k / 255.0);
    size_t at = 0;
    for (size_t i = 0; i < n_pairs; i++) {
        memcpy(images->labels + at, pairs[i].labels + LABELS_HEADER, pairs[i].count);
        memcpy(images->codes + at * SIDE * SIDE, pairs[i].images + IMAGES_HEADER,
               (size_t)pairs[i].count * SIDE * SIDE);
        at += pairs[i].count;
    }
    return 0;
}

int cli_idx_parse(cli_images *images, const unsigned char *image_bytes, size_t image_len,
                  const char *image_name, const unsigned char *label_bytes, size_t label_len,
                  const char *label_name, char *err, size_t err_len) {
    memset(images, 0, sizeof *images);
    idx_pair pair = {image_bytes, label_bytes, image_len, label_len, image_name, label_name, 0};
    if (check_pair(&pair, err, err_len)) return 1;
    return fill(images, &pair, 1, err, err_len);
}

/* DIR/NAME, or DIR/NAME.gz when only that exists (path gets the one used). */
static int find_file(const char *dir, const char *name, char *path, size_t path_len, char *err,
                     size_t err_len) {
    struct stat st;
    int n = snprintf(path, path_len, "%s/%s.gz", dir, name);
    if (n < 0 || (size_t)n >= path_len)
        return cli_err(err, err_len, "data directory name %s is too long", dir);
    path[n - 3] = '\0';
    if (stat(path, &st) == 0) return 0;
    path[n - 3] = '.';
    if (stat(path, &st) == 0) return 0;
    return cli_err(err, err_len, "cannot open data file %s/%s (nor %s.gz): %s", dir, name, name,
                   strerror(errno));
}

int cli_idx_load_dir(cli_images *images, const char *dir, char *err, size_t err_len) {
    memset(images, 0, sizeof *images);
    struct stat st;
    if (stat(dir, &st) != 0)
        return cli_err(err, err_len, "cannot open data file %s (the directory of idx files): %s",
                       dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return cli_err(err, err_len, "%s is not a directory: this data set reads a directory of "
                       "idx files (train-images-idx3-ubyte, ...); the 10,000-digit file is read by "
                       "--dataset split-mnist-10k or permuted-mnist-10k", dir);
    static const char *const names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    char paths[4][4096];
    unsigned char *bytes[4] = {NULL, NULL, NULL, NULL};
    size_t lens[4] = {0, 0, 0, 0};
    int rc = 1;
    for (int i = 0; i < 4; i++) {
        if (find_file(dir, names[i], paths[i], sizeof paths[i], err, err_len) ||
            cli_idx_read_file(paths[i], &bytes[i], &lens[i], err, err_len))
            goto done;
    }
    idx_pair pairs[2] = {
        {bytes[0], bytes[1], lens[0], lens[1], paths[0], paths[1], 0},
        {bytes[2], bytes[3], lens[2], lens[3], paths[2], paths[3], 0},
    };
    if (check_pair(&pairs[0], err, err_len) || check_pair(&pairs[1], err, err_len) ||
        fill(images, pairs, 2, err, err_len))
        goto done;
    images->train_count = pairs[0].count;
    rc = 0;
done:
    for (int i = 0; i < 4; i++) free(bytes[i]);
    return rc;
}
