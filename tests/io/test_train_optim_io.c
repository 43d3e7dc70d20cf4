/* Optimizer state in safetensors: save, load into a fresh optimizer, and the
 * continued training is bit-identical to never having stopped; one file with
 * heads and optimizer state; tensor names and shapes; a plain vector; an
 * unbound optimizer; files that do not fit are rejected and change nothing. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "clheads.h"

static char dir[64];

static const char *tmp_path(const char *name) {
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* One TIL step on task_id: zero_grad, forward, loss, backward, optimizer step. */
static void train(clh_heads *heads, clh_optim *optim, int64_t task_id, unsigned salt) {
    int64_t in = clh_heads_in_features(heads), width = 0;
    CHECK_OK(clh_heads_logits_width(heads, clh_heads_paradigm(heads) == CLH_CIL ? CLH_NO_TASK
                                                                                 : task_id,
                                    &width));
    float x[3 * 8], logits[3 * 16], dlogits[3 * 16], loss;
    int64_t labels[3];
    for (int64_t i = 0; i < 3 * in; i++) x[i] = (float)((i * 5 + salt * 3) % 7) / 3.0f - 1.0f;
    for (int i = 0; i < 3; i++) labels[i] = (int64_t)(i + salt) % width;
    clh_heads_zero_grad(heads);
    CHECK_OK(clh_heads_forward(heads, x, 3, task_id, logits));
    CHECK_OK(clh_heads_cross_entropy(heads, logits, 3, task_id, NULL, labels, &loss, dlogits));
    CHECK_OK(clh_heads_backward(heads, x, 3, task_id, dlogits, NULL));
    CHECK_OK(clh_optim_step_heads(optim, heads));
}

static int same_params(clh_heads *a, clh_heads *b) {
    float *pa, *pb;
    size_t na, nb;
    clh_heads_flat(a, &pa, NULL, &na);
    clh_heads_flat(b, &pb, NULL, &nb);
    return na == nb && memcmp(pa, pb, na * sizeof(float)) == 0;
}

/* Separate files for heads and optimizer; the run continues bit for bit. */
static void resume_training(void) {
    clh_heads *h = NULL;
    clh_optim *o = NULL;
    clh_optim_config c;
    clh_optim_config_init(&c, CLH_OPTIM_ADAM, 0.01);
    c.amsgrad = 1;
    c.weight_decay = 0.01;
    CHECK_OK(clh_heads_create(&h, CLH_TIL, 4, 21));
    CHECK_OK(clh_optim_create(&o, &c));
    CHECK_OK(clh_heads_setup_task(h, 3, 3));
    for (unsigned s = 0; s < 3; s++) train(h, o, 3, s);
    CHECK_OK(clh_heads_setup_task(h, 1, 2));
    for (unsigned s = 0; s < 2; s++) train(h, o, 1, s);
    CHECK_OK(clh_heads_save(h, tmp_path("heads.safetensors")));
    CHECK_OK(clh_optim_save(o, tmp_path("optim.safetensors")));

    /* The file's tensors: names after the heads module, torch's shapes. */
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_open(&file, tmp_path("optim.safetensors")));
    if (file) {
        const clh_st_tensor *t = clh_st_find(file, "optim.heads.3.weight.exp_avg");
        CHECK(t && t->dtype == CLH_DT_F32 && t->ndim == 2 && t->shape[0] == 3 && t->shape[1] == 4);
        t = clh_st_find(file, "optim.heads.1.bias.max_exp_avg_sq");
        CHECK(t && t->ndim == 1 && t->shape[0] == 2);
        t = clh_st_find(file, "optim.heads.3.step");
        int64_t step = 0;
        if (t) memcpy(&step, t->data, sizeof step);
        CHECK(t && t->dtype == CLH_DT_I64 && t->ndim == 0 && step == 5); /* TIL: both heads stepped */
        CHECK(clh_st_count(file) == 2 * (3 * 2 + 1));
        const char *ids = clh_st_meta_get(file, "optim.task_ids");
        CHECK(ids && strcmp(ids, "3,1") == 0);
        clh_optim_config read;
        clh_optim_config_init(&read, CLH_OPTIM_SGD, 0.0);
        CHECK_OK(clh_optim_read_config(file, &read));
        CHECK(read.kind == CLH_OPTIM_ADAM && read.lr == 0.01 && read.amsgrad == 1 &&
              read.weight_decay == 0.01 && read.beta2 == 0.999);
        clh_st_free(file);
    }

    clh_heads *h2 = NULL;
    clh_optim *o2 = NULL;
    clh_load_options opts;
    clh_load_options_init(&opts);
    opts.seed = 21;
    CHECK_OK(clh_heads_load(&h2, tmp_path("heads.safetensors"), &opts));
    CHECK_OK(clh_optim_create(&o2, &c));
    CHECK_OK(clh_optim_load(o2, tmp_path("optim.safetensors")));
    CHECK(h2 && same_params(h, h2));
    /* The loaded state equals the saved one, buffer by buffer. (Training
     * resumes as in torch after a load: a head gets stepped again once a
     * backward has reached it in the new handle; resume_bit_identical checks
     * the continued run.) */
    CHECK(clh_optim_buffer_count(o2) == clh_optim_buffer_count(o) && clh_optim_buffer_count(o) == 4);
    for (size_t i = 0; i < clh_optim_buffer_count(o); i++) {
        clh_optim_buffer a, b;
        CHECK_OK(clh_optim_buffer_at(o, i, &a));
        CHECK_OK(clh_optim_buffer_at(o2, i, &b));
        size_t bytes = a.count * (a.is_int64 ? sizeof(int64_t) : sizeof(float));
        CHECK(strcmp(a.name, b.name) == 0 && a.count == b.count && memcmp(a.data, b.data, bytes) == 0);
    }
    clh_optim_layout la, lb;
    CHECK_OK(clh_optim_get_layout(o, &la));
    CHECK_OK(clh_optim_get_layout(o2, &lb));
    CHECK(lb.binding == CLH_OPTIM_HEADS && lb.paradigm == CLH_TIL && lb.in_features == 4 &&
          lb.num_segments == 2 && lb.task_ids[0] == 3 && lb.task_ids[1] == 1 &&
          lb.num_classes[0] == 3 && lb.count == la.count);
    clh_optim_free(o);
    clh_optim_free(o2);
    clh_heads_free(h);
    clh_heads_free(h2);
}

/* CIL (every head gets a gradient on every step): the resumed run is
 * bit-identical to the uninterrupted one. One file holds heads and state. */
static void resume_bit_identical(void) {
    clh_heads *h = NULL, *h2 = NULL;
    clh_optim *o = NULL, *o2 = NULL;
    clh_optim_config c;
    clh_optim_config_init(&c, CLH_OPTIM_SGD, 0.05);
    c.momentum = 0.9;
    c.nesterov = 1;
    c.weight_decay = 1e-3;
    CHECK_OK(clh_heads_create(&h, CLH_CIL, 5, 4));
    CHECK_OK(clh_optim_create(&o, &c));
    CHECK_OK(clh_heads_setup_task(h, 0, 2));
    for (unsigned s = 0; s < 3; s++) train(h, o, CLH_NO_TASK, s);
    CHECK_OK(clh_heads_setup_task(h, 1, 3));
    for (unsigned s = 0; s < 2; s++) train(h, o, CLH_NO_TASK, s);

    clh_optim_export *e = NULL;
    CHECK_OK(clh_optim_export_create(o, &e));
    size_t nt = 0, nm = 0;
    const clh_st_tensor *tensors = clh_optim_export_tensors(e, &nt);
    const clh_st_meta *meta = clh_optim_export_meta(e, &nm);
    CHECK(nt == 2 * (2 * 1 + 1) && nm > 10);
    CHECK_OK(clh_heads_save_ex(h, tmp_path("both.safetensors"), tensors, nt, meta, nm));
    clh_optim_export_free(e);

    clh_st_file *file = NULL;
    CHECK_OK(clh_st_open(&file, tmp_path("both.safetensors")));
    clh_load_options opts;
    clh_load_options_init(&opts);
    opts.seed = 4;
    opts.ignore_unknown = 1;
    CHECK_OK(clh_heads_load_file(&h2, file, &opts));
    clh_optim_config read;
    clh_optim_config_init(&read, CLH_OPTIM_SGD, 0.0);
    CHECK_OK(clh_optim_read_config(file, &read));
    CHECK_OK(clh_optim_create(&o2, &read));
    CHECK_OK(clh_optim_load_file(o2, file));
    clh_st_free(file);
    CHECK(h2 && same_params(h, h2));
    for (unsigned s = 0; h2 && s < 5; s++) {
        train(h, o, CLH_NO_TASK, 20 + s);
        train(h2, o2, CLH_NO_TASK, 20 + s);
        if (s == 2) { /* growth after loading keeps the loaded state too */
            CHECK_OK(clh_heads_setup_task(h, 9, 2));
            CHECK_OK(clh_heads_setup_task(h2, 9, 2));
        }
    }
    CHECK(h2 && same_params(h, h2));
    clh_optim_free(o);
    clh_optim_free(o2);
    clh_heads_free(h);
    clh_heads_free(h2);
}

/* DIL names its one head "optim.head"; a plain vector "optim.params". */
static void names_and_flat(void) {
    clh_heads *h = NULL;
    clh_optim *o = NULL;
    clh_optim_config c;
    clh_optim_config_init(&c, CLH_OPTIM_ADAMW, 0.01);
    CHECK_OK(clh_heads_create(&h, CLH_DIL, 3, 2));
    CHECK_OK(clh_heads_setup_single(h, 4));
    CHECK_OK(clh_optim_create(&o, &c));
    train(h, o, CLH_NO_TASK, 1);
    CHECK_OK(clh_optim_save(o, tmp_path("dil.safetensors")));
    clh_st_file *file = NULL;
    CHECK_OK(clh_st_open(&file, tmp_path("dil.safetensors")));
    CHECK(file && clh_st_find(file, "optim.head.weight.exp_avg_sq") &&
          clh_st_find(file, "optim.head.step") && clh_st_count(file) == 5);
    clh_st_free(file);
    clh_optim_free(o);
    clh_heads_free(h);

    /* Flat: save, load, continue identically. */
    float p[5] = {1, 2, 3, 4, 5}, p2[5];
    const float g[5] = {0.1f, -0.2f, 0.3f, -0.4f, 0.5f};
    clh_optim *f = NULL, *f2 = NULL;
    CHECK_OK(clh_optim_create(&f, &c));
    CHECK_OK(clh_optim_create(&f2, &c));
    /* Unbound: saves and loads as "no state". */
    CHECK_OK(clh_optim_save(f, tmp_path("none.safetensors")));
    CHECK_OK(clh_optim_load(f2, tmp_path("none.safetensors")));
    CHECK(clh_optim_buffer_count(f2) == 0);
    for (int s = 0; s < 3; s++) CHECK_OK(clh_optim_step(f, p, g, 5));
    CHECK_OK(clh_optim_save(f, tmp_path("flat.safetensors")));
    CHECK_OK(clh_optim_load(f2, tmp_path("flat.safetensors")));
    memcpy(p2, p, sizeof p);
    for (int s = 0; s < 3; s++) {
        CHECK_OK(clh_optim_step(f, p, g, 5));
        CHECK_OK(clh_optim_step(f2, p2, g, 5));
    }
    CHECK(memcmp(p, p2, sizeof p) == 0);
    clh_optim_free(f);
    clh_optim_free(f2);
}

/* Two optimizers in one file under their own prefixes (the tool's backbone
 * and heads): each loads back its own state and continues identically; a
 * wrong prefix or a malformed one is refused. */
static void two_prefixes(void) {
    clh_heads *h = NULL;
    clh_optim *heads_opt = NULL, *flat_opt = NULL, *heads2 = NULL, *flat2 = NULL;
    clh_optim_config c;
    clh_optim_config_init(&c, CLH_OPTIM_ADAM, 0.01);
    CHECK_OK(clh_heads_create(&h, CLH_TIL, 3, 4));
    CHECK_OK(clh_heads_setup_task(h, 7, 2));
    CHECK_OK(clh_optim_create(&heads_opt, &c));
    CHECK_OK(clh_optim_create(&flat_opt, &c));
    CHECK_OK(clh_optim_create(&heads2, &c));
    CHECK_OK(clh_optim_create(&flat2, &c));
    train(h, heads_opt, 7, 3);
    float p[4] = {1, 2, 3, 4}, p2[4];
    const float g[4] = {0.5f, -0.25f, 0.125f, 1.0f};
    for (int s = 0; s < 2; s++) CHECK_OK(clh_optim_step(flat_opt, p, g, 4));

    clh_optim_export *a = NULL, *b = NULL, *bad = NULL;
    CHECK_OK(clh_optim_export_create_prefixed(heads_opt, "opt.heads", &a));
    CHECK_OK(clh_optim_export_create_prefixed(flat_opt, "opt.backbone", &b));
    CHECK_STATUS(clh_optim_export_create_prefixed(flat_opt, "ends.", &bad), CLH_E_INVALID_ARG);
    CHECK_STATUS(clh_optim_export_create_prefixed(flat_opt, "", &bad), CLH_E_INVALID_ARG);
    CHECK(bad == NULL);
    size_t na = 0, nb = 0, ma = 0, mb = 0;
    const clh_st_tensor *ta = clh_optim_export_tensors(a, &na), *tb = clh_optim_export_tensors(b, &nb);
    const clh_st_meta *xa = clh_optim_export_meta(a, &ma), *xb = clh_optim_export_meta(b, &mb);
    clh_st_tensor tensors[16];
    clh_st_meta meta[40];
    CHECK(na + nb <= 16 && ma + mb <= 40);
    memcpy(tensors, ta, na * sizeof *ta);
    memcpy(tensors + na, tb, nb * sizeof *tb);
    memcpy(meta, xa, ma * sizeof *xa);
    memcpy(meta + ma, xb, mb * sizeof *xb);
    CHECK_OK(clh_st_save(tmp_path("two.safetensors"), tensors, na + nb, meta, ma + mb));
    clh_optim_export_free(a);
    clh_optim_export_free(b);

    clh_st_file *file = NULL;
    CHECK_OK(clh_st_open(&file, tmp_path("two.safetensors")));
    CHECK(file && clh_st_find(file, "opt.heads.heads.7.weight.exp_avg") &&
          clh_st_find(file, "opt.backbone.params.exp_avg_sq") &&
          clh_st_meta_get(file, "opt.backbone.binding") &&
          strcmp(clh_st_meta_get(file, "opt.backbone.binding"), "flat") == 0 &&
          !clh_st_meta_get(file, "optim.binding"));
    CHECK_OK(clh_optim_load_file_prefixed(heads2, file, "opt.heads"));
    CHECK_OK(clh_optim_load_file_prefixed(flat2, file, "opt.backbone"));
    CHECK_STATUS(clh_optim_load_file(flat2, file), CLH_E_FORMAT); /* no "optim." state */
    CHECK_STATUS(clh_optim_load_file_prefixed(flat2, file, "opt"), CLH_E_FORMAT);
    clh_st_free(file);
    memcpy(p2, p, sizeof p);
    for (int s = 0; s < 2; s++) {
        CHECK_OK(clh_optim_step(flat_opt, p, g, 4));
        CHECK_OK(clh_optim_step(flat2, p2, g, 4));
    }
    CHECK(memcmp(p, p2, sizeof p) == 0);
    clh_heads *h2 = NULL;
    CHECK_OK(clh_heads_create(&h2, CLH_TIL, 3, 4));
    CHECK_OK(clh_heads_setup_task(h2, 7, 2));
    float *dst = NULL, *src = NULL;
    size_t count = 0;
    clh_heads_flat(h2, &dst, NULL, &count);
    clh_heads_flat(h, &src, NULL, NULL);
    memcpy(dst, src, count * sizeof *dst);
    train(h, heads_opt, 7, 5);
    train(h2, heads2, 7, 5);
    CHECK(same_params(h, h2));
    clh_heads_free(h);
    clh_heads_free(h2);
    clh_optim_free(heads_opt);
    clh_optim_free(heads2);
    clh_optim_free(flat_opt);
    clh_optim_free(flat2);
}

/* Files that do not fit the optimizer: rejected, the optimizer unchanged. */
static void rejections(void) {
    /* optim.safetensors from resume_training holds Adam + amsgrad state. */
    clh_optim *o = NULL;
    clh_optim_config c;
    clh_optim_config_init(&c, CLH_OPTIM_SGD, 0.1);
    c.momentum = 0.9;
    CHECK_OK(clh_optim_create(&o, &c));
    CHECK_STATUS(clh_optim_load(o, tmp_path("optim.safetensors")), CLH_E_MISMATCH);
    CHECK(strstr(clh_last_error(), "adam") != NULL);
    clh_optim_free(o);

    o = NULL;
    clh_optim_config_init(&c, CLH_OPTIM_ADAM, 0.1); /* no amsgrad: max_exp_avg_sq is extra */
    CHECK_OK(clh_optim_create(&o, &c));
    float p[2] = {1, 2};
    const float g[2] = {1, 1};
    CHECK_OK(clh_optim_step(o, p, g, 2));
    CHECK_STATUS(clh_optim_load(o, tmp_path("optim.safetensors")), CLH_E_MISMATCH);
    CHECK(strstr(clh_last_error(), "max_exp_avg_sq") != NULL);
    clh_optim_layout layout;
    CHECK_OK(clh_optim_get_layout(o, &layout));
    CHECK(layout.binding == CLH_OPTIM_FLAT && layout.count == 2); /* unchanged */
    CHECK_STATUS(clh_optim_load(o, tmp_path("missing.safetensors")), CLH_E_IO);
    /* A heads checkpoint without optimizer state. */
    CHECK_STATUS(clh_optim_load(o, tmp_path("heads.safetensors")), CLH_E_FORMAT);
    CHECK(strstr(clh_last_error(), "optim.format") != NULL);
    CHECK_STATUS(clh_optim_save(o, "/nonexistent-dir/optim.safetensors"), CLH_E_IO);
    CHECK_OK(clh_optim_get_layout(o, &layout));
    CHECK(layout.binding == CLH_OPTIM_FLAT && layout.count == 2);
    clh_optim_free(o);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/clh_optim_io_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    resume_training();
    resume_bit_identical();
    names_and_flat();
    two_prefixes();
    rejections();
    const char *files[] = {"heads.safetensors", "optim.safetensors", "both.safetensors",
                           "dil.safetensors", "none.safetensors", "flat.safetensors",
                           "two.safetensors"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) unlink(tmp_path(files[i]));
    rmdir(dir);
    return check_done("test_train_optim_io");
}
