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

typedef struct mtb_model_config {
    int d_in;
    int n_hidden;                  /* dense layers in the trunk (>= 1) */
    int widths[MTB_MAX_HIDDEN];    /* their output widths; the last is dim z */
    mtb_activation act;            /* after every trunk layer */
    int T;
    const int *head_out;           /* (T) head widths */
} mtb_model_config;

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
} mtb_model;

mtb_status mtb_model_new(const mtb_model_config *cfg, mtb_model **out, mtb_error *err);
void mtb_model_free(mtb_model *m); /* NULL ok */

static inline float *mtb_model_head_W(const mtb_model *m) { return m->theta + m->n_trunk; }
static inline float *mtb_model_head_b(const mtb_model *m)
{
    return m->theta + m->n_trunk + (size_t)m->sum_out * (size_t)m->dz;
}

/* Orthogonal weights (Saxe et al. 2014, as torch.nn.init.orthogonal_) scaled by gain, zero
 * biases, for every dense layer and head. Uses LAPACK's QR. */
mtb_status mtb_model_init_orthogonal(mtb_model *m, double gain, mtb_rng *rng, mtb_error *err);

#endif
