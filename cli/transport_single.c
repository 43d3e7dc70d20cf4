/* The transport of a build without MPI: one process, sums are the identity. */
#include "parallel.h"

const int cli_transport_has_mpi = 0;

int cli_transport_init(int *rank, int *size, char *err, size_t err_len) {
    (void)err, (void)err_len;
    *rank = 0;
    *size = 1;
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
