/* bt_client.c: the client's lifecycle and host-facing entry points: configuration, the action
 * queue, the connection table (sorted by id), transport events, timers and statistics.
 * Never does I/O and never calls back into the host. */
#include "bt_client_int.h"
#include "bt_mem.h"
#include "bt_metadata.h"

#include <assert.h>
#include <string.h>

void bt_config_defaults(bt_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->client_name = "swarmlab";
    cfg->random_first = 4;
    cfg->upload_slots = 4;
    cfg->max_conns = 80;
    cfg->max_initiated = 40;
    cfg->min_peers = 20;
    cfg->max_known_peers = 2000;
    cfg->numwant = 50;
    cfg->fast_ext = true;
    cfg->ext_protocol = true;
    cfg->max_requests_in = 250;
    cfg->max_requests_out = 128;
    cfg->ban_strikes = 2;
    cfg->tick = BT_SEC(1);
    cfg->rechoke_interval = BT_SEC(10);
    cfg->optimistic_rounds = 3;
    cfg->snub_time = BT_SEC(30);
    cfg->keepalive_interval = BT_SEC(120);
    cfg->idle_timeout = BT_SEC(300);
    cfg->handshake_timeout = BT_SEC(30);
    cfg->request_timeout = BT_SEC(60);
    cfg->reannounce_min = BT_SEC(300);
    cfg->rate_bucket = BT_SEC(1);
}

void bt_config_large_view(bt_config *cfg)
{
    cfg->numwant = BT_LARGE_VIEW_PEERS;
    cfg->max_conns = BT_LARGE_VIEW_PEERS;
    cfg->max_initiated = BT_LARGE_VIEW_PEERS;
    cfg->min_peers = BT_LARGE_VIEW_PEERS;
    cfg->reannounce_min = BT_SEC(60);
}

void bt_peer_id_make(uint8_t out[20], bt_pcg32 *rng)
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    memcpy(out, BT_PEER_ID_PREFIX, 8);
    for (int i = 8; i < 20; i++)
        out[i] = (uint8_t)alphabet[bt_pcg32_below(rng, sizeof(alphabet) - 1)];
}

const char *bt_close_reason_name(int reason)
{
    static const char *const names[BT_CLOSE_REASON_COUNT] = {
        "none",     "protocol", "limit",  "handshake",  "self",
        "duplicate", "timeout", "banned", "both-seeds", "shutdown",
    };
    if (reason < 0 || reason >= BT_CLOSE_REASON_COUNT)
        return "unknown";
    return names[reason];
}

static int check_config(const bt_config *cfg)
{
    if (cfg->npieces == 0 || cfg->piece_len == 0 || cfg->piece_hashes == NULL)
        return BT_ERR_INVALID;
    uint64_t full = (uint64_t)(cfg->npieces - 1) * cfg->piece_len;
    if (cfg->total_len <= full || cfg->total_len > full + cfg->piece_len)
        return BT_ERR_INVALID;
    if (cfg->max_conns == 0 || cfg->max_requests_in == 0 || cfg->max_requests_out == 0 ||
        cfg->tick == 0 || cfg->rechoke_interval == 0 || cfg->rate_bucket == 0 ||
        cfg->optimistic_rounds == 0 || cfg->lie_have_ppm > BT_PPM)
        return BT_ERR_INVALID;
    if (cfg->info_dict != NULL && (cfg->info_len == 0 || cfg->info_len > BT_METADATA_MAX_SIZE))
        return BT_ERR_INVALID;
    return 0;
}

/* BEP 47: a piece that lies wholly in padding is had from the start when its hash is the
 * SHA-1 of zeros (nothing to fetch; the host's storage serves the zeros). */
static int have_pad_pieces(bt_client *c)
{
    uint8_t *zeros = NULL;
    for (uint32_t i = 0; i < c->cfg.npieces; i++) {
        uint32_t size = bt_picker_piece_size(c->picker, i);
        if (bt_picker_have(c->picker, i) ||
            !bt_picker_in_pad(c->picker, (uint64_t)i * c->cfg.piece_len, size))
            continue;
        if (zeros == NULL && (zeros = bt_calloc(c->mem, 1, c->cfg.piece_len)) == NULL)
            return BT_ERR_NOMEM;
        uint8_t d[20];
        bt_sha1(zeros, size, d);
        if (memcmp(d, c->piece_hashes + (size_t)i * 20, 20) == 0)
            bt_picker_set_have(c->picker, i);
    }
    if (zeros != NULL)
        bt_free(c->mem, zeros);
    return 0;
}

static int make_picker(bt_client *c)
{
    bt_picker_config pc;
    memset(&pc, 0, sizeof(pc));
    pc.npieces = c->cfg.npieces;
    pc.piece_len = c->cfg.piece_len;
    pc.total_len = c->cfg.total_len;
    pc.block_len = BT_BLOCK_LEN;
    pc.random_first = c->cfg.random_first;
    pc.endgame_dups = 2;
    int rv = bt_pick_strategy_parse(c->cfg.picker ? c->cfg.picker : "rarest-first", &pc.strategy);
    if (rv != 0)
        return BT_ERR_INVALID;
    pc.pad = c->cfg.pad;
    pc.npad = c->cfg.pad != NULL ? c->cfg.npad : 0;
    rv = bt_picker_new(&c->picker, &pc, &c->rng, c->mem);
    if (rv != 0)
        return rv;
    for (uint32_t i = 0; i < c->cfg.npieces; i++)
        if (c->cfg.seed || (c->cfg.have != NULL && (c->cfg.have[i >> 3] >> (7 - (i & 7))) & 1))
            bt_picker_set_have(c->picker, i);
    c->cfg.have = NULL; /* borrowed for bt_client_new only */
    c->cfg.pad = NULL;
    c->cfg.npad = pc.npad;
    return pc.npad > 0 ? have_pad_pieces(c) : 0;
}

/* Lying-have: what we advertise is what we have plus round(ppm * lacking / 10^6) of the
 * pieces we lack, drawn uniformly (selection sampling, Knuth's algorithm S). */
static int make_lie(bt_client *c)
{
    c->lying = c->cfg.lie_have_ppm > 0;
    if (!c->lying)
        return 0;
    if (bt_bitfield_init(&c->claimed, c->cfg.npieces, c->mem) != 0)
        return BT_ERR_NOMEM;
    const bt_bitfield *have = bt_picker_have_bits(c->picker);
    uint32_t lacking = have->nbits - have->count;
    uint32_t want = (uint32_t)(((uint64_t)lacking * c->cfg.lie_have_ppm + BT_PPM / 2) / BT_PPM);
    for (uint32_t i = 0; i < c->cfg.npieces; i++) {
        if (bt_bitfield_get(have, i)) {
            bt_bitfield_set(&c->claimed, i);
            continue;
        }
        if (want > 0 && bt_pcg32_below(&c->rng, lacking) < want) {
            bt_bitfield_set(&c->claimed, i);
            want--;
        }
        lacking--;
    }
    return 0;
}

int bt_client_new(bt_client **pc, const bt_config *cfg, uint64_t seed, const bt_mem *mem)
{
    if (mem == NULL)
        mem = bt_mem_default();
    int rv = check_config(cfg);
    if (rv != 0)
        return rv;
    bt_client *c = bt_calloc(mem, 1, sizeof(*c));
    if (c == NULL)
        return BT_ERR_NOMEM;
    c->cfg = *cfg;
    c->mem = mem;
    bt_pcg32_seed(&c->rng, seed, 0x5357524dull);
    c->key = bt_pcg32_next(&c->rng);
    c->choker = cfg->choker ? cfg->choker : &bt_choker_reference;
    c->slots = cfg->upload_slots ? cfg->upload_slots : bt_choker_auto_slots(cfg->upload_limit);
    c->piece_hashes = bt_malloc(mem, (size_t)cfg->npieces * 20);
    c->client_name = bt_strdup(mem, cfg->client_name ? cfg->client_name : "swarmlab");
    rv = BT_ERR_NOMEM;
    if (c->piece_hashes == NULL || c->client_name == NULL)
        goto fail;
    memcpy(c->piece_hashes, cfg->piece_hashes, (size_t)cfg->npieces * 20);
    if (cfg->info_dict != NULL && (c->info_dict = bt_malloc(mem, cfg->info_len)) == NULL)
        goto fail;
    if (c->info_dict != NULL)
        memcpy(c->info_dict, cfg->info_dict, cfg->info_len);
    c->info_len = cfg->info_len;
    c->cfg.info_dict = c->info_dict;
    c->cfg.piece_hashes = c->piece_hashes;
    c->cfg.client_name = c->client_name;
    if ((rv = make_picker(c)) != 0 || (rv = make_lie(c)) != 0)
        goto fail;
    if ((rv = c->choker->init(&c->choker_state, mem)) != 0)
        goto fail;
    c->next_tick = c->next_rechoke = c->next_announce = BT_TIME_NEVER;
    c->extra_rechoke_at = BT_TIME_NEVER;
    c->next_serve = BT_TIME_NEVER;
    c->stats.completed_at = BT_TIME_NEVER;
    c->stats.complete = bt_picker_complete(c->picker);
    *pc = c;
    return 0;
fail:
    bt_client_del(c);
    return rv;
}

void bt_client_del(bt_client *c)
{
    if (c == NULL)
        return;
    const bt_mem *m = c->mem;
    for (uint32_t i = 0; i < c->nconns; i++)
        bt_conn_free(c, c->conns[i]);
    if (c->choker_state != NULL)
        c->choker->del(c->choker_state, m);
    for (uint32_t i = 0; i < c->actions.count; i++) {
        bt_action *a = &c->actions.a[(c->actions.head + i) % c->actions.cap];
        if (a->type == BT_ACT_STORAGE_WRITE && a->data != NULL && !a->borrowed)
            bt_free(m, (void *)a->data);
    }
    if (c->lent != NULL)
        bt_free(m, c->lent);
    bt_picker_del(c->picker);
    bt_ext_client_free(c);
    bt_client_suspects_free(c);
    bt_bitfield_free(&c->claimed, m);
    void *owned[] = {c->conns, c->conn_ids, c->peers, c->actions.a, c->choke_peers,
                     c->choke_out, c->choke_weight, c->piece_hashes, c->client_name,
                     c->info_dict};
    for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
        if (owned[i] != NULL)
            bt_free(m, owned[i]);
    bt_free(m, c);
}

int bt_client_fail(bt_client *c, int err)
{
    if (err <= BT_ERR_FATAL && c->poisoned == 0)
        c->poisoned = err;
    return err;
}

/* ---- action queue ---- */

int bt_client_push_action(bt_client *c, const bt_action *a)
{
    bt_actq *q = &c->actions;
    if (q->count == q->cap) {
        uint32_t ncap = q->cap ? q->cap * 2 : 64;
        bt_action *n = bt_malloc(c->mem, ncap * sizeof(*n));
        if (n == NULL)
            return bt_client_fail(c, BT_ERR_NOMEM);
        for (uint32_t i = 0; i < q->count; i++)
            n[i] = q->a[(q->head + i) & (q->cap - 1)];
        if (q->a != NULL)
            bt_free(c->mem, q->a);
        q->a = n;
        q->cap = ncap;
        q->head = 0;
    }
    q->a[(q->head + q->count++) & (q->cap - 1)] = *a; /* cap: a power of two */
    return 0;
}

int bt_client_poll_action(bt_client *c, bt_action *out)
{
    bt_actq *q = &c->actions;
    if (q->count == 0)
        return 0;
    *out = q->a[q->head];
    q->head = (q->head + 1) & (q->cap - 1);
    if (--q->count == 0)
        q->head = 0; /* an emptied queue refills from its first (warm) slots */
    /* A STORAGE_WRITE's block stays valid until the next call on the client. */
    if (c->lent != NULL)
        bt_free(c->mem, c->lent);
    c->lent = out->type == BT_ACT_STORAGE_WRITE && !out->borrowed ? (uint8_t *)out->data : NULL;
    return 1;
}

const bt_action *bt_client_peek_action(const bt_client *c, uint32_t k)
{
    const bt_actq *q = &c->actions;
    return k < q->count ? &q->a[(q->head + k) & (q->cap - 1)] : NULL;
}

/* Start of every entry point: release the block the host was lent. */
void bt_client_enter(bt_client *c)
{
    if (c->lent != NULL)
        bt_free(c->mem, c->lent);
    c->lent = NULL;
}

/* End of every entry point: free dead connections, run a pending rechoke. */
int bt_client_leave(bt_client *c, bt_time_us now)
{
    /* Extra rechokes (joins, leaves, interest changes) at most once a second; one that is
     * held back runs at the next tick. */
    if (c->rechoke_soon && c->poisoned == 0 &&
        (c->rechoke_urgent || c->extra_rechoke_at == BT_TIME_NEVER ||
         now >= c->extra_rechoke_at + BT_SEC(1))) {
        c->rechoke_soon = c->rechoke_urgent = false;
        c->extra_rechoke_at = now;
        bt_client_rechoke(c, now, false);
    }
    if (c->ndead == 0)
        return c->poisoned;
    c->ndead = 0;
    uint32_t j = 0;
    for (uint32_t i = 0; i < c->nconns; i++) {
        if (c->conns[i]->state == BT_CS_DEAD) {
            bt_conn_free(c, c->conns[i]);
        } else {
            c->conn_ids[j] = c->conn_ids[i];
            c->conns[j++] = c->conns[i];
        }
    }
    c->nconns = j;
    return c->poisoned;
}

/* ---- connection table ---- */

bt_conn *bt_client_find_conn(const bt_client *c, bt_conn_id id)
{
    bt_conn *hit = c->found[id & (BT_FIND_CACHE - 1)];
    if (hit != NULL)
        bt_conn_prefetch(hit);
    if (hit != NULL && hit->id == id)
        return hit->state != BT_CS_DEAD ? hit : NULL;
    uint32_t lo = 0, hi = c->nconns;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->conn_ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->nconns && c->conn_ids[lo] == id && c->conns[lo]->state != BT_CS_DEAD) {
        /* a cache, not observable state; bt_conn_free clears its entry */
        ((bt_client *)c)->found[id & (BT_FIND_CACHE - 1)] = c->conns[lo];
        return c->conns[lo];
    }
    return NULL;
}

void bt_conn_prefetch_id(const bt_client *c, bt_conn_id id)
{
    /* the client's fields every entry point reads or writes */
    __builtin_prefetch(&c->poisoned);
    __builtin_prefetch(&c->nconns);
    __builtin_prefetch(&c->actions, 1);
    __builtin_prefetch(&c->next_tick);
    __builtin_prefetch(&c->stats, 1);
    const bt_conn *hit = c->found[id & (BT_FIND_CACHE - 1)];
    if (hit != NULL)
        bt_conn_prefetch(hit);
}

int bt_conn_connected(bt_client *c, bt_conn_id id, bt_time_us now)
{
    bt_client_enter(c);
    bt_conn *cn = bt_client_find_conn(c, id);
    if (cn == NULL)
        return BT_ERR_NOTFOUND;
    if (cn->state != BT_CS_CONNECTING)
        return BT_ERR_STATE;
    cn->state = BT_CS_HANDSHAKE;
    cn->connected_at = cn->last_recv = now;
    int rv = bt_conn_send_handshake(c, cn);
    if (rv != 0)
        bt_client_fail(c, rv);
    return bt_client_leave(c, now);
}

void bt_conn_closed(bt_client *c, bt_conn_id id, bt_time_us now)
{
    bt_client_enter(c);
    bt_conn *cn = bt_client_find_conn(c, id);
    if (cn == NULL)
        return;
    bt_peer *p = &c->peers[cn->peer];
    if ((cn->state == BT_CS_CONNECTING || cn->state == BT_CS_HANDSHAKE) &&
        p->state == BT_PS_CONNECTED) {
        /* Refused or unreachable: retry later, backing off linearly to at most 5 min (a full
         * peer, e.g. the only seed of a flash crowd, frees slots as its leechers finish). */
        p->fails++;
        p->state = BT_PS_FAILED;
        uint32_t steps = p->fails < 10 ? p->fails : 10;
        p->retry_at = now + BT_SEC(30) * steps;
    }
    bt_client_close_conn(c, cn, BT_CLOSE_NONE, NULL, now);
    bt_client_connect_more(c, now);
    bt_client_leave(c, now);
}

static bt_ssize recv_common(bt_client *c, bt_conn_id id, const uint8_t *in, size_t len,
                            bool virt, bool borrow, bt_time_us now)
{
    bt_client_enter(c);
    if (c->poisoned)
        return c->poisoned;
    bt_conn *cn = bt_client_find_conn(c, id);
    if (cn == NULL)
        return BT_ERR_NOTFOUND;
    if (cn->state == BT_CS_CONNECTING)
        return BT_ERR_STATE;
    c->borrow_in = borrow;
    int rv = bt_conn_handle_recv(c, cn, in, len, virt, now);
    c->borrow_in = false;
    if (rv != 0)
        bt_client_fail(c, rv);
    rv = bt_client_leave(c, now);
    return rv != 0 ? rv : (bt_ssize)len;
}

bt_ssize bt_conn_recv(bt_client *c, bt_conn_id id, const uint8_t *in, size_t len, bt_time_us now)
{
    return recv_common(c, id, in, len, false, false, now);
}

bt_ssize bt_conn_recv_borrow(bt_client *c, bt_conn_id id, const uint8_t *in, size_t len,
                             bt_time_us now)
{
    return recv_common(c, id, in, len, false, true, now);
}

bt_ssize bt_conn_recv_virtual(bt_client *c, bt_conn_id id, size_t n, bt_time_us now)
{
    return recv_common(c, id, NULL, n, true, false, now);
}

bt_ssize bt_conn_pull_send(bt_client *c, bt_conn_id id, const bt_seg **segs, bt_time_us now)
{
    (void)now;
    bt_client_enter(c);
    bt_conn *cn = bt_client_find_conn(c, id);
    if (cn == NULL)
        return BT_ERR_NOTFOUND;
    cn->send_signalled = false;
    *segs = c->segs;
    /* Cache hint: bt_conn_sent will refill the queue at its tail. */
    const bt_outq *q = &cn->out;
    __builtin_prefetch(&q->items[(q->head + q->count) & (q->cap - 1)], 1);
    __builtin_prefetch(q->bytes.data + q->bytes.len, 1);
    return (bt_ssize)bt_outq_segs(q, c->segs);
}

void bt_conn_sent(bt_client *c, bt_conn_id id, size_t nbytes, bt_time_us now)
{
    bt_client_enter(c);
    bt_conn *cn = bt_client_find_conn(c, id);
    if (cn == NULL || nbytes == 0)
        return;
    assert(nbytes <= cn->out.total_queued);
    uint64_t payload = bt_outq_consume(&cn->out, nbytes);
    cn->last_send = now;
    if (payload > 0) {
        bt_rate_add(&cn->up, payload, now);
        cn->up_total += payload;
        c->stats.uploaded += payload;
    }
    int rv = bt_conn_fill_uploads(c, cn, now);
    if (rv != 0)
        bt_client_fail(c, rv);
    bt_client_leave(c, now);
}

/* ---- timers ---- */

bt_time_us bt_client_next_deadline(const bt_client *c)
{
    if (!c->started || c->stopped)
        return BT_TIME_NEVER;
    bt_time_us d = c->next_tick;
    if (c->next_rechoke < d)
        d = c->next_rechoke;
    if (c->next_announce < d)
        d = c->next_announce;
    if (c->next_serve < d)
        d = c->next_serve;
    return d;
}

static void maybe_announce(bt_client *c, bt_time_us now)
{
    /* Short of peers: count only handshaked connections (attempts to peers that have left
     * the swarm must not hide that we need a fresh list). */
    uint32_t active = 0;
    for (uint32_t i = 0; i < c->nconns; i++)
        active += c->conns[i]->state == BT_CS_ACTIVE;
    bt_time_us wait = c->cfg.reannounce_min > c->announce_min_iv ? c->cfg.reannounce_min
                                                                 : c->announce_min_iv;
    bool short_of_peers = active < c->cfg.min_peers &&
                          (c->last_announce == BT_TIME_NEVER || now >= c->last_announce + wait);
    if (now >= c->next_announce || short_of_peers)
        bt_client_announce(c, BT_EVENT_NONE, now);
}

int bt_client_on_timer(bt_client *c, bt_time_us now)
{
    bt_client_enter(c);
    if (c->poisoned || !c->started || c->stopped)
        return c->poisoned;
    if (now >= c->next_tick) {
        for (uint32_t i = 0; i < c->nconns; i++) {
            bt_conn *cn = c->conns[i];
            bt_conn_prefetch_ahead(c, i);
            if (cn->state == BT_CS_DEAD)
                continue;
            int rv = bt_conn_tick(c, cn, now);
            if (rv != 0)
                bt_client_fail(c, rv);
        }
        c->next_tick = now + c->cfg.tick;
        int rv = bt_ext_tick(c, now);
        if (rv != 0)
            bt_client_fail(c, rv);
        bt_client_connect_more(c, now);
    }
    if (now >= c->next_rechoke) {
        c->rechoke_soon = c->rechoke_urgent = false; /* the periodic round covers it */
        bt_client_rechoke(c, now, true);
        c->next_rechoke = now + c->cfg.rechoke_interval;
    }
    if (now >= c->next_serve)
        bt_conn_serve_due(c, now);
    maybe_announce(c, now);
    return bt_client_leave(c, now);
}

int bt_client_start(bt_client *c, bt_time_us now)
{
    bt_client_enter(c);
    if (c->started)
        return BT_ERR_STATE;
    c->started = true;
    c->next_tick = now + c->cfg.tick;
    c->next_rechoke = now + c->cfg.rechoke_interval;
    c->last_announce = BT_TIME_NEVER;
    c->announce_backoff = BT_SEC(60);
    bt_client_announce(c, BT_EVENT_STARTED, now);
    return bt_client_leave(c, now);
}

int bt_client_stop(bt_client *c, bt_time_us now)
{
    bt_client_enter(c);
    if (!c->started || c->stopped)
        return BT_ERR_STATE;
    for (uint32_t i = 0; i < c->nconns; i++)
        if (c->conns[i]->state != BT_CS_DEAD)
            bt_client_close_conn(c, c->conns[i], BT_CLOSE_SHUTDOWN, NULL, now);
    bt_client_announce(c, BT_EVENT_STOPPED, now);
    c->stopped = true;
    return bt_client_leave(c, now);
}

/* ---- statistics ---- */

void bt_client_get_stats(const bt_client *c, bt_client_stats *out)
{
    *out = c->stats;
    out->pieces_have = bt_picker_have_bits(c->picker)->count;
    out->pad_blocks = bt_picker_pad_blocks(c->picker);
    out->pieces_claimed = c->lying ? c->claimed.count - out->pieces_have : 0;
    out->complete = bt_picker_complete(c->picker);
    out->nconns = out->nconns_active = 0;
    for (uint32_t i = 0; i < c->nconns; i++) {
        if (c->conns[i]->state == BT_CS_DEAD)
            continue;
        out->nconns++;
        out->nconns_active += c->conns[i]->state == BT_CS_ACTIVE;
    }
    out->nknown = c->npeers;
}

int bt_conn_get_info(const bt_client *c, bt_conn_id id, bt_conn_info *out)
{
    const bt_conn *cn = bt_client_find_conn(c, id);
    if (cn == NULL)
        return BT_ERR_NOTFOUND;
    memset(out, 0, sizeof(*out));
    out->addr = c->peers[cn->peer].addr;
    memcpy(out->peer_id, cn->peer_id, 20);
    out->handshaked = cn->state == BT_CS_ACTIVE;
    out->initiated = cn->initiated;
    out->am_choking = cn->am_choking;
    out->am_interested = cn->am_interested;
    out->peer_choking = cn->peer_choking;
    out->peer_interested = cn->peer_interested;
    out->fast = cn->fast;
    out->extended = cn->extended;
    out->snubbed = cn->snubbed;
    out->is_seed = cn->have.nbits > 0 && bt_bitfield_full(&cn->have);
    out->peer_pieces = cn->have.count;
    out->requests_out = cn->nreqs_out;
    out->requests_in = cn->nreqs_in;
    out->down_total = cn->down_total;
    out->up_total = cn->up_total;
    out->unchoke_kind = cn->unchoke_kind;
    out->upload_weight = cn->upload_weight;
    return 0;
}

int bt_conn_unchoke_time(const bt_client *c, bt_conn_id id, bt_time_us now,
                         uint64_t *regular_us, uint64_t *optimistic_us)
{
    const bt_conn *cn = bt_client_find_conn(c, id);
    if (cn == NULL)
        return BT_ERR_NOTFOUND;
    uint64_t t[2] = {cn->unchoke_us[0], cn->unchoke_us[1]};
    if (cn->unchoke_kind != BT_UNCHOKE_NONE && now > cn->unchoke_since)
        t[cn->unchoke_kind == BT_UNCHOKE_OPTIMISTIC] += now - cn->unchoke_since;
    *regular_us = t[0];
    *optimistic_us = t[1];
    return 0;
}
