/* Names of the methods of `clheads run` (method.h). */
#include <string.h>

#include "method.h"

static const char *const NAMES[CLI_METHOD_COUNT] = {"finetune", "ridge", "ncm", "slda"};

const char *cli_method_name(cli_method method) {
    return (unsigned)method < CLI_METHOD_COUNT ? NAMES[method] : NULL;
}

int cli_method_parse(const char *name, cli_method *out) {
    for (int m = 0; m < CLI_METHOD_COUNT; m++) {
        if (strcmp(name, NAMES[m]) == 0) {
            *out = (cli_method)m;
            return 0;
        }
    }
    return -1;
}

int cli_method_is_analytic(cli_method method) {
    return method == CLI_METHOD_RIDGE || method == CLI_METHOD_NCM || method == CLI_METHOD_SLDA;
}
