/* test_blas_kernel.c: mtb/blas_kernel.h. cpuid against /proc/cpuinfo (an independent
 * source), the kernel table's order, the best kernel for made-up CPUs, the version parser, the
 * self-check on the kernel that runs, and every branch of the start-up decision. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mtb/blas_kernel.h"

/* The "flags" line of /proc/cpuinfo, "" when there is none (not Linux, not x86). */
static void proc_flags(char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    static char line[8192];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5)) {
            const char *v = strchr(line, ':');
            snprintf(buf, len, " %s", v ? v + 1 : "");
            char *nl = strchr(buf, '\n');
            if (nl)
                *nl = ' ';
            break;
        }
    fclose(f);
}

static int has_word(const char *list, const char *w)
{
    char pat[64];
    snprintf(pat, sizeof pat, " %s ", w);
    return strstr(list, pat) != NULL;
}

Test(blas_kernel, cpuid_agrees_with_proc_cpuinfo)
{
    mtb_cpu_features f;
    mtb_cpu_features_detect(&f);
    char flags[8192];
    proc_flags(flags, sizeof flags);
    if (!f.x86 || !flags[0])
        cr_skip_test("not an x86 Linux machine");
    /* Linux prints a flag only when the CPU has it and the kernel enables it: the same
     * question cpuid + XCR0 answer here. */
    static const char *names[] = {"sse3", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma",
                                  "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16"};
    const int ours[] = {f.sse3, f.ssse3, f.sse4_1, f.sse4_2, f.avx, f.avx2, f.fma,
                        f.avx512f, f.avx512bw, f.avx512dq, f.avx512vl, f.avx512_bf16};
    /* /proc/cpuinfo spells SSE3 "pni" */
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int theirs = has_word(flags, !strcmp(names[i], "sse3") ? "pni" : names[i]);
        cr_expect_eq(ours[i], theirs, "%s: cpuid says %d, /proc/cpuinfo %d", names[i], ours[i], theirs);
    }
    char s[256];
    mtb_cpu_features_string(&f, s, sizeof s);
    cr_assert(strstr(s, "sse3") == s, "feature string '%s' starts with sse3 on x86-64", s);
    cr_assert(f.family > 0 && f.vendor[0], "family %d vendor '%s'", f.family, f.vendor);
}

Test(blas_kernel, table_is_ordered_and_candidates_nest)
{
    size_t n;
    const mtb_blas_kernel *k = mtb_blas_kernels(&n);
    cr_assert(n >= 10);
    const mtb_blas_kernel *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        if (i)
            cr_assert_geq(k[i].level, k[i - 1].level, "%s after %s", k[i].name, k[i - 1].name);
        cr_assert_eq(mtb_blas_kernel_find(k[i].name), &k[i], "%s", k[i].name);
        if (!k[i].candidate)
            continue;
        /* a later rung of the ladder needs everything an earlier one does, and more */
        if (prev)
            cr_assert((k[i].needs_bits & prev->needs_bits) == prev->needs_bits && k[i].level > prev->level,
                      "%s does not extend %s", k[i].name, prev->name);
        prev = &k[i];
    }
    cr_assert_eq(mtb_blas_kernel_find("skylakex"), mtb_blas_kernel_find("SkylakeX"));
    cr_assert_null(mtb_blas_kernel_find("Pentium9"));
    cr_assert_null(mtb_blas_kernel_find(NULL));
}

static mtb_cpu_features cpu_with(int level)
{
    mtb_cpu_features f;
    memset(&f, 0, sizeof f);
    f.x86 = 1;
    f.sse3 = level >= 1, f.ssse3 = level >= 2, f.sse4_1 = level >= 3, f.sse4_2 = level >= 4;
    f.avx = level >= 5, f.avx2 = f.fma = level >= 6;
    f.avx512f = f.avx512bw = f.avx512dq = f.avx512vl = level >= 7;
    f.avx512_bf16 = level >= 8, f.avx512_fp16 = f.amx_bf16 = level >= 9;
    return f;
}

Test(blas_kernel, best_kernel_for_made_up_cpus)
{
    static const char *want[] = {NULL, "Prescott", "Core2", "Penryn", "Nehalem", "Sandybridge",
                                 "Haswell", "SkylakeX", "Cooperlake", "SapphireRapids"};
    for (int level = 0; level <= 9; level++) {
        mtb_cpu_features f = cpu_with(level);
        const mtb_blas_kernel *b = mtb_blas_kernel_best(&f, "0.3.28");
        if (!want[level])
            cr_assert_null(b, "level %d: %s", level, b ? b->name : "");
        else
            cr_assert(b && !strcmp(b->name, want[level]), "level %d: %s, want %s", level,
                      b ? b->name : "none", want[level]);
    }
    /* 0.3.21 has no SapphireRapids kernel: the best is then Cooperlake */
    mtb_cpu_features spr = cpu_with(9);
    cr_assert_str_eq(mtb_blas_kernel_best(&spr, "0.3.21")->name, "Cooperlake");
    /* AVX-512 F without BW (Knights Landing): not SkylakeX */
    mtb_cpu_features knl = cpu_with(7);
    knl.avx512bw = 0;
    cr_assert_str_eq(mtb_blas_kernel_best(&knl, NULL)->name, "Haswell");
    cr_assert_str_eq(mtb_blas_kernel_missing(mtb_blas_kernel_find("SkylakeX"), &knl), "avx512bw");
    cr_assert_null(mtb_blas_kernel_missing(mtb_blas_kernel_find("Zen"), &knl));
    mtb_cpu_features none;
    memset(&none, 0, sizeof none);
    cr_assert_null(mtb_blas_kernel_best(&none, NULL), "no ladder off x86");
}

Test(blas_kernel, versions)
{
    cr_assert_lt(mtb_version_cmp("0.3.21", "0.3.22"), 0);
    cr_assert_gt(mtb_version_cmp("0.3.100", "0.3.22"), 0);
    cr_assert_eq(mtb_version_cmp("0.3.21", "0.3.21"), 0);
    cr_assert_lt(mtb_version_cmp("0.3", "0.3.1"), 0);
    cr_assert_gt(mtb_version_cmp("1.0", "0.9.9"), 0);
    char v[32];
    mtb_blas_version(v, sizeof v);
    /* the version is the number after "OpenBLAS " in the config string */
    char want[64];
    cr_assert(sscanf(strstr(mtb_blas_config(), "OpenBLAS "), "OpenBLAS %31s", want) == 1);
    cr_assert_str_eq(v, want);
    cr_assert_eq(mtb_blas_dynamic_arch(), strstr(mtb_blas_config(), "DYNAMIC_ARCH") != NULL);
}

Test(blas_kernel, selfcheck_passes_on_the_running_kernel)
{
    mtb_blas_check c;
    mtb_error err = {0};
    cr_assert_eq(mtb_blas_selfcheck(&c, &err), MTB_OK, "%s: %s", mtb_blas_corename(), err.msg);
    /* 7 shapes x 4 transpositions x {dgemm, sgemm} */
    cr_assert_eq(c.products, 56);
    /* random data rounds: a tolerance that is never approached would test nothing */
    cr_assert(c.worst_ratio > 1e-4 && c.worst_ratio < 1.0, "worst error / tolerance %g", c.worst_ratio);
}

/* ---- the start-up decision ------------------------------------------------------------- */

typedef struct decision {
    mtb_blas_start_plan plan;
    mtb_status st;
    mtb_error err;
} decision;

static decision decide(const char *running, const char *env, const char *request, const char *state,
                       int level, int check_ok)
{
    static mtb_cpu_features cpu;
    cpu = cpu_with(level);
    mtb_blas_start_in in = {running, env, request, "--blas-kernel", state, &cpu, "0.3.21", 1, check_ok,
                            check_ok ? NULL : "injected"};
    decision d;
    memset(&d, 0, sizeof d);
    d.st = mtb_blas_start_plan_make(&in, &d.plan, &d.err);
    return d;
}

Test(blas_start, old_kernel_is_switched_to_the_best_and_the_new_image_accepts_it)
{
    decision d = decide("Prescott", NULL, NULL, NULL, 8, 1);
    cr_assert_eq(d.st, MTB_OK);
    cr_assert_eq(d.plan.action, MTB_BLAS_REEXEC);
    cr_assert_str_eq(d.plan.coretype, "Cooperlake");
    cr_assert_str_eq(d.plan.note, "", "the new image speaks, not this one");
    /* the re-executed image: same program, OPENBLAS_CORETYPE=Cooperlake, the state */
    char state[sizeof d.plan.state];
    strcpy(state, d.plan.state);
    decision e = decide("Cooperlake", "Cooperlake", NULL, state, 8, 1);
    cr_assert_eq(e.plan.action, MTB_BLAS_KEEP);
    cr_assert(strstr(e.plan.note, "BLAS kernel Cooperlake") && strstr(e.plan.note, "OpenBLAS chose Prescott"),
              "%s", e.plan.note);
    cr_assert(!e.plan.warning);
    /* its children: nothing more to say, and provenance gets the reason */
    strcpy(state, e.plan.state);
    decision c = decide("Cooperlake", "Cooperlake", NULL, state, 8, 1);
    cr_assert_eq(c.plan.action, MTB_BLAS_KEEP);
    cr_assert_str_eq(c.plan.note, "");
    char why[320];
    mtb_blas_choice_describe(c.plan.state, "Cooperlake", "Cooperlake", why, sizeof why);
    cr_assert(strstr(why, "OpenBLAS chose Prescott"), "%s", why);
}

Test(blas_start, failed_check_goes_back_once_and_says_so)
{
    decision d = decide("Haswell", NULL, NULL, NULL, 7, 1);
    cr_assert_eq(d.plan.action, MTB_BLAS_REEXEC);
    decision e = decide("SkylakeX", "SkylakeX", NULL, d.plan.state, 7, 0);
    cr_assert_eq(e.plan.action, MTB_BLAS_REEXEC, "a failed check goes back");
    cr_assert_str_eq(e.plan.coretype, "", "back to no OPENBLAS_CORETYPE: OpenBLAS's own choice");
    decision b = decide("Haswell", NULL, NULL, e.plan.state, 7, 1);
    cr_assert_eq(b.plan.action, MTB_BLAS_KEEP, "no third start");
    cr_assert(b.plan.warning && strstr(b.plan.note, "SkylakeX FAILED"), "%s", b.plan.note);
}

Test(blas_start, user_coretype_is_respected_and_the_faster_one_named)
{
    decision d = decide("Haswell", "Haswell", NULL, NULL, 8, 1);
    cr_assert_eq(d.plan.action, MTB_BLAS_KEEP);
    cr_assert(strstr(d.plan.note, "as OPENBLAS_CORETYPE asks") && strstr(d.plan.note, "Cooperlake"), "%s",
              d.plan.note);
    decision same = decide("Cooperlake", "Cooperlake", NULL, NULL, 8, 1);
    cr_assert_eq(same.plan.action, MTB_BLAS_KEEP);
    cr_assert_str_eq(same.plan.note, "", "nothing to say when the user's kernel is the best");
    /* --blas-kernel auto overrides it; going back then restores the user's value */
    decision a = decide("Haswell", "Haswell", "auto", NULL, 8, 1);
    cr_assert_eq(a.plan.action, MTB_BLAS_REEXEC);
    cr_assert_str_eq(a.plan.coretype, "Cooperlake");
    decision f = decide("Cooperlake", "Cooperlake", "auto", a.plan.state, 8, 0);
    cr_assert_eq(f.plan.action, MTB_BLAS_REEXEC);
    cr_assert_str_eq(f.plan.coretype, "Haswell");
}

Test(blas_start, forced_kernels)
{
    decision d = decide("Cooperlake", NULL, "prescott", NULL, 8, 1);
    cr_assert_eq(d.plan.action, MTB_BLAS_REEXEC);
    cr_assert_str_eq(d.plan.coretype, "Prescott");
    decision k = decide("Prescott", "Prescott", "prescott", d.plan.state, 8, 1);
    cr_assert_eq(k.plan.action, MTB_BLAS_KEEP);
    cr_assert(strstr(k.plan.note, "as --blas-kernel asks"), "%s", k.plan.note);
    /* already running it: no restart */
    decision r = decide("Haswell", NULL, "Haswell", NULL, 8, 1);
    cr_assert_eq(r.plan.action, MTB_BLAS_KEEP);
    /* errors: unknown, and more than the CPU has */
    decision u = decide("Haswell", NULL, "Pentium9", NULL, 8, 1);
    cr_assert_eq(u.st, MTB_EINVAL);
    cr_assert(strstr(u.err.msg, "unknown BLAS kernel") && strstr(u.err.msg, "SkylakeX"), "%s", u.err.msg);
    decision x = decide("Haswell", NULL, "SkylakeX", NULL, 6, 1);
    cr_assert_eq(x.st, MTB_EINVAL);
    cr_assert(strstr(x.err.msg, "lacks avx512f"), "%s", x.err.msg);
}

Test(blas_start, no_switch_when_nothing_is_better_or_possible)
{
    decision d = decide("Zen", NULL, NULL, NULL, 6, 1);
    cr_assert_eq(d.plan.action, MTB_BLAS_KEEP, "Zen is Haswell's level");
    cr_assert_str_eq(d.plan.note, "");
    decision n = decide("ARMV8", NULL, NULL, NULL, 0, 1);
    cr_assert_eq(n.plan.action, MTB_BLAS_KEEP, "no x86 ladder");
    static mtb_cpu_features cpu;
    cpu = cpu_with(8);
    mtb_blas_start_in in = {"Haswell", NULL, NULL, NULL, NULL, &cpu, "0.3.21", 0, 1, NULL};
    mtb_blas_start_plan p;
    cr_assert_eq(mtb_blas_start_plan_make(&in, &p, NULL), MTB_OK);
    cr_assert_eq(p.action, MTB_BLAS_KEEP, "one-kernel OpenBLAS cannot switch");
    cr_assert(strstr(p.note, "not a DYNAMIC_ARCH build"), "%s", p.note);
    /* a check that fails with nothing to fall back on is reported, loudly */
    decision w = decide("Cooperlake", NULL, NULL, NULL, 8, 0);
    cr_assert(w.plan.warning && strstr(w.plan.note, "SELF-CHECK OF Cooperlake FAILED"), "%s", w.plan.note);
}
