/* gram_input.h: the Gram path's input (balancer.h, in->gram) on the method side. */
#ifndef MTB_BALANCERS_GRAM_INPUT_H
#define MTB_BALANCERS_GRAM_INPUT_H

#include "mtb/balancer.h"

/* The driver's check of a step that carries in->gram.M instead of G: the method declared
 * gram_ok, no pre-transform (it rescales the rows of G: the method would need G), no parameter
 * blocks, and a finite symmetric (T, T) matrix with a non-negative diagonal. */
mtb_status mtb_bal_check_gram(const char *name, int T, const mtb_balancer_setup *setup,
                              double pre, const mtb_balance_in *in, mtb_error *err);

/* M (T, T) = G G^T from in->G, or a copy of in->gram.M on the Gram path. */
void mtb_bal_gram_of(const mtb_balance_in *in, double *M);

#endif
