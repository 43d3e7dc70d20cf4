/* Replays fuzz inputs without libFuzzer: every file named on the command
 * line, or found in a directory named there, goes through the fuzz target
 * once. Built always, so that normal CI runs the committed corpus under the
 * sanitizers. Exits non-zero when no input was found. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_target.h"

static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 0;
    }
    size_t cap = 4096, len = 0;
    unsigned char *bytes = malloc(cap);
    size_t got;
    while (bytes && (got = fread(bytes + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            unsigned char *bigger = realloc(bytes, cap * 2);
            if (!bigger) {
                free(bytes);
                bytes = NULL;
                break;
            }
            bytes = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (!bytes) {
        fprintf(stderr, "replay: out of memory reading %s\n", path);
        return 0;
    }
    clh_fuzz_one_input(bytes, len);
    free(bytes);
    return 1;
}

int main(int argc, char **argv) {
    size_t replayed = 0;
    for (int a = 1; a < argc; a++) {
        struct stat info;
        if (stat(argv[a], &info) != 0) {
            fprintf(stderr, "replay: no such input %s\n", argv[a]);
            return EXIT_FAILURE;
        }
        if (!S_ISDIR(info.st_mode)) {
            replayed += (size_t)replay_file(argv[a]);
            continue;
        }
        DIR *dir = opendir(argv[a]);
        if (!dir) return EXIT_FAILURE;
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL) {
            if (entry->d_name[0] == '.') continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[a], entry->d_name);
            if (stat(path, &info) == 0 && S_ISREG(info.st_mode))
                replayed += (size_t)replay_file(path);
        }
        closedir(dir);
    }
    printf("replay: %zu inputs ran through the fuzz target\n", replayed);
    return replayed > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
