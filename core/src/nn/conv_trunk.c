/* conv_trunk.c: the named trunks (model.h, mtb_trunk_preset).
 *
 * lenet-pmtl, spec multifashion.md sec. 3: the target network of Pareto MTL (Lin et al. 2019),
 * EPO and PHN (their model_lenet.py), on 1 x 36 x 36 images:
 *   conv 1 -> 10, 9 x 9 (36 -> 28)   820 parameters
 *   ReLU, max-pool 2 (-> 14)
 *   conv 10 -> 20, 5 x 5 (-> 10)     5 020
 *   ReLU, max-pool 2 (-> 5)
 *   flatten 500, dense 500 -> 50     25 050
 *   ReLU = the shared representation z in R^50 (30 890 shared parameters)
 * Their code pools before the ReLU; ReLU and max-pooling commute (both monotone), so the
 * function and its gradient are the same, and ReLU first keeps the pooled zeros exact.
 *
 * mlp, spec sec. 3 "MLP variant" [ours, for smoke runs]: flatten, dense 256, ReLU, dense 128,
 * ReLU. No published number applies to it. */
#include "mtb/model.h"

#include <stdio.h>
#include <string.h>

mtb_status mtb_trunk_preset(const char *name, int d_in, mtb_trunk_spec *spec, mtb_error *err)
{
    memset(spec, 0, sizeof *spec);
    if (name && !strcmp(name, "lenet-pmtl")) {
        if (d_in != 36 * 36)
            return mtb_fail(err, MTB_EINVAL, "trunk lenet-pmtl takes 1 x 36 x 36 images (1296 "
                            "inputs), the data set has %d inputs", d_in);
        static const mtb_layer_spec lenet[] = {
            {MTB_LAYER_CONV, 10, 9}, {MTB_LAYER_RELU, 0, 0}, {MTB_LAYER_MAXPOOL, 0, 2},
            {MTB_LAYER_CONV, 20, 5}, {MTB_LAYER_RELU, 0, 0}, {MTB_LAYER_MAXPOOL, 0, 2},
            {MTB_LAYER_FLATTEN, 0, 0}, {MTB_LAYER_DENSE, 50, 0}, {MTB_LAYER_RELU, 0, 0}};
        spec->input = (mtb_image_shape){1, 36, 36};
        spec->n = (int)(sizeof lenet / sizeof *lenet);
        memcpy(spec->layers, lenet, sizeof lenet);
        return MTB_OK;
    }
    if (name && !strcmp(name, "mlp")) {
        if (d_in < 1)
            return mtb_fail(err, MTB_EINVAL, "trunk mlp: %d inputs", d_in);
        static const mtb_layer_spec mlp[] = {
            {MTB_LAYER_FLATTEN, 0, 0}, {MTB_LAYER_DENSE, 256, 0}, {MTB_LAYER_RELU, 0, 0},
            {MTB_LAYER_DENSE, 128, 0}, {MTB_LAYER_RELU, 0, 0}};
        spec->input = (mtb_image_shape){d_in, 1, 1};
        spec->n = (int)(sizeof mlp / sizeof *mlp);
        memcpy(spec->layers, mlp, sizeof mlp);
        return MTB_OK;
    }
    return mtb_fail(err, MTB_EINVAL, "unknown trunk '%s' (known: lenet-pmtl, mlp)",
                    name ? name : "(none)");
}
