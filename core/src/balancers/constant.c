/* constant.c: fixed, caller-given loss weights (SLAW code's Constant / IdealConstant,
 * spec section 4.7). The weights are a vector of T values, which mtb_hparams cannot hold,
 * so they are set after creation with mtb_balancer_set_constant_weights(); until then
 * they are all 1 (Constant). IdealConstant on MTRRegression is this method given
 * w_i = 1/sigma_i^2 with the default normalisation sum_T (weights rescaled to sum T,
 * spec section 3.3).
 * Heads and trunk get the same weight (it is a loss weight). */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

enum { NORM_NONE = 0, NORM_SUM_T = 1, NORM_SUM_1 = 2 };

static const mtb_hparam_def constant_hp[] = {
    {"normalise", MTB_HP_CHOICE, NORM_SUM_T, 0, 0, "none|sum_T|sum_1",
     "rescaling of the weights given to mtb_balancer_set_constant_weights (sum_T: IdealConstant, "
     "SLAW spec 3.3)"},
};

typedef struct constant_state {
    int T, norm;
    double *w;
} constant_state;

static mtb_status constant_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                                mtb_balancer_setup *setup, mtb_error *err)
{
    (void)D_max;
    constant_state *s = state;
    s->T = T;
    s->norm = (int)hp->v[0];
    s->w = malloc((size_t)T * sizeof *s->w);
    if (!s->w)
        return mtb_fail(err, MTB_ENOMEM, "method constant: cannot allocate %d weights", T);
    mtb_bal_fill(s->w, T, 1.0);
    setup->need = MTB_NEED_LOSSES;
    return MTB_OK;
}

static mtb_status constant_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                                mtb_error *err)
{
    (void)err;
    constant_state *s = state;
    for (int t = 0; t < in->T; t++)
        out->head_w[t] = out->trunk_w[t] = s->w[t];
    return MTB_OK;
}

static void constant_fini(void *state)
{
    free(((constant_state *)state)->w);
}

const mtb_balancer_type mtb_balancer_constant = {
    .name = "constant",
    .summary = "fixed weights set by the caller (1 until set; IdealConstant = 1/sigma^2)",
    .cite = "Crawshaw & Kosecka, SLAW (code's Constant/IdealConstant weighters), 2021",
    .hparams = constant_hp,
    .n_hparams = 1,
    .state_size = sizeof(constant_state),
    .init = constant_init,
    .step = constant_step,
    .fini = constant_fini,
};

mtb_status mtb_balancer_set_constant_weights(mtb_balancer *b, const double *w, mtb_error *err)
{
    if (!b || !w)
        return mtb_fail(err, MTB_EINVAL, "method constant: NULL balancer or weights");
    if (mtb_balancer_get_type(b) != &mtb_balancer_constant)
        return mtb_fail(err, MTB_EINVAL,
                        "mtb_balancer_set_constant_weights works on method constant, not %s",
                        mtb_balancer_get_type(b)->name);
    constant_state *s = mtb_balancer_state_(b);
    double sum = 0.0;
    for (int t = 0; t < s->T; t++) {
        if (!isfinite(w[t]) || w[t] < 0.0)
            return mtb_fail(err, MTB_EINVAL,
                            "method constant: weight %d must be finite and >= 0, got %g", t, w[t]);
        sum += w[t];
    }
    if (s->norm != NORM_NONE && !(sum > 0.0 && isfinite(sum)))
        return mtb_fail(err, MTB_EINVAL,
                        "method constant: weights sum to %g, cannot normalise (normalise=%s)", sum,
                        s->norm == NORM_SUM_T ? "sum_T" : "sum_1");
    double f = s->norm == NORM_SUM_T ? s->T / sum : s->norm == NORM_SUM_1 ? 1.0 / sum : 1.0;
    for (int t = 0; t < s->T; t++)
        s->w[t] = w[t] * f;
    return MTB_OK;
}
