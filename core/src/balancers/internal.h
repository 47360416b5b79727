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
/* Euclidean norm of a length-n vector (cblas_dnrm2: no overflow for large entries). */
double mtb_bal_norm(const double *x, size_t n);
void mtb_bal_fill(double *x, int n, double v);
/* Scales x so that its entries sum to target; returns 0, or -1 (x untouched) when the
 * sum is not a positive finite number. */
int mtb_bal_normalise_sum(double *x, int n, double target);

#endif
