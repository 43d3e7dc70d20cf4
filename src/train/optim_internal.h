/* Internal: the optimizer handle and its update kernels, shared by optim.c
 * (life cycle, binding, growth, state), optim_state.c (enumerate, restore),
 * optim_sgd.c, optim_adam.c and optim_io.c. */
#ifndef CLH_INTERNAL_OPTIM_H
#define CLH_INTERNAL_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "clheads/optim.h"
#include "common/versioned.h"

/* Float state buffers, indexed by role; which exist depends on the kind. */
enum {
    CLH_OPT_MOMENTUM = 0,   /* SGD with momentum */
    CLH_OPT_EXP_AVG = 0,    /* Adam, AdamW */
    CLH_OPT_EXP_AVG_SQ = 1, /* Adam, AdamW */
    CLH_OPT_MAX_SQ = 2,     /* Adam, AdamW with amsgrad */
    CLH_OPT_SUM = 0,        /* Adagrad */
    CLH_OPT_MAX_BUFFERS = 3
};

/* The state of one parameter set. Segment s (a task, or the whole flat
 * vector) owns the floats named by clh_optim_segment_ranges(). */
typedef struct clh_optim_state {
    clh_optim_binding binding;
    clh_paradigm paradigm; /* HEADS: the handle's paradigm */
    size_t count;        /* floats per buffer */
    int64_t in;          /* HEADS: in_features */
    int64_t rows;        /* HEADS: rows (sum of classes) */
    size_t num_segments;
    int64_t *ids;        /* HEADS: [num_segments] */
    int64_t *classes;    /* HEADS: [num_segments] */
    int64_t *steps;      /* [num_segments] */
    float *buf[CLH_OPT_MAX_BUFFERS];
} clh_optim_state;

struct clh_optim {
    clh_optim_config config;
    size_t num_buffers; /* float buffers this configuration keeps */
    clh_optim_state state;
};

/* Names of the float buffers for a configuration, in buffer order; returns
 * how many (0..3). */
size_t clh_optim_buffer_names(const clh_optim_config *config, const char *names[3]);

/* The end of clh_optim_config's first released layout (its last member then
 * was amsgrad): the smallest struct_size accepted (versioned.h). */
#define CLH_OPTIM_CONFIG_FIRST_SIZE (offsetof(clh_optim_config, amsgrad) + sizeof(int))
/* Writes a full configuration into a caller's struct, as far as its
 * struct_size reaches. */
static inline clh_status clh_optim_config_write(clh_optim_config *given,
                                                const clh_optim_config *full) {
    return clh_versioned_write(given, full, sizeof *full, CLH_OPTIM_CONFIG_FIRST_SIZE,
                               "clh_optim_config");
}

/* Allocates zeroed state for `count` floats per buffer and `segments`
 * segments (ids/classes only for HEADS); *state written only on success. */
clh_status clh_optim_state_alloc(const clh_optim *optim, clh_optim_state *state,
                                 clh_optim_binding binding, size_t count, size_t segments);

/* Frees a state's arrays (not the struct). */
void clh_optim_state_release(clh_optim_state *state);

/* One contiguous range of a segment: floats [begin, begin + length). A head
 * segment has two (its weight rows and its bias entries); a flat one has one. */
typedef struct clh_optim_range {
    size_t begin;
    size_t length;
} clh_optim_range;

/* The update of one contiguous range, with `step` the segment's step count
 * after incrementing (1 on its first step). */
void clh_optim_sgd_update(const clh_optim_config *config, float *params, const float *grads,
                          float *momentum_buffer, size_t n, int64_t step);
void clh_optim_adam_update(const clh_optim_config *config, float *params, const float *grads,
                           float *exp_avg, float *exp_avg_sq, float *max_exp_avg_sq, size_t n,
                           int64_t step);
void clh_optim_adagrad_update(const clh_optim_config *config, float *params, const float *grads,
                              float *sum, size_t n, int64_t step);
/* Adagrad's configuration checks (lr is checked by the caller). */
clh_status clh_optim_adagrad_check(const clh_optim_config *config);

#endif
