/* golden_reference.h: the runner's own solvers of the solver methods' problems, written
 * independently of core/ (different algorithms from mtb's solvers, in double), so that
 * golden_optimality.c can measure an objective gap of mtb's and of LibMTL's weights against
 * a reference that neither of them computed. Every function works on caller-provided arrays
 * (T x T row-major matrices) and returns how well its own answer satisfies the optimality
 * conditions, so that a reference that did not converge is seen, not trusted. */
#ifndef MTB_GOLDEN_REFERENCE_H
#define MTB_GOLDEN_REFERENCE_H

#include <stddef.h>

/* A = G G^T of the T rows of G (T, D). */
void golden_gram(const double *G, int T, size_t D, double *A);

/* Solves the n x n system A x = r in place by Gaussian elimination with partial pivoting;
 * A has leading dimension ld and is overwritten; r becomes x. -1 if A is singular. */
int golden_solve_small(double *A, int n, int ld, double *r);

/* Euclidean projection of y (T) onto the simplex {x >= 0, sum x = 1}; tmp (T) is scratch. */
void golden_simplex_project(const double *y, int T, double *x, double *tmp);

/* A convex problem on the simplex, F(w) = c2 w^T A w + w.b + c sqrt(w^T A w + eps):
 *   MGDA    c2 = 1, b = NULL, c = 0   (min-norm point of the normalised gradients)
 *   CAGrad  c2 = 0, b = A 1 / T, c > 0 (CAGrad's dual, Alg. 1). */
typedef struct golden_simplex_problem {
    int T;
    const double *A; /* (T, T) symmetric positive semidefinite */
    const double *b; /* (T) or NULL */
    double c2, c, eps;
} golden_simplex_problem;

/* F(w); its gradient into grad (T) unless NULL; Aw (T) is scratch. */
double golden_simplex_value(const golden_simplex_problem *p, const double *w, double *grad,
                            double *Aw);
/* Frank-Wolfe (duality) gap grad F(w).w - min_k grad F(w)_k: an upper bound on
 * F(w) - min F for w on the simplex. */
double golden_fw_gap(const double *grad, const double *w, int T);
/* Minimises F over the simplex from the centre by accelerated projected gradient (FISTA,
 * backtracking on the Lipschitz constant, function-value restarts), until the FW gap is
 * below gap_stop, F stops decreasing at double precision, or after max_iter iterations.
 * x (T) receives the minimiser; work holds 6 T doubles. Returns the FW gap of x (the
 * certificate: F(x) - min F <= it; usually a loose bound, F converges faster than x). */
double golden_simplex_solve(const golden_simplex_problem *p, double gap_stop, int max_iter,
                            double *x, double *work);

/* The alpha = 1 equation of FairGrad and Nash-MTL, A a = 1 / a with a > 0: the minimiser of
 * the strictly convex f(a) = a^T A a / 2 - sum log a_t, by coordinate descent (closed form
 * per coordinate) then damped Newton. a (T) receives it; work holds T^2 + 4 T doubles.
 * Returns the relative residual max_t |A a - 1/a|_t / max(|A a|_inf, |1/a|_inf), or
 * INFINITY when no positive solution exists (a zero diagonal entry; 0 in the cone of the
 * gradients makes f unbounded below and the iteration diverge). */
double golden_alpha1_solve(const double *A, int T, double *a, double *work);
/* f(a) above; INFINITY if some a_t <= 0. */
double golden_alpha1_value(const double *A, int T, const double *a);

/* UPGrad's projection problem min v^T M v s.t. v >= u (M symmetric positive definite):
 * exactly, by enumerating the sets of free coordinates (T <= GOLDEN_UPGRAD_ENUM_T), else by
 * coordinate descent whose active set is then solved exactly and checked. v (T) receives
 * the minimiser; work holds T^2 + 3 T doubles and iwork T ints. Returns 0, or -1 when the
 * coordinate-descent answer does not satisfy the KKT conditions to 1e-12. */
#define GOLDEN_UPGRAD_ENUM_T 12
int golden_upgrad_qp(const double *M, int T, const double *u, double *v, double *work,
                     int *iwork);

#endif
