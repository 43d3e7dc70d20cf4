/* The metrics of metrics.h. Accuracies are already per-sample fractions; the
 * averages here are over tasks, as in the papers cited there. */
#include "metrics.h"

#include <math.h>

double cli_average_accuracy(const double *row, int64_t seen) {
    double sum = 0.0;
    for (int64_t tau = 0; tau < seen; tau++) sum += row[tau];
    return seen > 0 ? sum / (double)seen : NAN;
}

double cli_backward_transfer(const double *acc, int64_t tasks) {
    if (tasks < 2) return NAN;
    int64_t last = tasks - 1;
    double sum = 0.0;
    for (int64_t tau = 0; tau < last; tau++)
        sum += acc[last * tasks + tau] - acc[tau * tasks + tau];
    return sum / (double)last;
}

double cli_forgetting(const double *acc, int64_t tasks) {
    if (tasks < 2) return NAN;
    int64_t last = tasks - 1;
    double sum = 0.0;
    for (int64_t tau = 0; tau < last; tau++) {
        double best = acc[tau * tasks + tau];
        for (int64_t t = tau + 1; t < last; t++)
            if (acc[t * tasks + tau] > best) best = acc[t * tasks + tau];
        sum += best - acc[last * tasks + tau];
    }
    return sum / (double)last;
}
