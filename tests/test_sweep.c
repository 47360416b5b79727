/* test_sweep.c: `mtb sweep` end to end (docs/sweeps.md): the binary (MTB_BIN, set by
 * `make test`; bin/mtb otherwise) runs small sweeps at the smoke scale into temporary
 * directories, and the tests check what a user relies on:
 *   - a sweep runs, its table has the expected rows, --table-only rewrites it identically;
 *   - killed with SIGKILL in the middle, the same command resumes, keeps the finished run
 *     files untouched and ends with the table of an uninterrupted sweep;
 *   - --jobs 1, --jobs 2 and mpirun -np 2 give byte-identical tables;
 *   - a failing job is reported and recorded, the others complete, the exit status is 1;
 *   - a truncated run file is found at resume and its job redone;
 *   - --reuse links the run files of the same jobs from another sweep (and not those of
 *     another BLAS kernel), and the table is that of a sweep that trained them all;
 *   - usage errors exit 2 and name the bad value.
 * Each sweep is a few jobs of a problem whose smoke protocol trains in a fraction of a
 * second, so that every test takes seconds. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io_testutil.h"

/* Three MSE tasks of equal scale, 400 smoke steps: the cheapest registered problem. */
#define PROBLEM "mtr-hom-3"
#define MAX_ARGS 48
#define DIR_LEN 80 /* a sweep directory: "/tmp/mtb-test-XXXXXX/s0" */

static const char *mtb_bin(void)
{
    const char *bin = getenv("MTB_BIN");
    if (!bin)
        bin = "bin/mtb";
    cr_assert(access(bin, X_OK) == 0, "cannot run %s (set MTB_BIN to the mtb binary; make test does)",
              bin);
    return bin;
}

/* Starts argv with stdout and stderr to log (appended). mpi: put the sanitizer's leak
 * check off in the child's environment (Open MPI's own allocations are not ours).
 * new_group: the child leads its own process group, so that the whole sweep (workers
 * included) can be killed at once. */
static pid_t spawn(char *const argv[], const char *log, int new_group, int mpi)
{
    fflush(NULL);
    pid_t p = fork();
    cr_assert(p >= 0, "fork: %s", strerror(errno));
    if (p == 0) {
        if (new_group)
            setpgid(0, 0);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        if (mpi)
            setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (new_group)
        setpgid(p, p); /* also here: no race with the kill below */
    return p;
}

static int wait_exit(pid_t p)
{
    int ws;
    while (waitpid(p, &ws, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* Runs `mtb sweep <args...> -o dir` (NULL-terminated args), logging to dir.log; returns
 * the exit status. */
static int sweep_v(const char *dir, int mpi_np, va_list ap)
{
    char *argv[MAX_ARGS], np[16], log[IO_PATH_LEN];
    int n = 0;
    if (mpi_np) {
        snprintf(np, sizeof np, "%d", mpi_np);
        argv[n++] = "mpirun";
        argv[n++] = "--allow-run-as-root";
        argv[n++] = "--oversubscribe";
        argv[n++] = "-np";
        argv[n++] = np;
    }
    argv[n++] = (char *)mtb_bin();
    argv[n++] = "sweep";
    for (char *a; (a = va_arg(ap, char *)) && n < MAX_ARGS - 3;)
        argv[n++] = a;
    argv[n++] = "-o";
    argv[n++] = (char *)dir;
    argv[n] = NULL;
    snprintf(log, sizeof log, "%s.log", dir);
    return wait_exit(spawn(argv, log, 0, mpi_np > 0));
}

static int sweep(const char *dir, ...)
{
    va_list ap;
    va_start(ap, dir);
    int rc = sweep_v(dir, 0, ap);
    va_end(ap);
    return rc;
}

static int sweep_mpi(const char *dir, int np, ...)
{
    va_list ap;
    va_start(ap, np);
    int rc = sweep_v(dir, np, ap);
    va_end(ap);
    return rc;
}

/* The whole file, NUL-terminated (malloc'd), or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = '\0';
    fclose(f);
    return b;
}

static char *slurp_in(const char *dir, const char *name)
{
    char p[IO_PATH_LEN];
    return slurp(io_path(p, dir, name));
}

/* The log of the sweeps into dir, for assertion messages. */
static char *log_of(const char *dir)
{
    char p[IO_PATH_LEN];
    snprintf(p, sizeof p, "%s.log", dir);
    char *s = slurp(p);
    return s ? s : strdup("(no log)");
}

/* Lines of a section ("## runs\tP", "## failed", ...) of a results table, without its
 * column header; -1 when the section is absent. */
static int section_rows(const char *table, const char *section)
{
    char head[128];
    snprintf(head, sizeof head, "\n%s\n", section);
    const char *s = strstr(table, head);
    if (!s)
        return -1;
    s += strlen(head);
    s = strchr(s, '\n'); /* the column header */
    int n = 0;
    while (s && s[1] && s[1] != '\n' && s[1] != '#') {
        n++;
        s = strchr(s + 1, '\n');
    }
    return n;
}

/* Run files (*.h5) and temporaries (*.tmp) below dir. */
static void count_files(const char *dir, int *h5, int *tmp)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[1024];
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
            continue;
        struct stat st;
        if (lstat(p, &st))
            continue;
        size_t n = strlen(e->d_name);
        if (S_ISDIR(st.st_mode))
            count_files(p, h5, tmp);
        else if (n > 3 && !strcmp(e->d_name + n - 3, ".h5"))
            ++*h5;
        else if (n > 4 && !strcmp(e->d_name + n - 4, ".tmp"))
            ++*tmp;
    }
    if (d)
        closedir(d);
}

static void assert_same_table(const char *a_dir, const char *b_dir, const char *what)
{
    char *a = slurp_in(a_dir, "results.tsv"), *b = slurp_in(b_dir, "results.tsv");
    cr_assert(a && b, "%s: a results.tsv is missing (%s, %s)", what, a_dir, b_dir);
    cr_assert(!strcmp(a, b), "%s: the tables differ\n--- %s\n%s\n--- %s\n%s", what, a_dir, a,
              b_dir, b);
    free(a);
    free(b);
}

static void make_dirs(char base[IO_TMP_LEN], char sub[][DIR_LEN], int n)
{
    io_tmpdir(base);
    for (int i = 0; i < n; i++)
        snprintf(sub[i], DIR_LEN, "%.60s/s%d", base, i);
}

Test(sweep, runs_and_tabulates, .timeout = 600)
{
    char base[IO_TMP_LEN], d[1][DIR_LEN];
    make_dirs(base, d, 1);
    int rc = sweep(d[0], "--problem", PROBLEM, "--methods", "ew,stl", "--seeds", "0-1", "--scale",
                   "smoke", "--jobs", "2", NULL);
    char *log = log_of(d[0]);
    cr_assert_eq(rc, 0, "exit %d, log:\n%s", rc, log);
    char *t = slurp_in(d[0], "results.tsv");
    cr_assert(t, "no results.tsv; log:\n%s", log);
    cr_assert_eq(section_rows(t, "## runs\t" PROBLEM), 4, "4 runs expected:\n%s", t);
    cr_assert_eq(section_rows(t, "## summary\t" PROBLEM), 2, "2 summary rows expected:\n%s", t);
    cr_assert_eq(section_rows(t, "## missing"), 0, "nothing missing expected:\n%s", t);
    cr_assert_eq(section_rows(t, "## failed"), 0, "nothing failed expected:\n%s", t);
    cr_assert(strstr(t, "\n" PROBLEM "\tew\t-\t0\tok\t"), "no ok row of ew seed 0:\n%s", t);
    /* Delta-p of stl against itself is 0; the columns are there for every row */
    cr_assert(strstr(t, "\tdp_stl\tdp_ew\t"), "no dp columns:\n%s", t);
    char p[IO_PATH_LEN];
    cr_assert(io_file_exists(io_path(p, d[0], "results.h5")), "no results.h5");
    cr_assert(io_file_exists(io_path(p, d[0], "plan.tsv")), "no plan.tsv");
    cr_assert(io_file_exists(io_path(p, d[0], "timing.tsv")), "no timing.tsv");
    cr_assert(io_file_exists(io_path(p, d[0], "runs/" PROBLEM "/stl/seed1.h5")), "no stl run file");

    /* --table-only, from plan.tsv alone and with the plan's options: the same bytes */
    io_path(p, d[0], "results.tsv");
    remove(p);
    rc = sweep(d[0], "--table-only", NULL);
    cr_assert_eq(rc, 0, "--table-only: exit %d", rc);
    char *t2 = slurp_in(d[0], "results.tsv");
    cr_assert(t2 && !strcmp(t, t2), "--table-only wrote another table:\n%s\n---\n%s", t, t2 ? t2 : "");
    rc = sweep(d[0], "--problem", PROBLEM, "--methods", "ew,stl", "--seeds", "0-1", "--scale",
               "smoke", "--table-only", NULL);
    free(t2);
    t2 = slurp_in(d[0], "results.tsv");
    cr_assert(rc == 0 && t2 && !strcmp(t, t2), "--table-only with the plan's options: exit %d", rc);

    /* the same command again: everything is kept, nothing runs */
    rc = sweep(d[0], "--problem", PROBLEM, "--methods", "ew,stl", "--seeds", "0-1", "--scale",
               "smoke", NULL);
    free(log);
    log = log_of(d[0]);
    cr_assert(rc == 0 && strstr(log, "4 kept, 0 to run"), "rerun: exit %d, log:\n%s", rc, log);
    free(t), free(t2), free(log);
    io_rmtree(base);
}

Test(sweep, resumes_after_sigkill, .timeout = 600)
{
    char base[IO_TMP_LEN], d[2][DIR_LEN];
    make_dirs(base, d, 2);
    const int total = 8;
    char *argv[] = {(char *)mtb_bin(), "sweep", "--problem", PROBLEM, "--methods",
                    "ew,rlw,dwa,stl", "--seeds", "0-1", "--scale", "smoke", "-o", d[0], NULL};
    char log[IO_PATH_LEN];
    snprintf(log, sizeof log, "%s.log", d[0]);
    pid_t p = spawn(argv, log, 1, 0);
    char runs[IO_PATH_LEN];
    io_path(runs, d[0], "runs");
    int h5 = 0, tmp = 0;
    /* kill -9 the whole process group once some, not all, run files exist */
    for (int waited = 0; waited < 300000; waited += 5) {
        h5 = tmp = 0;
        count_files(runs, &h5, &tmp);
        if (h5 >= 2 && h5 < total)
            break;
        struct timespec ts = {0, 5000000L};
        nanosleep(&ts, NULL);
    }
    cr_assert(h5 >= 2 && h5 < total, "could not catch the sweep in the middle (%d run files)", h5);
    kill(-p, SIGKILL);
    int rc = wait_exit(p);
    cr_assert_eq(rc, 128 + SIGKILL, "the sweep was not killed (status %d)", rc);

    /* the run files present now, with their inode and mtime */
    const char *methods[] = {"ew", "rlw", "dwa", "stl"};
    struct stat before[8];
    int had[8] = {0}, kept = 0;
    for (int m = 0; m < 4; m++)
        for (int s = 0; s < 2; s++) {
            char f[IO_PATH_LEN];
            snprintf(f, sizeof f, "%s/runs/" PROBLEM "/%s/seed%d.h5", d[0], methods[m], s);
            had[m * 2 + s] = !stat(f, &before[m * 2 + s]);
            kept += had[m * 2 + s];
        }
    cr_assert(kept >= 2, "expected finished run files after the kill, found %d", kept);

    rc = sweep(d[0], "--problem", PROBLEM, "--methods", "ew,rlw,dwa,stl", "--seeds", "0-1",
               "--scale", "smoke", NULL);
    char *lg = log_of(d[0]);
    cr_assert_eq(rc, 0, "resume: exit %d, log:\n%s", rc, lg);
    char want[64];
    snprintf(want, sizeof want, "%d kept, %d to run", kept, total - kept);
    cr_assert(strstr(lg, want), "resume did not keep the %d finished jobs; log:\n%s", kept, lg);
    for (int k = 0; k < 8; k++) {
        if (!had[k])
            continue;
        char f[IO_PATH_LEN];
        snprintf(f, sizeof f, "%s/runs/" PROBLEM "/%s/seed%d.h5", d[0], methods[k / 2], k % 2);
        struct stat now;
        cr_assert(!stat(f, &now), "%s vanished", f);
        cr_assert(now.st_ino == before[k].st_ino && now.st_mtim.tv_sec == before[k].st_mtim.tv_sec &&
                      now.st_mtim.tv_nsec == before[k].st_mtim.tv_nsec,
                  "%s was rewritten by the resumed sweep", f);
    }
    h5 = tmp = 0;
    count_files(runs, &h5, &tmp);
    cr_assert(h5 == total && tmp == 0, "after the resume: %d run files, %d temporaries", h5, tmp);

    /* the same plan uninterrupted gives the same table */
    rc = sweep(d[1], "--problem", PROBLEM, "--methods", "ew,rlw,dwa,stl", "--seeds", "0-1",
               "--scale", "smoke", "--jobs", "2", NULL);
    cr_assert_eq(rc, 0, "uninterrupted sweep: exit %d", rc);
    assert_same_table(d[0], d[1], "killed and resumed vs uninterrupted");
    free(lg);
    io_rmtree(base);
}

static int have_mpirun(void)
{
    return system("command -v mpirun >/dev/null 2>&1") == 0;
}

Test(sweep, same_table_for_every_schedule, .timeout = 600)
{
    char base[IO_TMP_LEN], d[3][DIR_LEN];
    make_dirs(base, d, 3);
    int rc = sweep(d[0], "--problem", PROBLEM, "--methods", "ew,stl,rlw", "--seeds", "0-1",
                   "--scale", "smoke", "--jobs", "1", NULL);
    cr_assert_eq(rc, 0, "--jobs 1: exit %d", rc);
    rc = sweep(d[1], "--problem", PROBLEM, "--methods", "ew,stl,rlw", "--seeds", "0-1",
               "--scale", "smoke", "--jobs", "2", NULL);
    cr_assert_eq(rc, 0, "--jobs 2: exit %d", rc);
    assert_same_table(d[0], d[1], "--jobs 1 vs --jobs 2");
    if (!have_mpirun()) {
        io_rmtree(base);
        cr_skip_test("mpirun is not on PATH (apt-get install openmpi-bin): the MPI part is "
                     "skipped, --jobs 1 and --jobs 2 agree");
    }
    rc = sweep_mpi(d[2], 2, "--problem", PROBLEM, "--methods", "ew,stl,rlw", "--seeds", "0-1",
                   "--scale", "smoke", NULL);
    char *lg = log_of(d[2]);
    cr_assert_eq(rc, 0, "mpirun -np 2: exit %d, log:\n%s", rc, lg);
    cr_assert(strstr(lg, "on 2 MPI ranks"), "the sweep did not run on 2 ranks; log:\n%s", lg);
    assert_same_table(d[0], d[2], "--jobs 1 vs mpirun -np 2");
    free(lg);
    io_rmtree(base);
}

Test(sweep, failed_job_does_not_stop_the_others, .timeout = 600)
{
    char base[IO_TMP_LEN], d[1][DIR_LEN], data[IO_PATH_LEN];
    make_dirs(base, d, 1);
    /* A 3-task data set: it fits mtr-hom-3 and not mtr-hom-2, which the job finds out when
     * it runs (planning does not load the data). */
    io_path(data, base, "mtr3.h5");
    char log[IO_PATH_LEN];
    snprintf(log, sizeof log, "%s.log", d[0]);
    char *gen[] = {(char *)mtb_bin(), "gen", "mtr", "--tasks", "3", "--samples", "2000", "-o",
                   data, NULL};
    cr_assert_eq(wait_exit(spawn(gen, log, 0, 0)), 0, "mtb gen failed");
    int rc = sweep(d[0], "--problem", "mtr-hom-2," PROBLEM, "--methods", "ew", "--seeds", "0-1",
                   "--scale", "smoke", "--data", data, "--jobs", "2", NULL);
    char *lg = log_of(d[0]);
    cr_assert_eq(rc, 1, "a failed job must give exit 1, got %d; log:\n%s", rc, lg);
    cr_assert(strstr(lg, "FAILED mtr-hom-2/ew/seed0"), "the failure is not reported:\n%s", lg);
    char *rec = slurp_in(d[0], "failed/mtr-hom-2/ew/seed1.txt");
    cr_assert(rec && strstr(rec, "message\t") && strstr(rec, "tasks"),
              "no failure record with the message: %s", rec ? rec : "(none)");
    char p[IO_PATH_LEN];
    cr_assert(io_file_exists(io_path(p, d[0], "runs/" PROBLEM "/ew/seed0.h5")) &&
                  io_file_exists(io_path(p, d[0], "runs/" PROBLEM "/ew/seed1.h5")),
              "the jobs that could run did not complete; log:\n%s", lg);
    char *t = slurp_in(d[0], "results.tsv");
    cr_assert(t, "no table");
    cr_assert_eq(section_rows(t, "## failed"), 2, "2 failed rows expected:\n%s", t);
    cr_assert_eq(section_rows(t, "## runs\t" PROBLEM), 2, "2 runs expected:\n%s", t);

    /* the same command again: the failures stay failures (not retried), exit 1 */
    rc = sweep(d[0], "--problem", "mtr-hom-2," PROBLEM, "--methods", "ew", "--seeds", "0-1",
               "--scale", "smoke", "--data", data, NULL);
    free(lg);
    lg = log_of(d[0]);
    cr_assert(rc == 1 && strstr(lg, "failed in an earlier session"),
              "rerun: exit %d, log:\n%s", rc, lg);
    free(lg), free(rec), free(t);
    io_rmtree(base);
}

Test(sweep, truncated_run_file_is_redone, .timeout = 600)
{
    char base[IO_TMP_LEN], d[1][DIR_LEN];
    make_dirs(base, d, 1);
    int rc = sweep(d[0], "--problem", PROBLEM, "--methods", "ew", "--seeds", "0-1", "--scale",
                   "smoke", NULL);
    cr_assert_eq(rc, 0, "first sweep: exit %d", rc);
    char *t = slurp_in(d[0], "results.tsv");
    char f[IO_PATH_LEN];
    io_path(f, d[0], "runs/" PROBLEM "/ew/seed1.h5");
    struct stat st;
    cr_assert(!stat(f, &st) && st.st_size > 100, "no run file %s", f);
    cr_assert(!truncate(f, st.st_size / 2), "truncate: %s", strerror(errno));
    rc = sweep(d[0], "--problem", PROBLEM, "--methods", "ew", "--seeds", "0-1", "--scale",
               "smoke", NULL);
    char *lg = log_of(d[0]);
    cr_assert_eq(rc, 0, "resume: exit %d, log:\n%s", rc, lg);
    cr_assert(strstr(lg, PROBLEM "/ew/seed1: not a complete run") && strstr(lg, "1 kept, 1 to run"),
              "the truncated file was not detected; log:\n%s", lg);
    struct stat now;
    cr_assert(!stat(f, &now) && now.st_size == st.st_size, "the redone run file differs in size");
    char *t2 = slurp_in(d[0], "results.tsv");
    cr_assert(t && t2 && !strcmp(t, t2), "the redone job changed the table");
    free(t), free(t2), free(lg);
    io_rmtree(base);
}

static ino_t inode_of(const char *dir, const char *name)
{
    char p[IO_PATH_LEN];
    struct stat st;
    return stat(io_path(p, dir, name), &st) ? 0 : st.st_ino;
}

Test(sweep, reuses_runs_of_other_sweeps, .timeout = 600)
{
    char base[IO_TMP_LEN], d[4][DIR_LEN], root[DIR_LEN];
    make_dirs(base, d, 4);
    snprintf(root, sizeof root, "%.60s", base);
    int rc = sweep(d[0], "--problem", PROBLEM, "--methods", "ew,stl", "--seeds", "0-1", "--scale",
                   "smoke", NULL);
    cr_assert_eq(rc, 0, "first sweep: exit %d", rc);
    /* a larger plan with --reuse: the 4 jobs of d0 are linked, 2 new ones run */
    rc = sweep(d[1], "--problem", PROBLEM, "--methods", "ew,stl,uw", "--seeds", "0-1", "--scale",
               "smoke", "--reuse", root, "--dry-run", NULL);
    char *lg = log_of(d[1]);
    cr_assert(rc == 0 && strstr(lg, "reuse\t400\t" PROBLEM "/ew/seed1") &&
              strstr(lg, "2 to run (0 of them redone), 0 kept, 4 reused"),
              "--dry-run does not show the reuse: exit %d, log:\n%s", rc, lg);
    free(lg);
    rc = sweep(d[1], "--problem", PROBLEM, "--methods", "ew,stl,uw", "--seeds", "0-1", "--scale",
               "smoke", "--reuse", root, NULL);
    lg = log_of(d[1]);
    cr_assert(rc == 0 && strstr(lg, "6 jobs: 0 kept, 4 reused from other sweeps, 2 to run"),
              "exit %d, log:\n%s", rc, lg);
    const char *f = "runs/" PROBLEM "/stl/seed1.h5";
    cr_assert(inode_of(d[0], f) && inode_of(d[0], f) == inode_of(d[1], f),
              "stl seed 1 is not the linked file of the first sweep");
    char *rec = slurp_in(d[1], "reused.tsv");
    cr_assert(rec && strstr(rec, "\n" PROBLEM "/stl/seed1\t") && strstr(rec, "/s0/runs/" PROBLEM),
              "reused.tsv does not list the linked files:\n%s", rec ? rec : "(none)");
    /* the same plan trained from scratch: the same table, byte for byte */
    rc = sweep(d[2], "--problem", PROBLEM, "--methods", "ew,stl,uw", "--seeds", "0-1", "--scale",
               "smoke", NULL);
    cr_assert_eq(rc, 0, "sweep without reuse: exit %d", rc);
    assert_same_table(d[1], d[2], "reused against trained");

    /* another BLAS kernel in this process: the files of the others are not what it would
     * write, so they are not reused (and the sweep says so) */
    const char *env = getenv("OPENBLAS_CORETYPE");
    char saved[64] = "";
    if (env)
        snprintf(saved, sizeof saved, "%s", env);
    setenv("OPENBLAS_CORETYPE", env && !strcmp(env, "Prescott") ? "Nehalem" : "Prescott", 1);
    rc = sweep(d[3], "--problem", PROBLEM, "--methods", "ew", "--seeds", "0-2", "--scale",
               "smoke", "--reuse", root, NULL);
    if (saved[0])
        setenv("OPENBLAS_CORETYPE", saved, 1);
    else
        unsetenv("OPENBLAS_CORETYPE");
    free(lg);
    lg = log_of(d[3]);
    cr_assert(rc == 0 && strstr(lg, "3 jobs: 0 kept, 3 to run") &&
              strstr(lg, "2 jobs of this plan have a run file in another sweep made with "
                         "another code version or BLAS kernel"),
              "runs of another kernel were reused: exit %d, log:\n%s", rc, lg);
    cr_assert(!io_file_exists(io_path((char[IO_PATH_LEN]){0}, d[3], "reused.tsv")),
              "a reused.tsv without reuse");
    free(lg), free(rec);
    io_rmtree(base);
}

/* Exit status 2 and the bad value in the message. */
static void expect_usage_error(const char *dir, const char *needle, ...)
{
    char log[IO_PATH_LEN];
    snprintf(log, sizeof log, "%s.log", dir);
    remove(log);
    va_list ap;
    va_start(ap, needle);
    int rc = sweep_v(dir, 0, ap);
    va_end(ap);
    char *lg = log_of(dir);
    cr_assert_eq(rc, 2, "expected exit 2 for '%s', got %d; log:\n%s", needle, rc, lg);
    cr_assert(strstr(lg, needle), "the message does not name '%s':\n%s", needle, lg);
    free(lg);
}

Test(sweep, usage_errors_name_the_bad_value, .timeout = 120)
{
    char base[IO_TMP_LEN], d[1][DIR_LEN];
    make_dirs(base, d, 1);
    expect_usage_error(d[0], "no-such-problem", "--problem", "no-such-problem", "--methods", "ew",
                       "--seeds", "0", "--dry-run", NULL);
    expect_usage_error(d[0], "no_such_method", "--problem", PROBLEM, "--methods",
                       "ew,no_such_method", "--seeds", "0", "--dry-run", NULL);
    expect_usage_error(d[0], "3-1", "--problem", PROBLEM, "--methods", "ew", "--seeds", "3-1",
                       "--dry-run", NULL);
    expect_usage_error(d[0], "x", "--problem", PROBLEM, "--methods", "ew", "--seeds", "x",
                       "--dry-run", NULL);
    expect_usage_error(d[0], "huge", "--problem", PROBLEM, "--methods", "ew", "--seeds", "0",
                       "--scale", "huge", NULL);
    expect_usage_error(d[0], "no_such_option", "--problem", PROBLEM, "--method",
                       "rlw:no_such_option=1", "--seeds", "0", "--dry-run", NULL);
    expect_usage_error(d[0], "--seeds", "--problem", PROBLEM, "--methods", "ew", NULL);
    /* a directory planned at another scale is refused, not mixed */
    cr_assert(!mkdir(d[0], 0777) || errno == EEXIST);
    char p[IO_PATH_LEN];
    FILE *f = fopen(io_path(p, d[0], "plan.tsv"), "w");
    cr_assert(f);
    fputs("# mtb sweep plan\n# scale\tpaper\n# data\t\n# jobs\t0\n", f);
    fclose(f);
    expect_usage_error(d[0], "planned at scale 'paper'", "--problem", PROBLEM, "--methods", "ew",
                       "--seeds", "0", "--scale", "smoke", "--dry-run", NULL);
    /* nothing was written by the failed commands */
    cr_assert(!io_file_exists(io_path(p, d[0], "results.tsv")));
    io_rmtree(base);
}
