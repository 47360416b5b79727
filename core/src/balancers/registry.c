/* registry.c: every balancing method mtb has, in the order `mtb methods` lists them.
 * Adding a method: write core/src/balancers/<name>.c ending in its type object,
 * declare it here and add it to the list. */
#include <string.h>

#include "mtb/balancer.h"

/* Loss weighting with fixed or random weights (RLW paper, random-weighting paper). */
extern const mtb_balancer_type mtb_balancer_ew, mtb_balancer_constant, mtb_balancer_rlw,
    mtb_balancer_rgw, mtb_balancer_rlw_l2c;
/* Loss-based weighting (losses only, or learnable loss scales). */
extern const mtb_balancer_type mtb_balancer_uw, mtb_balancer_dwa, mtb_balancer_gls,
    mtb_balancer_slaw, mtb_balancer_imtl_l;
/* Loss + gradient hybrids of the loss-balancing papers (IMTL, DB-MTL). */
extern const mtb_balancer_type mtb_balancer_imtl_g, mtb_balancer_imtl, mtb_balancer_db_mtl;
/* Gradient methods: learned weights from gradient norms, min-norm/conflict-averse
 * directions, gradient surgery (explicit trunk gradients). */
extern const mtb_balancer_type mtb_balancer_gradnorm, mtb_balancer_mgda, mtb_balancer_cagrad,
    mtb_balancer_pcgrad, mtb_balancer_gradvac, mtb_balancer_graddrop;
/* Gradient methods of issue 5: eigen-alignment, bargaining/fairness solvers, projections
 * onto the dual cone, scalarisations, stochastic-bias corrections. */
extern const mtb_balancer_type mtb_balancer_aligned_mtl, mtb_balancer_stch,
    mtb_balancer_excess_mtl, mtb_balancer_moco, mtb_balancer_nash_mtl, mtb_balancer_fairgrad,
    mtb_balancer_upgrad;
/* Methods using the interface extensions of balancer.h: losses after the update (FAMO),
 * several samples per step (MoDo, SDMGrad). */
extern const mtb_balancer_type mtb_balancer_famo, mtb_balancer_modo, mtb_balancer_sdmgrad;
/* Improvable gap balancing (heuristic, and a SAC agent trained online). */
extern const mtb_balancer_type mtb_balancer_igbv1, mtb_balancer_igbv2;
/* Per-layer methods using the parameter blocks of balancer.h (MetaBalance, MTAdam). */
extern const mtb_balancer_type mtb_balancer_metabalance, mtb_balancer_mtadam;

const mtb_balancer_type *const mtb_balancer_types[] = {
    &mtb_balancer_ew,
    &mtb_balancer_constant,
    &mtb_balancer_rlw,
    &mtb_balancer_rgw,
    &mtb_balancer_rlw_l2c,
    &mtb_balancer_uw,
    &mtb_balancer_dwa,
    &mtb_balancer_gls,
    &mtb_balancer_slaw,
    &mtb_balancer_imtl_l,
    &mtb_balancer_imtl_g,
    &mtb_balancer_imtl,
    &mtb_balancer_db_mtl,
    &mtb_balancer_gradnorm,
    &mtb_balancer_mgda,
    &mtb_balancer_cagrad,
    &mtb_balancer_pcgrad,
    &mtb_balancer_gradvac,
    &mtb_balancer_graddrop,
    &mtb_balancer_aligned_mtl,
    &mtb_balancer_stch,
    &mtb_balancer_excess_mtl,
    &mtb_balancer_moco,
    &mtb_balancer_nash_mtl,
    &mtb_balancer_fairgrad,
    &mtb_balancer_upgrad,
    &mtb_balancer_famo,
    &mtb_balancer_modo,
    &mtb_balancer_sdmgrad,
    &mtb_balancer_igbv1,
    &mtb_balancer_igbv2,
    &mtb_balancer_metabalance,
    &mtb_balancer_mtadam,
    NULL,
};

const mtb_balancer_type *mtb_balancer_find(const char *name)
{
    for (int i = 0; mtb_balancer_types[i]; i++)
        if (!strcmp(mtb_balancer_types[i]->name, name))
            return mtb_balancer_types[i];
    return NULL;
}
