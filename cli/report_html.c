/* cli/report_html.c: the HTML of `swarmlab plot`'s index.html: a self-contained page (inline
 * CSS, relative links, no scripts), escaped text, figures and the summary tables built from
 * summary.json and replications.json. Never runs gnuplot. */
#include "cli.h"
#include "report.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

static const char css[] =
    "body{font-family:sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1em}"
    "th,td{border:1px solid #bbb;padding:.2em .5em;text-align:right}td{white-space:nowrap}"
    "th{background:#eee}td.l,th.l{text-align:left}"
    "figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #ddd}"
    "figcaption{font-size:.9em;color:#444}.note{color:#844;font-style:italic}"
    ".ci{font-size:.85em;color:#555}";

void rpt_html_put(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
        }
    }
}

FILE *cli_plot_index_open(const char *dir, const char *title)
{
    char path[RPT_PATH + 16];
    snprintf(path, sizeof(path), "%s/index.html", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "swarmlab plot: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
    rpt_html_put(f, title);
    fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n<h1>", css);
    rpt_html_put(f, title);
    fputs("</h1>\n", f);
    return f;
}

int rpt_html_close(FILE *f, const char *dir)
{
    fputs("</body></html>\n", f);
    if (ferror(f) | fclose(f)) {
        fprintf(stderr, "swarmlab plot: %s/index.html: write error\n", dir);
        return -1;
    }
    return 0;
}

/* |v| with |digits| significant digits; whole numbers above 10^digits in full. */
static void put_double(FILE *f, double v, int digits)
{
    if (!isfinite(v))
        fputs("&ndash;", f);
    else if (fabs(v) >= pow(10, digits))
        fprintf(f, "%.0f", v);
    else
        fprintf(f, "%.*g", digits, v);
}

void rpt_html_num(FILE *f, const json_t *v, int digits)
{
    if (json_is_integer(v))
        fprintf(f, "%lld", (long long)json_integer_value(v));
    else if (json_is_number(v))
        put_double(f, json_number_value(v), digits);
    else
        fputs("&ndash;", f);
}

void rpt_html_note(FILE *f, const char *text)
{
    fputs("<p class=\"note\">", f);
    rpt_html_put(f, text);
    fputs("</p>\n", f);
}

void rpt_html_figure(FILE *f, const char *dir, const char *prefix, const char *name,
                     const char *caption)
{
    char path[2 * RPT_PATH + 8], rel[RPT_PATH];
    struct stat st;
    snprintf(rel, sizeof(rel), "%s%s", prefix, name);
    snprintf(path, sizeof(path), "%s/%s.svg", dir, rel);
    if (stat(path, &st) != 0 || st.st_size == 0) {
        char msg[RPT_PATH + 32];
        snprintf(msg, sizeof(msg), "Figure %s.svg was not drawn.", rel);
        rpt_html_note(f, msg);
        return;
    }
    fputs("<figure><img src=\"", f);
    rpt_html_put(f, rel);
    fputs(".svg\" alt=\"", f);
    rpt_html_put(f, caption);
    fputs("\"><figcaption>", f);
    rpt_html_put(f, caption);
    fputs(" (<a href=\"", f);
    rpt_html_put(f, rel);
    fputs(".png\">PNG</a>)</figcaption></figure>\n", f);
}

/* <th> cells from a '|'-separated list; a leading '<' marks a left-aligned one. */
static void head_row(FILE *f, const char *cells)
{
    fputs("<tr>", f);
    while (*cells != '\0') {
        size_t n = strcspn(cells, "|");
        bool left = cells[0] == '<';
        fprintf(f, "<th%s>%.*s</th>", left ? " class=\"l\"" : "", (int)(n - left), cells + left);
        cells += n + (cells[n] == '|');
    }
    fputs("</tr>\n", f);
}

static void cell_text(FILE *f, const char *s)
{
    fputs("<td class=\"l\">", f);
    rpt_html_put(f, s != NULL ? s : "");
    fputs("</td>", f);
}

static void cell_num(FILE *f, const json_t *v, int digits)
{
    fputs("<td>", f);
    rpt_html_num(f, v, digits);
    fputs("</td>", f);
}

/* A cell with |v| divided by |scale| (bytes to MB). */
static void cell_scaled(FILE *f, const json_t *v, double scale)
{
    fputs("<td>", f);
    if (json_is_number(v))
        put_double(f, json_number_value(v) / scale, 4);
    else
        fputs("&ndash;", f);
    fputs("</td>", f);
}

static void kv_row(FILE *f, const char *key, const json_t *v, int digits)
{
    fprintf(f, "<tr><th class=\"l\">%s</th>", key);
    if (json_is_string(v))
        cell_text(f, json_string_value(v));
    else
        cell_num(f, v, digits);
    fputs("</tr>\n", f);
}

static void run_table(FILE *f, const json_t *s)
{
    fputs("<h2>Run</h2>\n<table>\n", f);
    kv_row(f, "scenario", json_object_get(s, "scenario"), 6);
    kv_row(f, "seed", json_object_get(s, "seed"), 6);
    kv_row(f, "simulated time (s)", json_object_get(s, "simulated_seconds"), 6);
    kv_row(f, "events", json_object_get(s, "events"), 6);
    kv_row(f, "peers", json_object_get(s, "peers"), 6);
    kv_row(f, "tracker announces", json_object_get(s, "announces"), 6);
    kv_row(f, "network chunks", json_object_get(s, "network_chunks"), 6);
    fputs("</table>\n", f);
}

/* One class's row of the per-class table (download times only for leecher classes). */
static void class_row(FILE *f, const char *name, const json_t *c)
{
    bool seed = json_is_string(json_object_get(c, "role")) &&
                strcmp(json_string_value(json_object_get(c, "role")), "seed") == 0;
    const json_t *t = json_object_get(c, "download_time_s"), *fa = json_object_get(c, "fairness");
    fputs("<tr>", f);
    cell_text(f, name);
    cell_text(f, json_string_value(json_object_get(c, "role")));
    cell_num(f, json_object_get(c, "peers"), 6);
    cell_num(f, seed ? NULL : json_object_get(c, "completed"), 6);
    static const char *const q[] = {"mean", "median", "p5", "p95"};
    for (size_t i = 0; i < 4; i++)
        cell_num(f,
                 seed || json_integer_value(json_object_get(c, "completed")) == 0
                     ? NULL
                     : json_object_get(t, q[i]),
                 4);
    cell_num(f, seed ? NULL : json_object_get(c, "share_ratio"), 3);
    cell_num(f, json_object_get(c, "upload_utilisation"), 3);
    cell_num(f, json_object_get(fa, "jain_download_rate"), 3);
    cell_num(f, json_object_get(fa, "jain_download_upload_ratio"), 3);
    cell_scaled(f, json_object_get(c, "bytes_up"), 1e6);
    cell_scaled(f, json_object_get(c, "bytes_down"), 1e6);
    fputs("</tr>\n", f);
}

static void class_table(FILE *f, const json_t *s, const char *const *classes, size_t n)
{
    const json_t *cl = json_object_get(s, "classes"), *fa = json_object_get(s, "fairness");
    fputs("<h2>Classes</h2>\n<table>\n", f);
    head_row(f,
             "<class|<role|peers|completed|download mean (s)|download median (s)|download p5 (s)|"
             "download p95 (s)|share ratio|"
             "upload utilisation|Jain: download rate|Jain: download/upload|"
             "bytes up (MB)|bytes down (MB)");
    for (size_t i = 0; i < n; i++)
        if (json_object_get(cl, classes[i]) != NULL)
            class_row(f, classes[i], json_object_get(cl, classes[i]));
    fputs("<tr><td class=\"l\">all leechers</td><td colspan=\"9\"></td>", f);
    cell_num(f, json_object_get(fa, "jain_download_rate"), 3);
    cell_num(f, json_object_get(fa, "jain_download_upload_ratio"), 3);
    fputs("<td colspan=\"2\"></td></tr>\n</table>\n", f);
    fputs("<p>Download time: joining to completing, completed leechers only. Share ratio: bytes "
          "up / bytes down. Upload utilisation: bytes up / (upload capacity &times; time "
          "present). Jain's index (1 = all equal) of the completed leechers' download rates and "
          "of their download/upload ratios (scenarios/README.md).</p>\n",
          f);
}

void rpt_html_fluid(FILE *f, const json_t *s)
{
    const json_t *fl = json_object_get(s, "fluid"), *st = json_object_get(fl, "steady");
    fputs("<h2>Fluid model</h2>\n", f);
    if (!json_is_object(fl)) {
        rpt_html_note(f, "No fluid model for this run (trace arrivals): summary.json has none.");
        return;
    }
    fputs("<table>\n", f);
    kv_row(f, "model", json_object_get(fl, "model"), 4);
    kv_row(f, "arrival rate &lambda; (1/s)", json_object_get(fl, "lambda"), 4);
    kv_row(f, "upload rate &mu; (files/s)", json_object_get(fl, "mu"), 4);
    kv_row(f, "download rate c (files/s)", json_object_get(fl, "c"), 4);
    kv_row(f, "abort rate &theta; (1/s)", json_object_get(fl, "theta"), 4);
    kv_row(f, "seed departure rate &gamma; (1/s)", json_object_get(fl, "gamma"), 4);
    kv_row(f, "sharing effectiveness &eta;", json_object_get(fl, "eta"), 4);
    kv_row(f, "&eta; from", json_object_get(fl, "eta_source"), 4);
    kv_row(f, "steady state: regime", json_object_get(st, "regime"), 4);
    kv_row(f, "steady state: download time (s)", json_object_get(st, "download_time_s"), 4);
    kv_row(f, "steady state: leechers", json_object_get(st, "leechers"), 4);
    kv_row(f, "steady state: seeds", json_object_get(st, "seeds"), 4);
    fputs("</table>\n", f);
    if (!json_is_number(json_object_get(st, "leechers")))
        rpt_html_note(f, "No finite steady state (e.g. a flash crowd, or seeds never leave).");
}

void rpt_html_summary(FILE *f, const json_t *summary, const char *const *classes, size_t n)
{
    run_table(f, summary);
    class_table(f, summary, classes, n);
    rpt_html_fluid(f, summary);
}

static const char *const rep_metrics[] = {"download_time_s",    "download_time_median_s",
                                          "completed_fraction", "share_ratio",
                                          "upload_utilisation", "bytes_up",
                                          "bytes_down"};

/* "mean", then "[lo, hi]" below it, of one metric (bytes in MB). */
static void rep_cell(FILE *f, const json_t *m, bool bytes)
{
    const json_t *ci = json_object_get(m, "ci95");
    double scale = bytes ? 1e6 : 1;
    fputs("<td>", f);
    if (!json_is_number(json_object_get(m, "mean"))) {
        fputs("&ndash;</td>", f);
        return;
    }
    put_double(f, json_number_value(json_object_get(m, "mean")) / scale, 4);
    if (json_is_number(json_array_get(ci, 0)) && json_is_number(json_array_get(ci, 1))) {
        fputs("<br><span class=\"ci\">[", f);
        put_double(f, json_number_value(json_array_get(ci, 0)) / scale, 4);
        fputs(", ", f);
        put_double(f, json_number_value(json_array_get(ci, 1)) / scale, 4);
        fputs("]</span>", f);
    }
    fputs("</td>", f);
}

void rpt_html_reps(FILE *f, const json_t *reps, const rpt_run *r)
{
    fputs("<h2>Per-class means over the replications</h2>\n<table>\n", f);
    head_row(f, "<class|runs|mean download time (s)|median download time (s)|completed fraction|"
                "share ratio|upload utilisation|bytes up (MB)|bytes down (MB)");
    for (size_t i = 0; i < r->ncls; i++) {
        const json_t *c = json_object_get(reps, r->cls[i].name);
        if (c == NULL)
            continue;
        fputs("<tr>", f);
        cell_text(f, r->cls[i].name);
        cell_num(f, json_object_get(json_object_get(c, "bytes_up"), "runs"), 4);
        for (size_t m = 0; m < sizeof(rep_metrics) / sizeof(rep_metrics[0]); m++)
            rep_cell(f, r->cls[i].seed && m == 3 ? NULL : json_object_get(c, rep_metrics[m]),
                     m >= 5);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n<p>Each cell: the mean over the runs and, below it, its 95% confidence "
          "interval [low, high] (Student's t). Download times: completed leechers of each run; "
          "&ndash;: no run had one.</p>\n",
          f);
}

void rpt_html_pooled(FILE *f, const rpt_run *r, const rpt_pooled *st, size_t nruns)
{
    fprintf(f, "<h2>Download times pooled over the %zu runs</h2>\n<table>\n", nruns);
    head_row(f, "<class|leechers|completed|download mean (s)|download median (s)|"
                "download p5 (s)|download p95 (s)");
    for (size_t k = 0; k < r->ncls; k++) {
        if (st[k].members == 0)
            continue;
        fputs("<tr>", f);
        cell_text(f, r->cls[k].name);
        fprintf(f, "<td>%llu</td><td>%llu</td>", (unsigned long long)st[k].members,
                (unsigned long long)st[k].done);
        const double v[] = {st[k].mean_s, st[k].median_s, st[k].p5_s, st[k].p95_s};
        for (size_t i = 0; i < 4; i++) {
            fputs("<td>", f);
            put_double(f, v[i], 4);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n<p>Every leecher of every run in one sample (quantiles: nearest rank); "
          "the CDF below draws the same sample.</p>\n",
          f);
}
