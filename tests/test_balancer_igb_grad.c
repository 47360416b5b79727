/* test_balancer_igb_grad.c: finite-difference checks of IGBv2's hand-written SAC gradients
 * (core/src/balancers/igb_agent.c): the critics' TD loss w.r.t. both critics, and the actor
 * loss (reparameterised sample through softmax, both log-density variants, the minimum of
 * two critics) w.r.t. the actor, one coordinate at a time. (A directional check along
 * random directions of all parameters at once was too blunt here: it crosses many ReLU
 * kinks per evaluation in these small float networks.) */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "../core/src/balancers/igb_agent.h"

/* Coordinate-wise central differences over every parameter. These are small float
 * networks with ReLU kinks and a min over two critics: a large step crosses a kink for some
 * coordinates (the difference then disagrees), a small one drowns in float round-off
 * (losses of O(1) carry ~1e-7 relative noise). So a coordinate passes when the difference
 * agrees at one of the steps h = 1e-3, 3e-4, 1e-4; while writing this test every
 * coordinate that disagreed at 1e-3 converged to the analytic value as h shrank. Its error
 * is |fd - g| / max(|fd|, |g|, 1e-2 max|g|), as in gradcheck.h; measured worst 8e-3, and a
 * mutated entry gives >= 0.3 at every h. */
#define COORD_TOL 3e-2

static void make_agent(mtb_igb_agent *g, int official, mtb_rng *rng)
{
    mtb_igb_agent_config c = {.S = 3, .A = 3, .H = 16, .buffer_size = 64, .batch = 32,
                              .lr = 3e-4, .gamma = 0.99, .tau = 0.005, .alpha0 = 0.2,
                              .adaptive_alpha = 1, .official_logp = official};
    mtb_error err = {0};
    cr_assert_eq(mtb_igb_agent_init(g, &c, "test", &err), MTB_OK, "%s", err.msg);
    mtb_igb_agent_ready(g, rng);
    for (int k = 0; k < 40; k++) {
        double s[3], a[3], s2[3], sum = 0.0;
        for (int j = 0; j < 3; j++) {
            s[j] = mtb_rng_normal(rng), s2[j] = mtb_rng_normal(rng);
            a[j] = mtb_rng_uniform(rng) + 0.1, sum += a[j];
        }
        for (int j = 0; j < 3; j++)
            a[j] *= 3.0 / sum;
        mtb_igb_agent_add(g, s, a, mtb_rng_normal(rng), s2);
    }
}

typedef struct loss_ctx {
    mtb_igb_agent *g;
    int M, actor;
} loss_ctx;

static double loss_only(void *p)
{
    loss_ctx *c = p;
    return c->actor ? mtb_igb_agent_actor_loss_grad(c->g, c->M, 0, NULL)
                    : mtb_igb_agent_critic_loss_grad(c->g, c->M, 0);
}

/* Gradient at the current parameters, then the check; `mutate` (times max|g|) is added to
 * one entry of the analytic gradient (0 for the real checks). Returns the worst error. */
static double check(mtb_igb_agent *g, int actor, double mutate)
{
    loss_ctx c = {g, 32, actor};
    float *theta = actor ? g->actor : g->critic, *dth = actor ? g->dactor : g->dcritic;
    size_t n = actor ? g->n_actor : 2 * g->n_q;
    if (actor)
        mtb_igb_agent_actor_loss_grad(g, 32, 1, NULL);
    else
        mtb_igb_agent_critic_loss_grad(g, 32, 1);
    double *grad = calloc(n, sizeof(double)), gmax = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        grad[i] = dth[i];
        gmax = fmax(gmax, fabs(grad[i]));
    }
    grad[n / 3] += mutate * gmax;
    const float steps[3] = {1e-3f, 3e-4f, 1e-4f};
    for (size_t i = 0; i < n; i++) {
        double best = INFINITY;
        float x = theta[i];
        for (int k = 0; k < 3; k++) {
            theta[i] = x + steps[k];
            double fp = loss_only(&c);
            theta[i] = x - steps[k];
            double fm = loss_only(&c);
            theta[i] = x;
            double fd = (fp - fm) / ((double)(float)(x + steps[k]) - (double)(float)(x - steps[k]));
            double e = fabs(fd - grad[i]) / fmax(fmax(fabs(fd), fabs(grad[i])), 1e-2 * gmax);
            best = fmin(best, e);
        }
        worst = fmax(worst, best);
    }
    free(grad);
    return worst;
}

Test(igb_grad, critic_td_loss_gradient)
{
    mtb_rng rng;
    mtb_rng_seed(&rng, 31, 0);
    mtb_igb_agent g;
    make_agent(&g, 1, &rng);
    mtb_igb_agent_prepare(&g, 32, &rng);
    double e = check(&g, 0, 0.0);
    cr_assert_lt(e, COORD_TOL, "critic gradient: max rel err %g", e);
    mtb_igb_agent_free(&g);
}

static void check_actor(int official)
{
    mtb_rng rng;
    mtb_rng_seed(&rng, 32, (uint64_t)official);
    mtb_igb_agent g;
    make_agent(&g, official, &rng);
    mtb_igb_agent_prepare(&g, 32, &rng);
    mtb_igb_agent_draw_noise(&g, 32, &rng);
    double e = check(&g, 1, 0.0);
    cr_assert_lt(e, COORD_TOL, "actor gradient (official log-density %d): max rel err %g", official, e);
    mtb_igb_agent_free(&g);
}

Test(igb_grad, actor_loss_gradient_gaussian_logp) { check_actor(0); }
Test(igb_grad, actor_loss_gradient_official_logp) { check_actor(1); }

/* The check must reject a wrong gradient: one entry off by half the largest entry. */
Test(igb_grad, mutated_gradient_is_caught)
{
    mtb_rng rng;
    mtb_rng_seed(&rng, 33, 0);
    mtb_igb_agent g;
    make_agent(&g, 0, &rng);
    mtb_igb_agent_prepare(&g, 32, &rng);
    mtb_igb_agent_draw_noise(&g, 32, &rng);
    double e = check(&g, 1, 0.5);
    cr_assert_gt(e, 10 * COORD_TOL, "a mutated actor gradient passed (err %g)", e);
    mtb_igb_agent_free(&g);
}
