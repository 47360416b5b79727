/* golden_compare.c: the third stage of a golden case, compare (golden.h): one step of mtb
 * against LibMTL's references, and for solver methods the verdict on optimality. */
#include <math.h>
#include <string.h>

#include "golden.h"

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
static void judge_optimality(const golden_case *c, const golden_entry *ent, const golden_step *gs,
                             size_t s, const double *mapped, const double *exact, int agree,
                             golden_result *res, golden_step_errors *e)
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

int golden_compare_step(const golden_case *c, const golden_entry *ent, const golden_step *gs,
                        size_t s, double *mapped, const double *exact, golden_result *res,
                        golden_step_errors *e)
{
    const size_t T = (size_t)c->T;
    const double tol = ent->tol > 0 ? ent->tol : GOLDEN_DEFAULT_TOL;
    const double wtol = ent->weights_tol > 0 ? ent->weights_tol : tol;
    memset(e, 0, sizeof *e);
    /* a solver's weights are not unique where the Gram matrix is singular (T > d) */
    const int compare_w = c->ref_w && !(ent->optimality && T > c->d);

    e->grad = golden_rel_err(gs->grad, c->ref_grad + s * c->d, c->d);
    if (ent->weights)
        ent->weights(gs, mapped);
    else
        memcpy(mapped, gs->trunk_w, T * sizeof *mapped);
    if (compare_w)
        e->weights = golden_rel_err(mapped, c->ref_w + s * T, T);
    int agree = e->grad <= tol && e->weights <= wtol;
    if (ent->optimality && c->ref_w)
        judge_optimality(c, ent, gs, s, mapped, exact, agree, res, e);
    res->max_err = fmax(res->max_err, fmax(e->grad, e->weights));
    if (e->on_optimality) {
        res->opt_steps++;
    } else if (!agree && e->opt_measured) {
        res->pass = 0;
        golden_set_reason(res,
                          "%s off at step %zu, not a pass on optimality: mtb's%s KKT residual "
                          "%.3g, objective gap %.3g (tolerance %.0e); LibMTL's %.3g, %.3g",
                          e->grad <= tol ? "weights" : "grad", s, exact ? " exact solver's" : "",
                          e->opt_exact.kkt, e->opt_exact.gap, GOLDEN_OPT_TOL, e->opt_ref.kkt,
                          e->opt_ref.gap);
    } else if (!(e->grad <= tol)) {
        res->pass = 0;
        golden_set_reason(res, "grad off at step %zu", s);
    } else if (!(e->weights <= wtol)) {
        res->pass = 0;
        golden_set_reason(res, "weights off at step %zu", s);
    }

    if (c->ref_pg) {
        const double *rp = c->ref_pg + s * T;
        if (golden_any_nan(rp, T))
            return 0; /* LibMTL left no gradient on the scalars at this step */
        if (gs->n_learn == 0 || (!ent->param_grad && (size_t)gs->n_learn != T))
            return golden_fail_case(res,
                                    "fixture has loss_scale gradients, mtb's %s has %d "
                                    "learnable scalars",
                                    ent->method, gs->n_learn);
        if (ent->param_grad)
            ent->param_grad(gs, mapped);
        else
            memcpy(mapped, gs->learn_grad, T * sizeof *mapped);
        e->param_grad = golden_rel_err(mapped, rp, T);
        res->max_err = fmax(res->max_err, e->param_grad);
        if (!(e->param_grad <= wtol)) {
            res->pass = 0;
            golden_set_reason(res, "loss_scale gradient off at step %zu", s);
        }
    }
    return 0;
}
