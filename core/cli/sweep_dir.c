/* sweep_dir.c: the sweep directory on disk: its lock, small files written atomically,
 * the temporaries a killed session leaves behind, and the records of failed jobs.
 *
 * Every file a sweep writes appears complete or not at all (a temporary in the same
 * directory, then rename(2)), so a kill at any instant leaves either the old file, the new
 * one, or a stray *.tmp that the next session removes. The lock keeps a second session
 * from removing the temporaries of one that is still running. */
#include "sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mtb/fs.h"

mtb_status sweep_write_atomic(const char *path, const char *data, size_t len, mtb_error *err)
{
    /* The pid makes the temporary private: `--table-only` may write the table while the
     * sweep that owns DIR writes it too. */
    char tmp[SWEEP_PATH_LEN + 32];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return mtb_fail(err, MTB_EIO, "cannot create %.400s: %s", tmp, strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return mtb_fail(err, MTB_EIO, "cannot write %.400s: %s", tmp, strerror(e));
        }
        off += (size_t)w;
    }
    if (close(fd) || rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        return mtb_fail(err, MTB_EIO, "cannot write %.400s: %s", path, strerror(e));
    }
    return MTB_OK;
}

mtb_status sweep_lock(sweep_plan *plan, mtb_error *err)
{
    char path[SWEEP_PATH_LEN + 16];
    snprintf(path, sizeof path, "%s/.lock", plan->dir);
    /* Not O_CLOEXEC: the pool's workers inherit the lock, so a session whose parent was
     * killed while a worker still writes keeps DIR locked until that worker is gone. */
    int fd = open(path, O_RDWR | O_CREAT, 0666);
    if (fd < 0)
        return mtb_fail(err, MTB_EIO, "cannot create %.400s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return mtb_fail(err, MTB_EIO,
                            "%.300s is in use by another mtb sweep (wait for it to end, or stop it: "
                            "the same command then resumes)", plan->dir);
        return mtb_fail(err, MTB_EIO, "cannot lock %.400s: %s", path, strerror(e));
    }
    plan->lock_fd = fd;
    return MTB_OK;
}

void sweep_unlock(sweep_plan *plan)
{
    if (plan->lock_fd >= 0)
        close(plan->lock_fd);
    plan->lock_fd = -1;
}

/* Depth-first over DIR; symbolic links are not followed (a link to elsewhere is not ours
 * to clean). */
static int remove_tmp_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int removed = 0;
    struct dirent *e;
    char path[SWEEP_PATH_LEN];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        struct stat st;
        if (lstat(path, &st))
            continue;
        size_t n = strlen(e->d_name);
        if (S_ISDIR(st.st_mode))
            removed += remove_tmp_in(path);
        else if (S_ISREG(st.st_mode) && n > 4 && !strcmp(e->d_name + n - 4, ".tmp") &&
                 !unlink(path))
            removed++;
    }
    closedir(d);
    return removed;
}

int sweep_remove_stale(const char *dir)
{
    return remove_tmp_in(dir);
}

void sweep_failure_path(const sweep_plan *plan, const sweep_item *it, char *buf, size_t len)
{
    snprintf(buf, len, "%s/failed/%s.txt", plan->dir, it->name);
}

/* Tabs and newlines would break the key<TAB>value lines of the record and of the table. */
static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\t' || *s == '\n' || *s == '\r')
            *s = ' ';
}

mtb_status sweep_failure_write(const sweep_plan *plan, const sweep_item *it, mtb_error *err)
{
    char path[SWEEP_RECORD_LEN], msg[MTB_ERRMSG_LEN];
    sweep_failure_path(plan, it, path, sizeof path);
    if (mtb_mkdirs_parent(path))
        return mtb_fail(err, MTB_EIO, "cannot create the directory of %.400s: %s", path,
                        strerror(errno));
    snprintf(msg, sizeof msg, "%s", it->message);
    one_line(msg);
    char text[MTB_ERRMSG_LEN + 1024];
    int n = snprintf(text, sizeof text,
                     "message\t%s\nproblem\t%s\nscale\t%s\nmethod\t%s\noptions\t%s\nseed\t%llu\n"
                     "where\t%s\n",
                     msg, it->job.problem, it->job.scale, it->job.method, it->job.options,
                     (unsigned long long)it->job.seed, it->where[0] ? it->where : "local");
    if (n >= (int)sizeof text)
        n = (int)sizeof text - 1;
    return sweep_write_atomic(path, text, (size_t)n, err);
}

int sweep_failure_read(const sweep_plan *plan, const sweep_item *it, char *msg, size_t len)
{
    char path[SWEEP_RECORD_LEN], line[MTB_ERRMSG_LEN + 16];
    sweep_failure_path(plan, it, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    snprintf(msg, len, "(no message recorded)");
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "message\t", 8)) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(msg, len, "%s", line + 8);
            break;
        }
    fclose(f);
    return 1;
}
