/* Failures of the CLI: bad arguments exit 2 with a message; a missing or
 * corrupt data file, and a checkpoint of the wrong paradigm, exit 1. Also the
 * data loader on small hand-made files (a valid one, then each corruption). */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "dataset.h"
#include "run.h"
#include "test_cli_util.h"

/* Writes a data file of `count` images (format 0: u8 k/255) with labels i % 10;
 * corrupt: 0 none, 1 flip a pixel byte (checksum), 2 truncate, 3 bad magic,
 * 4 a label of 11 (with a correct checksum). */
static void write_data(const char *path, uint32_t count, int corrupt) {
    size_t len = 28 + count + (size_t)count * 784 + 8;
    unsigned char *b = calloc(len, 1);
    memcpy(b, corrupt == 3 ? "XXXMNIST" : "CLHMNIST", 8);
    uint32_t header[5] = {1, count, 28, 28, 0};
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 4; k++) b[8 + 4 * i + k] = (unsigned char)(header[i] >> (8 * k));
    for (uint32_t i = 0; i < count; i++) b[28 + i] = (unsigned char)(corrupt == 4 && i == 3 ? 11 : i % 10);
    for (size_t j = 0; j < (size_t)count * 784; j++) b[28 + count + j] = (unsigned char)(j % 251);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len - 8; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    for (int k = 0; k < 8; k++) b[len - 8 + k] = (unsigned char)(h >> (8 * k));
    if (corrupt == 1) b[28 + count + 5] ^= 1;
    CHECK(write_whole(path, b, corrupt == 2 ? len - 100 : len));
    free(b);
}

/* A resume from a checkpoint whose metadata is out of bounds or does not
 * describe its tensors fails (exit 1) before it sizes anything from it. */
static void check_edited_checkpoints(const char *ck) {
    static const struct {
        const char *key, *value;
    } bad[] = {
        {"run.batch_size", "10000000000000000"}, /* batch x 784 x 4 bytes overflows */
        {"run.batch_size", "12abc"},
        {"run.epochs", "-1"},
        {"run.num_tasks", "0"},
        {"run.lr", "nan"},
        {"run.momentum", "2"},
        {"run.seed", " -1"},
        {"run.freeze_backbone", "yes"},
    };
    char dir[512], err[512];
    work_dir("errors-edited", dir, sizeof dir);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        copy_checkpoint_with_meta(ck, dir, bad[i].key, bad[i].value);
        cli_run_config cfg;
        memset(&cfg, 0, sizeof cfg);
        err[0] = '\0';
        CHECK(cli_state_read_config(dir, &cfg, err, sizeof err) != 0);
        CHECK(strstr(err, bad[i].key) != NULL);
        CHECK(run_cli("run", "--resume", dir, "--quiet", NULL) == 1);
    }
    /* Valid numbers, but the heads do not match: one head in the file, two
     * phases claimed done. */
    copy_checkpoint_with_meta(ck, dir, "run.phases_done", "2");
    CHECK(run_cli("run", "--resume", dir, "--quiet", NULL) == 1);
    /* The unedited copy resumes (the edits above are what fail). */
    copy_checkpoint_with_meta(ck, dir, "run.format", "1");
    CHECK(run_cli("run", "--resume", dir, "--stop-after", "2", "--quiet", NULL) == 0);
}

int main(void) {
    char dir[512], path[600], err[512];
    work_dir("errors", dir, sizeof dir);

    /* Bad arguments: exit 2. */
    CHECK(run_cli(NULL) == 2);
    CHECK(run_cli("frobnicate", NULL) == 2);
    CHECK(run_cli("run", "--bogus", NULL) == 2);
    CHECK(run_cli("run", "--dataset", "synthetic", NULL) == 2);           /* no --paradigm */
    CHECK(run_cli("run", "--paradigm", "xil", NULL) == 2);
    CHECK(run_cli("run", "--paradigm", "til", "--lr", "abc", NULL) == 2);
    CHECK(run_cli("run", "--paradigm", "til", "--lr", "-1", NULL) == 2);
    CHECK(run_cli("run", "--paradigm", "til", "--batch-size", "0", NULL) == 2);
    CHECK(run_cli("run", "--paradigm", "til", "--epochs", "2x", NULL) == 2);
    CHECK(run_cli("run", "--paradigm", "til", "--dataset", "cifar", NULL) == 2);
    CHECK(run_cli("run", "--paradigm", "til", "--optimizer", "rmsprop", NULL) == 2);
    CHECK(run_cli("run", "--paradigm", "til", "--momentum", "0.9", NULL) == 2); /* adam */
    CHECK(run_cli("run", "--paradigm", "til", "--dataset", "synthetic", "--tasks", "6", NULL) == 2);
    CHECK(run_cli("run", "--paradigm", NULL) == 2);                      /* value missing */
    CHECK(run_cli("run", "--paradigm", "til", "--seed", " -1", NULL) == 2); /* no wrap-around */
    CHECK(run_cli("run", "--paradigm", "til", "--seed", "+5", NULL) == 2);
    /* A directory name with no room left for the file names in it. */
    static char long_dir[CLI_MAX_DIR_LEN + 2];
    memset(long_dir, 'd', CLI_MAX_DIR_LEN + 1);
    CHECK(run_cli("run", "--paradigm", "til", "--out", long_dir, NULL) == 2);
    CHECK(run_cli("run", "--resume", long_dir, NULL) == 2);
    /* Out of range for the data set: refused before any data is read. */
    CHECK(run_cli("run", "--paradigm", "til", "--tasks", "6", "--data", "/nonexistent/mnist.bin",
                  NULL) == 2);
    CHECK(run_cli("inspect", NULL) == 2);
    CHECK(run_cli("inspect", "a", "b", NULL) == 2);
    CHECK(run_cli("predict", "--features", "f", "--out", "o", NULL) == 2); /* no --model */
    CHECK(run_cli("run", "--help", NULL) == 0);

    /* Data files: the loader accepts a valid one and names each corruption. */
    cli_images images;
    snprintf(path, sizeof path, "%s/ok.bin", dir);
    write_data(path, 20, 0);
    CHECK(cli_images_load(&images, path, err, sizeof err) == 0);
    if (images.count == 20) {
        float row[784];
        cli_images_row(&images, 1, NULL, row);
        CHECK(images.labels[7] == 7);
        CHECK_CLOSE(row[0], (784 % 251) / 255.0, 1e-7, 1); /* image 1 starts at byte 784 */
        cli_images_free(&images);
    }
    const char *expect[] = {NULL, "checksum", "bytes, but the header", "not a clheads", "label 11"};
    for (int c = 1; c <= 4; c++) {
        snprintf(path, sizeof path, "%s/bad%d.bin", dir, c);
        write_data(path, 20, c);
        err[0] = '\0';
        CHECK(cli_images_load(&images, path, err, sizeof err) != 0);
        CHECK(strstr(err, expect[c]) != NULL);
        if (!strstr(err, expect[c])) fprintf(stderr, "case %d: %s\n", c, err);
        /* And through the command: exit 1. */
        CHECK(run_cli("run", "--paradigm", "til", "--dataset", "split-mnist-10k", "--data", path,
                      "--quiet", "--out", dir, NULL) == 1);
    }
    CHECK(run_cli("run", "--paradigm", "til", "--data", "/nonexistent/mnist.bin", "--quiet",
                  NULL) == 1);
    /* A valid file with too few digits for Split MNIST is still usable for
     * the first tasks only when each has test images: 20 images give 2 per
     * digit, 1 train + 1 test, so it runs. */
    snprintf(path, sizeof path, "%s/ok.bin", dir);
    CHECK(run_cli("run", "--paradigm", "til", "--dataset", "split-mnist-10k", "--data", path,
                  "--epochs", "1", "--quiet", "--out", dir, NULL) == 0);

    /* A checkpoint of the wrong paradigm: resume and predict refuse it. */
    char ck[512];
    work_dir("errors-ckpt", ck, sizeof ck);
    CHECK(run_cli("run", "--paradigm", "til", "--dataset", "synthetic", "--stop-after", "1",
                  "--epochs", "1", "--quiet", "--out", ck, NULL) == 0);
    CHECK(run_cli("run", "--resume", ck, "--paradigm", "cil", "--quiet", NULL) == 1);
    CHECK(run_cli("run", "--resume", ck, "--seed", "99", "--quiet", NULL) == 1);
    check_edited_checkpoints(ck);
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", ck);
    char out[600];
    snprintf(out, sizeof out, "%s/logits.safetensors", dir);
    char feat[600];
    snprintf(feat, sizeof feat, "%s/cli/predict_cil_features.safetensors", CLH_TEST_DATA_DIR);
    CHECK(run_cli("predict", "--model", path, "--features", feat, "--out", out, "--paradigm",
                  "dil", NULL) == 1);
    /* Features of the wrong width for this model (12, not 400): a clear failure. */
    CHECK(run_cli("predict", "--model", path, "--features", feat, "--out", out, NULL) == 1);
    /* A PyTorch file needs --paradigm. */
    char model[600];
    snprintf(model, sizeof model, "%s/cli/predict_cil_model.safetensors", CLH_TEST_DATA_DIR);
    CHECK(run_cli("predict", "--model", model, "--features", feat, "--out", out, NULL) == 2);
    /* Not a checkpoint at all. */
    snprintf(path, sizeof path, "%s/ok.bin", dir);
    CHECK(run_cli("inspect", path, NULL) == 1);
    /* No checkpoint in the directory (a fresh one: `dir` holds the run above). */
    char empty[512];
    work_dir("errors-empty", empty, sizeof empty);
    CHECK(run_cli("run", "--resume", empty, "--quiet", NULL) == 1);
    return check_done("test_cli_errors");
}
