/* cmd_methods.c: `mtb methods [NAME]`, the catalogue of balancing methods read from the
 * registry (mtb_balancer_types[]), so it can never disagree with what `mtb train` accepts.
 * Without NAME: one line per method (name, what it needs per step, summary).
 * With NAME: its citation, needs and every hyperparameter (default, range or choices, help). */
#include <string.h>

#include "cli.h"
#include "mtb/balancer.h"

static const char *need_name(mtb_need n, mtb_param_scope scope)
{
    switch (n) {
    case MTB_NEED_LOSSES:
        return "losses";
    case MTB_NEED_REP_GRADS:
        return "losses+rep-grads";
    case MTB_NEED_PARAM_GRADS:
        return scope == MTB_SCOPE_LAST_LAYER ? "losses+last-layer-grads" : "losses+param-grads";
    }
    return "?";
}

static const char *kind_name(mtb_hp_kind k)
{
    switch (k) {
    case MTB_HP_REAL:
        return "real";
    case MTB_HP_INT:
        return "int";
    case MTB_HP_BOOL:
        return "bool";
    case MTB_HP_CHOICE:
        return "choice";
    }
    return "?";
}

/* The default rendered like mtb_hparams_format renders it ("beta=0.99" -> "0.99"). */
static void default_text(const mtb_balancer_type *t, int i, char *buf, size_t len)
{
    mtb_hparams hp;
    char all[2048];
    mtb_hparams_default(t, &hp);
    mtb_hparams_format(t, &hp, all, sizeof all);
    const char *p = all;
    for (int k = 0; k < i && p; k++) {
        p = strchr(p, ',');
        if (p)
            p++;
    }
    buf[0] = '\0';
    if (!p)
        return;
    const char *eq = strchr(p, '=');
    if (!eq)
        return;
    size_t n = strcspn(eq + 1, ",");
    if (n >= len)
        n = len - 1;
    memcpy(buf, eq + 1, n);
    buf[n] = '\0';
}

/* The options every method takes besides its own (balancer.h, pre_transform.c). */
static void show_pre(void)
{
    printf("  options of every method (a loss transform in front of it, docs/methods.md):\n");
    for (int i = 0; i < MTB_PRE_NHP; i++) {
        const mtb_hparam_def *d = &mtb_pre_hparams[i];
        char def[64], range[256];
        if (d->kind == MTB_HP_CHOICE) {
            size_t n = strcspn(d->choices, "|"); /* the default is choice 0 */
            snprintf(def, sizeof def, "%.*s", (int)n, d->choices);
            snprintf(range, sizeof range, "one of %s", d->choices);
        } else {
            snprintf(def, sizeof def, "%g", d->def);
            snprintf(range, sizeof range, "[%g, %g]", d->lo, d->hi);
        }
        printf("    %-22s %-6s default %-10s %s\n", d->name, kind_name(d->kind), def, range);
        printf("    %-22s %s\n", "", d->help);
    }
}

static int show_one(const mtb_balancer_type *t)
{
    mtb_balancer_setup su;
    mtb_error err = {0};
    if (mtb_balancer_query(t, 2, NULL, &su, &err))
        return cli_fail("methods", &err);
    printf("%s: %s\n", t->name, t->summary);
    printf("  cite:   %s\n", t->cite);
    printf("  needs:  %s per step (with default hyperparameters)%s\n", need_name(su.need, su.scope),
           su.n_learn ? "; has learnable scalars (updated by the caller's optimiser)" : "");
    if (t->n_hparams == 0) {
        printf("  hyperparameters: none\n");
        show_pre();
        return 0;
    }
    printf("  hyperparameters (--options key=value,...):\n");
    for (int i = 0; i < t->n_hparams; i++) {
        const mtb_hparam_def *d = &t->hparams[i];
        char def[128], range[256];
        default_text(t, i, def, sizeof def);
        if (d->kind == MTB_HP_CHOICE)
            snprintf(range, sizeof range, "one of %s", d->choices);
        else if (d->kind == MTB_HP_BOOL)
            snprintf(range, sizeof range, "true|false");
        else
            snprintf(range, sizeof range, "[%g, %g]", d->lo, d->hi);
        printf("    %-22s %-6s default %-10s %s\n", d->name, kind_name(d->kind), def, range);
        printf("    %-22s %s\n", "", d->help);
    }
    show_pre();
    return 0;
}

int mtb_cmd_methods(int argc, char **argv)
{
    if (argc > 2) {
        cli_error(argv[0], "expected at most one method name (see mtb methods --help)");
        return 2;
    }
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: mtb methods [NAME]\n\n"
               "Without NAME, lists every balancing method with what it needs per step and a\n"
               "one-line summary. With NAME, shows its citation and hyperparameters.\n");
        return 0;
    }
    if (argc == 2) {
        const mtb_balancer_type *t = mtb_balancer_find(argv[1]);
        if (!t) {
            cli_error(argv[0], "unknown method '%s' (run mtb methods for the list)", argv[1]);
            return 2;
        }
        return show_one(t);
    }
    printf("%-12s %-24s %s\n", "method", "needs", "summary");
    for (int i = 0; mtb_balancer_types[i]; i++) {
        const mtb_balancer_type *t = mtb_balancer_types[i];
        mtb_balancer_setup su;
        mtb_error err = {0};
        const char *need = "?";
        if (!mtb_balancer_query(t, 2, NULL, &su, &err))
            need = need_name(su.need, su.scope);
        printf("%-12s %-24s %s\n", t->name, need, t->summary);
    }
    return 0;
}
