/* Helpers for the CLI tests: run `clheads` in-process (cli_main returns the
 * exit status), per-test work directories, small file utilities, a
 * checkpoint copied with one metadata value edited. */
#ifndef CLH_TEST_CLI_UTIL_H
#define CLH_TEST_CLI_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "file_util.h"

/* Runs `clheads arg...` (NULL-terminated) and returns its exit status. */
static inline int run_cli(const char *first, ...) {
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)"clheads";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 63; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    int rc = cli_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    return rc;
}

/* CLH_TEST_WORK_DIR/<sub>, created (and emptied of the files the CLI writes). */
static inline const char *work_dir(const char *sub, char *buf, size_t len) {
    snprintf(buf, len, "%s/%s", CLH_TEST_WORK_DIR, sub);
    cli_mkdir_p(buf);
    const char *files[] = {"results.json", "acc.csv", "acc_task_aware.csv", "acc_heatmap.svg",
                           "average_accuracy.svg", "checkpoint.safetensors"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", buf, files[i]);
        remove(path);
    }
    return buf;
}

/* The file dir/name read whole and NUL-terminated (free it); NULL if missing. */
static inline char *slurp(const char *dir, const char *name, size_t *len_out) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return (char *)read_whole(path, len_out);
}

/* 1 when both files exist and hold the same bytes. */
static inline int same_file(const char *dir_a, const char *dir_b, const char *name) {
    size_t la = 0, lb = 0;
    char *a = slurp(dir_a, name, &la), *b = slurp(dir_b, name, &lb);
    int same = a && b && la == lb && memcmp(a, b, la) == 0;
    free(a);
    free(b);
    return same;
}

/* A resumed run's outputs against the uninterrupted run's: the number of
 * files that differ (each named on stderr with `label`). */
static inline int resumed_outputs_differ(const char *whole, const char *part, const char *label) {
    static const char *const outputs[] = {"results.json", "acc.csv", "checkpoint.safetensors"};
    int differ = 0;
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        if (same_file(whole, part, outputs[i])) continue;
        fprintf(stderr, "resume differs: %s %s\n", label, outputs[i]);
        differ++;
    }
    return differ;
}

/* Copies FROM/checkpoint.safetensors to TO with metadata `key` set to
 * `value`: a hand-edited or corrupt checkpoint. */
static inline void copy_checkpoint_with_meta(const char *from, const char *to, const char *key,
                                             const char *value) {
    char path[1024];
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", from);
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_open(&file, path));
    if (!file) return;
    size_t n = clh_st_count(file), n_meta = clh_st_meta_count(file);
    clh_st_tensor *tensors = calloc(n, sizeof *tensors);
    clh_st_meta *meta = calloc(n_meta, sizeof *meta);
    if (!tensors || !meta) abort();
    for (size_t i = 0; i < n; i++) tensors[i] = *clh_st_at(file, i);
    for (size_t i = 0; i < n_meta; i++) {
        meta[i] = *clh_st_meta_at(file, i);
        if (strcmp(meta[i].key, key) == 0) meta[i].value = value;
    }
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", to);
    CHECK_OK(clh_st_save(path, tensors, n, meta, n_meta));
    free(tensors);
    free(meta);
    clh_st_free(file);
}

#endif
