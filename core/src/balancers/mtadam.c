/* mtadam.c: MTAdam (Multi-Term Adam). Malkiel & Wolf, "MTAdam: Automatic Balancing of
 * Multiple Training Loss Terms", EMNLP 2021 (arXiv:2006.14683), Algorithm 1; official code
 * ItzikMalkiel/MTAdam (mtadam.py), from which the formulas below and the defaults were
 * checked. For every block b of shared parameters (balancer.h: each parameter tensor, as
 * the official optimiser loops over `p in params`), task t and 1-based step k:
 *   n_t,b = ||g_t,b||                                        k = 1
 *   n_t,b = beta3 n_t,b + (1 - beta3) ||g_t,b||              k > 1   [magnitude moment]
 *   a_b   = the first task with n_a,b > tiny                        [anchor: task 0 normally]
 *   g^_t,b = (n_a,b / n_t,b) g_t,b  if n_t,b > tiny, else g_t,b     [per-layer balancing]
 *   m_t = beta1 m_t + (1 - beta1) g^_t,  v_t = beta2 v_t + (1 - beta2) g^_t^2   [per task]
 *   theta -= lr / (1 - beta1^k) * sum_t m_t / max_t (sqrt(v_t / (1 - beta2^k)) + eps)
 * (The official code's loss multipliers `ranks` are 1 in its example and are not exposed.)
 *
 * mtb keeps the optimiser outside the balancer, so the fused update is represented in one of
 * two ways (hyperparameter `output`):
 *   grad (default): trunk_grad = sum_t g^_t, the balanced gradient MTAdam feeds its moments.
 *     With mtb's Adam (same beta1) the optimiser's first moment is then exactly sum_t m_t,
 *     MTAdam's numerator. The DENOMINATOR DIFFERS: Adam divides by sqrt of the moving
 *     average of (sum_t g^_t)^2, MTAdam by max_t sqrt of the moving average of g^_t^2. When
 *     the T balanced gradients agree coordinate-wise the Adam step is about T times smaller;
 *     where they cancel it can be larger. So output=grad is MTAdam's per-layer balancing
 *     followed by ordinary Adam, not MTAdam's optimiser (docs/methods.md).
 *   step: the balancer keeps the per-task moments m_t, v_t (2 T P doubles) and returns
 *     u = sum_t m_t / (1 - beta1^k) / max_t (...), MTAdam's update divided by lr. Training
 *     with plain SGD (momentum 0, no weight decay, no clipping) then moves the trunk exactly
 *     as MTAdam; the heads get SGD where MTAdam would give each head Adam on its own loss.
 * Heads: head_w = 1 (each head receives only its own task's gradient, so MTAdam's
 * normalisation leaves it alone: with mtb's Adam the heads are trained exactly as MTAdam).
 * Defaults beta1 = 0.9, beta2 = 0.999, beta3 = 0.9, eps = 1e-8, tiny = 1e-10: the official
 * code's (beta1/beta2/eps also PyTorch Adam's). The anchor is searched among this step's
 * updated magnitudes; the official code searches tasks in order while updating them, which
 * selects the same task. trunk_w is informative: ||g^_t|| / ||g_t|| over all blocks (1 for
 * a zero gradient). Needs G of scope ALL (explicit trunk_grad). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"

enum { OUT_GRAD = 0, OUT_STEP = 1 };

static const mtb_hparam_def mta_hp[] = {
    {"output", MTB_HP_CHOICE, OUT_GRAD, 0, 0, "grad|step",
     "grad: balanced gradient for the model's optimiser; step: MTAdam's own update (use SGD)"},
    {"beta3", MTB_HP_REAL, 0.9, 0.0, 0.999999, NULL,
     "moving average of the per-layer gradient magnitudes (official code: 0.9)"},
    {"beta1", MTB_HP_REAL, 0.9, 0.0, 0.999999, NULL, "output=step: first moments (paper/code 0.9)"},
    {"beta2", MTB_HP_REAL, 0.999, 0.0, 0.999999, NULL,
     "output=step: second moments (paper/code 0.999)"},
    {"eps", MTB_HP_REAL, 1e-8, 0.0, 1.0, NULL, "output=step: denominator epsilon (code: 1e-8)"},
    {"tiny", MTB_HP_REAL, 1e-10, 0.0, 1.0, NULL,
     "magnitudes at or below it are not normalised / not anchors (official code: 1e-10)"},
    {"per_block", MTB_HP_BOOL, 1, 0, 1, NULL,
     "true: per parameter tensor as the paper/code; false: all shared parameters as one block"},
};

typedef struct mta_state {
    int T, output, per_block;
    double beta1, beta2, beta3, eps, tiny;
    long k;          /* steps taken */
    int nb_seen;     /* blocks of the first step */
    int MB;          /* block capacity of n */
    size_t D_max;
    double *n;       /* (T, MB) magnitude moments */
    double *c;       /* (T) this block's normalisation factors */
    double *num, *den; /* (T) for trunk_w */
    double *m, *v;   /* output=step: (T, D_max) per-task Adam moments */
} mta_state;

static mtb_status mta_init(void *state, int T, size_t D_max, const mtb_hparams *hp,
                           mtb_balancer_setup *setup, mtb_error *err)
{
    mta_state *s = state;
    s->T = T;
    s->output = (int)hp->v[0];
    s->beta3 = hp->v[1];
    s->beta1 = hp->v[2];
    s->beta2 = hp->v[3];
    s->eps = hp->v[4];
    s->tiny = hp->v[5];
    s->per_block = hp->v[6] != 0.0;
    s->D_max = D_max;
    setup->need = MTB_NEED_PARAM_GRADS;
    setup->scope = MTB_SCOPE_ALL;
    s->MB = D_max < MTB_MAX_BLOCKS ? (D_max ? (int)D_max : 1) : MTB_MAX_BLOCKS;
    s->n = calloc((size_t)T * (size_t)s->MB, sizeof *s->n);
    s->c = malloc(3 * (size_t)T * sizeof *s->c);
    if (!s->n || !s->c)
        return mtb_fail(err, MTB_ENOMEM,
                        "method mtadam: cannot allocate the (%d x %d) block magnitudes", T, s->MB);
    s->num = s->c + T;
    s->den = s->num + T;
    if (s->output == OUT_STEP && D_max > 0) {
        s->m = calloc((size_t)T * D_max, sizeof *s->m);
        s->v = calloc((size_t)T * D_max, sizeof *s->v);
        if (!s->m || !s->v)
            return mtb_fail(err, MTB_ENOMEM,
                            "method mtadam: output=step cannot allocate 2 x (%d x %zu) moments",
                            T, D_max);
    }
    return MTB_OK;
}

static mtb_status mta_step(void *state, const mtb_balance_in *in, mtb_balance_out *out,
                           mtb_error *err)
{
    mta_state *s = state;
    const int T = in->T;
    const size_t D = in->D;
    if (!out->trunk_grad)
        return mtb_fail(err, MTB_EINVAL, "method mtadam returns an explicit trunk gradient: "
                        "out->trunk_grad is NULL (needs parameter gradients of scope all)");
    if (s->output == OUT_STEP && D != s->D_max)
        return mtb_fail(err, MTB_EINVAL, "method mtadam: output=step keeps moments of %zu "
                        "parameters, the step has %zu", s->D_max, D);
    size_t whole[2] = {0, D};
    const size_t *off = whole;
    int nb = 1;
    if (s->per_block && in->blocks.n > 0) {
        off = in->blocks.off;
        nb = in->blocks.n;
    }
    if (nb > s->MB)
        return mtb_fail(err, MTB_EINVAL, "method mtadam: %d parameter blocks, state holds %d", nb,
                        s->MB);
    if (s->nb_seen && nb != s->nb_seen)
        return mtb_fail(err, MTB_EINVAL,
                        "method mtadam: the step has %d parameter blocks, earlier steps had %d "
                        "(its magnitude moments are per block)", nb, s->nb_seen);
    s->nb_seen = nb;
    s->k++;
    for (int t = 0; t < T; t++)
        s->num[t] = s->den[t] = 0.0;
    for (int b = 0; b < nb; b++) {
        const size_t o = off[b], len = off[b + 1] - off[b];
        int anchor = -1;
        for (int t = 0; t < T; t++) {
            double g = mtb_bal_norm(in->G + (size_t)t * D + o, len);
            double *n = s->n + (size_t)t * s->MB + b;
            *n = s->k == 1 ? g : s->beta3 * *n + (1.0 - s->beta3) * g;
            if (anchor < 0 && *n > s->tiny)
                anchor = t;
            s->den[t] += g * g;
            s->c[t] = g;
        }
        for (int t = 0; t < T; t++) {
            const double nt = s->n[(size_t)t * s->MB + b], g = s->c[t];
            double c = 1.0;
            if (nt > s->tiny && anchor >= 0) {
                c = s->n[(size_t)anchor * s->MB + b] / nt;
                if (!isfinite(c))
                    return mtb_fail(err, MTB_ENUMERIC,
                                    "method mtadam: block %d, task %d: magnitude ratio "
                                    "overflows (anchor task %d)", b, t, anchor);
            }
            s->num[t] += c * c * g * g;
            s->c[t] = c;
        }
        if (s->output == OUT_GRAD) {
            /* trunk_grad[o : o + len] = G[:, o : o + len]^T c */
            cblas_dgemv(CblasRowMajor, CblasTrans, T, (int)len, 1.0, in->G + o, (int)D, s->c, 1,
                        0.0, out->trunk_grad + o, 1);
            continue;
        }
        for (int t = 0; t < T; t++) {
            const double *g = in->G + (size_t)t * D + o;
            double *m = s->m + (size_t)t * s->D_max + o, *v = s->v + (size_t)t * s->D_max + o;
            const double c = s->c[t];
            for (size_t j = 0; j < len; j++) {
                const double gh = c * g[j];
                m[j] = s->beta1 * m[j] + (1.0 - s->beta1) * gh;
                v[j] = s->beta2 * v[j] + (1.0 - s->beta2) * gh * gh;
            }
        }
    }
    if (s->output == OUT_STEP) {
        const double bc1 = 1.0 - pow(s->beta1, (double)s->k);
        const double sbc2 = sqrt(1.0 - pow(s->beta2, (double)s->k));
        for (size_t j = 0; j < D; j++) {
            double mx = 0.0, sm = 0.0;
            for (int t = 0; t < T; t++) {
                const double dn = sqrt(s->v[(size_t)t * s->D_max + j]) / sbc2 + s->eps;
                mx = fmax(mx, dn);
                sm += s->m[(size_t)t * s->D_max + j];
            }
            /* mx = 0 needs eps = 0 and every second moment zero (or underflowed): no step */
            out->trunk_grad[j] = mx > 0.0 ? sm / bc1 / mx : 0.0;
        }
    }
    for (int t = 0; t < T; t++) {
        out->head_w[t] = 1.0;
        out->trunk_w[t] = s->den[t] > 0.0 ? sqrt(s->num[t] / s->den[t]) : 1.0;
    }
    out->trunk_grad_set = 1;
    return MTB_OK;
}

static void mta_fini(void *state)
{
    mta_state *s = state;
    free(s->n);
    free(s->c);
    free(s->m);
    free(s->v);
}

const mtb_balancer_type mtb_balancer_mtadam = {
    .name = "mtadam",
    .summary = "MTAdam: per-layer task gradients scaled to task 0's magnitude; output=grad then "
               "uses the model's optimiser, NOT MTAdam's max-denominator Adam (output=step+SGD: exact)",
    .cite = "Malkiel & Wolf, MTAdam: Automatic Balancing of Multiple Training Loss Terms, "
            "EMNLP 2021, Algorithm 1",
    .hparams = mta_hp,
    .n_hparams = 7,
    .state_size = sizeof(mta_state),
    .init = mta_init,
    .step = mta_step,
    .fini = mta_fini,
};
