/* blas_start_plan.c: which BLAS kernel a program should run on, decided from what it was
 * given (mtb_blas_start_plan_make, blas_kernel.h; docs/performance.md).
 *
 * The order of precedence, first match wins:
 *   1. a state left by this program's own previous image (MTB_BLAS_STATE): finish what it
 *      started — accept the kernel it switched to if the self-check passed, otherwise go back
 *      to the kernel that ran before the switch, and say so;
 *   2. a request (--blas-kernel NAME or MTB_BLAS_KERNEL=NAME): that kernel, if the CPU can
 *      run it ("auto" = 4 below, ignoring OPENBLAS_CORETYPE);
 *   3. OPENBLAS_CORETYPE set by the user: always respected; the note says when the CPU
 *      supports a faster kernel;
 *   4. otherwise the best kernel the CPU supports, when OpenBLAS picked an older one.
 * Every switch is a re-execution with OPENBLAS_CORETYPE set, because OpenBLAS reads it only
 * when it loads; the state variable makes the new image finish the decision instead of
 * starting it again, so a program restarts at most twice (there and, on a failed check, back).
 * The function is pure: the program gathers its inputs and carries out the plan. */
#include "mtb/blas_kernel.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define FIELDS 5
#define FIELD_LEN 320

typedef struct state_fields {
    char f[FIELDS][FIELD_LEN]; /* kind, then up to four fields; the last takes the rest */
} state_fields;

static void split_state(const char *s, state_fields *out)
{
    memset(out, 0, sizeof *out);
    if (!s)
        return;
    for (int i = 0; i < FIELDS && *s; i++) {
        const char *bar = i < FIELDS - 1 ? strchr(s, '|') : NULL;
        size_t n = bar ? (size_t)(bar - s) : strlen(s);
        if (n >= FIELD_LEN)
            n = FIELD_LEN - 1;
        memcpy(out->f[i], s, n);
        out->f[i][n] = '\0';
        if (!bar)
            break;
        s = bar + 1;
    }
}

static int same(const char *a, const char *b)
{
    return a && b && !strcasecmp(a, b);
}

static void put(char *dst, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(char *dst, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, len, fmt, ap);
    va_end(ap);
}

/* Settles on the running kernel: the note for stderr and the state for children, whose
 * last field repeats the reason (provenance reads it); reason "" = the note. */
static void keep(mtb_blas_start_plan *p, const mtb_blas_start_in *in, const char *reason)
{
    p->action = MTB_BLAS_KEEP;
    if (!in->check_ok) {
        size_t n = strlen(p->note);
        put(p->note + n, sizeof p->note - n, "%sTHE SELF-CHECK OF %s FAILED (%s): results may be wrong",
            n ? "; " : "", in->running, in->check_msg ? in->check_msg : "no message");
        p->warning = 1;
    }
    put(p->state, sizeof p->state, "ok|%s|%s", in->running, reason && *reason ? reason : p->note);
}

static void reexec(mtb_blas_start_plan *p, const char *coretype, const char *kind, const char *k,
                   const char *from, const char *why, const char *orig)
{
    p->action = MTB_BLAS_REEXEC;
    put(p->coretype, sizeof p->coretype, "%s", coretype);
    put(p->state, sizeof p->state, "%s|%s|%s|%s|%s", kind, k, from, why, orig ? orig : "");
    p->note[0] = '\0';
}

/* 1: a state of this program's previous image decided it (step 1 above). */
static int finish_state(const mtb_blas_start_in *in, mtb_blas_start_plan *p)
{
    state_fields s;
    split_state(in->state, &s);
    const char *kind = s.f[0], *k = s.f[1], *from = s.f[2], *why = s.f[3], *orig = s.f[4];
    if (!strcmp(kind, "try") && same(k, in->running)) {
        if (in->check_ok) {
            char before[160];
            put(before, sizeof before, *orig ? "instead of %s from OPENBLAS_CORETYPE" : "OpenBLAS chose %s",
                from);
            if (!strcmp(why, "auto"))
                put(p->note, sizeof p->note, "BLAS kernel %s (%s; this CPU supports %s, which passed the "
                    "self-check; --blas-kernel NAME or OPENBLAS_CORETYPE choose another)", in->running,
                    before, in->running);
            else
                put(p->note, sizeof p->note, "BLAS kernel %s (as %s asks; %s; self-check passed)",
                    in->running, why, before);
            keep(p, in, NULL);
        } else { /* back to what ran before: the user's OPENBLAS_CORETYPE, or none */
            reexec(p, orig, "back", from, k, why, orig);
        }
        return 1;
    }
    if (!strcmp(kind, "try")) { /* OpenBLAS did not take the name: it runs its own choice */
        put(p->note, sizeof p->note, "BLAS kernel %s: OpenBLAS %s does not offer %s, which %s asked for",
            in->running, in->blas_version ? in->blas_version : "", k, why);
        keep(p, in, NULL);
        return 1;
    }
    if (!strcmp(kind, "back")) {
        put(p->note, sizeof p->note, "BLAS kernel %s: %s FAILED the self-check, so mtb went back to "
            "the kernel that ran before", in->running, from);
        p->warning = 1;
        keep(p, in, NULL);
        return 1;
    }
    if (!strcmp(kind, "ok") && same(k, in->running) &&
        (!in->request || same(in->request, k) || same(in->request, "auto"))) {
        /* a child of a program that decided already: nothing new to say */
        p->note[0] = '\0';
        keep(p, in, from);
        return 1;
    }
    return 0;
}

static int level_of(const char *name)
{
    const mtb_blas_kernel *k = mtb_blas_kernel_find(name);
    return k ? k->level : -1;
}

static void known_names(char *buf, size_t len)
{
    size_t n, used = 0;
    const mtb_blas_kernel *ks = mtb_blas_kernels(&n);
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        if (ks[i].candidate)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", ks[i].name);
}

mtb_status mtb_blas_start_plan_make(const mtb_blas_start_in *in, mtb_blas_start_plan *p, mtb_error *err)
{
    if (!in || !p || !in->running || !in->cpu)
        return mtb_fail(err, MTB_EINVAL, "BLAS start-up: NULL input");
    memset(p, 0, sizeof *p);
    if (finish_state(in, p))
        return MTB_OK;

    const mtb_blas_kernel *best = mtb_blas_kernel_best(in->cpu, in->blas_version);
    const char *env = in->env_coretype && *in->env_coretype ? in->env_coretype : NULL;
    const int want_auto = in->request && same(in->request, "auto");
    const char *from = in->request_from ? in->request_from : "the request";

    if (in->request && !want_auto) { /* 2: forced */
        const mtb_blas_kernel *k = mtb_blas_kernel_find(in->request);
        if (!k) {
            char names[256];
            known_names(names, sizeof names);
            return mtb_fail(err, MTB_EINVAL, "%s %s: unknown BLAS kernel; use one of %s, or auto "
                            "(docs/performance.md)", from, in->request, names);
        }
        const char *lack = mtb_blas_kernel_missing(k, in->cpu);
        if (lack)
            return mtb_fail(err, MTB_EINVAL, "%s %s: this CPU lacks %s, which the %s kernel needs (%s)%s%s",
                            from, in->request, lack, k->name, k->needs,
                            best ? "; the best it supports is " : "", best ? best->name : "");
        if (same(k->name, in->running)) {
            put(p->note, sizeof p->note, "BLAS kernel %s (as %s asks)", in->running, from);
            keep(p, in, NULL);
            return MTB_OK;
        }
        if (!in->dynamic_arch)
            return mtb_fail(err, MTB_EINVAL, "%s %s: this OpenBLAS has one kernel (%s; not a DYNAMIC_ARCH "
                            "build), so it cannot switch", from, in->request, in->running);
        reexec(p, k->name, "try", k->name, in->running, from, env);
        return MTB_OK;
    }

    if (env && !want_auto) { /* 3: the user's OPENBLAS_CORETYPE */
        if (!same(env, in->running))
            put(p->note, sizeof p->note, "BLAS kernel %s: OpenBLAS did not take OPENBLAS_CORETYPE=%s",
                in->running, env);
        else if (best && level_of(in->running) < best->level)
            put(p->note, sizeof p->note, "BLAS kernel %s, as OPENBLAS_CORETYPE asks; this CPU supports "
                "%s, usually faster (unset OPENBLAS_CORETYPE or pass --blas-kernel auto)", in->running,
                best->name);
        char reason[160];
        put(reason, sizeof reason, "OPENBLAS_CORETYPE=%s from the environment (best this CPU supports: %s)",
            env, best ? best->name : "unknown");
        keep(p, in, reason);
        return MTB_OK;
    }

    /* 4: automatic */
    if (!best || level_of(in->running) >= best->level) {
        if (want_auto)
            put(p->note, sizeof p->note, "BLAS kernel %s: already the best this CPU supports", in->running);
        keep(p, in, best ? "OpenBLAS's own choice, the best kernel this CPU supports"
                         : "OpenBLAS's own choice (no x86-64 kernel ladder on this CPU)");
        return MTB_OK;
    }
    if (!in->dynamic_arch) {
        put(p->note, sizeof p->note, "BLAS kernel %s: this CPU supports %s, but this OpenBLAS has one kernel "
            "(not a DYNAMIC_ARCH build)", in->running, best->name);
        keep(p, in, NULL);
        return MTB_OK;
    }
    reexec(p, best->name, "try", best->name, in->running, "auto", env);
    return MTB_OK;
}

char *mtb_blas_choice_describe(const char *state, const char *running, const char *env_coretype,
                               char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    state_fields s;
    split_state(state, &s);
    if (!strcmp(s.f[0], "ok") && same(s.f[1], running))
        put(buf, len, "%s", s.f[2]);
    else if (env_coretype && *env_coretype)
        put(buf, len, "OPENBLAS_CORETYPE=%s from the environment (not chosen by mtb)", env_coretype);
    else
        put(buf, len, "OpenBLAS's own choice (not chosen by mtb)");
    return buf;
}
