/* gram_input.c: the Gram path's input on the method side (gram_input.h). */
#include "gram_input.h"

#include <math.h>
#include <string.h>

#include "internal.h"

mtb_status mtb_bal_check_gram(const char *name, int T, const mtb_balancer_setup *setup,
                              double pre, const mtb_balance_in *in, mtb_error *err)
{
    if (setup->need != MTB_NEED_PARAM_GRADS || !setup->gram_ok)
        return mtb_fail(err, MTB_EINVAL,
                        "method %s needs the task gradients themselves, not only their Gram "
                        "matrix: run it without the Gram path", name);
    if (pre != MTB_PRE_NONE)
        return mtb_fail(err, MTB_EINVAL,
                        "method %s: a loss pre-transform rescales the task gradients and needs "
                        "G itself: run it without the Gram path", name);
    if (in->blocks.n != 0 || in->D != 0)
        return mtb_fail(err, MTB_EINVAL,
                        "method %s: a Gram-path step carries no columns (D = %zu, %d blocks)",
                        name, in->D, in->blocks.n);
    const double *M = in->gram.M;
    for (int i = 0; i < T; i++)
        for (int j = 0; j <= i; j++) {
            double a = M[(size_t)i * T + j], b = M[(size_t)j * T + i];
            if (!isfinite(a) || a != b || (i == j && a < 0.0))
                return mtb_fail(err, MTB_ENUMERIC,
                                "method %s: Gram entry (%d, %d) = %g (its mirror %g) is not "
                                "finite, not symmetric or a negative diagonal", name, i, j, a, b);
        }
    return MTB_OK;
}

void mtb_bal_gram_of(const mtb_balance_in *in, double *M)
{
    if (in->G)
        mtb_bal_gram(in->G, in->T, in->D, M);
    else
        memcpy(M, in->gram.M, (size_t)in->T * (size_t)in->T * sizeof *M);
}
