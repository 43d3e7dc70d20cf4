/* Subcommand dispatch and the top-level help of `clheads`. */
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

int cli_main(int argc, char **argv) {
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
    if (strcmp(cmd, "--version") == 0) {
        printf("clheads %s (matrix multiply: %s)\n", CLH_VERSION_STRING, clh_gemm_backend());
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "run") == 0) return cli_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "inspect") == 0) return cli_cmd_inspect(argc - 1, argv + 1);
    if (strcmp(cmd, "predict") == 0) return cli_cmd_predict(argc - 1, argv + 1);
    fprintf(stderr, "clheads: unknown command '%s' (expected run, inspect or predict)\n"
                    "Try 'clheads --help'.\n", cmd);
    return CLI_EXIT_USAGE;
}
