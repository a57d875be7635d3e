/* bt_wire.c: the peer wire codec: BEP 3 handshake, framed message encoders and the incremental
 * message parser with per-type length limits. Never does I/O; allocates only the parser's body
 * buffer (bitfield / extended payloads), and never copies piece payload.
 *   https://www.bittorrent.org/beps/bep_0003.html  https://www.bittorrent.org/beps/bep_0006.html */
#include "bt_wire.h"

#include "bt_mem.h"

#include <assert.h>
#include <string.h>

/* BEP 3: the protocol string after the length byte 19. */
static const char pstr[19] = {'B', 'i', 't', 'T', 'o', 'r', 'r', 'e', 'n', 't',
                              ' ', 'p', 'r', 'o', 't', 'o', 'c', 'o', 'l'};

void bt_wire_put_handshake(bt_buf *b, const bt_handshake *hs)
{
    if (bt_buf_reserve(b, BT_HANDSHAKE_LEN) != 0)
        return;
    bt_buf_put_u8(b, sizeof(pstr));
    bt_buf_put(b, pstr, sizeof(pstr));
    bt_buf_put(b, hs->reserved, sizeof(hs->reserved));
    bt_buf_put(b, hs->info_hash, sizeof(hs->info_hash));
    bt_buf_put(b, hs->peer_id, sizeof(hs->peer_id));
}

int bt_wire_parse_handshake(const uint8_t in[BT_HANDSHAKE_LEN], bt_handshake *hs)
{
    if (in[0] != sizeof(pstr) || memcmp(in + 1, pstr, sizeof(pstr)) != 0)
        return BT_ERR_PROTO;
    memcpy(hs->reserved, in + 20, 8);
    memcpy(hs->info_hash, in + 28, 20);
    memcpy(hs->peer_id, in + 48, 20);
    return 0;
}

/* ---- encoders ---- */

static void put_head(bt_buf *b, uint32_t len, uint8_t id)
{
    bt_buf_put_be32(b, len);
    bt_buf_put_u8(b, id);
}

void bt_wire_put_keepalive(bt_buf *b)
{
    bt_buf_put_be32(b, 0);
}

void bt_wire_put_simple(bt_buf *b, uint8_t id)
{
    assert(id <= BT_MSG_NOT_INTERESTED || id == BT_MSG_HAVE_ALL || id == BT_MSG_HAVE_NONE);
    put_head(b, 1, id);
}

void bt_wire_put_index(bt_buf *b, uint8_t id, uint32_t index)
{
    assert(id == BT_MSG_HAVE || id == BT_MSG_SUGGEST || id == BT_MSG_ALLOWED_FAST);
    uint8_t t[9] = {0, 0, 0, 5, id};
    t[5] = (uint8_t)(index >> 24);
    t[6] = (uint8_t)(index >> 16);
    t[7] = (uint8_t)(index >> 8);
    t[8] = (uint8_t)index;
    bt_buf_put(b, t, sizeof(t));
}

void bt_wire_put_bitfield(bt_buf *b, const uint8_t *bits, size_t nbytes)
{
    assert(nbytes < UINT32_MAX);
    if (bt_buf_reserve(b, 5 + nbytes) != 0)
        return;
    put_head(b, (uint32_t)nbytes + 1, BT_MSG_BITFIELD);
    bt_buf_put(b, bits, nbytes);
}

void bt_wire_put_block(bt_buf *b, uint8_t id, uint32_t index, uint32_t begin, uint32_t length)
{
    assert(id == BT_MSG_REQUEST || id == BT_MSG_CANCEL || id == BT_MSG_REJECT);
    if (bt_buf_reserve(b, 17) != 0)
        return;
    put_head(b, 13, id);
    bt_buf_put_be32(b, index);
    bt_buf_put_be32(b, begin);
    bt_buf_put_be32(b, length);
}

void bt_wire_put_piece_header(bt_buf *b, uint32_t index, uint32_t begin, uint32_t length)
{
    assert(length <= UINT32_MAX - 9);
    if (bt_buf_reserve(b, 13) != 0)
        return;
    put_head(b, 9 + length, BT_MSG_PIECE);
    bt_buf_put_be32(b, index);
    bt_buf_put_be32(b, begin);
}

void bt_wire_put_port(bt_buf *b, uint16_t port)
{
    put_head(b, 3, BT_MSG_PORT);
    bt_buf_put_be16(b, port);
}

void bt_wire_put_extended(bt_buf *b, uint8_t ext_id, const uint8_t *payload, size_t len)
{
    assert(len <= UINT32_MAX - 2);
    if (bt_buf_reserve(b, 6 + len) != 0)
        return;
    put_head(b, (uint32_t)len + 2, BT_MSG_EXTENDED);
    bt_buf_put_u8(b, ext_id);
    bt_buf_put(b, payload, len);
}

/* ---- incremental parser ---- */

enum { ST_LEN, ST_FIXED, ST_PIECE, ST_BODY, ST_SKIP, ST_DEAD };

/* Message kinds (how the bytes after the id are framed). */
enum { K_UNKNOWN, K_SIMPLE, K_INDEX, K_BITFIELD, K_BLOCK, K_PIECE, K_PORT, K_EXTENDED };

/* How each id is framed: kind and the number of fixed bytes after the id that go to hdr.
 * BEP 3 ids 0-8, BEP 5 id 9, BEP 6 ids 13-17, BEP 10 id 20; the rest are unknown. (No
 * pointers in this table, so it stays in read-only data.) */
typedef struct msg_spec {
    uint8_t kind;
    uint8_t fixed;
} msg_spec;

static const msg_spec specs[21] = {
    [BT_MSG_CHOKE] = {K_SIMPLE, 0},       [BT_MSG_UNCHOKE] = {K_SIMPLE, 0},
    [BT_MSG_INTERESTED] = {K_SIMPLE, 0},  [BT_MSG_NOT_INTERESTED] = {K_SIMPLE, 0},
    [BT_MSG_HAVE] = {K_INDEX, 4},         [BT_MSG_BITFIELD] = {K_BITFIELD, 0},
    [BT_MSG_REQUEST] = {K_BLOCK, 12},     [BT_MSG_PIECE] = {K_PIECE, 8},
    [BT_MSG_CANCEL] = {K_BLOCK, 12},      [BT_MSG_PORT] = {K_PORT, 2},
    [BT_MSG_SUGGEST] = {K_INDEX, 4},      [BT_MSG_HAVE_ALL] = {K_SIMPLE, 0},
    [BT_MSG_HAVE_NONE] = {K_SIMPLE, 0},   [BT_MSG_REJECT] = {K_BLOCK, 12},
    [BT_MSG_ALLOWED_FAST] = {K_INDEX, 4}, [BT_MSG_EXTENDED] = {K_EXTENDED, 1},
};

static const msg_spec unknown_spec = {K_UNKNOWN, 0};

static const msg_spec *spec_of(uint8_t id)
{
    return id < sizeof(specs) / sizeof(specs[0]) ? &specs[id] : &unknown_spec;
}

/* Static reason for a length prefix that does not fit the id. */
static const char *len_err(uint8_t id)
{
    switch (id) {
    case BT_MSG_CHOKE:
        return "choke: length != 1";
    case BT_MSG_UNCHOKE:
        return "unchoke: length != 1";
    case BT_MSG_INTERESTED:
        return "interested: length != 1";
    case BT_MSG_NOT_INTERESTED:
        return "not interested: length != 1";
    case BT_MSG_HAVE_ALL:
        return "have all: length != 1";
    case BT_MSG_HAVE_NONE:
        return "have none: length != 1";
    case BT_MSG_HAVE:
        return "have: length != 5";
    case BT_MSG_SUGGEST:
        return "suggest: length != 5";
    case BT_MSG_ALLOWED_FAST:
        return "allowed fast: length != 5";
    case BT_MSG_BITFIELD:
        return "bitfield: length != 1 + ceil(npieces/8)";
    case BT_MSG_REQUEST:
        return "request: length != 13";
    case BT_MSG_CANCEL:
        return "cancel: length != 13";
    case BT_MSG_REJECT:
        return "reject: length != 13";
    case BT_MSG_PORT:
        return "port: length != 3";
    default:
        return "extended: length < 2";
    }
}

/* Static reason for an index >= npieces. */
static const char *idx_err(uint8_t id)
{
    switch (id) {
    case BT_MSG_HAVE:
        return "have: index >= npieces";
    case BT_MSG_SUGGEST:
        return "suggest: index >= npieces";
    case BT_MSG_ALLOWED_FAST:
        return "allowed fast: index >= npieces";
    case BT_MSG_REQUEST:
        return "request: index >= npieces";
    case BT_MSG_CANCEL:
        return "cancel: index >= npieces";
    case BT_MSG_REJECT:
        return "reject: index >= npieces";
    default:
        return "piece: index >= npieces";
    }
}

static uint64_t bitfield_msg_len(const bt_wire_limits *lim)
{
    return 1 + ((uint64_t)lim->npieces + 7) / 8;
}

/* The largest length prefix any message may carry under |lim|. */
static uint64_t max_msg_len(const bt_wire_limits *lim)
{
    uint64_t m = 13; /* request / cancel / reject */
    if ((uint64_t)lim->max_block_len + 9 > m)
        m = (uint64_t)lim->max_block_len + 9;
    if (lim->max_extended_len > m)
        m = lim->max_extended_len;
    if (bitfield_msg_len(lim) > m)
        m = bitfield_msg_len(lim);
    if (lim->max_unknown_len > m)
        m = lim->max_unknown_len;
    return m;
}

void bt_wire_parser_init(bt_wire_parser *p, const bt_wire_limits *lim, const bt_mem *mem)
{
    memset(p, 0, sizeof(*p));
    p->lim = *lim;
    p->mem = mem;
    p->state = ST_LEN;
}

void bt_wire_parser_free(bt_wire_parser *p)
{
    if (p->body != NULL)
        bt_free(p->mem, p->body);
    p->body = NULL;
    p->body_cap = 0;
}

static int fail(bt_wire_parser *p, int rc, const char *why)
{
    p->state = ST_DEAD;
    p->error = why;
    return rc;
}

/* Copies up to |want| - hdr_have bytes into hdr; true once hdr holds |want| bytes. */
static bool fill_hdr(bt_wire_parser *p, const uint8_t *in, size_t len, size_t *pos, uint32_t want)
{
    size_t n = want - p->hdr_have;
    if (n > len - *pos)
        n = len - *pos;
    memcpy(p->hdr + p->hdr_have, in + *pos, n);
    p->hdr_have += (uint32_t)n;
    *pos += n;
    return p->hdr_have == want;
}

static int step_len(bt_wire_parser *p, const uint8_t *in, size_t len, size_t *pos, bt_wire_msg *msg)
{
    if (!fill_hdr(p, in, len, pos, 4))
        return 0;
    p->msg_len = bt_be32(p->hdr);
    p->hdr_have = 0;
    if (p->msg_len == 0) {
        msg->id = BT_MSG_KEEPALIVE;
        return 1;
    }
    if (p->msg_len > max_msg_len(&p->lim))
        return fail(p, BT_ERR_LIMIT, "length prefix above every limit");
    p->state = ST_FIXED;
    return 0;
}

/* Checks the length prefix against the id just read. */
static int check_len(bt_wire_parser *p)
{
    const msg_spec *s = spec_of(p->cur_id);
    uint32_t n = p->msg_len;
    switch (s->kind) {
    case K_SIMPLE:
    case K_INDEX:
    case K_BLOCK:
    case K_PORT:
        return n == 1u + s->fixed ? 0 : fail(p, BT_ERR_PROTO, len_err(p->cur_id));
    case K_BITFIELD:
        if (p->lim.any_bitfield && n >= 2 && n <= bitfield_msg_len(&p->lim))
            return 0;
        return n == bitfield_msg_len(&p->lim) ? 0 : fail(p, BT_ERR_PROTO, len_err(p->cur_id));
    case K_PIECE:
        if (n <= 9)
            return fail(p, BT_ERR_PROTO, n == 9 ? "piece: empty payload" : "piece: length < 9");
        if (n - 9 > p->lim.max_block_len)
            return fail(p, BT_ERR_LIMIT, "piece: payload > max_block_len");
        return 0;
    case K_EXTENDED:
        if (n < 2)
            return fail(p, BT_ERR_PROTO, len_err(p->cur_id));
        return n <= p->lim.max_extended_len ? 0 : fail(p, BT_ERR_LIMIT, "extended: length > limit");
    default:
        if (n > p->lim.max_unknown_len)
            return fail(p, BT_ERR_LIMIT, "unknown id: length > max_unknown_len");
        return 0;
    }
}

/* Bytes of variable payload after the fixed fields (bitfield, extended, unknown, piece). */
static uint32_t body_len(const bt_wire_parser *p)
{
    return p->msg_len - 1 - spec_of(p->cur_id)->fixed;
}

/* The bitfield or extended message is complete with its payload at |data|. */
static int finish_body(bt_wire_parser *p, const uint8_t *data, bt_wire_msg *msg)
{
    uint32_t n = body_len(p);
    if (p->cur_id == BT_MSG_BITFIELD && (p->lim.npieces & 7) != 0 &&
        (data[n - 1] & (0xFFu >> (p->lim.npieces & 7))) != 0)
        return fail(p, BT_ERR_PROTO, "bitfield: spare bits set");
    msg->data = data;
    msg->data_len = n;
    p->state = ST_LEN;
    return 1;
}

/* The id and fixed fields are in hdr: validate them, fill |msg|, pick the next state. */
static int finish_fixed(bt_wire_parser *p, bt_wire_msg *msg, const uint8_t *rest)
{
    const msg_spec *s = spec_of(p->cur_id);
    const uint8_t *h = p->hdr + 1;
    p->state = ST_LEN;
    p->body_have = 0;
    switch (s->kind) {
    case K_INDEX:
    case K_BLOCK:
    case K_PIECE:
        msg->index = bt_be32(h);
        if (msg->index >= p->lim.npieces)
            return fail(p, BT_ERR_PROTO, idx_err(p->cur_id));
        if (s->kind == K_INDEX)
            return 1;
        msg->begin = bt_be32(h + 4);
        if (s->kind == K_PIECE) {
            msg->length = p->msg_len - 9;
            p->state = ST_PIECE;
            return 0;
        }
        msg->length = bt_be32(h + 8);
        if (msg->length == 0)
            return fail(p, BT_ERR_PROTO, "request/cancel/reject: block length 0");
        if (msg->length > p->lim.max_block_len)
            return fail(p, BT_ERR_LIMIT, "request/cancel/reject: block length > max_block_len");
        return 1;
    case K_PORT:
        msg->port = bt_be16(h);
        return 1;
    case K_SIMPLE:
        return 1;
    case K_EXTENDED:
        msg->ext_id = h[0];
        /* fall through */
    case K_BITFIELD:
        p->state = ST_BODY;
        return body_len(p) == 0 ? finish_body(p, rest, msg) : 0;
    default:
        msg->id = BT_MSG_UNKNOWN;
        msg->length = p->msg_len - 1;
        if (msg->length == 0)
            return 1;
        p->state = ST_SKIP;
        return 0;
    }
}

static int step_fixed(bt_wire_parser *p, const uint8_t *in, size_t len, size_t *pos,
                      bt_wire_msg *msg)
{
    if (p->hdr_have == 0) {
        p->cur_id = in[(*pos)++];
        p->hdr[0] = p->cur_id;
        p->hdr_have = 1;
        int rc = check_len(p);
        if (rc != 0)
            return rc;
    }
    if (!fill_hdr(p, in, len, pos, 1u + spec_of(p->cur_id)->fixed))
        return 0;
    p->hdr_have = 0;
    msg->id = p->cur_id;
    msg->raw_id = p->cur_id;
    return finish_fixed(p, msg, in + *pos);
}

/* Fills in a piece fragment of |n| bytes at |data| (NULL for virtual payload). */
static int piece_frag(bt_wire_parser *p, const uint8_t *data, size_t n, bt_wire_msg *msg)
{
    uint32_t total = p->msg_len - 9;
    assert(n > 0 && n <= total - p->body_have);
    msg->id = BT_MSG_PIECE;
    msg->raw_id = BT_MSG_PIECE;
    msg->index = bt_be32(p->hdr + 1);
    msg->begin = bt_be32(p->hdr + 5);
    msg->length = total;
    msg->data = data;
    msg->data_len = n;
    msg->frag_off = p->body_have;
    p->body_have += (uint32_t)n;
    msg->last = p->body_have == total;
    if (msg->last)
        p->state = ST_LEN;
    return 1;
}

static size_t min_sz(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* Grows the body buffer to hold at least |need| bytes (doubling, capped at |limit|). */
static int grow_body(bt_wire_parser *p, size_t need, size_t limit)
{
    if (need <= p->body_cap)
        return 0;
    size_t cap = p->body_cap < 256 ? 256 : p->body_cap;
    while (cap < need)
        cap *= 2;
    cap = min_sz(cap, limit);
    uint8_t *nb = bt_realloc(p->mem, p->body, cap);
    if (nb == NULL)
        return fail(p, BT_ERR_NOMEM, "out of memory for a bitfield/extended payload");
    p->body = nb;
    p->body_cap = cap;
    return 0;
}

static int step_body(bt_wire_parser *p, const uint8_t *in, size_t len, size_t *pos,
                     bt_wire_msg *msg)
{
    uint32_t total = body_len(p);
    size_t n = min_sz(total - p->body_have, len - *pos);
    msg->id = p->cur_id;
    msg->raw_id = p->cur_id;
    if (p->cur_id == BT_MSG_EXTENDED)
        msg->ext_id = p->hdr[1];
    if (p->body_have == 0 && n == total) { /* whole payload in this chunk: no copy */
        *pos += n;
        return finish_body(p, in + *pos - n, msg);
    }
    int rc = grow_body(p, p->body_have + n, total);
    if (rc != 0)
        return rc;
    memcpy(p->body + p->body_have, in + *pos, n);
    p->body_have += (uint32_t)n;
    *pos += n;
    if (p->body_have < total)
        return 0;
    return finish_body(p, p->body, msg);
}

static int step_skip(bt_wire_parser *p, size_t len, size_t *pos, bt_wire_msg *msg)
{
    uint32_t total = p->msg_len - 1;
    size_t n = min_sz(total - p->body_have, len - *pos);
    p->body_have += (uint32_t)n;
    *pos += n;
    if (p->body_have < total)
        return 0;
    msg->id = BT_MSG_UNKNOWN;
    msg->raw_id = p->cur_id;
    msg->length = total;
    p->state = ST_LEN;
    return 1;
}

int bt_wire_parse(bt_wire_parser *p, const uint8_t *in, size_t len, size_t *consumed,
                  bt_wire_msg *msg)
{
    assert(p->state != ST_DEAD);
    assert(in != NULL || len == 0);
    memset(msg, 0, sizeof(*msg));
    size_t pos = 0;
    int rc = 0;
    while (rc == 0 && pos < len) {
        switch (p->state) {
        case ST_LEN:
            rc = step_len(p, in, len, &pos, msg);
            break;
        case ST_FIXED:
            rc = step_fixed(p, in, len, &pos, msg);
            break;
        case ST_PIECE:
            rc = piece_frag(p, in + pos, min_sz(len - pos, p->msg_len - 9 - p->body_have), msg);
            pos += msg->data_len;
            break;
        case ST_BODY:
            rc = step_body(p, in, len, &pos, msg);
            break;
        default:
            rc = step_skip(p, len, &pos, msg);
            break;
        }
    }
    p->offset += pos;
    *consumed = pos;
    return rc;
}

int bt_wire_parse_virtual(bt_wire_parser *p, size_t n, size_t *consumed, bt_wire_msg *msg)
{
    assert(p->state != ST_DEAD);
    memset(msg, 0, sizeof(*msg));
    *consumed = 0;
    if (p->state != ST_PIECE)
        return fail(p, BT_ERR_PROTO, "virtual payload outside a piece");
    if (n == 0)
        return 0;
    n = min_sz(n, p->msg_len - 9 - p->body_have);
    piece_frag(p, NULL, n, msg);
    p->offset += n;
    *consumed = n;
    return 1;
}

bool bt_wire_in_payload(const bt_wire_parser *p, uint32_t *remaining)
{
    if (p->state != ST_PIECE)
        return false;
    if (remaining != NULL)
        *remaining = p->msg_len - 9 - p->body_have;
    return true;
}
