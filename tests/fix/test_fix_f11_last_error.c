/* Finding 11: a failing clh_heads_save / clh_heads_save_ex /
 * clh_heads_load_into leaves its detail where clh_heads_last_error(heads)
 * finds it (it was "" because the file layer recorded it without an owner). */
#include <string.h>
#include <unistd.h>

#include "check.h"

int main(void) {
    clh_heads *heads = NULL, *other = NULL;
    CHECK_OK(clh_heads_create(&heads, CLH_TIL, 3, 1));
    CHECK_OK(clh_heads_setup_task(heads, 0, 2));
    CHECK_OK(clh_heads_create(&other, CLH_CIL, 3, 1));
    CHECK_OK(clh_heads_setup_task(other, 0, 2));

    CHECK_STATUS(clh_heads_save(heads, "/nonexistent-dir/x.safetensors"), CLH_E_IO);
    CHECK(clh_heads_last_error(heads)[0] != '\0');
    CHECK(strcmp(clh_heads_last_error(heads), clh_last_error()) == 0);
    CHECK(strstr(clh_heads_last_error(heads), "/nonexistent-dir/x.safetensors") != NULL);

    CHECK_STATUS(clh_heads_load_into(heads, "/nonexistent-dir/x.safetensors", NULL), CLH_E_IO);
    CHECK(strstr(clh_heads_last_error(heads), "/nonexistent-dir/x.safetensors") != NULL);

    char path[256];
    snprintf(path, sizeof path, "/tmp/clh_fix_f11_%ld.safetensors", (long)getpid());
    CHECK_OK(clh_heads_save(other, path));
    CHECK_STATUS(clh_heads_load_into(heads, path, NULL), CLH_E_MISMATCH); /* CIL into TIL */
    CHECK(strstr(clh_heads_last_error(heads), "CIL") != NULL);
    CHECK(clh_heads_last_error(other)[0] == '\0'); /* another handle's failure */
    unlink(path);

    clh_heads_free(heads);
    clh_heads_free(other);
    return check_done("test_fix_f11_last_error");
}
