/* tests/unit/test_sim_scenario.c: unit tests for scenario files: units (sim_units.c),
 * distributions (sim_dist.c) and the loader (sim_scenario.c): every suffix and reject, print
 * round trips, sample means, the shipped scenarios, overrides, every error path, traces, and
 * the ISPs' upload scale and cap as far as the built simulation's peers.
 * Runs from the repository root (it loads the files in scenarios/). */
#include "sim_dist.h"
#include "sim_run.h"
#include "sim_scenario.h"
#include "sim_units.h"

#include <CUnit/CUnit.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int test_sim_scenario_add_suite(void);

/* ---- helpers ---- */

static int psize(const char *s, uint64_t *v)
{
    char err[256];
    return sim_units_parse_size(s, strlen(s), v, err, sizeof(err));
}

static int prate(const char *s, uint64_t *v)
{
    char err[256];
    return sim_units_parse_rate(s, strlen(s), v, err, sizeof(err));
}

static int ptime(const char *s, bool forever, uint64_t *v)
{
    char err[256];
    return sim_units_parse_time(s, strlen(s), forever, v, err, sizeof(err));
}

static bool size_is(const char *s, uint64_t want)
{
    uint64_t v = 12345;
    return psize(s, &v) == 0 && v == want;
}

static bool rate_is(const char *s, uint64_t want)
{
    uint64_t v = 12345;
    return prate(s, &v) == 0 && v == want;
}

static bool time_is(const char *s, uint64_t want)
{
    uint64_t v = 12345;
    return ptime(s, false, &v) == 0 && v == want;
}

/* The error message of a failed parse contains |want|. */
static bool size_err(const char *s, const char *want)
{
    char err[256] = "";
    uint64_t v = 777;
    int rc = sim_units_parse_size(s, strlen(s), &v, err, sizeof(err));
    return rc != 0 && v == 777 && strstr(err, want) != NULL;
}

static bool rate_err(const char *s, const char *want)
{
    char err[256] = "";
    uint64_t v = 777;
    int rc = sim_units_parse_rate(s, strlen(s), &v, err, sizeof(err));
    return rc != 0 && v == 777 && strstr(err, want) != NULL;
}

static bool time_err(const char *s, const char *want)
{
    char err[256] = "";
    uint64_t v = 777;
    int rc = sim_units_parse_time(s, strlen(s), false, &v, err, sizeof(err));
    return rc != 0 && v == 777 && strstr(err, want) != NULL;
}

static bool arate_is(const char *s, double want)
{
    char err[256];
    double v = -1;
    return sim_units_parse_arrival_rate(s, strlen(s), &v, err, sizeof(err)) == 0 &&
           fabs(v - want) <= 1e-15 * want;
}

static bool arate_bad(const char *s)
{
    char err[256];
    double v = -1;
    return sim_units_parse_arrival_rate(s, strlen(s), &v, err, sizeof(err)) != 0 && v == -1;
}

static bool frac_is(const char *s, double want)
{
    char err[256];
    double v = -1;
    return sim_units_parse_fraction(s, strlen(s), &v, err, sizeof(err)) == 0 && v == want;
}

static bool frac_bad(const char *s)
{
    char err[256];
    double v = -1;
    return sim_units_parse_fraction(s, strlen(s), &v, err, sizeof(err)) != 0 && v == -1;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ---- units ---- */

static void test_units_size(void)
{
    CU_ASSERT(size_is("0", 0));
    CU_ASSERT(size_is("123", 123));
    CU_ASSERT(size_is("1B", 1));
    CU_ASSERT(size_is("1kB", 1000));
    CU_ASSERT(size_is("1MB", 1000000));
    CU_ASSERT(size_is("700MB", 700000000));
    CU_ASSERT(size_is("1GB", 1000000000));
    CU_ASSERT(size_is("2TB", 2000000000000ull));
    CU_ASSERT(size_is("1KiB", 1024));
    CU_ASSERT(size_is("256KiB", 262144));
    CU_ASSERT(size_is("100MiB", 104857600));
    CU_ASSERT(size_is("1GiB", 1073741824));
    CU_ASSERT(size_is("1TiB", 1099511627776ull));
    CU_ASSERT(size_is("1.5KiB", 1536));
    CU_ASSERT(size_is("0.5MB", 500000));
    CU_ASSERT(size_is(" 100 MiB ", 104857600));
    CU_ASSERT(size_is("18446744073709551615", UINT64_MAX));
    CU_ASSERT(size_is("000000000000000000000000001", 1)); /* leading zeros are free */
    CU_ASSERT(size_err("", "empty"));
    CU_ASSERT(size_err("   ", "empty"));
    CU_ASSERT(size_err("-1", "negative"));
    CU_ASSERT(size_err("+1", "expected a number"));
    CU_ASSERT(size_err("MiB", "expected a number"));
    CU_ASSERT(size_err("1KB", "ambiguous"));
    CU_ASSERT(size_err("1Mb", "unknown unit 'Mb'"));
    CU_ASSERT(size_err("1mib", "unknown unit"));
    CU_ASSERT(size_err("1.3B", "whole number"));
    CU_ASSERT(size_err("1.", "digits after"));
    CU_ASSERT(size_err(".5", "expected a number"));
    CU_ASSERT(size_err("1e6", "unexpected text"));
    CU_ASSERT(size_err("1 2", "unexpected text"));
    CU_ASSERT(size_err("1MiB x", "unexpected text"));
    CU_ASSERT(size_err("18446744073709551616", "too large"));
    CU_ASSERT(size_err("20000000TiB", "too large"));
    CU_ASSERT(size_err("123456789012345678901", "too many digits"));
    CU_ASSERT(size_err("1.0000000000000000000", "too many decimal"));
    CU_ASSERT(size_err("1\x01"
                       "B",
                       "unknown unit '?B'"));
}

static void test_units_rate(void)
{
    CU_ASSERT(rate_is("8Mbit", 1000000));
    CU_ASSERT(rate_is("8mbit", 1000000));
    CU_ASSERT(rate_is("8 Mbit/s", 1000000));
    CU_ASSERT(rate_is("8Mbps", 1000000));
    CU_ASSERT(rate_is("8mbps", 1000000));
    CU_ASSERT(rate_is("512kbit", 64000));
    CU_ASSERT(rate_is("512Kbit", 64000));
    CU_ASSERT(rate_is("56kbps", 7000));
    CU_ASSERT(rate_is("1Gbit", 125000000));
    CU_ASSERT(rate_is("1gbit", 125000000));
    CU_ASSERT(rate_is("1Tbit", 125000000000ull));
    CU_ASSERT(rate_is("8bit", 1));
    CU_ASSERT(rate_is("16bps", 2));
    CU_ASSERT(rate_is("1.544Mbit", 193000));
    CU_ASSERT(rate_is("64KiB/s", 65536));
    CU_ASSERT(rate_is("20kB/s", 20000));
    CU_ASSERT(rate_is("1B/s", 1));
    CU_ASSERT(rate_is("2MB/s", 2000000));
    CU_ASSERT(rate_is("1MiB/s", 1048576));
    CU_ASSERT(rate_is("1GiB/s", 1073741824));
    CU_ASSERT(rate_is("0", 0));
    CU_ASSERT(rate_err("100", "needs a unit"));
    CU_ASSERT(rate_err("1MB", "is a size"));
    CU_ASSERT(rate_err("1KB/s", "ambiguous"));
    CU_ASSERT(rate_err("1Mb/s", "ambiguous"));
    CU_ASSERT(rate_err("1bit", "whole number of bytes per second"));
    CU_ASSERT(rate_err("1Xbit", "unknown unit"));
    CU_ASSERT(rate_err("1kkbit", "unknown unit"));
    CU_ASSERT(rate_err("-1Mbit", "negative"));
    CU_ASSERT(rate_err("1 Mbit x", "unexpected text"));
    CU_ASSERT(rate_err("200000000000000000Tbit", "too large"));
}

static void test_units_time(void)
{
    uint64_t v = 0;
    CU_ASSERT(time_is("250ms", 250000));
    CU_ASSERT(time_is("30s", 30000000));
    CU_ASSERT(time_is("30", 30000000));
    CU_ASSERT(time_is("0", 0));
    CU_ASSERT(time_is("30min", 1800000000ull));
    CU_ASSERT(time_is("2h", 7200000000ull));
    CU_ASSERT(time_is("1d", 86400000000ull));
    CU_ASSERT(time_is("5us", 5));
    CU_ASSERT(time_is("5\xc2\xb5s", 5));
    CU_ASSERT(time_is("1.5s", 1500000));
    CU_ASSERT(time_is("0.5ms", 500));
    CU_ASSERT(time_is("2.5min", 150000000));
    CU_ASSERT(ptime("forever", true, &v) == 0 && v == BT_TIME_NEVER);
    CU_ASSERT(ptime("never", true, &v) == 0 && v == BT_TIME_NEVER);
    CU_ASSERT(time_err("forever", "not allowed"));
    CU_ASSERT(time_err("1m", "ambiguous unit 'm'"));
    CU_ASSERT(time_err("1ns", "unknown unit 'ns'"));
    CU_ASSERT(time_err("0.0000001s", "whole number of microseconds"));
    CU_ASSERT(time_err("-1s", "negative"));
    CU_ASSERT(time_err("1 h x", "unexpected text"));
    CU_ASSERT(time_err("18446744073709551615us", "too large"));
    CU_ASSERT(time_is("18446744073709551614us", BT_TIME_NEVER - 1));
    CU_ASSERT(time_err("300000000d", "too large"));
}

static void test_units_other(void)
{
    char err[256];
    uint64_t c = 99;
    bool b = false;
    double r = 0;
    CU_ASSERT(arate_is("0.1/s", 0.1));
    CU_ASSERT(arate_is("6/min", 0.1));
    CU_ASSERT(arate_is("100/h", 100.0 / 3600.0));
    CU_ASSERT(arate_is("2000/d", 2000.0 / 86400.0));
    CU_ASSERT(arate_is("1e-3/s", 0.001));
    CU_ASSERT(arate_is("5 / min", 5.0 / 60.0));
    CU_ASSERT(arate_bad("0.1"));
    CU_ASSERT(arate_bad("1/x"));
    CU_ASSERT(arate_bad("1/"));
    CU_ASSERT(arate_bad("-1/s"));
    CU_ASSERT(arate_bad("1e999/s"));
    CU_ASSERT(arate_bad("1e/s"));
    CU_ASSERT(arate_bad("1/s/s"));
    CU_ASSERT(sim_units_parse_count("0", 1, 10, &c, err, sizeof(err)) == 0 && c == 0);
    CU_ASSERT(sim_units_parse_count(" 10 ", 4, 10, &c, err, sizeof(err)) == 0 && c == 10);
    CU_ASSERT(sim_units_parse_count("11", 2, 10, &c, err, sizeof(err)) == BT_ERR_LIMIT);
    CU_ASSERT(sim_units_parse_count("1.5", 3, 10, &c, err, sizeof(err)) == BT_ERR_INVALID);
    CU_ASSERT(sim_units_parse_count("-1", 2, 10, &c, err, sizeof(err)) == BT_ERR_INVALID);
    CU_ASSERT(sim_units_parse_count("", 0, 10, &c, err, sizeof(err)) == BT_ERR_INVALID);
    CU_ASSERT(sim_units_parse_count("99999999999999999999999999", 26, UINT64_MAX, &c, err,
                                    sizeof(err)) == BT_ERR_LIMIT);
    CU_ASSERT(c == 10);
    CU_ASSERT(frac_is("0", 0.0));
    CU_ASSERT(frac_is("1", 1.0));
    CU_ASSERT(frac_is("0.25", 0.25));
    CU_ASSERT(frac_is("25%", 0.25));
    CU_ASSERT(frac_is("100 %", 1.0));
    CU_ASSERT(frac_is("1e-1", 0.1));
    CU_ASSERT(frac_bad("1.1"));
    CU_ASSERT(frac_bad("101%"));
    CU_ASSERT(frac_bad("-0.1"));
    CU_ASSERT(frac_bad("abc"));
    CU_ASSERT(frac_bad("%"));
    CU_ASSERT(frac_bad("0.5x"));
    CU_ASSERT(sim_units_parse_bool("yes", 3, &b, err, sizeof(err)) == 0 && b);
    CU_ASSERT(sim_units_parse_bool("off", 3, &b, err, sizeof(err)) == 0 && !b);
    CU_ASSERT(sim_units_parse_bool("true", 4, &b, err, sizeof(err)) == 0 && b);
    CU_ASSERT(sim_units_parse_bool("0", 1, &b, err, sizeof(err)) == 0 && !b);
    CU_ASSERT(sim_units_parse_bool("TRUE", 4, &b, err, sizeof(err)) == BT_ERR_INVALID);
    CU_ASSERT(sim_units_parse_real("0.5", 3, &r, err, sizeof(err)) == 0 && r == 0.5);
    CU_ASSERT(sim_units_parse_real("0.5s", 4, &r, err, sizeof(err)) == BT_ERR_INVALID);
    /* Error buffers may be absent; messages are always terminated when truncated. */
    CU_ASSERT(sim_units_parse_size("1KB", 3, &c, NULL, 0) == BT_ERR_INVALID);
    char tiny[8];
    memset(tiny, 'x', sizeof(tiny));
    CU_ASSERT(sim_units_parse_size("1KB", 3, &c, tiny, sizeof(tiny)) == BT_ERR_INVALID);
    CU_ASSERT(memchr(tiny, '\0', sizeof(tiny)) != NULL);
    /* Length-delimited input: bytes past |len| are not read. */
    CU_ASSERT(sim_units_parse_size("12MiB", 2, &c, err, sizeof(err)) == 0 && c == 12);
}

static void test_units_format(void)
{
    char buf[SIM_UNITS_FMT_MAX];
    CU_ASSERT_STRING_EQUAL(sim_units_format_size(0, buf), "0");
    CU_ASSERT_STRING_EQUAL(sim_units_format_size(1, buf), "1B");
    CU_ASSERT_STRING_EQUAL(sim_units_format_size(104857600, buf), "100MiB");
    CU_ASSERT_STRING_EQUAL(sim_units_format_size(700000000, buf), "700MB");
    CU_ASSERT_STRING_EQUAL(sim_units_format_size(1000000000000ull, buf), "1TB");
    CU_ASSERT_STRING_EQUAL(sim_units_format_size(1536, buf), "1536B");
    CU_ASSERT_STRING_EQUAL(sim_units_format_rate(0, buf), "0");
    CU_ASSERT_STRING_EQUAL(sim_units_format_rate(1000000, buf), "8Mbit");
    CU_ASSERT_STRING_EQUAL(sim_units_format_rate(125000000, buf), "1Gbit");
    CU_ASSERT_STRING_EQUAL(sim_units_format_rate(64000, buf), "512kbit");
    CU_ASSERT_STRING_EQUAL(sim_units_format_rate(65536, buf), "64KiB/s");
    CU_ASSERT_STRING_EQUAL(sim_units_format_rate(3, buf), "3B/s");
    CU_ASSERT_STRING_EQUAL(sim_units_format_time(BT_TIME_NEVER, buf), "forever");
    CU_ASSERT_STRING_EQUAL(sim_units_format_time(0, buf), "0");
    CU_ASSERT_STRING_EQUAL(sim_units_format_time(1800000000ull, buf), "30min");
    CU_ASSERT_STRING_EQUAL(sim_units_format_time(5400000000ull, buf), "90min");
    CU_ASSERT_STRING_EQUAL(sim_units_format_time(86400000000ull, buf), "1d");
    CU_ASSERT_STRING_EQUAL(sim_units_format_time(1500, buf), "1500us");
    CU_ASSERT_STRING_EQUAL(sim_units_format_time(250000, buf), "250ms");
    CU_ASSERT_STRING_EQUAL(sim_units_format_arrival_rate(0.1, buf), "0.1/s");
    CU_ASSERT_STRING_EQUAL(sim_units_format_arrival_rate(100.0 / 3600.0, buf), "100/h");
    CU_ASSERT_STRING_EQUAL(sim_units_format_real(0.25, buf), "0.25");
    CU_ASSERT_STRING_EQUAL(sim_units_format(SIM_UNIT_COUNT, 42, buf), "42");
}

/* parse(format(x)) == x for random values of every unit, with and without small factors. */
static void test_units_roundtrip(void)
{
    uint64_t st = 1;
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        uint64_t x = splitmix(&st);
        if (i % 3 == 1)
            x >>= (x & 63);
        if (i % 3 == 2)
            x = (x % 100000) * 125000; /* whole Mbit */
        char buf[SIM_UNITS_FMT_MAX];
        uint64_t y = 0;
        if (psize(sim_units_format_size(x, buf), &y) != 0 || y != x)
            bad++;
        if (prate(sim_units_format_rate(x, buf), &y) != 0 || y != x)
            bad++;
        uint64_t t = x == BT_TIME_NEVER ? 0 : x;
        if (ptime(sim_units_format_time(t, buf), false, &y) != 0 || y != t)
            bad++;
        double r = (double)(x >> 11) / (double)(1ull << (x & 31)) * 1e-3, back = -1;
        char err[128];
        sim_units_format_arrival_rate(r, buf);
        if (sim_units_parse_arrival_rate(buf, strlen(buf), &back, err, sizeof(err)) != 0 ||
            back != r)
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* ---- distributions ---- */

static bool dist_ok(sim_unit u, const char *s, const char *canon)
{
    sim_dist d, e;
    char err[256], buf[SIM_DIST_FMT_MAX];
    if (sim_dist_parse(&d, u, s, strlen(s), true, err, sizeof(err)) != 0)
        return false;
    sim_dist_format(&d, buf);
    if (strcmp(buf, canon) != 0)
        return false;
    return sim_dist_parse(&e, u, buf, strlen(buf), true, err, sizeof(err)) == 0 &&
           sim_dist_equal(&d, &e);
}

static bool dist_err(sim_unit u, const char *s, const char *want)
{
    sim_dist d = sim_dist_const(SIM_UNIT_COUNT, 5);
    char err[256] = "";
    int rc = sim_dist_parse(&d, u, s, strlen(s), false, err, sizeof(err));
    return rc != 0 && d.unit == SIM_UNIT_COUNT && d.a == 5 && strstr(err, want) != NULL;
}

static void test_dist_parse(void)
{
    CU_ASSERT(dist_ok(SIM_UNIT_RATE, "8Mbit", "8Mbit"));
    CU_ASSERT(dist_ok(SIM_UNIT_TIME, "exp(10min)", "exp(10min)"));
    CU_ASSERT(dist_ok(SIM_UNIT_TIME, " exp ( 600s ) ", "exp(10min)"));
    CU_ASSERT(dist_ok(SIM_UNIT_RATE, "uniform(1Mbit, 4Mbit)", "uniform(1Mbit,4Mbit)"));
    CU_ASSERT(dist_ok(SIM_UNIT_RATE, "uniform(125kB/s,500kB/s)", "uniform(1Mbit,4Mbit)"));
    CU_ASSERT(dist_ok(SIM_UNIT_RATE, "lognormal(2Mbit,0.5)", "lognormal(2Mbit,0.5)"));
    CU_ASSERT(dist_ok(SIM_UNIT_TIME, "normal(10ms,2ms)", "normal(10ms,2ms)"));
    CU_ASSERT(dist_ok(SIM_UNIT_TIME, "forever", "forever"));
    CU_ASSERT(dist_ok(SIM_UNIT_BYTES, "uniform(1MiB,1MiB)", "uniform(1MiB,1MiB)"));
    CU_ASSERT(dist_err(SIM_UNIT_TIME, "exp()", "parameter 1: empty"));
    CU_ASSERT(dist_err(SIM_UNIT_RATE, "exp(1Mbit,2Mbit)", "takes 1 parameter"));
    CU_ASSERT(dist_err(SIM_UNIT_RATE, "uniform(1Mbit)", "takes 2 parameters"));
    CU_ASSERT(dist_err(SIM_UNIT_RATE, "uniform(1Mbit,2Mbit,3Mbit)", "takes 2"));
    CU_ASSERT(dist_err(SIM_UNIT_RATE, "uniform(4Mbit,1Mbit)", "A <= B"));
    CU_ASSERT(dist_err(SIM_UNIT_RATE, "lognormal(0,1)", "MEDIAN > 0"));
    CU_ASSERT(dist_err(SIM_UNIT_RATE, "lognormal(1Mbit,11)", "SIGMA between"));
    CU_ASSERT(dist_err(SIM_UNIT_RATE, "lognormal(1Mbit,1s)", "parameter 2"));
    CU_ASSERT(dist_err(SIM_UNIT_TIME, "expo(1s)", "unknown distribution"));
    CU_ASSERT(dist_err(SIM_UNIT_TIME, "exp(1s", "expected ')'"));
    CU_ASSERT(dist_err(SIM_UNIT_TIME, "exp(1s)x", "expected ')'"));
    CU_ASSERT(dist_err(SIM_UNIT_TIME, "exp(exp(1s))", "cannot be distributions"));
    CU_ASSERT(dist_err(SIM_UNIT_TIME, "exp(forever)", "not allowed"));
    CU_ASSERT(dist_err(SIM_UNIT_TIME, "forever", "not allowed"));
    CU_ASSERT(dist_err(SIM_UNIT_TIME, "exp(0)", "MEAN > 0"));
    CU_ASSERT(dist_err(SIM_UNIT_TIME, "exp(1Mbit)", "parameter 1: unknown unit"));
    CU_ASSERT(dist_err(SIM_UNIT_TIME, "(1s)", "unknown distribution"));
    CU_ASSERT(dist_err(SIM_UNIT_TIME, "", "empty"));
}

/* Mean of |n| draws, checking each against [lo, hi]. */
static double draw_mean(const sim_dist *d, gsl_rng *r, int n, uint64_t lo, uint64_t hi,
                        int *outside)
{
    double sum = 0;
    for (int i = 0; i < n; i++) {
        uint64_t x = sim_dist_sample(d, r);
        if (x < lo || x > hi)
            (*outside)++;
        sum += (double)x;
    }
    return sum / n;
}

static sim_dist parsed(sim_unit u, const char *s)
{
    sim_dist d = sim_dist_const(u, 0);
    char err[256];
    CU_ASSERT_FATAL(sim_dist_parse(&d, u, s, strlen(s), false, err, sizeof(err)) == 0);
    return d;
}

/* 200000 draws each from a fixed-seed mt19937; tolerances are >= 4 standard errors. */
static void test_dist_sample(void)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    CU_ASSERT_FATAL(r != NULL);
    gsl_rng_set(r, 42);
    const int n = 200000;
    int outside = 0;
    sim_dist e = parsed(SIM_UNIT_TIME, "exp(10min)");
    double m = draw_mean(&e, r, n, 0, UINT64_MAX - 1, &outside);
    CU_ASSERT(fabs(m / 600e6 - 1) < 0.01); /* sem 0.22% */
    CU_ASSERT_DOUBLE_EQUAL(sim_dist_mean(&e), 600e6, 1e-6);
    sim_dist u = parsed(SIM_UNIT_RATE, "uniform(1Mbit,4Mbit)");
    m = draw_mean(&u, r, n, 125000, 500000, &outside);
    CU_ASSERT(fabs(m / 312500 - 1) < 0.005); /* sem 0.08% */
    CU_ASSERT_DOUBLE_EQUAL(sim_dist_mean(&u), 312500, 1e-6);
    sim_dist l = parsed(SIM_UNIT_RATE, "lognormal(2Mbit,0.5)");
    m = draw_mean(&l, r, n, 0, UINT64_MAX - 1, &outside);
    double lm = 250000 * exp(0.125);
    CU_ASSERT(fabs(m / lm - 1) < 0.01); /* sem 0.12% */
    CU_ASSERT_DOUBLE_EQUAL(sim_dist_mean(&l), lm, 1e-6);
    sim_dist g = parsed(SIM_UNIT_TIME, "normal(10ms,5ms)");
    m = draw_mean(&g, r, n, 0, UINT64_MAX - 1, &outside);
    CU_ASSERT(fabs(m / sim_dist_mean(&g) - 1) < 0.005); /* sem 0.1% */
    CU_ASSERT(sim_dist_mean(&g) > 10000.0 && sim_dist_mean(&g) < 10500.0);
    sim_dist g0 = parsed(SIM_UNIT_TIME, "normal(0,5ms)"); /* half-normal: sd * sqrt(2/pi) */
    m = draw_mean(&g0, r, n, 0, UINT64_MAX - 1, &outside);
    CU_ASSERT(fabs(m / (5000 * sqrt(2 / 3.14159265358979323846)) - 1) < 0.01);
    CU_ASSERT_EQUAL(outside, 0);
    /* A minimum clamps every draw; a constant consumes no randomness. */
    sim_dist tiny = parsed(SIM_UNIT_RATE, "exp(8bit)");
    tiny.min = 1;
    m = draw_mean(&tiny, r, 10000, 1, UINT64_MAX - 1, &outside);
    CU_ASSERT_EQUAL(outside, 0);
    sim_dist c = parsed(SIM_UNIT_TIME, "30min");
    gsl_rng_set(r, 7);
    unsigned long before = gsl_rng_get(r);
    gsl_rng_set(r, 7);
    CU_ASSERT_EQUAL(sim_dist_sample(&c, r), 1800000000ull);
    CU_ASSERT_EQUAL(gsl_rng_get(r), before);
    gsl_rng_free(r);
}

static void test_dist_determinism(void)
{
    gsl_rng *a = gsl_rng_alloc(gsl_rng_mt19937), *b = gsl_rng_alloc(gsl_rng_mt19937);
    CU_ASSERT_FATAL(a != NULL && b != NULL);
    gsl_rng_set(a, 5);
    gsl_rng_set(b, 5);
    sim_dist d = parsed(SIM_UNIT_TIME, "lognormal(1s,2)");
    int diff = 0;
    for (int i = 0; i < 1000; i++)
        diff += sim_dist_sample(&d, a) != sim_dist_sample(&d, b);
    CU_ASSERT_EQUAL(diff, 0);
    /* Huge parameters saturate below UINT64_MAX instead of overflowing. */
    sim_dist h = parsed(SIM_UNIT_TIME, "lognormal(18446744073709551614us,10)");
    for (int i = 0; i < 100; i++)
        CU_ASSERT(sim_dist_sample(&h, a) <= UINT64_MAX - 1);
    gsl_rng_free(a);
    gsl_rng_free(b);
}

/* ---- scenarios ---- */

#define BASE                                                                                       \
    "[swarm]\nfile_size = 1MiB\n[arrivals]\ncount = 10\n[class a]\nshare = 1\nup = 1Mbit\n"        \
    "down = 8Mbit\n"

static int load_s(sim_scenario **sc, const char *text, const char *const *ov, size_t nov, char *err,
                  size_t errlen)
{
    return sim_scenario_load_string(sc, text, strlen(text), "t.ini", NULL, ov, nov, err, errlen);
}

/* Writes the resolved form of |sc| into a malloc'd string. */
static char *resolved(const sim_scenario *sc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(sim_scenario_write_resolved(sc, f) == 0);
    fclose(f);
    return buf;
}

/* resolved(sc) loads back to a scenario whose resolved form is identical. */
static bool roundtrips(const sim_scenario *sc)
{
    char *a = resolved(sc), err[512];
    sim_scenario *back = NULL;
    int rc =
        sim_scenario_load_string(&back, a, strlen(a), sc->name, NULL, NULL, 0, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "\nround trip of %s: %s\n", sc->name, err);
    bool ok = rc == 0;
    if (ok && back->arrivals.process == SIM_ARRIVALS_TRACE) {
        /* The trace is not part of the text; give the copy the same joins. */
        back->arrivals.trace = malloc(sc->arrivals.ntrace * sizeof(sim_trace_entry));
        CU_ASSERT_FATAL(back->arrivals.trace != NULL);
        memcpy(back->arrivals.trace, sc->arrivals.trace,
               sc->arrivals.ntrace * sizeof(sim_trace_entry));
        back->arrivals.ntrace = sc->arrivals.ntrace;
    }
    if (ok) {
        char *b = resolved(back);
        ok = strcmp(a, b) == 0;
        free(b);
    }
    sim_scenario_free(back);
    free(a);
    return ok;
}

static sim_scenario *load_file(const char *path)
{
    sim_scenario *sc = NULL;
    char err[512];
    int rc = sim_scenario_load(&sc, path, NULL, 0, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT(rc == 0);
    return sc;
}

static void test_shipped(void)
{
    static const char *const files[] = {
        "scenarios/tiny.ini",
        "scenarios/flashcrowd.ini",
        "scenarios/bench-flashcrowd-1000.ini",
        "scenarios/poisson.ini",
        "scenarios/churn.ini",
        "scenarios/trace.ini",
        "scenarios/clustering.ini",
        "scenarios/freeriders.ini",
        "scenarios/bittyrant.ini",
        "scenarios/propshare.ini",
        "scenarios/isp-asymmetric.ini",
        "scenarios/isp-locality.ini",
        "scenarios/decaying.ini",
        "scenarios/large-view.ini",
        "scenarios/poisson-fluid.ini",
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        sim_scenario *sc = load_file(files[i]);
        CU_ASSERT_FATAL(sc != NULL);
        CU_ASSERT(roundtrips(sc));
        sim_scenario_free(sc);
    }
    sim_scenario *sc = load_file("scenarios/tiny.ini");
    CU_ASSERT_FATAL(sc != NULL);
    CU_ASSERT_EQUAL(sc->swarm.file_size, 4u << 20);
    CU_ASSERT_EQUAL(sc->nclasses, 3);
    CU_ASSERT_EQUAL(sc->nseeds, 1);
    CU_ASSERT_EQUAL(sc->nleechers, 16);
    CU_ASSERT(sc->nseeds + sc->nleechers <= 20);
    CU_ASSERT_EQUAL(sc->classes[1].up.a, 125000);
    CU_ASSERT_EQUAL(sc->classes[1].up.min, 1);
    CU_ASSERT_EQUAL(sc->classes[1].isp, -1);
    CU_ASSERT_PTR_NOT_NULL(sc->classes[1].choker_ops);
    sim_scenario_free(sc);
    sc = load_file("scenarios/flashcrowd.ini");
    CU_ASSERT_FATAL(sc != NULL);
    CU_ASSERT_EQUAL(sc->nisps, 2);
    CU_ASSERT_EQUAL(sc->isps[1].latency_us, 15000);
    CU_ASSERT_EQUAL(sc->classes[2].isp, 1);
    CU_ASSERT_EQUAL(sc->nleechers, 1000);
    CU_ASSERT_EQUAL(sc->classes[0].linger.a, BT_TIME_NEVER);
    sim_scenario_free(sc);
    sc = load_file("scenarios/bench-flashcrowd-1000.ini");
    CU_ASSERT_FATAL(sc != NULL);
    CU_ASSERT(sc->nseeds == 1 && sc->nleechers == 1000 && sc->swarm.file_size == 100u << 20);
    CU_ASSERT_EQUAL(sc->swarm.piece_size, 256u << 10);
    sim_scenario_free(sc);
    sc = load_file("scenarios/poisson.ini");
    CU_ASSERT_FATAL(sc != NULL);
    CU_ASSERT_EQUAL(sc->arrivals.process, SIM_ARRIVALS_POISSON);
    CU_ASSERT_DOUBLE_EQUAL(sc->arrivals.rate_per_s, 0.05, 1e-15);
    CU_ASSERT_EQUAL(sc->nleechers, SIM_SCENARIO_UNLIMITED);
    CU_ASSERT_EQUAL(sc->classes[1].linger.kind, SIM_DIST_EXP);
    sim_scenario_free(sc);
    sc = load_file("scenarios/churn.ini");
    CU_ASSERT_FATAL(sc != NULL);
    CU_ASSERT_EQUAL(sc->arrivals.process, SIM_ARRIVALS_DECAY);
    CU_ASSERT_EQUAL(sc->classes[0].leave_at, BT_SEC(1800));
    CU_ASSERT_DOUBLE_EQUAL(sc->classes[3].abort, 0.1, 0);
    CU_ASSERT(sc->classes[2].crash > 0.3);
    sim_scenario_free(sc);
    sc = load_file("scenarios/trace.ini");
    CU_ASSERT_FATAL(sc != NULL);
    CU_ASSERT_EQUAL(sc->arrivals.ntrace, 16);
    CU_ASSERT_EQUAL(sc->nleechers, 16);
    CU_ASSERT_EQUAL(sc->arrivals.trace[0].cls, sim_scenario_find_class(sc, "cable"));
    CU_ASSERT_EQUAL(sc->arrivals.trace[2].cls, -1);
    CU_ASSERT_EQUAL(sc->arrivals.trace[15].time_us, BT_SEC(34 * 60));
    sim_scenario_free(sc);
}

static void test_defaults(void)
{
    sim_scenario *sc = NULL;
    char err[512];
    CU_ASSERT_FATAL(load_s(&sc, BASE, NULL, 0, err, sizeof(err)) == 0);
    CU_ASSERT_EQUAL(sc->swarm.piece_size, 262144);
    CU_ASSERT_EQUAL(sc->swarm.duration_us, BT_SEC(86400));
    CU_ASSERT_EQUAL(sc->swarm.seed, 1);
    CU_ASSERT_EQUAL(sc->swarm.payload, SIM_PAYLOAD_VIRTUAL);
    CU_ASSERT_EQUAL(sc->tracker.numwant, 50);
    CU_ASSERT_EQUAL(sc->tracker.interval_us, BT_SEC(1800));
    CU_ASSERT_EQUAL(sc->tracker.policy, SIM_TRACKER_RANDOM);
    CU_ASSERT_EQUAL(sc->arrivals.process, SIM_ARRIVALS_FLASH);
    const sim_class *c = &sc->classes[0];
    CU_ASSERT_EQUAL(c->role, SIM_ROLE_LEECHER);
    CU_ASSERT_STRING_EQUAL(c->choker, "reference");
    CU_ASSERT_STRING_EQUAL(c->picker, "rarest-first");
    CU_ASSERT(c->linger.kind == SIM_DIST_CONST && c->linger.a == 0);
    CU_ASSERT(c->abort_after.kind == SIM_DIST_EXP && c->abort_after.a == BT_SEC(600));
    CU_ASSERT_EQUAL(c->leave_at, BT_TIME_NEVER);
    CU_ASSERT_EQUAL(sc->nseeds, 0);
    CU_ASSERT(roundtrips(sc));
    sim_scenario_free(sc);
    /* A seed class defaults to one seed lingering forever. */
    CU_ASSERT_FATAL(load_s(&sc, BASE "[class s]\nrole = seed\nup = 1Mbit\ndown = 1Mbit\n", NULL, 0,
                           err, sizeof(err)) == 0);
    CU_ASSERT(sc->classes[1].count == 1 && sc->classes[1].linger.a == BT_TIME_NEVER);
    CU_ASSERT_EQUAL(sc->nseeds, 1);
    sim_scenario_free(sc);
    /* CRLF, a BOM, indentation and comments are fine. */
    const char *odd = "\xef\xbb\xbf; c\r\n[swarm]\r\n  file_size = 1MiB ; x\r\n# c\r\n"
                      "[arrivals]\r\n\tcount = 3\r\n[class a] ; c\r\nshare=1\r\nup=1Mbit\r\n"
                      "down=1Mbit";
    CU_ASSERT(load_s(&sc, odd, NULL, 0, err, sizeof(err)) == 0);
    if (sc != NULL)
        CU_ASSERT_EQUAL(sc->arrivals.count, 3);
    sim_scenario_free(sc);
    sim_scenario_free(NULL);
}

static void test_overrides(void)
{
    sim_scenario *sc = NULL;
    char err[512];
    const char *ov[] = {"class.a.up=2Mbit",   "class a.down = 16Mbit", "swarm.seed=7",
                        "tracker.numwant=30", "class.a.abort=0.5",     "swarm.seed=9"};
    CU_ASSERT_FATAL(load_s(&sc, BASE, ov, 6, err, sizeof(err)) == 0);
    CU_ASSERT_EQUAL(sc->classes[0].up.a, 250000);
    CU_ASSERT_EQUAL(sc->classes[0].down.a, 2000000);
    CU_ASSERT_EQUAL(sc->swarm.seed, 9);       /* the later override wins */
    CU_ASSERT_EQUAL(sc->tracker.numwant, 30); /* [tracker] created by the override */
    CU_ASSERT_DOUBLE_EQUAL(sc->classes[0].abort, 0.5, 0);
    sim_scenario_free(sc);
    /* Overrides can fix a file that would not load alone, and switch the process. */
    const char *ov2[] = {"arrivals.process=poisson", "arrivals.rate=0.2/s"};
    CU_ASSERT_FATAL(load_s(&sc, BASE, ov2, 2, err, sizeof(err)) == 0);
    CU_ASSERT_DOUBLE_EQUAL(sc->arrivals.rate_per_s, 0.2, 1e-15);
    sim_scenario_free(sc);
    static const struct {
        const char *ov;
        const char *want;
    } bad[] = {
        {"class.a.up=2Mb", "--set class.a.up=2Mb: unknown unit 'Mb'"},
        {"class.b.up=2Mbit", "--set class.b.up=2Mbit: no [class b]"},
        {"isp.x.latency=1ms", "no [isp x]"},
        {"class.a.upp=2Mbit", "--set class.a.upp=2Mbit: unknown key (keys of [class]: role,"},
        {"swarm.file_size", "expected SECTION.KEY=VALUE"},
        {"seed=3", "expected SECTION.KEY=VALUE"},
        {"swarm.=3", "expected SECTION.KEY=VALUE"},
        {"swarmy.seed=3", "unknown section"},
        {"class.a.share=0.5", "leecher shares must sum to 1, but [class a] 0.5 = 0.5"},
        {"swarm.seed=-1", "--set swarm.seed=-1: negative"},
        {"class.a.leave_at=1h", "only for seed classes"},
        {"arrivals.process=decay", "t.ini:3: [arrivals]: missing key 'rate'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sc = (sim_scenario *)1;
        int rc = load_s(&sc, BASE, &bad[i].ov, 1, err, sizeof(err));
        CU_ASSERT(rc != 0 && sc == NULL);
        if (strstr(err, bad[i].want) == NULL) {
            fprintf(stderr, "\noverride %zu: got '%s', want '%s'\n", i, err, bad[i].want);
            CU_FAIL("override error message");
        }
    }
}

static const struct {
    const char *text;
    const char *want;
} error_cases[] = {
    {BASE "foo = 1\n", "t.ini:9: [class a] foo = 1: unknown key"},
    {BASE "[swarms]\n", "t.ini:9: [swarms]: unknown section"},
    {BASE "[class]\n", "t.ini:9: [class]: unknown section"},
    {BASE "[swarm x]\n", "t.ini:9: [swarm x]: unknown section"},
    {BASE "[class a.b]\n", "t.ini:9: [class a.b]: a name may use only"},
    {BASE "[isp core]\n", "reserved"},
    {BASE "[class a\n", "t.ini:9: expected ']'"},
    {BASE "[class b] x\n", "t.ini:9: unexpected text after ']'"},
    {"x = 1\n" BASE, "t.ini:1: x = 1: outside any section"},
    {BASE "just words\n", "t.ini:9: expected '[section]' or 'key = value': 'just words'"},
    {BASE "up = 2Mbit\n", "t.ini:9: [class a] up = 2Mbit: key given twice (first on line 7)"},
    {BASE "[class a]\n", "t.ini:9: [class a] appears twice (first on line 5)"},
    {BASE "up2 = 1\njunk\n", "t.ini:9: [class a] up2 = 1: unknown key"},
    {BASE "junk\nup2 = 1\n", "t.ini:9: expected '[section]'"},
    {"[arrivals]\ncount=1\n[class a]\nshare=1\nup=1Mbit\ndown=1Mbit\n", "missing section [swarm]"},
    {"[swarm]\n[class a]\n", "t.ini:1: [swarm]: missing key 'file_size'"},
    {"[swarm]\nseed=1\n[class a]\nshare=1\nup=1Mbit\ndown=1Mbit\n", "missing key 'file_size'"},
    {"[swarm]\nfile_size=1MiB\n[arrivals]\ncount=1\n[class a]\nshare=1\ndown=1Mbit\n",
     "t.ini:5: [class a]: missing key 'up'"},
    {"[swarm]\nfile_size=1MiB\n[arrivals]\ncount=1\n[class a]\nup=1Mbit\ndown=1Mbit\n",
     "t.ini:5: [class a]: missing key 'share'"},
    {BASE "[class b]\nshare = 0.5\nup = 1Mbit\ndown = 1Mbit\n",
     "t.ini: leecher shares must sum to 1, but [class a] 1 + [class b] 0.5 = 1.5"},
    {BASE "[class b]\ncount = 5\nup = 1Mbit\ndown = 1Mbit\n",
     "[class a] gives share but [class b] gives count"},
    {BASE "count = 3\n", "t.ini:9: [class a] count = 3: a leecher class gives either share"},
    {"[swarm]\nfile_size=1MiB\n[class s]\nrole=seed\nup=1Mbit\ndown=1Mbit\n", "no leecher class"},
    {BASE "isp = x\n", "t.ini:9: [class a] isp = x: no such ISP"},
    {BASE "latency = 1Mbit\n",
     "t.ini:9: [class a] latency = 1Mbit: unknown unit 'Mbit' for a time"},
    {BASE "up2 = 1\n", "keys of [class]: role, count, share, up, down"},
    {BASE "choker = titfortat\n", "unknown choker (built-in: reference"},
    {BASE "picker = rarest\n", "expected one of: rarest-first, random, sequential"},
    {BASE "role = leech\n", "t.ini:9: [class a] role = leech: expected one of: leecher, seed"},
    {BASE "leave_at = 1h\n", "only for seed classes (this one has role = leecher)"},
    {BASE "[class b]\nshare = 0\nup = 1Mbit\ndown = 0\n",
     "t.ini:12: [class b] down = 0: a capacity must be > 0"},
    {BASE "down = uniform(0,0)\n", "down = uniform(0,0)"}, /* given twice */
    {BASE "abort = 1.5\n", "t.ini:9: [class a] abort = 1.5: a fraction must be between"},
    {BASE "abort_after = forever\n", "not allowed"},
    {BASE "linger = exp(forever)\n", "not allowed"},
    {BASE "[class s]\nrole = seed\nshare = 0.1\nup=1Mbit\ndown=1Mbit\n",
     "t.ini:11: [class s] share = 0.1: only for leecher classes (this one has role = seed)"},
    {BASE "[class s]\nabort = 0.1\nrole = seed\nup=1Mbit\ndown=1Mbit\n",
     "[class s] abort = 0.1: only for leecher"}, /* role applies whatever its position */
    {BASE "[swarm]\n", "[swarm] appears twice"},
    {"[swarm]\nfile_size = 1MiB\npiece_size = 10000\n[class a]\n", "multiple of 16KiB"},
    {"[swarm]\nfile_size = 1MiB\npiece_size = 128MiB\n[class a]\n", "multiple of 16KiB"},
    {"[swarm]\nfile_size = 2TiB\npiece_size = 16KiB\n[arrivals]\ncount=1\n[class a]\nshare=1\n"
     "up=1Mbit\ndown=1Mbit\n",
     "t.ini:2: [swarm] file_size = 2TiB: 134217728 pieces"},
    {"[swarm]\nfile_size = 0\n[arrivals]\ncount=1\n[class a]\nshare=1\nup=1Mbit\ndown=1Mbit\n",
     "t.ini:2: [swarm] file_size = 0: must be > 0"},
    {"[swarm]\nfile_size = 1MiB\nduration = forever\n", "not allowed"},
    {"[swarm]\nfile_size = 1MiB\nduration = 0\n[arrivals]\ncount=1\n[class a]\nshare=1\n"
     "up=1Mbit\ndown=1Mbit\n",
     "[swarm] duration = 0: must be > 0"},
    {"[swarm]\nfile_size = 1MiB\npayload = fake\n", "expected one of: virtual, real"},
    {"[swarm]\nfile_size=1MiB\n[class a]\nshare=1\nup=1Mbit\ndown=1Mbit\n",
     "missing section [arrivals] (with count"},
    {"[swarm]\nfile_size=1MiB\n[arrivals]\nprocess=flash\n[class a]\nshare=1\nup=1Mbit\n"
     "down=1Mbit\n",
     "t.ini:3: [arrivals]: missing key 'count'"},
    {"[swarm]\nfile_size=1MiB\n[arrivals]\ncount=unlimited\n[class a]\nshare=1\nup=1Mbit\n"
     "down=1Mbit\n",
     "count = unlimited: a flash crowd needs a finite count"},
    {"[swarm]\nfile_size=1MiB\n[arrivals]\nprocess=poisson\n[class a]\nshare=1\nup=1Mbit\n"
     "down=1Mbit\n",
     "t.ini:3: [arrivals]: missing key 'rate' (needed by process = poisson)"},
    {"[swarm]\nfile_size=1MiB\n[arrivals]\nprocess=poisson\nrate=0/s\n[class a]\nshare=1\n"
     "up=1Mbit\ndown=1Mbit\n",
     "t.ini:5: [arrivals] rate = 0/s: must be > 0"},
    {"[swarm]\nfile_size=1MiB\n[arrivals]\nprocess=decay\nrate=1/s\n[class a]\nshare=1\n"
     "up=1Mbit\ndown=1Mbit\n",
     "missing key 'tau'"},
    {"[swarm]\nfile_size=1MiB\n[arrivals]\nprocess=trace\n[class a]\nshare=1\nup=1Mbit\n"
     "down=1Mbit\n",
     "missing key 'file'"},
    {"[swarm]\nfile_size=1MiB\n[arrivals]\nprocess=trace\nfile=x\n[class a]\ncount=3\n"
     "up=1Mbit\ndown=1Mbit\n",
     "with process = trace, leecher classes take share"},
    {"[swarm]\nfile_size=1MiB\n[arrivals]\ncount=10\n[class a]\ncount=3\nup=1Mbit\n"
     "down=1Mbit\n",
     "t.ini:4: [arrivals] count = 10: the leecher classes' counts sum to 3"},
    {"[swarm]\nfile_size=1MiB\n[arrivals]\ncount=10000001\n", "too large (at most 10000000)"},
    {"[swarm]\nfile_size=1MiB\n[arrivals]\ncount=6000000\n[class s]\nrole=seed\n"
     "count=5000000\nup=1Mbit\ndown=1Mbit\n[class a]\nshare=1\nup=1Mbit\ndown=1Mbit\n",
     "5000000 seeds + 6000000 leechers is more than 10000000 peers"},
    {BASE "[tracker]\nnumwant = 1001\n", "t.ini:10: [tracker] numwant = 1001: too large"},
    {BASE "[tracker]\nmin_interval = 1h\n", "min_interval = 1h: must not exceed interval"},
    {BASE "[tracker]\npolicy = isp\n", "expected one of: random, isp-biased"},
    {BASE "[tracker]\ninterval = 0\n", "[tracker] interval = 0: must be > 0"},
    {BASE "[isp x]\ntransit_up = 10\n", "t.ini:10: [isp x] transit_up = 10: a rate needs a unit"},
    {BASE "up = 1Mbit\x01\n", "[class a] up = 1Mbit?: key given twice"},
    {BASE "[class "
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n",
     "name longer than 63"},
};

static void test_errors(void)
{
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        sim_scenario *sc = (sim_scenario *)1;
        char err[1024] = "";
        int rc = load_s(&sc, error_cases[i].text, NULL, 0, err, sizeof(err));
        CU_ASSERT(rc != 0 && sc == NULL);
        if (strstr(err, error_cases[i].want) == NULL) {
            fprintf(stderr, "\nerror case %zu: got '%s', want '%s'\n", i, err, error_cases[i].want);
            CU_FAIL("error message");
        }
    }
}

/* Limits that need generated input: line length, NUL bytes, file size, section counts. */
static void test_limits(void)
{
    sim_scenario *sc = NULL;
    char err[512];
    size_t cap = 300000;
    char *t = malloc(cap);
    CU_ASSERT_FATAL(t != NULL);
    snprintf(t, cap, "%s; %0*d\n", BASE, 200, 0);
    CU_ASSERT(load_s(&sc, t, NULL, 0, err, sizeof(err)) == BT_ERR_LIMIT);
    CU_ASSERT(strstr(err, "t.ini:9: line too long (202 characters, at most 196)") != NULL);
    snprintf(t, cap, "%s; %0*d\n", BASE, 194, 0); /* exactly 196 characters */
    CU_ASSERT(load_s(&sc, t, NULL, 0, err, sizeof(err)) == 0);
    sim_scenario_free(sc);
    memcpy(t, BASE "x", sizeof(BASE) + 1);
    t[sizeof(BASE) - 1] = '\0';
    CU_ASSERT(sim_scenario_load_string(&sc, t, sizeof(BASE) + 1, "t.ini", NULL, NULL, 0, err,
                                       sizeof(err)) == BT_ERR_INVALID);
    CU_ASSERT(strstr(err, "t.ini:9: NUL byte") != NULL);
    size_t o = (size_t)snprintf(t, cap, "%s", BASE);
    for (int i = 0; i < 257 && o < cap; i++)
        o += (size_t)snprintf(t + o, cap - o, "[class c%d]\nshare=0\nup=1Mbit\ndown=1Mbit\n", i);
    CU_ASSERT(load_s(&sc, t, NULL, 0, err, sizeof(err)) == BT_ERR_LIMIT);
    CU_ASSERT(strstr(err, "more than 256 [class] sections") != NULL);
    o = (size_t)snprintf(t, cap, "%s", BASE);
    for (int i = 0; i < 255 && o < cap; i++) /* 256 classes are fine */
        o += (size_t)snprintf(t + o, cap - o, "[class c%d]\nshare=0\nup=1Mbit\ndown=1Mbit\n", i);
    CU_ASSERT(load_s(&sc, t, NULL, 0, err, sizeof(err)) == 0);
    if (sc != NULL)
        CU_ASSERT_EQUAL(sc->nclasses, 256);
    sim_scenario_free(sc);
    free(t);
    size_t big = SIM_SCENARIO_MAX_FILE_BYTES + 1;
    t = malloc(big + 1);
    CU_ASSERT_FATAL(t != NULL);
    memset(t, '\n', big);
    t[big] = '\0';
    CU_ASSERT(sim_scenario_load_string(&sc, t, big, "t.ini", NULL, NULL, 0, err, sizeof(err)) ==
              BT_ERR_LIMIT);
    CU_ASSERT(strstr(err, "larger than 1048576 bytes") != NULL);
    free(t);
    CU_ASSERT(sim_scenario_load(&sc, "scenarios/no-such-file.ini", NULL, 0, err, sizeof(err)) ==
              BT_ERR_NOTFOUND);
    CU_ASSERT(sc == NULL && strstr(err, "no-such-file.ini: cannot open") != NULL);
}

static void test_counts(void)
{
    sim_scenario *sc = NULL;
    char err[512];
    uint64_t out[4];
    const char *text = "[swarm]\nfile_size=1MiB\n[class s]\nrole=seed\ncount=2\nup=1Mbit\n"
                       "down=1Mbit\n[class a]\ncount=7\nup=1Mbit\ndown=1Mbit\n[class b]\n"
                       "count=5\nup=1Mbit\ndown=1Mbit\n";
    CU_ASSERT_FATAL(load_s(&sc, text, NULL, 0, err, sizeof(err)) == 0);
    CU_ASSERT(sc->by_count);
    CU_ASSERT_EQUAL(sc->nleechers, 12);
    CU_ASSERT_EQUAL(sc->nseeds, 2);
    sim_scenario_class_counts(sc, 12, out);
    CU_ASSERT(out[0] == 0 && out[1] == 7 && out[2] == 5);
    CU_ASSERT(roundtrips(sc));
    sim_scenario_free(sc);
    text = "[swarm]\nfile_size=1MiB\n[arrivals]\ncount=1000\n[class a]\nshare=0.6\nup=1Mbit\n"
           "down=1Mbit\n[class b]\nshare=0.3\nup=1Mbit\ndown=1Mbit\n[class c]\nshare=0.1\n"
           "up=1Mbit\ndown=1Mbit\n";
    CU_ASSERT_FATAL(load_s(&sc, text, NULL, 0, err, sizeof(err)) == 0);
    CU_ASSERT(!sc->by_count);
    sim_scenario_class_counts(sc, 1000, out);
    CU_ASSERT(out[0] == 600 && out[1] == 300 && out[2] == 100);
    sim_scenario_class_counts(sc, 7, out); /* 4.2, 2.1, 0.7 -> 4, 2, 1 */
    CU_ASSERT(out[0] == 4 && out[1] == 2 && out[2] == 1);
    sim_scenario_class_counts(sc, 0, out);
    CU_ASSERT(out[0] == 0 && out[1] == 0 && out[2] == 0);
    sim_scenario_free(sc);
    const char *ov[] = {"class.a.share=0.333333333333", "class.b.share=0.333333333333",
                        "class.c.share=0.333333333334"};
    CU_ASSERT_FATAL(load_s(&sc, text, ov, 3, err, sizeof(err)) == 0);
    sim_scenario_class_counts(sc, 10, out); /* the largest remainder gets the extra one */
    CU_ASSERT(out[0] + out[1] + out[2] == 10 && out[2] == 4);
    sim_scenario_free(sc);
    const char *ov2[] = {"class.c.share=0.1000001"};
    CU_ASSERT(load_s(&sc, text, ov2, 1, err, sizeof(err)) == BT_ERR_INVALID);
    CU_ASSERT(strstr(err, "leecher shares must sum to 1, but [class a] 0.6 + [class b] 0.3 + "
                          "[class c] 0.1000001 = 1.000000") != NULL);
}

#define TRACE_SC                                                                                   \
    "[swarm]\nfile_size=1MiB\n[arrivals]\nprocess=trace\nfile=joins.txt\nstart=1min\n"             \
    "[class s]\nrole=seed\nup=1Mbit\ndown=1Mbit\n[class a]\nshare=0.5\nup=1Mbit\ndown=1Mbit\n"     \
    "[class b]\nshare=0.5\nup=1Mbit\ndown=1Mbit\n"

static bool trace_err(sim_scenario *sc, const char *text, const char *want)
{
    char err[512] = "";
    int rc = sim_scenario_parse_trace(sc, text, strlen(text), "j.txt", err, sizeof(err));
    if (rc == 0 || strstr(err, want) == NULL) {
        fprintf(stderr, "\ntrace: got '%s', want '%s'\n", err, want);
        return false;
    }
    return true;
}

static void test_trace(void)
{
    sim_scenario *sc = NULL;
    char err[512];
    CU_ASSERT_FATAL(sim_scenario_load_string(&sc, TRACE_SC, strlen(TRACE_SC), "t.ini", "/data",
                                             NULL, 0, err, sizeof(err)) == 0);
    CU_ASSERT_STRING_EQUAL(sc->arrivals.file_path, "/data/joins.txt");
    CU_ASSERT_PTR_NULL(sc->arrivals.trace); /* the string loader reads no file */
    const char *text = "# joins\n0 a\n\n  1.5s\tb   # late\n1.5s\r\n2min a\n3min";
    CU_ASSERT_FATAL(sim_scenario_parse_trace(sc, text, strlen(text), "j.txt", err, sizeof(err)) ==
                    0);
    CU_ASSERT_EQUAL(sc->arrivals.ntrace, 5);
    CU_ASSERT_EQUAL(sc->nleechers, 5);
    const sim_trace_entry *e = sc->arrivals.trace;
    CU_ASSERT(e[0].time_us == BT_SEC(60) && e[0].cls == 1);
    CU_ASSERT(e[1].time_us == BT_SEC(60) + 1500000 && e[1].cls == 2);
    CU_ASSERT(e[2].cls == -1 && e[3].time_us == BT_SEC(180) && e[4].time_us == BT_SEC(240));
    CU_ASSERT(trace_err(sc, "1s\n2s\n1s\n", "j.txt:3: join times must not decrease"));
    CU_ASSERT(trace_err(sc, "1s zz\n", "j.txt:1: no class 'zz'"));
    CU_ASSERT(trace_err(sc, "1s s\n", "j.txt:1: 's' is a seed class"));
    CU_ASSERT(trace_err(sc, "1s a b\n", "j.txt:1: expected 'TIME [CLASS]'"));
    CU_ASSERT(trace_err(sc, "\n\n1x\n", "j.txt:3: unknown unit 'x'"));
    CU_ASSERT(trace_err(sc, "forever\n", "j.txt:1: 'forever' is not allowed"));
    CU_ASSERT(trace_err(sc, "# nothing\n\n", "j.txt: no join times"));
    CU_ASSERT(trace_err(sc, "", "no join times"));
    CU_ASSERT(trace_err(sc, "18446744073709551614us\n", "time too large"));
    char longl[400];
    memset(longl, ' ', sizeof(longl));
    memcpy(longl + 300, "1s\n", 4);
    CU_ASSERT(trace_err(sc, longl, "j.txt:1: line longer than 255"));
    CU_ASSERT_EQUAL(sc->arrivals.ntrace, 5); /* failed parses leave the old trace */
    CU_ASSERT(sim_scenario_load_trace(sc, err, sizeof(err)) == BT_ERR_NOTFOUND);
    CU_ASSERT(strstr(err, "t.ini: [arrivals] file = joins.txt: cannot open /data/joins.txt") !=
              NULL);
    sim_scenario_free(sc);
    /* Without a directory the path stays as written; absolute paths are kept. */
    CU_ASSERT_FATAL(load_s(&sc, TRACE_SC, NULL, 0, err, sizeof(err)) == 0);
    CU_ASSERT_STRING_EQUAL(sc->arrivals.file_path, "joins.txt");
    sim_scenario_free(sc);
    const char *ov[] = {"arrivals.file=/abs/j.txt"};
    CU_ASSERT_FATAL(sim_scenario_load_string(&sc, TRACE_SC, strlen(TRACE_SC), "t.ini", "/data", ov,
                                             1, err, sizeof(err)) == 0);
    CU_ASSERT_STRING_EQUAL(sc->arrivals.file_path, "/abs/j.txt");
    sim_scenario_free(sc);
    /* A trace file with an error names the file and the line. */
    const char *ov2[] = {"arrivals.file=tiny.ini"};
    CU_ASSERT(sim_scenario_load(&sc, "scenarios/trace.ini", ov2, 1, err, sizeof(err)) != 0);
    CU_ASSERT(sc == NULL && strstr(err, "scenarios/tiny.ini:1: expected 'TIME [CLASS]'") != NULL);
}

/* [isp NAME] up_scale and up_cap: parsed, written back, refused when bad, applied to every
 * subscriber's upload capacity (and only to the ISP's peers) when the simulation is built. */
#define ISPS                                                                                       \
    "[swarm]\nfile_size = 1MiB\n[arrivals]\ncount = 40\n"                                          \
    "[isp half]\nup_scale = 0.5\n[isp capped]\nup_cap = 512kbit\n"                                 \
    "[isp both]\nup_scale = 50%\nup_cap = 1Mbit\n[isp plain]\nlatency = 1ms\n"
#define ISP_CLASSES                                                                                \
    "[class s]\nrole = seed\nup = 10Mbit\ndown = 10Mbit\nisp = capped\n"                           \
    "[class h]\nshare = 0.25\nup = uniform(1Mbit,3Mbit)\ndown = 8Mbit\nisp = half\n"               \
    "[class c]\nshare = 0.25\nup = uniform(256kbit,1Mbit)\ndown = 8Mbit\nisp = capped\n"           \
    "[class b]\nshare = 0.25\nup = 4Mbit\ndown = 8Mbit\nisp = both\n"                              \
    "[class p]\nshare = 0.25\nup = 3Mbit\ndown = 8Mbit\nisp = plain\n"

static void test_isp_upload(void)
{
    sim_scenario *sc = NULL;
    char err[512];
    int rc = load_s(&sc, ISPS ISP_CLASSES, NULL, 0, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_FATAL(rc == 0);
    CU_ASSERT(sc->isps[0].up_scale == 0.5 && sc->isps[0].up_cap_Bps == 0);
    CU_ASSERT(sc->isps[1].up_scale == 1 && sc->isps[1].up_cap_Bps == 64000);
    CU_ASSERT(sc->isps[2].up_scale == 0.5 && sc->isps[2].up_cap_Bps == 125000);
    CU_ASSERT(sc->isps[3].up_scale == 1 && sc->isps[3].up_cap_Bps == 0);
    CU_ASSERT(roundtrips(sc));
    CU_ASSERT_EQUAL(sim_scenario_isp_up(&sc->isps[0], 125001), 62501); /* rounded */
    CU_ASSERT_EQUAL(sim_scenario_isp_up(&sc->isps[0], 1), 1);          /* at least 1 B/s */
    CU_ASSERT_EQUAL(sim_scenario_isp_up(&sc->isps[1], 63999), 63999);
    CU_ASSERT_EQUAL(sim_scenario_isp_up(&sc->isps[1], 64001), 64000);
    CU_ASSERT_EQUAL(sim_scenario_isp_up(&sc->isps[2], 500000), 125000); /* scale, then cap */
    CU_ASSERT_EQUAL(sim_scenario_isp_up(&sc->isps[2], 200000), 100000);
    CU_ASSERT_EQUAL(sim_scenario_isp_up(&sc->isps[3], UINT64_MAX), UINT64_MAX);
    CU_ASSERT_EQUAL(sim_scenario_isp_up(NULL, 777), 777);
    sim_world *w = NULL;
    CU_ASSERT_FATAL(sim_run_build(&w, sc, false, err, sizeof(err)) == 0);
    uint32_t seen[5] = {0}, capped_below = 0;
    for (uint32_t i = 0; i < sim_world_npeers(w); i++) {
        const sim_peer_result *p = sim_world_peer(w, i);
        uint64_t up = p->up_Bps;
        seen[p->cls]++;
        if (p->cls == 0) /* 10 Mbit seed, capped at 512 kbit */
            CU_ASSERT(up == 64000);
        if (p->cls == 1) /* 1..3 Mbit, halved */
            CU_ASSERT(up >= 62500 && up <= 187500);
        if (p->cls == 2) { /* 256 kbit..1 Mbit, capped at 512 kbit */
            CU_ASSERT(up >= 32000 && up <= 64000);
            capped_below += up < 64000;
        }
        if (p->cls == 3) /* 4 Mbit halved = 2 Mbit, capped at 1 Mbit */
            CU_ASSERT(up == 125000);
        if (p->cls == 4) /* no scale, no cap */
            CU_ASSERT(up == 375000);
    }
    CU_ASSERT(seen[0] == 1 && seen[1] == 10 && seen[2] == 10 && seen[4] == 10);
    CU_ASSERT(capped_below > 0 && capped_below < 10); /* some under the cap, some at it */
    sim_world_del(w);
    sim_scenario_free(sc);
    /* overrides reach the keys; bad values are refused with the key named */
    const char *ov[] = {"isp.plain.up_scale=0.25", "isp.half.up_cap=2Mbit"};
    CU_ASSERT_FATAL(load_s(&sc, ISPS ISP_CLASSES, ov, 2, err, sizeof(err)) == 0);
    CU_ASSERT(sc->isps[3].up_scale == 0.25 && sc->isps[0].up_cap_Bps == 250000);
    sim_scenario_free(sc);
    static const struct {
        const char *text, *want;
    } bad[] = {
        {BASE "[isp x]\nup_scale = 0\n", "t.ini:10: [isp x] up_scale = 0: must be > 0"},
        {BASE "[isp x]\nup_scale = 2\n", "t.ini:10: [isp x] up_scale = 2:"},
        {BASE "[isp x]\nup_scale = -0.5\n", "[isp x] up_scale = -0.5:"},
        {BASE "[isp x]\nup_cap = 512\n", "t.ini:10: [isp x] up_cap = 512: a rate needs a unit"},
        {BASE "[isp x]\nup_cap = fast\n", "[isp x] up_cap = fast:"},
        {BASE "up_cap = 1Mbit\n", "[class a] up_cap = 1Mbit: unknown key"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sc = (sim_scenario *)1;
        err[0] = '\0';
        CU_ASSERT(load_s(&sc, bad[i].text, NULL, 0, err, sizeof(err)) != 0 && sc == NULL);
        if (strstr(err, bad[i].want) == NULL) {
            fprintf(stderr, "\nisp case %zu: got '%s', want '%s'\n", i, err, bad[i].want);
            CU_FAIL("isp upload error message");
        }
    }
}

int test_sim_scenario_add_suite(void)
{
    CU_pSuite s = CU_add_suite("sim_scenario", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "units: sizes", test_units_size) == NULL ||
        CU_add_test(s, "units: rates", test_units_rate) == NULL ||
        CU_add_test(s, "units: times", test_units_time) == NULL ||
        CU_add_test(s, "units: arrival rates, counts, fractions, bools", test_units_other) ==
            NULL ||
        CU_add_test(s, "units: canonical printing", test_units_format) == NULL ||
        CU_add_test(s, "units: print/parse round trip", test_units_roundtrip) == NULL ||
        CU_add_test(s, "dist: parse, print, rejects", test_dist_parse) == NULL ||
        CU_add_test(s, "dist: sample means", test_dist_sample) == NULL ||
        CU_add_test(s, "dist: determinism, saturation", test_dist_determinism) == NULL ||
        CU_add_test(s, "scenario: shipped files", test_shipped) == NULL ||
        CU_add_test(s, "scenario: defaults and syntax", test_defaults) == NULL ||
        CU_add_test(s, "scenario: overrides", test_overrides) == NULL ||
        CU_add_test(s, "scenario: error messages", test_errors) == NULL ||
        CU_add_test(s, "scenario: limits", test_limits) == NULL ||
        CU_add_test(s, "scenario: class counts", test_counts) == NULL ||
        CU_add_test(s, "scenario: traces", test_trace) == NULL ||
        CU_add_test(s, "scenario: ISP upload scale and cap", test_isp_upload) == NULL)
        return 1;
    return 0;
}
