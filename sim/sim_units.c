/* sim_units.c: strict unit parsing and canonical printing for scenario values (sizes, rates,
 * times, arrival rates, counts, fractions, booleans). Integer quantities are computed exactly
 * with 128-bit arithmetic; never allocates, never prints, no global state. */
#include "sim_units.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

#define MAX_SIG_DIGITS 20  /* mantissa < 10^20, so mantissa * multiplier fits in 128 bits */
#define MAX_FRAC_DIGITS 18 /* 10^18 fits in 64 bits */
#define REAL_MAX_CHARS 64

/* A unit suffix: value = number * num / den (in the base unit). */
typedef struct unit_def {
    const char *sfx;
    uint64_t num;
    uint64_t den;
} unit_def;

static const unit_def size_units[] = {
    {"", 1, 1},
    {"B", 1, 1},
    {"kB", 1000ull, 1},
    {"MB", 1000000ull, 1},
    {"GB", 1000000000ull, 1},
    {"TB", 1000000000000ull, 1},
    {"KiB", 1ull << 10, 1},
    {"MiB", 1ull << 20, 1},
    {"GiB", 1ull << 30, 1},
    {"TiB", 1ull << 40, 1},
    {NULL, 0, 0},
};

static const unit_def byte_rate_units[] = {
    {"B/s", 1, 1},
    {"kB/s", 1000ull, 1},
    {"MB/s", 1000000ull, 1},
    {"GB/s", 1000000000ull, 1},
    {"TB/s", 1000000000000ull, 1},
    {"KiB/s", 1ull << 10, 1},
    {"MiB/s", 1ull << 20, 1},
    {"GiB/s", 1ull << 30, 1},
    {"TiB/s", 1ull << 40, 1},
    {NULL, 0, 0},
};

/* Bit-rate prefixes (case-insensitive letter); the multiplier is in bits. */
static const unit_def bit_prefixes[] = {
    {"", 1, 8},
    {"k", 1000ull, 8},
    {"m", 1000000ull, 8},
    {"g", 1000000000ull, 8},
    {"t", 1000000000000ull, 8},
    {NULL, 0, 0},
};

static const unit_def time_units[] = {
    {"", 1000000ull, 1},      {"us", 1, 1},
    {"\xc2\xb5s", 1, 1}, /* µs in UTF-8 */
    {"ms", 1000ull, 1},       {"s", 1000000ull, 1},
    {"min", 60000000ull, 1},  {"h", 3600000000ull, 1},
    {"d", 86400000000ull, 1}, {NULL, 0, 0},
};

/* Printing order for times: the largest unit that divides exactly wins. */
static const unit_def time_print[] = {
    {"d", 86400000000ull, 1},
    {"h", 3600000000ull, 1},
    {"min", 60000000ull, 1},
    {"s", 1000000ull, 1},
    {"ms", 1000ull, 1},
    {"us", 1, 1},
    {NULL, 0, 0},
};

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

/* A printable copy of at most 24 bytes of |s| (non-printable bytes become '?'). */
static const char *printable(const char *s, size_t n, char out[32])
{
    size_t k = n < 24 ? n : 24;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (k < n) {
        memcpy(out + k, "...", 4);
    } else {
        out[k] = '\0';
    }
    return out;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
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

static bool eq(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* Parses digits[.digits] at s[*i..len) into an exact mantissa and a count of decimals. */
static int scan_decimal(const char *s, size_t len, size_t *i, u128 *mant, unsigned *frac, char *err,
                        size_t errlen)
{
    size_t p = *i;
    unsigned sig = 0, fd = 0;
    u128 m = 0;
    if (p < len && s[p] == '-')
        return fail(err, errlen, BT_ERR_INVALID, "negative values are not allowed");
    if (p >= len || !is_digit(s[p]))
        return fail(err, errlen, BT_ERR_INVALID, "expected a number");
    for (int part = 0; part < 2; part++) {
        while (p < len && is_digit(s[p])) {
            if (m != 0 || s[p] != '0')
                sig++;
            if (sig > MAX_SIG_DIGITS)
                return fail(err, errlen, BT_ERR_LIMIT, "too many digits");
            m = m * 10 + (unsigned)(s[p] - '0');
            if (part == 1 && ++fd > MAX_FRAC_DIGITS)
                return fail(err, errlen, BT_ERR_LIMIT, "too many decimal places");
            p++;
        }
        if (part == 1 || p >= len || s[p] != '.')
            break;
        p++;
        if (p >= len || !is_digit(s[p]))
            return fail(err, errlen, BT_ERR_INVALID, "expected digits after '.'");
    }
    *i = p;
    *mant = m;
    *frac = fd;
    return 0;
}

static u128 pow10_u128(unsigned k)
{
    u128 r = 1;
    while (k-- > 0)
        r *= 10;
    return r;
}

/* value = mant / 10^frac * u->num / u->den, exactly, at most |max|. */
static int apply_unit(u128 mant, unsigned frac, const unit_def *u, uint64_t max, const char *what,
                      uint64_t *out, char *err, size_t errlen)
{
    u128 top = mant * u->num, bot = pow10_u128(frac) * u->den;
    if (top % bot != 0)
        return fail(err, errlen, BT_ERR_INVALID, "not a whole number of %s", what);
    u128 v = top / bot;
    if (v > max)
        return fail(err, errlen, BT_ERR_LIMIT, "too large (at most %llu %s)",
                    (unsigned long long)max, what);
    *out = (uint64_t)v;
    return 0;
}

static const unit_def *find_unit(const unit_def *tab, const char *s, size_t len)
{
    for (; tab->sfx != NULL; tab++)
        if (eq(s, len, tab->sfx))
            return tab;
    return NULL;
}

/* Splits "NUMBER [spaces] SUFFIX" (after trimming) into the number and the suffix. */
static int split_number(const char **s, size_t *len, u128 *mant, unsigned *frac, const char **sfx,
                        size_t *sfxlen, char *err, size_t errlen)
{
    trim(s, len);
    if (*len == 0)
        return fail(err, errlen, BT_ERR_INVALID, "empty value");
    size_t i = 0;
    int rc = scan_decimal(*s, *len, &i, mant, frac, err, errlen);
    if (rc != 0)
        return rc;
    while (i < *len && is_space((*s)[i]))
        i++;
    *sfx = *s + i;
    *sfxlen = *len - i;
    for (size_t k = 0; k < *sfxlen; k++) {
        if (is_space((*sfx)[k]) || is_digit((*sfx)[k]) || (*sfx)[k] == '.') {
            char q[32];
            return fail(err, errlen, BT_ERR_INVALID, "unexpected text '%s' after the number",
                        printable(*sfx, *sfxlen, q));
        }
    }
    return 0;
}

int sim_units_parse_size(const char *s, size_t len, uint64_t *out, char *err, size_t errlen)
{
    u128 m;
    unsigned fd;
    const char *sfx;
    size_t sl;
    int rc = split_number(&s, &len, &m, &fd, &sfx, &sl, err, errlen);
    if (rc != 0)
        return rc;
    const unit_def *u = find_unit(size_units, sfx, sl);
    char q[32];
    if (u == NULL && (eq(sfx, sl, "KB") || eq(sfx, sl, "Kb")))
        return fail(err, errlen, BT_ERR_INVALID,
                    "ambiguous unit '%s': write kB (1000 bytes) or KiB (1024 bytes)",
                    printable(sfx, sl, q));
    if (u == NULL)
        return fail(err, errlen, BT_ERR_INVALID,
                    "unknown unit '%s' for a size (sizes are in bytes: B, kB, MB, GB, TB, KiB, "
                    "MiB, GiB or TiB)",
                    printable(sfx, sl, q));
    return apply_unit(m, fd, u, UINT64_MAX, "bytes", out, err, errlen);
}

/* Bit-rate suffixes: PREFIX + ("bit" | "bit/s" | "bps"), prefix letter case-insensitive. */
static const unit_def *find_bit_unit(const char *s, size_t len)
{
    static const char *const forms[] = {"bit", "bit/s", "bps"};
    for (size_t f = 0; f < 3; f++) {
        size_t fl = strlen(forms[f]);
        if (len < fl || memcmp(s + len - fl, forms[f], fl) != 0)
            continue;
        size_t pl = len - fl;
        if (pl == 0)
            return &bit_prefixes[0];
        if (pl != 1)
            return NULL;
        char c = s[0] >= 'A' && s[0] <= 'Z' ? (char)(s[0] - 'A' + 'a') : s[0];
        for (const unit_def *u = bit_prefixes + 1; u->sfx != NULL; u++)
            if (u->sfx[0] == c)
                return u;
        return NULL;
    }
    return NULL;
}

static int rate_unit_error(const char *sfx, size_t sl, char *err, size_t errlen)
{
    char q[32];
    printable(sfx, sl, q);
    if (sl == 0)
        return fail(err, errlen, BT_ERR_INVALID,
                    "a rate needs a unit: bits per second (8Mbit, 512kbit) or bytes per second "
                    "(64KiB/s, 20kB/s)");
    if (find_unit(size_units, sfx, sl) != NULL)
        return fail(err, errlen, BT_ERR_INVALID,
                    "'%s' is a size; write a rate as bytes per second ('%s/s') or in bits "
                    "(e.g. Mbit)",
                    q, q);
    if (eq(sfx, sl, "KB/s") || eq(sfx, sl, "KBps"))
        return fail(err, errlen, BT_ERR_INVALID,
                    "ambiguous unit '%s': write kB/s (1000 bytes/s) or KiB/s (1024 bytes/s)", q);
    if (sl >= 3 && memcmp(sfx + sl - 3, "b/s", 3) == 0)
        return fail(err, errlen, BT_ERR_INVALID,
                    "ambiguous unit '%s': write bits as kbit/Mbit/Gbit or bytes as kB/s/MB/s", q);
    return fail(err, errlen, BT_ERR_INVALID,
                "unknown unit '%s' for a rate (bits: bit, kbit, Mbit, Gbit, Tbit; bytes: B/s, "
                "kB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s)",
                q);
}

int sim_units_parse_rate(const char *s, size_t len, uint64_t *out_Bps, char *err, size_t errlen)
{
    u128 m;
    unsigned fd;
    const char *sfx;
    size_t sl;
    int rc = split_number(&s, &len, &m, &fd, &sfx, &sl, err, errlen);
    if (rc != 0)
        return rc;
    if (sl == 0 && m == 0) {
        *out_Bps = 0;
        return 0;
    }
    const unit_def *u = find_unit(byte_rate_units, sfx, sl);
    if (u == NULL)
        u = find_bit_unit(sfx, sl);
    if (u == NULL)
        return rate_unit_error(sfx, sl, err, errlen);
    return apply_unit(m, fd, u, UINT64_MAX, "bytes per second", out_Bps, err, errlen);
}

int sim_units_parse_time(const char *s, size_t len, bool allow_forever, bt_time_us *out, char *err,
                         size_t errlen)
{
    trim(&s, &len);
    if (eq(s, len, "forever") || eq(s, len, "never")) {
        if (!allow_forever)
            return fail(err, errlen, BT_ERR_INVALID, "'forever' is not allowed here");
        *out = BT_TIME_NEVER;
        return 0;
    }
    u128 m;
    unsigned fd;
    const char *sfx;
    size_t sl;
    int rc = split_number(&s, &len, &m, &fd, &sfx, &sl, err, errlen);
    if (rc != 0)
        return rc;
    const unit_def *u = find_unit(time_units, sfx, sl);
    char q[32];
    if (u == NULL && eq(sfx, sl, "m"))
        return fail(err, errlen, BT_ERR_INVALID,
                    "ambiguous unit 'm' for a time: write min (minutes) or ms (milliseconds)");
    if (u == NULL)
        return fail(err, errlen, BT_ERR_INVALID,
                    "unknown unit '%s' for a time: use us, ms, s, min, h or d (a plain number "
                    "is seconds)",
                    printable(sfx, sl, q));
    return apply_unit(m, fd, u, BT_TIME_NEVER - 1, "microseconds", out, err, errlen);
}

/* A real: digits[.digits][(e|E)[+-]digits], converted by strtod (correctly rounded). */
static int scan_real(const char *s, size_t len, size_t *i, double *out, char *err, size_t errlen)
{
    size_t p = *i;
    if (p < len && s[p] == '-')
        return fail(err, errlen, BT_ERR_INVALID, "negative values are not allowed");
    if (p >= len || !is_digit(s[p]))
        return fail(err, errlen, BT_ERR_INVALID, "expected a number");
    while (p < len && is_digit(s[p]))
        p++;
    if (p < len && s[p] == '.') {
        if (++p >= len || !is_digit(s[p]))
            return fail(err, errlen, BT_ERR_INVALID, "expected digits after '.'");
        while (p < len && is_digit(s[p]))
            p++;
    }
    if (p < len && (s[p] == 'e' || s[p] == 'E')) {
        size_t q = p + 1;
        if (q < len && (s[q] == '+' || s[q] == '-'))
            q++;
        if (q >= len || !is_digit(s[q]))
            return fail(err, errlen, BT_ERR_INVALID, "expected digits in the exponent");
        while (q < len && is_digit(s[q]))
            q++;
        p = q;
    }
    if (p - *i >= REAL_MAX_CHARS)
        return fail(err, errlen, BT_ERR_LIMIT, "number too long");
    char buf[REAL_MAX_CHARS];
    memcpy(buf, s + *i, p - *i);
    buf[p - *i] = '\0';
    double v = strtod(buf, NULL);
    if (!isfinite(v))
        return fail(err, errlen, BT_ERR_LIMIT, "number too large");
    *i = p;
    *out = v;
    return 0;
}

static int arrival_unit_error(const char *sfx, size_t sl, char *err, size_t errlen)
{
    char q[32];
    if (sl == 0)
        return fail(err, errlen, BT_ERR_INVALID,
                    "an arrival rate needs a unit: 0.1/s, 6/min, 100/h or 2000/d");
    return fail(err, errlen, BT_ERR_INVALID,
                "unknown unit '%s' for an arrival rate (use /s, /min, /h or /d)",
                printable(sfx, sl, q));
}

int sim_units_parse_arrival_rate(const char *s, size_t len, double *out_per_s, char *err,
                                 size_t errlen)
{
    static const struct {
        const char *sfx;
        double secs;
    } per[] = {{"s", 1.0}, {"min", 60.0}, {"h", 3600.0}, {"d", 86400.0}};
    trim(&s, &len);
    if (len == 0)
        return fail(err, errlen, BT_ERR_INVALID, "empty value");
    size_t i = 0;
    double v;
    int rc = scan_real(s, len, &i, &v, err, errlen);
    if (rc != 0)
        return rc;
    while (i < len && is_space(s[i]))
        i++;
    const char *sfx = s + i;
    size_t sl = len - i;
    if (sl == 0 || sfx[0] != '/')
        return arrival_unit_error(sfx, sl, err, errlen);
    sfx++;
    sl--;
    while (sl > 0 && is_space(*sfx)) {
        sfx++;
        sl--;
    }
    for (size_t k = 0; k < sizeof(per) / sizeof(per[0]); k++) {
        if (eq(sfx, sl, per[k].sfx)) {
            *out_per_s = v / per[k].secs;
            return 0;
        }
    }
    return arrival_unit_error(sfx - 1, sl + 1, err, errlen);
}

int sim_units_parse_count(const char *s, size_t len, uint64_t max, uint64_t *out, char *err,
                          size_t errlen)
{
    trim(&s, &len);
    if (len == 0)
        return fail(err, errlen, BT_ERR_INVALID, "empty value");
    if (s[0] == '-')
        return fail(err, errlen, BT_ERR_INVALID, "negative values are not allowed");
    u128 v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return fail(err, errlen, BT_ERR_INVALID, "expected a whole number");
        v = v * 10 + (unsigned)(s[i] - '0');
        if (v > max)
            return fail(err, errlen, BT_ERR_LIMIT, "too large (at most %llu)",
                        (unsigned long long)max);
    }
    *out = (uint64_t)v;
    return 0;
}

int sim_units_parse_real(const char *s, size_t len, double *out, char *err, size_t errlen)
{
    trim(&s, &len);
    if (len == 0)
        return fail(err, errlen, BT_ERR_INVALID, "empty value");
    size_t i = 0;
    double v;
    int rc = scan_real(s, len, &i, &v, err, errlen);
    if (rc != 0)
        return rc;
    if (i != len) {
        char q[32];
        return fail(err, errlen, BT_ERR_INVALID, "unexpected text '%s' after the number",
                    printable(s + i, len - i, q));
    }
    *out = v;
    return 0;
}

int sim_units_parse_fraction(const char *s, size_t len, double *out, char *err, size_t errlen)
{
    trim(&s, &len);
    bool pct = len > 0 && s[len - 1] == '%';
    if (pct) {
        len--;
        while (len > 0 && is_space(s[len - 1]))
            len--;
    }
    double v = 0; /* (gcc 12 -O3 -flto warns maybe-uninitialized) */
    int rc = sim_units_parse_real(s, len, &v, err, errlen);
    if (rc != 0)
        return rc;
    if (pct)
        v /= 100.0;
    if (v > 1.0)
        return fail(err, errlen, BT_ERR_INVALID,
                    "a fraction must be between 0 and 1 (or 0%% "
                    "and 100%%)");
    *out = v;
    return 0;
}

int sim_units_parse_bool(const char *s, size_t len, bool *out, char *err, size_t errlen)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    trim(&s, &len);
    for (size_t i = 0; i < 4; i++) {
        if (eq(s, len, yes[i]) || eq(s, len, no[i])) {
            *out = eq(s, len, yes[i]);
            return 0;
        }
    }
    return fail(err, errlen, BT_ERR_INVALID, "expected true or false (also yes/no, on/off, 1/0)");
}

int sim_units_parse(sim_unit unit, const char *s, size_t len, bool allow_forever, uint64_t *out,
                    char *err, size_t errlen)
{
    switch (unit) {
    case SIM_UNIT_BYTES:
        return sim_units_parse_size(s, len, out, err, errlen);
    case SIM_UNIT_RATE:
        return sim_units_parse_rate(s, len, out, err, errlen);
    case SIM_UNIT_TIME:
        return sim_units_parse_time(s, len, allow_forever, out, err, errlen);
    case SIM_UNIT_COUNT:
        return sim_units_parse_count(s, len, UINT64_MAX, out, err, errlen);
    }
    return fail(err, errlen, BT_ERR_INVALID, "unknown unit kind");
}

/* ---- printing ---- */

/* Finds, among the units of |tab| that represent |v| exactly (v * den / num is whole), the
 * one with the smallest quotient; earlier entries win ties. */
static bool best_unit(u128 v, const unit_def *tab, u128 *bestq, const char **bestsfx)
{
    bool found = false;
    for (; tab->sfx != NULL; tab++) {
        u128 top = v * tab->den;
        if (top % tab->num != 0)
            continue;
        u128 q = top / tab->num;
        if (*bestsfx == NULL || q < *bestq) {
            *bestq = q;
            *bestsfx = tab->sfx;
            found = true;
        }
    }
    return found;
}

static char *put_u128(u128 q, const char *sfx, char *buf)
{
    /* Quotients here never exceed UINT64_MAX * 8. */
    char digits[48];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + (unsigned)(q % 10));
        q /= 10;
    } while (q != 0);
    size_t o = 0;
    while (n > 0)
        buf[o++] = digits[--n];
    snprintf(buf + o, SIM_UNITS_FMT_MAX - o, "%s", sfx);
    return buf;
}

char *sim_units_format_size(uint64_t bytes, char *buf)
{
    static const unit_def order[] = {
        {"TiB", 1ull << 40, 1}, {"GiB", 1ull << 30, 1},      {"MiB", 1ull << 20, 1},
        {"KiB", 1ull << 10, 1}, {"TB", 1000000000000ull, 1}, {"GB", 1000000000ull, 1},
        {"MB", 1000000ull, 1},  {"kB", 1000ull, 1},          {"B", 1, 1},
        {NULL, 0, 0},
    };
    if (bytes == 0)
        return strcpy(buf, "0");
    u128 q = 0;
    const char *sfx = NULL;
    best_unit(bytes, order, &q, &sfx);
    return put_u128(q, sfx, buf);
}

char *sim_units_format_rate(uint64_t Bps, char *buf)
{
    /* Bits when exact (the usual way to write capacities), else bytes/s; a bit unit's
     * multiplier is in bytes/s as num/den: 1kbit = 1000/8 = 125 B/s. */
    static const unit_def bits[] = {
        {"Tbit", 1000000000000ull, 8},
        {"Gbit", 1000000000ull, 8},
        {"Mbit", 1000000ull, 8},
        {"kbit", 1000ull, 8},
        {NULL, 0, 0},
    };
    static const unit_def bytes[] = {
        {"TiB/s", 1ull << 40, 1},
        {"GiB/s", 1ull << 30, 1},
        {"MiB/s", 1ull << 20, 1},
        {"KiB/s", 1ull << 10, 1},
        {"TB/s", 1000000000000ull, 1},
        {"GB/s", 1000000000ull, 1},
        {"MB/s", 1000000ull, 1},
        {"kB/s", 1000ull, 1},
        {"B/s", 1, 1},
        {NULL, 0, 0},
    };
    if (Bps == 0)
        return strcpy(buf, "0");
    u128 q = 0;
    const char *sfx = NULL;
    if (!best_unit(Bps, bits, &q, &sfx)) /* bits when some k/M/G/Tbit is exact */
        best_unit(Bps, bytes, &q, &sfx);
    return put_u128(q, sfx, buf);
}

char *sim_units_format_time(bt_time_us t, char *buf)
{
    if (t == BT_TIME_NEVER)
        return strcpy(buf, "forever");
    if (t == 0)
        return strcpy(buf, "0");
    for (const unit_def *u = time_print; u->sfx != NULL; u++)
        if (t % u->num == 0)
            return put_u128(t / u->num, u->sfx, buf);
    return put_u128(t, "us", buf);
}

char *sim_units_format_real(double x, char *buf)
{
    /* Plain decimals in the usual range ("0.25", "100"), else the shortest %g ("1e-05"). */
    if (x == 0.0 || (x >= 1e-4 && x < 1e15)) {
        for (int d = 0; d <= 19; d++) {
            snprintf(buf, SIM_UNITS_FMT_MAX, "%.*f", d, x);
            if (strtod(buf, NULL) == x)
                return buf;
        }
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, SIM_UNITS_FMT_MAX, "%.*g", p, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    return buf;
}

char *sim_units_format_arrival_rate(double per_s, char *buf)
{
    static const struct {
        const char *sfx;
        double secs;
    } per[] = {{"/s", 1.0}, {"/min", 60.0}, {"/h", 3600.0}, {"/d", 86400.0}};
    char best[SIM_UNITS_FMT_MAX] = "";
    for (size_t k = 0; k < sizeof(per) / sizeof(per[0]); k++) {
        char num[SIM_UNITS_FMT_MAX], cand[SIM_UNITS_FMT_MAX];
        sim_units_format_real(per_s * per[k].secs, num);
        snprintf(cand, sizeof(cand), "%s%s", num, per[k].sfx);
        double back;
        if (sim_units_parse_arrival_rate(cand, strlen(cand), &back, NULL, 0) != 0 || back != per_s)
            continue;
        if (best[0] == '\0' || strlen(cand) < strlen(best))
            memcpy(best, cand, sizeof(best));
    }
    if (best[0] == '\0') /* per_s * 1 always round-trips; kept for safety */
        snprintf(best, sizeof(best), "%.17g/s", per_s);
    return strcpy(buf, best);
}

char *sim_units_format(sim_unit unit, uint64_t v, char *buf)
{
    switch (unit) {
    case SIM_UNIT_BYTES:
        return sim_units_format_size(v, buf);
    case SIM_UNIT_RATE:
        return sim_units_format_rate(v, buf);
    case SIM_UNIT_TIME:
        return sim_units_format_time(v, buf);
    case SIM_UNIT_COUNT:
        break;
    }
    snprintf(buf, SIM_UNITS_FMT_MAX, "%llu", (unsigned long long)v);
    return buf;
}
