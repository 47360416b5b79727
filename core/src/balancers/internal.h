/* internal.h: helpers shared by the balancing methods (not part of the public API).
 * The BLAS-backed ones live in util.c; every kernel here is allocation-free. */
#ifndef MTB_BALANCERS_INTERNAL_H
#define MTB_BALANCERS_INTERNAL_H

#include <stddef.h>

#include "mtb/balancer.h"

/* The method state of a balancer (for method-specific entry points such as
 * mtb_balancer_set_constant_weights). */
void *mtb_balancer_state_(mtb_balancer *b);

/* out = softmax(x / temp) over n entries, computed stably (max subtracted). */
void mtb_bal_softmax(const double *x, int n, double temp, double *out);
/* M = G G^T: G is (T, D) row-major, M is (T, T) row-major (cblas_dgemm). */
void mtb_bal_gram(const double *G, int T, size_t D, double *M);
/* out = G^T w: G is (T, D), w is (T), out is (D) (cblas_dgemv). */
void mtb_bal_gtw(const double *G, int T, size_t D, const double *w, double *out);
/* x . y over n entries (cblas_ddot). */
double mtb_bal_dot(const double *x, const double *y, size_t n);
/* Euclidean norm of a length-n vector (cblas_dnrm2: no overflow for large entries). */
double mtb_bal_norm(const double *x, size_t n);
void mtb_bal_fill(double *x, int n, double v);
/* w^T M w for a (T, T) row-major M: |G^T w|^2 when M = G G^T (the Gram path's norms). */
double mtb_bal_quad(const double *M, int T, const double *w);
/* Visiting order of task i (PCGrad, GradVac) into idx: the T - 1 tasks other than i, or all
 * T tasks when self; ascending, or in a fresh random order drawn from rng when shuffle (a new
 * permutation per task and step), or row i of `recorded` (T rows of that length, replayed
 * draws checked by mtb_bal_check_orders) when it is not NULL. Returns the length. */
int mtb_bal_visit_order(size_t *idx, int T, int i, int self, int shuffle, mtb_rng *rng,
                        const int *recorded);
/* Checks recorded visiting orders (in->draws.orders): T rows of T - 1 (+1 when self) entries,
 * row i a permutation of the tasks other than i (all tasks when self). seen: T bytes of
 * workspace. MTB_EINVAL naming the method otherwise. */
mtb_status mtb_bal_check_orders(const mtb_balance_draws *d, int T, int self, unsigned char *seen,
                                const char *method, mtb_error *err);
/* Output of a method whose trunk gradient is sum_j c_j g_j over the original gradients
 * (PCGrad, GradVac): trunk_grad = G^T c when the caller gave one, trunk_w = c (the
 * equivalent loss weights), heads unweighted. */
void mtb_bal_output_combination(const mtb_balance_in *in, const double *c, mtb_balance_out *out);
/* T learnable per-task scalars (UW's log-variances, IMTL-L's scales) declared to the caller
 * through setup: one allocation holding the values (set to init), their gradients and
 * `extra` more blocks of T zeroed doubles for the method's own use, in that order. The
 * caller's optimiser updates them with learning rate lr (0: the model's). *values owns the
 * allocation (free it in fini). */
mtb_status mtb_bal_learnable(int T, int extra, double init, double lr, mtb_balancer_setup *setup,
                             double **values, const char *method, mtb_error *err);
/* Scales x so that its entries sum to target; returns 0, or -1 (x untouched) when the
 * sum is not a positive finite number. */
int mtb_bal_normalise_sum(double *x, int n, double target);

#endif

/* ---- random loss/gradient weights (rlw.c), shared by rlw, rgw and rlw_l2c -------- */

enum {
    MTB_RLW_UNIFORM = 0,
    MTB_RLW_NORMAL = 1,
    MTB_RLW_DIRICHLET = 2,
    MTB_RLW_BERNOULLI = 3,
    MTB_RLW_CBERNOULLI = 4,
    MTB_RLW_RANDOM_NORMAL = 5,
    MTB_RLW_NDIST = 6, /* the papers' random distributions (rlw_l2c combines these) */
    MTB_RLW_EQUAL = 6  /* the point mass lambda~ = 1/T: FW with mu = 1/T, i.e. ew-mean */
};
#define MTB_RLW_CHOICES \
    "uniform|normal|dirichlet|bernoulli|constrained_bernoulli|random_normal|equal"

typedef struct mtb_rlw_sampler {
    int T;
    int dirichlet_identity;  /* 1: Dirichlet draws used as they are (TMLR); 0: softmax (ICLR) */
    int bernoulli_raw;       /* 1: LibMTL (arXiv version): raw 0/1 weights, no division */
    int redraw_random_normal;/* 1: new (mean, var) per task at every step */
    int bernoulli_zero;      /* 1: an all-zero Bernoulli draw gives lambda~ = 0 (no shared
                                update that step) instead of being redrawn (rlw.md sec. 1) */
    int rn_ready;            /* random-normal parameters drawn */
    double *alpha;           /* (T) ones, Dirichlet parameter */
    double *mu, *sd;         /* (T) random-normal parameters */
} mtb_rlw_sampler;

mtb_status mtb_rlw_sampler_init(mtb_rlw_sampler *s, int T, const char *method, mtb_error *err);
void mtb_rlw_sampler_free(mtb_rlw_sampler *s);
/* One raw draw lambda (before normalisation) of distribution dist into raw[T].
 * Bernoulli draws may be all zero here. */
mtb_status mtb_rlw_draw(mtb_rlw_sampler *s, int dist, mtb_rng *rng, double *raw, mtb_error *err);
/* One normalised weight vector of distribution dist (sums to 1, except the raw
 * LibMTL Bernoulli variant and the all-zero draw of the `zero` convention) into w[T]. */
mtb_status mtb_rlw_sample(mtb_rlw_sampler *s, int dist, mtb_rng *rng, double *w, mtb_error *err);
/* The same from a recorded raw draw (replay, balancer.h): d->values holds the T raw weights
 * lambda of distribution dist before f; f is applied as in mtb_rlw_sample. MTB_EINVAL for a
 * count other than T or an all-zero Bernoulli draw. */
mtb_status mtb_rlw_replay(mtb_rlw_sampler *s, int dist, const mtb_balance_draws *d, double *w,
                          const char *method, mtb_error *err);

/* ---- IMTL-G closed form (imtl_g.c), shared by imtl_g and imtl -------------------- */

typedef struct mtb_imtl_ws {
    int T;
    double *M;    /* (T, T) Gram matrix of the gradients, filled by the caller */
    double *nrm;  /* (T) */
    double *A;    /* (T-1, T-1) system matrix, then its LU factors */
    double *K;    /* (T-1, T-1) normal matrix of the fallback */
    double *b, *x;/* (T-1) */
    int *act;     /* (T) indices of the tasks with a non-zero gradient */
    int *piv;     /* (T-1) */
    int fallback; /* out: 1 if the last solve used the regularised fallback */
} mtb_imtl_ws;

mtb_status mtb_imtl_ws_init(mtb_imtl_ws *w, int T, const char *method, mtb_error *err);
void mtb_imtl_ws_free(mtb_imtl_ws *w);
/* IMTL-G weights alpha[T] (sum 1) from the Gram matrix w->M of the task gradients. */
void mtb_imtl_g_solve(mtb_imtl_ws *w, double *alpha);

/* ---- the loss pre-transform in front of any method (pre_transform.c) ---------------- */

typedef struct mtb_pre_ws {
    int kind;            /* MTB_PRE_NONE: everything below unused */
    double eps;          /* pre=log */
    int dist, have_smp;  /* pre=rlw: the distribution, and its sampler (rlw.c) and stream */
    mtb_rlw_sampler smp;
    mtb_rng rng;
    int T, K;            /* tasks, samples per step */
    size_t D_max;        /* gradient columns copied (0: the method takes only losses) */
    double *c;           /* (K, T) factors c_t = f'(l_t) */
    double *l;           /* (K + 1, T) transformed losses; the last row after the update */
    double *G;           /* (K, T, D_max) scaled gradients, or NULL */
    const double *lp[MTB_MAX_SAMPLES], *Gp[MTB_MAX_SAMPLES];
} mtb_pre_ws;

/* Index of a pre-transform option name in mtb_pre_hparams, or -1. */
int mtb_pre_find(const char *key);
/* Sets w up from hp->pre for T tasks, K samples, gradients of D_max columns when with_grads. */
mtb_status mtb_pre_ws_init(mtb_pre_ws *w, const double *pre, int T, size_t D_max, int K,
                           int with_grads, unsigned long long seed, const char *method,
                           mtb_error *err);
void mtb_pre_ws_free(mtb_pre_ws *w);
/* local (a copy of in) gets the transformed losses and gradients. */
mtb_status mtb_pre_apply(mtb_pre_ws *w, const mtb_balance_in *in, mtb_balance_in *local,
                         const char *method, mtb_error *err);
/* The method's weights (on transformed gradients) become weights on the raw ones. */
void mtb_pre_output(const mtb_pre_ws *w, mtb_balance_out *out);
/* *lp = the transformed losses after the update (l itself without a transform). */
mtb_status mtb_pre_losses_after(mtb_pre_ws *w, const double *l, const double **lp,
                                const char *method, mtb_error *err);
