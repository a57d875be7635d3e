/* sim_world.c: the simulated swarm's life cycle: creation, peers joining and leaving, engine
 * timers, time-series samples, and the main loop that interleaves the world's event queue
 * with the network's events in (time, sequence) order. */
#include "sim_world_int.h"
#include "sim_grow.h"
#include "sim_rng.h"

#include <stdlib.h>
#include <string.h>

int sim_world_fail(sim_world *w, int err)
{
    if (w->err == 0 && err < 0)
        w->err = err;
    return err;
}

void sim_world_trace(sim_world *w, const char *what, uint32_t peer, uint64_t x)
{
    if (w->trace != NULL)
        fprintf(w->trace, "%llu %s %u %llu\n", (unsigned long long)w->now, what, peer,
                (unsigned long long)x);
}

void sim_world_set_trace(sim_world *w, FILE *f) { w->trace = f; }

static int push_ev(sim_world *w, bt_time_us t, uint32_t kind, uint32_t a, uint32_t b, uint64_t x)
{
    sim_event ev = {.time = t, .kind = kind, .a = a, .b = b, .x = x};
    int rv = sim_evq_push(&w->q, &ev);
    return rv != 0 ? sim_world_fail(w, rv) : 0;
}

/* Piece hashes: real SHA-1 of generated content, or (virtual mode) SHA-1 of the index. */
static int make_torrent(sim_world *w)
{
    const sim_world_config *c = &w->cfg;
    w->npieces = (uint32_t)((c->file_size + c->piece_size - 1) / c->piece_size);
    w->hashes = malloc((size_t)w->npieces * 20);
    w->avail = calloc(w->npieces, sizeof(*w->avail));
    if (w->hashes == NULL || w->avail == NULL)
        return BT_ERR_NOMEM;
    if (c->real_bytes) {
        w->content = malloc(c->file_size);
        if (w->content == NULL)
            return BT_ERR_NOMEM;
        gsl_rng *g = sim_rng_new(c->seed, "content", 0);
        if (g == NULL)
            return BT_ERR_NOMEM;
        for (uint64_t i = 0; i < c->file_size; i++)
            w->content[i] = (uint8_t)gsl_rng_uniform_int(g, 256);
        gsl_rng_free(g);
    }
    for (uint32_t p = 0; p < w->npieces; p++) {
        uint64_t off = (uint64_t)p * c->piece_size;
        uint64_t len = c->file_size - off < c->piece_size ? c->file_size - off : c->piece_size;
        if (c->real_bytes) {
            bt_sha1(w->content + off, len, w->hashes + (size_t)p * 20);
        } else {
            uint8_t id[16];
            memcpy(id, &p, 4);
            memcpy(id + 4, &c->seed, 8);
            memcpy(id + 12, "vpay", 4);
            bt_sha1(id, sizeof(id), w->hashes + (size_t)p * 20);
        }
    }
    bt_sha1(w->hashes, (size_t)w->npieces * 20, w->info_hash);
    return 0;
}

int sim_world_new(sim_world **out, const sim_world_config *cfg)
{
    if (cfg->file_size == 0 || cfg->piece_size == 0 || cfg->nclasses == 0 ||
        cfg->nclasses > SIM_MAX_CLASSES || cfg->sample_interval == 0)
        return BT_ERR_INVALID;
    sim_world *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return BT_ERR_NOMEM;
    w->cfg = *cfg;
    sim_evq_init(&w->q);
    w->unchoke_us = calloc((size_t)cfg->nclasses * cfg->nclasses * 2, sizeof(uint64_t));
    int rv = w->unchoke_us != NULL ? sim_net_new(&w->net, &cfg->net) : BT_ERR_NOMEM;
    if (rv == 0)
        rv = make_torrent(w);
    if (rv == 0 && (w->rng_tracker = sim_rng_new(cfg->seed, "tracker", 0)) == NULL)
        rv = BT_ERR_NOMEM;
    if (rv == 0)
        rv = push_ev(w, 0, SIM_EV_SAMPLE, 0, 0, 0);
    if (rv != 0) {
        sim_world_del(w);
        return rv;
    }
    *out = w;
    return 0;
}

static void free_peer(sim_peer *p)
{
    bt_client_del(p->c);
    p->c = NULL;
    free(p->store);
    free(p->taint);
    free(p->have);
    free(p->links);
    free(p->r.up_to_class);
    free(p->r.down_from_class);
    bt_buf_free(&p->reply);
}

void sim_world_del(sim_world *w)
{
    if (w == NULL)
        return;
    for (uint32_t i = 0; i < w->npeers; i++)
        free_peer(&w->peers[i]);
    for (uint32_t i = 0; i < w->nconns; i++) {
        if (w->conns[i] == NULL)
            continue;
        sim_stream_free(&w->conns[i]->dir[0]);
        sim_stream_free(&w->conns[i]->dir[1]);
        free(w->conns[i]);
    }
    sim_net_del(w->net);
    sim_evq_free(&w->q);
    if (w->rng_tracker != NULL)
        gsl_rng_free(w->rng_tracker);
    free(w->peers);
    free(w->host_peer);
    free(w->conns);
    free(w->tracker);
    free(w->avail);
    free(w->samples);
    free(w->unchoke_us);
    free(w->hashes);
    free(w->content);
    free(w);
}

int sim_world_add_isp(sim_world *w, uint64_t up_Bps, uint64_t down_Bps, bt_time_us latency_us,
                      uint32_t *id)
{
    return sim_net_add_isp(w->net, up_Bps, down_Bps, latency_us, id);
}

int sim_world_add_peer(sim_world *w, const sim_peer_params *p, bt_time_us at)
{
    if (p->cls >= w->cfg.nclasses)
        return BT_ERR_INVALID;
    if (w->npeers >= (1u << 24))
        return BT_ERR_LIMIT; /* addresses are 10.x.y.z */
    if (sim_grow((void **)&w->peers, &w->peers_cap, w->npeers + 1, sizeof(sim_peer), 64) != 0)
        return BT_ERR_NOMEM;
    uint32_t i = w->npeers;
    sim_peer *pe = &w->peers[i];
    memset(pe, 0, sizeof(*pe));
    pe->p = *p;
    pe->r.id = i;
    pe->r.cls = p->cls;
    pe->r.isp = p->isp;
    pe->r.up_Bps = p->up_Bps;
    pe->r.down_Bps = p->down_Bps;
    pe->r.latency_us = p->latency_us;
    pe->r.planned_join = at;
    pe->r.crash_planned = p->crash;
    pe->r.abort_planned = p->abort_after_us != BT_TIME_NEVER;
    pe->r.beh = p->beh;
    if (p->corrupt)
        pe->r.beh.corrupt_rate = 1;
    pe->r.corrupt = pe->r.beh.corrupt_rate > 0;
    if (p->corrupt || p->beh.corrupt_rate > 0)
        w->any_corrupt = true;
    pe->corrupt_key = sim_rng_derive(w->cfg.seed, "corrupt", i);
    pe->r.joined = pe->r.completed = pe->r.left = BT_TIME_NEVER;
    pe->timer_at = BT_TIME_NEVER;
    bt_buf_init(&pe->reply, bt_mem_default(), BT_TRACKER_MAX_REPLY);
    pe->r.up_to_class = calloc(w->cfg.nclasses, sizeof(uint64_t));
    pe->r.down_from_class = calloc(w->cfg.nclasses, sizeof(uint64_t));
    if (pe->r.up_to_class == NULL || pe->r.down_from_class == NULL) {
        free(pe->r.up_to_class);
        free(pe->r.down_from_class);
        return BT_ERR_NOMEM;
    }
    w->npeers++;
    w->pending_joins++;
    return push_ev(w, at, SIM_EV_JOIN, i, 0, 0);
}

void sim_world_resched(sim_world *w, uint32_t i)
{
    sim_peer *p = &w->peers[i];
    if (p->c == NULL)
        return;
    bt_time_us d = bt_client_next_deadline(p->c);
    if (d >= p->timer_at)
        return;
    p->timer_at = d;
    p->timer_gen++;
    push_ev(w, d, SIM_EV_TIMER, i, 0, p->timer_gen);
}

static bt_addr peer_addr(uint32_t i)
{
    bt_addr a = {.family = 4, .ip = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i},
                 .port = 6881};
    return a;
}

static int make_client(sim_world *w, uint32_t i)
{
    sim_peer *p = &w->peers[i];
    const sim_class_info *ci = &w->cfg.classes[p->p.cls];
    bt_config bc;
    bt_config_defaults(&bc);
    memcpy(bc.info_hash, w->info_hash, 20);
    bc.piece_hashes = w->hashes;
    bc.npieces = w->npieces;
    bc.piece_len = w->cfg.piece_size;
    bc.total_len = w->cfg.file_size;
    bc.listen_port = p->addr.port;
    bc.seed = ci->seed_role;
    bc.virtual_payload = !w->cfg.real_bytes;
    bc.choker = ci->choker;
    bc.picker = ci->picker[0] != '\0' ? ci->picker : NULL;
    bc.upload_limit = ci->upload_limit;
    if (p->p.beh.large_view)
        bt_config_large_view(&bc);
    bc.response_delay = p->p.beh.response_delay_us;
    double lie = p->p.beh.lie_have;
    bc.lie_have_ppm = lie <= 0 ? 0 : lie >= 1 ? BT_PPM : (uint32_t)(lie * BT_PPM + 0.5);
    uint64_t seed = sim_rng_derive(w->cfg.seed, "peer", i);
    bt_pcg32 idrng;
    bt_pcg32_seed(&idrng, seed, 20);
    bt_peer_id_make(bc.peer_id, &idrng);
    return bt_client_new(&p->c, &bc, seed, NULL);
}

static int alloc_storage(sim_world *w, sim_peer *p)
{
    size_t bits = (w->npieces + 7) / 8;
    p->have = calloc(bits, 1);
    if (p->have == NULL)
        return BT_ERR_NOMEM;
    if (w->cfg.real_bytes) {
        p->store = w->cfg.classes[p->p.cls].seed_role ? malloc(w->cfg.file_size)
                                                      : calloc(1, w->cfg.file_size);
        if (p->store == NULL)
            return BT_ERR_NOMEM;
        if (w->cfg.classes[p->p.cls].seed_role)
            memcpy(p->store, w->content, w->cfg.file_size);
    } else if ((p->taint = calloc(w->npieces, 1)) == NULL) {
        return BT_ERR_NOMEM;
    }
    return 0;
}

static int map_host(sim_world *w, sim_host_id h, uint32_t i)
{
    if (sim_grow((void **)&w->host_peer, &w->host_cap, h + 1, sizeof(uint32_t), 256) != 0)
        return BT_ERR_NOMEM;
    w->host_peer[h] = i;
    return 0;
}

static void join(sim_world *w, uint32_t i)
{
    sim_peer *p = &w->peers[i];
    w->pending_joins--;
    p->addr = peer_addr(i);
    int rv = sim_net_add_host(w->net, p->p.isp, p->p.up_Bps, p->p.down_Bps, p->p.latency_us,
                              &p->host);
    if (rv == 0)
        rv = map_host(w, p->host, i);
    if (rv == 0)
        rv = alloc_storage(w, p);
    if (rv == 0)
        rv = make_client(w, i);
    if (rv != 0) {
        sim_world_fail(w, rv);
        return;
    }
    p->present = true;
    p->r.joined = w->now;
    w->present++;
    w->joined++;
    bool seed = w->cfg.classes[p->p.cls].seed_role;
    if (seed) {
        p->complete = true;
        p->r.completed = w->now;
        memset(p->have, 0xff, (w->npieces + 7) / 8);
        for (uint32_t k = 0; k < w->npieces; k++)
            w->avail[k]++;
    } else {
        w->leechers++;
        if (p->p.abort_after_us != BT_TIME_NEVER)
            push_ev(w, w->now + p->p.abort_after_us, SIM_EV_LEAVE, i, SIM_LEFT_ABORT, 0);
    }
    if (p->p.leave_at != BT_TIME_NEVER)
        push_ev(w, p->p.leave_at > w->now ? p->p.leave_at : w->now, SIM_EV_LEAVE, i,
                p->p.crash ? SIM_LEFT_CRASH : SIM_LEFT_GRACEFUL, 0);
    sim_world_trace(w, "join", i, p->p.cls);
    rv = bt_client_start(p->c, w->now);
    if (rv != 0) {
        sim_world_fail(w, rv);
        return;
    }
    sim_host_drain(w, i);
}

void sim_world_leave(sim_world *w, uint32_t i, int kind)
{
    sim_peer *p = &w->peers[i];
    if (!p->present)
        return;
    if (kind == SIM_LEFT_ABORT && p->complete)
        return; /* finished before its patience ran out */
    bool crash = kind == SIM_LEFT_CRASH || (kind == SIM_LEFT_ABORT && p->p.crash);
    if (!crash) {
        bt_client_stop(p->c, w->now); /* closes its connections, sends "stopped" */
        sim_host_drain(w, i);
    }
    sim_net_host_down(w->net, p->host, w->now);
    sim_host_close_out_links(w, i);
    sim_host_forget_links(w, i);
    if (crash)
        sim_world_trace(w, "crash", i, 0);
    else
        sim_world_trace(w, kind == SIM_LEFT_ABORT ? "abort" : "leave", i, 0);
    p->present = false;
    p->r.left = w->now;
    p->r.leave_kind = (uint8_t)(crash ? SIM_LEFT_CRASH : kind);
    w->present--;
    if (!p->complete)
        w->leechers--;
    for (uint32_t k = 0; k < w->npieces; k++)
        if (p->have[k >> 3] & (0x80 >> (k & 7)))
            w->avail[k]--;
    bt_client_stats st;
    bt_client_get_stats(p->c, &st);
    p->r.hash_failures = st.hash_failures;
    bt_client_del(p->c);
    p->c = NULL;
    free(p->store);
    p->store = NULL;
}

static void on_timer(sim_world *w, const sim_event *ev)
{
    sim_peer *p = &w->peers[ev->a];
    if (p->c == NULL || ev->x != p->timer_gen)
        return;
    p->timer_at = BT_TIME_NEVER;
    if (bt_client_next_deadline(p->c) <= w->now) {
        int rv = bt_client_on_timer(p->c, w->now);
        if (rv != 0) {
            sim_world_fail(w, rv);
            return;
        }
        sim_host_drain(w, ev->a);
    }
    sim_world_resched(w, ev->a);
}

static void sample(sim_world *w, bool last)
{
    if (sim_grow((void **)&w->samples, &w->samples_cap, w->nsamples + 1, sizeof(sim_sample),
                 256) != 0) {
        sim_world_fail(w, BT_ERR_NOMEM);
        return;
    }
    sim_sample *s = &w->samples[w->nsamples++];
    s->t = w->now;
    s->leechers = w->leechers;
    s->seeds = w->present - w->leechers;
    bt_time_us span = w->nsamples > 1 ? w->now - w->samples[w->nsamples - 2].t : 0;
    s->up_Bps = span > 0 ? w->payload_since_sample * BT_US_PER_S / span : 0;
    w->payload_since_sample = 0;
    uint64_t sum = 0;
    uint32_t mn = UINT32_MAX;
    for (uint32_t k = 0; k < w->npieces; k++) {
        sum += w->avail[k];
        if (w->avail[k] < mn)
            mn = w->avail[k];
    }
    s->avail_min = mn;
    s->avail_mean = (double)sum / w->npieces;
    for (uint32_t i = 0; i < w->npeers; i++) { /* each peer's view: its connections now */
        sim_peer *p = &w->peers[i];
        if (p->c == NULL)
            continue;
        bt_client_stats st;
        bt_client_get_stats(p->c, &st);
        if (st.nconns_active > p->r.max_peers)
            p->r.max_peers = st.nconns_active;
    }
    if (!last)
        push_ev(w, w->now + w->cfg.sample_interval, SIM_EV_SAMPLE, 0, 0, 0);
}

static void dispatch(sim_world *w, const sim_event *ev)
{
    switch (ev->kind) {
    case SIM_EV_JOIN: join(w, ev->a); break;
    case SIM_EV_TIMER: on_timer(w, ev); break;
    case SIM_EV_LEAVE: sim_world_leave(w, ev->a, (int)ev->b); break;
    case SIM_EV_TRACKER: sim_tracker_request(w, ev->a); break;
    case SIM_EV_REPLY: sim_tracker_reply(w, ev->a); break;
    case SIM_EV_SAMPLE: sample(w, false); break;
    default: break;
    }
}

static bool finished(const sim_world *w)
{
    return w->cfg.stop_when_done && w->pending_joins == 0 && w->leechers == 0 && w->joined > 0;
}

/* Cache hints (no effect on behaviour), a two-stage pipeline over the deliveries in flight,
 * run while this event is handled: the record of the connection of the delivery after next,
 * and, for the next one (whose record was asked for one event ago), what its receiver's
 * engine and the payload accounting will touch. */
static inline void prefetch_next_delivery(const sim_world *w)
{
    uint32_t nid;
    int dir;
    if (sim_net_peek_delivery(w->net, 1, &nid, &dir) && nid < w->nconns && w->conns[nid] != NULL)
        sim_prefetch(w->conns[nid], sizeof(sim_conn));
    if (!sim_net_peek_delivery(w->net, 0, &nid, &dir) || nid >= w->nconns)
        return;
    const sim_conn *sc = w->conns[nid];
    if (sc == NULL)
        return;
    sim_prefetch(sc, sizeof(*sc)); /* in case the look ahead missed it */
    uint32_t to = dir ? sc->a : sc->b, from = dir ? sc->b : sc->a;
    const sim_peer *r = &w->peers[to];
    __builtin_prefetch(&r->r.bytes_up);
    __builtin_prefetch(&w->peers[from].r.bytes_up);
    if (r->c != NULL)
        bt_conn_prefetch_id(r->c, dir ? sc->ca : sc->cb);
}

int sim_world_run(sim_world *w, void (*fn)(void *ctx, const sim_progress *p), void *ctx,
                  uint64_t every)
{
    uint64_t next_report = every;
    sim_world_reserve_memory(((uint64_t)w->npeers << 19) + (64u << 20)); /* ~512 KiB a peer */
    while (w->err == 0 && !finished(w)) {
        bt_time_us tq = sim_evq_next_time(&w->q), tn = sim_net_next_time(w->net);
        bt_time_us t = tq < tn ? tq : tn;
        if (t == BT_TIME_NEVER || t > w->cfg.duration)
            break;
        w->now = t;
        sim_net_event nev;
        int polled = 0;
        while (w->err == 0 && (polled = sim_net_poll(w->net, t, &nev)) == 1) {
            w->events++;
            w->ev_by_kind[8 + (nev.type & 7)]++;
            prefetch_next_delivery(w);
            sim_host_net_event(w, &nev);
        }
        if (polled < 0)
            sim_world_fail(w, polled);
        sim_event ev;
        while (w->err == 0 && sim_evq_next_time(&w->q) <= t && sim_evq_pop(&w->q, &ev)) {
            w->events++;
            w->ev_by_kind[ev.kind & 7]++;
            dispatch(w, &ev);
        }
        if (fn != NULL && every > 0 && w->events >= next_report) {
            next_report = w->events + every;
            sim_progress pr = {w->now, w->events, w->present, w->leechers, w->completed, w->joined};
            fn(ctx, &pr);
        }
    }
    if (w->err == 0 && !finished(w) && w->now < w->cfg.duration)
        w->now = w->cfg.duration;
    if (w->err == 0 && (w->nsamples == 0 || w->samples[w->nsamples - 1].t < w->now))
        sample(w, true); /* the state at the end */
    return w->err;
}

uint32_t sim_world_npeers(const sim_world *w) { return w->npeers; }
const sim_peer_result *sim_world_peer(const sim_world *w, uint32_t i) { return &w->peers[i].r; }
uint32_t sim_world_nsamples(const sim_world *w) { return w->nsamples; }
const sim_sample *sim_world_sample(const sim_world *w, uint32_t i) { return &w->samples[i]; }
const sim_world_config *sim_world_config_get(const sim_world *w) { return &w->cfg; }

void sim_world_get_stats(const sim_world *w, sim_world_stats *out)
{
    out->end_time = w->now;
    out->events = w->events;
    out->net_chunks = sim_net_chunks(w->net);
    out->announces = w->announces;
    out->tracker_replies = w->tracker_replies;
    out->tracker_peers_sent = w->tracker_peers_sent;
    out->tracker_local_sent = w->tracker_local_sent;
    out->tracker_max_list = w->tracker_max_list;
    out->peers = w->npeers;
    out->weight_changes = w->weight_changes;
    memcpy(out->by_kind, w->ev_by_kind, sizeof(out->by_kind));
}
