/* test_sim_stats.c: confidence intervals across replications against hand-computed values. */
#include "sim_stats.h"

#include <CUnit/CUnit.h>
#include <math.h>

extern int test_sim_stats_add_suite(void);

static void test_ci(void)
{
    const double x[] = {1, 2, 3, 4, 5};
    sim_ci ci;
    sim_ci_compute(x, 5, 0.95, &ci);
    CU_ASSERT_EQUAL(ci.n, 5);
    CU_ASSERT_DOUBLE_EQUAL(ci.mean, 3.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(ci.sd, sqrt(2.5), 1e-12);
    /* t(0.975, 4) = 2.776445; half = t * sd / sqrt(5) */
    CU_ASSERT_DOUBLE_EQUAL(ci.half, 2.776445 * sqrt(2.5) / sqrt(5.0), 1e-5);
    sim_ci_compute(x, 1, 0.95, &ci);
    CU_ASSERT_DOUBLE_EQUAL(ci.mean, 1.0, 1e-12);
    CU_ASSERT(ci.sd == 0.0 && isnan(ci.half));
    sim_ci_compute(x, 0, 0.95, &ci);
    CU_ASSERT(isnan(ci.mean));
    const double y[] = {10, 10, 10};
    sim_ci_compute(y, 3, 0.95, &ci);
    CU_ASSERT_DOUBLE_EQUAL(ci.half, 0.0, 1e-12);
}

int test_sim_stats_add_suite(void)
{
    CU_pSuite s = CU_add_suite("sim_stats", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "t confidence intervals", test_ci))
        return 1;
    return 0;
}
