/* cmd_golden.c: `mtb golden DIR [--verbose] [--only NAME]`, the check of mtb's methods
 * against LibMTL's reference vectors (golden.h: what a case runs and compares; the fixture
 * format: the README.md beside the fixtures; the mapping of LibMTL methods to mtb methods
 * and options: golden_map_*.c).
 *
 * For every *.h5 file in DIR (sorted by name) and every case listed in its root attribute
 * `cases`, the case is read, replayed and compared step by step (golden_case.c). One line
 * per case:
 *   PASS|FAIL <fixture>/<case> max_rel_err=<e> [kkt/gap: mtb=<k>/<g> LibMTL=<k>/<g>] [reason]
 * (the bracket for solver methods: the largest KKT residual and objective gap of mtb's and
 * of LibMTL's weights in the method's own problem, golden_optimality.c) and a final
 * "N passed, M failed"; the exit status is 0 iff M = 0.
 * --options K=V,... replaces or adds hyperparameters of every entry replayed (with --only:
 * of one method), e.g. an iteration cap, to see how the verdicts react to an unconverged
 * solver; the shipped verdicts are those without it. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/cli/cli.h"
#include "golden.h"
#include "mtb/balancer.h"
#include "mtb/h5.h"

static const char *CMD = "golden";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mtb golden DIR [--verbose] [--only NAME] [--options K=V,...]\n\n"
            "Replays every LibMTL golden fixture (*.h5) in DIR with the mtb method that\n"
            "reproduces LibMTL's variant and compares the gradient, the returned weights and\n"
            "the learnable scalars' gradients step by step (tolerance 1e-9 relative to the\n"
            "step's largest reference value unless the method's table entry says otherwise).\n"
            "Recorded random draws (inputs/random_*) are replayed. For solver methods (MGDA,\n"
            "CAGrad, FairGrad, Nash-MTL, UPGrad) the line also reports how far mtb's and\n"
            "LibMTL's weights are from the optimum of the method's own problem (KKT residual\n"
            "and objective gap against the runner's own solve); a step that disagrees passes on\n"
            "optimality when mtb's weights are optimal (both <= 1e-10) and LibMTL's measurably\n"
            "worse. Where T > d (weights not unique) only the gradient is compared.\n\n"
            "  --verbose        print per-step errors and the mapping notes\n"
            "  --only NAME      only the fixture whose method (or file name) is NAME\n"
            "  --options K=V,.. replace or add hyperparameters of the replayed method (e.g.\n"
            "                   max_iter=2 with --only FairGrad: an unconverged solver)\n\n"
            "Prints one PASS/FAIL line per case and 'N passed, M failed'; exit 0 iff M = 0.\n");
}

static const golden_entry *find_entry(const char *fixture)
{
    const golden_entry *tables[] = {golden_entries_loss, golden_entries_grad, golden_entries_multi};
    for (size_t k = 0; k < sizeof tables / sizeof tables[0]; k++)
        for (const golden_entry *e = tables[k]; e->fixture; e++)
            if (!strcmp(e->fixture, fixture))
                return e;
    return NULL;
}

/* Whether the comma-separated K=V list `list` sets the key key[0..klen). */
static int sets_key(const char *list, const char *key, size_t klen)
{
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",="), tok = strcspn(p, ",");
        if (n == klen && !strncmp(p, key, klen))
            return 1;
        p += tok + (p[tok] == ',');
    }
    return 0;
}

/* `base` (an entry's options) with every key of `extra` replaced or added: the hyperparameter
 * parser refuses a key given twice. Returns -1 if out is too small. */
static int merge_options(const char *base, const char *extra, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = base; p && *p;) {
        size_t n = strcspn(p, ",="), tok = strcspn(p, ",");
        if (tok && !sets_key(extra, p, n)) {
            int w = snprintf(out + used, len - used, "%s%.*s", used ? "," : "", (int)tok, p);
            if (w < 0 || (size_t)w >= len - used)
                return -1;
            used += (size_t)w;
        }
        p += tok + (p[tok] == ',');
    }
    int w = snprintf(out + used, len - used, "%s%s", used && *extra ? "," : "", extra);
    return w < 0 || (size_t)w >= len - used ? -1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_result(const char *fx, const char *cs, const golden_entry *ent,
                         const golden_result *r, int *np, int *nf)
{
    printf("%s %s/%s max_rel_err=%.3g", r->pass ? "PASS" : "FAIL", fx, cs, r->max_err);
    if (ent && r->opt_measured) {
        printf(" [kkt/gap: mtb=%.3g/%.3g", r->opt_mtb.kkt, r->opt_mtb.gap);
        if (ent->exact_options)
            printf(" mtb-exact=%.3g/%.3g", r->opt_exact.kkt, r->opt_exact.gap);
        printf(" LibMTL=%.3g/%.3g]", r->opt_ref.kkt, r->opt_ref.gap);
    }
    printf("%s%s\n", r->reason[0] ? " " : "", r->reason);
    if (r->pass)
        (*np)++;
    else
        (*nf)++;
}

/* One result line for a whole fixture that cannot be read. */
static void fixture_failed(const char *stem, const char *msg, int *np, int *nf)
{
    golden_result r = {.pass = 0, .max_err = INFINITY};
    snprintf(r.reason, sizeof r.reason, "%s", msg);
    print_result(stem, "*", NULL, &r, np, nf);
}

/* Every case of one fixture file (name: its file name in the directory). */
static void run_fixture(const char *path, const char *name, const char *only,
                        const char *extra, int verbose, int *matched, int *np, int *nf)
{
    char stem[256], fixture[256] = "";
    snprintf(stem, sizeof stem, "%.*s", (int)(strlen(name) - 3), name);
    mtb_error err = {0};
    /* a fixture directory is a file from outside: read it first in a limited child */
    mtb_h5 *f = mtb_h5_open_untrusted(path, NULL, &err);
    if (f && mtb_h5_attr_get_str(f, "/", "method", fixture, sizeof fixture, &err)) {
        mtb_h5_close(f);
        f = NULL;
    }
    if (only && strcmp(only, stem) && strcmp(only, fixture)) {
        mtb_h5_close(f);
        return;
    }
    (*matched)++;
    if (!f) {
        fixture_failed(stem, err.msg, np, nf);
        return;
    }
    size_t ncases = 0;
    char **cases = NULL;
    if (mtb_h5_attr_get_strs(f, "/", "cases", &ncases, &cases, &err)) {
        fixture_failed(stem, err.msg, np, nf);
        mtb_h5_close(f);
        return;
    }
    const golden_entry *ent = find_entry(fixture);
    golden_entry modified;
    char opts[1024], xopts[1024];
    if (ent && extra) { /* --options: the entry with its hyperparameters replaced */
        modified = *ent;
        if (merge_options(ent->options, extra, opts, sizeof opts) ||
            (ent->exact_options &&
             merge_options(ent->exact_options, extra, xopts, sizeof xopts))) {
            fixture_failed(stem, "--options: the merged options are too long", np, nf);
            mtb_h5_free_strs(cases, ncases);
            mtb_h5_close(f);
            return;
        }
        modified.options = opts;
        modified.exact_options = ent->exact_options ? xopts : NULL;
        ent = &modified;
    }
    golden_adam adam;
    golden_adam_read(f, &adam);
    if (verbose && ent && ent->note)
        printf("# %s -> %s %s: %s\n", fixture, ent->method, ent->options ? ent->options : "",
               ent->note);
    for (size_t c = 0; c < ncases; c++) {
        golden_result r = {0};
        char label[600];
        snprintf(label, sizeof label, "%s/%s", stem, cases[c]);
        if (!ent || !mtb_balancer_find(ent->method)) {
            r.max_err = INFINITY;
            snprintf(r.reason, sizeof r.reason, "method not implemented");
        } else {
            golden_case gc;
            if (golden_case_read(f, cases[c], &gc, &r) == 0)
                golden_case_run(&gc, ent, &adam, label, verbose, &r);
            golden_case_free(&gc);
        }
        print_result(stem, cases[c], ent, &r, np, nf);
    }
    mtb_h5_free_strs(cases, ncases);
    mtb_h5_close(f);
}

int mtb_cmd_golden(int argc, char **argv)
{
    const char *dir = NULL, *only = NULL, *extra = NULL;
    int verbose = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--verbose")) {
            verbose = 1;
        } else if (!strcmp(argv[i], "--only")) {
            if (++i >= argc) {
                cli_error(CMD, "--only needs a fixture name");
                return 2;
            }
            only = argv[i];
        } else if (!strcmp(argv[i], "--options")) {
            if (++i >= argc) {
                cli_error(CMD, "--options needs K=V,... (hyperparameters of the method)");
                return 2;
            }
            extra = argv[i];
        } else if (argv[i][0] == '-') {
            cli_error(CMD, "unknown option '%s' (see mtb golden --help)", argv[i]);
            return 2;
        } else if (!dir) {
            dir = argv[i];
        } else {
            cli_error(CMD, "only one directory expected, got '%s' and '%s'", dir, argv[i]);
            return 2;
        }
    }
    if (!dir) {
        usage(stderr);
        return 2;
    }
    DIR *dp = opendir(dir);
    if (!dp) {
        cli_error(CMD, "cannot open directory '%s'", dir);
        return 1;
    }
    size_t nfiles = 0, cap = 0;
    char **files = NULL;
    struct dirent *de;
    while ((de = readdir(dp))) {
        size_t n = strlen(de->d_name);
        if (n < 4 || strcmp(de->d_name + n - 3, ".h5"))
            continue;
        if (nfiles == cap) {
            cap = cap ? 2 * cap : 32;
            char **nf = realloc(files, cap * sizeof *nf);
            if (!nf)
                break;
            files = nf;
        }
        files[nfiles] = strdup(de->d_name);
        if (files[nfiles])
            nfiles++;
    }
    closedir(dp);
    if (nfiles == 0) {
        free(files);
        cli_error(CMD, "no *.h5 fixtures in '%s'", dir);
        return 1;
    }
    qsort(files, nfiles, sizeof *files, cmp_str);

    int npass = 0, nfail = 0, matched = 0;
    for (size_t k = 0; k < nfiles; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        run_fixture(path, files[k], only, extra, verbose, &matched, &npass, &nfail);
        free(files[k]);
    }
    free(files);
    if (only && !matched) {
        cli_error(CMD, "no fixture named '%s' in '%s'", only, dir);
        return 1;
    }
    printf("%d passed, %d failed\n", npass, nfail);
    return nfail == 0 ? 0 : 1;
}
