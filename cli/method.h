/* The learning method of `clheads run` (--method): how the heads are
 * obtained from the tasks' data.
 *   finetune  the default: backbone and heads trained by gradient descent
 *   ridge, ncm, slda  exemplar-free heads solved from streaming statistics
 *             (include/clheads/analytic.h; the run: method_analytic.c) */
#ifndef CLI_METHOD_H
#define CLI_METHOD_H

typedef enum cli_method {
    CLI_METHOD_FINETUNE = 0,
    CLI_METHOD_RIDGE = 1,
    CLI_METHOD_NCM = 2,
    CLI_METHOD_SLDA = 3,
    CLI_METHOD_COUNT = 4
} cli_method;

/* "finetune", "ridge", "ncm", "slda"; NULL outside the enum. */
const char *cli_method_name(cli_method method);
/* Parses the names above (exactly). Returns 0, or -1 for an unknown name. */
int cli_method_parse(const char *name, cli_method *out);
/* 1 for the methods solved from statistics (ridge, ncm, slda). */
int cli_method_is_analytic(cli_method method);

#endif
