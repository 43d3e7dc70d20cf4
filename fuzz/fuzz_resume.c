/* libFuzzer target of the resume path of `clheads run`: a fuzzed checkpoint
 * goes through the same functions as `clheads run --resume DIR`
 * (cli_state_config_from, then cli_state_restore_from on a learner built
 * from the options it gave). Either the resume fails with a message, or the
 * state it restored passes the checks a resumed run relies on.
 *
 * The input is a checkpoint without the backbone's four tensors (1.9 MB of
 * weights that carry no structure): those the input lacks are added as
 * zeros before the file is read, so the corpus stays small. The images are
 * the built-in synthetic set whatever the dataset says (the task structure is
 * the same). Run: ./fuzz_resume -max_total_time=600 WORK fuzz/corpus_resume */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clheads/checkpoint.h"
#include "cli.h"
#include "fuzz_target.h"
#include "run.h"

#define REQUIRE(cond)                  \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (0)

static const cli_images *synthetic_images(void) {
    static cli_images images;
    static int ready;
    if (!ready) {
        char err[256];
        REQUIRE(cli_images_synthetic(&images, err, sizeof err) == 0);
        ready = 1;
    }
    return &images;
}

/* The input with zero backbone tensors added where it has none, written to
 * a private file and opened as a checkpoint; NULL when it does not parse. */
static clh_st_file *with_backbone(const uint8_t *data, size_t size, const char *path) {
    static float zeros[CLI_HIDDEN * 784];
    clh_st_file *input = NULL;
    if (clh_st_parse(&input, data, size) != CLH_OK) return NULL;
    size_t n = clh_st_count(input), n_meta = clh_st_meta_count(input);
    clh_st_tensor *tensors = calloc(n + 4, sizeof *tensors);
    clh_st_meta *meta = calloc(n_meta ? n_meta : 1, sizeof *meta);
    REQUIRE(tensors && meta);
    for (size_t i = 0; i < n; i++) tensors[i] = *clh_st_at(input, i);
    for (size_t i = 0; i < n_meta; i++) meta[i] = *clh_st_meta_at(input, i);
    static const struct { const char *name; int64_t rows, cols; } parts[] = {
        {"backbone.0.weight", CLI_HIDDEN, 784}, {"backbone.0.bias", CLI_HIDDEN, 0},
        {"backbone.2.weight", CLI_HIDDEN, CLI_HIDDEN}, {"backbone.2.bias", CLI_HIDDEN, 0}};
    size_t total = n;
    for (size_t k = 0; k < 4; k++) {
        if (clh_st_find(input, parts[k].name)) continue;
        clh_st_tensor *t = &tensors[total++];
        t->name = parts[k].name;
        t->dtype = CLH_DT_F32;
        t->ndim = parts[k].cols ? 2 : 1;
        t->shape[0] = parts[k].rows;
        t->shape[1] = parts[k].cols;
        t->data = zeros;
        t->nbytes = (size_t)parts[k].rows * (size_t)(parts[k].cols ? parts[k].cols : 1) * 4;
    }
    clh_st_file *file = NULL;
    if (clh_st_save(path, tensors, total, meta, n_meta) == CLH_OK) clh_st_open(&file, path);
    free(tensors);
    free(meta);
    clh_st_free(input);
    return file;
}

/* CLH_FUZZ_VERBOSE=1: each input's outcome on stderr (for corpus upkeep). */
static void outcome(const char *what, const char *err) {
    static int verbose = -1;
    if (verbose < 0) verbose = getenv("CLH_FUZZ_VERBOSE") != NULL;
    if (verbose) fprintf(stderr, "fuzz_resume: %s%s%s\n", what, err[0] ? ": " : "", err);
}

static void resume(const clh_st_file *file) {
    char err[CLI_ERR_LEN] = "";
    cli_run_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (cli_state_config_from(file, "fuzz", &cfg, err, sizeof err) != 0) {
        REQUIRE(err[0] != '\0');
        outcome("options rejected", err);
        return;
    }
    /* The batch size only sizes buffers; keep them small. */
    if (cfg.batch_size > 64) cfg.batch_size = 64;
    cfg.quiet = 1;
    const cli_images *images = synthetic_images();
    cli_tasks tasks;
    if (cli_tasks_build(&tasks, images, cfg.dataset, cfg.num_tasks, err, sizeof err) != 0) {
        REQUIRE(err[0] != '\0');
        return;
    }
    cli_learner learner;
    if (cli_learner_init(&learner, &cfg, images, &tasks, err, sizeof err) != 0) {
        cli_tasks_free(&tasks);
        return;
    }
    int joint = cli_run_joint(&cfg);
    cli_results results;
    if (cli_results_init(&results, tasks.count, joint ? 1 : tasks.count,
                         cfg.paradigm == CLH_CIL) == 0) {
        err[0] = '\0';
        if (cli_state_restore_from(&learner, &results, file, "fuzz", err, sizeof err) != 0) {
            REQUIRE(err[0] != '\0');
            outcome("state rejected", err);
        } else {
            outcome("resumed", "");
            /* What a resumed run relies on: the results pass their own checks,
             * and the heads are this run's (their count and widths). */
            REQUIRE(results.rows_done >= 1 && results.rows_done <= results.rows);
            REQUIRE(cli_state_check_results(&results, results.rows_done, joint, cfg.epochs > 0,
                                            err, sizeof err) == 0);
            REQUIRE(clh_heads_in_features(learner.heads) == CLI_HIDDEN);
            REQUIRE(clh_heads_total_classes(learner.heads) <= tasks.total_classes);
        }
        cli_results_free(&results);
    }
    cli_learner_free(&learner);
    cli_tasks_free(&tasks);
}

const char clh_fuzz_target_name[] = "fuzz_resume";

int clh_fuzz_one_input(const uint8_t *data, size_t size) {
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/clh_fuzz_resume_%ld.safetensors", (long)getpid());
    clh_st_file *file = with_backbone(data, size, path);
    if (!file) return 0;
    resume(file);
    clh_st_free(file);
    unlink(path);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return clh_fuzz_one_input(data, size);
}
