/* golden_case.c: the first stage of a golden case, read (golden.h): the inputs, references
 * and recorded draws of one case group, shapes checked against the README's schema; and the
 * result helpers the three stages share. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"

/* ---- helpers --------------------------------------------------------------------------- */

void golden_set_reason(golden_result *r, const char *fmt, ...)
{
    if (r->reason[0])
        return; /* keep the first reason */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
}

/* A case that cannot run: fails with the reason. Returns -1. */
int golden_fail_case(golden_result *r, const char *fmt, ...)
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
double golden_rel_err(const double *a, const double *b, size_t n)
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

int golden_any_nan(const double *x, size_t n)
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
        return golden_fail_case(res, "%s", err.msg);
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
        return golden_fail_case(res, "%s/%s has rank %d and an unexpected shape (README schema)",
                                cs, name, r);
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
        return golden_fail_case(res, "%s", err.msg);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (strncmp(names[i], "random_", 7))
            continue;
        snprintf(p, sizeof p, "/%s/inputs/%s", cs, names[i]);
        mtb_h5_kind kind;
        int rank = 0;
        size_t dims[MTB_H5_MAX_RANK];
        if (mtb_h5_dtype(f, p, &kind, NULL, 0, &err) || mtb_h5_shape(f, p, &rank, dims, &err)) {
            rc = golden_fail_case(res, "%s", err.msg);
            break;
        }
        size_t per = 1;
        for (int k = 1; k < rank; k++)
            per *= dims[k];
        if (rank < 1 || dims[0] != c->S) {
            rc = golden_fail_case(res, "%s has %zu rows, the case %zu steps", p, rank ? dims[0] : 0,
                                  c->S);
        } else if (kind == MTB_H5_INT) {
            int64_t *raw = NULL;
            if (c->orders) {
                rc = golden_fail_case(res, "%s: a second integer draw dataset", p);
            } else if (mtb_h5_read_i64(f, p, rank, dims, &raw, &err)) {
                rc = golden_fail_case(res, "%s", err.msg);
            } else if (!(c->orders = malloc(c->S * per * sizeof *c->orders))) {
                rc = golden_fail_case(res, "out of memory");
            } else {
                for (size_t k = 0; k < c->S * per; k++)
                    c->orders[k] = raw[k] >= 0 && raw[k] <= INT32_MAX ? (int)raw[k] : -1;
                c->n_orders = per;
            }
            free(raw);
        } else if (kind == MTB_H5_FLOAT) {
            if (c->values)
                rc = golden_fail_case(res, "%s: a second float draw dataset", p);
            else if (mtb_h5_read_f64(f, p, rank, dims, &c->values, 1, &err))
                rc = golden_fail_case(res, "%s", err.msg);
            else
                c->n_values = per;
        } else {
            rc = golden_fail_case(res, "%s is neither integer nor float", p);
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
        return golden_fail_case(res, "%s", err.msg);
    if (T64 < 1 || T64 > 1000000 || d64 < 1)
        return golden_fail_case(res, "T = %lld, d = %lld", (long long)T64, (long long)d64);
    c->T = (int)T64;
    c->d = (size_t)d64;
    const size_t T = (size_t)c->T, d = c->d;

    /* losses: (S, T), or (S, K, T) with K samples per step (MoDo) */
    int rl = 0, rg = 0;
    size_t dl[MTB_H5_MAX_RANK], dg[MTB_H5_MAX_RANK];
    if (read_any(f, cs, "inputs/losses", &rl, dl, &c->L, res))
        return -1;
    if (rl != 2 && rl != 3)
        return golden_fail_case(res, "inputs/losses has rank %d: expected 2, or 3 with samples",
                                rl);
    c->S = dl[0];
    c->K = rl == 3 ? dl[1] : 1;
    if (dl[rl - 1] != T || c->K < 1 || c->K > MTB_MAX_SAMPLES)
        return golden_fail_case(res,
                                "inputs/losses is not (S, T) or (S, K, T) with T = %zu, K <= %d", T,
                                MTB_MAX_SAMPLES);

    if (exists(f, cs, "inputs/G_rep")) {
        /* representation gradients (GradDrop): G_rep (S, T, B, d), rep (S, B, d) */
        if (read_any(f, cs, "inputs/G_rep", &rg, dg, &c->G, res))
            return -1;
        if (rg != 4 || dg[0] != c->S || dg[1] != T || dg[3] != d || dg[2] < 1 || c->K != 1)
            return golden_fail_case(res,
                                    "inputs/G_rep is not (S, T, B, d) with S = %zu, T = %zu, "
                                    "d = %zu",
                                    c->S, T, d);
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
            return golden_fail_case(res,
                                    "inputs/G is not (S, T, d) or (S, K, T, d) matching the "
                                    "losses (T = %zu, d = %zu, S = %zu)",
                                    T, d, c->S);
        c->D = d;
    }
    if (read_shaped(f, cs, "inputs/epoch", 1, (size_t[]){c->S}, &c->epoch, res) ||
        read_shaped(f, cs, "outputs_f64/grad", 2, (size_t[]){c->S, d}, &c->ref_grad, res))
        return -1;
    if (exists(f, cs, "outputs_f64/weights") &&
        read_shaped(f, cs, "outputs_f64/weights", 2, (size_t[]){c->S, T}, &c->ref_w, res))
        return -1;
    if (exists(f, cs, "outputs_f64/param_grad/loss_scale") &&
        read_shaped(f, cs, "outputs_f64/param_grad/loss_scale", 2, (size_t[]){c->S, T}, &c->ref_pg,
                    res))
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
            return golden_fail_case(res, "state_after/adam_loss_scale_exp_avg is not (S, n)");
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
