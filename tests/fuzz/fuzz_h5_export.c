/* fuzz_h5_export.c: libFuzzer target for what `mtb export` and any generic reader of a
 * user's HDF5 file (golden fixtures included) do after mtb_h5_open_untrusted: list every
 * group, and read every dataset and root attribute with the mtb_h5 readers. */
#include <string.h>

#include "fuzz_util.h"

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
        if (mtb_h5_is_group(f, path)) {
            visit(f, path, depth + 1);
            continue;
        }
        int rank;
        size_t dims[MTB_H5_MAX_RANK];
        mtb_h5_kind kind;
        char tn[64];
        if (mtb_h5_shape(f, path, &rank, dims, &err) ||
            mtb_h5_dtype(f, path, &kind, tn, sizeof tn, &err))
            continue;
        if (kind == MTB_H5_FLOAT || kind == MTB_H5_INT) {
            double *v = NULL;
            if (mtb_h5_read_f64(f, path, rank, dims, &v, 0, &err) == MTB_OK)
                free(v);
            int64_t *iv = NULL;
            if (kind == MTB_H5_INT && mtb_h5_read_i64(f, path, rank, dims, &iv, &err) == MTB_OK)
                free(iv);
        } else if (kind == MTB_H5_STRING) {
            size_t k;
            char **s;
            if (mtb_h5_read_strs(f, path, &k, &s, &err) == MTB_OK)
                mtb_h5_free_strs(s, k);
        }
    }
    mtb_h5_free_strs(names, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    mtb_h5_limits lim = fuzz_limits();
    mtb_error err = {0};
    mtb_h5 *f = mtb_h5_open_untrusted(path, &lim, &err);
    if (!f)
        return 0;
    visit(f, "/", 0);
    /* the attributes a reader of mtb's files asks for */
    static const char *const attrs[] = {"format", "name", "generator", "method", "cases", NULL};
    for (int i = 0; attrs[i]; i++) {
        char buf[256];
        double d;
        int64_t v;
        size_t n;
        char **s;
        mtb_h5_attr_get_str(f, "/", attrs[i], buf, sizeof buf, &err);
        mtb_h5_attr_get_f64(f, "/", attrs[i], &d, &err);
        mtb_h5_attr_get_i64(f, "/", attrs[i], &v, &err);
        if (mtb_h5_attr_get_strs(f, "/", attrs[i], &n, &s, &err) == MTB_OK)
            mtb_h5_free_strs(s, n);
    }
    mtb_h5_close(f);
    return 0;
}
