/* golden_case.c: one golden case in three stages, read -> replay -> compare (golden.h). */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"

/* ---- helpers --------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static void set_reason(golden_result *r, const char *fmt,
                                                              ...)
{
    if (r->reason[0])
        return; /* keep the first reason */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
}

/* A case that cannot run: fails with the reason. Returns -1. */
__attribute__((format(printf, 2, 3))) static int fail_case(golden_result *r, const char *fmt, ...)
{
    r->pass = 0;
    r->max_err = INFINITY;
    if (!r->reason[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->reason, sizeof r->reason, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* max|a - b| / max|b| over n values (absolute when b is all zero). */
static double rel_err(const double *a, const double *b, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        num = fmax(num, fabs(a[i] - b[i]));
        den = fmax(den, fabs(b[i]));
        if (!isfinite(a[i]))
            return INFINITY;
    }
    return den > 0.0 ? num / den : num;
}

static int any_nan(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i]))
            return 1;
    return 0;
}

static const char *case_path(char *buf, size_t len, const char *cs, const char *name)
{
    snprintf(buf, len, "/%s/%s", cs, name);
    return buf;
}

static int exists(mtb_h5 *f, const char *cs, const char *name)
{
    char p[512];
    return mtb_h5_exists(f, case_path(p, sizeof p, cs, name));
}

/* Reads /cs/name (any rank) into *out with its shape; -1 (res filled) on failure. */
static int read_any(mtb_h5 *f, const char *cs, const char *name, int *rank, size_t *dims,
                    double **out, golden_result *res)
{
    char p[512];
    mtb_error err = {0};
    case_path(p, sizeof p, cs, name);
    if (mtb_h5_shape(f, p, rank, dims, &err) || mtb_h5_read_f64(f, p, -1, dims, out, 0, &err))
        return fail_case(res, "%s", err.msg);
    return 0;
}

/* Reads /cs/name, which must have the given shape (rank entries of want). */
static int read_shaped(mtb_h5 *f, const char *cs, const char *name, int rank, const size_t *want,
                       double **out, golden_result *res)
{
    int r = 0;
    size_t dims[MTB_H5_MAX_RANK];
    if (read_any(f, cs, name, &r, dims, out, res))
        return -1;
    int ok = r == rank;
    for (int i = 0; ok && i < rank; i++)
        ok = dims[i] == want[i];
    if (!ok)
        return fail_case(res, "%s/%s has rank %d and an unexpected shape (README schema)", cs,
                         name, r);
    return 0;
}

/* ---- read ------------------------------------------------------------------------------ */

void golden_adam_read(mtb_h5 *f, golden_adam *a)
{
    mtb_error err = {0};
    memset(a, 0, sizeof *a);
    if (!mtb_h5_attr_exists(f, "/", "param_adam_lr"))
        return;
    double lr = 0.0, b1 = 0.0, b2 = 0.0, eps = 0.0, wd = 0.0;
    a->present = !mtb_h5_attr_get_f64(f, "/", "param_adam_lr", &lr, &err) &&
                 !mtb_h5_attr_get_f64(f, "/", "param_adam_beta1", &b1, &err) &&
                 !mtb_h5_attr_get_f64(f, "/", "param_adam_beta2", &b2, &err) &&
                 !mtb_h5_attr_get_f64(f, "/", "param_adam_eps", &eps, &err);
    if (a->present && mtb_h5_attr_exists(f, "/", "param_adam_weight_decay") &&
        mtb_h5_attr_get_f64(f, "/", "param_adam_weight_decay", &wd, &err))
        a->present = 0;
    /* torch.optim.Adam: L2 weight decay added to the gradient (not decoupled) */
    mtb_optim_config_adam(&a->cfg, lr);
    a->cfg.beta1 = b1;
    a->cfg.beta2 = b2;
    a->cfg.eps = eps;
    a->cfg.weight_decay = wd;
    a->cfg.decoupled_wd = 0;
}

/* The recorded draws of a case: every dataset inputs/random_* of shape (S, ...); a float one
 * becomes the per-step values, an integer one the per-step task orders (README: RLW's
 * random_normal, GradDrop's random_uniform, PCGrad's and GradVac's random_perm). */
static int read_draws(mtb_h5 *f, const char *cs, golden_case *c, golden_result *res)
{
    char grp[512], p[512];
    mtb_error err = {0};
    size_t n = 0;
    char **names = NULL;
    if (mtb_h5_list(f, case_path(grp, sizeof grp, cs, "inputs"), &n, &names, &err))
        return fail_case(res, "%s", err.msg);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (strncmp(names[i], "random_", 7))
            continue;
        snprintf(p, sizeof p, "/%s/inputs/%s", cs, names[i]);
        mtb_h5_kind kind;
        int rank = 0;
        size_t dims[MTB_H5_MAX_RANK];
        if (mtb_h5_dtype(f, p, &kind, NULL, 0, &err) || mtb_h5_shape(f, p, &rank, dims, &err)) {
            rc = fail_case(res, "%s", err.msg);
            break;
        }
        size_t per = 1;
        for (int k = 1; k < rank; k++)
            per *= dims[k];
        if (rank < 1 || dims[0] != c->S) {
            rc = fail_case(res, "%s has %zu rows, the case %zu steps", p, rank ? dims[0] : 0, c->S);
        } else if (kind == MTB_H5_INT) {
            int64_t *raw = NULL;
            if (c->orders) {
                rc = fail_case(res, "%s: a second integer draw dataset", p);
            } else if (mtb_h5_read_i64(f, p, rank, dims, &raw, &err)) {
                rc = fail_case(res, "%s", err.msg);
            } else if (!(c->orders = malloc(c->S * per * sizeof *c->orders))) {
                rc = fail_case(res, "out of memory");
            } else {
                for (size_t k = 0; k < c->S * per; k++)
                    c->orders[k] = raw[k] >= 0 && raw[k] <= INT32_MAX ? (int)raw[k] : -1;
                c->n_orders = per;
            }
            free(raw);
        } else if (kind == MTB_H5_FLOAT) {
            if (c->values)
                rc = fail_case(res, "%s: a second float draw dataset", p);
            else if (mtb_h5_read_f64(f, p, rank, dims, &c->values, 1, &err))
                rc = fail_case(res, "%s", err.msg);
            else
                c->n_values = per;
        } else {
            rc = fail_case(res, "%s is neither integer nor float", p);
        }
    }
    mtb_h5_free_strs(names, n);
    return rc;
}

int golden_case_read(mtb_h5 *f, const char *cs, golden_case *c, golden_result *res)
{
    memset(c, 0, sizeof *c);
    mtb_error err = {0};
    char obj[512];
    int64_t T64 = 0, d64 = 0;
    snprintf(obj, sizeof obj, "/%s", cs);
    if (mtb_h5_attr_get_i64(f, obj, "T", &T64, &err) ||
        mtb_h5_attr_get_i64(f, obj, "d", &d64, &err))
        return fail_case(res, "%s", err.msg);
    if (T64 < 1 || T64 > 1000000 || d64 < 1)
        return fail_case(res, "T = %lld, d = %lld", (long long)T64, (long long)d64);
    c->T = (int)T64;
    c->d = (size_t)d64;
    const size_t T = (size_t)c->T, d = c->d;

    /* losses: (S, T), or (S, K, T) with K samples per step (MoDo) */
    int rl = 0, rg = 0;
    size_t dl[MTB_H5_MAX_RANK], dg[MTB_H5_MAX_RANK];
    if (read_any(f, cs, "inputs/losses", &rl, dl, &c->L, res))
        return -1;
    if (rl != 2 && rl != 3)
        return fail_case(res, "inputs/losses has rank %d: expected 2, or 3 with samples", rl);
    c->S = dl[0];
    c->K = rl == 3 ? dl[1] : 1;
    if (dl[rl - 1] != T || c->K < 1 || c->K > MTB_MAX_SAMPLES)
        return fail_case(res, "inputs/losses is not (S, T) or (S, K, T) with T = %zu, K <= %d", T,
                         MTB_MAX_SAMPLES);

    if (exists(f, cs, "inputs/G_rep")) {
        /* representation gradients (GradDrop): G_rep (S, T, B, d), rep (S, B, d) */
        if (read_any(f, cs, "inputs/G_rep", &rg, dg, &c->G, res))
            return -1;
        if (rg != 4 || dg[0] != c->S || dg[1] != T || dg[3] != d || dg[2] < 1 || c->K != 1)
            return fail_case(res, "inputs/G_rep is not (S, T, B, d) with S = %zu, T = %zu, "
                             "d = %zu", c->S, T, d);
        c->B = dg[2];
        c->D = c->B * d;
        if (read_shaped(f, cs, "inputs/rep", 3, (size_t[]){c->S, c->B, d}, &c->Z, res))
            return -1;
    } else {
        if (read_any(f, cs, "inputs/G", &rg, dg, &c->G, res))
            return -1;
        int ok = rg == rl + 1 && dg[0] == c->S && dg[rg - 2] == T && dg[rg - 1] == d &&
                 (rg == 3 || dg[1] == c->K);
        if (!ok)
            return fail_case(res, "inputs/G is not (S, T, d) or (S, K, T, d) matching the losses "
                             "(T = %zu, d = %zu, S = %zu)", T, d, c->S);
        c->D = d;
    }
    if (read_shaped(f, cs, "inputs/epoch", 1, (size_t[]){c->S}, &c->epoch, res) ||
        read_shaped(f, cs, "outputs_f64/grad", 2, (size_t[]){c->S, d}, &c->ref_grad, res))
        return -1;
    if (exists(f, cs, "outputs_f64/weights") &&
        read_shaped(f, cs, "outputs_f64/weights", 2, (size_t[]){c->S, T}, &c->ref_w, res))
        return -1;
    if (exists(f, cs, "outputs_f64/param_grad/loss_scale") &&
        read_shaped(f, cs, "outputs_f64/param_grad/loss_scale", 2, (size_t[]){c->S, T},
                    &c->ref_pg, res))
        return -1;
    if (exists(f, cs, "inputs/losses_after") &&
        read_shaped(f, cs, "inputs/losses_after", 2, (size_t[]){c->S, T}, &c->L_after, res))
        return -1;
    /* Whether torch's Adam stepped at step s: its first moment after the step is NaN
     * ("not defined yet") when the parameter had no gradient (GradNorm at epoch 0), and
     * torch then skips the update and does not count the step. */
    if (exists(f, cs, "state_after/adam_loss_scale_exp_avg")) {
        int ra = 0;
        size_t da[MTB_H5_MAX_RANK];
        if (read_any(f, cs, "state_after/adam_loss_scale_exp_avg", &ra, da, &c->adam_m, res))
            return -1;
        if (ra != 2 || da[0] != c->S)
            return fail_case(res, "state_after/adam_loss_scale_exp_avg is not (S, n)");
        c->adam_cols = da[1];
    }
    return read_draws(f, cs, c, res);
}

void golden_case_free(golden_case *c)
{
    free(c->L);
    free(c->G);
    free(c->Z);
    free(c->epoch);
    free(c->values);
    free(c->orders);
    free(c->L_after);
    free(c->ref_grad);
    free(c->ref_w);
    free(c->ref_pg);
    free(c->adam_m);
    memset(c, 0, sizeof *c);
}

/* ---- compare ----------------------------------------------------------------------------- */

/* Per-step errors, for --verbose. */
typedef struct step_errors {
    double grad, weights, param_grad;
    golden_opt opt_mtb, opt_ref, opt_exact;
    double opt_cert;
    int opt_measured, on_optimality;
} step_errors;

/* The larger of a measure's two numbers (NaN counts as infinitely far). */
static double opt_worst(golden_opt m)
{
    double w = fmax(m.kkt, m.gap);
    return isnan(m.kkt) || isnan(m.gap) ? INFINITY : w;
}

static void opt_merge(golden_opt *acc, golden_opt m)
{
    acc->kkt = isnan(m.kkt) ? INFINITY : fmax(acc->kkt, m.kkt);
    acc->gap = isnan(m.gap) ? INFINITY : fmax(acc->gap, m.gap);
}

/* Measures mtb's weights (mapped), LibMTL's and mtb's exact solver's (exact, or mapped)
 * against the method's problem and decides whether a disagreeing step passes on
 * optimality: the judged weights optimal, LibMTL's measurably worse (golden.h). */
static void judge_optimality(const golden_case *c, const golden_entry *ent,
                             const golden_step *gs, size_t s, const double *mapped,
                             const double *exact, int agree, golden_result *res, step_errors *e)
{
    const double *ws[3] = {mapped, c->ref_w + s * (size_t)c->T, exact ? exact : mapped};
    golden_opt m[3];
    if (ent->optimality(gs, 3, ws, m, &e->opt_cert))
        return;
    e->opt_measured = res->opt_measured = 1;
    e->opt_mtb = m[0];
    e->opt_ref = m[1];
    e->opt_exact = m[2];
    opt_merge(&res->opt_mtb, m[0]);
    opt_merge(&res->opt_ref, m[1]);
    opt_merge(&res->opt_exact, m[2]);
    res->opt_cert = fmax(res->opt_cert, e->opt_cert);
    double judged = opt_worst(m[2]), ref = opt_worst(m[1]);
    e->on_optimality = !agree && m[2].kkt <= GOLDEN_OPT_TOL && m[2].gap <= GOLDEN_OPT_TOL &&
                       ref > GOLDEN_OPT_MARGIN && ref > GOLDEN_OPT_FACTOR * judged;
}

/* Compares step s of mtb (gs) with the references; `mapped` (T) receives LibMTL's returned
 * vector as mtb's step gives it; `exact` (T, or NULL) is the same vector from mtb's exact
 * solver (entry->exact_options). Returns -1 for a case that cannot go on (res filled). */
static int compare_step(const golden_case *c, const golden_entry *ent, const golden_step *gs,
                        size_t s, double *mapped, const double *exact, golden_result *res,
                        step_errors *e)
{
    const size_t T = (size_t)c->T;
    const double tol = ent->tol > 0 ? ent->tol : GOLDEN_DEFAULT_TOL;
    const double wtol = ent->weights_tol > 0 ? ent->weights_tol : tol;
    memset(e, 0, sizeof *e);
    /* a solver's weights are not unique where the Gram matrix is singular (T > d) */
    const int compare_w = c->ref_w && !(ent->optimality && T > c->d);

    e->grad = rel_err(gs->grad, c->ref_grad + s * c->d, c->d);
    if (ent->weights)
        ent->weights(gs, mapped);
    else
        memcpy(mapped, gs->trunk_w, T * sizeof *mapped);
    if (compare_w)
        e->weights = rel_err(mapped, c->ref_w + s * T, T);
    int agree = e->grad <= tol && e->weights <= wtol;
    if (ent->optimality && c->ref_w)
        judge_optimality(c, ent, gs, s, mapped, exact, agree, res, e);
    res->max_err = fmax(res->max_err, fmax(e->grad, e->weights));
    if (e->on_optimality) {
        res->opt_steps++;
    } else if (!agree && e->opt_measured) {
        res->pass = 0;
        set_reason(res, "%s off at step %zu, not a pass on optimality: mtb's%s KKT residual "
                   "%.3g, objective gap %.3g (tolerance %.0e); LibMTL's %.3g, %.3g",
                   e->grad <= tol ? "weights" : "grad", s, exact ? " exact solver's" : "",
                   e->opt_exact.kkt, e->opt_exact.gap, GOLDEN_OPT_TOL, e->opt_ref.kkt,
                   e->opt_ref.gap);
    } else if (!(e->grad <= tol)) {
        res->pass = 0;
        set_reason(res, "grad off at step %zu", s);
    } else if (!(e->weights <= wtol)) {
        res->pass = 0;
        set_reason(res, "weights off at step %zu", s);
    }

    if (c->ref_pg) {
        const double *rp = c->ref_pg + s * T;
        if (any_nan(rp, T))
            return 0; /* LibMTL left no gradient on the scalars at this step */
        if (gs->n_learn == 0 || (!ent->param_grad && (size_t)gs->n_learn != T))
            return fail_case(res, "fixture has loss_scale gradients, mtb's %s has %d learnable "
                             "scalars", ent->method, gs->n_learn);
        if (ent->param_grad)
            ent->param_grad(gs, mapped);
        else
            memcpy(mapped, gs->learn_grad, T * sizeof *mapped);
        e->param_grad = rel_err(mapped, rp, T);
        res->max_err = fmax(res->max_err, e->param_grad);
        if (!(e->param_grad <= wtol)) {
            res->pass = 0;
            set_reason(res, "loss_scale gradient off at step %zu", s);
        }
    }
    return 0;
}

/* ---- replay ------------------------------------------------------------------------------ */

/* The gradient left on theta: the method's trunk gradient (explicit, or sum_t w_t G_t) over
 * the D columns, summed over the B rows of the representation when rep = X + theta. */
static void theta_grad(const golden_case *c, const double *G, const double *trunk_w,
                       const double *tg, int explicit_grad, double *rg, double *grad)
{
    const size_t D = c->D, d = c->d;
    if (explicit_grad) {
        memcpy(rg, tg, D * sizeof *rg);
    } else {
        for (size_t j = 0; j < D; j++) {
            double acc = 0.0;
            for (int t = 0; t < c->T; t++)
                acc += trunk_w[t] * G[(size_t)t * D + j];
            rg[j] = acc;
        }
    }
    if (!c->B) {
        memcpy(grad, rg, d * sizeof *grad);
        return;
    }
    for (size_t j = 0; j < d; j++) {
        double acc = 0.0;
        for (size_t b = 0; b < c->B; b++)
            acc += rg[b * d + j];
        grad[j] = acc;
    }
}

void golden_case_run(const golden_case *c, const golden_entry *ent, const golden_adam *adam,
                     const char *label, int verbose, golden_result *res)
{
    mtb_error err = {0};
    const int T = c->T;
    const size_t D = c->D, d = c->d, K = c->K, TD = (size_t)T * c->D;
    double *buf = NULL, *Gmean = NULL;
    res->pass = 1;

    const mtb_balancer_type *type = mtb_balancer_find(ent->method);
    mtb_hparams hp;
    if (!type) {
        fail_case(res, "method not implemented (%s)", ent->method);
        return;
    }
    if (mtb_hparams_parse(type, ent->options, &hp, &err)) {
        fail_case(res, "%s", err.msg);
        return;
    }
    mtb_balancer *b = mtb_balancer_new(type, T, D, &hp, 0, &err), *bx = NULL;
    if (!b) {
        fail_case(res, "%s", err.msg);
        return;
    }
    if (ent->optimality && ent->exact_options) {
        mtb_hparams hx;
        if (mtb_hparams_parse(type, ent->exact_options, &hx, &err) ||
            !(bx = mtb_balancer_new(type, T, D, &hx, 0, &err))) {
            fail_case(res, "exact solver: %s", err.msg);
            goto done;
        }
    }
    const mtb_balancer_setup *su = mtb_balancer_get_setup(b);
    const int nl = su->n_learn, need_g = su->need != MTB_NEED_LOSSES;
    if ((size_t)su->n_samples != K) {
        fail_case(res, "fixture has %zu samples per step, method %s takes %d", K, ent->method,
                  su->n_samples);
        goto done;
    }
    if ((su->after_update != NULL) != (c->L_after != NULL)) {
        fail_case(res, "%s",
                  c->L_after ? "fixture has losses_after, the method does not consume them"
                             : "the method needs losses after the update, the fixture has none");
        goto done;
    }
    if (c->B && su->need != MTB_NEED_REP_GRADS) {
        fail_case(res, "fixture has representation gradients, method %s does not take them",
                  ent->method);
        goto done;
    }
    /* buffers: head_w, trunk_w, mapped (T); trunk_grad, rep grad (D); grad (d); learn copy,
     * Adam moments (nl each) */
    size_t nlb = nl > 0 ? (size_t)nl : 1;
    buf = calloc(6 * (size_t)T + 2 * D + d + 3 * nlb, sizeof *buf);
    if (!buf || (K > 1 && !(Gmean = calloc(TD, sizeof *Gmean)))) {
        fail_case(res, "out of memory");
        goto done;
    }
    double *head_w = buf, *trunk_w = buf + T, *mapped = buf + 2 * T, *tg = mapped + T,
           *rg = tg + D, *grad = rg + D, *learn0 = grad + d, *am = learn0 + nlb, *av = am + nlb,
           *xh = av + nlb, *xw = xh + T, *xmapped = xw + T;
    long adam_t = 0;
    const double *Lp[MTB_MAX_SAMPLES], *Gp[MTB_MAX_SAMPLES];
    for (size_t s = 0; s < c->S; s++) {
        /* sample k of step s: losses L[s][k], G[s][k]; with K = 1 the plain layout */
        for (size_t k = 0; k < K; k++) {
            Lp[k] = c->L + (s * K + k) * (size_t)T;
            Gp[k] = c->G + (s * K + k) * TD;
        }
        /* the G a trunk_w applies to: the mean over the samples (the whole batch's
         * gradient when the samples are equal parts of it, as in mtb training) */
        const double *Gs = Gp[0];
        if (K > 1) {
            for (size_t j = 0; j < TD; j++) {
                double acc = 0.0;
                for (size_t k = 0; k < K; k++)
                    acc += Gp[k][j];
                Gmean[j] = acc / (double)K;
            }
            Gs = Gmean;
        }
        mtb_balance_in in = {
            .step = (long)s, .epoch = (long)c->epoch[s], .T = T,
            .losses = Lp[0],
            .G = need_g ? Gp[0] : NULL,
            .D = need_g ? D : 0,
            .samples = {.n = (int)K, .losses = K > 1 ? Lp : NULL,
                        .G = K > 1 && need_g ? Gp : NULL},
            .rep = {.Z = c->Z && need_g ? c->Z + s * D : NULL, .dim = c->B ? (int)d : 0},
            .draws = {.values = c->values ? c->values + s * c->n_values : NULL,
                      .n_values = c->values ? c->n_values : 0,
                      .orders = c->orders ? c->orders + s * c->n_orders : NULL,
                      .n_orders = c->orders ? c->n_orders : 0}};
        mtb_balance_out out = {.head_w = head_w, .trunk_w = trunk_w,
                               .trunk_grad = need_g ? tg : NULL};
        if (nl > 0)
            memcpy(learn0, su->learn, (size_t)nl * sizeof *learn0);
        if (mtb_balancer_step(b, &in, &out, &err)) {
            res->reason[0] = '\0';
            fail_case(res, "step %zu: %s", s, err.msg);
            goto done;
        }
        theta_grad(c, Gs, trunk_w, tg, out.trunk_grad_set, rg, grad);
        golden_step gs = {.T = T, .d = d, .D = D, .step = (long)s, .epoch = (long)c->epoch[s],
                          .losses = in.losses, .G = Gs, .head_w = head_w, .trunk_w = trunk_w,
                          .trunk_grad_set = out.trunk_grad_set, .grad = grad, .n_learn = nl,
                          .learn = learn0, .learn_grad = su->learn_grad};
        const double *exact = NULL;
        if (bx) { /* the exact solver on the same inputs: stateless solver methods only */
            mtb_balance_out xo = {.head_w = xh, .trunk_w = xw, .trunk_grad = need_g ? rg : NULL};
            if (mtb_balancer_step(bx, &in, &xo, &err)) {
                res->reason[0] = '\0';
                fail_case(res, "step %zu, exact solver: %s", s, err.msg);
                goto done;
            }
            golden_step gx = gs;
            gx.head_w = xh;
            gx.trunk_w = xw;
            if (ent->weights)
                ent->weights(&gx, xmapped);
            else
                memcpy(xmapped, xw, (size_t)T * sizeof *xw);
            exact = xmapped;
        }
        step_errors e;
        if (compare_step(c, ent, &gs, s, mapped, exact, res, &e))
            goto done;
        if (verbose) {
            printf("  %s step %zu: grad %.3g  weights %.3g  param_grad %.3g", label, s, e.grad,
                   e.weights, e.param_grad);
            if (e.opt_measured) {
                printf("  kkt/gap mtb %.3g/%.3g", e.opt_mtb.kkt, e.opt_mtb.gap);
                if (bx)
                    printf(" exact %.3g/%.3g", e.opt_exact.kkt, e.opt_exact.gap);
                printf(" LibMTL %.3g/%.3g reference %.3g%s", e.opt_ref.kkt, e.opt_ref.gap,
                       e.opt_cert, e.on_optimality ? " (passes on optimality)" : "");
            }
            printf("\n");
        }
        int adam_step = nl > 0 &&
                        !(c->adam_m && any_nan(c->adam_m + s * c->adam_cols, c->adam_cols)) &&
                        !(c->ref_pg && any_nan(c->ref_pg + s * (size_t)T, (size_t)T));
        if (adam_step && adam->present) {
            adam_t++; /* torch.optim.Adam (amsgrad off), the library's Adam in double */
            mtb_optim_step_f64(&adam->cfg, adam_t, (size_t)nl, su->learn, su->learn_grad, am, av);
        } else if (adam_step) {
            res->pass = 0;
            set_reason(res, "method %s has learnable scalars but the fixture no param_adam_lr",
                       ent->method);
        }
        if (c->L_after && mtb_balancer_after_update(b, c->L_after + s * (size_t)T, &err)) {
            res->reason[0] = '\0';
            fail_case(res, "after step %zu: %s", s, err.msg);
            goto done;
        }
    }
    if (res->pass && res->opt_steps)
        set_reason(res, "passes on optimality at %d of %zu steps: mtb's%s KKT residual up to "
                   "%.3g and objective gap up to %.3g (tolerance %.0e), LibMTL's up to %.3g and "
                   "%.3g (reference solve's residual %.3g)", res->opt_steps, c->S,
                   bx ? " exact solver's" : "", res->opt_exact.kkt, res->opt_exact.gap,
                   GOLDEN_OPT_TOL, res->opt_ref.kkt, res->opt_ref.gap, res->opt_cert);
done:
    mtb_balancer_free(b);
    mtb_balancer_free(bx);
    free(buf);
    free(Gmean);
}
