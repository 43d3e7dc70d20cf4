/* `clheads run --method`: every method runs in TIL, DIL and CIL (where it
 * applies) on the synthetic data; a run stopped after task 2 (--stop-after)
 * and resumed writes results.json, acc.csv and the final checkpoint byte for
 * byte as an uninterrupted run (so the checkpoint carries every method's
 * state: memory, importances, anchors, SI's integral, LwF's old model, the
 * independent backbones); results.json names the method and its options;
 * rehearsal and GEM beat fine-tuning in CIL, LwF and the regularizers
 * change what fine-tuning computes; bad method options are exit-2 errors. */
#include <jansson.h>

#include "check.h"
#include "test_cli_util.h"

#define RUN(paradigm, method, dir) \
    "run", "--paradigm", paradigm, "--dataset", "synthetic", "--method", method, "--seed", "3", \
        "--epochs", "1", "--tasks", "3", "--quiet", "--out", dir

static void check_resume(const char *paradigm, const char *method, const char *opt,
                         const char *val) {
    char whole[512], part[512], sub[96];
    snprintf(sub, sizeof sub, "%s-%s-whole", method, paradigm);
    work_dir(sub, whole, sizeof whole);
    snprintf(sub, sizeof sub, "%s-%s-part", method, paradigm);
    work_dir(sub, part, sizeof part);
    CHECK(run_cli(RUN(paradigm, method, whole), opt, val, NULL) == 0);
    CHECK(run_cli(RUN(paradigm, method, part), "--stop-after", "2", opt, val, NULL) == 0);
    CHECK(!same_file(whole, part, "results.json"));
    CHECK(run_cli("run", "--resume", part, "--quiet", NULL) == 0);
    char label[128];
    snprintf(label, sizeof label, "%s %s", method, paradigm);
    CHECK(resumed_outputs_differ(whole, part, label) == 0);
}

/* results.json of dir: the final (task-agnostic) average accuracy. */
static double final_accuracy(const char *dir, const char *want_method) {
    size_t len = 0;
    char *text = slurp(dir, "results.json", &len);
    CHECK(text != NULL);
    if (!text) return -1;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    free(text);
    CHECK(root != NULL);
    if (!root) return -1;
    const char *method = json_string_value(json_object_get(root, "method"));
    CHECK(method && strcmp(method, want_method) == 0);
    json_t *summary = json_object_get(root, "task_agnostic");
    if (!summary) summary = root;
    double acc = json_number_value(json_object_get(summary, "final_average_accuracy"));
    json_decref(root);
    return acc;
}

static double run_accuracy(const char *paradigm, const char *method, const char *opt,
                           const char *val) {
    char dir[512], sub[96];
    snprintf(sub, sizeof sub, "acc-%s-%s", method, paradigm);
    work_dir(sub, dir, sizeof dir);
    CHECK(run_cli(RUN(paradigm, method, dir), opt, val, NULL) == 0);
    return final_accuracy(dir, method);
}

static void check_usage(const char *what, int rc) {
    CHECK(rc == CLI_EXIT_USAGE);
    if (rc != CLI_EXIT_USAGE) fprintf(stderr, "expected exit 2: %s (got %d)\n", what, rc);
}

static void check_errors(void) {
    char dir[512];
    work_dir("errors", dir, sizeof dir);
    check_usage("negative reg-coef", run_cli(RUN("til", "ewc", dir), "--reg-coef", "-1", NULL));
    check_usage("nan reg-coef", run_cli(RUN("til", "l2", dir), "--reg-coef", "nan", NULL));
    check_usage("memory 0", run_cli(RUN("cil", "rehearsal", dir), "--memory", "0", NULL));
    check_usage("memory > data", run_cli(RUN("cil", "gem", dir), "--memory", "1500", NULL));
    check_usage("temperature 0", run_cli(RUN("til", "lwf", dir), "--temperature", "0", NULL));
    check_usage("temperature < 0", run_cli(RUN("til", "lwf", dir), "--temperature", "-2", NULL));
    check_usage("si damping 0", run_cli(RUN("til", "si", dir), "--si-damping", "0", NULL));
    check_usage("decay > 1", run_cli(RUN("til", "online-ewc", dir), "--online-decay", "1.5",
                                     NULL));
    check_usage("reg-coef for rehearsal",
                run_cli(RUN("til", "rehearsal", dir), "--reg-coef", "1", NULL));
    check_usage("memory for ewc", run_cli(RUN("til", "ewc", dir), "--memory", "100", NULL));
    check_usage("temperature for si", run_cli(RUN("til", "si", dir), "--temperature", "2", NULL));
    check_usage("margin for rehearsal",
                run_cli(RUN("til", "rehearsal", dir), "--gem-margin", "0.5", NULL));
    check_usage("decay for ewc", run_cli(RUN("til", "ewc", dir), "--online-decay", "0.9", NULL));
    check_usage("unknown method", run_cli(RUN("til", "icarl", dir), NULL));
    check_usage("independent in cil", run_cli(RUN("cil", "independent", dir), NULL));
    check_usage("method with a joint paradigm", run_cli(RUN("mtl", "ewc", dir), NULL));
    check_usage("freeze with a method",
                run_cli(RUN("til", "ewc", dir), "--freeze-backbone", NULL));
    check_usage("method twice",
                run_cli(RUN("til", "ewc", dir), "--method", "si", NULL));
    /* Resuming with another method than the checkpoint's. */
    CHECK(run_cli(RUN("til", "l2", dir), "--stop-after", "1", "--force", NULL) == 0);
    CHECK(run_cli("run", "--resume", dir, "--method", "ewc", "--quiet", NULL) == CLI_EXIT_FAIL);
    CHECK(run_cli("run", "--resume", dir, "--reg-coef", "7", "--quiet", NULL) == CLI_EXIT_FAIL);
}

int main(void) {
    static const char *const sequential[] = {"til", "dil", "cil"};
    /* Every method, in one paradigm each at least; the methods whose state
     * differs between paradigms (heads that grow, memory labels, the old
     * model's outputs) in all three. */
    static const char *const cases[][2] = {
        {"finetune", "til"}, {"fix", "dil"},        {"l2", "cil"},         {"ewc", "til"},
        {"ewc", "cil"},      {"online-ewc", "dil"}, {"si", "til"},         {"si", "cil"},
        {"mas", "dil"},      {"mas", "cil"},        {"lwf", "til"},        {"lwf", "dil"},
        {"lwf", "cil"},      {"rehearsal", "til"},  {"rehearsal", "cil"},  {"gem", "til"},
        {"gem", "dil"},      {"gem", "cil"},        {"independent", "til"}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *method = cases[c][0];
        int memory = strcmp(method, "rehearsal") == 0 || strcmp(method, "gem") == 0;
        check_resume(cases[c][1], method, memory ? "--memory" : NULL, memory ? "150" : NULL);
    }
    check_resume("cil", "online-ewc", "--online-decay", "0.5");
    /* offline is one phase: --stop-after has nothing to cut; it must run. */
    for (size_t p = 0; p < 3; p++) {
        double acc = run_accuracy(sequential[p], "offline", NULL, NULL);
        CHECK(acc > 0.9);
    }

    /* CIL on the synthetic set (3 tasks): fine-tuning forgets (this seed:
     * 0.667); rehearsal and GEM keep every task (1.000). */
    double finetune = run_accuracy("cil", "finetune", NULL, NULL);
    double rehearsal = run_accuracy("cil", "rehearsal", "--memory", "200");
    double gem = run_accuracy("cil", "gem", "--memory", "200");
    CHECK(finetune < 0.7);
    CHECK(rehearsal > 0.95);
    CHECK(gem > 0.95);
    /* A strong L2 anchor holds the backbone: DIL accuracy differs from
     * fine-tuning's; LwF changes CIL. */
    double dil_ft = run_accuracy("dil", "finetune", NULL, NULL);
    double dil_l2 = run_accuracy("dil", "l2", "--reg-coef", "1000");
    CHECK(dil_l2 != dil_ft);
    double lwf = run_accuracy("cil", "lwf", NULL, NULL);
    CHECK(lwf != finetune);

    check_errors();
    return check_done("test_cli_methods");
}
