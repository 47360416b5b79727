/* sweep_reuse.c: `mtb sweep --reuse ROOT`: a job whose run file another sweep directory
 * already holds is linked into DIR instead of being trained again.
 *
 * Reproductions share configurations: RLW's, IMTL's and DB-MTL's sweeps all train STL, EW
 * and OC on LSD-6, at the same scale and seeds. A run is a deterministic function of its job
 * (problem, scale, method, options, seed), the data, the code and the BLAS kernel and thread
 * count (README "Reproducibility"), so a run file from another sweep is the file this sweep
 * would write when all of those agree, and only then:
 *   - the other directory's plan.tsv has this plan's scale and data file;
 *   - its file for the job's name verifies as a complete run of exactly this job
 *     (mtb_job_verify);
 *   - its provenance records this binary's code version, the BLAS kernel this process
 *     runs, and one BLAS thread (the thread count of every sweep job).
 * Anything else is not reused, and the job runs. The file is hard-linked (run files are
 * never modified after their rename, and removing one name leaves the other), or copied
 * through a temporary and rename(2) across file systems. DIR/reused.tsv lists every file
 * linked so, with the file it came from, so that a report can say which runs it did not
 * train itself.
 *
 * ROOT is a sweep directory or any directory above some: it is searched for directories
 * holding a plan.tsv (not below one, not through symbolic links, at most MAX_DEPTH levels
 * and MAX_VISITS directories, so that a large tree costs a bounded time). DIR itself is
 * skipped. */
#include "sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mtb/fs.h"
#include "mtb/provenance.h"
#include "mtb/run.h"

#define MAX_DEPTH 6
#define MAX_VISITS 20000
#define MAX_SOURCES 1024

typedef struct source_list {
    char (*dir)[SWEEP_PATH_LEN];
    int n, cap;
    int visits;
} source_list;

static int same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* A sweep directory whose plan.tsv has this plan's scale and data file:
 * sweep_plan_check_dir compares exactly those, for a probe that carries them. */
static int plan_matches(const char *dir, const sweep_plan *plan)
{
    sweep_plan probe;
    memset(&probe, 0, sizeof probe);
    probe.lock_fd = -1;
    snprintf(probe.dir, sizeof probe.dir, "%s", dir);
    memcpy(probe.scale, plan->scale, sizeof probe.scale);
    memcpy(probe.data, plan->data, sizeof probe.data);
    mtb_error err = {0};
    return !sweep_plan_check_dir(&probe, &err) && probe.resumed;
}

static void find_sources(source_list *l, const char *dir, int depth, const sweep_plan *plan)
{
    if (depth > MAX_DEPTH || l->visits >= MAX_VISITS || l->n >= MAX_SOURCES)
        return;
    l->visits++;
    char path[SWEEP_PATH_LEN + 16];
    snprintf(path, sizeof path, "%s/plan.tsv", dir);
    if (!access(path, R_OK)) {
        if (same_dir(dir, plan->dir) || !plan_matches(dir, plan))
            return;
        if (l->n == l->cap) {
            int cap = l->cap ? 2 * l->cap : 16;
            void *p = realloc(l->dir, (size_t)cap * sizeof *l->dir);
            if (!p)
                return;
            l->dir = p;
            l->cap = cap;
        }
        snprintf(l->dir[l->n++], SWEEP_PATH_LEN, "%s", dir);
        return; /* not below a sweep directory: its runs/ and failed/ are its own */
    }
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= SWEEP_PATH_LEN)
            continue;
        struct stat st;
        if (!lstat(path, &st) && S_ISDIR(st.st_mode))
            find_sources(l, path, depth + 1, plan);
    }
    closedir(d);
}

/* Copies src to dst through a temporary in dst's directory (the stale-temporary sweep of
 * the next session removes it if this one is killed). */
static int copy_file(const char *src, const char *dst)
{
    char tmp[SWEEP_PATH_LEN + 32];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", dst, (long)getpid());
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (out < 0) {
        close(in);
        return -1;
    }
    char buf[1 << 16];
    ssize_t r;
    int bad = 0;
    while (!bad && (r = read(in, buf, sizeof buf)) != 0) {
        if (r < 0) {
            bad = errno != EINTR;
            continue;
        }
        for (ssize_t off = 0; !bad && off < r;) {
            ssize_t w = write(out, buf + off, (size_t)(r - off));
            if (w < 0 && errno == EINTR)
                continue;
            bad = w <= 0;
            off += w > 0 ? w : 0;
        }
    }
    close(in);
    if (close(out) || bad || rename(tmp, dst)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Why the run file at path, a complete run of it->job, is not what this process would
 * write; NULL when it is. */
static const char *provenance_differs(const char *path, const mtb_provenance *self,
                                      mtb_run_summary *s)
{
    mtb_error err = {0};
    if (mtb_run_read_summary(path, s, &err))
        return "unreadable";
    if (strcmp(s->code_version, self->code_version))
        return "code version";
    if (strcmp(s->blas_kernel, self->blas_kernel) || s->blas_threads != 1)
        return "BLAS kernel or thread count";
    return NULL;
}

/* Appends lines to DIR/reused.tsv (atomically: the old content, then the new lines). */
static void record(const sweep_plan *plan, const char *lines, FILE *out)
{
    char path[SWEEP_PATH_LEN + 16];
    snprintf(path, sizeof path, "%s/reused.tsv", plan->dir);
    const char *header = "# run files linked from other sweep directories by mtb sweep --reuse "
                         "(docs/sweeps.md)\njob\tfrom\tcode_version\n";
    char *old = NULL;
    size_t n_old = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        struct stat st;
        /* a log far beyond any plan's size is not ours to keep growing: start it again */
        if (!fstat(fileno(f), &st) && st.st_size > 0 && st.st_size < (64L << 20) &&
            (old = malloc((size_t)st.st_size)))
            n_old = fread(old, 1, (size_t)st.st_size, f);
        fclose(f);
    }
    size_t n_head = n_old ? 0 : strlen(header), n_new = strlen(lines);
    char *text = malloc(n_head + n_old + n_new + 1);
    mtb_error err = {0};
    if (!text || (memcpy(text, header, n_head), memcpy(text + n_head, old ? old : "", n_old),
                  memcpy(text + n_head + n_old, lines, n_new),
                  sweep_write_atomic(path, text, n_head + n_old + n_new, &err)))
        fprintf(out, "[sweep] cannot record the reused runs in %s: %s\n", path,
                err.msg[0] ? err.msg : "out of memory");
    free(text);
    free(old);
}

/* The run file cand in place at it->path: a hard link, else (another file system, or one
 * without links) a verified copy. 0 on success; errno tells why not. */
static int place(const char *cand, const sweep_item *it)
{
    if (mtb_mkdirs_parent(it->path))
        return -1;
    if (!link(cand, it->path))
        return 0;
    if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP)
        return -1;
    mtb_error err = {0};
    if (copy_file(cand, it->path))
        return -1;
    if (mtb_job_verify(&it->job, it->path, &err)) {
        unlink(it->path);
        errno = EIO;
        return -1;
    }
    return 0;
}

int sweep_reuse(sweep_plan *plan, const char *const *roots, int n_roots, int modify, FILE *out)
{
    if (n_roots <= 0)
        return 0;
    source_list src = {0};
    for (int r = 0; r < n_roots; r++) {
        struct stat st;
        if (stat(roots[r], &st) || !S_ISDIR(st.st_mode)) {
            if (out)
                fprintf(out, "[sweep] --reuse %s: not a directory, nothing reused from it\n",
                        roots[r]);
            continue;
        }
        find_sources(&src, roots[r], 0, plan);
    }
    mtb_provenance *self = malloc(sizeof *self);
    mtb_run_summary *s = malloc(sizeof *s);
    size_t cap = 4096, len = 0;
    char *lines = malloc(cap);
    int reused = 0, other = 0;
    char example[SWEEP_PATH_LEN + SWEEP_NAME_LEN + 64] = "";
    if (!self || !s || !lines || !src.n)
        goto done;
    mtb_provenance_collect(self, 0);
    for (int i = 0; i < plan->n; i++) {
        sweep_item *it = &plan->items[i];
        if (it->state != SWEEP_TODO)
            continue;
        int differs = 0;
        for (int k = 0; k < src.n && !it->reused; k++) {
            char cand[SWEEP_PATH_LEN + SWEEP_NAME_LEN + 16];
            snprintf(cand, sizeof cand, "%s/runs/%s.h5", src.dir[k], it->name);
            mtb_error err = {0};
            if (access(cand, R_OK) || mtb_job_verify(&it->job, cand, &err))
                continue;
            const char *why = provenance_differs(cand, self, s);
            if (why) {
                if (!differs++ && !other)
                    snprintf(example, sizeof example, "%s: its %s", cand, why);
                continue;
            }
            if (modify && place(cand, it)) {
                if (out)
                    fprintf(out, "[sweep] %s: cannot link or copy %s here (%s): running the job\n",
                            it->name, cand, strerror(errno));
                break;
            }
            it->state = SWEEP_KEPT;
            it->reused = 1;
            reused++;
            size_t need = strlen(it->name) + strlen(cand) + strlen(s->code_version) + 4;
            if (len + need + 1 > cap) {
                char *p = realloc(lines, 2 * cap + need);
                if (!p)
                    break;
                lines = p;
                cap = 2 * cap + need;
            }
            len += (size_t)snprintf(lines + len, cap - len, "%s\t%s\t%s\n", it->name, cand,
                                    s->code_version);
        }
        other += differs && !it->reused;
    }
    if (modify && len)
        record(plan, lines, out ? out : stderr);
    if (out && other)
        fprintf(out, "[sweep] %d job%s of this plan %s a run file in another sweep made with "
                     "another code version or BLAS kernel (%s): not reused, %s\n",
                other, other == 1 ? "" : "s", other == 1 ? "has" : "have", example,
                other == 1 ? "it runs" : "they run");
done:
    free(src.dir);
    free(self);
    free(s);
    free(lines);
    return reused;
}
