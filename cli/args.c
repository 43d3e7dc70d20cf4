/* Argument helpers shared by the subcommands (see cli.h). */
#define _POSIX_C_SOURCE 200809L /* mkdir, stat */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "clheads.h"
#include "text.h"

/* Formats the message whole (never cut) and prints it escaped: it quotes
 * names and values from files and the command line (text.h). */
__attribute__((format(printf, 2, 0))) static void print_message(const char *cmd, const char *fmt,
                                                               va_list ap) {
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    char *msg = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (msg) vsnprintf(msg, (size_t)n + 1, fmt, ap);
    fprintf(stderr, "clheads %s: %s", cmd, msg ? cli_esc(msg) : "(out of memory for the message)");
    free(msg);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    print_message(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'clheads %s --help'.\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_fail(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    print_message(cmd, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EXIT_FAIL;
}

int cli_err(char *err, size_t err_len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return 1;
}

int cli_print_version(void) {
    printf("clheads %s (matrix multiply: %s)\n", CLH_VERSION_STRING, clh_gemm_backend());
    return CLI_EXIT_OK;
}

int cli_once(const char *cmd, const char *opt, cli_seen_options *seen) {
    for (size_t i = 0; i < seen->n; i++)
        if (strcmp(seen->names[i], opt) == 0)
            return cli_usage_error(cmd, "option %s is given more than once", opt);
    if (seen->n < sizeof seen->names / sizeof seen->names[0]) seen->names[seen->n++] = opt;
    return 0;
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

/* The strict grammar of numbers, from the command line and from files
 * alike: an optional '-', digits, and for reals an optional fraction and
 * exponent. No blanks, no '+', no hex, no inf/nan, whatever strtoll/strtod
 * would take. */
static int digits(const char **p) {
    const char *start = *p;
    while (**p >= '0' && **p <= '9') (*p)++;
    return *p > start;
}

static int is_integer_text(const char *text, int allow_minus) {
    const char *p = text;
    if (allow_minus && *p == '-') p++;
    return digits(&p) && *p == '\0';
}

static int is_decimal_text(const char *text) {
    const char *p = text;
    if (*p == '-') p++;
    int whole = digits(&p), fraction = 0;
    if (*p == '.') {
        p++;
        fraction = digits(&p);
    }
    if (!whole && !fraction) return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+') p++;
        if (!digits(&p)) return 0;
    }
    return *p == '\0';
}

int cli_to_i64(const char *text, int64_t min, int64_t max, int64_t *out) {
    if (!is_integer_text(text, 1)) return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end != '\0' || v < min || v > max) return -1;
    *out = v;
    return 0;
}

int cli_to_u64(const char *text, uint64_t *out) {
    if (!is_integer_text(text, 0)) return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end != '\0') return -1;
    *out = v;
    return 0;
}

/* A magnitude below the normal doubles, where strtod sets ERANGE (a
 * subnormal, or nonzero digits that round to 0): no option or state value
 * wants one, and "1e-400" read as 0 would not be what was written. */
static int below_normal(const char *text, double v) {
    if (v != 0) return fabs(v) < DBL_MIN;
    for (const char *p = text; *p && *p != 'e' && *p != 'E'; p++)
        if (*p >= '1' && *p <= '9') return 1;
    return 0;
}

int cli_to_f64(const char *text, double min, double max, double *out) {
    double v;
    if (!is_decimal_text(text) || clh_double_parse(text, &v) != CLH_OK || below_normal(text, v) ||
        v < min || v > max)
        return -1;
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

int cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t max,
                  uint64_t *out) {
    if (cli_to_u64(text, out) != 0 || *out > max)
        return cli_usage_error(cmd, "%s expects an integer in [0, %llu], got '%s'", opt,
                               (unsigned long long)max, text);
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
    if (n == 0 || n >= sizeof buf) {
        errno = n ? ENAMETOOLONG : ENOENT;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
        buf[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int cli_same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}
