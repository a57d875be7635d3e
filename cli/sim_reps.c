/* cli/sim_reps.c: replications of a scenario over consecutive seeds, run serially or in
 * parallel child processes, and their aggregation into per-class means with 95% confidence
 * intervals (sim_stats). Aggregation reads each run's summary.json in seed order, so the
 * result does not depend on -j. */
#include "cli.h"
#include "sim_reps.h"
#include "sim_stats.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CLASSES 256
#define NMETRICS 4

static const char *const metric_names[NMETRICS] = {"download_time_s", "completed_fraction",
                                                   "share_ratio", "upload_utilisation"};

static void rep_dir(char *out, size_t len, const char *dir, uint64_t seed)
{
    snprintf(out, len, "%s/rep-%llu", dir, (unsigned long long)seed);
}

/* Starts or runs every replication; returns the number that failed. */
static uint32_t run_all(const void *opts, const char *dir, uint64_t base, uint32_t reps,
                        uint32_t jobs)
{
    uint32_t failed = 0, running = 0;
    char rd[4096];
    for (uint32_t k = 0; k < reps; k++) {
        rep_dir(rd, sizeof(rd), dir, base + k);
        if (jobs <= 1) {
            failed += sim_run_one(opts, base + k, rd, 1) != CLI_OK;
            continue;
        }
        if (running == jobs) {
            int st;
            if (wait(&st) > 0)
                failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
            running--;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0)
            _exit(sim_run_one(opts, base + k, rd, 1));
        if (pid < 0) {
            fprintf(stderr, "swarmlab sim: fork: %s\n", strerror(errno));
            failed++;
        } else {
            running++;
        }
    }
    for (int st; running > 0 && wait(&st) > 0; running--)
        failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return failed;
}

typedef struct agg {
    char names[MAX_CLASSES][64];
    uint32_t nclasses;
    double *v[MAX_CLASSES][NMETRICS]; /* one value per run */
    uint32_t n[MAX_CLASSES][NMETRICS];
} agg;

static int class_index(agg *a, const char *name)
{
    for (uint32_t k = 0; k < a->nclasses; k++)
        if (strcmp(a->names[k], name) == 0)
            return (int)k;
    if (a->nclasses == MAX_CLASSES)
        return -1;
    snprintf(a->names[a->nclasses], sizeof(a->names[0]), "%s", name);
    return (int)a->nclasses++;
}

static void add_value(agg *a, int k, int m, double x, uint32_t reps)
{
    if (a->v[k][m] == NULL && (a->v[k][m] = calloc(reps, sizeof(double))) == NULL)
        return;
    a->v[k][m][a->n[k][m]++] = x;
}

/* Adds one run's summary.json to |a|. */
static int add_run(agg *a, const char *path, uint32_t reps)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (root == NULL) {
        fprintf(stderr, "swarmlab sim: %s:%d: %s\n", path, je.line, je.text);
        return -1;
    }
    const char *name;
    json_t *c;
    json_object_foreach(json_object_get(root, "classes"), name, c)
    {
        int k = class_index(a, name);
        if (k < 0)
            continue;
        double peers = (double)json_integer_value(json_object_get(c, "peers"));
        double done = (double)json_integer_value(json_object_get(c, "completed"));
        if (done > 0) {
            json_t *dt = json_object_get(c, "download_time_s");
            add_value(a, k, 0, json_real_value(json_object_get(dt, "mean")), reps);
            add_value(a, k, 1, peers > 0 ? done / peers : 0, reps);
        }
        add_value(a, k, 2, json_real_value(json_object_get(c, "share_ratio")), reps);
        add_value(a, k, 3, json_real_value(json_object_get(c, "upload_utilisation")), reps);
    }
    json_decref(root);
    return 0;
}

static int write_tables(const agg *a, const char *dir)
{
    char path[4352], jpath[4352];
    snprintf(path, sizeof(path), "%s/replications.tsv", dir);
    snprintf(jpath, sizeof(jpath), "%s/replications.json", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "swarmlab sim: %s: %s\n", path, strerror(errno));
        return -1;
    }
    json_t *root = json_object();
    fprintf(f, "# class\tmetric\truns\tmean\tsd\tci95_low\tci95_high\n");
    printf("%-12s %-20s %5s %12s %12s   95%% CI\n", "class", "metric", "runs", "mean", "sd");
    for (uint32_t k = 0; k < a->nclasses; k++) {
        json_t *jc = json_object();
        for (int m = 0; m < NMETRICS; m++) {
            if (a->n[k][m] == 0)
                continue;
            sim_ci ci;
            sim_ci_compute(a->v[k][m], a->n[k][m], 0.95, &ci);
            double lo = isnan(ci.half) ? ci.mean : ci.mean - ci.half;
            double hi = isnan(ci.half) ? ci.mean : ci.mean + ci.half;
            fprintf(f, "%s\t%s\t%u\t%.6f\t%.6f\t%.6f\t%.6f\n", a->names[k], metric_names[m], ci.n,
                    ci.mean, ci.sd, lo, hi);
            printf("%-12s %-20s %5u %12.4f %12.4f   [%.4f, %.4f]\n", a->names[k],
                   metric_names[m], ci.n, ci.mean, ci.sd, lo, hi);
            json_t *jm = json_object();
            json_object_set_new(jm, "runs", json_integer(ci.n));
            json_object_set_new(jm, "mean", json_real(ci.mean));
            json_object_set_new(jm, "sd", json_real(ci.sd));
            json_object_set_new(jm, "ci95", json_pack("[ff]", lo, hi));
            json_object_set_new(jc, metric_names[m], jm);
        }
        json_object_set_new(root, a->names[k], jc);
    }
    int rv = fclose(f) == 0 ? 0 : -1;
    if (json_dump_file(root, jpath, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
        fprintf(stderr, "swarmlab sim: %s: cannot write\n", jpath);
        rv = -1;
    }
    json_decref(root);
    if (rv == 0)
        printf("replications: %s %s\n", path, jpath);
    return rv;
}

int sim_reps_run(const void *opts, const char *dir, uint64_t base_seed, uint32_t reps,
                 uint32_t jobs)
{
    uint32_t failed = run_all(opts, dir, base_seed, reps, jobs);
    if (failed > 0) {
        fprintf(stderr, "swarmlab sim: %u of %u replications failed\n", failed, reps);
        return CLI_FAIL;
    }
    agg *a = calloc(1, sizeof(*a));
    int rv = a != NULL ? 0 : -1;
    char path[4352];
    for (uint32_t k = 0; rv == 0 && k < reps; k++) {
        snprintf(path, sizeof(path), "%s/rep-%llu/summary.json", dir,
                 (unsigned long long)(base_seed + k));
        rv = add_run(a, path, reps);
    }
    if (rv == 0)
        rv = write_tables(a, dir);
    for (uint32_t k = 0; a != NULL && k < a->nclasses; k++)
        for (int m = 0; m < NMETRICS; m++)
            free(a->v[k][m]);
    free(a);
    return rv == 0 ? CLI_OK : CLI_FAIL;
}
