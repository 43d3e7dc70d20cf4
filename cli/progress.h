/* Progress of training on stderr: a bar redrawn in place when stderr is a
 * terminal (task, epoch, batch, loss), one plain line per epoch otherwise (so
 * logs and CI output stay readable), nothing with --quiet. */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <stdint.h>

typedef struct cli_progress {
    int mode; /* 0 quiet, 1 terminal bar, 2 plain lines */
    double last_draw;
} cli_progress;

void cli_progress_init(cli_progress *progress, int quiet);
void cli_progress_batch(cli_progress *progress, const char *phase, int64_t epoch, int64_t epochs,
                        int64_t batch, int64_t batches, double loss);
void cli_progress_epoch(cli_progress *progress, const char *phase, int64_t epoch, int64_t epochs,
                        double mean_loss, double seconds);
/* Monotonic seconds. */
double cli_now(void);

#endif
