/* claim.c: verdicts of checked claims (claim.h). */
#include "claim.h"

#include <math.h>

repro_verdict repro_claim_verdict(const repro_claim *c)
{
    if (isnan(c->measured))
        return REPRO_UNTESTABLE;
    double lo = isnan(c->lo) ? c->measured : c->lo, hi = isnan(c->hi) ? c->measured : c->hi;
    if (lo >= c->band_lo && hi <= c->band_hi)
        return REPRO_CONFIRMED;
    if (hi < c->band_lo || lo > c->band_hi)
        return REPRO_REFUTED;
    return REPRO_PARTLY;
}

const char *repro_verdict_name(repro_verdict v)
{
    static const char *const names[] = {"confirmed", "partly", "refuted", "not testable here"};
    return (unsigned)v < 4 ? names[v] : "?";
}

/* A number as the report prints it: 4 significant digits, "–" for NaN, ±∞ spelled out. */
static const char *num(char *buf, size_t n, double x)
{
    if (isnan(x))
        snprintf(buf, n, "–");
    else if (isinf(x))
        snprintf(buf, n, "%s∞", x < 0 ? "−" : "+");
    else
        snprintf(buf, n, "%.4g", x);
    return buf;
}

/* Text inside a Markdown table cell: a '|' would end the cell. */
static void cell(FILE *o, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputc('\\', o);
        fputc(*s, o);
    }
}

void repro_claims_markdown(FILE *o, const repro_claim *c, int n)
{
    fprintf(o, "| claim | paper | ours [95%% interval] | agreement band (why) | verdict |\n"
               "|---|---|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        char p[32], m[32], l[32], h[32], bl[32], bh[32];
        repro_verdict v = repro_claim_verdict(&c[i]);
        fprintf(o, "| **%s**: ", c[i].id);
        cell(o, c[i].text);
        fprintf(o, " | %s | ", num(p, sizeof p, c[i].paper));
        if (v == REPRO_UNTESTABLE) {
            fprintf(o, "– (");
            cell(o, c[i].untestable ? c[i].untestable : "not measured");
            fprintf(o, ")");
        }
        else if (!isnan(c[i].lo) && !isnan(c[i].hi) && (c[i].lo != c[i].measured || c[i].hi != c[i].measured))
            fprintf(o, "%s [%s, %s]", num(m, sizeof m, c[i].measured), num(l, sizeof l, c[i].lo),
                    num(h, sizeof h, c[i].hi));
        else
            fprintf(o, "%s", num(m, sizeof m, c[i].measured));
        fprintf(o, " | [%s, %s] (", num(bl, sizeof bl, c[i].band_lo), num(bh, sizeof bh, c[i].band_hi));
        cell(o, c[i].band_reason);
        fprintf(o, ") | **%s** |\n", repro_verdict_name(v));
    }
}

int repro_claims_tsv(const char *path, const repro_claim *c, int n)
{
    FILE *f = repro_open(path);
    if (!f)
        return -1;
    fprintf(f, "id\tpaper\tmeasured\tlo\thi\tband_lo\tband_hi\tverdict\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "%s\t%.17g\t%.17g\t%.17g\t%.17g\t%.17g\t%.17g\t%s\n", c[i].id, c[i].paper,
                c[i].measured, c[i].lo, c[i].hi, c[i].band_lo, c[i].band_hi,
                repro_verdict_name(repro_claim_verdict(&c[i])));
    return repro_commit(f, path);
}

int repro_claims_failed_asserts(const char *prog, const repro_claim *c, int n, repro_scale s)
{
    int bad = 0;
    for (int i = 0; i < n; i++) {
        if (!(c[i].asserts & (1u << s)))
            continue;
        repro_verdict v = repro_claim_verdict(&c[i]);
        if (v == REPRO_CONFIRMED)
            continue;
        bad++;
        fprintf(stderr, "%s: sanity check %s %s at scale %s: measured %.6g [%.6g, %.6g], band "
                        "[%.6g, %.6g] (%s)\n", prog, c[i].id, repro_verdict_name(v),
                repro_scale_name(s), c[i].measured, c[i].lo, c[i].hi, c[i].band_lo, c[i].band_hi,
                c[i].band_reason);
    }
    return bad;
}

int repro_claims_finish(const char *prog, const char *tag, const repro_claim *c, int n,
                        repro_scale s)
{
    int failed = repro_claims_failed_asserts(prog, c, n, s), counts[4] = {0};
    for (int i = 0; i < n; i++)
        counts[repro_claim_verdict(&c[i])]++;
    printf("[%s] report: %d claims: %d confirmed, %d partly, %d refuted, %d not testable here; "
           "%d asserted claim(s) failed\n", tag, n, counts[0], counts[1], counts[2], counts[3],
           failed);
    return failed;
}
