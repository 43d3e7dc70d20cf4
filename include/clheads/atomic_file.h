/* clheads — the one atomic file writer: what clh_st_save (and so every
 * checkpoint and optimizer-state save) uses, public so that a program on the
 * library (the clheads tool's reports) replaces its own files the same way.
 *
 * clh_atomic_open creates a fresh temporary file next to the target
 * ("<path>.tmp-<pid>-<n>", O_EXCL, so two writers never share one); write into
 * clh_atomic_stream(); clh_atomic_commit checks the stream for write errors,
 * flushes, fsyncs and closes it and renames it over the target, then fsyncs
 * the directory (best effort: the file is already in place). A reader sees
 * the old file or the new one, never a half-written one; when any step before
 * the rename fails, the temporary file is removed, the target is untouched and
 * the call returns CLH_E_IO with a detail naming the path, the step and the
 * system's reason (clh_last_error()).
 *
 * Thread rules: one clh_atomic_file belongs to one thread at a time;
 * different files may be written from different threads. */
#ifndef CLHEADS_ATOMIC_FILE_H
#define CLHEADS_ATOMIC_FILE_H

#include <stdio.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clh_atomic_file clh_atomic_file;

/* *out = a new temporary file for `path`; on error *out is NULL. */
CLH_API clh_status clh_atomic_open(clh_atomic_file **out, const char *path);
/* The stream to write into (valid until commit or abort). */
CLH_API FILE *clh_atomic_stream(clh_atomic_file *file);
/* Puts the file in place (see above). Frees `file` whatever the outcome. */
CLH_API clh_status clh_atomic_commit(clh_atomic_file *file);
/* Drops the temporary file and frees `file` (a writer that gave up). NULL is a no-op. */
CLH_API void clh_atomic_abort(clh_atomic_file *file);

#ifdef __cplusplus
}
#endif

#endif
