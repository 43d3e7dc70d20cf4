/* Issue 8, locale: a short `clheads run` and its --resume under de_DE.UTF-8
 * (decimal comma) and tr_TR.UTF-8 (dotless i) write the same bytes as under
 * the C locale: options, checkpoint metadata, results.json, acc.csv and the
 * SVGs are all locale-independent. The process locale is set as a program
 * embedding the tool would (setlocale); the locales come from Debian's
 * locales-all (scripts/deps.sh). */
#define _POSIX_C_SOURCE 200809L
#include <locale.h>
#include <string.h>

#include "check.h"
#include "test_cli_util.h"

static void run_in(const char *locale, char *dir, size_t len) {
    char name[64];
    snprintf(name, sizeof name, "locale-%s", locale);
    work_dir(name, dir, len);
    const char *set = setlocale(LC_ALL, locale);
    CHECK(set != NULL);
    if (!set) fprintf(stderr, "locale %s is not installed (apt-get install locales-all)\n", locale);
    /* Numbers with fractions on the command line and in the checkpoint. */
    CHECK(run_cli("run", "--paradigm", "til", "--dataset", "synthetic", "--tasks", "2", "--epochs",
                  "1", "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.5",
                  "--weight-decay", "0.0001", "--stop-after", "1", "--quiet", "--out", dir,
                  NULL) == 0);
    CHECK(run_cli("run", "--resume", dir, "--lr", "0.05", "--quiet", NULL) == 0);
    setlocale(LC_ALL, "C");
}

int main(void) {
    char c_dir[512], other[512];
    run_in("C", c_dir, sizeof c_dir);
    const char *locales[] = {"de_DE.UTF-8", "tr_TR.UTF-8"};
    const char *files[] = {"results.json", "acc.csv", "acc_heatmap.svg", "average_accuracy.svg",
                           "checkpoint.safetensors"};
    for (int l = 0; l < 2; l++) {
        run_in(locales[l], other, sizeof other);
        for (int f = 0; f < 5; f++) {
            int same = same_file(c_dir, other, files[f]);
            CHECK(same);
            if (!same) fprintf(stderr, "%s differs under %s\n", files[f], locales[l]);
        }
    }
    size_t len = 0;
    char *json = slurp(c_dir, "results.json", &len);
    CHECK(json && strstr(json, "\"lr\": 0.050000000000000003") != NULL);
    free(json);
    return check_done("test_cli_fix_locale");
}
