/* test_cli_io.c: bin/mtb fails before the work and cleans up after it (issue 10): output
 * paths are checked before training or generation, a missing directory is made only when
 * the file is written, SIGTERM during a save removes the temporary file and exits with
 * 128 + 15, a damaged --data file is a clean error with no "create a dataset" hint, the
 * seed range is the same for train and gen, and a run whose stderr is not a terminal
 * prints progress lines. Runs the binary (MTB_BIN, set by `make test`; bin/mtb otherwise). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "io_testutil.h"

static const char *mtb_bin(void)
{
    const char *bin = getenv("MTB_BIN");
    if (!bin || !*bin)
        bin = "bin/mtb";
    cr_assert(access(bin, X_OK) == 0, "cannot run %s (set MTB_BIN to the mtb binary; make test "
              "does)", bin);
    return bin;
}

/* Runs `mtb ARGS` through the shell with stdout and stderr into dir/out.txt; returns the
 * exit status (128 + signal when killed, as the shell reports it) and the output in out. */
static int run(const char *dir, const char *args, char *out, size_t len)
{
    char cmd[2048], log[IO_PATH_LEN];
    io_path(log, dir, "out.txt");
    snprintf(cmd, sizeof cmd, "%s %s > %s 2>&1", mtb_bin(), args, log);
    int ws = system(cmd);
    cr_assert(ws != -1);
    out[0] = '\0';
    FILE *fp = fopen(log, "r");
    if (fp) {
        size_t n = fread(out, 1, len - 1, fp);
        out[n] = '\0';
        fclose(fp);
    }
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

#define OUT_LEN 8192
#define SMALL_MTR "gen mtr --tasks 2 --samples 20 --train-fraction 0.5"

Test(cli_io, output_path_errors_come_before_the_work)
{
    char dir[IO_TMP_LEN], args[1024], out[OUT_LEN], p[IO_PATH_LEN];
    io_tmpdir(dir);
    /* trailing slash: an error, and no directory is made */
    snprintf(args, sizeof args, SMALL_MTR " -o %s/newdir/", dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "ends with '/'"), "%s", out);
    cr_assert(!io_file_exists(io_path(p, dir, "newdir")), "the directory was left behind");
    /* a directory */
    snprintf(args, sizeof args, SMALL_MTR " -o %s", dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "is a directory"), "%s", out);
    /* a parent that is a file */
    snprintf(args, sizeof args, SMALL_MTR " -o %s/out.txt/x.h5", dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "not a directory"), "%s", out);
    /* train checks -o before loading or training */
    snprintf(args, sizeof args, "train --steps 100000000 -o %s/", dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "ends with '/'"), "%s", out);
    /* and the method, its options and its task count before reading the data: the data
     * file does not exist, yet the error is about the method (exit 2, a usage error) */
    snprintf(args, sizeof args, "train --data %s/none.h5 --method nosuch -o %s/r.h5", dir, dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "unknown method 'nosuch'") && !strstr(out, "none.h5"), "%s", out);
    snprintf(args, sizeof args, "train --data %s/none.h5 --method pcgrad --options foo=1 "
             "-o %s/r.h5", dir, dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "unknown hyperparameter 'foo'"), "%s", out);
    snprintf(args, sizeof args, "train --data %s/none.h5 --method stl --options a=1 -o %s/r.h5",
             dir, dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "stl takes no options"), "%s", out);
    io_rmtree(dir);
}

Test(cli_io, missing_directories_are_made_on_writing_only)
{
    char dir[IO_TMP_LEN], args[1024], out[OUT_LEN], p[IO_PATH_LEN];
    io_tmpdir(dir);
    snprintf(args, sizeof args, SMALL_MTR " -o %s/a/b/data.h5", dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 0, "%s", out);
    cr_assert(io_file_exists(io_path(p, dir, "a/b/data.h5")));
    /* a run that fails before writing leaves no directory: batch > training samples */
    snprintf(args, sizeof args, "train --problem mtr-2 --data %s/a/b/data.h5 --steps 2 -q "
             "-o %s/runs/r.h5", dir, dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 1, "%s", out);
    cr_assert(!io_file_exists(io_path(p, dir, "runs")), "runs/ was made for a failed run");
    snprintf(args, sizeof args, "train --problem mtr-2 --data %s/a/b/data.h5 --steps 2 "
             "--batch 4 -q -o %s/runs/r.h5", dir, dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 0, "%s", out);
    cr_assert(io_file_exists(io_path(p, dir, "runs/r.h5")));
    /* the run file passes export's check of untrusted input */
    snprintf(args, sizeof args, "export %s/runs/r.h5 --list", dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "/steps/loss") && strstr(out, "/eval/test_nl"), "%s", out);
    /* -o naming the --data file is refused */
    snprintf(args, sizeof args, "train --problem mtr-2 --data %s/a/b/data.h5 --steps 2 "
             "--batch 4 -q -o %s/a/b/data.h5", dir, dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "is the --data file"), "%s", out);
    io_rmtree(dir);
}

Test(cli_io, data_hint_only_for_a_missing_file)
{
    char dir[IO_TMP_LEN], args[1024], out[OUT_LEN], p[IO_PATH_LEN];
    io_tmpdir(dir);
    snprintf(args, sizeof args, "train --data %s/none.h5 -q -o %s/r.h5", dir, dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "No such file") && strstr(out, "does not exist; create it with: mtb gen"),
              "%s", out);
    /* an existing file that is damaged: the error says so, and no hint to overwrite it */
    FILE *fp = fopen(io_path(p, dir, "mine.h5"), "w");
    cr_assert(fp);
    fputs("my notes, not HDF5\n", fp);
    fclose(fp);
    snprintf(args, sizeof args, "train --data %s -q -o %s/r.h5", p, dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "not an HDF5 file"), "%s", out);
    cr_assert(!strstr(out, "hint"), "a hint for an existing file: %s", out);
    /* the one-byte crash: a clean error naming the file, exit status 1 */
    snprintf(args, sizeof args, "gen mtr --tasks 10 --seed 1 --samples 20 --train-fraction 0.5 "
             "-o %s/mtr10.h5", dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 0, "%s", out);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "printf '\\200' | dd of=%s/mtr10.h5 bs=1 seek=2077 conv=notrunc "
             "2>/dev/null", dir);
    cr_assert_eq(system(cmd), 0);
    snprintf(args, sizeof args, "train --data %s/mtr10.h5 -q -o %s/r.h5", dir, dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "mtr10.h5: the file is damaged or is not an mtb data set") &&
                  strstr(out, "crashed"), "%s", out);
    cr_assert(!strstr(out, "hint"), "%s", out);
    /* the same file given to export */
    snprintf(args, sizeof args, "export %s/mtr10.h5 --list", dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "crashed"), "%s", out);
    io_rmtree(dir);
}

Test(cli_io, one_seed_range)
{
    char dir[IO_TMP_LEN], args[1024], out[OUT_LEN];
    io_tmpdir(dir);
    snprintf(args, sizeof args, SMALL_MTR " --seed 9223372036854775807 -o %s/d.h5", dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 0, "%s", out);
    snprintf(args, sizeof args, SMALL_MTR " --seed 9223372036854775808 -o %s/d.h5", dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "[0, 2^63 - 1]"), "%s", out);
    snprintf(args, sizeof args, "train --problem mtr-2 --data %s/d.h5 --steps 1 --batch 4 -q "
             "--seed 9223372036854775807 -o %s/r.h5", dir, dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 0, "%s", out);
    snprintf(args, sizeof args, "train --seed 9223372036854775808 -o %s/r.h5", dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "[0, 2^63 - 1]"), "%s", out);
    io_rmtree(dir);
}

Test(cli_io, progress_lines_when_stderr_is_a_file)
{
    char dir[IO_TMP_LEN], args[1024], out[OUT_LEN];
    io_tmpdir(dir);
    snprintf(args, sizeof args, SMALL_MTR " -o %s/d.h5", dir);
    cr_assert_eq(run(dir, args, out, sizeof out), 0, "%s", out);
    /* MTB_PROGRESS_INTERVAL shortens the 30 s of a real run */
    snprintf(args, sizeof args, "train --problem mtr-2 --data %s/d.h5 --steps 3000 --batch 4 "
             "-o %s/r.h5", dir, dir);
    setenv("MTB_PROGRESS_INTERVAL", "0.05", 1);
    int rc = run(dir, args, out, sizeof out);
    unsetenv("MTB_PROGRESS_INTERVAL");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "train ew seed 0: ") && strstr(out, "s elapsed, about"), "%s", out);
    cr_assert(!strchr(out, '\r'), "no terminal redraws in a file: %s", out);
    io_rmtree(dir);
}

/* SIGTERM while the data set is being written: the temporary file is removed and the exit
 * status is 128 + 15. The file is large enough (about 40 MB) that the save takes a while;
 * the test waits for the temporary file to appear, freezes the writer at once (SIGSTOP, so
 * that it cannot finish in between), then sends SIGTERM and lets it run. A save that still
 * ended before the freeze is tried again rather than skipped (a skipped test is no test). */
static int sigterm_attempt(const char *out_path, const char *tmp)
{
    remove(out_path);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        execl(mtb_bin(), "mtb", "gen", "mtr", "--tasks", "10", "--samples", "8000", "-o",
              out_path, (char *)NULL);
        _exit(127);
    }
    int seen = 0;
    for (int i = 0; i < 400000 && !seen; i++) {
        if (io_file_exists(tmp))
            seen = 1;
        else if (waitpid(pid, NULL, WNOHANG) == pid)
            return 0;
        else
            usleep(100);
    }
    kill(pid, SIGSTOP);
    if (!seen || !io_file_exists(tmp)) { /* it renamed the file before the freeze */
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return 0;
    }
    kill(pid, SIGTERM);
    kill(pid, SIGCONT);
    int ws;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 128 + SIGTERM, "status %d", ws);
    cr_assert(!io_file_exists(tmp), "%s was left behind", tmp);
    cr_assert(!io_file_exists(out_path), "a partial output was committed");
    return 1;
}

Test(cli_io, sigterm_during_save_removes_the_temporary, .timeout = 240)
{
    char dir[IO_TMP_LEN], out_path[IO_PATH_LEN], tmp[IO_PATH_LEN + 8];
    io_tmpdir(dir);
    io_path(out_path, dir, "big.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", out_path);
    int caught = 0;
    for (int attempt = 0; attempt < 8 && !caught; attempt++)
        caught = sigterm_attempt(out_path, tmp);
    cr_assert(caught, "the save was never caught while writing in 8 attempts");
    io_rmtree(dir);
}
