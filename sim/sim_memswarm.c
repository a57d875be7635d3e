/* sim_memswarm.c: an in-process swarm of engine clients over in-memory pipes (random-sized
 * fragments, a per-step byte budget per direction), with in-memory storage of real bytes that
 * are SHA-1 verified, and a built-in tracker. Deterministic: no clock, one PCG32 stream. */
#include "sim_memswarm.h"
#include "sim_grow.h"

#include <stdlib.h>
#include <string.h>

typedef struct node {
    bt_client *c;
    bt_addr addr;
    uint8_t *store;
    uint64_t up_left;   /* upload budget left in this step */
    sim_memswarm_peer st;
} node;

typedef struct pipe_dir {
    bt_buf buf;
    size_t off;
} pipe_dir;

typedef struct pipe {
    uint32_t a, b;          /* node indices; a initiated */
    bt_conn_id ca, cb;
    pipe_dir dir[2];        /* 0: a->b, 1: b->a */
    bool dead;
} pipe;

typedef struct swarm {
    const sim_memswarm_config *cfg;
    node *nodes;
    uint32_t n;
    pipe *pipes;
    uint32_t npipes, pipes_cap;
    bt_pcg32 rng;
    uint8_t *content;
    uint8_t *hashes;
    uint32_t npieces;
    bt_time_us now;
    sim_memswarm_result *res;
} swarm;

void sim_memswarm_defaults(sim_memswarm_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->nseeds = 1;
    cfg->nleechers = 4;
    cfg->total_len = 4u << 20;
    cfg->piece_len = 256u << 10;
    cfg->seed = 1;
    cfg->step_us = BT_MSEC(10);
    cfg->link_bytes_per_step = 128u << 10;
    cfg->max_fragment = 1500;
    cfg->pipe_cap = 256u << 10;
    cfg->corrupt_peer = -1;
    cfg->max_time = BT_SEC(3600);
}

static void trace(swarm *s, const char *fmt, uint32_t a, uint32_t b, uint64_t x)
{
    if (s->cfg->trace == NULL)
        return;
    fprintf(s->cfg->trace, "%llu.%06llu ", (unsigned long long)(s->now / BT_US_PER_S),
            (unsigned long long)(s->now % BT_US_PER_S));
    fprintf(s->cfg->trace, fmt, a, b, (unsigned long long)x);
    fputc('\n', s->cfg->trace);
}

static bool is_corrupt(const swarm *s, uint32_t node_idx)
{
    return s->cfg->corrupt_peer >= 0 &&
           node_idx == s->cfg->nseeds + (uint32_t)s->cfg->corrupt_peer;
}

static int32_t find_node(const swarm *s, const bt_addr *a)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (memcmp(s->nodes[i].addr.ip, a->ip, 4) == 0 && s->nodes[i].addr.port == a->port)
            return (int32_t)i;
    return -1;
}

static pipe *find_pipe(swarm *s, uint32_t node_idx, bt_conn_id id, int *side)
{
    for (uint32_t i = 0; i < s->npipes; i++) {
        pipe *p = &s->pipes[i];
        if (p->dead)
            continue;
        if (p->a == node_idx && p->ca == id) {
            *side = 0;
            return p;
        }
        if (p->b == node_idx && p->cb == id) {
            *side = 1;
            return p;
        }
    }
    return NULL;
}

static pipe *new_pipe(swarm *s)
{
    if (sim_grow((void **)&s->pipes, &s->pipes_cap, s->npipes + 1, sizeof(pipe), 64) != 0)
        return NULL;
    pipe *p = &s->pipes[s->npipes++];
    memset(p, 0, sizeof(*p));
    bt_buf_init(&p->dir[0].buf, bt_mem_default(), 0);
    bt_buf_init(&p->dir[1].buf, bt_mem_default(), 0);
    return p;
}

static void kill_pipe(pipe *p)
{
    p->dead = true;
    bt_buf_free(&p->dir[0].buf);
    bt_buf_free(&p->dir[1].buf);
}

/* ---- actions ---- */

static int do_connect(swarm *s, uint32_t i, const bt_action *a)
{
    int32_t j = find_node(s, &a->addr);
    pipe *p = j >= 0 ? new_pipe(s) : NULL;
    if (p == NULL) {
        bt_conn_closed(s->nodes[i].c, a->conn, s->now);
        return 0;
    }
    p->a = i;
    p->b = (uint32_t)j;
    p->ca = a->conn;
    bt_addr from = s->nodes[i].addr;
    from.port = (uint16_t)(40000 + s->npipes % 20000);
    int rv = bt_client_accept(s->nodes[j].c, &from, &p->cb, s->now);
    if (rv != 0) {
        kill_pipe(p);
        bt_conn_closed(s->nodes[i].c, a->conn, s->now);
        return rv <= BT_ERR_FATAL ? rv : 0;
    }
    trace(s, "connect %u -> %u %llu", i, (uint32_t)j, a->conn);
    return bt_conn_connected(s->nodes[i].c, a->conn, s->now);
}

static void do_close(swarm *s, uint32_t i, const bt_action *a)
{
    int side;
    pipe *p = find_pipe(s, i, a->conn, &side);
    trace(s, "close %u conn %u reason %llu", i, a->conn, a->reason);
    if (p == NULL)
        return;
    uint32_t other = side == 0 ? p->b : p->a;
    bt_conn_id oc = side == 0 ? p->cb : p->ca;
    kill_pipe(p);
    bt_conn_closed(s->nodes[other].c, oc, s->now);
}

static int do_announce(swarm *s, uint32_t i, const bt_action *a)
{
    if (a->announce.event == BT_EVENT_STOPPED)
        return 0;
    bt_addr *peers = calloc(s->n, sizeof(*peers));
    if (peers == NULL)
        return BT_ERR_NOMEM;
    uint32_t k = 0;
    for (uint32_t j = 0; j < s->n; j++)
        if (j != i)
            peers[k++] = s->nodes[j].addr;
    for (uint32_t j = k; j > 1; j--) { /* Fisher-Yates with the swarm's stream */
        uint32_t r = bt_pcg32_below(&s->rng, j);
        bt_addr t = peers[j - 1];
        peers[j - 1] = peers[r];
        peers[r] = t;
    }
    if (a->announce.numwant >= 0 && k > (uint32_t)a->announce.numwant)
        k = (uint32_t)a->announce.numwant;
    bt_announce_reply r;
    memset(&r, 0, sizeof(r));
    r.interval = 1800;
    r.min_interval = r.complete = r.incomplete = -1;
    r.peers = peers;
    r.npeers = k;
    int rv = bt_client_on_announce(s->nodes[i].c, &r, s->now);
    free(peers);
    return rv;
}

static int do_verify(swarm *s, uint32_t i, const bt_action *a)
{
    uint8_t digest[20];
    uint64_t off = (uint64_t)a->piece * s->cfg->piece_len;
    bt_sha1(s->nodes[i].store + off, a->length, digest);
    return bt_client_verify_result(s->nodes[i].c, a->piece, digest, s->now);
}

static int handle_action(swarm *s, uint32_t i, const bt_action *a)
{
    node *nd = &s->nodes[i];
    switch (a->type) {
    case BT_ACT_CONNECT: return do_connect(s, i, a);
    case BT_ACT_CLOSE: do_close(s, i, a); return 0;
    case BT_ACT_ANNOUNCE: return do_announce(s, i, a);
    case BT_ACT_STORAGE_WRITE:
        memcpy(nd->store + (uint64_t)a->piece * s->cfg->piece_len + a->begin, a->data, a->length);
        return 0;
    case BT_ACT_STORAGE_VERIFY: return do_verify(s, i, a);
    case BT_ACT_PIECE_DONE:
        if (a->ok)
            nd->st.pieces_verified++;
        else
            nd->st.hash_failures++;
        trace(s, "piece %u %u ok=%llu", i, a->piece, a->ok);
        return 0;
    case BT_ACT_COMPLETE:
        nd->st.complete = true;
        nd->st.completed_at = s->now;
        trace(s, "complete %u %u %llu", i, 0, s->now);
        return 0;
    case BT_ACT_BAN: {
        nd->st.bans++;
        int32_t j = find_node(s, &a->addr);
        if (j < 0) { /* incoming: match by ip only */
            for (uint32_t k = 0; k < s->n; k++)
                if (memcmp(s->nodes[k].addr.ip, a->addr.ip, 4) == 0)
                    j = (int32_t)k;
        }
        if (j >= 0 && is_corrupt(s, (uint32_t)j))
            s->res->corrupt_banned_by++;
        trace(s, "ban %u bans %u %llu", i, (uint32_t)j, 0);
        return 0;
    }
    default: return 0; /* SEND: every pipe is polled each step */
    }
}

static int drain(swarm *s)
{
    bool any = true;
    while (any) {
        any = false;
        for (uint32_t i = 0; i < s->n; i++) {
            bt_action a;
            while (bt_client_poll_action(s->nodes[i].c, &a) == 1) {
                any = true;
                int rv = handle_action(s, i, &a);
                if (rv <= BT_ERR_FATAL)
                    return rv;
            }
        }
    }
    return 0;
}

/* ---- pipes ---- */

static void copy_payload(swarm *s, uint32_t from, const bt_seg *sg, size_t take, bt_buf *out)
{
    const uint8_t *src = s->nodes[from].store + (uint64_t)sg->piece * s->cfg->piece_len + sg->begin;
    if (!is_corrupt(s, from)) {
        bt_buf_put(out, src, take);
        return;
    }
    for (size_t k = 0; k < take; k++)
        bt_buf_put_u8(out, (uint8_t)(src[k] ^ 0x5a));
}

/* Moves what |from|'s connection wants to send into the pipe, up to the pipe's capacity. */
static int fill_dir(swarm *s, uint32_t from, bt_conn_id id, pipe_dir *d)
{
    for (;;) {
        size_t queued = d->buf.len - d->off;
        if (queued >= s->cfg->pipe_cap)
            return 0;
        size_t room = s->cfg->pipe_cap - queued, moved = 0;
        const bt_seg *segs;
        bt_ssize n = bt_conn_pull_send(s->nodes[from].c, id, &segs, s->now);
        if (n <= 0)
            return n == BT_ERR_NOTFOUND ? 0 : (int)n;
        for (bt_ssize k = 0; k < n && moved < room; k++) {
            size_t take = segs[k].len < room - moved ? segs[k].len : room - moved;
            if (segs[k].is_virtual)
                copy_payload(s, from, &segs[k], take, &d->buf);
            else
                bt_buf_put(&d->buf, segs[k].data, take);
            moved += take;
        }
        if (d->buf.err != 0)
            return d->buf.err;
        bt_conn_sent(s->nodes[from].c, id, moved, s->now);
        if (moved == 0)
            return 0;
    }
}

/* Delivers up to the per-step budgets (the link's and the sender's uplink) in random-sized
 * fragments. */
static int deliver_dir(swarm *s, uint32_t from, uint32_t to, bt_conn_id id, pipe_dir *d)
{
    uint64_t budget = s->cfg->link_bytes_per_step;
    if (s->nodes[from].up_left < budget)
        budget = s->nodes[from].up_left;
    s->nodes[from].up_left -= budget;
    while (budget > 0 && d->off < d->buf.len) {
        size_t frag = 1 + bt_pcg32_below(&s->rng, s->cfg->max_fragment);
        size_t avail = d->buf.len - d->off;
        if (frag > avail)
            frag = avail;
        if (frag > budget)
            frag = (size_t)budget;
        bt_ssize rv = bt_conn_recv(s->nodes[to].c, id, d->buf.data + d->off, frag, s->now);
        if (rv == BT_ERR_NOTFOUND)
            return 0;
        if (rv < 0)
            return (int)rv;
        d->off += frag;
        budget -= frag;
        s->res->bytes_moved += frag;
        s->res->recv_calls++;
    }
    s->nodes[from].up_left += budget; /* unused budget stays with the sender this step */
    if (d->off == d->buf.len) {
        bt_buf_reset(&d->buf);
        d->off = 0;
    } else if (d->off > s->cfg->pipe_cap) {
        bt_buf_consume(&d->buf, d->off);
        d->off = 0;
    }
    return 0;
}

static int step_pipes(swarm *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        uint64_t cap = i < s->cfg->nseeds ? s->cfg->seed_up_bytes_per_step
                                          : s->cfg->leecher_up_bytes_per_step;
        s->nodes[i].up_left = cap ? cap : UINT64_MAX;
    }
    /* Start at a rotating pipe so no connection always gets a capped uplink first. */
    uint32_t np = s->npipes, first = np ? (uint32_t)(s->res->steps % np) : 0;
    for (uint32_t k = 0; k < np; k++) {
        uint32_t i = (first + k) % np;
        for (int side = 0; side < 2; side++) {
            pipe *p = &s->pipes[i]; /* re-read: drain() may grow the array */
            if (p->dead || p->cb == BT_CONN_NONE)
                break;
            uint32_t from = side == 0 ? p->a : p->b, to = side == 0 ? p->b : p->a;
            bt_conn_id cf = side == 0 ? p->ca : p->cb, ct = side == 0 ? p->cb : p->ca;
            int rv = fill_dir(s, from, cf, &p->dir[side]);
            if (rv == 0)
                rv = deliver_dir(s, from, to, ct, &s->pipes[i].dir[side]);
            if (rv == 0)
                rv = drain(s);
            if (rv != 0)
                return rv;
        }
    }
    return 0;
}

/* ---- set-up and the main loop ---- */

static int make_content(swarm *s)
{
    const sim_memswarm_config *cfg = s->cfg;
    s->content = malloc(cfg->total_len ? cfg->total_len : 1);
    s->npieces = (uint32_t)((cfg->total_len + cfg->piece_len - 1) / cfg->piece_len);
    s->hashes = malloc((size_t)s->npieces * 20);
    if (s->content == NULL || s->hashes == NULL)
        return BT_ERR_NOMEM;
    if (cfg->data != NULL) {
        memcpy(s->content, cfg->data, cfg->total_len);
    } else {
        bt_pcg32 g;
        bt_pcg32_seed(&g, cfg->seed, 0xda7a);
        for (uint64_t i = 0; i < cfg->total_len; i++)
            s->content[i] = (uint8_t)bt_pcg32_next(&g);
    }
    if (cfg->meta != NULL) {
        memcpy(s->hashes, cfg->meta->piece_hashes, (size_t)s->npieces * 20);
        return 0;
    }
    for (uint32_t p = 0; p < s->npieces; p++) {
        uint64_t off = (uint64_t)p * cfg->piece_len;
        uint64_t len = cfg->total_len - off < cfg->piece_len ? cfg->total_len - off : cfg->piece_len;
        bt_sha1(s->content + off, len, s->hashes + (size_t)p * 20);
    }
    return 0;
}

static int make_node(swarm *s, uint32_t i)
{
    node *nd = &s->nodes[i];
    bool seed = i < s->cfg->nseeds;
    bt_config bc;
    bt_config_defaults(&bc);
    if (s->cfg->meta != NULL)
        memcpy(bc.info_hash, s->cfg->meta->info_hash, 20);
    else
        bt_sha1(s->hashes, (size_t)s->npieces * 20, bc.info_hash); /* any fixed 20 bytes */
    bc.piece_hashes = s->hashes;
    bc.npieces = s->npieces;
    bc.piece_len = s->cfg->piece_len;
    bc.total_len = s->cfg->total_len;
    bt_peer_id_make(bc.peer_id, &s->rng);
    bc.listen_port = 6881;
    bc.seed = seed;
    bc.picker = s->cfg->picker;
    nd->addr.family = 4;
    nd->addr.ip[0] = 10;
    nd->addr.ip[2] = (uint8_t)(i >> 8);
    nd->addr.ip[3] = (uint8_t)(i + 1);
    nd->addr.port = 6881;
    nd->st.seed = seed;
    nd->st.completed_at = BT_TIME_NEVER;
    nd->store = seed ? malloc(s->cfg->total_len) : calloc(1, s->cfg->total_len);
    if (nd->store == NULL)
        return BT_ERR_NOMEM;
    if (seed)
        memcpy(nd->store, s->content, s->cfg->total_len);
    return bt_client_new(&nd->c, &bc, s->cfg->seed * 7919 + i, NULL);
}

static bool all_done(const swarm *s)
{
    for (uint32_t i = s->cfg->nseeds; i < s->n; i++)
        if (!s->nodes[i].st.complete && !is_corrupt(s, i))
            return false;
    return true;
}

static void progress(swarm *s, bool force)
{
    if (s->cfg->progress == NULL || s->cfg->progress_us == 0)
        return;
    if (!force && s->now % s->cfg->progress_us != 0)
        return;
    fprintf(s->cfg->progress, "%.3f", (double)s->now / 1e6);
    for (uint32_t i = s->cfg->nseeds; i < s->n; i++)
        fprintf(s->cfg->progress, "\t%u", s->nodes[i].st.pieces_verified);
    fputc('\n', s->cfg->progress);
}

static int run_loop(swarm *s)
{
    int rv = 0;
    for (uint32_t i = 0; i < s->n && rv == 0; i++)
        rv = bt_client_start(s->nodes[i].c, s->now);
    if (rv == 0)
        rv = drain(s);
    progress(s, true);
    while (rv == 0 && !all_done(s) && s->now < s->cfg->max_time) {
        s->now += s->cfg->step_us;
        s->res->steps++;
        for (uint32_t i = 0; i < s->n && rv == 0; i++)
            if (bt_client_next_deadline(s->nodes[i].c) <= s->now)
                rv = bt_client_on_timer(s->nodes[i].c, s->now);
        if (rv == 0)
            rv = drain(s);
        if (rv == 0)
            rv = step_pipes(s);
        progress(s, false);
    }
    progress(s, true);
    return rv;
}

static void collect(swarm *s)
{
    sim_memswarm_result *r = s->res;
    r->elapsed = s->now;
    r->all_complete = all_done(s);
    r->npieces = s->npieces;
    for (uint32_t i = 0; i < s->n; i++) {
        node *nd = &s->nodes[i];
        bt_client_stats st;
        bt_client_get_stats(nd->c, &st);
        nd->st.uploaded = st.uploaded;
        nd->st.downloaded = st.downloaded;
        nd->st.data_matches = memcmp(nd->store, s->content, s->cfg->total_len) == 0;
        r->peers[i] = nd->st;
    }
}

int sim_memswarm_run(const sim_memswarm_config *cfg_in, sim_memswarm_result *res)
{
    sim_memswarm_config copy = *cfg_in;
    const sim_memswarm_config *cfg = &copy;
    if (copy.meta != NULL) {
        if (copy.data == NULL)
            return BT_ERR_INVALID;
        copy.total_len = copy.meta->total_length;
        copy.piece_len = copy.meta->piece_length;
    }
    if (copy.nseeds == 0 || copy.piece_len == 0 || copy.total_len == 0 || copy.max_fragment == 0)
        return BT_ERR_INVALID;
    swarm s;
    memset(&s, 0, sizeof(s));
    memset(res, 0, sizeof(*res));
    s.cfg = cfg;
    s.res = res;
    s.n = cfg->nseeds + cfg->nleechers;
    bt_pcg32_seed(&s.rng, cfg->seed, 0x5157);
    s.nodes = calloc(s.n, sizeof(*s.nodes));
    res->peers = calloc(s.n, sizeof(*res->peers));
    res->npeers = s.n;
    int rv = s.nodes && res->peers ? make_content(&s) : BT_ERR_NOMEM;
    for (uint32_t i = 0; i < s.n && rv == 0; i++)
        rv = make_node(&s, i);
    if (rv == 0)
        rv = run_loop(&s);
    if (rv == 0)
        collect(&s);
    for (uint32_t i = 0; i < s.npipes; i++)
        if (!s.pipes[i].dead)
            kill_pipe(&s.pipes[i]);
    for (uint32_t i = 0; s.nodes != NULL && i < s.n; i++) {
        bt_client_del(s.nodes[i].c);
        free(s.nodes[i].store);
    }
    free(s.nodes);
    free(s.pipes);
    free(s.content);
    free(s.hashes);
    return rv;
}

void sim_memswarm_result_free(sim_memswarm_result *res)
{
    free(res->peers);
    res->peers = NULL;
}
