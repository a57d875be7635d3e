/* bt_conn_pipe.c: the flows on a connection: our request pipeline (mainline 4.x backlog: 2 +
 * 4 * rate / 16 KiB, damped above 50), serving the peer's requests into the output queue as it
 * drains, choke and interest messages, have broadcast, and per-tick housekeeping (keep-alive,
 * handshake and idle timeouts, snubbing, request timeouts). */
#include "bt_client_int.h"
#include "bt_mem.h"

#include <string.h>

static int put_simple(bt_client *c, bt_conn *cn, uint8_t id)
{
    size_t start = cn->out.bytes.len;
    bt_wire_put_simple(&cn->out.bytes, id);
    return bt_conn_queue_msg(c, cn, start);
}

/* REFERENCE.md s1, mainline Downloader._backlog. */
static uint32_t pipeline_target(const bt_client *c, const bt_conn *cn, bt_time_us now)
{
    if (cn->snubbed)
        return 1;
    uint64_t t = 2 + 4 * bt_rate_get(&cn->down, now) / BT_BLOCK_LEN;
    if (t > 50) {
        uint64_t damped = t * 3 / 40; /* 0.075 * backlog */
        t = damped > 50 ? damped : 50;
    }
    if (t > c->cfg.max_requests_out)
        t = c->cfg.max_requests_out;
    if (cn->peer_reqq > 0 && t > cn->peer_reqq)
        t = cn->peer_reqq;
    return (uint32_t)t;
}

int bt_conn_fill_requests(bt_client *c, bt_conn *cn, bt_time_us now)
{
    cn->refill = false;
    if (cn->state != BT_CS_ACTIVE || !cn->am_interested || cn->peer_choking)
        return 0;
    uint32_t target = pipeline_target(c, cn, now);
    if (cn->nreqs_out >= target)
        return 0;
    bt_block blocks[64];
    uint32_t want = target - cn->nreqs_out;
    if (want > 64)
        want = 64;
    int rv = bt_conn_reserve_out(c, cn, want);
    if (rv != 0)
        return rv;
    const bt_bitfield *has = cn->counted_seed ? NULL : &cn->have;
    uint32_t n = bt_picker_pick(c->picker, has, NULL, cn->id, blocks, want);
    if (n == 0)
        return 0;
    size_t start = cn->out.bytes.len;
    for (uint32_t i = 0; i < n; i++) {
        bt_conn_req(cn, cn->nreqs_out)->b = blocks[i];
        bt_conn_req(cn, cn->nreqs_out)->at = now;
        cn->nreqs_out++;
        bt_wire_put_block(&cn->out.bytes, BT_MSG_REQUEST, blocks[i].piece, blocks[i].begin,
                          blocks[i].length);
    }
    return bt_conn_queue_msg(c, cn, start);
}

void bt_conn_release_requests(bt_client *c, bt_conn *cn, bool send_cancel)
{
    size_t start = cn->out.bytes.len;
    for (uint32_t i = 0; i < cn->nreqs_out; i++) {
        bt_block *b = &bt_conn_req(cn, i)->b;
        bt_picker_cancel(c->picker, b, cn->id);
        cn->refill = true;
        if (send_cancel)
            bt_wire_put_block(&cn->out.bytes, BT_MSG_CANCEL, b->piece, b->begin, b->length);
    }
    cn->nreqs_out = 0;
    cn->reqs_out_off = 0;
    if (send_cancel && cn->state == BT_CS_ACTIVE) {
        int rv = bt_conn_queue_msg(c, cn, start);
        if (rv != 0)
            bt_client_fail(c, rv);
    }
}

/* Serves queued requests while the output queue is short. A slow responder serves a request
 * only once it has waited cfg.response_delay; requests come due in arrival order, and the
 * first one not yet due arms the client's next_serve deadline. */
int bt_conn_fill_uploads(bt_client *c, bt_conn *cn, bt_time_us now)
{
    uint32_t cap = cn->reqs_in_cap;
    while (cn->state == BT_CS_ACTIVE && !cn->am_choking && cn->nreqs_in > 0 &&
           cn->out.payload_queued < BT_UPLOAD_LOWWATER) {
        const bt_req *head = &cn->reqs_in[cn->reqs_in_head];
        bt_time_us due = head->at + c->cfg.response_delay;
        if (now < due) {
            if (due < c->next_serve)
                c->next_serve = due;
            break;
        }
        bt_block b = head->b;
        cn->reqs_in_head = (cn->reqs_in_head + 1) % cap;
        cn->nreqs_in--;
        size_t start = cn->out.bytes.len;
        bt_wire_put_piece_header(&cn->out.bytes, b.piece, b.begin, b.length);
        int rv = bt_outq_commit_bytes(&cn->out, start);
        if (rv == 0)
            rv = bt_outq_push_payload(&cn->out, b.piece, b.begin, b.length);
        if (rv == BT_ERR_LIMIT) {
            bt_client_close_conn(c, cn, BT_CLOSE_LIMIT, "output queue overflow", 0);
            return 0;
        }
        if (rv != 0)
            return rv;
        if ((rv = bt_conn_queue_msg(c, cn, cn->out.bytes.len)) != 0)
            return rv;
    }
    return 0;
}

int bt_conn_set_choke(bt_client *c, bt_conn *cn, bool choke, bt_time_us now)
{
    if (cn->am_choking == choke)
        return 0;
    cn->am_choking = choke;
    int rv = put_simple(c, cn, choke ? BT_MSG_CHOKE : BT_MSG_UNCHOKE);
    if (rv != 0)
        return rv;
    if (!choke) {
        cn->unchoked_at = now;
        return bt_conn_fill_uploads(c, cn, now);
    }
    /* BEP 6: every queued request gets a reject; BEP 3: a choke discards them. */
    uint32_t cap = cn->reqs_in_cap;
    size_t start = cn->out.bytes.len;
    for (uint32_t i = 0; cn->fast && i < cn->nreqs_in; i++) {
        bt_block *b = &cn->reqs_in[(cn->reqs_in_head + i) % cap].b;
        bt_wire_put_block(&cn->out.bytes, BT_MSG_REJECT, b->piece, b->begin, b->length);
    }
    cn->nreqs_in = 0;
    return bt_conn_queue_msg(c, cn, start);
}

int bt_conn_update_interest(bt_client *c, bt_conn *cn)
{
    bool want = cn->wanted > 0;
    if (want == cn->am_interested || cn->state != BT_CS_ACTIVE)
        return 0;
    cn->am_interested = want;
    cn->refill = cn->refill || want;
    return put_simple(c, cn, want ? BT_MSG_INTERESTED : BT_MSG_NOT_INTERESTED);
}

/* Second stage, once the connection's own lines have arrived: what its pointers lead to. */
static inline void prefetch_bufs(const bt_conn *cn, uint32_t piece)
{
    if (cn->have.bits != NULL)
        __builtin_prefetch(cn->have.bits + (piece >> 3), 0);
    if (cn->out.bytes.data != NULL)
        __builtin_prefetch(cn->out.bytes.data + cn->out.bytes.len, 1);
    if (cn->out.items != NULL)
        __builtin_prefetch(&cn->out.items[(cn->out.head + cn->out.count) & (cn->out.cap - 1)], 1);
}

int bt_conn_on_have(bt_client *c, uint32_t piece)
{
    /* A lying-have client already advertised the pieces it claimed: no second have. */
    bool announce = !c->lying || bt_bitfield_set(&c->claimed, piece);
    for (uint32_t i = 0; i < c->nconns; i++) {
        bt_conn *cn = c->conns[i];
        /* The connections live apart in memory: fetch the next ones' lines while this one is
         * served (a hint only; no effect on behaviour). */
        bt_conn_prefetch_ahead(c, i);
        if (i + BT_PREFETCH_AHEAD / 2 < c->nconns)
            prefetch_bufs(c->conns[i + BT_PREFETCH_AHEAD / 2], piece);
        if (cn->state != BT_CS_ACTIVE)
            continue;
        int rv;
        if (announce) {
            size_t start = cn->out.bytes.len;
            bt_wire_put_index(&cn->out.bytes, BT_MSG_HAVE, piece);
            if ((rv = bt_conn_queue_msg(c, cn, start)) != 0)
                return rv;
        }
        if (bt_bitfield_get(&cn->have, piece) && cn->wanted > 0) {
            cn->wanted--;
            if ((rv = bt_conn_update_interest(c, cn)) != 0)
                return rv;
        }
    }
    return 0;
}

/* Slow responder: serves the requests that came due; fill_uploads re-arms next_serve. */
void bt_conn_serve_due(bt_client *c, bt_time_us now)
{
    c->next_serve = BT_TIME_NEVER;
    for (uint32_t i = 0; i < c->nconns; i++) {
        bt_conn *cn = c->conns[i];
        if (cn->state != BT_CS_ACTIVE)
            continue;
        int rv = bt_conn_fill_uploads(c, cn, now);
        if (rv != 0) {
            bt_client_fail(c, rv);
            return;
        }
    }
}

static int tick_active(bt_client *c, bt_conn *cn, bt_time_us now)
{
    if (cn->out.total_queued == 0 && now - cn->last_send >= c->cfg.keepalive_interval) {
        size_t start = cn->out.bytes.len;
        bt_wire_put_keepalive(&cn->out.bytes);
        cn->last_send = now;
        int rv = bt_conn_queue_msg(c, cn, start);
        if (rv != 0 || cn->state != BT_CS_ACTIVE)
            return rv;
    }
    if (cn->nreqs_out > 0) {
        bt_time_us oldest = bt_conn_req(cn, 0)->at;
        bt_time_us since = cn->last_block > oldest ? cn->last_block : oldest;
        if (!cn->snubbed && now - since >= c->cfg.snub_time)
            cn->snubbed = true; /* the choker leaves it out; its pipeline shrinks to 1 */
        if (now - since >= c->cfg.request_timeout) {
            /* Let other peers fetch those blocks: this one asks again only from the next
             * tick on (re-asking at once would hand an endgame block straight back to a peer
             * that never answers, e.g. one that lies about its pieces). */
            bt_conn_release_requests(c, cn, true);
            return 0;
        }
    }
    return bt_conn_fill_requests(c, cn, now);
}

int bt_conn_tick(bt_client *c, bt_conn *cn, bt_time_us now)
{
    if (cn->state == BT_CS_CONNECTING || cn->state == BT_CS_HANDSHAKE) {
        if (now - cn->created_at >= c->cfg.handshake_timeout)
            bt_client_close_conn(c, cn, BT_CLOSE_TIMEOUT, "handshake timeout", now);
        return 0;
    }
    if (cn->state != BT_CS_ACTIVE)
        return 0;
    if (now - cn->last_recv >= c->cfg.idle_timeout) {
        bt_client_close_conn(c, cn, BT_CLOSE_TIMEOUT, "idle timeout", now);
        return 0;
    }
    return tick_active(c, cn, now);
}
