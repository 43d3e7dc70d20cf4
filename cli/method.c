/* Names, options and option checks of `clheads run --method` (method.h). */
#include "method.h"

#include <string.h>

#include "cli.h"

#define CMD "run"

static const char *const NAMES[CLI_METHOD_COUNT] = {
    "finetune", "fix", "independent", "l2", "ewc", "online-ewc", "si", "mas",
    "lwf", "rehearsal", "gem", "offline", "ridge", "ncm", "slda"};

const char *cli_method_name(cli_method method) {
    return (unsigned)method < CLI_METHOD_COUNT ? NAMES[method] : "?";
}

int cli_method_parse(const char *name, cli_method *out) {
    for (int m = 0; m < CLI_METHOD_COUNT; m++) {
        if (strcmp(name, NAMES[m]) == 0) {
            *out = (cli_method)m;
            return 0;
        }
    }
    return -1;
}

const char *cli_method_list(void) {
    return "finetune, fix, independent, l2, ewc, online-ewc, si, mas, lwf, rehearsal, gem, "
           "offline, ridge, ncm or slda";
}

int cli_method_is_analytic(cli_method m) {
    return m == CLI_METHOD_RIDGE || m == CLI_METHOD_NCM || m == CLI_METHOD_SLDA;
}

int cli_method_is_regularizer(cli_method m) {
    return m == CLI_METHOD_L2 || m == CLI_METHOD_EWC || m == CLI_METHOD_ONLINE_EWC ||
           m == CLI_METHOD_SI || m == CLI_METHOD_MAS;
}

int cli_method_has_memory(cli_method m) {
    return m == CLI_METHOD_REHEARSAL || m == CLI_METHOD_GEM;
}

void cli_method_options_init(cli_method_options *o) {
    memset(o, 0, sizeof *o);
    o->reg_coef = 0.0; /* settled per paradigm */
    o->memory = 1100;
    o->temperature = 2.0;
    o->online_decay = 1.0;
    o->si_damping = 0.1;
    o->gem_margin = 0.5;
}

/* scripts/split_MNIST_incremental_{task,domain,class}.sh of
 * GT-RIPL/Continual-Learning-Benchmark (docs/methods.md). */
double cli_method_paper_reg_coef(cli_method m, clh_paradigm p) {
    int col = p == CLH_TIL ? 0 : p == CLH_DIL ? 1 : 2;
    static const double ewc[3] = {100, 100, 600}, online[3] = {400, 700, 100},
                        si[3] = {300, 3000, 600}, l2[3] = {0.01, 0.5, 100},
                        mas[3] = {1, 10000, 1};
    switch (m) {
    case CLI_METHOD_EWC: return ewc[col];
    case CLI_METHOD_ONLINE_EWC: return online[col];
    case CLI_METHOD_SI: return si[col];
    case CLI_METHOD_L2: return l2[col];
    case CLI_METHOD_MAS: return mas[col];
    default: return 0.0;
    }
}

int cli_method_take(int argc, char **argv, int *i, cli_method *method,
                    cli_method_options *o, cli_seen_options *seen, int *rc) {
    const char *v = NULL;
    int m;
    *rc = 0;
#define OPTION(name)                                                                   \
    if ((m = cli_take_value(argc, argv, i, name, &v)) != 0) {                          \
        if (m < 0) {                                                                   \
            *rc = cli_usage_error(CMD, "option %s needs a value", name);               \
            return 1;                                                                  \
        }                                                                              \
        if ((*rc = cli_once(CMD, name, seen)) != 0) return 1;
#define END_OPTION \
    return 1;      \
    }
    OPTION("--method")
        if (cli_method_parse(v, method))
            *rc = cli_usage_error(CMD, "unknown method '%s' (expected %s)", v, cli_method_list());
        o->set |= CLI_MSET_METHOD;
    END_OPTION
    OPTION("--reg-coef")
        *rc = cli_parse_f64(CMD, "--reg-coef", v, 0.0, CLI_MAX_REG_COEF, &o->reg_coef);
        o->set |= CLI_MSET_REG_COEF;
    END_OPTION
    OPTION("--memory")
        *rc = cli_parse_i64(CMD, "--memory", v, 1, CLI_MAX_MEMORY, &o->memory);
        o->set |= CLI_MSET_MEMORY;
    END_OPTION
    OPTION("--temperature")
        *rc = cli_parse_f64(CMD, "--temperature", v, 0.0, CLI_MAX_TEMPERATURE, &o->temperature);
        if (!*rc && !(o->temperature > 0.0))
            *rc = cli_usage_error(CMD, "--temperature must be > 0 (got %s)", v);
        o->set |= CLI_MSET_TEMPERATURE;
    END_OPTION
    OPTION("--online-decay")
        *rc = cli_parse_f64(CMD, "--online-decay", v, 0.0, 1.0, &o->online_decay);
        o->set |= CLI_MSET_ONLINE_DECAY;
    END_OPTION
    OPTION("--si-damping")
        *rc = cli_parse_f64(CMD, "--si-damping", v, 0.0, 1e6, &o->si_damping);
        if (!*rc && !(o->si_damping > 0.0))
            *rc = cli_usage_error(CMD, "--si-damping must be > 0 (got %s)", v);
        o->set |= CLI_MSET_SI_DAMPING;
    END_OPTION
    OPTION("--gem-margin")
        *rc = cli_parse_f64(CMD, "--gem-margin", v, 0.0, 1e6, &o->gem_margin);
        o->set |= CLI_MSET_GEM_MARGIN;
    END_OPTION
#undef OPTION
#undef END_OPTION
    return 0;
}

/* Each option and the methods it belongs to. */
static int belongs(unsigned flag, cli_method m) {
    switch (flag) {
    case CLI_MSET_REG_COEF: return cli_method_is_regularizer(m);
    case CLI_MSET_MEMORY: return cli_method_has_memory(m);
    case CLI_MSET_TEMPERATURE: return m == CLI_METHOD_LWF;
    case CLI_MSET_ONLINE_DECAY: return m == CLI_METHOD_ONLINE_EWC;
    case CLI_MSET_SI_DAMPING: return m == CLI_METHOD_SI;
    case CLI_MSET_GEM_MARGIN: return m == CLI_METHOD_GEM;
    default: return 1;
    }
}

int cli_method_settle(cli_method m, cli_method_options *o, clh_paradigm p, int freeze_backbone) {
    static const struct { unsigned flag; const char *name; } opts[] = {
        {CLI_MSET_REG_COEF, "--reg-coef"},         {CLI_MSET_MEMORY, "--memory"},
        {CLI_MSET_TEMPERATURE, "--temperature"},   {CLI_MSET_ONLINE_DECAY, "--online-decay"},
        {CLI_MSET_SI_DAMPING, "--si-damping"},     {CLI_MSET_GEM_MARGIN, "--gem-margin"}};
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
        if ((o->set & opts[k].flag) && !belongs(opts[k].flag, m))
            return cli_usage_error(CMD, "%s does not apply to --method %s", opts[k].name,
                                   cli_method_name(m));
    int joint = p == CLH_MTL || p == CLH_STL;
    if (joint && m != CLI_METHOD_FINETUNE && !cli_method_is_analytic(m))
        return cli_usage_error(CMD, "--method %s needs a sequential paradigm (til, cil or dil); "
                               "%s is a joint reference (--method offline is the sequential "
                               "paradigms' joint upper bound)", cli_method_name(m),
                               clh_paradigm_name(p));
    if (m == CLI_METHOD_INDEPENDENT && p != CLH_TIL)
        return cli_usage_error(CMD, "--method independent needs --paradigm til (a fresh "
                               "backbone per task needs the task id at test time)");
    if (freeze_backbone && m != CLI_METHOD_FINETUNE && !cli_method_is_analytic(m))
        return cli_usage_error(CMD, "--freeze-backbone applies to --method finetune only "
                               "(--method fix freezes it after the first task)");
    if (cli_method_is_regularizer(m) && !(o->set & CLI_MSET_REG_COEF))
        o->reg_coef = cli_method_paper_reg_coef(m, p);
    return 0;
}

const char *cli_method_help(void) {
    return
    "\n"
    "Methods (Hsu et al. 2018, Table 2; docs/methods.md says how each computes):\n"
    "  --method M           finetune (default): plain training task after task;\n"
    "                       fix: the backbone trains on the first task only, then\n"
    "                       is frozen; independent (til): a fresh backbone per task;\n"
    "                       l2 | ewc | online-ewc | si | mas: a penalty\n"
    "                       reg_coef * sum Omega (theta - theta*)^2 over backbone\n"
    "                       and heads; lwf: distillation on the old model's outputs;\n"
    "                       rehearsal: a memory replayed with every task; gem:\n"
    "                       rehearsal plus GEM's gradient projection; offline: one\n"
    "                       phase over all tasks' data (the upper bound);\n"
    "                       ridge | ncm | slda: exemplar-free heads solved from\n"
    "                       streaming statistics, no backbone training, no stored\n"
    "                       samples (docs/analytic.md; their options below)\n"
    "  --reg-coef X         l2, ewc, online-ewc, si, mas: the strength, >= 0\n"
    "                       (default Hsu et al.'s for the paradigm: til / dil / cil\n"
    "                       l2 0.01/0.5/100, ewc 100/100/600, online-ewc\n"
    "                       400/700/100, si 300/3000/600, mas 1/10000/1)\n"
    "  --online-decay X     online-ewc: the running Fisher's decay gamma in [0, 1]\n"
    "                       (default 1, as Hsu et al.)\n"
    "  --si-damping X       si: the damping xi > 0 (default 0.1)\n"
    "  --memory N           rehearsal, gem: samples kept, split evenly over the\n"
    "                       tasks seen, 1..the training samples (default 1100)\n"
    "  --gem-margin X       gem: the margin (memory strength) >= 0 (default 0.5)\n"
    "  --temperature X      lwf: the distillation temperature > 0 (default 2)\n";
}
