/* cli/cmd_plot_run.c: `swarmlab plot` for one run directory (swarmlab sim -o DIR): reads it,
 * draws its figures with the gnuplot scripts in plots/ and writes its index.html (summary
 * tables, figures, notes for the figures it could not draw). */
#include "cli.h"
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* completion.tsv's class names ("# class NAME" lines, block order) into |out|; 0 if missing. */
static int cdf_classes(const char *dir, char *out, size_t outlen)
{
    char path[RPT_PATH + 16], line[512];
    snprintf(path, sizeof(path), "%s/completion.tsv", dir);
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    if (f == NULL)
        return errno == ENOENT ? 0 : -1;
    size_t len = 0;
    int rv = 0;
    while (rv == 0 && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "# class ", 8) != 0)
            continue;
        char *name = line + 8;
        name[strcspn(name, "\r\n")] = '\0';
        size_t n = strlen(name);
        bool safe = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789_-") == n;
        if (!safe || n == 0 || len + n + 2 >= outlen) {
            fprintf(stderr, "swarmlab plot: %s: unusable class name '%.80s'\n", path, name);
            rv = -1;
        } else {
            len += (size_t)snprintf(out + len, outlen - len, "%s%s", len ? " " : "", name);
        }
    }
    fclose(f);
    return rv;
}

static bool want_done(const rpt_class *c)
{
    return c->done > 0;
}
static bool want_ratio(const rpt_class *c)
{
    return c->ratio > 0;
}

static bool nonempty(const char *dir, const char *name)
{
    char path[RPT_PATH + 32];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0 && st.st_size > 0;
}

/* The largest value of columns |c0|..|c1| (1-based) of the TSV DIR/NAME, 0 if none; the
 * y ranges are set from these, as gnuplot warns when it autoscales an all-zero range. */
static double tsv_max(const char *dir, const char *name, int c0, int c1)
{
    char path[RPT_PATH + 32], line[4096];
    double mx = 0;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '#')
            continue;
        char *p = line;
        for (int c = 1; c <= c1 && p != NULL; c++, p = strchr(p, '\t'), p = p ? p + 1 : NULL) {
            double v = c >= c0 ? strtod(p, NULL) : 0;
            mx = isfinite(v) && v > mx ? v : mx;
        }
    }
    if (f != NULL)
        fclose(f);
    return mx;
}

/* The y ranges of the swarm figure: peers (with the fluid model's), payload rate, copies. */
static void swarm_axes(FILE *gp, const char *dir, bool fluid)
{
    double peers = tsv_max(dir, "timeseries.tsv", 2, 3);
    double fl = fluid ? tsv_max(dir, "fluid.tsv", 2, 3) : 0;
    fprintf(gp, "peersmax = %.9g\nratemax = %.9g\navailmax = %.9g\n", fl > peers ? fl : peers,
            tsv_max(dir, "timeseries.tsv", 4, 4) / 1e6, tsv_max(dir, "timeseries.tsv", 5, 6));
}

/* Upload capacity axis (Mbit/s): range and whether it is logarithmic. */
static void up_axis(FILE *gp, const rpt_run *r)
{
    double lo = INFINITY, hi = 0;
    for (size_t k = 0; k < r->ncls; k++) {
        if (r->cls[k].peers == 0)
            continue;
        lo = r->cls[k].up_min_Bps < lo ? r->cls[k].up_min_Bps : lo;
        hi = r->cls[k].up_max_Bps > hi ? r->cls[k].up_max_Bps : hi;
    }
    lo = isfinite(lo) && lo > 0 ? lo * 8 / 1e6 : 1;
    hi = hi > 0 ? hi * 8 / 1e6 : 1;
    bool lg = hi / lo >= 8;
    fprintf(gp, "xlog = %d\nxmin = %.9g\nxmax = %.9g\n", lg, lg ? lo / 1.5 : 0,
            lg ? hi * 1.5 : hi * 1.15);
}

static void draw_vars(FILE *gp, const char *dir, const rpt_report *rp, const char *isps)
{
    const rpt_run *r = rp->run;
    char list[4096];
    rpt_gp_str(gp, "dir", dir);
    rpt_run_classes(r, NULL, list, sizeof(list));
    rpt_gp_str(gp, "classes", list);
    rpt_gp_str(gp, "cdf", rp->cdf);
    rpt_run_classes(r, want_done, list, sizeof(list));
    rpt_gp_str(gp, "done", list);
    rpt_run_classes(r, want_ratio, list, sizeof(list));
    rpt_gp_str(gp, "ratio", list);
    rpt_gp_int(gp, "hasfluid", rp->fluid);
    rpt_gp_int(gp, "c_class", r->c_class);
    rpt_gp_int(gp, "c_up", r->c_up);
    rpt_gp_int(gp, "c_dl", r->c_dl);
    rpt_gp_int(gp, "c_bup", r->c_bup);
    rpt_gp_int(gp, "c_bdown", r->c_bdown);
    fprintf(gp, "dlmax = %.9g\nratiomax = %.9g\ncross = %.9g\n", r->dl_max_s, r->ratio_max,
            isfinite(rp->cross) ? rp->cross : -1.0);
    rpt_gp_str(gp, "isps", isps);
    up_axis(gp, r);
    swarm_axes(gp, dir, rp->fluid);
}

int rpt_report_draw(const char *dir, const char *plots, rpt_report *rp)
{
    char path[RPT_PATH + 16], isps[4096];
    json_error_t je;
    memset(rp, 0, sizeof(*rp));
    rp->cross = NAN;
    rp->run = malloc(sizeof(*rp->run));
    if (rp->run == NULL || rpt_run_scan(dir, rp->run) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    rp->summary = json_load_file(path, 0, &je);
    if (rp->summary == NULL) {
        fprintf(stderr, "swarmlab plot: %s:%d: %s\n", path, je.line, je.text);
        return -1;
    }
    if (cdf_classes(dir, rp->cdf, sizeof(rp->cdf)) != 0)
        return -1;
    rp->fluid = nonempty(dir, "fluid.tsv") && nonempty(dir, "timeseries.tsv");
    rp->matrix = rpt_run_matrix(dir, rp->run);
    rp->isp = rp->matrix < 0
                  ? -1
                  : rpt_run_isp(dir, rp->run, isps, sizeof(isps), &rp->cross, &rp->isp_why);
    if (rp->isp < 0)
        return -1;
    FILE *gp = rpt_gp_open();
    if (gp == NULL)
        return -1;
    draw_vars(gp, dir, rp, isps);
    if (nonempty(dir, "timeseries.tsv"))
        rpt_gp_load(gp, plots, "sim.gp");
    if (rp->run->dl_max_s > 0 || rp->run->ratio_max > 0)
        rpt_gp_load(gp, plots, "peers.gp");
    if (rp->matrix == 1)
        rpt_gp_load(gp, plots, "matrix.gp");
    if (rp->isp == 1)
        rpt_gp_load(gp, plots, "isp.gp");
    return rpt_gp_close(gp);
}

void rpt_report_free(rpt_report *rp)
{
    free(rp->run);
    json_decref(rp->summary);
    memset(rp, 0, sizeof(*rp));
}

void rpt_report_figures(FILE *f, const char *dir, const char *prefix, const rpt_report *rp)
{
    if (rp->cdf[0] != '\0')
        rpt_html_figure(f, dir, prefix, "completion", "Download time CDF per leecher class");
    else
        rpt_html_note(f, "No download time CDF: no leecher completed.");
    if (rp->run->dl_max_s > 0)
        rpt_html_figure(f, dir, prefix, "time_vs_upload",
                        "Download time against upload capacity, one point per completed leecher");
    else
        rpt_html_note(f, "No download time against upload capacity: no leecher completed.");
    if (rp->run->ratio_max > 0)
        rpt_html_figure(f, dir, prefix, "ratio_vs_upload",
                        "Share ratio (bytes up / bytes down) against upload capacity, per peer");
    else
        rpt_html_note(f, "No share ratio against upload capacity: no peer uploaded and "
                         "downloaded.");
    rpt_html_figure(f, dir, prefix, "swarm",
                    "Swarm size over time (with the fluid model), payload rate, availability");
    if (!rp->fluid)
        rpt_html_note(f, "No fluid.tsv (e.g. trace arrivals): the swarm figure has no fluid "
                         "model overlay.");
    if (rp->matrix == 1)
        rpt_html_figure(f, dir, prefix, "unchoke",
                        "Unchoke matrix: where each class's unchoke time and upload bytes go");
    else
        rpt_html_note(f, rp->run->ncls < 2 ? "No unchoke matrix: the run has one class."
                                           : "No matrix.tsv in the run directory: no unchoke "
                                             "matrix.");
    if (rp->isp == 1) {
        char cap[160];
        snprintf(cap, sizeof(cap), "Payload bytes between ISPs (%.1f%% of all bytes crossed ISPs)",
                 isfinite(rp->cross) ? 100 * rp->cross : 0.0);
        rpt_html_figure(f, dir, prefix, "isp", cap);
    } else {
        char msg[256];
        snprintf(msg, sizeof(msg), "No cross-ISP traffic figure: %s.",
                 rp->isp_why != NULL ? rp->isp_why : "no data");
        rpt_html_note(f, msg);
    }
}

/* Links to the run's data files that exist (results, then the tables derived for figures). */
static void data_links(FILE *f, const char *dir)
{
    static const char *const files[] = {
        "peers.tsv",    "timeseries.tsv", "completion.tsv", "matrix.tsv",        "fluid.tsv",
        "summary.json", "run.json",       "scenario.ini",   "report-matrix.tsv", "report-isp.tsv"};
    size_t n = 0;
    fputs("<h2>Data</h2>\n<p>", f);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (nonempty(dir, files[i]))
            fprintf(f, "%s<a href=\"%s\">%s</a>", n++ ? ", " : "", files[i], files[i]);
    fputs(". The report-*.tsv files are derived from the others for the figures.</p>\n", f);
}

int rpt_report_index(const char *dir, const rpt_report *rp)
{
    char title[512], stem[256];
    const char *sc = json_string_value(json_object_get(rp->summary, "scenario"));
    cli_scenario_stem(sc != NULL ? sc : "run", stem, sizeof(stem));
    const char *mode = json_string_value(json_object_get(rp->summary, "mode"));
    if (mode != NULL && strcmp(mode, "live") == 0) /* swarmlab live --results */
        snprintf(title, sizeof(title), "swarmlab live run: %s", stem);
    else
        snprintf(title, sizeof(title), "swarmlab run: %s, seed %lld", stem,
                 (long long)json_integer_value(json_object_get(rp->summary, "seed")));
    FILE *f = cli_plot_index_open(dir, title);
    if (f == NULL)
        return -1;
    const char *names[RPT_MAX_CLASSES];
    for (size_t k = 0; k < rp->run->ncls; k++)
        names[k] = rp->run->cls[k].name;
    rpt_html_summary(f, rp->summary, names, rp->run->ncls);
    if (rp->isp == 1)
        fprintf(f, "<p>Cross-ISP traffic: %.1f%% of the payload bytes went between ISPs.</p>\n",
                isfinite(rp->cross) ? 100 * rp->cross : 0.0);
    fputs("<h2>Figures</h2>\n", f);
    rpt_report_figures(f, dir, "", rp);
    data_links(f, dir);
    return rpt_html_close(f, dir);
}
