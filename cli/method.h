/* The learning methods of `clheads run --method`: the gradient methods of
 * Hsu et al. 2018, Table 2, and CLArena's Finetuning, Fix, Independent
 * (docs/methods.md records how the authors compute each one), and the
 * exemplar-free heads solved from streaming statistics, ridge, ncm, slda
 * (include/clheads/analytic.h; their run: method_analytic.c, docs/analytic.md).
 * Here: their names, the gradient methods' options, and the state each keeps
 * between tasks (saved with the run's checkpoint).
 *
 * The hooks the training loop calls live beside this file, one concern each:
 * method_state.c (the vectors over backbone + heads and their checkpoint),
 * method_reg.c (L2, EWC, online EWC, SI, MAS), method_replay.c (rehearsal,
 * GEM), method_lwf.c (LwF), method_backbone.c (Fix, Independent). */
#ifndef CLI_METHOD_H
#define CLI_METHOD_H

#include <stddef.h>
#include <stdint.h>

#include "clheads.h"
#include "clheads/methods.h"

typedef enum cli_method {
    CLI_METHOD_FINETUNE = 0, /* plain training, task after task (the floor) */
    CLI_METHOD_FIX,          /* train on the first task, then freeze the backbone */
    CLI_METHOD_INDEPENDENT,  /* TIL: a fresh backbone per task */
    CLI_METHOD_L2,
    CLI_METHOD_EWC,
    CLI_METHOD_ONLINE_EWC,
    CLI_METHOD_SI,
    CLI_METHOD_MAS,
    CLI_METHOD_LWF,
    CLI_METHOD_REHEARSAL,
    CLI_METHOD_GEM,
    CLI_METHOD_OFFLINE,      /* joint training on all tasks' data: the upper bound */
    CLI_METHOD_RIDGE,        /* exemplar-free heads solved from statistics: */
    CLI_METHOD_NCM,
    CLI_METHOD_SLDA,
    CLI_METHOD_COUNT
} cli_method;

/* "finetune", "fix", ... "slda"; "?" outside the enum. */
const char *cli_method_name(cli_method method);
/* Parses the names above (exactly). 0 on success, -1 for an unknown name. */
int cli_method_parse(const char *name, cli_method *out);
/* "finetune, fix, ..." for messages. */
const char *cli_method_list(void);
/* 1 for the methods solved from statistics (ridge, ncm, slda): no gradient,
 * no backbone training, none of the gradient methods' options. */
int cli_method_is_analytic(cli_method method);

/* The --method part of `clheads run --help`. */
const char *cli_method_help(void);

/* 1 for the methods with a quadratic anchor penalty. */
int cli_method_is_regularizer(cli_method method);
/* 1 for the methods with a rehearsal memory. */
int cli_method_has_memory(cli_method method);

/* The methods' options (their defaults: cli_method_options_init and
 * cli_method_settle). */
enum {
    CLI_MSET_REG_COEF = 1 << 0,
    CLI_MSET_MEMORY = 1 << 1,
    CLI_MSET_TEMPERATURE = 1 << 2,
    CLI_MSET_ONLINE_DECAY = 1 << 3,
    CLI_MSET_SI_DAMPING = 1 << 4,
    CLI_MSET_GEM_MARGIN = 1 << 5,
    CLI_MSET_METHOD = 1 << 6
};

typedef struct cli_method_options {
    double reg_coef;     /* Hsu et al.'s reg_coef: penalty reg_coef * sum Omega (theta - theta*)^2 */
    int64_t memory;      /* rehearsal / GEM capacity in samples */
    double temperature;  /* LwF */
    double online_decay; /* online EWC's gamma */
    double si_damping;   /* SI's xi */
    double gem_margin;   /* GEM's memory_strength */
    unsigned set;        /* CLI_MSET_* given on the command line */
} cli_method_options;

#define CLI_MAX_REG_COEF 1e9
#define CLI_MAX_MEMORY 1000000
#define CLI_MAX_TEMPERATURE 1e4

void cli_method_options_init(cli_method_options *options);

/* Parses argv[*i] when it is one of the method options (--method,
 * --reg-coef, --memory, --temperature, --online-decay, --si-damping,
 * --gem-margin): returns 1 and sets *rc to 0, or to CLI_EXIT_USAGE after
 * printing why the value is bad. Returns 0 when argv[*i] is another option.
 * `seen` catches an option given twice. */
struct cli_seen_options;
int cli_method_take(int argc, char **argv, int *i, cli_method *method,
                    cli_method_options *options, struct cli_seen_options *seen, int *rc);

/* The checks between options once the paradigm is known (options given for
 * another method, methods a paradigm has not, ...) and the defaults that
 * depend on the paradigm (reg_coef: Hsu et al.'s strength for the scenario).
 * Returns 0 or CLI_EXIT_USAGE with a message printed. */
int cli_method_settle(cli_method method, cli_method_options *options, clh_paradigm paradigm,
                      int freeze_backbone);

/* Hsu et al.'s reg_coef of a regularizer for a paradigm (TIL, DIL, CIL). */
double cli_method_paper_reg_coef(cli_method method, clh_paradigm paradigm);

/* What a method keeps between tasks. Vectors over all parameters use one
 * layout, "full": the backbone's flat vector, then the heads' weights
 * (rows x hidden), then their biases (rows); when a task adds head rows every
 * vector is re-laid out (method_state.c). */
#define CLI_METHOD_MAX_TERMS 100
typedef struct cli_method_state {
    size_t backbone;      /* backbone parameters */
    int64_t hidden;       /* the heads' input width */
    int64_t rows;         /* head rows the full vectors are laid out for */
    size_t count;         /* backbone + rows * (hidden + 1) */
    /* Anchor penalty terms: EWC one per finished task, the online methods
     * (L2, online EWC, SI, MAS) at most one, replaced after every task.
     * omega NULL: Omega = 1 (L2). */
    int64_t terms;
    float *anchor[CLI_METHOD_MAX_TERMS];
    float *omega[CLI_METHOD_MAX_TERMS];
    float *si_w, *si_prev;   /* SI's path integral and reference point */
    float *scratch_a, *scratch_b; /* [count]: SI's parameters before a step, unpenalised grads */
    clh_memory *memory;      /* rehearsal, GEM */
    float *gem_grads;        /* GEM: [memory tasks, count] */
    float *gem_g;            /* GEM: [count] the batch's gradient */
    /* LwF: the model as it was after the last task */
    int64_t old_rows;        /* 0: none yet */
    float *old_backbone;     /* [backbone] */
    float *old_heads;        /* [old_rows * (hidden + 1)], the heads' flat layout */
    void *old_mlp;           /* cli_mlp over old_backbone (for its activations) */
    float *old_logits;       /* [max batch, total classes] */
    float *lwf_dlogits;      /* [max batch, total classes] */
    float *lwf_dfeature;     /* [max batch, hidden] */
    /* Independent: the backbone trained for each finished task */
    int64_t backbones_done;
    float *backbones;        /* [tasks * backbone] */
} cli_method_state;

#endif
