/* model.c: building the hard-parameter-sharing model and its orthogonal initialisation. */
#include "mtb/model.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    if (cfg->T < 1 || !cfg->head_out)
        return mtb_fail(err, MTB_EINVAL, "model: needs >= 1 task with head widths, got T = %d", cfg->T);
    for (int t = 0; t < cfg->T; t++)
        if (cfg->head_out[t] < 1)
            return mtb_fail(err, MTB_EINVAL, "model: head %d width must be >= 1, got %d", t,
                            cfg->head_out[t]);

    mtb_model *m = calloc(1, sizeof *m);
    if (!m)
        return mtb_fail(err, MTB_ENOMEM, "model: out of memory");
    m->d_in = cfg->d_in;
    m->T = cfg->T;
    m->n_layers = 2 * cfg->n_hidden;
    m->layers = calloc((size_t)m->n_layers, sizeof *m->layers);
    m->head_out = calloc((size_t)m->T, sizeof(int));
    m->head_off = calloc((size_t)m->T, sizeof(int));
    if (!m->layers || !m->head_out || !m->head_off) {
        mtb_model_free(m);
        return mtb_fail(err, MTB_ENOMEM, "model: out of memory");
    }
    size_t off = 0;
    int in = cfg->d_in;
    m->max_width = in;
    for (int i = 0; i < cfg->n_hidden; i++) {
        mtb_layer *d = &m->layers[2 * i], *a = &m->layers[2 * i + 1];
        int w = cfg->widths[i];
        *d = (mtb_layer){MTB_LAYER_DENSE, mtb_layer_ops_for(MTB_LAYER_DENSE), in, w,
                         (size_t)w * in + (size_t)w, off};
        m->last_dense_layer = 2 * i;
        m->last_dense_offset = off;
        m->last_dense_size = d->n_params;
        off += d->n_params;
        mtb_layer_kind ak = cfg->act == MTB_ACT_TANH ? MTB_LAYER_TANH : MTB_LAYER_RELU;
        *a = (mtb_layer){ak, mtb_layer_ops_for(ak), w, w, 0, off};
        if (w > m->max_width)
            m->max_width = w;
        in = w;
    }
    m->dz = in;
    m->n_trunk = off;
    for (int t = 0; t < m->T; t++) {
        m->head_out[t] = cfg->head_out[t];
        m->head_off[t] = m->sum_out;
        m->sum_out += cfg->head_out[t];
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

void mtb_model_free(mtb_model *m)
{
    if (!m)
        return;
    free(m->layers);
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
