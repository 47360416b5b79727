/* test_balancer_metabalance.c: MetaBalance (He et al., WWW 2022, Algorithm 1) on parameter
 * blocks: r = 0 is the plain sum, r = 1 gives each auxiliary block the target's
 * moving-average magnitude ratio, the general formula against a direct re-computation over
 * several steps, per-block vs whole-vector behaviour with blocks of very different scales,
 * the block checks of the driver, degenerate inputs and determinism. */
#include "grad_method_util.h"

/* One step with blocks (nb = 0: none); trunk_grad into tg. */
static mtb_status mb_step(mtb_balancer *b, int T, size_t D, const double *G, int nb,
                          const size_t *off, double *hw, double *tw, double *tg, mtb_error *err)
{
    double *l = malloc((size_t)T * sizeof *l);
    cr_assert(l != NULL);
    for (int t = 0; t < T; t++)
        l[t] = 1.0 + t;
    mtb_balance_in in = {.T = T, .losses = l, .G = G, .D = D, .blocks = {.n = nb, .off = off}};
    mtb_balance_out out = {.head_w = hw, .trunk_w = tw, .trunk_grad = tg};
    mtb_status st = mtb_balancer_step(b, &in, &out, err);
    if (st == MTB_OK)
        cr_assert_eq(out.trunk_grad_set, 1, "metabalance must return an explicit trunk gradient");
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

/* r = 0: every auxiliary gradient is kept as it is, the trunk gets the plain sum. */
Test(metabalance, relax_zero_is_plain_sum)
{
    enum { T = 3, D = 10 };
    const size_t off[] = {0, 4, 10};
    double G[T * D], hw[T], tw[T], tg[D], sum[D];
    mtb_balancer *b = gm_new("metabalance", "relax=0", T, D);
    mtb_error err = {0};
    for (int s = 0; s < 3; s++) {
        gm_randn(G, T * D, 100 + s);
        for (int c = 0; c < D; c++)
            G[D + c] *= 1e3; /* task 1 much larger: still unchanged */
        cr_assert_eq(mb_step(b, T, D, G, 2, off, hw, tw, tg, &err), MTB_OK, "%s", err.msg);
        for (int c = 0; c < D; c++)
            sum[c] = G[c] + G[D + c] + G[2 * D + c];
        cr_assert_lt(rel_diff(tg, sum, D), 1e-15);
        for (int t = 0; t < T; t++) {
            cr_assert_eq(hw[t], 1.0);
            cr_assert_float_eq(tw[t], 1.0, 1e-15);
        }
    }
    mtb_balancer_free(b);
}

/* Reference: the update of Algorithm 1 on one block, n the moving averages (T). */
static void ref_block(const double *G, int T, size_t D, size_t o, size_t len, double *n,
                      double beta, double r, int main_task, double *out)
{
    double c[64];
    for (int t = 0; t < T; t++) {
        double g = 0.0;
        for (size_t j = 0; j < len; j++)
            g += G[(size_t)t * D + o + j] * G[(size_t)t * D + o + j];
        n[t] = beta * n[t] + (1.0 - beta) * sqrt(g);
    }
    for (int t = 0; t < T; t++)
        c[t] = t == main_task || n[t] == 0.0 ? 1.0 : r * n[main_task] / n[t] + 1.0 - r;
    for (size_t j = 0; j < len; j++) {
        out[o + j] = 0.0;
        for (int t = 0; t < T; t++)
            out[o + j] += c[t] * G[(size_t)t * D + o + j];
    }
}

/* r = 1, T = 2: in every block the adapted auxiliary gradient has norm
 * (n_main / n_aux) ||g_aux||, with the moving averages of the norms; at step 1 that is the
 * main task's own norm (both averages start at zero). Over four steps of changing scales. */
Test(metabalance, relax_one_matches_moving_average_ratio)
{
    enum { T = 2, D = 9 };
    const size_t off[] = {0, 3, 9};
    double G[T * D], hw[T], tw[T], tg[D], n[2][T] = {{0}};
    mtb_balancer *b = gm_new("metabalance", "relax=1", T, D);
    mtb_error err = {0};
    for (int s = 0; s < 4; s++) {
        gm_randn(G, T * D, 200 + s);
        for (int c = 0; c < D; c++)
            G[D + c] *= (c < 3 ? 50.0 : 0.02) * (1 + s);
        cr_assert_eq(mb_step(b, T, D, G, 2, off, hw, tw, tg, &err), MTB_OK, "%s", err.msg);
        for (int k = 0; k < 2; k++) {
            double na = 0.0, ga = 0.0, gm = 0.0;
            for (size_t j = off[k]; j < off[k + 1]; j++) {
                double aux = tg[j] - G[j]; /* adapted auxiliary = trunk - main */
                na += aux * aux;
                ga += G[D + j] * G[D + j];
                gm += G[j] * G[j];
            }
            n[k][0] = 0.9 * n[k][0] + 0.1 * sqrt(gm);
            n[k][1] = 0.9 * n[k][1] + 0.1 * sqrt(ga);
            double want = n[k][0] / n[k][1] * sqrt(ga);
            cr_assert_float_eq(sqrt(na), want, 1e-12 * want, "step %d block %d: %.17g vs %.17g",
                               s, k, sqrt(na), want);
            if (s == 0)
                cr_assert_float_eq(sqrt(na), sqrt(gm), 1e-12 * sqrt(gm));
        }
    }
    mtb_balancer_free(b);
}

/* The default r = 0.7, beta = 0.9 with a non-default target (main_task = 1) and three
 * blocks, against Algorithm 1 computed directly, over five steps. */
Test(metabalance, defaults_match_algorithm)
{
    enum { T = 4, D = 12 };
    const size_t off[] = {0, 5, 6, 12};
    double G[T * D], hw[T], tw[T], tg[D], want[D], n[3][T] = {{0}};
    mtb_balancer *b = gm_new("metabalance", "main_task=1", T, D);
    mtb_error err = {0};
    for (int s = 0; s < 5; s++) {
        gm_randn(G, T * D, 300 + s);
        for (int t = 0; t < T; t++)
            for (int c = 0; c < D; c++)
                G[t * D + c] *= pow(10.0, t - 1) * (1.0 + 0.3 * s);
        cr_assert_eq(mb_step(b, T, D, G, 3, off, hw, tw, tg, &err), MTB_OK, "%s", err.msg);
        for (int k = 0; k < 3; k++)
            ref_block(G, T, D, off[k], off[k + 1] - off[k], n[k], 0.9, 0.7, 1, want);
        cr_assert_lt(rel_diff(tg, want, D), 1e-14, "step %d", s);
    }
    mtb_balancer_free(b);
}

/* Two blocks of very different scales: block 0 where the auxiliary gradient is 1e4 times
 * the main one, block 1 where it is 1e-3 times. Per block (r = 1, step 1) each auxiliary
 * block gets the main block's norm; as one block (per_block=false, or no block structure
 * passed) the whole-vector ratio leaves block 1 ~1e-7 of the main block's magnitude. */
Test(metabalance, per_block_vs_whole)
{
    enum { T = 2, D = 8 };
    const size_t off[] = {0, 4, 8};
    double G[T * D], hw[T], tw[T], tg[D], tg1[D], tg0[D];
    gm_randn(G, T * D, 400);
    for (int c = 0; c < D; c++)
        G[D + c] *= c < 4 ? 1e4 : 1e-3;
    mtb_error err = {0};
    mtb_balancer *b = gm_new("metabalance", "relax=1", T, D);
    cr_assert_eq(mb_step(b, T, D, G, 2, off, hw, tw, tg, &err), MTB_OK, "%s", err.msg);
    mtb_balancer_free(b);
    for (int k = 0; k < 2; k++) {
        double na = 0.0, nm = 0.0;
        for (size_t j = off[k]; j < off[k + 1]; j++) {
            na += (tg[j] - G[j]) * (tg[j] - G[j]);
            nm += G[j] * G[j];
        }
        cr_assert_float_eq(sqrt(na), sqrt(nm), 1e-12 * sqrt(nm), "block %d", k);
    }
    b = gm_new("metabalance", "relax=1,per_block=false", T, D);
    cr_assert_eq(mb_step(b, T, D, G, 2, off, hw, tw, tg1, &err), MTB_OK, "%s", err.msg);
    mtb_balancer_free(b);
    b = gm_new("metabalance", "relax=1", T, D);
    cr_assert_eq(mb_step(b, T, D, G, 0, NULL, hw, tw, tg0, &err), MTB_OK, "%s", err.msg);
    mtb_balancer_free(b);
    cr_assert_lt(rel_diff(tg1, tg0, D), 1e-15, "per_block=false must equal no block structure");
    double na = 0.0, nm = 0.0;
    for (size_t j = 4; j < 8; j++) {
        na += (tg1[j] - G[j]) * (tg1[j] - G[j]);
        nm += G[j] * G[j];
    }
    cr_assert_lt(sqrt(na), 1e-5 * sqrt(nm), "whole-vector ratio should shrink block 1");
    /* trunk_w reports ||g~_1|| / ||g_1||: with one block the coefficient itself */
    double g0 = sqrt(gm_dot(G, G, D)), g1 = sqrt(gm_dot(G + D, G + D, D));
    cr_assert_float_eq(tw[1], g0 / g1, 1e-12 * g0 / g1);
    cr_assert_float_eq(tw[0], 1.0, 1e-15);
}

Test(metabalance, main_task_out_of_range)
{
    const mtb_balancer_type *ty = mtb_balancer_find("metabalance");
    mtb_hparams hp;
    mtb_error err = {0};
    cr_assert_eq(mtb_hparams_parse(ty, "main_task=3", &hp, &err), MTB_OK, "%s", err.msg);
    cr_assert_null(mtb_balancer_new(ty, 3, 10, &hp, 1, &err));
    cr_assert(strstr(err.msg, "metabalance") && strstr(err.msg, "main_task") &&
              strstr(err.msg, "3"), "%s", err.msg);
}

/* Block offsets are checked by the driver; the block count may not change between steps. */
Test(metabalance, bad_blocks_are_clear_errors)
{
    enum { T = 2, D = 6 };
    double G[T * D], hw[T], tw[T], tg[D];
    gm_randn(G, T * D, 500);
    mtb_balancer *b = gm_new("metabalance", "", T, D);
    mtb_error err = {0};
    const size_t start1[] = {1, 6}, short_end[] = {0, 3, 5}, empty[] = {0, 3, 3, 6};
    cr_assert_eq(mb_step(b, T, D, G, 1, start1, hw, tw, tg, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "metabalance") && strstr(err.msg, "offsets"), "%s", err.msg);
    cr_assert_eq(mb_step(b, T, D, G, 2, short_end, hw, tw, tg, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "D = 6"), "%s", err.msg);
    cr_assert_eq(mb_step(b, T, D, G, 3, empty, hw, tw, tg, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "block 1"), "%s", err.msg);
    cr_assert_eq(mb_step(b, T, D, G, 1, NULL, hw, tw, tg, &err), MTB_EINVAL);
    cr_assert_eq(mb_step(b, T, D, G, MTB_MAX_BLOCKS + 1, empty, hw, tw, tg, &err), MTB_EINVAL);
    const size_t two[] = {0, 2, 6}, three[] = {0, 2, 4, 6};
    cr_assert_eq(mb_step(b, T, D, G, 2, two, hw, tw, tg, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(mb_step(b, T, D, G, 3, three, hw, tw, tg, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "3 parameter blocks") && strstr(err.msg, "2"), "%s", err.msg);
    mtb_balancer_free(b);
}

/* Degenerate inputs: finite results, no error. Identical and opposite gradients, all zero,
 * zero main task (auxiliaries scaled to (1 - r)), zero auxiliary (left at zero), a 1e8 loss
 * ratio, T = 1 (only the target), T = 1024 and T > D. */
Test(metabalance, degenerate_inputs_finite)
{
    const struct { int T; size_t D; int kind; } cases[] = {
        {3, 8, 0}, {3, 8, 1}, {3, 8, 2}, {3, 8, 3}, {3, 8, 4}, {3, 8, 5},
        {1, 8, 0}, {1024, 6, 0}, {40, 5, 0},
    };
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
                case 1: *g = G[c]; break;                         /* identical */
                case 2: *g = (t % 2 ? -1.0 : 1.0) * G[c]; break;  /* opposite */
                case 3: *g = 0.0; G[c] = 0.0; break;              /* all zero */
                case 4: G[c] = 0.0; break;                        /* main zero */
                case 5: *g *= t == 1 ? 1e8 : 1e-8; break;         /* 1e8 ratio both ways */
                }
            }
        const size_t off[] = {0, D / 2, D};
        mtb_balancer *b = gm_new("metabalance", "", T, D);
        mtb_error err = {0};
        for (int s = 0; s < 3; s++) {
            cr_assert_eq(mb_step(b, T, D, G, 2, off, hw, tw, tg, &err), MTB_OK, "case %zu: %s",
                         k, err.msg);
        }
        if (T == 1)
            for (size_t c = 0; c < D; c++)
                cr_assert_eq(tg[c], G[c], "T = 1: the target's gradient unchanged");
        if (cases[k].kind == 3)
            for (size_t c = 0; c < D; c++)
                cr_assert_eq(tg[c], 0.0);
        if (cases[k].kind == 4) /* main zero: each auxiliary scaled by 1 - r = 0.3 */
            for (size_t c = 0; c < D; c++) {
                double s = 0.0;
                for (int t = 1; t < T; t++)
                    s += G[(size_t)t * D + c];
                cr_assert_float_eq(tg[c], 0.3 * s, 1e-14 * (1.0 + fabs(s)));
            }
        mtb_balancer_free(b);
        free(G), free(hw), free(tw), free(tg);
    }
}

Test(metabalance, deterministic)
{
    enum { T = 5, D = 30 };
    const size_t off[] = {0, 10, 12, 30};
    double G[T * D], hw[T], tw[T], a[D], c[D];
    mtb_balancer *b1 = gm_new("metabalance", "", T, D), *b2 = gm_new("metabalance", "", T, D);
    mtb_error err = {0};
    for (int s = 0; s < 4; s++) {
        gm_randn(G, T * D, 700 + s);
        cr_assert_eq(mb_step(b1, T, D, G, 3, off, hw, tw, a, &err), MTB_OK, "%s", err.msg);
        cr_assert_eq(mb_step(b2, T, D, G, 3, off, hw, tw, c, &err), MTB_OK, "%s", err.msg);
        cr_assert(!memcmp(a, c, sizeof a), "step %d differs", s);
    }
    mtb_balancer_free(b1);
    mtb_balancer_free(b2);
}
