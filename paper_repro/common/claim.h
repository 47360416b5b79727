/* claim.h: a paper's claim checked by a program.
 *
 * A claim has the paper's value (or none, for a qualitative claim), our measured value with
 * its 95 % interval [lo, hi] (lo = hi = measured when there is none), and a band [band_lo,
 * band_hi] written in the reproduction's source next to the reason for it. The verdict is
 * computed, never typed:
 *   confirmed       the whole interval lies inside the band,
 *   partly          the interval and the band overlap, but the interval leaves the band,
 *   refuted         they do not overlap,
 *   not testable    no measurement (NaN), with the reason in `untestable`.
 * A claim flagged for a scale (asserts, a bit per repro_scale) is also a sanity assertion:
 * at that scale a verdict other than confirmed makes the program fail, so `make test`
 * fails when a smoke result is wrong, not only when a program crashes. */
#ifndef REPRO_CLAIM_H
#define REPRO_CLAIM_H

#include <stdio.h>

#include "repro.h"

typedef enum repro_verdict {
    REPRO_CONFIRMED = 0,
    REPRO_PARTLY,
    REPRO_REFUTED,
    REPRO_UNTESTABLE
} repro_verdict;

#define REPRO_ASSERT_SMOKE (1u << REPRO_SMOKE)
#define REPRO_ASSERT_PAPER (1u << REPRO_PAPER)
#define REPRO_ASSERT_ALL 7u

typedef struct repro_claim {
    const char *id;          /* short, stable: "T1-slaw-vs-ideal" */
    const char *text;        /* what the paper claims, in a sentence */
    double paper;            /* the paper's number; NAN when it gives none */
    double measured, lo, hi; /* ours and its 95 % interval */
    double band_lo, band_hi; /* what counts as agreeing (-INFINITY / INFINITY for one side) */
    const char *band_reason; /* why this band */
    unsigned asserts;        /* REPRO_ASSERT_* bits: the scales at which it must be confirmed */
    const char *untestable;  /* the reason when measured is NaN */
} repro_claim;

repro_verdict repro_claim_verdict(const repro_claim *c);
const char *repro_verdict_name(repro_verdict v); /* "confirmed", "partly", "refuted", "not testable here" */

/* Markdown table of the claims (one row each: claim, paper, ours [interval], band and its
 * reason, verdict). */
void repro_claims_markdown(FILE *o, const repro_claim *c, int n);

/* claims.tsv: id, paper, measured, lo, hi, band_lo, band_hi, verdict. 0 on success. */
int repro_claims_tsv(const char *path, const repro_claim *c, int n);

/* The number of claims asserted at this scale whose verdict is not confirmed; each is
 * printed on stderr with its numbers. */
int repro_claims_failed_asserts(const char *prog, const repro_claim *c, int n, repro_scale s);

/* The end of a report: prints "[tag] report: N claims: ... confirmed, ... asserted claim(s)
 * failed" on stdout and returns the number of asserted claims that failed at this scale (the
 * report's exit status should be non-zero when it is not 0). */
int repro_claims_finish(const char *prog, const char *tag, const repro_claim *c, int n,
                        repro_scale s);

#endif
