/* Issue 8, data findings: F02 (a task without training or test images:
 * no use-after-free, a message naming the task), F17 (a directory as --data,
 * non-finite pixels), and the digits loader's formats and rejections, and
 * permuted-mnist's permutations, on small files this test writes. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "dataset.h"
#include "test_cli_util.h"

typedef struct spec {
    uint32_t count, version, rows, cols, format;
    int skip_digit;      /* label images of this digit as (digit+1)%10 (-1: none) */
    int bad_label;       /* image 3 gets label 11 */
    int nan_pixel;       /* format 1: image 2's pixel 5 is NaN; format 2: palette[7] is inf */
    int flip_byte;       /* after the checksum: a pixel byte changes */
    int truncate;        /* bytes cut from the end */
    const char *magic;
} spec;

static spec default_spec(void) {
    spec s = {20, 1, 28, 28, 0, -1, 0, 0, 0, 0, "CLHMNIST"};
    return s;
}

static void put_u32(unsigned char *p, uint32_t v) {
    for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
}

static void put_f32(unsigned char *p, float v) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    put_u32(p, bits);
}

/* Pixel j of image i as its stored code (format 0/2) or value (format 1). */
static unsigned pixel_code(size_t i, size_t j) { return (unsigned)((i * 7 + j) % 256); }

static void write_spec(const char *path, spec s) {
    size_t dim = 784, pix = s.format == 1 ? 4 : 1, palette = s.format == 2 ? 1024 : 0;
    size_t len = 28 + palette + s.count + (size_t)s.count * dim * pix + 8;
    unsigned char *b = calloc(len, 1);
    memcpy(b, s.magic, 8);
    put_u32(b + 8, s.version);
    put_u32(b + 12, s.count);
    put_u32(b + 16, s.rows);
    put_u32(b + 20, s.cols);
    put_u32(b + 24, s.format);
    unsigned char *p = b + 28;
    if (s.format == 2) {
        for (int k = 0; k < 256; k++) put_f32(p + 4 * k, (float)k * 0.5f - 3.0f);
        if (s.nan_pixel) put_f32(p + 4 * 7, INFINITY);
        p += 1024;
    }
    for (uint32_t i = 0; i < s.count; i++) {
        int label = (int)(i % 10);
        if (label == s.skip_digit) label = (label + 1) % 10;
        p[i] = (unsigned char)(s.bad_label && i == 3 ? 11 : label);
    }
    p += s.count;
    for (size_t i = 0; i < s.count; i++)
        for (size_t j = 0; j < dim; j++) {
            if (s.format == 1)
                put_f32(p + 4 * (i * dim + j), s.nan_pixel && i == 2 && j == 5
                                                   ? NAN
                                                   : (float)pixel_code(i, j) / 100.0f);
            else
                p[i * dim + j] = (unsigned char)pixel_code(i, j);
        }
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len - 8; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    for (int k = 0; k < 8; k++) b[len - 8 + k] = (unsigned char)(h >> (8 * k));
    if (s.flip_byte) b[len - 20] ^= 1;
    CHECK(write_whole(path, b, len - (size_t)s.truncate));
    free(b);
}

/* The loader rejects the file with a message containing `expect`. */
static void rejects(const char *dir, const char *name, spec s, const char *expect) {
    char path[700], err[CLI_ERR_LEN] = "";
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    write_spec(path, s);
    cli_images images;
    CHECK(cli_images_load(&images, path, err, sizeof err) != 0);
    CHECK(strstr(err, expect) != NULL);
    if (!strstr(err, expect)) fprintf(stderr, "%s: got '%s', expected '%s'\n", name, err, expect);
    CHECK(images.labels == NULL && images.codes == NULL && images.values == NULL);
}

/* The three pixel formats load with the values the file holds. */
static void loader_formats(const char *dir) {
    char path[700], err[CLI_ERR_LEN];
    for (uint32_t format = 0; format <= 2; format++) {
        spec s = default_spec();
        s.format = format;
        snprintf(path, sizeof path, "%s/format%u.bin", dir, format);
        write_spec(path, s);
        cli_images images;
        CHECK(cli_images_load(&images, path, err, sizeof err) == 0);
        if (images.count != 20) continue;
        CHECK(images.dim == 784 && images.labels[13] == 3);
        float row[784];
        cli_images_row(&images, 4, NULL, row);
        double want = format == 0 ? pixel_code(4, 9) / 255.0
                      : format == 1 ? (float)pixel_code(4, 9) / 100.0f
                                    : (float)pixel_code(4, 9) * 0.5f - 3.0f;
        CHECK_CLOSE(row[9], want, 1e-6, 1);
        cli_images_free(&images);
    }
}

static void loader_rejections(const char *dir) {
    spec s = default_spec();
    s.truncate = 100;
    rejects(dir, "truncated", s, "bytes, but the header describes");
    s = default_spec();
    s.count = 0;
    rejects(dir, "count0", s, "bad header");
    s = default_spec();
    s.flip_byte = 1;
    rejects(dir, "checksum", s, "checksum mismatch");
    s = default_spec();
    s.magic = "CLHMNIS?";
    rejects(dir, "magic", s, "not a clheads digits file");
    s = default_spec();
    s.version = 2;
    rejects(dir, "version", s, "unsupported version 2");
    s = default_spec();
    s.rows = 27;
    rejects(dir, "rows", s, "bad header (rows 27");
    s = default_spec();
    s.format = 3;
    rejects(dir, "format", s, "pixel format 3");
    s = default_spec();
    s.bad_label = 1;
    rejects(dir, "label", s, "image 3 has label 11");
    /* A count that disagrees with the file's size: 21 images claimed. */
    char path[700], err[CLI_ERR_LEN];
    s = default_spec();
    snprintf(path, sizeof path, "%s/count.bin", dir);
    write_spec(path, s);
    size_t len = 0;
    unsigned char *b = read_whole(path, &len);
    if (b) {
        put_u32(b + 12, 21);
        CHECK(write_whole(path, b, len));
        free(b);
        cli_images images;
        CHECK(cli_images_load(&images, path, err, sizeof err) != 0);
        CHECK(strstr(err, "bytes, but the header describes") != NULL);
    }
}

/* F17: NaN or infinite pixels are refused, naming the image (or the palette
 * entry); a directory is not a data file (no "out of memory reading DIR
 * (9223372036854775807 bytes)"). */
static void f17_data_checks(const char *dir) {
    spec s = default_spec();
    s.format = 1;
    s.nan_pixel = 1;
    rejects(dir, "f17_nan_pixel", s, "image 2 has a pixel that is not a finite number (pixel 5)");
    s = default_spec();
    s.format = 2;
    s.nan_pixel = 1;
    rejects(dir, "f17_inf_palette", s, "palette entry 7 is not a finite number");
    char err[CLI_ERR_LEN] = "";
    cli_images images;
    CHECK(cli_images_load(&images, dir, err, sizeof err) != 0);
    CHECK(strstr(err, "is not a regular file (a directory)") != NULL);
    CHECK(strstr(err, "out of memory") == NULL);
    CHECK(cli_images_load(&images, "/dev/zero", err, sizeof err) != 0);
    CHECK(strstr(err, "not a regular file") != NULL);
    char out[700];
    snprintf(out, sizeof out, "%s/out-f17", dir);
    CHECK(run_cli("run", "--paradigm", "til", "--data", dir, "--out", out, "--quiet", NULL) == 1);
}

/* F02: a data file with one image per digit has no training images for any
 * task: the builder fails with a message naming the task (on main it read
 * the freed task list to build that message: a heap-use-after-free under
 * ASan). A file missing one digit of a pair still builds. */
static void f02_missing_digit(const char *dir) {
    char path[700], err[CLI_ERR_LEN] = "";
    spec s = default_spec();
    s.count = 10; /* one image per digit: floor(0.8) = 0 train, 1 test of each */
    snprintf(path, sizeof path, "%s/f02_one_each.bin", dir);
    write_spec(path, s);
    cli_images images;
    CHECK(cli_images_load(&images, path, err, sizeof err) == 0);
    cli_tasks tasks;
    CHECK(cli_tasks_build(&tasks, &images, CLI_DATA_SPLIT_MNIST, 5, err, sizeof err) != 0);
    CHECK(strstr(err, "task 0 has no training images (digits 0..1") != NULL);
    CHECK(tasks.tasks == NULL);
    cli_images_free(&images);

    s = default_spec();
    s.skip_digit = 4; /* labels 4 become 5: digit 4 missing, task 2 still has 5s */
    snprintf(path, sizeof path, "%s/f02_no4.bin", dir);
    write_spec(path, s);
    CHECK(cli_images_load(&images, path, err, sizeof err) == 0);
    CHECK(cli_tasks_build(&tasks, &images, CLI_DATA_SPLIT_MNIST, 5, err, sizeof err) == 0);
    cli_tasks_free(&tasks);
    cli_images_free(&images);

    /* Through the command: exit 1, not a crash. */
    snprintf(path, sizeof path, "%s/f02_one_each.bin", dir);
    char out[700];
    snprintf(out, sizeof out, "%s/out-f02", dir);
    CHECK(run_cli("run", "--paradigm", "til", "--data", path, "--out", out, "--quiet", NULL) == 1);
}

/* permuted-mnist: task 0 unpermuted; each later task a permutation of the
 * 784 pixels, the same on every build (independent of --seed: it takes
 * none), different between tasks, and applied alike to a task's training
 * and test images (one permutation per task, used by cli_images_row). */
static void permuted_mnist(const char *dir) {
    char path[700], err[CLI_ERR_LEN];
    spec s = default_spec();
    snprintf(path, sizeof path, "%s/permuted.bin", dir);
    write_spec(path, s);
    cli_images images;
    CHECK(cli_images_load(&images, path, err, sizeof err) == 0);
    cli_tasks a, b;
    CHECK(cli_tasks_build(&a, &images, CLI_DATA_PERMUTED_MNIST, 3, err, sizeof err) == 0);
    CHECK(cli_tasks_build(&b, &images, CLI_DATA_PERMUTED_MNIST, 3, err, sizeof err) == 0);
    if (a.count == 3 && b.count == 3) {
        CHECK(a.tasks[0].perm == NULL && a.tasks[0].num_classes == 10);
        CHECK(a.total_classes == 30 && a.tasks[2].class_offset == 20);
        for (int t = 1; t < 3; t++) {
            const int32_t *perm = a.tasks[t].perm;
            CHECK(perm != NULL);
            if (!perm) continue;
            int seen[784] = {0}, moved = 0;
            for (int j = 0; j < 784; j++) {
                CHECK(perm[j] >= 0 && perm[j] < 784);
                if (perm[j] >= 0 && perm[j] < 784) seen[perm[j]]++;
                moved += perm[j] != j;
            }
            int all_once = 1;
            for (int j = 0; j < 784; j++) all_once &= seen[j] == 1;
            CHECK(all_once);
            CHECK(moved > 700); /* a shuffle, not nearly the identity */
            CHECK(memcmp(perm, b.tasks[t].perm, 784 * sizeof(int32_t)) == 0);
            /* Its train and test images both go through it. */
            float row[784];
            int64_t train = a.tasks[t].train[0], test = a.tasks[t].test[0];
            cli_images_row(&images, train, perm, row);
            CHECK_CLOSE(row[0], pixel_code((size_t)train, (size_t)perm[0]) / 255.0, 1e-7, 1);
            cli_images_row(&images, test, perm, row);
            CHECK_CLOSE(row[100], pixel_code((size_t)test, (size_t)perm[100]) / 255.0, 1e-7, 1);
        }
        if (a.tasks[1].perm && a.tasks[2].perm)
            CHECK(memcmp(a.tasks[1].perm, a.tasks[2].perm, 784 * sizeof(int32_t)) != 0);
        /* Every task holds all ten digits, split 80/20 (2 images per digit:
         * 1 train, 1 test). */
        CHECK(a.tasks[1].num_train == 10 && a.tasks[1].num_test == 10);
    }
    cli_tasks_free(&a);
    cli_tasks_free(&b);
    cli_images_free(&images);
}

int main(void) {
    char dir[512];
    work_dir("fix-data", dir, sizeof dir);
    loader_formats(dir);
    loader_rejections(dir);
    f17_data_checks(dir);
    f02_missing_digit(dir);
    permuted_mnist(dir);
    return check_done("test_cli_fix_f02_f17_data");
}
