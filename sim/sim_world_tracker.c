/* sim_world_tracker.c: the simulated tracker. It receives each peer's announce (after the
 * peer's access latency), keeps the list of peers it has heard from (dropping those gone
 * silent for two intervals), and answers with a real bencoded HTTP announce reply (compact
 * peers, BEP 23) that the peer parses with the engine's codec. Peer lists are a uniform random
 * sample of |numwant| other peers from the tracker's stream; with the isp-biased policy, up to
 * local_fraction of the list is first drawn from the requester's own ISP (bounded rejection
 * sampling: an ISP with few peers yields fewer), the rest from everyone. */
#include "sim_grow.h"
#include "sim_world_int.h"

#include <stdlib.h>
#include <string.h>

static int track(sim_world *w, uint32_t i)
{
    sim_peer *p = &w->peers[i];
    if (p->tracked)
        return 0;
    if (sim_grow((void **)&w->tracker, &w->tracker_cap, w->ntracker + 1, sizeof(uint32_t), 256))
        return BT_ERR_NOMEM;
    p->tracker_pos = w->ntracker;
    w->tracker[w->ntracker++] = i;
    p->tracked = true;
    return 0;
}

void sim_tracker_remove(sim_world *w, uint32_t i)
{
    sim_peer *p = &w->peers[i];
    if (!p->tracked)
        return;
    uint32_t last = w->tracker[--w->ntracker];
    w->tracker[p->tracker_pos] = last;
    w->peers[last].tracker_pos = p->tracker_pos;
    p->tracked = false;
    if (p->tracked_seed)
        w->tracker_seeds--;
    p->tracked_seed = false;
}

static bool expired(const sim_world *w, const sim_peer *p)
{
    return !p->present && w->now > p->tracker_seen + 2 * w->cfg.announce_interval;
}

typedef struct picked {
    uint32_t ids[256];
    uint32_t n;
} picked;

/* Draws up to |want| more distinct random peers (not |self|, not expired, of ISP |isp| unless
 * isp is UINT32_MAX) into |pk|, with a bounded number of tries. */
static void draw(sim_world *w, uint32_t self, uint32_t isp, uint32_t want, picked *pk)
{
    uint32_t goal = pk->n + want, tries = 0;
    if (goal > 256)
        goal = 256;
    while (pk->n < goal && w->ntracker > 1 && tries < 8 * want + 64) {
        tries++;
        uint32_t k = (uint32_t)gsl_rng_uniform_int(w->rng_tracker, w->ntracker);
        uint32_t j = w->tracker[k];
        if (j == self || (isp != UINT32_MAX && w->peers[j].p.isp != isp))
            continue;
        if (expired(w, &w->peers[j])) {
            sim_tracker_remove(w, j);
            continue;
        }
        bool dup = false;
        for (uint32_t m = 0; m < pk->n && !dup; m++)
            dup = pk->ids[m] == j;
        if (!dup)
            pk->ids[pk->n++] = j;
    }
}

/* Appends up to |want| peers (compact form) for |self| to |out|. */
static void pick_peers(sim_world *w, uint32_t self, uint32_t want, bt_buf *out)
{
    picked pk;
    pk.n = 0;
    if (w->cfg.isp_biased) {
        uint32_t local = (uint32_t)(w->cfg.local_fraction * want + 0.5);
        draw(w, self, w->peers[self].p.isp, local, &pk);
    }
    draw(w, self, UINT32_MAX, want - pk.n, &pk);
    for (uint32_t m = 0; m < pk.n; m++) {
        w->tracker_local_sent += w->peers[pk.ids[m]].p.isp == w->peers[self].p.isp;
        bt_buf_put(out, w->peers[pk.ids[m]].addr.ip, 4);
        bt_buf_put_be16(out, w->peers[pk.ids[m]].addr.port);
    }
    w->tracker_replies++;
    w->tracker_peers_sent += pk.n;
    if (pk.n > w->tracker_max_list)
        w->tracker_max_list = pk.n;
}

static void build_reply(sim_world *w, uint32_t i, bt_buf *body)
{
    bt_buf peers;
    bt_buf_init(&peers, bt_mem_default(), 0);
    uint32_t want = w->peers[i].pending.numwant < 0 ? w->cfg.numwant
                                                    : (uint32_t)w->peers[i].pending.numwant;
    if (want > w->cfg.numwant)
        want = w->cfg.numwant;
    pick_peers(w, i, want, &peers);
    bt_ben_put_dict(body);
    bt_ben_put_cstr(body, "complete");
    bt_ben_put_int(body, w->tracker_seeds);
    bt_ben_put_cstr(body, "incomplete");
    bt_ben_put_int(body, (int64_t)w->ntracker - w->tracker_seeds);
    bt_ben_put_cstr(body, "interval");
    bt_ben_put_int(body, (int64_t)(w->cfg.announce_interval / BT_US_PER_S));
    if (w->cfg.min_interval > 0) {
        bt_ben_put_cstr(body, "min interval");
        bt_ben_put_int(body, (int64_t)(w->cfg.min_interval / BT_US_PER_S));
    }
    bt_ben_put_cstr(body, "peers");
    bt_ben_put_str(body, peers.data, peers.len);
    bt_ben_put_end(body);
    bt_buf_free(&peers);
}

void sim_tracker_request(sim_world *w, uint32_t i)
{
    sim_peer *p = &w->peers[i];
    if (p->pending.event == BT_EVENT_STOPPED) {
        sim_tracker_remove(w, i);
        return;
    }
    if (!p->present)
        return;
    int rv = track(w, i);
    if (rv != 0) {
        sim_world_fail(w, rv);
        return;
    }
    p->tracker_seen = w->now;
    bool seed = p->pending.left == 0;
    if (seed != p->tracked_seed) {
        w->tracker_seeds += seed ? 1 : (uint32_t)-1;
        p->tracked_seed = seed;
    }
    bt_buf_reset(&p->reply);
    build_reply(w, i, &p->reply);
    if (p->reply.err != 0) {
        sim_world_fail(w, p->reply.err);
        return;
    }
    sim_event ev = {.time = w->now + p->p.latency_us, .kind = SIM_EV_REPLY, .a = i};
    if (sim_evq_push(&w->q, &ev) != 0)
        sim_world_fail(w, BT_ERR_NOMEM);
}

void sim_tracker_reply(sim_world *w, uint32_t i)
{
    sim_peer *p = &w->peers[i];
    if (p->c == NULL || p->reply.len == 0)
        return;
    bt_announce_reply r;
    int rv = bt_tracker_http_parse_reply(&r, p->reply.data, p->reply.len, bt_mem_default(), NULL,
                                         NULL);
    bt_buf_reset(&p->reply);
    if (rv != 0) {
        sim_world_fail(w, rv == BT_ERR_NOMEM ? rv : BT_ERR_FATAL);
        return;
    }
    rv = bt_client_on_announce(p->c, &r, w->now);
    bt_announce_reply_free(&r);
    if (rv != 0)
        sim_world_fail(w, rv);
    sim_host_drain(w, i);
}
