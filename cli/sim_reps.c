/* cli/sim_reps.c: batches of runs (serially or in parallel child processes) and their
 * aggregation into per-class means with 95% confidence intervals (sim_stats). Aggregation
 * reads each run's summary.json in job order, so the result does not depend on -j. */
#include "sim_reps.h"
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CLASSES 256

static const char *const metric_names[SIM_NMETRICS] = {
    "download_time_s", "download_time_median_s", "completed_fraction",
    "share_ratio",     "upload_utilisation",     "bytes_up",
    "bytes_down"};

const char *sim_reps_metric_name(int m)
{
    return m >= 0 && m < SIM_NMETRICS ? metric_names[m] : "?";
}

/* ---- the job runner ------------------------------------------------------------------- */

static int job_failed(int st)
{
    return !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

size_t sim_jobs_run(size_t n, uint32_t jobs, sim_job_fn fn, const void *ctx,
                    sim_job_progress_fn progress, void *pctx)
{
    size_t failed = 0, done = 0;
    uint32_t running = 0;
    for (size_t i = 0; i < n; i++) {
        if (jobs <= 1) {
            failed += fn(ctx, i) != CLI_OK;
            if (progress != NULL)
                progress(pctx, ++done, n);
            continue;
        }
        if (running == jobs) {
            int st;
            if (wait(&st) > 0)
                failed += job_failed(st);
            running--;
            if (progress != NULL)
                progress(pctx, ++done, n);
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            int rv = fn(ctx, i);
            fflush(NULL);
            _exit(rv);
        }
        if (pid < 0) {
            fprintf(stderr, "swarmlab: fork: %s\n", strerror(errno));
            failed++;
            done++;
        } else {
            running++;
        }
    }
    for (int st; running > 0 && wait(&st) > 0; running--) {
        failed += job_failed(st);
        if (progress != NULL)
            progress(pctx, ++done, n);
    }
    return failed;
}

/* ---- aggregation ---------------------------------------------------------------------- */

struct sim_reps_agg {
    uint32_t maxruns, nclasses;
    char names[MAX_CLASSES][64];
    uint32_t runs[MAX_CLASSES];
    double *v[MAX_CLASSES][SIM_NMETRICS]; /* one value per run */
    uint32_t n[MAX_CLASSES][SIM_NMETRICS];
};

sim_reps_agg *sim_reps_agg_new(uint32_t maxruns)
{
    sim_reps_agg *a = calloc(1, sizeof(*a));
    if (a != NULL)
        a->maxruns = maxruns;
    return a;
}

void sim_reps_agg_del(sim_reps_agg *a)
{
    for (uint32_t k = 0; a != NULL && k < a->nclasses; k++)
        for (int m = 0; m < SIM_NMETRICS; m++)
            free(a->v[k][m]);
    free(a);
}

uint32_t sim_reps_agg_nclasses(const sim_reps_agg *a)
{
    return a->nclasses;
}
const char *sim_reps_agg_class(const sim_reps_agg *a, uint32_t k)
{
    return a->names[k];
}
uint32_t sim_reps_agg_runs(const sim_reps_agg *a, uint32_t k)
{
    return a->runs[k];
}

void sim_reps_agg_ci(const sim_reps_agg *a, uint32_t k, int m, sim_ci *out)
{
    sim_ci_compute(a->v[k][m], a->n[k][m], 0.95, out);
}

static int class_index(sim_reps_agg *a, const char *name)
{
    for (uint32_t k = 0; k < a->nclasses; k++)
        if (strcmp(a->names[k], name) == 0)
            return (int)k;
    if (a->nclasses == MAX_CLASSES)
        return -1;
    snprintf(a->names[a->nclasses], sizeof(a->names[0]), "%s", name);
    return (int)a->nclasses++;
}

static int add_value(sim_reps_agg *a, int k, int m, double x)
{
    if (a->n[k][m] == a->maxruns)
        return -1;
    if (a->v[k][m] == NULL && (a->v[k][m] = calloc(a->maxruns, sizeof(double))) == NULL)
        return -1;
    a->v[k][m][a->n[k][m]++] = x;
    return 0;
}

/* Adds one class object of a summary.json. */
static int add_class(sim_reps_agg *a, int k, json_t *c)
{
    const char *role = json_string_value(json_object_get(c, "role"));
    bool leecher = role == NULL || strcmp(role, "seed") != 0;
    double peers = (double)json_integer_value(json_object_get(c, "peers"));
    double done = (double)json_integer_value(json_object_get(c, "completed"));
    json_t *dt = json_object_get(c, "download_time_s");
    int rv = 0;
    a->runs[k]++;
    if (leecher && done > 0) {
        rv |= add_value(a, k, SIM_M_DOWNLOAD_TIME, json_real_value(json_object_get(dt, "mean")));
        rv |=
            add_value(a, k, SIM_M_DOWNLOAD_MEDIAN, json_real_value(json_object_get(dt, "median")));
    }
    /* Old summaries name no role: count completion only where some peer completed. */
    if (leecher && peers > 0 && (role != NULL || done > 0))
        rv |= add_value(a, k, SIM_M_COMPLETED, done / peers);
    rv |= add_value(a, k, SIM_M_SHARE_RATIO, json_real_value(json_object_get(c, "share_ratio")));
    rv |= add_value(a, k, SIM_M_UPLOAD_UTIL,
                    json_real_value(json_object_get(c, "upload_utilisation")));
    rv |=
        add_value(a, k, SIM_M_BYTES_UP, (double)json_integer_value(json_object_get(c, "bytes_up")));
    rv |= add_value(a, k, SIM_M_BYTES_DOWN,
                    (double)json_integer_value(json_object_get(c, "bytes_down")));
    return rv;
}

int sim_reps_agg_add(sim_reps_agg *a, const char *path)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (root == NULL) {
        fprintf(stderr, "swarmlab: %s:%d: %s\n", path, je.line, je.text);
        return -1;
    }
    const char *name;
    json_t *c;
    int rv = 0;
    json_object_foreach(json_object_get(root, "classes"), name, c)
    {
        int k = class_index(a, name);
        if (k < 0 || add_class(a, k, c) != 0) {
            fprintf(stderr, "swarmlab: %s: too many classes or runs, or out of memory\n", path);
            rv = -1;
            break;
        }
    }
    json_decref(root);
    return rv;
}

/* ---- replications.tsv / replications.json ------------------------------------------- */

static void write_metric(const sim_reps_agg *a, uint32_t k, int m, FILE *f, json_t *jc, bool print)
{
    sim_ci ci;
    sim_reps_agg_ci(a, k, m, &ci);
    double lo = isnan(ci.half) ? ci.mean : ci.mean - ci.half;
    double hi = isnan(ci.half) ? ci.mean : ci.mean + ci.half;
    fprintf(f, "%s\t%s\t%u\t%.6f\t%.6f\t%.6f\t%.6f\n", a->names[k], metric_names[m], ci.n, ci.mean,
            ci.sd, lo, hi);
    if (print)
        printf("%-12s %-22s %5u %14.4f %14.4f   [%.4f, %.4f]\n", a->names[k], metric_names[m], ci.n,
               ci.mean, ci.sd, lo, hi);
    json_t *jm = json_object();
    json_object_set_new(jm, "runs", json_integer(ci.n));
    json_object_set_new(jm, "mean", json_real(ci.mean));
    json_object_set_new(jm, "sd", json_real(ci.sd));
    json_object_set_new(jm, "ci95", json_pack("[ff]", lo, hi));
    json_object_set_new(jc, metric_names[m], jm);
}

int sim_reps_write(const sim_reps_agg *a, const char *dir, bool print)
{
    char path[4352], jpath[4352];
    snprintf(path, sizeof(path), "%s/replications.tsv", dir);
    snprintf(jpath, sizeof(jpath), "%s/replications.json", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "swarmlab: %s: %s\n", path, strerror(errno));
        return -1;
    }
    json_t *root = json_object();
    fprintf(f, "# class\tmetric\truns\tmean\tsd\tci95_low\tci95_high\n");
    if (print)
        printf("%-12s %-22s %5s %14s %14s   95%% CI\n", "class", "metric", "runs", "mean", "sd");
    for (uint32_t k = 0; k < a->nclasses; k++) {
        json_t *jc = json_object();
        for (int m = 0; m < SIM_NMETRICS; m++)
            if (a->n[k][m] > 0)
                write_metric(a, k, m, f, jc, print);
        json_object_set_new(root, a->names[k], jc);
    }
    int rv = fclose(f) == 0 ? 0 : -1;
    if (json_dump_file(root, jpath, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
        fprintf(stderr, "swarmlab: %s: cannot write\n", jpath);
        rv = -1;
    }
    json_decref(root);
    if (rv == 0 && print)
        printf("replications: %s %s\n", path, jpath);
    return rv;
}

/* ---- swarmlab sim --replications ------------------------------------------------------ */

typedef struct reps_ctx {
    const sim_run_opts *o;
    const char *dir;
    uint64_t base;
} reps_ctx;

static int rep_job(const void *ctx, size_t i)
{
    const reps_ctx *r = ctx;
    char rd[4352];
    snprintf(rd, sizeof(rd), "%s/rep-%llu", r->dir, (unsigned long long)(r->base + i));
    return sim_run_one(r->o, r->base + i, rd, SIM_RUN_BRIEF);
}

int sim_reps_run(const sim_run_opts *o, const char *dir, uint64_t base_seed, uint32_t reps,
                 uint32_t jobs)
{
    reps_ctx r = {o, dir, base_seed};
    size_t failed = sim_jobs_run(reps, jobs, rep_job, &r, NULL, NULL);
    if (failed > 0) {
        fprintf(stderr, "swarmlab sim: %zu of %u replications failed\n", failed, reps);
        return CLI_FAIL;
    }
    sim_reps_agg *a = sim_reps_agg_new(reps);
    int rv = a != NULL ? 0 : -1;
    char path[4352];
    for (uint32_t k = 0; rv == 0 && k < reps; k++) {
        snprintf(path, sizeof(path), "%s/rep-%llu/summary.json", dir,
                 (unsigned long long)(base_seed + k));
        rv = sim_reps_agg_add(a, path);
    }
    if (rv == 0)
        rv = sim_reps_write(a, dir, true);
    sim_reps_agg_del(a);
    return rv == 0 ? CLI_OK : CLI_FAIL;
}
