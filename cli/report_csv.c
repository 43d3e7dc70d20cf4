/* acc.csv in CLArena's layout (see report.h): the same header and columns as
 * clarena's update_test_acc_to_csv (after_training_task, average_accuracy,
 * test_on_task_<id>), 1-based task ids, fractions, empty cells for tasks not
 * yet seen. A joint run has one row, after the last task. */
#include <math.h>
#include <string.h>

#include "atomic_file.h"
#include "metrics.h"
#include "report.h"

int cli_report_csv(const char *path, const cli_results *results, int aware, char *err,
                   size_t err_len) {
    const double *acc = aware ? results->acc_aware : results->acc;
    cli_out_file out;
    if (cli_out_open(&out, path, err, err_len)) return 1;
    FILE *f = out.stream;
    int64_t T = results->tasks;
    fputs("after_training_task,average_accuracy", f);
    for (int64_t tau = 0; tau < T; tau++) fprintf(f, ",test_on_task_%lld", (long long)tau + 1);
    fputc('\n', f);
    for (int64_t r = 0; r < results->rows_done; r++) {
        int64_t t = cli_row_task(results, r);
        double avg = cli_row_average(results, acc, r);
        fprintf(f, "%lld,", (long long)t + 1);
        if (isfinite(avg)) fprintf(f, "%.17g", avg);
        for (int64_t tau = 0; tau < T; tau++) {
            double a = acc[r * T + tau];
            if (!isfinite(a)) /* not evaluated: an empty cell */
                fputc(',', f);
            else
                fprintf(f, ",%.17g", a);
        }
        fputc('\n', f);
    }
    return cli_out_commit(&out, err, err_len);
}
