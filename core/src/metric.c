/* metric.c: the per-task metrics of metric.h. Sums run in double; each function adds one
 * batch's per-sample sum and the number of samples that count. */
#include "mtb/metric.h"

#include <math.h>
#include <string.h>

static const char *const metric_names[] = {"none", "nmse", "mae_rel", "accuracy", "bit_accuracy"};

const char *mtb_metric_name(mtb_metric_kind k)
{
    return (unsigned)k < sizeof metric_names / sizeof *metric_names ? metric_names[k] : "unknown";
}

int mtb_metric_from_name(const char *name, mtb_metric_kind *k)
{
    for (unsigned i = 0; i < sizeof metric_names / sizeof *metric_names; i++)
        if (!strcmp(name, metric_names[i])) {
            *k = (mtb_metric_kind)i;
            return 0;
        }
    return -1;
}

int mtb_metric_higher_is_better(mtb_metric_kind k)
{
    return k == MTB_METRIC_ACCURACY || k == MTB_METRIC_BIT_ACCURACY;
}

/* Index of the largest logit; the first one on ties (as torch.argmax and numpy.argmax). */
static int argmax(const float *z, int K)
{
    int best = 0;
    for (int k = 1; k < K; k++)
        if (z[k] > z[best])
            best = k;
    return best;
}

void mtb_metric_accumulate(const mtb_metric *m, const mtb_task_spec *t, const float *yhat,
                           size_t ldyhat, const float *y, size_t ldy, int B, double *sum,
                           double *count)
{
    const int K = t->out_width;
    const float *tg = y + (m->target_offset >= 0 ? m->target_offset : t->target_offset);
    double s = 0.0, c = 0.0;
    switch (m->kind) {
    case MTB_METRIC_NONE:
        return;
    case MTB_METRIC_NMSE:
    case MTB_METRIC_MAE_REL: {
        /* per sample: the mean over outputs, divided by ref^2 (NMSE) or ref (MAE/sigma) */
        const double div = m->kind == MTB_METRIC_NMSE ? m->ref * m->ref * K : m->ref * K;
        for (int b = 0; b < B; b++) {
            double row = 0.0;
            for (int k = 0; k < K; k++) {
                double e = (double)yhat[(size_t)b * ldyhat + k] - (double)tg[(size_t)b * ldy + k];
                row += m->kind == MTB_METRIC_NMSE ? e * e : fabs(e);
            }
            s += row / div;
        }
        c = B;
        break;
    }
    case MTB_METRIC_ACCURACY:
        /* a class index stored as float; anything else (-1: unlabelled) does not count */
        for (int b = 0; b < B; b++) {
            float lab = tg[(size_t)b * ldy];
            int cls = (int)lrintf(lab);
            if (!(cls >= 0 && cls < K && (float)cls == lab))
                continue;
            s += argmax(yhat + (size_t)b * ldyhat, K) == cls;
            c += 1.0;
        }
        break;
    case MTB_METRIC_BIT_ACCURACY:
        for (int b = 0; b < B; b++) {
            int hits = 0;
            for (int k = 0; k < K; k++)
                hits += (yhat[(size_t)b * ldyhat + k] > 0.0f) == (tg[(size_t)b * ldy + k] > 0.5f);
            s += (double)hits / K;
        }
        c = B;
        break;
    }
    *sum += s;
    *count += c;
}
