/* sim_net_conn.c: connections of the simulated network: set-up (ACCEPT, CONNECTED), close
 * and host crash (CLOSED), send buffers and WRITABLE, delivery and window release, and the
 * poll loop that turns internal events into external ones. No clock, no randomness. */
#include "sim_net_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static inline uint32_t gone_bit(int end)
{
    return end ? CONN_GONE1 : CONN_GONE0;
}

static int end_of(const net_conn *c, sim_host_id host)
{
    assert(c->host[0] == host || c->host[1] == host);
    return c->host[1] == host;
}

/* Makes room for one more connection id in |h|'s list, first dropping the connections that
 * no longer concern it. */
static int host_reserve(sim_net *n, sim_host_id h)
{
    net_host *hs = &n->hosts[h];
    if (hs->nconns < hs->conns_cap)
        return 0;
    uint32_t k = 0;
    for (uint32_t i = 0; i < hs->nconns; i++) {
        const net_conn *c = &n->conns[hs->conns[i]];
        if (!(c->flags & gone_bit(end_of(c, h))))
            hs->conns[k++] = hs->conns[i];
    }
    hs->nconns = k;
    if (k * 2 > hs->conns_cap || hs->conns_cap == 0)
        return sim_grow((void **)&hs->conns, &hs->conns_cap, k + 1, sizeof(uint32_t), 16);
    return 0;
}

static uint32_t pair_new(sim_net *n)
{
    uint32_t p = n->pairs_free;
    if (p != SIM_NONE) {
        n->pairs_free = n->pairs[p].conn;
        return p;
    }
    if (sim_grow((void **)&n->pairs, &n->pairs_cap, n->npairs + 1, sizeof(net_pair), 16) != 0)
        return SIM_NONE;
    return n->npairs++;
}

static void pair_init(sim_net *n, uint32_t conn)
{
    net_conn *c = &n->conns[conn];
    net_pair *p = &n->pairs[c->pair];
    memset(p, 0, sizeof(*p));
    p->conn = conn;
    p->latency_us = sim_net_conn_latency(n, c);
    for (int d = 0; d < 2; d++) {
        net_flow *f = &p->f[d];
        sim_net_link_path(n, c, d, f->link);
        for (int k = 0; k < ST_N; k++)
            f->next[k] = SIM_NONE;
        for (int k = 0; k < ST_N - 1; k++)
            f->qtail[k] = SIM_NONE;
        f->window = sim_net_link_window(n, c, d);
    }
}

int sim_net_connect(sim_net *n, sim_host_id from, sim_host_id to, bt_time_us now, sim_conn_id *id)
{
    assert(from < n->nhosts && to < n->nhosts && from != to);
    assert(now >= n->now);
    if (n->err)
        return n->err;
    if (n->hosts[from].gone)
        return BT_ERR_STATE;
    if (n->nconns == UINT32_MAX - 1)
        return BT_ERR_LIMIT;
    n->now = now;
    if (sim_grow((void **)&n->conns, &n->conns_cap, n->nconns + 1, sizeof(net_conn), 16) != 0 ||
        host_reserve(n, from) != 0 || host_reserve(n, to) != 0)
        return BT_ERR_NOMEM;
    uint32_t p = pair_new(n);
    if (p == SIM_NONE)
        return BT_ERR_NOMEM;
    uint32_t conn = n->nconns++;
    net_conn *c = &n->conns[conn];
    c->host[0] = from;
    c->host[1] = to;
    c->pair = p;
    c->flags = 0;
    pair_init(n, conn);
    n->hosts[from].conns[n->hosts[from].nconns++] = conn;
    if (!n->hosts[to].gone)
        n->hosts[to].conns[n->hosts[to].nconns++] = conn;
    bt_time_us lat = sim_net_conn_latency(n, c);
    sim_net_schedule(n, now + lat, EV_ACCEPT, conn, 0, 0);
    sim_net_schedule(n, now + 2 * lat, EV_CONNECTED, conn, 0, 0);
    *id = conn;
    return n->err;
}

static void conn_kill(sim_net *n, uint32_t conn)
{
    n->conns[conn].flags |= CONN_DEAD;
    sim_net_link_drop_conn(n, conn);
}

static void notify_closed(sim_net *n, uint32_t conn, int end)
{
    const net_conn *c = &n->conns[conn];
    if (!(c->flags & gone_bit(end)))
        sim_net_schedule_after(n, sim_net_conn_latency(n, c), EV_CLOSED, conn, 0, (uint64_t)end);
}

void sim_net_close(sim_net *n, sim_conn_id conn, sim_host_id host, bt_time_us now)
{
    assert(conn < n->nconns);
    assert(now >= n->now);
    net_conn *c = &n->conns[conn];
    int end = end_of(c, host);
    n->now = now;
    if (c->flags & gone_bit(end))
        return;
    c->flags |= gone_bit(end);
    if (c->flags & CONN_DEAD)
        return;
    conn_kill(n, conn);
    notify_closed(n, conn, !end);
}

void sim_net_host_down(sim_net *n, sim_host_id host, bt_time_us now)
{
    assert(host < n->nhosts);
    assert(now >= n->now);
    net_host *h = &n->hosts[host];
    n->now = now;
    if (h->gone)
        return;
    h->gone = true;
    for (uint32_t i = 0; i < h->nconns; i++) {
        uint32_t conn = h->conns[i];
        net_conn *c = &n->conns[conn];
        int end = end_of(c, host);
        if (c->flags & gone_bit(end))
            continue;
        c->flags |= gone_bit(end);
        if (c->flags & CONN_DEAD)
            continue;
        conn_kill(n, conn);
        if (end == 1 && !(c->flags & CONN_ACCEPTED))
            continue; /* the SYN has not arrived: EV_ACCEPT will answer the caller */
        notify_closed(n, conn, !end);
    }
    free(h->conns);
    h->conns = NULL;
    h->nconns = h->conns_cap = 0;
}

uint64_t sim_net_write(sim_net *n, sim_conn_id conn, sim_host_id host, uint64_t bytes,
                       bt_time_us now)
{
    assert(conn < n->nconns);
    assert(now >= n->now);
    net_conn *c = &n->conns[conn];
    int end = end_of(c, host);
    n->now = now;
    if (c->flags & (CONN_DEAD | gone_bit(end)))
        return 0;
    uint32_t fi = c->pair * 2 + (uint32_t)end;
    net_flow *f = net_flow_at(n, fi);
    uint64_t room = n->cfg.sndbuf_bytes - f->buffered;
    uint64_t acc = bytes < room ? bytes : room;
    f->buffered += (uint32_t)acc;
    if (f->buffered == n->cfg.sndbuf_bytes)
        f->want_writable = 1;
    if (acc > 0)
        sim_net_link_wake(n, fi);
    return acc;
}

void sim_net_set_weight(sim_net *n, sim_conn_id conn, sim_host_id host, uint32_t weight)
{
    assert(conn < n->nconns);
    net_conn *c = &n->conns[conn];
    if ((c->flags & CONN_DEAD) || c->pair == SIM_NONE)
        return;
    uint64_t w = weight;
    if (w != 0 && w < SIM_NET_WEIGHT_ONE / 64)
        w = SIM_NET_WEIGHT_ONE / 64;
    if (w > 256 * SIM_NET_WEIGHT_ONE)
        w = 256 * SIM_NET_WEIGHT_ONE;
    net_flow *f = net_flow_at(n, c->pair * 2 + (uint32_t)end_of(c, host));
    uint64_t q = (uint64_t)n->cfg.chunk_bytes * w / SIM_NET_WEIGHT_ONE;
    f->quantum = (uint32_t)(q > UINT32_MAX / 4 ? UINT32_MAX / 4 : w != 0 && q == 0 ? 1 : q);
}

uint64_t sim_net_writable(const sim_net *n, sim_conn_id conn, sim_host_id host)
{
    assert(conn < n->nconns);
    const net_conn *c = &n->conns[conn];
    int end = end_of(c, host);
    if (c->flags & (CONN_DEAD | gone_bit(end)))
        return 0;
    return n->cfg.sndbuf_bytes - n->pairs[c->pair].f[end].buffered;
}

/* ---- internal events ---- */

static void on_accept(sim_net *n, uint32_t conn)
{
    net_conn *c = &n->conns[conn];
    if (n->hosts[c->host[1]].gone || (c->flags & CONN_GONE1)) {
        c->flags |= CONN_GONE1; /* nobody there: the caller is reset after a round trip */
        if (!(c->flags & CONN_DEAD))
            conn_kill(n, conn);
        notify_closed(n, conn, 0);
        return;
    }
    sim_net_emit(n, SIM_NET_EV_ACCEPT, conn, c->host[1], c->host[0], 0);
    if (!(c->flags & CONN_DEAD)) {
        c->flags |= CONN_ACCEPTED;
        n->pairs[c->pair].f[1].ready = 1;
        sim_net_link_wake(n, c->pair * 2 + 1);
    }
}

static void on_connected(sim_net *n, uint32_t conn)
{
    net_conn *c = &n->conns[conn];
    if (c->flags & (CONN_DEAD | CONN_GONE0))
        return;
    c->flags |= CONN_CONNECTED;
    n->pairs[c->pair].f[0].ready = 1;
    sim_net_emit(n, SIM_NET_EV_CONNECTED, conn, c->host[0], c->host[1], 0);
    sim_net_link_wake(n, c->pair * 2);
}

static void on_closed(sim_net *n, uint32_t conn, int end)
{
    net_conn *c = &n->conns[conn];
    if (c->flags & gone_bit(end))
        return;
    c->flags |= gone_bit(end);
    sim_net_emit(n, SIM_NET_EV_CLOSED, conn, c->host[end], c->host[!end], 0);
}

static void on_deliver(sim_net *n, uint32_t conn, uint32_t bytes, int dir)
{
    net_conn *c = &n->conns[conn];
    if (c->flags & CONN_DEAD)
        return;
    sim_net_emit(n, SIM_NET_EV_DELIVER, conn, c->host[!dir], c->host[dir], bytes);
    /* The window counts bytes until delivery: the ACK's trip back is folded into the window's
     * size (2 * bottleneck * RTT), which saves an event per chunk. */
    uint32_t fi = c->pair * 2 + (uint32_t)dir;
    net_flow *f = net_flow_at(n, fi);
    n->links[f->link[ST_DOWN]].bytes += bytes;
    assert(f->inflight >= bytes);
    f->inflight -= bytes;
    sim_net_link_wake(n, fi);
}

static void dispatch(sim_net *n, const sim_event *ev)
{
    switch (ev->kind) {
    case EV_LINK_DONE:
        sim_net_link_done(n, ev->a);
        break;
    case EV_DELIVER:
        on_deliver(n, ev->a, ev->b, (int)(ev->x & 1));
        break;
    case EV_ACCEPT:
        on_accept(n, ev->a);
        break;
    case EV_CONNECTED:
        on_connected(n, ev->a);
        break;
    case EV_CLOSED:
        on_closed(n, ev->a, (int)ev->x);
        break;
    default:
        assert(!"unknown internal event");
    }
}

/* Cache hint while the host handles the event being returned: the records the next internal
 * event will read, if it is a delivery (its connection, and the flow pair it was sent on). */
static void prefetch_next(const sim_net *n)
{
    const sim_event *d = sim_delayq_peek(&n->dq);
    if (d == NULL || d->kind != EV_DELIVER)
        return;
    __builtin_prefetch(&n->conns[d->a]);
    if ((d->x >> 1) < n->npairs)
        __builtin_prefetch(&n->pairs[d->x >> 1].f[d->x & 1]);
}

bool sim_net_peek_delivery(const sim_net *n, uint32_t k, uint32_t *conn, int *dir)
{
    const sim_event *d = k == 0 ? sim_delayq_peek(&n->dq) : sim_delayq_peek_second(&n->dq);
    if (d == NULL || d->kind != EV_DELIVER)
        return false;
    *conn = d->a;
    *dir = (int)(d->x & 1);
    return true;
}

void sim_net_prefetch_conn(const sim_net *n, sim_conn_id conn)
{
    if (conn < n->nconns)
        __builtin_prefetch(&n->conns[conn]);
}

int sim_net_poll(sim_net *n, bt_time_us now, sim_net_event *ev)
{
    if (n->err)
        return n->err;
    while (n->out_n == 0) {
        if (sim_net_q_next_time(n) > now) {
            if (now > n->now)
                n->now = now;
            return 0;
        }
        sim_event e;
        (void)sim_net_q_pop(n, &e);
        n->now = e.time;
        dispatch(n, &e);
        if (n->err)
            return n->err;
    }
    if (n->out[n->out_head].time > now)
        return 0;
    prefetch_next(n);
    *ev = n->out[n->out_head++];
    if (--n->out_n == 0)
        n->out_head = 0;
    return 1;
}

void sim_net_host_stats_get(const sim_net *n, sim_host_id h, sim_net_host_stats *out)
{
    assert(h < n->nhosts);
    const net_link *up = &n->links[n->hosts[h].up];
    out->bytes_up = up->bytes;
    out->up_busy_us = up->busy_us;
    out->bytes_down = n->links[n->hosts[h].down].bytes;
}

uint64_t sim_net_chunks(const sim_net *n)
{
    return n->chunks_served;
}
