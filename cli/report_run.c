/* cli/report_run.c: reads a run directory for `swarmlab plot` (peers.tsv by column name,
 * matrix.tsv, scenario.ini's ISP names) and writes the derived tables the figures need:
 * report-matrix.tsv, report-isp.tsv, report-cdf.tsv. Never draws and never writes HTML. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One row of peers.tsv, the fields the report uses. */
typedef struct prow {
    size_t cls;
    long isp;
    double up_Bps, join_s, download_s, bytes_up, bytes_down;
} prow;

typedef int (*row_fn)(void *ctx, const prow *p);

static bool safe_name(const char *s, size_t n)
{
    return n > 0 && n < RPT_MAX_NAME &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") >= n;
}

static int find_class(const rpt_run *r, const char *name)
{
    for (size_t k = 0; k < r->ncls; k++)
        if (strcmp(r->cls[k].name, name) == 0)
            return (int)k;
    return -1;
}

static int add_class(rpt_run *r, const char *name, size_t n, const char *path, long line)
{
    if (!safe_name(name, n) || r->ncls == RPT_MAX_CLASSES) {
        fprintf(stderr, "swarmlab plot: %s:%ld: unusable class name '%.*s' (or too many)\n", path,
                line, (int)(n < 80 ? n : 80), name);
        return -1;
    }
    rpt_class *c = &r->cls[r->ncls++];
    memset(c, 0, sizeof(*c));
    memcpy(c->name, name, n);
    c->isp = -1;
    c->up_min_Bps = INFINITY;
    return 0;
}

/* peers.tsv's header: the columns' positions, and the classes from the up_to_* columns. */
static int parse_header(rpt_run *r, char *line, const char *path)
{
    static const char *const want[] = {"class",      "isp",      "up_Bps",    "join_s",
                                       "download_s", "bytes_up", "bytes_down"};
    int *cols[] = {&r->c_class, &r->c_isp, &r->c_up, &r->c_join, &r->c_dl, &r->c_bup, &r->c_bdown};
    if (strncmp(line, "# ", 2) != 0) {
        fprintf(stderr, "swarmlab plot: %s:1: no '# id<TAB>class...' header\n", path);
        return -1;
    }
    line[strcspn(line, "\r\n")] = '\0';
    int col = 1;
    for (char *p = line + 2, *tab; p != NULL; p = tab != NULL ? tab + 1 : NULL, col++) {
        tab = strchr(p, '\t');
        size_t n = tab != NULL ? (size_t)(tab - p) : strlen(p);
        for (size_t i = 0; i < 7; i++)
            if (strlen(want[i]) == n && strncmp(p, want[i], n) == 0 && *cols[i] == 0)
                *cols[i] = col;
        if (n > 6 && strncmp(p, "up_to_", 6) == 0 && add_class(r, p + 6, n - 6, path, 1) != 0)
            return -1;
    }
    for (size_t i = 0; i < 7; i++) {
        if (*cols[i] == 0) {
            fprintf(stderr, "swarmlab plot: %s:1: no column '%s'\n", path, want[i]);
            return -1;
        }
    }
    return 0;
}

static int num_field(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return end != s && (*end == '\0' || *end == '\t') && errno == 0 && isfinite(*out) ? 0 : -1;
}

/* Splits a data row into the fields the report uses (|f| holds the column starts). */
static int parse_row(rpt_run *r, char *line, prow *p, const char *path, long ln, bool grow)
{
    char *f[512] = {0};
    int n = 0, maxcol = 0;
    int cs[] = {r->c_class, r->c_isp, r->c_up, r->c_join, r->c_dl, r->c_bup, r->c_bdown};
    for (size_t i = 0; i < 7; i++)
        maxcol = cs[i] > maxcol ? cs[i] : maxcol;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *s = line; s != NULL && n < maxcol && n < 512; n++) {
        f[n] = s;
        s = strchr(s, '\t');
        s = s != NULL ? s + 1 : NULL;
    }
    if (n < maxcol || maxcol > 512) {
        fprintf(stderr, "swarmlab plot: %s:%ld: %d fields, expected at least %d\n", path, ln, n,
                maxcol);
        return -1;
    }
    char *cls = f[r->c_class - 1];
    size_t clen = strcspn(cls, "\t");
    char name[RPT_MAX_NAME] = "";
    memcpy(name, cls, clen < RPT_MAX_NAME ? clen : RPT_MAX_NAME - 1);
    int k = clen < RPT_MAX_NAME ? find_class(r, name) : -1;
    if (k < 0 && grow && add_class(r, cls, clen, path, ln) == 0)
        k = (int)r->ncls - 1;
    if (k < 0) {
        fprintf(stderr, "swarmlab plot: %s:%ld: unknown class '%.*s'\n", path, ln,
                (int)(clen < 80 ? clen : 80), cls);
        return -1;
    }
    double isp,
        *dst[] = {&isp, &p->up_Bps, &p->join_s, &p->download_s, &p->bytes_up, &p->bytes_down};
    int src[] = {r->c_isp, r->c_up, r->c_join, r->c_dl, r->c_bup, r->c_bdown};
    for (size_t i = 0; i < 6; i++) {
        if (num_field(f[src[i] - 1], dst[i]) != 0 || (i == 0 && (isp < 0 || isp >= RPT_MAX_ISPS))) {
            size_t vlen = strcspn(f[src[i] - 1], "\t");
            fprintf(stderr, "swarmlab plot: %s:%ld: column %d: bad value '%.*s'\n", path, ln,
                    src[i], (int)(vlen < 80 ? vlen : 80), f[src[i] - 1]);
            return -1;
        }
    }
    p->cls = (size_t)k;
    p->isp = (long)isp;
    return 0;
}

/* Reads DIR/peers.tsv: the header into |r|, then |fn| on every row. */
static int scan_rows(const char *dir, rpt_run *r, row_fn fn, void *ctx)
{
    char path[RPT_PATH + 16];
    snprintf(path, sizeof(path), "%s/peers.tsv", dir);
    FILE *f = fopen(path, "r");
    char *line = malloc(RPT_MAX_LINE);
    int rv = f != NULL && line != NULL ? 0 : -1;
    if (f == NULL)
        fprintf(stderr, "swarmlab plot: %s: %s\n", path, strerror(errno));
    long ln = 0;
    bool grow = r->ncls == 0;
    while (rv == 0 && fgets(line, RPT_MAX_LINE, f) != NULL) {
        ln++;
        prow p;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            fprintf(stderr, "swarmlab plot: %s:%ld: line longer than %d bytes\n", path, ln,
                    RPT_MAX_LINE);
            rv = -1;
        } else if (ln > RPT_MAX_ROWS) {
            fprintf(stderr, "swarmlab plot: %s: more than %d rows\n", path, RPT_MAX_ROWS);
            rv = -1;
        } else if (ln == 1) {
            rv = parse_header(r, line, path);
            grow = grow && r->ncls == 0;
        } else if (line[0] != '#' && line[strspn(line, "\r\n")] != '\0') {
            rv = parse_row(r, line, &p, path, ln, grow);
            if (rv == 0)
                rv = fn(ctx, &p);
        }
    }
    if (rv == 0 && ln == 0) {
        fprintf(stderr, "swarmlab plot: %s: empty file\n", path);
        rv = -1;
    }
    if (f != NULL)
        fclose(f);
    free(line);
    return rv;
}

static int count_row(void *ctx, const prow *p)
{
    rpt_run *r = ctx;
    rpt_class *c = &r->cls[p->cls];
    c->peers++;
    if (c->isp >= 0 && c->isp != p->isp)
        r->isp_mixed = true;
    c->isp = (int)p->isp;
    c->done += p->download_s >= 0;
    c->ratio += p->bytes_down > 0;
    if (p->download_s > r->dl_max_s)
        r->dl_max_s = p->download_s;
    if (p->bytes_down > 0 && p->bytes_up / p->bytes_down > r->ratio_max)
        r->ratio_max = p->bytes_up / p->bytes_down;
    c->up_min_Bps = p->up_Bps < c->up_min_Bps ? p->up_Bps : c->up_min_Bps;
    c->up_max_Bps = p->up_Bps > c->up_max_Bps ? p->up_Bps : c->up_max_Bps;
    return 0;
}

/* ISP names: "core", then scenario.ini's [isp NAME] sections in order (the network's ids). */
static void isp_names(const char *dir, rpt_run *r)
{
    char path[RPT_PATH + 16], line[256];
    snprintf(path, sizeof(path), "%s/scenario.ini", dir);
    snprintf(r->isp_names[0], RPT_MAX_NAME, "core");
    r->nisp_names = 1;
    FILE *f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL && r->nisp_names < RPT_MAX_ISPS) {
        if (strncmp(line, "[isp ", 5) != 0)
            continue;
        size_t n = strcspn(line + 5, "]");
        if (line[5 + n] != ']' || !safe_name(line + 5, n))
            break; /* not ours: fall back to numbers */
        memcpy(r->isp_names[r->nisp_names], line + 5, n);
        r->isp_names[r->nisp_names++][n] = '\0';
    }
    if (f != NULL)
        fclose(f);
}

int rpt_run_scan(const char *dir, rpt_run *r)
{
    memset(r, 0, sizeof(*r));
    if (scan_rows(dir, r, count_row, r) != 0)
        return -1;
    char path[RPT_PATH + 16];
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    json_t *s = json_load_file(path, 0, NULL);
    for (size_t k = 0; k < r->ncls; k++) {
        json_t *role =
            json_object_get(json_object_get(json_object_get(s, "classes"), r->cls[k].name), "role");
        r->cls[k].seed = json_is_string(role) && strcmp(json_string_value(role), "seed") == 0;
    }
    json_decref(s);
    isp_names(dir, r);
    return 0;
}

void rpt_run_classes(const rpt_run *r, bool (*want)(const rpt_class *), char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t k = 0; k < r->ncls; k++) {
        if (want != NULL && !want(&r->cls[k]))
            continue;
        int w = snprintf(out + n, len - n, "%s%s", n ? " " : "", r->cls[k].name);
        if (w < 0 || (size_t)w >= len - n) {
            out[n] = '\0';
            return;
        }
        n += (size_t)w;
    }
}

/* The pooled download times: per class of the report's run, a growing array. */
typedef struct pool {
    const rpt_run *main; /* class order */
    rpt_run *cur;        /* the run being read */
    double *t[RPT_MAX_CLASSES];
    size_t n[RPT_MAX_CLASSES], cap[RPT_MAX_CLASSES];
    uint64_t members[RPT_MAX_CLASSES];
} pool;

static int pool_row(void *ctx, const prow *p)
{
    pool *pl = ctx;
    int k = find_class(pl->main, pl->cur->cls[p->cls].name);
    if (k < 0 || pl->main->cls[k].seed || p->join_s < 0)
        return 0;
    pl->members[k]++;
    if (p->download_s < 0)
        return 0;
    if (pl->n[k] == pl->cap[k]) {
        size_t cap = pl->cap[k] ? 2 * pl->cap[k] : 64;
        double *t = realloc(pl->t[k], cap * sizeof(double));
        if (t == NULL) {
            fprintf(stderr, "swarmlab plot: out of memory\n");
            return -1;
        }
        pl->t[k] = t;
        pl->cap[k] = cap;
    }
    pl->t[k][pl->n[k]++] = p->download_s;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The |q| quantile (0..1) of |n| > 0 sorted values, nearest rank (as summary.json). */
static double quantile(const double *v, size_t n, double q)
{
    return v[(size_t)(q * (double)(n - 1) + 0.5)];
}

static void pool_stats(const pool *pl, size_t k, rpt_pooled *st)
{
    double sum = 0;
    const double *t = pl->t[k];
    size_t n = pl->n[k];
    for (size_t i = 0; i < n; i++)
        sum += t[i];
    st->members = pl->members[k];
    st->done = n;
    st->mean_s = n ? sum / (double)n : NAN;
    st->median_s = n ? quantile(t, n, 0.5) : NAN;
    st->p5_s = n ? quantile(t, n, 0.05) : NAN;
    st->p95_s = n ? quantile(t, n, 0.95) : NAN;
}

static int write_pool(const char *dir, const rpt_run *r, pool *pl, char *classes, size_t len,
                      rpt_pooled *st)
{
    char path[RPT_PATH + 16];
    snprintf(path, sizeof(path), "%s/report-cdf.tsv", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "swarmlab plot: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fputs("# download time CDF per class, pooled over the runs: download_s, fraction\n", f);
    size_t used = 0;
    classes[0] = '\0';
    for (size_t k = 0; k < r->ncls; k++) {
        if (pl->n[k] > 0)
            qsort(pl->t[k], pl->n[k], sizeof(double), cmp_double);
        pool_stats(pl, k, &st[k]);
        if (pl->n[k] == 0)
            continue;
        fprintf(f, "%s# class %s\n", used ? "\n\n" : "", r->cls[k].name);
        for (size_t i = 0; i < pl->n[k]; i++)
            fprintf(f, "%.6f\t%.6f\n", pl->t[k][i], (double)(i + 1) / (double)pl->members[k]);
        int w = snprintf(classes + used, len - used, "%s%s", used ? " " : "", r->cls[k].name);
        used = w > 0 && (size_t)w < len - used ? used + (size_t)w : used;
    }
    if (ferror(f) | fclose(f)) {
        fprintf(stderr, "swarmlab plot: %s: write error\n", path);
        return -1;
    }
    return 0;
}

int rpt_run_pooled_cdf(const char *dir, const rpt_run *r, char *const *runs, size_t nruns,
                       char *classes, size_t len, rpt_pooled *st)
{
    pool *pl = calloc(1, sizeof(*pl));
    rpt_run *cur = malloc(sizeof(*cur));
    int rv = pl != NULL && cur != NULL ? 0 : -1;
    for (size_t i = 0; rv == 0 && i < nruns; i++) {
        memset(cur, 0, sizeof(*cur));
        pl->main = r;
        pl->cur = cur;
        rv = scan_rows(runs[i], cur, pool_row, pl);
    }
    if (rv == 0)
        rv = write_pool(dir, r, pl, classes, len, st);
    for (size_t k = 0; pl != NULL && k < RPT_MAX_CLASSES; k++)
        free(pl->t[k]);
    free(pl);
    free(cur);
    return rv;
}
