/* igb_agent.c: the base losses of IGB and IGBv2's Soft Actor-Critic agent (igb_agent.h).
 *
 * SAC as in the IGB authors' SAC_Agent (itself adapted from XinJingHao/SAC-Continuous-Pytorch):
 *   actor   s -> [H ReLU] -> [H ReLU] -> mu (A), log std (A, clamped to [-20, 2])
 *           u = mu + std * eps, eps ~ N(0, I)       (reparameterisation)
 *           a = A softmax(u)                         (IGBv2's action: weights summing to A)
 *           log pi = sum_j log N(u_j; mu_j, std_j) - sum_j 2 (log 2 - u_j - softplus(-2 u_j))
 *             The second sum is log(1 - tanh(u_j)^2), the change-of-variables term of a
 *             tanh squashing; the authors replaced tanh by A softmax but kept this term
 *             (official_logp = 1). official_logp = 0 uses the Gaussian density of u alone.
 *   critics Q_i(s, a) = [H ReLU] -> [H ReLU] -> 1, i = 1, 2, on the concatenation (s, a)
 *   update (one minibatch of M transitions (s, a, r, s')):
 *     1. y = r + gamma (min_i Qtarg_i(s', a') - alpha log pi(a'|s')),  a' ~ pi(.|s')
 *        (no terminal mask: training never ends an episode)
 *     2. critic loss  (1/M) sum (Q1(s,a) - y)^2 + (1/M) sum (Q2(s,a) - y)^2, one Adam step
 *     3. actor loss   (1/M) sum alpha log pi(a~|s) - min_i Q_i(s, a~),  a~ ~ pi(.|s), with the
 *        just-updated critics held fixed, one Adam step
 *     4. temperature  loss -(1/M) sum log_alpha (log pi(a~|s) + target_entropy), target -A,
 *        one Adam step on log alpha; alpha = exp(log alpha)
 *     5. targets      theta_targ <- tau theta + (1 - tau) theta_targ
 *   Adam: torch defaults (betas 0.9, 0.999, eps 1e-8), one lr for all three (authors: 3e-4).
 * Gradients by hand (derivations next to each step below). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "igb_agent.h"
#include "internal.h"

/* ---- base losses --------------------------------------------------------------------- */

mtb_status mtb_igb_base_init(mtb_igb_base *b, int T, long base_epoch, const char *method,
                             mtb_error *err)
{
    memset(b, 0, sizeof *b);
    b->T = T;
    b->base_epoch = base_epoch;
    b->last_epoch = -1;
    b->sum = calloc(2 * (size_t)T, sizeof *b->sum);
    if (!b->sum)
        return mtb_fail(err, MTB_ENOMEM, "method %s: cannot allocate the base losses (T = %d)",
                        method, T);
    b->base = b->sum + T;
    return MTB_OK;
}

void mtb_igb_base_free(mtb_igb_base *b)
{
    free(b->sum);
    b->sum = b->base = NULL;
}

mtb_status mtb_igb_base_observe(mtb_igb_base *b, long epoch, const double *losses,
                                const char *method, mtb_error *err)
{
    if (epoch < 0 || epoch < b->last_epoch)
        return mtb_fail(err, MTB_EINVAL, "method %s: epoch %ld after epoch %ld (epochs must be "
                        ">= 0 and must not decrease)", method, epoch, b->last_epoch);
    b->last_epoch = epoch;
    if (b->ready)
        return MTB_OK;
    if (epoch == b->base_epoch) {
        for (int t = 0; t < b->T; t++)
            b->sum[t] += losses[t];
        b->n++;
    } else if (epoch > b->base_epoch && b->n > 0) {
        for (int t = 0; t < b->T; t++)
            b->base[t] = b->sum[t] / (double)b->n;
        b->ready = 1;
    }
    return MTB_OK;
}

/* ---- dense layers ---------------------------------------------------------------------- */

/* y (M, out) = x (M, in) W^T + b, W (out, in) row-major */
static void dense_fwd(const float *W, const float *bias, const float *x, float *y, int M, int in,
                      int out)
{
    for (int m = 0; m < M; m++)
        memcpy(y + (size_t)m * out, bias, (size_t)out * sizeof *y);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, out, in, 1.0f, x, in, W, in, 1.0f, y,
                out);
}

/* dW (out, in) = dy^T x, db = column sums of dy (both overwritten when dW != NULL);
 * dx (M, in) = dy W when dx != NULL. */
static void dense_bwd(const float *W, const float *x, const float *dy, float *dW, float *db,
                      float *dx, int M, int in, int out)
{
    if (dW) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, M, 1.0f, dy, out, x, in,
                    0.0f, dW, in);
        for (int o = 0; o < out; o++)
            db[o] = 0.0f;
        for (int m = 0; m < M; m++)
            for (int o = 0; o < out; o++)
                db[o] += dy[(size_t)m * out + o];
    }
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, in, out, 1.0f, dy, out, W, in,
                    0.0f, dx, in);
}

static void relu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* dz *= 1[z > 0] (z is the ReLU output) */
static void relu_bwd(const float *z, float *dz, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(z[i] > 0.0f))
            dz[i] = 0.0f;
}

/* ---- parameter layout ---------------------------------------------------------------------
 * actor:  W1 (H,S) b1 (H) W2 (H,H) b2 (H) Wm (A,H) bm (A) Ws (A,H) bs (A)
 * Q net:  W1 (H,S+A) b1 (H) W2 (H,H) b2 (H) W3 (1,H) b3 (1)                               */

typedef struct actor_view {
    float *W1, *b1, *W2, *b2, *Wm, *bm, *Ws, *bs;
} actor_view;

typedef struct q_view {
    float *W1, *b1, *W2, *b2, *W3, *b3;
} q_view;

static actor_view actor_at(const mtb_igb_agent *g, float *p)
{
    const int S = g->c.S, A = g->c.A, H = g->c.H;
    actor_view v;
    v.W1 = p;
    v.b1 = v.W1 + (size_t)H * S;
    v.W2 = v.b1 + H;
    v.b2 = v.W2 + (size_t)H * H;
    v.Wm = v.b2 + H;
    v.bm = v.Wm + (size_t)A * H;
    v.Ws = v.bm + A;
    v.bs = v.Ws + (size_t)A * H;
    return v;
}

static q_view q_at(const mtb_igb_agent *g, float *p)
{
    const int SA = g->c.S + g->c.A, H = g->c.H;
    q_view v;
    v.W1 = p;
    v.b1 = v.W1 + (size_t)H * SA;
    v.W2 = v.b1 + H;
    v.b2 = v.W2 + (size_t)H * H;
    v.W3 = v.b2 + H;
    v.b3 = v.W3 + H;
    return v;
}

/* ---- init / free --------------------------------------------------------------------------- */

void mtb_igb_agent_free(mtb_igb_agent *g)
{
    free(g->actor);
    free(g->rs);
    free(g->bs);
    free(g->wtmp);
    mtb_optim_free(&g->opt_actor);
    mtb_optim_free(&g->opt_critic);
    g->actor = g->rs = g->bs = NULL;
    g->wtmp = NULL;
}

mtb_status mtb_igb_agent_init(mtb_igb_agent *g, const mtb_igb_agent_config *c, const char *method,
                              mtb_error *err)
{
    memset(g, 0, sizeof *g);
    g->c = *c;
    const size_t S = (size_t)c->S, A = (size_t)c->A, H = (size_t)c->H, M = (size_t)c->batch;
    const size_t N = (size_t)c->buffer_size, SA = S + A;
    if (c->S < 1 || c->A < 1 || c->H < 1 || c->batch < 1 || c->buffer_size < 1)
        return mtb_fail(err, MTB_EINVAL, "method %s: agent sizes must be >= 1 (state %d, action "
                        "%d, hidden %d, batch %d, buffer %ld)", method, c->S, c->A, c->H,
                        c->batch, c->buffer_size);
    g->n_actor = H * S + H + H * H + H + 2 * (A * H + A);
    g->n_q = H * SA + H + H * H + H + H + 1;
    const size_t np = 2 * g->n_actor + 3 * 2 * g->n_q;
    g->actor = calloc(np, sizeof *g->actor);
    g->rs = calloc(N * (2 * S + A + 1), sizeof *g->rs);
    const size_t nws = M * (2 * S + A + 2) + 2 * M * SA + 2 * M * H + 6 * M * A + M +
                       2 * (2 * M * H) + 2 * M + 2 * M * H + M + 2 * M * A + 2 * M * H;
    g->bs = calloc(nws, sizeof *g->bs);
    g->wtmp = calloc(A, sizeof *g->wtmp);
    if (!g->actor || !g->rs || !g->bs || !g->wtmp) {
        mtb_igb_agent_free(g);
        return mtb_fail(err, MTB_ENOMEM, "method %s: cannot allocate the SAC agent (%zu "
                        "parameters, replay buffer %zu x %zu floats, batch %zu)", method, np, N,
                        2 * S + A + 1, M);
    }
    g->dactor = g->actor + g->n_actor;
    g->critic = g->dactor + g->n_actor;
    g->dcritic = g->critic + 2 * g->n_q;
    g->target = g->dcritic + 2 * g->n_q;
    g->ra = g->rs + N * S;
    g->rr = g->ra + N * A;
    g->rs2 = g->rr + N;
    float *w = g->bs;
    g->ba = (w += M * S);
    g->br = (w += M * A);
    g->bs2 = (w += M);
    g->y = (w += M * S);
    g->xin = (w += M);
    g->dxin = (w += M * SA);
    g->h1 = (w += M * SA);
    g->h2 = (w += M * H);
    g->mu = (w += M * H);
    g->lsr = (w += M * A);
    g->ls = (w += M * A);
    g->eps = (w += M * A);
    g->u = (w += M * A);
    g->p = (w += M * A);
    g->logp = (w += M * A);
    g->z1 = (w += M);
    g->z2 = (w += 2 * M * H);
    g->q = (w += 2 * M * H);
    g->dz1 = (w += 2 * M);
    g->dz2 = (w += M * H);
    g->dq = (w += M * H);
    g->du = (w += M);
    g->dls = (w += M * A);
    g->dh1 = (w += M * A);
    g->dh2 = (w += M * H);
    w += M * H;
    if ((size_t)(w - g->bs) > nws) { /* cannot happen: the sizes above add up to nws */
        mtb_igb_agent_free(g);
        return mtb_fail(err, MTB_EINVAL, "method %s: agent workspace layout is inconsistent",
                        method);
    }
    mtb_optim_config oc;
    mtb_optim_config_adam(&oc, c->lr);
    mtb_status st = mtb_optim_init(&g->opt_actor, &oc, g->n_actor, err);
    if (!st)
        st = mtb_optim_init(&g->opt_critic, &oc, 2 * g->n_q, err);
    if (st) {
        mtb_igb_agent_free(g);
        return st;
    }
    g->log_alpha = log(c->alpha0);
    g->alpha = c->alpha0;
    return MTB_OK;
}

static void uniform_fill(float *x, size_t n, double bound, mtb_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((2.0 * mtb_rng_uniform(rng) - 1.0) * bound);
}

/* nn.Linear's default initialisation: weight and bias U(-1/sqrt(in), 1/sqrt(in)). */
static void linear_init(float *W, float *b, int in, int out, mtb_rng *rng)
{
    const double bound = 1.0 / sqrt((double)in);
    uniform_fill(W, (size_t)in * out, bound, rng);
    uniform_fill(b, (size_t)out, bound, rng);
}

void mtb_igb_agent_ready(mtb_igb_agent *g, mtb_rng *rng)
{
    if (g->ready)
        return;
    const int S = g->c.S, A = g->c.A, H = g->c.H;
    actor_view a = actor_at(g, g->actor);
    linear_init(a.W1, a.b1, S, H, rng);
    linear_init(a.W2, a.b2, H, H, rng);
    linear_init(a.Wm, a.bm, H, A, rng);
    linear_init(a.Ws, a.bs, H, A, rng);
    for (int i = 0; i < 2; i++) {
        q_view q = q_at(g, g->critic + i * g->n_q);
        linear_init(q.W1, q.b1, S + A, H, rng);
        linear_init(q.W2, q.b2, H, H, rng);
        linear_init(q.W3, q.b3, H, 1, rng);
    }
    memcpy(g->target, g->critic, 2 * g->n_q * sizeof *g->target); /* copy.deepcopy */
    g->ready = 1;
}

/* ---- replay buffer ------------------------------------------------------------------------- */

static float to_f(double x)
{
    return (float)fmax(-1e30, fmin(1e30, x));
}

void mtb_igb_agent_add(mtb_igb_agent *g, const double *s, const double *a, double r,
                       const double *s2)
{
    const size_t S = (size_t)g->c.S, A = (size_t)g->c.A, k = (size_t)g->ptr;
    for (size_t j = 0; j < S; j++) {
        g->rs[k * S + j] = to_f(s[j]);
        g->rs2[k * S + j] = to_f(s2[j]);
    }
    for (size_t j = 0; j < A; j++)
        g->ra[k * A + j] = to_f(a[j]);
    g->rr[k] = to_f(r);
    g->ptr = (g->ptr + 1) % g->c.buffer_size;
    if (g->size < g->c.buffer_size)
        g->size++;
}

/* ---- actor ---------------------------------------------------------------------------------- */

#define LOG_STD_MIN -20.0f
#define LOG_STD_MAX 2.0f

/* Forward on M states x (M, S): fills h1, h2, mu, lsr (raw), ls (clamped), u, p = softmax(u)
 * and logp. eps (M, A) must hold the noise (zeros: deterministic). */
static void actor_fwd(mtb_igb_agent *g, const float *x, int M)
{
    const int S = g->c.S, A = g->c.A, H = g->c.H;
    actor_view v = actor_at(g, g->actor);
    dense_fwd(v.W1, v.b1, x, g->h1, M, S, H);
    relu(g->h1, (size_t)M * H);
    dense_fwd(v.W2, v.b2, g->h1, g->h2, M, H, H);
    relu(g->h2, (size_t)M * H); /* the authors' actor applies ReLU after both hidden layers */
    dense_fwd(v.Wm, v.bm, g->h2, g->mu, M, H, A);
    dense_fwd(v.Ws, v.bs, g->h2, g->lsr, M, H, A);
    const double half_log_2pi = 0.91893853320467274178; /* log(2 pi) / 2 */
    for (int m = 0; m < M; m++) {
        double lp = 0.0, mx = -INFINITY;
        for (int j = 0; j < A; j++) {
            size_t i = (size_t)m * A + j;
            float l = fminf(fmaxf(g->lsr[i], LOG_STD_MIN), LOG_STD_MAX);
            g->ls[i] = l;
            double u = (double)g->mu[i] + exp((double)l) * (double)g->eps[i];
            g->u[i] = (float)u;
            /* log N(u; mu, std) = -eps^2/2 - log std - log(2 pi)/2 */
            lp += -0.5 * (double)g->eps[i] * g->eps[i] - (double)l - half_log_2pi;
            if (g->c.official_logp) /* - 2 (log 2 - u - softplus(-2u)) = + log(1 - tanh^2 u) */
                lp -= 2.0 * (log(2.0) - u - (u < 0 ? -2.0 * u + log1p(exp(2.0 * u))
                                                   : log1p(exp(-2.0 * u))));
            mx = fmax(mx, (double)g->u[i]);
        }
        double z = 0.0;
        for (int j = 0; j < A; j++)
            z += exp((double)g->u[(size_t)m * A + j] - mx);
        for (int j = 0; j < A; j++) {
            size_t i = (size_t)m * A + j;
            g->p[i] = (float)(exp((double)g->u[i] - mx) / z);
        }
        g->logp[m] = (float)lp;
    }
}

static void draw_noise(float *eps, size_t n, mtb_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        eps[i] = (float)mtb_rng_normal(rng);
}

mtb_status mtb_igb_agent_act(mtb_igb_agent *g, const double *s, const double *noise, double *w,
                             const char *method, mtb_error *err)
{
    const int S = g->c.S, A = g->c.A;
    if (!g->ready)
        return mtb_fail(err, MTB_EINVAL, "method %s: the agent acts before its networks are "
                        "initialised (mtb_igb_agent_ready)", method);
    for (int j = 0; j < S; j++)
        g->bs[j] = to_f(s[j]);
    /* the noise as float, as draw_noise stores the stream's normals: a replayed copy of the
     * stream's draws gives the same bits */
    for (int j = 0; j < A; j++)
        g->eps[j] = noise ? to_f(noise[j]) : 0.0f;
    actor_fwd(g, g->bs, 1);
    for (int j = 0; j < A; j++) {
        if (!isfinite(g->u[j]))
            return mtb_fail(err, MTB_ENUMERIC, "method %s: the actor's pre-softmax output %d is "
                            "%g (state %d = %g)", method, j, (double)g->u[j], j < S ? j : 0,
                            s[j < S ? j : 0]);
        g->wtmp[j] = g->u[j];
    }
    /* a = A softmax(u), in double so that the weights sum to A to rounding */
    mtb_bal_softmax(g->wtmp, A, 1.0, w);
    for (int j = 0; j < A; j++)
        w[j] *= A;
    return MTB_OK;
}

/* ---- critics ---------------------------------------------------------------------------------- */

/* One Q network on xin (M, S+A): z1, z2 (M, H) post-ReLU, q (M). */
static void q_fwd(const mtb_igb_agent *g, float *theta, const float *xin, int M, float *z1,
                  float *z2, float *q)
{
    const int SA = g->c.S + g->c.A, H = g->c.H;
    q_view v = q_at(g, theta);
    dense_fwd(v.W1, v.b1, xin, z1, M, SA, H);
    relu(z1, (size_t)M * H);
    dense_fwd(v.W2, v.b2, z1, z2, M, H, H);
    relu(z2, (size_t)M * H);
    dense_fwd(v.W3, v.b3, z2, q, M, H, 1);
}

/* Backward of one Q network from dq (M): parameter gradients into grad (NULL: none), input
 * gradient into dxin (NULL: none). */
static void q_bwd(mtb_igb_agent *g, float *theta, const float *xin, const float *z1,
                  const float *z2, const float *dq, float *grad, float *dxin, int M)
{
    const int SA = g->c.S + g->c.A, H = g->c.H;
    q_view v = q_at(g, theta);
    q_view d = grad ? q_at(g, grad) : (q_view){0};
    dense_bwd(v.W3, z2, dq, d.W3, d.b3, g->dz2, M, H, 1);
    relu_bwd(z2, g->dz2, (size_t)M * H);
    dense_bwd(v.W2, z1, g->dz2, d.W2, d.b2, g->dz1, M, H, H);
    relu_bwd(z1, g->dz1, (size_t)M * H);
    dense_bwd(v.W1, xin, g->dz1, d.W1, d.b1, dxin, M, SA, H);
}

/* xin = [s, a] row by row */
static void concat(const mtb_igb_agent *g, const float *s, const float *a, int M)
{
    const size_t S = (size_t)g->c.S, A = (size_t)g->c.A, SA = S + A;
    for (int m = 0; m < M; m++) {
        memcpy(g->xin + m * SA, s + m * S, S * sizeof *s);
        memcpy(g->xin + m * SA + S, a + m * A, A * sizeof *a);
    }
}

/* a = A p for the actor's M rows, into ba-like buffer out */
static void actions_from_p(const mtb_igb_agent *g, int M, float *out)
{
    const size_t n = (size_t)M * g->c.A;
    for (size_t i = 0; i < n; i++)
        out[i] = (float)g->c.A * g->p[i];
}

/* y = r + gamma (min_i Qtarg_i(s', a') - alpha log pi(a'|s')) for the gathered minibatch */
static void td_targets(mtb_igb_agent *g, int M, mtb_rng *rng)
{
    const size_t A = (size_t)g->c.A, H = (size_t)g->c.H;
    draw_noise(g->eps, (size_t)M * A, rng);
    actor_fwd(g, g->bs2, M);
    actions_from_p(g, M, g->dxin); /* dxin as scratch for a' (M, A) */
    concat(g, g->bs2, g->dxin, M);
    for (int i = 0; i < 2; i++)
        q_fwd(g, g->target + i * g->n_q, g->xin, M, g->z1 + i * M * H, g->z2 + i * M * H,
              g->q + i * M);
    for (int m = 0; m < M; m++) {
        double tq = fmin((double)g->q[m], (double)g->q[M + m]);
        g->y[m] = (float)((double)g->br[m] + g->c.gamma * (tq - g->alpha * (double)g->logp[m]));
    }
}

/* Q_i(s, a) of both critics on the gathered (bs, ba); returns the TD loss. */
static double critic_fwd_td(mtb_igb_agent *g, int M)
{
    const size_t H = (size_t)g->c.H;
    concat(g, g->bs, g->ba, M);
    double loss = 0.0;
    for (int i = 0; i < 2; i++) {
        q_fwd(g, g->critic + i * g->n_q, g->xin, M, g->z1 + i * M * H, g->z2 + i * M * H,
              g->q + i * M);
        for (int m = 0; m < M; m++) {
            double d = (double)g->q[i * M + m] - g->y[m];
            loss += d * d / M;
        }
    }
    return loss;
}

/* Minibatch row m <- buffer entry k. */
static void gather_row(mtb_igb_agent *g, int m, size_t k)
{
    const size_t S = (size_t)g->c.S, A = (size_t)g->c.A;
    memcpy(g->bs + m * S, g->rs + k * S, S * sizeof *g->bs);
    memcpy(g->bs2 + m * S, g->rs2 + k * S, S * sizeof *g->bs);
    memcpy(g->ba + m * A, g->ra + k * A, A * sizeof *g->ba);
    g->br[m] = g->rr[k];
}

/* M rows drawn uniformly with replacement (torch.randint), or entries 0..M-1 (seq = 1). */
static void gather_rows(mtb_igb_agent *g, int M, mtb_rng *rng, int seq)
{
    for (int m = 0; m < M; m++)
        gather_row(g, m, seq ? (size_t)(m % g->size) : (size_t)mtb_rng_below(rng, (uint64_t)g->size));
}

double mtb_igb_agent_td_loss(mtb_igb_agent *g, int M, mtb_rng *rng)
{
    if (g->size < 1 || M < 1)
        return 0.0;
    if (M > g->c.batch)
        M = g->c.batch;
    mtb_igb_agent_ready(g, rng);
    gather_rows(g, M, rng, 1);
    td_targets(g, M, rng);
    return critic_fwd_td(g, M);
}

/* Critic loss of the current minibatch (rows in bs/ba/br/bs2, targets in y): the TD loss
 * (1/M) sum_i (Q_i - y)^2 of both critics; with want_grad, its gradient in dcritic. */
double mtb_igb_agent_critic_loss_grad(mtb_igb_agent *g, int M, int want_grad)
{
    const int H = g->c.H;
    double td = critic_fwd_td(g, M);
    if (!want_grad)
        return td;
    /* d loss / d Q_i = 2 (Q_i - y) / M */
    for (int i = 0; i < 2; i++) {
        for (int m = 0; m < M; m++)
            g->dq[m] = (float)(2.0 * ((double)g->q[i * M + m] - g->y[m]) / M);
        q_bwd(g, g->critic + i * g->n_q, g->xin, g->z1 + (size_t)i * M * H,
              g->z2 + (size_t)i * M * H, g->dq, g->dcritic + i * g->n_q, NULL, M);
    }
    return td;
}

/* Actor loss of the current minibatch states (bs) and noise (eps):
 * (1/M) sum_m alpha log pi(a~_m | s_m) - min_i Q_i(s_m, a~_m), a~ = A softmax(mu + std eps);
 * the mean log-density goes to *entropy_term. With want_grad, the gradient in dactor. */
double mtb_igb_agent_actor_loss_grad(mtb_igb_agent *g, int M, int want_grad, double *entropy_term)
{
    const int A = g->c.A, H = g->c.H, S = g->c.S, SA = S + A;
    actor_fwd(g, g->bs, M);
    actions_from_p(g, M, g->du); /* du as scratch for a~ */
    concat(g, g->bs, g->du, M);
    for (int i = 0; i < 2; i++)
        q_fwd(g, g->critic + i * g->n_q, g->xin, M, g->z1 + (size_t)i * M * H,
              g->z2 + (size_t)i * M * H, g->q + i * M);
    double aloss = 0.0, ent = 0.0;
    for (int m = 0; m < M; m++) {
        double qm = fmin((double)g->q[m], (double)g->q[M + m]);
        aloss += (g->alpha * (double)g->logp[m] - qm) / M;
        ent += (double)g->logp[m] / M;
    }
    if (entropy_term)
        *entropy_term = ent;
    if (!want_grad || !isfinite(aloss))
        return aloss;
    /* d loss / d a~ = -(1/M) d min_i Q_i / d a~: through the smaller critic (Q1 on ties) */
    memset(g->du, 0, (size_t)M * A * sizeof *g->du);
    for (int i = 0; i < 2; i++) {
        for (int m = 0; m < M; m++) {
            int pick = (g->q[m] <= g->q[M + m]) ? 0 : 1;
            g->dq[m] = pick == i ? (float)(-1.0 / M) : 0.0f;
        }
        q_bwd(g, g->critic + i * g->n_q, g->xin, g->z1 + (size_t)i * M * H,
              g->z2 + (size_t)i * M * H, g->dq, NULL, g->dxin, M);
        for (int m = 0; m < M; m++)
            for (int j = 0; j < A; j++)
                g->du[(size_t)m * A + j] += g->dxin[(size_t)m * SA + S + j];
    }
    for (int m = 0; m < M; m++) {
        float *da = g->du + (size_t)m * A;
        const float *p = g->p + (size_t)m * A;
        /* a = A softmax(u): d/du_j = A p_j (da_j - sum_k p_k da_k) */
        double pd = 0.0;
        for (int j = 0; j < A; j++)
            pd += (double)p[j] * da[j];
        for (int j = 0; j < A; j++) {
            size_t i = (size_t)m * A + j;
            double gu = (double)A * p[j] * ((double)da[j] - pd);
            /* + alpha/M d log pi / d u. With u = mu + std eps substituted, the Gaussian
             * part -eps^2/2 - log std - log(2 pi)/2 has total derivatives 0 in mu and -1 in
             * log std; the official term is log pi -= c(u) with c = 2 (log 2 - u -
             * softplus(-2u)) = log(1 - tanh^2 u), dc/du = -2 tanh u: + 2 tanh u. */
            if (g->c.official_logp)
                gu += g->alpha / M * 2.0 * tanh((double)g->u[i]);
            double sd = exp((double)g->ls[i]);
            double dls = gu * (double)g->eps[i] * sd - g->alpha / M;
            int inside = g->lsr[i] >= LOG_STD_MIN && g->lsr[i] <= LOG_STD_MAX;
            g->dls[i] = inside ? (float)dls : 0.0f; /* torch.clamp passes no gradient outside */
            da[j] = (float)gu; /* d loss / d mu = d loss / d u */
        }
    }
    {
        actor_view v = actor_at(g, g->actor), d = actor_at(g, g->dactor);
        dense_bwd(v.Wm, g->h2, g->du, d.Wm, d.bm, g->dh2, M, H, A);
        dense_bwd(v.Ws, g->h2, g->dls, d.Ws, d.bs, g->dh1, M, H, A);
        for (size_t i = 0; i < (size_t)M * H; i++)
            g->dh2[i] += g->dh1[i];
        relu_bwd(g->h2, g->dh2, (size_t)M * H);
        dense_bwd(v.W2, g->h1, g->dh2, d.W2, d.b2, g->dh1, M, H, H);
        relu_bwd(g->h1, g->dh1, (size_t)M * H);
        dense_bwd(v.W1, g->bs, g->dh1, d.W1, d.b1, NULL, M, S, H);
    }
    return aloss;
}

void mtb_igb_agent_prepare(mtb_igb_agent *g, int M, mtb_rng *rng)
{
    gather_rows(g, M, rng, 0);
    td_targets(g, M, rng);
}

void mtb_igb_agent_draw_noise(mtb_igb_agent *g, int M, mtb_rng *rng)
{
    draw_noise(g->eps, (size_t)M * g->c.A, rng);
}

mtb_status mtb_igb_agent_update(mtb_igb_agent *g, int M, mtb_rng *rng, const char *method,
                                mtb_error *err)
{
    const int A = g->c.A;
    if (g->size < 1)
        return mtb_fail(err, MTB_EINVAL, "method %s: SAC update with an empty replay buffer",
                        method);
    if (M < 1)
        M = 1;
    if (M > g->c.batch)
        M = g->c.batch;
    mtb_igb_agent_ready(g, rng);

    /* 1-2. critics */
    mtb_igb_agent_prepare(g, M, rng);
    double td = mtb_igb_agent_critic_loss_grad(g, M, 1);
    if (!isfinite(td))
        return mtb_fail(err, MTB_ENUMERIC, "method %s: the critics' TD loss is %g", method, td);
    mtb_optim_step(&g->opt_critic, g->critic, g->dcritic);
    g->last_td = td;

    /* 3. actor on fresh samples a~ = A softmax(mu + std eps) */
    mtb_igb_agent_draw_noise(g, M, rng);
    double ent = 0.0;
    double aloss = mtb_igb_agent_actor_loss_grad(g, M, 1, &ent);
    if (!isfinite(aloss))
        return mtb_fail(err, MTB_ENUMERIC, "method %s: the actor loss is %g (alpha %g)", method,
                        aloss, g->alpha);
    g->last_actor_loss = aloss;
    mtb_optim_step(&g->opt_actor, g->actor, g->dactor);

    /* 4. temperature: d/d log_alpha of -(1/M) sum log_alpha (log pi + target) */
    if (g->c.adaptive_alpha) {
        double grad = -(ent - (double)A); /* target entropy -A: log pi + (-A) */
        mtb_optim_config oc;
        mtb_optim_config_adam(&oc, g->c.lr);
        g->la_t++;
        mtb_optim_step_f64(&oc, g->la_t, 1, &g->log_alpha, &grad, &g->la_m, &g->la_v);
        g->alpha = exp(g->log_alpha);
        if (!isfinite(g->alpha))
            return mtb_fail(err, MTB_ENUMERIC, "method %s: the SAC temperature became %g",
                            method, g->alpha);
    }

    /* 5. Polyak averaging of the targets */
    const size_t nq = 2 * g->n_q;
    const float tau = (float)g->c.tau;
    for (size_t i = 0; i < nq; i++)
        g->target[i] = tau * g->critic[i] + (1.0f - tau) * g->target[i];
    return MTB_OK;
}
