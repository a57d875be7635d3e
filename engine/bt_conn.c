/* bt_conn.c: one peer connection: handshake, the BEP 3 / BEP 6 / BEP 10 message rules, choke
 * and interest state, the peer's pieces, our request pipeline (depth grows with the measured
 * rate, as mainline's backlog), serving the peer's requests, snubbing and timeouts. Protocol
 * violations close the connection with a reason; they are never API errors. */
#include "bt_client_int.h"
#include "bt_mem.h"

#include <stdio.h>
#include <string.h>

#define MAX_EXTENDED_LEN (1u << 20)
#define MAX_UNKNOWN_LEN (1u << 20)

int bt_conn_new(bt_client *c, uint32_t peer, bool initiated, bt_time_us now, bt_conn **out)
{
    const bt_mem *m = c->mem;
    bt_conn *cn = bt_calloc(m, 1, sizeof(*cn));
    if (cn == NULL)
        return BT_ERR_NOMEM;
    cn->id = c->next_id++;
    cn->peer = peer;
    cn->initiated = initiated;
    cn->state = BT_CS_CONNECTING;
    cn->am_choking = cn->peer_choking = true;
    cn->created_at = cn->last_recv = cn->last_send = cn->last_block = now;
    cn->unchoked_at = BT_TIME_NEVER;
    bt_wire_limits lim = {c->cfg.npieces, BT_MAX_BLOCK_LEN, MAX_EXTENDED_LEN, MAX_UNKNOWN_LEN,
                          false};
    bt_ext_wire_limits(c, &lim);
    bt_wire_parser_init(&cn->parser, &lim, m);
    bt_outq_init(&cn->out, m);
    bt_rate_init(&cn->down, c->cfg.rate_bucket);
    bt_rate_init(&cn->up, c->cfg.rate_bucket);
    if (bt_bitfield_init(&cn->have, c->cfg.npieces, m) != 0) {
        bt_conn_free(c, cn);
        return BT_ERR_NOMEM;
    }
    *out = cn;
    return 0;
}

void bt_conn_free(bt_client *c, bt_conn *cn)
{
    if (c->found[cn->id & (BT_FIND_CACHE - 1)] == cn)
        c->found[cn->id & (BT_FIND_CACHE - 1)] = NULL;
    const bt_mem *m = c->mem;
    bt_wire_parser_free(&cn->parser);
    bt_outq_free(&cn->out);
    bt_bitfield_free(&cn->have, m);
    bt_ext_conn_free(c, cn);
    void *owned[] = {cn->reqs_out, cn->reqs_in, cn->blockbuf};
    for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
        if (owned[i] != NULL)
            bt_free(m, owned[i]);
    bt_free(m, cn);
}

static bool alive(const bt_conn *cn) { return cn->state != BT_CS_DEAD; }

/* Request queues start small and grow to the configured limits (most peers never need 250). */
int bt_conn_reserve_out(bt_client *c, bt_conn *cn, uint32_t n)
{
    if (cn->reqs_out_off + cn->nreqs_out + n <= cn->reqs_out_cap)
        return 0;
    if (cn->reqs_out_off > 0) { /* slide the live requests to the front */
        memmove(cn->reqs_out, cn->reqs_out + cn->reqs_out_off, cn->nreqs_out * sizeof(bt_req));
        cn->reqs_out_off = 0;
        if (cn->nreqs_out + n <= cn->reqs_out_cap)
            return 0;
    }
    uint32_t cap = cn->reqs_out_cap ? cn->reqs_out_cap : 8;
    while (cap < cn->nreqs_out + n)
        cap *= 2;
    bt_req *r = bt_realloc(c->mem, cn->reqs_out, cap * sizeof(*r));
    if (r == NULL)
        return BT_ERR_NOMEM;
    cn->reqs_out = r;
    cn->reqs_out_cap = cap;
    return 0;
}

int bt_conn_reserve_in(bt_client *c, bt_conn *cn)
{
    if (cn->nreqs_in < cn->reqs_in_cap)
        return 0;
    uint32_t cap = cn->reqs_in_cap ? cn->reqs_in_cap * 2 : 8;
    bt_req *r = bt_malloc(c->mem, cap * sizeof(*r));
    if (r == NULL)
        return BT_ERR_NOMEM;
    for (uint32_t i = 0; i < cn->nreqs_in; i++)
        r[i] = cn->reqs_in[(cn->reqs_in_head + i) % cn->reqs_in_cap];
    if (cn->reqs_in != NULL)
        bt_free(c->mem, cn->reqs_in);
    cn->reqs_in = r;
    cn->reqs_in_cap = cap;
    cn->reqs_in_head = 0;
    return 0;
}

/* ---- output ---- */

int bt_conn_queue_msg(bt_client *c, bt_conn *cn, size_t start)
{
    int rv = bt_outq_commit_bytes(&cn->out, start);
    if (rv == BT_ERR_LIMIT) {
        bt_client_close_conn(c, cn, BT_CLOSE_LIMIT, "output queue overflow", 0);
        return 0;
    }
    if (rv != 0)
        return rv;
    if (!cn->send_signalled && cn->out.total_queued > 0) {
        bt_action a = {.type = BT_ACT_SEND, .conn = cn->id};
        if ((rv = bt_client_push_action(c, &a)) != 0)
            return rv;
        cn->send_signalled = true;
    }
    return 0;
}

static int send_simple(bt_client *c, bt_conn *cn, uint8_t id)
{
    size_t start = cn->out.bytes.len;
    bt_wire_put_simple(&cn->out.bytes, id);
    return bt_conn_queue_msg(c, cn, start);
}

int bt_conn_send_handshake(bt_client *c, bt_conn *cn)
{
    bt_handshake hs;
    memset(&hs, 0, sizeof(hs));
    if (c->cfg.ext_protocol)
        hs.reserved[BT_RESERVED_EXT_BYTE] |= BT_RESERVED_EXT_BIT;
    if (c->cfg.fast_ext)
        hs.reserved[BT_RESERVED_FAST_BYTE] |= BT_RESERVED_FAST_BIT;
    memcpy(hs.info_hash, c->cfg.info_hash, 20);
    memcpy(hs.peer_id, c->cfg.peer_id, 20);
    size_t start = cn->out.bytes.len;
    bt_wire_put_handshake(&cn->out.bytes, &hs);
    cn->sent_handshake = true;
    return bt_conn_queue_msg(c, cn, start);
}

static int send_ext_handshake(bt_client *c, bt_conn *cn)
{
    bt_ext_handshake hs;
    memset(&hs, 0, sizeof(hs));
    snprintf(hs.v, sizeof(hs.v), "%s", c->client_name);
    hs.reqq = c->cfg.max_requests_in;
    hs.p = c->cfg.listen_port;
    hs.metadata_size = -1;
    const bt_addr *a = &c->peers[cn->peer].addr;
    hs.yourip_len = a->family == 6 ? 16 : 4;
    memcpy(hs.yourip, a->ip, hs.yourip_len);
    bt_ext_fill_handshake(c, &hs);
    size_t start = cn->out.bytes.len;
    bt_wire_put_ext_handshake(&cn->out.bytes, &hs);
    return bt_conn_queue_msg(c, cn, start);
}

/* What we have, as the first message (BEP 3 bitfield, or BEP 6 have-all / have-none); a
 * lying-have client sends what it claims instead. */
static int send_have_state(bt_client *c, bt_conn *cn)
{
    const bt_bitfield *have = c->lying ? &c->claimed : bt_picker_have_bits(c->picker);
    if (cn->fast && have->count == have->nbits)
        return send_simple(c, cn, BT_MSG_HAVE_ALL);
    if (cn->fast && have->count == 0)
        return send_simple(c, cn, BT_MSG_HAVE_NONE);
    if (have->count == 0)
        return 0; /* without BEP 6 a peer with nothing may send nothing */
    size_t start = cn->out.bytes.len;
    bt_wire_put_bitfield(&cn->out.bytes, have->bits, bt_bitfield_bytes(have->nbits));
    return bt_conn_queue_msg(c, cn, start);
}

/* ---- handshake ---- */

static bool duplicate_peer_id(const bt_client *c, const bt_conn *cn)
{
    for (uint32_t i = 0; i < c->nconns; i++) {
        const bt_conn *o = c->conns[i];
        if (o != cn && o->state == BT_CS_ACTIVE && memcmp(o->peer_id, cn->peer_id, 20) == 0)
            return true;
    }
    return false;
}

static int on_handshake(bt_client *c, bt_conn *cn, bt_time_us now)
{
    bt_handshake hs;
    if (bt_wire_parse_handshake(cn->hs_buf, &hs) != 0) {
        bt_client_close_conn(c, cn, BT_CLOSE_HANDSHAKE, "not a BitTorrent handshake", now);
        return 0;
    }
    if (memcmp(hs.info_hash, c->cfg.info_hash, 20) != 0) {
        bt_client_close_conn(c, cn, BT_CLOSE_HANDSHAKE, "wrong info-hash", now);
        return 0;
    }
    memcpy(cn->peer_id, hs.peer_id, 20);
    if (memcmp(hs.peer_id, c->cfg.peer_id, 20) == 0) {
        bt_client_close_conn(c, cn, BT_CLOSE_SELF, "connected to ourselves", now);
        return 0;
    }
    if (duplicate_peer_id(c, cn)) {
        bt_client_close_conn(c, cn, BT_CLOSE_DUPLICATE, "peer id already connected", now);
        return 0;
    }
    cn->fast = c->cfg.fast_ext && (hs.reserved[BT_RESERVED_FAST_BYTE] & BT_RESERVED_FAST_BIT);
    cn->extended = c->cfg.ext_protocol && (hs.reserved[BT_RESERVED_EXT_BYTE] & BT_RESERVED_EXT_BIT);
    int rv;
    if (!cn->sent_handshake && (rv = bt_conn_send_handshake(c, cn)) != 0)
        return rv;
    if ((rv = send_have_state(c, cn)) != 0)
        return rv;
    if (cn->extended && alive(cn) && (rv = send_ext_handshake(c, cn)) != 0)
        return rv;
    if (!alive(cn))
        return 0;
    cn->state = BT_CS_ACTIVE;
    c->peers[cn->peer].fails = 0;
    cn->counted_bits = true; /* its (empty) bitfield is in the picker's availability */
    cn->connected_at = now;
    c->rechoke_soon = true;  /* give it a chance at an unchoke now, not in 10 s */
    return 0;
}

/* Consumes handshake bytes; returns how many of |len| it used. */
static size_t take_handshake(bt_client *c, bt_conn *cn, const uint8_t *in, size_t len,
                             bt_time_us now, int *err)
{
    size_t take = BT_HANDSHAKE_LEN - cn->hs_have;
    if (take > len)
        take = len;
    memcpy(cn->hs_buf + cn->hs_have, in, take);
    cn->hs_have += (uint32_t)take;
    if (cn->hs_have == BT_HANDSHAKE_LEN)
        *err = on_handshake(c, cn, now);
    return take;
}

int bt_conn_handle_recv(bt_client *c, bt_conn *cn, const uint8_t *in, size_t len, bool virt,
                        bt_time_us now)
{
    int rv = 0;
    size_t off = 0;
    cn->last_recv = now;
    if (cn->state == BT_CS_HANDSHAKE) {
        if (virt) {
            bt_client_close_conn(c, cn, BT_CLOSE_PROTOCOL, "payload before handshake", now);
            return 0;
        }
        off = take_handshake(c, cn, in, len, now, &rv);
        if (rv != 0)
            return rv;
    }
    while (off < len && cn->state == BT_CS_ACTIVE) {
        bt_wire_msg msg;
        size_t used = 0;
        int r = virt ? bt_wire_parse_virtual(&cn->parser, len - off, &used, &msg)
                     : bt_wire_parse(&cn->parser, in + off, len - off, &used, &msg);
        off += used;
        if (r == BT_ERR_NOMEM)
            return r;
        if (r < 0) {
            bt_client_close_conn(c, cn, r == BT_ERR_LIMIT ? BT_CLOSE_LIMIT : BT_CLOSE_PROTOCOL,
                                 cn->parser.error, now);
            break;
        }
        if (r == 0)
            break;
        if ((rv = bt_conn_handle_msg(c, cn, &msg, now)) != 0)
            return rv;
    }
    if (cn->state == BT_CS_ACTIVE && cn->refill)
        rv = bt_conn_fill_requests(c, cn, now);
    return rv;
}
