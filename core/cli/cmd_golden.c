/* cmd_golden.c: `mtb golden DIR [--verbose] [--only NAME]`, the check of mtb's methods
 * against LibMTL's reference vectors (fixture format: the golden README; the mapping of
 * LibMTL methods to mtb methods and options: golden.h and golden_map_*.c).
 *
 * For every *.h5 file in DIR (sorted by name) and every case listed in its root
 * attribute `cases`, one balancer runs the case's steps in order; after each step the
 * gradient mtb leaves on theta is compared with outputs_f64/grad, the returned weights
 * with outputs_f64/weights and the learnable scalars' gradient with
 * outputs_f64/param_grad/loss_scale (each when the fixture has it), all as
 * max|diff| / max|reference| over the step. Learnable scalars then take one PyTorch
 * Adam step with the fixture's param_adam_* settings, except at steps where the
 * fixture's state_after/adam_loss_scale_exp_avg is NaN (torch skipped the update because
 * the parameter had no gradient, as LibMTL's GradNorm at epoch 0). Multi-sample fixtures
 * (MoDo: losses (S, K, T), G (S, K, T, d)) pass the K samples of a step as loss_samples /
 * G_samples; a method that wants the losses after the update (FAMO) gets
 * inputs/losses_after[s] through mtb_balancer_after_update after step s. One line per case:
 *   PASS|FAIL <fixture>/<case> max_rel_err=<e> [reason]
 * and a final "N passed, M failed"; the exit status is 0 iff M = 0. */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "golden.h"
#include "mtb/balancer.h"
#include "mtb/h5.h"

static const char *CMD = "golden";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mtb golden DIR [--verbose] [--only NAME]\n\n"
            "Replays every LibMTL golden fixture (*.h5) in DIR with the mtb method that\n"
            "reproduces LibMTL's variant and compares the gradient, the returned weights and\n"
            "the learnable scalars' gradients step by step (tolerance 1e-9 relative to the\n"
            "step's largest reference value unless the method's table entry says otherwise).\n\n"
            "  --verbose    print per-step errors and the mapping notes\n"
            "  --only NAME  only the fixture whose method (or file name) is NAME\n\n"
            "Prints one PASS/FAIL line per case and 'N passed, M failed'; exit 0 iff M = 0.\n");
}

/* Adam settings of a fixture (PyTorch torch.optim.Adam, L2 weight decay). */
typedef struct adam_cfg {
    int present;
    double lr, b1, b2, eps, wd;
} adam_cfg;

typedef struct case_result {
    int pass;
    double max_err;
    char reason[600];
} case_result;

static const golden_entry *find_entry(const char *fixture)
{
    for (const golden_entry *e = golden_entries_loss; e->fixture; e++)
        if (!strcmp(e->fixture, fixture))
            return e;
    for (const golden_entry *e = golden_entries_grad; e->fixture; e++)
        if (!strcmp(e->fixture, fixture))
            return e;
    for (const golden_entry *e = golden_entries_multi; e->fixture; e++)
        if (!strcmp(e->fixture, fixture))
            return e;
    return NULL;
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

static int read_f64(mtb_h5 *f, const char *cs, const char *name, int rank, size_t *dims,
                    double **out, mtb_error *err)
{
    char path[512];
    snprintf(path, sizeof path, "/%s/%s", cs, name);
    return mtb_h5_read_f64(f, path, rank, dims, out, 0, err) != MTB_OK;
}

static int exists(mtb_h5 *f, const char *cs, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "/%s/%s", cs, name);
    return mtb_h5_exists(f, path);
}

__attribute__((format(printf, 2, 3))) static void set_reason(case_result *r, const char *fmt,
                                                              ...)
{
    if (r->reason[0])
        return; /* keep the first reason */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
}

static void run_case(mtb_h5 *f, const char *fx, const char *cs, const golden_entry *ent,
                     const adam_cfg *adam, int verbose, case_result *res)
{
    mtb_error err = {0};
    memset(res, 0, sizeof *res);
    int64_t T64 = 0, d64 = 0;
    char obj[512];
    snprintf(obj, sizeof obj, "/%s", cs);
    double *L = NULL, *G = NULL, *ref_grad = NULL, *ref_w = NULL, *ref_pg = NULL, *ep = NULL;
    double *buf = NULL, *m = NULL, *adam_m = NULL, *L_after = NULL, *Gmean = NULL;
    mtb_balancer *b = NULL;
    size_t dl[MTB_H5_MAX_RANK], dg[MTB_H5_MAX_RANK], dr[MTB_H5_MAX_RANK], dw[MTB_H5_MAX_RANK],
        dp[MTB_H5_MAX_RANK], de[MTB_H5_MAX_RANK], dla[MTB_H5_MAX_RANK];

    if (mtb_h5_attr_get_i64(f, obj, "T", &T64, &err) || mtb_h5_attr_get_i64(f, obj, "d", &d64, &err))
        goto io_fail;
    if (read_f64(f, cs, "inputs/losses", -1, dl, &L, &err) ||
        read_f64(f, cs, "inputs/G", -1, dg, &G, &err) ||
        read_f64(f, cs, "inputs/epoch", 1, de, &ep, &err) ||
        read_f64(f, cs, "outputs_f64/grad", 2, dr, &ref_grad, &err))
        goto io_fail;
    int T = (int)T64;
    size_t d = (size_t)d64, S = dr[0];
    /* MoDo's fixtures have several batches per step: losses (S, K, T), G (S, K, T, d). */
    int rl = 0, rg = 0;
    mtb_h5_shape(f, (snprintf(obj, sizeof obj, "/%s/inputs/losses", cs), obj), &rl, dl, &err);
    mtb_h5_shape(f, (snprintf(obj, sizeof obj, "/%s/inputs/G", cs), obj), &rg, dg, &err);
    if (!((rl == 2 && rg == 3) || (rl == 3 && rg == 4))) {
        res->max_err = INFINITY;
        snprintf(res->reason, sizeof res->reason,
                 "inputs of ranks %d (losses) and %d (G): expected 2 and 3, or 3 and 4", rl, rg);
        goto done;
    }
    size_t K = 1;
    if (rl == 3) { /* drop the sample axis from the shapes checked below */
        K = dl[1];
        if (dg[1] != K || K < 1 || K > MTB_MAX_SAMPLES) {
            res->max_err = INFINITY;
            snprintf(res->reason, sizeof res->reason,
                     "losses have %zu samples per step, G %zu (1..%d)", K, dg[1], MTB_MAX_SAMPLES);
            goto done;
        }
        dl[1] = dl[2];
        dg[1] = dg[2];
        dg[2] = dg[3];
    }
    if (T < 1 || d < 1 || dl[0] != S || dl[1] != (size_t)T || dg[0] != S || dg[1] != (size_t)T ||
        dg[2] != d || dr[1] != d || de[0] != S) {
        res->max_err = INFINITY;
        snprintf(res->reason, sizeof res->reason,
                 "inconsistent shapes (T = %d, d = %zu, S = %zu)", T, d, S);
        goto done;
    }
    int has_w = exists(f, cs, "outputs_f64/weights");
    int has_pg = exists(f, cs, "outputs_f64/param_grad/loss_scale");
    if (has_w && (read_f64(f, cs, "outputs_f64/weights", 2, dw, &ref_w, &err) || dw[0] != S ||
                  dw[1] != (size_t)T))
        goto io_fail_shape;
    if (has_pg && (read_f64(f, cs, "outputs_f64/param_grad/loss_scale", 2, dp, &ref_pg, &err) ||
                   dp[0] != S || dp[1] != (size_t)T))
        goto io_fail_shape;
    /* Whether torch's Adam stepped at step s: its first moment after the step is NaN
     * ("not defined yet") when the parameter had no gradient (GradNorm at epoch 0), and
     * torch then skips the update and does not count the step. */
    size_t da[MTB_H5_MAX_RANK];
    if (exists(f, cs, "state_after/adam_loss_scale_exp_avg") &&
        (read_f64(f, cs, "state_after/adam_loss_scale_exp_avg", 2, da, &adam_m, &err) ||
         da[0] != S))
        goto io_fail_shape;

    int has_after = exists(f, cs, "inputs/losses_after");
    if (has_after && (read_f64(f, cs, "inputs/losses_after", 2, dla, &L_after, &err) ||
                      dla[0] != S || dla[1] != (size_t)T))
        goto io_fail_shape;

    const mtb_balancer_type *type = mtb_balancer_find(ent->method);
    mtb_hparams hp;
    if (!type) {
        res->max_err = INFINITY;
        snprintf(res->reason, sizeof res->reason, "method not implemented (%s)", ent->method);
        goto done;
    }
    if (mtb_hparams_parse(type, ent->options, &hp, &err))
        goto io_fail;
    b = mtb_balancer_new(type, T, d, &hp, 0, &err);
    if (!b)
        goto io_fail;
    const mtb_balancer_setup *su = mtb_balancer_get_setup(b);
    int nl = su->n_learn;
    if ((size_t)su->n_samples != K) {
        res->max_err = INFINITY;
        snprintf(res->reason, sizeof res->reason,
                 "fixture has %zu samples per step, method %s takes %d", K, ent->method,
                 su->n_samples);
        goto done;
    }
    if (su->wants_losses_after != has_after) {
        res->max_err = INFINITY;
        snprintf(res->reason, sizeof res->reason, "%s",
                 has_after ? "fixture has losses_after, the method does not consume them"
                           : "the method needs losses after the update, the fixture has none");
        goto done;
    }
    const double *Lp[MTB_MAX_SAMPLES], *Gp[MTB_MAX_SAMPLES];
    if (K > 1 && !(Gmean = calloc((size_t)T * d, sizeof *Gmean))) {
        mtb_fail(&err, MTB_ENOMEM, "out of memory");
        goto io_fail;
    }
    double tol = ent->tol > 0 ? ent->tol : GOLDEN_DEFAULT_TOL;
    double wtol = ent->weights_tol > 0 ? ent->weights_tol : tol;
    /* buffers: head_w, trunk_w, trunk_grad, grad, mapped (T), learn copy, adam m, v */
    buf = calloc(4 * (size_t)T + 2 * d + (size_t)(nl > 0 ? nl : 1), sizeof *buf);
    m = calloc(2 * (size_t)(nl > 0 ? nl : 1), sizeof *m);
    if (!buf || !m) {
        mtb_fail(&err, MTB_ENOMEM, "out of memory");
        goto io_fail;
    }
    double *head_w = buf, *trunk_w = buf + T, *mapped = buf + 2 * T, *tg = buf + 3 * T,
           *grad = tg + d, *learn0 = grad + d;
    double *am = m, *av = m + (nl > 0 ? nl : 1);
    long adam_t = 0;
    res->pass = 1;
    for (size_t s = 0; s < S; s++) {
        /* sample k of step s: losses L[s][k], G[s][k]; with K = 1 the plain layout */
        for (size_t k = 0; k < K; k++) {
            Lp[k] = L + (s * K + k) * (size_t)T;
            Gp[k] = G + (s * K + k) * (size_t)T * d;
        }
        /* the G a trunk_w applies to: the mean over the samples (the whole batch's
         * gradient when the samples are equal parts of it, as in mtb training) */
        const double *Gs = Gp[0];
        if (K > 1) {
            for (size_t j = 0; j < (size_t)T * d; j++) {
                double acc = 0.0;
                for (size_t k = 0; k < K; k++)
                    acc += Gp[k][j];
                Gmean[j] = acc / (double)K;
            }
            Gs = Gmean;
        }
        int need_g = su->need != MTB_NEED_LOSSES;
        mtb_balance_in in = {.step = (long)s, .epoch = (long)ep[s], .T = T,
                             .losses = Lp[0],
                             .G = need_g ? Gp[0] : NULL,
                             .D = need_g ? d : 0,
                             .n_samples = (int)K,
                             .loss_samples = K > 1 ? Lp : NULL,
                             .G_samples = K > 1 && need_g ? Gp : NULL};
        mtb_balance_out out = {.head_w = head_w, .trunk_w = trunk_w,
                               .trunk_grad = su->need == MTB_NEED_LOSSES ? NULL : tg};
        if (nl > 0)
            memcpy(learn0, su->learn, (size_t)nl * sizeof *learn0);
        if (mtb_balancer_step(b, &in, &out, &err)) {
            res->pass = 0;
            res->max_err = INFINITY;
            snprintf(res->reason, sizeof res->reason, "step %zu: %s", s, err.msg);
            goto done;
        }
        if (out.trunk_grad_set)
            memcpy(grad, tg, d * sizeof *grad);
        else
            for (size_t j = 0; j < d; j++) {
                double acc = 0.0;
                for (int t = 0; t < T; t++)
                    acc += trunk_w[t] * Gs[(size_t)t * d + j];
                grad[j] = acc;
            }
        golden_step gs = {.T = T, .d = d, .step = (long)s, .epoch = (long)ep[s],
                          .losses = in.losses, .G = Gs, .head_w = head_w, .trunk_w = trunk_w,
                          .trunk_grad_set = out.trunk_grad_set, .grad = grad, .n_learn = nl,
                          .learn = learn0, .learn_grad = su->learn_grad};
        double e = rel_err(grad, ref_grad + s * d, d);
        double ew = 0.0, ep_ = 0.0;
        res->max_err = fmax(res->max_err, e);
        if (!(e <= tol)) {
            res->pass = 0;
            set_reason(res, "grad off at step %zu", s);
        }
        if (has_w) {
            if (ent->weights)
                ent->weights(&gs, mapped);
            else
                memcpy(mapped, trunk_w, (size_t)T * sizeof *mapped);
            ew = rel_err(mapped, ref_w + s * (size_t)T, (size_t)T);
            res->max_err = fmax(res->max_err, ew);
            if (!(ew <= wtol)) {
                res->pass = 0;
                set_reason(res, "weights off at step %zu", s);
            }
        }
        int adam_step = nl > 0 && !(adam_m && any_nan(adam_m + s * da[1], da[1]));
        if (has_pg) {
            const double *rp = ref_pg + s * (size_t)T;
            if (any_nan(rp, (size_t)T)) {
                adam_step = 0; /* LibMTL left no gradient on the scalars at this step */
            } else if (nl == 0 || (!ent->param_grad && nl != T)) {
                res->pass = 0;
                res->max_err = INFINITY;
                set_reason(res, "fixture has loss_scale gradients, mtb's %s has %d learnable "
                           "scalars", ent->method, nl);
                goto done;
            } else {
                if (ent->param_grad)
                    ent->param_grad(&gs, mapped);
                else
                    memcpy(mapped, su->learn_grad, (size_t)T * sizeof *mapped);
                ep_ = rel_err(mapped, rp, (size_t)T);
                res->max_err = fmax(res->max_err, ep_);
                if (!(ep_ <= wtol)) {
                    res->pass = 0;
                    set_reason(res, "loss_scale gradient off at step %zu", s);
                }
            }
        }
        if (verbose)
            printf("  %s/%s step %zu: grad %.3g  weights %.3g  param_grad %.3g\n", fx, cs, s, e,
                   ew, ep_);
        if (adam_step && adam->present) {
            /* torch.optim.Adam (amsgrad off): g += wd p; m, v moments; bias corrections */
            adam_t++;
            double bc1 = 1.0 - pow(adam->b1, (double)adam_t);
            double bc2 = 1.0 - pow(adam->b2, (double)adam_t);
            for (int i = 0; i < nl; i++) {
                double g = su->learn_grad[i] + adam->wd * su->learn[i];
                am[i] = adam->b1 * am[i] + (1.0 - adam->b1) * g;
                av[i] = adam->b2 * av[i] + (1.0 - adam->b2) * g * g;
                double denom = sqrt(av[i]) / sqrt(bc2) + adam->eps;
                su->learn[i] -= (adam->lr / bc1) * am[i] / denom;
            }
        } else if (adam_step && nl > 0 && !adam->present) {
            res->pass = 0;
            set_reason(res, "method %s has learnable scalars but the fixture no param_adam_lr",
                       ent->method);
        }
        if (has_after && mtb_balancer_after_update(b, L_after + s * (size_t)T, &err)) {
            res->pass = 0;
            res->max_err = INFINITY;
            snprintf(res->reason, sizeof res->reason, "after step %zu: %s", s, err.msg);
            goto done;
        }
    }
    goto done;

io_fail_shape:
    if (!err.msg[0])
        mtb_fail(&err, MTB_EIO, "reference weights/param_grad have an unexpected shape");
io_fail:
    res->pass = 0;
    res->max_err = INFINITY;
    snprintf(res->reason, sizeof res->reason, "%s", err.msg[0] ? err.msg : "cannot read the case");
done:
    mtb_balancer_free(b);
    free(L);
    free(G);
    free(ref_grad);
    free(ref_w);
    free(ref_pg);
    free(ep);
    free(buf);
    free(m);
    free(adam_m);
    free(L_after);
    free(Gmean);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_result(const char *fx, const char *cs, const case_result *r, int *np, int *nf)
{
    printf("%s %s/%s max_rel_err=%.3g%s%s\n", r->pass ? "PASS" : "FAIL", fx, cs, r->max_err,
           r->reason[0] ? " " : "", r->reason);
    if (r->pass)
        (*np)++;
    else
        (*nf)++;
}

static void read_adam(mtb_h5 *f, adam_cfg *a)
{
    mtb_error err = {0};
    memset(a, 0, sizeof *a);
    if (!mtb_h5_attr_exists(f, "/", "param_adam_lr"))
        return;
    a->present = !mtb_h5_attr_get_f64(f, "/", "param_adam_lr", &a->lr, &err) &&
                 !mtb_h5_attr_get_f64(f, "/", "param_adam_beta1", &a->b1, &err) &&
                 !mtb_h5_attr_get_f64(f, "/", "param_adam_beta2", &a->b2, &err) &&
                 !mtb_h5_attr_get_f64(f, "/", "param_adam_eps", &a->eps, &err);
    if (a->present && mtb_h5_attr_exists(f, "/", "param_adam_weight_decay") &&
        mtb_h5_attr_get_f64(f, "/", "param_adam_weight_decay", &a->wd, &err))
        a->present = 0;
}

int mtb_cmd_golden(int argc, char **argv)
{
    const char *dir = NULL, *only = NULL;
    int verbose = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--verbose")) {
            verbose = 1;
        } else if (!strcmp(argv[i], "--only")) {
            if (++i >= argc) {
                cli_error(CMD, "--only needs a fixture name");
                return 2;
            }
            only = argv[i];
        } else if (argv[i][0] == '-') {
            cli_error(CMD, "unknown option '%s' (see mtb golden --help)", argv[i]);
            return 2;
        } else if (!dir) {
            dir = argv[i];
        } else {
            cli_error(CMD, "only one directory expected, got '%s' and '%s'", dir, argv[i]);
            return 2;
        }
    }
    if (!dir) {
        usage(stderr);
        return 2;
    }
    DIR *dp = opendir(dir);
    if (!dp) {
        cli_error(CMD, "cannot open directory '%s'", dir);
        return 1;
    }
    size_t nfiles = 0, cap = 0;
    char **files = NULL;
    struct dirent *de;
    while ((de = readdir(dp))) {
        size_t n = strlen(de->d_name);
        if (n < 4 || strcmp(de->d_name + n - 3, ".h5"))
            continue;
        if (nfiles == cap) {
            cap = cap ? 2 * cap : 32;
            char **nf = realloc(files, cap * sizeof *nf);
            if (!nf)
                break;
            files = nf;
        }
        files[nfiles] = strdup(de->d_name);
        if (files[nfiles])
            nfiles++;
    }
    closedir(dp);
    if (nfiles == 0) {
        free(files);
        cli_error(CMD, "no *.h5 fixtures in '%s'", dir);
        return 1;
    }
    qsort(files, nfiles, sizeof *files, cmp_str);

    int npass = 0, nfail = 0, matched = 0;
    for (size_t k = 0; k < nfiles; k++) {
        char path[4096], stem[256], fixture[256] = "";
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        snprintf(stem, sizeof stem, "%.*s", (int)(strlen(files[k]) - 3), files[k]);
        mtb_error err = {0};
        mtb_h5 *f = mtb_h5_open(path, &err);
        if (f && mtb_h5_attr_get_str(f, "/", "method", fixture, sizeof fixture, &err)) {
            mtb_h5_close(f);
            f = NULL;
        }
        if (only && strcmp(only, stem) && strcmp(only, fixture)) {
            if (f)
                mtb_h5_close(f);
            goto next;
        }
        matched++;
        if (!f) {
            case_result r = {.pass = 0, .max_err = INFINITY};
            snprintf(r.reason, sizeof r.reason, "%s", err.msg);
            print_result(stem, "*", &r, &npass, &nfail);
            goto next;
        }
        size_t ncases = 0;
        char **cases = NULL;
        if (mtb_h5_attr_get_strs(f, "/", "cases", &ncases, &cases, &err)) {
            case_result r = {.pass = 0, .max_err = INFINITY};
            snprintf(r.reason, sizeof r.reason, "%s", err.msg);
            print_result(stem, "*", &r, &npass, &nfail);
            mtb_h5_close(f);
            goto next;
        }
        const golden_entry *ent = find_entry(fixture);
        adam_cfg adam;
        read_adam(f, &adam);
        if (verbose && ent && ent->note)
            printf("# %s -> %s %s: %s\n", fixture, ent->method, ent->options ? ent->options : "",
                   ent->note);
        for (size_t c = 0; c < ncases; c++) {
            case_result r;
            if (!ent || !mtb_balancer_find(ent->method)) {
                memset(&r, 0, sizeof r);
                r.max_err = INFINITY;
                snprintf(r.reason, sizeof r.reason, "method not implemented");
            } else {
                run_case(f, stem, cases[c], ent, &adam, verbose, &r);
            }
            print_result(stem, cases[c], &r, &npass, &nfail);
        }
        mtb_h5_free_strs(cases, ncases);
        mtb_h5_close(f);
    next:
        free(files[k]);
    }
    free(files);
    if (only && !matched) {
        cli_error(CMD, "no fixture named '%s' in '%s'", only, dir);
        return 1;
    }
    printf("%d passed, %d failed\n", npass, nfail);
    return nfail == 0 ? 0 : 1;
}
