/* Argument helpers shared by the subcommands (see cli.h). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "clheads %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'clheads %s --help'.\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_fail(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "clheads %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EXIT_FAIL;
}

int cli_take_value(int argc, char **argv, int *i, const char *name, const char **value) {
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0) return 0;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0') return 0;
    if (*i + 1 >= argc) return -1;
    *value = argv[++*i];
    return 1;
}

int cli_to_i64(const char *text, int64_t min, int64_t max, int64_t *out) {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < min || v > max) return -1;
    *out = v;
    return 0;
}

int cli_to_u64(const char *text, uint64_t *out) {
    /* strtoull skips blanks and negates a '-': accept digits only. */
    if (!isdigit((unsigned char)text[0])) return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end != '\0') return -1;
    *out = v;
    return 0;
}

int cli_to_f64(const char *text, double min, double max, double *out) {
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end != '\0' || !isfinite(v) || v < min || v > max) return -1;
    *out = v;
    return 0;
}

int cli_parse_i64(const char *cmd, const char *opt, const char *text, int64_t min, int64_t max,
                  int64_t *out) {
    if (cli_to_i64(text, min, max, out) != 0)
        return cli_usage_error(cmd, "%s expects an integer in [%lld, %lld], got '%s'", opt,
                               (long long)min, (long long)max, text);
    return 0;
}

int cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t *out) {
    if (cli_to_u64(text, out) != 0)
        return cli_usage_error(cmd, "%s expects a non-negative integer, got '%s'", opt, text);
    return 0;
}

int cli_parse_f64(const char *cmd, const char *opt, const char *text, double min, double max,
                  double *out) {
    if (cli_to_f64(text, min, max, out) != 0)
        return cli_usage_error(cmd, "%s expects a number in [%g, %g], got '%s'", opt, min, max,
                               text);
    return 0;
}

int cli_mkdir_p(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
        buf[i] = saved;
    }
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}
