/* cmd_problems.c: mtb problems [NAME], the registry of benchmark problems (problem.h). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mtb/problem.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: mtb problems [NAME [--scale smoke|paper]]\n"
                 "\n"
                 "Without NAME: the registered benchmark problems. With NAME (e.g. lsd6x10@3,\n"
                 "mtr-hom-40, lsd3c-sgd@lr=0.03@val): its tasks, metrics, scales and protocol.\n"
                 "Any name takes the options @lr=<x> (base learning rate) and @val (evaluate on\n"
                 "the last 20 %% of the training set, held out). docs/problems.md explains them.\n");
}

static void show(const mtb_problem *p)
{
    const mtb_protocol *r = &p->proto;
    printf("%s: %s\n", p->name, p->description);
    printf("  data       generator %s (%s), seed %llu\n", p->data_generator, p->data_params,
           (unsigned long long)p->data_seed);
    if (r->trunk[0]) {
        printf("  network    trunk %s (mtb_trunk_preset), %s init; one linear head per task\n",
               r->trunk, mtb_init_name(r->init));
    } else {
        printf("  network    %d dense layers of", r->n_hidden);
        for (int i = 0; i < r->n_hidden; i++)
            printf(" %d", r->widths[i]);
        printf(", %s, orthogonal init gain %.4g; one linear head per task\n",
               r->act == MTB_ACT_TANH ? "tanh" : "relu", r->init_gain);
    }
    printf("  protocol   (scale %s) %s lr %g", p->scale, r->optim.kind == MTB_OPT_ADAM ? "Adam" : "SGD",
           r->optim.lr);
    if (r->optim.kind == MTB_OPT_ADAM)
        printf(" betas (%g, %g) eps %g", r->optim.beta1, r->optim.beta2, r->optim.eps);
    else
        printf(" momentum %g", r->optim.momentum);
    if (r->optim.weight_decay > 0)
        printf(" weight decay %g", r->optim.weight_decay);
    if (r->optim.schedule == MTB_LR_POLY)
        printf(", lr_k = lr (1 - k/%ld)^%g", r->optim.lr_steps ? r->optim.lr_steps : r->steps,
               r->optim.lr_power);
    if (r->clip_norm > 0)
        printf(", global clip %g", r->clip_norm);
    else
        printf(", no clipping");
    printf("; %ld steps, batch %d (%s the last partial batch)\n", r->steps, r->batch,
           r->drop_last ? "dropping" : "keeping");
    printf("  evaluation %severy %d %s and at the last step; reported: the last evaluation "
           "(best stored)%s\n", r->eval_initial ? "the initial model, " : "", r->eval_every,
           r->eval_after_updates ? "updates" : "steps (s mod N = 0)",
           r->nl_window > 0 ? "; the SLAW normalised loss" : "");
    printf("  tasks\n    %-4s %-14s %-13s %-7s %11s %11s %11s  %s\n", "t", "name", "metric", "better",
           "ref scale", "out scale", "loss scale", "oracle weight");
    double w[MTB_PROBLEM_MAX_TASKS];
    mtb_problem_oc_weights(p, w);
    for (int t = 0; t < p->T; t++) {
        const mtb_problem_task *k = &p->tasks[t];
        int numeric = k->metric.kind == MTB_METRIC_NMSE || k->metric.kind == MTB_METRIC_MAE_REL;
        char ref[32] = "-";
        if (numeric)
            snprintf(ref, sizeof ref, "%g", k->metric.ref);
        printf("    %-4d %-14s %-13s %-7s %11s %11g %11g  %.6g%s\n", t + 1, k->name,
               mtb_metric_name(k->metric.kind), mtb_metric_higher_is_better(k->metric.kind) ? "higher" : "lower",
               ref, k->out_scale, k->loss_scale, w[t],
               k->metric_clean.kind != MTB_METRIC_NONE ? "  (+ clean-label metric)" : "");
        if (t == 11 && p->T > 14) {
            printf("    ... %d more tasks of the same kind\n", p->T - 12);
            break;
        }
    }
}

int mtb_cmd_problems(int argc, char **argv)
{
    const char *cmd = "problems", *name = NULL, *scale = "paper";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--scale") && i + 1 < argc) {
            scale = argv[++i];
        } else if (argv[i][0] == '-' || name) {
            cli_error(cmd, "unexpected argument '%s' (see mtb problems --help)", argv[i]);
            return 2;
        } else {
            name = argv[i];
        }
    }
    if (!name) {
        printf("benchmark problems (mtb problems NAME for one; docs/problems.md):\n");
        for (int i = 0; i < mtb_problem_family_count(); i++)
            printf("  %-14s %s\n", mtb_problem_family_pattern(i), mtb_problem_family_summary(i));
        return 0;
    }
    mtb_problem *p = malloc(sizeof *p);
    if (!p) {
        cli_error(cmd, "out of memory");
        return 1;
    }
    mtb_error err = {0};
    if (mtb_problem_lookup(name, scale, p, &err)) {
        free(p);
        cli_fail(cmd, &err);
        return 2;
    }
    show(p);
    free(p);
    return 0;
}
