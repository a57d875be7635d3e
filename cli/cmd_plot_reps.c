/* cli/cmd_plot_reps.c: `swarmlab plot DIR` for a replications directory (swarmlab sim
 * --replications N: DIR/replications.{tsv,json}, DIR/rep-SEED/): per-class means with 95% CIs,
 * the download time CDF pooled over the runs, a table of the runs, and the first run's own
 * report (rep-SEED/index.html) whose figures the page shows too. */
#include "cli.h"
#include "report.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPS 100000

typedef struct rep {
    unsigned long long seed;
    char *path;
} rep;

static int cmp_rep(const void *a, const void *b)
{
    const rep *x = a, *y = b;
    return (x->seed > y->seed) - (x->seed < y->seed);
}

/* DIR/rep-SEED directories, ascending seed. Returns how many, or -1 (printed). */
static long list_reps(const char *dir, rep **out)
{
    DIR *d = opendir(dir);
    rep *v = NULL;
    long n = 0;
    if (d == NULL) {
        fprintf(stderr, "swarmlab plot: %s: cannot list\n", dir);
        return -1;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char *end;
        if (strncmp(e->d_name, "rep-", 4) != 0 || e->d_name[4] < '0' || e->d_name[4] > '9')
            continue;
        unsigned long long seed = strtoull(e->d_name + 4, &end, 10);
        rep *nv = n < MAX_REPS && *end == '\0' ? realloc(v, (size_t)(n + 1) * sizeof(*v)) : NULL;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = nv != NULL ? malloc(len) : NULL;
        if (path == NULL) {
            fprintf(stderr, "swarmlab plot: %s: too many replications or out of memory\n", dir);
            free(nv != NULL ? nv : v);
            closedir(d);
            return -1;
        }
        snprintf(path, len, "%s/%s", dir, e->d_name);
        v = nv;
        v[n++] = (rep){seed, path};
    }
    closedir(d);
    if (n > 0)
        qsort(v, (size_t)n, sizeof(*v), cmp_rep);
    *out = v;
    return n;
}

/* The metrics panels of reps.gp (those with a mean for some class) into |out|, and the top of
 * each panel's data (the largest mean or upper CI bound; a seed's share ratio left out). */
static void metrics(const json_t *reps, const rpt_run *r, char *out, char *ymax, size_t len)
{
    static const char *const m[] = {"download_time_s", "completed_fraction", "share_ratio",
                                    "upload_utilisation"};
    size_t used = 0, yused = 0;
    out[0] = ymax[0] = '\0';
    for (size_t i = 0; i < 4; i++) {
        bool any = false;
        double top = 0;
        for (size_t k = 0; k < r->ncls; k++) {
            json_t *v = json_object_get(json_object_get(reps, r->cls[k].name), m[i]);
            double hi = json_number_value(json_array_get(json_object_get(v, "ci95"), 1));
            if (!json_is_number(json_object_get(v, "mean")) || (i == 2 && r->cls[k].seed))
                continue;
            any = true;
            top = fmax(top, fmax(json_number_value(json_object_get(v, "mean")), hi));
        }
        if (!any || used + 64 >= len)
            continue;
        used += (size_t)snprintf(out + used, len - used, "%s%s", used ? " " : "", m[i]);
        yused += (size_t)snprintf(ymax + yused, len - yused, "%s%.9g", yused ? " " : "", top);
    }
}

static bool want_seed(const rpt_class *c)
{
    return c->seed;
}

static int draw(const char *dir, const char *plots, const rpt_report *rp, const json_t *reps,
                const char *cdf, size_t nreps)
{
    char list[4096];
    FILE *gp = rpt_gp_open();
    if (gp == NULL)
        return -1;
    rpt_gp_str(gp, "dir", dir);
    rpt_run_classes(rp->run, NULL, list, sizeof(list));
    rpt_gp_str(gp, "classes", list);
    rpt_gp_str(gp, "cdf", cdf);
    char ymax[4096];
    metrics(reps, rp->run, list, ymax, sizeof(list));
    rpt_gp_str(gp, "metrics", list);
    rpt_gp_str(gp, "ymaxes", ymax);
    rpt_run_classes(rp->run, want_seed, list, sizeof(list));
    rpt_gp_str(gp, "seeds", list);
    rpt_gp_int(gp, "runs", (long)nreps);
    rpt_gp_load(gp, plots, "reps.gp");
    return rpt_gp_close(gp);
}

/* One row per run: its seed, simulated time, events, peers, overall Jain index. */
static void runs_table(FILE *f, const rep *reps, size_t n)
{
    fputs("<h2>Runs</h2>\n<table>\n<tr><th class=\"l\">run</th><th>seed</th>"
          "<th>simulated time (s)</th><th>events</th><th>peers</th>"
          "<th>Jain: download rate (all leechers)</th></tr>\n",
          f);
    for (size_t i = 0; i < n; i++) {
        char path[RPT_PATH + 32];
        const char *base = strrchr(reps[i].path, '/') + 1;
        snprintf(path, sizeof(path), "%s/summary.json", reps[i].path);
        json_t *s = json_load_file(path, 0, NULL);
        fputs("<tr><td class=\"l\">", f);
        rpt_html_put(f, base);
        fprintf(f, "</td><td>%llu</td><td>", reps[i].seed);
        rpt_html_num(f, json_object_get(s, "simulated_seconds"), 6);
        fputs("</td><td>", f);
        rpt_html_num(f, json_object_get(s, "events"), 6);
        fputs("</td><td>", f);
        rpt_html_num(f, json_object_get(s, "peers"), 6);
        fputs("</td><td>", f);
        rpt_html_num(f, json_object_get(json_object_get(s, "fairness"), "jain_download_rate"), 3);
        fputs("</td></tr>\n", f);
        json_decref(s);
    }
    fputs("</table>\n", f);
}

static int write_index(const char *dir, const rpt_report *rp, const json_t *reps, const rep *rv,
                       size_t n, const rpt_pooled *st)
{
    char title[512], stem[256], prefix[300];
    const char *sc = json_string_value(json_object_get(rp->summary, "scenario"));
    const char *first = strrchr(rv[0].path, '/') + 1;
    cli_scenario_stem(sc != NULL ? sc : "run", stem, sizeof(stem));
    snprintf(title, sizeof(title), "swarmlab replications: %s, %zu run%s (seeds %llu to %llu)",
             stem, n, n == 1 ? "" : "s", rv[0].seed, rv[n - 1].seed);
    FILE *f = cli_plot_index_open(dir, title);
    if (f == NULL)
        return -1;
    rpt_html_reps(f, reps, rp->run);
    rpt_html_pooled(f, rp->run, st, n);
    runs_table(f, rv, n);
    rpt_html_fluid(f, rp->summary);
    fputs("<h2>Figures over all runs</h2>\n", f);
    rpt_html_figure(f, dir, "", "reps_means", "Per-class means over the runs, 95% CI bars");
    rpt_html_figure(f, dir, "", "reps_cdf", "Download time CDF per class, pooled over the runs");
    fputs("<h2>First replication: ", f);
    rpt_html_put(f, first);
    fputs("</h2>\n<p>Its full report: <a href=\"", f);
    rpt_html_put(f, first);
    fputs("/index.html\">", f);
    rpt_html_put(f, first);
    fputs("/index.html</a>.</p>\n", f);
    snprintf(prefix, sizeof(prefix), "%s/", first);
    rpt_report_figures(f, dir, prefix, rp);
    fputs("<h2>Data</h2>\n<p><a href=\"replications.tsv\">replications.tsv</a>, <a href=\""
          "replications.json\">replications.json</a>, <a href=\"report-cdf.tsv\">"
          "report-cdf.tsv</a> (pooled CDF); each run's files in its rep-SEED directory.</p>\n",
          f);
    return rpt_html_close(f, dir);
}

int rpt_plot_reps(const char *dir, const char *plots)
{
    rep *reps = NULL;
    long n = list_reps(dir, &reps);
    if (n <= 0) {
        if (n == 0)
            fprintf(stderr, "swarmlab plot: %s: no rep-SEED directories\n", dir);
        return CLI_FAIL;
    }
    char path[RPT_PATH + 32], cdf[4096];
    snprintf(path, sizeof(path), "%s/replications.json", dir);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (root == NULL)
        fprintf(stderr, "swarmlab plot: %s:%d: %s\n", path, je.line, je.text);
    rpt_report rp;
    int rv = root != NULL ? rpt_report_draw(reps[0].path, plots, &rp) : -1;
    if (root != NULL && rv == 0)
        rv = rpt_report_index(reps[0].path, &rp);
    char **paths = malloc((size_t)n * sizeof(char *));
    rpt_pooled *st = calloc(RPT_MAX_CLASSES, sizeof(*st));
    for (long i = 0; paths != NULL && i < n; i++)
        paths[i] = reps[i].path;
    if (rv == 0)
        rv = paths != NULL && st != NULL
                 ? rpt_run_pooled_cdf(dir, rp.run, paths, (size_t)n, cdf, sizeof(cdf), st)
                 : -1;
    if (rv == 0)
        rv = draw(dir, plots, &rp, root, cdf, (size_t)n);
    if (rv == 0)
        rv = write_index(dir, &rp, root, reps, (size_t)n, st);
    if (root != NULL)
        rpt_report_free(&rp);
    json_decref(root);
    free(paths);
    free(st);
    for (long i = 0; i < n; i++)
        free(reps[i].path);
    free(reps);
    if (rv != 0)
        return CLI_FAIL;
    printf("report: %s/index.html (figures: PNG and SVG; the first run's report in its "
           "rep-SEED directory)\n",
           dir);
    return CLI_OK;
}
