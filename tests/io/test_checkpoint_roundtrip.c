/* Heads save/load in every paradigm: the file holds exactly the seed's
 * state_dict names and the metadata; a load rebuilds the grown model (task
 * order, class counts, frozen and masked flags) bit for bit without replaying
 * its set-up; load_into; extra tensors; and one test per way a file's tensors
 * can fail to fit the paradigm (CLH_E_MISMATCH naming the tensor). */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>

#include "common/testing.h"
#include "test_checkpoint_util.h"

#define IN 5

static char dir[] = "/tmp/clh_ckpt_XXXXXX";
static char path[256];

static void perturb(clh_heads *heads, float amount) {
    float *params;
    size_t count;
    clh_heads_flat(heads, &params, NULL, &count);
    for (size_t i = 0; i < count; i++) params[i] += amount * (float)(i % 7);
}

/* A grown model of each paradigm: TIL/CIL tasks 3, 1, 2 (set up in that
 * order), MTL tasks 5, 1, 9, DIL 4 classes, STL 3 classes. */
static clh_heads *grown(clh_paradigm paradigm, uint64_t seed) {
    clh_heads *heads = NULL;
    CHECK_OK(clh_heads_create(&heads, paradigm, IN, seed));
    if (!heads) return NULL;
    int64_t ids[3] = {3, 1, 2}, classes[3] = {2, 3, 4}, mtl_ids[3] = {5, 1, 9};
    switch (paradigm) {
    case CLH_TIL:
    case CLH_CIL:
        for (int i = 0; i < 3; i++) CHECK_OK(clh_heads_setup_task(heads, ids[i], classes[i]));
        CHECK_OK(clh_heads_set_frozen(heads, 1, 1));
        if (paradigm == CLH_CIL) CHECK_OK(clh_heads_set_masked(heads, 3, 1));
        break;
    case CLH_MTL:
        CHECK_OK(clh_heads_setup_tasks(heads, mtl_ids, classes, 3));
        CHECK_OK(clh_heads_set_frozen(heads, 9, 1));
        break;
    case CLH_DIL:
        CHECK_OK(clh_heads_setup_single(heads, 4));
        CHECK_OK(clh_heads_set_frozen(heads, 0, 1));
        break;
    default:
        CHECK_OK(clh_heads_setup_single(heads, 3));
        break;
    }
    perturb(heads, 0.125f);
    return heads;
}

/* Same paradigm, in_features, task order, class counts, flags and params. */
static void check_same(const clh_heads *a, const clh_heads *b) {
    CHECK(clh_heads_paradigm(a) == clh_heads_paradigm(b));
    CHECK(clh_heads_in_features(a) == clh_heads_in_features(b));
    size_t n = clh_heads_num_tasks(a);
    CHECK(clh_heads_num_tasks(b) == n);
    if (clh_heads_num_tasks(b) != n) return;
    int single = clh_heads_paradigm(a) == CLH_DIL || clh_heads_paradigm(a) == CLH_STL;
    for (size_t i = 0; i < n; i++) {
        int64_t id = CLH_NO_TASK, ca = 0, cb = 0, oa = 0, ob = 0;
        CHECK_OK(clh_heads_task_at(a, i, &id));
        if (!single) CHECK(clh_heads_task_ids(b)[i] == clh_heads_task_ids(a)[i]);
        CHECK_OK(clh_heads_task_classes(a, id, &ca, &oa));
        CHECK_OK(clh_heads_task_classes(b, id, &cb, &ob));
        CHECK(ca == cb && oa == ob);
        int fa = -1, fb = -2;
        CHECK_OK(clh_heads_is_frozen(a, id, &fa));
        CHECK_OK(clh_heads_is_frozen(b, id, &fb));
        CHECK(fa == fb);
        if (clh_heads_paradigm(a) == CLH_CIL) {
            CHECK_OK(clh_heads_is_masked(a, id, &fa));
            CHECK_OK(clh_heads_is_masked(b, id, &fb));
            CHECK(fa == fb);
        }
    }
    const float *pa, *pb;
    size_t na, nb;
    clh_heads_flat_const(a, &pa, NULL, &na);
    clh_heads_flat_const(b, &pb, NULL, &nb);
    CHECK(na == nb && (na == 0 || memcmp(pa, pb, na * sizeof *pa) == 0));
}

static void test_round_trip_every_paradigm(void) {
    static const char *const til_names[] = {"heads.3.weight", "heads.3.bias", "heads.1.weight",
                                            "heads.1.bias", "heads.2.weight", "heads.2.bias"};
    static const char *const mtl_names[] = {"heads.5.weight", "heads.5.bias", "heads.1.weight",
                                            "heads.1.bias", "heads.9.weight", "heads.9.bias"};
    static const char *const one_names[] = {"head.weight", "head.bias"};
    for (int p = CLH_TIL; p <= CLH_STL; p++) {
        clh_heads *original = grown((clh_paradigm)p, 77);
        CHECK_OK(clh_heads_save(original, path));
        /* The file as any safetensors reader sees it. */
        clh_st_file *file = NULL;
        CHECK_OK(clh_st_open(&file, path));
        const char *const *names = p == CLH_MTL ? mtl_names : p <= CLH_CIL ? til_names : one_names;
        size_t n = p == CLH_DIL || p == CLH_STL ? 2 : 6;
        CHECK(clh_st_count(file) == n);
        for (size_t i = 0; i < n && i < clh_st_count(file); i++) {
            const clh_st_tensor *t = clh_st_at(file, i);
            CHECK(strcmp(t->name, names[i]) == 0 && t->dtype == CLH_DT_F32);
            CHECK(t->ndim == (i % 2 == 0 ? 2u : 1u));
            if (i % 2 == 0) CHECK(t->shape[1] == IN);
        }
        CHECK(strcmp(clh_st_meta_get(file, "clheads_format"), "1") == 0);
        CHECK(strcmp(clh_st_meta_get(file, "paradigm"), clh_paradigm_name((clh_paradigm)p)) == 0);
        CHECK(strcmp(clh_st_meta_get(file, "in_features"), "5") == 0);
        const char *order = clh_st_meta_get(file, "task_ids");
        if (p == CLH_TIL || p == CLH_CIL) CHECK(order && strcmp(order, "3,1,2") == 0);
        if (p == CLH_MTL) CHECK(order && strcmp(order, "5,1,9") == 0);
        if (p == CLH_DIL) CHECK(strcmp(clh_st_meta_get(file, "frozen_task_ids"), "0") == 0);
        if (p == CLH_CIL) CHECK(strcmp(clh_st_meta_get(file, "masked_task_ids"), "3") == 0);
        if (p == CLH_STL) CHECK(clh_st_meta_get(file, "frozen_task_ids") == NULL);
        clh_st_free(file);

        clh_heads *loaded = NULL;
        CHECK_OK(clh_heads_load(&loaded, path, NULL));
        if (loaded) check_same(original, loaded);

        /* Growing on after the load, with the saved seed, gives the heads
         * the original would have got: no replay of the set-up needed. */
        if (loaded && (p == CLH_TIL || p == CLH_CIL)) {
            clh_heads *reseeded = NULL;
            clh_load_options options;
            clh_load_options_init(&options);
            options.seed = 77;
            CHECK_OK(clh_heads_load(&reseeded, path, &options));
            CHECK_OK(clh_heads_setup_task(original, 8, 3));
            CHECK_OK(clh_heads_setup_task(reseeded, 8, 3));
            if (reseeded) check_same(original, reseeded);
            clh_heads_free(reseeded);
        }
        clh_heads_free(loaded);
        clh_heads_free(original);
    }
}

static void test_empty_handle(void) {
    clh_heads *empty = NULL, *loaded = NULL;
    CHECK_OK(clh_heads_create(&empty, CLH_TIL, 9, 1));
    CHECK_OK(clh_heads_save(empty, path));
    CHECK_OK(clh_heads_load(&loaded, path, NULL));
    CHECK(loaded && clh_heads_num_tasks(loaded) == 0 && clh_heads_in_features(loaded) == 9);
    clh_heads_free(loaded);
    clh_heads_free(empty);
}

static void test_load_into(void) {
    clh_heads *a = grown(CLH_CIL, 1), *b = grown(CLH_CIL, 2);
    perturb(b, -0.5f);
    CHECK_OK(clh_heads_set_frozen(b, 1, 0));
    CHECK_OK(clh_heads_set_masked(b, 2, 1));
    CHECK_OK(clh_heads_save(a, path));
    CHECK_OK(clh_heads_load_into(b, path, NULL));
    check_same(a, b);

    /* A different structure: an error, and the handle unchanged. */
    clh_heads *other = NULL, *before = grown(CLH_CIL, 3);
    CHECK_OK(clh_heads_create(&other, CLH_CIL, IN, 1));
    CHECK_OK(clh_heads_setup_task(other, 3, 2));
    CHECK_OK(clh_heads_save(other, path));
    clh_heads *target = grown(CLH_CIL, 3);
    CHECK_STATUS(clh_heads_load_into(target, path, NULL), CLH_E_MISMATCH);
    CHECK_DETAIL("has 1 heads, the handle 3");
    check_same(before, target);
    clh_heads_free(other);
    CHECK_OK(clh_heads_create(&other, CLH_TIL, IN, 1));
    CHECK_OK(clh_heads_save(other, path));
    CHECK_STATUS(clh_heads_load_into(target, path, NULL), CLH_E_MISMATCH);
    CHECK_DETAIL("holds TIL heads, the handle is CIL");
    check_same(before, target);
    clh_heads_free(other);
    clh_heads_free(before);
    clh_heads_free(target);
    clh_heads_free(a);
    clh_heads_free(b);
}

static void test_extra_tensors(void) {
    clh_heads *heads = grown(CLH_TIL, 5);
    float state[3] = {1, 2, 3};
    clh_st_tensor extra = {"optim.step", CLH_DT_F32, 1, {3}, state, sizeof state};
    clh_st_meta extra_meta = {"optimizer", "sgd"};
    CHECK_OK(clh_heads_save_ex(heads, path, &extra, 1, &extra_meta, 1));
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_open(&file, path));
    CHECK(clh_st_find(file, "optim.step") != NULL);
    CHECK(strcmp(clh_st_meta_get(file, "optimizer"), "sgd") == 0);
    clh_heads *loaded = NULL;
    CHECK_STATUS(clh_heads_load_file(&loaded, file, NULL), CLH_E_MISMATCH);
    CHECK_DETAIL("tensor 'optim.step' is not a TIL head tensor");
    clh_load_options options;
    clh_load_options_init(&options);
    options.ignore_unknown = 1;
    CHECK_OK(clh_heads_load_file(&loaded, file, &options));
    if (loaded) check_same(heads, loaded);
    clh_heads_free(loaded);
    clh_st_free(file);
    /* Extras may not collide with the heads' own names or keys. */
    clh_st_tensor clash = {"heads.3.bias", CLH_DT_F32, 1, {3}, state, sizeof state};
    CHECK_STATUS(clh_heads_save_ex(heads, path, &clash, 1, NULL, 0), CLH_E_INVALID_ARG);
    CHECK_DETAIL("heads.3.bias");
    clh_st_meta meta_clash = {"paradigm", "CIL"};
    CHECK_STATUS(clh_heads_save_ex(heads, path, NULL, 0, &meta_clash, 1), CLH_E_INVALID_ARG);
    CHECK_DETAIL("paradigm");
    clh_heads_free(heads);
}

/* Writes a file of head-like tensors (F32, every value 0.5) and loads it as
 * `paradigm` (no metadata unless given). */
typedef struct spec {
    const char *name;
    clh_dtype dtype;
    size_t ndim;
    int64_t d0, d1;
} spec;

static clh_status load_specs(const spec *specs, size_t n, int paradigm, const clh_st_meta *meta,
                             size_t n_meta) {
    static unsigned char zeros[4096];
    clh_st_tensor tensors[8];
    for (size_t i = 0; i < n; i++) {
        size_t numel = (size_t)specs[i].d0 * (specs[i].ndim == 2 ? (size_t)specs[i].d1 : 1);
        tensors[i] = (clh_st_tensor){specs[i].name, specs[i].dtype, specs[i].ndim,
                                     {specs[i].d0, specs[i].d1}, zeros,
                                     numel * clh_dtype_size(specs[i].dtype)};
    }
    unsigned char *bytes;
    size_t len;
    CHECK_OK(clh_st_encode(tensors, n, meta, n_meta, &bytes, &len));
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_parse(&file, bytes, len));
    clh_st_bytes_free(bytes);
    clh_load_options options;
    clh_load_options_init(&options);
    options.paradigm = paradigm;
    clh_heads *heads = NULL;
    clh_status s = clh_heads_load_file(&heads, file, &options);
    CHECK((s == CLH_OK) == (heads != NULL));
    clh_heads_free(heads);
    clh_st_free(file);
    return s;
}

#define MISFIT(specs, paradigm, needle)                                                     \
    do {                                                                                    \
        CHECK_STATUS(load_specs(specs, sizeof specs / sizeof specs[0], paradigm, NULL, 0), \
                     CLH_E_MISMATCH);                                                      \
        CHECK_DETAIL(needle);                                                               \
    } while (0)

static void test_shapes_that_do_not_fit(void) {
    spec good[] = {{"heads.0.weight", CLH_DT_F32, 2, 2, 3}, {"heads.0.bias", CLH_DT_F32, 1, 2, 0}};
    CHECK_OK(load_specs(good, 2, CLH_TIL, NULL, 0));
    spec rank[] = {{"heads.0.weight", CLH_DT_F32, 1, 6, 0}, {"heads.0.bias", CLH_DT_F32, 1, 2, 0}};
    MISFIT(rank, CLH_TIL, "checkpoint: tensor 'heads.0.weight' has shape [6], expected [any, any] "
                         "(a head weight is [classes, in_features])");
    spec bias_rank[] = {{"heads.0.weight", CLH_DT_F32, 2, 2, 3}, {"heads.0.bias", CLH_DT_F32, 2, 2, 1}};
    MISFIT(bias_rank, CLH_CIL, "tensor 'heads.0.bias' has shape [2, 1], expected [2] (a head bias "
                              "is [classes] of its weight)");
    spec in_disagree[] = {{"heads.0.weight", CLH_DT_F32, 2, 2, 3}, {"heads.0.bias", CLH_DT_F32, 1, 2, 0},
                          {"heads.1.weight", CLH_DT_F32, 2, 2, 4}, {"heads.1.bias", CLH_DT_F32, 1, 2, 0}};
    MISFIT(in_disagree, CLH_MTL, "tensor 'heads.1.weight' has shape [2, 4], expected [any, 3] (a "
                                "head weight is [classes, in_features] with the in_features of "
                                "the other heads)");
    spec classes[] = {{"head.weight", CLH_DT_F32, 2, 3, 3}, {"head.bias", CLH_DT_F32, 1, 2, 0}};
    MISFIT(classes, CLH_DIL, "tensor 'head.bias' has shape [2], expected [3]");
    spec no_bias[] = {{"heads.7.weight", CLH_DT_F32, 2, 2, 3}};
    MISFIT(no_bias, CLH_TIL, "tensor 'heads.7.weight' has no matching bias");
    spec no_weight[] = {{"head.bias", CLH_DT_F32, 1, 2, 0}};
    MISFIT(no_weight, CLH_STL, "tensor 'head.bias' has no matching weight");
    spec integer[] = {{"head.weight", CLH_DT_I32, 2, 2, 3}, {"head.bias", CLH_DT_F32, 1, 2, 0}};
    MISFIT(integer, CLH_STL, "tensor 'head.weight' has dtype I32, expected F32, F16, BF16 or F64");
    spec integer_bias[] = {{"head.weight", CLH_DT_F32, 2, 2, 3}, {"head.bias", CLH_DT_U8, 1, 2, 0}};
    MISFIT(integer_bias, CLH_STL, "tensor 'head.bias' has dtype U8, expected F32, F16, BF16 or F64");
    spec half[] = {{"heads.3.weight", CLH_DT_BF16, 2, 2, 3}, {"heads.3.bias", CLH_DT_F64, 1, 2, 0}};
    CHECK_OK(load_specs(half, 2, CLH_TIL, NULL, 0));
    spec empty[] = {{"head.weight", CLH_DT_F32, 2, 0, 3}, {"head.bias", CLH_DT_F32, 1, 0, 0}};
    MISFIT(empty, CLH_STL, "tensor 'head.weight' has an empty shape [0, 3]");
    spec wrong_paradigm[] = {{"head.weight", CLH_DT_F32, 2, 2, 3}, {"head.bias", CLH_DT_F32, 1, 2, 0}};
    MISFIT(wrong_paradigm, CLH_TIL, "tensor 'head.weight' is not a TIL head tensor");
    spec leading_zero[] = {{"heads.01.weight", CLH_DT_F32, 2, 2, 3}, {"heads.01.bias", CLH_DT_F32, 1, 2, 0}};
    MISFIT(leading_zero, CLH_TIL, "tensor 'heads.01.weight' is not a TIL head tensor");
    spec alias_in_cil[] = {{"heads.0.weight", CLH_DT_F32, 2, 2, 3}, {"heads.0.bias", CLH_DT_F32, 1, 2, 0},
                           {"head_t.weight", CLH_DT_F32, 2, 2, 3}, {"head_t.bias", CLH_DT_F32, 1, 2, 0}};
    MISFIT(alias_in_cil, CLH_CIL, "tensor 'head_t.weight' is not a CIL head tensor");
    CHECK_OK(load_specs(alias_in_cil, 4, CLH_TIL, NULL, 0)); /* TIL skips its alias */
    spec nothing[] = {{"backbone.weight", CLH_DT_F32, 2, 2, 3}};
    CHECK_STATUS(load_specs(nothing, 1, CLH_TIL, NULL, 0), CLH_E_MISMATCH);
    CHECK_DETAIL("tensor 'backbone.weight' is not a TIL head tensor");

    /* No metadata and no paradigm named: the caller must say. */
    CHECK_STATUS(load_specs(good, 2, CLH_PARADIGM_FROM_FILE, NULL, 0), CLH_E_INVALID_ARG);
    CHECK_DETAIL("no clheads metadata");

    /* Metadata that disagrees with the tensors or the options. */
    clh_st_meta meta[] = {{"clheads_format", "1"}, {"paradigm", "TIL"}, {"in_features", "3"},
                          {"task_ids", "0"}, {"num_classes", "2"}};
    CHECK_OK(load_specs(good, 2, CLH_PARADIGM_FROM_FILE, meta, 5));
    CHECK_STATUS(load_specs(good, 2, CLH_CIL, meta, 5), CLH_E_MISMATCH);
    CHECK_DETAIL("the file holds TIL heads, the options ask for CIL");
    meta[3].value = "4";
    CHECK_STATUS(load_specs(good, 2, CLH_PARADIGM_FROM_FILE, meta, 5), CLH_E_MISMATCH);
    CHECK_DETAIL("metadata task_ids names task 4, which has no head tensors");
    meta[3].value = "0";
    meta[4].value = "3";
    CHECK_STATUS(load_specs(good, 2, CLH_PARADIGM_FROM_FILE, meta, 5), CLH_E_MISMATCH);
    CHECK_DETAIL("tensor 'heads.0.weight' has 2 classes, metadata num_classes says 3");
    meta[4].value = "2";
    meta[2].value = "4";
    CHECK_STATUS(load_specs(good, 2, CLH_PARADIGM_FROM_FILE, meta, 5), CLH_E_MISMATCH);
    CHECK_DETAIL("metadata in_features is 4 but the head tensors have 3");
    meta[2].value = "3";
    meta[3].value = "0,x";
    CHECK_STATUS(load_specs(good, 2, CLH_PARADIGM_FROM_FILE, meta, 5), CLH_E_FORMAT);
    CHECK_DETAIL("metadata task_ids");
    meta[3].value = "0";
    meta[0].value = "2";
    CHECK_STATUS(load_specs(good, 2, CLH_PARADIGM_FROM_FILE, meta, 5), CLH_E_FORMAT);
    CHECK_DETAIL("clheads_format \"2\" is not supported");

    /* A flag list naming a task the file lacks: the detail wraps the set-up
     * call's own detail (formatted from the same thread-local buffer). */
    meta[0].value = "1";
    clh_st_meta frozen[6] = {meta[0], meta[1], meta[2], meta[3], meta[4], {"frozen_task_ids", "5"}};
    CHECK_STATUS(load_specs(good, 2, CLH_PARADIGM_FROM_FILE, frozen, 6), CLH_E_FORMAT);
    CHECK_DETAIL("metadata frozen_task_ids names task 5: clh_heads_set_frozen: task id 5 was never set up");
}

/* A load that runs out of memory at any point returns CLH_E_NOMEM, leaves
 * *out alone and leaks nothing; an allocation whose failure it can absorb
 * (trimming an array to its final size) still loads the same heads. Every
 * allocation of one load is failed in turn. */
static void test_load_allocation_failures(void) {
    clh_heads *original = grown(CLH_MTL, 9);
    CHECK_OK(clh_heads_save(original, path));
    clh_heads *loaded = NULL;
    unsigned long before = clh_test_alloc_count();
    CHECK_OK(clh_heads_load(&loaded, path, NULL));
    long allocations = (long)(clh_test_alloc_count() - before);
    clh_heads_free(loaded);
    int failures = 0;
    for (long k = 1; k <= allocations; k++) {
        loaded = (clh_heads *)(uintptr_t)1;
        clh_test_fail_alloc_after(k);
        clh_status s = clh_heads_load(&loaded, path, NULL);
        clh_test_fail_alloc_after(0);
        if (s == CLH_OK) {
            check_same(original, loaded);
            clh_heads_free(loaded);
        } else {
            failures++;
            CHECK(s == CLH_E_NOMEM && loaded == (clh_heads *)(uintptr_t)1);
        }
    }
    CHECK(allocations > 5 && failures > 5);
    clh_heads_free(original);
}

int main(void) {
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    snprintf(path, sizeof path, "%s/heads.safetensors", dir);
    test_round_trip_every_paradigm();
    test_empty_handle();
    test_load_into();
    test_extra_tensors();
    test_shapes_that_do_not_fit();
    test_load_allocation_failures();
    unlink(path);
    rmdir(dir);
    return check_done("test_checkpoint_roundtrip");
}
