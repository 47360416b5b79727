/* optim.c: SGD with momentum and Adam (Kingma & Ba 2015, Algorithm 1) with PyTorch's
 * conventions, so runs compare with the papers' code:
 *   Adam:  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *          theta -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)     (eps outside the sqrt)
 *   SGD:   buf = mu buf + g (buf = g at the first step);  theta -= lr buf
 * Weight decay is L2 added to the gradient (torch.optim.Adam/SGD), or decoupled (AdamW).
 * The learning rate of update k (0-based) is lr * mtb_optim_lr_factor(c, k): a scheduler
 * stepped once per update, as PyTorch's PolynomialLR in the segmentation code of IMTL App. D
 * (lr (1 - k/K)^0.9). Weight decay (decoupled) uses the scheduled lr too, as AdamW does. */
#include "mtb/optim.h"

#include "vec_kernels.h"

#include <math.h>
#include <stdlib.h>

void mtb_optim_config_adam(mtb_optim_config *c, double lr)
{
    *c = (mtb_optim_config){MTB_OPT_ADAM, lr, 0.0, 0.9, 0.999, 1e-8, 0.0, 0, MTB_LR_CONSTANT, 0.0, 0};
}

void mtb_optim_config_sgd(mtb_optim_config *c, double lr, double momentum)
{
    *c = (mtb_optim_config){MTB_OPT_SGD, lr, momentum, 0.9, 0.999, 1e-8, 0.0, 0, MTB_LR_CONSTANT, 0.0, 0};
}

mtb_status mtb_optim_config_check(const mtb_optim_config *c, mtb_error *err)
{
    if (c->kind != MTB_OPT_SGD && c->kind != MTB_OPT_ADAM)
        return mtb_fail(err, MTB_EINVAL, "optimiser: unknown kind %d", (int)c->kind);
    if (!(c->lr > 0.0) || !isfinite(c->lr))
        return mtb_fail(err, MTB_EINVAL, "optimiser: learning rate must be > 0, got %g", c->lr);
    if (!(c->momentum >= 0.0 && c->momentum < 1.0))
        return mtb_fail(err, MTB_EINVAL, "optimiser: momentum must be in [0, 1), got %g", c->momentum);
    if (!(c->beta1 >= 0.0 && c->beta1 < 1.0) || !(c->beta2 >= 0.0 && c->beta2 < 1.0))
        return mtb_fail(err, MTB_EINVAL, "optimiser: Adam betas must be in [0, 1), got %g, %g",
                        c->beta1, c->beta2);
    if (!(c->eps > 0.0))
        return mtb_fail(err, MTB_EINVAL, "optimiser: Adam eps must be > 0, got %g", c->eps);
    if (!(c->weight_decay >= 0.0) || !isfinite(c->weight_decay))
        return mtb_fail(err, MTB_EINVAL, "optimiser: weight decay must be >= 0, got %g",
                        c->weight_decay);
    if (c->schedule != MTB_LR_CONSTANT && c->schedule != MTB_LR_POLY)
        return mtb_fail(err, MTB_EINVAL, "optimiser: unknown learning-rate schedule %d",
                        (int)c->schedule);
    if (c->schedule == MTB_LR_POLY && (!(c->lr_power > 0.0) || !isfinite(c->lr_power)))
        return mtb_fail(err, MTB_EINVAL, "optimiser: the poly schedule's power must be a finite "
                        "number > 0, got %g", c->lr_power);
    if (c->schedule == MTB_LR_POLY && c->lr_steps < 1)
        return mtb_fail(err, MTB_EINVAL, "optimiser: the poly schedule needs its horizon "
                        "(lr_steps >= 1, the run's step count), got %ld", c->lr_steps);
    return MTB_OK;
}

double mtb_optim_lr_factor(const mtb_optim_config *c, long k)
{
    if (c->schedule != MTB_LR_POLY)
        return 1.0;
    if (k >= c->lr_steps)
        return 0.0;
    return pow(1.0 - (double)k / (double)c->lr_steps, c->lr_power);
}

const char *mtb_lr_schedule_name(mtb_lr_schedule s)
{
    return s == MTB_LR_CONSTANT ? "constant" : s == MTB_LR_POLY ? "poly" : NULL;
}

mtb_status mtb_optim_init(mtb_optim *o, const mtb_optim_config *c, size_t n, mtb_error *err)
{
    *o = (mtb_optim){0};
    mtb_status st = mtb_optim_config_check(c, err);
    if (st)
        return st;
    o->cfg = *c;
    o->n = n;
    o->m = calloc(n ? n : 1, sizeof(float));
    o->v = c->kind == MTB_OPT_ADAM ? calloc(n ? n : 1, sizeof(float)) : NULL;
    if (!o->m || (c->kind == MTB_OPT_ADAM && !o->v)) {
        mtb_optim_free(o);
        return mtb_fail(err, MTB_ENOMEM, "optimiser: cannot allocate state for %zu parameters", n);
    }
    return MTB_OK;
}

void mtb_optim_free(mtb_optim *o)
{
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
}

void mtb_optim_step(mtb_optim *o, float *theta, float *grad)
{
    const mtb_optim_config *c = &o->cfg;
    const size_t n = o->n;
    o->t++;
    const double lr_k = c->lr * mtb_optim_lr_factor(c, o->t - 1);
    if (c->weight_decay > 0.0) {
        if (c->decoupled_wd) {
            float f = (float)(1.0 - lr_k * c->weight_decay);
            for (size_t i = 0; i < n; i++)
                theta[i] *= f;
        } else {
            float wd = (float)c->weight_decay;
            for (size_t i = 0; i < n; i++)
                grad[i] += wd * theta[i];
        }
    }
    if (c->kind == MTB_OPT_SGD) {
        float mu = (float)c->momentum, lr = (float)lr_k;
        if (mu == 0.0f) {
            for (size_t i = 0; i < n; i++)
                theta[i] -= lr * grad[i];
            return;
        }
        for (size_t i = 0; i < n; i++) {
            o->m[i] = o->t == 1 ? grad[i] : mu * o->m[i] + grad[i];
            theta[i] -= lr * o->m[i];
        }
        return;
    }
    const float b1 = (float)c->beta1, b2 = (float)c->beta2, eps = (float)c->eps;
    const float step = (float)(lr_k / (1.0 - pow(c->beta1, (double)o->t)));
    const float inv_bc2 = (float)(1.0 / sqrt(1.0 - pow(c->beta2, (double)o->t)));
    mtb_vk_adam(n, theta, grad, o->m, o->v, b1, b2, step, inv_bc2, eps);
}

void mtb_optim_step_f64(const mtb_optim_config *c, long t, size_t n, double *x, double *g,
                        double *m, double *v)
{
    const double lr_k = c->lr * mtb_optim_lr_factor(c, t - 1);
    for (size_t i = 0; i < n; i++) {
        if (c->weight_decay > 0.0) {
            if (c->decoupled_wd)
                x[i] *= 1.0 - lr_k * c->weight_decay;
            else
                g[i] += c->weight_decay * x[i];
        }
        if (c->kind == MTB_OPT_SGD) {
            m[i] = (t == 1 || c->momentum == 0.0) ? g[i] : c->momentum * m[i] + g[i];
            x[i] -= lr_k * m[i];
            continue;
        }
        m[i] = c->beta1 * m[i] + (1.0 - c->beta1) * g[i];
        v[i] = c->beta2 * v[i] + (1.0 - c->beta2) * g[i] * g[i];
        double bc1 = 1.0 - pow(c->beta1, (double)t), bc2 = 1.0 - pow(c->beta2, (double)t);
        x[i] -= lr_k / bc1 * m[i] / (sqrt(v[i]) / sqrt(bc2) + c->eps);
    }
}

double mtb_norm_f32(const float *x, size_t n)
{
    return sqrt(mtb_vk_sumsq(n, x));
}

double mtb_norm_f64(const double *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i] * x[i];
    return sqrt(s);
}

double mtb_clip_factor(double norm, double max_norm)
{
    if (!(max_norm > 0.0))
        return 1.0;
    double f = max_norm / (norm + 1e-6);
    return f < 1.0 ? f : 1.0;
}
