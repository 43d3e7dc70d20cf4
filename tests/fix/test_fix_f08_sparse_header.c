/* Finding 8: rejecting a file with an invalid header costs no more than
 * reading its header. A 2.5 GB sparse file (past 2 GiB: on a 32-bit target
 * the reader needs 64-bit file offsets to open it at all) whose 1-byte header is "{" is
 * rejected by clh_st_open with the peak resident memory (getrusage
 * ru_maxrss) growing by far less than the file (the old reader read all of
 * it first). clh_st_open_header lists a valid file's tensors without data,
 * and a structure-only load of it builds the heads. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"

static long peak_rss_kb(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

static void large_sparse_file_is_cheap_to_reject(const char *path) {
    const off_t size = (off_t)2500 * 1000 * 1000;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    if (fd < 0) return;
    unsigned char head[9] = {1, 0, 0, 0, 0, 0, 0, 0, '{'}; /* header length 1: "{" */
    CHECK(write(fd, head, sizeof head) == (ssize_t)sizeof head);
    CHECK(ftruncate(fd, size) == 0);
    close(fd);
    long before = peak_rss_kb();
    clh_st_file *file = NULL;
    CHECK_STATUS(clh_st_open(&file, path), CLH_E_FORMAT);
    CHECK(file == NULL);
    CHECK(strstr(clh_last_error(), "invalid JSON header") != NULL);
    long grown_kb = peak_rss_kb() - before;
    printf("  2.5 GB sparse file with header \"{\": rejected, peak RSS grew by %ld kB\n", grown_kb);
    CHECK(grown_kb < 64 * 1024); /* the file is 2,441,406 kB */
    clh_heads *heads = NULL;
    CHECK_STATUS(clh_heads_load(&heads, path, NULL), CLH_E_FORMAT);
    CHECK(peak_rss_kb() - before < 64 * 1024);
    unlink(path);
}

static void header_only_open(const char *path) {
    clh_heads *heads = NULL;
    CHECK_OK(clh_heads_create(&heads, CLH_TIL, 4, 1));
    CHECK_OK(clh_heads_setup_task(heads, 2, 3));
    CHECK_OK(clh_heads_setup_task(heads, 0, 2));
    CHECK_OK(clh_heads_set_frozen(heads, 2, 1));
    CHECK_OK(clh_heads_save(heads, path));
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_open_header(&file, path));
    CHECK(clh_st_count(file) == 4);
    const clh_st_tensor *w = clh_st_find(file, "heads.2.weight");
    CHECK(w && w->data == NULL && w->nbytes == 3 * 4 * sizeof(float) && w->ndim == 2 &&
          w->shape[0] == 3 && w->shape[1] == 4);
    float out[12];
    CHECK(w && clh_st_to_f32(w, out, 12) != CLH_OK); /* no data to convert */
    clh_load_options options;
    clh_load_options_init(&options);
    clh_heads *loaded = NULL;
    CHECK(clh_heads_load_file(&loaded, file, &options) != CLH_OK);
    options.structure_only = 1;
    CHECK_OK(clh_heads_load_file(&loaded, file, &options));
    CHECK(clh_heads_num_tasks(loaded) == 2 && clh_heads_task_ids(loaded)[0] == 2 &&
          clh_heads_total_classes(loaded) == 5);
    int frozen = 0;
    CHECK_OK(clh_heads_is_frozen(loaded, 2, &frozen));
    CHECK(frozen == 1);
    clh_heads_free(loaded);
    clh_st_free(file);
    /* A truncated data section is found from the header alone. */
    CHECK(truncate(path, 100) == 0);
    CHECK_STATUS(clh_st_open_header(&file, path), CLH_E_FORMAT);
    clh_heads_free(heads);
    unlink(path);
}

int main(void) {
    char path[256];
    snprintf(path, sizeof path, "/tmp/clh_fix_f08_%ld.safetensors", (long)getpid());
    large_sparse_file_is_cheap_to_reject(path);
    header_only_open(path);
    return check_done("test_fix_f08_sparse_header");
}
