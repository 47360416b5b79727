/* summary.c: experiment summaries and report tables (summary.h). */
#include "summary.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "repro.h"

int repro_summary_open(repro_summary *s, const char *out, const char *exp)
{
    if (snprintf(s->path, sizeof s->path, "%s/summary_%s.tsv", out, exp) >= (int)sizeof s->path)
        return -1;
    s->f = repro_open(s->path);
    if (!s->f)
        return -1;
    fputs("key\tvalue\tlo\thi\n", s->f);
    return 0;
}

void repro_summary_put(repro_summary *s, const char *key, double v, double lo, double hi)
{
    /* a key is one field: blanks become '_' (look it up the same way) */
    for (const char *c = key; *c; c++)
        fputc(*c == ' ' || *c == '\t' ? '_' : *c, s->f);
    fprintf(s->f, "\t%.12g\t%.12g\t%.12g\n", v, lo, hi);
}

void repro_summary_putf(repro_summary *s, double v, double lo, double hi, const char *fmt, ...)
{
    char key[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(key, sizeof key, fmt, ap);
    va_end(ap);
    repro_summary_put(s, key, v, lo, hi);
}

int repro_summary_close(repro_summary *s)
{
    int rc = repro_commit(s->f, s->path);
    s->f = NULL;
    return rc;
}

void repro_summary_open_or_die(const char *prog, repro_summary *s, const char *out,
                               const char *exp)
{
    if (repro_summary_open(s, out, exp))
        repro_die(prog, "cannot write %s/summary_%s.tsv", out, exp);
}

void repro_summary_close_or_die(const char *prog, repro_summary *s)
{
    char path[sizeof s->path];
    memcpy(path, s->path, sizeof path);
    if (repro_summary_close(s))
        repro_die(prog, "cannot write %s", path);
}

FILE *repro_out_open(const char *prog, const char *out, const char *name, char *path, size_t n)
{
    if (snprintf(path, n, "%s/%s", out, name) >= (int)n)
        repro_die(prog, "path too long: %s/%s", out, name);
    FILE *f = repro_open(path);
    if (!f)
        repro_die(prog, "cannot write %s", path);
    return f;
}

void repro_out_close(const char *prog, FILE *f, const char *path)
{
    if (repro_commit(f, path))
        repro_die(prog, "cannot write %s", path);
}

/* ---- the loaded table ---------------------------------------------------------------- */

typedef struct entry {
    char key[192];
    double v, lo, hi;
} entry;
static entry *table;
static int n_entries, cap_entries;

int repro_summary_load(const char *out, const char *exp)
{
    char path[1024], line[1024];
    snprintf(path, sizeof path, "%s/summary_%s.tsv", out, exp);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int n = 0;
    if (fgets(line, sizeof line, f)) /* the header */
        while (fgets(line, sizeof line, f)) {
            char key[128];
            double v, lo, hi;
            if (sscanf(line, "%127s %lf %lf %lf", key, &v, &lo, &hi) != 4)
                continue;
            if (n_entries == cap_entries) {
                int c = cap_entries ? 2 * cap_entries : 256;
                entry *t = realloc(table, sizeof *t * (size_t)c);
                if (!t) {
                    fclose(f);
                    return -1;
                }
                table = t;
                cap_entries = c;
            }
            entry *e = &table[n_entries++];
            snprintf(e->key, sizeof e->key, "%s.%s", exp, key);
            e->v = v, e->lo = lo, e->hi = hi;
            n++;
        }
    fclose(f);
    return n;
}

int repro_summary_count(void) { return n_entries; }

const char *repro_summary_entry(int i, double *v, double *lo, double *hi)
{
    *v = table[i].v, *lo = table[i].lo, *hi = table[i].hi;
    return table[i].key;
}

double repro_summary_get(const char *key, double *lo, double *hi)
{
    for (int i = n_entries - 1; i >= 0; i--) /* the latest load wins */
        if (!strcmp(table[i].key, key)) {
            if (lo)
                *lo = table[i].lo;
            if (hi)
                *hi = table[i].hi;
            return table[i].v;
        }
    if (lo)
        *lo = NAN;
    if (hi)
        *hi = NAN;
    return NAN;
}

void repro_summary_clear(void)
{
    free(table);
    table = NULL;
    n_entries = cap_entries = 0;
}

/* ---- Markdown -------------------------------------------------------------------------- */

void repro_tsv_markdown(FILE *o, const char *out, const char *name)
{
    char path[1024], line[8192];
    snprintf(path, sizeof path, "%s/%s", out, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(o, "_(`%s` was not produced at this scale.)_\n\n", name);
        return;
    }
    for (int row = 0; fgets(line, sizeof line, f); row++) {
        line[strcspn(line, "\r\n")] = '\0';
        int cols = 1;
        fputs("| ", o);
        for (const char *c = line; *c; c++) {
            if (*c == '\t') {
                fputs(" | ", o);
                cols++;
            } else if (*c == '|') {
                fputs("\\|", o);
            } else {
                fputc(*c, o);
            }
        }
        fputs(" |\n", o);
        if (row == 0) {
            for (int i = 0; i < cols; i++)
                fputs("|---", o);
            fputs("|\n", o);
        }
    }
    fclose(f);
    fprintf(o, "\n_Table `%s`._\n\n", name);
}

void repro_figure(FILE *o, const char *figdir, const char *stem, const char *caption)
{
    fprintf(o, "![%s](%s%s.png)\n\n_%s_ ([SVG](%s%s.svg))\n\n", caption, figdir, stem, caption,
            figdir, stem);
}
