/* Continual-learning metrics over an accuracy matrix.
 *
 * acc is row-major [rows, tasks]: acc[t * tasks + tau] is the accuracy on the
 * test data of task tau after training task t (a fraction in [0, 1]); entries
 * with tau > t are NaN (not evaluated). A sequential run has rows = tasks.
 *
 *   average accuracy after t:  A_t = mean over tau <= t of acc[t][tau]
 *   backward transfer (Lopez-Paz & Ranzato 2017, GEM):
 *       BWT = 1/(T-1) * sum over tau < T-1 of (acc[T-1][tau] - acc[tau][tau])
 *   forgetting (Chaudhry et al. 2018, RWalk), averaged over the old tasks:
 *       F = 1/(T-1) * sum over tau < T-1 of
 *           (max over t in [tau, T-2] of acc[t][tau]) - acc[T-1][tau]
 * With one task, BWT and forgetting are undefined (NaN).
 */
#ifndef CLI_METRICS_H
#define CLI_METRICS_H

#include <stdint.h>

/* Mean of the first `seen` entries of one row of the matrix (the tasks seen:
 * t + 1 after task t in a sequential run, all tasks in a joint one). */
double cli_average_accuracy(const double *row, int64_t seen);
double cli_backward_transfer(const double *acc, int64_t tasks);
double cli_forgetting(const double *acc, int64_t tasks);

#endif
