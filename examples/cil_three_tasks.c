/* Class-incremental heads over three tasks: set up each task's head as it
 * arrives, run forward over all heads (one matrix multiply), take the
 * cross-entropy loss and its gradient, run backward, take one Adam step and
 * print what happened. Exits 0 on success. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "clheads.h"

enum { IN_FEATURES = 10, BATCH = 4, MAX_CLASSES = 16 };

/* Prints the failing call's status and detail, returns 1 (the exit code). */
static int report_failure(const char *call, clh_status status, const clh_heads *heads) {
    fprintf(stderr, "%s failed: %s (%s): %s\n", call, clh_status_name(status), clh_status_message(status),
            heads ? clh_heads_last_error(heads) : clh_last_error());
    return 1;
}

#define TRY(call)                                                     \
    do {                                                              \
        clh_status status_ = (call);                                  \
        if (status_ != CLH_OK) {                                      \
            int code_ = report_failure(#call, status_, heads);        \
            clh_heads_free(heads);                                    \
            return code_;                                             \
        }                                                             \
    } while (0)

int main(void) {
    clh_heads *heads = NULL;
    TRY(clh_heads_create(&heads, CLH_CIL, IN_FEATURES, 2024));

    /* Tasks arrive out of order, with different class counts. */
    const int64_t task_ids[3] = {3, 1, 2};
    const int64_t classes[3] = {2, 3, 2};
    for (int t = 0; t < 3; t++) {
        TRY(clh_heads_setup_task(heads, task_ids[t], classes[t]));
        int64_t offset;
        TRY(clh_heads_task_classes(heads, task_ids[t], NULL, &offset));
        printf("set up task %lld: %lld classes, CIL logits %lld..%lld\n", (long long)task_ids[t],
               (long long)classes[t], (long long)offset, (long long)(offset + classes[t] - 1));
    }
    /* Repeating a set-up with the same class count keeps the weights. */
    TRY(clh_heads_setup_task(heads, 3, 2));
    clh_status conflict = clh_heads_setup_task(heads, 3, 5);
    printf("set up task 3 again with 5 classes: %s (%s)\n", clh_status_name(conflict),
           clh_heads_last_error(heads));

    int64_t width;
    TRY(clh_heads_logits_width(heads, CLH_NO_TASK, &width));
    printf("%zu tasks, %lld classes in total, bank capacity %lld rows, multiply backend %s\n",
           clh_heads_num_tasks(heads), (long long)width, (long long)clh_heads_capacity_rows(heads),
           clh_gemm_backend());

    float x[BATCH * IN_FEATURES];
    for (int i = 0; i < BATCH * IN_FEATURES; i++) x[i] = (float)sin(0.7 * i + 0.1);
    const int64_t labels[BATCH] = {0, 3, 5, 6}; /* global CIL labels */

    float logits[BATCH * MAX_CLASSES], dlogits[BATCH * MAX_CLASSES], dx[BATCH * IN_FEATURES];
    TRY(clh_heads_forward(heads, x, BATCH, CLH_NO_TASK, logits)); /* one matrix multiply */
    printf("forward: %d x %lld logits\n", BATCH, (long long)width);

    for (int i = 0; i < BATCH; i++) {
        printf("  sample %d:", i);
        for (int64_t c = 0; c < width; c++) printf(" %+.4f", logits[i * width + c]);
        printf("  (label %lld)\n", (long long)labels[i]);
    }
    float loss;
    TRY(clh_heads_cross_entropy(heads, logits, BATCH, CLH_NO_TASK, NULL, labels, &loss, dlogits));
    printf("cross-entropy loss: %.6f\n", loss);

    clh_heads_zero_grad(heads);
    TRY(clh_heads_backward(heads, x, BATCH, CLH_NO_TASK, dlogits, dx));
    for (int t = 0; t < 3; t++) {
        clh_head_view head;
        TRY(clh_heads_get_head(heads, task_ids[t], &head));
        double norm = 0;
        for (int64_t k = 0; k < head.out_features * head.in_features; k++)
            norm += (double)head.grad_weight[k] * head.grad_weight[k];
        printf("backward: task %lld weight gradient norm %.6f\n", (long long)task_ids[t], sqrt(norm));
    }
    double dx_norm = 0;
    for (int i = 0; i < BATCH * IN_FEATURES; i++) dx_norm += (double)dx[i] * dx[i];
    printf("backward: d(feature) norm %.6f\n", sqrt(dx_norm));

    /* One Adam step over the whole bank (torch.optim.Adam's update rule). */
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_ADAM, 1e-2);
    clh_optim *adam = NULL;
    TRY(clh_optim_create(&adam, &config));
    clh_status stepped = clh_optim_step_heads(adam, heads);
    clh_optim_free(adam);
    TRY(stepped);
    TRY(clh_heads_forward(heads, x, BATCH, CLH_NO_TASK, logits));
    TRY(clh_heads_cross_entropy(heads, logits, BATCH, CLH_NO_TASK, NULL, labels, &loss, NULL));
    printf("after one Adam step (lr 0.01): loss %.6f\n", loss);

    clh_heads_free(heads);
    return conflict == CLH_E_TASK_CONFLICT ? 0 : 1;
}
