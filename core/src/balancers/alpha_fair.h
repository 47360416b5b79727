/* alpha_fair.h: the positive solution w of  A w = w^{-1/alpha}  (elementwise power), the
 * optimality condition shared by Nash-MTL (alpha = 1: the Nash bargaining solution,
 * G G^T w = 1/w) and FairGrad (alpha-fair utility maximisation). Internal to libmtb;
 * allocation-free after mtb_afair_init. Method and limits: alpha_fair.c. */
#ifndef MTB_BALANCERS_ALPHA_FAIR_H
#define MTB_BALANCERS_ALPHA_FAIR_H

#include "mtb/status.h"

typedef struct mtb_afair_ws {
    int T;
    double *A;    /* (T, T) scaled system matrix */
    double *H;    /* (T, T) Newton matrix, then its Cholesky factor */
    double *r;    /* (T) residual = gradient of the potential */
    double *dw;   /* (T) Newton step */
    double *wt;   /* (T) trial point */
    double *Aw;   /* (T) */
} mtb_afair_ws;

typedef struct mtb_afair_result {
    int iters;        /* Newton iterations of the accepted solve */
    double resid;     /* max_t |(A w)_t - w_t^{-1/alpha}| / w_t^{-1/alpha}, with A the matrix
                         actually solved (including the ridge) */
    double ridge;     /* relative ridge used (0, the hparam, or the fallback) */
    int fallback;     /* 1 when the unregularised problem had no finite solution */
} mtb_afair_result;

mtb_status mtb_afair_init(mtb_afair_ws *ws, int T, const char *method, mtb_error *err);
void mtb_afair_free(mtb_afair_ws *ws);

/* Solves (A + ridge s I) w = w^{-1/alpha}, w > 0, for the symmetric positive semidefinite
 * A (T, T) row-major, s = mean diagonal of A. If that problem has no finite solution (the
 * iterates diverge: A is singular along a nonnegative direction) and ridge < fallback_ridge,
 * it is solved again with ridge = fallback_ridge. A with a zero diagonal (all gradients
 * zero) has no solution for any ridge: w = 0 is returned with res->fallback = 1.
 * Returns MTB_OK, or MTB_ENUMERIC (message naming `method`) when Newton's method did not
 * reach the tolerance in max_iter iterations even with the fallback. */
mtb_status mtb_afair_solve(mtb_afair_ws *ws, const double *A, double alpha, double ridge,
                           double fallback_ridge, int max_iter, double *w, mtb_afair_result *res,
                           const char *method, mtb_error *err);

#endif
