/* rlw.c: Random Loss Weighting. Lin et al., "A Closer Look at Loss Weighting in
 * Multi-Task Learning" (ICLR 2022 submission; "RLW paper") and its TMLR version,
 * Lin et al., "Reasonable Effectiveness of Random Weighting: A Litmus Test for
 * Multi-Task Learning" ("RW paper").
 * Each step samples lambda ~ p(lambda) and maps it onto the simplex with f, then
 * minimises sum_t lambda~_t l_t                       [RLW paper Eq. 3, Algorithm 1 line 7]
 * Distributions (RLW paper Sec. 3): Uniform(0,1); standard Normal; Dirichlet(alpha = 1);
 * Bernoulli(1/2); constrained Bernoulli (p = 1/2 and sum = 1: exactly one task, chosen
 * uniformly); random Normal (per task N(mu_t, v_t) with mu_t, v_t ~ U(0,1)).
 * f: lambda / sum(lambda) for the two Bernoullis, softmax for the others, Dirichlet
 * included (RLW paper); the RW paper uses the identity for Dirichlet (hparam
 * dirichlet_norm=identity). Definitions where the papers are silent:
 *   - an all-zero Bernoulli draw (probability 2^-T) is redrawn, i.e. lambda is drawn
 *     from the Bernoulli conditioned on not all zero; by symmetry E[lambda~_t] stays 1/T
 *     (RW paper App. A needs this). bernoulli_allzero=zero keeps the draw instead: the
 *     weights are all 0 (a step without loss weight), and E[lambda~_t] = (1 - 2^-T)/T
 *     (rlw.md sec. 1 and erratum E9: ICLR's "proportional to 1" holds, TMLR's 1/T not);
 *   - random Normal's (mu_t, v_t) are drawn once, at the first step, and kept (the
 *     method is "a normal distribution per task"); random_normal_redraw=true draws
 *     them anew each step. Its E[lambda~_t] is not 1/T: it depends on the drawn mu_t.
 * dist=equal is not random: lambda~_t = 1/T every step, the fixed weights (FW) of ICLR
 * Thm. 1 with mu = 1/T, i.e. rlw.md's `ew-mean` (with scale=T it is `ew`); it lets the
 * reproduction compare RLW with its own mean through one code path.
 * The weights sum to 1 as in the paper (EW uses 1 each, so the effective learning rate
 * is 1/T of EW's); scale=T multiplies them by T. They are loss weights: heads and trunk.
 * LibMTL: its current RLW is Normal + softmax (the default here). An older LibMTL
 * (citing arXiv 2111.10603) applied softmax to Dirichlet (as here) and used raw 0/1
 * Bernoulli weights, redrawing all-zero draws: hparam bernoulli=raw. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

mtb_status mtb_rlw_sampler_init(mtb_rlw_sampler *s, int T, const char *method, mtb_error *err)
{
    memset(s, 0, sizeof *s);
    s->T = T;
    s->alpha = malloc(3 * (size_t)T * sizeof *s->alpha);
    if (!s->alpha)
        return mtb_fail(err, MTB_ENOMEM, "method %s: cannot allocate the sampler for %d tasks",
                        method, T);
    s->mu = s->alpha + T;
    s->sd = s->mu + T;
    mtb_bal_fill(s->alpha, T, 1.0);
    return MTB_OK;
}

void mtb_rlw_sampler_free(mtb_rlw_sampler *s)
{
    free(s->alpha);
    s->alpha = s->mu = s->sd = NULL;
}

mtb_status mtb_rlw_draw(mtb_rlw_sampler *s, int dist, mtb_rng *rng, double *raw, mtb_error *err)
{
    int T = s->T;
    switch (dist) {
    case MTB_RLW_UNIFORM:
        for (int t = 0; t < T; t++)
            raw[t] = mtb_rng_uniform(rng);
        return MTB_OK;
    case MTB_RLW_NORMAL:
        for (int t = 0; t < T; t++)
            raw[t] = mtb_rng_normal(rng);
        return MTB_OK;
    case MTB_RLW_DIRICHLET:
        return mtb_rng_dirichlet(rng, T, s->alpha, raw, err);
    case MTB_RLW_BERNOULLI:
        for (int t = 0; t < T; t++)
            raw[t] = mtb_rng_bernoulli(rng, 0.5);
        return MTB_OK;
    case MTB_RLW_CBERNOULLI:
        mtb_bal_fill(raw, T, 0.0);
        raw[mtb_rng_below(rng, (uint64_t)T)] = 1.0;
        return MTB_OK;
    case MTB_RLW_EQUAL:
        mtb_bal_fill(raw, T, 1.0 / T);
        return MTB_OK;
    case MTB_RLW_RANDOM_NORMAL:
        if (!s->rn_ready || s->redraw_random_normal) {
            for (int t = 0; t < T; t++) {
                s->mu[t] = mtb_rng_uniform(rng);
                s->sd[t] = sqrt(mtb_rng_uniform(rng)); /* variance ~ U(0,1) */
            }
            s->rn_ready = 1;
        }
        for (int t = 0; t < T; t++)
            raw[t] = mtb_rng_normal_ms(rng, s->mu[t], s->sd[t]);
        return MTB_OK;
    }
    return mtb_fail(err, MTB_EINVAL, "random weighting: unknown distribution %d", dist);
}

/* f of the RLW paper (Sec. 3) applied in place to a raw draw: divide by the sum for the
 * Bernoullis (raw 0/1 kept with bernoulli=raw), nothing for constrained Bernoulli and
 * identity-normalised Dirichlet, softmax otherwise. -1 for an all-zero Bernoulli draw. */
static int rlw_normalise(const mtb_rlw_sampler *s, int dist, double *w)
{
    int T = s->T;
    if (dist == MTB_RLW_BERNOULLI) {
        double sum = 0.0;
        for (int t = 0; t < T; t++)
            sum += w[t];
        if (sum == 0.0)
            return s->bernoulli_zero ? 0 : -1; /* `zero` convention: lambda~ = 0 */
        if (!s->bernoulli_raw)
            for (int t = 0; t < T; t++)
                w[t] /= sum;
        return 0;
    }
    if (dist == MTB_RLW_EQUAL) { /* the point mass 1/T, whatever was recorded */
        mtb_bal_fill(w, T, 1.0 / T);
        return 0;
    }
    if (dist == MTB_RLW_CBERNOULLI || (dist == MTB_RLW_DIRICHLET && s->dirichlet_identity))
        return 0; /* already on the simplex */
    mtb_bal_softmax(w, T, 1.0, w);
    return 0;
}

mtb_status mtb_rlw_replay(mtb_rlw_sampler *s, int dist, const mtb_balance_draws *d, double *w,
                          const char *method, mtb_error *err)
{
    if (d->n_values != (size_t)s->T)
        return mtb_fail(err, MTB_EINVAL,
                        "method %s: %zu recorded draws, expected the T = %d raw weights", method,
                        d->n_values, s->T);
    memcpy(w, d->values, (size_t)s->T * sizeof *w);
    if (rlw_normalise(s, dist, w))
        return mtb_fail(err, MTB_EINVAL,
                        "method %s: the recorded Bernoulli draw is all zero (no weight to "
                        "normalise; bernoulli_allzero=zero accepts it)", method);
    return MTB_OK;
}

mtb_status mtb_rlw_sample(mtb_rlw_sampler *s, int dist, mtb_rng *rng, double *w, mtb_error *err)
{
    mtb_status st;
    do { /* Bernoulli: condition on "not all zero" (see the header comment) */
        if ((st = mtb_rlw_draw(s, dist, rng, w, err)))
            return st;
    } while (rlw_normalise(s, dist, w));
    return MTB_OK;
}

/* ---- the rlw method -------------------------------------------------------------- */

enum { HP_DIST = 0, HP_DIRNORM, HP_BERN, HP_REDRAW, HP_SCALE, HP_ALLZERO };

static const mtb_hparam_def rlw_hp[] = {
    {"dist", MTB_HP_CHOICE, MTB_RLW_NORMAL, 0, 0, MTB_RLW_CHOICES,
     "weight distribution (RLW paper Sec. 3; RW paper and LibMTL default: normal; "
     "equal: 1/T, not random, = ew-mean)"},
    {"dirichlet_norm", MTB_HP_CHOICE, 0, 0, 0, "softmax|identity",
     "f for Dirichlet draws (RLW paper: softmax; RW/TMLR paper: identity)"},
    {"bernoulli", MTB_HP_CHOICE, 0, 0, 0, "normalised|raw",
     "Bernoulli weights divided by their sum (paper) or raw 0/1 (old LibMTL)"},
    {"random_normal_redraw", MTB_HP_BOOL, 0, 0, 1, NULL,
     "random_normal: redraw each task's mean and variance every step (paper: unstated)"},
    {"scale", MTB_HP_CHOICE, 0, 0, 0, "one|T", "weights sum to 1 (paper) or to T"},
    {"bernoulli_allzero", MTB_HP_CHOICE, 0, 0, 0, "redraw|zero",
     "bernoulli: an all-zero draw (prob. 2^-T) is drawn again, or kept as weights 0 "
     "(rlw.md sec. 1; papers: unstated)"},
};

typedef struct rlw_state {
    const char *name; /* "rlw" or "rgw", for messages */
    mtb_rlw_sampler smp;
    int dist;
    double scale;
} rlw_state;

static mtb_status rlw_common_init(rlw_state *s, const char *name, int T, const mtb_hparams *hp,
                                  mtb_balancer_setup *setup, mtb_error *err)
{
    mtb_status st = mtb_rlw_sampler_init(&s->smp, T, name, err);
    if (st)
        return st;
    s->dist = (int)hp->v[HP_DIST];
    s->smp.dirichlet_identity = hp->v[HP_DIRNORM] == 1.0;
    s->smp.bernoulli_raw = hp->v[HP_BERN] == 1.0;
    s->smp.redraw_random_normal = hp->v[HP_REDRAW] != 0.0;
    s->smp.bernoulli_zero = hp->v[HP_ALLZERO] == 1.0;
    s->scale = hp->v[HP_SCALE] == 1.0 ? T : 1.0;
    s->name = name;
    setup->need = MTB_NEED_LOSSES;
    setup->replay = MTB_REPLAY_VALUES;
    return MTB_OK;
}

static mtb_status rlw_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                           mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    return rlw_common_init(state, "rlw", T, hp, setup, err);
}

static mtb_status rlw_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                           mtb_error *err)
{
    rlw_state *s = state;
    mtb_status st = in->draws.values
                        ? mtb_rlw_replay(&s->smp, s->dist, &in->draws, out->trunk_w, s->name, err)
                        : mtb_rlw_sample(&s->smp, s->dist, in->rng, out->trunk_w, err);
    if (st)
        return st;
    int raw = s->dist == MTB_RLW_BERNOULLI && s->smp.bernoulli_raw;
    for (int t = 0; t < in->T; t++) {
        if (!raw)
            out->trunk_w[t] *= s->scale;
        out->head_w[t] = out->trunk_w[t];
    }
    return MTB_OK;
}

static void rlw_fini(void *state)
{
    mtb_rlw_sampler_free(&((rlw_state *)state)->smp);
}

const mtb_balancer_type mtb_balancer_rlw = {
    .name = "rlw",
    .summary = "random loss weighting: fresh random weights on the simplex every step",
    .cite = "Lin et al., A Closer Look at Loss Weighting in Multi-Task Learning (ICLR 2022 "
            "submission, Sec. 3, Alg. 1); TMLR version: Reasonable Effectiveness of Random "
            "Weighting, 2022",
    .hparams = rlw_hp,
    .n_hparams = 6,
    .state_size = sizeof(rlw_state),
    .init = rlw_init,
    .step = rlw_step,
    .fini = rlw_fini,
};

/* ---- rgw: random gradient weighting (RW paper, Algorithm 2) ----------------------- *
 * Same sampler; the random weights act on the shared parameters only, each head is
 * updated with its own unweighted gradient (Alg. 2, line 10). The paper weights the
 * task gradients w.r.t. the shared representation z; since the weights are constants,
 * sum_t lambda~_t grad_z l_t backpropagated once through the trunk equals the trunk
 * gradient of sum_t lambda~_t l_t exactly (chain rule, linearity). So RGW needs only the
 * losses: trunk_w = lambda~, head_w = 1 is Algorithm 2 without extra backward passes.
 * Default dirichlet_norm=identity (RW paper's f for Dirichlet). */

static const mtb_hparam_def rgw_hp[] = {
    {"dist", MTB_HP_CHOICE, MTB_RLW_NORMAL, 0, 0, MTB_RLW_CHOICES,
     "weight distribution (RW paper default: normal)"},
    {"dirichlet_norm", MTB_HP_CHOICE, 1, 0, 0, "softmax|identity",
     "f for Dirichlet draws (RW paper: identity)"},
    {"bernoulli", MTB_HP_CHOICE, 0, 0, 0, "normalised|raw",
     "Bernoulli weights divided by their sum (paper) or raw 0/1"},
    {"random_normal_redraw", MTB_HP_BOOL, 0, 0, 1, NULL,
     "random_normal: redraw each task's mean and variance every step"},
    {"scale", MTB_HP_CHOICE, 0, 0, 0, "one|T", "trunk weights sum to 1 (paper) or to T"},
    {"bernoulli_allzero", MTB_HP_CHOICE, 0, 0, 0, "redraw|zero",
     "bernoulli: an all-zero draw is drawn again, or kept as trunk weights 0"},
};

static mtb_status rgw_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                           mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    return rlw_common_init(state, "rgw", T, hp, setup, err);
}

static mtb_status rgw_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                           mtb_error *err)
{
    mtb_status st = rlw_step(state, in, out, err);
    if (st)
        return st;
    mtb_bal_fill(out->head_w, in->T, 1.0);
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_rgw = {
    .name = "rgw",
    .summary = "random gradient weighting: random weights on the shared trunk only",
    .cite = "Lin et al., Reasonable Effectiveness of Random Weighting: A Litmus Test for "
            "Multi-Task Learning, TMLR 2022 (Algorithm 2)",
    .hparams = rgw_hp,
    .n_hparams = 6,
    .state_size = sizeof(rlw_state),
    .init = rgw_init,
    .step = rgw_step,
    .fini = rlw_fini,
};
