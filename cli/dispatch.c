/* Subcommand dispatch and the top-level help of `clheads`. */
#define _POSIX_C_SOURCE 200809L /* newlocale, uselocale */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "clheads.h"

static const char *const USAGE =
    "usage: clheads <command> [options]\n"
    "\n"
    "Output heads for continual learning (clheads " CLH_VERSION_STRING ").\n"
    "\n"
    "commands:\n"
    "  run       train an MLP with heads through a task sequence (Split MNIST,\n"
    "            Permuted MNIST, synthetic) and report the accuracy matrix\n"
    "  inspect   show the paradigm, tasks, shapes and metadata of a checkpoint\n"
    "            (also a safetensors file written by PyTorch)\n"
    "  predict   compute logits for a batch of features with a saved model\n"
    "\n"
    "Run 'clheads <command> --help' for a command's options.\n"
    "Exit status: 0 success, 1 failure (file, data, checkpoint), 2 bad arguments.\n";

static int dispatch(int argc, char **argv) {
    if (argc < 2) {
        fputs(USAGE, stderr);
        fputs("\nclheads: missing command\n", stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(USAGE, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) return cli_print_version();
    if (strcmp(cmd, "run") == 0) return cli_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "inspect") == 0) return cli_cmd_inspect(argc - 1, argv + 1);
    if (strcmp(cmd, "predict") == 0) return cli_cmd_predict(argc - 1, argv + 1);
    fprintf(stderr, "clheads: unknown command '%s' (expected run, inspect or predict)\n"
                    "Try 'clheads --help'.\n", cmd);
    return CLI_EXIT_USAGE;
}

/* Every number the tool reads or writes (options, checkpoint metadata,
 * results.json, acc.csv, the SVGs, the table) is in the C locale's form,
 * whatever locale the process runs under: the subcommand runs with the C
 * locale as this thread's locale (uselocale), and the caller's is restored
 * afterwards. */
int cli_main(int argc, char **argv) {
    locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!c_locale) {
        fputs("clheads: cannot create the C locale\n", stderr);
        return CLI_EXIT_FAIL;
    }
    locale_t previous = uselocale(c_locale);
    int rc = dispatch(argc, argv);
    uselocale(previous);
    freelocale(c_locale);
    return rc;
}
