/* golden.h: the table `mtb golden` uses to replay LibMTL's reference vectors
 * (/work/shared/golden, format in its README.md) with mtb's methods.
 *
 * Each fixture file names its LibMTL method in the root attribute `method` ("GLS",
 * "MGDA_gn_l2", ...). The runner looks that name up in golden_entries_loss[] (loss-based
 * methods, core/cli/golden_map_loss.c) and then golden_entries_grad[] (gradient methods,
 * core/cli/golden_map_grad.c) and golden_entries_multi[] (methods that use the interface
 * extensions of balancer.h: several samples per step, losses after the update;
 * core/cli/golden_map_multi.c); every array ends with an entry whose fixture is NULL.
 *
 * For every case of the fixture the runner creates ONE balancer of `method` with the
 * hyperparameters `options` (the usual "key=value,..." string: this is where an entry
 * selects LibMTL's variant, e.g. "variant=libmtl" or "init=-0.5"), T tasks and D_max = d,
 * and runs the steps in order (state carries over). Step s gets step = s, epoch =
 * inputs/epoch[s], the losses inputs/losses[s] and, if the method asks for gradients of
 * either kind, G = inputs/G[s] (parameter gradients, scope ALL). The gradient mtb leaves
 * on theta is trunk_grad when the method set it, else sum_t trunk_w[t] G[t]; it is
 * compared with outputs_f64/grad[s] as max|diff| / max|grad_ref| (reference all zero:
 * max|diff| absolute). When the fixture has outputs_f64/weights, the vector LibMTL
 * returns is computed by entry->weights (NULL: trunk_w as it is) and compared the same
 * way. When the method has learnable scalars and the fixture has
 * outputs_f64/param_grad/loss_scale, entry->param_grad maps mtb's learn_grad to
 * LibMTL's gradient (NULL: learn_grad itself, which needs n_learn == T); afterwards the
 * scalars take one Adam step with the fixture's param_adam_* settings.
 * Multi-sample fixtures (losses (S, K, T), G (S, K, T, d); the method's setup must ask for
 * K samples) pass sample k as in->loss_samples[k] / in->G_samples[k], with losses/G = sample
 * 0; a trunk_w then applies to the mean of the K samples' G (golden_step.G). When the
 * fixture has inputs/losses_after (FAMO), the method must want them (setup
 * wants_losses_after) and gets row s through mtb_balancer_after_update after step s. */
#ifndef MTB_CLI_GOLDEN_H
#define MTB_CLI_GOLDEN_H

#include <stddef.h>

/* Default tolerance of the float64 comparisons (README: "float64 reference to about
 * 1e-9"); an entry may loosen it (CAGrad, iterative solvers). */
#define GOLDEN_DEFAULT_TOL 1e-9

/* What mtb computed at one step, handed to an entry's mapping functions. */
typedef struct golden_step {
    int T;
    size_t d;
    long step, epoch;
    const double *losses;     /* (T) */
    const double *G;          /* (T, d); multi-sample fixtures: the mean of the K samples */
    const double *head_w;     /* (T) mtb's head weights */
    const double *trunk_w;    /* (T) mtb's trunk weights (informative when trunk_grad_set) */
    int trunk_grad_set;
    const double *grad;       /* (d) the gradient mtb leaves on theta */
    int n_learn;
    const double *learn;      /* (n_learn) learnable scalars before this step's Adam update */
    const double *learn_grad; /* (n_learn) their gradients from this step */
} golden_step;

/* Writes T values into out. */
typedef void (*golden_map_fn)(const golden_step *s, double *out);

typedef struct golden_entry {
    const char *fixture;      /* root attribute `method` of the fixture; NULL ends the table */
    const char *method;       /* mtb method name (mtb_balancer_find) */
    const char *options;      /* hyperparameters selecting LibMTL's variant ("" = defaults) */
    double tol;               /* tolerance on grad; 0 = GOLDEN_DEFAULT_TOL */
    double weights_tol;       /* tolerance on the returned weights and param grads; 0 = tol */
    golden_map_fn weights;    /* LibMTL's returned vector from mtb's step; NULL = trunk_w */
    golden_map_fn param_grad; /* LibMTL's loss_scale gradient; NULL = learn_grad */
    const char *note;         /* why the mapping/options are what they are (for --verbose) */
} golden_entry;

extern const golden_entry golden_entries_loss[];
extern const golden_entry golden_entries_grad[];
extern const golden_entry golden_entries_multi[];

#endif
