/* sim_net.c: the simulated network's API: hosts, ISPs, connection life cycle (set-up, close,
 * host crash), send buffers, and the event loop that turns internal events into the external
 * events the host polls. Links and chunks live in sim_net_link.c. No clock, no randomness. */
#include "sim_net_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void sim_net_config_defaults(sim_net_config *cfg)
{
    cfg->chunk_bytes = 16384;
    cfg->sndbuf_bytes = 262144;
    cfg->min_window = 65536;
}

int sim_net_new(sim_net **out, const sim_net_config *cfg)
{
    *out = NULL;
    sim_net *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return BT_ERR_NOMEM;
    if (cfg != NULL)
        n->cfg = *cfg;
    else
        sim_net_config_defaults(&n->cfg);
    if (n->cfg.chunk_bytes == 0 || n->cfg.sndbuf_bytes == 0) {
        free(n);
        return BT_ERR_INVALID;
    }
    sim_evq_init(&n->q);
    sim_delayq_init(&n->dq);
    n->pairs_free = SIM_NONE;
    n->chunks_free = SIM_NONE;
    uint32_t isp0;
    int rc = sim_net_add_isp(n, 0, 0, 0, &isp0);
    if (rc != 0) {
        sim_net_del(n);
        return rc;
    }
    *out = n;
    return 0;
}

void sim_net_del(sim_net *n)
{
    if (n == NULL)
        return;
    sim_evq_free(&n->q);
    sim_delayq_free(&n->dq);
    for (uint32_t h = 0; h < n->nhosts; h++)
        free(n->hosts[h].conns);
    free(n->links);
    free(n->hosts);
    free(n->isps);
    free(n->conns);
    free(n->pairs);
    free(n->chunks);
    free(n->out);
    free(n);
}

int sim_net_add_isp(sim_net *n, uint64_t up_Bps, uint64_t down_Bps, bt_time_us latency_us,
                    uint32_t *id)
{
    if (sim_grow((void **)&n->isps, &n->isps_cap, n->nisps + 1, sizeof(net_isp), 16) != 0)
        return BT_ERR_NOMEM;
    net_isp *isp = &n->isps[n->nisps];
    isp->latency_us = latency_us;
    isp->tup = isp->tdown = SIM_NONE;
    if (up_Bps != 0 && (isp->tup = sim_net_link_new(n, up_Bps, ST_TUP, n->nisps)) == SIM_NONE)
        return BT_ERR_NOMEM;
    if (down_Bps != 0 &&
        (isp->tdown = sim_net_link_new(n, down_Bps, ST_TDOWN, n->nisps)) == SIM_NONE)
        return BT_ERR_NOMEM;
    *id = n->nisps++;
    return 0;
}

int sim_net_add_host(sim_net *n, uint32_t isp, uint64_t up_Bps, uint64_t down_Bps,
                     bt_time_us latency_us, sim_host_id *id)
{
    if (isp >= n->nisps || up_Bps == 0 || down_Bps == 0)
        return BT_ERR_INVALID;
    if (sim_grow((void **)&n->hosts, &n->hosts_cap, n->nhosts + 1, sizeof(net_host), 16) != 0)
        return BT_ERR_NOMEM;
    uint32_t up = sim_net_link_new(n, up_Bps, ST_UP, n->nhosts);
    uint32_t down = up == SIM_NONE ? SIM_NONE : sim_net_link_new(n, down_Bps, ST_DOWN, n->nhosts);
    if (down == SIM_NONE)
        return BT_ERR_NOMEM;
    net_host *h = &n->hosts[n->nhosts];
    memset(h, 0, sizeof(*h));
    h->isp = isp;
    h->up = up;
    h->down = down;
    h->latency_us = latency_us;
    *id = n->nhosts++;
    return 0;
}

bt_time_us sim_net_latency(const sim_net *n, sim_host_id a, sim_host_id b)
{
    assert(a < n->nhosts && b < n->nhosts);
    const net_host *ha = &n->hosts[a], *hb = &n->hosts[b];
    bt_time_us t = ha->latency_us + hb->latency_us;
    if (ha->isp != hb->isp)
        t += n->isps[ha->isp].latency_us + n->isps[hb->isp].latency_us;
    return t;
}

bt_time_us sim_net_conn_latency(const sim_net *n, const net_conn *c)
{
    return sim_net_latency(n, c->host[0], c->host[1]);
}

/* ---- events ---- */

void sim_net_emit(sim_net *n, uint8_t type, sim_conn_id conn, sim_host_id host, sim_host_id peer,
                  uint64_t bytes)
{
    if (type == SIM_NET_EV_DELIVER && n->out_n > 0) { /* coalesce with the same flow's last */
        sim_net_event *last = &n->out[n->out_head + n->out_n - 1];
        if (last->type == type && last->conn == conn && last->host == host &&
            last->time == n->now) {
            last->bytes += bytes;
            return;
        }
    }
    if (n->out_head + n->out_n == n->out_cap) {
        if (n->out_head > 0) {
            memmove(n->out, n->out + n->out_head, n->out_n * sizeof(*n->out));
            n->out_head = 0;
        } else if (sim_grow((void **)&n->out, &n->out_cap, n->out_n + 1, sizeof(*n->out), 16) !=
                   0) {
            n->err = BT_ERR_NOMEM;
            return;
        }
    }
    sim_net_event *e = &n->out[n->out_head + n->out_n++];
    memset(e, 0, sizeof(*e));
    e->type = type;
    e->time = n->now;
    e->conn = conn;
    e->host = host;
    e->peer = peer;
    e->bytes = bytes;
}

void sim_net_schedule(sim_net *n, bt_time_us t, uint32_t kind, uint32_t a, uint32_t b, uint64_t x)
{
    sim_event ev = {.time = t, .kind = kind, .a = a, .b = b, .x = x};
    if (sim_evq_push(&n->q, &ev) != 0)
        n->err = BT_ERR_NOMEM;
}

void sim_net_schedule_after(sim_net *n, bt_time_us delay, uint32_t kind, uint32_t a, uint32_t b,
                            uint64_t x)
{
    sim_event ev = {.kind = kind, .a = a, .b = b, .x = x};
    int rv = sim_delayq_push(&n->dq, &n->q, n->now, delay, &ev);
    if (rv == BT_ERR_STATE)
        sim_net_schedule(n, n->now + delay, kind, a, b, x);
    else if (rv != 0)
        n->err = BT_ERR_NOMEM;
}

bt_time_us sim_net_q_next_time(const sim_net *n)
{
    bt_time_us t = sim_evq_next_time(&n->q);
    const sim_event *d = sim_delayq_peek(&n->dq);
    return d != NULL && d->time < t ? d->time : t;
}

bool sim_net_q_pop(sim_net *n, sim_event *out)
{
    const sim_event *d = sim_delayq_peek(&n->dq);
    if (d == NULL)
        return sim_evq_pop(&n->q, out);
    if (sim_evq_size(&n->q) > 0) {
        const sim_event *h = &n->q.heap[0];
        if (h->time < d->time || (h->time == d->time && h->seq < d->seq))
            return sim_evq_pop(&n->q, out);
    }
    sim_delayq_pop(&n->dq, out);
    return true;
}

bt_time_us sim_net_next_time(const sim_net *n)
{
    if (n->err)
        return BT_TIME_NEVER; /* poisoned: the host loop must not spin on it */
    if (n->out_n > 0)
        return n->out[n->out_head].time;
    return sim_net_q_next_time(n);
}
