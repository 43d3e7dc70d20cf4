/* The tool's report files through the library's atomic writer (see
 * atomic_file.h). The failure-injection hook stays here, in the tool: it
 * fails a step before or instead of the library call with the message the
 * library's failure would give, so the tests see what a user would; the
 * library's own steps are failed by its hook in tests/test_checkpoint_atomic.c. */
#include "atomic_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clheads.h"

static cli_out_step fail_step;
static int fail_count;

void cli_test_fail_out_at(cli_out_step step, int count) {
    fail_step = count > 0 ? step : CLI_OUT_STEP_NONE;
    fail_count = count;
}

/* 1 when the test hook fails this step. */
static int injected(cli_out_step step) {
    if (fail_count <= 0 || fail_step != step) return 0;
    if (--fail_count == 0) fail_step = CLI_OUT_STEP_NONE;
    return 1;
}

static int failure(char *err, size_t err_len, const char *what, const char *path, const char *why) {
    snprintf(err, err_len, "cannot write %s: %s: %s (the previous file, if any, is unchanged)",
             path, what, why);
    return 1;
}

int cli_out_open(cli_out_file *out, const char *path, char *err, size_t err_len) {
    memset(out, 0, sizeof *out);
    size_t len = strlen(path) + 1;
    if (!(out->path = malloc(len))) return failure(err, err_len, "out of memory", path, strerror(ENOMEM));
    memcpy(out->path, path, len);
    int fails = injected(CLI_OUT_STEP_OPEN);
    if (fails || clh_atomic_open(&out->file, path) != CLH_OK) {
        failure(err, err_len, "creating the temporary file", path, fails ? strerror(EIO) : clh_last_error());
        cli_out_abort(out);
        return 1;
    }
    out->stream = clh_atomic_stream(out->file);
    return 0;
}

void cli_out_abort(cli_out_file *out) {
    clh_atomic_abort(out->file);
    free(out->path);
    memset(out, 0, sizeof *out);
}

int cli_out_commit(cli_out_file *out, char *err, size_t err_len) {
    static const struct {
        cli_out_step step;
        const char *what;
    } steps[] = {{CLI_OUT_STEP_WRITE, "writing"},
                 {CLI_OUT_STEP_FSYNC, "syncing"},
                 {CLI_OUT_STEP_RENAME, "renaming the temporary file over it"}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (injected(steps[i].step)) {
            failure(err, err_len, steps[i].what, out->path, strerror(EIO));
            cli_out_abort(out);
            return 1;
        }
    clh_status st = clh_atomic_commit(out->file);
    out->file = NULL;
    if (st != CLH_OK) failure(err, err_len, "committing", out->path, clh_last_error());
    cli_out_abort(out);
    return st != CLH_OK;
}
