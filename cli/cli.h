/* The `clheads` command-line tool: subcommands and their shared helpers.
 * Every entry point returns the process exit status instead of exiting, so
 * tests can drive the tool in-process:
 *   0 success, 1 a runtime failure (file, data, checkpoint), 2 bad arguments. */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stddef.h>
#include <stdint.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

int cli_main(int argc, char **argv);
int cli_cmd_run(int argc, char **argv);
int cli_cmd_inspect(int argc, char **argv);
int cli_cmd_predict(int argc, char **argv);

/* ---- argument helpers (args.c) ------------------------------------------ */

/* Prints "clheads CMD: <message>" and a hint to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "clheads CMD: <message>" to stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Formats the message into err (cut to err_len, as snprintf) and returns 1:
 * how a loader that reports through a buffer fails,
 * `return cli_err(err, err_len, "...", ...)`. */
int cli_err(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Matches argv[*i] against option `name` ("--lr"), in the forms "--lr VALUE"
 * and "--lr=VALUE". Returns 1 and sets *value (advancing *i past a separate
 * value) on a match, 0 when argv[*i] is another option, -1 when the value is
 * missing (the caller reports it). */
int cli_take_value(int argc, char **argv, int *i, const char *name, const char **value);

/* The options a parser has seen: a repeated option is an error, never "the
 * last one wins". cli_once returns 0 the first time, else CLI_EXIT_USAGE
 * with a message. */
typedef struct cli_seen_options {
    const char *names[32];
    size_t n;
} cli_seen_options;
int cli_once(const char *cmd, const char *opt, cli_seen_options *seen);

/* Strict number parsing, locale-independent: the whole string, an optional
 * '-' (not for u64), digits, for reals an optional fraction and exponent (no
 * blanks, '+', hex, inf or nan; read by clh_double_parse, and a magnitude
 * below the normal doubles is refused), within [min, max]. Return 0, or -1
 * without printing (for values read from files). */
int cli_to_i64(const char *text, int64_t min, int64_t max, int64_t *out);
int cli_to_u64(const char *text, uint64_t *out);
int cli_to_f64(const char *text, double min, double max, double *out);
/* The same for options: on failure they print a message naming the option and
 * the value, and return CLI_EXIT_USAGE. */
int cli_parse_i64(const char *cmd, const char *opt, const char *text, int64_t min, int64_t max,
                  int64_t *out);
int cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t max,
                  uint64_t *out);
int cli_parse_f64(const char *cmd, const char *opt, const char *text, double min, double max,
                  double *out);

/* `clheads --version` (every subcommand takes it too). */
int cli_print_version(void);

/* Size of the message buffers: room for the longest paths (two of
 * CLI_MAX_DIR_LEN plus file names) and a library detail, so no message is
 * cut before its reason. */
#define CLI_ERR_LEN 16384

/* 1 when the two paths name the same existing file (device and inode). */
int cli_same_file(const char *a, const char *b);

/* mkdir -p. Returns 0 on success, else -1 with errno set. */
int cli_mkdir_p(const char *path);

#endif
