/* live_output.c: records what a live client sees of its swarm for the result files: one row per
 * remote peer (keyed by peer id, class from its BEP 20 prefix), a time series of samples, and
 * writes the files atomically (temporary name, then rename) through live_output_write.c. */
#include "live_output_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
    const char *prefix; /* compared over its length */
    const char *name;
} client_names[] = {
    {"-TR", "transmission"}, {"-LT", "libtorrent"}, {"-lt", "rtorrent"},
    {"-qB", "qbittorrent"},  {"-DE", "deluge"},     {"-UT", "utorrent"},
    {"-AZ", "vuze"},         {"-BC", "bitcomet"},   {"-BT", "bittorrent"},
    {"-SL", "swarmlab"},     {"A2-", "aria2"},      {"-KT", "ktorrent"},
    {"-WW", "webtorrent"},   {"-XL", "xunlei"},     {"-FD", "free_download_manager"},
    {"-BI", "biglybt"},      {"M", "mainline"},
};

const char *live_peer_class(const uint8_t peer_id[20])
{
    for (size_t i = 0; i < sizeof(client_names) / sizeof(client_names[0]); i++) {
        size_t n = strlen(client_names[i].prefix);
        if (memcmp(peer_id, client_names[i].prefix, n) == 0) {
            /* mainline: "M7-2-2--"; a bare 'M' is not enough */
            if (n == 1 && !(peer_id[1] >= '0' && peer_id[1] <= '9' && peer_id[2] == '-'))
                continue;
            return client_names[i].name;
        }
    }
    return "peer";
}

/* mkdir -p |dir|. 0, or -1 with errno. */
static int make_dirs(const char *dir)
{
    char *p = strdup(dir);
    if (p == NULL)
        return -1;
    for (char *s = p + 1; *s != '\0'; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rv = mkdir(p, 0777) != 0 && errno != EEXIST ? -1 : 0;
    free(p);
    return rv;
}

int live_out_new(live_out **out, const char *dir, const live_out_info *info, bt_time_us t0)
{
    *out = NULL;
    struct stat sb;
    if (make_dirs(dir) != 0 || stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "swarmlab: --results %s: cannot create the directory: %s\n", dir,
                strerror(errno ? errno : ENOTDIR));
        return -1;
    }
    live_out *o = calloc(1, sizeof(*o));
    if (o == NULL || (o->dir = strdup(dir)) == NULL) {
        free(o);
        fprintf(stderr, "swarmlab: out of memory\n");
        return -1;
    }
    o->info = *info;
    o->t0 = t0;
    o->classes[0] = "self";
    o->nclasses = 1;
    *out = o;
    return 0;
}

void live_out_del(live_out *o)
{
    if (o == NULL)
        return;
    free(o->dir);
    free(o->peers);
    free(o->active);
    free(o->samples);
    free(o);
}

static bt_time_us rel(const live_out *o, bt_time_us now)
{
    return now > o->t0 ? now - o->t0 : 0;
}

static uint8_t class_index(live_out *o, const char *name)
{
    for (uint32_t k = 1; k < o->nclasses; k++)
        if (strcmp(o->classes[k], name) == 0)
            return (uint8_t)k;
    if (o->nclasses == OUT_MAX_CLASSES) /* cannot happen with the table above; be safe */
        return (uint8_t)(o->nclasses - 1);
    o->classes[o->nclasses] = name;
    return (uint8_t)o->nclasses++;
}

static void deactivate(live_out *o, size_t slot, bt_time_us now)
{
    out_peer *p = &o->peers[o->active[slot]];
    p->active = false;
    p->left = rel(o, now);
    o->active[slot] = o->active[--o->nactive];
}

void live_out_closed(live_out *o, const bt_action *close, bt_time_us now)
{
    for (size_t i = 0; i < o->nactive; i++) {
        out_peer *p = &o->peers[o->active[i]];
        if (p->conn != close->conn)
            continue;
        /* the bytes moved since the last sample, which the engine has now forgotten */
        uint64_t dd = close->down_total > p->last_down ? close->down_total - p->last_down : 0;
        uint64_t du = close->up_total > p->last_up ? close->up_total - p->last_up : 0;
        p->down += dd;
        p->up += du;
        if (p->complete == BT_TIME_NEVER)
            p->down_leeching += dd;
        deactivate(o, i, now);
        return;
    }
}

/* The row of a newly seen connection: the peer's earlier row, or a new one. NULL if full. */
static out_peer *activate(live_out *o, const bt_conn_info *ci, bt_conn_id id, bt_time_us now)
{
    size_t idx = o->npeers;
    for (size_t i = 0; i < o->npeers; i++)
        if (!o->peers[i].active && memcmp(o->peers[i].pid, ci->peer_id, 20) == 0) {
            idx = i;
            break;
        }
    if (idx == o->npeers) {
        if (o->npeers == LIVE_OUT_MAX_PEERS) {
            o->dropped++;
            return NULL;
        }
        if (o->npeers == o->cap) {
            size_t cap = o->cap ? o->cap * 2 : 64;
            out_peer *n = realloc(o->peers, cap * sizeof(*n));
            if (n == NULL)
                return NULL;
            o->peers = n;
            o->cap = cap;
        }
        out_peer *p = &o->peers[o->npeers++];
        memset(p, 0, sizeof(*p));
        memcpy(p->pid, ci->peer_id, 20);
        p->cls = class_index(o, live_peer_class(ci->peer_id));
        p->join = rel(o, now);
        p->complete = BT_TIME_NEVER;
        p->seed_at_join = ci->is_seed;
    }
    if (o->nactive == o->active_cap) {
        size_t cap = o->active_cap ? o->active_cap * 2 : 64;
        uint32_t *n = realloc(o->active, cap * sizeof(*n));
        if (n == NULL)
            return NULL;
        o->active = n;
        o->active_cap = cap;
    }
    o->active[o->nactive++] = (uint32_t)idx;
    out_peer *p = &o->peers[idx];
    p->active = true;
    p->conn = id;
    p->addr = ci->addr;
    p->left = BT_TIME_NEVER;
    p->last_up = p->last_down = 0;
    p->rate_up = p->rate_down = 0;
    p->rate_t = now;
    return p;
}

static void update(live_out *o, out_peer *p, const bt_conn_info *ci, bt_time_us now)
{
    uint64_t dd = ci->down_total >= p->last_down ? ci->down_total - p->last_down : 0;
    uint64_t du = ci->up_total >= p->last_up ? ci->up_total - p->last_up : 0;
    p->down += dd;
    p->up += du;
    if (!ci->is_seed)
        p->down_leeching += dd;
    p->last_down = ci->down_total;
    p->last_up = ci->up_total;
    /* peak rates over intervals of at least a second (shorter ones are too noisy) */
    p->rate_down += dd;
    p->rate_up += du;
    bt_time_us dt = now - p->rate_t;
    if (dt >= BT_US_PER_S) {
        uint64_t from = p->rate_down * BT_US_PER_S / dt, to = p->rate_up * BT_US_PER_S / dt;
        p->peak_from = from > p->peak_from ? from : p->peak_from;
        p->peak_to = to > p->peak_to ? to : p->peak_to;
        p->rate_down = p->rate_up = 0;
        p->rate_t = now;
    }
    if (ci->is_seed && p->complete == BT_TIME_NEVER)
        p->complete = p->seed_at_join ? p->join : rel(o, now);
}

static out_peer *find_active(live_out *o, bt_conn_id id, const uint8_t *pid, bt_time_us now)
{
    for (size_t i = 0; i < o->nactive; i++) {
        out_peer *p = &o->peers[o->active[i]];
        if (p->conn != id)
            continue;
        if (memcmp(p->pid, pid, 20) == 0)
            return p;
        deactivate(o, i, now); /* the id was reused after a close we did not see */
        return NULL;
    }
    return NULL;
}

void live_out_sample(live_out *o, const bt_client *c, const bt_conn_id *ids, size_t n,
                     bt_time_us now)
{
    /* rows whose connection is gone left now */
    for (size_t i = 0; i < o->nactive;) {
        bt_conn_id id = o->peers[o->active[i]].conn;
        bool present = false;
        for (size_t j = 0; j < n && !present; j++)
            present = ids[j] == id;
        if (present)
            i++;
        else
            deactivate(o, i, now);
    }
    for (size_t j = 0; j < n; j++) {
        bt_conn_info ci;
        if (bt_conn_get_info(c, ids[j], &ci) != 0 || !ci.handshaked)
            continue;
        out_peer *p = find_active(o, ids[j], ci.peer_id, now);
        if (p == NULL)
            p = activate(o, &ci, ids[j], now);
        if (p != NULL)
            update(o, p, &ci, now);
    }
}

/* Availability over the connected peers and us: the mean is exact (piece copies / pieces);
 * the minimum is a lower bound, as the engine does not expose the peers' bitfields: the holders
 * with every piece, or the holders less the pieces some holder misses, whichever is larger. */
static void availability(const live_out *o, const bt_client *c, const bt_client_stats *st,
                         out_sample *s)
{
    uint64_t npieces = o->info.m->npieces, copies = st->pieces_have, missing = 0;
    uint32_t holders = 1, full = st->complete ? 1 : 0;
    missing += npieces - st->pieces_have;
    for (size_t i = 0; i < o->nactive; i++) {
        bt_conn_info ci;
        if (bt_conn_get_info(c, o->peers[o->active[i]].conn, &ci) != 0)
            continue;
        uint32_t have = ci.peer_pieces < npieces ? ci.peer_pieces : (uint32_t)npieces;
        holders++;
        copies += have;
        missing += npieces - have;
        full += have == npieces;
        if (ci.is_seed)
            s->seeds++;
        else
            s->leechers++;
    }
    s->avail_mean = npieces ? (double)copies / (double)npieces : 0;
    uint64_t bound = holders > missing ? holders - missing : 0;
    s->avail_min = (uint32_t)(bound > full ? bound : full);
}

void live_out_tick(live_out *o, const bt_client *c, uint64_t down_Bps, uint64_t up_Bps,
                   bt_time_us now)
{
    o->peak_down = down_Bps > o->peak_down ? down_Bps : o->peak_down;
    o->peak_up = up_Bps > o->peak_up ? up_Bps : o->peak_up;
    if (o->nsamples == LIVE_OUT_MAX_SAMPLES)
        return;
    if (o->nsamples == o->samples_cap) {
        size_t cap = o->samples_cap ? o->samples_cap * 2 : 256;
        out_sample *n = realloc(o->samples, cap * sizeof(*n));
        if (n == NULL)
            return;
        o->samples = n;
        o->samples_cap = cap;
    }
    bt_client_stats st;
    bt_client_get_stats(c, &st);
    out_sample *s = &o->samples[o->nsamples++];
    memset(s, 0, sizeof(*s));
    s->t = rel(o, now);
    availability(o, c, &st, s);
    if (!st.complete)
        o->self_up_leeching = st.uploaded;
    if (st.complete)
        s->seeds++;
    else
        s->leechers++;
    s->pieces = st.pieces_have;
    s->conns = st.nconns_active;
    s->down_Bps = down_Bps;
    s->up_Bps = up_Bps;
}

typedef int (*writer)(const live_out *o, const bt_client_stats *st, bt_time_us now,
                      const char *path);

static int w_peers(const live_out *o, const bt_client_stats *st, bt_time_us now, const char *p)
{
    return live_out_write_peers(o, st, now, p);
}
static int w_series(const live_out *o, const bt_client_stats *st, bt_time_us now, const char *p)
{
    (void)st;
    (void)now;
    return live_out_write_series(o, p);
}
static int w_completion(const live_out *o, const bt_client_stats *st, bt_time_us now, const char *p)
{
    (void)now;
    return live_out_write_completion(o, st, p);
}
static int w_summary(const live_out *o, const bt_client_stats *st, bt_time_us now, const char *p)
{
    return live_out_write_summary(o, st, now, p);
}
static int w_run(const live_out *o, const bt_client_stats *st, bt_time_us now, const char *p)
{
    (void)st;
    return live_out_write_run(o, now, p);
}

int live_out_write(live_out *o, const bt_client *c, bt_time_us now)
{
    static const char *const names[] = {"peers.tsv", "timeseries.tsv", "completion.tsv",
                                        "summary.json", "run.json"};
    static const writer fns[] = {w_peers, w_series, w_completion, w_summary, w_run};
    bt_client_stats st;
    bt_client_get_stats(c, &st);
    int rv = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t n = strlen(o->dir) + 32;
        char *tmp = malloc(n), *dst = malloc(n);
        if (tmp == NULL || dst == NULL) {
            free(tmp);
            free(dst);
            return -1;
        }
        snprintf(tmp, n, "%s/.%s.tmp", o->dir, names[i]);
        snprintf(dst, n, "%s/%s", o->dir, names[i]);
        if (fns[i](o, &st, now, tmp) != 0 || rename(tmp, dst) != 0) {
            fprintf(stderr, "swarmlab: %s: cannot write: %s\n", dst, strerror(errno));
            remove(tmp);
            rv = -1;
        }
        free(tmp);
        free(dst);
    }
    return rv;
}
