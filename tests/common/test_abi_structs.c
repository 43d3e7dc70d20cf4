/* Caller-allocated structs that grow (struct_size, src/versioned.h):
 *  - the mechanism: an older caller's smaller struct is read over the
 *    defaults of the members it does not know, and a struct is written back
 *    only as far as its struct_size reaches;
 *  - every consumer of clh_optim_config, clh_load_options, clh_allocator,
 *    clh_analytic_config and clh_lwf_options
 *    rejects a struct_size of 0 (not initialised) and a larger one than the
 *    library's (a newer header), and accepts the first released size. */
#include <stddef.h>
#include <string.h>

#include "check.h"
#include "analytic/analytic_internal.h"
#include "io/checkpoint_options.h"
#include "train/optim_internal.h"
#include "common/versioned.h"
#include "methods/lwf_internal.h"

/* Version 1 of a struct and version 2 with one member appended, at version
 * 1's sizeof (versioned.h: never into the old padding). */
typedef struct v1 {
    size_t struct_size;
    int a;
} v1;
typedef struct v2 {
    size_t struct_size;
    int a;
    int v1_padding; /* explicit: v1's tail padding, never read */
    int appended;   /* default 7 */
} v2;
#define V2_FIRST_SIZE (offsetof(v2, a) + sizeof(int))

static void test_mechanism(void) {
    _Static_assert(sizeof(v1) <= offsetof(v2, appended), "v2 appends past v1's sizeof");
    v1 old = {sizeof old, 3};
    v2 full = {sizeof full, 0, 0, 7};
    CHECK_OK(clh_versioned_read(&full, sizeof full, V2_FIRST_SIZE, &old, "v2"));
    CHECK(full.a == 3 && full.appended == 7 && full.struct_size == sizeof full);

    v2 newer = {sizeof newer, 5, 0, 9};
    full = (v2){sizeof full, 0, 0, 7};
    CHECK_OK(clh_versioned_read(&full, sizeof full, V2_FIRST_SIZE, &newer, "v2"));
    CHECK(full.a == 5 && full.appended == 9);

    /* Written back to an old caller: only its members. */
    struct {
        v1 head;
        unsigned char after[16];
    } out;
    memset(&out, 0xAB, sizeof out);
    out.head.struct_size = V2_FIRST_SIZE;
    v2 library = {sizeof library, 11, 0, 12};
    CHECK_OK(clh_versioned_write(&out, &library, sizeof library, V2_FIRST_SIZE, "v2"));
    CHECK(out.head.a == 11 && out.head.struct_size == V2_FIRST_SIZE);
    unsigned char *bytes = (unsigned char *)&out;
    int untouched = 1;
    for (size_t i = V2_FIRST_SIZE; i < sizeof out; i++) untouched &= bytes[i] == 0xAB;
    CHECK(untouched);

    v2 bad = {0, 1, 0, 2};
    full = (v2){sizeof full, 0, 0, 7};
    CHECK_STATUS(clh_versioned_read(&full, sizeof full, V2_FIRST_SIZE, &bad, "v2"), CLH_E_INVALID_ARG);
    CHECK(full.a == 0 && full.appended == 7); /* unchanged */
    bad.struct_size = sizeof bad + 4;
    CHECK_STATUS(clh_versioned_read(&full, sizeof full, V2_FIRST_SIZE, &bad, "v2"), CLH_E_INVALID_ARG);
    CHECK_STATUS(clh_versioned_write(&bad, &library, sizeof library, V2_FIRST_SIZE, "v2"),
                 CLH_E_INVALID_ARG);
    CHECK(bad.a == 1);
}

static void test_optim_config(void) {
    clh_optim_config c;
    clh_optim_config_init(&c, CLH_OPTIM_SGD, 0.1);
    CHECK(c.struct_size == sizeof c);
    c.momentum = 0.9;
    clh_optim *o = NULL;
    CHECK_OK(clh_optim_create(&o, &c));

    clh_optim_config got;
    memset(&got, 0, sizeof got);
    CHECK_STATUS(clh_optim_get_config(o, &got), CLH_E_INVALID_ARG); /* not initialised */
    CHECK(strstr(clh_last_error(), "init") != NULL);
    clh_optim_config_init(&got, CLH_OPTIM_ADAM, 0.0);
    got.struct_size = CLH_OPTIM_CONFIG_FIRST_SIZE; /* the first release's layout */
    CHECK_OK(clh_optim_get_config(o, &got));
    CHECK(got.kind == CLH_OPTIM_SGD && got.lr == 0.1 && got.momentum == 0.9 &&
          got.struct_size == CLH_OPTIM_CONFIG_FIRST_SIZE);
    clh_optim_free(o);

    c.struct_size = 0;
    o = NULL;
    CHECK_STATUS(clh_optim_create(&o, &c), CLH_E_INVALID_ARG);
    CHECK(o == NULL);
    CHECK_STATUS(clh_optim_config_check(&c), CLH_E_INVALID_ARG);
    c.struct_size = sizeof c + 8;
    CHECK_STATUS(clh_optim_create(&o, &c), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "newer") != NULL);
    c.struct_size = CLH_OPTIM_CONFIG_FIRST_SIZE;
    CHECK_OK(clh_optim_create(&o, &c));
    clh_optim_free(o);
    /* The check still sees the members: a bad lr behind a valid size. */
    c.lr = -1;
    CHECK_STATUS(clh_optim_config_check(&c), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "learning rate") != NULL);
}

static void test_load_options(void) {
    clh_heads *heads = NULL;
    CHECK_OK(clh_heads_create(&heads, CLH_TIL, 3, 1));
    CHECK_OK(clh_heads_setup_task(heads, 2, 2));
    unsigned char *bytes = NULL;
    size_t len = 0;
    CHECK_OK(clh_heads_save_mem(heads, &bytes, &len));

    clh_load_options options;
    clh_load_options_init(&options);
    CHECK(options.struct_size == sizeof options);
    options.seed = 5;
    clh_heads *loaded = NULL;
    options.struct_size = 0;
    CHECK_STATUS(clh_heads_load_mem(&loaded, bytes, len, &options), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "clh_load_options") != NULL && loaded == NULL);
    options.struct_size = sizeof options + 16;
    CHECK_STATUS(clh_heads_load_mem(&loaded, bytes, len, &options), CLH_E_INVALID_ARG);
    options.struct_size = CLH_LOAD_OPTIONS_FIRST_SIZE;
    CHECK_OK(clh_heads_load_mem(&loaded, bytes, len, &options));
    CHECK(loaded && clh_heads_num_tasks(loaded) == 1);
    clh_heads_free(loaded);

    clh_load_options full;
    CHECK_OK(clh_load_options_read(NULL, &full));
    CHECK(full.struct_size == sizeof full && full.paradigm == CLH_PARADIGM_FROM_FILE &&
          full.prefix == NULL && full.seed == 0 && full.ignore_unknown == 0);
    clh_st_bytes_free(bytes);
    clh_heads_free(heads);
}

static void test_allocator(void) {
    clh_allocator a;
    clh_allocator_init(&a);
    CHECK(a.struct_size == sizeof a && !a.alloc && !a.realloc && !a.free && !a.ctx);
    clh_allocator got;
    memset(&got, 0, sizeof got);
    CHECK_STATUS(clh_get_allocator(&got), CLH_E_INVALID_ARG);
    got.struct_size = sizeof got + 8;
    CHECK_STATUS(clh_get_allocator(&got), CLH_E_INVALID_ARG);
}

/* clh_analytic_config: create, check and get_config read struct_size. */
static void test_analytic_config(void) {
    clh_analytic_config c;
    clh_analytic_config_init(&c, CLH_ANALYTIC_LDA);
    CHECK(c.struct_size == sizeof c && c.method == CLH_ANALYTIC_LDA);
    c.shrinkage = 0.25;
    clh_analytic *a = NULL;
    CHECK_OK(clh_analytic_create(&a, &c, CLH_CIL, 4));
    clh_analytic_config got;
    memset(&got, 0, sizeof got);
    CHECK_STATUS(clh_analytic_get_config(a, &got), CLH_E_INVALID_ARG); /* not initialised */
    CHECK(strstr(clh_last_error(), "init") != NULL);
    clh_analytic_config_init(&got, CLH_ANALYTIC_RIDGE);
    got.struct_size = CLH_ANALYTIC_CONFIG_FIRST_SIZE; /* the first release's layout */
    CHECK_OK(clh_analytic_get_config(a, &got));
    CHECK(got.method == CLH_ANALYTIC_LDA && got.shrinkage == 0.25 &&
          got.struct_size == CLH_ANALYTIC_CONFIG_FIRST_SIZE);
    clh_analytic_free(a);

    clh_analytic *b = NULL;
    c.struct_size = 0;
    CHECK_STATUS(clh_analytic_create(&b, &c, CLH_CIL, 4), CLH_E_INVALID_ARG);
    CHECK(b == NULL && strstr(clh_last_error(), "clh_analytic_config") != NULL);
    CHECK_STATUS(clh_analytic_config_check(&c), CLH_E_INVALID_ARG);
    c.struct_size = sizeof c + 8;
    CHECK_STATUS(clh_analytic_create(&b, &c, CLH_CIL, 4), CLH_E_INVALID_ARG);
    CHECK(b == NULL && strstr(clh_last_error(), "newer") != NULL);
    c.struct_size = CLH_ANALYTIC_CONFIG_FIRST_SIZE;
    CHECK_OK(clh_analytic_create(&b, &c, CLH_CIL, 4));
    clh_analytic_free(b);
    /* The check still sees the members behind a valid size. */
    c.shrinkage = 2.0;
    CHECK_STATUS(clh_analytic_config_check(&c), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "shrinkage") != NULL);
}

/* clh_lwf_options: check and loss read struct_size. */
static void test_lwf_options(void) {
    clh_lwf_options o;
    clh_lwf_options_init(&o);
    CHECK(o.struct_size == sizeof o);
    const float logits[2] = {1.0f, 2.0f}, old[2] = {0.5f, 0.0f};
    double loss = -1;
    CHECK_OK(clh_lwf_loss(&o, logits, 1, 2, 2, old, 2, 2, &loss, NULL));
    CHECK(loss > 0);
    o.struct_size = 0;
    CHECK_STATUS(clh_lwf_options_check(&o), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "clh_lwf_options") != NULL);
    double before = loss;
    CHECK_STATUS(clh_lwf_loss(&o, logits, 1, 2, 2, old, 2, 2, &loss, NULL), CLH_E_INVALID_ARG);
    CHECK(loss == before);
    o.struct_size = sizeof o + 8;
    CHECK_STATUS(clh_lwf_loss(&o, logits, 1, 2, 2, old, 2, 2, &loss, NULL), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "newer") != NULL);
    o.struct_size = CLH_LWF_OPTIONS_FIRST_SIZE;
    CHECK_OK(clh_lwf_options_check(&o));
    CHECK_OK(clh_lwf_loss(&o, logits, 1, 2, 2, old, 2, 2, &loss, NULL));
    CHECK(loss == before);
    o.temperature = -1;
    CHECK_STATUS(clh_lwf_options_check(&o), CLH_E_INVALID_ARG);
    CHECK(strstr(clh_last_error(), "temperature") != NULL);
}

int main(void) {
    test_mechanism();
    test_analytic_config();
    test_lwf_options();
    test_optim_config();
    test_load_options();
    test_allocator();
    return check_done("test_abi_structs");
}
