/* Validation of the run state read back on --resume (see run.h): a
 * checkpoint is outside input, so its accuracies, losses and weights are
 * checked for finiteness, range and consistency with run.phases_done before
 * anything is reported from them. */
#include <math.h>
#include <stdio.h>

#include "run.h"

static int check_matrix(const char *name, const double *acc, const cli_results *results,
                        int64_t phases, int joint, char *err, size_t err_len) {
    int64_t T = results->tasks;
    for (int64_t r = 0; r < results->rows; r++) {
        int64_t seen = r >= phases ? 0 : joint ? T : r + 1;
        for (int64_t tau = 0; tau < T; tau++) {
            double a = acc[r * T + tau];
            if (tau < seen && !(isfinite(a) && a >= 0.0 && a <= 1.0)) {
                snprintf(err, err_len, "checkpoint tensor %s[%lld][%lld] is %g, expected an "
                         "accuracy in [0, 1] (row %lld of %lld completed phases)", name,
                         (long long)r, (long long)tau, a, (long long)r, (long long)phases);
                return 1;
            }
            if (tau >= seen && !isnan(a)) {
                snprintf(err, err_len, "checkpoint tensor %s[%lld][%lld] is %g, but that cell "
                         "was not evaluated after %lld completed phases (expected NaN; is "
                         "run.phases_done edited?)", name, (long long)r, (long long)tau, a,
                         (long long)phases);
                return 1;
            }
        }
    }
    return 0;
}

int cli_state_check_results(const cli_results *results, int64_t phases, int joint,
                            int has_epochs, char *err, size_t err_len) {
    if (phases < 0 || phases > results->rows) {
        snprintf(err, err_len, "checkpoint claims %lld completed phases of %lld",
                 (long long)phases, (long long)results->rows);
        return 1;
    }
    if (check_matrix("run.accuracy", results->acc, results, phases, joint, err, err_len))
        return 1;
    if (results->acc_aware && check_matrix("run.accuracy_task_aware", results->acc_aware,
                                           results, phases, joint, err, err_len))
        return 1;
    for (int64_t r = 0; r < results->rows; r++) {
        double l = results->loss[r];
        int trained = r < phases && has_epochs;
        if (trained && !(isfinite(l) && l >= 0.0)) {
            snprintf(err, err_len, "checkpoint tensor run.loss[%lld] is %g, expected a finite "
                     "loss >= 0", (long long)r, l);
            return 1;
        }
        if (!trained && !isnan(l)) {
            snprintf(err, err_len, "checkpoint tensor run.loss[%lld] is %g, but phase %lld "
                     "was not trained (expected NaN; is run.phases_done edited?)", (long long)r,
                     l, (long long)r);
            return 1;
        }
    }
    return 0;
}

int cli_state_check_finite(const char *name, const float *values, size_t count, char *err,
                           size_t err_len) {
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(values[i])) {
            snprintf(err, err_len, "checkpoint tensor %s[%zu] is %g, expected a finite number",
                     name, i, (double)values[i]);
            return 1;
        }
    }
    return 0;
}
