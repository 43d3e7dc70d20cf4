/* `clheads predict`: logits for a batch handed over in a safetensors file.
 * Reads `feature` [B, in] (F32; F16/BF16/F64 are converted) and, for TIL and
 * MTL, `task_ids` (I64, [1] for the whole batch or [B] per sample); writes
 * `logits` [B, width] F32. One shape rule: width is the task's class count
 * for TIL, the widest head's for MTL (always, whether the ids differ or not;
 * -inf past a sample's own head), the single head's for CIL/DIL/STL.
 * A model that records a random feature expansion (analytic.h) takes the
 * inputs of the expansion and expands them before the heads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clheads.h"
#include "clheads/checkpoint.h"
#include "clheads/analytic.h"

#define CMD "predict"

static const char *const HELP =
    "usage: clheads predict --model FILE --features FILE --out FILE [--paradigm P]\n"
    "                       [--prefix S]\n"
    "\n"
    "  --model FILE     heads checkpoint (clheads, or a state dict PyTorch wrote)\n"
    "  --features FILE  safetensors with 'feature' [B, in] F32 and, for TIL/MTL,\n"
    "                   'task_ids' I64 [1] or [B]; for a model solved on random\n"
    "                   features (clheads run --expansion N) the run's inputs,\n"
    "                   expanded as in the run\n"
    "  --out FILE       safetensors to write with 'logits' [B, width] F32 (never\n"
    "                   one of the input files); width: TIL the task's classes,\n"
    "                   MTL the widest head (-inf past a sample's own head),\n"
    "                   CIL/DIL/STL all classes of the head\n"
    "  --paradigm P     til|cil|dil|mtl|stl: needed when the model file has no\n"
    "                   clheads metadata; must match it when it has\n"
    "  --prefix S       read only keys under S (e.g. 'heads.' for a whole model)\n";

static int lib_error(const char *what, const char *path, clh_status st) {
    return cli_fail(CMD, "%s %s: %s (%s)", what, path, clh_status_message(st), clh_last_error());
}

int cli_cmd_predict(int argc, char **argv) {
    const char *model = NULL, *features = NULL, *out = NULL, *prefix = NULL, *v = NULL;
    int paradigm = CLH_PARADIGM_FROM_FILE;
    cli_seen_options seen = {{0}, 0};
    for (int i = 1; i < argc; i++) {
        int m;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(HELP, stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(argv[i], "--version") == 0) return cli_print_version();
        const char **dst = NULL;
        const char *name = NULL;
        if ((m = cli_take_value(argc, argv, &i, "--model", &v)) != 0) dst = &model, name = "--model";
        else if ((m = cli_take_value(argc, argv, &i, "--features", &v)) != 0) dst = &features, name = "--features";
        else if ((m = cli_take_value(argc, argv, &i, "--out", &v)) != 0) dst = &out, name = "--out";
        else if ((m = cli_take_value(argc, argv, &i, "--prefix", &v)) != 0) dst = &prefix, name = "--prefix";
        else if ((m = cli_take_value(argc, argv, &i, "--paradigm", &v)) != 0) name = "--paradigm";
        else
            return cli_usage_error(CMD, argv[i][0] == '-' ? "unknown option '%s'"
                                                          : "unexpected argument '%s'", argv[i]);
        if (m < 0) return cli_usage_error(CMD, "option %s needs a value", name);
        int rc = cli_once(CMD, name, &seen);
        if (rc) return rc;
        if (dst) {
            *dst = v;
        } else {
            clh_paradigm p;
            if (clh_paradigm_parse(v, &p) != CLH_OK)
                return cli_usage_error(CMD, "unknown paradigm '%s' (expected til, cil, dil, mtl "
                                       "or stl)", v);
            paradigm = (int)p;
        }
    }
    if (!model) return cli_usage_error(CMD, "missing --model FILE");
    if (!features) return cli_usage_error(CMD, "missing --features FILE");
    if (!out) return cli_usage_error(CMD, "missing --out FILE");
    /* Writing the logits over an input would destroy it. */
    if (cli_same_file(out, model) || strcmp(out, model) == 0)
        return cli_usage_error(CMD, "--out %s is the model file; write the logits elsewhere", out);
    if (cli_same_file(out, features) || strcmp(out, features) == 0)
        return cli_usage_error(CMD, "--out %s is the features file; write the logits elsewhere",
                               out);

    clh_st_file *mfile = NULL, *ffile = NULL;
    clh_heads *heads = NULL;
    float *x = NULL, *logits = NULL, *expanded = NULL;
    clh_random_features *expansion = NULL;
    int64_t *ids = NULL;
    int rc = CLI_EXIT_FAIL;
    clh_status st = clh_st_open(&mfile, model);
    if (st != CLH_OK) {
        lib_error("cannot read model", model, st);
        goto done;
    }
    if (!clh_st_meta_get(mfile, "clheads_format") && paradigm == CLH_PARADIGM_FROM_FILE) {
        rc = cli_usage_error(CMD, "model %s has no clheads metadata (written by PyTorch?): name "
                             "its paradigm with --paradigm", model);
        goto done;
    }
    clh_load_options options;
    clh_load_options_init(&options);
    options.paradigm = paradigm;
    options.prefix = prefix;
    options.ignore_unknown = 1;
    st = clh_heads_load_file(&heads, mfile, &options);
    if (st != CLH_OK) {
        lib_error("cannot load model", model, st);
        goto done;
    }
    st = clh_st_open(&ffile, features);
    if (st != CLH_OK) {
        lib_error("cannot read features", features, st);
        goto done;
    }
    /* A model solved on random features (clheads run --method ridge|ncm|slda
     * with --expansion) records the expansion: the inputs are expanded
     * first, exactly as in the run. */
    st = clh_random_features_load_file(&expansion, mfile);
    if (st != CLH_OK) {
        lib_error("cannot read the feature expansion of model", model, st);
        goto done;
    }
    if (expansion && clh_random_features_width(expansion) != clh_heads_in_features(heads)) {
        cli_fail(CMD, "model %s: its expansion gives %lld features, its heads take %lld", model,
                 (long long)clh_random_features_width(expansion),
                 (long long)clh_heads_in_features(heads));
        goto done;
    }
    /* The library's one check of a tensor read from a file (dtype, shape,
     * byte size) before a byte of it is used. */
    const clh_st_tensor *ft = NULL;
    int64_t in = expansion ? clh_random_features_in(expansion) : clh_heads_in_features(heads);
    const int64_t feature_shape[2] = {CLH_ST_ANY_EXTENT, in};
    st = clh_st_expect(ffile, features, "feature", CLH_ST_FLOATING, 2, feature_shape, &ft);
    if (st != CLH_OK) {
        cli_fail(CMD, "%s (the model needs features [batch, %lld])", clh_last_error(),
                 (long long)in);
        goto done;
    }
    int64_t batch = ft->shape[0];
    size_t count = clh_st_numel(ft), bytes;
    if (__builtin_mul_overflow(count, sizeof(float), &bytes) || !(x = malloc(bytes ? bytes : 1))) {
        cli_fail(CMD, "out of memory for %lld features", (long long)batch);
        goto done;
    }
    st = clh_st_to_f32(ft, x, count);
    if (st != CLH_OK) {
        lib_error("cannot convert 'feature' of", features, st);
        goto done;
    }
    if (expansion) {
        size_t cells_h;
        int64_t width = clh_random_features_width(expansion);
        if (__builtin_mul_overflow((size_t)batch, (size_t)width, &cells_h) ||
            __builtin_mul_overflow(cells_h, sizeof(float), &bytes) ||
            !(expanded = malloc(bytes ? bytes : 1))) {
            cli_fail(CMD, "out of memory for %lld expanded features", (long long)batch);
            goto done;
        }
        st = clh_random_features_apply(expansion, x, batch, expanded);
        if (st != CLH_OK) {
            lib_error("cannot expand 'feature' of", features, st);
            goto done;
        }
    }
    const float *h = expansion ? expanded : x;
    clh_paradigm p = clh_heads_paradigm(heads);
    int64_t n_ids = 0;
    if (p == CLH_TIL || p == CLH_MTL) {
        const clh_st_tensor *tt = NULL;
        const int64_t ids_shape[1] = {CLH_ST_ANY_EXTENT};
        st = clh_st_expect(ffile, features, "task_ids", CLH_ST_DTYPE_BIT(CLH_DT_I64), 1,
                           ids_shape, &tt);
        if (st != CLH_OK) {
            cli_fail(CMD, "%s (%s needs task ids: I64 [1] or [%lld])", clh_last_error(),
                     clh_paradigm_name(p), (long long)batch);
            goto done;
        }
        if (tt->shape[0] != 1 && tt->shape[0] != batch) {
            cli_fail(CMD, "%s: tensor 'task_ids' has shape [%lld]; %s needs [1] or [%lld] (one id "
                     "per feature row)", features, (long long)tt->shape[0], clh_paradigm_name(p),
                     (long long)batch);
            goto done;
        }
        /* Copied: a tensor's data need not be 8-byte aligned. */
        n_ids = tt->shape[0];
        if (!(ids = malloc(n_ids ? (size_t)n_ids * sizeof(int64_t) : 1))) {
            cli_fail(CMD, "out of memory for %lld task ids", (long long)n_ids);
            goto done;
        }
        if (n_ids) memcpy(ids, tt->data, (size_t)n_ids * sizeof(int64_t));
    }
    /* Task ids are outside input: each must name a task of the model (a
     * negative id, CLH_NO_TASK included, names none). */
    for (int64_t i = 0; i < n_ids; i++) {
        int64_t classes = 0;
        if (ids[i] < 0 || clh_heads_task_classes(heads, ids[i], &classes, NULL) != CLH_OK) {
            cli_fail(CMD, "%s: task_ids[%lld] is %lld, which is not a task of model %s", features,
                     (long long)i, (long long)ids[i], model);
            goto done;
        }
    }
    /* One task for the batch: [1], or [B > 0] with all ids equal. (Empty ids
     * name no task: TIL refuses them; MTL takes them for an empty batch.) */
    int one_task = ids && n_ids > 0;
    for (int64_t i = 1; one_task && i < n_ids; i++)
        if (ids[i] != ids[0]) one_task = 0;
    int64_t width = 0;
    if (p == CLH_TIL && !one_task) {
        cli_fail(CMD, n_ids ? "TIL takes one task id for the whole batch, but task_ids differ "
                              "(use an MTL model, or one batch per task)"
                            : "TIL needs the batch's task id, but task_ids is empty (give it "
                              "shape [1])");
        goto done;
    }
    /* MTL: the mixed path for every batch, one id per sample (a [1] id is
     * repeated), so the shape is [B, widest] whatever the ids. */
    if (p == CLH_MTL && n_ids == 1 && batch != 1) {
        int64_t *all = malloc(batch ? (size_t)batch * sizeof(int64_t) : 1);
        if (!all) {
            cli_fail(CMD, "out of memory for %lld task ids", (long long)batch);
            goto done;
        }
        for (int64_t i = 0; i < batch; i++) all[i] = ids[0];
        free(ids);
        ids = all;
        n_ids = batch;
    }
    int64_t task_id = p == CLH_TIL ? ids[0] : CLH_NO_TASK;
    st = clh_heads_logits_width(heads, task_id, &width);
    if (st != CLH_OK) {
        lib_error("logits width for", model, st);
        goto done;
    }
    size_t cells;
    if (__builtin_mul_overflow((size_t)batch, (size_t)width, &cells) ||
        __builtin_mul_overflow(cells, sizeof(float), &bytes) ||
        !(logits = malloc(bytes ? bytes : 1))) {
        cli_fail(CMD, "cannot allocate the logits [%lld, %lld]", (long long)batch,
                 (long long)width);
        goto done;
    }
    if (p == CLH_MTL)
        st = clh_heads_forward_mixed(heads, h, batch, ids, logits, NULL, 0);
    else
        st = clh_heads_forward(heads, h, batch, task_id, logits);
    if (st != CLH_OK) {
        lib_error("forward with model", model, st);
        goto done;
    }
    clh_st_tensor tensor;
    memset(&tensor, 0, sizeof tensor);
    tensor.name = "logits";
    tensor.dtype = CLH_DT_F32;
    tensor.ndim = 2;
    tensor.shape[0] = batch;
    tensor.shape[1] = width;
    tensor.data = logits;
    tensor.nbytes = bytes;
    clh_st_meta meta = {"paradigm", clh_paradigm_name(p)};
    st = clh_st_save(out, &tensor, 1, &meta, 1);
    if (st != CLH_OK) {
        lib_error("cannot write", out, st);
        goto done;
    }
    rc = CLI_EXIT_OK;
done:
    free(x);
    free(expanded);
    clh_random_features_free(expansion);
    free(ids);
    free(logits);
    clh_heads_free(heads);
    clh_st_free(mfile);
    clh_st_free(ffile);
    return rc;
}
