/* A program built against the *installed* clheads (tests/install/install_test.sh):
 * CIL heads over three tasks, one forward and backward; exits 0 when the
 * results are consistent. Uses only the public header. */
#include <clheads.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define IN 5
#define B 2

int main(void) {
    clh_heads *heads = NULL;
    float x[B * IN] = {1, 0, 0, 0, 0, 0, 1, 0, 0, 0}, logits[B * 7], dx[B * IN];
    float dlogits[B * 7];
    int64_t width = 0;
    if (clh_heads_create(&heads, CLH_CIL, IN, 7) != CLH_OK) return 1;
    if (clh_heads_setup_task(heads, 3, 2) != CLH_OK || clh_heads_setup_task(heads, 1, 2) != CLH_OK ||
        clh_heads_setup_task(heads, 2, 3) != CLH_OK)
        return 2;
    if (clh_heads_logits_width(heads, CLH_NO_TASK, &width) != CLH_OK || width != 7) return 3;
    if (clh_heads_forward(heads, x, B, CLH_NO_TASK, logits) != CLH_OK) return 4;
    /* x[0] = e0: logit j is W[j][0] + b[j]. */
    const float *params = NULL;
    size_t count = 0;
    clh_heads_flat_const(heads, &params, NULL, &count);
    if (count != 7 * (IN + 1)) return 5;
    for (int j = 0; j < 7; j++)
        if (fabsf(logits[j] - (params[j * IN] + params[7 * IN + j])) > 1e-6f) return 6;
    for (int i = 0; i < B * 7; i++) dlogits[i] = 1.0f;
    if (clh_heads_backward(heads, x, B, CLH_NO_TASK, dlogits, dx) != CLH_OK) return 7;
    /* An error path: status name and detail. */
    clh_status st = clh_heads_setup_task(heads, 3, 9);
    if (st != CLH_E_TASK_CONFLICT || strcmp(clh_status_name(st), "CLH_E_TASK_CONFLICT") != 0 ||
        clh_last_error()[0] == '\0')
        return 8;
    printf("consumer: %s backend, %lld logits, logit[0] = %.6f, detail: %s\n", clh_gemm_backend(),
           (long long)width, (double)logits[0], clh_last_error());
    clh_heads_free(heads);
    return 0;
}
