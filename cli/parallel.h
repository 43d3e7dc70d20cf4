/* Data-parallel runs of `clheads run` (mpirun -np N clheads run ...).
 *
 * Built with -DCLH_WITH_MPI=ON and started by mpirun, the processes form
 * MPI's world (mpi_transport.c); otherwise (or started directly) the run is
 * one process and every sum is the identity (transport_single.c). The
 * library sees only a clh_reducer (clheads/reduce.h).
 *
 * What the processes share: every process reads the data and keeps the
 * pixels of its shard (dataset.h: image i on process i % N), builds the same
 * learner from the same seed and draws the same shuffled order; each global
 * batch of --batch-size is split by the owners of its images, each process
 * computes the gradient of its part scaled to the mean over the global batch,
 * and one sum per step (backbone and heads gradients and the loss in one
 * vector) gives every process the same gradient, so every optimizer step is
 * the same. Evaluation counts are summed. After each task a digest of the
 * parameters must agree (else an error naming the process). Only rank 0
 * writes files and prints progress. A process that fails ends all of them
 * (MPI_Abort), and mpirun ends the job when a process dies. */
#ifndef CLI_PARALLEL_H
#define CLI_PARALLEL_H

#include <stddef.h>
#include <stdint.h>

#include "clheads/reduce.h"

typedef struct cli_parallel {
    int rank, size;
    clh_reducer reducer;
    /* What this process summed (for the report of a run): calls, bytes,
     * the wall time inside the sums (waiting for the other processes
     * included), and the values of the last gradient step's sum. */
    uint64_t sums, bytes;
    double seconds;
    size_t step_values;
} cli_parallel;

/* Joins the run's processes (MPI when launched by mpirun), else a single
 * process. Returns 0, or 1 with a message. */
int cli_parallel_start(cli_parallel *par, char *err, size_t err_len);
/* Leaves normally (MPI_Finalize). */
void cli_parallel_end(cli_parallel *par);
/* After a failure on this process: with more than one process, ends all of
 * them with exit code `code` (never returns); alone, returns. */
void cli_parallel_abort(const cli_parallel *par, int code);

static inline int cli_parallel_is_root(const cli_parallel *par) { return !par || par->rank == 0; }

/* Every process passes a digest of what must be identical; 0 when all equal
 * rank 0's, else 1 with a message naming `what` and the first process that
 * differs. */
/* A sum over the processes (the reducer's); 0, or 1 with a message naming
 * what was summed. */
int cli_parallel_sum_f32(cli_parallel *par, float *values, size_t count, const char *what,
                         char *err, size_t err_len);
int cli_parallel_sum_f64(cli_parallel *par, double *values, size_t count, const char *what,
                         char *err, size_t err_len);

int cli_parallel_agree(cli_parallel *par, uint64_t digest, const char *what, char *err,
                       size_t err_len);

/* FNV-1a 64 of bytes, continuing from h (start: CLI_DIGEST_START). */
#define CLI_DIGEST_START 0xcbf29ce484222325ull
uint64_t cli_digest(uint64_t h, const void *bytes, size_t len);

/* ---- the transport (mpi_transport.c or transport_single.c) -------------- */

/* 1 when built with MPI. */
extern const int cli_transport_has_mpi;
/* Joins (rank, size); 0 or 1 with a message. */
int cli_transport_init(int *rank, int *size, char *err, size_t err_len);
clh_status cli_transport_sum_f32(void *context, float *values, size_t count);
clh_status cli_transport_sum_f64(void *context, double *values, size_t count);
/* The message of the transport's last failed sum ("" if none). */
const char *cli_transport_error(void);
void cli_transport_abort(int code);
void cli_transport_finalize(void);

#endif
