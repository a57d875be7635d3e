/* cli/sim_reps.h: batches of simulation runs, shared by `swarmlab sim --replications` and
 * `swarmlab sweep`: a job runner (serial, or up to J child processes), and the aggregation
 * of runs' summary.json files into per-class means with 95% confidence intervals
 * (replications.tsv/json). Results never depend on J: runs are aggregated in job order. */
#ifndef CLI_SIM_REPS_H
#define CLI_SIM_REPS_H

#include "sim_stats.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How to run one simulation. */
typedef struct sim_run_opts {
    const char *scenario;    /* the scenario file */
    const char *const *sets; /* "section.key=value" overrides, applied in order */
    size_t nsets;
    const char *trace; /* event trace file, or NULL */
    bool real_bytes;   /* carry real payload bytes */
    bool quiet;        /* no progress display */
} sim_run_opts;

/* What sim_run_one prints on stdout. */
enum { SIM_RUN_FULL = 0, SIM_RUN_BRIEF = 1, SIM_RUN_SILENT = 2 };

/* Runs the scenario of |o| with swarm.seed = |seed| (applied after o->sets) into |dir|
 * (created if needed). |verbosity|: SIM_RUN_FULL prints a per-class summary, SIM_RUN_BRIEF
 * one line, SIM_RUN_SILENT nothing (errors always go to stderr). Returns a CLI_* code.
 * Implemented by cmd_sim.c. */
int sim_run_one(const sim_run_opts *o, uint64_t seed, const char *dir, int verbosity);

/* Job |i| of a batch; returns a CLI_* code. In a child process its return value is the exit
 * status. */
typedef int (*sim_job_fn)(const void *ctx, size_t i);
/* Called in the calling process each time a job ends: |done| of |n| have ended. */
typedef void (*sim_job_progress_fn)(void *pctx, size_t done, size_t n);

/* Runs jobs 0..|n|-1 of |fn|: in order in this process if |jobs| <= 1, else in up to |jobs|
 * child processes at once (each job's stdout is flushed before its child exits).
 * |progress| may be NULL. Returns the number of jobs that failed. */
size_t sim_jobs_run(size_t n, uint32_t jobs, sim_job_fn fn, const void *ctx,
                    sim_job_progress_fn progress, void *pctx);

/* The per-class metrics aggregated over runs, in table order. */
enum {
    SIM_M_DOWNLOAD_TIME = 0, /* mean download time of the completed peers (s) */
    SIM_M_DOWNLOAD_MEDIAN,   /* median download time of the completed peers (s) */
    SIM_M_COMPLETED,         /* completed leechers / leechers */
    SIM_M_SHARE_RATIO,       /* bytes up / bytes down */
    SIM_M_UPLOAD_UTIL,       /* bytes up / (upload capacity * time present) */
    SIM_M_BYTES_UP,          /* the class's bytes uploaded */
    SIM_M_BYTES_DOWN,        /* the class's bytes downloaded */
    SIM_NMETRICS
};

/* The metric's column name ("download_time_s", ...); |m| < SIM_NMETRICS. */
const char *sim_reps_metric_name(int m);

typedef struct sim_reps_agg sim_reps_agg;

/* A new, empty aggregate for at most |maxruns| runs; NULL when out of memory. */
sim_reps_agg *sim_reps_agg_new(uint32_t maxruns);
/* Frees |a|; NULL is a no-op. */
void sim_reps_agg_del(sim_reps_agg *a);

/* Adds the run whose summary.json is at |path|: every class's metrics (the download times
 * only for leechers of runs where some completed; completion only for leecher classes).
 * Returns 0, or -1 after printing an error that names the file. */
int sim_reps_agg_add(sim_reps_agg *a, const char *path);

/* The classes seen, in the order of the first run that named them. */
uint32_t sim_reps_agg_nclasses(const sim_reps_agg *a);
const char *sim_reps_agg_class(const sim_reps_agg *a, uint32_t k);
/* Runs in which class |k| appeared. */
uint32_t sim_reps_agg_runs(const sim_reps_agg *a, uint32_t k);
/* Mean and 95% t interval of metric |m| of class |k| over the runs that gave it (n == 0:
 * mean NAN; n < 2: half-width NAN). */
void sim_reps_agg_ci(const sim_reps_agg *a, uint32_t k, int m, sim_ci *out);

/* Writes DIR/replications.tsv and DIR/replications.json from |a|; |print|: also a table on
 * stdout. Returns 0, or -1 after printing an error. */
int sim_reps_write(const sim_reps_agg *a, const char *dir, bool print);

/* `swarmlab sim --replications`: runs seeds |base_seed|..+|reps|-1 of |o| into
 * DIR/rep-SEED/ with up to |jobs| processes, then writes DIR/replications.{tsv,json}.
 * Returns a CLI_* code. */
int sim_reps_run(const sim_run_opts *o, const char *dir, uint64_t base_seed, uint32_t reps,
                 uint32_t jobs);

#endif
