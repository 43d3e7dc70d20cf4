/* Atomic writes of the tool's report files (see atomic_file.h). */
#define _POSIX_C_SOURCE 200809L
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cli_out_step fail_step;
static int fail_count;

void cli_test_fail_out_at(cli_out_step step, int count) {
    fail_step = count > 0 ? step : CLI_OUT_STEP_NONE;
    fail_count = count;
}

/* 1 when the test hook fails this step (errno set to EIO). */
static int injected(cli_out_step step) {
    if (fail_count <= 0 || fail_step != step) return 0;
    if (--fail_count == 0) fail_step = CLI_OUT_STEP_NONE;
    errno = EIO;
    return 1;
}

static void release(cli_out_file *out) {
    free(out->path);
    free(out->tmp_path);
    memset(out, 0, sizeof *out);
}

static int failure(char *err, size_t err_len, const char *what, const char *path, int code) {
    snprintf(err, err_len, "cannot write %s: %s: %s (the previous file, if any, is unchanged)",
             path, what, strerror(code));
    return 1;
}

int cli_out_open(cli_out_file *out, const char *path, char *err, size_t err_len) {
    static unsigned long counter;
    memset(out, 0, sizeof *out);
    size_t len = strlen(path) + 64;
    out->path = strdup(path);
    out->tmp_path = malloc(len);
    if (!out->path || !out->tmp_path) {
        release(out);
        return failure(err, err_len, "out of memory", path, ENOMEM);
    }
    int fd = -1;
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(out->tmp_path, len, "%s.tmp-%ld-%lu", path, (long)getpid(), counter++);
        fd = injected(CLI_OUT_STEP_OPEN) ? -1
                                         : open(out->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                                                0666);
        if (fd >= 0 || errno != EEXIST) break;
    }
    if (fd < 0 || !(out->stream = fdopen(fd, "w"))) {
        int code = errno;
        if (fd >= 0) {
            close(fd);
            unlink(out->tmp_path);
        }
        failure(err, err_len, "creating the temporary file", path, code);
        release(out);
        return 1;
    }
    return 0;
}

void cli_out_abort(cli_out_file *out) {
    if (out->stream) fclose(out->stream);
    if (out->tmp_path) unlink(out->tmp_path);
    release(out);
}

/* fsync of the directory, so the rename survives a power loss. The file is
 * already in place when this fails, so it is not an error of the write. */
static void sync_directory(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

int cli_out_commit(cli_out_file *out, char *err, size_t err_len) {
    const char *step = NULL;
    int code = 0;
    errno = 0;
    if (injected(CLI_OUT_STEP_WRITE) || ferror(out->stream) || fflush(out->stream) != 0)
        step = "writing", code = errno ? errno : EIO;
    else if (injected(CLI_OUT_STEP_FSYNC) || fsync(fileno(out->stream)) != 0)
        step = "syncing", code = errno;
    if (fclose(out->stream) != 0 && !step) step = "closing", code = errno;
    out->stream = NULL;
    if (!step && (injected(CLI_OUT_STEP_RENAME) || rename(out->tmp_path, out->path) != 0))
        step = "renaming the temporary file over it", code = errno;
    if (step) {
        unlink(out->tmp_path);
        failure(err, err_len, step, out->path, code);
        release(out);
        return 1;
    }
    sync_directory(out->path);
    release(out);
    return 0;
}
