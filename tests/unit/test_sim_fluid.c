/* test_sim_fluid.c: the Qiu-Srikant fluid model: the ODE against hand solutions (upload- and
 * download-constrained, decaying arrivals, bursts), convergence to the closed-form steady
 * state, its special cases, bad parameters, and the parameters derived from scenarios. */
#include "sim_fluid.h"

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

extern int test_sim_fluid_add_suite(void);

/* |a| within |rel| of |b|, relative to |b| (absolute below 1). */
static bool close_to(double a, double b, double rel)
{
    return fabs(a - b) <= rel * (fabs(b) > 1 ? fabs(b) : 1);
}
#define CLOSE(a, b, rel) CU_ASSERT(close_to((a), (b), (rel)))

static sim_fluid_params base(void)
{
    return (sim_fluid_params){.lambda = 1,
                              .stop_s = INFINITY,
                              .mu = 0.02,
                              .c = 0.2,
                              .theta = 0.001,
                              .gamma = 0.05,
                              .eta = 0.9};
}

/* Solves |p| on the grid 0, dt, ..., (n-1) dt; returns the solver's code. */
static int grid(const sim_fluid_params *p, double x0, double y0, double dt, size_t n, double *x,
                double *y)
{
    double *t = malloc(n * sizeof(double));
    if (t == NULL)
        return BT_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        t[i] = (double)i * dt;
    int rv = sim_fluid_solve(p, x0, y0, t, n, x, y);
    free(t);
    return rv;
}

/* Long runs end at the closed-form steady state, in each regime. */
static void test_converges(void)
{
    sim_fluid_params ps[4];
    ps[0] = base(); /* upload-constrained: 1/beta = (1/0.9)(50 - 20) = 33.3 > 5 */
    ps[1] = base(); /* download-constrained: slow downloads */
    ps[1].c = 0.01;
    ps[2] = base(); /* gamma < mu: seeds stay long enough, download-constrained */
    ps[2].gamma = 0.01;
    ps[3] = base(); /* gamma infinite: no seeds */
    ps[3].gamma = INFINITY;
    const int regime[4] = {SIM_FLUID_UPLOAD, SIM_FLUID_DOWNLOAD, SIM_FLUID_DOWNLOAD,
                           SIM_FLUID_UPLOAD};
    for (int k = 0; k < 4; k++) {
        sim_fluid_steady st;
        CU_ASSERT_FATAL(sim_fluid_steady_state(&ps[k], &st) == 0);
        CU_ASSERT_EQUAL(st.regime, regime[k]);
        double x[3], y[3];
        CU_ASSERT_FATAL(grid(&ps[k], 0, 1, 10000, 3, x, y) == 0);
        CLOSE(x[2], st.leechers, 1e-6);
        CLOSE(y[2], st.seeds, 1e-6);
        CLOSE(st.download_s, st.leechers / ps[k].lambda, 1e-12);
        CU_ASSERT(x[1] > 0 && y[1] >= 0);
    }
    /* hand values for ps[0]: beta = 0.9/30 = 0.03, T = 1/0.031, ybar = 0.03 xbar / 0.05 */
    sim_fluid_steady st;
    CU_ASSERT(sim_fluid_steady_state(&ps[0], &st) == 0);
    CLOSE(st.beta, 0.03, 1e-12);
    CLOSE(st.download_s, 1 / 0.031, 1e-12);
    CLOSE(st.leechers, 1 / 0.031, 1e-12);
    CLOSE(st.seeds, 0.6 / 0.031, 1e-12);
    CLOSE(1 / (ps[0].lambda / (st.beta * (1 + ps[0].theta / st.beta))), 0.031, 1e-12);
    CU_ASSERT(sim_fluid_steady_state(&ps[1], &st) == 0);
    CLOSE(st.download_s, 1 / 0.011, 1e-12);
    CLOSE(st.seeds, 0.01 / 0.011 / 0.05, 1e-12);
    CU_ASSERT(sim_fluid_steady_state(&ps[3], &st) == 0);
    CLOSE(st.beta, 0.018, 1e-12); /* eta mu */
    CU_ASSERT(st.seeds == 0);
}

/* theta = 0, gamma = 0, eta = 1, c huge: upload-constrained, x + y grows by lambda t and
 * dx/dt = lambda - mu (x + y): x(t) = x0 + lambda t - mu ((x0 + y0) t + lambda t^2 / 2). */
static void test_upload_constrained_hand(void)
{
    sim_fluid_params p = {.lambda = 2, .stop_s = INFINITY, .mu = 0.01, .c = 1e3, .eta = 1};
    double x[11], y[11];
    CU_ASSERT_FATAL(grid(&p, 10, 1, 5, 11, x, y) == 0);
    for (int i = 0; i < 11; i++) {
        double t = 5.0 * i;
        double xs = 10 + 2 * t - 0.01 * (11 * t + t * t);
        CLOSE(x[i], xs, 1e-7);
        CLOSE(y[i], 11 + 2 * t - xs, 1e-7);
    }
    CLOSE(x[10], 79.5, 1e-7);
}

/* mu huge: download-constrained and linear: x -> lambda/k with k = theta + c, and
 * dy/dt = c x - gamma y solved by hand. */
static void test_download_constrained_hand(void)
{
    sim_fluid_params p = {
        .lambda = 1, .stop_s = INFINITY, .mu = 100, .c = 0.5, .theta = 0.1, .gamma = 0.2, .eta = 1};
    double x[21], y[21];
    CU_ASSERT_FATAL(grid(&p, 3, 0, 2, 21, x, y) == 0);
    double k = 0.6, xb = 1 / k, a = 0.5 * (3 - xb) / (0.2 - k), yb = 0.5 * xb / 0.2;
    for (int i = 0; i < 21; i++) {
        double t = 2.0 * i;
        CLOSE(x[i], xb + (3 - xb) * exp(-k * t), 1e-7);
        CLOSE(y[i], yb + a * exp(-k * t) + (0 - yb - a) * exp(-0.2 * t), 1e-7);
    }
}

/* Decaying arrivals from start = 50: x(t) = l0/(c - 1/tau) (e^(-s/tau) - e^(-c s)), s = t -
 * 50, in the download-constrained linear case; and, with no departures at all, x + y counts
 * every arrival: l0 tau (1 - e^(-s/tau)). */
static void test_decay(void)
{
    sim_fluid_params p = {.lambda = 0.5,
                          .tau_s = 100,
                          .start_s = 50,
                          .stop_s = INFINITY,
                          .mu = 100,
                          .c = 0.05,
                          .gamma = 1,
                          .eta = 1};
    double x[41], y[41];
    CU_ASSERT_FATAL(grid(&p, 0, 0, 10, 41, x, y) == 0);
    for (int i = 0; i < 41; i++) {
        double s = 10.0 * i - 50;
        double xs = s < 0 ? 0 : 0.5 / (0.05 - 0.01) * (exp(-s / 100) - exp(-0.05 * s));
        CLOSE(x[i], xs, 1e-7);
    }
    CLOSE(sim_fluid_lambda(&p, 49.9), 0, 0);
    CLOSE(sim_fluid_lambda(&p, 150), 0.5 * exp(-1), 1e-15);
    p = (sim_fluid_params){.lambda = 0.5,
                           .tau_s = 100,
                           .start_s = 50,
                           .stop_s = INFINITY,
                           .mu = 0.01,
                           .c = 0.05,
                           .eta = 0.7};
    CU_ASSERT_FATAL(grid(&p, 0, 2, 25, 41, x, y) == 0);
    for (int i = 0; i < 41; i++) {
        double s = 25.0 * i - 50;
        CLOSE(x[i] + y[i], 2 + (s < 0 ? 0 : 50 * (1 - exp(-s / 100))), 1e-7);
    }
    sim_fluid_steady st;
    CU_ASSERT(sim_fluid_steady_state(&p, &st) == 0);
    CU_ASSERT(st.regime == SIM_FLUID_NO_STEADY && isnan(st.download_s) && isnan(st.seeds));
}

/* A burst at start, and arrivals that stop: with no departures, x + y counts them. */
static void test_burst_and_stop(void)
{
    sim_fluid_params p = {.start_s = 5, .stop_s = 5, .burst = 100, .mu = 0.01, .c = 0.05, .eta = 1};
    const double t[] = {0, 4.999, 5, 5, 6, 100, 100};
    double x[7], y[7];
    CU_ASSERT_FATAL(sim_fluid_solve(&p, 0, 1, t, 7, x, y) == 0);
    CU_ASSERT(x[0] == 0 && x[1] == 0 && y[0] == 1);
    CLOSE(x[2], 100, 1e-12);
    CU_ASSERT(x[3] == x[2] && x[6] == x[5]);
    CU_ASSERT(x[4] < 100);
    for (int i = 2; i < 7; i++)
        CLOSE(x[i] + y[i], 101, 1e-8);
    sim_fluid_steady st;
    CU_ASSERT(sim_fluid_steady_state(&p, &st) == 0 && st.regime == SIM_FLUID_NO_STEADY);
    p = (sim_fluid_params){
        .lambda = 1, .start_s = 10, .stop_s = 60, .mu = 0.01, .c = 0.05, .eta = 1};
    const double t2[] = {10, 35, 60, 100};
    CU_ASSERT_FATAL(sim_fluid_solve(&p, 0, 0, t2, 4, x, y) == 0);
    CLOSE(x[1] + y[1], 25, 1e-8);
    CLOSE(x[2] + y[2], 50, 1e-8);
    CLOSE(x[3] + y[3], 50, 1e-8);
    CU_ASSERT(sim_fluid_solve(&p, 0, 0, t2, 0, x, y) == 0); /* no output times */
}

static void test_steady_special(void)
{
    sim_fluid_steady st;
    sim_fluid_params p = base();
    p.gamma = 0; /* seeds never leave: download-constrained, seeds unbounded */
    CU_ASSERT(sim_fluid_steady_state(&p, &st) == 0);
    CU_ASSERT(st.regime == SIM_FLUID_DOWNLOAD && isinf(st.seeds));
    CLOSE(st.download_s, 1 / 0.201, 1e-12);
    p = base();
    p.gamma = p.mu; /* upload term exactly 0 */
    CU_ASSERT(sim_fluid_steady_state(&p, &st) == 0 && st.regime == SIM_FLUID_DOWNLOAD);
    p = base();
    p.eta = 0; /* leechers cannot share and seeds leave too soon: only aborts drain x */
    CU_ASSERT(sim_fluid_steady_state(&p, &st) == 0 && st.regime == SIM_FLUID_UPLOAD);
    CU_ASSERT(st.beta == 0 && st.seeds == 0);
    CLOSE(st.download_s, 1000, 1e-12);
    p.theta = 0; /* nothing drains x: no steady state */
    CU_ASSERT(sim_fluid_steady_state(&p, &st) == 0 && st.regime == SIM_FLUID_NO_STEADY);
    CU_ASSERT(isnan(st.leechers));
    p = base();
    p.lambda = 0;
    CU_ASSERT(sim_fluid_steady_state(&p, &st) == 0 && st.regime == SIM_FLUID_NO_STEADY);
    /* eta = 0 and gamma = INFINITY in the ODE: x stays put but for aborts */
    p = base();
    p.eta = 0;
    p.gamma = INFINITY;
    p.lambda = 0;
    double x[2], y[2];
    CU_ASSERT(grid(&p, 10, 5, 100, 2, x, y) == 0);
    CLOSE(x[1], 10 * exp(-0.1), 1e-7);
    CU_ASSERT(y[0] == 0 && y[1] == 0);
}

static void test_bad_params(void)
{
    double x[2], y[2], t[2] = {0, 1};
    sim_fluid_params good = base(), p;
    CU_ASSERT(sim_fluid_check(&good) == 0);
    double *fields[] = {&p.lambda, &p.tau_s, &p.start_s, &p.burst, &p.mu,
                        &p.c,      &p.theta, &p.gamma,   &p.eta};
    for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
        const double bad[] = {-1, NAN, -INFINITY};
        for (size_t j = 0; j < 3; j++) {
            p = good;
            *fields[k] = bad[j];
            CU_ASSERT(sim_fluid_check(&p) == BT_ERR_INVALID);
            CU_ASSERT(sim_fluid_solve(&p, 0, 0, t, 2, x, y) == BT_ERR_INVALID);
            sim_fluid_steady st;
            CU_ASSERT(sim_fluid_steady_state(&p, &st) == BT_ERR_INVALID);
        }
    }
    const sim_fluid_params more[] = {
        {.lambda = INFINITY, .stop_s = INFINITY, .mu = 1, .c = 1, .eta = 1},
        {.lambda = 1, .stop_s = INFINITY, .mu = 0, .c = 1, .eta = 1},
        {.lambda = 1, .stop_s = INFINITY, .mu = 1, .c = 0, .eta = 1},
        {.lambda = 1, .stop_s = INFINITY, .mu = INFINITY, .c = 1, .eta = 1},
        {.lambda = 1, .stop_s = INFINITY, .mu = 1, .c = 1, .eta = 1.5},
        {.lambda = 1, .start_s = 5, .stop_s = 4, .mu = 1, .c = 1, .eta = 1},
        {.lambda = 1, .stop_s = NAN, .mu = 1, .c = 1, .eta = 1},
        {.lambda = 1, .start_s = INFINITY, .stop_s = INFINITY, .mu = 1, .c = 1, .eta = 1},
    };
    for (size_t k = 0; k < sizeof(more) / sizeof(more[0]); k++) {
        CU_ASSERT(sim_fluid_check(&more[k]) == BT_ERR_INVALID);
        CU_ASSERT(sim_fluid_solve(&more[k], 0, 0, t, 2, x, y) == BT_ERR_INVALID);
    }
    /* bad initial values and times */
    CU_ASSERT(sim_fluid_solve(&good, -1, 0, t, 2, x, y) == BT_ERR_INVALID);
    CU_ASSERT(sim_fluid_solve(&good, 0, NAN, t, 2, x, y) == BT_ERR_INVALID);
    CU_ASSERT(sim_fluid_solve(&good, INFINITY, 0, t, 2, x, y) == BT_ERR_INVALID);
    const double down[] = {5, 4}, neg[] = {-1, 0}, inf[] = {0, INFINITY};
    CU_ASSERT(sim_fluid_solve(&good, 0, 0, down, 2, x, y) == BT_ERR_INVALID);
    CU_ASSERT(sim_fluid_solve(&good, 0, 0, neg, 2, x, y) == BT_ERR_INVALID);
    CU_ASSERT(sim_fluid_solve(&good, 0, 0, inf, 2, x, y) == BT_ERR_INVALID);
    /* an absurdly stiff system runs out of steps instead of running for ever */
    p = good;
    p.c = 1e12;
    p.mu = 1e12;
    const double far[] = {0, 1e6};
    CU_ASSERT(sim_fluid_solve(&p, 1, 0, far, 2, x, y) == BT_ERR_LIMIT);
}

static void test_eta_estimate(void)
{
    CU_ASSERT(sim_fluid_eta_estimate(0, 4) == 0);
    CU_ASSERT(sim_fluid_eta_estimate(1, 4) == 0);
    CLOSE(sim_fluid_eta_estimate(2, 4), 1 - pow(log(2) / 2, 4), 1e-15);
    CU_ASSERT(sim_fluid_eta_estimate(2, 4) < sim_fluid_eta_estimate(16, 4));
    CU_ASSERT(sim_fluid_eta_estimate(400, 4) > 0.9999 && sim_fluid_eta_estimate(400, 4) < 1);
    CU_ASSERT(sim_fluid_eta_estimate(16, 1) < sim_fluid_eta_estimate(16, 4));
}

static sim_scenario *load(const char *text, const char *ov)
{
    char err[512];
    sim_scenario *sc = NULL;
    const char *ovs[1] = {ov};
    if (sim_scenario_load_string(&sc, text, strlen(text), "t.ini", NULL, ovs, ov ? 1 : 0, err,
                                 sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    return sc;
}

static const char SC[] = "[swarm]\nfile_size = 1MB\npiece_size = 16KiB\n"
                         "[arrivals]\nprocess = poisson\nrate = 2/s\nstart = 10s\n"
                         "[class s]\nrole = seed\ncount = 3\nup = 8Mbit\ndown = 8Mbit\n"
                         "[class a]\nshare = 0.25\nup = 1Mbit\ndown = uniform(2Mbit,6Mbit)\n"
                         "linger = exp(100s)\nabort = 0.5\nabort_after = exp(50s)\n"
                         "[class b]\nshare = 0.75\nup = 2Mbit\ndown = 16Mbit\nlinger = 20s\n";

static void test_from_scenario(void)
{
    sim_scenario *sc = load(SC, NULL);
    CU_ASSERT_FATAL(sc != NULL);
    sim_fluid_params p;
    double x0, y0;
    bool given = true;
    CU_ASSERT_FATAL(sim_fluid_from_scenario(sc, &p, &x0, &y0, &given) == 0);
    CLOSE(p.lambda, 2, 1e-15);
    CU_ASSERT(p.tau_s == 0 && p.start_s == 10 && isinf(p.stop_s) && p.burst == 0);
    CLOSE(p.mu, (0.25 * 125000 + 0.75 * 250000) / 1e6, 1e-12);
    CLOSE(p.c, (0.25 * 500000 + 0.75 * 2e6) / 1e6, 1e-12);
    CLOSE(p.theta, 0.25 * 0.5 / 50, 1e-12);
    CLOSE(p.gamma, 1 / (0.25 * 100 + 0.75 * 20), 1e-12);
    CU_ASSERT(!given);
    CLOSE(p.eta, sim_fluid_eta_estimate(62, SIM_FLUID_ETA_SLOTS), 1e-15); /* 1MB / 16KiB */
    CU_ASSERT(x0 == 0 && y0 == 3);
    sim_scenario_free(sc);

    /* given eta; a finite count ends the arrivals after count / rate */
    sc = load(SC, "fluid.eta=0.5");
    CU_ASSERT_FATAL(sc != NULL);
    CU_ASSERT(sim_fluid_from_scenario(sc, &p, &x0, &y0, &given) == 0 && given && p.eta == 0.5);
    sim_scenario_free(sc);
    sc = load(SC, "arrivals.count=100");
    CU_ASSERT_FATAL(sc != NULL);
    CU_ASSERT(sim_fluid_from_scenario(sc, &p, &x0, &y0, &given) == 0);
    CLOSE(p.stop_s, 60, 1e-12);
    sim_scenario_free(sc);

    /* a class lingering forever: gamma = 0 */
    sc = load(SC, "class.a.linger=forever");
    CU_ASSERT_FATAL(sc != NULL);
    CU_ASSERT(sim_fluid_from_scenario(sc, &p, &x0, &y0, &given) == 0 && p.gamma == 0);
    sim_scenario_free(sc);
}

static void test_from_scenario_processes(void)
{
    static const char FLASH[] = "[swarm]\nfile_size = 4MiB\n[arrivals]\ncount = 40\n"
                                "start = 1min\n[class s]\nrole = seed\nup = 8Mbit\n"
                                "down = 8Mbit\n[class a]\nshare = 1\nup = 1Mbit\ndown = 8Mbit\n"
                                "abort = 1\nabort_after = 0\n";
    sim_scenario *sc = load(FLASH, NULL);
    CU_ASSERT_FATAL(sc != NULL);
    sim_fluid_params p;
    double x0, y0;
    bool given;
    /* every leecher aborts at once: nobody downloads */
    CU_ASSERT(sim_fluid_from_scenario(sc, &p, &x0, &y0, &given) == 0);
    CU_ASSERT(p.burst == 0 && p.theta == 0 && p.lambda == 0);
    sim_scenario_free(sc);
    sc = load(FLASH, "class.a.abort=0.25");
    CU_ASSERT_FATAL(sc != NULL);
    CU_ASSERT(sim_fluid_from_scenario(sc, &p, &x0, &y0, &given) == 0);
    CLOSE(p.burst, 30, 1e-12);
    CU_ASSERT(p.start_s == 60 && isinf(p.gamma) && y0 == 0); /* linger 0: no fluid seeds */
    sim_scenario_free(sc);
    /* decay with a count below rate * tau: stops when the expected arrivals reach it */
    char err[256];
    const char *ov[] = {"arrivals.process=decay"}; /* needs rate and tau */
    CU_ASSERT(sim_scenario_load_string(&sc, FLASH, strlen(FLASH), "t.ini", NULL, ov, 1, err,
                                       sizeof(err)) == BT_ERR_INVALID);
    static const char DECAY[] = "[swarm]\nfile_size = 4MiB\n[arrivals]\nprocess = decay\n"
                                "rate = 1/s\ntau = 100s\ncount = 50\n"
                                "[class a]\nshare = 1\nup = 1Mbit\ndown = 8Mbit\n";
    sc = load(DECAY, NULL);
    CU_ASSERT_FATAL(sc != NULL);
    CU_ASSERT(sim_fluid_from_scenario(sc, &p, &x0, &y0, &given) == 0);
    CLOSE(p.stop_s, 100 * log(2), 1e-12);
    CLOSE(p.tau_s, 100, 0);
    sim_scenario_free(sc);
    sc = load(DECAY, "arrivals.count=500"); /* more than ever expected: never stops */
    CU_ASSERT_FATAL(sc != NULL);
    CU_ASSERT(sim_fluid_from_scenario(sc, &p, &x0, &y0, &given) == 0 && isinf(p.stop_s));
    sim_scenario_free(sc);
    static const char TRACE[] = "[swarm]\nfile_size = 4MiB\n[arrivals]\nprocess = trace\n"
                                "file = joins.txt\n[class a]\nshare = 1\nup = 1Mbit\n"
                                "down = 8Mbit\n";
    sc = load(TRACE, NULL);
    CU_ASSERT_FATAL(sc != NULL);
    CU_ASSERT(sim_fluid_from_scenario(sc, &p, &x0, &y0, &given) == BT_ERR_INVALID);
    sim_scenario_free(sc);
}

/* The [fluid] section: parsed, validated, written back only when given. */
static void test_scenario_key(void)
{
    char err[512];
    sim_scenario *sc = load(SC, NULL);
    CU_ASSERT_FATAL(sc != NULL);
    CU_ASSERT(sc->fluid.eta < 0);
    char buf[4096];
    FILE *f = fmemopen(buf, sizeof(buf), "w");
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(sim_scenario_write_resolved(sc, f) == 0);
    fclose(f);
    CU_ASSERT(strstr(buf, "[fluid]") == NULL);
    sim_scenario_free(sc);
    char text[1024];
    snprintf(text, sizeof(text), "%s[fluid]\neta = 80%%\n", SC);
    sc = load(text, NULL);
    CU_ASSERT_FATAL(sc != NULL);
    CLOSE(sc->fluid.eta, 0.8, 1e-15);
    f = fmemopen(buf, sizeof(buf), "w");
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(sim_scenario_write_resolved(sc, f) == 0);
    fclose(f);
    CU_ASSERT(strstr(buf, "\n[fluid]\neta = 0.8\n") != NULL);
    sim_scenario *back = load(buf, NULL);
    CU_ASSERT(back != NULL && back->fluid.eta == sc->fluid.eta);
    sim_scenario_free(back);
    sim_scenario_free(sc);
    const char *bad[] = {"[fluid]\neta = 1.5\n", "[fluid]\neta = -0.1\n", "[fluid]\nzeta = 1\n",
                         "[fluid]\neta = 1\n[fluid]\neta = 1\n", "[fluid x]\neta = 1\n"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        snprintf(text, sizeof(text), "%s%s", SC, bad[k]);
        sc = NULL;
        CU_ASSERT(sim_scenario_load_string(&sc, text, strlen(text), "t.ini", NULL, NULL, 0, err,
                                           sizeof(err)) != 0);
        CU_ASSERT(sc == NULL && strstr(err, "t.ini:") != NULL);
    }
}

int test_sim_fluid_add_suite(void)
{
    CU_pSuite s = CU_add_suite("sim_fluid", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "ODE converges to the steady state", test_converges) ||
        !CU_add_test(s, "upload-constrained hand solution", test_upload_constrained_hand) ||
        !CU_add_test(s, "download-constrained hand solution", test_download_constrained_hand) ||
        !CU_add_test(s, "decaying arrivals", test_decay) ||
        !CU_add_test(s, "burst and end of arrivals", test_burst_and_stop) ||
        !CU_add_test(s, "steady state special cases", test_steady_special) ||
        !CU_add_test(s, "bad parameters rejected", test_bad_params) ||
        !CU_add_test(s, "eta estimate", test_eta_estimate) ||
        !CU_add_test(s, "parameters from a scenario", test_from_scenario) ||
        !CU_add_test(s, "arrival processes from a scenario", test_from_scenario_processes) ||
        !CU_add_test(s, "[fluid] eta scenario key", test_scenario_key))
        return 1;
    return 0;
}
