/* The text table of `clheads run` (see report.h). */
#include <math.h>

#include "metrics.h"
#include "report.h"

int64_t cli_row_task(const cli_results *results, int64_t row) {
    return results->rows == results->tasks ? row : results->tasks - 1;
}

double cli_row_average(const cli_results *results, const double *acc, int64_t row) {
    return cli_average_accuracy(acc + row * results->tasks, cli_row_task(results, row) + 1);
}

static void print_matrix(FILE *out, const char *title, const cli_results *results,
                         const double *acc) {
    int64_t T = results->tasks;
    fprintf(out, "%s (rows: after training task t; columns: tested on task tau; %%)\n", title);
    fprintf(out, "%-10s", "");
    for (int64_t tau = 0; tau < T; tau++) fprintf(out, " %7s%-2lld", "tau=", (long long)tau + 1);
    fprintf(out, " %9s\n", "average");
    for (int64_t r = 0; r < results->rows_done; r++) {
        if (results->rows == T)
            fprintf(out, "t=%-8lld", (long long)r + 1);
        else
            fprintf(out, "%-10s", "joint");
        for (int64_t tau = 0; tau < T; tau++) {
            double a = acc[r * T + tau];
            if (isnan(a))
                fprintf(out, " %9s", "-");
            else
                fprintf(out, " %9.2f", 100.0 * a);
        }
        fprintf(out, " %9.2f\n", 100.0 * cli_row_average(results, acc, r));
    }
}

static void print_summary(FILE *out, const char *label, const cli_results *results,
                          const double *acc) {
    int64_t T = results->tasks;
    int64_t last = results->rows_done - 1;
    double avg = cli_row_average(results, acc, last) * 100.0;
    fprintf(out, "%s: average accuracy %.2f%%", label, avg);
    if (results->rows == T && results->rows_done == T && T > 1) {
        fprintf(out, ", backward transfer %+.2f, forgetting %.2f (percentage points)",
                100.0 * cli_backward_transfer(acc, T), 100.0 * cli_forgetting(acc, T));
    }
    fputc('\n', out);
}

void cli_report_table(FILE *out, const cli_run_config *cfg, const cli_results *results) {
    if (results->rows_done == 0) return;
    const char *name = clh_paradigm_name(cfg->paradigm);
    char title[96];
    snprintf(title, sizeof title, "%s accuracy%s", name,
             results->acc_aware ? ", task-agnostic" : "");
    print_matrix(out, title, results, results->acc);
    if (results->acc_aware) {
        snprintf(title, sizeof title, "%s accuracy, task-aware", name);
        print_matrix(out, title, results, results->acc_aware);
    }
    print_summary(out, results->acc_aware ? "task-agnostic" : name, results, results->acc);
    if (results->acc_aware) print_summary(out, "task-aware", results, results->acc_aware);
}
