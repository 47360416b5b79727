/* test_dbmtl_toolkit.c: the toolkit pieces the DB-MTL reproduction added to
 * paper_repro/common/: repro_write_report (report.md and README's latest-run section from one
 * body), repro_provenance_scan_sweeps (a sweep that did not run is skipped, files counted),
 * repro_claims_finish (the failed asserted claims are counted). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../paper_repro/common/claim.h"
#include "../paper_repro/common/report.h"

static void body(FILE *o, const char *figdir, void *ctx)
{
    fprintf(o, "BODY %s fig='%s'\n", (const char *)ctx, figdir);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert(f, "%s", path);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

Test(dbmtl_toolkit, report_and_readme_section_from_one_body)
{
    char dir[] = "/tmp/mtb-dbmtl-toolkit-XXXXXX", readme[256];
    cr_assert(mkdtemp(dir));
    snprintf(readme, sizeof readme, "%s/README.md", dir);
    FILE *f = fopen(readme, "w");
    fprintf(f, "# prose\n<!-- begin latest-run -->\nold\n<!-- end latest-run -->\ntail\n");
    fclose(f);
    repro_provenance_scan p;
    const char *none[1] = {"/nonexistent/cost.h5"}, *dirs[1] = {"/nonexistent/sweep"};
    repro_provenance_scan_sweeps(&p, none, 1, dirs, 1);
    cr_assert_eq(p.n_files, 0);
    cr_assert_eq(p.n_unreadable, 1); /* the file given; the sweep without a plan adds none */
    cr_assert_eq(repro_write_report(dir, "T", "prog", REPRO_SMOKE, &p, 12.0, readme, "figs/", body,
                                    "x"), 0);
    char path[300];
    snprintf(path, sizeof path, "%s/report.md", dir);
    cr_assert(strstr(slurp(path), "BODY x fig=''"), "%s", slurp(path));
    const char *r = slurp(readme);
    cr_assert(strstr(r, "BODY x fig='figs/'") && !strstr(r, "old") && strstr(r, "tail") &&
              strstr(r, "# prose"), "%s", r);
    /* a README without the markers is an error, not a silent no-op */
    f = fopen(readme, "w");
    fprintf(f, "no markers\n");
    fclose(f);
    cr_assert_eq(repro_write_report(dir, "T", "prog", REPRO_SMOKE, &p, 1.0, readme, "", body, "x"), -1);
    unlink(readme);
    unlink(path);
    rmdir(dir);
}

Test(dbmtl_toolkit, finish_counts_failed_asserted_claims)
{
    repro_claim c[3] = {
        {"a", "a", NAN, 0.5, 0.4, 0.6, 0, 1, "r", REPRO_ASSERT_ALL, NULL},   /* confirmed */
        {"b", "b", NAN, 2.0, 1.5, 2.5, 0, 1, "r", REPRO_ASSERT_SMOKE, NULL}, /* refuted, asserted */
        {"c", "c", NAN, 2.0, 1.5, 2.5, 0, 1, "r", 0, NULL},                  /* refuted, not */
    };
    cr_assert_eq(repro_claims_finish("prog", "t", c, 3, REPRO_SMOKE), 1);
    cr_assert_eq(repro_claims_finish("prog", "t", c, 3, REPRO_PAPER), 0);
}
