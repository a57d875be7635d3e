/* sim_scenario.c: the scenario loader: INI text (inih) -> raw entries -> overrides -> the
 * validated model (sim_scenario.h), trace files, and the resolved scenario written back as
 * INI. Reads only the files it is asked to; never prints; no global state. */
#include "sim_scenario.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK_BYTES 16384u
#define SHARE_TOLERANCE 1e-9
#define NUMWANT_MAX 1000
#define PIECE_MIN (16u * 1024u)
#define PIECE_MAX (64u * 1024u * 1024u)
#define MSG_MAX 512
#define SHOW_MAX 60 /* characters of a value or override quoted in a message */

/* ---- the schema -------------------------------------------------------------------------- */

enum { SEC_SWARM, SEC_TRACKER, SEC_ARRIVALS, SEC_ISP, SEC_CLASS, SEC_FLUID, NSECTYPES };
static const char *const sec_names[NSECTYPES] = {"swarm", "tracker", "arrivals", "isp", "class",
                                                 "fluid"};

enum vtype {
    T_SIZE,        /* uint64_t bytes */
    T_PIECE,       /* uint32_t bytes, a multiple of 16KiB */
    T_TIME,        /* bt_time_us, finite */
    T_TIME_NEVER,  /* bt_time_us, forever allowed */
    T_U64,         /* uint64_t, any */
    T_NUMWANT,     /* uint32_t 1..NUMWANT_MAX */
    T_COUNT,       /* uint64_t <= SIM_SCENARIO_MAX_PEERS */
    T_COUNT_UNL,   /* as T_COUNT, or "unlimited" */
    T_RATE_UNL,    /* uint64_t bytes/s, or "unlimited" = 0 */
    T_FRAC,        /* double in [0, 1] */
    T_ARATE,       /* double arrivals per second */
    T_BOOL,        /* bool */
    T_DRATE,       /* sim_dist of bytes/s, > 0 */
    T_DTIME,       /* sim_dist of µs, finite */
    T_DTIME_NEVER, /* sim_dist of µs, "forever" allowed */
    T_ENUM,        /* int, index into enums */
    T_CHOKER,      /* char[32] + ops */
    T_PICKER,      /* char[32] */
    T_ISPREF,      /* int32_t ISP index, -1 = core */
    T_PATH,        /* char * (malloc) */
};

#define R_LEECH 1u
#define R_SEED 2u
#define R_ANY 3u

static const char *const payload_names[] = {"virtual", "real", NULL};
static const char *const policy_names[] = {"random", "isp-biased", NULL};
static const char *const process_names[] = {"flash", "poisson", "decay", "trace", NULL};
static const char *const view_names[] = {"normal", "large", NULL};
static const char *const role_names[] = {"leecher", "seed", NULL};
/* The engine's piece pickers (bt_pick_strategy_parse; bt_picker.h is engine-private). */
static const char *const picker_names[] = {"rarest-first", "random", "sequential", NULL};

enum key_id {
    K_FILE_SIZE,
    K_PIECE_SIZE,
    K_DURATION,
    K_SEED,
    K_PAYLOAD,
    K_STOP,
    K_SAMPLE,
    K_NUMWANT,
    K_INTERVAL,
    K_MIN_INTERVAL,
    K_POLICY,
    K_LOCAL,
    K_PROCESS,
    K_ACOUNT,
    K_RATE,
    K_TAU,
    K_FILE,
    K_START,
    K_TRANSIT_UP,
    K_TRANSIT_DOWN,
    K_ISP_LATENCY,
    K_ROLE,
    K_COUNT,
    K_SHARE,
    K_UP,
    K_DOWN,
    K_LATENCY,
    K_ISP,
    K_CHOKER,
    K_PICKER,
    K_LINGER,
    K_ABORT,
    K_ABORT_AFTER,
    K_CRASH,
    K_CORRUPT,
    K_LEAVE_AT,
    K_UPLOAD_LIMIT,
    K_ETA,
    K_VIEW,
    K_CORRUPT_RATE,
    K_RESPONSE_DELAY,
    K_LYING_HAVE,
    K_UP_CAP,
    K_UP_SCALE,
    NKEYS
};

typedef struct key_def {
    uint8_t sec;
    uint8_t type;
    uint8_t roles; /* class keys: the roles that accept it */
    const char *name;
    size_t off;
    const char *const *enums;
} key_def;

#define SW(f) offsetof(sim_scenario_swarm, f)
#define TR(f) offsetof(sim_scenario_tracker, f)
#define AR(f) offsetof(sim_scenario_arrivals, f)
#define IS(f) offsetof(sim_isp, f)
#define CL(f) offsetof(sim_class, f)
#define FL(f) offsetof(sim_scenario_fluid, f)

static const key_def keys[NKEYS] = {
    [K_FILE_SIZE] = {SEC_SWARM, T_SIZE, R_ANY, "file_size", SW(file_size), NULL},
    [K_PIECE_SIZE] = {SEC_SWARM, T_PIECE, R_ANY, "piece_size", SW(piece_size), NULL},
    [K_DURATION] = {SEC_SWARM, T_TIME, R_ANY, "duration", SW(duration_us), NULL},
    [K_SEED] = {SEC_SWARM, T_U64, R_ANY, "seed", SW(seed), NULL},
    [K_PAYLOAD] = {SEC_SWARM, T_ENUM, R_ANY, "payload", SW(payload), payload_names},
    [K_STOP] = {SEC_SWARM, T_BOOL, R_ANY, "stop_when_done", SW(stop_when_done), NULL},
    [K_SAMPLE] = {SEC_SWARM, T_TIME, R_ANY, "sample_interval", SW(sample_interval_us), NULL},
    [K_NUMWANT] = {SEC_TRACKER, T_NUMWANT, R_ANY, "numwant", TR(numwant), NULL},
    [K_INTERVAL] = {SEC_TRACKER, T_TIME, R_ANY, "interval", TR(interval_us), NULL},
    [K_MIN_INTERVAL] = {SEC_TRACKER, T_TIME, R_ANY, "min_interval", TR(min_interval_us), NULL},
    [K_POLICY] = {SEC_TRACKER, T_ENUM, R_ANY, "policy", TR(policy), policy_names},
    [K_LOCAL] = {SEC_TRACKER, T_FRAC, R_ANY, "local_fraction", TR(local_fraction), NULL},
    [K_PROCESS] = {SEC_ARRIVALS, T_ENUM, R_ANY, "process", AR(process), process_names},
    [K_ACOUNT] = {SEC_ARRIVALS, T_COUNT_UNL, R_ANY, "count", AR(count), NULL},
    [K_RATE] = {SEC_ARRIVALS, T_ARATE, R_ANY, "rate", AR(rate_per_s), NULL},
    [K_TAU] = {SEC_ARRIVALS, T_TIME, R_ANY, "tau", AR(tau_us), NULL},
    [K_FILE] = {SEC_ARRIVALS, T_PATH, R_ANY, "file", AR(file), NULL},
    [K_START] = {SEC_ARRIVALS, T_TIME, R_ANY, "start", AR(start_us), NULL},
    [K_TRANSIT_UP] = {SEC_ISP, T_RATE_UNL, R_ANY, "transit_up", IS(transit_up_Bps), NULL},
    [K_TRANSIT_DOWN] = {SEC_ISP, T_RATE_UNL, R_ANY, "transit_down", IS(transit_down_Bps), NULL},
    [K_ISP_LATENCY] = {SEC_ISP, T_TIME, R_ANY, "latency", IS(latency_us), NULL},
    [K_ROLE] = {SEC_CLASS, T_ENUM, R_ANY, "role", CL(role), role_names},
    [K_COUNT] = {SEC_CLASS, T_COUNT, R_ANY, "count", CL(count), NULL},
    [K_SHARE] = {SEC_CLASS, T_FRAC, R_LEECH, "share", CL(share), NULL},
    [K_UP] = {SEC_CLASS, T_DRATE, R_ANY, "up", CL(up), NULL},
    [K_DOWN] = {SEC_CLASS, T_DRATE, R_ANY, "down", CL(down), NULL},
    [K_LATENCY] = {SEC_CLASS, T_DTIME, R_ANY, "latency", CL(latency), NULL},
    [K_ISP] = {SEC_CLASS, T_ISPREF, R_ANY, "isp", CL(isp), NULL},
    [K_CHOKER] = {SEC_CLASS, T_CHOKER, R_ANY, "choker", CL(choker), NULL},
    [K_PICKER] = {SEC_CLASS, T_PICKER, R_ANY, "picker", CL(picker), NULL},
    [K_LINGER] = {SEC_CLASS, T_DTIME_NEVER, R_ANY, "linger", CL(linger), NULL},
    [K_ABORT] = {SEC_CLASS, T_FRAC, R_LEECH, "abort", CL(abort), NULL},
    [K_ABORT_AFTER] = {SEC_CLASS, T_DTIME, R_LEECH, "abort_after", CL(abort_after), NULL},
    [K_CRASH] = {SEC_CLASS, T_FRAC, R_ANY, "crash", CL(crash), NULL},
    [K_CORRUPT] = {SEC_CLASS, T_FRAC, R_ANY, "corrupt", CL(corrupt), NULL},
    [K_LEAVE_AT] = {SEC_CLASS, T_TIME_NEVER, R_SEED, "leave_at", CL(leave_at), NULL},
    [K_UPLOAD_LIMIT] = {SEC_CLASS, T_RATE_UNL, R_ANY, "upload_limit", CL(upload_limit_Bps), NULL},
    [K_ETA] = {SEC_FLUID, T_FRAC, R_ANY, "eta", FL(eta), NULL},
    [K_VIEW] = {SEC_CLASS, T_ENUM, R_LEECH, "view", CL(view), view_names},
    [K_CORRUPT_RATE] = {SEC_CLASS, T_FRAC, R_ANY, "corrupt_rate", CL(corrupt_rate), NULL},
    [K_RESPONSE_DELAY] = {SEC_CLASS, T_DTIME, R_ANY, "response_delay", CL(response_delay), NULL},
    [K_LYING_HAVE] = {SEC_CLASS, T_FRAC, R_LEECH, "lying_have", CL(lying_have), NULL},
    [K_UP_CAP] = {SEC_ISP, T_RATE_UNL, R_ANY, "up_cap", IS(up_cap_Bps), NULL},
    [K_UP_SCALE] = {SEC_ISP, T_FRAC, R_ANY, "up_scale", IS(up_scale), NULL},
};
_Static_assert(NKEYS <= 64, "sec.set is a 64-bit mask of keys");

/* ---- loader state -------------------------------------------------------------------------- */

typedef struct sec {
    uint8_t type;
    char name[SIM_SCENARIO_MAX_NAME + 1];
    int line;       /* header line; 0 when created by an override */
    uint32_t index; /* into isps / classes */
    uint64_t set;   /* bit k: key k given */
} sec;

typedef struct entry {
    uint32_t sec;
    uint32_t key;
    int line;        /* 0 when from an override */
    const char *ovr; /* the --set text (borrowed for the load) or NULL */
    char *value;     /* trimmed */
} entry;

typedef struct loader {
    const char *name;
    const char *text;
    size_t len, pos;
    int lineno;
    int cur; /* current section, -1 before the first header */
    sec *secs;
    size_t nsecs, capsecs;
    entry *ents;
    size_t nents, capents;
    uint32_t nisps, nclasses;
    int rc;       /* first error (0: none) */
    int err_line; /* its line, INT_MAX when not tied to a line of the file */
    char *err;
    size_t errlen;
} loader;

/* ---- messages ------------------------------------------------------------------------------ */

/* A printable copy of |s| (at most SHOW_MAX characters, '?' for control bytes). */
static const char *show(const char *s, char out[SHOW_MAX + 4])
{
    size_t i = 0;
    for (; s[i] != '\0' && i < SHOW_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c >= 0x20 && c != 0x7f) ? (char)c : '?';
    }
    if (s[i] != '\0') {
        memcpy(out + i, "...", 4);
    } else {
        out[i] = '\0';
    }
    return out;
}

static void vemit(loader *L, int code, int line, const char *prefix, const char *fmt, va_list ap)
{
    if (L->rc != 0)
        return;
    L->rc = code;
    L->err_line = line > 0 ? line : INT_MAX;
    if (L->err == NULL || L->errlen == 0)
        return;
    int n = snprintf(L->err, L->errlen, "%s", prefix);
    if (n >= 0 && (size_t)n < L->errlen)
        vsnprintf(L->err + n, L->errlen - (size_t)n, fmt, ap);
}

static char *sec_label(const sec *s, char out[SIM_SCENARIO_MAX_NAME + 16])
{
    if (s->type == SEC_ISP || s->type == SEC_CLASS)
        snprintf(out, SIM_SCENARIO_MAX_NAME + 16, "[%s %s]", sec_names[s->type], s->name);
    else
        snprintf(out, SIM_SCENARIO_MAX_NAME + 16, "[%s]", sec_names[s->type]);
    return out;
}

/* "NAME:LINE: msg" (LINE omitted when 0). */
static int line_fail(loader *L, int line, int code, const char *fmt, ...)
{
    char prefix[300];
    if (line > 0)
        snprintf(prefix, sizeof(prefix), "%s:%d: ", L->name, line);
    else
        snprintf(prefix, sizeof(prefix), "%s: ", L->name);
    va_list ap;
    va_start(ap, fmt);
    vemit(L, code, line, prefix, fmt, ap);
    va_end(ap);
    return code;
}

/* "NAME:LINE: [section] key = value: msg", or "--set TEXT: msg" for an override ("NAME: msg"
 * when |e| is NULL). */
static int ent_fail(loader *L, const entry *e, int code, const char *fmt, ...)
{
    char prefix[400], lab[SIM_SCENARIO_MAX_NAME + 16], v[SHOW_MAX + 4];
    if (e == NULL)
        snprintf(prefix, sizeof(prefix), "%s: ", L->name);
    else if (e->ovr != NULL)
        snprintf(prefix, sizeof(prefix), "--set %s: ", show(e->ovr, v));
    else
        snprintf(prefix, sizeof(prefix), "%s:%d: %s %s = %s: ", L->name, e->line,
                 sec_label(&L->secs[e->sec], lab), keys[e->key].name, show(e->value, v));
    va_list ap;
    va_start(ap, fmt);
    vemit(L, code, e != NULL ? e->line : 0, prefix, fmt, ap);
    va_end(ap);
    return code;
}

/* "NAME:LINE: [section]: msg" (LINE: the section header's). */
static int sec_fail(loader *L, const sec *s, int code, const char *fmt, ...)
{
    char prefix[400], lab[SIM_SCENARIO_MAX_NAME + 16];
    if (s->line > 0)
        snprintf(prefix, sizeof(prefix), "%s:%d: %s: ", L->name, s->line, sec_label(s, lab));
    else
        snprintf(prefix, sizeof(prefix), "%s: %s: ", L->name, sec_label(s, lab));
    va_list ap;
    va_start(ap, fmt);
    vemit(L, code, s->line, prefix, fmt, ap);
    va_end(ap);
    return code;
}

/* "--set TEXT: msg" for an override that names no valid key. */
static int ovr_fail(loader *L, const char *ov, int code, const char *fmt, ...)
{
    char prefix[300], v[SHOW_MAX + 4];
    snprintf(prefix, sizeof(prefix), "--set %s: ", show(ov, v));
    va_list ap;
    va_start(ap, fmt);
    vemit(L, code, 0, prefix, fmt, ap);
    va_end(ap);
    return code;
}

static void key_list(int type, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t k = 0; k < NKEYS; k++) {
        if (keys[k].sec != type)
            continue;
        int n = snprintf(out + o, len - o, "%s%s", o ? ", " : "", keys[k].name);
        if (n < 0 || (size_t)n >= len - o)
            return;
        o += (size_t)n;
    }
}

/* ---- phase 1: sections and raw entries ---------------------------------------------------- */

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
        (*n)--;
}

/* Parses "type [name]" into *type and |name|; on error writes why into |why|. */
static int parse_section(const char *s, size_t n, int *type, char *name, char *why, size_t whylen)
{
    trim(&s, &n);
    size_t tl = 0;
    while (tl < n && s[tl] != ' ' && s[tl] != '\t')
        tl++;
    const char *nm = s + tl;
    size_t nl = n - tl;
    trim(&nm, &nl);
    int t = -1;
    for (int i = 0; i < NSECTYPES; i++)
        if (strlen(sec_names[i]) == tl && memcmp(sec_names[i], s, tl) == 0)
            t = i;
    bool named = t == SEC_ISP || t == SEC_CLASS;
    if (t < 0 || (named && nl == 0) || (!named && nl > 0)) {
        snprintf(why, whylen,
                 "unknown section (use [swarm], [tracker], [arrivals], "
                 "[isp NAME], [class NAME] or [fluid])");
        return BT_ERR_INVALID;
    }
    if (nl > SIM_SCENARIO_MAX_NAME) {
        snprintf(why, whylen, "name longer than %d characters", SIM_SCENARIO_MAX_NAME);
        return BT_ERR_LIMIT;
    }
    for (size_t i = 0; i < nl; i++) {
        if (!name_char(nm[i])) {
            snprintf(why, whylen, "a name may use only letters, digits, '_' and '-'");
            return BT_ERR_INVALID;
        }
    }
    memcpy(name, nm, nl);
    name[nl] = '\0';
    if (t == SEC_ISP && (strcmp(name, "core") == 0 || strcmp(name, "none") == 0)) {
        snprintf(why, whylen, "'%s' is reserved (it means: no ISP)", name);
        return BT_ERR_INVALID;
    }
    *type = t;
    return 0;
}

static int find_sec(const loader *L, int type, const char *name)
{
    for (size_t i = 0; i < L->nsecs; i++)
        if (L->secs[i].type == type && strcmp(L->secs[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int find_key(int type, const char *name)
{
    for (int k = 0; k < NKEYS; k++)
        if (keys[k].sec == type && strcmp(keys[k].name, name) == 0)
            return k;
    return -1;
}

static int grow(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, nc * elem);
    if (q == NULL)
        return BT_ERR_NOMEM;
    *p = q;
    *cap = nc;
    return 0;
}

/* Adds a section (type, name); returns its index or a negative error (already reported). */
static int add_sec(loader *L, int type, const char *name, int line)
{
    bool cls = type == SEC_CLASS, isp = type == SEC_ISP;
    if ((cls && L->nclasses >= SIM_SCENARIO_MAX_CLASSES) ||
        (isp && L->nisps >= SIM_SCENARIO_MAX_ISPS))
        return line_fail(L, line, BT_ERR_LIMIT, "more than %d [%s] sections",
                         cls ? SIM_SCENARIO_MAX_CLASSES : SIM_SCENARIO_MAX_ISPS, sec_names[type]);
    if (grow((void **)&L->secs, &L->capsecs, L->nsecs, sizeof(sec)) != 0)
        return line_fail(L, 0, BT_ERR_NOMEM, "out of memory");
    sec *s = &L->secs[L->nsecs];
    memset(s, 0, sizeof(*s));
    s->type = (uint8_t)type;
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->line = line;
    s->index = cls ? L->nclasses++ : isp ? L->nisps++ : 0;
    return (int)L->nsecs++;
}

/* A "[...]" line seen by the reader: registers the section that the next keys belong to. */
static int header(loader *L, const char *line, size_t n)
{
    const char *close = memchr(line, ']', n);
    if (close == NULL)
        return line_fail(L, L->lineno, BT_ERR_INVALID, "expected ']' to close the section");
    const char *rest = close + 1;
    size_t rl = n - (size_t)(rest - line);
    trim(&rest, &rl);
    if (rl > 0 && rest[0] != ';' && rest[0] != '#')
        return line_fail(L, L->lineno, BT_ERR_INVALID, "unexpected text after ']'");
    int type;
    char name[SIM_SCENARIO_MAX_NAME + 1], why[160], v[SHOW_MAX + 4], txt[SHOW_MAX + 4];
    size_t tl = (size_t)(close - line - 1);
    snprintf(txt, sizeof(txt), "%.*s", (int)(tl < SHOW_MAX ? tl : SHOW_MAX), line + 1);
    int rc = parse_section(line + 1, tl, &type, name, why, sizeof(why));
    if (rc != 0)
        return line_fail(L, L->lineno, rc, "[%s]: %s", show(txt, v), why);
    int prev = find_sec(L, type, name);
    if (prev >= 0) {
        char lab[SIM_SCENARIO_MAX_NAME + 16];
        return line_fail(L, L->lineno, BT_ERR_INVALID, "%s appears twice (first on line %d)",
                         sec_label(&L->secs[prev], lab), L->secs[prev].line);
    }
    int idx = add_sec(L, type, name, L->lineno);
    if (idx < 0)
        return idx;
    L->cur = idx;
    return 0;
}

/* inih reader: one line per call, so our line count matches inih's. Strips leading blanks
 * (no continuation lines), a UTF-8 BOM, and tracks section headers itself. */
static char *line_reader(char *str, int num, void *stream)
{
    loader *L = stream;
    if (L->rc != 0 || L->pos >= L->len)
        return NULL;
    const char *line = L->text + L->pos;
    size_t rest = L->len - L->pos;
    const char *nl = memchr(line, '\n', rest);
    size_t n = nl != NULL ? (size_t)(nl - line) : rest;
    L->pos += n + (nl != NULL);
    L->lineno++;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    size_t max = SIM_SCENARIO_MAX_LINE;
    if (num < 4 || (size_t)num - 3 < max)
        max = num < 4 ? 0 : (size_t)num - 3;
    if (n > max) {
        line_fail(L, L->lineno, BT_ERR_LIMIT, "line too long (%zu characters, at most %zu)", n,
                  max);
        return NULL;
    }
    if (L->lineno == 1 && n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
        line += 3;
        n -= 3;
    }
    while (n > 0 && (*line == ' ' || *line == '\t')) {
        line++;
        n--;
    }
    if (n > 0 && line[0] == '[' && header(L, line, n) != 0)
        return NULL;
    memcpy(str, line, n);
    str[n] = '\n';
    str[n + 1] = '\0';
    return str;
}

static char *dup_trimmed(const char *s, size_t n)
{
    trim(&s, &n);
    char *p = malloc(n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static int add_entry(loader *L, int si, int k, int line, const char *ovr, const char *value,
                     size_t vl)
{
    char *v = dup_trimmed(value, vl);
    if (v == NULL || grow((void **)&L->ents, &L->capents, L->nents, sizeof(entry)) != 0) {
        free(v);
        return line_fail(L, 0, BT_ERR_NOMEM, "out of memory");
    }
    entry *e = &L->ents[L->nents++];
    e->sec = (uint32_t)si;
    e->key = (uint32_t)k;
    e->line = line;
    e->ovr = ovr;
    e->value = v;
    L->secs[si].set |= 1ull << k;
    return 0;
}

static entry *find_entry(loader *L, size_t si, int k)
{
    for (size_t i = 0; i < L->nents; i++)
        if (L->ents[i].sec == si && L->ents[i].key == (uint32_t)k)
            return &L->ents[i];
    return NULL;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    loader *L = user;
    (void)section; /* the reader tracks sections (with their line numbers) */
    if (L->rc != 0)
        return 1;
    char v1[SHOW_MAX + 4], v2[SHOW_MAX + 4];
    if (L->cur < 0) {
        line_fail(L, L->lineno, BT_ERR_INVALID,
                  "%s = %s: outside any section (the file starts with [swarm])", show(name, v1),
                  show(value, v2));
        return 0;
    }
    sec *s = &L->secs[L->cur];
    int k = find_key(s->type, name);
    if (k < 0) {
        char lab[SIM_SCENARIO_MAX_NAME + 16], list[400];
        key_list(s->type, list, sizeof(list));
        line_fail(L, L->lineno, BT_ERR_INVALID, "%s %s = %s: unknown key (keys of [%s]: %s)",
                  sec_label(s, lab), show(name, v1), show(value, v2), sec_names[s->type], list);
        return 0;
    }
    if (s->set & (1ull << k)) {
        entry tmp = {(uint32_t)L->cur, (uint32_t)k, L->lineno, NULL, (char *)value};
        ent_fail(L, &tmp, BT_ERR_INVALID, "key given twice (first on line %d)",
                 find_entry(L, (size_t)L->cur, k)->line);
        return 0;
    }
    return add_entry(L, L->cur, k, L->lineno, NULL, value, strlen(value)) == 0;
}

/* The text of line |n| (1-based) of the input, for syntax errors. */
static void line_text(const loader *L, int n, char out[SHOW_MAX + 4])
{
    const char *p = L->text, *end = L->text + L->len;
    for (int i = 1; i < n && p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl != NULL ? nl + 1 : end;
    }
    size_t k = 0;
    while (p + k < end && p[k] != '\n' && p[k] != '\r' && k < SHOW_MAX)
        k++;
    char tmp[SHOW_MAX + 1];
    memcpy(tmp, p, k);
    tmp[k] = '\0';
    show(tmp, out);
}

static int parse_text(loader *L)
{
    if (memchr(L->text, '\0', L->len) != NULL) {
        const char *z = memchr(L->text, '\0', L->len);
        int line = 1;
        for (const char *p = L->text; p < z; p++)
            line += *p == '\n';
        return line_fail(L, line, BT_ERR_INVALID, "NUL byte in the file");
    }
    int rc = ini_parse_stream(line_reader, L, on_key, L);
    if (rc == -2)
        return line_fail(L, 0, BT_ERR_NOMEM, "out of memory");
    if (rc > 0 && (L->rc == 0 || rc < L->err_line)) {
        char t[SHOW_MAX + 4];
        line_text(L, rc, t);
        L->rc = 0;
        return line_fail(L, rc, BT_ERR_INVALID, "expected '[section]' or 'key = value': '%s'", t);
    }
    return L->rc;
}

/* ---- overrides ----------------------------------------------------------------------------- */

static int apply_override(loader *L, const char *ov)
{
    const char *eq = strchr(ov, '=');
    if (eq == NULL)
        return ovr_fail(L, ov, BT_ERR_INVALID,
                        "expected SECTION.KEY=VALUE (e.g. class.adsl.up=2Mbit)");
    const char *lhs = ov;
    size_t ll = (size_t)(eq - ov);
    trim(&lhs, &ll);
    size_t dot = ll;
    while (dot > 0 && lhs[dot - 1] != '.')
        dot--;
    if (dot == 0 || dot - 1 >= 128 || dot == ll)
        return ovr_fail(L, ov, BT_ERR_INVALID,
                        "expected SECTION.KEY=VALUE (e.g. swarm.seed=7, class.adsl.up=2Mbit)");
    char stext[128], key[64], why[160], name[SIM_SCENARIO_MAX_NAME + 1];
    memcpy(stext, lhs, dot - 1);
    stext[dot - 1] = '\0';
    snprintf(key, sizeof(key), "%.*s", (int)(ll - dot), lhs + dot);
    char *d = strchr(stext, '.');
    if (strchr(stext, ' ') == NULL && d != NULL)
        *d = ' ';
    int type, rc = parse_section(stext, strlen(stext), &type, name, why, sizeof(why));
    if (rc != 0)
        return ovr_fail(L, ov, rc, "%s", why);
    int si = find_sec(L, type, name);
    if (si < 0 && (type == SEC_ISP || type == SEC_CLASS))
        return ovr_fail(L, ov, BT_ERR_INVALID, "no [%s %s] in %s", sec_names[type], name, L->name);
    if (si < 0 && (si = add_sec(L, type, name, 0)) < 0)
        return L->rc;
    int k = find_key(type, key);
    if (k < 0) {
        char list[400];
        key_list(type, list, sizeof(list));
        return ovr_fail(L, ov, BT_ERR_INVALID, "unknown key (keys of [%s]: %s)", sec_names[type],
                        list);
    }
    entry *e = find_entry(L, (size_t)si, k);
    if (e == NULL)
        return add_entry(L, si, k, 0, ov, eq + 1, strlen(eq + 1));
    char *v = dup_trimmed(eq + 1, strlen(eq + 1));
    if (v == NULL)
        return line_fail(L, 0, BT_ERR_NOMEM, "out of memory");
    free(e->value);
    e->value = v;
    e->ovr = ov;
    e->line = 0;
    return 0;
}

/* ---- phase 2: the model ------------------------------------------------------------------- */

static void *sec_base(sim_scenario *sc, const sec *s)
{
    switch (s->type) {
    case SEC_SWARM:
        return &sc->swarm;
    case SEC_TRACKER:
        return &sc->tracker;
    case SEC_ARRIVALS:
        return &sc->arrivals;
    case SEC_ISP:
        return &sc->isps[s->index];
    case SEC_FLUID:
        return &sc->fluid;
    default:
        return &sc->classes[s->index];
    }
}

static void set_defaults(sim_scenario *sc)
{
    sc->swarm.piece_size = 256u * 1024u;
    sc->swarm.duration_us = BT_SEC(86400);
    sc->swarm.seed = 1;
    sc->swarm.payload = SIM_PAYLOAD_VIRTUAL;
    sc->swarm.stop_when_done = true;
    sc->swarm.sample_interval_us = BT_SEC(10);
    sc->tracker.numwant = 50;
    sc->tracker.interval_us = BT_SEC(1800);
    sc->tracker.policy = SIM_TRACKER_RANDOM;
    sc->tracker.local_fraction = 0.9;
    sc->arrivals.process = SIM_ARRIVALS_FLASH;
    sc->arrivals.count = SIM_SCENARIO_UNLIMITED;
    sc->fluid.eta = -1; /* estimate */
}

static void class_defaults(sim_class *c)
{
    c->role = SIM_ROLE_LEECHER;
    c->up = sim_dist_const(SIM_UNIT_RATE, 0);
    c->down = sim_dist_const(SIM_UNIT_RATE, 0);
    c->latency = sim_dist_const(SIM_UNIT_TIME, 0);
    c->isp = -1;
    snprintf(c->choker, sizeof(c->choker), "reference");
    c->choker_ops = bt_choker_find("reference");
    snprintf(c->picker, sizeof(c->picker), "rarest-first");
    c->linger = sim_dist_const(SIM_UNIT_TIME, 0);
    c->abort_after = (sim_dist){.kind = SIM_DIST_EXP, .unit = SIM_UNIT_TIME, .a = BT_SEC(600)};
    c->leave_at = BT_TIME_NEVER;
    c->view = SIM_VIEW_NORMAL;
    c->corrupt_rate = 1;
    c->response_delay = sim_dist_const(SIM_UNIT_TIME, 0);
}

static int match_name(const char *const *names, const char *v)
{
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], v) == 0)
            return i;
    return -1;
}

static int list_names(const char *const *names, char *msg, size_t len)
{
    size_t o = (size_t)snprintf(msg, len, "expected one of:");
    for (int i = 0; names[i] != NULL && o < len; i++)
        o += (size_t)snprintf(msg + o, len - o, "%s %s", i ? "," : "", names[i]);
    return BT_ERR_INVALID;
}

static int parse_piece(const char *v, uint32_t *p, char *msg, size_t ml)
{
    uint64_t x;
    int rc = sim_units_parse_size(v, strlen(v), &x, msg, ml);
    if (rc != 0)
        return rc;
    if (x < PIECE_MIN || x > PIECE_MAX || x % BLOCK_BYTES != 0) {
        snprintf(msg, ml, "a piece size is a multiple of 16KiB between 16KiB and 64MiB");
        return BT_ERR_INVALID;
    }
    *p = (uint32_t)x;
    return 0;
}

static int parse_numwant(const char *v, uint32_t *p, char *msg, size_t ml)
{
    uint64_t x;
    int rc = sim_units_parse_count(v, strlen(v), NUMWANT_MAX, &x, msg, ml);
    if (rc == 0 && x == 0) {
        snprintf(msg, ml, "must be at least 1");
        rc = BT_ERR_INVALID;
    }
    if (rc == 0)
        *p = (uint32_t)x;
    return rc;
}

static int parse_drate(const char *v, sim_dist *d, char *msg, size_t ml)
{
    int rc = sim_dist_parse(d, SIM_UNIT_RATE, v, strlen(v), false, msg, ml);
    if (rc == 0 && d->kind == SIM_DIST_CONST && d->a == 0) {
        snprintf(msg, ml, "a capacity must be > 0");
        return BT_ERR_INVALID;
    }
    d->min = 1;
    return rc;
}

static int parse_choker(const char *v, sim_class *c, char *msg, size_t ml)
{
    const bt_choker_ops *ops = strlen(v) < sizeof(c->choker) ? bt_choker_find(v) : NULL;
    if (ops == NULL) {
        size_t o = (size_t)snprintf(msg, ml, "unknown choker (built-in:");
        const char *const *n = bt_choker_names();
        for (int i = 0; n != NULL && n[i] != NULL && o < ml; i++)
            o += (size_t)snprintf(msg + o, ml - o, "%s %s", i ? "," : "", n[i]);
        if (o < ml)
            snprintf(msg + o, ml - o, ")");
        return BT_ERR_INVALID;
    }
    snprintf(c->choker, sizeof(c->choker), "%s", v);
    c->choker_ops = ops;
    return 0;
}

static int parse_ispref(const sim_scenario *sc, const char *v, int32_t *p, char *msg, size_t ml)
{
    if (strcmp(v, "core") == 0 || strcmp(v, "none") == 0) {
        *p = -1;
        return 0;
    }
    int32_t i = sim_scenario_find_isp(sc, v);
    if (i < 0) {
        snprintf(msg, ml, "no such ISP (define it with [isp NAME], or write core)");
        return BT_ERR_INVALID;
    }
    *p = i;
    return 0;
}

/* Parses the simple (non-distribution) types. */
static int parse_scalar(const key_def *k, const char *v, void *p, char *msg, size_t ml)
{
    size_t vl = strlen(v);
    switch (k->type) {
    case T_SIZE:
        return sim_units_parse_size(v, vl, p, msg, ml);
    case T_TIME:
    case T_TIME_NEVER:
        return sim_units_parse_time(v, vl, k->type == T_TIME_NEVER, p, msg, ml);
    case T_U64:
        return sim_units_parse_count(v, vl, UINT64_MAX, p, msg, ml);
    case T_COUNT_UNL:
        if (strcmp(v, "unlimited") == 0) {
            *(uint64_t *)p = SIM_SCENARIO_UNLIMITED;
            return 0;
        }
        /* fall through */
    case T_COUNT:
        return sim_units_parse_count(v, vl, SIM_SCENARIO_MAX_PEERS, p, msg, ml);
    case T_RATE_UNL:
        if (strcmp(v, "unlimited") == 0) {
            *(uint64_t *)p = 0;
            return 0;
        }
        return sim_units_parse_rate(v, vl, p, msg, ml);
    case T_FRAC:
        return sim_units_parse_fraction(v, vl, p, msg, ml);
    case T_ARATE:
        return sim_units_parse_arrival_rate(v, vl, p, msg, ml);
    case T_BOOL:
        return sim_units_parse_bool(v, vl, p, msg, ml);
    default:
        break;
    }
    snprintf(msg, ml, "internal: unhandled type");
    return BT_ERR_INVALID;
}

static bool has_control(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20)
            return true;
    return false;
}

static int parse_value(sim_scenario *sc, const key_def *k, const char *v, void *base, char *msg,
                       size_t ml)
{
    void *p = (char *)base + k->off;
    int i;
    switch (k->type) {
    case T_PIECE:
        return parse_piece(v, p, msg, ml);
    case T_NUMWANT:
        return parse_numwant(v, p, msg, ml);
    case T_DRATE:
        return parse_drate(v, p, msg, ml);
    case T_DTIME:
    case T_DTIME_NEVER:
        return sim_dist_parse(p, SIM_UNIT_TIME, v, strlen(v), k->type == T_DTIME_NEVER, msg, ml);
    case T_ENUM:
        if ((i = match_name(k->enums, v)) < 0)
            return list_names(k->enums, msg, ml);
        *(int *)p = i;
        return 0;
    case T_CHOKER:
        return parse_choker(v, base, msg, ml);
    case T_PICKER:
        if (match_name(picker_names, v) < 0)
            return list_names(picker_names, msg, ml);
        snprintf(p, sizeof(((sim_class *)0)->picker), "%s", v);
        return 0;
    case T_ISPREF:
        return parse_ispref(sc, v, p, msg, ml);
    case T_PATH:
        if (v[0] == '\0' || strpbrk(v, ";\x7f") != NULL || has_control(v)) {
            snprintf(msg, ml, "a path must be non-empty, without ';' or control characters");
            return BT_ERR_INVALID;
        }
        free(*(char **)p);
        if ((*(char **)p = strdup(v)) == NULL) {
            snprintf(msg, ml, "out of memory");
            return BT_ERR_NOMEM;
        }
        return 0;
    default:
        return parse_scalar(k, v, p, msg, ml);
    }
}

static int apply_entry(loader *L, sim_scenario *sc, const entry *e)
{
    const sec *s = &L->secs[e->sec];
    const key_def *k = &keys[e->key];
    void *base = sec_base(sc, s);
    if (s->type == SEC_CLASS) {
        const sim_class *c = base;
        unsigned role = c->role == SIM_ROLE_SEED ? R_SEED : R_LEECH;
        if (!(k->roles & role))
            return ent_fail(L, e, BT_ERR_INVALID, "only for %s classes (this one has role = %s)",
                            k->roles == R_SEED ? "seed" : "leecher", role_names[c->role]);
    }
    char msg[MSG_MAX];
    int rc = parse_value(sc, k, e->value, base, msg, sizeof(msg));
    if (rc != 0)
        return ent_fail(L, e, rc, "%s", msg);
    return 0;
}

static int alloc_model(loader *L, sim_scenario *sc)
{
    set_defaults(sc);
    sc->isps = calloc(L->nisps ? L->nisps : 1, sizeof(sim_isp));
    sc->classes = calloc(L->nclasses ? L->nclasses : 1, sizeof(sim_class));
    if (sc->isps == NULL || sc->classes == NULL)
        return line_fail(L, 0, BT_ERR_NOMEM, "out of memory");
    sc->nisps = L->nisps;
    sc->nclasses = L->nclasses;
    for (size_t i = 0; i < L->nsecs; i++) {
        const sec *s = &L->secs[i];
        if (s->type == SEC_ISP) {
            snprintf(sc->isps[s->index].name, sizeof(sc->isps[0].name), "%s", s->name);
            sc->isps[s->index].up_scale = 1;
        }
        if (s->type == SEC_CLASS) {
            class_defaults(&sc->classes[s->index]);
            snprintf(sc->classes[s->index].name, sizeof(sc->classes[0].name), "%s", s->name);
        }
    }
    return 0;
}

/* Applies every entry: roles first (other class keys depend on them), then the rest. */
static int apply_all(loader *L, sim_scenario *sc)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < L->nents && L->rc == 0; i++) {
            if ((L->ents[i].key == K_ROLE) != (pass == 0))
                continue;
            apply_entry(L, sc, &L->ents[i]);
        }
        if (pass == 0) {
            for (uint32_t c = 0; c < sc->nclasses; c++) {
                sim_class *cl = &sc->classes[c];
                if (cl->role == SIM_ROLE_SEED) {
                    cl->count = 1;
                    cl->linger = sim_dist_const(SIM_UNIT_TIME, BT_TIME_NEVER);
                }
            }
        }
    }
    return L->rc;
}

/* ---- phase 3: checks across keys ---------------------------------------------------------- */

static int sec_of(const loader *L, int type)
{
    for (size_t i = 0; i < L->nsecs; i++)
        if (L->secs[i].type == type)
            return (int)i;
    return -1;
}

static bool given(const loader *L, int si, int k)
{
    return si >= 0 && (L->secs[si].set & (1ull << k)) != 0;
}

static int check_swarm(loader *L, sim_scenario *sc)
{
    int si = sec_of(L, SEC_SWARM);
    if (si < 0)
        return line_fail(L, 0, BT_ERR_INVALID, "missing section [swarm] (with file_size)");
    sec *s = &L->secs[si];
    if (!given(L, si, K_FILE_SIZE))
        return sec_fail(L, s, BT_ERR_INVALID, "missing key 'file_size'");
    const sim_scenario_swarm *w = &sc->swarm;
    if (w->file_size == 0)
        return ent_fail(L, find_entry(L, (size_t)si, K_FILE_SIZE), BT_ERR_INVALID, "must be > 0");
    uint64_t npieces = w->file_size / w->piece_size + (w->file_size % w->piece_size != 0);
    if (npieces > SIM_SCENARIO_MAX_PIECES)
        return ent_fail(L, find_entry(L, (size_t)si, K_FILE_SIZE), BT_ERR_LIMIT,
                        "%llu pieces is more than %u: use a larger piece_size",
                        (unsigned long long)npieces, SIM_SCENARIO_MAX_PIECES);
    if (w->duration_us == 0)
        return ent_fail(L, find_entry(L, (size_t)si, K_DURATION), BT_ERR_INVALID, "must be > 0");
    if (w->sample_interval_us == 0)
        return ent_fail(L, find_entry(L, (size_t)si, K_SAMPLE), BT_ERR_INVALID, "must be > 0");
    return 0;
}

static int check_tracker(loader *L, sim_scenario *sc)
{
    int si = sec_of(L, SEC_TRACKER);
    if (sc->tracker.interval_us == 0)
        return ent_fail(L, find_entry(L, (size_t)si, K_INTERVAL), BT_ERR_INVALID, "must be > 0");
    if (sc->tracker.min_interval_us > sc->tracker.interval_us)
        return ent_fail(L, find_entry(L, (size_t)si, K_MIN_INTERVAL), BT_ERR_INVALID,
                        "must not exceed interval");
    return 0;
}

static int join_path(const char *dir, const char *file, char **out)
{
    if (dir == NULL || file[0] == '/') {
        *out = strdup(file);
    } else {
        size_t n = strlen(dir) + strlen(file) + 2;
        *out = malloc(n);
        if (*out != NULL)
            snprintf(*out, n, "%s/%s", dir, file);
    }
    return *out != NULL ? 0 : BT_ERR_NOMEM;
}

/* Required keys of each arrival process. */
static int check_arrivals(loader *L, sim_scenario *sc)
{
    int si = sec_of(L, SEC_ARRIVALS);
    sim_scenario_arrivals *a = &sc->arrivals;
    const char *proc = process_names[a->process];
    if (a->process == SIM_ARRIVALS_POISSON || a->process == SIM_ARRIVALS_DECAY) {
        if (!given(L, si, K_RATE))
            return sec_fail(L, &L->secs[si], BT_ERR_INVALID,
                            "missing key 'rate' (needed by process = %s)", proc);
        if (!(a->rate_per_s > 0.0))
            return ent_fail(L, find_entry(L, (size_t)si, K_RATE), BT_ERR_INVALID, "must be > 0");
    }
    if (a->process == SIM_ARRIVALS_DECAY) {
        if (!given(L, si, K_TAU))
            return sec_fail(L, &L->secs[si], BT_ERR_INVALID,
                            "missing key 'tau' (needed by process = decay)");
        if (a->tau_us == 0)
            return ent_fail(L, find_entry(L, (size_t)si, K_TAU), BT_ERR_INVALID, "must be > 0");
    }
    if (a->process == SIM_ARRIVALS_TRACE) {
        if (!given(L, si, K_FILE))
            return sec_fail(L, &L->secs[si], BT_ERR_INVALID,
                            "missing key 'file' (needed by process = trace)");
        if (join_path(sc->dir, a->file, &a->file_path) != 0)
            return line_fail(L, 0, BT_ERR_NOMEM, "out of memory");
    }
    return 0;
}

static int check_class(loader *L, sim_scenario *sc, const sec *s)
{
    const sim_class *c = &sc->classes[s->index];
    size_t si = (size_t)(s - L->secs);
    if (!(s->set & (1ull << K_UP)))
        return sec_fail(L, s, BT_ERR_INVALID, "missing key 'up' (upload capacity, e.g. 1Mbit)");
    if (!(s->set & (1ull << K_DOWN)))
        return sec_fail(L, s, BT_ERR_INVALID, "missing key 'down' (download capacity, e.g. 8Mbit)");
    if (c->choker_ops == NULL)
        return sec_fail(L, s, BT_ERR_INVALID, "the default choker 'reference' is not built in");
    if ((s->set & (1ull << K_CORRUPT_RATE)) && !(s->set & (1ull << K_CORRUPT)))
        return ent_fail(L, find_entry(L, si, K_CORRUPT_RATE), BT_ERR_INVALID,
                        "corrupt_rate applies to the class's corrupting peers: set corrupt too "
                        "(the probability that a peer corrupts; 1 = every peer)");
    if (c->role == SIM_ROLE_SEED)
        return 0;
    bool sh = s->set & (1ull << K_SHARE), ct = s->set & (1ull << K_COUNT);
    if (sh && ct)
        return ent_fail(L, find_entry(L, si, K_COUNT), BT_ERR_INVALID,
                        "a leecher class gives either share or count, not both");
    if (!sh && !ct)
        return sec_fail(L, s, BT_ERR_INVALID,
                        "missing key 'share' (the fraction of arrivals in this class; or "
                        "'count')");
    return 0;
}

/* All leecher classes use shares, or all use counts; returns the first leecher's mode. */
static int check_modes(loader *L, sim_scenario *sc)
{
    const sec *first = NULL;
    for (size_t i = 0; i < L->nsecs; i++) {
        const sec *s = &L->secs[i];
        if (s->type != SEC_CLASS || sc->classes[s->index].role != SIM_ROLE_LEECHER)
            continue;
        bool ct = s->set & (1ull << K_COUNT);
        if (first == NULL) {
            first = s;
            sc->by_count = ct;
        } else if (ct != sc->by_count) {
            char a[SIM_SCENARIO_MAX_NAME + 16], b[SIM_SCENARIO_MAX_NAME + 16];
            return line_fail(L, 0, BT_ERR_INVALID,
                             "%s gives %s but %s gives %s: leecher classes use all shares or "
                             "all counts",
                             sec_label(first, a), sc->by_count ? "count" : "share", sec_label(s, b),
                             ct ? "count" : "share");
        }
    }
    if (first == NULL)
        return line_fail(L, 0, BT_ERR_INVALID,
                         "no leecher class: add a [class NAME] with share = 1 (role = leecher "
                         "is the default)");
    return 0;
}

static int check_shares(loader *L, sim_scenario *sc)
{
    double sum = 0.0;
    for (uint32_t i = 0; i < sc->nclasses; i++)
        if (sc->classes[i].role == SIM_ROLE_LEECHER)
            sum += sc->classes[i].share;
    if (fabs(sum - 1.0) <= SHARE_TOLERANCE)
        return 0;
    char list[MSG_MAX], num[SIM_UNITS_FMT_MAX];
    size_t o = 0;
    list[0] = '\0';
    for (uint32_t i = 0; i < sc->nclasses && o < sizeof(list); i++) {
        const sim_class *c = &sc->classes[i];
        if (c->role != SIM_ROLE_LEECHER)
            continue;
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s[class %s] %s", o ? " + " : "",
                              c->name, sim_units_format_real(c->share, num));
    }
    return line_fail(L, 0, BT_ERR_INVALID, "leecher shares must sum to 1, but %s = %s", list,
                     sim_units_format_real(sum, num));
}

static int check_counts(loader *L, sim_scenario *sc)
{
    int si = sec_of(L, SEC_ARRIVALS);
    sim_scenario_arrivals *a = &sc->arrivals;
    bool cnt_given = given(L, si, K_ACOUNT);
    if (sc->by_count) {
        uint64_t total = 0;
        for (uint32_t i = 0; i < sc->nclasses; i++)
            if (sc->classes[i].role == SIM_ROLE_LEECHER)
                total += sc->classes[i].count;
        if (a->process == SIM_ARRIVALS_TRACE)
            return line_fail(L, 0, BT_ERR_INVALID,
                             "with process = trace, leecher classes take share, not count "
                             "(the trace names the classes)");
        if (cnt_given && a->count != total)
            return ent_fail(L, find_entry(L, (size_t)si, K_ACOUNT), BT_ERR_INVALID,
                            "the leecher classes' counts sum to %llu", (unsigned long long)total);
        a->count = total;
    } else if (a->process == SIM_ARRIVALS_FLASH && a->count == SIM_SCENARIO_UNLIMITED) {
        if (cnt_given)
            return ent_fail(L, find_entry(L, (size_t)si, K_ACOUNT), BT_ERR_INVALID,
                            "a flash crowd needs a finite count");
        return si >= 0 ? sec_fail(L, &L->secs[si], BT_ERR_INVALID,
                                  "missing key 'count' (leechers in the flash crowd)")
                       : line_fail(L, 0, BT_ERR_INVALID,
                                   "missing section [arrivals] (with count, the leechers of "
                                   "the flash crowd)");
    }
    if (a->process == SIM_ARRIVALS_TRACE)
        a->count = 0; /* set by the trace */
    return 0;
}

static int check_totals(loader *L, sim_scenario *sc)
{
    uint64_t seeds = 0;
    for (uint32_t i = 0; i < sc->nclasses; i++)
        if (sc->classes[i].role == SIM_ROLE_SEED)
            seeds += sc->classes[i].count;
    sc->nseeds = seeds;
    sc->nleechers = sc->arrivals.count;
    uint64_t leech = sc->nleechers == SIM_SCENARIO_UNLIMITED ? 0 : sc->nleechers;
    if (seeds + leech > SIM_SCENARIO_MAX_PEERS)
        return line_fail(L, 0, BT_ERR_LIMIT, "%llu seeds + %llu leechers is more than %u peers",
                         (unsigned long long)seeds, (unsigned long long)leech,
                         SIM_SCENARIO_MAX_PEERS);
    return 0;
}

static int check_isp(loader *L, sim_scenario *sc, const sec *s)
{
    if (sc->isps[s->index].up_scale > 0)
        return 0;
    return ent_fail(L, find_entry(L, (size_t)(s - L->secs), K_UP_SCALE), BT_ERR_INVALID,
                    "must be > 0 (1 keeps the classes' upload capacities; 0.5 halves them)");
}

static int check_all(loader *L, sim_scenario *sc)
{
    if (check_swarm(L, sc) != 0 || check_tracker(L, sc) != 0 || check_arrivals(L, sc) != 0)
        return L->rc;
    for (size_t i = 0; i < L->nsecs; i++)
        if (L->secs[i].type == SEC_ISP && check_isp(L, sc, &L->secs[i]) != 0)
            return L->rc;
    for (size_t i = 0; i < L->nsecs; i++)
        if (L->secs[i].type == SEC_CLASS && check_class(L, sc, &L->secs[i]) != 0)
            return L->rc;
    if (check_modes(L, sc) != 0)
        return L->rc;
    if (!sc->by_count && check_shares(L, sc) != 0)
        return L->rc;
    if (check_counts(L, sc) != 0 || check_totals(L, sc) != 0)
        return L->rc;
    return 0;
}

/* ---- public: loading ---------------------------------------------------------------------- */

static void loader_free(loader *L)
{
    for (size_t i = 0; i < L->nents; i++)
        free(L->ents[i].value);
    free(L->ents);
    free(L->secs);
}

int sim_scenario_load_string(sim_scenario **out, const char *text, size_t len, const char *name,
                             const char *dir, const char *const *overrides, size_t noverrides,
                             char *err, size_t errlen)
{
    *out = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    loader L = {.name = name,
                .text = text,
                .len = len,
                .cur = -1,
                .err = err,
                .errlen = errlen,
                .err_line = INT_MAX};
    sim_scenario *sc = calloc(1, sizeof(*sc));
    if (sc == NULL)
        return line_fail(&L, 0, BT_ERR_NOMEM, "out of memory");
    sc->name = strdup(name);
    sc->dir = dir != NULL ? strdup(dir) : NULL;
    if (sc->name == NULL || (dir != NULL && sc->dir == NULL))
        line_fail(&L, 0, BT_ERR_NOMEM, "out of memory");
    if (L.rc == 0 && len > SIM_SCENARIO_MAX_FILE_BYTES)
        line_fail(&L, 0, BT_ERR_LIMIT, "larger than %u bytes", SIM_SCENARIO_MAX_FILE_BYTES);
    if (L.rc == 0)
        parse_text(&L);
    for (size_t i = 0; i < noverrides && L.rc == 0; i++)
        apply_override(&L, overrides[i]);
    if (L.rc == 0 && alloc_model(&L, sc) == 0 && apply_all(&L, sc) == 0)
        check_all(&L, sc);
    loader_free(&L);
    if (L.rc != 0) {
        sim_scenario_free(sc);
        return L.rc;
    }
    *out = sc;
    return 0;
}

void sim_scenario_free(sim_scenario *sc)
{
    if (sc == NULL)
        return;
    free(sc->name);
    free(sc->dir);
    free(sc->arrivals.file);
    free(sc->arrivals.file_path);
    free(sc->arrivals.trace);
    free(sc->isps);
    free(sc->classes);
    free(sc);
}

static int read_file(const char *path, size_t limit, char **out, size_t *len, char *err,
                     size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return BT_ERR_NOTFOUND;
    }
    char *buf = malloc(limit + 1);
    if (buf == NULL) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return BT_ERR_NOMEM;
    }
    size_t n = fread(buf, 1, limit + 1, f);
    int bad = ferror(f);
    fclose(f);
    int rc = 0;
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        rc = BT_ERR_NOTFOUND;
    } else if (n > limit) {
        snprintf(err, errlen, "%s: larger than %zu bytes", path, limit);
        rc = BT_ERR_LIMIT;
    }
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* The directory of |path|, made absolute with the working directory when relative (kept as
 * written if that is unknown), so resolved trace paths survive a change of directory. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *d = slash == NULL ? strdup(".") : strndup(path, (size_t)(slash - path) + (slash == path));
    if (d == NULL || d[0] == '/')
        return d;
    char cwd[4096];
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return d;
    char *abs = NULL;
    int rc = strcmp(d, ".") == 0 ? ((abs = strdup(cwd)) != NULL ? 0 : BT_ERR_NOMEM)
                                 : join_path(cwd, d, &abs);
    if (rc != 0)
        return d;
    free(d);
    return abs;
}

int sim_scenario_load(sim_scenario **out, const char *path, const char *const *overrides,
                      size_t noverrides, char *err, size_t errlen)
{
    char dummy[1];
    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    *out = NULL;
    char *text;
    size_t len;
    int rc = read_file(path, SIM_SCENARIO_MAX_FILE_BYTES, &text, &len, err, errlen);
    if (rc != 0)
        return rc;
    char *dir = dir_of(path);
    if (dir == NULL) {
        free(text);
        snprintf(err, errlen, "%s: out of memory", path);
        return BT_ERR_NOMEM;
    }
    rc = sim_scenario_load_string(out, text, len, path, dir, overrides, noverrides, err, errlen);
    free(text);
    free(dir);
    if (rc == 0 && (*out)->arrivals.process == SIM_ARRIVALS_TRACE) {
        rc = sim_scenario_load_trace(*out, err, errlen);
        if (rc != 0) {
            sim_scenario_free(*out);
            *out = NULL;
        }
    }
    return rc;
}

int32_t sim_scenario_find_class(const sim_scenario *sc, const char *name)
{
    for (uint32_t i = 0; i < sc->nclasses; i++)
        if (strcmp(sc->classes[i].name, name) == 0)
            return (int32_t)i;
    return -1;
}

uint64_t sim_scenario_isp_up(const sim_isp *isp, uint64_t up_Bps)
{
    if (isp == NULL)
        return up_Bps;
    double x = floor((double)up_Bps * isp->up_scale + 0.5);
    uint64_t v = x >= 18446744073709549568.0 ? UINT64_MAX : (uint64_t)x;
    if (isp->up_cap_Bps != 0 && v > isp->up_cap_Bps)
        v = isp->up_cap_Bps;
    return v < 1 ? 1 : v;
}

int32_t sim_scenario_find_isp(const sim_scenario *sc, const char *name)
{
    for (uint32_t i = 0; i < sc->nisps; i++)
        if (strcmp(sc->isps[i].name, name) == 0)
            return (int32_t)i;
    return -1;
}

void sim_scenario_class_counts(const sim_scenario *sc, uint64_t total, uint64_t *out)
{
    uint64_t given_out = 0;
    for (uint32_t i = 0; i < sc->nclasses; i++) {
        const sim_class *c = &sc->classes[i];
        out[i] = 0;
        if (c->role != SIM_ROLE_LEECHER)
            continue;
        out[i] = sc->by_count ? c->count : (uint64_t)floor(c->share * (double)total);
        given_out += out[i];
    }
    if (sc->by_count)
        return;
    /* Largest remainder: hand out what is left one at a time, each to the class with the
     * largest remaining fraction (lower index on ties). At most nclasses rounds. */
    while (given_out < total) {
        int best = -1;
        double bestr = -1.0;
        for (uint32_t i = 0; i < sc->nclasses; i++) {
            const sim_class *c = &sc->classes[i];
            if (c->role != SIM_ROLE_LEECHER || c->share <= 0.0)
                continue;
            double r = c->share * (double)total - (double)out[i];
            if (r > bestr) {
                bestr = r;
                best = (int)i;
            }
        }
        if (best < 0)
            break;
        out[best]++;
        given_out++;
    }
}

/* ---- traces -------------------------------------------------------------------------------- */

typedef struct trace_ctx {
    sim_scenario *sc;
    const char *name;
    sim_trace_entry *v;
    size_t n, cap;
    size_t lineno; /* of the line being collected, 1-based */
    char line[SIM_TRACE_MAX_LINE + 1];
    size_t ll;
    int rc;
    char *err;
    size_t errlen;
} trace_ctx;

static int trace_fail(trace_ctx *t, int code, const char *fmt, ...)
{
    if (t->rc != 0)
        return t->rc;
    t->rc = code;
    if (t->err == NULL || t->errlen == 0)
        return code;
    int n = snprintf(t->err, t->errlen, "%s:%zu: ", t->name, t->lineno);
    if (n >= 0 && (size_t)n < t->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->err + n, t->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Splits off the next blank-separated token of s[*i..n). */
static size_t next_token(const char *s, size_t n, size_t *i, const char **tok)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t'))
        (*i)++;
    *tok = s + *i;
    size_t start = *i;
    while (*i < n && s[*i] != ' ' && s[*i] != '\t')
        (*i)++;
    return *i - start;
}

static int trace_class(trace_ctx *t, const char *tok, size_t tl, int32_t *cls)
{
    char name[SIM_SCENARIO_MAX_NAME + 1], v[SHOW_MAX + 4];
    if (tl > SIM_SCENARIO_MAX_NAME)
        return trace_fail(t, BT_ERR_INVALID, "no class '%.*s...'", 20, tok);
    memcpy(name, tok, tl);
    name[tl] = '\0';
    *cls = sim_scenario_find_class(t->sc, name);
    if (*cls < 0)
        return trace_fail(t, BT_ERR_INVALID, "no class '%s' in the scenario", show(name, v));
    if (t->sc->classes[*cls].role != SIM_ROLE_LEECHER)
        return trace_fail(t, BT_ERR_INVALID, "'%s' is a seed class; a trace lists leechers", name);
    return 0;
}

static int trace_line(trace_ctx *t, const char *s, size_t n)
{
    const char *hash = memchr(s, '#', n);
    if (hash != NULL)
        n = (size_t)(hash - s);
    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (memchr(s, '\0', n) != NULL)
        return trace_fail(t, BT_ERR_INVALID, "NUL byte");
    size_t i = 0;
    const char *ttok, *ctok, *xtok;
    size_t tl = next_token(s, n, &i, &ttok), cl = next_token(s, n, &i, &ctok);
    if (tl == 0)
        return 0; /* blank or comment */
    if (next_token(s, n, &i, &xtok) != 0)
        return trace_fail(t, BT_ERR_INVALID, "expected 'TIME [CLASS]'");
    bt_time_us at;
    char msg[MSG_MAX];
    int rc = sim_units_parse_time(ttok, tl, false, &at, msg, sizeof(msg));
    if (rc != 0)
        return trace_fail(t, rc, "%s", msg);
    int32_t cls = -1;
    if (cl > 0 && trace_class(t, ctok, cl, &cls) != 0)
        return t->rc;
    bt_time_us start = t->sc->arrivals.start_us;
    if (at >= BT_TIME_NEVER - start)
        return trace_fail(t, BT_ERR_LIMIT, "time too large");
    at += start;
    if (t->n > 0 && at < t->v[t->n - 1].time_us)
        return trace_fail(t, BT_ERR_INVALID,
                          "join times must not decrease (sort the trace by time)");
    if (t->n >= SIM_TRACE_MAX_ENTRIES)
        return trace_fail(t, BT_ERR_LIMIT, "more than %u joins", SIM_TRACE_MAX_ENTRIES);
    if (grow((void **)&t->v, &t->cap, t->n, sizeof(*t->v)) != 0)
        return trace_fail(t, BT_ERR_NOMEM, "out of memory");
    t->v[t->n++] = (sim_trace_entry){.time_us = at, .cls = cls};
    return 0;
}

static int trace_feed(trace_ctx *t, const char *data, size_t len)
{
    for (size_t i = 0; i < len && t->rc == 0; i++) {
        if (data[i] == '\n') {
            trace_line(t, t->line, t->ll);
            t->ll = 0;
            t->lineno++;
        } else if (t->ll < SIM_TRACE_MAX_LINE) {
            t->line[t->ll++] = data[i];
        } else {
            trace_fail(t, BT_ERR_LIMIT, "line longer than %d characters", SIM_TRACE_MAX_LINE);
        }
    }
    return t->rc;
}

/* Handles the last line and installs the result in the scenario. */
static int trace_finish(trace_ctx *t)
{
    if (t->rc == 0 && t->ll > 0)
        trace_line(t, t->line, t->ll);
    if (t->rc == 0 && t->n == 0) {
        t->rc = BT_ERR_INVALID;
        if (t->err != NULL && t->errlen > 0)
            snprintf(t->err, t->errlen, "%s: no join times in the trace", t->name);
    }
    sim_scenario *sc = t->sc;
    if (t->rc == 0 && sc->nseeds + t->n > SIM_SCENARIO_MAX_PEERS)
        trace_fail(t, BT_ERR_LIMIT, "%llu seeds + %zu leechers is more than %u peers",
                   (unsigned long long)sc->nseeds, t->n, SIM_SCENARIO_MAX_PEERS);
    if (t->rc != 0) {
        free(t->v);
        return t->rc;
    }
    free(sc->arrivals.trace);
    sc->arrivals.trace = t->v;
    sc->arrivals.ntrace = t->n;
    sc->arrivals.count = t->n;
    sc->nleechers = t->n;
    return 0;
}

int sim_scenario_parse_trace(sim_scenario *sc, const char *text, size_t len, const char *name,
                             char *err, size_t errlen)
{
    trace_ctx t = {.sc = sc, .name = name, .lineno = 1, .err = err, .errlen = errlen};
    trace_feed(&t, text, len);
    return trace_finish(&t);
}

int sim_scenario_load_trace(sim_scenario *sc, char *err, size_t errlen)
{
    const char *path = sc->arrivals.file_path;
    if (path == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: [arrivals]: no trace file", sc->name);
        return BT_ERR_INVALID;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: [arrivals] file = %s: cannot open %s: %s", sc->name,
                     sc->arrivals.file, path, strerror(errno));
        return BT_ERR_NOTFOUND;
    }
    trace_ctx t = {.sc = sc, .name = path, .lineno = 1, .err = err, .errlen = errlen};
    char *buf = malloc(1u << 16);
    if (buf == NULL)
        trace_fail(&t, BT_ERR_NOMEM, "out of memory");
    size_t n;
    while (t.rc == 0 && (n = fread(buf, 1, 1u << 16, f)) > 0)
        trace_feed(&t, buf, n);
    if (t.rc == 0 && ferror(f))
        trace_fail(&t, BT_ERR_NOTFOUND, "read error");
    free(buf);
    fclose(f);
    return trace_finish(&t);
}

/* ---- the resolved scenario ---------------------------------------------------------------- */

/* Whether key |k| of a section is meaningful in |sc| (irrelevant keys are not written). */
static bool relevant(const sim_scenario *sc, int k, const void *obj)
{
    int proc = sc->arrivals.process;
    const sim_class *c = obj;
    switch (k) {
    case K_ACOUNT:
        return proc != SIM_ARRIVALS_TRACE;
    case K_RATE:
        return proc == SIM_ARRIVALS_POISSON || proc == SIM_ARRIVALS_DECAY;
    case K_TAU:
        return proc == SIM_ARRIVALS_DECAY;
    case K_FILE:
        return proc == SIM_ARRIVALS_TRACE;
    case K_COUNT:
        return c->role == SIM_ROLE_SEED || sc->by_count;
    case K_SHARE:
        return c->role == SIM_ROLE_LEECHER && !sc->by_count;
    default:
        break;
    }
    if (keys[k].sec == SEC_CLASS)
        return (keys[k].roles & (c->role == SIM_ROLE_SEED ? R_SEED : R_LEECH)) != 0;
    return true;
}

static const char *format_value(const sim_scenario *sc, const key_def *k, const void *base,
                                char *buf)
{
    const void *p = (const char *)base + k->off;
    uint64_t u = 0;
    switch (k->type) {
    case T_SIZE:
        return sim_units_format_size(*(const uint64_t *)p, buf);
    case T_PIECE:
        return sim_units_format_size(*(const uint32_t *)p, buf);
    case T_TIME:
    case T_TIME_NEVER:
        return sim_units_format_time(*(const bt_time_us *)p, buf);
    case T_NUMWANT:
        u = *(const uint32_t *)p;
        break;
    case T_U64:
    case T_COUNT:
    case T_COUNT_UNL:
        u = *(const uint64_t *)p;
        if (k->type == T_COUNT_UNL && u == SIM_SCENARIO_UNLIMITED)
            return strcpy(buf, "unlimited");
        break;
    case T_RATE_UNL:
        u = *(const uint64_t *)p;
        return u == 0 ? strcpy(buf, "unlimited") : sim_units_format_rate(u, buf);
    case T_FRAC:
        return sim_units_format_real(*(const double *)p, buf);
    case T_ARATE:
        return sim_units_format_arrival_rate(*(const double *)p, buf);
    case T_BOOL:
        return strcpy(buf, *(const bool *)p ? "true" : "false");
    case T_DRATE:
    case T_DTIME:
    case T_DTIME_NEVER:
        return sim_dist_format(p, buf);
    case T_ENUM:
        return k->enums[*(const int *)p];
    case T_CHOKER:
    case T_PICKER:
        return p;
    case T_ISPREF:
        return *(const int32_t *)p < 0 ? "core" : sc->isps[*(const int32_t *)p].name;
    case T_PATH:
        return sc->arrivals.file_path != NULL ? sc->arrivals.file_path : "";
    }
    snprintf(buf, SIM_DIST_FMT_MAX, "%llu", (unsigned long long)u);
    return buf;
}

static void write_section(const sim_scenario *sc, FILE *f, int type, const void *obj,
                          const char *name)
{
    char buf[SIM_DIST_FMT_MAX];
    if (name != NULL)
        fprintf(f, "\n[%s %s]\n", sec_names[type], name);
    else
        fprintf(f, "\n[%s]\n", sec_names[type]);
    for (int k = 0; k < NKEYS; k++) {
        if (keys[k].sec != type || !relevant(sc, k, obj))
            continue;
        fprintf(f, "%s = %s\n", keys[k].name, format_value(sc, &keys[k], obj, buf));
    }
}

int sim_scenario_write_resolved(const sim_scenario *sc, FILE *f)
{
    fputs("; swarmlab resolved scenario: every key with the value in effect\n; source: ", f);
    const char *p = sc->name;
    size_t n = strlen(p);
    if (n > 150) { /* keep the comment within the line limit */
        fputs("...", f);
        p += n - 147;
    }
    for (; *p != '\0'; p++)
        fputc((unsigned char)*p >= 0x20 && *p != 0x7f ? *p : '?', f);
    fputc('\n', f);
    write_section(sc, f, SEC_SWARM, &sc->swarm, NULL);
    write_section(sc, f, SEC_TRACKER, &sc->tracker, NULL);
    write_section(sc, f, SEC_ARRIVALS, &sc->arrivals, NULL);
    for (uint32_t i = 0; i < sc->nisps; i++)
        write_section(sc, f, SEC_ISP, &sc->isps[i], sc->isps[i].name);
    for (uint32_t i = 0; i < sc->nclasses; i++)
        write_section(sc, f, SEC_CLASS, &sc->classes[i], sc->classes[i].name);
    if (sc->fluid.eta >= 0) /* left out when estimated */
        write_section(sc, f, SEC_FLUID, &sc->fluid, NULL);
    return ferror(f) ? BT_ERR_INVALID : 0;
}
