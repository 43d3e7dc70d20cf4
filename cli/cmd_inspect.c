/* `clheads inspect FILE`: what a checkpoint holds. For a clheads checkpoint:
 * paradigm, tasks in order with class counts and offsets, shapes, metadata
 * (and the run's state when `clheads run` wrote it). For a safetensors file
 * without clheads metadata (written by PyTorch): every tensor, and the heads
 * inferred from the names (heads.<t>.weight/bias, head.weight/bias, under an
 * optional prefix such as "heads."). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clheads.h"
#include "clheads/checkpoint.h"
#include "text.h"

#define CMD "inspect"

static const char *const HELP =
    "usage: clheads inspect FILE\n"
    "\n"
    "Prints the paradigm, tasks, class counts, shapes and metadata of a heads\n"
    "checkpoint (safetensors), also one written by PyTorch without clheads\n"
    "metadata (then the heads are inferred from the tensor names).\n"
    "Names and values from the file are printed escaped: bytes outside printable\n"
    "ASCII as \\xNN, a backslash as \\\\.\n";

static void print_shape(const clh_st_tensor *t) {
    putchar('[');
    for (size_t d = 0; d < t->ndim; d++) printf("%s%lld", d ? ", " : "", (long long)t->shape[d]);
    putchar(']');
}

static void print_heads(const clh_heads *heads) {
    clh_paradigm p = clh_heads_paradigm(heads);
    printf("paradigm: %s\nin_features: %lld\ntotal classes: %lld\n", clh_paradigm_name(p),
           (long long)clh_heads_in_features(heads), (long long)clh_heads_total_classes(heads));
    size_t n = clh_heads_num_tasks(heads);
    int single = p == CLH_DIL || p == CLH_STL;
    printf("tasks (%zu, in set-up order):\n", n);
    for (size_t i = 0; i < n; i++) {
        int64_t classes = 0, offset = 0;
        int64_t id = CLH_NO_TASK;
        clh_heads_task_at(heads, i, &id);
        clh_heads_task_classes(heads, id, &classes, &offset);
        int frozen = 0;
        clh_heads_is_frozen(heads, id, &frozen);
        if (single)
            printf("  head: %lld classes, weight [%lld, %lld]%s\n", (long long)classes,
                   (long long)classes, (long long)clh_heads_in_features(heads),
                   frozen ? ", frozen" : "");
        else
            printf("  task %lld: %lld classes (logits %lld..%lld), weight [%lld, %lld]%s\n",
                   (long long)id, (long long)classes, (long long)offset,
                   (long long)(offset + classes - 1), (long long)classes,
                   (long long)clh_heads_in_features(heads), frozen ? ", frozen" : "");
    }
}

/* A metadata value, or "?" when a (hand-edited) file lacks it. */
static const char *meta_or_unknown(const clh_st_file *file, const char *key) {
    const char *value = clh_st_meta_get(file, key);
    return value ? cli_esc(value) : "?";
}

/* Heads inferred from tensor names in a file without clheads metadata. */
static void infer_heads(const clh_st_file *file) {
    const char *prefixes[] = {"", "heads."};
    int found = 0;
    for (size_t pi = 0; pi < 2 && !found; pi++) {
        const char *prefix = prefixes[pi];
        size_t plen = strlen(prefix);
        int multi = 0, single = 0, alias = 0;
        for (size_t i = 0; i < clh_st_count(file); i++) {
            const char *name = clh_st_at(file, i)->name;
            if (strncmp(name, prefix, plen) != 0) continue;
            const char *rest = name + plen;
            if (strncmp(rest, "heads.", 6) == 0 && isdigit((unsigned char)rest[6])) multi++;
            if (strcmp(rest, "head.weight") == 0) single++;
            if (strncmp(rest, "head_t.", 7) == 0) alias++;
        }
        if (!multi && !single) continue;
        found = 1;
        printf("inferred heads (no clheads metadata%s%s%s):\n", plen ? "; key prefix \"" : "",
               prefix, plen ? "\"" : "");
        clh_load_options options;
        clh_load_options_init(&options);
        options.prefix = prefix;
        options.ignore_unknown = 1;
        options.structure_only = 1; /* the file was opened header-only */
        options.paradigm = multi ? CLH_TIL : CLH_DIL;
        clh_heads *heads = NULL;
        clh_status st = clh_heads_load_file(&heads, file, &options);
        if (st != CLH_OK) {
            printf("  the head tensors do not form valid heads: %s (%s)\n",
                   clh_status_message(st), cli_esc(clh_last_error()));
            continue;
        }
        size_t n = clh_heads_num_tasks(heads);
        const int64_t *ids = clh_heads_task_ids(heads);
        if (multi) {
            printf("  one head per task (heads.<task_id>.weight/bias): TIL, CIL or MTL\n");
            printf("  in_features: %lld; tasks (ascending id): %zu\n",
                   (long long)clh_heads_in_features(heads), n);
            for (size_t i = 0; i < n; i++) {
                int64_t classes = 0;
                clh_heads_task_classes(heads, ids[i], &classes, NULL);
                printf("    task %lld: %lld classes\n", (long long)ids[i], (long long)classes);
            }
        } else {
            int64_t classes = 0;
            clh_heads_task_classes(heads, CLH_NO_TASK, &classes, NULL);
            printf("  one head (head.weight/bias): DIL or STL; %lld classes, in_features %lld\n",
                   (long long)classes, (long long)clh_heads_in_features(heads));
        }
        if (alias) printf("  (the seed's TIL alias head_t.* is present; it is skipped)\n");
        printf("  name the paradigm with 'clheads predict --paradigm P'\n");
        clh_heads_free(heads);
    }
    if (!found) printf("no head tensors found (expected heads.<t>.weight or head.weight)\n");
}

int cli_cmd_inspect(int argc, char **argv) {
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(HELP, stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(argv[i], "--version") == 0) return cli_print_version();
        if (argv[i][0] == '-') return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
        if (path) return cli_usage_error(CMD, "one FILE expected, got '%s' and '%s'", path, argv[i]);
        path = argv[i];
    }
    if (!path) return cli_usage_error(CMD, "missing FILE");
    clh_st_file *file = NULL;
    clh_status st = clh_st_open_header(&file, path); /* no tensor data is printed */
    if (st != CLH_OK)
        return cli_fail(CMD, "cannot read %s: %s (%s)", path, clh_status_message(st),
                        clh_last_error());
    printf("file: %s (safetensors, %zu tensors)\n", cli_esc(path), clh_st_count(file));
    int has_clheads = clh_st_meta_get(file, "clheads_format") != NULL;
    if (has_clheads) {
        clh_load_options options;
        clh_load_options_init(&options);
        options.ignore_unknown = 1;
        options.structure_only = 1;
        clh_heads *heads = NULL;
        st = clh_heads_load_file(&heads, file, &options);
        if (st != CLH_OK) {
            cli_fail(CMD, "%s has clheads metadata but its heads do not load: %s (%s)", path,
                     clh_status_message(st), clh_last_error());
            clh_st_free(file);
            return CLI_EXIT_FAIL;
        }
        print_heads(heads);
        clh_heads_free(heads);
    } else {
        infer_heads(file);
    }
    if (clh_st_meta_get(file, "run.format")) {
        /* At most eight escaped values per call (cli_esc's ring). */
        printf("clheads run state: %s on %s, %s of %s tasks completed, %s lr %s",
               meta_or_unknown(file, "run.paradigm"), meta_or_unknown(file, "run.dataset"),
               meta_or_unknown(file, "run.phases_done"), meta_or_unknown(file, "run.num_tasks"),
               meta_or_unknown(file, "run.optimizer"), meta_or_unknown(file, "run.lr"));
        printf(", batch %s, %s epochs, seed %s\n", meta_or_unknown(file, "run.batch_size"),
               meta_or_unknown(file, "run.epochs"), meta_or_unknown(file, "run.seed"));
    }
    size_t n_meta = clh_st_meta_count(file);
    printf("metadata (%zu):\n", n_meta);
    for (size_t i = 0; i < n_meta; i++) {
        const clh_st_meta *m = clh_st_meta_at(file, i);
        printf("  %s = %s\n", cli_esc(m->key), cli_esc(m->value));
    }
    printf("tensors:\n");
    for (size_t i = 0; i < clh_st_count(file); i++) {
        const clh_st_tensor *t = clh_st_at(file, i);
        printf("  %-40s %-5s ", cli_esc(t->name), clh_dtype_name(t->dtype));
        print_shape(t);
        putchar('\n');
    }
    clh_st_free(file);
    return CLI_EXIT_OK;
}
