/* Finding 14: once the rename has replaced the target the save has
 * succeeded, so a failing directory fsync after it (injected) returns CLH_OK
 * and the new file is what a reader finds; a failure before the rename still
 * fails and keeps the old file. */
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "io/safetensors_internal.h"

static float read_back(const char *path) {
    clh_st_file *file = NULL;
    float value = -1;
    CHECK_OK(clh_st_open(&file, path));
    if (file) CHECK_OK(clh_st_to_f32(clh_st_find(file, "x"), &value, 1));
    clh_st_free(file);
    return value;
}

static clh_status save_value(const char *path, float value) {
    clh_st_tensor t;
    memset(&t, 0, sizeof t);
    t.name = "x";
    t.dtype = CLH_DT_F32;
    t.ndim = 1;
    t.shape[0] = 1;
    t.data = &value;
    t.nbytes = sizeof value;
    return clh_st_save(path, &t, 1, NULL, 0);
}

int main(void) {
    char path[256];
    snprintf(path, sizeof path, "/tmp/clh_fix_f14_%ld.safetensors", (long)getpid());
    CHECK_OK(save_value(path, 1.0f));
    clh_test_fail_save_at(CLH_SAVE_STEP_DIRSYNC);
    CHECK_OK(save_value(path, 2.0f));
    CHECK(read_back(path) == 2.0f);
    clh_test_fail_save_at(CLH_SAVE_STEP_RENAME);
    CHECK_STATUS(save_value(path, 3.0f), CLH_E_IO);
    CHECK(read_back(path) == 2.0f);
    unlink(path);
    return check_done("test_fix_f14_dirsync");
}
