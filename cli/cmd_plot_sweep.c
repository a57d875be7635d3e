/* cli/cmd_plot_sweep.c: `swarmlab plot DIR` for a sweep directory (DIR/sweep.json): mean
 * download time per class against the first varied key, one figure per combination of the
 * other keys' values (plots/sweep.gp, fed through a pipe to gnuplot), and DIR/index.html. */
#include "cli.h"
#include "report.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True if the space-separated |list| holds |word|. */
static bool has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *w = list; (w = strstr(w, word)) != NULL; w++)
        if ((w == list || w[-1] == ' ') && (w[n] == ' ' || w[n] == '\0'))
            return true;
    return false;
}

/* The leecher classes (those with a mean download time somewhere), space-separated. */
static int leecher_classes(json_t *points, char *out, size_t outlen)
{
    size_t len = 0, i;
    json_t *pt;
    out[0] = '\0';
    json_array_foreach(points, i, pt)
    {
        const char *name;
        json_t *c;
        json_object_foreach(json_object_get(pt, "classes"), name, c)
        {
            json_t *mean = json_object_get(json_object_get(c, "download_time_s"), "mean");
            if (!json_is_number(mean) || has_word(out, name))
                continue;
            bool safe = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789_-") == strlen(name);
            if (!safe || len + strlen(name) + 2 >= outlen)
                return -1;
            len += (size_t)snprintf(out + len, outlen - len, "%s%s", len ? " " : "", name);
        }
    }
    return 0;
}

/* The x positions (from the first key's axis) and the x label. */
static void x_axis(json_t *v0, char *xs, size_t xslen, char *xlab, size_t xlablen)
{
    json_t *axis = json_object_get(v0, "axis"), *x;
    const char *key = json_string_value(json_object_get(v0, "key"));
    const char *unit = json_string_value(json_object_get(axis, "unit"));
    size_t len = 0, i;
    xs[0] = '\0';
    json_array_foreach(json_object_get(axis, "x"), i, x)
    {
        int n = snprintf(xs + len, xslen - len, "%s%.10g", len ? " " : "", json_number_value(x));
        if (n < 0 || (size_t)n >= xslen - len) {
            xs[0] = '\0'; /* too long: place evenly */
            break;
        }
        len += (size_t)n;
    }
    if (unit != NULL && unit[0] != '\0' && xs[0] != '\0')
        snprintf(xlab, xlablen, "%s (%s)", key != NULL ? key : "?", unit);
    else
        snprintf(xlab, xlablen, "%s", key != NULL ? key : "?");
}

/* "key2=value, key3=value" of figure |fig| (whose first point is point |fig|). */
static void subtitle(json_t *vary, json_t *pt, char *out, size_t outlen)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t v = 1; v < json_array_size(vary) && len < outlen; v++) {
        const char *key = json_string_value(json_object_get(json_array_get(vary, v), "key"));
        const char *val = json_string_value(json_array_get(json_object_get(pt, "values"), v));
        int n = snprintf(out + len, outlen - len, "%s%s=%s", len ? ", " : "", key ? key : "?",
                         val ? val : "?");
        len = n < 0 ? outlen : len + (size_t)n;
    }
}

/* "mean ± ci" of one metric of one class of one point (|scale| divides). */
static void metric_cell(FILE *f, const json_t *m, int digits)
{
    fputs("<td>", f);
    rpt_html_num(f, json_object_get(m, "mean"), digits);
    if (json_is_number(json_object_get(m, "mean")) && json_is_number(json_object_get(m, "ci95"))) {
        fputs(" &plusmn; ", f);
        rpt_html_num(f, json_object_get(m, "ci95"), 2);
    }
    fputs("</td>", f);
}

/* One row per point and class: the varied values, then the means with their CI half-widths. */
static void points_table(FILE *f, json_t *root)
{
    static const char *const m[] = {"download_time_s", "completed_fraction", "share_ratio",
                                    "upload_utilisation"};
    json_t *vary = json_object_get(root, "vary"), *points = json_object_get(root, "points"), *pt;
    size_t i, v;
    json_t *x;
    fputs("<h2>Points</h2>\n<table>\n<tr><th class=\"l\">point</th>", f);
    json_array_foreach(vary, v, x)
    {
        fputs("<th class=\"l\">", f);
        rpt_html_put(f, json_is_string(json_object_get(x, "key"))
                            ? json_string_value(json_object_get(x, "key"))
                            : "?");
        fputs("</th>", f);
    }
    fputs("<th class=\"l\">class</th><th>runs</th><th>mean download time (s)</th>"
          "<th>completed fraction</th><th>share ratio</th><th>upload utilisation</th></tr>\n",
          f);
    json_array_foreach(points, i, pt)
    {
        const char *name;
        json_t *c;
        json_object_foreach(json_object_get(pt, "classes"), name, c)
        {
            fprintf(f, "<tr><td class=\"l\"><a href=\"points/%zu/\">%zu</a></td>", i, i);
            json_array_foreach(json_object_get(pt, "values"), v, x)
            {
                fputs("<td class=\"l\">", f);
                rpt_html_put(f, json_is_string(x) ? json_string_value(x) : "?");
                fputs("</td>", f);
            }
            fputs("<td class=\"l\">", f);
            rpt_html_put(f, name);
            fputs("</td><td>", f);
            rpt_html_num(f, json_object_get(c, "n"), 6);
            fputs("</td>", f);
            for (size_t k = 0; k < 4; k++)
                metric_cell(f, json_object_get(c, m[k]), 4);
            fputs("</tr>\n", f);
        }
    }
    fputs("</table>\n<p>Mean over the point's runs &plusmn; the half-width of its 95% "
          "confidence interval (Student's t); &ndash;: not defined (no completions, or one run "
          "per point).</p>\n",
          f);
}

/* DIR/index.html: every figure, captioned with the other keys' values, and the points table. */
static int write_index(const char *dir, json_t *root, size_t nfig)
{
    char title[512], stem[256];
    const char *sc = json_string_value(json_object_get(root, "scenario"));
    cli_scenario_stem(sc != NULL ? sc : "sweep", stem, sizeof(stem));
    snprintf(title, sizeof(title), "swarmlab sweep: %s, %zu points, %lld replication(s) each", stem,
             json_array_size(json_object_get(root, "points")),
             (long long)json_integer_value(json_object_get(root, "replications")));
    FILE *f = cli_plot_index_open(dir, title);
    if (f == NULL)
        return -1;
    json_t *vary = json_object_get(root, "vary"), *points = json_object_get(root, "points");
    char sub[1024], name[64];
    fputs("<h2>Figures</h2>\n", f);
    for (size_t j = 0; j < nfig; j++) {
        subtitle(vary, json_array_get(points, j), sub, sizeof(sub));
        snprintf(name, sizeof(name), nfig == 1 ? "sweep" : "sweep-%zu", j);
        char cap[1200];
        snprintf(cap, sizeof(cap), "Mean download time per class with 95%% CI bars%s%s",
                 sub[0] != '\0' ? ": " : "", sub);
        rpt_html_figure(f, dir, "", name, cap);
    }
    points_table(f, root);
    fputs("<h2>Data</h2>\n<p><a href=\"sweep.tsv\">sweep.tsv</a>, <a href=\"sweep.json\">"
          "sweep.json</a>; each point's runs under points/N/ (replications.tsv, rep-SEED/).</p>\n",
          f);
    return rpt_html_close(f, dir);
}

/* The classes of DIR/points/0/scenario.ini in file order (the colours of the run reports). */
static void scenario_classes(const char *dir, char *out, size_t outlen)
{
    char path[RPT_PATH + 32], line[256];
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/points/0/scenario.ini", dir);
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "[class ", 7) != 0)
            continue;
        const char *name = line + 7;
        size_t n = strcspn(name, "]");
        bool safe = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789_-") == n;
        if (name[n] == ']' && n > 0 && safe && len + n + 2 < outlen)
            len +=
                (size_t)snprintf(out + len, outlen - len, "%s%.*s", len ? " " : "", (int)n, name);
    }
    if (f != NULL)
        fclose(f);
}

/* Feeds gnuplot the variables of every figure and loads sweep.gp for each. */
static int draw(FILE *gp, const char *dir, const char *plots, json_t *root, size_t *nfig)
{
    json_t *vary = json_object_get(root, "vary"), *points = json_object_get(root, "points");
    size_t nvary = json_array_size(vary), npoints = json_array_size(points);
    size_t n1 = json_array_size(json_object_get(json_array_get(vary, 0), "values"));
    char classes[2048], xs[8192], xlab[256], sub[1024], out[64];
    if (nvary == 0 || n1 == 0 || npoints == 0 || npoints % n1 != 0 ||
        leecher_classes(points, classes, sizeof(classes)) != 0 || classes[0] == '\0')
        return -1;
    x_axis(json_array_get(vary, 0), xs, sizeof(xs), xlab, sizeof(xlab));
    rpt_gp_str(gp, "dir", dir);
    rpt_gp_str(gp, "classes", classes);
    char colours[4096];
    scenario_classes(dir, colours, sizeof(colours));
    if (colours[0] != '\0')
        rpt_gp_str(gp, "colours", colours);
    rpt_gp_str(gp, "xs", xs);
    rpt_gp_str(gp, "xlab", xlab);
    fprintf(gp, "stride = %zu\nnx = %zu\nkcol = %zu\nmcol = %zu\nreps = %d\n", npoints / n1, n1,
            nvary + 2, nvary + 4, (int)json_integer_value(json_object_get(root, "replications")));
    *nfig = npoints / n1;
    for (size_t j = 0; j < *nfig; j++) {
        subtitle(vary, json_array_get(points, j), sub, sizeof(sub));
        if (*nfig == 1)
            snprintf(out, sizeof(out), "sweep");
        else
            snprintf(out, sizeof(out), "sweep-%zu", j);
        fprintf(gp, "fig = %zu\n", j);
        rpt_gp_str(gp, "out", out);
        rpt_gp_str(gp, "subtitle", sub);
        rpt_gp_load(gp, plots, "sweep.gp");
    }
    return 0;
}

int cli_plot_sweep(const char *dir, const char *plots)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/sweep.json", dir);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (root == NULL) {
        fprintf(stderr, "swarmlab plot: %s:%d: %s\n", path, je.line, je.text);
        return CLI_FAIL;
    }
    FILE *gp = rpt_gp_open();
    size_t nfig = 0;
    int rv = gp != NULL ? draw(gp, dir, plots, root, &nfig) : -1;
    if (rv != 0)
        fprintf(stderr, "swarmlab plot: %s: no varied key or no leecher class with completions\n",
                path);
    if (gp != NULL && rpt_gp_close(gp) != 0)
        rv = -1;
    if (rv == 0 && write_index(dir, root, nfig) != 0)
        rv = -1;
    json_decref(root);
    if (rv == 0)
        printf("report: %s/index.html (figures: %s.png and .svg, %zu figure%s)\n", dir,
               nfig == 1 ? "sweep" : "sweep-*", nfig, nfig == 1 ? "" : "s");
    return rv == 0 ? CLI_OK : CLI_FAIL;
}
