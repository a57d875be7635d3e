/* cli/report_matrix.c: the class-by-class matrix of a run (matrix.tsv) rewritten for the heat
 * maps of `swarmlab plot`: shares of each class's unchoke time and bytes (report-matrix.tsv),
 * and bytes between ISPs (report-isp.tsv; every class lives in one ISP, so the class matrix
 * gives the ISP matrix exactly). Never draws. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct mcell {
    double bytes, regular_s, optimistic_s;
} mcell;

static int class_index(const rpt_run *r, const char *name)
{
    for (size_t k = 0; k < r->ncls; k++)
        if (strcmp(r->cls[k].name, name) == 0)
            return (int)k;
    return -1;
}

/* Reads DIR/matrix.tsv into |m| (ncls x ncls, zeroed first). 1, 0 if missing, -1 on error. */
static int read_matrix(const char *dir, const rpt_run *r, mcell *m)
{
    char path[RPT_PATH + 16], line[512], from[RPT_MAX_NAME + 1], to[RPT_MAX_NAME + 1];
    snprintf(path, sizeof(path), "%s/matrix.tsv", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL && errno == ENOENT)
        return 0;
    if (f == NULL) {
        fprintf(stderr, "swarmlab plot: %s: %s\n", path, strerror(errno));
        return -1;
    }
    memset(m, 0, r->ncls * r->ncls * sizeof(*m));
    long ln = 0;
    int rv = 1;
    while (rv == 1 && fgets(line, sizeof(line), f) != NULL) {
        ln++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            fprintf(stderr, "swarmlab plot: %s:%ld: line longer than %zu bytes\n", path, ln,
                    sizeof(line) - 2);
            rv = -1;
            break;
        }
        if (line[0] == '#' || line[0] == '\n')
            continue;
        mcell c;
        int a = -1, b = -1;
        if (sscanf(line, "%64[^\t]\t%64[^\t]\t%lf\t%lf\t%lf", from, to, &c.bytes, &c.regular_s,
                   &c.optimistic_s) == 5) {
            a = class_index(r, from);
            b = class_index(r, to);
        }
        if (a < 0 || b < 0 || !(c.bytes >= 0) || !(c.regular_s >= 0) || !(c.optimistic_s >= 0) ||
            ln > 70000) {
            line[strcspn(line, "\r\n")] = '\0';
            fprintf(stderr,
                    "swarmlab plot: %s:%ld: bad row '%.120s' (want from_class, to_class, "
                    "bytes, regular_unchoke_s, optimistic_unchoke_s; known classes)\n",
                    path, ln, line);
            rv = -1;
        } else {
            m[(size_t)a * r->ncls + (size_t)b] = c;
        }
    }
    fclose(f);
    return rv;
}

static FILE *open_out(const char *dir, const char *name, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        fprintf(stderr, "swarmlab plot: %s: %s\n", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path)
{
    if (ferror(f) | fclose(f)) {
        fprintf(stderr, "swarmlab plot: %s: write error\n", path);
        return -1;
    }
    return 0;
}

/* x / total, or -1 when the total is 0 (no share defined: gnuplot skips NaN rows, which
 * would leave holes in an image's grid). */
static double share(double x, double total)
{
    return total > 0 ? x / total : -1.0;
}

static int write_matrix(const char *dir, const rpt_run *r, const mcell *m)
{
    char path[RPT_PATH + 32];
    FILE *f = open_out(dir, "report-matrix.tsv", path, sizeof(path));
    if (f == NULL)
        return -1;
    fputs("# from_i\tto_i\tbytes_MB\tregular_share\toptimistic_share\tbytes_share\n", f);
    size_t n = r->ncls;
    for (size_t a = 0; a < n; a++) {
        double tb = 0, tr = 0, to = 0;
        for (size_t b = 0; b < n; b++) {
            tb += m[a * n + b].bytes;
            tr += m[a * n + b].regular_s;
            to += m[a * n + b].optimistic_s;
        }
        for (size_t b = 0; b < n; b++) {
            const mcell *c = &m[a * n + b];
            fprintf(f, "%zu\t%zu\t%.6f\t%.6f\t%.6f\t%.6f\n", a, b, c->bytes / 1e6,
                    share(c->regular_s, tr), share(c->optimistic_s, to), share(c->bytes, tb));
        }
        fputc('\n', f);
    }
    return close_out(f, path);
}

int rpt_run_matrix(const char *dir, const rpt_run *r)
{
    if (r->ncls < 2)
        return 0; /* a 1 x 1 matrix says nothing */
    mcell *m = calloc(r->ncls * r->ncls + 1, sizeof(*m));
    if (m == NULL) {
        fprintf(stderr, "swarmlab plot: out of memory\n");
        return -1;
    }
    int rv = read_matrix(dir, r, m);
    if (rv == 1 && write_matrix(dir, r, m) != 0)
        rv = -1;
    free(m);
    return rv;
}

/* The ISPs that hold peers, ascending network id, into |ids|; returns how many. */
static size_t used_isps(const rpt_run *r, int *ids)
{
    size_t n = 0;
    for (int id = 0; id < RPT_MAX_ISPS; id++) {
        for (size_t k = 0; k < r->ncls; k++) {
            if (r->cls[k].isp == id) {
                ids[n++] = id;
                break;
            }
        }
    }
    return n;
}

static void isp_name(const rpt_run *r, int id, char *out, size_t len)
{
    if ((size_t)id < r->nisp_names)
        snprintf(out, len, "%s", r->isp_names[id]);
    else
        snprintf(out, len, "isp%d", id);
}

static int write_isp(const char *dir, const rpt_run *r, const mcell *m, const int *ids, size_t ni,
                     double *cross)
{
    double *b = calloc(ni * ni, sizeof(double)), total = 0, x = 0;
    char path[RPT_PATH + 32];
    FILE *f = b != NULL ? open_out(dir, "report-isp.tsv", path, sizeof(path)) : NULL;
    if (f == NULL) {
        free(b);
        return -1;
    }
    for (size_t a = 0; a < r->ncls; a++) {
        for (size_t c = 0; c < r->ncls; c++) {
            size_t i = 0, j = 0;
            while (i < ni && ids[i] != r->cls[a].isp)
                i++;
            while (j < ni && ids[j] != r->cls[c].isp)
                j++;
            if (i < ni && j < ni)
                b[i * ni + j] += m[a * r->ncls + c].bytes;
        }
    }
    for (size_t i = 0; i < ni * ni; i++) {
        total += b[i];
        x += i / ni != i % ni ? b[i] : 0;
    }
    fputs("# from_i\tto_i\tbytes_MB\tshare_of_all_bytes\n", f);
    for (size_t i = 0; i < ni; i++) {
        for (size_t j = 0; j < ni; j++)
            fprintf(f, "%zu\t%zu\t%.6f\t%.6f\n", i, j, b[i * ni + j] / 1e6,
                    share(b[i * ni + j], total));
        fputc('\n', f);
    }
    free(b);
    *cross = total > 0 ? x / total : NAN;
    return close_out(f, path);
}

int rpt_run_isp(const char *dir, rpt_run *r, char *names, size_t len, double *cross,
                const char **why)
{
    int ids[RPT_MAX_ISPS];
    size_t ni = used_isps(r, ids), used = 0;
    names[0] = '\0';
    *cross = NAN;
    if (r->isp_mixed) {
        *why = "a class has peers in more than one ISP, so matrix.tsv does not give the bytes "
               "between ISPs";
        return 0;
    }
    if (ni < 2) {
        *why = "all peers are in one ISP: no traffic crosses ISPs";
        return 0;
    }
    mcell *m = calloc(r->ncls * r->ncls + 1, sizeof(*m));
    int rv = m != NULL ? read_matrix(dir, r, m) : -1;
    if (rv == 0)
        *why = "no matrix.tsv in the run directory";
    if (rv == 1 && write_isp(dir, r, m, ids, ni, cross) != 0)
        rv = -1;
    free(m);
    for (size_t i = 0; rv == 1 && i < ni; i++) {
        char nm[RPT_MAX_NAME + 8];
        isp_name(r, ids[i], nm, sizeof(nm));
        int w = snprintf(names + used, len - used, "%s%s", used ? " " : "", nm);
        used = w > 0 && (size_t)w < len - used ? used + (size_t)w : used;
    }
    return rv;
}
