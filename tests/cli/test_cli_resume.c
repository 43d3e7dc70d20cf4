/* --resume: a run stopped after task 2 (--stop-after, as if interrupted) and
 * resumed from its checkpoint writes the same results.json and the same final
 * checkpoint, byte for byte, as a run that never stopped. Covers the
 * optimizers' state (Adam moments and steps, SGD momentum), the shuffle
 * stream, the backbone, the heads, and CIL's second matrix. */
#include "check.h"
#include "test_cli_util.h"

static void check_resume(const char *name, const char *paradigm, const char *optimizer,
                         const char *extra_opt, const char *extra_val) {
    char whole[512], part[512], sub[64];
    snprintf(sub, sizeof sub, "%s-whole", name);
    work_dir(sub, whole, sizeof whole);
    snprintf(sub, sizeof sub, "%s-part", name);
    work_dir(sub, part, sizeof part);
    CHECK(run_cli("run", "--paradigm", paradigm, "--dataset", "synthetic", "--optimizer",
                  optimizer, "--seed", "7", "--epochs", "2", "--out", whole, "--quiet", extra_opt, extra_val,
                  NULL) == 0);
    CHECK(run_cli("run", "--paradigm", paradigm, "--dataset", "synthetic", "--optimizer",
                  optimizer, "--seed", "7", "--epochs", "2", "--out", part, "--quiet", "--stop-after", "2",
                  extra_opt, extra_val, NULL) == 0);
    /* Stopped: the partial results differ from the whole run's. */
    CHECK(!same_file(whole, part, "results.json"));
    CHECK(run_cli("run", "--resume", part, "--quiet", NULL) == 0);
    CHECK(resumed_outputs_differ(whole, part, name) == 0);
}

int main(void) {
    check_resume("til-adam", "til", "adam", NULL, NULL);
    check_resume("cil-sgd", "cil", "sgd", "--momentum", "0.9");
    check_resume("dil-adamw", "dil", "adamw", NULL, NULL);
    check_resume("til-frozen", "til", "adam", "--freeze-backbone", NULL);
    return check_done("test_cli_resume");
}
