/* h5_isolate.c: run a function on an untrusted file in a child process with limits
 * (mtb_h5_run_isolated, contract in mtb/h5.h). No HDF5 here: the function the child runs
 * does the reading (h5.c, dataset.c); this file only forks, limits, waits and explains.
 *
 * Why a process: HDF5 calls cannot be interrupted, and a damaged file can make them
 * dereference garbage, loop forever or allocate without bound. Only a separate address
 * space contains all three. The child
 *   - gets RLIMIT_AS = its current address space + limits.memory_bytes (relative, so it
 *     works whatever the caller has mapped: BLAS buffers, MPI, a sanitizer's shadow),
 *     RLIMIT_CPU, RLIMIT_CORE = 0 (no core files), RLIMIT_FSIZE = 0 (it never writes a
 *     file), an alarm as a second wall-clock guard, and dies with its parent (Linux);
 *   - has stdout and stderr on /dev/null (HDF5 and glibc print nothing on the user's
 *     terminal; MTB_ISOLATE_STDERR=1 keeps stderr, for debugging);
 *   - writes its status and message to a page shared with the parent, records what it is
 *     reading there (mtb_isolate_note), and leaves with _exit: no atexit handler runs, so
 *     no HDF5 file of the parent is flushed or closed from the child.
 * The parent waits on a pipe whose write end only the child holds (EOF = the child is
 * gone, however it went) for at most limits.wall_s, then kills the child. It reaps only
 * that child's pid and never installs a signal handler. */
#include "mtb/h5.h"
#include "h5_isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
/* Under AddressSanitizer a crash is caught and reported by the sanitizer, which then exits
 * with status 1 rather than dying by the signal; a death callback tells the two apart. */
#if defined(__SANITIZE_ADDRESS__)
#define MTB_ISOLATE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MTB_ISOLATE_ASAN 1
#endif
#endif
#ifdef MTB_ISOLATE_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#define NOTE_LEN 256
#define RESULT_MAGIC 0x6d746269u /* "mtbi" */

typedef struct shared_page {
    unsigned magic;      /* RESULT_MAGIC once the child has written its result */
    int status;          /* the function's mtb_status */
    int out_of_memory;   /* the child saw ENOMEM after a failure */
    int sanitizer;       /* a sanitizer stopped the child (a crash it caught) */
    char note[NOTE_LEN]; /* what the child was reading last */
    char msg[MTB_ERRMSG_LEN];
} shared_page;

/* Set in the child only; NULL in every other process. */
static shared_page *g_child_page;

#ifdef MTB_ISOLATE_ASAN
static void on_sanitizer_death(void)
{
    if (g_child_page)
        g_child_page->sanitizer = 1;
}
#endif

void mtb_isolate_note(const char *what)
{
    if (!g_child_page)
        return;
    snprintf(g_child_page->note, NOTE_LEN, "%s", what);
}

void mtb_isolate_note2(const char *what, const char *obj)
{
    if (!g_child_page)
        return;
    snprintf(g_child_page->note, NOTE_LEN, "%s %s", what, obj);
}

void mtb_h5_limits_default(mtb_h5_limits *lim, uint64_t file_bytes)
{
    /* 20 MB/s is far below a page-cache read (about 2 GB/s here) and a cold disk; the
     * fixed part covers HDF5's start-up and a slow machine under load. */
    double t = 5.0 + (double)file_bytes / 20e6;
    lim->cpu_s = t;
    /* The wall-clock limit is for a child that waits (a hung read) where the CPU limit sees
     * nothing, so it is 4x looser per byte: on a loaded machine (a sweep with a job per
     * core, a nice'd session) the child gets a fraction of a core, and a large file (the
     * 343 MB MultiFashion file) must not time out on wall time while its CPU time is fine. */
    lim->wall_s = 5.0 + 4.0 * (double)file_bytes / 20e6;
    /* A full read of every value as double needs up to 2x the stored float32 data; the
     * rest is HDF5's caches and the readers' copies. */
    uint64_t mem = (512ull << 20) + 4ull * file_bytes;
    lim->memory_bytes = mem > SIZE_MAX ? SIZE_MAX : (size_t)mem;
    lim->max_objects = 100000;
    lim->max_value_bytes = 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Bytes of address space the calling process has mapped (/proc/self/statm, field 1), or 0. */
static size_t mapped_bytes(void)
{
    FILE *fp = fopen("/proc/self/statm", "r");
    if (!fp)
        return 0;
    unsigned long long pages = 0;
    int ok = fscanf(fp, "%llu", &pages) == 1;
    fclose(fp);
    long ps = sysconf(_SC_PAGESIZE);
    if (!ok || ps <= 0)
        return 0;
    return (size_t)(pages * (unsigned long long)ps);
}

static void set_limit(int resource, rlim_t soft, rlim_t hard)
{
    struct rlimit rl;
    if (getrlimit(resource, &rl) != 0)
        return;
    /* Only ever lower a limit (an unprivileged process cannot raise the hard one). */
    if (rl.rlim_max != RLIM_INFINITY && hard > rl.rlim_max)
        hard = rl.rlim_max;
    if (soft > hard)
        soft = hard;
    rl.rlim_cur = soft;
    rl.rlim_max = hard;
    setrlimit(resource, &rl);
}

static void child_setup(const mtb_h5_limits *lim, size_t base_mapped, int keep_fd)
{
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    /* The caller's handlers (mtb's CLI unlinks its temporary files on SIGINT) are not the
     * child's business: default actions, nothing blocked. */
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM, SIGXCPU, SIGPIPE,
                               SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGCHLD};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    const char *keep = getenv("MTB_ISOLATE_STDERR");
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        if (!(keep && *keep == '1'))
            dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO && null != keep_fd)
            close(null);
    }
    /* glibc's fatal-error messages go to the terminal unless this is set. */
    setenv("LIBC_FATAL_STDERR_", "1", 1);

    set_limit(RLIMIT_CORE, 0, 0);
    set_limit(RLIMIT_FSIZE, 0, 0);
    double cpu = lim->cpu_s > 0 ? ceil(lim->cpu_s) : 1.0;
    set_limit(RLIMIT_CPU, (rlim_t)cpu, (rlim_t)cpu + 1);
    if (base_mapped && lim->memory_bytes) {
        size_t as = base_mapped > SIZE_MAX - lim->memory_bytes ? SIZE_MAX
                                                               : base_mapped + lim->memory_bytes;
        set_limit(RLIMIT_AS, (rlim_t)as, (rlim_t)as);
    }
    double wall = lim->wall_s > 0 ? ceil(lim->wall_s) + 1.0 : 2.0;
    alarm(wall > 1e6 ? 1000000u : (unsigned)wall);
#ifdef MTB_ISOLATE_ASAN
    __sanitizer_set_death_callback(on_sanitizer_death);
#endif
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV, an invalid memory access";
    case SIGBUS: return "SIGBUS, an invalid memory access";
    case SIGABRT: return "SIGABRT, it aborted";
    case SIGFPE: return "SIGFPE, an arithmetic fault";
    case SIGILL: return "SIGILL, an illegal instruction";
    default: return strsignal(sig);
    }
}

static double mib(size_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

mtb_status mtb_h5_run_isolated(mtb_h5_isolated_fn fn, void *ctx, const char *path,
                               const char *kind, const mtb_h5_limits *lim_in, mtb_error *err)
{
    if (!fn)
        return mtb_fail(err, MTB_EINVAL, "h5: no function to run isolated");
    if (!path)
        path = "(no file)";
    if (!kind)
        kind = "an HDF5 file mtb can read";
    mtb_h5_limits lim;
    if (lim_in)
        lim = *lim_in;
    else
        mtb_h5_limits_default(&lim, 0);

    shared_page *page = mmap(NULL, sizeof *page, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return mtb_fail(err, MTB_ENOMEM, "%s: cannot set up the check of the file (mmap: %s)",
                        path, strerror(errno));
    memset(page, 0, sizeof *page);
    int fds[2];
    if (pipe(fds) != 0) {
        int e = errno;
        munmap(page, sizeof *page);
        return mtb_fail(err, MTB_EIO, "%s: cannot set up the check of the file (pipe: %s)", path,
                        strerror(e));
    }
    /* Close-on-exec: a program the caller starts meanwhile must not hold the write end. */
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    size_t base = mapped_bytes();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        munmap(page, sizeof *page);
        return mtb_fail(err, MTB_EIO, "%s: cannot start the process that checks the file "
                        "(fork: %s)", path, strerror(e));
    }
    if (pid == 0) {
        close(fds[0]);
        child_setup(&lim, base, fds[1]);
        g_child_page = page;
        mtb_error cerr = {0};
        errno = 0;
        mtb_status st = fn(ctx, &cerr);
        if (st != MTB_OK && errno == ENOMEM)
            page->out_of_memory = 1;
        page->status = (int)st;
        memcpy(page->msg, cerr.msg, sizeof page->msg);
        page->msg[sizeof page->msg - 1] = '\0';
        __atomic_store_n(&page->magic, RESULT_MAGIC, __ATOMIC_SEQ_CST);
        _exit(0);
    }

    /* Parent: wait for EOF on the pipe (the child has gone) or the deadline. */
    close(fds[1]);
    double deadline = now_s() + (lim.wall_s > 0 ? lim.wall_s : 1.0);
    int timed_out = 0;
    for (;;) {
        double left = deadline - now_s();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int ms = left > 1e6 ? 1000000000 : (int)ceil(left * 1000.0);
        int r = poll(&pfd, 1, ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break; /* cannot wait: fall through to waitpid */
        if (r == 0)
            continue; /* re-check the deadline */
        char c;
        ssize_t n = read(fds[0], &c, 1);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
            break; /* EOF: the child exited or died */
    }
    close(fds[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int ws = 0;
    pid_t w;
    while ((w = waitpid(pid, &ws, 0)) < 0 && errno == EINTR)
        ;
    int have_status = w == pid;
    int done = __atomic_load_n(&page->magic, __ATOMIC_SEQ_CST) == RESULT_MAGIC;
    shared_page res = *page;
    munmap(page, sizeof *page);
    res.note[NOTE_LEN - 1] = '\0';
    const char *where = res.note[0] ? res.note : "its first bytes";

    if (done && !timed_out && (!have_status || (WIFEXITED(ws) && WEXITSTATUS(ws) == 0))) {
        if (res.status == MTB_OK)
            return MTB_OK;
        if (res.out_of_memory)
            return mtb_fail(err, MTB_EIO, "%s: the file is damaged or is not %s: reading %s "
                            "needs more than the %.0f MiB of memory allowed (%s)", path, kind,
                            where, mib(lim.memory_bytes), res.msg);
        return mtb_fail(err, (mtb_status)res.status, "%s", res.msg);
    }
    /* What happened to the child, as "<reason> while reading <where> (<after>)". */
    char reason[160];
    const char *after = "it was read in a separate process, which was stopped; nothing was "
                        "loaded";
    int sig = have_status && WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
    if (timed_out || sig == SIGALRM)
        snprintf(reason, sizeof reason, "the HDF5 library did not finish in %.0f s", lim.wall_s);
    else if (sig == SIGXCPU)
        snprintf(reason, sizeof reason, "the HDF5 library used more than %.0f s of CPU",
                 lim.cpu_s);
    else if (sig == SIGKILL)
        snprintf(reason, sizeof reason, "the process reading it was killed (more than %.0f s of "
                 "CPU, or the system ran out of memory)", lim.cpu_s);
    else if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT)
        return mtb_fail(err, MTB_EIO, "%s: the check of the file was interrupted (%s)", path,
                        strsignal(sig));
    else if (sig) {
        snprintf(reason, sizeof reason, "the HDF5 library crashed (%s)", signal_name(sig));
        after = "it was read in a separate process, so nothing else was affected and nothing "
                "was loaded";
    } else if (res.sanitizer) {
        snprintf(reason, sizeof reason, "the HDF5 library crashed (caught by the sanitizer this "
                 "build of mtb uses)");
        after = "it was read in a separate process, so nothing else was affected and nothing "
                "was loaded";
    } else if (have_status && WIFEXITED(ws))
        /* e.g. an allocator that gave up */
        snprintf(reason, sizeof reason, "the process reading it stopped with exit status %d",
                 WEXITSTATUS(ws));
    else
        snprintf(reason, sizeof reason, "the process reading it ended without a result");
    return mtb_fail(err, MTB_EIO, "%s: the file is damaged or is not %s: %s while reading %s "
                    "(%s)", path, kind, reason, where, after);
}
