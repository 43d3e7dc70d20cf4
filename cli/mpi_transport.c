/* The MPI transport of data-parallel runs (parallel.h), built with
 * -DCLH_WITH_MPI=ON.
 *
 * The sum is a gather to rank 0, a sum there in rank order
 * (((v0 + v1) + v2) + ...), and a broadcast: MPI_Allreduce would be one call,
 * but the order in which it adds is the implementation's (it may change with
 * the message size, the number of processes or the network), and a run must
 * give the same bytes every time. Vectors go in chunks of CHUNK elements, so
 * rank 0 needs N x CHUNK elements of buffer whatever the vector's length.
 * The cost: rank 0 receives (N-1) vectors per sum, where a ring all-reduce
 * moves about 2 vectors per process; for the few processes of a small
 * cluster and one vector per step it is the simpler and exact choice.
 *
 * A process started without mpirun (no launcher in its environment) runs
 * alone without initialising MPI, so the tests and the tool behave as in a
 * build without MPI. Errors of MPI calls are returned (MPI_ERRORS_RETURN)
 * and reported by the caller, which then ends every process (MPI_Abort). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parallel.h"

const int cli_transport_has_mpi = 1;

enum { CHUNK = 1 << 20 };

static int initialized, world_rank, world_size;
static char last_error[512];

const char *cli_transport_error(void) { return last_error; }

/* OpenMPI's mpirun, PMIx and MPICH's Hydra each set one of these. */
static int launched_by_mpirun(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE");
}

static void mpi_message(int code, char *err, size_t err_len, const char *what) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "code %d", code);
    snprintf(err, err_len, "%s failed: %s", what, text);
}

int cli_transport_init(int *rank, int *size, char *err, size_t err_len) {
    *rank = 0;
    *size = 1;
    if (!launched_by_mpirun()) return 0;
    int provided = 0;
    /* Only the main thread calls MPI; the library's helper threads never do. */
    int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) {
        mpi_message(rc, err, err_len, "MPI_Init_thread");
        return 1;
    }
    initialized = 1;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    *rank = world_rank;
    *size = world_size;
    return 0;
}

/* Rank 0's buffer for the gathered chunks, kept between sums (a run sums the
 * same vector every step; a fresh block of megabytes each time would be
 * mapped and faulted in anew) and freed by cli_transport_finalize. */
static void *gather_block;
static size_t gather_block_bytes;

static void *gather_buffer(size_t processes, size_t chunk, size_t elem) {
    size_t bytes;
    if (__builtin_mul_overflow(processes, chunk, &bytes) ||
        __builtin_mul_overflow(bytes, elem, &bytes))
        return NULL;
    if (bytes <= gather_block_bytes) return gather_block;
    void *grown = realloc(gather_block, bytes);
    if (!grown) return NULL;
    gather_block = grown;
    gather_block_bytes = bytes;
    return grown;
}

/* The sum of one element type: gather, add in rank order on rank 0, broadcast. */
#define DEFINE_SUM(name, type, mpi_type)                                                     \
    clh_status name(void *context, type *values, size_t count) {                            \
        (void)context;                                                                       \
        if (!initialized || world_size <= 1 || count == 0) return CLH_OK;                    \
        size_t chunk = count < CHUNK ? count : CHUNK;                                         \
        type *all = NULL;                                                                     \
        if (world_rank == 0 &&                                                                \
            !(all = gather_buffer((size_t)world_size, chunk, sizeof(type)))) {              \
            snprintf(last_error, sizeof last_error, "rank 0: no memory to gather %zu values " \
                     "from %d processes", chunk, world_size);                                 \
            return CLH_E_NOMEM;                                                               \
        }                                                                                     \
        clh_status st = CLH_OK;                                                               \
        for (size_t begin = 0; begin < count && st == CLH_OK; begin += chunk) {              \
            int n = (int)(count - begin < chunk ? count - begin : chunk);                    \
            int rc = MPI_Gather(values + begin, n, mpi_type, all, n, mpi_type, 0,            \
                                MPI_COMM_WORLD);                                              \
            if (rc == MPI_SUCCESS && world_rank == 0)                                         \
                for (int i = 0; i < n; i++) {                                                 \
                    type s = all[i];                                                          \
                    for (int p = 1; p < world_size; p++) s += all[(size_t)p * (size_t)n + (size_t)i]; \
                    values[begin + (size_t)i] = s;                                            \
                }                                                                             \
            if (rc == MPI_SUCCESS) rc = MPI_Bcast(values + begin, n, mpi_type, 0, MPI_COMM_WORLD); \
            if (rc != MPI_SUCCESS) {                                                          \
                mpi_message(rc, last_error, sizeof last_error, "MPI_Gather/MPI_Bcast");       \
                st = CLH_E_IO;                                                                \
            }                                                                                 \
        }                                                                                     \
        return st;                                                                            \
    }
DEFINE_SUM(cli_transport_sum_f32, float, MPI_FLOAT)
DEFINE_SUM(cli_transport_sum_f64, double, MPI_DOUBLE)
#undef DEFINE_SUM

void cli_transport_abort(int code) {
    if (initialized) MPI_Abort(MPI_COMM_WORLD, code);
}

void cli_transport_finalize(void) {
    free(gather_block);
    gather_block = NULL;
    gather_block_bytes = 0;
    if (initialized) {
        MPI_Finalize();
        initialized = 0;
    }
}
