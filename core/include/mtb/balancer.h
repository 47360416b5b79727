/* balancer.h: one interface for every task-balancing method.
 *
 * A balancer turns one step's task information into the weights the training step
 * applies. It is a GSL-style type object (mtb_balancer_type, one const instance per
 * method file under core/src/balancers/) driven through an opaque mtb_balancer.
 *
 * Each step the training step gives it:
 *   - the step and epoch index,
 *   - the T raw task losses l_t (double),
 *   - if the method asked for them, the T task gradients as a (T, D) row-major double
 *     matrix G (row t = gradient of l_t), either
 *       MTB_NEED_REP_GRADS:   w.r.t. the shared representation z, flattened over the
 *                             batch (D = batch * dim z; the last batch of an epoch may be
 *                             smaller, so D <= the D given at creation), or
 *       MTB_NEED_PARAM_GRADS: w.r.t. the shared parameters (all of them, or only the
 *                             last shared layer: see mtb_param_scope),
 *   - its own random stream.
 * and the balancer returns
 *   - head_w[T]: each head psi_t is updated with head_w[t] * grad_psi l_t;
 *   - for the shared trunk, either trunk_w[T] (trunk gradient = sum_t trunk_w[t] grad l_t),
 *     or, only when it received G with scope ALL, an explicit aggregated gradient
 *     trunk_grad[D] (set trunk_grad_set = 1). For REP gradients the explicit vector is a
 *     gradient w.r.t. z and the training step backpropagates it through the trunk. With an
 *     explicit gradient trunk_w still holds the weights the method reports (finite, checked
 *     by the driver; recorded in run files): the coefficients of trunk_grad on the original
 *     gradients where it is such a combination (PCGrad, GradVac, CAGrad, Nash-MTL, DB-MTL,
 *     MoCo, MoDo and SDMGrad on their samples), else an informative per-task factor
 *     (MetaBalance, MTAdam: |g~_t| / |g_t|; GradDrop: 1).
 * All weights multiply gradients of the *raw* losses l_t: a method that transforms
 * losses (IMTL-L's e^s l - s, DB-MTL's log l) folds the transform's derivative into
 * its weights. Heads and trunk are separate because RGW and most gradient methods
 * weight only the trunk.
 *
 * Learnable method parameters (UW's log-variances, IMTL-L's scales, GradNorm's
 * weights in LibMTL's variant) are exposed through mtb_balancer_setup: the balancer
 * writes their gradient in step(); the caller's optimiser updates them afterwards
 * (mtb training: an Adam with the model's settings unless learn_lr > 0; mtb golden:
 * the fixture's Adam). A method that follows its paper with a private optimiser
 * (SLAW-code GradNorm) keeps it inside its state instead and exposes nothing.
 *
 * The input grows by groups, not by fields: each extension of the basic step is one named
 * sub-structure of mtb_balance_in (or, for the losses after the update, one hook in the
 * setup), all zero for a method that does not use it, filled by callers with designated
 * initialisers (`.samples = {.n = K, .losses = Lp, .G = Gp}`):
 *   - in->samples: several independent samples per step (MoDo, SDMGrad: "double
 *     sampling"). A method sets setup->n_samples = K > 1 in init(); every step then carries
 *     K samples of the losses and (for REP/PARAM needs) of G, all with the same D:
 *     samples.n = K, samples.losses[k] (T) and samples.G[k] (T, D), and losses/G point at
 *     sample 0. The method usually returns an explicit trunk_grad (computed on one of the
 *     samples). mtb training draws ONE batch per step and splits it into K near-equal parts
 *     (LibMTL draws K batches; see train.h); it supports K > 1 for PARAM gradients with
 *     scope ALL (and for methods that need only losses). 0 or 1 means the ordinary sample.
 *   - in->rep: with REP gradients, the representation itself (rep.Z, flattened like a row
 *     of G: GradDrop uses its signs) and rep.dim = dim z, so that a method can sum over the
 *     batch (D = batch * dim; 0 means unknown).
 *   - in->blocks: parameter blocks (MetaBalance, MTAdam: per-layer methods). With PARAM
 *     gradients the caller may pass the layer structure of G's columns, blocks.n blocks
 *     with column offsets blocks.off[0..n] (0 = D_0 < D_1 < ... = D). mtb training gives
 *     one block per parameter tensor of the trunk, i.e. each dense layer's weight and its
 *     bias separately (as the PyTorch codes of both papers iterate over parameter tensors),
 *     for scope ALL only (computed once in mtb_trainer_new); REP gradients, scope
 *     LAST_LAYER and mtb golden pass none, and a method then treats G as one block. The
 *     driver checks the offsets (at most MTB_MAX_BLOCKS blocks); they hold for every sample.
 *   - in->draws: recorded random decisions (replay, below).
 *   - in->gram: the Gram path, G G^T in place of G for a method with setup gram_ok (below).
 *   - Losses after the update (FAMO; IGBv2 with reward=after_update). A method that wants
 *     them sets setup->after_update to its hook in init(); after the caller's parameter
 *     update the caller re-evaluates the T losses on the same batch and calls
 *     mtb_balancer_after_update(b, losses_after), once per step. A NULL hook (every other
 *     method) means the method does not consume them; the hook's presence is the request.
 *
 * Hyperparameters are declared in a table (mtb_hparam_def) so that parsing, --help,
 * validation and recording in run files are generic. Defaults are the values of the
 * paper that proposed the method; the help text names the source. */
#ifndef MTB_BALANCER_H
#define MTB_BALANCER_H

#include <stddef.h>

#include "mtb/rng.h"
#include "mtb/status.h"

typedef enum mtb_need {
    MTB_NEED_LOSSES = 0,     /* only the T losses */
    MTB_NEED_REP_GRADS = 1,  /* + gradients w.r.t. the shared representation z */
    MTB_NEED_PARAM_GRADS = 2 /* + gradients w.r.t. shared parameters */
} mtb_need;

typedef enum mtb_param_scope {
    MTB_SCOPE_ALL = 0,       /* every shared (trunk) parameter */
    MTB_SCOPE_LAST_LAYER = 1 /* the last shared layer's weight and bias only (GradNorm) */
} mtb_param_scope;

typedef enum mtb_hp_kind {
    MTB_HP_REAL = 0,
    MTB_HP_INT = 1,
    MTB_HP_BOOL = 2,  /* value 0 or 1; written "true"/"false" or "1"/"0" */
    MTB_HP_CHOICE = 3 /* value is the index into the '|'-separated choices */
} mtb_hp_kind;

typedef struct mtb_hparam_def {
    const char *name;    /* "beta" */
    mtb_hp_kind kind;
    double def;          /* default value (index for CHOICE) */
    double lo, hi;       /* inclusive valid range for REAL and INT */
    const char *choices; /* "max|min|mean|median" for CHOICE, else NULL */
    const char *help;    /* one line, naming where the default comes from */
} mtb_hparam_def;

#define MTB_MAX_HPARAMS 16
#define MTB_MAX_SAMPLES 16  /* largest setup.n_samples */
#define MTB_MAX_BLOCKS 256  /* largest in->n_blocks (a per-block method sizes its state by it) */

/* Options every method accepts besides its own: a per-task transform of the losses that the
 * driver applies in front of the method (pre_transform.c, docs/methods.md "Loss
 * pre-transforms"): `pre=log` gives the method log(l_t + pre_eps) as its losses and
 * g_t / (l_t + pre_eps) as its gradients (DB-MTL Sec. 3.1, "+log" of Fig. 1), `pre=rlw`
 * lambda~_t l_t with random weights of distribution pre_dist drawn each step (RLW in front of
 * a gradient method, RLW TMLR Table 3), and the driver maps the method's weights back onto
 * the raw gradients. Listed by `mtb methods NAME`, written into
 * the canonical option string only when pre is not none. */
enum { MTB_PRE_NONE = 0, MTB_PRE_LOG = 1, MTB_PRE_RLW = 2 };
#define MTB_PRE_NHP 3 /* pre, pre_eps, pre_dist */
extern const mtb_hparam_def mtb_pre_hparams[MTB_PRE_NHP];

/* Values in the order of the type's hparam table; pre[] those of mtb_pre_hparams (all zero,
 * i.e. pre=none, in a zero-initialised set). */
typedef struct mtb_hparams {
    int n;
    double v[MTB_MAX_HPARAMS];
    double pre[MTB_PRE_NHP];
} mtb_hparams;

/* Filled by a type's init(): what the method needs and what it learns. */
typedef struct mtb_balancer_setup {
    mtb_need need;
    mtb_param_scope scope;  /* meaningful for MTB_NEED_PARAM_GRADS */
    int n_learn;            /* number of learnable scalars (0 if none) */
    double *learn;          /* n_learn values, owned by the state */
    double *learn_grad;     /* n_learn gradients, written by step() */
    double learn_lr;        /* > 0: learning rate the paper prescribes for them; 0: the model's */
    int n_samples;          /* independent samples per step the method consumes (0 or 1: one;
                               K > 1: in->samples holds K of them) */
    /* Non-NULL: the method consumes the T losses re-evaluated on the step's batch after the
     * parameter update that followed the last step() (FAMO's weight update): the caller
     * calls mtb_balancer_after_update after every parameter update, which calls this with
     * the method's state. Must not allocate. */
    mtb_status (*after_update)(void *state, const double *losses_after, mtb_error *err);
    unsigned replay;        /* MTB_REPLAY_* flags: the kinds of recorded draws the method
                               accepts in in->draws (0: it draws nothing, or cannot replay) */
    int gram_ok;            /* 1: with need PARAM_GRADS, the method reads G only through
                               G G^T and accepts in->gram in place of G (the Gram path) */
} mtb_balancer_setup;

enum {
    MTB_REPLAY_VALUES = 1u, /* in->draws.values: real-valued draws */
    MTB_REPLAY_ORDERS = 2u  /* in->draws.orders: task orders */
};

/* One step's random decisions supplied from outside (replay); all NULL/0 = the method draws
 * from its own stream. Layouts are the method's (documented with it):
 *   rlw, rgw:   values = the T raw weights lambda before the normalisation f (dist=normal:
 *               the standard normal z, weights softmax(z));
 *   graddrop:   values = one U(0,1) per feature of z (rep_dim values, feature order);
 *   pcgrad:     orders = T rows, row i the order in which task i visits the other tasks
 *               (T - 1 entries), or all T tasks itself included with visit_self=true;
 *   gradvac:    orders = T rows of T - 1, row i the order of the tasks other than i;
 *   igbv2:      values = the step's T standard normals (warm-up logits or actor noise;
 *               igbv2.c: its stream still advances by T normals). */
typedef struct mtb_balance_draws {
    const double *values;
    size_t n_values;
    const int *orders;
    size_t n_orders;
} mtb_balance_draws;

/* in->samples: K independent samples of one step (setup n_samples = K > 1). */
typedef struct mtb_balance_samples {
    int n;                         /* K; 0 or 1 = only in->losses / in->G */
    const double *const *losses;   /* K pointers to (T) losses; [0] == in->losses */
    const double *const *G;        /* K pointers to (T, D) gradient matrices ([0] == in->G),
                                      or NULL when need == LOSSES */
} mtb_balance_samples;

/* in->rep: the shared representation, with REP gradients. */
typedef struct mtb_balance_rep {
    const double *Z;  /* (D) z itself, flattened like a row of G (GradDrop uses its signs) */
    int dim;          /* width of z per example (D = batch * dim), set by the training step;
                         0 = unknown */
} mtb_balance_rep;

/* in->gram: the Gram path. M = G G^T (T, T, row-major, symmetric) of the PARAM gradients,
 * given instead of G (then G = NULL, D = 0, no blocks, no explicit trunk_grad) to a method
 * whose setup has gram_ok; its trunk_w are applied by one weighted backward. The driver
 * refuses it for other methods and with a loss pre-transform (which needs G). */
typedef struct mtb_balance_gram {
    const double *M;
} mtb_balance_gram;

/* in->blocks: the parameter blocks G's columns form (PARAM gradients). */
typedef struct mtb_balance_blocks {
    int n;             /* blocks; 0 = no structure given: a method treats G as one block */
    const size_t *off; /* (n + 1) column offsets, block b = columns [off[b], off[b + 1]);
                          off[0] = 0, strictly increasing, off[n] = D; NULL when n = 0 */
} mtb_balance_blocks;

typedef struct mtb_balance_in {
    long step;              /* 0-based global step */
    long epoch;             /* 0-based epoch of this step */
    int T;
    const double *losses;   /* (T) raw task losses */
    const double *G;        /* (T, D) task gradients, or NULL when need == LOSSES */
    size_t D;               /* columns of G (<= D given at creation) */
    mtb_rng *rng;           /* the balancer's own stream (NULL: the driver's) */
    mtb_balance_samples samples; /* several samples per step, or zeros */
    mtb_balance_rep rep;         /* REP_GRADS: the representation, or zeros */
    mtb_balance_blocks blocks;   /* PARAM_GRADS: parameter blocks, or zeros */
    mtb_balance_draws draws;     /* recorded random decisions for this step (replay), or zeros */
    mtb_balance_gram gram;       /* the Gram path: G G^T instead of G, or zeros */
} mtb_balance_in;

typedef struct mtb_balance_out {
    double *head_w;         /* (T) out */
    double *trunk_w;        /* (T) out: used when trunk_grad_set == 0 */
    double *trunk_grad;     /* (D) out: explicit aggregated gradient, or NULL when G is NULL
                               or the scope is LAST_LAYER */
    int trunk_grad_set;     /* out: 1 if trunk_grad holds the trunk's gradient */
} mtb_balance_out;

typedef struct mtb_balancer_type {
    const char *name;        /* "imtl_g": the key for --method and in run files */
    const char *summary;     /* one line for `mtb methods` */
    const char *cite;        /* "Liu et al., Towards Impartial Multi-task Learning, ICLR 2021" */
    const mtb_hparam_def *hparams;
    int n_hparams;
    size_t state_size;       /* bytes of state the driver allocates (zeroed) */
    /* T tasks, D_max gradient columns (0 if the method gets none; the driver calls
     * init once with D_max = 0 to learn the needs, then again with the real D_max).
     * Allocate everything step() will use here; step() must not allocate. */
    mtb_status (*init)(void *state, int T, size_t D_max, const mtb_hparams *hp,
                       mtb_balancer_setup *setup, mtb_error *err);
    mtb_status (*step)(void *state, const mtb_balance_in *in, mtb_balance_out *out, mtb_error *err);
    void (*fini)(void *state); /* frees what init allocated; may be NULL */
} mtb_balancer_type;

/* ---- registry ---------------------------------------------------------------- */

/* NULL-terminated list of every method, in the order `mtb methods` prints them. */
extern const mtb_balancer_type *const mtb_balancer_types[];
const mtb_balancer_type *mtb_balancer_find(const char *name);

/* ---- hyperparameters ----------------------------------------------------------- */

void mtb_hparams_default(const mtb_balancer_type *type, mtb_hparams *hp);
/* Parses "key=value,key=value" (NULL or "" = all defaults) over the defaults,
 * validating names, kinds and ranges. */
mtb_status mtb_hparams_parse(const mtb_balancer_type *type, const char *spec, mtb_hparams *hp,
                             mtb_error *err);
/* Sets one hyperparameter by name from text. */
mtb_status mtb_hparams_set(const mtb_balancer_type *type, mtb_hparams *hp, const char *key,
                           const char *value, mtb_error *err);
/* Canonical "key=value,..." listing every hyperparameter, for run files. */
void mtb_hparams_format(const mtb_balancer_type *type, const mtb_hparams *hp, char *buf, size_t len);
/* Value by name (for methods that read their hparams by name); NAN if unknown. */
double mtb_hparams_get(const mtb_balancer_type *type, const mtb_hparams *hp, const char *key);

/* ---- driver ------------------------------------------------------------------ */

typedef struct mtb_balancer mtb_balancer;

/* Creates a balancer for T tasks. D_max is the largest number of gradient columns
 * step() will receive (ignored when the method needs only losses). The balancer's
 * random stream is seeded from (seed, MTB_STREAM_METHOD). */
mtb_balancer *mtb_balancer_new(const mtb_balancer_type *type, int T, size_t D_max,
                               const mtb_hparams *hp, unsigned long long seed, mtb_error *err);
/* What a balancer of this type needs with these hparams, without building one. */
mtb_status mtb_balancer_query(const mtb_balancer_type *type, int T, const mtb_hparams *hp,
                              mtb_balancer_setup *setup, mtb_error *err);
/* Runs one step. Checks that losses and G are finite and that every output is
 * finite; returns MTB_ENUMERIC (with a message naming the method) otherwise. */
mtb_status mtb_balancer_step(mtb_balancer *b, const mtb_balance_in *in, mtb_balance_out *out,
                             mtb_error *err);
/* After the parameter update that followed a step: hands the T losses re-evaluated on the
 * same batch to a method whose setup has an after_update hook. MTB_EINVAL for a method
 * without one; MTB_ENUMERIC (naming the method) for a non-finite loss. */
mtb_status mtb_balancer_after_update(mtb_balancer *b, const double *losses_after, mtb_error *err);
const mtb_balancer_setup *mtb_balancer_get_setup(const mtb_balancer *b);
const mtb_balancer_type *mtb_balancer_get_type(const mtb_balancer *b);
const mtb_hparams *mtb_balancer_get_hparams(const mtb_balancer *b);
mtb_rng *mtb_balancer_rng(mtb_balancer *b);
void mtb_balancer_free(mtb_balancer *b); /* accepts NULL */

/* ---- method-specific entry points ------------------------------------------------ */

/* Method "constant" only: sets its T fixed weights (finite, >= 0), rescaled as its
 * `normalise` hyperparameter says (default sum_T: IdealConstant = 1/sigma_i^2 rescaled
 * to sum T). Until called, the weights are all 1. MTB_EINVAL on another method. */
mtb_status mtb_balancer_set_constant_weights(mtb_balancer *b, const double *w, mtb_error *err);

/* Method "db_mtl" only, after a step with gradient-magnitude balancing: that step's alpha_k
 * and beta_k, and per task (T values each; any pointer may be NULL) the EMA's lag behind the
 * step's gradient, cos(gh_t, g_t) and ||gh_t|| / ||g_t|| (g_t the transformed gradient of
 * Alg. 1 l. 6; DB-MTL spec D3 and D4). MTB_EINVAL on another method, with gradnorm=false, or
 * before the first step. */
mtb_status mtb_balancer_db_mtl_last(mtb_balancer *b, double *alpha, double *beta_k,
                                    double *lag_cos, double *lag_ratio, mtb_error *err);

#endif
