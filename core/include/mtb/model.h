/* model.h: hard parameter sharing: a trunk of layers producing the shared representation z,
 * then T linear heads, head t mapping z (dz) to out_t outputs.
 *
 * All parameters live in one slab theta (and the gradient in grad, same layout):
 *   [ trunk layers, in order | W_heads (sum_out, dz) row-major | b_heads (sum_out) ]
 * Head t owns rows head_off[t] .. head_off[t] + head_out[t] - 1 of W_heads and the same
 * entries of b_heads, so one gemm computes every head's output. */
#ifndef MTB_MODEL_H
#define MTB_MODEL_H

#include <stddef.h>

#include "mtb/layer.h"
#include "mtb/rng.h"
#include "mtb/status.h"

#define MTB_MAX_HIDDEN 16

typedef enum mtb_activation { MTB_ACT_TANH = 0, MTB_ACT_RELU = 1 } mtb_activation;

#define MTB_MAX_LAYERS 32

typedef struct mtb_model_config {
    int d_in;
    int n_hidden;                  /* dense layers in the trunk (>= 1) */
    int widths[MTB_MAX_HIDDEN];    /* their output widths; the last is dim z */
    mtb_activation act;            /* after every trunk layer */
    int T;
    const int *head_out;           /* (T) head widths */
} mtb_model_config;

/* One layer of a trunk given as a list (image trunks). */
typedef struct mtb_layer_spec {
    mtb_layer_kind kind;
    int size;                      /* dense: output width; conv: output channels; else 0 */
    int kernel;                    /* conv: kernel side; maxpool: window side; else 0 */
} mtb_layer_spec;

/* A trunk layer by layer on input images of shape `input` (layer.h: stored (h, w, c)). Image
 * layers (conv, maxpool, activations on images) come first, then flatten, then dense layers
 * and activations; the last layer's output is z. */
typedef struct mtb_trunk_spec {
    mtb_image_shape input;
    int n;
    mtb_layer_spec layers[MTB_MAX_LAYERS];
} mtb_trunk_spec;

/* The named trunks of docs/multifashion.md (spec multifashion.md sec. 3), for inputs of d_in
 * floats. "lenet-pmtl": the LeNet of Pareto MTL / EPO / PHN on 1 x 36 x 36 images: conv 10
 * 9x9, ReLU, pool 2, conv 20 5x5, ReLU, pool 2, flatten 500, dense 50, ReLU (30 890
 * parameters); "mlp": flatten, dense 256, ReLU, dense 128, ReLU (any d_in). An unknown name
 * or a d_in the trunk cannot take is MTB_EINVAL. */
mtb_status mtb_trunk_preset(const char *name, int d_in, mtb_trunk_spec *spec, mtb_error *err);

typedef struct mtb_model {
    int d_in, T, dz;
    int n_layers;                  /* trunk layers, dense and activation alike */
    mtb_layer *layers;
    int *head_out, *head_off;      /* (T) */
    int sum_out;
    size_t n_trunk, n_heads, n_params;
    float *theta, *grad;           /* (n_params) */
    size_t last_dense_offset;      /* the last trunk dense layer's parameters (weight, bias) */
    size_t last_dense_size;
    int last_dense_layer;          /* its index in layers[] */
    int max_width;                 /* widest trunk activation (including d_in) */
    float *work;                   /* scratch of the image layers (layer.h), or NULL */
} mtb_model;

mtb_status mtb_model_new(const mtb_model_config *cfg, mtb_model **out, mtb_error *err);
void mtb_model_free(mtb_model *m); /* NULL ok */
/* The same model layout with the trunk of spec (d_in = c h w of its input). */
mtb_status mtb_model_new_trunk(const mtb_trunk_spec *spec, int d_in, int T, const int *head_out,
                               mtb_model **out, mtb_error *err);
/* The model of a problem's protocol: trunk a named preset (mtb_trunk_preset) on cfg's d_in,
 * T and head_out, or, when trunk is NULL or "", cfg's dense trunk (mtb_model_new). */
mtb_status mtb_model_new_named(const char *trunk, const mtb_model_config *cfg, mtb_model **out,
                               mtb_error *err);

static inline float *mtb_model_head_W(const mtb_model *m) { return m->theta + m->n_trunk; }
static inline float *mtb_model_head_b(const mtb_model *m)
{
    return m->theta + m->n_trunk + (size_t)m->sum_out * (size_t)m->dz;
}

/* Orthogonal weights (Saxe et al. 2014, as torch.nn.init.orthogonal_) scaled by gain, zero
 * biases, for every dense layer and head. Uses LAPACK's QR. */
mtb_status mtb_model_init_orthogonal(mtb_model *m, double gain, mtb_rng *rng, mtb_error *err);

/* PyTorch's default initialisation of nn.Linear and nn.Conv2d (kaiming_uniform_ with
 * a = sqrt 5, which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the
 * biases): every weight and bias of every dense and conv layer and head uniform on
 * +-1/sqrt(fan_in), fan_in = in (dense, heads) or k k c_in (conv). Drawn layer by layer in
 * order, weights then biases, then head by head. */
void mtb_model_init_fan_in(mtb_model *m, mtb_rng *rng);

typedef enum mtb_init_kind {
    MTB_INIT_ORTHOGONAL = 0,       /* mtb_model_init_orthogonal with the gain */
    MTB_INIT_FAN_IN = 1            /* mtb_model_init_fan_in (the gain is not used) */
} mtb_init_kind;
mtb_status mtb_model_init(mtb_model *m, mtb_init_kind kind, double gain, mtb_rng *rng,
                          mtb_error *err);
const char *mtb_init_name(mtb_init_kind kind); /* "orthogonal", "fan-in" */

#endif
