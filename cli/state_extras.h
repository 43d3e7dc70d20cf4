/* The tensors and metadata a `clheads run` checkpoint holds beside the
 * heads (run_state.c, method_state.c): fixed room, names copied in. Past the
 * room an addition sets `full`, which fails the save (never a checkpoint
 * silently missing a tensor). */
#ifndef CLI_STATE_EXTRAS_H
#define CLI_STATE_EXTRAS_H

#include <stddef.h>

#include "clheads/methods.h"
#include "clheads/safetensors.h"

#define CLI_EXTRAS_TENSORS 64
#define CLI_EXTRAS_META 48

typedef struct cli_extras {
    clh_st_tensor t[CLI_EXTRAS_TENSORS];
    char names[CLI_EXTRAS_TENSORS][80];
    size_t n;
    clh_st_meta meta[CLI_EXTRAS_META];
    char meta_keys[CLI_EXTRAS_META][48];
    char meta_values[CLI_EXTRAS_META][64];
    size_t n_meta;
    clh_st_tensor spare;
    int full;
    clh_memory_export *memory; /* the memory's tensors point into it; freed after the save */
} cli_extras;

/* A 1-D tensor (callers set ndim/shape for more). */
clh_st_tensor *cli_extras_tensor(cli_extras *e, const char *name, clh_dtype dtype,
                                 const void *data, size_t count, size_t elem);
/* A copy of a described tensor (its name copied, data pointed to). */
void cli_extras_copy(cli_extras *e, const clh_st_tensor *tensor);
void cli_extras_meta(cli_extras *e, const char *key, const char *value);
void cli_extras_meta_i64(cli_extras *e, const char *key, long long v);
/* %.17g: read back exactly (the writer's C locale: the tool never sets one). */
void cli_extras_meta_f64(cli_extras *e, const char *key, double v);

#endif
