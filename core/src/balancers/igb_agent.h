/* igb_agent.h: pieces shared by igbv1.c and igbv2.c (Dai, Fei & Lu, "Improvable Gap
 * Balancing for Multi-Task Learning", UAI 2023; authors' code github.com/YanqiDai/IGB4MTL).
 * Not part of the public API.
 *
 *   mtb_igb_base   the base losses L_base: the mean training loss of each task over the
 *                  epoch `base_epoch`, available from the first step of a later epoch
 *                  (authors' trainer: base_losses = that epoch's average losses).
 *   mtb_igb_agent  IGBv2's Soft Actor-Critic agent (Haarnoja et al. 2018, with the learnt
 *                  temperature of the 2018 "applications" version), as the authors' SAC_Agent:
 *                  a Gaussian actor whose sample u is squashed to the action a = A softmax(u),
 *                  twin Q critics with Polyak-averaged targets, a uniform replay buffer.
 *                  Networks are float, products go through cblas_sgemm; everything is
 *                  allocated in mtb_igb_agent_init, the other calls never allocate. */
#ifndef MTB_BALANCERS_IGB_AGENT_H
#define MTB_BALANCERS_IGB_AGENT_H

#include <stddef.h>

#include "mtb/optim.h"
#include "mtb/rng.h"
#include "mtb/status.h"

/* ---- base losses --------------------------------------------------------------------- */

typedef struct mtb_igb_base {
    int T;
    long base_epoch;
    int ready;       /* base[] holds L_base */
    long n;          /* steps accumulated in epoch base_epoch */
    long last_epoch; /* epoch of the last step seen (-1: none) */
    double *sum;     /* (T) loss sums over epoch base_epoch */
    double *base;    /* (T) L_base once ready */
} mtb_igb_base;

mtb_status mtb_igb_base_init(mtb_igb_base *b, int T, long base_epoch, const char *method,
                             mtb_error *err);
void mtb_igb_base_free(mtb_igb_base *b);
/* Feeds one step's losses (epoch must not decrease); closes the base epoch when a later
 * epoch starts. */
mtb_status mtb_igb_base_observe(mtb_igb_base *b, long epoch, const double *losses,
                                const char *method, mtb_error *err);

/* ---- SAC agent ----------------------------------------------------------------------- */

typedef struct mtb_igb_agent_config {
    int S, A;              /* state and action dimensions (both T in IGBv2) */
    int H;                 /* width of the two hidden ReLU layers (authors: 128) */
    long buffer_size;      /* replay capacity (authors: 1e4) */
    int batch;             /* minibatch of a full buffer (authors: 256) */
    double lr;             /* Adam lr of actor, critics and log alpha (authors: 3e-4) */
    double gamma;          /* discount (0.99) */
    double tau;            /* Polyak coefficient of the target critics (0.005) */
    double alpha0;         /* initial temperature (0.2) */
    int adaptive_alpha;    /* learn log alpha towards the target entropy -A (authors: yes) */
    int official_logp;     /* 1: the authors' log-density (tanh correction term), 0: Gaussian */
} mtb_igb_agent_config;

typedef struct mtb_igb_agent {
    mtb_igb_agent_config c;
    int ready;              /* networks initialised (first call with an rng) */
    /* parameters: actor slab, critic slab (Q1 then Q2), target critic slab */
    size_t n_actor, n_q;    /* n_q: one Q network; the critic slab holds 2 n_q */
    float *actor, *dactor, *critic, *dcritic, *target;
    mtb_optim opt_actor, opt_critic;
    double log_alpha, alpha, la_m, la_v; /* temperature and its Adam moments */
    long la_t;
    /* replay buffer (float, as the authors' torch tensors) */
    long size, ptr;
    float *rs, *ra, *rr, *rs2;  /* (N,S) (N,A) (N) (N,S) */
    /* minibatch workspace, M = batch rows */
    float *bs, *ba, *br, *bs2, *y;
    float *xin, *dxin;          /* (M, S+A) critic input and its gradient */
    float *h1, *h2, *mu, *lsr, *ls, *eps, *u, *p, *logp;   /* actor activations */
    float *z1, *z2, *q;         /* (2, M, H) (2, M, H) (2, M): both critics */
    float *dz1, *dz2, *dq;      /* (M,H) (M,H) (M) */
    float *du, *dls, *dh1, *dh2;
    double *wtmp;               /* (A) */
    /* last update, for tests and diagnostics */
    double last_td, last_actor_loss;
} mtb_igb_agent;

mtb_status mtb_igb_agent_init(mtb_igb_agent *g, const mtb_igb_agent_config *c, const char *method,
                              mtb_error *err);
void mtb_igb_agent_free(mtb_igb_agent *g);
/* Initialises the weights (PyTorch nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)))
 * from rng if not done yet. */
void mtb_igb_agent_ready(mtb_igb_agent *g, mtb_rng *rng);
/* Appends (s, a, r, s2) to the ring buffer (oldest overwritten). Inputs are clamped to
 * +-1e30 before the float conversion. */
void mtb_igb_agent_add(mtb_igb_agent *g, const double *s, const double *a, double r,
                       const double *s2);
/* Action for state s: w = A softmax(u), u = mu(s) + std(s) * noise, noise = A standard
 * normals supplied by the caller (drawn from its stream, or replayed; converted to float as
 * the agent's own draws are), NULL = the deterministic action u = mu(s). The networks must be
 * initialised (mtb_igb_agent_ready; MTB_EINVAL otherwise). Draws nothing itself.
 * MTB_ENUMERIC (naming the method) if the actor's output is not finite. */
mtb_status mtb_igb_agent_act(mtb_igb_agent *g, const double *s, const double *noise, double *w,
                             const char *method, mtb_error *err);
/* One SAC update on a minibatch of M <= batch transitions drawn uniformly with replacement
 * (critics, then actor, then temperature, then targets). Needs a non-empty buffer.
 * MTB_ENUMERIC (naming the method) if a loss became non-finite. */
mtb_status mtb_igb_agent_update(mtb_igb_agent *g, int M, mtb_rng *rng, const char *method,
                                mtb_error *err);
/* Mean squared TD error of both critics, (1/M) sum (Q1 - y)^2 + (Q2 - y)^2, on the first M
 * buffer entries with the current targets (no update; a fresh target sample of a'). */
double mtb_igb_agent_td_loss(mtb_igb_agent *g, int M, mtb_rng *rng);

/* The pieces of an update, exposed so the hand-written gradients can be checked against
 * finite differences (tests/test_balancer_igb_grad.c); update() is their composition.
 *   prepare:     draw M buffer rows with replacement and compute their TD targets y;
 *   draw_noise:  the actor's reparameterisation noise eps (M, A);
 *   critic_loss_grad / actor_loss_grad: the loss on that batch, and its gradient in
 *                dcritic / dactor when want_grad (parameters are not changed). */
void mtb_igb_agent_prepare(mtb_igb_agent *g, int M, mtb_rng *rng);
void mtb_igb_agent_draw_noise(mtb_igb_agent *g, int M, mtb_rng *rng);
double mtb_igb_agent_critic_loss_grad(mtb_igb_agent *g, int M, int want_grad);
double mtb_igb_agent_actor_loss_grad(mtb_igb_agent *g, int M, int want_grad, double *entropy_term);

#endif
