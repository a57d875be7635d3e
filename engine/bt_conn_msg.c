/* bt_conn_msg.c: what each received message does to a connection (BEP 3 messages, BEP 6 Fast
 * rules, BEP 10 handshake), including block reassembly and handing blocks to storage.
 * Ordering and state violations close the connection with a reason.
 *   https://www.bittorrent.org/beps/bep_0003.html  https://www.bittorrent.org/beps/bep_0006.html */
#include "bt_client_int.h"
#include "bt_mem.h"

#include <string.h>

static int violation(bt_client *c, bt_conn *cn, const char *why, bt_time_us now)
{
    bt_client_close_conn(c, cn, BT_CLOSE_PROTOCOL, why, now);
    return 0;
}

/* Recomputes how many of the peer's pieces we lack (after a bitfield). */
static uint32_t count_wanted(const bt_client *c, const bt_bitfield *theirs)
{
    const bt_bitfield *ours = bt_picker_have_bits(c->picker);
    uint32_t n = 0;
    size_t nb = bt_bitfield_bytes(theirs->nbits);
    for (size_t i = 0; i < nb; i++)
        n += (uint32_t)__builtin_popcount(theirs->bits[i] & (uint8_t)~ours->bits[i]);
    return n;
}

static bool both_seeds(const bt_client *c, const bt_conn *cn)
{
    return bt_bitfield_full(&cn->have) && bt_picker_complete(c->picker);
}

static int after_have_change(bt_client *c, bt_conn *cn, bt_time_us now)
{
    if (both_seeds(c, cn)) {
        bt_client_close_conn(c, cn, BT_CLOSE_BOTH_SEEDS, NULL, now);
        return 0;
    }
    return bt_conn_update_interest(c, cn);
}

static int on_have(bt_client *c, bt_conn *cn, uint32_t piece, bt_time_us now)
{
    if (!bt_bitfield_set(&cn->have, piece))
        return 0; /* repeated have: harmless */
    if (cn->counted_bits)
        bt_picker_inc(c->picker, piece);
    if (cn->counted_bits && bt_bitfield_full(&cn->have)) {
        /* It became a seed: from per-piece counts to the seed counter (once per peer). */
        bt_picker_promote_seed(c->picker, &cn->have);
        cn->counted_bits = false;
        cn->counted_seed = true;
    }
    if (!bt_picker_have(c->picker, piece)) {
        cn->wanted++;
        cn->refill = true;
    }
    return after_have_change(c, cn, now);
}

static int on_bitfield(bt_client *c, bt_conn *cn, const bt_wire_msg *m, bt_time_us now)
{
    if (bt_bitfield_load(&cn->have, m->data, m->data_len) != 0)
        return violation(c, cn, "bitfield: wrong length or spare bits set", now);
    if (bt_bitfield_full(&cn->have)) {
        cn->counted_bits = false;
        cn->counted_seed = true;
        bt_picker_inc_seed(c->picker);
    } else {
        bt_picker_inc_bitfield(c->picker, &cn->have);
    }
    cn->wanted = count_wanted(c, &cn->have);
    cn->refill = true;
    return after_have_change(c, cn, now);
}

/* Lenient mode: a bitfield after other messages adds its pieces as "have"s (a peer never
 * loses pieces, so one that drops an announced piece is a violation). */
static int on_late_bitfield(bt_client *c, bt_conn *cn, const bt_wire_msg *m, bt_time_us now)
{
    uint32_t n = c->cfg.npieces, spare = (8 - n % 8) % 8;
    if (m->data_len != (n + 7) / 8 || (m->data[m->data_len - 1] & ((1u << spare) - 1)) != 0)
        return violation(c, cn, "bitfield: wrong length or spare bits set", now);
    for (uint32_t i = 0; i < n; i++)
        if (bt_bitfield_get(&cn->have, i) && !((m->data[i >> 3] >> (7 - (i & 7))) & 1))
            return violation(c, cn, "late bitfield: drops a piece the peer announced", now);
    for (uint32_t i = 0; i < n && cn->state != BT_CS_DEAD; i++) {
        if (!((m->data[i >> 3] >> (7 - (i & 7))) & 1) || bt_bitfield_get(&cn->have, i))
            continue;
        int rv = on_have(c, cn, i, now);
        if (rv != 0)
            return rv;
    }
    return 0;
}

static int on_have_all(bt_client *c, bt_conn *cn, bt_time_us now)
{
    bt_bitfield_set_all(&cn->have);
    cn->counted_bits = false;
    cn->counted_seed = true;
    bt_picker_inc_seed(c->picker);
    cn->wanted = c->cfg.npieces - bt_picker_have_bits(c->picker)->count;
    cn->refill = true;
    return after_have_change(c, cn, now);
}

static int reject(bt_client *c, bt_conn *cn, const bt_block *b)
{
    if (!cn->fast)
        return 0;
    size_t start = cn->out.bytes.len;
    bt_wire_put_block(&cn->out.bytes, BT_MSG_REJECT, b->piece, b->begin, b->length);
    return bt_conn_queue_msg(c, cn, start);
}

static int on_request(bt_client *c, bt_conn *cn, const bt_wire_msg *m, bt_time_us now)
{
    bt_block b = {m->index, m->begin, m->length};
    uint32_t size = bt_picker_piece_size(c->picker, b.piece);
    if (b.begin > size || b.length > size - b.begin)
        return violation(c, cn, "request: past the end of the piece", now);
    if (!bt_picker_have(c->picker, b.piece)) {
        if (c->lying && bt_bitfield_get(&c->claimed, b.piece)) {
            c->stats.requests_ignored++; /* we said we had it: stay silent, no reject */
            return 0;
        }
        if (cn->fast)
            return reject(c, cn, &b);
        return violation(c, cn, "request: for a piece we do not have", now);
    }
    if (cn->am_choking)
        return reject(c, cn, &b); /* without BEP 6: silently dropped */
    if (cn->nreqs_in >= c->cfg.max_requests_in) {
        bt_client_close_conn(c, cn, BT_CLOSE_LIMIT, "request: too many queued requests", now);
        return 0;
    }
    int rv = bt_conn_reserve_in(c, cn);
    if (rv != 0)
        return rv;
    cn->reqs_in[(cn->reqs_in_head + cn->nreqs_in++) % cn->reqs_in_cap] = (bt_req){b, now};
    return bt_conn_fill_uploads(c, cn, now);
}

static int on_cancel(bt_client *c, bt_conn *cn, const bt_wire_msg *m)
{
    uint32_t cap = cn->reqs_in_cap;
    for (uint32_t i = 0; i < cn->nreqs_in; i++) {
        bt_block *b = &cn->reqs_in[(cn->reqs_in_head + i) % cap].b;
        if (b->piece != m->index || b->begin != m->begin || b->length != m->length)
            continue;
        bt_block gone = *b;
        for (uint32_t j = i + 1; j < cn->nreqs_in; j++)
            cn->reqs_in[(cn->reqs_in_head + j - 1) % cap] = cn->reqs_in[(cn->reqs_in_head + j) % cap];
        cn->nreqs_in--;
        return reject(c, cn, &gone); /* BEP 6: a cancelled request still gets an answer */
    }
    return 0;
}

/* Removes |b| from our requests to |cn|; returns whether it was there. */
static bool take_request(bt_conn *cn, const bt_block *b)
{
    for (uint32_t i = 0; i < cn->nreqs_out; i++) {
        bt_block *r = &bt_conn_req(cn, i)->b;
        if (r->piece == b->piece && r->begin == b->begin && r->length == b->length) {
            if (i == 0) /* the usual case: blocks come back in request order */
                cn->reqs_out_off++;
            else
                memmove(bt_conn_req(cn, i), bt_conn_req(cn, i + 1),
                        (cn->nreqs_out - i - 1) * sizeof(bt_req));
            if (--cn->nreqs_out == 0)
                cn->reqs_out_off = 0;
            cn->refill = true;
            return true;
        }
    }
    return false;
}

void bt_conn_cancel_block(bt_client *c, bt_conn_id id, const bt_block *b)
{
    bt_conn *cn = bt_client_find_conn(c, id);
    if (cn == NULL || cn->state != BT_CS_ACTIVE || !take_request(cn, b))
        return;
    size_t start = cn->out.bytes.len;
    bt_wire_put_block(&cn->out.bytes, BT_MSG_CANCEL, b->piece, b->begin, b->length);
    int rv = bt_conn_queue_msg(c, cn, start);
    if (rv != 0)
        bt_client_fail(c, rv);
}

static int on_reject(bt_client *c, bt_conn *cn, const bt_wire_msg *m, bt_time_us now)
{
    if (!cn->fast)
        return violation(c, cn, "reject without the Fast extension", now);
    bt_block b = {m->index, m->begin, m->length};
    if (take_request(cn, &b))
        bt_picker_cancel(c->picker, &b, cn->id);
    return 0;
}

/* Block cn->cur is complete; its bytes are |data| (cn->blockbuf, or with |borrowed| the
 * host's input; NULL for virtual payload). */
static int block_done(bt_client *c, bt_conn *cn, const uint8_t *data, bool borrowed,
                      bt_time_us now)
{
    bt_block b = cn->cur;
    take_request(cn, &b);
    cn->refill = true; /* the rate (and so the pipeline target) grew */
    cn->last_block = now;
    cn->snubbed = false;
    bt_pick_received res;
    int rv = bt_picker_received(c->picker, &b, cn->id, cn->peer, &res);
    if (rv != 0 || !res.fresh) {
        c->stats.wasted += b.length;
        return 0;
    }
    /* Virtual payload: the write carries no bytes, but says which connection's block was
     * kept, so the host's storage can record where each stored block came from. */
    bt_action a = {.type = BT_ACT_STORAGE_WRITE, .conn = cn->id, .piece = b.piece,
                   .begin = b.begin, .length = b.length, .data = data, .borrowed = borrowed};
    if ((rv = bt_client_push_action(c, &a)) != 0)
        return rv;
    if (!borrowed)
        cn->blockbuf = NULL; /* owned by the queued action, then lent to the host */
    for (uint32_t i = 0; i < res.ncancel; i++)
        bt_conn_cancel_block(c, res.cancel[i], &b);
    if (res.piece_done) {
        bt_action v = {.type = BT_ACT_STORAGE_VERIFY, .conn = BT_CONN_NONE, .piece = b.piece,
                       .length = bt_picker_piece_size(c->picker, b.piece)};
        return bt_client_push_action(c, &v);
    }
    return 0;
}

static int on_piece(bt_client *c, bt_conn *cn, const bt_wire_msg *m, bt_time_us now)
{
    bool real = !c->cfg.virtual_payload;
    if (real && m->data == NULL && m->data_len > 0)
        return violation(c, cn, "virtual payload on a real-payload client", now);
    bool whole = real && c->borrow_in && m->frag_off == 0 && m->last;
    if (m->frag_off == 0) {
        cn->cur = (bt_block){m->index, m->begin, m->length};
        if (real && !whole) {
            if (cn->blockbuf != NULL)
                bt_free(c->mem, cn->blockbuf);
            cn->blockbuf = bt_malloc(c->mem, m->length);
            if (cn->blockbuf == NULL)
                return BT_ERR_NOMEM;
        }
    }
    if (real && !whole && m->data_len > 0)
        memcpy(cn->blockbuf + m->frag_off, m->data, m->data_len);
    cn->down_total += m->data_len;
    c->stats.downloaded += m->data_len;
    bt_rate_add(&cn->down, m->data_len, now);
    if (!m->last)
        return 0;
    return whole ? block_done(c, cn, m->data, true, now)
                 : block_done(c, cn, cn->blockbuf, false, now);
}

static int on_choke(bt_client *c, bt_conn *cn, bool choke)
{
    cn->peer_choking = choke;
    cn->refill = !choke;
    if (choke && !cn->fast)
        bt_conn_release_requests(c, cn, false); /* BEP 3: a choke drops pending requests */
    return 0;
}

/* Unchoked peers that change interest change who deserves a slot (BitTornado rechokes then);
 * a choked peer that becomes interested gets a rechoke when a slot may be free, so a new
 * leecher is not kept waiting for the next 10-s round while upload capacity sits idle. */
static bool slot_free(const bt_client *c)
{
    uint32_t busy = 0;
    for (uint32_t i = 0; i < c->nconns; i++) {
        const bt_conn *o = c->conns[i];
        busy += o->state == BT_CS_ACTIVE && !o->am_choking && o->peer_interested;
    }
    return busy < c->slots;
}

static int on_interest(bt_client *c, bt_conn *cn, bool interested)
{
    if (cn->peer_interested != interested && (!cn->am_choking || interested)) {
        c->rechoke_soon = true;
        if (cn->am_choking && interested && slot_free(c))
            c->rechoke_urgent = true;
    }
    cn->peer_interested = interested;
    return 0;
}

/* BEP 3: bitfield only first; BEP 6: have-all/have-none only first and only with Fast.
 * BEP 10 extended messages (libtorrent sends its extension handshake before have-all) and
 * BEP 5 port messages do not count as the first message. Returns 1 (go on), 0 (closed) or 2
 * (a late bitfield the lenient mode accepts). */
static int first_msg_rules(bt_client *c, bt_conn *cn, uint8_t id, bt_time_us now)
{
    bool is_first_kind = id == BT_MSG_BITFIELD || id == BT_MSG_HAVE_ALL || id == BT_MSG_HAVE_NONE;
    if (id == BT_MSG_KEEPALIVE || id == BT_MSG_EXTENDED || id == BT_MSG_PORT)
        return 1;
    bool first = !cn->got_first_msg;
    cn->got_first_msg = true;
    if (is_first_kind && !first) {
        if (id == BT_MSG_BITFIELD && c->cfg.lenient)
            return 2; /* merged as haves: on_late_bitfield */
        violation(c, cn, "bitfield/have-all/have-none after the first message", now);
        return 0;
    }
    bool fast_only = id == BT_MSG_HAVE_ALL || id == BT_MSG_HAVE_NONE || id == BT_MSG_SUGGEST ||
                     id == BT_MSG_ALLOWED_FAST;
    if (fast_only && !cn->fast) {
        violation(c, cn, "Fast-extension message without BEP 6 negotiated", now);
        return 0;
    }
    return 1;
}

int bt_conn_handle_msg(bt_client *c, bt_conn *cn, const bt_wire_msg *m, bt_time_us now)
{
    if (c->cfg.fetch_metadata && m->id != BT_MSG_EXTENDED)
        return 0; /* fetching metadata: we know no pieces; only BEP 10 messages matter */
    if (m->id != BT_MSG_PIECE || m->frag_off == 0) {
        int first = first_msg_rules(c, cn, m->id, now);
        if (first != 1)
            return first == 2 ? on_late_bitfield(c, cn, m, now) : 0;
    }
    switch (m->id) {
    case BT_MSG_CHOKE: return on_choke(c, cn, true);
    case BT_MSG_UNCHOKE: return on_choke(c, cn, false);
    case BT_MSG_INTERESTED: return on_interest(c, cn, true);
    case BT_MSG_NOT_INTERESTED: return on_interest(c, cn, false);
    case BT_MSG_HAVE: return on_have(c, cn, m->index, now);
    case BT_MSG_BITFIELD: return on_bitfield(c, cn, m, now);
    case BT_MSG_HAVE_ALL: return on_have_all(c, cn, now);
    case BT_MSG_REQUEST: return on_request(c, cn, m, now);
    case BT_MSG_CANCEL: return on_cancel(c, cn, m);
    case BT_MSG_REJECT: return on_reject(c, cn, m, now);
    case BT_MSG_PIECE: return on_piece(c, cn, m, now);
    case BT_MSG_EXTENDED: return bt_ext_on_extended(c, cn, m, now);
    default: return 0; /* keep-alive, have-none, port, suggest, allowed-fast, unknown */
    }
}
