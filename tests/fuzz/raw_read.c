/* raw_read.c: reads one HDF5 file in this process through the trusted mtb_h5 readers (no
 * isolated check): every group, every dataset, the root attributes mtb's files carry. It
 * crashes or hangs where HDF5 does; minimize.py runs it to reduce a fuzzer's finding to the
 * bytes that matter. Usage: raw_read FILE.h5 (exit 0 whatever it read). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtb/h5.h"

static void visit(mtb_h5 *f, const char *group, int depth)
{
    mtb_error err = {0};
    size_t n;
    char **names;
    if (depth > 16 || mtb_h5_list(f, group, &n, &names, &err) != MTB_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s%s%s", group, strcmp(group, "/") ? "/" : "", names[i]);
        int rank;
        size_t dims[MTB_H5_MAX_RANK];
        mtb_h5_kind kind;
        if (mtb_h5_is_group(f, path))
            visit(f, path, depth + 1);
        else if (!mtb_h5_shape(f, path, &rank, dims, &err) &&
                 !mtb_h5_dtype(f, path, &kind, NULL, 0, &err)) {
            double *v = NULL;
            size_t k;
            char **s;
            if (kind == MTB_H5_STRING && !mtb_h5_read_strs(f, path, &k, &s, &err))
                mtb_h5_free_strs(s, k);
            else if (!mtb_h5_read_f64(f, path, rank, dims, &v, 0, &err))
                free(v);
        }
    }
    mtb_h5_free_strs(names, n);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: raw_read FILE.h5\n");
        return 2;
    }
    mtb_error err = {0};
    mtb_h5 *f = mtb_h5_open(argv[1], &err);
    if (!f)
        return 0;
    static const char *const attrs[] = {"format", "format_version", "name", "generator", "seed",
                                        "tasks", "d_in", "y_width", NULL};
    for (int i = 0; attrs[i]; i++) {
        char buf[1024];
        int64_t v;
        mtb_h5_attr_get_str(f, "/", attrs[i], buf, sizeof buf, &err);
        mtb_h5_attr_get_i64(f, "/", attrs[i], &v, &err);
    }
    visit(f, "/", 0);
    mtb_h5_close(f);
    return 0;
}
