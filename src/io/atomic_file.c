/* The atomic file writer (see include/clheads/atomic_file.h): temporary file,
 * write, flush, fsync, close, rename, directory fsync. clh_st_save writes
 * through it; the failure-injection hook (safetensors_internal.h) lives here
 * because these are the steps it fails. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "clheads/atomic_file.h"
#include "common/error.h"
#include "io/safetensors_internal.h"

struct clh_atomic_file {
    FILE *stream;
    char *path;
    char *tmp_path;
};

static clh_save_step fail_step;

void clh_test_fail_save_at(clh_save_step step) { fail_step = step; }

int clh_test_save_fails_at(clh_save_step step) {
    if (fail_step != step) return 0;
    fail_step = CLH_SAVE_STEP_NONE;
    errno = EIO;
    return 1;
}

static void release(clh_atomic_file *file) {
    clh_free(file->path);
    clh_free(file->tmp_path);
    clh_free(file);
}

/* The directory part of path ("." when there is none), in new memory. */
static char *directory_of(const char *path) {
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 1;
    if (slash && len == 0) len = 1; /* "/name": the root */
    char *dir = clh_malloc(len + 1);
    if (!dir) return NULL;
    memcpy(dir, slash ? path : ".", len);
    dir[len] = '\0';
    return dir;
}

clh_status clh_atomic_open(clh_atomic_file **out, const char *path) {
    static atomic_ulong counter;
    if (!out) return clh_fail(CLH_E_NULL, "clh_atomic_open: out is NULL");
    *out = NULL;
    if (!path || !path[0]) return clh_fail(CLH_E_NULL, "clh_atomic_open: a path is required");
    size_t path_len = strlen(path), len = path_len + 64;
    clh_atomic_file *file = clh_calloc(1, sizeof *file);
    if (file) file->path = clh_malloc(path_len + 1);
    if (file && file->path) file->tmp_path = clh_malloc(len);
    if (!file || !file->path || !file->tmp_path) {
        if (file) release(file);
        return clh_fail(CLH_E_NOMEM, "saving '%s': no memory", path);
    }
    memcpy(file->path, path, path_len + 1);
    char *name = file->tmp_path;
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(name, len, "%s.tmp-%ld-%lu", path, (long)getpid(),
                 (unsigned long)atomic_fetch_add(&counter, 1));
        int fd = clh_test_save_fails_at(CLH_SAVE_STEP_OPEN)
                     ? -1
                     : open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) break;
        FILE *f = fdopen(fd, "wb");
        if (!f) {
            close(fd);
            unlink(name);
            break;
        }
        file->stream = f;
        *out = file;
        return CLH_OK;
    }
    clh_status status = clh_fail(CLH_E_IO, "saving '%s': cannot create the temporary file '%s': %s",
                                 path, name, strerror(errno));
    release(file);
    return status;
}

FILE *clh_atomic_stream(clh_atomic_file *file) { return file ? file->stream : NULL; }

void clh_atomic_abort(clh_atomic_file *file) {
    if (!file) return;
    if (file->stream) fclose(file->stream);
    unlink(file->tmp_path);
    release(file);
}

clh_status clh_atomic_discard(clh_atomic_file *file, const char *failed_step, int error) {
    if (file->stream) fclose(file->stream);
    file->stream = NULL;
    unlink(file->tmp_path); /* the previous file at path was never touched */
    clh_status status = clh_fail(CLH_E_IO, "saving '%s': %s the temporary file '%s' failed: %s",
                                 file->path, failed_step, file->tmp_path, strerror(error));
    release(file);
    return status;
}

/* Best effort once the rename has replaced the target: the save has
 * happened (a reader already sees the new file), so a failing directory
 * fsync, which only affects durability across a power loss, is not reported
 * as a failed save. */
static void sync_directory(const char *path) {
    char *dir = directory_of(path);
    if (!dir) return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (!clh_test_save_fails_at(CLH_SAVE_STEP_DIRSYNC)) (void)fsync(fd);
        close(fd);
    }
    clh_free(dir);
}

clh_status clh_atomic_commit(clh_atomic_file *file) {
    if (!file) return clh_fail(CLH_E_NULL, "clh_atomic_commit: file is NULL");
    FILE *stream = file->stream;
    const char *failed_step = NULL;
    errno = 0;
    if (ferror(stream)) failed_step = "writing";
    else if (clh_test_save_fails_at(CLH_SAVE_STEP_FLUSH) || fflush(stream) != 0) failed_step = "flushing";
    else if (clh_test_save_fails_at(CLH_SAVE_STEP_FSYNC) || fsync(fileno(stream)) != 0)
        failed_step = "syncing";
    int saved_errno = errno ? errno : EIO;
    int close_failed = fclose(stream) != 0;
    file->stream = NULL;
    if (!failed_step && (clh_test_save_fails_at(CLH_SAVE_STEP_CLOSE) || close_failed)) {
        failed_step = "closing";
        saved_errno = errno;
    }
    if (!failed_step && (clh_test_save_fails_at(CLH_SAVE_STEP_RENAME) || rename(file->tmp_path, file->path) != 0)) {
        failed_step = "renaming";
        saved_errno = errno;
    }
    if (failed_step) return clh_atomic_discard(file, failed_step, saved_errno);
    sync_directory(file->path);
    release(file);
    return CLH_OK;
}
