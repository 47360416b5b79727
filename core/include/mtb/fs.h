/* fs.h: the few file-system helpers that programs and the library share. */
#ifndef MTB_FS_H
#define MTB_FS_H

/* mkdir -p: creates path and its missing parents (mode 0777 before the umask). 0 on
 * success, -1 with errno set. */
int mtb_mkdirs(const char *path);

/* mkdir -p of the directory that holds path ("a/b/c.h5" -> "a/b"); 0 when there is none. */
int mtb_mkdirs_parent(const char *path);

#endif
