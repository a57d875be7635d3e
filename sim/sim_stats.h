/* sim_stats.h: statistics across replications: mean, standard deviation and a Student-t
 * confidence interval (GSL). Pure functions; no I/O. */
#ifndef SIM_STATS_H
#define SIM_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_ci {
    uint32_t n;
    double mean;
    double sd;   /* sample standard deviation (n - 1); 0 when n < 2 */
    double half; /* half-width of the |level| interval; NAN when n < 2 */
} sim_ci;

/* Mean and |level| (e.g. 0.95) confidence interval of the |n| values in |x|, using the
 * t distribution with n - 1 degrees of freedom. n == 0 gives mean NAN. */
void sim_ci_compute(const double *x, size_t n, double level, sim_ci *out);

#endif
