/* golden_map_loss.c: golden-fixture entries of the loss-based methods (EW, GLS, UW, DWA,
 * IMTL, DB-MTL, RLW). See golden.h for what the runner does with them, and
 * LIBMTL-FORMULAS.md beside the fixtures for what LibMTL computes. */
#include <math.h>

#include "golden.h"

/* GLS: LibMTL returns l_t / (T prod_s l_s), not the applied coefficients. */
static void gls_weights(const golden_step *s, double *out)
{
    double mlog = 0.0;
    for (int t = 0; t < s->T; t++)
        mlog += log(s->losses[t]);
    for (int t = 0; t < s->T; t++)
        out[t] = exp(log(s->losses[t]) - mlog) / s->T;
}

/* Methods whose LibMTL class returns a vector of ones (DB_MTL). */
static void ones(const golden_step *s, double *out)
{
    for (int t = 0; t < s->T; t++)
        out[t] = 1.0;
}

/* IMTL: LibMTL returns alpha (the IMTL-G weights of the scaled gradients e^s g);
 * mtb's trunk weights on the raw gradients are alpha_t e^{s_t}. */
static void imtl_weights(const golden_step *s, double *out)
{
    for (int t = 0; t < s->T; t++)
        out[t] = s->trunk_w[t] / exp(s->learn[t]);
}

const golden_entry golden_entries_loss[] = {
    {.fixture = "EW", .method = "ew", .options = "", .weights = NULL,
     .note = "weights 1 (LibMTL applies 1, not 1/T)"},
    {.fixture = "GLS", .method = "gls", .options = "", .weights = gls_weights,
     .note = "same gradient; LibMTL returns l_t/(T prod l)"},
    {.fixture = "UW", .method = "uw", .options = "init=-0.5",
     .note = "LibMTL initialises s = -0.5 (SLAW code: -ln 2); same loss l/(2e^s) + s/2"},
    {.fixture = "DWA", .method = "dwa", .options = "variant=epoch,temp=2",
     .note = "LibMTL's DWA is the original per-epoch rule"},
    {.fixture = "IMTL", .method = "imtl", .options = "level=param,init=0",
     .weights = imtl_weights,
     .note = "hybrid IMTL on parameter gradients (LibMTL rep_grad=False); returns alpha"},
    {.fixture = "DB_MTL", .method = "db_mtl", .options = "beta=0.9,beta_sigma=0,level=param",
     .weights = ones, .note = "LibMTL's DB_beta=0.9, DB_beta_sigma=0; it returns ones"},
    {.fixture = "RLW", .method = "rlw", .options = "dist=normal,scale=one",
     .note = "softmax of standard normal draws, weights sum to 1 (LibMTL = mtb's default); the "
             "recorded draws inputs/random_normal are replayed as the raw weights"},
    {.fixture = NULL},
};
