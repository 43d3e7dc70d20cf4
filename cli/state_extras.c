/* The checkpoint's extra tensors and metadata (state_extras.h). */
#include "state_extras.h"

#include <stdio.h>
#include <string.h>

clh_st_tensor *cli_extras_tensor(cli_extras *e, const char *name, clh_dtype dtype,
                                 const void *data, size_t count, size_t elem) {
    if (e->n == CLI_EXTRAS_TENSORS || strlen(name) >= sizeof e->names[0]) {
        e->full = 1;
        return &e->spare;
    }
    clh_st_tensor *t = &e->t[e->n];
    snprintf(e->names[e->n], sizeof e->names[0], "%s", name);
    memset(t, 0, sizeof *t);
    t->name = e->names[e->n];
    t->dtype = dtype;
    t->ndim = 1;
    t->shape[0] = (int64_t)count;
    t->data = data;
    t->nbytes = count * elem;
    e->n++;
    return t;
}

void cli_extras_copy(cli_extras *e, const clh_st_tensor *tensor) {
    clh_st_tensor *t = cli_extras_tensor(e, tensor->name, tensor->dtype, tensor->data, 0, 0);
    if (t == &e->spare) return;
    const char *name = t->name;
    *t = *tensor;
    t->name = name;
}

void cli_extras_meta(cli_extras *e, const char *key, const char *value) {
    if (e->n_meta == CLI_EXTRAS_META || strlen(key) >= sizeof e->meta_keys[0] ||
        strlen(value) >= sizeof e->meta_values[0]) {
        e->full = 1;
        return;
    }
    snprintf(e->meta_keys[e->n_meta], sizeof e->meta_keys[0], "%s", key);
    snprintf(e->meta_values[e->n_meta], sizeof e->meta_values[0], "%s", value);
    e->meta[e->n_meta].key = e->meta_keys[e->n_meta];
    e->meta[e->n_meta].value = e->meta_values[e->n_meta];
    e->n_meta++;
}

void cli_extras_meta_i64(cli_extras *e, const char *key, long long v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    cli_extras_meta(e, key, buf);
}

void cli_extras_meta_f64(cli_extras *e, const char *key, double v) {
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", v);
    cli_extras_meta(e, key, buf);
}
