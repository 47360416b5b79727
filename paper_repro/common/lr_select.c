/* lr_select.c: the common-reference learning-rate choice (lr_select.h). */
#include "lr_select.h"

#include <math.h>
#include <stdlib.h>

#include "mtb/deltap.h"
#include "mtb/stats.h"

int repro_lr_select(int nc, int nl, int T, const double *M, const int *ok, const int *hb,
                    double *dp, int *best)
{
    const int n = nc * nl;
    if (T > REPRO_LR_MAXT)
        return -1;
    double *col = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1)), ref[REPRO_LR_MAXT];
    if (!col)
        return -1;
    for (int t = 0; t < T; t++) {
        int k = 0;
        for (int i = 0; i < n; i++)
            if (ok[i])
                col[k++] = M[(size_t)i * REPRO_LR_MAXT + t];
        ref[t] = mtb_stats_median_inplace(col, (size_t)k);
    }
    for (int c = 0; c < nc; c++) {
        best[c] = -1;
        double bdp = -INFINITY;
        for (int l = 0; l < nl; l++) {
            const int i = c * nl + l;
            const double *m = M + (size_t)i * REPRO_LR_MAXT;
            dp[i] = ok[i] ? mtb_delta_p((size_t)T, m, ref, hb, NULL, T, NULL) : NAN;
            if (isfinite(dp[i]) && dp[i] > bdp)
                bdp = dp[i], best[c] = l;
        }
    }
    free(col);
    return 0;
}

void repro_lr_select_header(FILE *f, const char *first, const char *const *lr, int nl)
{
    fprintf(f, "%s", first);
    for (int k = 0; k < nl; k++)
        fprintf(f, "\tΔp_val %% at lr %s", lr[k]);
    fprintf(f, "\tchosen lr\n");
}
