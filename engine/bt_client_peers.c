/* bt_client_peers.c: the peer set: known addresses (candidates, connected, failed, banned),
 * accepting and opening connections within the limits, closing them, tracker scheduling
 * (announce actions, replies, re-announce when short of peers) and piece verification
 * results (banning itself is in bt_client_ban.c). */
#include "bt_client_int.h"
#include "bt_mem.h"

#include <string.h>

#define ANNOUNCE_DEFAULT_INTERVAL BT_SEC(1800)
#define ANNOUNCE_MIN_INTERVAL BT_SEC(60)
#define ANNOUNCE_MAX_BACKOFF BT_SEC(1800)

static uint32_t find_peer(const bt_client *c, const bt_addr *a)
{
    for (uint32_t i = 0; i < c->npeers; i++)
        if (bt_addr_equal(&c->peers[i].addr, a))
            return i;
    return UINT32_MAX;
}

/* Adds |a| to the peer records (or finds it). Returns its index, UINT32_MAX when the table is
 * full, or sets *err on allocation failure. */
static uint32_t add_peer(bt_client *c, const bt_addr *a, uint8_t state, int *err)
{
    uint32_t i = find_peer(c, a);
    if (i != UINT32_MAX)
        return i;
    if (c->npeers >= c->cfg.max_known_peers + c->cfg.max_conns)
        return UINT32_MAX;
    if (c->npeers == c->peers_cap) {
        uint32_t ncap = c->peers_cap ? c->peers_cap * 2 : 64;
        bt_peer *n = bt_realloc(c->mem, c->peers, ncap * sizeof(*n));
        if (n == NULL) {
            *err = BT_ERR_NOMEM;
            return UINT32_MAX;
        }
        c->peers = n;
        c->peers_cap = ncap;
    }
    bt_peer *p = &c->peers[c->npeers];
    memset(p, 0, sizeof(*p));
    p->addr = *a;
    p->state = state;
    return c->npeers++;
}

static uint32_t live_conns(const bt_client *c) { return c->nconns - c->ndead; }

static int insert_conn(bt_client *c, bt_conn *cn)
{
    if (c->nconns == c->conns_cap) {
        uint32_t ncap = c->conns_cap ? c->conns_cap * 2 : 16;
        bt_conn **n = bt_realloc(c->mem, c->conns, ncap * sizeof(*n));
        if (n == NULL)
            return BT_ERR_NOMEM;
        c->conns = n;
        bt_conn_id *ids = bt_realloc(c->mem, c->conn_ids, ncap * sizeof(*ids));
        if (ids == NULL)
            return BT_ERR_NOMEM;
        c->conn_ids = ids;
        c->conns_cap = ncap;
    }
    c->conn_ids[c->nconns] = cn->id;
    c->conns[c->nconns++] = cn; /* ids only grow, so the table stays sorted */
    return 0;
}

static int open_conn(bt_client *c, uint32_t peer, bool initiated, bt_time_us now,
                     bt_conn **out)
{
    bt_conn *cn = NULL;
    int rv = bt_conn_new(c, peer, initiated, now, &cn);
    if (rv != 0)
        return rv;
    if ((rv = insert_conn(c, cn)) != 0 ||
        (rv = c->choker->peer_added(c->choker_state, cn->id, &c->rng, c->mem)) != 0) {
        if (c->nconns > 0 && c->conns[c->nconns - 1] == cn)
            c->nconns--;
        bt_conn_free(c, cn);
        return rv;
    }
    c->peers[peer].state = BT_PS_CONNECTED;
    if (initiated)
        c->ninitiated++;
    *out = cn;
    return 0;
}

static int accept_conn(bt_client *c, const bt_addr *from, bt_conn_id *id, bt_time_us now)
{
    if (c->poisoned)
        return c->poisoned;
    if (bt_client_ip_banned(c, from))
        return BT_ERR_REFUSED;
    uint32_t i = find_peer(c, from);
    if (!c->started || c->stopped || live_conns(c) >= c->cfg.max_conns)
        return BT_ERR_REFUSED;
    int err = 0;
    if (i == UINT32_MAX)
        i = add_peer(c, from, BT_PS_INCOMING, &err);
    if (err != 0)
        return bt_client_fail(c, err);
    if (i == UINT32_MAX)
        return BT_ERR_REFUSED;
    if (c->peers[i].state == BT_PS_CONNECTED)
        return BT_ERR_EXISTS;
    bt_conn *cn;
    int rv = open_conn(c, i, false, now, &cn);
    if (rv != 0)
        return bt_client_fail(c, rv);
    cn->state = BT_CS_HANDSHAKE;
    cn->connected_at = cn->last_recv = now;
    *id = cn->id;
    return 0;
}

static int dial(bt_client *c, uint32_t i, bt_time_us now)
{
    bt_conn *cn;
    int rv = open_conn(c, i, true, now, &cn);
    if (rv != 0)
        return bt_client_fail(c, rv);
    bt_action a = {.type = BT_ACT_CONNECT, .conn = cn->id, .addr = c->peers[i].addr};
    return bt_client_push_action(c, &a);
}

/* Dials candidates up to the limits. Addresses never tried come first, then those whose retry
 * time has come; both searches start at a rotating cursor, so a long run of unreachable
 * addresses (peers that left) cannot starve the rest of the list. */
int bt_client_connect_more(bt_client *c, bt_time_us now)
{
    if (!c->started || c->stopped || c->poisoned)
        return 0;
    if (bt_picker_complete(c->picker))
        return 0; /* a seed waits for leechers to come to it */
    uint32_t live = live_conns(c);
    for (int pass = 0; pass < 2; pass++) {
        uint32_t base = c->connect_cursor; /* this pass walks from here, whatever it dials */
        for (uint32_t k = 0; k < c->npeers; k++) {
            if (live >= c->cfg.max_conns || c->ninitiated >= c->cfg.max_initiated)
                return 0;
            uint32_t i = (base + k) % c->npeers;
            bt_peer *p = &c->peers[i];
            bool fresh = p->state == BT_PS_CANDIDATE && p->fails == 0;
            bool due = (p->state == BT_PS_CANDIDATE && p->fails > 0) ||
                       (p->state == BT_PS_FAILED && now >= p->retry_at);
            if (pass == 0 ? !fresh : !due)
                continue;
            int rv = dial(c, i, now);
            if (rv != 0)
                return rv;
            live++;
            c->connect_cursor = i + 1;
        }
    }
    return 0;
}

static int add_peers(bt_client *c, const bt_addr *peers, size_t n, bt_time_us now)
{
    for (size_t i = 0; i < n; i++) {
        if (peers[i].port == 0 || (peers[i].family != 4 && peers[i].family != 6) ||
            bt_client_ip_banned(c, &peers[i]))
            continue;
        int err = 0;
        uint32_t idx = add_peer(c, &peers[i], BT_PS_CANDIDATE, &err);
        if (err != 0)
            return bt_client_fail(c, err);
        if (idx == UINT32_MAX)
            break;
        if (c->peers[idx].state == BT_PS_INCOMING)
            c->peers[idx].state = BT_PS_CANDIDATE;
    }
    return bt_client_connect_more(c, now);
}

void bt_client_close_conn(bt_client *c, bt_conn *cn, bt_close_reason why, const char *detail,
                          bt_time_us now)
{
    if (cn->state == BT_CS_DEAD)
        return;
    bt_client_unchoke_account(cn, BT_UNCHOKE_NONE, now);
    bool was_active = cn->state == BT_CS_ACTIVE;
    bt_conn_release_requests(c, cn, false);
    if (cn->counted_seed)
        bt_picker_dec_seed(c->picker);
    else if (cn->counted_bits)
        bt_picker_dec_bitfield(c->picker, &cn->have);
    cn->counted_seed = cn->counted_bits = false;
    c->choker->peer_removed(c->choker_state, cn->id);
    bt_peer *p = &c->peers[cn->peer];
    if (p->state == BT_PS_CONNECTED)
        p->state = cn->initiated ? BT_PS_FAILED : BT_PS_INCOMING;
    if (p->state == BT_PS_FAILED && p->retry_at < now + BT_SEC(60))
        p->retry_at = now + BT_SEC(60);
    if (cn->initiated)
        c->ninitiated--;
    cn->state = BT_CS_DEAD;
    c->ndead++;
    c->stats.closes[why]++;
    if (was_active && !cn->am_choking)
        c->rechoke_soon = true;
    if (why != BT_CLOSE_NONE) {
        bt_action a = {.type = BT_ACT_CLOSE, .conn = cn->id, .reason = (uint8_t)why,
                       .detail = detail, .addr = p->addr,
                       .unchoked_regular_us = cn->unchoke_us[0],
                       .unchoked_optimistic_us = cn->unchoke_us[1],
                       .up_total = cn->up_total, .down_total = cn->down_total};
        bt_client_push_action(c, &a);
    }
}

/* ---- tracker ---- */

static int announce_error(bt_client *c, bt_time_us now);

int bt_client_announce(bt_client *c, bt_announce_event ev, bt_time_us now)
{
    bt_action a;
    memset(&a, 0, sizeof(a));
    a.type = BT_ACT_ANNOUNCE;
    memcpy(a.announce.info_hash, c->cfg.info_hash, 20);
    memcpy(a.announce.peer_id, c->cfg.peer_id, 20);
    a.announce.port = c->cfg.listen_port;
    a.announce.uploaded = c->stats.uploaded;
    a.announce.downloaded = c->stats.downloaded;
    a.announce.left = bt_picker_bytes_left(c->picker);
    a.announce.event = ev;
    a.announce.numwant = ev == BT_EVENT_STOPPED ? 0 : (int32_t)c->cfg.numwant;
    a.announce.key = c->key;
    c->last_announce = now;
    /* Until the reply comes, assume the default interval (a lost reply must not stall us). */
    c->next_announce = now + ANNOUNCE_DEFAULT_INTERVAL;
    return bt_client_push_action(c, &a);
}

static int on_announce(bt_client *c, const bt_announce_reply *r, bt_time_us now)
{
    if (r->failure != NULL)
        return announce_error(c, now);
    bt_time_us iv = r->interval > 0 ? BT_SEC(r->interval) : ANNOUNCE_DEFAULT_INTERVAL;
    if (r->min_interval > 0 && BT_SEC(r->min_interval) > iv)
        iv = BT_SEC(r->min_interval);
    if (iv < ANNOUNCE_MIN_INTERVAL)
        iv = ANNOUNCE_MIN_INTERVAL;
    c->next_announce = now + iv;
    /* Early re-announces (short of peers) wait at least the tracker's min interval. */
    int64_t mi = r->min_interval < 86400 ? r->min_interval : 86400;
    c->announce_min_iv = mi > 0 ? BT_SEC(mi) : 0;
    c->announce_backoff = BT_SEC(60);
    return add_peers(c, r->peers, r->npeers, now);
}

static int announce_error(bt_client *c, bt_time_us now)
{
    c->next_announce = now + c->announce_backoff;
    c->announce_backoff *= 2;
    if (c->announce_backoff > ANNOUNCE_MAX_BACKOFF)
        c->announce_backoff = ANNOUNCE_MAX_BACKOFF;
    return 0;
}

/* ---- verification ---- */

static void on_complete(bt_client *c, bt_time_us now)
{
    c->stats.complete = true;
    c->stats.completed_at = now;
    bt_action a = {.type = BT_ACT_COMPLETE, .conn = BT_CONN_NONE};
    bt_client_push_action(c, &a);
    bt_client_announce(c, BT_EVENT_COMPLETED, now);
    for (uint32_t i = 0; i < c->nconns; i++) {
        bt_conn *cn = c->conns[i];
        if (cn->state == BT_CS_ACTIVE && bt_bitfield_full(&cn->have))
            bt_client_close_conn(c, cn, BT_CLOSE_BOTH_SEEDS, NULL, now);
    }
    c->rechoke_soon = true; /* switch to the seed choker now */
}

static int verify_result(bt_client *c, uint32_t piece, const uint8_t digest[20],
                         const uint8_t *data, bt_time_us now)
{
    if (c->poisoned)
        return c->poisoned;
    if (piece >= c->cfg.npieces || bt_picker_have(c->picker, piece))
        return BT_ERR_STATE;
    bool ok = memcmp(digest, c->piece_hashes + (size_t)piece * 20, 20) == 0;
    if (!ok) {
        c->stats.hash_failures++;
        c->stats.corrupt += bt_picker_piece_size(c->picker, piece);
    }
    bt_client_blame(c, piece, ok, data, now); /* before the picker forgets the sources */
    bt_picker_verified(c->picker, piece, ok);
    bt_action a = {.type = BT_ACT_PIECE_DONE, .conn = BT_CONN_NONE, .piece = piece, .ok = ok};
    int rv = bt_client_push_action(c, &a);
    if (rv != 0)
        return rv;
    if (ok) {
        c->stats.pieces_verified++;
        if ((rv = bt_conn_on_have(c, piece)) != 0)
            return bt_client_fail(c, rv);
        if (bt_picker_complete(c->picker))
            on_complete(c, now);
    }
    /* A reset piece's blocks can be requested again, from anyone. */
    for (uint32_t i = 0; !ok && i < c->nconns; i++)
        if (c->conns[i]->state == BT_CS_ACTIVE)
            bt_conn_fill_requests(c, c->conns[i], now);
    return 0;
}

/* ---- entry points ---- */

int bt_client_accept(bt_client *c, const bt_addr *from, bt_conn_id *id, bt_time_us now)
{
    bt_client_enter(c);
    int rv = accept_conn(c, from, id, now);
    int lv = bt_client_leave(c, now);
    return rv != 0 ? rv : lv;
}

int bt_client_learn_peers(bt_client *c, const bt_addr *peers, size_t n, bt_time_us now)
{
    return add_peers(c, peers, n, now);
}

int bt_client_add_peers(bt_client *c, const bt_addr *peers, size_t n, bt_time_us now)
{
    bt_client_enter(c);
    int rv = add_peers(c, peers, n, now);
    int lv = bt_client_leave(c, now);
    return rv != 0 ? rv : lv;
}

int bt_client_on_announce(bt_client *c, const bt_announce_reply *r, bt_time_us now)
{
    bt_client_enter(c);
    int rv = on_announce(c, r, now);
    int lv = bt_client_leave(c, now);
    return rv != 0 ? rv : lv;
}

int bt_client_on_announce_error(bt_client *c, bt_time_us now)
{
    bt_client_enter(c);
    int rv = announce_error(c, now);
    int lv = bt_client_leave(c, now);
    return rv != 0 ? rv : lv;
}

int bt_client_verify_result(bt_client *c, uint32_t piece, const uint8_t digest[20],
                            bt_time_us now)
{
    return bt_client_verify_result_bytes(c, piece, digest, NULL, now);
}

int bt_client_verify_result_bytes(bt_client *c, uint32_t piece, const uint8_t digest[20],
                                  const uint8_t *data, bt_time_us now)
{
    bt_client_enter(c);
    int rv = verify_result(c, piece, digest, data, now);
    int lv = bt_client_leave(c, now);
    return rv != 0 ? rv : lv;
}
