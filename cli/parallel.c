/* The transport-independent part of data-parallel runs (parallel.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parallel.h"
#include "progress.h"

/* The transport's sums, counted for the report of a run (the library's
 * reductions, clh_analytic_reduce, call them directly). */
static clh_status counted_sum_f32(void *context, float *values, size_t count) {
    cli_parallel *par = context;
    par->sums++;
    par->bytes += count * sizeof(float);
    double start = cli_now();
    clh_status st = cli_transport_sum_f32(NULL, values, count);
    par->seconds += cli_now() - start;
    return st;
}

static clh_status counted_sum_f64(void *context, double *values, size_t count) {
    cli_parallel *par = context;
    par->sums++;
    par->bytes += count * sizeof(double);
    double start = cli_now();
    clh_status st = cli_transport_sum_f64(NULL, values, count);
    par->seconds += cli_now() - start;
    return st;
}

int cli_parallel_start(cli_parallel *par, char *err, size_t err_len) {
    memset(par, 0, sizeof *par);
    if (cli_transport_init(&par->rank, &par->size, err, err_len)) return 1;
    clh_reducer_init(&par->reducer);
    par->reducer.rank = par->rank;
    par->reducer.size = par->size;
    if (par->size > 1) {
        par->reducer.context = par;
        par->reducer.sum_f32 = counted_sum_f32;
        par->reducer.sum_f64 = counted_sum_f64;
    }
    return 0;
}

void cli_parallel_end(cli_parallel *par) {
    if (par && par->size > 0) cli_transport_finalize();
}

void cli_parallel_abort(const cli_parallel *par, int code) {
    if (!par || par->size <= 1) return;
    fprintf(stderr, "clheads run: process %d of %d failed; ending every process\n", par->rank,
            par->size);
    fflush(stderr);
    cli_transport_abort(code ? code : 1);
}

uint64_t cli_digest(uint64_t h, const void *bytes, size_t len) {
    const unsigned char *p = bytes;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static int sum_failed(char *err, size_t err_len, const char *what) {
    snprintf(err, err_len, "summing %s across processes failed: %s%s%s", what, clh_last_error(),
             cli_transport_error()[0] ? ": " : "", cli_transport_error());
    return 1;
}

int cli_parallel_sum_f32(cli_parallel *par, float *values, size_t count, const char *what,
                         char *err, size_t err_len) {
    if (!par || par->size <= 1) return 0;
    return clh_reduce_f32(&par->reducer, values, count) == CLH_OK ? 0
                                                                 : sum_failed(err, err_len, what);
}

int cli_parallel_sum_f64(cli_parallel *par, double *values, size_t count, const char *what,
                         char *err, size_t err_len) {
    if (!par || par->size <= 1) return 0;
    return clh_reduce_f64(&par->reducer, values, count) == CLH_OK ? 0
                                                                 : sum_failed(err, err_len, what);
}

int cli_parallel_agree(cli_parallel *par, uint64_t digest, const char *what, char *err,
                       size_t err_len) {
    if (!par || par->size <= 1) return 0;
    /* Each process's digest as two exact 32-bit halves in its own slots. */
    size_t n = 2 * (size_t)par->size;
    double *slots = calloc(n, sizeof(double));
    if (!slots) {
        snprintf(err, err_len, "out of memory comparing %s across processes", what);
        return 1;
    }
    slots[2 * (size_t)par->rank] = (double)(digest >> 32);
    slots[2 * (size_t)par->rank + 1] = (double)(digest & 0xffffffffu);
    clh_status st = clh_reduce_f64(&par->reducer, slots, n);
    if (st != CLH_OK) {
        free(slots);
        return sum_failed(err, err_len, what);
    }
    int differs = -1;
    for (int p = 1; st == CLH_OK && p < par->size && differs < 0; p++)
        if (slots[2 * (size_t)p] != slots[0] || slots[2 * (size_t)p + 1] != slots[1]) differs = p;
    free(slots);
    if (differs >= 0) {
        snprintf(err, err_len, "the processes drifted apart: process %d's %s differ from "
                 "process 0's", differs, what);
        return 1;
    }
    return 0;
}
