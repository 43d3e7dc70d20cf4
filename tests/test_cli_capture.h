#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* fileno, dup */
#endif
/* Captures what the in-process CLI prints on stdout or stderr into a file,
 * to assert on messages; RUN_CAPTURED runs the tool so. */
#ifndef CLH_TEST_CLI_CAPTURE_H
#define CLH_TEST_CLI_CAPTURE_H

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "file_util.h"
#include "test_cli_util.h"

typedef struct capture {
    int fd, saved;
    FILE *stream;
    char path[1024];
} capture;

/* Redirects stream (stdout or stderr) to path until capture_end. */
static inline void capture_begin(capture *c, FILE *stream, const char *path) {
    fflush(stream);
    c->stream = stream;
    c->fd = fileno(stream);
    snprintf(c->path, sizeof c->path, "%s", path);
    c->saved = dup(c->fd);
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, c->fd);
    close(out);
}

/* Restores the stream; returns what was printed (NUL-terminated; free it). */
static inline char *capture_end(capture *c) {
    fflush(c->stream);
    dup2(c->saved, c->fd);
    close(c->saved);
    size_t len = 0;
    char *text = (char *)read_whole(c->path, &len);
    fputs(text ? text : "", stderr); /* still visible in the test log */
    return text;
}

/* Runs `clheads ...` (run_cli, test_cli_util.h) with its stderr captured
 * into dir/stderr.txt: rc its exit status, msg what it printed (free it). */
#define RUN_CAPTURED(msg, rc, dir, ...)                \
    do {                                               \
        capture c_;                                    \
        char p_[800];                                  \
        snprintf(p_, sizeof p_, "%s/stderr.txt", dir); \
        capture_begin(&c_, stderr, p_);                \
        rc = run_cli(__VA_ARGS__, NULL);               \
        msg = capture_end(&c_);                        \
    } while (0)

#endif
