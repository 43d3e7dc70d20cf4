/* Finding 7: numbers in files do not depend on the locale. Under de_DE
 * (decimal comma) an optimizer state saved in the C locale loads, and one
 * saved under de_DE holds "0.001" and loads back exactly in the C locale;
 * under tr_TR (where 'I' does not lower to 'i') the name parsers still fold
 * case. The locales come from Debian's locales-all (scripts/deps.sh); a
 * missing one is reported and skipped. */
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static char path[256];

static void save_state(double lr) {
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_ADAMW, lr);
    config.weight_decay = 0.0125;
    config.eps = 1e-8;
    clh_optim *optim = NULL;
    CHECK_OK(clh_optim_create(&optim, &config));
    CHECK_OK(clh_optim_save(optim, path));
    clh_optim_free(optim);
}

/* Reads the saved configuration back and checks every number exactly. */
static void check_loads(double lr) {
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_open(&file, path));
    if (!file) return;
    CHECK(strcmp(clh_st_meta_get(file, "optim.weight_decay"), "0.012500000000000001") == 0);
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_SGD, 0.0);
    CHECK_OK(clh_optim_read_config(file, &config));
    CHECK(config.lr == lr && config.weight_decay == 0.0125 && config.eps == 1e-8 &&
          config.beta1 == 0.9 && config.beta2 == 0.999);
    clh_optim *optim = NULL;
    CHECK_OK(clh_optim_create(&optim, &config));
    CHECK_OK(clh_optim_load_file(optim, file));
    clh_optim_free(optim);
    clh_st_free(file);
}

static int use_locale(const char *name) {
    if (setlocale(LC_ALL, name)) return 1;
    printf("  SKIPPED: locale %s is not installed (Debian: locales-all)\n", name);
    return 0;
}

int main(void) {
    snprintf(path, sizeof path, "/tmp/clh_fix_f07_%ld.safetensors", (long)getpid());
    if (use_locale("de_DE.UTF-8")) {
        char text[16];
        snprintf(text, sizeof text, "%.3f", 0.5);
        CHECK(strcmp(text, "0,500") == 0); /* the locale is really in effect */
        save_state(0.001);
        check_loads(0.001);
        setlocale(LC_ALL, "C");
        check_loads(0.001); /* written under de_DE, read in C */
        save_state(0.25);
        CHECK(use_locale("de_DE.UTF-8"));
        check_loads(0.25); /* written in C, read under de_DE */
        clh_paradigm p;
        CHECK_OK(clh_paradigm_parse("Dil", &p));
        CHECK(p == CLH_DIL);
    }
    if (use_locale("tr_TR.UTF-8")) {
        static const char *const names[] = {"til", "TIL", "Til", "cil", "CIL", "mtl", "stl", "dIl"};
        static const clh_paradigm want[] = {CLH_TIL, CLH_TIL, CLH_TIL, CLH_CIL,
                                            CLH_CIL, CLH_MTL, CLH_STL, CLH_DIL};
        for (int i = 0; i < 8; i++) {
            clh_paradigm p = CLH_STL;
            CHECK_OK(clh_paradigm_parse(names[i], &p));
            CHECK(p == want[i]);
        }
        clh_optim_kind kind;
        CHECK_OK(clh_optim_kind_parse("ADAMW", &kind));
        CHECK(kind == CLH_OPTIM_ADAMW);
        clh_paradigm dotless;
        CHECK_STATUS(clh_paradigm_parse("t\xc4\xb1l", &dotless), /* dotless i is not ASCII */
                     CLH_E_INVALID_ARG);
        save_state(0.001);
        check_loads(0.001);
    }
    setlocale(LC_ALL, "C");
    unlink(path);
    return check_done("test_fix_f07_locale");
}
