/* toy2d.c: D3's extra panel, the alpha_k strategies on Toy2D (dbmtl.md D3: imtl.md I12's toy,
 * k = 1, the five starts, Adam lr 1e-3, 35 000 steps): how many starts reach the Pareto front
 * per strategy, with and without the log transform, beta = 0 (the spec's prototype).
 *
 * The spec's indicative counts (a numpy prototype): max 3/5 (starts 1 and 3 stall near
 * x2 = 0), mean 3/5, min 5/5, one 5/5, with or without the log transform: the spiky
 * max-norm length slows Adam on this toy, a counterpoint to "max is best" if it holds.
 * The toy and one trajectory are paper_repro/common/toy2d.h (shared with IMTL's I12).
 * Writes dbmtl_toy2d.tsv and summary_toy.tsv (the counts from paper scale up: smoke runs
 * 5 000 steps, too few for an end point). */
#include "dbmtl.h"

#include <string.h>

#include "../common/toy2d.h"

static const char *const ALPHA[] = {"max", "min", "mean", "median", "one"};
enum { NA = sizeof ALPHA / sizeof ALPHA[0] };

int cmd_toy(const char *out, const dscale *d)
{
    const long steps = d->s == REPRO_SMOKE ? 5000 : 35000;
    char path[1024];
    FILE *f = out_open(out, "dbmtl_toy2d.tsv", path, sizeof path);
    fprintf(f, "alpha_k\tloss\tstart\tend x1\tend x2\ton front\n");
    repro_summary s;
    sum_open(&s, out, "toy");
    int count[2][NA];
    for (int lg = 0; lg < 2; lg++)
        for (int a = 0; a < NA; a++) {
            char opts[128], msg[256];
            snprintf(opts, sizeof opts, "beta=0,alpha=%s%s", ALPHA[a], lg ? ",log=false" : "");
            int on = 0;
            for (int st = 0; st < REPRO_TOY2D_NSTART; st++) {
                double xe[2];
                const double *x0 = REPRO_TOY2D_STARTS[st];
                int rc = repro_toy2d_run("db_mtl", opts, 1.0, x0, steps, 1e-3, NULL, xe, msg,
                                         sizeof msg);
                if (rc < 0)
                    die("toy: db_mtl:%s: %s", opts, msg);
                int front = !rc && repro_toy2d_on_front(xe);
                on += front;
                fprintf(f, "%s\t%s\t(%g, %g)\t%.4f\t%.4f\t%s\n", ALPHA[a], lg ? "raw" : "log",
                        x0[0], x0[1], xe[0], xe[1], rc ? "failed" : front ? "yes" : "no");
            }
            count[lg][a] = on;
            if (d->s != REPRO_SMOKE)
                repro_summary_putf(&s, on, on, on, "on_front_%s_%s", ALPHA[a], lg ? "raw" : "log");
        }
    /* the counterpoint (with the log transform, DB-MTL's own setting): how many more starts
     * the worse of min and one bring to the front than max */
    const int cp = (count[0][1] < count[0][4] ? count[0][1] : count[0][4]) - count[0][0];
    if (d->s != REPRO_SMOKE)
        repro_summary_put(&s, "counterpoint", cp, cp, cp);
    out_close(f, path);
    sum_close(&s);
    printf("[dbmtl] D3 Toy2D (%ld steps, log transform): on the front from %d of %d starts with "
           "max, %d min, %d mean, %d median, %d one\n", steps, count[0][0], REPRO_TOY2D_NSTART,
           count[0][1], count[0][2], count[0][3], count[0][4]);
    return 0;
}
