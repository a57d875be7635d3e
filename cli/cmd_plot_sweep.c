/* cli/cmd_plot_sweep.c: `swarmlab plot DIR` for a sweep directory (DIR/sweep.json): mean
 * download time per class against the first varied key, one figure per combination of the
 * other keys' values (plots/sweep.gp, fed through a pipe to gnuplot), and DIR/index.html. */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes 'value' and a newline to gnuplot, doubling single quotes (gnuplot's escape). */
static void gp_quote(FILE *gp, const char *value)
{
    fputc('\'', gp);
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '\'')
            fputc('\'', gp);
        fputc((unsigned char)*p < 0x20 ? ' ' : *p, gp);
    }
    fputs("'\n", gp);
}

static void gp_str(FILE *gp, const char *name, const char *value)
{
    fprintf(gp, "%s = ", name);
    gp_quote(gp, value);
}

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

/* Writes |s| with HTML's special characters escaped. */
static void html_put(FILE *f, const char *s)
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
        default:
            fputc(*s, f);
        }
    }
}

/* DIR/index.html: every figure, captioned with the other keys' values. */
static int write_index(const char *dir, json_t *root, size_t nfig)
{
    FILE *f = cli_plot_index_open(dir, "swarmlab sweep");
    if (f == NULL)
        return -1;
    json_t *vary = json_object_get(root, "vary"), *points = json_object_get(root, "points");
    char sub[1024];
    for (size_t j = 0; j < nfig; j++) {
        subtitle(vary, json_array_get(points, j), sub, sizeof(sub));
        if (nfig == 1)
            fprintf(f, "<figure><img src=\"sweep.svg\" alt=\"mean download time per class\">");
        else
            fprintf(f, "<figure><img src=\"sweep-%zu.svg\" alt=\"mean download time per class\">",
                    j);
        fputs("<figcaption>", f);
        html_put(f, sub[0] != '\0' ? sub : "mean download time per class");
        fputs("</figcaption></figure>\n", f);
    }
    fprintf(f, "<p>Data: <a href=\"sweep.tsv\">sweep.tsv</a>, <a href=\"sweep.json\">sweep.json"
               "</a>; each point's runs under points/</p>\n</body></html>\n");
    return fclose(f) == 0 ? 0 : -1;
}

/* Feeds gnuplot the variables of every figure and loads sweep.gp for each. */
static int draw(FILE *gp, const char *dir, const char *plots, json_t *root, size_t *nfig)
{
    json_t *vary = json_object_get(root, "vary"), *points = json_object_get(root, "points");
    size_t nvary = json_array_size(vary), npoints = json_array_size(points);
    size_t n1 = json_array_size(json_object_get(json_array_get(vary, 0), "values"));
    char classes[2048], xs[8192], xlab[256], sub[1024], out[64], script[4200];
    if (nvary == 0 || n1 == 0 || npoints == 0 || npoints % n1 != 0 ||
        leecher_classes(points, classes, sizeof(classes)) != 0 || classes[0] == '\0')
        return -1;
    x_axis(json_array_get(vary, 0), xs, sizeof(xs), xlab, sizeof(xlab));
    snprintf(script, sizeof(script), "%s/sweep.gp", plots);
    gp_str(gp, "dir", dir);
    gp_str(gp, "classes", classes);
    gp_str(gp, "xs", xs);
    gp_str(gp, "xlab", xlab);
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
        gp_str(gp, "out", out);
        gp_str(gp, "subtitle", sub);
        fputs("load ", gp);
        gp_quote(gp, script);
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
    fflush(NULL);
    FILE *gp = popen("gnuplot", "w");
    size_t nfig = 0;
    int rv = gp != NULL ? draw(gp, dir, plots, root, &nfig) : -1;
    if (rv != 0)
        fprintf(stderr, "swarmlab plot: %s: no varied key or no leecher class with completions\n",
                path);
    if (gp != NULL && pclose(gp) != 0) {
        fprintf(stderr, "swarmlab plot: gnuplot failed (is gnuplot-nox installed?)\n");
        rv = -1;
    }
    if (rv == 0 && write_index(dir, root, nfig) != 0)
        rv = -1;
    json_decref(root);
    if (rv == 0)
        printf("figures: %s/%s.png (and .svg, %zu figure%s), %s/index.html\n", dir,
               nfig == 1 ? "sweep" : "sweep-*", nfig, nfig == 1 ? "" : "s", dir);
    return rv == 0 ? CLI_OK : CLI_FAIL;
}
