/* metrics.c and the CSV writer against an accuracy matrix worked out by hand.
 *
 *            tau=1  tau=2  tau=3
 *   after 1   0.90     -      -
 *   after 2   0.95   0.80     -
 *   after 3   0.30   0.85   0.95
 *
 * average accuracy: 0.90; (0.95 + 0.80)/2 = 0.875; (0.30 + 0.85 + 0.95)/3 = 0.70
 * BWT = ((0.30 - 0.90) + (0.85 - 0.80)) / 2 = -0.275
 * forgetting: task 1 peaked at 0.95 (after task 2) and ends at 0.30: 0.65;
 *             task 2 peaked at 0.80 and ends at 0.85: -0.05; mean 0.30
 * (BWT and forgetting differ here because task 1 improved before it fell.) */
#include <math.h>
#include <string.h>

#include "check.h"
#include "metrics.h"
#include "report.h"
#include "test_cli_util.h"

int main(void) {
    double acc[9] = {0.90, NAN, NAN, 0.95, 0.80, NAN, 0.30, 0.85, 0.95};
    CHECK_CLOSE(cli_average_accuracy(acc + 0, 1), 0.90, 1e-12, 1);
    CHECK_CLOSE(cli_average_accuracy(acc + 3, 2), 0.875, 1e-12, 1);
    CHECK_CLOSE(cli_average_accuracy(acc + 6, 3), 0.70, 1e-12, 1);
    CHECK_CLOSE(cli_backward_transfer(acc, 3), -0.275, 1e-12, 1);
    CHECK_CLOSE(cli_forgetting(acc, 3), 0.30, 1e-12, 1);
    /* One task: nothing to forget, both undefined. */
    CHECK(isnan(cli_backward_transfer(acc, 1)));
    CHECK(isnan(cli_forgetting(acc, 1)));
    /* No forgetting at all: a matrix that never drops. */
    double flat[4] = {0.5, NAN, 0.5, 0.7};
    CHECK_CLOSE(cli_backward_transfer(flat, 2), 0.0, 1e-12, 1);
    CHECK_CLOSE(cli_forgetting(flat, 2), 0.0, 1e-12, 1);

    /* The CSV in CLArena's acc.csv layout, for the same matrix. */
    cli_results results;
    CHECK(cli_results_init(&results, 3, 3, 0) == 0);
    memcpy(results.acc, acc, sizeof acc);
    results.rows_done = 3;
    char dir[512], err[256];
    work_dir("metrics", dir, sizeof dir);
    char path[600];
    snprintf(path, sizeof path, "%s/acc.csv", dir);
    CHECK(cli_report_csv(path, &results, 0, err, sizeof err) == 0);
    char *csv = slurp(dir, "acc.csv", NULL);
    CHECK(csv != NULL);
    if (csv) {
        const char *want =
            "after_training_task,average_accuracy,test_on_task_1,test_on_task_2,test_on_task_3\n"
            "1,0.90000000000000002,0.90000000000000002,,\n"
            "2,0.875,0.94999999999999996,0.80000000000000004,\n"
            "3,0.69999999999999984,0.29999999999999999,0.84999999999999998,0.94999999999999996\n";
        CHECK(strcmp(csv, want) == 0);
        if (strcmp(csv, want) != 0) fprintf(stderr, "got:\n%s", csv);
        free(csv);
    }
    /* The row average a joint run reports: one row over all tasks. */
    cli_results joint;
    CHECK(cli_results_init(&joint, 3, 1, 0) == 0);
    joint.acc[0] = 0.9, joint.acc[1] = 0.6, joint.acc[2] = 0.3;
    joint.rows_done = 1;
    CHECK(cli_row_task(&joint, 0) == 2);
    CHECK_CLOSE(cli_row_average(&joint, joint.acc, 0), 0.6, 1e-12, 1);
    cli_results_free(&joint);
    cli_results_free(&results);
    return check_done("test_cli_metrics");
}
