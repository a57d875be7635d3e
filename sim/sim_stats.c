/* sim_stats.c: confidence intervals across replications (GSL statistics and t quantiles). */
#include "sim_stats.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>

void sim_ci_compute(const double *x, size_t n, double level, sim_ci *out)
{
    out->n = (uint32_t)n;
    out->mean = n ? gsl_stats_mean(x, 1, n) : NAN;
    out->sd = n >= 2 ? gsl_stats_sd_m(x, 1, n, out->mean) : 0.0;
    out->half = NAN;
    if (n >= 2) {
        double t = gsl_cdf_tdist_Pinv(0.5 + level / 2.0, (double)(n - 1));
        out->half = t * out->sd / sqrt((double)n);
    }
}
