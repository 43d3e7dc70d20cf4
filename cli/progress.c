/* The progress display of progress.h. */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_init(cli_progress *progress, int quiet) {
    progress->mode = quiet ? 0 : (isatty(fileno(stderr)) ? 1 : 2);
    progress->last_draw = 0.0;
}

void cli_progress_batch(cli_progress *progress, const char *phase, int64_t epoch, int64_t epochs,
                        int64_t batch, int64_t batches, double loss) {
    if (progress->mode != 1) return;
    double now = cli_now();
    /* Redraw at most 20 times a second, and always on the last batch. */
    if (batch + 1 < batches && now - progress->last_draw < 0.05) return;
    progress->last_draw = now;
    enum { WIDTH = 30 };
    int filled = batches > 0 ? (int)((batch + 1) * WIDTH / batches) : WIDTH;
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++) bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r%s epoch %lld/%lld [%s] batch %lld/%lld loss %.4f \x1b[K", phase,
            (long long)epoch + 1, (long long)epochs, bar, (long long)batch + 1,
            (long long)batches, loss);
    fflush(stderr);
}

void cli_progress_epoch(cli_progress *progress, const char *phase, int64_t epoch, int64_t epochs,
                        double mean_loss, double seconds) {
    if (progress->mode == 0) return;
    if (progress->mode == 1) fputs("\r\x1b[K", stderr);
    fprintf(stderr, "%s epoch %lld/%lld: mean loss %.4f (%.2f s)\n", phase, (long long)epoch + 1,
            (long long)epochs, mean_loss, seconds);
    fflush(stderr);
}
