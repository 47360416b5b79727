/* toy2d.h: the two-objective 2-D toy with a known Pareto front (imtl.md I12: the CAGrad toy
 * as modified in the Nash-MTL authors' code), and one Adam trajectory of a registered method
 * on it. Used by IMTL's I12 (scale invariance) and DB-MTL's D3 panel (the alpha_k strategies).
 *
 *   x = (x1, x2),  a = -(x1 + 7)/2 + tanh x2,  b = (3 - x1)/2 - tanh x2 + 2,
 *   h_1 = ln max(|a|, 5e-6) + 6,  h_2 = ln max(|b|, 5e-6) + 6,
 *   q_1 = ((x1 - 7)^2 + 0.1 (x2 + 8)^2)/10 - 20,  q_2 = ((x1 + 7)^2 + 0.1 (x2 + 8)^2)/10 - 20,
 *   c+ = max(tanh(x2/2), 0),  c- = max(-tanh(x2/2), 0),  f_t = h_t c+ + q_t c-,
 * the derivative of max passing at equality (PyTorch's clamp; it matters at the start (0, 0)).
 * The methods see l_t = f_t + 21 > 0, with l_1 multiplied by k (gradient methods then see
 * k grad f_1). x is the whole "trunk" (no heads). "On the front" = |x2 + 8.38| < 0.1 at the
 * end (the Pareto set: x1 in [-7, 7], x2 in [-8.43, -8.30]). */
#ifndef REPRO_TOY2D_H
#define REPRO_TOY2D_H

#include <stddef.h>
#include <stdio.h>

enum { REPRO_TOY2D_NSTART = 5 };
/* the spec's five starts */
extern const double REPRO_TOY2D_STARTS[REPRO_TOY2D_NSTART][2];

/* f (2) and its Jacobian J (2 x 2, row t = grad f_t) at x */
void repro_toy2d(const double *x, double *f, double *J);

/* 1 when x is on the Pareto front (|x2 + 8.38| < 0.1) */
int repro_toy2d_on_front(const double *x);

/* One trajectory of `method` with options `opts` (mtb_hparams syntax) from x0: `steps` Adam
 * steps at lr (learnable balancer parameters, as uw's or imtl_l's scales, take the same Adam
 * at the balancer's own lr when it has one), l_1 scaled by k. Writes the end point to xe and,
 * when path is not NULL, the point every 100 steps. Returns 0; 1 when the balancer failed
 * during the run (xe is then where it stopped); -1 when the method or its options are
 * unknown (msg says why). */
int repro_toy2d_run(const char *method, const char *opts, double k, const double *x0, long steps,
                    double lr, FILE *path, double *xe, char *msg, size_t len);

#endif
