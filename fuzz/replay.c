/* Replays fuzz inputs without libFuzzer: every file named on the command
 * line, or found in a directory named there, goes once through the fuzz
 * target linked in (each target names itself, clh_fuzz_target_name). Built
 * always, so that normal CI runs the committed corpora under the sanitizers.
 * Exits non-zero when no input was found. */
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
        fprintf(stderr, "replay %s: cannot open %s\n", clh_fuzz_target_name, path);
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
        fprintf(stderr, "replay %s: out of memory reading %s\n", clh_fuzz_target_name, path);
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
            fprintf(stderr, "replay %s: no such input %s\n", clh_fuzz_target_name, argv[a]);
            return EXIT_FAILURE;
        }
        if (!S_ISDIR(info.st_mode)) {
            replayed += (size_t)replay_file(argv[a]);
            continue;
        }
        DIR *dir = opendir(argv[a]);
        if (!dir) {
            fprintf(stderr, "replay %s: cannot open directory %s\n", clh_fuzz_target_name,
                    argv[a]);
            return EXIT_FAILURE;
        }
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
    printf("replay %s: %zu inputs ran through the target\n", clh_fuzz_target_name, replayed);
    return replayed > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
