/* model.c: building the hard-parameter-sharing model (a dense trunk from widths, or a trunk
 * given layer by layer, image layers included) and its initialisations. */
#include "mtb/model.h"

#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static mtb_status check_heads(int T, const int *head_out, mtb_error *err)
{
    if (T < 1 || !head_out)
        return mtb_fail(err, MTB_EINVAL, "model: needs >= 1 task with head widths, got T = %d", T);
    for (int t = 0; t < T; t++)
        if (head_out[t] < 1)
            return mtb_fail(err, MTB_EINVAL, "model: head %d width must be >= 1, got %d", t,
                            head_out[t]);
    return MTB_OK;
}

static mtb_status finish_model(const int *head_out, mtb_model *m, mtb_model **out, mtb_error *err);

/* A zeroed model with its layer and head arrays, or NULL when out of memory. */
static mtb_model *model_alloc(int d_in, int T, int n_layers)
{
    mtb_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->d_in = d_in;
    m->T = T;
    m->n_layers = n_layers;
    m->layers = calloc((size_t)n_layers, sizeof *m->layers);
    m->head_out = calloc((size_t)T, sizeof(int));
    m->head_off = calloc((size_t)T, sizeof(int));
    if (!m->layers || !m->head_out || !m->head_off) {
        mtb_model_free(m);
        return NULL;
    }
    return m;
}

mtb_status mtb_model_new(const mtb_model_config *cfg, mtb_model **out, mtb_error *err)
{
    *out = NULL;
    if (cfg->d_in < 1)
        return mtb_fail(err, MTB_EINVAL, "model: input width must be >= 1, got %d", cfg->d_in);
    if (cfg->n_hidden < 1 || cfg->n_hidden > MTB_MAX_HIDDEN)
        return mtb_fail(err, MTB_EINVAL, "model: trunk needs 1..%d dense layers, got %d",
                        MTB_MAX_HIDDEN, cfg->n_hidden);
    for (int i = 0; i < cfg->n_hidden; i++)
        if (cfg->widths[i] < 1)
            return mtb_fail(err, MTB_EINVAL, "model: trunk layer %d width must be >= 1, got %d", i,
                            cfg->widths[i]);
    if (cfg->act != MTB_ACT_TANH && cfg->act != MTB_ACT_RELU)
        return mtb_fail(err, MTB_EINVAL, "model: unknown activation %d", (int)cfg->act);
    mtb_status st = check_heads(cfg->T, cfg->head_out, err);
    if (st)
        return st;

    mtb_model *m = model_alloc(cfg->d_in, cfg->T, 2 * cfg->n_hidden);
    if (!m)
        return mtb_fail(err, MTB_ENOMEM, "model: out of memory");
    size_t off = 0;
    int in = cfg->d_in;
    m->max_width = in;
    for (int i = 0; i < cfg->n_hidden; i++) {
        mtb_layer *d = &m->layers[2 * i], *a = &m->layers[2 * i + 1];
        int w = cfg->widths[i];
        *d = (mtb_layer){.kind = MTB_LAYER_DENSE, .ops = mtb_layer_ops_for(MTB_LAYER_DENSE),
                         .in = in, .out = w, .n_params = (size_t)w * in + (size_t)w, .offset = off,
                         .chunk = mtb_dense_chunk(in, w, cfg->T)};
        m->last_dense_layer = 2 * i;
        m->last_dense_offset = off;
        m->last_dense_size = d->n_params;
        off += d->n_params;
        mtb_layer_kind ak = cfg->act == MTB_ACT_TANH ? MTB_LAYER_TANH : MTB_LAYER_RELU;
        *a = (mtb_layer){.kind = ak, .ops = mtb_layer_ops_for(ak), .in = w, .out = w,
                         .n_params = 0, .offset = off};
        if (w > m->max_width)
            m->max_width = w;
        in = w;
    }
    m->dz = in;
    m->n_trunk = off;
    return finish_model(cfg->head_out, m, out, err);
}

/* The heads after the trunk (m->dz, m->n_trunk set), the parameter slab; frees m on failure. */
static mtb_status finish_model(const int *head_out, mtb_model *m, mtb_model **out, mtb_error *err)
{
    /* One scratch for all layers that need one (conv's im2col blocks, dense's grouped weight
     * gradients): each uses it only inside its own forward or backward. */
    size_t work = 0;
    for (int i = 0; i < m->n_layers; i++) {
        size_t need = mtb_layer_work_floats(&m->layers[i]);
        work = need > work ? need : work;
    }
    if (work) {
        m->work = malloc(sizeof(float) * work);
        if (!m->work) {
            mtb_model_free(m);
            return mtb_fail(err, MTB_ENOMEM, "model: cannot allocate %zu floats of scratch", work);
        }
        for (int i = 0; i < m->n_layers; i++)
            if (mtb_layer_work_floats(&m->layers[i]))
                m->layers[i].work = m->work;
    }
    for (int t = 0; t < m->T; t++) {
        m->head_out[t] = head_out[t];
        m->head_off[t] = m->sum_out;
        m->sum_out += head_out[t];
    }
    m->n_heads = (size_t)m->sum_out * (size_t)m->dz + (size_t)m->sum_out;
    m->n_params = m->n_trunk + m->n_heads;
    m->theta = calloc(m->n_params, sizeof(float));
    m->grad = calloc(m->n_params, sizeof(float));
    if (!m->theta || !m->grad) {
        mtb_model_free(m);
        return mtb_fail(err, MTB_ENOMEM, "model: cannot allocate %zu parameters", m->n_params);
    }
    *out = m;
    return MTB_OK;
}

/* Images per im2col block of a conv layer: as many as keep the block near 2^18 floats (1 MiB,
 * about the L2 cache of the machines this runs on), between 1 and 32. conv1 of lenet-pmtl
 * (784 positions x 81) gets 4 images, conv2 (100 x 250) 10: the spec's sec. 5 measured
 * blocks of 4-16 images to halve conv1's time against the whole batch at once. */
static int conv_chunk(int positions, int K)
{
    long c = (1L << 18) / ((long)positions * K);
    return c < 1 ? 1 : c > 32 ? 32 : (int)c;
}

/* A trunk given layer by layer (model.h): image layers on (h, w, c) samples, then dense. */
mtb_status mtb_model_new_trunk(const mtb_trunk_spec *spec, int d_in, int T, const int *head_out,
                               mtb_model **out, mtb_error *err)
{
    *out = NULL;
    const mtb_image_shape in0 = spec->input;
    if (spec->n < 1 || spec->n > MTB_MAX_LAYERS)
        return mtb_fail(err, MTB_EINVAL, "model: a trunk of 1..%d layers, got %d", MTB_MAX_LAYERS,
                        spec->n);
    if (in0.c < 1 || in0.h < 1 || in0.w < 1 || (long long)in0.c * in0.h * in0.w != d_in)
        return mtb_fail(err, MTB_EINVAL, "model: input images of %d x %d x %d (c x h x w) do not "
                        "make the %d input floats", in0.c, in0.h, in0.w, d_in);
    mtb_status st = check_heads(T, head_out, err);
    if (st)
        return st;
    mtb_model *m = model_alloc(d_in, T, spec->n);
    if (!m)
        return mtb_fail(err, MTB_ENOMEM, "model: out of memory");
    mtb_image_shape sh = in0;
    int image = 1, in = d_in;
    size_t off = 0;
    int have_params = 0;
    m->max_width = in;
    for (int i = 0; i < spec->n; i++) {
        const mtb_layer_spec *sp = &spec->layers[i];
        mtb_layer *l = &m->layers[i];
        *l = (mtb_layer){.kind = sp->kind, .ops = mtb_layer_ops_for(sp->kind), .in = in,
                         .offset = off, .shape_in = image ? sh : (mtb_image_shape){0, 0, 0}};
        const int k = sp->kernel;
        long long w = in;
        const char *why = NULL;
        switch (sp->kind) {
        case MTB_LAYER_CONV:
            if (!image)
                why = "a convolution needs an image input (it comes after flatten or dense)";
            else if (sp->size < 1 || k < 1 || k > sh.h || k > sh.w)
                why = "a convolution needs >= 1 output channels and a kernel that fits the image";
            else {
                l->kernel = k;
                l->shape_out = (mtb_image_shape){sp->size, sh.h - k + 1, sh.w - k + 1};
                l->n_params = (size_t)sp->size * k * k * sh.c + (size_t)sp->size;
                l->chunk = conv_chunk(l->shape_out.h * l->shape_out.w, k * k * sh.c);
            }
            break;
        case MTB_LAYER_MAXPOOL:
            if (!image)
                why = "max-pooling needs an image input";
            else if (k < 1 || k > 16 || sh.h % k || sh.w % k)
                why = "max-pooling needs a window side of 1..16 that divides the image's "
                      "height and width";
            else {
                l->kernel = k;
                l->shape_out = (mtb_image_shape){sh.c, sh.h / k, sh.w / k};
            }
            break;
        case MTB_LAYER_FLATTEN:
            if (!image)
                why = "flatten needs an image input";
            image = 0;
            break;
        case MTB_LAYER_DENSE:
            if (image)
                why = "a dense layer needs a vector input: put flatten before it";
            else if (sp->size < 1)
                why = "a dense layer needs a width >= 1";
            else {
                l->n_params = (size_t)sp->size * in + (size_t)sp->size;
                l->chunk = mtb_dense_chunk(in, sp->size, T);
            }
            w = sp->size;
            break;
        case MTB_LAYER_TANH:
        case MTB_LAYER_RELU:
            if (image)
                l->shape_out = sh;
            break;
        default:
            why = "unknown layer kind";
        }
        if (!why && image) {
            sh = l->shape_out;
            w = (long long)sh.c * sh.h * sh.w;
        }
        if (!why && (w < 1 || w > (1LL << 26)))
            why = "its output would have more than 2^26 floats per sample";
        if (why) {
            mtb_fail(err, MTB_EINVAL, "model: trunk layer %d (%s): %s", i,
                     l->ops ? l->ops->name : "?", why);
            mtb_model_free(m);
            return MTB_EINVAL;
        }
        l->out = (int)w;
        if (l->n_params) {
            m->last_dense_layer = i;
            m->last_dense_offset = off;
            m->last_dense_size = l->n_params;
            have_params = 1;
        }
        off += l->n_params;
        if (l->out > m->max_width)
            m->max_width = l->out;
        in = l->out;
    }
    if (image || !have_params) {
        mtb_model_free(m);
        return mtb_fail(err, MTB_EINVAL, "model: a layer-list trunk must end in a vector (flatten "
                        "or dense) and have parameters");
    }
    m->dz = in;
    m->n_trunk = off;
    return finish_model(head_out, m, out, err);
}

void mtb_model_free(mtb_model *m)
{
    if (!m)
        return;
    free(m->layers);
    free(m->work);
    free(m->head_out);
    free(m->head_off);
    free(m->theta);
    free(m->grad);
    free(m);
}

/* W (rows, cols) <- gain * Q, Q with orthonormal rows (rows <= cols) or columns (rows > cols),
 * from the QR decomposition of a standard normal matrix with the signs of R's diagonal
 * folded in so that Q is Haar-distributed (Mezzadri 2007), as torch.nn.init.orthogonal_. */
static mtb_status orthogonal(float *W, int rows, int cols, double gain, mtb_rng *rng, double *work,
                             mtb_error *err)
{
    int tall = rows >= cols;
    int m = tall ? rows : cols, n = tall ? cols : rows; /* factor an (m, n) matrix, m >= n */
    double *A = work, *tau = work + (size_t)m * n;
    for (size_t i = 0; i < (size_t)m * n; i++)
        A[i] = mtb_rng_normal(rng);
    if (LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, m, n, A, n, tau) != 0)
        return mtb_fail(err, MTB_ENUMERIC, "orthogonal init: QR factorisation failed");
    double *sign = tau + n;
    for (int j = 0; j < n; j++)
        sign[j] = A[(size_t)j * n + j] < 0.0 ? -1.0 : 1.0;
    if (LAPACKE_dorgqr(LAPACK_ROW_MAJOR, m, n, n, A, n, tau) != 0)
        return mtb_fail(err, MTB_ENUMERIC, "orthogonal init: forming Q failed");
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double q = gain * A[(size_t)i * n + j] * sign[j];
            if (tall)
                W[(size_t)i * cols + j] = (float)q;
            else
                W[(size_t)j * cols + i] = (float)q;
        }
    return MTB_OK;
}

mtb_status mtb_model_init_orthogonal(mtb_model *m, double gain, mtb_rng *rng, mtb_error *err)
{
    size_t need = 0;
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].kind == MTB_LAYER_DENSE) {
            size_t s = (size_t)m->layers[i].in * m->layers[i].out;
            if (s > need)
                need = s;
        }
    for (int t = 0; t < m->T; t++)
        if ((size_t)m->head_out[t] * m->dz > need)
            need = (size_t)m->head_out[t] * m->dz;
    /* A (m, n), then tau (n) and the signs (n); n <= max_width (dz is a trunk width). */
    double *work = malloc(sizeof(double) * (need + 2 * (size_t)m->max_width));
    if (!work)
        return mtb_fail(err, MTB_ENOMEM, "orthogonal init: out of memory");
    mtb_status st = MTB_OK;
    memset(m->theta, 0, sizeof(float) * m->n_params);
    for (int i = 0; i < m->n_layers && st == MTB_OK; i++) {
        const mtb_layer *l = &m->layers[i];
        if (l->kind == MTB_LAYER_DENSE)
            st = orthogonal(m->theta + l->offset, l->out, l->in, gain, rng, work, err);
    }
    for (int t = 0; t < m->T && st == MTB_OK; t++)
        st = orthogonal(mtb_model_head_W(m) + (size_t)m->head_off[t] * m->dz, m->head_out[t], m->dz,
                        gain, rng, work, err);
    free(work);
    return st;
}

static void uniform_fill(float *x, size_t n, double bound, mtb_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(bound * (2.0 * mtb_rng_uniform(rng) - 1.0));
}

void mtb_model_init_fan_in(mtb_model *m, mtb_rng *rng)
{
    memset(m->theta, 0, sizeof(float) * m->n_params);
    for (int i = 0; i < m->n_layers; i++) {
        const mtb_layer *l = &m->layers[i];
        if (!l->n_params)
            continue;
        const int n_out = l->kind == MTB_LAYER_CONV ? l->shape_out.c : l->out;
        const size_t n_w = l->n_params - (size_t)n_out; /* the bias is the last n_out */
        const double bound = 1.0 / sqrt((double)n_w / n_out); /* fan_in = weights per output */
        uniform_fill(m->theta + l->offset, n_w, bound, rng);
        uniform_fill(m->theta + l->offset + n_w, (size_t)n_out, bound, rng);
    }
    const double bound = 1.0 / sqrt((double)m->dz);
    for (int t = 0; t < m->T; t++) {
        uniform_fill(mtb_model_head_W(m) + (size_t)m->head_off[t] * m->dz,
                     (size_t)m->head_out[t] * m->dz, bound, rng);
        uniform_fill(mtb_model_head_b(m) + m->head_off[t], (size_t)m->head_out[t], bound, rng);
    }
}

mtb_status mtb_model_init(mtb_model *m, mtb_init_kind kind, double gain, mtb_rng *rng,
                          mtb_error *err)
{
    switch (kind) {
    case MTB_INIT_ORTHOGONAL: return mtb_model_init_orthogonal(m, gain, rng, err);
    case MTB_INIT_FAN_IN: mtb_model_init_fan_in(m, rng); return MTB_OK;
    }
    return mtb_fail(err, MTB_EINVAL, "model: unknown initialisation %d", (int)kind);
}

const char *mtb_init_name(mtb_init_kind kind)
{
    return kind == MTB_INIT_ORTHOGONAL ? "orthogonal" : kind == MTB_INIT_FAN_IN ? "fan-in" : "?";
}

mtb_status mtb_model_new_named(const char *trunk, const mtb_model_config *cfg, mtb_model **out,
                               mtb_error *err)
{
    if (!trunk || !*trunk)
        return mtb_model_new(cfg, out, err);
    *out = NULL;
    mtb_trunk_spec spec;
    mtb_status st = mtb_trunk_preset(trunk, cfg->d_in, &spec, err);
    return st ? st : mtb_model_new_trunk(&spec, cfg->d_in, cfg->T, cfg->head_out, out, err);
}
