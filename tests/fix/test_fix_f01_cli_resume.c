/* Finding 1 (the CLI's side): `clheads run --resume` on a checkpoint whose
 * optimizer buffer (the heads optimizer's exp_avg_sq) is stored as U8, I8,
 * BOOL, I16, I32 or U64 with the right element count fails with a message
 * naming the tensor, where it read past the buffer before (the sanitizer build
 * catches any such read). The tool now stores its optimizers in the library's
 * format (clh_optim_export_create_prefixed), whose load converts F16, BF16 and
 * F64 exactly (optim.h): those resume, reading every byte in bounds. */
#include "test_cli_capture.h" /* first: it sets _POSIX_C_SOURCE */

#include <string.h>

#include "check.h"
#include "test_cli_util.h"

#define TARGET "optimizer.heads.heads.0.weight.exp_avg_sq"

/* Rewrites dir's checkpoint with TARGET in dtype d (same element count). */
static int rewrite_checkpoint(const char *dir, clh_dtype d) {
    char path[600];
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", dir);
    clh_st_file *file = NULL;
    if (clh_st_open(&file, path) != CLH_OK) return 0;
    size_t n = clh_st_count(file), n_meta = clh_st_meta_count(file);
    clh_st_tensor *tensors = calloc(n, sizeof *tensors);
    clh_st_meta *meta = calloc(n_meta ? n_meta : 1, sizeof *meta);
    unsigned char *bytes = NULL;
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        tensors[i] = *clh_st_at(file, i);
        if (strcmp(tensors[i].name, TARGET) != 0) continue;
        size_t numel = clh_st_numel(&tensors[i]);
        bytes = calloc(numel ? numel : 1, clh_dtype_size(d));
        tensors[i].dtype = d;
        tensors[i].data = bytes;
        tensors[i].nbytes = numel * clh_dtype_size(d);
        found = 1;
    }
    for (size_t m = 0; m < n_meta; m++) meta[m] = *clh_st_meta_at(file, m);
    int ok = found && clh_st_save(path, tensors, n, meta, n_meta) == CLH_OK;
    free(bytes);
    free(tensors);
    free(meta);
    clh_st_free(file);
    return ok;
}

int main(void) {
    static const clh_dtype dtypes[] = {CLH_DT_U8,  CLH_DT_I8,  CLH_DT_BOOL, CLH_DT_F16, CLH_DT_BF16,
                                       CLH_DT_I16, CLH_DT_F64, CLH_DT_I32,  CLH_DT_U64};
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++) {
        char dir[512], sub[64];
        snprintf(sub, sizeof sub, "resume-%s", clh_dtype_name(dtypes[i]));
        work_dir(sub, dir, sizeof dir);
        CHECK(run_cli("run", "--paradigm", "til", "--dataset", "synthetic", "--optimizer", "adam",
                      "--seed", "7", "--epochs", "1", "--out", dir, "--quiet", "--stop-after", "1",
                      NULL) == 0);
        CHECK(rewrite_checkpoint(dir, dtypes[i]));
        clh_dtype d = dtypes[i];
        int floating = d == CLH_DT_F16 || d == CLH_DT_BF16 || d == CLH_DT_F64;
        capture cap;
        char log[600];
        snprintf(log, sizeof log, "%s/stderr.txt", dir);
        capture_begin(&cap, stderr, log);
        int rc = run_cli("run", "--resume", dir, "--quiet", NULL);
        char *msg = capture_end(&cap);
        if (floating) {
            CHECK(rc == 0);
        } else {
            CHECK(rc != 0);
            CHECK(msg && strstr(msg, TARGET) != NULL);
        }
        free(msg);
    }
    return check_done("test_fix_f01_cli_resume");
}
