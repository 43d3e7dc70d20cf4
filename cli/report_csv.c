/* acc.csv in CLArena's layout (see report.h): the same header and columns as
 * clarena's update_test_acc_to_csv (after_training_task, average_accuracy,
 * test_on_task_<id>), 1-based task ids, fractions, empty cells for tasks not
 * yet seen. A joint run has one row, after the last task. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "metrics.h"
#include "report.h"

int cli_report_csv(const char *path, const cli_results *results, int aware, char *err,
                   size_t err_len) {
    const double *acc = aware ? results->acc_aware : results->acc;
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        return 1;
    }
    int64_t T = results->tasks;
    fputs("after_training_task,average_accuracy", f);
    for (int64_t tau = 0; tau < T; tau++) fprintf(f, ",test_on_task_%lld", (long long)tau + 1);
    fputc('\n', f);
    for (int64_t r = 0; r < results->rows_done; r++) {
        int64_t t = cli_row_task(results, r);
        fprintf(f, "%lld,%.17g", (long long)t + 1, cli_row_average(results, acc, r));
        for (int64_t tau = 0; tau < T; tau++) {
            double a = acc[r * T + tau];
            if (isnan(a))
                fputc(',', f);
            else
                fprintf(f, ",%.17g", a);
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        snprintf(err, err_len, "error writing %s", path);
        return 1;
    }
    return 0;
}
