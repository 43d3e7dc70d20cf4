/* Atomic saves: a failure injected at each step of a save (creating the
 * temporary file, writing, flushing, fsync, closing, renaming) leaves the
 * previous checkpoint byte for byte unchanged and loadable, and removes the
 * temporary file; a child process killed while it saves again and again
 * leaves a complete, loadable checkpoint behind. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io/safetensors_internal.h"
#include "test_checkpoint_util.h"

static char dir[] = "/tmp/clh_atomic_XXXXXX";
static char path[256];

/* Files in dir other than the checkpoint itself (leftover temporaries). */
static int count_strays(int remove_them) {
    DIR *d = opendir(dir);
    int strays = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "heads.safetensors") == 0) continue;
        strays++;
        if (remove_them) {
            char stray[512];
            snprintf(stray, sizeof stray, "%s/%s", dir, e->d_name);
            unlink(stray);
        }
    }
    if (d) closedir(d);
    return strays;
}

static void perturb(clh_heads *heads, float amount) {
    float *params;
    size_t count;
    clh_heads_flat(heads, &params, NULL, &count);
    for (size_t i = 0; i < count; i++) params[i] += amount;
}

static void test_injected_failures(void) {
    clh_heads *heads = NULL;
    CHECK_OK(clh_heads_create(&heads, CLH_TIL, 16, 3));
    CHECK_OK(clh_heads_setup_task(heads, 2, 5));
    CHECK_OK(clh_heads_setup_task(heads, 0, 3));
    CHECK_OK(clh_heads_save(heads, path));
    size_t v1_len = 0;
    unsigned char *v1 = read_whole(path, &v1_len);
    CHECK(v1 && v1_len > 0);
    const float *params;
    size_t count;
    clh_heads_flat_const(heads, &params, NULL, &count);
    float *v1_params = malloc(count * sizeof *v1_params);
    memcpy(v1_params, params, count * sizeof *v1_params);

    static const struct {
        clh_save_step step;
        const char *needle;
    } steps[] = {
        {CLH_SAVE_STEP_OPEN, "cannot create the temporary file"},
        {CLH_SAVE_STEP_WRITE, "writing the temporary file"},
        {CLH_SAVE_STEP_FLUSH, "flushing the temporary file"},
        {CLH_SAVE_STEP_FSYNC, "syncing the temporary file"},
        {CLH_SAVE_STEP_CLOSE, "closing the temporary file"},
        {CLH_SAVE_STEP_RENAME, "renaming the temporary file"},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        perturb(heads, 0.25f); /* the new save would differ from v1 */
        clh_test_fail_save_at(steps[i].step);
        CHECK_STATUS(clh_heads_save(heads, path), CLH_E_IO);
        CHECK_DETAIL(steps[i].needle);
        CHECK_DETAIL(path);
        size_t len = 0;
        unsigned char *now = read_whole(path, &len);
        CHECK(now && len == v1_len && memcmp(now, v1, v1_len) == 0);
        free(now);
        CHECK(count_strays(1) == 0);
        clh_heads *loaded = NULL;
        CHECK_OK(clh_heads_load(&loaded, path, NULL));
        const float *got;
        size_t got_count;
        clh_heads_flat_const(loaded, &got, NULL, &got_count);
        CHECK(got_count == count && memcmp(got, v1_params, count * sizeof *got) == 0);
        clh_heads_free(loaded);
    }

    /* The hook fires once: the next save goes through and replaces v1. */
    CHECK_OK(clh_heads_save(heads, path));
    clh_heads *loaded = NULL;
    CHECK_OK(clh_heads_load(&loaded, path, NULL));
    const float *got;
    clh_heads_flat_const(loaded, &got, NULL, NULL);
    clh_heads_flat_const(heads, &params, NULL, NULL);
    CHECK(memcmp(got, params, count * sizeof *got) == 0);
    clh_heads_free(loaded);

    /* A failed directory sync comes after the rename: the save succeeded
     * (finding 14, test_fix_f14_dirsync), and the new file is in place. */
    perturb(heads, 1.0f);
    clh_test_fail_save_at(CLH_SAVE_STEP_DIRSYNC);
    CHECK_OK(clh_heads_save(heads, path));
    CHECK_OK(clh_heads_load(&loaded, path, NULL));
    clh_heads_flat_const(loaded, &got, NULL, NULL);
    CHECK(memcmp(got, params, count * sizeof *got) == 0);
    clh_heads_free(loaded);
    CHECK(count_strays(1) == 0);

    free(v1);
    free(v1_params);
    clh_heads_free(heads);
}

/* A child saves a ~4 MB checkpoint over and over; it is killed at several
 * moments. Whatever the moment, the file at path is a complete checkpoint of
 * one of the versions the child wrote. */
static void test_killed_child(void) {
    for (int trial = 0; trial < 4; trial++) {
        unlink(path);
        pid_t child = fork();
        CHECK(child >= 0);
        if (child < 0) return;
        if (child == 0) {
            clh_heads *heads = NULL;
            if (clh_heads_create(&heads, CLH_CIL, 1024, 1) != CLH_OK ||
                clh_heads_setup_task(heads, 0, 500) != CLH_OK ||
                clh_heads_setup_task(heads, 1, 500) != CLH_OK)
                _exit(2);
            for (int version = 0;; version++) {
                float *params;
                size_t count;
                clh_heads_flat(heads, &params, NULL, &count);
                for (size_t i = 0; i < count; i++) params[i] = (float)version;
                if (clh_heads_save(heads, path) != CLH_OK) _exit(3);
            }
        }
        /* Wait for the first complete file, then let a few more saves run. */
        struct stat info;
        for (int i = 0; i < 2000 && stat(path, &info) != 0; i++) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
        struct timespec pause = {0, (long)(7 + 13 * trial) * 1000000L};
        nanosleep(&pause, NULL);
        kill(child, SIGKILL);
        int status = 0;
        waitpid(child, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        clh_heads *loaded = NULL;
        CHECK_OK(clh_heads_load(&loaded, path, NULL));
        if (loaded) {
            const float *params;
            size_t count;
            clh_heads_flat_const(loaded, &params, NULL, &count);
            int uniform = count == 1000u * 1025u;
            for (size_t i = 1; uniform && i < count; i++) uniform = params[i] == params[0];
            CHECK(uniform); /* one version, whole */
        }
        clh_heads_free(loaded);
        count_strays(1); /* a killed saver may leave its temporary file */
    }
}

int main(void) {
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    snprintf(path, sizeof path, "%s/heads.safetensors", dir);
    test_injected_failures();
    test_killed_child();
    unlink(path);
    count_strays(1);
    rmdir(dir);
    return check_done("test_checkpoint_atomic");
}
