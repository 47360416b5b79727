/* audit.c: I10 step 1, the single-step loss-scale audit of EVERY registered method (the
 * registry mtb_balancer_types[], each with its defaults, plus the variants the spec names):
 * the same states and batches are given to a fresh balancer twice, once as they are and
 * once with task 1's loss multiplied by k = 10 (its loss and its gradient row), and the
 * updates are compared.
 *   shared update  d = trunk_grad, or sum_t w_t g_t: cos(d_1, d_k) and |d_k| / |d_1|;
 *   heads          task t's head gradient is head_w[t] k_t grad l_t: the ratio per task.
 * A state is a short sequence of W + 1 steps (GE(3, 48) gradients, losses log-uniform on
 * [0.1, 10]), so that methods with a history (EMAs, first-step references) are audited on
 * their W-th step; the losses after each update (FAMO) are the next step's losses; methods
 * with several samples per step get independent draws. Learnable scales stay at their
 * initial values (no optimiser runs here); for the Q class the audit also reruns the k-run
 * with task 1's learnable shifted by hand, s_1 + delta for delta in {-log k, +log k,
 * -log(k)/2, +log(k)/2} (the shift that undoes k for e^{s}, e^{-s}, e^{2s} forms), and
 * reports the shift that makes the updates coincide.
 * Classes observed (spec imtl.md I10): E0 every state identical (cos >= 1 - 1e-10, norm and
 * head ratios 1 within E0_TOL = 1e-6); E the shared direction identical up to sign (|cos| >= 1 -
 * 1e-10), lengths or heads change; Q not E as it is, E0/E after the shift; N cos < 1 - 1e-6
 * on >= 95 % of the states; "mixed" otherwise. Writes imtl_scale_audit_step.tsv and
 * summary_audit.tsv. */
#include "imtl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/synth.h"
#include "oracle.h"

enum { T = 3, B = 3, F = 16, D = B * F, W = 3, KMAX = MTB_MAX_SAMPLES };
static const double K_SCALE = 10.0;
/* E0 is "identical up to epsilon": the log-transform methods compute log(l + eps) with
 * eps = 1e-8 (db_mtl, log-ew, igb), which changes their updates by about eps/l <= 1e-7 at
 * the audit's losses (>= 0.1); norm and head ratios within 1e-6 of 1 are identical. */
static const double E0_TOL = 1e-6;

/* the spec's variants beyond the registry's defaults */
static const method_ref EXTRA[] = {
    {"uw-kendall", "uw", "form=kendall,init=0,ce_mask=1,l1_mask=6"},
    {"imtl-g feat-sum", "imtl_g", "level=rep_sum"},
    {"imtl-g exact", "imtl_g", "level=param"},
    {"mgda-ub", "mgda", "solver=closed_form,level=rep"},
    {"mgda closed form", "mgda", "solver=closed_form"},
    {"gradnorm α=0", "gradnorm", "alpha=0"},
    {"gradnorm α=1.5", "gradnorm", "alpha=1.5"},
    {"log-ew", "db_mtl", "gradnorm=false"},
    {"gls-naive", "gls", "product=float32"},
    {"imtl level=param", "imtl", "level=param"},
};

/* predicted classes (spec imtl.md I10); methods the spec does not name: "–" */
static const struct { const char *label, *cls; } PREDICTED[] = {
    {"db_mtl", "E0"},        {"log-ew", "E0"},         {"nash_mtl", "E0|E"},
    {"imtl_g", "E"},         {"imtl-g feat-sum", "E"}, {"imtl-g exact", "E"},
    {"imtl", "E"},           {"imtl level=param", "E"}, {"gls", "E"},
    {"gls-naive", "E"},      {"slaw", "E"},            {"uw", "Q"},
    {"uw-kendall", "Q"},     {"imtl_l", "Q"},          {"gradnorm", "Q"},
    {"gradnorm α=0", "Q"},   {"gradnorm α=1.5", "Q"},  {"ew", "N"},
    {"rlw", "N"},            {"rgw", "N"},             {"dwa", "N"},
    {"mgda", "N"},           {"mgda-ub", "N"},         {"mgda closed form", "N"},
    {"pcgrad", "N"},         {"graddrop", "N"},        {"gradvac", "N"},
    {"cagrad", "N"},         {"aligned_mtl", "N"},
};

const char *audit_predicted(const char *label)
{
    for (size_t i = 0; i < sizeof PREDICTED / sizeof PREDICTED[0]; i++)
        if (!strcmp(PREDICTED[i].label, label))
            return PREDICTED[i].cls;
    return "–";
}

/* one state's draws: W + 1 steps (+ one for the losses after the last update), K samples */
typedef struct state {
    double L[W + 2][KMAX][T];
    double G[W + 1][KMAX][T * D];
} state;

static void draw_state(mtb_rng *rng, state *s, int K)
{
    double work[D];
    mtb_error err = {0};
    for (int st = 0; st <= W + 1; st++)
        for (int k = 0; k < K; k++) {
            for (int t = 0; t < T; t++)
                s->L[st][k][t] = pow(10.0, -1.0 + 2.0 * mtb_rng_uniform(rng));
            if (st <= W && mtb_synth_ge(rng, T, D, 0.7, s->G[st][k], work, &err))
                die("%s", err.msg);
        }
}

/* the audited step's shared update d (D) and head factors h (T) with task 0 scaled by kf
 * and its learnable shifted by shift; returns 0, or -1 if a step failed (err) */
static int run(const method_ref *m, const state *s, int K, double kf, double shift, double *d,
               double *h, mtb_error *err)
{
    const mtb_balancer_type *ty = mtb_balancer_find(m->name);
    mtb_hparams hp;
    if (mtb_hparams_parse(ty, m->opts, &hp, err))
        die("%s:%s: %s", m->name, m->opts, err->msg);
    mtb_balancer *b = mtb_balancer_new(ty, T, D, &hp, 42, err);
    if (!b)
        return -1;
    const mtb_balancer_setup *su = mtb_balancer_get_setup(b);
    if (shift != 0.0 && su->n_learn == T)
        su->learn[0] += shift;
    int needg = su->need != MTB_NEED_LOSSES;
    static double Ls[KMAX][T], Gs[KMAX][T * D], la[T], Z[D];
    for (int j = 0; j < D; j++) /* a fixed representation z (GradDrop reads its signs) */
        Z[j] = sin(1.0 + 7.0 * j);
    double hw[T], tw[T], tg[D];
    int rc = 0;
    for (int st = 0; st <= W && !rc; st++) {
        const double *lp[KMAX], *gp[KMAX];
        for (int k = 0; k < K; k++) {
            memcpy(Ls[k], s->L[st][k], sizeof Ls[k]);
            memcpy(Gs[k], s->G[st][k], sizeof Gs[k]);
            Ls[k][0] *= kf;
            for (int j = 0; j < D; j++)
                Gs[k][j] *= kf;
            lp[k] = Ls[k];
            gp[k] = Gs[k];
        }
        mtb_balance_in in = {.step = st, .T = T, .losses = Ls[0], .G = needg ? Gs[0] : NULL,
                             .D = needg ? D : 0,
                             .samples = {.n = K, .losses = K > 1 ? lp : NULL,
                                         .G = K > 1 && needg ? gp : NULL},
                             .rep = {.Z = su->need == MTB_NEED_REP_GRADS ? Z : NULL,
                                     .dim = needg ? F : 0}};
        mtb_balance_out out = {.head_w = hw, .trunk_w = tw, .trunk_grad = needg ? tg : NULL};
        if (mtb_balancer_step(b, &in, &out, err)) {
            rc = -1;
            break;
        }
        if (su->after_update) {
            memcpy(la, s->L[st + 1][0], sizeof la);
            la[0] *= kf;
            if (mtb_balancer_after_update(b, la, err))
                rc = -1;
        }
        if (st == W) {
            for (int j = 0; j < D; j++) {
                if (out.trunk_grad_set) {
                    d[j] = tg[j];
                } else {
                    d[j] = 0.0;
                    for (int t = 0; t < T; t++)
                        d[j] += tw[t] * Gs[0][t * D + j];
                }
            }
            for (int t = 0; t < T; t++)
                h[t] = hw[t] * (t == 0 ? kf : 1.0);
        }
    }
    mtb_balancer_free(b);
    return rc;
}

static int n_exact_pred, n_exact_agree;

typedef struct tally {
    int n, e0, e, nn, flips, failed;
    double cmin, cmed_acc, rmin, rmax, hmax;
} tally;

static void compare(const double *d1, const double *dk, const double *h1, const double *hk,
                    tally *ta)
{
    double n1 = sqrt(imtl_dot(d1, d1, D)), nk = sqrt(imtl_dot(dk, dk, D));
    double c = (n1 > 0 && nk > 0) ? imtl_dot(d1, dk, D) / (n1 * nk) : (n1 == nk ? 1.0 : 0.0);
    double ratio = n1 > 0 ? nk / n1 : 1.0, hdev = 0.0;
    for (int t = 0; t < T; t++)
        hdev = fmax(hdev, h1[t] != 0 ? fabs(hk[t] / h1[t] - 1.0) : fabs(hk[t]));
    ta->n++;
    ta->cmin = fmin(ta->cmin, c);
    ta->rmin = fmin(ta->rmin, ratio);
    ta->rmax = fmax(ta->rmax, ratio);
    ta->hmax = fmax(ta->hmax, hdev);
    if (c >= 1 - 1e-10 && fabs(ratio - 1) <= E0_TOL && hdev <= E0_TOL)
        ta->e0++;
    else if (fabs(c) >= 1 - 1e-10)
        ta->e++, ta->flips += c < 0;
    if (c < 1 - 1e-6)
        ta->nn++;
}

static const char *classify(const tally *ta)
{
    if (ta->failed)
        return "fails";
    if (ta->e0 == ta->n)
        return "E0";
    if (ta->e0 + ta->e == ta->n)
        return "E";
    if (ta->nn >= 0.95 * ta->n)
        return "N";
    return "mixed";
}

static int agrees(const char *pred, const char *obs)
{
    if (!strcmp(pred, "–"))
        return -1;
    char buf[16];
    snprintf(buf, sizeof buf, "%s", pred);
    for (char *tok = strtok(buf, "|"); tok; tok = strtok(NULL, "|"))
        if (!strcmp(tok, obs))
            return 1;
    return 0;
}

static void audit_one(FILE *f, const method_ref *m, const iscale *r, int *n_pred, int *n_agree,
                      repro_summary *sm)
{
    const mtb_balancer_type *ty = mtb_balancer_find(m->name);
    mtb_hparams hp;
    mtb_balancer_setup su;
    mtb_error err = {0};
    if (mtb_hparams_parse(ty, m->opts, &hp, &err) || mtb_balancer_query(ty, T, &hp, &su, &err))
        die("%s: %s", m->label, err.msg);
    int K = su.n_samples > 1 ? su.n_samples : 1;
    state *s = malloc(sizeof *s);
    if (!s)
        die("out of memory");
    static const double shifts[4] = {-1.0, 1.0, -0.5, 0.5};
    tally ta = {0, 0, 0, 0, 0, 0, 1, 0, INFINITY, 0, 0};
    tally tq[4];
    for (int q = 0; q < 4; q++)
        tq[q] = ta;
    mtb_rng rng;
    mtb_rng_seed(&rng, 0, 1000);
    double d1[D], dk[D], h1[T], hk[T];
    for (int n = 0; n < r->i10_states; n++) {
        draw_state(&rng, s, K);
        if (run(m, s, K, 1.0, 0.0, d1, h1, &err) || run(m, s, K, K_SCALE, 0.0, dk, hk, &err)) {
            ta.failed++;
            continue;
        }
        compare(d1, dk, h1, hk, &ta);
        for (int q = 0; q < 4 && su.n_learn == T; q++)
            if (!run(m, s, K, K_SCALE, shifts[q] * log(K_SCALE), dk, hk, &err))
                compare(d1, dk, h1, hk, &tq[q]);
    }
    const char *obs = classify(&ta);
    char shift[32] = "";
    if (strcmp(obs, "E0") && strcmp(obs, "E") && su.n_learn == T)
        for (int q = 0; q < 4; q++) {
            const char *c = classify(&tq[q]);
            if (tq[q].n == r->i10_states && (!strcmp(c, "E0") || !strcmp(c, "E"))) {
                obs = "Q";
                snprintf(shift, sizeof shift, "s_1 %s %slog k (-> %s)", shifts[q] < 0 ? "−" : "+",
                         fabs(shifts[q]) < 1 ? "½ " : "", c);
                break;
            }
        }
    const char *pred = audit_predicted(m->label);
    int a = agrees(pred, obs);
    if (!strcmp(pred, "Q") && su.n_learn != T && strcmp(obs, "E0") && strcmp(obs, "E")) {
        /* the adaptive scale is private (GradNorm's weights in the paper's procedure): the
         * shifted state cannot be built from outside, so Q is not testable here */
        snprintf(shift, sizeof shift, "scale private: Q not testable");
        a = -2;
    }
    if (a >= 0) {
        (*n_pred)++;
        *n_agree += a;
        /* the exact classes (E0, E, Q) are identities that hold at any scale */
        if (strcmp(pred, "N")) {
            n_exact_pred++;
            n_exact_agree += a;
        }
    }
    char opts[96];
    snprintf(opts, sizeof opts, "%s", m->opts && *m->opts ? m->opts : "(defaults)");
    fprintf(f, "%s\t%s\t%s\t%s\t%s\t%.10f\t%.4g – %.4g\t%.3g\t%d\t%s\n", m->label, opts, pred, obs,
            a == -2 ? "not testable" : a < 0 ? "–" : a ? "yes" : "NO", ta.n ? ta.cmin : NAN, ta.rmin, ta.rmax, ta.hmax,
            ta.flips, shift[0] ? shift : ta.failed ? err.msg : "");
    repro_summary_putf(sm, a, a, a, "agree_%s", m->label);
    repro_summary_putf(sm, ta.cmin, ta.cmin, ta.cmin, "mincos_%s", m->label);
    free(s);
}

int cmd_audit(const char *out, const iscale *r)
{
    char path[1024];
    repro_summary sm;
    sum_open(&sm, out, "audit");
    FILE *f = out_open(out, "imtl_scale_audit_step.tsv", path, sizeof path);
    fprintf(f, "method\toptions\tpredicted\tobserved\tagrees\tmin cos(d_1, d_10)\t"
               "|d_10|/|d_1|\tmax |head ratio - 1|\tsign flips\tnote\n");
    int n_pred = 0, n_agree = 0, n_methods = 0;
    for (int i = 0; mtb_balancer_types[i]; i++) {
        const mtb_balancer_type *ty = mtb_balancer_types[i];
        method_ref m = {ty->name, ty->name, ""};
        audit_one(f, &m, r, &n_pred, &n_agree, &sm);
        n_methods++;
    }
    for (size_t i = 0; i < sizeof EXTRA / sizeof EXTRA[0]; i++)
        audit_one(f, &EXTRA[i], r, &n_pred, &n_agree, &sm);
    out_close(f, path);
    repro_summary_put(&sm, "methods", n_methods, n_methods, n_methods);
    repro_summary_put(&sm, "predicted", n_pred, n_pred, n_pred);
    repro_summary_put(&sm, "agree", n_agree, n_agree, n_agree);
    repro_summary_put(&sm, "exact_predicted", n_exact_pred, n_exact_pred, n_exact_pred);
    repro_summary_put(&sm, "exact_agree", n_exact_agree, n_exact_agree, n_exact_agree);
    sum_close(&sm);
    printf("[I10] %d registered methods + %zu variants; %d/%d predicted classes observed\n",
           n_methods, sizeof EXTRA / sizeof EXTRA[0], n_agree, n_pred);
    return 0;
}
