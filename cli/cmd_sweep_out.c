/* cli/cmd_sweep_out.c: a sweep's tables: sweep.tsv (a row per point and class: the varied
 * values as written, n, and per metric the mean and the 95% CI half-width) and sweep.json
 * (the same, plus each varied key's numeric axis for plots). Reads the runs' summary.json in
 * point and seed order, so the tables do not depend on -j. */
#include "cli.h"
#include "cmd_sweep.h"
#include "sim_units.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- numeric axes ------------------------------------------------------------------------ */

static int ax_real(const char *s, double *x)
{
    char err[160];
    return sim_units_parse_real(s, strlen(s), x, err, sizeof(err));
}

static int ax_rate(const char *s, double *x)
{
    char err[160];
    uint64_t v = 0;
    int rc = sim_units_parse_rate(s, strlen(s), &v, err, sizeof(err));
    *x = (double)v * 8.0 / 1e6;
    return rc;
}

static int ax_size(const char *s, double *x)
{
    char err[160];
    uint64_t v = 0;
    int rc = sim_units_parse_size(s, strlen(s), &v, err, sizeof(err));
    *x = (double)v / 1048576.0;
    return rc;
}

static int ax_time(const char *s, double *x)
{
    char err[160];
    bt_time_us v = 0;
    int rc = sim_units_parse_time(s, strlen(s), false, &v, err, sizeof(err));
    *x = (double)v / 1e6;
    return rc;
}

static int ax_arate(const char *s, double *x)
{
    char err[160];
    return sim_units_parse_arrival_rate(s, strlen(s), x, err, sizeof(err));
}

static int ax_fraction(const char *s, double *x)
{
    char err[160];
    return sim_units_parse_fraction(s, strlen(s), x, err, sizeof(err));
}

static const struct {
    const char *unit;
    int (*parse)(const char *s, double *x);
} axes[] = {{"", ax_real},  {"Mbit/s", ax_rate}, {"MiB", ax_size},
            {"s", ax_time}, {"1/s", ax_arate},   {"fraction", ax_fraction}};

/* {"unit": U, "x": [...]} when every value of |v| reads as one kind of quantity (plain
 * numbers, rates in Mbit/s, sizes in MiB, times in s, arrival rates, fractions); else null. */
static json_t *axis_json(const sweep_vary *v)
{
    for (size_t k = 0; k < sizeof(axes) / sizeof(axes[0]); k++) {
        json_t *xs = json_array();
        size_t i = 0;
        for (double x = 0; i < v->n && axes[k].parse(v->values[i], &x) == 0; i++)
            json_array_append_new(xs, json_real(x));
        if (i == v->n)
            return json_pack("{s:s, s:o}", "unit", axes[k].unit, "x", xs);
        json_decref(xs);
    }
    return json_null();
}

/* ---- tables ------------------------------------------------------------------------------ */

static void put_num(FILE *f, double x)
{
    if (isnan(x))
        fputs("\tnan", f);
    else
        fprintf(f, "\t%.6f", x);
}

static json_t *jnum(double x)
{
    return isnan(x) ? json_null() : json_real(x);
}

static void tsv_header(const sweep *s, FILE *f)
{
    fprintf(f, "point");
    for (size_t v = 0; v < s->nvary; v++)
        fprintf(f, "\t%s", s->vary[v].key);
    fprintf(f, "\tclass\tn");
    for (int m = 0; m < SIM_NMETRICS; m++)
        fprintf(f, "\t%s_mean\t%s_ci95", sim_reps_metric_name(m), sim_reps_metric_name(m));
    fputc('\n', f);
}

/* Writes point |p|'s rows (one per class of |a|) and returns its classes as JSON. */
static json_t *point_rows(const sweep *s, size_t p, const sim_reps_agg *a, FILE *f)
{
    json_t *classes = json_object();
    for (uint32_t k = 0; k < sim_reps_agg_nclasses(a); k++) {
        fprintf(f, "%zu", p);
        for (size_t v = 0; v < s->nvary; v++)
            fprintf(f, "\t%s", s->vary[v].values[sweep_value_index(s, p, v)]);
        fprintf(f, "\t%s\t%u", sim_reps_agg_class(a, k), sim_reps_agg_runs(a, k));
        json_t *jc = json_object();
        json_object_set_new(jc, "n", json_integer(sim_reps_agg_runs(a, k)));
        for (int m = 0; m < SIM_NMETRICS; m++) {
            sim_ci ci;
            sim_reps_agg_ci(a, k, m, &ci);
            put_num(f, ci.mean);
            put_num(f, ci.half);
            json_object_set_new(jc, sim_reps_metric_name(m),
                                json_pack("{s:o, s:o, s:i}", "mean", jnum(ci.mean), "ci95",
                                          jnum(ci.half), "runs", (int)ci.n));
        }
        fputc('\n', f);
        json_object_set_new(classes, sim_reps_agg_class(a, k), jc);
    }
    return classes;
}

/* Aggregates point |p|'s replications and writes its replications.{tsv,json}. */
static sim_reps_agg *aggregate_point(const sweep *s, size_t p)
{
    sim_reps_agg *a = sim_reps_agg_new(s->reps);
    if (a == NULL) {
        fprintf(stderr, "swarmlab sweep: out of memory\n");
        return NULL;
    }
    char path[4480];
    for (uint32_t r = 0; r < s->reps; r++) {
        sweep_rep_dir(s, p, r, path, sizeof(path) - 16);
        strcat(path, "/summary.json");
        if (sim_reps_agg_add(a, path) != 0) {
            sim_reps_agg_del(a);
            return NULL;
        }
    }
    snprintf(path, sizeof(path), "%s/points/%zu", s->dir, p);
    if (sim_reps_write(a, path, false) != 0) {
        sim_reps_agg_del(a);
        return NULL;
    }
    return a;
}

/* The sweep's description: scenario, seed, replications, overrides, varied keys, metrics. */
static json_t *header_json(const sweep *s)
{
    json_t *sets = json_array(), *vary = json_array(), *metrics = json_array();
    for (size_t i = 0; i < s->nsets; i++)
        json_array_append_new(sets, json_string(s->sets[i]));
    for (size_t v = 0; v < s->nvary; v++) {
        json_t *vals = json_array();
        for (size_t j = 0; j < s->vary[v].n; j++)
            json_array_append_new(vals, json_string(s->vary[v].values[j]));
        json_array_append_new(vary, json_pack("{s:s, s:o, s:o}", "key", s->vary[v].key, "values",
                                              vals, "axis", axis_json(&s->vary[v])));
    }
    for (int m = 0; m < SIM_NMETRICS; m++)
        json_array_append_new(metrics, json_string(sim_reps_metric_name(m)));
    return json_pack("{s:s, s:I, s:i, s:o, s:o, s:o}", "scenario", s->scenario, "seed",
                     (json_int_t)s->seed, "replications", (int)s->reps, "sets", sets, "vary", vary,
                     "metrics", metrics);
}

static json_t *point_json(const sweep *s, size_t p, json_t *classes)
{
    char dir[64];
    snprintf(dir, sizeof(dir), "points/%zu", p);
    json_t *vals = json_array();
    for (size_t v = 0; v < s->nvary; v++)
        json_array_append_new(vals, json_string(s->vary[v].values[sweep_value_index(s, p, v)]));
    return json_pack("{s:I, s:s, s:o, s:o}", "index", (json_int_t)p, "dir", dir, "values", vals,
                     "classes", classes);
}

int sweep_write(const sweep *s)
{
    char path[4352], jpath[4352];
    snprintf(path, sizeof(path), "%s/sweep.tsv", s->dir);
    snprintf(jpath, sizeof(jpath), "%s/sweep.json", s->dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "swarmlab sweep: %s: %s\n", path, strerror(errno));
        return -1;
    }
    json_t *root = header_json(s), *points = json_array();
    int rv = root != NULL && points != NULL ? 0 : -1;
    tsv_header(s, f);
    for (size_t p = 0; rv == 0 && p < s->npoints; p++) {
        sim_reps_agg *a = aggregate_point(s, p);
        if (a == NULL) {
            rv = -1;
            break;
        }
        json_array_append_new(points, point_json(s, p, point_rows(s, p, a, f)));
        sim_reps_agg_del(a);
    }
    if (fclose(f) != 0 && rv == 0) {
        fprintf(stderr, "swarmlab sweep: %s: write error\n", path);
        rv = -1;
    }
    if (rv == 0 && (json_object_set(root, "points", points) != 0 ||
                    json_dump_file(root, jpath, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)) {
        fprintf(stderr, "swarmlab sweep: %s: cannot write\n", jpath);
        rv = -1;
    }
    json_decref(points);
    json_decref(root);
    return rv;
}
