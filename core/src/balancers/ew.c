/* ew.c: Equal Weighting, the baseline every paper compares with.
 *   L = sum_t l_t, i.e. w_t = 1 for heads and trunk.
 * The RLW paper (Lin et al., "A Closer Look at Loss Weighting in Multi-Task Learning",
 * ICLR 2022 submission, Sec. 2) uses lambda_t = 1; LibMTL's EW also applies 1 (its
 * docstring says 1/T, the code does not). */
#include "mtb/balancer.h"

static mtb_status ew_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                          mtb_balancer_setup *setup, mtb_error *err)
{
    (void)state, (void)T, (void)D_max, (void)hp, (void)err;
    setup->need = MTB_NEED_LOSSES;
    return MTB_OK;
}

static mtb_status ew_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                          mtb_error *err)
{
    (void)state, (void)err;
    for (int t = 0; t < in->T; t++)
        out->head_w[t] = out->trunk_w[t] = 1.0;
    return MTB_OK;
}

const mtb_balancer_type mtb_balancer_ew = {
    .name = "ew",
    .summary = "equal weights: every loss with weight 1",
    .cite = "baseline (weights 1 as in Lin et al., A Closer Look at Loss Weighting in MTL, 2022)",
    .hparams = NULL,
    .n_hparams = 0,
    .state_size = 0,
    .init = ew_init,
    .step = ew_step,
    .fini = NULL,
};
