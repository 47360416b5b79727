/* test_balancer_mtadam.c: MTAdam (Malkiel & Wolf, EMNLP 2021, Algorithm 1) on parameter
 * blocks: the balanced gradient and the fused update (output=step) against a direct
 * re-implementation in the official code's loop order (tasks in order, the anchor searched
 * while the magnitudes are being updated), invariance of the result to rescaling one task's
 * gradient in one layer, T = 1 (the anchor's own gradient / plain Adam), the anchor moving
 * on when task 0 has no gradient in a layer, degenerate inputs and determinism. */
#include "grad_method_util.h"

static mtb_status ma_step(mtb_balancer *b, int T, size_t D, const double *G, int nb,
                          const size_t *off, double *hw, double *tw, double *tg, mtb_error *err)
{
    double *l = malloc((size_t)T * sizeof *l);
    cr_assert(l != NULL);
    for (int t = 0; t < T; t++)
        l[t] = 1.0;
    mtb_balance_in in = {.T = T, .losses = l, .G = G, .D = D, .blocks = {.n = nb, .off = off}};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw, .trunk_grad = tg};
    mtb_status st = mtb_balancer_step(b, &in, &out, err);
    if (st == MTB_OK)
        cr_assert_eq(out.trunk_grad_set, 1, "mtadam must return an explicit trunk gradient");
    free(l);
    return st;
}

static double rel_diff(const double *a, const double *b, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        num = fmax(num, fabs(a[i] - b[i]));
        den = fmax(den, fabs(b[i]));
    }
    return num / (den > 0.0 ? den : 1.0);
}

/* The official optimiser, written out: per block ("parameter tensor") and task in order. */
#define RT 4
#define RD 16
#define RB 4
typedef struct ref {
    long k;
    double n[RB][RT], m[RT][RD], v[RT][RD];
} ref;

static void ref_step(ref *r, const double *G, int T, size_t D, int nb, const size_t *off,
                     double *gsum, double *upd)
{
    const double b1 = 0.9, b2 = 0.999, b3 = 0.9, eps = 1e-8, tiny = 1e-10;
    r->k++;
    if (r->k == 1)
        for (int b = 0; b < nb; b++)
            for (int t = 0; t < T; t++)
                r->n[b][t] = 1.0; /* the official state initialisation */
    for (size_t j = 0; j < D; j++)
        gsum[j] = 0.0;
    for (int t = 0; t < T; t++)
        for (int b = 0; b < nb; b++) {
            double g2 = 0.0;
            for (size_t j = off[b]; j < off[b + 1]; j++)
                g2 += G[(size_t)t * D + j] * G[(size_t)t * D + j];
            double *n = &r->n[b][t];
            *n = r->k == 1 ? sqrt(g2) : b3 * *n + (1.0 - b3) * sqrt(g2);
            double c = 1.0;
            if (*n > tiny)
                for (int a = 0; a < T; a++)
                    if (r->n[b][a] > tiny) {
                        c = r->n[b][a] / *n;
                        break;
                    }
            for (size_t j = off[b]; j < off[b + 1]; j++) {
                double gh = c * G[(size_t)t * D + j];
                gsum[j] += gh;
                r->m[t][j] = b1 * r->m[t][j] + (1.0 - b1) * gh;
                r->v[t][j] = b2 * r->v[t][j] + (1.0 - b2) * gh * gh;
            }
        }
    double bc1 = 1.0 - pow(b1, (double)r->k), bc2 = 1.0 - pow(b2, (double)r->k);
    for (size_t j = 0; j < D; j++) {
        double mx = 0.0, s = 0.0;
        for (int t = 0; t < T; t++) {
            mx = fmax(mx, sqrt(r->v[t][j]) / sqrt(bc2) + eps);
            s += r->m[t][j] / bc1;
        }
        upd[j] = s / mx;
    }
}

/* Both outputs against the reference over six steps, T = 3, three blocks; at steps 2 and 5
 * task 0 has no gradient in block 1, so that block's anchor is task 1 there (at step 2 task
 * 0's magnitude is still above `tiny` from step 1: it stays the anchor). */
Test(mtadam, matches_official_algorithm)
{
    enum { T = 3, D = 11 };
    const size_t off[] = {0, 4, 5, 11};
    double G[T * D], hw[T], tw[T], tg[D], ts[D], gsum[D], upd[D];
    ref r = {0};
    mtb_balancer *bg = gm_new("mtadam", "", T, D), *bs = gm_new("mtadam", "output=step", T, D);
    mtb_error err = {0};
    for (int s = 0; s < 6; s++) {
        gm_randn(G, T * D, 100 + s);
        for (int t = 0; t < T; t++)
            for (int c = 0; c < D; c++)
                G[t * D + c] *= pow(30.0, t) * (c < 4 ? 1.0 : 1e-3);
        if (s == 2 || s == 5)
            G[4] = 0.0;
        if (s == 5)
            for (int c = 0; c < D; c++)
                G[c] = 0.0; /* task 0 silent everywhere */
        cr_assert_eq(ma_step(bg, T, D, G, 3, off, hw, tw, tg, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(ma_step(bs, T, D, G, 3, off, hw, tw, ts, &err), MTB_OK, "%s", err.msg);
        ref_step(&r, G, T, D, 3, off, gsum, upd);
        cr_assert_lt(rel_diff(tg, gsum, D), 1e-13, "step %d: balanced gradient", s);
        cr_assert_lt(rel_diff(ts, upd, D), 1e-13, "step %d: update", s);
        for (int t = 0; t < T; t++)
            cr_assert_eq(hw[t], 1.0);
    }
    mtb_balancer_free(bg);
    mtb_balancer_free(bs);
}

/* Step 1 (magnitudes = this step's norms): in every block each task's balanced gradient
 * has the anchor's norm, so sum - g_0 has norm ||g_1,b|| scaled to ||g_0,b|| for T = 2. */
Test(mtadam, per_block_normalised_to_anchor)
{
    enum { T = 2, D = 8 };
    const size_t off[] = {0, 4, 8};
    double G[T * D], hw[T], tw[T], tg[D];
    gm_randn(G, T * D, 200);
    for (int c = 0; c < D; c++)
        G[D + c] *= c < 4 ? 1e4 : 1e-3;
    mtb_balancer *b = gm_new("mtadam", "", T, D);
    mtb_error err = {0};
    cr_assert_eq(ma_step(b, T, D, G, 2, off, hw, tw, tg, &err), MTB_OK, "%s", err.msg);
    for (int k = 0; k < 2; k++) {
        double na = 0.0, n0 = 0.0;
        for (size_t j = off[k]; j < off[k + 1]; j++) {
            na += (tg[j] - G[j]) * (tg[j] - G[j]);
            n0 += G[j] * G[j];
        }
        cr_assert_float_eq(sqrt(na), sqrt(n0), 1e-12 * sqrt(n0), "block %d", k);
    }
    mtb_balancer_free(b);
}

/* Rescaling one auxiliary task's gradient in ONE layer by a positive constant (a loss whose
 * scale differs per layer) leaves both outputs unchanged at every step; rescaling the
 * anchor task scales the balanced gradient (direction unchanged) and leaves the fused
 * update unchanged up to eps. */
Test(mtadam, invariant_to_per_layer_rescaling)
{
    enum { T = 3, D = 10 };
    const size_t off[] = {0, 6, 10};
    double G[T * D], H[T * D], A[T * D], hw[T], tw[T];
    double g1[D], g2[D], g3[D], s1[D], s2[D], s3[D];
    mtb_balancer *b[6];
    for (int i = 0; i < 6; i++)
        b[i] = gm_new("mtadam", i < 3 ? "" : "output=step", T, D);
    mtb_error err = {0};
    for (int s = 0; s < 5; s++) {
        gm_randn(G, T * D, 300 + s);
        memcpy(H, G, sizeof G);
        memcpy(A, G, sizeof G);
        for (int c = 0; c < 6; c++)
            H[D + c] *= 1e5;          /* task 1, layer 0 */
        for (int c = 6; c < D; c++)
            H[2 * D + c] *= 3e-4;     /* task 2, layer 1 */
        for (int c = 0; c < D; c++)
            A[c] *= 250.0;            /* the anchor, everywhere */
        cr_assert_eq(ma_step(b[0], T, D, G, 2, off, hw, tw, g1, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(ma_step(b[1], T, D, H, 2, off, hw, tw, g2, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(ma_step(b[2], T, D, A, 2, off, hw, tw, g3, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(ma_step(b[3], T, D, G, 2, off, hw, tw, s1, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(ma_step(b[4], T, D, H, 2, off, hw, tw, s2, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(ma_step(b[5], T, D, A, 2, off, hw, tw, s3, &err), MTB_OK, "%s", err.msg);
        cr_assert_lt(rel_diff(g2, g1, D), 1e-12, "step %d: balanced gradient moved", s);
        cr_assert_lt(rel_diff(s2, s1, D), 1e-12, "step %d: update moved", s);
        for (int c = 0; c < D; c++)
            g1[c] *= 250.0;
        cr_assert_lt(rel_diff(g3, g1, D), 1e-12, "step %d: anchor scaling", s);
        cr_assert_lt(rel_diff(s3, s1, D), 1e-6, "step %d: update under anchor scaling", s);
    }
    /* The same rescaling applied to the whole vector (per_block=false) is NOT invariant:
     * the layer structure matters. */
    mtb_balancer *w1 = gm_new("mtadam", "per_block=false", T, D),
                 *w2 = gm_new("mtadam", "per_block=false", T, D);
    cr_assert_eq(ma_step(w1, T, D, G, 2, off, hw, tw, g1, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(ma_step(w2, T, D, H, 2, off, hw, tw, g2, &err), MTB_OK, "%s", err.msg);
    cr_assert_gt(rel_diff(g2, g1, D), 1e-3);
    mtb_balancer_free(w1);
    mtb_balancer_free(w2);
    for (int i = 0; i < 6; i++)
        mtb_balancer_free(b[i]);
}

/* T = 1: the balanced gradient is the anchor's own gradient; the fused update is Adam's
 * m^ / (sqrt(v^) + eps). */
Test(mtadam, single_task_reduces_to_anchor_and_adam)
{
    enum { D = 7 };
    const size_t off[] = {0, 3, 7};
    double G[D], hw[1], tw[1], tg[D], ts[D], m[D] = {0}, v[D] = {0};
    mtb_balancer *bg = gm_new("mtadam", "", 1, D), *bs = gm_new("mtadam", "output=step", 1, D);
    mtb_error err = {0};
    for (int k = 1; k <= 4; k++) {
        gm_randn(G, D, 400 + k);
        cr_assert_eq(ma_step(bg, 1, D, G, 2, off, hw, tw, tg, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(ma_step(bs, 1, D, G, 2, off, hw, tw, ts, &err), MTB_OK, "%s", err.msg);
        for (int c = 0; c < D; c++) {
            cr_assert_eq(tg[c], G[c]);
            m[c] = 0.9 * m[c] + 0.1 * G[c];
            v[c] = 0.999 * v[c] + 0.001 * G[c] * G[c];
            double want = m[c] / (1 - pow(0.9, k)) / (sqrt(v[c] / (1 - pow(0.999, k))) + 1e-8);
            cr_assert_float_eq(ts[c], want, 1e-13 * fabs(want) + 1e-15);
        }
        cr_assert_float_eq(tw[0], 1.0, 1e-15);
    }
    mtb_balancer_free(bg);
    mtb_balancer_free(bs);
}

/* output=step keeps moments of the creation's D columns: a narrower G is a clear error. */
Test(mtadam, step_output_needs_full_width)
{
    double G[2 * 6], hw[2], tw[2], tg[6];
    gm_randn(G, 12, 500);
    mtb_balancer *b = gm_new("mtadam", "output=step", 2, 8);
    mtb_error err = {0};
    cr_assert_eq(ma_step(b, 2, 6, G, 0, NULL, hw, tw, tg, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "mtadam") && strstr(err.msg, "8") && strstr(err.msg, "6"), "%s",
              err.msg);
    mtb_balancer_free(b);
}

/* Degenerate inputs, both outputs: identical, opposite, all-zero gradients, a 1e8 ratio
 * between tasks, T = 1, T = 1024, T > D. Finite, no error; all-zero gives a zero result. */
Test(mtadam, degenerate_inputs_finite)
{
    const struct { int T; size_t D; int kind; } cases[] = {
        {3, 8, 0}, {3, 8, 1}, {3, 8, 2}, {3, 8, 3}, {3, 8, 4},
        {1, 8, 0}, {1024, 6, 0}, {40, 5, 0},
    };
    for (int o = 0; o < 2; o++)
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            const int T = cases[k].T;
            const size_t D = cases[k].D;
            double *G = malloc((size_t)T * D * sizeof *G), *hw = malloc((size_t)T * sizeof *hw),
                   *tw = malloc((size_t)T * sizeof *tw), *tg = malloc(D * sizeof *tg);
            cr_assert(G && hw && tw && tg);
            gm_randn(G, (size_t)T * D, 600 + k);
            for (int t = 1; t < T; t++)
                for (size_t c = 0; c < D; c++) {
                    double *g = G + (size_t)t * D + c;
                    switch (cases[k].kind) {
                    case 1: *g = G[c]; break;
                    case 2: *g = (t % 2 ? -1.0 : 1.0) * G[c]; break;
                    case 3: *g = 0.0; G[c] = 0.0; break;
                    case 4: *g *= t == 1 ? 1e8 : 1e-8; break;
                    }
                }
            const size_t off[] = {0, D / 2, D};
            mtb_balancer *b = gm_new("mtadam", o ? "output=step" : "", T, D);
            mtb_error err = {0};
            for (int s = 0; s < 3; s++) {
                cr_assert_eq(ma_step(b, T, D, G, 2, off, hw, tw, tg, &err), MTB_OK,
                             "output %d case %zu: %s", o, k, err.msg);
            }
            if (cases[k].kind == 3)
                for (size_t c = 0; c < D; c++)
                    cr_assert_eq(tg[c], 0.0);
            mtb_balancer_free(b);
            free(G), free(hw), free(tw), free(tg);
        }
}

Test(mtadam, deterministic)
{
    enum { T = 5, D = 30 };
    const size_t off[] = {0, 10, 12, 30};
    double G[T * D], hw[T], tw[T], a[D], c[D];
    for (int o = 0; o < 2; o++) {
        const char *opt = o ? "output=step" : "";
        mtb_balancer *b1 = gm_new("mtadam", opt, T, D), *b2 = gm_new("mtadam", opt, T, D);
        mtb_error err = {0};
        for (int s = 0; s < 4; s++) {
            gm_randn(G, T * D, 700 + s);
            cr_assert_eq(ma_step(b1, T, D, G, 3, off, hw, tw, a, &err), MTB_OK, "%s", err.msg);
            cr_assert_eq(ma_step(b2, T, D, G, 3, off, hw, tw, c, &err), MTB_OK, "%s", err.msg);
            cr_assert(!memcmp(a, c, sizeof a), "step %d differs", s);
        }
        mtb_balancer_free(b1);
        mtb_balancer_free(b2);
    }
}
