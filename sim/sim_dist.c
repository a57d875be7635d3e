/* sim_dist.c: scenario distributions: parsing (parameters in the key's unit), canonical
 * printing and sampling through GSL with a caller-supplied generator, rounded to integers.
 * Never allocates, never prints, no global state. */
#include "sim_dist.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NORMAL_MAX_TRIES 1000
#define LOGNORMAL_SIGMA_MAX 10.0
#define MAX_PARAMS 2

typedef struct dist_def {
    const char *name;
    sim_dist_kind kind;
    unsigned nparams;
    const char *usage;
} dist_def;

static const dist_def dists[] = {
    {"exp", SIM_DIST_EXP, 1, "exp(MEAN)"},
    {"uniform", SIM_DIST_UNIFORM, 2, "uniform(A,B)"},
    {"lognormal", SIM_DIST_LOGNORMAL, 2, "lognormal(MEDIAN,SIGMA)"},
    {"normal", SIM_DIST_NORMAL, 2, "normal(MEAN,SD)"},
};
#define NDISTS (sizeof(dists) / sizeof(dists[0]))

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && is_space(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_space((*s)[*len - 1]))
        (*len)--;
}

sim_dist sim_dist_const(sim_unit unit, uint64_t value)
{
    sim_dist d = {.kind = SIM_DIST_CONST, .unit = unit, .a = value};
    return d;
}

static const dist_def *find_dist(const char *s, size_t len)
{
    for (size_t i = 0; i < NDISTS; i++)
        if (strlen(dists[i].name) == len && memcmp(dists[i].name, s, len) == 0)
            return &dists[i];
    return NULL;
}

/* Splits "a, b" at commas into at most MAX_PARAMS trimmed pieces; returns the count, or
 * MAX_PARAMS + 1 when there are more. */
static unsigned split_params(const char *s, size_t len, const char *ps[], size_t pl[])
{
    unsigned n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ',')
            continue;
        if (n == MAX_PARAMS)
            return MAX_PARAMS + 1;
        ps[n] = s + start;
        pl[n] = i - start;
        trim(&ps[n], &pl[n]);
        n++;
        start = i + 1;
    }
    return n;
}

static int check_params(const sim_dist *d, char *err, size_t errlen)
{
    switch (d->kind) {
    case SIM_DIST_EXP:
        if (d->a == 0)
            return fail(err, errlen, BT_ERR_INVALID, "exp(MEAN) needs MEAN > 0");
        break;
    case SIM_DIST_UNIFORM:
        if (d->a > d->b)
            return fail(err, errlen, BT_ERR_INVALID, "uniform(A,B) needs A <= B");
        break;
    case SIM_DIST_LOGNORMAL:
        if (d->a == 0)
            return fail(err, errlen, BT_ERR_INVALID, "lognormal(MEDIAN,SIGMA) needs MEDIAN > 0");
        if (!(d->sigma <= LOGNORMAL_SIGMA_MAX))
            return fail(err, errlen, BT_ERR_INVALID,
                        "lognormal(MEDIAN,SIGMA) needs SIGMA between 0 and %g",
                        LOGNORMAL_SIGMA_MAX);
        break;
    default:
        break;
    }
    return 0;
}

static int parse_call(sim_dist *d, sim_unit unit, const char *s, size_t len, size_t open, char *err,
                      size_t errlen)
{
    const char *name = s;
    size_t nl = open;
    trim(&name, &nl);
    const dist_def *def = find_dist(name, nl);
    if (def == NULL)
        return fail(err, errlen, BT_ERR_INVALID,
                    "unknown distribution (use exp(MEAN), uniform(A,B), "
                    "lognormal(MEDIAN,SIGMA) or normal(MEAN,SD))");
    if (s[len - 1] != ')')
        return fail(err, errlen, BT_ERR_INVALID, "%s: expected ')' at the end", def->usage);
    const char *args = s + open + 1;
    size_t al = len - open - 2;
    if (memchr(args, '(', al) != NULL || memchr(args, ')', al) != NULL)
        return fail(err, errlen, BT_ERR_INVALID, "%s: parameters cannot be distributions",
                    def->usage);
    const char *ps[MAX_PARAMS];
    size_t pl[MAX_PARAMS];
    unsigned n = split_params(args, al, ps, pl);
    if (n != def->nparams)
        return fail(err, errlen, BT_ERR_INVALID, "%s takes %u parameter%s", def->usage,
                    def->nparams, def->nparams == 1 ? "" : "s");
    sim_dist t = {.kind = def->kind, .unit = unit};
    for (unsigned i = 0; i < n; i++) {
        char sub[160];
        int rc;
        if (def->kind == SIM_DIST_LOGNORMAL && i == 1)
            rc = sim_units_parse_real(ps[i], pl[i], &t.sigma, sub, sizeof(sub));
        else
            rc = sim_units_parse(unit, ps[i], pl[i], false, i == 0 ? &t.a : &t.b, sub, sizeof(sub));
        if (rc != 0)
            return fail(err, errlen, rc, "%s: parameter %u: %s", def->usage, i + 1, sub);
    }
    int rc = check_params(&t, err, errlen);
    if (rc != 0)
        return rc;
    *d = t;
    return 0;
}

int sim_dist_parse(sim_dist *d, sim_unit unit, const char *s, size_t len, bool allow_forever,
                   char *err, size_t errlen)
{
    trim(&s, &len);
    const char *open = memchr(s, '(', len);
    if (open != NULL)
        return parse_call(d, unit, s, len, (size_t)(open - s), err, errlen);
    uint64_t v;
    int rc = sim_units_parse(unit, s, len, allow_forever && unit == SIM_UNIT_TIME, &v, err, errlen);
    if (rc != 0)
        return rc;
    *d = sim_dist_const(unit, v);
    return 0;
}

char *sim_dist_format(const sim_dist *d, char *buf)
{
    char a[SIM_UNITS_FMT_MAX], b[SIM_UNITS_FMT_MAX];
    sim_units_format(d->unit, d->a, a);
    switch (d->kind) {
    case SIM_DIST_CONST:
        snprintf(buf, SIM_DIST_FMT_MAX, "%s", a);
        break;
    case SIM_DIST_EXP:
        snprintf(buf, SIM_DIST_FMT_MAX, "exp(%s)", a);
        break;
    case SIM_DIST_UNIFORM:
        snprintf(buf, SIM_DIST_FMT_MAX, "uniform(%s,%s)", a, sim_units_format(d->unit, d->b, b));
        break;
    case SIM_DIST_LOGNORMAL:
        snprintf(buf, SIM_DIST_FMT_MAX, "lognormal(%s,%s)", a, sim_units_format_real(d->sigma, b));
        break;
    case SIM_DIST_NORMAL:
        snprintf(buf, SIM_DIST_FMT_MAX, "normal(%s,%s)", a, sim_units_format(d->unit, d->b, b));
        break;
    }
    return buf;
}

/* Rounds to the nearest integer in [0, UINT64_MAX - 1]; NaN becomes 0. */
static uint64_t round_u64(double x)
{
    if (!(x > 0.0))
        return 0;
    x = floor(x + 0.5);
    if (x >= 18446744073709549568.0) /* the largest double below 2^64 */
        return UINT64_MAX - 1;
    uint64_t v = (uint64_t)x;
    return v == UINT64_MAX ? UINT64_MAX - 1 : v;
}

static double draw_normal(const sim_dist *d, gsl_rng *r)
{
    double mean = (double)d->a, sd = (double)d->b;
    for (int i = 0; i < NORMAL_MAX_TRIES; i++) {
        double x = mean + gsl_ran_gaussian(r, sd);
        if (x >= 0.0)
            return x;
    }
    return mean; /* unreachable in practice: each try succeeds with probability >= 1/2 */
}

uint64_t sim_dist_sample(const sim_dist *d, gsl_rng *r)
{
    double x = 0.0;
    switch (d->kind) {
    case SIM_DIST_CONST:
        return d->a < d->min ? d->min : d->a;
    case SIM_DIST_EXP:
        x = gsl_ran_exponential(r, (double)d->a);
        break;
    case SIM_DIST_UNIFORM:
        x = gsl_ran_flat(r, (double)d->a, (double)d->b);
        break;
    case SIM_DIST_LOGNORMAL:
        x = gsl_ran_lognormal(r, log((double)d->a), d->sigma);
        break;
    case SIM_DIST_NORMAL:
        x = draw_normal(d, r);
        break;
    }
    uint64_t v = round_u64(x);
    return v < d->min ? d->min : v;
}

double sim_dist_mean(const sim_dist *d)
{
    double a = (double)d->a, b = (double)d->b;
    switch (d->kind) {
    case SIM_DIST_CONST:
    case SIM_DIST_EXP:
        return a;
    case SIM_DIST_UNIFORM:
        return (a + b) / 2.0;
    case SIM_DIST_LOGNORMAL:
        return a * exp(d->sigma * d->sigma / 2.0);
    case SIM_DIST_NORMAL:
        if (d->b == 0)
            return a;
        /* Mean of N(a, b^2) truncated to [0, inf): a + b * phi(al) / Q(al), al = -a/b. */
        return a + b * gsl_ran_ugaussian_pdf(-a / b) / gsl_cdf_ugaussian_Q(-a / b);
    }
    return 0.0;
}

bool sim_dist_equal(const sim_dist *a, const sim_dist *b)
{
    return a->kind == b->kind && a->unit == b->unit && a->a == b->a && a->b == b->b &&
           a->sigma == b->sigma && a->min == b->min;
}
