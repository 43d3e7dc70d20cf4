/* Writing the results of `clheads run`: the table on stdout, results.json,
 * acc.csv (CLArena's layout), and two SVG pictures. Every writer returns 0 or
 * 1 with a message in err. */
#ifndef CLI_REPORT_H
#define CLI_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "run.h"

/* The accuracy matrix as a table, then the summary metrics (report_table.c). */
void cli_report_table(FILE *out, const cli_run_config *cfg, const cli_results *results);

/* results.json: the options, the tasks, the matrix (null where not evaluated),
 * average accuracy after each task, BWT and forgetting (report_json.c).
 * Deterministic: no times or paths, so two runs with the same seed write the
 * same bytes. */
int cli_report_json(const char *path, const cli_run_config *cfg, const cli_tasks *tasks,
                    const cli_results *results, char *err, size_t err_len);

/* CLArena's acc.csv layout (report_csv.c): header
 *   after_training_task,average_accuracy,test_on_task_1,...,test_on_task_T
 * one row per evaluation point, task ids 1-based, accuracies as fractions,
 * empty cells for tasks not yet seen. aware selects the task-aware matrix. */
int cli_report_csv(const char *path, const cli_results *results, int aware, char *err,
                   size_t err_len);

/* report_svg.c: a heatmap of the accuracy matrix, and a line plot of the
 * average accuracy after each task; standalone SVG 1.1. */
int cli_report_svg_heatmap(const char *path, const char *title, const cli_results *results,
                           char *err, size_t err_len);
int cli_report_svg_average(const char *path, const char *title, const cli_results *results,
                           char *err, size_t err_len);

/* The task after which row `row` was evaluated (row itself, or the last task
 * for a joint run). */
int64_t cli_row_task(const cli_results *results, int64_t row);
/* Average accuracy of row `row` of acc (over the tasks seen by then). */
double cli_row_average(const cli_results *results, const double *acc, int64_t row);

#endif
