/* clheads — sums across participants (processes, machines, threads) for
 * data-parallel training, with no transport in the library.
 *
 * A clh_reducer is a transport the caller supplies: two callbacks that
 * replace a float or double vector, on every participant, by the sum of that
 * vector over all participants (an all-reduce with the sum). The tool
 * implements it with MPI (cli/mpi_transport.c); an embedder may plug in any
 * other (threads, NCCL, sockets). Every participant must make the same
 * sequence of calls with the same counts: these are collective operations.
 *
 * Determinism: the library never relies on the order in which a transport
 * adds; but a run repeats bit for bit only if the transport's sum does, so a
 * transport should add in a fixed order (the tool's: rank 0 + rank 1 + ... in
 * rank order, whatever the network).
 *
 * What is reduced:
 *   gradients   one flat vector (clh_reduce_f32 on it, or the heads'
 *               gradient block with clh_heads_reduce_grad). With each
 *               participant's loss a mean over its part of a global batch of
 *               B samples, scale each participant's gradient by b_r / B
 *               before the sum (the tool scales d(logits)).
 *   statistics  the analytic heads' sums (clh_analytic_reduce): class sums,
 *               counts and Gram matrices are plain sums; LDA's within-class
 *               scatter is merged exactly around the global class means.
 */
#ifndef CLHEADS_REDUCE_H
#define CLHEADS_REDUCE_H

#include <stddef.h>

#include "analytic.h"
#include "export.h"
#include "heads.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Replaces values[0..count) by their sum over all participants; returns
 * CLH_OK, or any other status on a transport failure (the library passes it
 * on). count may be 0. */
typedef clh_status (*clh_reduce_f32_fn)(void *context, float *values, size_t count);
typedef clh_status (*clh_reduce_f64_fn)(void *context, double *values, size_t count);

/* Caller-allocated and versioned like clh_optim_config: set struct_size =
 * sizeof(clh_reducer) (clh_reducer_init does), members are only appended. */
typedef struct clh_reducer {
    size_t struct_size;
    int rank;               /* this participant, 0..size-1 */
    int size;               /* participants, >= 1 */
    void *context;          /* passed to the callbacks */
    clh_reduce_f32_fn sum_f32;
    clh_reduce_f64_fn sum_f64;
} clh_reducer;

/* A single participant (rank 0 of 1) whose sums leave the values as they
 * are: the reducer of a run without a transport. */
CLH_API void clh_reducer_init(clh_reducer *reducer);

/* CLH_E_INVALID_ARG naming the member that is wrong: struct_size, size < 1,
 * rank outside [0, size), a missing callback. */
CLH_API clh_status clh_reducer_check(const clh_reducer *reducer);

/* values[0..count) = their sum over the participants (a checked call of the
 * transport; NULL values only with count 0). */
CLH_API clh_status clh_reduce_f32(const clh_reducer *reducer, float *values, size_t count);
CLH_API clh_status clh_reduce_f64(const clh_reducer *reducer, double *values, size_t count);

/* Sums the heads' flat gradient (clh_heads_flat) over the participants, all
 * of which must hold heads with the same layout (the same count is checked
 * first, CLH_E_MISMATCH naming the participant that differs). */
CLH_API clh_status clh_heads_reduce_grad(clh_heads *heads, const clh_reducer *reducer);

/* Every participant's statistics become the sum of all participants'
 * statistics, as if one handle had been shown every sample each of them was
 * shown. All participants must have the same configuration and set-up (the
 * same tasks and class counts in the same order): checked first, else
 * CLH_E_MISMATCH naming the first participant that differs. Counts are
 * summed exactly (CLH_E_OVERFLOW past 2^53 samples); class sums, G and Q in
 * float64 (a float32 matrix is summed in float64 and rounded once); LDA's
 * scatter as Σ_p [M_p + Σ_c n_pc (μ_pc − μ_c)(μ_pc − μ_c)ᵀ] with μ_c the
 * global mean of class c, which is exact (no cancellation). Costs: two or
 * three transport calls; one copy of the statistics in memory while they are
 * summed (so that a failing transport leaves this handle unchanged).
 *
 * To reduce again after more updates (once per task, say), every sample must
 * be counted once: after a reduce, participants other than rank 0 call
 * clh_analytic_reset before their next update, rank 0 keeps the totals. */
CLH_API clh_status clh_analytic_reduce(clh_analytic *analytic, const clh_reducer *reducer);

/* Sets every statistic (class sums, counts, matrices) to zero; the
 * configuration and set-up are kept. */
CLH_API void clh_analytic_reset(clh_analytic *analytic);

#ifdef __cplusplus
}
#endif
#endif
