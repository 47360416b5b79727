/* test_bench_cli.c: `mtb bench weigh` covers every registered method (issues 3 and 5):
 * each must run on small random inputs and print its us_per_call line. Runs the mtb binary
 * (MTB_BIN, set by `make test`; bin/mtb otherwise). Timings are printed, never asserted. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mtb/balancer.h"

Test(bench_cli, weigh_runs_for_every_method, .timeout = 120)
{
    const char *bin = getenv("MTB_BIN");
    if (!bin)
        bin = "bin/mtb";
    cr_assert(access(bin, X_OK) == 0, "cannot run %s (set MTB_BIN to the mtb binary; make test does)", bin);
    int n = 0;
    for (int i = 0; mtb_balancer_types[i]; i++, n++) {
        char cmd[512], line[256], last[256] = "";
        snprintf(cmd, sizeof cmd, "%s bench weigh --method %s --tasks 4 --dim 24 --reps 2 2>&1", bin,
                 mtb_balancer_types[i]->name);
        FILE *p = popen(cmd, "r");
        cr_assert(p);
        while (fgets(line, sizeof line, p))
            snprintf(last, sizeof last, "%s", line);
        int st = pclose(p);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: exit %d, last line: %s",
                  mtb_balancer_types[i]->name, WEXITSTATUS(st), last);
        cr_assert(!strncmp(last, "us_per_call=", 12), "%s: last line '%s'", mtb_balancer_types[i]->name, last);
    }
    cr_assert_geq(n, 33, "the registry lists %d methods", n);
}
