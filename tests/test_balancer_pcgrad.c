/* test_balancer_pcgrad.c: PCGrad against the loss-weighting form of IMTL Appendix C.3,
 * alpha = 1 (I + C N), Eqs. (31)-(33), computed independently here; plain sum without
 * conflicts; order handling and determinism. */
#include "grad_method_util.h"

/* Agreement of two double computations of the same few projections in another order of
 * operations: 1e-12 relative. */
#define PC_TOL 1e-12

/* IMTL Eq. (32) for one task t visiting `order` (the other tasks):
 *   C_t,tau = [ -(g_t + sum_{tau' before tau} C_t,tau' u_tau') . u_tau ]_+ ,  u = g/|g|
 * and Eq. (33): alpha = 1 (I + C N), N = diag(1/|g|). */
static void imtl_alpha(const double *G, int T, size_t D, const int *orders /* T x (T-1) */,
                       double *alpha)
{
    double *C = calloc((size_t)T * T, sizeof *C), *v = malloc(D * sizeof *v);
    double nrm[8];
    for (int t = 0; t < T; t++)
        nrm[t] = sqrt(gm_dot(G + (size_t)t * D, G + (size_t)t * D, D));
    for (int t = 0; t < T; t++) {
        memcpy(v, G + (size_t)t * D, D * sizeof *v); /* g_t + sum C u so far */
        for (int k = 0; k < T - 1; k++) {
            int tau = orders[t * (T - 1) + k];
            double proj = gm_dot(v, G + (size_t)tau * D, D) / nrm[tau];
            double c = proj < 0.0 ? -proj : 0.0;
            C[t * T + tau] = c;
            for (size_t i = 0; i < D; i++)
                v[i] += c * G[(size_t)tau * D + i] / nrm[tau];
        }
    }
    for (int tau = 0; tau < T; tau++) {
        alpha[tau] = 1.0;
        for (int t = 0; t < T; t++)
            alpha[tau] += C[t * T + tau] / nrm[tau];
    }
    free(C);
    free(v);
}

static void combine(const double *G, int T, size_t D, const double *w, double *out)
{
    for (size_t i = 0; i < D; i++) {
        out[i] = 0.0;
        for (int t = 0; t < T; t++)
            out[i] += w[t] * G[(size_t)t * D + i];
    }
}

Test(pcgrad, equals_imtl_loss_weighting_two_tasks)
{
    /* conflicting pair (cos < 0), unequal norms */
    double G[6] = {1.0, 0.5, -0.2, -2.0, 0.3, 0.1}, l[2] = {1, 1}, w[2], g[3], alpha[2], ref[3];
    cr_assert_lt(gm_dot(G, G + 3, 3), 0.0);
    int orders[2] = {1, 0};
    imtl_alpha(G, 2, 3, orders, alpha);
    combine(G, 2, 3, alpha, ref);
    gm_once("pcgrad", "", 2, 3, l, G, w, g);
    cr_assert_leq(gm_reldiff(g, ref, 3), PC_TOL, "grad differs by %g", gm_reldiff(g, ref, 3));
    for (int t = 0; t < 2; t++)
        cr_assert_leq(fabs(w[t] - alpha[t]), PC_TOL, "alpha[%d] = %.15g, want %.15g", t, w[t], alpha[t]);
}

Test(pcgrad, equals_imtl_loss_weighting_three_tasks_fixed_order)
{
    /* Eq. (32) depends on the order for T = 3: pcgrad's order=fixed visits ascending j. */
    double G[12], l[3] = {1, 1, 1}, w[3], g[4], alpha[3], ref[4];
    int found_conflicts = 0;
    for (uint64_t seed = 1; seed < 40; seed++) {
        gm_randn(G, 12, seed);
        int conf = 0;
        for (int i = 0; i < 3; i++)
            for (int j = i + 1; j < 3; j++)
                conf += gm_dot(G + 4 * i, G + 4 * j, 4) < 0.0;
        if (conf < 2)
            continue;
        found_conflicts++;
        int orders[6] = {1, 2, 0, 2, 0, 1};
        imtl_alpha(G, 3, 4, orders, alpha);
        combine(G, 3, 4, alpha, ref);
        gm_once("pcgrad", "order=fixed", 3, 4, l, G, w, g);
        cr_assert_leq(gm_reldiff(g, ref, 4), PC_TOL, "seed %llu: grad differs by %g",
                      (unsigned long long)seed, gm_reldiff(g, ref, 4));
        for (int t = 0; t < 3; t++)
            cr_assert_leq(fabs(w[t] - alpha[t]), PC_TOL);
    }
    cr_assert_geq(found_conflicts, 5, "too few conflicting draws (%d) to test anything", found_conflicts);
}

Test(pcgrad, random_order_matches_one_of_the_orders)
{
    /* T = 3: each task has 2 possible orders, 8 combinations; the random result must be
     * one of them, and over many seeds more than one must occur. */
    double G[12] = {1, 0, 0, 0.2, -0.9, 0.8, 0.1, 0, -0.4, -0.7, 0.5, 0.3};
    double l[3] = {1, 1, 1}, w[3], g[4], alpha[3], ref[4];
    int seen[8] = {0};
    for (int rep = 0; rep < 64; rep++) {
        mtb_balancer *b = gm_new("pcgrad", "", 3, 4);
        mtb_balance_in in = {.T = 3, .losses = l, .G = G, .D = 4};
        double hw[3], tg[4];
        mtb_balance_out out = {.head_w = hw, .trunk_w = w, .trunk_grad = tg};
        /* advance the balancer's stream differently per repetition */
        for (int k = 0; k < rep; k++)
            mtb_rng_u64(mtb_balancer_rng(b));
        cr_assert_eq(mtb_balancer_step(b, &in, &out, NULL), MTB_OK);
        memcpy(g, tg, sizeof g);
        int match = -1;
        for (int combo = 0; combo < 8; combo++) {
            int orders[6];
            for (int t = 0; t < 3; t++) {
                int a = (t + 1) % 3, c = (t + 2) % 3;
                if (a > c) {
                    int x = a;
                    a = c;
                    c = x;
                }
                int flip = (combo >> t) & 1;
                orders[2 * t] = flip ? c : a;
                orders[2 * t + 1] = flip ? a : c;
            }
            imtl_alpha(G, 3, 4, orders, alpha);
            combine(G, 3, 4, alpha, ref);
            if (gm_reldiff(g, ref, 4) <= PC_TOL)
                match = combo;
        }
        cr_assert_geq(match, 0, "repetition %d matches no visiting order", rep);
        seen[match] = 1;
        mtb_balancer_free(b);
    }
    int distinct = 0;
    for (int k = 0; k < 8; k++)
        distinct += seen[k];
    cr_assert_geq(distinct, 2, "random order never changed the result over 64 streams");
}

Test(pcgrad, no_conflict_gives_plain_sum)
{
    double G[12] = {1, 0.2, 0, 0.1, 0.5, 1, 0.3, 0, 0.2, 0.1, 1, 0.4}, l[3] = {1, 1, 1}, w[3], g[4];
    double sum[4];
    double ones[3] = {1, 1, 1};
    combine(G, 3, 4, ones, sum);
    gm_once("pcgrad", "", 3, 4, l, G, w, g);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(g[i], sum[i], "coordinate %d: %.17g vs %.17g", i, g[i], sum[i]);
    for (int t = 0; t < 3; t++)
        cr_assert_eq(w[t], 1.0);
}

Test(pcgrad, projected_gradients_do_not_conflict_for_two_tasks)
{
    /* T = 2: after projection g1^PC . g2 = 0 exactly in exact arithmetic. */
    double G[4] = {1, 0.1, -1, 0.5}, l[2] = {1, 1}, w[2], g[2];
    gm_once("pcgrad", "", 2, 2, l, G, w, g);
    double pc1[2] = {G[0] + (w[1] - 1.0) * G[2], G[1] + (w[1] - 1.0) * G[3]};
    cr_assert_leq(fabs(gm_dot(pc1, G + 2, 2)), 1e-15);
}

Test(pcgrad, same_seed_same_output)
{
    double G[40], l[5] = {1, 2, 3, 4, 5}, w1[5], w2[5], g1[8], g2[8];
    gm_randn(G, 40, 21);
    gm_once("pcgrad", "", 5, 8, l, G, w1, g1);
    gm_once("pcgrad", "", 5, 8, l, G, w2, g2);
    cr_assert_eq(memcmp(g1, g2, sizeof g1), 0);
    cr_assert_eq(memcmp(w1, w2, sizeof w1), 0);
}

/* pcgrad.c runs Alg. 1 on the Gram matrix when D >= T and on the gradients when D < T.
 * Zero columns change no inner product, so the same 9 gradients of 6 columns (direct path)
 * and padded to 12 columns (Gram path) must give the same coefficients and gradient. */
Test(pcgrad, gram_and_direct_paths_agree)
{
    enum { T = 9, D = 6, DP = 12 };
    double G[T * D], Gp[T * DP] = {0}, l[T], w1[T], w2[T], g1[D], g2[DP];
    gm_randn(G, T * D, 41);
    for (int t = 0; t < T; t++) {
        l[t] = 1.0;
        for (int c = 0; c < D; c++)
            Gp[t * DP + c] = G[t * D + c];
    }
    gm_once("pcgrad", "order=fixed", T, D, l, G, w1, g1);
    gm_once("pcgrad", "order=fixed", T, DP, l, Gp, w2, g2);
    for (int t = 0; t < T; t++)
        cr_assert_float_eq(w1[t], w2[t], 1e-12, "coefficient %d: %g vs %g", t, w1[t], w2[t]);
    for (int c = 0; c < D; c++)
        cr_assert_float_eq(g1[c], g2[c], 1e-12 * (1.0 + fabs(g1[c])), "grad %d", c);
    for (int c = D; c < DP; c++)
        cr_assert_eq(g2[c], 0.0);
}

/* One step with recorded orders (balancer.h replay) through a balancer of the given seed. */
static mtb_status pc_replay(const char *opts, unsigned long long seed, int T, size_t D,
                            const double *G, const int *orders, size_t n_orders, double *w,
                            double *g, mtb_error *err)
{
    const mtb_balancer_type *ty = mtb_balancer_find("pcgrad");
    mtb_hparams hp;
    cr_assert_eq(mtb_hparams_parse(ty, opts, &hp, err), MTB_OK, "%s", err->msg);
    mtb_balancer *b = mtb_balancer_new(ty, T, D, &hp, seed, err);
    cr_assert(b, "%s", err->msg);
    double l[8] = {1, 1, 1, 1, 1, 1, 1, 1}, hw[8], *tg = malloc(D * sizeof *tg);
    mtb_balance_in in = {.T = T, .losses = l, .G = G, .D = D,
                         .draws = {.orders = orders, .n_orders = n_orders}};
    mtb_balance_out out = {.head_w = hw, .trunk_w = w, .trunk_grad = tg};
    mtb_status st = mtb_balancer_step(b, &in, &out, err);
    if (!st)
        memcpy(g, tg, D * sizeof *g);
    free(tg);
    mtb_balancer_free(b);
    return st;
}

/* Recorded orders replace the random ones: two seeds give the same result, and it is IMTL's
 * Eq. (32)-(33) for those orders. */
Test(pcgrad, recorded_orders_are_followed)
{
    enum { T = 4, D = 6 };
    double G[T * D], w1[T], w2[T], g1[D], g2[D], alpha[T], ref[D];
    gm_randn(G, T * D, 51);
    const int orders[T * (T - 1)] = {3, 1, 2, 2, 0, 3, 1, 3, 0, 0, 2, 1};
    mtb_error err = {0};
    cr_assert_eq(pc_replay("", 1, T, D, G, orders, T * (T - 1), w1, g1, &err), MTB_OK, "%s",
                 err.msg);
    cr_assert_eq(pc_replay("", 2, T, D, G, orders, T * (T - 1), w2, g2, &err), MTB_OK, "%s",
                 err.msg);
    cr_assert_eq(memcmp(g1, g2, sizeof g1), 0, "the seed changed a replayed step");
    imtl_alpha(G, T, D, orders, alpha);
    combine(G, T, D, alpha, ref);
    cr_assert_leq(gm_reldiff(g1, ref, D), PC_TOL, "grad differs by %g", gm_reldiff(g1, ref, D));
}

/* LibMTL's loop, written out: for each i, every task j of its order (i itself included), on
 * the original g_j with eps 1e-8 (LIBMTL-FORMULAS.md). */
static void libmtl_pcgrad(const double *G, int T, size_t D, const int *orders, double *grad)
{
    double pc[16];
    memset(grad, 0, D * sizeof *grad);
    for (int i = 0; i < T; i++) {
        memcpy(pc, G + (size_t)i * D, D * sizeof *pc);
        for (int k = 0; k < T; k++) {
            const double *gj = G + (size_t)orders[i * T + k] * D;
            double d = gm_dot(pc, gj, D);
            if (d < 0.0)
                for (size_t c = 0; c < D; c++)
                    pc[c] -= d / (gm_dot(gj, gj, D) + 1e-8) * gj[c];
        }
        for (size_t c = 0; c < D; c++)
            grad[c] += pc[c];
    }
}

/* visit_self (LibMTL's loop) on both paths (D < T: direct, D >= T: Gram matrix), for random
 * gradients and orders: equal to the loop written out; and on at least one of the draws the
 * projection onto the task's own gradient happens, i.e. the option changes the result
 * (otherwise this test would not exercise it). With the task itself visited first its order
 * is the paper's. */
Test(pcgrad, visit_self_is_libmtls_loop)
{
    enum { T = 4 };
    int changed = 0;
    mtb_rng r;
    mtb_rng_seed(&r, 3, 0);
    for (int trial = 0; trial < 40; trial++) {
        size_t D = trial % 2 ? 3 : 9;
        double G[T * 9], w[T], g[9], ref[9], gp[9];
        gm_randn(G, T * D, 100 + (uint64_t)trial);
        int orders[T * T], others[T * (T - 1)], first[T * T];
        for (int i = 0; i < T; i++) {
            size_t idx[T] = {0, 1, 2, 3};
            mtb_rng_shuffle(&r, idx, T);
            int n = 0;
            first[i * T] = i;
            for (int k = 0; k < T; k++) {
                orders[i * T + k] = (int)idx[k];
                if ((int)idx[k] != i) {
                    others[i * (T - 1) + n] = (int)idx[k];
                    first[i * T + 1 + n++] = (int)idx[k];
                }
            }
        }
        mtb_error err = {0};
        cr_assert_eq(pc_replay("eps=1e-8,visit_self=true", 1, T, D, G, orders, T * T, w, g, &err),
                     MTB_OK, "%s", err.msg);
        libmtl_pcgrad(G, T, D, orders, ref);
        cr_assert_leq(gm_reldiff(g, ref, D), PC_TOL, "trial %d: %g", trial, gm_reldiff(g, ref, D));
        cr_assert_eq(pc_replay("eps=1e-8", 1, T, D, G, others, T * (T - 1), w, gp, &err), MTB_OK,
                     "%s", err.msg);
        changed += gm_reldiff(g, gp, D) > 1e-9;
        cr_assert_eq(pc_replay("eps=1e-8,visit_self=true", 1, T, D, G, first, T * T, w, g, &err),
                     MTB_OK, "%s", err.msg);
        cr_assert_leq(gm_reldiff(g, gp, D), PC_TOL, "trial %d: itself first differs", trial);
    }
    cr_assert_gt(changed, 0, "no draw projected a task onto its own gradient");
}

/* Recorded orders that do not fit are refused, naming the method and the problem. */
Test(pcgrad, bad_recorded_orders_are_errors)
{
    enum { T = 3, D = 4 };
    double G[T * D], w[T], g[D];
    gm_randn(G, T * D, 5);
    mtb_error err = {0};
    const int self[6] = {0, 1, 0, 2, 0, 1}, twice[6] = {1, 1, 0, 2, 0, 1};
    cr_assert_eq(pc_replay("", 1, T, D, G, self, 6, w, g, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "pcgrad") && strstr(err.msg, "itself"), "%s", err.msg);
    cr_assert_eq(pc_replay("", 1, T, D, G, twice, 6, w, g, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "twice"), "%s", err.msg);
    cr_assert_eq(pc_replay("visit_self=true", 1, T, D, G, self, 6, w, g, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "expected T x 3"), "%s", err.msg);
    const int out_of_range[6] = {1, 2, 0, 2, 0, 3};
    cr_assert_eq(pc_replay("", 1, T, D, G, out_of_range, 6, w, g, &err), MTB_EINVAL);
    cr_assert(strstr(err.msg, "tasks are 0..2"), "%s", err.msg);
}
