/* sim_world_host.c: the host side of each simulated peer: turns engine actions into network
 * operations (connect, close, writes from the engine's output queue) and network events into
 * engine calls (accept, connected, delivered bytes real or virtual, closed), plus storage
 * (real bytes or per-piece taint), upload weights, payload accounting by class, and the
 * unchoke time the engines report, by class pair. */
#include "sim_grow.h"
#include "sim_rng.h"
#include "sim_world_int.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(SIM_NET_WEIGHT_ONE == BT_UPLOAD_WEIGHT_ONE, "engine weights go to sim_net as is");

/* ---- links: engine connection id <-> network connection id, per peer ---- */

static int32_t link_find(const sim_peer *p, bt_conn_id cid)
{
    uint32_t lo = 0, hi = p->nlinks;
    if (hi == 0)
        return -1;
    /* Engine ids are handed out in order, so the sorted ids are nearly evenly spread: start
     * where |cid| would sit if they were, walk a few entries from there, and only then fall
     * back to bisecting what is left (one or two lines touched instead of about six). */
    bt_conn_id first = p->links[0].cid, last = p->links[hi - 1].cid;
    if (cid < first || cid > last)
        return -1;
    uint64_t span = last - first;
    uint32_t g = span == 0 ? 0 : (uint32_t)((uint64_t)(cid - first) * (hi - 1) / span);
    if (p->links[g].cid == cid)
        return (int32_t)g;
    if (p->links[g].cid < cid) {
        lo = g + 1;
        for (int k = 0; k < 8 && lo < hi && p->links[lo].cid < cid; k++)
            lo++;
    } else {
        hi = g;
        for (int k = 0; k < 8 && hi > lo && p->links[hi - 1].cid > cid; k++)
            hi--;
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->links[mid].cid < cid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->nlinks && p->links[lo].cid == cid ? (int32_t)lo : -1;
}

static int link_add(sim_peer *p, bt_conn_id cid, sim_conn_id nid)
{
    if (sim_grow((void **)&p->links, &p->links_cap, p->nlinks + 1, sizeof(sim_link), 16) != 0)
        return BT_ERR_NOMEM;
    uint32_t pos = p->nlinks;
    while (pos > 0 && p->links[pos - 1].cid > cid)
        pos--;
    memmove(&p->links[pos + 1], &p->links[pos], (p->nlinks - pos) * sizeof(sim_link));
    p->links[pos] = (sim_link){cid, nid};
    p->nlinks++;
    return 0;
}

static void link_del(sim_peer *p, bt_conn_id cid)
{
    int32_t k = link_find(p, cid);
    if (k < 0)
        return;
    memmove(&p->links[k], &p->links[k + 1], (p->nlinks - (uint32_t)k - 1) * sizeof(sim_link));
    p->nlinks--;
}

sim_conn *sim_host_conn(sim_world *w, uint32_t peer, bt_conn_id cid, sim_conn_id *nid)
{
    int32_t k = link_find(&w->peers[peer], cid);
    if (k < 0)
        return NULL;
    *nid = w->peers[peer].links[k].nid;
    return w->conns[*nid];
}

/* Side |side| of |nid| is done with it; the record goes when both sides are. */
static void conn_side_done(sim_world *w, sim_conn_id nid, int side)
{
    sim_conn *sc = w->conns[nid];
    if (sc == NULL)
        return;
    if (sc->open[side]) {
        sc->open[side] = false;
        bt_conn_id cid = side == 0 ? sc->ca : sc->cb;
        if (cid != BT_CONN_NONE)
            link_del(&w->peers[side == 0 ? sc->a : sc->b], cid);
    }
    if (sc->open[0] || sc->open[1])
        return;
    sim_stream_free(&sc->dir[0]);
    sim_stream_free(&sc->dir[1]);
    free(sc);
    w->conns[nid] = NULL;
}

static int side_of(const sim_conn *sc, uint32_t peer) { return sc->a == peer ? 0 : 1; }

void sim_host_forget_links(sim_world *w, uint32_t i)
{
    sim_peer *p = &w->peers[i];
    while (p->nlinks > 0) {
        sim_conn_id nid = p->links[p->nlinks - 1].nid;
        conn_side_done(w, nid, side_of(w->conns[nid], i));
    }
}

static int conn_new(sim_world *w, sim_conn_id nid, uint32_t a, uint32_t b, bt_conn_id ca)
{
    uint32_t old_cap = w->conns_cap;
    if (sim_grow((void **)&w->conns, &w->conns_cap, nid + 1, sizeof(sim_conn *), 1024) != 0)
        return BT_ERR_NOMEM;
    memset(w->conns + old_cap, 0, (w->conns_cap - old_cap) * sizeof(sim_conn *));
    sim_conn *sc = calloc(1, sizeof(*sc));
    if (sc == NULL)
        return BT_ERR_NOMEM;
    sc->a = a;
    sc->b = b;
    sc->ca = ca;
    sc->cb = BT_CONN_NONE;
    sim_stream_init(&sc->dir[0]);
    sim_stream_init(&sc->dir[1]);
    sc->open[0] = sc->open[1] = true;
    w->conns[nid] = sc;
    if (nid >= w->nconns)
        w->nconns = nid + 1;
    return link_add(&w->peers[a], ca, nid);
}

/* ---- engine output -> network ---- */

#define BLOCK_BYTES 16384u /* BEP 3 block: the unit of corruption decisions */

bool sim_world_block_corrupt(const sim_world *w, uint32_t from, uint32_t to, uint32_t piece,
                             uint32_t begin)
{
    const sim_peer *s = &w->peers[from];
    double rate = s->p.beh.corrupt_rate;
    if (s->p.corrupt || rate >= 1)
        return true;
    if (!(rate > 0))
        return false;
    uint64_t block = begin / BLOCK_BYTES;
    return sim_rng_unit(s->corrupt_key, to, ((uint64_t)piece << 32) | block) < rate;
}

static bool corrupts(const sim_peer *p) { return p->p.corrupt || p->p.beh.corrupt_rate > 0; }

static int push_payload(sim_world *w, uint32_t from, uint32_t to, sim_stream *st, const bt_seg *sg,
                        uint32_t n)
{
    sim_peer *p = &w->peers[from];
    if (!w->cfg.real_bytes)
        return sim_stream_push_virtual(st, sg->piece, sg->begin, n);
    const uint8_t *src = p->store + (uint64_t)sg->piece * w->cfg.piece_size + sg->begin;
    if (!corrupts(p))
        return sim_stream_push_bytes(st, SIM_SPAN_PAYLOAD, src, n, sg->piece, sg->begin);
    /* One span, like an honest sender's, so the receiver sees the same fragmentation; the
     * bytes of corrupt blocks are flipped. */
    uint8_t *tmp = malloc(n ? n : 1);
    if (tmp == NULL)
        return BT_ERR_NOMEM;
    for (uint32_t j = 0; j < n;) {
        uint32_t at = sg->begin + j, run = BLOCK_BYTES - at % BLOCK_BYTES;
        if (run > n - j)
            run = n - j;
        uint8_t x = sim_world_block_corrupt(w, from, to, sg->piece, at) ? 0x5a : 0;
        for (uint32_t k = 0; k < run; k++)
            tmp[j + k] = (uint8_t)(src[j + k] ^ x);
        j += run;
    }
    int rv = sim_stream_push_bytes(st, SIM_SPAN_PAYLOAD, tmp, n, sg->piece, sg->begin);
    free(tmp);
    return rv;
}

/* Moves what peer |i| wants to send on |nid| into the network, as far as its send buffer
 * takes it (like a non-blocking socket write). */
static void pump(sim_world *w, uint32_t i, sim_conn_id nid)
{
    sim_peer *p = &w->peers[i];
    sim_conn *sc = w->conns[nid];
    int side = side_of(sc, i);
    bt_conn_id cid = side == 0 ? sc->ca : sc->cb;
    sim_stream *st = &sc->dir[side];
    uint32_t to = side == 0 ? sc->b : sc->a;
    __builtin_prefetch(&st->spans[(st->head + st->count) & (st->cap - 1)], 1); /* cache hint */
    for (;;) {
        uint64_t room = sim_net_writable(w->net, nid, p->host);
        const bt_seg *segs;
        bt_ssize n = room > 0 ? bt_conn_pull_send(p->c, cid, &segs, w->now) : 0;
        if (n <= 0)
            return;
        uint64_t moved = 0;
        for (bt_ssize k = 0; k < n && moved < room; k++) {
            uint32_t take = segs[k].len < room - moved ? (uint32_t)segs[k].len
                                                       : (uint32_t)(room - moved);
            int rv = segs[k].is_virtual
                         ? push_payload(w, i, to, st, &segs[k], take)
                         : sim_stream_push_bytes(st, SIM_SPAN_CTRL, segs[k].data, take, 0, 0);
            if (rv != 0) {
                sim_world_fail(w, rv);
                return;
            }
            moved += take;
        }
        sim_net_write(w->net, nid, p->host, moved, w->now);
        bt_conn_sent(p->c, cid, moved, w->now);
    }
}

static void do_connect(sim_world *w, uint32_t i, const bt_action *a)
{
    uint32_t j = ((uint32_t)a->addr.ip[1] << 16) | ((uint32_t)a->addr.ip[2] << 8) | a->addr.ip[3];
    if (j >= w->npeers || !w->peers[j].present || j == i)
        return; /* nobody answers: the engine's connect (handshake) timeout will fire */
    sim_conn_id nid;
    int rv = sim_net_connect(w->net, w->peers[i].host, w->peers[j].host, w->now, &nid);
    if (rv == 0)
        rv = conn_new(w, nid, i, j, a->conn);
    if (rv != 0)
        sim_world_fail(w, rv);
}

static void do_close(sim_world *w, uint32_t i, const bt_action *a)
{
    sim_conn_id nid;
    sim_conn *sc = sim_host_conn(w, i, a->conn, &nid);
    if (sc == NULL)
        return;
    sim_net_close(w->net, nid, w->peers[i].host, w->now);
    conn_side_done(w, nid, side_of(sc, i));
}

static void do_verify(sim_world *w, uint32_t i, const bt_action *a)
{
    sim_peer *p = &w->peers[i];
    uint8_t digest[20];
    if (w->cfg.real_bytes) {
        bt_sha1(p->store + (uint64_t)a->piece * w->cfg.piece_size, a->length, digest);
    } else {
        memcpy(digest, w->hashes + (size_t)a->piece * 20, 20);
        if (p->taint[a->piece])
            digest[0] ^= 0xff; /* a block came from a corrupting peer: the hash fails */
        p->taint[a->piece] = 0;
    }
    int rv = bt_client_verify_result(p->c, a->piece, digest, w->now);
    if (rv != 0)
        sim_world_fail(w, rv);
}

/* Real bytes go to the peer's store; virtual blocks only record whether their sender was a
 * corrupting peer (then the piece will fail its check, as a real hash would). */
static void store_block(sim_world *w, uint32_t i, const bt_action *a)
{
    sim_peer *p = &w->peers[i];
    if (a->data != NULL) {
        memcpy(p->store + (uint64_t)a->piece * w->cfg.piece_size + a->begin, a->data, a->length);
        return;
    }
    if (!w->any_corrupt)
        return; /* no sender corrupts: nothing to record (and no records to fetch) */
    sim_conn_id nid;
    sim_conn *sc = sim_host_conn(w, i, a->conn, &nid);
    uint32_t from = sc == NULL ? 0 : side_of(sc, i) == 0 ? sc->b : sc->a;
    if (sc != NULL && sim_world_block_corrupt(w, from, i, a->piece, a->begin))
        p->taint[a->piece] = 1;
}

static void on_piece_done(sim_world *w, uint32_t i, const bt_action *a)
{
    sim_peer *p = &w->peers[i];
    if (!a->ok) {
        p->r.hash_failures++;
        sim_world_trace(w, "hashfail", i, a->piece);
        return;
    }
    uint8_t bit = (uint8_t)(0x80 >> (a->piece & 7));
    if (!(p->have[a->piece >> 3] & bit)) {
        p->have[a->piece >> 3] |= bit;
        w->avail[a->piece]++;
    }
}

static void on_complete(sim_world *w, uint32_t i)
{
    sim_peer *p = &w->peers[i];
    if (p->complete)
        return;
    p->complete = true;
    p->r.completed = w->now;
    w->leechers--;
    w->completed++;
    sim_world_trace(w, "complete", i, w->now - p->r.joined);
    if (p->p.linger_us != BT_TIME_NEVER) {
        sim_event ev = {.time = w->now + p->p.linger_us, .kind = SIM_EV_LEAVE, .a = i,
                        .b = p->p.crash ? SIM_LEFT_CRASH : SIM_LEFT_GRACEFUL};
        if (sim_evq_push(&w->q, &ev) != 0)
            sim_world_fail(w, BT_ERR_NOMEM);
    }
}

/* ---- unchoke time by class pair ---- */

/* Peer |i| had its connection |cid| unchoked this long (regular, optimistic). */
static void add_unchoke(sim_world *w, uint32_t i, bt_conn_id cid, uint64_t reg, uint64_t opt)
{
    sim_conn_id nid;
    const sim_conn *sc = sim_host_conn(w, i, cid, &nid);
    if (sc == NULL || (reg == 0 && opt == 0))
        return;
    uint32_t other = side_of(sc, i) == 0 ? sc->b : sc->a;
    uint64_t *cell = &w->unchoke_us[((size_t)w->peers[i].p.cls * w->cfg.nclasses +
                                     w->peers[other].p.cls) * 2];
    cell[0] += reg;
    cell[1] += opt;
}

/* Asks peer |i|'s engine for connection |cid|'s unchoke time up to now and records it. */
static void close_out(sim_world *w, uint32_t i, bt_conn_id cid)
{
    uint64_t reg, opt;
    if (w->peers[i].c != NULL && cid != BT_CONN_NONE &&
        bt_conn_unchoke_time(w->peers[i].c, cid, w->now, &reg, &opt) == 0)
        add_unchoke(w, i, cid, reg, opt);
}

void sim_host_close_out_links(sim_world *w, uint32_t i)
{
    const sim_peer *p = &w->peers[i];
    for (uint32_t k = 0; k < p->nlinks; k++)
        close_out(w, i, p->links[k].cid);
}

void sim_world_matrix(const sim_world *w, sim_matrix_cell *out)
{
    uint32_t nc = w->cfg.nclasses;
    memset(out, 0, (size_t)nc * nc * sizeof(*out));
    for (size_t k = 0; k < (size_t)nc * nc; k++) {
        out[k].regular_unchoke_us = w->unchoke_us[k * 2];
        out[k].optimistic_unchoke_us = w->unchoke_us[k * 2 + 1];
    }
    for (uint32_t i = 0; i < w->npeers; i++) {
        const sim_peer *p = &w->peers[i];
        for (uint32_t to = 0; to < nc; to++)
            out[(size_t)p->p.cls * nc + to].bytes += p->r.up_to_class[to];
        for (uint32_t k = 0; p->c != NULL && k < p->nlinks; k++) {
            const sim_conn *sc = w->conns[p->links[k].nid];
            uint64_t reg, opt;
            if (bt_conn_unchoke_time(p->c, p->links[k].cid, w->now, &reg, &opt) != 0)
                continue;
            uint32_t other = side_of(sc, i) == 0 ? sc->b : sc->a;
            sim_matrix_cell *c = &out[(size_t)p->p.cls * nc + w->peers[other].p.cls];
            c->regular_unchoke_us += reg;
            c->optimistic_unchoke_us += opt;
        }
    }
}

static void handle_action(sim_world *w, uint32_t i, const bt_action *a)
{
    sim_peer *p = &w->peers[i];
    switch (a->type) {
    case BT_ACT_CONNECT: do_connect(w, i, a); break;
    case BT_ACT_CLOSE:
        add_unchoke(w, i, a->conn, a->unchoked_regular_us, a->unchoked_optimistic_us);
        do_close(w, i, a);
        break;
    case BT_ACT_SEND: {
        sim_conn_id nid;
        sim_conn *sc = sim_host_conn(w, i, a->conn, &nid);
        if (sc != NULL) {
            sim_prefetch(sc, sizeof(*sc));
            pump(w, i, nid);
        }
        break;
    }
    case BT_ACT_ANNOUNCE: {
        p->pending = a->announce;
        sim_event ev = {.time = w->now + p->p.latency_us, .kind = SIM_EV_TRACKER, .a = i};
        if (sim_evq_push(&w->q, &ev) != 0)
            sim_world_fail(w, BT_ERR_NOMEM);
        w->announces++;
        p->r.announces++;
        break;
    }
    case BT_ACT_STORAGE_WRITE: store_block(w, i, a); break;
    case BT_ACT_STORAGE_VERIFY: do_verify(w, i, a); break;
    case BT_ACT_PIECE_DONE: on_piece_done(w, i, a); break;
    case BT_ACT_COMPLETE: on_complete(w, i); break;
    case BT_ACT_BAN: sim_world_trace(w, "ban", i, a->addr.ip[3]); break;
    case BT_ACT_UPLOAD_WEIGHT: {
        sim_conn_id nid;
        w->weight_changes++;
        if (sim_host_conn(w, i, a->conn, &nid) != NULL)
            sim_net_set_weight(w->net, nid, p->host, a->weight);
        break;
    }
    default: break;
    }
}

/* Cache hint (no effect on behaviour): what a queued SEND will touch (the connection's
 * records here, in the network and in the engine), fetched a few actions ahead, so a have
 * broadcast's sends to many connections do not wait for memory one after the other. */
static void prefetch_action(const sim_world *w, uint32_t i, const bt_action *a)
{
    if (a == NULL || a->type != BT_ACT_SEND)
        return;
    const sim_peer *p = &w->peers[i];
    int32_t k = link_find(p, a->conn);
    if (k < 0)
        return;
    const sim_conn *sc = w->conns[p->links[k].nid];
    if (sc != NULL)
        sim_prefetch(sc, sizeof(*sc));
    sim_net_prefetch_conn(w->net, p->links[k].nid);
    bt_conn_prefetch_id(p->c, a->conn);
}

#define DRAIN_AHEAD 2 /* actions */

void sim_host_drain(sim_world *w, uint32_t i)
{
    sim_peer *p = &w->peers[i];
    bt_action a;
    for (uint32_t k = 0; p->c != NULL && k < DRAIN_AHEAD; k++)
        prefetch_action(w, i, bt_client_peek_action(p->c, k));
    while (p->c != NULL && w->err == 0 && bt_client_poll_action(p->c, &a) == 1) {
        prefetch_action(w, i, bt_client_peek_action(p->c, DRAIN_AHEAD - 1));
        handle_action(w, i, &a);
    }
    sim_world_resched(w, i);
}

/* ---- network -> engine ---- */

static void account(sim_world *w, uint32_t from, uint32_t to, uint32_t n)
{
    sim_peer *s = &w->peers[from], *r = &w->peers[to];
    s->r.bytes_up += n;
    if (!s->complete)
        s->r.bytes_up_leeching += n;
    s->r.up_to_class[r->p.cls] += n;
    r->r.bytes_down += n;
    r->r.down_from_class[s->p.cls] += n;
    w->payload_since_sample += n;
}

static void deliver(sim_world *w, const sim_net_event *ev, uint32_t to)
{
    sim_conn *sc = w->conns[ev->conn];
    int side = side_of(sc, to); /* the receiver's side; it reads the other side's stream */
    sim_stream *st = &sc->dir[1 - side];
    uint32_t from = side == 0 ? sc->b : sc->a;
    bt_conn_id cid = side == 0 ? sc->ca : sc->cb;
    bool feed = sc->open[side] && w->peers[to].c != NULL;
    uint64_t left = ev->bytes;
    while (left > 0 && w->err == 0) {
        const sim_span *sp;
        const uint8_t *data;
        uint32_t n = sim_stream_peek(st, left, &sp, &data);
        if (n == 0)
            break; /* dropped by a close on the other side */
        if (sp->kind != SIM_SPAN_CTRL)
            account(w, from, to, n);
        bt_ssize rv = 0;
        if (feed)
            rv = sp->kind == SIM_SPAN_VIRTUAL ? bt_conn_recv_virtual(w->peers[to].c, cid, n, w->now)
                                              : bt_conn_recv(w->peers[to].c, cid, data, n, w->now);
        if (rv == BT_ERR_NOTFOUND)
            feed = false; /* the engine closed it meanwhile; its CLOSE action is queued */
        else if (rv < 0)
            sim_world_fail(w, (int)rv);
        sim_stream_consume(st, n);
        left -= n;
    }
    sim_host_drain(w, to);
}

static void on_accept(sim_world *w, const sim_net_event *ev, uint32_t callee)
{
    sim_peer *p = &w->peers[callee];
    sim_conn *sc = w->conns[ev->conn];
    if (sc == NULL)
        return;
    bt_addr from = w->peers[sc->a].addr;
    from.port = (uint16_t)(10000 + ev->conn % 50000); /* an ephemeral port */
    bt_conn_id cb;
    int rv = p->c != NULL ? bt_client_accept(p->c, &from, &cb, w->now) : BT_ERR_REFUSED;
    if (rv <= BT_ERR_FATAL) {
        sim_world_fail(w, rv);
        return;
    }
    if (rv != 0) {
        sim_net_close(w->net, ev->conn, p->host, w->now);
        conn_side_done(w, ev->conn, 1);
        return;
    }
    sc->cb = cb;
    if ((rv = link_add(p, cb, ev->conn)) != 0)
        sim_world_fail(w, rv);
    sim_host_drain(w, callee);
}

void sim_host_net_event(sim_world *w, const sim_net_event *ev)
{
    if (ev->host >= w->host_cap)
        return;
    uint32_t i = w->host_peer[ev->host];
    sim_peer *p = &w->peers[i];
    sim_conn *sc = ev->conn < w->nconns ? w->conns[ev->conn] : NULL;
    if (sc != NULL)
        sim_prefetch(sc, sizeof(*sc));
    if (sc == NULL || p->c == NULL)
        return;
    int side = side_of(sc, i);
    bt_conn_id cid = side == 0 ? sc->ca : sc->cb;
    switch (ev->type) {
    case SIM_NET_EV_ACCEPT: on_accept(w, ev, i); break;
    case SIM_NET_EV_CONNECTED:
        if (sc->open[side] && bt_conn_connected(p->c, cid, w->now) <= BT_ERR_FATAL)
            sim_world_fail(w, BT_ERR_NOMEM);
        sim_host_drain(w, i);
        break;
    case SIM_NET_EV_DELIVER: deliver(w, ev, i); break;
    case SIM_NET_EV_WRITABLE:
        if (sc->open[side])
            pump(w, i, ev->conn);
        sim_host_drain(w, i);
        break;
    case SIM_NET_EV_CLOSED:
        if (sc->open[side] && cid != BT_CONN_NONE) {
            close_out(w, i, cid);
            bt_conn_closed(p->c, cid, w->now);
        }
        conn_side_done(w, ev->conn, side);
        sim_host_drain(w, i);
        break;
    default: break;
    }
}
