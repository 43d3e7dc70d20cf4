/* Saving and loading heads and optimizer state through memory buffers:
 *  - clh_heads_save_mem and clh_optim_save_mem produce exactly the bytes that
 *    clh_heads_save and clh_optim_save write to a file;
 *  - clh_heads_load_mem and clh_optim_load_mem give the same handle and state
 *    as loading that file (parameters bit for bit, tasks, frozen and masked
 *    flags; every optimizer buffer), and the next optimizer step agrees;
 *  - one buffer can hold both (clh_heads_save_mem_ex with the optimizer's
 *    export), read back by both loaders;
 *  - a truncated buffer is CLH_E_FORMAT and leaves the outputs unchanged. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_checkpoint_util.h"

#define IN 5
#define B 3

static char dir[] = "/tmp/clh_memio_XXXXXX";
static char heads_path[256], optim_path[256];

/* CIL heads over tasks 3, 1, 2, one frozen, one masked, trained two steps by optim. */
static clh_heads *trained(clh_optim **optim) {
    clh_heads *heads = NULL;
    CHECK_OK(clh_heads_create(&heads, CLH_CIL, IN, 11));
    CHECK_OK(clh_heads_setup_task(heads, 3, 2));
    CHECK_OK(clh_heads_setup_task(heads, 1, 3));
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_ADAM, 0.05);
    config.amsgrad = 1;
    CHECK_OK(clh_optim_create(optim, &config));
    float x[B * IN], logits[B * 9], dlogits[B * 9];
    for (int i = 0; i < B * IN; i++) x[i] = (float)((i * 5) % 9) / 9.0f - 0.4f;
    const int64_t labels[B] = {0, 4, 2};
    for (int step = 0; step < 2; step++) {
        if (step == 1) CHECK_OK(clh_heads_setup_task(heads, 2, 4));
        float loss;
        clh_heads_zero_grad(heads);
        CHECK_OK(clh_heads_forward(heads, x, B, CLH_NO_TASK, logits));
        CHECK_OK(clh_heads_cross_entropy(heads, logits, B, CLH_NO_TASK, NULL, labels, &loss, dlogits));
        CHECK_OK(clh_heads_backward(heads, x, B, CLH_NO_TASK, dlogits, NULL));
        CHECK_OK(clh_optim_step_heads(*optim, heads));
    }
    CHECK_OK(clh_heads_set_frozen(heads, 1, 1));
    CHECK_OK(clh_heads_set_masked(heads, 2, 1));
    return heads;
}

static void check_same_heads(const clh_heads *a, const clh_heads *b) {
    CHECK(a && b);
    if (!a || !b) return;
    CHECK(clh_heads_paradigm(a) == clh_heads_paradigm(b));
    CHECK(clh_heads_num_tasks(a) == clh_heads_num_tasks(b));
    size_t n = clh_heads_num_tasks(a);
    CHECK(n == 3 && memcmp(clh_heads_task_ids(a), clh_heads_task_ids(b), n * sizeof(int64_t)) == 0);
    for (size_t i = 0; i < n && n == 3; i++) {
        int64_t id = clh_heads_task_ids(a)[i];
        int fa, fb, ma, mb;
        CHECK_OK(clh_heads_is_frozen(a, id, &fa));
        CHECK_OK(clh_heads_is_frozen(b, id, &fb));
        CHECK_OK(clh_heads_is_masked(a, id, &ma));
        CHECK_OK(clh_heads_is_masked(b, id, &mb));
        CHECK(fa == fb && ma == mb);
    }
    const float *pa, *pb;
    size_t ca, cb;
    clh_heads_flat_const(a, &pa, NULL, &ca);
    clh_heads_flat_const(b, &pb, NULL, &cb);
    CHECK(ca == cb && ca == 9 * (IN + 1) && memcmp(pa, pb, ca * sizeof(float)) == 0);
}

static void check_same_state(clh_optim *a, clh_optim *b) {
    size_t n = clh_optim_buffer_count(a);
    CHECK(n == 4 && clh_optim_buffer_count(b) == n); /* exp_avg, exp_avg_sq, max_exp_avg_sq, step */
    for (size_t i = 0; i < n; i++) {
        clh_optim_buffer x, y;
        CHECK_OK(clh_optim_buffer_at(a, i, &x));
        CHECK_OK(clh_optim_buffer_at(b, i, &y));
        size_t width = x.is_int64 ? sizeof(int64_t) : sizeof(float);
        CHECK(strcmp(x.name, y.name) == 0 && x.count == y.count && x.is_int64 == y.is_int64 &&
              memcmp(x.data, y.data, x.count * width) == 0);
    }
}

static void test_bytes_equal_the_file(clh_heads *heads, clh_optim *optim) {
    unsigned char *mem = NULL;
    size_t mem_len = 0, file_len = 0;
    CHECK_OK(clh_heads_save(heads, heads_path));
    CHECK_OK(clh_heads_save_mem(heads, &mem, &mem_len));
    unsigned char *file = read_whole(heads_path, &file_len);
    CHECK(file && mem && mem_len == file_len && mem_len > 100 && memcmp(mem, file, mem_len) == 0);
    free(file);
    clh_st_bytes_free(mem);

    mem = NULL;
    CHECK_OK(clh_optim_save(optim, optim_path));
    CHECK_OK(clh_optim_save_mem(optim, &mem, &mem_len));
    file = read_whole(optim_path, &file_len);
    CHECK(file && mem && mem_len == file_len && mem_len > 100 && memcmp(mem, file, mem_len) == 0);
    free(file);
    clh_st_bytes_free(mem);
}

static void test_loads_equal_the_file(clh_heads *heads, clh_optim *optim) {
    unsigned char *mem = NULL;
    size_t len = 0;
    CHECK_OK(clh_heads_save_mem(heads, &mem, &len));
    clh_heads *from_mem = NULL, *from_file = NULL;
    CHECK_OK(clh_heads_load_mem(&from_mem, mem, len, NULL));
    CHECK_OK(clh_heads_load(&from_file, heads_path, NULL));
    check_same_heads(heads, from_mem);
    check_same_heads(from_file, from_mem);
    clh_st_bytes_free(mem);

    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_SGD, 0.0);
    CHECK_OK(clh_optim_get_config(optim, &config));
    clh_optim *o_mem = NULL, *o_file = NULL;
    CHECK_OK(clh_optim_create(&o_mem, &config));
    CHECK_OK(clh_optim_create(&o_file, &config));
    CHECK_OK(clh_optim_save_mem(optim, &mem, &len));
    CHECK_OK(clh_optim_load_mem(o_mem, mem, len));
    CHECK_OK(clh_optim_load(o_file, optim_path));
    check_same_state(optim, o_mem);
    check_same_state(o_file, o_mem);
    clh_st_bytes_free(mem);

    /* One more step from either restored pair lands on the same parameters
     * (gradients are not saved: zero, but Adam's moments still move them). */
    CHECK_OK(clh_heads_set_frozen(from_mem, 1, 0));
    CHECK_OK(clh_heads_set_frozen(from_file, 1, 0));
    for (size_t i = 0; i < 3; i++) {
        CHECK_OK(set_grad_at(from_mem, i, 1));
        CHECK_OK(set_grad_at(from_file, i, 1));
    }
    CHECK_OK(clh_optim_step_heads(o_mem, from_mem));
    CHECK_OK(clh_optim_step_heads(o_file, from_file));
    const float *pa, *pb, *p0;
    size_t ca, cb, c0;
    clh_heads_flat_const(from_mem, &pa, NULL, &ca);
    clh_heads_flat_const(from_file, &pb, NULL, &cb);
    clh_heads_flat_const(heads, &p0, NULL, &c0);
    CHECK(ca == cb && memcmp(pa, pb, ca * sizeof(float)) == 0);
    CHECK(ca == c0 && memcmp(pa, p0, ca * sizeof(float)) != 0); /* the step moved something */
    clh_optim_free(o_mem);
    clh_optim_free(o_file);
    clh_heads_free(from_mem);
    clh_heads_free(from_file);
}

/* Heads and optimizer state in one buffer, as a training checkpoint. */
static void test_one_buffer(clh_heads *heads, clh_optim *optim) {
    clh_optim_export *exported = NULL;
    CHECK_OK(clh_optim_export_create(optim, &exported));
    size_t nt = 0, nm = 0;
    const clh_st_tensor *tensors = clh_optim_export_tensors(exported, &nt);
    const clh_st_meta *meta = clh_optim_export_meta(exported, &nm);
    unsigned char *mem = NULL;
    size_t len = 0;
    CHECK_OK(clh_heads_save_mem_ex(heads, &mem, &len, tensors, nt, meta, nm));
    clh_optim_export_free(exported);

    clh_load_options options;
    clh_load_options_init(&options);
    options.ignore_unknown = 1;
    clh_heads *loaded = NULL;
    CHECK_OK(clh_heads_load_mem(&loaded, mem, len, &options));
    check_same_heads(heads, loaded);
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_SGD, 0.0);
    CHECK_OK(clh_optim_get_config(optim, &config));
    clh_optim *restored = NULL;
    CHECK_OK(clh_optim_create(&restored, &config));
    CHECK_OK(clh_optim_load_mem(restored, mem, len));
    check_same_state(optim, restored);
    /* Without ignore_unknown the optimizer's tensors are unknown head keys. */
    clh_heads *strict = NULL;
    CHECK_STATUS(clh_heads_load_mem(&strict, mem, len, NULL), CLH_E_MISMATCH);
    CHECK(strict == NULL);
    clh_optim_free(restored);
    clh_heads_free(loaded);
    clh_st_bytes_free(mem);
}

static void test_errors(clh_heads *heads, clh_optim *optim) {
    unsigned char *mem = NULL;
    size_t len = 0;
    CHECK_OK(clh_heads_save_mem(heads, &mem, &len));
    clh_heads *out = (clh_heads *)&len; /* a sentinel that must survive */
    CHECK_STATUS(clh_heads_load_mem(&out, mem, len - 1, NULL), CLH_E_FORMAT);
    CHECK(out == (clh_heads *)&len);
    CHECK_STATUS(clh_heads_load_mem(&out, NULL, len, NULL), CLH_E_NULL);
    clh_optim_config config;
    clh_optim_config_init(&config, CLH_OPTIM_SGD, 0.0);
    CHECK_OK(clh_optim_get_config(optim, &config));
    clh_optim *fresh = NULL;
    CHECK_OK(clh_optim_create(&fresh, &config));
    CHECK_STATUS(clh_optim_load_mem(fresh, mem, len), CLH_E_FORMAT); /* no optim.* metadata */
    CHECK(clh_optim_buffer_count(fresh) == 0);
    clh_st_bytes_free(mem);

    unsigned char *kept = (unsigned char *)&len;
    size_t kept_len = 7;
    CHECK_STATUS(clh_heads_save_mem(NULL, &kept, &kept_len), CLH_E_NULL);
    CHECK_STATUS(clh_heads_save_mem(heads, NULL, &kept_len), CLH_E_NULL);
    CHECK_STATUS(clh_optim_save_mem(optim, &kept, NULL), CLH_E_NULL);
    CHECK(kept == (unsigned char *)&len && kept_len == 7);
    clh_optim_free(fresh);
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    snprintf(heads_path, sizeof heads_path, "%s/heads.safetensors", dir);
    snprintf(optim_path, sizeof optim_path, "%s/optim.safetensors", dir);
    clh_optim *optim = NULL;
    clh_heads *heads = trained(&optim);
    test_bytes_equal_the_file(heads, optim);
    test_loads_equal_the_file(heads, optim);
    test_one_buffer(heads, optim);
    test_errors(heads, optim);
    clh_heads_free(heads);
    clh_optim_free(optim);
    unlink(heads_path);
    unlink(optim_path);
    rmdir(dir);
    return check_done("test_abi_memio");
}
