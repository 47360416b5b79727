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
 *     gradient w.r.t. z and the training step backpropagates it through the trunk.
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
 * Two optional extensions (additive: a method that leaves them zero/NULL behaves as before):
 *   - Several independent samples per step (MoDo, SDMGrad: "double sampling"). A method
 *     sets setup->n_samples = K > 1 in init(); every step then carries K samples of the
 *     losses and (for REP/PARAM needs) of G, all with the same D: in->n_samples = K,
 *     in->loss_samples[k] (T) and in->G_samples[k] (T, D), and losses/G point at sample 0.
 *     The method usually returns an explicit trunk_grad (computed on one of the samples).
 *     mtb training draws ONE batch per step and splits it into K near-equal parts (LibMTL
 *     draws K batches; see train.h); it supports K > 1 for PARAM gradients with scope ALL
 *     (and for methods that need only losses). 0 or 1 means the ordinary single sample.
 *   - Losses after the update (FAMO). A method sets setup->wants_losses_after = 1 and
 *     provides the type's after_update hook; after the caller's parameter update it
 *     re-evaluates the T losses on the same batch and calls
 *     mtb_balancer_after_update(b, losses_after), once per step. Methods without the hook
 *     leave it NULL (designated initialisers keep every existing type object valid).
 * For REP gradients the caller also passes in->rep_dim = dim z, so that a method can sum
 * over the batch (GradDrop); 0 means unknown.
 * Parameter blocks (MetaBalance, MTAdam: per-layer methods): with PARAM gradients the caller
 * may pass the layer structure of G's columns, in->n_blocks blocks with column offsets
 * in->block_off[0..n_blocks] (0 = D_0 < D_1 < ... = D). mtb training gives one block per
 * parameter tensor of the trunk, i.e. each dense layer's weight and its bias separately (as
 * the PyTorch codes of both papers iterate over parameter tensors), for scope ALL only
 * (computed once in mtb_trainer_new); REP gradients, scope LAST_LAYER and mtb golden pass
 * n_blocks = 0, block_off = NULL, and a method then treats G as one block. The driver
 * checks the offsets (at most MTB_MAX_BLOCKS blocks); the same blocks hold for every sample.
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

/* Values in the order of the type's hparam table. */
typedef struct mtb_hparams {
    int n;
    double v[MTB_MAX_HPARAMS];
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
                               K > 1: in->loss_samples / in->G_samples hold K of them) */
    int wants_losses_after; /* 1: call mtb_balancer_after_update after every parameter update
                               with the losses re-evaluated on the same batch (needs the
                               type's after_update hook) */
} mtb_balancer_setup;

typedef struct mtb_balance_in {
    long step;              /* 0-based global step */
    long epoch;             /* 0-based epoch of this step */
    int T;
    const double *losses;   /* (T) raw task losses */
    const double *G;        /* (T, D) task gradients, or NULL when need == LOSSES */
    size_t D;               /* columns of G (<= D given at creation) */
    const double *Z;        /* (D) the shared representation itself, flattened like a row
                               of G, when need == REP_GRADS (GradDrop uses its signs); else NULL */
    mtb_rng *rng;           /* the balancer's own stream */
    int rep_dim;            /* REP_GRADS: width of z per example (D = batch * rep_dim), set by
                               the training step; 0 = unknown */
    int n_samples;          /* samples below: 0 or 1 = only losses/G; must equal the setup's
                               n_samples when that is > 1 */
    const double *const *loss_samples; /* n_samples pointers to (T) losses; [0] == losses */
    const double *const *G_samples;    /* n_samples pointers to (T, D) gradient matrices
                                          ([0] == G), or NULL when need == LOSSES */
    int n_blocks;           /* parameter blocks the columns of G form (see the header comment);
                               0 = no structure given: a method treats G as one block */
    const size_t *block_off;/* (n_blocks + 1) column offsets, block b = columns
                               [block_off[b], block_off[b + 1]); block_off[0] = 0, strictly
                               increasing, block_off[n_blocks] = D; NULL when n_blocks = 0 */
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
    /* Optional (NULL for most methods): consumes the T losses re-evaluated on the step's
     * batch after the parameter update that followed the last step() (FAMO's weight
     * update). Must not allocate. Called through mtb_balancer_after_update. */
    mtb_status (*after_update)(void *state, const double *losses_after, mtb_error *err);
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
 * same batch to a method whose setup has wants_losses_after = 1. MTB_EINVAL for a method
 * without the hook; MTB_ENUMERIC (naming the method) for a non-finite loss. */
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

#endif
