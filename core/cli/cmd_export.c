/* cmd_export.c: `mtb export FILE.h5 /dataset [--index]` prints a dataset as
 * whitespace-separated columns, the form gnuplot reads from a pipe
 * (plot "< mtb export run.h5 /loss --index" using 1:2), and
 * `mtb export FILE.h5 --list` shows what a file holds. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mtb/h5.h"

static const char *CMD = "export";

static void usage(FILE *out)
{
    fprintf(out,
        "usage: mtb export FILE.h5 /dataset [--index]\n"
        "       mtb export FILE.h5 --list\n"
        "\n"
        "Prints an HDF5 dataset as text columns for gnuplot. After `make demo`, the loss of\n"
        "task 1 per training step, drawn in the terminal (no display needed):\n"
        "    mtb export runs/ew-1.h5 /steps/loss --index |\n"
        "        gnuplot -e \"set terminal dumb; plot '-' using 1:2 with lines title 'task 1'\"\n"
        "or to a PNG: gnuplot -e \"set terminal png; set output 'loss.png';\n"
        "    plot '< mtb export runs/ew-1.h5 /steps/loss --index' using 1:2 with lines\"\n"
        "\n"
        "The file is read in full in a separate process first (HDF5 can crash or hang on a\n"
        "damaged file; that becomes an error message here).\n"
        "\n"
        "  rank 0      one value\n"
        "  rank 1      one value per line\n"
        "  rank 2      one row per line, columns separated by a space\n"
        "  rank > 2    one line per index of the first dimension; the trailing dimensions\n"
        "              are flattened in row-major order, so (S, T, d) prints S lines of T*d\n"
        "              values (the row of G for task t starts at column t*d)\n"
        "\n"
        "Floating-point values print with %%.9g (float32 exactly, float64 to 9 digits),\n"
        "NaN as 'nan', infinities as 'inf' / '-inf'; integers print exactly; a rank-1\n"
        "string dataset prints one string per line.\n"
        "\n"
        "  --index     prefix each line with its row index (0-based)\n"
        "  --list      list every dataset in the file (recursively) with type and shape\n"
        "  -h, --help  this text\n");
}

static void print_double(double v)
{
    if (isnan(v))
        fputs("nan", stdout);
    else if (isinf(v))
        fputs(v > 0 ? "inf" : "-inf", stdout);
    else
        printf("%.9g", v);
}

static int export_dataset(mtb_h5 *f, const char *obj, int with_index)
{
    mtb_error err = {0};
    int rank;
    size_t dims[MTB_H5_MAX_RANK];
    mtb_h5_kind kind;
    char tname[64];
    if (mtb_h5_shape(f, obj, &rank, dims, &err) ||
        mtb_h5_dtype(f, obj, &kind, tname, sizeof tname, &err))
        return cli_fail(CMD, &err);

    /* rows x cols view: rank 0 and 1 are columns of one value, rank >= 2 flattens the
     * trailing dimensions into the columns. */
    size_t rows = rank == 0 ? 1 : dims[0], cols = 1;
    for (int i = 1; i < rank; i++)
        cols *= dims[i];

    if (kind == MTB_H5_STRING) {
        size_t n;
        char **s;
        if (rank > 1) {
            cli_error(CMD, "%s: %s is a rank-%d string dataset; only rank-1 strings print",
                      mtb_h5_path(f), obj, rank);
            return 1;
        }
        if (mtb_h5_read_strs(f, obj, &n, &s, &err))
            return cli_fail(CMD, &err);
        for (size_t i = 0; i < n; i++) {
            if (with_index)
                printf("%zu ", i);
            printf("%s\n", s[i]);
        }
        mtb_h5_free_strs(s, n);
    } else if (kind == MTB_H5_INT) {
        int64_t *v;
        if (mtb_h5_read_i64(f, obj, rank, dims, &v, &err))
            return cli_fail(CMD, &err);
        for (size_t r = 0; r < rows; r++) {
            if (with_index)
                printf("%zu ", r);
            for (size_t c = 0; c < cols; c++)
                printf(c ? " %" PRId64 : "%" PRId64, v[r * cols + c]);
            putchar('\n');
        }
        free(v);
    } else if (kind == MTB_H5_FLOAT) {
        double *v;
        if (mtb_h5_read_f64(f, obj, rank, dims, &v, 0, &err))
            return cli_fail(CMD, &err);
        for (size_t r = 0; r < rows; r++) {
            if (with_index)
                printf("%zu ", r);
            for (size_t c = 0; c < cols; c++) {
                if (c)
                    putchar(' ');
                print_double(v[r * cols + c]);
            }
            putchar('\n');
        }
        free(v);
    } else {
        cli_error(CMD, "%s: %s holds %s values, which have no column form", mtb_h5_path(f), obj,
                  tname);
        return 1;
    }
    return 0;
}

/* Prints every dataset below group (recursively, in name order). */
static int list_group(mtb_h5 *f, const char *group)
{
    mtb_error err = {0};
    size_t n;
    char **names;
    if (mtb_h5_list(f, group, &n, &names, &err))
        return cli_fail(CMD, &err);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        size_t len = strlen(group) + strlen(names[i]) + 2;
        char *path = malloc(len);
        if (!path) {
            cli_error(CMD, "out of memory");
            rc = 1;
            break;
        }
        snprintf(path, len, "%s%s%s", group, strcmp(group, "/") ? "/" : "", names[i]);
        if (mtb_h5_is_group(f, path)) {
            rc = list_group(f, path);
        } else {
            int rank;
            size_t dims[MTB_H5_MAX_RANK];
            char tname[64];
            if (mtb_h5_shape(f, path, &rank, dims, &err) ||
                mtb_h5_dtype(f, path, NULL, tname, sizeof tname, &err)) {
                /* A link that is neither (e.g. a named datatype): say so, keep going. */
                printf("%-40s (not a dataset)\n", path);
            } else {
                printf("%-40s %-10s (", path, tname);
                for (int k = 0; k < rank; k++)
                    printf(k ? ", %zu" : "%zu", dims[k]);
                printf(rank == 1 ? ",)\n" : ")\n");
            }
        }
        free(path);
    }
    mtb_h5_free_strs(names, n);
    return rc;
}

int mtb_cmd_export(int argc, char **argv)
{
    const char *file = NULL, *obj = NULL;
    int with_index = 0, list = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--index")) {
            with_index = 1;
        } else if (!strcmp(a, "--list")) {
            list = 1;
        } else if (a[0] == '-' && a[1] == '-') {
            cli_error(CMD, "unknown option '%s' (mtb export --help)", a);
            return 2;
        } else if (!file) {
            file = a;
        } else if (!obj) {
            obj = a;
        } else {
            cli_error(CMD, "unexpected argument '%s': give one file and one dataset", a);
            return 2;
        }
    }
    if (!file || (!obj && !list) || (obj && list)) {
        cli_error(CMD, "give FILE.h5 and either a dataset path or --list (mtb export --help)");
        return 2;
    }
    if (cli_check_only)
        return 0;
    mtb_error err = {0};
    /* A file given on the command line may be damaged or hostile: it is read in full in a
     * separate process first (mtb_h5_open_untrusted). */
    mtb_h5 *f = mtb_h5_open_untrusted(file, NULL, &err);
    if (!f)
        return cli_fail(CMD, &err);
    int rc = list ? list_group(f, "/") : export_dataset(f, obj, with_index);
    mtb_h5_close(f);
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
        cli_error(CMD, "writing to standard output failed");
        rc = 1;
    }
    return rc;
}
