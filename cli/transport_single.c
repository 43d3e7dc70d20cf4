/* The transport of a build without MPI: one process, sums are the identity.
 * Started by mpirun with more than one process, it refuses to run: each
 * process would train alone and write the same files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parallel.h"

/* The number of processes a launcher announces (OpenMPI, PMI), or 1. */
static long launched_size(void) {
    const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && *v) {
            char *end = NULL;
            long n = strtol(v, &end, 10);
            if (end && *end == '\0' && n > 1) return n;
        }
    }
    return 1;
}

const int cli_transport_has_mpi = 0;

int cli_transport_init(int *rank, int *size, char *err, size_t err_len) {
    *rank = 0;
    *size = 1;
    long n = launched_size();
    if (n > 1) {
        snprintf(err, err_len, "started as one of %ld processes, but this clheads was built "
                 "without MPI (configure with -DCLH_WITH_MPI=ON)", n);
        return 1;
    }
    return 0;
}

clh_status cli_transport_sum_f32(void *context, float *values, size_t count) {
    (void)context, (void)values, (void)count;
    return CLH_OK;
}

clh_status cli_transport_sum_f64(void *context, double *values, size_t count) {
    (void)context, (void)values, (void)count;
    return CLH_OK;
}

void cli_transport_abort(int code) { (void)code; }
void cli_transport_finalize(void) {}

const char *cli_transport_error(void) { return ""; }
