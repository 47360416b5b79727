/* test_repro_toolkit.c: the reproduction toolkit (paper_repro/common/): claim verdicts,
 * sanity assertions per scale, a sweep plan read back, a report section replaced. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../paper_repro/common/claim.h"
#include "../paper_repro/common/report.h"
#include "../paper_repro/common/sweep_plan.h"
#include "io_testutil.h"

static repro_claim claim(double m, double lo, double hi, double blo, double bhi, unsigned asserts)
{
    return (repro_claim){"c", "a claim", NAN, m, lo, hi, blo, bhi, "why", asserts, NULL};
}

Test(repro_claim, verdict_follows_interval_and_band)
{
    repro_claim in = claim(1.0, 0.9, 1.1, 0.5, 1.5, 0);
    repro_claim over = claim(1.0, 0.4, 1.1, 0.5, 1.5, 0);
    repro_claim out = claim(2.0, 1.6, 2.4, 0.5, 1.5, 0);
    repro_claim point = claim(1.0, NAN, NAN, 1.0, 1.0, 0);
    repro_claim none = claim(NAN, NAN, NAN, 0, 1, 0);
    repro_claim half = claim(3.0, 2.0, 4.0, 0.0, INFINITY, 0);
    cr_assert_eq(repro_claim_verdict(&in), REPRO_CONFIRMED);
    cr_assert_eq(repro_claim_verdict(&over), REPRO_PARTLY);
    cr_assert_eq(repro_claim_verdict(&out), REPRO_REFUTED);
    cr_assert_eq(repro_claim_verdict(&point), REPRO_CONFIRMED, "a point on the band's edge is inside");
    cr_assert_eq(repro_claim_verdict(&none), REPRO_UNTESTABLE);
    cr_assert_eq(repro_claim_verdict(&half), REPRO_CONFIRMED);
    cr_assert_str_eq(repro_verdict_name(REPRO_REFUTED), "refuted");
}

Test(repro_claim, asserts_count_only_at_their_scales)
{
    repro_claim c[3] = {claim(2.0, 2.0, 2.0, 0, 1, REPRO_ASSERT_SMOKE),
                        claim(0.5, 0.5, 0.5, 0, 1, REPRO_ASSERT_ALL),
                        claim(2.0, 2.0, 2.0, 0, 1, REPRO_ASSERT_PAPER)};
    cr_assert_eq(repro_claims_failed_asserts("test", c, 3, REPRO_SMOKE), 1);
    cr_assert_eq(repro_claims_failed_asserts("test", c, 3, REPRO_PAPER), 1);
    cr_assert_eq(repro_claims_failed_asserts("test", c, 3, REPRO_FULL), 0);
}

Test(repro_claim, markdown_escapes_table_cells)
{
    repro_claim c = {"x", "largest |a - b|", 0.0, 1.0, NAN, NAN, 0, 2, "a | b", 0, NULL};
    char *buf = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&buf, &len);
    repro_claims_markdown(o, &c, 1);
    fclose(o);
    cr_assert(strstr(buf, "largest \\|a - b\\|"), "%s", buf);
    cr_assert(strstr(buf, "**confirmed**"), "%s", buf);
    free(buf);
}

Test(repro_toolkit, plan_and_section)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    FILE *f = fopen(io_path(path, dir, "plan.tsv"), "w");
    fprintf(f, "# mtb sweep plan\n# scale\tsmoke\n# data\t\n# jobs\t2\n"
               "index\tproblem\tmethod\toptions\tseed\tunits\tfile\n"
               "0\tmtr\tew\t\t0\t120\truns/mtr/ew/seed0.h5\n"
               "1\tmtr\tslaw\tbeta=0.99\t3\t120\truns/mtr/slaw+beta-0.99/seed3.h5\n");
    fclose(f);
    repro_plan p;
    cr_assert_eq(repro_plan_read(dir, &p), 0);
    cr_assert_eq(p.n, 2);
    cr_assert_str_eq(p.scale, "smoke");
    const char *file = repro_plan_file(&p, "mtr", "slaw", "beta=0.99", 3);
    cr_assert(file && strstr(file, "runs/mtr/slaw+beta-0.99/seed3.h5"));
    cr_assert_null(repro_plan_file(&p, "mtr", "slaw", "", 3));
    repro_plan_free(&p);

    f = fopen(io_path(path, dir, "R.md"), "w");
    fprintf(f, "intro\n<!-- begin s -->\nold\n<!-- end s -->\nafter\n");
    fclose(f);
    cr_assert_eq(repro_replace_section(path, "s", "new text"), 0);
    char buf[256] = "";
    f = fopen(path, "r");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cr_assert_str_eq(buf, "intro\n<!-- begin s -->\nnew text\n<!-- end s -->\nafter\n");
    cr_assert_neq(repro_replace_section(path, "missing", "x"), 0);
    io_rmtree(dir);
}
