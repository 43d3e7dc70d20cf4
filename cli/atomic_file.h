/* The one way the tool writes a file (results.json, acc.csv, the SVGs): the
 * library's atomic writer (clheads/atomic_file.h: a temporary file in the
 * target's directory, written, flushed, fsync'ed and renamed over the target,
 * so a reader sees the old file or the new one, never a half-written one, and
 * a failed write leaves the previous copy in place), with the tool's message
 * format and test hook around it. (The checkpoints and `predict`'s output go
 * through clh_st_save, which uses the same writer.) */
#ifndef CLI_ATOMIC_FILE_H
#define CLI_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

struct clh_atomic_file;

typedef struct cli_out_file {
    FILE *stream;                 /* write into this */
    char *path;                   /* target (a copy, for messages) */
    struct clh_atomic_file *file; /* the library's temporary file */
} cli_out_file;

/* Creates the temporary file. Returns 0, or 1 with a message in err. */
int cli_out_open(cli_out_file *out, const char *path, char *err, size_t err_len);
/* Checks the stream for write errors, flushes, fsyncs, closes and renames
 * over the target. On any failure removes the temporary file, keeps the
 * target as it was and returns 1 with the step and reason in err. Frees
 * everything in both cases. */
int cli_out_commit(cli_out_file *out, char *err, size_t err_len);
/* Drops the temporary file (a writer that failed before the commit). */
void cli_out_abort(cli_out_file *out);

/* Test hook: the next `count` opens/commits (0 turns it off) fail at `step`
 * as if the system call had failed with EIO ("write": as if the disk were
 * full when the buffered bytes reach it): the temporary file is dropped and
 * the target left alone, as a real failure would. Not thread-safe; for tests. */
typedef enum cli_out_step {
    CLI_OUT_STEP_NONE = 0,
    CLI_OUT_STEP_OPEN,
    CLI_OUT_STEP_WRITE,
    CLI_OUT_STEP_FSYNC,
    CLI_OUT_STEP_RENAME
} cli_out_step;
void cli_test_fail_out_at(cli_out_step step, int count);

#endif
