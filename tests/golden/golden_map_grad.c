/* golden_map_grad.c: golden-fixture entries of the gradient-based methods (MGDA, GradNorm,
 * PCGrad, GradVac, CAGrad, Aligned-MTL, STCH, ExcessMTL, MoCo, FairGrad, Nash-MTL, UPGrad). See
 * golden.h; the LibMTL formulas these options reproduce are in LIBMTL-FORMULAS.md beside the
 * fixtures. */
#include <math.h>
#include <string.h>

#include "golden.h"

/* MGDA's normaliser n_t as mgda.c computes it (a non-positive one is replaced by 1). */
static double mgda_norm(const golden_step *s, int t, int kind)
{
    double g2 = 0.0;
    const double *g = s->G + (size_t)t * s->D;
    for (size_t c = 0; c < s->D; c++)
        g2 += g[c] * g[c];
    double n = kind == 1 ? sqrt(g2) : kind == 2 ? s->losses[t] : s->losses[t] * sqrt(g2);
    return n > 0.0 && isfinite(n) ? n : 1.0;
}

/* LibMTL returns the simplex weights a of the normalised gradients; with apply_to=normalized
 * mtb's trunk weights on the raw gradients are a_t / n_t. */
static void mgda_weights_l2(const golden_step *s, double *out)
{
    for (int t = 0; t < s->T; t++)
        out[t] = s->trunk_w[t] * mgda_norm(s, t, 1);
}
static void mgda_weights_loss(const golden_step *s, double *out)
{
    for (int t = 0; t < s->T; t++)
        out[t] = s->trunk_w[t] * mgda_norm(s, t, 2);
}
static void mgda_weights_lossplus(const golden_step *s, double *out)
{
    for (int t = 0; t < s->T; t++)
        out[t] = s->trunk_w[t] * mgda_norm(s, t, 3);
}

/* LibMTL's GradVac returns a vector of ones (its batch_weight is never updated). */
static void gradvac_weights(const golden_step *s, double *out)
{
    for (int t = 0; t < s->T; t++)
        out[t] = 1.0;
}

/* LibMTL's STCH returns a vector of ones whatever it backpropagates. */
static void stch_weights(const golden_step *s, double *out)
{
    for (int t = 0; t < s->T; t++)
        out[t] = 1.0;
}

/* LibMTL's CAGrad returns the simplex weights w of its inner problem. mtb's trunk weights
 * are (1/T + lambda w_t) / (1 + c^2) with c = 0.5 (the options below); since sum w = 1,
 * lambda = (1 + c^2) sum_t trunk_w_t - 1 and w_t = ((1 + c^2) trunk_w_t - 1/T) / lambda. */
static void cagrad_weights(const golden_step *s, double *out)
{
    const double scale = 1.0 + 0.5 * 0.5;
    double sum = 0.0;
    for (int t = 0; t < s->T; t++)
        sum += s->trunk_w[t];
    double lambda = scale * sum - 1.0;
    for (int t = 0; t < s->T; t++)
        out[t] = lambda > 0.0 ? (scale * s->trunk_w[t] - 1.0 / s->T) / lambda : 1.0 / s->T;
}

/* LibMTL's Nash_MTL returns alpha, before the clipping of the gradient (mtb's head_w). */
static void nash_weights(const golden_step *s, double *out)
{
    memcpy(out, s->head_w, (size_t)s->T * sizeof *out);
}

const golden_entry golden_entries_grad[] = {
    {.fixture = "MGDA",
     .method = "mgda",
     .options = "solver=libmtl,normalize=none,apply_to=normalized",
     .optimality = golden_opt_mgda_none,
     .exact_options = "solver=exact,normalize=none,apply_to=normalized",
     .measure = "kkt: FW gap / projected-gradient residual, gap: F - F(reference)",
     .note = "LibMTL's solver: clamped best-pair start, projected-gradient steps, stop at "
             "L1 change < 1e-5 returning the previous iterate"},
    {.fixture = "MGDA_gn_l2",
     .method = "mgda",
     .options = "solver=libmtl,normalize=l2,apply_to=normalized",
     .weights = mgda_weights_l2,
     .optimality = golden_opt_mgda_l2,
     .exact_options = "solver=exact,normalize=l2,apply_to=normalized",
     .measure = "kkt: FW gap / projected-gradient residual, gap: F - F(reference)",
     .note = "LibMTL applies the weights to g_t/|g_t| and returns them unscaled"},
    {.fixture = "MGDA_gn_loss",
     .method = "mgda",
     .options = "solver=libmtl,normalize=loss,apply_to=normalized",
     .weights = mgda_weights_loss,
     .optimality = golden_opt_mgda_loss,
     .exact_options = "solver=exact,normalize=loss,apply_to=normalized",
     .measure = "kkt: FW gap / projected-gradient residual, gap: F - F(reference)",
     .note = "LibMTL applies the weights to g_t/l_t and returns them unscaled"},
    {.fixture = "MGDA_gn_lossplus",
     .method = "mgda",
     .options = "solver=libmtl,normalize=loss+,apply_to=normalized",
     .weights = mgda_weights_lossplus,
     .optimality = golden_opt_mgda_lossplus,
     .exact_options = "solver=exact,normalize=loss+,apply_to=normalized",
     .measure = "kkt: FW gap / projected-gradient residual, gap: F - F(reference)",
     .note = "LibMTL applies the weights to g_t/(l_t |g_t|) and returns them unscaled"},
    {.fixture = "GradNorm",
     .method = "gradnorm",
     .options = "variant=libmtl,alpha=1.5,layer=all",
     .note = "w = T softmax(p), p exposed as learnable scalars; EW at epoch 0. At epoch 0 "
             "LibMTL's p gets no gradient (grad None), so torch's Adam skips it: the fixture's "
             "state_after has no Adam moments after step 0. The Adam step on p must be skipped "
             "there (learn_grad is all zero), else every later weight is off by ~5e-3"},
    {.fixture = "PCGrad",
     .method = "pcgrad",
     .options = "eps=1e-8,visit_self=true",
     .note = "LibMTL shuffles all T tasks, i itself included, for every i (visit_self); the "
             "recorded orders inputs/random_perm (S, T, T) are replayed; trunk_w holds the "
             "effective coefficients, which LibMTL returns"},
    {.fixture = "GradVac",
     .method = "gradvac",
     .options = "beta=0.5,eps=1e-8",
     .weights = gradvac_weights,
     .note = "the recorded orders of the other tasks inputs/random_perm (S, T, T - 1) are "
             "replayed; LibMTL returns ones"},
    {.fixture = "CAGrad",
     .method = "cagrad",
     .options = "c=0.5,rescale=1+c^2,eps=1e-8",
     .tol = 1e-3,
     .weights = cagrad_weights,
     .optimality = golden_opt_cagrad,
     .measure = "kkt: FW gap / projected-gradient residual, gap: F - F(reference)",
     .note = "exact inner minimiser vs LibMTL's loosely converged SLSQP: README tolerance 1e-3; "
             "where SLSQP stops far from the minimum (loss scales 1000) the case passes on "
             "optimality"},
    {.fixture = "Aligned_MTL",
     .method = "aligned_mtl",
     .options = "scale=min,weights=sum",
     .note = "LibMTL returns a = B 1 and applies it to the raw gradients (trunk_w = a); "
             "rank cut with the double epsilon (no eigenvalue of these cases is near it)"},
    {.fixture = "STCH",
     .method = "stch",
     .options = "form=libmtl,mu=1,warmup_epoch=4,eps=1e-20",
     .weights = stch_weights,
     .note = "log-loss warm-up for epochs <= 4, nadir = mean loss of epoch 4, then "
             "T mu logsumexp(log(l/z)/mu); LibMTL returns ones"},
    {.fixture = "ExcessMTL",
     .method = "excess_mtl",
     .options = "step_size=0.01,eps=1e-7",
     .note = "trunk_w = head_w = the exponentiated weights (sum T), which LibMTL returns"},
    {.fixture = "MoCo",
     .method = "moco",
     .options = "beta=0.5,beta_sigma=0.5,gamma=0.1,gamma_sigma=0.5,rho=0,update=softmax,"
                "normalize=loss",
     .note = "LibMTL's softmax lambda update and loss-scaled unit gradients; trunk_grad = "
             "Y^T lambda, trunk_w = lambda (returned)"},
    {.fixture = "FairGrad",
     .method = "fairgrad",
     .options = "alpha=1,ridge=0",
     .tol = 1e-6,
     .optimality = golden_opt_alpha1,
     .measure = "kkt: residual of A w = 1/w, gap: f - f(reference)",
     .note = "exact Newton solution (residual 1e-13) vs SciPy least_squares stopped at a "
             "residual of about 1e-9 (README): compared at 1e-6"},
    {.fixture = "Nash_MTL",
     .method = "nash_mtl",
     .options = "max_norm=1,update_weights_every=1",
     .tol = 1e-6,
     .weights = nash_weights,
     .optimality = golden_opt_alpha1,
     .measure = "kkt: residual of G G^T a = 1/a, gap: f - f(reference)",
     .note = "LibMTL's defaults (max_norm 1: the shared gradient clipped as torch's "
             "clip_grad_norm_, weights every step); exact Newton solution of Eq. (3) vs at most "
             "20 cvxpy programs stopping at a residual of 1e-3: compared at 1e-6 (LibMTL casts "
             "alpha to float32 before its backward, 6e-8 relative), judged on optimality where "
             "they differ; LibMTL returns alpha (head_w), unclipped"},
    {.fixture = "UPGrad",
     .method = "upgrad",
     .options = "norm_eps=1e-4,reg_eps=1e-4",
     .optimality = golden_opt_upgrad,
     .measure = "kkt = gap: distance to the runner's exact solution",
     .note = "TorchJD's normalisation and regularisation (LibMTL's UPGrad_norm_eps, "
             "UPGrad_reg_eps); both sides solve the T QPs exactly, trunk_w = w (returned)"},
    {.fixture = NULL},
};
