/* fs.c: see fs.h. */
#include "mtb/fs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define FS_PATH_MAX 4096

/* Creates every prefix of buf that ends before a '/', then (full) buf itself. */
static int make(char *buf, int full)
{
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            int bad = mkdir(buf, 0777) && errno != EEXIST;
            *p = '/';
            if (bad)
                return -1;
        }
    if (full && mkdir(buf, 0777) && errno != EEXIST)
        return -1;
    return 0;
}

int mtb_mkdirs(const char *path)
{
    char buf[FS_PATH_MAX];
    if (strlen(path) >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(buf, path);
    return make(buf, 1);
}

int mtb_mkdirs_parent(const char *path)
{
    char buf[FS_PATH_MAX];
    if (strlen(path) >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(buf, path);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf)
        return 0;
    *slash = '\0';
    return make(buf, 1);
}
