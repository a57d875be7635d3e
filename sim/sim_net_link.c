/* sim_net_link.c: the links of the simulated network: store-and-forward of chunks through
 * per-link deficit round robin over flows (per-flow FIFO), uplinks taking chunks from send
 * buffers within the window. O(1) work per chunk per link plus heap operations; never scans
 * hosts or flows. */
#include "sim_net_int.h"

#include <assert.h>
#include <string.h>

uint32_t sim_net_link_new(sim_net *n, uint64_t rate_Bps, uint8_t stage, uint32_t owner)
{
    if (sim_grow((void **)&n->links, &n->links_cap, n->nlinks + 1, sizeof(net_link), 16) != 0)
        return SIM_NONE;
    net_link *l = &n->links[n->nlinks];
    l->rate_Bps = rate_Bps;
    l->head = l->tail = SIM_NONE;
    l->cur = SIM_NONE;
    l->owner = owner;
    l->stage = stage;
    l->bytes = 0;
    l->busy_us = 0;
    return n->nlinks++;
}

/* ceil(bytes * 1e6 / rate): bytes < 2^32, so the product fits in 64 bits. */
static bt_time_us tx_time(uint64_t bytes, uint64_t rate_Bps)
{
    uint64_t num = bytes * BT_US_PER_S;
    return num / rate_Bps + (num % rate_Bps != 0);
}

uint32_t sim_net_link_window(const sim_net *n, const net_conn *c, int dir)
{
    const net_host *s = &n->hosts[c->host[dir]], *r = &n->hosts[c->host[!dir]];
    uint64_t bn = n->links[s->up].rate_Bps;
    if (n->links[r->down].rate_Bps < bn)
        bn = n->links[r->down].rate_Bps;
    if (s->isp != r->isp) {
        uint32_t tu = n->isps[s->isp].tup, td = n->isps[r->isp].tdown;
        if (tu != SIM_NONE && n->links[tu].rate_Bps < bn)
            bn = n->links[tu].rate_Bps;
        if (td != SIM_NONE && n->links[td].rate_Bps < bn)
            bn = n->links[td].rate_Bps;
    }
    /* 2 * bottleneck * RTT, RTT = 2 * one-way latency; at least one chunk */
    unsigned __int128 w = (unsigned __int128)bn * sim_net_conn_latency(n, c) * 4 / BT_US_PER_S;
    if (w < n->cfg.min_window)
        w = n->cfg.min_window;
    if (w < n->cfg.chunk_bytes)
        w = n->cfg.chunk_bytes;
    return w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
}

/* ---- chunks ---- */

static uint32_t chunk_new(sim_net *n, uint32_t conn, uint8_t dir, uint32_t bytes)
{
    uint32_t c = n->chunks_free;
    if (c != SIM_NONE) {
        n->chunks_free = n->chunks[c].next;
    } else {
        if (sim_grow((void **)&n->chunks, &n->chunks_cap, n->nchunks + 1, sizeof(net_chunk), 16) !=
            0) {
            n->err = BT_ERR_NOMEM;
            return SIM_NONE;
        }
        c = n->nchunks++;
    }
    net_chunk *ch = &n->chunks[c];
    ch->next = SIM_NONE;
    ch->conn = conn;
    ch->bytes = bytes;
    ch->dir = dir;
    ch->stage = ST_UP;
    return c;
}

static void chunk_free(sim_net *n, uint32_t c)
{
    n->chunks[c].next = n->chunks_free;
    n->chunks_free = c;
}

static void fifo_push(sim_net *n, uint32_t *tail, uint32_t c)
{
    if (*tail == SIM_NONE) {
        n->chunks[c].next = c;
    } else {
        n->chunks[c].next = n->chunks[*tail].next;
        n->chunks[*tail].next = c;
    }
    *tail = c;
}

static uint32_t fifo_pop(sim_net *n, uint32_t *tail)
{
    uint32_t h = n->chunks[*tail].next;
    if (h == *tail)
        *tail = SIM_NONE;
    else
        n->chunks[*tail].next = n->chunks[h].next;
    return h;
}

/* ---- round robin lists ---- */

/* A flow's DRR quantum at stage |k|: chunk_bytes, or its weighted one at the uplink. */
static inline uint32_t quantum(const sim_net *n, const net_flow *f, int k)
{
    return k == ST_UP && f->quantum != 0 ? f->quantum : n->cfg.chunk_bytes;
}

static void list_append(sim_net *n, net_link *l, uint32_t fi)
{
    net_flow *f = net_flow_at(n, fi);
    int k = l->stage;
    f->next[k] = SIM_NONE;
    if (l->tail == SIM_NONE)
        l->head = fi;
    else
        net_flow_at(n, l->tail)->next[k] = fi;
    l->tail = fi;
    f->listed |= (uint8_t)(1u << k);
    f->deficit[k] += quantum(n, f, k); /* the quantum for its next turn */
}

/* Removes the head flow; frees the pair if the connection is dead and nothing lists it. */
static void list_pop(sim_net *n, net_link *l)
{
    uint32_t fi = l->head;
    net_flow *f = net_flow_at(n, fi);
    int k = l->stage;
    l->head = f->next[k];
    if (l->head == SIM_NONE)
        l->tail = SIM_NONE;
    f->listed &= (uint8_t) ~(1u << k);
    f->deficit[k] = 0;
    net_pair *p = &n->pairs[fi >> 1];
    net_conn *c = &n->conns[p->conn];
    if ((c->flags & CONN_DEAD) && p->f[0].listed == 0 && p->f[1].listed == 0) {
        c->pair = SIM_NONE;
        p->conn = n->pairs_free;
        n->pairs_free = fi >> 1;
    }
}

/* Ends the head flow's turn: it goes to the tail with one more quantum. */
static void list_rotate(sim_net *n, net_link *l)
{
    uint32_t fi = l->head;
    net_flow *f = net_flow_at(n, fi);
    int k = l->stage;
    if (l->head == l->tail) {
        f->deficit[k] += quantum(n, f, k);
        return;
    }
    l->head = f->next[k];
    list_append(n, l, fi);
}

static void start(sim_net *n, uint32_t li, uint32_t c)
{
    net_link *l = &n->links[li];
    bt_time_us d = tx_time(n->chunks[c].bytes, l->rate_Bps);
    l->cur = c;
    n->chunks[c].stage = l->stage;
    n->chunks_served++;
    if (l->stage == ST_UP)
        l->busy_us += d;
    sim_net_schedule(n, n->now + d, EV_LINK_DONE, li, 0, 0);
}

/* ---- paths ---- */

/* The link of stage |k| on direction |dir| of |c|, SIM_NONE if that stage is unlimited. */
static uint32_t stage_link(const sim_net *n, const net_conn *c, int dir, int k)
{
    const net_host *s = &n->hosts[c->host[dir]], *r = &n->hosts[c->host[!dir]];
    switch (k) {
    case ST_UP:
        return s->up;
    case ST_TUP:
        return s->isp != r->isp ? n->isps[s->isp].tup : SIM_NONE;
    case ST_TDOWN:
        return s->isp != r->isp ? n->isps[r->isp].tdown : SIM_NONE;
    default:
        return r->down;
    }
}

void sim_net_link_path(const sim_net *n, const net_conn *c, int dir, uint32_t link[ST_N])
{
    for (int k = 0; k < ST_N; k++)
        link[k] = stage_link(n, c, dir, k);
}

/* The first limited stage after |k| (ST_N when the chunk has reached the receiver). */
static inline int next_stage(const net_flow *f, int k)
{
    while (++k < ST_N && f->link[k] == SIM_NONE) {
    }
    return k;
}

/* The last limited stage before |k| >= 1 (the uplink at worst). */
static inline int prev_stage(const net_flow *f, int k)
{
    while (--k > ST_UP && f->link[k] == SIM_NONE) {
    }
    return k;
}

/* ---- uplinks ---- */

/* Bytes the uplink may take from flow |fi| now (0: not eligible); *nk: the next stage. */
static uint32_t take_size(sim_net *n, uint32_t fi, int *nk)
{
    const net_flow *f = net_flow_at(n, fi);
    if (!f->ready || f->inflight >= f->window || f->buffered == 0)
        return 0;
    *nk = next_stage(f, ST_UP);
    if (f->pend[*nk] >= SIM_NET_HOP_CHUNKS)
        return 0; /* held back downstream */
    uint32_t sz = f->window - f->inflight;
    if (f->buffered < sz)
        sz = f->buffered;
    return sz < n->cfg.chunk_bytes ? sz : n->cfg.chunk_bytes;
}

static void serve_up(sim_net *n, uint32_t li)
{
    net_link *l = &n->links[li];
    while (l->head != SIM_NONE) {
        uint32_t fi = l->head;
        int nk = ST_DOWN;
        uint32_t sz = take_size(n, fi, &nk);
        net_flow *f = net_flow_at(n, fi);
        if (sz == 0) {
            list_pop(n, l);
            continue;
        }
        if (f->deficit[ST_UP] < sz) {
            list_rotate(n, l);
            continue;
        }
        uint32_t conn = n->pairs[fi >> 1].conn;
        uint32_t c = chunk_new(n, conn, (uint8_t)(fi & 1), sz);
        if (c == SIM_NONE)
            return;
        f->deficit[ST_UP] -= sz;
        f->buffered -= sz;
        f->inflight += sz;
        f->pend[nk]++;
        start(n, li, c);
        if (f->want_writable) {
            f->want_writable = 0;
            const net_conn *cn = &n->conns[conn];
            sim_net_emit(n, SIM_NET_EV_WRITABLE, conn, cn->host[fi & 1], cn->host[!(fi & 1)], 0);
        }
        if (take_size(n, fi, &nk) == 0)
            list_pop(n, l);
        return;
    }
}

void sim_net_link_wake(sim_net *n, uint32_t fi)
{
    net_flow *f = net_flow_at(n, fi);
    int nk;
    if ((f->listed & (1u << ST_UP)) || take_size(n, fi, &nk) == 0)
        return;
    uint32_t li = f->link[ST_UP];
    list_append(n, &n->links[li], fi);
    if (n->links[li].cur == SIM_NONE)
        serve_up(n, li);
}

/* ---- links after the uplink ---- */

static void serve_queue(sim_net *n, uint32_t li);

/* Flow |fi| may pass chunks to stage |k| again: its link at the previous stage resumes it. */
static void unblock(sim_net *n, uint32_t fi, int k)
{
    net_flow *f = net_flow_at(n, fi);
    int pk = prev_stage(f, k);
    if (pk == ST_UP) {
        sim_net_link_wake(n, fi);
        return;
    }
    if (f->qtail[pk - 1] == SIM_NONE || (f->listed & (1u << pk)))
        return;
    uint32_t li = f->link[pk];
    list_append(n, &n->links[li], fi);
    if (n->links[li].cur == SIM_NONE)
        serve_queue(n, li);
}

static void serve_queue(sim_net *n, uint32_t li)
{
    net_link *l = &n->links[li];
    int k = l->stage;
    while (l->head != SIM_NONE) {
        uint32_t fi = l->head;
        net_flow *f = net_flow_at(n, fi);
        uint32_t *tail = &f->qtail[k - 1];
        if (*tail == SIM_NONE) { /* dead flow whose chunks were dropped */
            list_pop(n, l);
            continue;
        }
        int nk = next_stage(f, k);
        if (nk < ST_N && f->pend[nk] >= SIM_NET_HOP_CHUNKS) {
            list_pop(n, l); /* held back downstream; unblock() lists it again */
            continue;
        }
        uint32_t c = n->chunks[*tail].next;
        if (f->deficit[k] < n->chunks[c].bytes) {
            list_rotate(n, l);
            continue;
        }
        f->deficit[k] -= n->chunks[c].bytes;
        (void)fifo_pop(n, tail);
        if (*tail == SIM_NONE)
            list_pop(n, l);
        if (nk < ST_N)
            f->pend[nk]++;
        start(n, li, c);
        if (f->pend[k]-- == SIM_NET_HOP_CHUNKS)
            unblock(n, fi, k);
        return;
    }
}

static void serve(sim_net *n, uint32_t li)
{
    if (n->links[li].stage == ST_UP)
        serve_up(n, li);
    else
        serve_queue(n, li);
}

static void forward(sim_net *n, uint32_t c)
{
    net_chunk ch = n->chunks[c];
    const net_conn *cn = &n->conns[ch.conn];
    uint32_t fi = cn->pair * 2 + ch.dir;
    net_flow *f = net_flow_at(n, fi);
    int k = next_stage(f, ch.stage);
    if (k == ST_N) {
        sim_net_schedule_after(n, n->pairs[cn->pair].latency_us, EV_DELIVER, ch.conn, ch.bytes,
                               ch.dir | (uint64_t)cn->pair << 1);
        chunk_free(n, c);
        return;
    }
    uint32_t li = f->link[k];
    fifo_push(n, &f->qtail[k - 1], c);
    if (!(f->listed & (1u << k))) {
        list_append(n, &n->links[li], fi);
        if (n->links[li].cur == SIM_NONE)
            serve_queue(n, li);
    }
}

void sim_net_link_done(sim_net *n, uint32_t li)
{
    net_link *l = &n->links[li];
    uint32_t c = l->cur;
    assert(c != SIM_NONE);
    l->cur = SIM_NONE;
    if (l->stage == ST_UP)
        l->bytes += n->chunks[c].bytes;
    if (n->conns[n->chunks[c].conn].flags & CONN_DEAD)
        chunk_free(n, c);
    else
        forward(n, c);
    serve(n, li);
}

void sim_net_link_drop_conn(sim_net *n, uint32_t conn)
{
    net_conn *cn = &n->conns[conn];
    assert(cn->flags & CONN_DEAD);
    if (cn->pair == SIM_NONE)
        return;
    net_pair *p = &n->pairs[cn->pair];
    for (int d = 0; d < 2; d++) {
        net_flow *f = &p->f[d];
        f->buffered = 0;
        f->inflight = 0;
        f->want_writable = 0;
        f->ready = 0;
        memset(f->pend, 0, sizeof(f->pend));
        for (int k = 0; k < ST_N - 1; k++) {
            while (f->qtail[k] != SIM_NONE)
                chunk_free(n, fifo_pop(n, &f->qtail[k]));
        }
    }
    if (p->f[0].listed == 0 && p->f[1].listed == 0) {
        p->conn = n->pairs_free;
        n->pairs_free = cn->pair;
        cn->pair = SIM_NONE;
    }
}
