/* sim_dist.h: distributions for scenario values that may vary per peer: a constant, exp(),
 * uniform(), lognormal(), normal(). Parses, prints back in canonical form and samples with a
 * caller-supplied gsl_rng; results are rounded to integers in the value's unit (bytes,
 * bytes/s, µs). Never allocates, never prints, no global state.
 *
 * Syntax (each parameter is written in the key's unit, see sim_units.h):
 *   VALUE                 a constant ("8Mbit", "30min", and "forever" where allowed)
 *   exp(MEAN)             exponential with mean MEAN (> 0)
 *   uniform(A,B)          uniform on [A, B], A <= B
 *   lognormal(MEDIAN,SIGMA)  X = MEDIAN * e^(SIGMA * Z), Z standard normal: ln X has mean
 *                         ln MEDIAN and standard deviation SIGMA (a plain number, 0..10).
 *                         MEDIAN > 0; the mean is MEDIAN * e^(SIGMA^2 / 2).
 *   normal(MEAN,SD)       normal, truncated at 0 (negative draws are redrawn)
 * Spaces around parameters are allowed: "uniform(1Mbit, 4Mbit)". */
#ifndef SIM_DIST_H
#define SIM_DIST_H

#include "sim_units.h"

#include <gsl/gsl_rng.h>

typedef enum sim_dist_kind {
    SIM_DIST_CONST = 0,
    SIM_DIST_EXP = 1,
    SIM_DIST_UNIFORM = 2,
    SIM_DIST_LOGNORMAL = 3,
    SIM_DIST_NORMAL = 4,
} sim_dist_kind;

typedef struct sim_dist {
    sim_dist_kind kind;
    sim_unit unit;
    uint64_t a;   /* CONST: the value; EXP: mean; UNIFORM: low; LOGNORMAL: median; NORMAL: mean */
    uint64_t b;   /* UNIFORM: high; NORMAL: standard deviation; otherwise 0 */
    double sigma; /* LOGNORMAL: standard deviation of ln X; otherwise 0 */
    uint64_t min; /* samples below this are raised to it (e.g. 1 byte/s for a capacity) */
} sim_dist;

/* Longest canonical text of a distribution, including the NUL. */
#define SIM_DIST_FMT_MAX (3 * SIM_UNITS_FMT_MAX + 16)

/* A constant distribution. */
sim_dist sim_dist_const(sim_unit unit, uint64_t value);

/* Parses |len| bytes at |s| with parameters in |unit|. |allow_forever| admits the constant
 * "forever" (BT_TIME_NEVER; time unit only; never inside a function). Sets d->min = 0.
 * Returns 0, or BT_ERR_INVALID / BT_ERR_LIMIT with a message in |err| (|errlen| bytes). */
int sim_dist_parse(sim_dist *d, sim_unit unit, const char *s, size_t len, bool allow_forever,
                   char *err, size_t errlen);

/* Canonical text ("exp(10min)", "uniform(1Mbit,4Mbit)", "lognormal(2Mbit,0.5)", "8Mbit") into
 * |buf| (SIM_DIST_FMT_MAX bytes). Parsing it gives back an equal distribution. Returns |buf|. */
char *sim_dist_format(const sim_dist *d, char *buf);

/* One draw from |d| using |r|, rounded to the nearest integer, at least d->min, and at most
 * UINT64_MAX - 1 for non-constant distributions (so a draw is never BT_TIME_NEVER). A
 * constant returns its value (no draw is consumed). */
uint64_t sim_dist_sample(const sim_dist *d, gsl_rng *r);

/* The expected value before rounding and the |min| clamp (the truncated mean for NORMAL). */
double sim_dist_mean(const sim_dist *d);

/* True when |a| and |b| describe the same distribution (kind, unit, parameters, min). */
bool sim_dist_equal(const sim_dist *a, const sim_dist *b);

#endif
