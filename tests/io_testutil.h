/* io_testutil.h: temporary directories for the I/O tests
 * (test_h5.c, test_dataset.c, test_synth.c). Header-only: every test file is its own
 * translation unit of the one Criterion binary, so the helpers are static. */
#ifndef MTB_IO_TESTUTIL_H
#define MTB_IO_TESTUTIL_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IO_TMP_LEN 64
#define IO_PATH_LEN 256

/* A fresh directory under /tmp; each Criterion test runs in its own process, so each
 * test makes its own and nothing is shared between tests. */
static inline void io_tmpdir(char dir[IO_TMP_LEN])
{
    snprintf(dir, IO_TMP_LEN, "/tmp/mtb-test-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL, "cannot create a temporary directory under /tmp");
}

static inline const char *io_path(char out[IO_PATH_LEN], const char *dir, const char *name)
{
    snprintf(out, IO_PATH_LEN, "%s/%s", dir, name);
    return out;
}

/* Removes dir and everything below it (no symlinks are followed: lstat). */
static inline void io_rmtree(const char *dir)
{
    struct stat sb;
    if (lstat(dir, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *dp = opendir(dir);
        struct dirent *de;
        while (dp && (de = readdir(dp))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            size_t len = strlen(dir) + strlen(de->d_name) + 2;
            char *sub = malloc(len);
            if (!sub)
                break;
            snprintf(sub, len, "%s/%s", dir, de->d_name);
            io_rmtree(sub);
            free(sub);
        }
        if (dp)
            closedir(dp);
    }
    remove(dir);
}

static inline int io_file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

#endif
