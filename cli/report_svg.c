/* The two pictures of `clheads run` (see report.h): plain SVG 1.1 with text
 * in a generic font, so any browser opens them without anything else. */
#include <math.h>
#include <string.h>

#include "atomic_file.h"
#include "metrics.h"
#include "report.h"

static FILE *open_svg(cli_out_file *out, const char *path, int width, int height, char *err,
                      size_t err_len) {
    if (cli_out_open(out, path, err, err_len)) return NULL;
    FILE *f = out->stream;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
               "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            width, height, width, height);
    return f;
}

static int close_svg(cli_out_file *out, char *err, size_t err_len) {
    fputs("</svg>\n", out->stream);
    return cli_out_commit(out, err, err_len);
}

/* White (0%) to dark blue (100%), linear in each channel. */
static void color(double a, char out[8]) {
    if (a < 0) a = 0;
    if (a > 1) a = 1;
    int r = (int)lround(247 - a * (247 - 8)), g = (int)lround(251 - a * (251 - 48)),
        b = (int)lround(255 - a * (255 - 107));
    snprintf(out, 8, "#%02x%02x%02x", r, g, b);
}

int cli_report_svg_heatmap(const char *path, const char *title, const cli_results *results,
                           char *err, size_t err_len) {
    int64_t T = results->tasks, rows = results->rows;
    int cell = T <= 10 ? 64 : 640 / (int)T, left = 110, top = 70;
    int width = left + (int)T * cell + 40, height = top + (int)rows * cell + 70;
    cli_out_file out;
    FILE *f = open_svg(&out, path, width, height, err, err_len);
    if (!f) return 1;
    fprintf(f, "<text x=\"%d\" y=\"26\" font-size=\"16\" text-anchor=\"middle\">%s</text>\n",
            width / 2, title);
    fprintf(f, "<text x=\"%d\" y=\"50\" font-size=\"12\" text-anchor=\"middle\">tested on task "
               "&#964;</text>\n", left + (int)T * cell / 2);
    fprintf(f, "<text x=\"20\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" "
               "transform=\"rotate(-90 20 %d)\">after training task t</text>\n",
            top + (int)rows * cell / 2, top + (int)rows * cell / 2);
    for (int64_t tau = 0; tau < T; tau++)
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">%lld</text>\n",
                left + (int)tau * cell + cell / 2, top - 6, (long long)tau + 1);
    for (int64_t r = 0; r < rows; r++) {
        int y = top + (int)r * cell;
        if (rows == T)
            fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\">%lld</text>\n",
                    left - 8, y + cell / 2 + 4, (long long)r + 1);
        else
            fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\">joint</text>\n",
                    left - 8, y + cell / 2 + 4);
        for (int64_t tau = 0; tau < T; tau++) {
            int x = left + (int)tau * cell;
            double a = r < results->rows_done ? results->acc[r * T + tau] : NAN;
            if (!isfinite(a)) { /* not evaluated */
                fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#eeeeee\" "
                           "stroke=\"white\"/>\n", x, y, cell, cell);
                continue;
            }
            char fill[8];
            color(a, fill);
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
                       "stroke=\"white\"><title>t=%lld, &#964;=%lld: %.2f%%</title></rect>\n",
                    x, y, cell, cell, fill, (long long)cli_row_task(results, r) + 1,
                    (long long)tau + 1, 100.0 * a);
            if (cell >= 40)
                fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" "
                           "fill=\"%s\">%.1f</text>\n", x + cell / 2, y + cell / 2 + 4,
                        a > 0.55 ? "white" : "black", 100.0 * a);
        }
    }
    /* Legend: the colour scale from 0 to 100%. */
    int ly = top + (int)rows * cell + 24, lw = (int)T * cell;
    fputs("<defs><linearGradient id=\"scale\">", f);
    for (int i = 0; i <= 4; i++) {
        char c[8];
        color(i / 4.0, c);
        fprintf(f, "<stop offset=\"%d%%\" stop-color=\"%s\"/>", i * 25, c);
    }
    fputs("</linearGradient></defs>\n", f);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"12\" fill=\"url(#scale)\" "
               "stroke=\"#999999\"/>\n", left, ly, lw);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\">0%%</text>\n", left, ly + 28);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">100%% accuracy</text>\n",
            left + lw, ly + 28);
    return close_svg(&out, err, err_len);
}

int cli_report_svg_average(const char *path, const char *title, const cli_results *results,
                           char *err, size_t err_len) {
    int64_t T = results->tasks;
    int left = 70, top = 50, pw = 480, ph = 280, width = left + pw + 40, height = top + ph + 60;
    cli_out_file out;
    FILE *f = open_svg(&out, path, width, height, err, err_len);
    if (!f) return 1;
    fprintf(f, "<text x=\"%d\" y=\"26\" font-size=\"16\" text-anchor=\"middle\">%s</text>\n",
            width / 2, title);
    for (int pct = 0; pct <= 100; pct += 20) {
        int y = top + ph - pct * ph / 100;
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#dddddd\"/>\n", left, y,
                left + pw, y);
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%d%%</text>\n",
                left - 6, y + 4, pct);
    }
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
               "stroke=\"#333333\"/>\n", left, top, pw, ph);
    double step = T > 1 ? (double)pw / (double)(T - 1) : 0.0;
    for (int64_t t = 0; t < T; t++)
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%lld</text>\n",
                left + (T > 1 ? t * step : pw / 2.0), top + ph + 16, (long long)t + 1);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">after training "
               "task t</text>\n", left + pw / 2, top + ph + 38);
    fprintf(f, "<text x=\"16\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" "
               "transform=\"rotate(-90 16 %d)\">average accuracy over tasks seen</text>\n",
            top + ph / 2, top + ph / 2);
    const struct { const double *acc; const char *name, *stroke; } series[] = {
        {results->acc, results->acc_aware ? "task-agnostic" : "average accuracy", "#1f4e99"},
        {results->acc_aware, "task-aware", "#d9730d"},
    };
    for (int s = 0; s < 2; s++) {
        if (!series[s].acc || results->rows_done == 0) continue;
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2.5\" points=\"",
                series[s].stroke);
        for (int64_t r = 0, drawn = 0; r < results->rows_done; r++) {
            int64_t t = cli_row_task(results, r);
            double a = cli_row_average(results, series[s].acc, r);
            if (!isfinite(a)) continue; /* no point without a number */
            fprintf(f, "%s%.1f,%.1f", drawn++ ? " " : "", left + (T > 1 ? t * step : pw / 2.0),
                    top + ph - a * ph);
        }
        fputs("\"/>\n", f);
        for (int64_t r = 0; r < results->rows_done; r++) {
            int64_t t = cli_row_task(results, r);
            double a = cli_row_average(results, series[s].acc, r);
            if (!isfinite(a)) continue;
            double x = left + (T > 1 ? t * step : pw / 2.0), y = top + ph - a * ph;
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>after task "
                       "%lld: %.2f%%</title></circle>\n", x, y, series[s].stroke,
                    (long long)t + 1, 100.0 * a);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" "
                       "fill=\"%s\">%.1f</text>\n", x, s == 0 ? y - 9 : y + 18, series[s].stroke,
                    100.0 * a);
        }
        /* Legend bottom left: fine-tuning curves start high and fall to the right. */
        int ly = top + ph - 46 + 18 * s;
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
                   "stroke-width=\"2.5\"/>\n", left + 14, ly, left + 38, ly, series[s].stroke);
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n", left + 44, ly + 4,
                series[s].name);
    }
    return close_svg(&out, err, err_len);
}
