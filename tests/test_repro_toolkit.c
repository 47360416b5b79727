/* test_repro_toolkit.c: the reproduction toolkit (paper_repro/common/): claim verdicts,
 * sanity assertions per scale, a sweep plan read back, a report section replaced, a sweep's
 * runs table (rows, seeds, per-seed Delta-p, seed-paired differences). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../paper_repro/common/claim.h"
#include "../paper_repro/common/report.h"
#include "../paper_repro/common/runs.h"
#include "../paper_repro/common/sweep_plan.h"
#include "io_testutil.h"
#include "mtb/synth.h"
#include "run_testutil.h"

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

/* The runs table's fixture: run files written by mtb_run_save from one tiny mtr-3 run whose
 * last evaluation is overwritten with chosen metrics (NMSE: lower is better), so every
 * Delta-p below is known by hand. */
typedef struct runs_fixture {
    mtb_dataset ds;
    mtb_run_log log;
    test_run_config c;
} runs_fixture;

static void fixture_init(runs_fixture *f)
{
    mtb_mtr_params p;
    mtb_mtr_params_default(&p, 3, 9);
    p.n_total = 300;
    p.n_train = 250;
    mtb_error err = {0};
    memset(f, 0, sizeof *f);
    cr_assert_eq(mtb_synth_mtr(&p, &f->ds, &err), MTB_OK, "%s", err.msg);
    test_run_config_default(&f->c);
    f->c.steps = 4;
    f->c.batch = 32;
    f->c.eval_every = 4;
    for (int i = 0; i < 4; i++)
        f->c.widths[i] = 8;
    cr_assert_eq(test_run_train(&f->c, &f->ds, &f->log, &err), MTB_OK, "%s", err.msg);
    cr_assert_gt(f->log.n_eval, 0);
}

/* DIR/NAME: a run of (method, options, seed) whose last metrics are M (NULL: diverged) */
static void fixture_run(runs_fixture *f, const char *dir, const char *name, const char *method,
                        const char *options, uint64_t seed, const double M[3])
{
    char path[IO_PATH_LEN];
    test_run_config c = f->c;
    snprintf(c.method, sizeof c.method, "%s", method);
    snprintf(c.options, sizeof c.options, "%s", options);
    c.seed = seed;
    mtb_error err = {0};
    io_path(path, dir, name);
    if (!M) {
        mtb_problem *p = test_run_problem(&c, 3);
        mtb_run_config r = test_run_cfg(&c, p);
        cr_assert_eq(mtb_run_save_diverged(path, &r, 2, "loss is nan", NULL, &err), MTB_OK, "%s",
                     err.msg);
        free(p);
        return;
    }
    for (int t = 0; t < 3; t++)
        f->log.eval_metric[(size_t)(f->log.n_eval - 1) * 3 + (size_t)t] = M[t];
    cr_assert_eq(test_run_save(path, &c, &f->ds, "small", &f->log, &err), MTB_OK, "%s", err.msg);
}

static void write_plan(const char *dir, const char *jobs)
{
    char path[IO_PATH_LEN];
    FILE *f = fopen(io_path(path, dir, "plan.tsv"), "w");
    cr_assert(f);
    fprintf(f, "# mtb sweep plan\n# scale\tsmoke\n# data\t\n# jobs\t0\n"
               "index\tproblem\tmethod\toptions\tseed\tunits\tfile\n%s", jobs);
    fclose(f);
}

Test(repro_toolkit, runs_table_delta_p_and_pairs)
{
    static runs_fixture f;
    fixture_init(&f);
    char d1[IO_TMP_LEN], d2[IO_TMP_LEN];
    io_tmpdir(d1);
    io_tmpdir(d2);
    /* sweep 1: stl (the reference), ew and rlw:dist=normal on seeds 0..2; ew's seed 2
     * diverged; a job of another problem (a row this table must not hold) */
    const double ref[3][3] = {{1, 2, 4}, {2, 2, 2}, {1, 1, 1}};
    const double ew[2][3] = {{0.5, 1, 2}, {3, 2, 2}};       /* Delta-p +50, -50/3 */
    const double rl[3][3] = {{1, 2, 4}, {2, 2, 1}, {0.9, 0.9, 0.9}}; /* 0, +50/3, +10 */
    char name[32];
    for (int k = 0; k < 3; k++) {
        snprintf(name, sizeof name, "stl%d.h5", k);
        fixture_run(&f, d1, name, "stl", "", (uint64_t)k, ref[k]);
        snprintf(name, sizeof name, "ew%d.h5", k);
        fixture_run(&f, d1, name, "ew", "", (uint64_t)k, k < 2 ? ew[k] : NULL);
        snprintf(name, sizeof name, "rlw%d.h5", k);
        fixture_run(&f, d1, name, "rlw", "dist=normal", (uint64_t)k, rl[k]);
    }
    write_plan(d1, "0\tmtr-3\tstl\t\t0\t1\tstl0.h5\n1\tmtr-3\tew\t\t0\t1\tew0.h5\n"
                   "2\tmtr-3\trlw\tdist=normal\t0\t1\trlw0.h5\n3\tmtr-3\tstl\t\t1\t1\tstl1.h5\n"
                   "4\tmtr-3\tew\t\t1\t1\tew1.h5\n5\tmtr-3\trlw\tdist=normal\t1\t1\trlw1.h5\n"
                   "6\tmtr-3\tstl\t\t2\t1\tstl2.h5\n7\tmtr-3\tew\t\t2\t1\tew2.h5\n"
                   "8\tmtr-3\trlw\tdist=normal\t2\t1\trlw2.h5\n9\tmtr-9\tmgda\t\t0\t1\tstl0.h5\n");
    /* sweep 2 adds seed 7: stl, ew (+20/3) and a planned rlw run that never ran */
    fixture_run(&f, d2, "stl7.h5", "stl", "", 7, (const double[3]){1, 1, 1});
    fixture_run(&f, d2, "ew7.h5", "ew", "", 7, (const double[3]){0.8, 1, 1});
    write_plan(d2, "0\tmtr-3\tstl\t\t7\t1\tstl7.h5\n1\tmtr-3\tew\t\t7\t1\tew7.h5\n"
                   "2\tmtr-3\trlw\tdist=normal\t7\t1\tmissing.h5\n");

    static repro_runs r;
    cr_assert_eq(repro_runs_load(&r, d1, "mtr-3"), 0);
    cr_assert_eq(repro_runs_load_more(&r, d2), 0);
    cr_assert_eq(r.nc, 3, "stl, ew, rlw:dist=normal and not the other problem's mgda");
    cr_assert_eq(r.ns, 4);
    cr_assert_eq(r.T, 3);
    cr_assert_eq(r.hb[0], 0, "NMSE: lower is better");
    int stl = repro_runs_find(&r, "stl", ""), iew = repro_runs_find(&r, "ew", ""),
        irl = repro_runs_find(&r, "rlw", "dist=normal");
    cr_assert(stl >= 0 && iew >= 0 && irl >= 0);
    cr_assert_eq(repro_runs_find(&r, "rlw", ""), -1, "options are part of a row's identity");
    cr_assert_eq(repro_runs_find(&r, "mgda", ""), -1);
    char lab[64];
    repro_runs_label(&r, irl, lab, sizeof lab);
    cr_assert_str_eq(lab, "rlw:dist=normal");
    repro_runs_label(&r, iew, lab, sizeof lab);
    cr_assert_str_eq(lab, "ew");

    int k0 = repro_runs_seed_slot(&r, 0), k1 = repro_runs_seed_slot(&r, 1),
        k2 = repro_runs_seed_slot(&r, 2), k7 = repro_runs_seed_slot(&r, 7);
    cr_assert(k0 >= 0 && k1 >= 0 && k2 >= 0 && k7 >= 0);
    cr_assert_eq(repro_runs_seed_slot(&r, 3), -1);
    double per[3];
    cr_assert_float_eq(repro_runs_delta_p(&r, iew, stl, k0, per), 50.0, 1e-9,
                       "halved errors: +50 %%, the standard sign");
    cr_assert_float_eq(per[2], 50.0, 1e-9);
    cr_assert_float_eq(repro_runs_delta_p(&r, iew, stl, k1, per), -50.0 / 3, 1e-9);
    cr_assert_float_eq(per[0], -50.0, 1e-9, "task 0's error 3 against 2: -50 %%");
    cr_assert(isnan(repro_runs_delta_p(&r, iew, stl, k2, NULL)), "a diverged run has no Delta-p");
    cr_assert(r.diverged[iew][k2] && !r.ok[iew][k2] && r.path[iew][k2][0]);
    cr_assert(isnan(repro_runs_delta_p(&r, irl, stl, k7, NULL)), "a run that never ran");
    cr_assert_eq(r.path[irl][k7][0], 0);
    cr_assert(isnan(repro_runs_delta_p(&r, -1, stl, k0, NULL)));
    cr_assert_float_eq(repro_runs_delta_p(&r, iew, stl, k7, NULL), 20.0 / 3, 1e-9);

    repro_runs_dp e = repro_runs_deltap(&r, iew, stl), q = repro_runs_deltap(&r, irl, stl);
    cr_assert_eq(e.n, 3, "seeds 0, 1, 7");
    cr_assert_eq(e.n_diverged, 1);
    cr_assert_float_eq(e.s.mean, (50.0 - 50.0 / 3 + 20.0 / 3) / 3, 1e-9);
    cr_assert_float_eq(e.per_task[0], (50.0 - 50.0 + 20.0) / 3, 1e-9);
    cr_assert_eq(q.n, 3, "seeds 0, 1, 2");
    cr_assert_float_eq(q.s.mean, (0.0 + 50.0 / 3 + 10.0) / 3, 1e-9);
    /* ew - rlw on the seeds both hold (0 and 1): 50 - 0 and -50/3 - 50/3 */
    mtb_stats_summary d = repro_runs_paired(&e, &q);
    double x0 = 50.0, x1 = -100.0 / 3, sd = fabs(x0 - x1) / sqrt(2.0);
    cr_assert_eq(d.n, 2);
    cr_assert_float_eq(d.mean, (x0 + x1) / 2, 1e-9);
    cr_assert_float_eq(d.ci95, 12.706204736 * sd / sqrt(2.0), 1e-6, "t_{0.975,1} std / sqrt(n)");
    repro_runs_dp none = repro_runs_deltap(&r, repro_runs_find(&r, "pcgrad", ""), stl);
    cr_assert_eq(none.n, 0);

    /* one configuration from a plan already read: only its row */
    repro_plan p;
    cr_assert_eq(repro_plan_read(d1, &p), 0);
    repro_runs_clear(&r, "mtr-3");
    cr_assert_eq(repro_runs_load_plan(&r, &p, "rlw", "dist=normal"), 0);
    repro_plan_free(&p);
    cr_assert_eq(r.nc, 1);
    cr_assert_eq(r.ns, 3);
    cr_assert(r.ok[0][0] && r.steps[0][0] == 4 && r.ms_step[0][0] >= 0);
    cr_assert_float_eq(r.M[0][1][2], 1.0, 1e-12);

    char empty[IO_TMP_LEN];
    io_tmpdir(empty);
    cr_assert_neq(repro_runs_load(&r, empty, "mtr-3"), 0, "no plan.tsv");
    io_rmtree(empty);
    io_rmtree(d1);
    io_rmtree(d2);
    mtb_run_log_free(&f.log);
    mtb_dataset_free(&f.ds);
}
