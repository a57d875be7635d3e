/* sim_output.h: writes a finished simulation's results: peers.tsv (one row per peer),
 * timeseries.tsv (the periodic samples), matrix.tsv (class by class bytes and unchoke time),
 * summary.json (per-class completion-time statistics, share ratios, upload utilisation,
 * fairness; simulated time and events; the fluid model's parameters and steady state),
 * fluid.tsv (the fluid model beside the time series) and run.json (wall time, events/s,
 * peak memory: the only file that may differ between two runs of one seed). */
#ifndef SIM_OUTPUT_H
#define SIM_OUTPUT_H

#include "sim_scenario.h"
#include "sim_world.h"

typedef struct sim_run_info {
    const char *scenario_path;
    uint64_t seed;
    double wall_seconds;
    long peak_rss_kib;
    const sim_scenario *scenario; /* for the fluid model; NULL: no "fluid" in summary.json */
} sim_run_info;

/* Each returns 0, or -1 after printing an error that names the file. */
int sim_output_peers(const sim_world *w, const char *path);
int sim_output_timeseries(const sim_world *w, const char *path);
/* completion.tsv: for each leecher class with completions, a block ("# class NAME", then rows
 * of download_s and the cumulative fraction of the class's leechers), blocks separated by
 * two blank lines (gnuplot's "index"). */
int sim_output_completion(const sim_world *w, const char *path);
/* fluid.tsv: the Qiu-Srikant fluid model of |sc| (sim_fluid.h) solved at the time series'
 * sample times: time_s, leechers_fluid, seeds_fluid. Writes nothing (and returns 0) when the
 * scenario has no fluid model (trace arrivals), or, after a warning, when the solver fails. */
int sim_output_fluid(const sim_world *w, const sim_scenario *sc, const char *path);
/* matrix.tsv: one row per ordered pair of classes (from, to; class order): payload bytes
 * from's peers sent to's peers, and the connection-seconds from's peers had to's peers
 * unchoked regularly and optimistically (sim_world_matrix). */
int sim_output_matrix(const sim_world *w, const char *path);
/* summary.json also has Jain's fairness indices per class and overall ("fairness"); see
 * scenarios/README.md for their exact definition. */
int sim_output_summary(const sim_world *w, const sim_run_info *ri, const char *path);

/* Jain's fairness index (sum x)^2 / (n * sum x^2) of |n| values; -1 if n is 0 or all are 0. */
double sim_jain_index(const double *x, size_t n);
int sim_output_run(const sim_world *w, const sim_run_info *ri, const char *path);

/* Sorts |n| values ascending (merge sort; no qsort in sim/). |tmp| holds n values. */
void sim_sort_u64(uint64_t *v, uint64_t *tmp, size_t n);

#endif
