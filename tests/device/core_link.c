/* The device core's link check (scripts/cross_arm.sh): a class-incremental
 * learner's training step written against the public API, linked for a
 * Cortex-M4 with newlib (nosys stubs for the system calls). It is linked,
 * not run: linking shows that the static library needs nothing a bare-metal
 * target lacks (no thread-local storage, no libatomic, no operating system
 * call beyond malloc), and its size is what such a program costs in flash. */
#include <clheads.h>

enum { IN = 64, BATCH = 8 };

static float features[BATCH * IN], logits[BATCH * 20], dlogits[BATCH * 20];
static int64_t labels[BATCH];

int main(void) {
    clh_heads *heads = NULL;
    clh_optim *optim = NULL;
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_SGD, 0.05);
    config.momentum = 0.9;
    if (clh_heads_create(&heads, CLH_CIL, IN, 1) || clh_optim_create(&optim, &config)) return 1;
    for (int64_t task = 0; task < 2; task++) { /* two tasks of ten classes arrive */
        if (clh_heads_setup_task(heads, task, 10)) return 2;
        for (int i = 0; i < BATCH * IN; i++) features[i] = (float)((i * 37 + task) % 17) / 17.0f;
        for (int i = 0; i < BATCH; i++) labels[i] = task * 10 + i % 10;
        float loss = 0.0f;
        clh_heads_zero_grad(heads);
        if (clh_heads_forward(heads, features, BATCH, CLH_NO_TASK, logits) ||
            clh_heads_cross_entropy(heads, logits, BATCH, CLH_NO_TASK, NULL, labels, &loss, dlogits) ||
            clh_heads_backward(heads, features, BATCH, CLH_NO_TASK, dlogits, NULL) ||
            clh_optim_step_heads(optim, heads))
            return 3;
    }
    clh_optim_free(optim);
    clh_heads_free(heads);
    return 0;
}
