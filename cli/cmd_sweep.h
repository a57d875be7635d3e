/* cli/cmd_sweep.h: the state of `swarmlab sweep`, shared by cmd_sweep.c (options, checks,
 * runs) and cmd_sweep_out.c (sweep.tsv, sweep.json). */
#ifndef CLI_CMD_SWEEP_H
#define CLI_CMD_SWEEP_H

#include "sim_reps.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SWEEP_MAX_SETS 256    /* --set options */
#define SWEEP_MAX_VARY 8      /* --vary options */
#define SWEEP_MAX_VALUES 1000 /* values of one --vary */
#define SWEEP_MAX_POINTS 100000
#define SWEEP_MAX_RUNS 1000000 /* points x replications */

/* One --vary: a key and its values. */
typedef struct sweep_vary {
    char key[128];                  /* "section.key" (a space after the section: a dot) */
    char *values[SWEEP_MAX_VALUES]; /* as written, trimmed; owned */
    char *sets[SWEEP_MAX_VALUES];   /* "key=value" overrides; owned */
    size_t n;                       /* values */
    size_t stride;                  /* points from one value to the next */
} sweep_vary;

typedef struct sweep {
    const char *scenario, *outdir;
    const char *sets[SWEEP_MAX_SETS + 1]; /* plain --set overrides, then --seed's */
    size_t nsets;
    char seedset[64];
    sweep_vary vary[SWEEP_MAX_VARY];
    size_t nvary;
    uint32_t reps, jobs;
    bool quiet;
    size_t npoints;
    uint64_t seed; /* the first replication's */
    char dir[4096];
    struct timespec t0;
} sweep;

/* The index of point |p|'s value of --vary |v|. */
size_t sweep_value_index(const sweep *s, size_t p, size_t v);

/* DIR/points/P/rep-SEED of point |p|'s replication |r|, into |out| (|len| bytes). */
void sweep_rep_dir(const sweep *s, size_t p, uint32_t r, char *out, size_t len);

/* Aggregates every point's replications (writing DIR/points/P/replications.{tsv,json}) and
 * writes DIR/sweep.tsv and DIR/sweep.json. Returns 0, or -1 after printing an error. */
int sweep_write(const sweep *s);

#endif
