/* Issue 8, resume and divergence: F04 (the run state read back on --resume
 * is validated as strictly as the options: non-finite or out-of-range
 * accuracies and losses, missing keys and tensors, an edited phases_done,
 * non-finite weights, options that contradict each other; each a clear
 * failure, exit 1 like every bad file, never exit 0 with wrong output) and
 * F05 (a diverging run says so, with task, epoch and step). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "run.h"
#include "test_cli_capture.h"
#include "test_cli_util.h"

typedef enum { SET_META, DROP_META, DROP_TENSOR, SET_F64, SET_F32, FLATTEN } edit_kind;

typedef struct edit {
    edit_kind kind;
    const char *name;  /* metadata key or tensor name */
    const char *value; /* SET_META */
    size_t index;      /* SET_F64 / SET_F32: element */
    double number;
} edit;

/* Copies FROM/checkpoint.safetensors to TO with one edit. */
static void edit_checkpoint(const char *from, const char *to, edit e) {
    char path[1024];
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", from);
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_open(&file, path));
    if (!file) return;
    size_t n = clh_st_count(file), n_meta = clh_st_meta_count(file), kept = 0, kept_meta = 0;
    clh_st_tensor *tensors = calloc(n, sizeof *tensors);
    clh_st_meta *meta = calloc(n_meta, sizeof *meta);
    void *copy = NULL;
    if (!tensors || !meta) abort();
    for (size_t i = 0; i < n; i++) {
        clh_st_tensor t = *clh_st_at(file, i);
        if (strcmp(t.name, e.name) == 0) {
            if (e.kind == DROP_TENSOR) continue;
            if (e.kind == FLATTEN) { /* the same bytes as one row: [numel] */
                t.shape[0] = (int64_t)clh_st_numel(&t);
                t.ndim = 1;
            }
            if (e.kind == SET_F64 || e.kind == SET_F32) {
                copy = malloc(t.nbytes);
                memcpy(copy, t.data, t.nbytes);
                if (e.kind == SET_F64) {
                    double v = e.number;
                    memcpy((char *)copy + 8 * e.index, &v, 8);
                } else {
                    float v = (float)e.number;
                    memcpy((char *)copy + 4 * e.index, &v, 4);
                }
                t.data = copy;
            }
        }
        tensors[kept++] = t;
    }
    for (size_t i = 0; i < n_meta; i++) {
        clh_st_meta m = *clh_st_meta_at(file, i);
        if (strcmp(m.key, e.name) == 0) {
            if (e.kind == DROP_META) continue;
            if (e.kind == SET_META) m.value = e.value;
        }
        meta[kept_meta++] = m;
    }
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", to);
    CHECK_OK(clh_st_save(path, tensors, kept, meta, kept_meta));
    free(copy);
    free(tensors);
    free(meta);
    clh_st_free(file);
}

/* The edited copy of the checkpoint in `from` fails to resume: exit 1, a
 * message containing `expect`, no results.json written. */
static void refuses(const char *from, const char *name, edit e, const char *expect) {
    char dir[700];
    work_dir(name, dir, sizeof dir);
    edit_checkpoint(from, dir, e);
    int rc;
    char *msg = NULL;
    RUN_CAPTURED(msg, rc, dir, "run", "--resume", dir, "--quiet");
    CHECK(rc == 1);
    CHECK(msg && strstr(msg, expect) != NULL);
    if (!msg || !strstr(msg, expect)) fprintf(stderr, "%s: expected '%s'\n", name, expect);
    free(msg);
    char *json = slurp(dir, "results.json", NULL);
    CHECK(json == NULL);
    free(json);
}

static void f04_resume_validation(void) {
    char til[512], dil[512], mtl[512];
    work_dir("f04-til", til, sizeof til);
    work_dir("f04-dil", dil, sizeof dil);
    work_dir("f04-mtl", mtl, sizeof mtl);
#define RUN(p, out) \
    "run", "--paradigm", p, "--dataset", "synthetic", "--tasks", "3", "--epochs", "1", "--quiet", \
        "--out", out
    CHECK(run_cli(RUN("til", til), "--stop-after", "1", NULL) == 0);
    CHECK(run_cli(RUN("dil", dil), "--stop-after", "1", NULL) == 0);
    CHECK(run_cli(RUN("mtl", mtl), NULL) == 0);

    /* Non-finite or out-of-range numbers in the saved results (main: +Inf
     * gave exit 0 and arrays that lost entries). */
    refuses(til, "f04-inf-acc", (edit){SET_F64, "run.accuracy", NULL, 0, INFINITY},
            "run.accuracy[0][0] is inf, expected an accuracy in [0, 1]");
    refuses(til, "f04-nan-acc", (edit){SET_F64, "run.accuracy", NULL, 0, NAN},
            "run.accuracy[0][0] is nan");
    refuses(til, "f04-big-acc", (edit){SET_F64, "run.accuracy", NULL, 0, 1.5},
            "run.accuracy[0][0] is 1.5");
    refuses(til, "f04-future-acc", (edit){SET_F64, "run.accuracy", NULL, 4, 0.5},
            "run.accuracy[1][1] is 0.5, but that cell was not evaluated");
    refuses(til, "f04-inf-loss", (edit){SET_F64, "run.loss", NULL, 0, INFINITY},
            "run.loss[0] is inf, expected a finite loss >= 0");
    refuses(til, "f04-neg-loss", (edit){SET_F64, "run.loss", NULL, 0, -1.0}, "run.loss[0] is -1");
    refuses(til, "f04-nan-weight", (edit){SET_F32, "backbone.2.weight", NULL, 17, NAN},
            "backbone.2.weight[17] is nan, expected a finite number");
    /* Missing keys and tensors. */
    refuses(til, "f04-no-lr", (edit){DROP_META, "run.lr", NULL, 0, 0}, "metadata lacks run.lr");
    refuses(til, "f04-no-phases", (edit){DROP_META, "run.phases_done", NULL, 0, 0},
            "metadata lacks run.phases_done");
    refuses(til, "f04-no-loss", (edit){DROP_TENSOR, "run.loss", NULL, 0, 0},
            "checkpoint: tensor 'run.loss' is missing");
    refuses(til, "f04-no-acc", (edit){DROP_TENSOR, "run.accuracy", NULL, 0, 0},
            "checkpoint: tensor 'run.accuracy' is missing");
    /* F01: every tensor read back goes through the library's one check, so
     * the right element count in the wrong shape is refused too (main took
     * any shape with the right count). */
    refuses(til, "f01-flat-weight", (edit){FLATTEN, "backbone.2.weight", NULL, 0, 0},
            "checkpoint: tensor 'backbone.2.weight' has shape [160000], expected [400, 400]");
    refuses(til, "f01-flat-acc", (edit){FLATTEN, "run.accuracy", NULL, 0, 0},
            "checkpoint: tensor 'run.accuracy' has shape [9], expected [3, 3]");
    /* phases_done edited: TIL has one head per phase; DIL's one head cannot
     * tell, its results can (main: tasks skipped, +nan reported, exit 0). */
    refuses(til, "f04-til-phases", (edit){SET_META, "run.phases_done", "2", 0, 0},
            "checkpoint has 1 heads, this run expects 2");
    refuses(dil, "f04-dil-phases", (edit){SET_META, "run.phases_done", "2", 0, 0},
            "run.accuracy[1][0] is nan, expected an accuracy in [0, 1]");
    refuses(dil, "f04-dil-phases0", (edit){SET_META, "run.phases_done", "0", 0, 0},
            "run.phases_done is \"0\", expected an integer in [1, 3]");
    refuses(mtl, "f04-mtl-phases", (edit){SET_META, "run.phases_done", "2", 0, 0},
            "run.phases_done is \"2\", expected an integer in [1, 1]");
    /* Options that contradict each other or the data set. */
    refuses(til, "f04-tasks", (edit){SET_META, "run.num_tasks", "6", 0, 0},
            "run.num_tasks is 6, but synthetic has 1..5 tasks");
    refuses(til, "f04-momentum", (edit){SET_META, "run.momentum", "0.5", 0, 0},
            "momentum applies to sgd only");
    refuses(til, "f04-seed", (edit){SET_META, "run.seed", "18446744073709551615", 0, 0},
            "run.seed is \"18446744073709551615\", expected an integer in [0, 9223372036854775807]");
    refuses(til, "f04-lr-hex", (edit){SET_META, "run.lr", "0x1p-10", 0, 0}, "run.lr is \"0x1p-10\"");
    refuses(til, "f04-lr-blank", (edit){SET_META, "run.lr", " 0.001", 0, 0}, "run.lr is \" 0.001\"");

    /* The unedited checkpoints resume (the edits are what fail). */
    CHECK(run_cli("run", "--resume", til, "--quiet", NULL) == 0);
    CHECK(run_cli("run", "--resume", dil, "--quiet", NULL) == 0);
#undef RUN
}

/* F05: SGD with lr 100 diverges; the message says so, with where (main:
 * "a label is outside its class range ... falls on a -inf logit", also for
 * DIL, which masks nothing). */
static void f05_divergence(void) {
    /* (TIL's two-class heads with lr 1e6 end in dead ReLUs, finite logits:
     * not a divergence, so TIL is not among them.) */
    const char *paradigms[] = {"dil", "cil", "mtl", "stl"};
    const char *rates[] = {"100", "1000000", "1000000", "100"};
    const char *at[] = {" at task 2/5, epoch 2, step 2 ", " at task 2/5, epoch 1, step 2 ",
                        " at joint MTL (5 tasks), epoch 1, step 3 ",
                        " at joint STL (5 tasks), epoch 1, step 5 "};
    for (int i = 0; i < 4; i++) {
        char dir[512], name[64];
        snprintf(name, sizeof name, "f05-%s", paradigms[i]);
        work_dir(name, dir, sizeof dir);
        int rc;
        char *msg = NULL;
        RUN_CAPTURED(msg, rc, dir, "run", "--paradigm", paradigms[i], "--dataset", "synthetic",
                     "--optimizer", "sgd", "--lr", rates[i], "--quiet", "--out", dir);
        CHECK(rc == 1);
        CHECK(msg && strstr(msg, "training diverged: non-finite ") != NULL);
        CHECK(msg && strstr(msg, at[i]) != NULL);
        CHECK(msg && strstr(msg, "label") == NULL);
        free(msg);
    }
}

int main(void) {
    f04_resume_validation();
    f05_divergence();
    return check_done("test_cli_fix_f04_f05_resume");
}
