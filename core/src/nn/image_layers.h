/* image_layers.h (internal): the operations of the image layers, for mtb_layer_ops_for. */
#ifndef MTB_NN_IMAGE_LAYERS_H
#define MTB_NN_IMAGE_LAYERS_H

#include "mtb/layer.h"

const mtb_layer_ops *mtb_conv_ops(void);    /* conv.c */
const mtb_layer_ops *mtb_pool_ops(void);    /* pool.c */
const mtb_layer_ops *mtb_flatten_ops(void); /* pool.c */
size_t mtb_conv_work_floats(const mtb_layer *l); /* conv.c: its scratch (layer.h) */

#endif
