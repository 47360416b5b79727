/* balancer.c: the generic driver behind every balancing method (GSL's type-object
 * pattern): hyperparameter tables (defaults, parsing, validation, formatting) and the
 * mtb_balancer object that owns one method's state, setup and random stream.
 *
 * The driver is where the library-wide promises are kept, so that no method has to
 * repeat them: step() inputs are validated (task count, finite losses, finite G of the
 * right width when the method asked for gradients, no G when it did not), and every
 * output (head and trunk weights, the explicit trunk gradient, the learnable scalars'
 * gradients) is checked to be finite before the caller sees it. A non-finite value
 * becomes MTB_ENUMERIC with the method's name in the message, never a NaN weight.
 * The same checks cover the optional extensions (balancer.h): every extra sample of a
 * multi-sample method, the losses handed to mtb_balancer_after_update, and the
 * parameter-block offsets of a blocked G (within 0..D, strictly increasing). */
#include "mtb/balancer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gram_input.h"
#include "internal.h"

struct mtb_balancer {
    const mtb_balancer_type *type;
    int T;
    size_t D_max;            /* 0 when the method needs only losses */
    mtb_hparams hp;
    mtb_balancer_setup setup;
    void *state;             /* type->state_size bytes, zeroed before init */
    int initialised;         /* init() succeeded: fini() must run */
    mtb_rng rng;             /* (seed, MTB_STREAM_METHOD) */
    mtb_pre_ws pre;          /* the loss pre-transform in front of the method (pre=...) */
};

/* ---- hyperparameters ------------------------------------------------------------ */

void mtb_hparams_default(const mtb_balancer_type *type, mtb_hparams *hp)
{
    memset(hp, 0, sizeof *hp);
    hp->n = type->n_hparams;
    for (int i = 0; i < type->n_hparams && i < MTB_MAX_HPARAMS; i++)
        hp->v[i] = type->hparams[i].def;
    for (int i = 0; i < MTB_PRE_NHP; i++)
        hp->pre[i] = mtb_pre_hparams[i].def;
}

/* Number of '|'-separated choices in a CHOICE definition. */
static int choice_count(const char *choices)
{
    if (!choices || !*choices)
        return 0;
    int n = 1;
    for (const char *p = choices; *p; p++)
        n += *p == '|';
    return n;
}

/* Copies choice number idx of "a|b|c" into buf; returns 0, or -1 if out of range. */
static int choice_name(const char *choices, int idx, char *buf, size_t len)
{
    const char *p = choices;
    for (int i = 0; p && i < idx; i++) {
        p = strchr(p, '|');
        if (p)
            p++;
    }
    if (!p || !len)
        return -1;
    size_t n = strcspn(p, "|");
    if (n >= len)
        n = len - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return 0;
}

static int choice_index(const char *choices, const char *value)
{
    int n = choice_count(choices);
    char name[128];
    for (int i = 0; i < n; i++)
        if (!choice_name(choices, i, name, sizeof name) && !strcmp(name, value))
            return i;
    return -1;
}

static int find_hparam(const mtb_balancer_type *type, const char *key)
{
    for (int i = 0; i < type->n_hparams; i++)
        if (!strcmp(type->hparams[i].name, key))
            return i;
    return -1;
}

/* Checks one value against its definition. */
static mtb_status check_value(const mtb_balancer_type *type, const mtb_hparam_def *d, double v,
                              mtb_error *err)
{
    switch (d->kind) {
    case MTB_HP_REAL:
        if (!isfinite(v) || v < d->lo || v > d->hi)
            return mtb_fail(err, MTB_EINVAL, "method %s: %s must be a number in [%g, %g], got %g",
                            type->name, d->name, d->lo, d->hi, v);
        return MTB_OK;
    case MTB_HP_INT:
        if (!isfinite(v) || v != floor(v) || v < d->lo || v > d->hi)
            return mtb_fail(err, MTB_EINVAL,
                            "method %s: %s must be an integer in [%g, %g], got %g", type->name,
                            d->name, d->lo, d->hi, v);
        return MTB_OK;
    case MTB_HP_BOOL:
        if (v != 0.0 && v != 1.0)
            return mtb_fail(err, MTB_EINVAL, "method %s: %s must be true or false, got %g",
                            type->name, d->name, v);
        return MTB_OK;
    case MTB_HP_CHOICE:
        if (!isfinite(v) || v != floor(v) || v < 0 || v >= choice_count(d->choices))
            return mtb_fail(err, MTB_EINVAL, "method %s: %s must be one of %s, got index %g",
                            type->name, d->name, d->choices ? d->choices : "(none)", v);
        return MTB_OK;
    }
    return mtb_fail(err, MTB_EINVAL, "method %s: hyperparameter %s has an unknown kind %d",
                    type->name, d->name, (int)d->kind);
}

static mtb_status check_hparams(const mtb_balancer_type *type, const mtb_hparams *hp,
                                mtb_error *err)
{
    if (type->n_hparams < 0 || type->n_hparams > MTB_MAX_HPARAMS)
        return mtb_fail(err, MTB_EINVAL, "method %s declares %d hyperparameters (at most %d)",
                        type->name, type->n_hparams, MTB_MAX_HPARAMS);
    if (hp->n != type->n_hparams)
        return mtb_fail(err, MTB_EINVAL,
                        "method %s: hyperparameter set holds %d values, the method has %d "
                        "(fill it with mtb_hparams_default or mtb_hparams_parse)",
                        type->name, hp->n, type->n_hparams);
    for (int i = 0; i < type->n_hparams; i++) {
        mtb_status st = check_value(type, &type->hparams[i], hp->v[i], err);
        if (st)
            return st;
    }
    for (int i = 0; i < MTB_PRE_NHP; i++) {
        mtb_status st = check_value(type, &mtb_pre_hparams[i], hp->pre[i], err);
        if (st)
            return st;
    }
    return MTB_OK;
}

mtb_status mtb_hparams_set(const mtb_balancer_type *type, mtb_hparams *hp, const char *key,
                           const char *value, mtb_error *err)
{
    int i = find_hparam(type, key), pi = i < 0 ? mtb_pre_find(key) : -1;
    if (i < 0 && pi < 0) {
        char known[256] = "";
        size_t used = 0;
        for (int j = 0; j < type->n_hparams && used < sizeof known; j++)
            used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", j ? ", " : "",
                                     type->hparams[j].name);
        return mtb_fail(err, MTB_EINVAL, "method %s: unknown hyperparameter '%s' (known: %s; "
                        "every method also takes pre, pre_eps, pre_dist)", type->name, key,
                        type->n_hparams ? known : "none");
    }
    const mtb_hparam_def *d = i >= 0 ? &type->hparams[i] : &mtb_pre_hparams[pi];
    double v = 0.0;
    char *end = NULL;
    switch (d->kind) {
    case MTB_HP_REAL:
        errno = 0;
        v = strtod(value, &end);
        if (errno || end == value || *end != '\0' || !isfinite(v))
            return mtb_fail(err, MTB_EINVAL, "method %s: %s expects a number in [%g, %g], got '%s'",
                            type->name, key, d->lo, d->hi, value);
        break;
    case MTB_HP_INT: {
        errno = 0;
        long l = strtol(value, &end, 10);
        if (errno || end == value || *end != '\0')
            return mtb_fail(err, MTB_EINVAL,
                            "method %s: %s expects an integer in [%g, %g], got '%s'", type->name,
                            key, d->lo, d->hi, value);
        v = (double)l;
        break;
    }
    case MTB_HP_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "1"))
            v = 1.0;
        else if (!strcmp(value, "false") || !strcmp(value, "0"))
            v = 0.0;
        else
            return mtb_fail(err, MTB_EINVAL,
                            "method %s: %s expects true/false (or 1/0), got '%s'", type->name, key,
                            value);
        break;
    case MTB_HP_CHOICE: {
        int c = choice_index(d->choices, value);
        if (c < 0)
            return mtb_fail(err, MTB_EINVAL, "method %s: %s expects one of %s, got '%s'",
                            type->name, key, d->choices ? d->choices : "(none)", value);
        v = c;
        break;
    }
    }
    mtb_status st = check_value(type, d, v, err);
    if (st)
        return st;
    if (hp->n != type->n_hparams)
        mtb_hparams_default(type, hp);
    if (i >= 0)
        hp->v[i] = v;
    else
        hp->pre[pi] = v;
    return MTB_OK;
}

mtb_status mtb_hparams_parse(const mtb_balancer_type *type, const char *spec, mtb_hparams *hp,
                             mtb_error *err)
{
    mtb_hparams tmp;
    mtb_hparams_default(type, &tmp);
    if (type->n_hparams > MTB_MAX_HPARAMS)
        return mtb_fail(err, MTB_EINVAL, "method %s declares %d hyperparameters (at most %d)",
                        type->name, type->n_hparams, MTB_MAX_HPARAMS);
    if (spec && *spec) {
        char buf[1024];
        if (strlen(spec) >= sizeof buf)
            return mtb_fail(err, MTB_EINVAL, "method %s: option string is too long (%zu chars)",
                            type->name, strlen(spec));
        strcpy(buf, spec);
        char *p = buf;
        int seen[MTB_MAX_HPARAMS + MTB_PRE_NHP] = {0};
        while (p) {
            char *next = strchr(p, ',');
            if (next)
                *next++ = '\0';
            char *eq = strchr(p, '=');
            if (!*p)
                return mtb_fail(err, MTB_EINVAL, "method %s: empty item in options '%s'",
                                type->name, spec);
            if (!eq || eq == p)
                return mtb_fail(err, MTB_EINVAL,
                                "method %s: option '%s' is not of the form key=value", type->name,
                                p);
            *eq = '\0';
            mtb_status st = mtb_hparams_set(type, &tmp, p, eq + 1, err);
            if (st)
                return st;
            /* a key given twice is a typo or a pasted default: refuse it, naming it */
            int i = find_hparam(type, p);
            if (i < 0)
                i = MTB_MAX_HPARAMS + mtb_pre_find(p);
            if (seen[i]++)
                return mtb_fail(err, MTB_EINVAL, "method %s: option '%s' is given twice in "
                                "'%s'; give each option once", type->name, p, spec);
            p = next;
        }
    }
    *hp = tmp;
    return MTB_OK;
}

void mtb_hparams_format(const mtb_balancer_type *type, const mtb_hparams *hp, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = '\0';
    size_t used = 0;
    /* the type's options, then the pre-transform's when one is selected (so that the
     * canonical string of every run without one stays what it always was) */
    int n_own = type->n_hparams < hp->n ? type->n_hparams : hp->n;
    int n_all = n_own + (hp->pre[0] != MTB_PRE_NONE ? MTB_PRE_NHP : 0);
    for (int i = 0; i < n_all && used < len; i++) {
        const mtb_hparam_def *d = i < n_own ? &type->hparams[i] : &mtb_pre_hparams[i - n_own];
        double x = i < n_own ? hp->v[i] : hp->pre[i - n_own];
        char val[128];
        switch (d->kind) {
        case MTB_HP_REAL:
            /* shortest of %.15g / %.17g that reads back exactly: "0.99", not "0.98999999999999999" */
            snprintf(val, sizeof val, "%.15g", x);
            if (strtod(val, NULL) != x)
                snprintf(val, sizeof val, "%.17g", x);
            break;
        case MTB_HP_INT:
            snprintf(val, sizeof val, "%.0f", x);
            break;
        case MTB_HP_BOOL:
            snprintf(val, sizeof val, "%s", x != 0.0 ? "true" : "false");
            break;
        case MTB_HP_CHOICE:
            if (choice_name(d->choices, (int)x, val, sizeof val))
                snprintf(val, sizeof val, "?%g", x);
            break;
        }
        int w = snprintf(buf + used, len - used, "%s%s=%s", i ? "," : "", d->name, val);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

double mtb_hparams_get(const mtb_balancer_type *type, const mtb_hparams *hp, const char *key)
{
    int i = find_hparam(type, key);
    if (i < 0 || i >= hp->n)
        return NAN;
    return hp->v[i];
}

/* ---- driver ------------------------------------------------------------------- */

/* Runs init on a fresh zeroed state; on failure the state is freed. */
static void *init_state(const mtb_balancer_type *type, int T, size_t D_max, const mtb_hparams *hp,
                        mtb_balancer_setup *setup, mtb_error *err, mtb_status *st)
{
    void *state = calloc(1, type->state_size ? type->state_size : 1);
    if (!state) {
        *st = mtb_fail(err, MTB_ENOMEM, "method %s: cannot allocate %zu bytes of state",
                       type->name, type->state_size);
        return NULL;
    }
    memset(setup, 0, sizeof *setup);
    *st = type->init(state, T, D_max, hp, setup, err);
    if (!*st) {
        if (setup->n_samples == 0)
            setup->n_samples = 1;
        if (setup->n_samples < 1 || setup->n_samples > MTB_MAX_SAMPLES)
            *st = mtb_fail(err, MTB_EINVAL, "method %s: init asked for %d samples per step "
                           "(1..%d)", type->name, setup->n_samples, MTB_MAX_SAMPLES);
    }
    if (*st) {
        /* init unwinds its own partial allocations, but fini must accept a partly
         * initialised (zeroed) state, so calling it is always safe. */
        if (type->fini)
            type->fini(state);
        free(state);
        return NULL;
    }
    return state;
}

static mtb_status check_type(const mtb_balancer_type *type, int T, mtb_error *err)
{
    if (!type || !type->init || !type->step)
        return mtb_fail(err, MTB_EINVAL, "balancer type is NULL or has no init/step");
    if (T < 1)
        return mtb_fail(err, MTB_EINVAL, "method %s: the number of tasks must be >= 1, got %d",
                        type->name, T);
    return MTB_OK;
}

mtb_status mtb_balancer_query(const mtb_balancer_type *type, int T, const mtb_hparams *hp,
                              mtb_balancer_setup *setup, mtb_error *err)
{
    mtb_status st = check_type(type, T, err);
    if (st)
        return st;
    mtb_hparams def;
    if (!hp) {
        mtb_hparams_default(type, &def);
        hp = &def;
    }
    if ((st = check_hparams(type, hp, err)))
        return st;
    mtb_balancer_setup s;
    void *state = init_state(type, T, 0, hp, &s, err, &st);
    if (!state)
        return st;
    /* The learnable arrays belong to the state that is about to go away. */
    s.learn = NULL;
    s.learn_grad = NULL;
    if (type->fini)
        type->fini(state);
    free(state);
    if (setup)
        *setup = s;
    return MTB_OK;
}

mtb_balancer *mtb_balancer_new(const mtb_balancer_type *type, int T, size_t D_max,
                               const mtb_hparams *hp, unsigned long long seed, mtb_error *err)
{
    mtb_balancer_setup probe;
    if (mtb_balancer_query(type, T, hp, &probe, err))
        return NULL;
    if (probe.need == MTB_NEED_LOSSES)
        D_max = 0;
    else if (D_max == 0) {
        mtb_fail(err, MTB_EINVAL,
                 "method %s needs %s gradients: D_max must be >= 1, got 0", type->name,
                 probe.need == MTB_NEED_REP_GRADS ? "representation" : "parameter");
        return NULL;
    }
    mtb_balancer *b = calloc(1, sizeof *b);
    if (!b) {
        mtb_fail(err, MTB_ENOMEM, "method %s: cannot allocate the balancer", type->name);
        return NULL;
    }
    b->type = type;
    b->T = T;
    b->D_max = D_max;
    if (hp)
        b->hp = *hp;
    else
        mtb_hparams_default(type, &b->hp);
    mtb_status st;
    b->state = init_state(type, T, D_max, &b->hp, &b->setup, err, &st);
    if (!b->state) {
        free(b);
        return NULL;
    }
    b->initialised = 1;
    if (b->setup.n_learn < 0 || (b->setup.n_learn > 0 && (!b->setup.learn || !b->setup.learn_grad))) {
        mtb_fail(err, MTB_EINVAL, "method %s: init declared %d learnable scalars without arrays",
                 type->name, b->setup.n_learn);
        mtb_balancer_free(b);
        return NULL;
    }
    if (mtb_pre_ws_init(&b->pre, b->hp.pre, T, D_max, b->setup.n_samples,
                        b->setup.need != MTB_NEED_LOSSES, seed, type->name, err)) {
        mtb_balancer_free(b);
        return NULL;
    }
    mtb_rng_seed(&b->rng, (uint64_t)seed, MTB_STREAM_METHOD);
    return b;
}

static int all_finite(const double *x, size_t n, size_t *bad)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) {
            *bad = i;
            return 0;
        }
    return 1;
}

/* Recorded draws (replay, balancer.h): only kinds the method accepts, finite values, task
 * indices in 0..T-1. Counts and layouts are the method's to check. */
static mtb_status check_draws(const mtb_balancer *b, const mtb_balance_draws *d, mtb_error *err)
{
    const char *name = b->type->name;
    size_t bad = 0;
    if ((d->n_values && !d->values) || (d->n_orders && !d->orders))
        return mtb_fail(err, MTB_EINVAL, "method %s: recorded draws with a count but no array",
                        name);
    if (d->values && !(b->setup.replay & MTB_REPLAY_VALUES))
        return mtb_fail(err, MTB_EINVAL,
                        "method %s takes no recorded values (it draws none it can replay)", name);
    if (d->orders && !(b->setup.replay & MTB_REPLAY_ORDERS))
        return mtb_fail(err, MTB_EINVAL,
                        "method %s takes no recorded task orders (it draws none it can replay)",
                        name);
    if (d->values && !all_finite(d->values, d->n_values, &bad))
        return mtb_fail(err, MTB_ENUMERIC, "method %s: recorded draw %zu is %g (not finite)", name,
                        bad, d->values[bad]);
    for (size_t i = 0; d->orders && i < d->n_orders; i++)
        if (d->orders[i] < 0 || d->orders[i] >= b->T)
            return mtb_fail(err, MTB_EINVAL,
                            "method %s: recorded task order entry %zu is %d, tasks are 0..%d", name,
                            i, d->orders[i], b->T - 1);
    return MTB_OK;
}

mtb_status mtb_balancer_step(mtb_balancer *b, const mtb_balance_in *in, mtb_balance_out *out,
                             mtb_error *err)
{
    if (!b || !in || !out)
        return mtb_fail(err, MTB_EINVAL, "balancer step: NULL balancer, input or output");
    const char *name = b->type->name;
    size_t bad = 0;
    if (in->T != b->T)
        return mtb_fail(err, MTB_EINVAL, "method %s: step got %d tasks, the balancer has %d",
                        name, in->T, b->T);
    if (!in->losses)
        return mtb_fail(err, MTB_EINVAL, "method %s: step got no losses", name);
    if (!out->head_w || !out->trunk_w)
        return mtb_fail(err, MTB_EINVAL, "method %s: step needs head_w and trunk_w arrays", name);
    if (!all_finite(in->losses, (size_t)b->T, &bad))
        return mtb_fail(err, MTB_ENUMERIC, "method %s: loss of task %zu is %g (not finite)", name,
                        bad, in->losses[bad]);
    if (b->setup.need == MTB_NEED_LOSSES) {
        if (in->G)
            return mtb_fail(err, MTB_EINVAL,
                            "method %s needs only losses but step got a gradient matrix", name);
    } else if (!in->G && in->gram.M) {
        mtb_status gst = mtb_bal_check_gram(b->type->name, b->T, &b->setup, b->hp.pre[0], in, err);
        if (gst)
            return gst;
    } else {
        if (!in->G)
            return mtb_fail(err, MTB_EINVAL, "method %s needs %s gradients but step got G = NULL",
                            name, b->setup.need == MTB_NEED_REP_GRADS ? "representation" : "parameter");
        if (in->D < 1 || in->D > b->D_max)
            return mtb_fail(err, MTB_EINVAL,
                            "method %s: G has %zu columns, expected 1..%zu (D_max at creation)",
                            name, in->D, b->D_max);
        if (!all_finite(in->G, (size_t)b->T * in->D, &bad))
            return mtb_fail(err, MTB_ENUMERIC,
                            "method %s: gradient G[%zu][%zu] is %g (not finite)", name,
                            bad / in->D, bad % in->D, in->G[bad]);
        if (in->rep.Z && !all_finite(in->rep.Z, in->D, &bad))
            return mtb_fail(err, MTB_ENUMERIC,
                            "method %s: representation Z[%zu] is %g (not finite)", name, bad,
                            in->rep.Z[bad]);
    }
    if (in->blocks.n != 0) {
        if (!in->G)
            return mtb_fail(err, MTB_EINVAL,
                            "method %s: step got %d parameter blocks but no gradient matrix",
                            name, in->blocks.n);
        if (in->blocks.n < 0 || in->blocks.n > MTB_MAX_BLOCKS || !in->blocks.off)
            return mtb_fail(err, MTB_EINVAL,
                            "method %s: parameter blocks must be 1..%d with offsets, got %d "
                            "(offsets %s)", name, MTB_MAX_BLOCKS, in->blocks.n,
                            in->blocks.off ? "set" : "NULL");
        if (in->blocks.off[0] != 0 || in->blocks.off[in->blocks.n] != in->D)
            return mtb_fail(err, MTB_EINVAL,
                            "method %s: block offsets must run from 0 to D = %zu, got %zu .. %zu",
                            name, in->D, in->blocks.off[0], in->blocks.off[in->blocks.n]);
        for (int k = 0; k < in->blocks.n; k++)
            if (in->blocks.off[k + 1] <= in->blocks.off[k])
                return mtb_fail(err, MTB_EINVAL,
                                "method %s: block %d is empty or reversed (offsets %zu, %zu)",
                                name, k, in->blocks.off[k], in->blocks.off[k + 1]);
    }
    mtb_status dst = check_draws(b, &in->draws, err);
    if (dst)
        return dst;
    const int ns = b->setup.n_samples;
    if (ns > 1) {
        if (in->samples.n != ns || !in->samples.losses ||
            (b->setup.need != MTB_NEED_LOSSES && !in->samples.G))
            return mtb_fail(err, MTB_EINVAL,
                            "method %s takes %d samples per step, got %d (samples.losses %s, "
                            "samples.G %s)", name, ns, in->samples.n,
                            in->samples.losses ? "set" : "NULL", in->samples.G ? "set" : "NULL");
        for (int k = 0; k < ns; k++) {
            const double *lk = in->samples.losses[k];
            if (!lk)
                return mtb_fail(err, MTB_EINVAL, "method %s: loss sample %d is NULL", name, k);
            if (!all_finite(lk, (size_t)b->T, &bad))
                return mtb_fail(err, MTB_ENUMERIC,
                                "method %s: loss of task %zu in sample %d is %g (not finite)",
                                name, bad, k, lk[bad]);
            if (b->setup.need == MTB_NEED_LOSSES)
                continue;
            const double *gk = in->samples.G[k];
            if (!gk)
                return mtb_fail(err, MTB_EINVAL, "method %s: gradient sample %d is NULL", name, k);
            if (!all_finite(gk, (size_t)b->T * in->D, &bad))
                return mtb_fail(err, MTB_ENUMERIC,
                                "method %s: gradient G[%zu][%zu] of sample %d is %g (not finite)",
                                name, bad / in->D, bad % in->D, k, gk[bad]);
        }
    } else if (in->samples.n > 1) {
        return mtb_fail(err, MTB_EINVAL, "method %s takes one sample per step, got %d", name,
                        in->samples.n);
    }
    mtb_balance_in local = *in;
    if (!local.rng)
        local.rng = &b->rng;
    if (b->setup.need == MTB_NEED_LOSSES)
        local.D = 0;
    out->trunk_grad_set = 0;
    for (int i = 0; i < b->setup.n_learn; i++)
        b->setup.learn_grad[i] = 0.0;

    /* the pre-transform (pre_transform.c): the method sees f(l) and c G, its weights are
     * mapped back onto the raw gradients before they are checked */
    mtb_status st = mtb_pre_apply(&b->pre, in, &local, name, err);
    if (st)
        return st;
    if ((st = b->type->step(b->state, &local, out, err)))
        return st;
    mtb_pre_output(&b->pre, out);

    if (!all_finite(out->head_w, (size_t)b->T, &bad))
        return mtb_fail(err, MTB_ENUMERIC, "method %s produced head weight %zu = %g (not finite)",
                        name, bad, out->head_w[bad]);
    if (out->trunk_grad_set) {
        if (!out->trunk_grad || !in->G)
            return mtb_fail(err, MTB_EINVAL,
                            "method %s set trunk_grad without a gradient matrix or output array",
                            name);
        if (!all_finite(out->trunk_grad, in->D, &bad))
            return mtb_fail(err, MTB_ENUMERIC,
                            "method %s produced trunk gradient entry %zu = %g (not finite)", name,
                            bad, out->trunk_grad[bad]);
    }
    /* also with an explicit gradient: trunk_w is then the reported weights (run files) */
    if (!all_finite(out->trunk_w, (size_t)b->T, &bad))
        return mtb_fail(err, MTB_ENUMERIC, "method %s produced trunk weight %zu = %g (not finite)",
                        name, bad, out->trunk_w[bad]);
    if (b->setup.n_learn > 0 && !all_finite(b->setup.learn_grad, (size_t)b->setup.n_learn, &bad))
        return mtb_fail(err, MTB_ENUMERIC,
                        "method %s produced a non-finite gradient for learnable scalar %zu (%g)",
                        name, bad, b->setup.learn_grad[bad]);
    return MTB_OK;
}

mtb_status mtb_balancer_after_update(mtb_balancer *b, const double *losses_after, mtb_error *err)
{
    if (!b || !losses_after)
        return mtb_fail(err, MTB_EINVAL, "balancer after_update: NULL balancer or losses");
    if (!b->setup.after_update)
        return mtb_fail(err, MTB_EINVAL,
                        "method %s does not consume the losses after the update", b->type->name);
    size_t bad = 0;
    if (!all_finite(losses_after, (size_t)b->T, &bad))
        return mtb_fail(err, MTB_ENUMERIC,
                        "method %s: loss of task %zu after the update is %g (not finite)",
                        b->type->name, bad, losses_after[bad]);
    const double *lp = losses_after;
    mtb_status st = mtb_pre_losses_after(&b->pre, losses_after, &lp, b->type->name, err);
    return st ? st : b->setup.after_update(b->state, lp, err);
}

const mtb_balancer_setup *mtb_balancer_get_setup(const mtb_balancer *b) { return &b->setup; }
const mtb_balancer_type *mtb_balancer_get_type(const mtb_balancer *b) { return b->type; }
const mtb_hparams *mtb_balancer_get_hparams(const mtb_balancer *b) { return &b->hp; }
mtb_rng *mtb_balancer_rng(mtb_balancer *b) { return &b->rng; }

void *mtb_balancer_state_(mtb_balancer *b) { return b->state; }

void mtb_balancer_free(mtb_balancer *b)
{
    if (!b)
        return;
    if (b->initialised && b->type->fini)
        b->type->fini(b->state);
    mtb_pre_ws_free(&b->pre);
    free(b->state);
    free(b);
}
