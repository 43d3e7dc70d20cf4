/* The checkpoint loader over fuzzed files: whatever the tensors, a load
 * either builds a handle whose heads match the file, or fails with a status
 * and a detail. Every paradigm is tried, with and without a prefix. */
#include <stdlib.h>

#include "fuzz_target.h"

#define REQUIRE(cond)                  \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (0)

static void try_load(const clh_st_file *file, int paradigm, const char *prefix, int ignore) {
    clh_load_options options;
    clh_load_options_init(&options);
    options.paradigm = paradigm;
    options.prefix = prefix;
    options.ignore_unknown = ignore;
    clh_heads *heads = NULL;
    clh_status s = clh_heads_load_file(&heads, file, &options);
    if (s != CLH_OK) {
        REQUIRE(heads == NULL && clh_last_error()[0] != '\0');
        return;
    }
    REQUIRE(heads != NULL);
    /* A loaded handle answers a forward pass on a zero batch row. */
    int64_t in = clh_heads_in_features(heads);
    if (clh_heads_num_tasks(heads) > 0 && in <= 4096) {
        const int64_t *ids = clh_heads_task_ids(heads);
        clh_paradigm p = clh_heads_paradigm(heads);
        int64_t task = (p == CLH_TIL || p == CLH_MTL) ? ids[0] : CLH_NO_TASK;
        int64_t width = 0;
        REQUIRE(clh_heads_logits_width(heads, task, &width) == CLH_OK);
        if (width > 0 && width <= (1 << 20)) {
            float *x = calloc((size_t)in, sizeof *x);
            float *logits = malloc((size_t)width * sizeof *logits);
            if (x && logits) REQUIRE(clh_heads_forward(heads, x, 1, task, logits) == CLH_OK);
            free(x);
            free(logits);
        }
    }
    clh_heads_free(heads);
}

void clh_fuzz_load_heads(const clh_st_file *file) {
    try_load(file, CLH_PARADIGM_FROM_FILE, NULL, 0);
    for (int p = CLH_TIL; p <= CLH_STL; p++) try_load(file, p, NULL, 0);
    try_load(file, CLH_TIL, "heads.", 1);
    try_load(file, CLH_DIL, "model.", 1);
}
