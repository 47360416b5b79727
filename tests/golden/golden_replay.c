/* golden_replay.c: the second stage of a golden case, replay (golden.h): one balancer of the
 * entry's method (and its exact solver beside it) run over the steps, each step compared
 * (golden_compare.c), the learnable scalars stepped with the library's Adam. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"

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

/* The balancers and buffers of one replay. */
typedef struct replay {
    mtb_balancer *b;   /* the entry's method */
    mtb_balancer *bx;  /* its exact solver beside it (entry->exact_options), or NULL */
    const mtb_balancer_setup *su;
    int nl, need_g;
    long adam_t;
    double *buf, *Gmean; /* Gmean (T, D): the mean of the K samples' G (K > 1) */
    double *head_w, *trunk_w, *mapped, *tg, *rg, *grad, *learn0, *am, *av, *xh, *xw, *xmapped;
} replay;

static void replay_close(replay *r)
{
    mtb_balancer_free(r->b);
    mtb_balancer_free(r->bx);
    free(r->buf);
    free(r->Gmean);
    memset(r, 0, sizeof *r);
}

/* Creates the balancers and checks that the method consumes what the fixture holds. */
static int replay_open(const golden_case *c, const golden_entry *ent, replay *r,
                       golden_result *res)
{
    mtb_error err = {0};
    const int T = c->T;
    const size_t D = c->D, K = c->K;
    memset(r, 0, sizeof *r);
    const mtb_balancer_type *type = mtb_balancer_find(ent->method);
    mtb_hparams hp;
    if (!type)
        return golden_fail_case(res, "method not implemented (%s)", ent->method);
    if (mtb_hparams_parse(type, ent->options, &hp, &err))
        return golden_fail_case(res, "%s", err.msg);
    if (!(r->b = mtb_balancer_new(type, T, D, &hp, 0, &err)))
        return golden_fail_case(res, "%s", err.msg);
    if (ent->optimality && ent->exact_options) {
        mtb_hparams hx;
        if (mtb_hparams_parse(type, ent->exact_options, &hx, &err) ||
            !(r->bx = mtb_balancer_new(type, T, D, &hx, 0, &err)))
            return golden_fail_case(res, "exact solver: %s", err.msg);
    }
    r->su = mtb_balancer_get_setup(r->b);
    r->nl = r->su->n_learn;
    r->need_g = r->su->need != MTB_NEED_LOSSES;
    if ((size_t)r->su->n_samples != K)
        return golden_fail_case(res, "fixture has %zu samples per step, method %s takes %d", K,
                                ent->method, r->su->n_samples);
    if ((r->su->after_update != NULL) != (c->L_after != NULL))
        return golden_fail_case(
            res, "%s",
            c->L_after ? "fixture has losses_after, the method does not consume them"
                       : "the method needs losses after the update, the fixture has none");
    if (c->B && r->su->need != MTB_NEED_REP_GRADS)
        return golden_fail_case(res, "fixture has representation gradients, method %s does "
                                "not take them", ent->method);
    /* head_w, trunk_w, mapped and the exact solver's three (T); trunk_grad, rep grad (D);
     * grad (d); learn copy, Adam moments (nl each) */
    size_t nlb = r->nl > 0 ? (size_t)r->nl : 1;
    r->buf = calloc(6 * (size_t)T + 2 * D + c->d + 3 * nlb, sizeof *r->buf);
    if (!r->buf || (K > 1 && !(r->Gmean = calloc((size_t)T * D, sizeof *r->Gmean))))
        return golden_fail_case(res, "out of memory");
    r->head_w = r->buf;
    r->trunk_w = r->head_w + T;
    r->mapped = r->trunk_w + T;
    r->tg = r->mapped + T;
    r->rg = r->tg + D;
    r->grad = r->rg + D;
    r->learn0 = r->grad + c->d;
    r->am = r->learn0 + nlb;
    r->av = r->am + nlb;
    r->xh = r->av + nlb;
    r->xw = r->xh + T;
    r->xmapped = r->xw + T;
    return 0;
}

/* Step s: the method's step on the fixture's inputs and recorded draws, the gradient it
 * leaves on theta, and the exact solver's step on the same inputs (*exact: its weights in
 * LibMTL's convention, or NULL). Fills gs; -1 on failure (res filled). */
static int replay_step(const golden_case *c, const golden_entry *ent, replay *r, size_t s,
                       golden_step *gs, const double **exact, golden_result *res)
{
    mtb_error err = {0};
    const int T = c->T;
    const size_t D = c->D, K = c->K, TD = (size_t)T * c->D;
    const double *Lp[MTB_MAX_SAMPLES], *Gp[MTB_MAX_SAMPLES];
    /* sample k of step s: losses L[s][k], G[s][k]; with K = 1 the plain layout */
    for (size_t k = 0; k < K; k++) {
        Lp[k] = c->L + (s * K + k) * (size_t)T;
        Gp[k] = c->G + (s * K + k) * TD;
    }
    /* the G a trunk_w applies to: the mean over the samples (the whole batch's gradient when
     * the samples are equal parts of it, as in mtb training) */
    const double *Gs = Gp[0];
    if (K > 1) {
        for (size_t j = 0; j < TD; j++) {
            double acc = 0.0;
            for (size_t k = 0; k < K; k++)
                acc += Gp[k][j];
            r->Gmean[j] = acc / (double)K;
        }
        Gs = r->Gmean;
    }
    const int need_g = r->need_g;
    mtb_balance_in in = {
        .step = (long)s, .epoch = (long)c->epoch[s], .T = T,
        .losses = Lp[0],
        .G = need_g ? Gp[0] : NULL,
        .D = need_g ? D : 0,
        .samples = {.n = (int)K, .losses = K > 1 ? Lp : NULL, .G = K > 1 && need_g ? Gp : NULL},
        .rep = {.Z = c->Z && need_g ? c->Z + s * D : NULL, .dim = c->B ? (int)c->d : 0},
        .draws = {.values = c->values ? c->values + s * c->n_values : NULL,
                  .n_values = c->values ? c->n_values : 0,
                  .orders = c->orders ? c->orders + s * c->n_orders : NULL,
                  .n_orders = c->orders ? c->n_orders : 0}};
    mtb_balance_out out = {.head_w = r->head_w, .trunk_w = r->trunk_w,
                           .trunk_grad = need_g ? r->tg : NULL};
    if (r->nl > 0)
        memcpy(r->learn0, r->su->learn, (size_t)r->nl * sizeof *r->learn0);
    if (mtb_balancer_step(r->b, &in, &out, &err)) {
        res->reason[0] = '\0';
        return golden_fail_case(res, "step %zu: %s", s, err.msg);
    }
    theta_grad(c, Gs, r->trunk_w, r->tg, out.trunk_grad_set, r->rg, r->grad);
    *gs = (golden_step){.T = T, .d = c->d, .D = D, .step = (long)s, .epoch = (long)c->epoch[s],
                        .losses = in.losses, .G = Gs, .head_w = r->head_w, .trunk_w = r->trunk_w,
                        .trunk_grad_set = out.trunk_grad_set, .grad = r->grad, .n_learn = r->nl,
                        .learn = r->learn0, .learn_grad = r->su->learn_grad};
    *exact = NULL;
    if (!r->bx)
        return 0;
    /* the exact solver on the same inputs: stateless solver methods only */
    mtb_balance_out xo = {.head_w = r->xh, .trunk_w = r->xw, .trunk_grad = need_g ? r->rg : NULL};
    if (mtb_balancer_step(r->bx, &in, &xo, &err)) {
        res->reason[0] = '\0';
        return golden_fail_case(res, "step %zu, exact solver: %s", s, err.msg);
    }
    golden_step gx = *gs;
    gx.head_w = r->xh;
    gx.trunk_w = r->xw;
    if (ent->weights)
        ent->weights(&gx, r->xmapped);
    else
        memcpy(r->xmapped, r->xw, (size_t)T * sizeof *r->xw);
    *exact = r->xmapped;
    return 0;
}

/* After step s: the learnable scalars' Adam step (when torch's Adam stepped: the fixture's
 * moments are defined) and the losses after the update (FAMO). -1 on failure. */
static int replay_after_step(const golden_case *c, const golden_entry *ent,
                             const golden_adam *adam, replay *r, size_t s, golden_result *res)
{
    mtb_error err = {0};
    const size_t T = (size_t)c->T;
    int adam_step = r->nl > 0 &&
                    !(c->adam_m && golden_any_nan(c->adam_m + s * c->adam_cols, c->adam_cols)) &&
                    !(c->ref_pg && golden_any_nan(c->ref_pg + s * T, T));
    if (adam_step && adam->present) {
        r->adam_t++; /* torch.optim.Adam (amsgrad off), the library's Adam in double */
        mtb_optim_step_f64(&adam->cfg, r->adam_t, (size_t)r->nl, r->su->learn,
                           r->su->learn_grad, r->am, r->av);
    } else if (adam_step) {
        res->pass = 0;
        golden_set_reason(res, "method %s has learnable scalars but the fixture no "
                          "param_adam_lr", ent->method);
    }
    if (c->L_after && mtb_balancer_after_update(r->b, c->L_after + s * T, &err)) {
        res->reason[0] = '\0';
        return golden_fail_case(res, "after step %zu: %s", s, err.msg);
    }
    return 0;
}

static void print_step(const char *label, size_t s, const golden_step_errors *e, int exact)
{
    printf("  %s step %zu: grad %.3g  weights %.3g  param_grad %.3g", label, s, e->grad,
           e->weights, e->param_grad);
    if (e->opt_measured) {
        printf("  kkt/gap mtb %.3g/%.3g", e->opt_mtb.kkt, e->opt_mtb.gap);
        if (exact)
            printf(" exact %.3g/%.3g", e->opt_exact.kkt, e->opt_exact.gap);
        printf(" LibMTL %.3g/%.3g reference %.3g%s", e->opt_ref.kkt, e->opt_ref.gap,
               e->opt_cert, e->on_optimality ? " (passes on optimality)" : "");
    }
    printf("\n");
}

void golden_case_run(const golden_case *c, const golden_entry *ent, const golden_adam *adam,
                     const char *label, int verbose, golden_result *res)
{
    replay r;
    res->pass = 1;
    if (replay_open(c, ent, &r, res)) {
        replay_close(&r);
        return;
    }
    for (size_t s = 0; s < c->S; s++) {
        golden_step gs;
        const double *exact;
        golden_step_errors e;
        if (replay_step(c, ent, &r, s, &gs, &exact, res) ||
            golden_compare_step(c, ent, &gs, s, r.mapped, exact, res, &e))
            break;
        if (verbose)
            print_step(label, s, &e, r.bx != NULL);
        if (replay_after_step(c, ent, adam, &r, s, res))
            break;
    }
    if (res->pass && res->opt_steps)
        golden_set_reason(res, "passes on optimality at %d of %zu steps: mtb's%s KKT residual "
                          "up to %.3g and objective gap up to %.3g (tolerance %.0e), LibMTL's up "
                          "to %.3g and %.3g (reference solve's residual %.3g)", res->opt_steps,
                          c->S, r.bx ? " exact solver's" : "", res->opt_exact.kkt,
                          res->opt_exact.gap, GOLDEN_OPT_TOL, res->opt_ref.kkt, res->opt_ref.gap,
                          res->opt_cert);
    replay_close(&r);
}
