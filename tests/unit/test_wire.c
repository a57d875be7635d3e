/* tests/unit/test_wire.c: the peer wire codec: handshake, every message's encode->parse round
 * trip, identical results under every fragmentation, every limit violation, virtual payload,
 * allocation failure and the BEP 10 extension handshake (happy and hostile). */
#include "bt_bencode.h"
#include "bt_mem.h"
#include "bt_wire.h"
#include "failmem.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

extern int test_wire_add_suite(void);

/* ---- a log of parsed messages, with piece fragments reassembled ---- */

#define MAXREC 512

typedef struct rec {
    uint8_t id, raw_id, ext_id;
    uint32_t index, begin, length;
    uint16_t port;
    size_t pay_off, pay_len; /* payload bytes in wlog.bytes */
    uint32_t nfrags;         /* piece: fragments seen */
} rec;

typedef struct wlog {
    rec r[MAXREC];
    size_t n;
    uint8_t *bytes;
    size_t nbytes, cap;
    int rc;
    const char *err;
    uint64_t offset;
    bool in_piece;
    int bad; /* consistency failures seen while parsing */
} wlog;

static wlog *wlog_new(void)
{
    wlog *lg = calloc(1, sizeof(*lg));
    CU_ASSERT_FATAL(lg != NULL);
    lg->cap = 1 << 20;
    lg->bytes = malloc(lg->cap);
    CU_ASSERT_FATAL(lg->bytes != NULL);
    return lg;
}

static void wlog_del(wlog *lg)
{
    free(lg->bytes);
    free(lg);
}

static void wlog_clear(wlog *lg)
{
    lg->n = 0;
    lg->nbytes = 0;
    lg->rc = 0;
    lg->err = NULL;
    lg->offset = 0;
    lg->in_piece = false;
    lg->bad = 0;
}

static void add_bytes(wlog *lg, const uint8_t *d, size_t n)
{
    CU_ASSERT_FATAL(lg->nbytes + n <= lg->cap);
    if (n > 0 && d != NULL)
        memcpy(lg->bytes + lg->nbytes, d, n);
    else if (n > 0)
        memset(lg->bytes + lg->nbytes, 0xEE, n); /* virtual payload */
    lg->nbytes += n;
}

static rec *expect(wlog *lg, uint8_t id, uint32_t index, uint32_t begin, uint32_t length,
                   const uint8_t *data, size_t dlen)
{
    CU_ASSERT_FATAL(lg->n < MAXREC);
    rec *r = &lg->r[lg->n++];
    memset(r, 0, sizeof(*r));
    r->id = id;
    r->raw_id = id == BT_MSG_KEEPALIVE ? 0 : id;
    r->index = index;
    r->begin = begin;
    r->length = length;
    r->pay_off = lg->nbytes;
    r->pay_len = dlen;
    add_bytes(lg, data, dlen);
    return r;
}

/* Records one parser result; |chunk|[0..clen) is the input it came from. */
static void record(wlog *lg, const bt_wire_msg *m, const uint8_t *chunk, size_t clen)
{
    if (m->id != BT_MSG_PIECE) {
        if (lg->in_piece)
            lg->bad++;
        rec *r = expect(lg, m->id, m->index, m->begin, m->length, m->data, m->data_len);
        r->raw_id = m->raw_id;
        r->port = m->port;
        r->ext_id = m->ext_id;
        return;
    }
    if (m->data != NULL && (m->data < chunk || m->data + m->data_len > chunk + clen))
        lg->bad++; /* piece payload must point into the input */
    if (m->data_len == 0)
        lg->bad++;
    if (m->frag_off == 0) {
        if (lg->in_piece)
            lg->bad++;
        expect(lg, BT_MSG_PIECE, m->index, m->begin, m->length, NULL, 0);
        lg->in_piece = true;
    }
    rec *r = &lg->r[lg->n - 1];
    if (!lg->in_piece || r->id != BT_MSG_PIECE || m->frag_off != r->pay_len ||
        m->index != r->index || m->begin != r->begin || m->length != r->length)
        lg->bad++;
    add_bytes(lg, m->data, m->data_len);
    r->pay_len += m->data_len;
    r->nfrags++;
    if (m->last != (r->pay_len == r->length))
        lg->bad++;
    if (m->last)
        lg->in_piece = false;
}

/* Returns the next chunk size (1..remaining). */
typedef size_t (*chunker)(void *ctx, size_t off, size_t remaining);

/* Feeds |s| through a fresh parser in the chunks |ck| picks; each chunk is copied to its own
 * heap block so ASan catches reads past it. */
static void run(const uint8_t *s, size_t len, const bt_wire_limits *lim, chunker ck, void *ctx,
                wlog *lg)
{
    bt_wire_parser p;
    bt_wire_parser_init(&p, lim, bt_mem_default());
    size_t off = 0;
    while (off < len && lg->rc == 0) {
        size_t n = ck(ctx, off, len - off);
        CU_ASSERT_FATAL(n >= 1 && n <= len - off);
        uint8_t *chunk = malloc(n);
        CU_ASSERT_FATAL(chunk != NULL);
        memcpy(chunk, s + off, n);
        size_t pos = 0;
        while (pos < n) {
            size_t used = 0;
            bt_wire_msg m;
            int rc = bt_wire_parse(&p, chunk + pos, n - pos, &used, &m);
            if (used > n - pos || (rc == 0 && used != n - pos))
                lg->bad++;
            pos += used;
            if (p.offset != off + pos)
                lg->bad++;
            if (rc < 0) {
                lg->rc = rc;
                lg->err = p.error;
                break;
            }
            if (rc == 1)
                record(lg, &m, chunk, n);
        }
        free(chunk);
        off += n;
    }
    lg->offset = p.offset;
    bt_wire_parser_free(&p);
}

static size_t chunk_whole(void *ctx, size_t off, size_t remaining)
{
    (void)ctx;
    (void)off;
    return remaining;
}

static size_t chunk_one(void *ctx, size_t off, size_t remaining)
{
    (void)ctx;
    (void)off;
    (void)remaining;
    return 1;
}

/* Splits at the sorted offsets in a size_t[3] {a, b, SIZE_MAX}. */
static size_t chunk_at(void *ctx, size_t off, size_t remaining)
{
    const size_t *cuts = ctx;
    for (int i = 0; i < 3; i++)
        if (cuts[i] > off && cuts[i] - off < remaining)
            return cuts[i] - off;
    return remaining;
}

static size_t chunk_random(void *ctx, size_t off, size_t remaining)
{
    (void)off;
    bt_pcg32 *rng = ctx;
    uint32_t r = bt_pcg32_below(rng, 10);
    size_t n = r < 5   ? 1 + bt_pcg32_below(rng, 8)
               : r < 8 ? 1 + bt_pcg32_below(rng, 100)
                       : 1 + bt_pcg32_below(rng, 40000);
    return n < remaining ? n : remaining;
}

static bool rec_equal(const wlog *a, const rec *x, const wlog *b, const rec *y)
{
    return x->id == y->id && x->raw_id == y->raw_id && x->ext_id == y->ext_id &&
           x->index == y->index && x->begin == y->begin && x->length == y->length &&
           x->port == y->port && x->pay_len == y->pay_len &&
           memcmp(a->bytes + x->pay_off, b->bytes + y->pay_off, x->pay_len) == 0;
}

/* Same messages (ignoring how pieces were fragmented), same final status and offset. */
static bool wlog_equal(const wlog *a, const wlog *b)
{
    if (a->n != b->n || a->rc != b->rc || a->err != b->err || a->offset != b->offset ||
        a->bad != 0 || b->bad != 0)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!rec_equal(a, &a->r[i], b, &b->r[i]))
            return false;
    return true;
}

static const bt_wire_limits test_lim = {
    .npieces = 37, /* bitfield: 5 bytes, 3 spare bits */
    .max_block_len = BT_MAX_BLOCK_LEN,
    .max_extended_len = 4096,
    .max_unknown_len = 1000,
};

/* ---- handshake ---- */

static void test_handshake(void)
{
    bt_handshake hs, out;
    memset(&hs, 0, sizeof(hs));
    hs.reserved[BT_RESERVED_EXT_BYTE] |= BT_RESERVED_EXT_BIT;
    hs.reserved[BT_RESERVED_FAST_BYTE] |= BT_RESERVED_FAST_BIT;
    for (int i = 0; i < 20; i++) {
        hs.info_hash[i] = (uint8_t)(0xA0 + i);
        hs.peer_id[i] = (uint8_t)('a' + i);
    }
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_wire_put_handshake(&b, &hs);
    CU_ASSERT_FATAL(b.err == 0 && b.len == BT_HANDSHAKE_LEN);
    static const uint8_t head[28] = {19,  'B', 'i', 't', 'T', 'o',  'r', 'r', 'e', 'n',
                                     't', ' ', 'p', 'r', 'o', 't',  'o', 'c', 'o', 'l',
                                     0,   0,   0,   0,   0,   0x10, 0,   0x04};
    CU_ASSERT(memcmp(b.data, head, sizeof(head)) == 0);
    CU_ASSERT(memcmp(b.data + 28, hs.info_hash, 20) == 0);
    CU_ASSERT(memcmp(b.data + 48, hs.peer_id, 20) == 0);
    CU_ASSERT(bt_wire_parse_handshake(b.data, &out) == 0);
    CU_ASSERT(memcmp(&out, &hs, sizeof(hs)) == 0);
    uint8_t bad[BT_HANDSHAKE_LEN];
    const uint8_t lens[] = {0, 18, 20, 255};
    for (size_t i = 0; i < sizeof(lens); i++) {
        memcpy(bad, b.data, sizeof(bad));
        bad[0] = lens[i];
        CU_ASSERT(bt_wire_parse_handshake(bad, &out) == BT_ERR_PROTO);
    }
    for (int i = 1; i < 20; i++) { /* every byte of the protocol string matters */
        memcpy(bad, b.data, sizeof(bad));
        bad[i] ^= 0x20;
        CU_ASSERT(bt_wire_parse_handshake(bad, &out) == BT_ERR_PROTO);
    }
    bt_buf_free(&b);
}

/* ---- encoders: exact bytes ---- */

static bool bytes_are(const bt_buf *b, const uint8_t *want, size_t n)
{
    return b->err == 0 && b->len == n && memcmp(b->data, want, n) == 0;
}

static void test_encode_vectors(void)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_wire_put_keepalive(&b);
    CU_ASSERT(bytes_are(&b, (const uint8_t[]){0, 0, 0, 0}, 4));
    bt_buf_reset(&b);
    bt_wire_put_simple(&b, BT_MSG_INTERESTED);
    CU_ASSERT(bytes_are(&b, (const uint8_t[]){0, 0, 0, 1, 2}, 5));
    bt_buf_reset(&b);
    bt_wire_put_index(&b, BT_MSG_HAVE, 0x01020304);
    CU_ASSERT(bytes_are(&b, (const uint8_t[]){0, 0, 0, 5, 4, 1, 2, 3, 4}, 9));
    bt_buf_reset(&b);
    bt_wire_put_block(&b, BT_MSG_REQUEST, 1, 0x4000, 0x4000);
    CU_ASSERT(bytes_are(
        &b, (const uint8_t[]){0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0}, 17));
    bt_buf_reset(&b);
    bt_wire_put_piece_header(&b, 2, 0x8000, 0x4000);
    CU_ASSERT(bytes_are(&b, (const uint8_t[]){0, 0, 0x40, 9, 7, 0, 0, 0, 2, 0, 0, 0x80, 0}, 13));
    bt_buf_reset(&b);
    bt_wire_put_port(&b, 6881);
    CU_ASSERT(bytes_are(&b, (const uint8_t[]){0, 0, 0, 3, 9, 0x1A, 0xE1}, 7));
    bt_buf_reset(&b);
    bt_wire_put_bitfield(&b, (const uint8_t[]){0xFF, 0x80}, 2);
    CU_ASSERT(bytes_are(&b, (const uint8_t[]){0, 0, 0, 3, 5, 0xFF, 0x80}, 7));
    bt_buf_reset(&b);
    bt_wire_put_extended(&b, 3, (const uint8_t *)"de", 2);
    CU_ASSERT(bytes_are(&b, (const uint8_t[]){0, 0, 0, 4, 20, 3, 'd', 'e'}, 8));
    bt_buf_reset(&b);
    bt_wire_put_extended(&b, 7, NULL, 0);
    CU_ASSERT(bytes_are(&b, (const uint8_t[]){0, 0, 0, 2, 20, 7}, 6));
    bt_buf_free(&b);
    /* a buffer at its hard limit keeps a sticky error and never writes half a message */
    bt_buf_init(&b, bt_mem_default(), 10);
    bt_wire_put_block(&b, BT_MSG_CANCEL, 1, 2, 3);
    CU_ASSERT(b.err == BT_ERR_LIMIT && b.len == 0);
    bt_buf_free(&b);
}

/* ---- the mixed stream ---- */

static void fill_pattern(uint8_t *d, size_t n, uint32_t seed)
{
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, seed, 7);
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)bt_pcg32_next(&rng);
}

/* Appends a piece message with |n| pattern bytes to |b| and to the expectation. */
static void add_piece(bt_buf *b, wlog *exp, uint32_t index, uint32_t begin, uint32_t n)
{
    uint8_t *d = malloc(n);
    CU_ASSERT_FATAL(d != NULL);
    fill_pattern(d, n, index * 31u + begin);
    bt_wire_put_piece_header(b, index, begin, n);
    bt_buf_put(b, d, n);
    expect(exp, BT_MSG_PIECE, index, begin, n, d, n);
    free(d);
}

static void add_index(bt_buf *b, wlog *exp, uint8_t id, uint32_t index)
{
    bt_wire_put_index(b, id, index);
    expect(exp, id, index, 0, 0, NULL, 0);
}

static void add_block(bt_buf *b, wlog *exp, uint8_t id, uint32_t i, uint32_t o, uint32_t l)
{
    bt_wire_put_block(b, id, i, o, l);
    expect(exp, id, i, o, l, NULL, 0);
}

static void add_simple(bt_buf *b, wlog *exp, uint8_t id)
{
    if (id == BT_MSG_KEEPALIVE)
        bt_wire_put_keepalive(b);
    else
        bt_wire_put_simple(b, id);
    expect(exp, id, 0, 0, 0, NULL, 0);
}

static void add_ext(bt_buf *b, wlog *exp, uint8_t ext_id, const char *payload)
{
    size_t n = strlen(payload);
    bt_wire_put_extended(b, ext_id, (const uint8_t *)payload, n);
    expect(exp, BT_MSG_EXTENDED, 0, 0, 0, (const uint8_t *)payload, n)->ext_id = ext_id;
}

/* Every message type, with two pieces of |piece_len| and 1 byte. */
static void build_mixed(bt_buf *b, wlog *exp, uint32_t piece_len)
{
    static const uint8_t bits[5] = {0xFF, 0x00, 0xA5, 0x5A, 0xE0};
    bt_wire_put_bitfield(b, bits, sizeof(bits));
    expect(exp, BT_MSG_BITFIELD, 0, 0, 0, bits, sizeof(bits));
    add_simple(b, exp, BT_MSG_KEEPALIVE);
    add_simple(b, exp, BT_MSG_UNCHOKE);
    add_simple(b, exp, BT_MSG_INTERESTED);
    add_index(b, exp, BT_MSG_HAVE, 3);
    add_index(b, exp, BT_MSG_HAVE, 36);
    add_block(b, exp, BT_MSG_REQUEST, 0, 0, BT_BLOCK_LEN);
    add_piece(b, exp, 1, BT_BLOCK_LEN, piece_len);
    add_block(b, exp, BT_MSG_CANCEL, 5, 16, BT_MAX_BLOCK_LEN);
    add_block(b, exp, BT_MSG_REJECT, 36, 1, 1);
    bt_wire_put_port(b, 6881);
    expect(exp, BT_MSG_PORT, 0, 0, 0, NULL, 0)->port = 6881;
    add_ext(b, exp, 3, "d1:ai1ee");
    static const uint8_t unk[12] = {0, 0, 0, 8, 21, 1, 2, 3, 4, 5, 6, 7}; /* BEP 52 id 21 */
    bt_buf_put(b, unk, sizeof(unk));
    expect(exp, BT_MSG_UNKNOWN, 0, 0, 7, NULL, 0)->raw_id = 21;
    add_index(b, exp, BT_MSG_SUGGEST, 0);
    add_index(b, exp, BT_MSG_ALLOWED_FAST, 2);
    add_simple(b, exp, BT_MSG_HAVE_ALL);
    add_simple(b, exp, BT_MSG_HAVE_NONE);
    add_simple(b, exp, BT_MSG_NOT_INTERESTED);
    add_piece(b, exp, 36, 0, 1);
    add_simple(b, exp, BT_MSG_CHOKE);
    add_ext(b, exp, 0, "");
    add_simple(b, exp, BT_MSG_KEEPALIVE);
    CU_ASSERT_FATAL(b->err == 0);
}

static void test_roundtrip_each(void)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    wlog *exp = wlog_new(), *got = wlog_new();
    build_mixed(&b, exp, 300);
    exp->offset = b.len;
    run(b.data, b.len, &test_lim, chunk_whole, NULL, got);
    CU_ASSERT(got->n == exp->n);
    CU_ASSERT(wlog_equal(exp, got));
    for (size_t i = 0; i < got->n; i++)
        if (got->r[i].id == BT_MSG_PIECE)
            CU_ASSERT(got->r[i].nfrags == 1); /* a piece in one chunk is one fragment */
    wlog_del(exp);
    wlog_del(got);
    bt_buf_free(&b);
}

/* Every split of the mixed stream into two and three chunks gives the same messages. */
static void test_all_splits(void)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    wlog *exp = wlog_new(), *got = wlog_new();
    build_mixed(&b, exp, 40);
    exp->offset = b.len;
    size_t fails = 0, runs = 0;
    for (size_t x = 1; x < b.len; x++) {
        for (size_t y = x; y < b.len; y++) {
            size_t cuts[3] = {x, y, SIZE_MAX};
            wlog_clear(got);
            run(b.data, b.len, &test_lim, chunk_at, cuts, got);
            fails += !wlog_equal(exp, got);
            runs++;
        }
    }
    CU_ASSERT(runs > 10000);
    CU_ASSERT(fails == 0);
    wlog_del(exp);
    wlog_del(got);
    bt_buf_free(&b);
}

static void test_one_byte_and_random(void)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    wlog *exp = wlog_new(), *got = wlog_new();
    build_mixed(&b, exp, BT_BLOCK_LEN);
    add_piece(&b, exp, 7, 0, BT_MAX_BLOCK_LEN);
    add_piece(&b, exp, 8, 0, BT_BLOCK_LEN);
    build_mixed(&b, exp, 1000);
    exp->offset = b.len;
    run(b.data, b.len, &test_lim, chunk_one, NULL, got);
    CU_ASSERT(wlog_equal(exp, got));
    CU_ASSERT(got->r[7].nfrags == BT_BLOCK_LEN); /* one fragment per byte */
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 42, 1);
    size_t fails = 0;
    for (int i = 0; i < 300; i++) {
        wlog_clear(got);
        run(b.data, b.len, &test_lim, chunk_random, &rng, got);
        fails += !wlog_equal(exp, got);
    }
    CU_ASSERT(fails == 0);
    wlog_del(exp);
    wlog_del(got);
    bt_buf_free(&b);
}

/* ---- limits ---- */

/* |s| must stop with |rc| at offset |off| and an error naming |sub|, whole, one byte at a time
 * and in random chunks, after the same messages. */
static void check_violation(const bt_wire_limits *lim, const uint8_t *s, size_t n, int rc,
                            uint64_t off, const char *sub)
{
    wlog *a = wlog_new(), *c = wlog_new();
    run(s, n, lim, chunk_whole, NULL, a);
    CU_ASSERT(a->rc == rc);
    CU_ASSERT(a->offset == off);
    CU_ASSERT(a->err != NULL && strstr(a->err, sub) != NULL);
    run(s, n, lim, chunk_one, NULL, c);
    CU_ASSERT(wlog_equal(a, c));
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, n, off);
    for (int i = 0; i < 5; i++) {
        wlog_clear(c);
        run(s, n, lim, chunk_random, &rng, c);
        CU_ASSERT(wlog_equal(a, c));
    }
    wlog_del(a);
    wlog_del(c);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

typedef struct viol {
    uint8_t id;
    uint32_t len;  /* length prefix */
    uint32_t f[3]; /* big-endian fields after the id */
    int rc;
    uint32_t off; /* error offset after the 5-byte prefix message */
    const char *sub;
} viol;

/* Offsets: 5 (interested) + 5 when the length is wrong for the id, + 4 for a bad length
 * prefix, + 5 + fixed fields when a field is bad. */
static const viol viols[] = {
    {0, 2, {0}, BT_ERR_PROTO, 10, "choke"},
    {1, 5, {0}, BT_ERR_PROTO, 10, "unchoke"},
    {2, 2, {0}, BT_ERR_PROTO, 10, "interested"},
    {3, 13, {0}, BT_ERR_PROTO, 10, "not interested"},
    {14, 2, {0}, BT_ERR_PROTO, 10, "have all"},
    {15, 9, {0}, BT_ERR_PROTO, 10, "have none"},
    {4, 4, {0}, BT_ERR_PROTO, 10, "have"},
    {4, 6, {0}, BT_ERR_PROTO, 10, "have"},
    {4, 1, {0}, BT_ERR_PROTO, 10, "have"},
    {4, 5, {37}, BT_ERR_PROTO, 14, "have: index"},
    {4, 5, {UINT32_MAX}, BT_ERR_PROTO, 14, "index"},
    {13, 6, {0}, BT_ERR_PROTO, 10, "suggest"},
    {13, 5, {37}, BT_ERR_PROTO, 14, "suggest: index"},
    {17, 4, {0}, BT_ERR_PROTO, 10, "allowed"},
    {17, 5, {1000}, BT_ERR_PROTO, 14, "allowed fast: index"},
    {5, 5, {0}, BT_ERR_PROTO, 10, "bitfield"},
    {5, 7, {0}, BT_ERR_PROTO, 10, "bitfield"},
    {5, 1, {0}, BT_ERR_PROTO, 10, "bitfield"},
    {6, 12, {0}, BT_ERR_PROTO, 10, "request"},
    {6, 14, {0}, BT_ERR_PROTO, 10, "request"},
    {6, 1, {0}, BT_ERR_PROTO, 10, "request"},
    {6, 13, {37, 0, 1}, BT_ERR_PROTO, 22, "index"},
    {6, 13, {0, 0, 0}, BT_ERR_PROTO, 22, "block length 0"},
    {6, 13, {0, 0, BT_MAX_BLOCK_LEN + 1}, BT_ERR_LIMIT, 22, "max_block_len"},
    {6, 13, {0, 0, UINT32_MAX}, BT_ERR_LIMIT, 22, "max_block_len"},
    {8, 5, {0}, BT_ERR_PROTO, 10, "cancel"},
    {8, 13, {0, 0, 0}, BT_ERR_PROTO, 22, "length 0"},
    {8, 13, {36, 0, BT_MAX_BLOCK_LEN + 1}, BT_ERR_LIMIT, 22, "max_block_len"},
    {16, 17, {0}, BT_ERR_PROTO, 10, "reject"},
    {16, 13, {99, 0, 1}, BT_ERR_PROTO, 22, "index"},
    {16, 13, {1, 0, 0}, BT_ERR_PROTO, 22, "length 0"},
    {16, 13, {1, 2, BT_MAX_BLOCK_LEN + 1}, BT_ERR_LIMIT, 22, "max_block_len"},
    {7, 9, {0}, BT_ERR_PROTO, 10, "piece: empty"},
    {7, 1, {0}, BT_ERR_PROTO, 10, "piece"},
    {7, 8, {0}, BT_ERR_PROTO, 10, "piece"},
    {7, 9 + BT_MAX_BLOCK_LEN + 1, {0}, BT_ERR_LIMIT, 9, "length prefix"},
    {7, 10, {37, 0, 0}, BT_ERR_PROTO, 18, "piece: index"},
    {9, 2, {0}, BT_ERR_PROTO, 10, "port"},
    {9, 4, {0}, BT_ERR_PROTO, 10, "port"},
    {9, 1, {0}, BT_ERR_PROTO, 10, "port"},
    {20, 1, {0}, BT_ERR_PROTO, 10, "extended"},
    {20, 4097, {0}, BT_ERR_LIMIT, 10, "extended"},
    {10, 1001, {0}, BT_ERR_LIMIT, 10, "unknown"},
    {21, 1001, {0}, BT_ERR_LIMIT, 10, "unknown"},
    {255, 1001, {0}, BT_ERR_LIMIT, 10, "unknown"},
    {0, BT_MAX_BLOCK_LEN + 10, {0}, BT_ERR_LIMIT, 9, "length prefix"},
    {20, UINT32_MAX, {0}, BT_ERR_LIMIT, 9, "length prefix"},
    {0, 0x80000000u, {0}, BT_ERR_LIMIT, 9, "length prefix"},
};

static void test_violations(void)
{
    uint8_t s[64];
    for (size_t i = 0; i < sizeof(viols) / sizeof(viols[0]); i++) {
        const viol *v = &viols[i];
        memset(s, 0, sizeof(s));
        memcpy(s, (const uint8_t[]){0, 0, 0, 1, BT_MSG_INTERESTED}, 5);
        put_be32(s + 5, v->len);
        s[9] = v->id;
        for (int k = 0; k < 3; k++)
            put_be32(s + 10 + 4 * k, v->f[k]);
        check_violation(&test_lim, s, sizeof(s), v->rc, v->off, v->sub);
    }
    /* with a larger extended limit, an oversized piece fails at its id, not its prefix */
    bt_wire_limits lim = test_lim;
    lim.max_extended_len = 1 << 20;
    memset(s, 0, sizeof(s));
    put_be32(s, 9 + BT_MAX_BLOCK_LEN + 1);
    s[4] = BT_MSG_PIECE;
    check_violation(&lim, s, sizeof(s), BT_ERR_LIMIT, 5, "piece: payload > max_block_len");
    put_be32(s, 9 + BT_MAX_BLOCK_LEN);
    put_be32(s + 5, 37);
    check_violation(&lim, s, 18, BT_ERR_PROTO, 13, "piece: index");
    put_be32(s, (1 << 20) + 1);
    check_violation(&lim, s, sizeof(s), BT_ERR_LIMIT, 4, "length prefix");
}

static void test_bitfield_spare_bits(void)
{
    uint8_t s[10] = {0, 0, 0, 6, BT_MSG_BITFIELD, 0xFF, 0xFF, 0xFF, 0xFF, 0xE0};
    wlog *lg = wlog_new();
    run(s, sizeof(s), &test_lim, chunk_one, NULL, lg); /* 37 pieces: top 5 bits of byte 4 */
    CU_ASSERT(lg->rc == 0 && lg->n == 1 && lg->bad == 0);
    s[9] = 0xF8;
    wlog_clear(lg);
    run(s, sizeof(s), &test_lim, chunk_whole, NULL, lg);
    CU_ASSERT(lg->rc == 0 && lg->n == 1 && lg->r[0].pay_len == 5 && lg->bytes[4] == 0xF8);
    wlog_del(lg);
    const uint8_t spare[] = {0x04, 0x02, 0x01, 0x07, 0xFF}; /* pieces 37..39 don't exist */
    for (size_t i = 0; i < sizeof(spare); i++) {
        s[9] = spare[i];
        check_violation(&test_lim, s, sizeof(s), BT_ERR_PROTO, 10, "spare bits");
    }
    bt_wire_limits lim = test_lim;
    lim.npieces = 40; /* no spare bits: every value of the last byte is fine */
    s[9] = 0xFF;
    lg = wlog_new();
    run(s, sizeof(s), &lim, chunk_whole, NULL, lg);
    CU_ASSERT(lg->rc == 0 && lg->n == 1 && lg->r[0].pay_len == 5);
    wlog_del(lg);
    lim.npieces = 0; /* torrent without pieces known: a bitfield is just the id */
    const uint8_t empty[14] = {0, 0, 0, 1, BT_MSG_BITFIELD, 0, 0, 0, 5, BT_MSG_HAVE, 0, 0, 0, 0};
    lg = wlog_new();
    run(empty, sizeof(empty), &lim, chunk_one, NULL, lg);
    CU_ASSERT(lg->rc == BT_ERR_PROTO && lg->n == 1 && lg->r[0].pay_len == 0);
    CU_ASSERT(lg->offset == 14); /* have 0 with no pieces */
    wlog_del(lg);
}

/* Messages exactly at their limits parse. */
static void test_at_limits(void)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    wlog *exp = wlog_new(), *got = wlog_new();
    add_piece(&b, exp, 36, 0, BT_MAX_BLOCK_LEN);
    add_block(&b, exp, BT_MSG_REQUEST, 36, UINT32_MAX, BT_MAX_BLOCK_LEN);
    add_block(&b, exp, BT_MSG_REQUEST, 0, 0, 1);
    uint8_t *ext = calloc(1, 4094);
    CU_ASSERT_FATAL(ext != NULL);
    fill_pattern(ext, 4094, 9);
    bt_wire_put_extended(&b, 200, ext, 4094); /* length prefix 4096 == max_extended_len */
    expect(exp, BT_MSG_EXTENDED, 0, 0, 0, ext, 4094)->ext_id = 200;
    free(ext);
    const uint8_t unk[] = {0, 0, 0x03, 0xE8, 10}; /* id 10, length 1000 == max_unknown_len */
    bt_buf_put(&b, unk, sizeof(unk));
    for (int i = 0; i < 999; i++)
        bt_buf_put_u8(&b, (uint8_t)i);
    expect(exp, BT_MSG_UNKNOWN, 0, 0, 999, NULL, 0)->raw_id = 10;
    bt_buf_put(&b, (const uint8_t[]){0, 0, 0, 1, 255}, 5);
    expect(exp, BT_MSG_UNKNOWN, 0, 0, 0, NULL, 0)->raw_id = 255;
    add_simple(&b, exp, BT_MSG_KEEPALIVE);
    exp->offset = b.len;
    run(b.data, b.len, &test_lim, chunk_whole, NULL, got);
    CU_ASSERT(wlog_equal(exp, got));
    wlog_clear(got);
    run(b.data, b.len, &test_lim, chunk_one, NULL, got);
    CU_ASSERT(wlog_equal(exp, got));
    wlog_del(exp);
    wlog_del(got);
    bt_buf_free(&b);
}

/* ---- virtual payload ---- */

static int parse_all(bt_wire_parser *p, const uint8_t *in, size_t n, bt_wire_msg *m)
{
    size_t used = 0;
    int rc = bt_wire_parse(p, in, n, &used, m);
    CU_ASSERT(rc != 0 || used == n);
    return rc;
}

static void test_virtual(void)
{
    bt_wire_parser p;
    bt_wire_parser_init(&p, &test_lim, bt_mem_default());
    bt_wire_msg m;
    size_t used = 99;
    uint32_t rem = 0;
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_wire_put_piece_header(&b, 5, 1024, 100);
    CU_ASSERT(!bt_wire_in_payload(&p, &rem));
    CU_ASSERT(parse_all(&p, b.data, 13, &m) == 0);
    CU_ASSERT(bt_wire_in_payload(&p, &rem) && rem == 100);
    CU_ASSERT(bt_wire_parse_virtual(&p, 0, &used, &m) == 0 && used == 0);
    CU_ASSERT(bt_wire_parse_virtual(&p, 30, &used, &m) == 1 && used == 30);
    CU_ASSERT(m.id == BT_MSG_PIECE && m.index == 5 && m.begin == 1024 && m.length == 100);
    CU_ASSERT(m.data == NULL && m.data_len == 30 && m.frag_off == 0 && !m.last);
    uint8_t real[20] = {1};
    CU_ASSERT(bt_wire_parse(&p, real, sizeof(real), &used, &m) == 1 && used == 20);
    CU_ASSERT(m.data == real && m.frag_off == 30 && !m.last);
    CU_ASSERT(bt_wire_in_payload(&p, NULL) && bt_wire_in_payload(&p, &rem) && rem == 50);
    CU_ASSERT(bt_wire_parse_virtual(&p, 1000, &used, &m) == 1 && used == 50);
    CU_ASSERT(m.data == NULL && m.frag_off == 50 && m.data_len == 50 && m.last);
    CU_ASSERT(!bt_wire_in_payload(&p, &rem));
    CU_ASSERT(p.offset == 113);
    /* the next message's header must be real bytes */
    CU_ASSERT(parse_all(&p, b.data, 3, &m) == 0);
    CU_ASSERT(bt_wire_parse_virtual(&p, 10, &used, &m) == BT_ERR_PROTO && used == 0);
    CU_ASSERT(p.error != NULL && strstr(p.error, "virtual") != NULL);
    bt_wire_parser_free(&p);
    bt_wire_parser_init(&p, &test_lim, bt_mem_default());
    CU_ASSERT(bt_wire_parse_virtual(&p, 1, &used, &m) == BT_ERR_PROTO);
    bt_wire_parser_free(&p);
    bt_buf_free(&b);
}

/* ---- allocation failure ---- */

/* An extended message fed in 100-byte chunks: allocation i fails, for every i. */
static void test_nomem(void)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    uint8_t payload[4000];
    fill_pattern(payload, sizeof(payload), 3);
    bt_wire_put_extended(&b, 1, payload, sizeof(payload));
    bt_wire_put_simple(&b, BT_MSG_CHOKE);
    int successes = 0;
    for (int left = 0; left < 10; left++) {
        failmem f;
        failmem_init(&f, left);
        bt_mem mem = f.mem;
        bt_wire_parser p;
        bt_wire_parser_init(&p, &test_lim, &mem);
        int rc = 0, msgs = 0;
        for (size_t off = 0; off < b.len && rc >= 0;) {
            size_t n = b.len - off < 100 ? b.len - off : 100, used;
            bt_wire_msg m;
            rc = bt_wire_parse(&p, b.data + off, n, &used, &m);
            off += used;
            if (rc == 1 && m.id == BT_MSG_EXTENDED)
                CU_ASSERT(m.data_len == sizeof(payload) &&
                          memcmp(m.data, payload, sizeof(payload)) == 0);
            msgs += rc == 1;
        }
        CU_ASSERT(rc == BT_ERR_NOMEM || (rc >= 0 && msgs == 2));
        successes += rc >= 0;
        if (rc == BT_ERR_NOMEM)
            CU_ASSERT(p.error != NULL && f.calls == left + 1);
        bt_wire_parser_free(&p);
    }
    CU_ASSERT(successes == 5); /* 256, 512, 1024, 2048, 4000 bytes: five reallocs */
    /* a payload that arrives in one chunk needs no allocation */
    failmem f;
    failmem_init(&f, 0);
    bt_mem mem = f.mem;
    bt_wire_parser p;
    bt_wire_parser_init(&p, &test_lim, &mem);
    bt_wire_msg m;
    CU_ASSERT(parse_all(&p, b.data, b.len - 5, &m) == 1 && m.data == b.data + 6);
    CU_ASSERT(f.calls == 0);
    bt_wire_parser_free(&p);
    bt_buf_free(&b);
}

/* ---- BEP 10 extension handshake ---- */

static void set_m(bt_ext_handshake *hs, const char *name, uint8_t id)
{
    CU_ASSERT_FATAL(hs->n_m < BT_EXT_MAX_M);
    strcpy(hs->m[hs->n_m].name, name);
    hs->m[hs->n_m++].id = id;
}

static int parse_ext(const char *s, size_t n, bt_ext_handshake *hs)
{
    return bt_wire_parse_ext_handshake((const uint8_t *)s, n, hs, bt_mem_default());
}

static int parse_ext_str(const char *s, bt_ext_handshake *hs)
{
    return parse_ext(s, strlen(s), hs);
}

static void test_ext_roundtrip(void)
{
    bt_ext_handshake hs, out;
    memset(&hs, 0, sizeof(hs));
    set_m(&hs, "ut_pex", 1);
    set_m(&hs, "ut_metadata", 2);
    set_m(&hs, "lt_donthave", 7);
    set_m(&hs, "ut_pex", 9); /* duplicate: sent once, the first wins */
    hs.metadata_size = 31235;
    hs.p = 6881;
    hs.reqq = 250;
    hs.upload_only = true;
    strcpy(hs.v, "swarmlab 0.1");
    memcpy(hs.yourip, (const uint8_t[]){1, 2, 3, 4}, 4);
    hs.yourip_len = 4;
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_wire_put_ext_handshake(&b, &hs);
    static const char want[] = "d1:md11:lt_donthavei7e11:ut_metadatai2e6:ut_pexi1ee"
                               "13:metadata_sizei31235e1:pi6881e4:reqqi250e11:upload_onlyi1e"
                               "1:v12:swarmlab 0.16:yourip4:\x01\x02\x03\x04"
                               "e";
    size_t wn = sizeof(want) - 1;
    CU_ASSERT_FATAL(b.err == 0 && b.len == 6 + wn);
    CU_ASSERT(bt_be32(b.data) == wn + 2 && b.data[4] == BT_MSG_EXTENDED && b.data[5] == 0);
    CU_ASSERT(memcmp(b.data + 6, want, wn) == 0);
    /* through the message parser, then the handshake parser */
    bt_wire_parser p;
    bt_wire_parser_init(&p, &test_lim, bt_mem_default());
    bt_wire_msg m;
    CU_ASSERT_FATAL(parse_all(&p, b.data, b.len, &m) == 1);
    CU_ASSERT(m.id == BT_MSG_EXTENDED && m.ext_id == 0 && m.data_len == wn);
    CU_ASSERT_FATAL(bt_wire_parse_ext_handshake(m.data, m.data_len, &out, bt_mem_default()) == 0);
    CU_ASSERT(out.n_m == 3);
    CU_ASSERT(strcmp(out.m[0].name, "lt_donthave") == 0 && out.m[0].id == 7);
    CU_ASSERT(strcmp(out.m[1].name, "ut_metadata") == 0 && out.m[1].id == 2);
    CU_ASSERT(strcmp(out.m[2].name, "ut_pex") == 0 && out.m[2].id == 1);
    CU_ASSERT(out.metadata_size == 31235 && out.p == 6881 && out.reqq == 250);
    CU_ASSERT(out.upload_only && strcmp(out.v, "swarmlab 0.1") == 0);
    CU_ASSERT(out.yourip_len == 4 && memcmp(out.yourip, hs.yourip, 4) == 0);
    bt_wire_parser_free(&p);
    /* empty: just m; IPv6 yourip */
    memset(&hs, 0, sizeof(hs));
    hs.metadata_size = -1;
    hs.yourip_len = 16;
    memset(hs.yourip, 0xAB, 16);
    bt_buf_reset(&b);
    bt_wire_put_ext_handshake(&b, &hs);
    CU_ASSERT(b.len == 6 + 34 && memcmp(b.data + 6, "d1:mde6:yourip16:", 17) == 0);
    CU_ASSERT(bt_wire_parse_ext_handshake(b.data + 6, b.len - 6, &out, bt_mem_default()) == 0);
    CU_ASSERT(out.n_m == 0 && out.metadata_size == -1 && out.p == 0 && out.reqq == 0);
    CU_ASSERT(!out.upload_only && out.v[0] == '\0' && out.yourip_len == 16);
    CU_ASSERT(memcmp(out.yourip, hs.yourip, 16) == 0);
    bt_buf_free(&b);
}

static void test_ext_hostile(void)
{
    bt_ext_handshake hs;
    static const char *not_dicts[] = {"",         "le", "i1e",
                                      "1:a",      "d",  "dee",
                                      "d1:mde1",  "x",  "d1:pi1e1:ai1ee", /* unsorted keys */
                                      "d1:pi01ee" /* non-canonical integer */};
    for (size_t i = 0; i < sizeof(not_dicts) / sizeof(not_dicts[0]); i++)
        CU_ASSERT(parse_ext_str(not_dicts[i], &hs) == BT_ERR_PROTO);
    CU_ASSERT(parse_ext(NULL, 0, &hs) == BT_ERR_PROTO);
    /* m of the wrong type is ignored, the rest still read */
    CU_ASSERT(parse_ext_str("d1:mli1ee1:pi5ee", &hs) == 0 && hs.n_m == 0 && hs.p == 5);
    CU_ASSERT(parse_ext_str("d1:mi3e1:v1:xe", &hs) == 0 && hs.n_m == 0 && strcmp(hs.v, "x") == 0);
    /* names: 31 bytes fit, 32 and longer are skipped, as are empty names and names with NUL */
    CU_ASSERT(parse_ext_str("d1:md0:i1e31:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaai2e"
                            "32:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbi3e1:ci4eee",
                            &hs) == 0);
    CU_ASSERT(hs.n_m == 2 && strlen(hs.m[0].name) == 31 && hs.m[0].id == 2);
    CU_ASSERT(strcmp(hs.m[1].name, "c") == 0 && hs.m[1].id == 4);
    CU_ASSERT(parse_ext("d1:md3:a\0bi1e1:ci2eee", 21, &hs) == 0);
    CU_ASSERT(hs.n_m == 1 && strcmp(hs.m[0].name, "c") == 0);
    /* ids outside 0..255 and of the wrong type are skipped */
    CU_ASSERT(parse_ext_str("d1:md1:ai-1e1:bi256e1:ci255e1:d1:x1:ei0e1:fli1eeee", &hs) == 0);
    CU_ASSERT(hs.n_m == 2 && strcmp(hs.m[0].name, "c") == 0 && hs.m[0].id == 255);
    CU_ASSERT(strcmp(hs.m[1].name, "e") == 0 && hs.m[1].id == 0);
    /* scalars out of range or of the wrong type are ignored */
    CU_ASSERT(parse_ext_str("d13:metadata_sizei-5e1:pi0e4:reqqi0e11:upload_only1:1"
                            "1:vi3e6:yourip5:12345e",
                            &hs) == 0);
    CU_ASSERT(hs.metadata_size == -1 && hs.p == 0 && hs.reqq == 0 && !hs.upload_only);
    CU_ASSERT(hs.v[0] == '\0' && hs.yourip_len == 0);
    CU_ASSERT(parse_ext_str("d1:pi65536e4:reqqi4294967296e6:yourip0:e", &hs) == 0);
    CU_ASSERT(hs.p == 0 && hs.reqq == 0 && hs.yourip_len == 0);
    CU_ASSERT(parse_ext_str("d1:pi65535e4:reqqi4294967295e11:upload_onlyi7ee", &hs) == 0);
    CU_ASSERT(hs.p == 65535 && hs.reqq == UINT32_MAX && hs.upload_only);
    CU_ASSERT(parse_ext_str("d1:pi-1ee", &hs) == 0 && hs.p == 0);
}

static void test_ext_limits(void)
{
    bt_ext_handshake hs;
    char buf[8192];
    /* a 100-byte v is truncated to 63 */
    int n = snprintf(buf, sizeof(buf), "d1:v100:%0100de", 7);
    CU_ASSERT(parse_ext(buf, (size_t)n, &hs) == 0 && strlen(hs.v) == sizeof(hs.v) - 1);
    /* 20 m entries: the first BT_EXT_MAX_M are kept */
    n = snprintf(buf, sizeof(buf), "d1:md");
    for (int i = 0; i < 20; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "3:e%02di%de", i, i + 1);
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, "ee");
    CU_ASSERT(parse_ext(buf, (size_t)n, &hs) == 0 && hs.n_m == BT_EXT_MAX_M);
    CU_ASSERT(strcmp(hs.m[15].name, "e15") == 0 && hs.m[15].id == 16);
    /* deep nesting and too many items are limits */
    n = snprintf(buf, sizeof(buf), "d1:x");
    for (int i = 0; i < 20; i++)
        buf[n++] = 'l';
    for (int i = 0; i < 20; i++)
        buf[n++] = 'e';
    buf[n++] = 'e';
    CU_ASSERT(parse_ext(buf, (size_t)n, &hs) == BT_ERR_LIMIT);
    n = snprintf(buf, sizeof(buf), "d1:xl");
    for (int i = 0; i < 2000; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "i0e");
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, "ee");
    CU_ASSERT(parse_ext(buf, (size_t)n, &hs) == BT_ERR_LIMIT);
    /* allocation failure */
    failmem f;
    failmem_init(&f, 0);
    bt_mem mem = f.mem;
    CU_ASSERT(bt_wire_parse_ext_handshake((const uint8_t *)"de", 2, &hs, &mem) == BT_ERR_NOMEM);
    CU_ASSERT(hs.metadata_size == -1 && hs.n_m == 0);
}

int test_wire_add_suite(void)
{
    CU_pSuite s = CU_add_suite("wire", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "handshake", test_handshake) == NULL ||
        CU_add_test(s, "encode vectors", test_encode_vectors) == NULL ||
        CU_add_test(s, "round trip of every message", test_roundtrip_each) == NULL ||
        CU_add_test(s, "all two- and three-chunk splits", test_all_splits) == NULL ||
        CU_add_test(s, "one byte at a time, random chunks", test_one_byte_and_random) == NULL ||
        CU_add_test(s, "limit violations", test_violations) == NULL ||
        CU_add_test(s, "bitfield spare bits", test_bitfield_spare_bits) == NULL ||
        CU_add_test(s, "messages at their limits", test_at_limits) == NULL ||
        CU_add_test(s, "virtual payload", test_virtual) == NULL ||
        CU_add_test(s, "allocation failure", test_nomem) == NULL ||
        CU_add_test(s, "ext handshake round trip", test_ext_roundtrip) == NULL ||
        CU_add_test(s, "ext handshake hostile", test_ext_hostile) == NULL ||
        CU_add_test(s, "ext handshake limits", test_ext_limits) == NULL)
        return 1;
    return 0;
}
