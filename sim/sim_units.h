/* sim_units.h: strict parsing and canonical printing of the quantities scenario files are
 * written in: sizes, rates, times, arrival rates, counts, fractions, booleans. Exact integer
 * arithmetic (no float rounding for sizes, rates and times); never allocates, never prints.
 *
 * Syntax (a number is digits with an optional '.digits'; spaces between number and unit are
 * allowed; no sign, no exponent unless stated; leading/trailing spaces are ignored):
 *   size   bytes.   plain integer = bytes, B, kB MB GB TB (10^3k), KiB MiB GiB TiB (2^10k).
 *                   "KB" is rejected as ambiguous (write kB or KiB); "Mb" etc. are rejected
 *                   (sizes are in bytes).
 *   rate   bytes/s. bits per second: bit kbit Mbit Gbit Tbit, also spelled with "/s"
 *                   (Mbit/s) or "bps" (Mbps). The SI prefix letter of a bit rate is
 *                   case-insensitive: mbit = Mbit = 10^6 bit/s (as in tc; there is no
 *                   millibit), and kbps/Kbps = 10^3 bit/s. NOTE: unlike tc, "mbps" means
 *                   megaBITS per second (the usual networking meaning), never megabytes.
 *                   Bytes per second: B/s kB/s MB/s GB/s TB/s KiB/s MiB/s GiB/s TiB/s (case
 *                   matters, as for sizes). A bare number is rejected (bits or bytes?), except
 *                   0. A bit rate must come to a whole number of bytes/s (1Mbit = 125000 B/s;
 *                   "1001bit" is rejected).
 *   time   µs.      us (or µs), ms, s, min, h, d; a plain number is seconds. Must be a whole
 *                   number of microseconds. "forever" only where the caller allows it
 *                   (BT_TIME_NEVER).
 *   arrival rate    per second, a double: NUMBER/s, NUMBER/min, NUMBER/h, NUMBER/d
 *                   (0.1/s = 6/min = 360/h). The number may have an exponent (1e-3/s).
 *   count           a plain non-negative integer.
 *   fraction        a number in [0, 1] (exponent allowed) or a percentage (25%).
 *   bool            true false yes no on off 1 0.
 * Every parser rejects trailing junk, signs, empty input and overflow, and writes a message
 * ("unknown unit 'Mb' for a rate: ...") into |err| (|errlen| bytes, always terminated). */
#ifndef SIM_UNITS_H
#define SIM_UNITS_H

#include "bt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The unit of an integer quantity (used by distributions, sim_dist.h). */
typedef enum sim_unit {
    SIM_UNIT_BYTES = 1, /* sizes: bytes */
    SIM_UNIT_RATE = 2,  /* rates: bytes per second */
    SIM_UNIT_TIME = 3,  /* times: microseconds */
    SIM_UNIT_COUNT = 4, /* a plain integer */
} sim_unit;

/* Longest canonical text any sim_units_format_* writes, including the terminating NUL. */
#define SIM_UNITS_FMT_MAX 48

/* Each parser reads |len| bytes at |s| (need not be NUL-terminated), stores the value in
 * *out and returns 0, or returns BT_ERR_INVALID (malformed, out of range) or BT_ERR_LIMIT
 * (too large) with a message in |err|. *out is untouched on error. */
int sim_units_parse_size(const char *s, size_t len, uint64_t *out, char *err, size_t errlen);
int sim_units_parse_rate(const char *s, size_t len, uint64_t *out_Bps, char *err, size_t errlen);
/* |allow_forever|: accept "forever" (and "never") as BT_TIME_NEVER. Finite times are always
 * below BT_TIME_NEVER. */
int sim_units_parse_time(const char *s, size_t len, bool allow_forever, bt_time_us *out, char *err,
                         size_t errlen);
/* Arrivals per second; finite and >= 0. */
int sim_units_parse_arrival_rate(const char *s, size_t len, double *out_per_s, char *err,
                                 size_t errlen);
/* A plain integer in [0, max]. */
int sim_units_parse_count(const char *s, size_t len, uint64_t max, uint64_t *out, char *err,
                          size_t errlen);
/* A fraction in [0, 1] or a percentage in [0%, 100%]. */
int sim_units_parse_fraction(const char *s, size_t len, double *out, char *err, size_t errlen);
/* A finite real >= 0 with optional exponent and no unit (e.g. a lognormal sigma). */
int sim_units_parse_real(const char *s, size_t len, double *out, char *err, size_t errlen);
int sim_units_parse_bool(const char *s, size_t len, bool *out, char *err, size_t errlen);
/* Dispatches on |unit| (time: |allow_forever| as above; count: max UINT64_MAX). */
int sim_units_parse(sim_unit unit, const char *s, size_t len, bool allow_forever, uint64_t *out,
                    char *err, size_t errlen);

/* Canonical printing: the largest unit that represents the value exactly ("100MiB", "700MB",
 * "8Mbit", "65536B/s", "30min", "forever", "0.1/s", "0.25"). Parsing the output gives back
 * exactly the same value. |buf| must hold SIM_UNITS_FMT_MAX bytes; returns |buf|. */
char *sim_units_format_size(uint64_t bytes, char *buf);
char *sim_units_format_rate(uint64_t Bps, char *buf);
char *sim_units_format_time(bt_time_us t, char *buf);
char *sim_units_format_arrival_rate(double per_s, char *buf);
/* The shortest decimal that reads back as the same double (fractions, sigma, shares). */
char *sim_units_format_real(double x, char *buf);
char *sim_units_format(sim_unit unit, uint64_t v, char *buf);

#endif
