/* libFuzzer target for the optimizer-state loader (clh_optim_load_file):
 * any input is rejected with a status and a detail, leaving the optimizer
 * unbound, or loads into a state whose export saves and loads back to the
 * same layout; a loaded heads layout small enough to build is then stepped.
 * Every optimizer kind and buffer set is tried. Property failures trap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clheads.h"
#include "fuzz_target.h"

#define REQUIRE(cond)                  \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (0)

/* Builds heads with the loaded layout and takes one step with zero gradients. */
static void step_loaded(clh_optim *optim, const clh_optim_layout *layout) {
    if (layout->binding != CLH_OPTIM_HEADS || layout->count > (1u << 16)) return;
    clh_heads *heads = NULL;
    if (clh_heads_create(&heads, layout->paradigm, layout->in_features, 0) != CLH_OK) return;
    clh_status s = CLH_OK;
    if (layout->paradigm == CLH_DIL || layout->paradigm == CLH_STL) {
        if (layout->num_segments == 1) s = clh_heads_setup_single(heads, layout->num_classes[0]);
    } else {
        s = clh_heads_setup_tasks(heads, layout->task_ids, layout->num_classes,
                                  layout->num_segments);
    }
    if (s == CLH_OK && clh_heads_is_setup(heads)) {
        for (size_t t = 0; t < clh_heads_num_tasks(heads); t++)
            clh_heads_set_task_has_grad(heads, t, 1);
        s = clh_optim_step_heads(optim, heads);
        REQUIRE(s == CLH_OK || clh_last_error()[0] != '\0');
    }
    clh_heads_free(heads);
}

/* The loaded state survives export -> encode -> parse -> load unchanged. */
static void check_round_trip(clh_optim *optim, const clh_optim_config *config) {
    clh_optim_export *e = NULL;
    if (clh_optim_export_create(optim, &e) != CLH_OK) return;
    size_t n = 0, n_meta = 0;
    const clh_st_tensor *tensors = clh_optim_export_tensors(e, &n);
    const clh_st_meta *meta = clh_optim_export_meta(e, &n_meta);
    unsigned char *bytes = NULL;
    size_t len = 0;
    if (clh_st_encode(tensors, n, meta, n_meta, &bytes, &len) == CLH_OK) {
        clh_st_file *again = NULL;
        REQUIRE(clh_st_parse(&again, bytes, len) == CLH_OK);
        clh_optim *other = NULL;
        REQUIRE(clh_optim_create(&other, config) == CLH_OK);
        REQUIRE(clh_optim_load_file(other, again) == CLH_OK);
        clh_optim_layout a, b;
        REQUIRE(clh_optim_get_layout(optim, &a) == CLH_OK);
        REQUIRE(clh_optim_get_layout(other, &b) == CLH_OK);
        REQUIRE(a.binding == b.binding && a.count == b.count && a.num_segments == b.num_segments);
        clh_optim_free(other);
        clh_st_free(again);
        clh_st_bytes_free(bytes);
    }
    clh_optim_export_free(e);
}

static void try_kind(const clh_st_file *file, clh_optim_kind kind, double momentum, int amsgrad) {
    clh_optim_config config;
    clh_optim_config_init(&config, kind, 0.01);
    config.momentum = momentum;
    config.amsgrad = amsgrad;
    clh_optim *optim = NULL;
    if (clh_optim_create(&optim, &config) != CLH_OK) return;
    clh_status s = clh_optim_load_file(optim, file);
    clh_optim_layout layout;
    REQUIRE(clh_optim_get_layout(optim, &layout) == CLH_OK);
    if (s != CLH_OK) {
        REQUIRE(clh_last_error()[0] != '\0');
        REQUIRE(layout.binding == CLH_OPTIM_UNBOUND); /* unchanged on error */
    } else {
        for (size_t i = 0; i < clh_optim_buffer_count(optim); i++) {
            clh_optim_buffer b;
            REQUIRE(clh_optim_buffer_at(optim, i, &b) == CLH_OK);
            REQUIRE(b.count == (b.is_int64 ? layout.num_segments : layout.count));
        }
        check_round_trip(optim, &config);
        step_loaded(optim, &layout);
    }
    clh_optim_free(optim);
}

const char clh_fuzz_target_name[] = "fuzz_optim_state";

int clh_fuzz_one_input(const uint8_t *data, size_t size) {
    clh_st_file *file = NULL;
    if (clh_st_parse(&file, data, size) != CLH_OK) return 0;
    try_kind(file, CLH_OPTIM_SGD, 0.0, 0);
    try_kind(file, CLH_OPTIM_SGD, 0.9, 0);
    try_kind(file, CLH_OPTIM_ADAM, 0.0, 0);
    try_kind(file, CLH_OPTIM_ADAM, 0.0, 1);
    try_kind(file, CLH_OPTIM_ADAMW, 0.0, 0);
    clh_st_free(file);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return clh_fuzz_one_input(data, size);
}
