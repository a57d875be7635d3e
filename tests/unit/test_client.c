/* test_client.c: the client engine driven by hand-built wire bytes from a scripted peer:
 * handshake bytes and reserved bits, first-message rules, BEP 6 rules, serving requests as
 * payload segments, the request pipeline, keep-alive, snubbing and timeouts, banning, and
 * allocation failures (failmalloc). Fixed `now` values; no network. */
#include "bt.h"
#include "bt_wire.h"
#include "failmem.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

int test_client_add_suite(void);

#define NPIECES 8
#define PLEN 32768u
#define TOTAL (NPIECES * PLEN - 1000)

typedef struct fixture {
    bt_client *c;
    uint8_t hashes[NPIECES * 20];
    uint8_t info_hash[20];
    uint8_t our_id[20];
    bt_conn_id id;
} fixture;

static const uint8_t peer_id[20] = "-XX0001-abcdefghijkl";

static int setup(fixture *f, bool seed, const bt_mem *mem)
{
    memset(f, 0, sizeof(*f));
    for (int i = 0; i < NPIECES * 20; i++)
        f->hashes[i] = (uint8_t)i;
    memset(f->info_hash, 0xab, 20);
    bt_config cfg;
    bt_config_defaults(&cfg);
    memcpy(cfg.info_hash, f->info_hash, 20);
    cfg.piece_hashes = f->hashes;
    cfg.npieces = NPIECES;
    cfg.piece_len = PLEN;
    cfg.total_len = TOTAL;
    memcpy(cfg.peer_id, "-SL0100-000000000000", 20);
    memcpy(f->our_id, cfg.peer_id, 20);
    cfg.listen_port = 6881;
    cfg.seed = seed;
    int rv = bt_client_new(&f->c, &cfg, 1, mem);
    if (rv != 0)
        return rv;
    return bt_client_start(f->c, 1);
}

static void drain_actions(fixture *f, bt_action *last_close)
{
    bt_action a;
    while (bt_client_poll_action(f->c, &a) == 1)
        if (a.type == BT_ACT_CLOSE && last_close != NULL)
            *last_close = a;
}

static int accept_peer(fixture *f, bt_time_us now)
{
    bt_addr from = {.family = 4, .ip = {127, 0, 0, 2}, .port = 50000};
    return bt_client_accept(f->c, &from, &f->id, now);
}

static void put_handshake(bt_buf *b, const uint8_t ih[20], const uint8_t pid[20], bool fast)
{
    bt_handshake hs;
    memset(&hs, 0, sizeof(hs));
    if (fast)
        hs.reserved[BT_RESERVED_FAST_BYTE] |= BT_RESERVED_FAST_BIT;
    hs.reserved[BT_RESERVED_EXT_BYTE] |= BT_RESERVED_EXT_BIT;
    memcpy(hs.info_hash, ih, 20);
    memcpy(hs.peer_id, pid, 20);
    bt_wire_put_handshake(b, &hs);
}

/* Collects everything the client wants to send on f->id (control bytes only; payload
 * segments are counted in *payload). */
static size_t pull_all(fixture *f, bt_buf *out, uint64_t *payload, bt_time_us now)
{
    size_t total = 0;
    for (;;) {
        const bt_seg *segs;
        bt_ssize n = bt_conn_pull_send(f->c, f->id, &segs, now);
        if (n <= 0)
            return total;
        size_t moved = 0;
        for (bt_ssize i = 0; i < n; i++) {
            if (segs[i].is_virtual) {
                if (payload != NULL)
                    *payload += segs[i].len;
            } else {
                bt_buf_put(out, segs[i].data, segs[i].len);
            }
            moved += segs[i].len;
        }
        bt_conn_sent(f->c, f->id, moved, now);
        total += moved;
    }
}

static bt_ssize feed(fixture *f, bt_buf *b, bt_time_us now)
{
    bt_ssize rv = bt_conn_recv(f->c, f->id, b->data, b->len, now);
    bt_buf_reset(b);
    return rv;
}

/* Handshake from a Fast+extended peer; checks what the client answers. */
static void test_handshake_bytes(void)
{
    fixture f;
    CU_ASSERT_FATAL(setup(&f, false, NULL) == 0);
    drain_actions(&f, NULL);
    CU_ASSERT_FATAL(accept_peer(&f, 2) == 0);
    bt_buf b, out;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_buf_init(&out, bt_mem_default(), 0);
    put_handshake(&b, f.info_hash, peer_id, true);
    CU_ASSERT(feed(&f, &b, 3) == BT_HANDSHAKE_LEN);
    pull_all(&f, &out, NULL, 3);
    CU_ASSERT_FATAL(out.len >= BT_HANDSHAKE_LEN + 5);
    CU_ASSERT(out.data[0] == 19 && memcmp(out.data + 1, "BitTorrent protocol", 19) == 0);
    CU_ASSERT(out.data[20 + 5] & 0x10); /* BEP 10 */
    CU_ASSERT(out.data[20 + 7] & 0x04); /* BEP 6 */
    CU_ASSERT(memcmp(out.data + 28, f.info_hash, 20) == 0);
    CU_ASSERT(memcmp(out.data + 48, f.our_id, 20) == 0);
    /* a leecher with nothing, to a Fast peer: have-none (len 1, id 15), then the BEP 10 hs */
    static const uint8_t have_none[5] = {0, 0, 0, 1, 15};
    CU_ASSERT(memcmp(out.data + 68, have_none, 5) == 0);
    CU_ASSERT_FATAL(out.len > 68 + 5 + 6);
    CU_ASSERT(out.data[68 + 5 + 4] == 20 && out.data[68 + 5 + 5] == 0);
    bt_conn_info info;
    CU_ASSERT(bt_conn_get_info(f.c, f.id, &info) == 0);
    CU_ASSERT(info.handshaked && info.fast && info.extended && !info.peer_interested);
    bt_buf_free(&b);
    bt_buf_free(&out);
    bt_client_del(f.c);
}

/* Runs a script of bytes after a good handshake and returns the close reason (or NONE). */
static int close_reason_after(bool fast, bool seed, void (*script)(bt_buf *))
{
    fixture f;
    CU_ASSERT_FATAL(setup(&f, seed, NULL) == 0);
    CU_ASSERT_FATAL(accept_peer(&f, 2) == 0);
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    put_handshake(&b, f.info_hash, peer_id, fast);
    script(&b);
    feed(&f, &b, 3);
    bt_action close = {0};
    drain_actions(&f, &close);
    bt_buf_free(&b);
    bt_client_del(f.c);
    return close.type == BT_ACT_CLOSE ? close.reason : BT_CLOSE_NONE;
}

static void s_nothing(bt_buf *b) { (void)b; }
static void s_bitfield_twice(bt_buf *b)
{
    uint8_t bits[1] = {0x80};
    bt_wire_put_bitfield(b, bits, 1);
    bt_wire_put_bitfield(b, bits, 1);
}
static void s_have_then_bitfield(bt_buf *b)
{
    uint8_t bits[1] = {0x80};
    bt_wire_put_index(b, BT_MSG_HAVE, 1);
    bt_wire_put_bitfield(b, bits, 1);
}
static void s_have_all(bt_buf *b) { bt_wire_put_simple(b, BT_MSG_HAVE_ALL); }
static void s_have_out_of_range(bt_buf *b) { bt_wire_put_index(b, BT_MSG_HAVE, NPIECES); }
static void s_request_past_end(bt_buf *b)
{
    bt_wire_put_block(b, BT_MSG_REQUEST, NPIECES - 1, PLEN - 1000 - 100, 16384);
}
static void s_reject_without_fast(bt_buf *b) { bt_wire_put_block(b, BT_MSG_REJECT, 0, 0, 16384); }
static void s_huge_length(bt_buf *b) { bt_buf_put_be32(b, 0xffffffffu); }
static void s_all_seed(bt_buf *b)
{
    uint8_t bits[1] = {0xff};
    bt_wire_put_bitfield(b, bits, 1);
}

static void test_protocol_violations_close(void)
{
    CU_ASSERT_EQUAL(close_reason_after(true, false, s_nothing), BT_CLOSE_NONE);
    CU_ASSERT_EQUAL(close_reason_after(true, false, s_bitfield_twice), BT_CLOSE_PROTOCOL);
    CU_ASSERT_EQUAL(close_reason_after(true, false, s_have_then_bitfield), BT_CLOSE_PROTOCOL);
    CU_ASSERT_EQUAL(close_reason_after(false, false, s_have_all), BT_CLOSE_PROTOCOL);
    CU_ASSERT_EQUAL(close_reason_after(true, false, s_have_all), BT_CLOSE_NONE);
    CU_ASSERT_EQUAL(close_reason_after(true, false, s_have_out_of_range), BT_CLOSE_PROTOCOL);
    CU_ASSERT_EQUAL(close_reason_after(true, true, s_request_past_end), BT_CLOSE_PROTOCOL);
    CU_ASSERT_EQUAL(close_reason_after(false, false, s_reject_without_fast), BT_CLOSE_PROTOCOL);
    CU_ASSERT_EQUAL(close_reason_after(true, false, s_huge_length), BT_CLOSE_LIMIT);
    CU_ASSERT_EQUAL(close_reason_after(true, true, s_all_seed), BT_CLOSE_BOTH_SEEDS);
}

static void test_bad_handshakes(void)
{
    fixture f;
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    uint8_t other[20];
    memset(other, 0xcd, 20);
    /* wrong info-hash */
    CU_ASSERT_FATAL(setup(&f, false, NULL) == 0);
    CU_ASSERT_FATAL(accept_peer(&f, 2) == 0);
    put_handshake(&b, other, peer_id, true);
    feed(&f, &b, 3);
    bt_action close = {0};
    drain_actions(&f, &close);
    CU_ASSERT(close.type == BT_ACT_CLOSE && close.reason == BT_CLOSE_HANDSHAKE);
    bt_client_del(f.c);
    /* our own peer id */
    CU_ASSERT_FATAL(setup(&f, false, NULL) == 0);
    CU_ASSERT_FATAL(accept_peer(&f, 2) == 0);
    put_handshake(&b, f.info_hash, f.our_id, true);
    feed(&f, &b, 3);
    memset(&close, 0, sizeof(close));
    drain_actions(&f, &close);
    CU_ASSERT(close.type == BT_ACT_CLOSE && close.reason == BT_CLOSE_SELF);
    bt_client_del(f.c);
    /* not BitTorrent at all, one byte at a time */
    CU_ASSERT_FATAL(setup(&f, false, NULL) == 0);
    CU_ASSERT_FATAL(accept_peer(&f, 2) == 0);
    const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n01234567890123456789012345678901234567890";
    for (size_t i = 0; i < 68; i++)
        CU_ASSERT(bt_conn_recv(f.c, f.id, (const uint8_t *)http + i, 1, 3) == 1);
    memset(&close, 0, sizeof(close));
    drain_actions(&f, &close);
    CU_ASSERT(close.type == BT_ACT_CLOSE && close.reason == BT_CLOSE_HANDSHAKE);
    /* the connection is gone: further bytes are refused */
    CU_ASSERT(bt_conn_recv(f.c, f.id, (const uint8_t *)"x", 1, 4) == BT_ERR_NOTFOUND);
    bt_client_del(f.c);
    bt_buf_free(&b);
}

/* A seed unchokes an interested peer at once (new connection rechoke) and serves its requests
 * as payload segments the host fills from storage. */
static void test_seed_serves_requests(void)
{
    fixture f;
    CU_ASSERT_FATAL(setup(&f, true, NULL) == 0);
    CU_ASSERT_FATAL(accept_peer(&f, 2) == 0);
    bt_buf b, out;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_buf_init(&out, bt_mem_default(), 0);
    put_handshake(&b, f.info_hash, peer_id, true);
    bt_wire_put_simple(&b, BT_MSG_HAVE_NONE);
    bt_wire_put_simple(&b, BT_MSG_INTERESTED);
    feed(&f, &b, 3);
    pull_all(&f, &out, NULL, 3);
    /* handshake, have-all (seed to a Fast peer), ext handshake, then unchoke */
    static const uint8_t have_all[5] = {0, 0, 0, 1, 14};
    CU_ASSERT(memcmp(out.data + 68, have_all, 5) == 0);
    bt_conn_info info;
    bt_conn_get_info(f.c, f.id, &info);
    CU_ASSERT(info.peer_interested);
    CU_ASSERT(!info.am_choking); /* reference choker: a free slot goes to it right away */
    bt_buf_reset(&out);
    /* two requests, one for the short last block of the short last piece */
    uint32_t last_len = PLEN - 1000 - 16384;
    bt_wire_put_block(&b, BT_MSG_REQUEST, 0, 16384, 16384);
    bt_wire_put_block(&b, BT_MSG_REQUEST, NPIECES - 1, 16384, last_len);
    feed(&f, &b, 4);
    const bt_seg *segs;
    bt_ssize n = bt_conn_pull_send(f.c, f.id, &segs, 4);
    CU_ASSERT_FATAL(n == 4);
    CU_ASSERT(!segs[0].is_virtual && segs[0].len == 13);
    CU_ASSERT(bt_be32(segs[0].data) == 9 + 16384 && segs[0].data[4] == BT_MSG_PIECE);
    CU_ASSERT(segs[1].is_virtual && segs[1].piece == 0 && segs[1].begin == 16384 &&
              segs[1].len == 16384);
    CU_ASSERT(segs[3].is_virtual && segs[3].piece == NPIECES - 1 && segs[3].len == last_len);
    /* a partial send moves the payload position */
    bt_conn_sent(f.c, f.id, 13 + 100, 5);
    n = bt_conn_pull_send(f.c, f.id, &segs, 5);
    CU_ASSERT_FATAL(n == 3);
    CU_ASSERT(segs[0].is_virtual && segs[0].begin == 16384 + 100 && segs[0].len == 16384 - 100);
    bt_client_stats st;
    bt_client_get_stats(f.c, &st);
    CU_ASSERT(st.uploaded == 100);
    /* a request for a piece past the count is a violation even for a seed */
    bt_buf_free(&b);
    bt_buf_free(&out);
    bt_client_del(f.c);
}

/* Counts the request messages in |out|. */
static uint32_t count_msgs(const bt_buf *out, size_t from, uint8_t id)
{
    uint32_t n = 0;
    for (size_t off = from; off + 4 <= out->len;) {
        uint32_t len = bt_be32(out->data + off);
        if (len > 0 && off + 4 < out->len && out->data[off + 4] == id)
            n++;
        off += 4 + len;
    }
    return n;
}

/* A leecher requests from an unchoking seed: pipeline starts at mainline's 2 and grows with
 * the measured rate; snubbing shrinks it; the request timeout releases and cancels. */
static void test_pipeline_and_snub(void)
{
    fixture f;
    CU_ASSERT_FATAL(setup(&f, false, NULL) == 0);
    CU_ASSERT_FATAL(accept_peer(&f, 2) == 0);
    bt_buf b, out;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_buf_init(&out, bt_mem_default(), 0);
    put_handshake(&b, f.info_hash, peer_id, false); /* no Fast: a plain BEP 3 peer */
    uint8_t bits[1] = {0xff};
    bt_wire_put_bitfield(&b, bits, 1);
    bt_wire_put_simple(&b, BT_MSG_UNCHOKE);
    feed(&f, &b, 3);
    pull_all(&f, &out, NULL, 3);
    CU_ASSERT(count_msgs(&out, 68, BT_MSG_INTERESTED) == 1);
    CU_ASSERT(count_msgs(&out, 68, BT_MSG_REQUEST) == 2);
    bt_conn_info info;
    bt_conn_get_info(f.c, f.id, &info);
    CU_ASSERT(info.requests_out == 2 && info.am_interested && !info.peer_choking);
    /* nothing arrives: after the snub time the peer is snubbed */
    bt_client_on_timer(f.c, BT_SEC(32));
    bt_conn_get_info(f.c, f.id, &info);
    CU_ASSERT(info.snubbed);
    /* after the request timeout the requests are cancelled and released */
    bt_buf_reset(&out);
    bt_client_on_timer(f.c, BT_SEC(63));
    pull_all(&f, &out, NULL, BT_SEC(63));
    CU_ASSERT(count_msgs(&out, 0, BT_MSG_CANCEL) == 2);
    bt_conn_get_info(f.c, f.id, &info);
    CU_ASSERT(info.requests_out == 0); /* other peers get the first chance at the blocks */
    bt_client_on_timer(f.c, BT_SEC(64));
    bt_conn_get_info(f.c, f.id, &info);
    CU_ASSERT(info.requests_out == 1); /* then: snubbed, a pipeline of one */
    bt_buf_free(&b);
    bt_buf_free(&out);
    bt_client_del(f.c);
}

/* BEP 47: with piece 0's second block and all of piece 1 in padding (piece 1's hash is that
 * of zeros), the leecher starts with piece 1, never requests the pad block, and asks for
 * piece 0's verify once its one real block is in. */
static void test_pad_not_requested(void)
{
    fixture f;
    memset(&f, 0, sizeof(f));
    memset(f.info_hash, 0xab, 20);
    uint8_t zeros[PLEN];
    memset(zeros, 0, sizeof(zeros));
    bt_sha1(zeros, PLEN, f.hashes + 20);
    bt_byte_range pad[1] = {{16384, 16384 + PLEN}};
    bt_config cfg;
    bt_config_defaults(&cfg);
    memcpy(cfg.info_hash, f.info_hash, 20);
    cfg.piece_hashes = f.hashes;
    cfg.npieces = NPIECES;
    cfg.piece_len = PLEN;
    cfg.total_len = TOTAL;
    cfg.picker = "sequential";
    cfg.pad = pad;
    cfg.npad = 1;
    memcpy(cfg.peer_id, "-SL0100-000000000000", 20);
    CU_ASSERT_FATAL(bt_client_new(&f.c, &cfg, 1, NULL) == 0);
    CU_ASSERT_FATAL(bt_client_start(f.c, 1) == 0);
    bt_client_stats st;
    bt_client_get_stats(f.c, &st);
    CU_ASSERT_EQUAL(st.pieces_have, 1); /* piece 1: all zeros, nothing to fetch */
    CU_ASSERT_FATAL(accept_peer(&f, 2) == 0);
    bt_buf b, out;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_buf_init(&out, bt_mem_default(), 0);
    put_handshake(&b, f.info_hash, peer_id, false);
    uint8_t bits[1] = {0xff};
    bt_wire_put_bitfield(&b, bits, 1);
    bt_wire_put_simple(&b, BT_MSG_UNCHOKE);
    feed(&f, &b, 3);
    drain_actions(&f, NULL);
    pull_all(&f, &out, NULL, 3);
    /* the first two requests: (0, 0) then piece 2, not (0, 16384) nor piece 1 */
    uint32_t seen = 0;
    for (size_t off = 68; off + 4 <= out.len; off += 4 + bt_be32(out.data + off)) {
        if (bt_be32(out.data + off) != 13 || out.data[off + 4] != BT_MSG_REQUEST)
            continue;
        uint32_t piece = bt_be32(out.data + off + 5), begin = bt_be32(out.data + off + 9);
        CU_ASSERT((seen == 0 && piece == 0 && begin == 0) || (seen == 1 && piece == 2));
        seen++;
    }
    CU_ASSERT_EQUAL(seen, 2);
    bt_client_get_stats(f.c, &st);
    CU_ASSERT_EQUAL(st.pad_blocks, 1);
    /* block (0, 0) arrives: piece 0 is complete and goes to verification */
    static uint8_t data[16384];
    bt_buf_put_be32(&b, 9 + 16384);
    bt_buf_put_u8(&b, BT_MSG_PIECE);
    bt_buf_put_be32(&b, 0);
    bt_buf_put_be32(&b, 0);
    bt_buf_put(&b, data, sizeof(data));
    feed(&f, &b, 4);
    bt_action a;
    bool wrote = false, verify = false;
    while (bt_client_poll_action(f.c, &a) == 1) {
        wrote = wrote || (a.type == BT_ACT_STORAGE_WRITE && a.piece == 0 && a.begin == 0);
        verify = verify || (a.type == BT_ACT_STORAGE_VERIFY && a.piece == 0);
    }
    CU_ASSERT(wrote);
    CU_ASSERT(verify);
    bt_buf_free(&b);
    bt_buf_free(&out);
    bt_client_del(f.c);
}

/* Appends a piece message for (piece, begin) with 16 KiB of |fill| bytes. */
static void put_piece(bt_buf *b, uint32_t piece, uint32_t begin, uint8_t fill)
{
    uint8_t data[16384];
    memset(data, fill, sizeof(data));
    bt_wire_put_piece_header(b, piece, begin, sizeof(data));
    bt_buf_put(b, data, sizeof(data));
}

/* bt_conn_recv_borrow: a block whole in one input is handed over as a pointer into that
 * input (borrowed, never freed by the engine, even when still queued at bt_client_del); a
 * block split across two inputs is assembled and handed over as the engine's copy. */
static void test_recv_borrow(void)
{
    fixture f;
    CU_ASSERT_FATAL(setup(&f, false, NULL) == 0);
    CU_ASSERT_FATAL(accept_peer(&f, 2) == 0);
    bt_buf b, out;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_buf_init(&out, bt_mem_default(), 0);
    put_handshake(&b, f.info_hash, peer_id, true); /* Fast: HAVE_ALL */
    bt_wire_put_simple(&b, BT_MSG_HAVE_ALL);
    bt_wire_put_simple(&b, BT_MSG_UNCHOKE);
    CU_ASSERT(bt_conn_recv_borrow(f.c, f.id, b.data, b.len, 3) == (bt_ssize)b.len);
    bt_buf_reset(&b);
    drain_actions(&f, NULL);
    pull_all(&f, &out, NULL, 3);
    uint32_t req[2][2], nreq = 0; /* the first two requests (the pipeline starts at 2) */
    for (size_t off = 68; off + 4 <= out.len && nreq < 2; off += 4 + bt_be32(out.data + off))
        if (bt_be32(out.data + off) == 13 && out.data[off + 4] == BT_MSG_REQUEST) {
            req[nreq][0] = bt_be32(out.data + off + 5);
            req[nreq++][1] = bt_be32(out.data + off + 9);
        }
    CU_ASSERT_FATAL(nreq == 2);
    /* whole: borrowed, pointing at the payload inside the input */
    put_piece(&b, req[0][0], req[0][1], 0x11);
    CU_ASSERT(bt_conn_recv_borrow(f.c, f.id, b.data, b.len, 4) == (bt_ssize)b.len);
    bt_action a;
    bool seen = false;
    while (bt_client_poll_action(f.c, &a) == 1)
        if (a.type == BT_ACT_STORAGE_WRITE) {
            seen = true;
            CU_ASSERT(a.borrowed && a.data == b.data + 13 && a.length == 16384);
        }
    CU_ASSERT(seen);
    bt_buf_reset(&b);
    /* split in two inputs: the engine's own copy */
    put_piece(&b, req[1][0], req[1][1], 0x22);
    CU_ASSERT(bt_conn_recv_borrow(f.c, f.id, b.data, 100, 5) == 100);
    CU_ASSERT(bt_conn_recv_borrow(f.c, f.id, b.data + 100, b.len - 100, 5) ==
              (bt_ssize)(b.len - 100));
    memset(b.data, 0, b.len); /* the host reuses its input */
    seen = false;
    while (bt_client_poll_action(f.c, &a) == 1)
        if (a.type == BT_ACT_STORAGE_WRITE) {
            seen = true;
            CU_ASSERT(!a.borrowed && a.data != NULL && a.data[0] == 0x22 && a.data[16383] == 0x22);
        }
    CU_ASSERT(seen);
    bt_buf_reset(&b);
    /* a borrowed block still queued when the client goes is not freed by it (ASan) */
    bt_buf_reset(&out);
    pull_all(&f, &out, NULL, 6); /* the pipeline refilled */
    CU_ASSERT_FATAL(out.len >= 17 && bt_be32(out.data) == 13 && out.data[4] == BT_MSG_REQUEST);
    put_piece(&b, bt_be32(out.data + 5), bt_be32(out.data + 9), 0x33);
    CU_ASSERT(bt_conn_recv_borrow(f.c, f.id, b.data, b.len, 6) == (bt_ssize)b.len);
    CU_ASSERT(bt_client_peek_action(f.c, 0) != NULL &&
              bt_client_peek_action(f.c, 0)->type == BT_ACT_STORAGE_WRITE &&
              bt_client_peek_action(f.c, 0)->borrowed);
    bt_client_del(f.c);
    bt_buf_free(&b);
    bt_buf_free(&out);
}

static void test_keepalive_and_idle_timeout(void)
{
    fixture f;
    CU_ASSERT_FATAL(setup(&f, false, NULL) == 0);
    CU_ASSERT_FATAL(accept_peer(&f, 2) == 0);
    bt_buf b, out;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_buf_init(&out, bt_mem_default(), 0);
    put_handshake(&b, f.info_hash, peer_id, true);
    feed(&f, &b, 3);
    pull_all(&f, &out, NULL, 3);
    bt_buf_reset(&out);
    drain_actions(&f, NULL);
    for (bt_time_us t = BT_SEC(1); t <= BT_SEC(119); t += BT_SEC(1))
        bt_client_on_timer(f.c, t);
    CU_ASSERT(pull_all(&f, &out, NULL, BT_SEC(119)) == 0);
    bt_client_on_timer(f.c, BT_SEC(124));
    CU_ASSERT(pull_all(&f, &out, NULL, BT_SEC(124)) == 4); /* a keep-alive: 4 zero bytes */
    CU_ASSERT(out.len == 4 && bt_be32(out.data) == 0);
    /* the peer itself stays silent: closed after 300 s */
    bt_action close = {0};
    bt_client_on_timer(f.c, BT_SEC(290));
    drain_actions(&f, &close);
    CU_ASSERT(close.type == 0);
    bt_client_on_timer(f.c, BT_SEC(304));
    drain_actions(&f, &close);
    CU_ASSERT(close.type == BT_ACT_CLOSE && close.reason == BT_CLOSE_TIMEOUT);
    bt_buf_free(&b);
    bt_buf_free(&out);
    bt_client_del(f.c);
}

/* Unchoke time by kind: a seed's new unchoke is an optimistic turn for its first round, then
 * regular while kept; the totals stop at the choke and reach the CLOSE action. */
static void test_unchoke_time(void)
{
    fixture f;
    CU_ASSERT_FATAL(setup(&f, true, NULL) == 0);
    CU_ASSERT_FATAL(accept_peer(&f, 2) == 0);
    bt_buf b, out;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_buf_init(&out, bt_mem_default(), 0);
    put_handshake(&b, f.info_hash, peer_id, true);
    bt_wire_put_simple(&b, BT_MSG_HAVE_NONE);
    bt_wire_put_simple(&b, BT_MSG_INTERESTED);
    feed(&f, &b, 3); /* unchoked at t = 3 us */
    uint64_t reg = 1, opt = 1;
    CU_ASSERT(bt_conn_unchoke_time(f.c, f.id, BT_SEC(5), &reg, &opt) == 0);
    CU_ASSERT(reg == 0 && opt == BT_SEC(5) - 3);
    bt_conn_info info;
    CU_ASSERT(bt_conn_get_info(f.c, f.id, &info) == 0);
    CU_ASSERT(info.unchoke_kind == BT_UNCHOKE_OPTIMISTIC && !info.am_choking);
    for (bt_time_us t = BT_SEC(1); t <= BT_SEC(35); t += BT_SEC(1)) {
        bt_client_on_timer(f.c, t);
        pull_all(&f, &out, NULL, t);
    }
    CU_ASSERT(bt_conn_unchoke_time(f.c, f.id, BT_SEC(35), &reg, &opt) == 0);
    CU_ASSERT(reg + opt == BT_SEC(35) - 3);
    CU_ASSERT(reg >= BT_SEC(10) && opt >= BT_SEC(5)); /* kept in later rounds: regular */
    bt_conn_get_info(f.c, f.id, &info);
    CU_ASSERT(info.unchoke_kind == BT_UNCHOKE_REGULAR);
    /* not interested any more: choked at once; the time stops there */
    bt_wire_put_simple(&b, BT_MSG_NOT_INTERESTED);
    feed(&f, &b, BT_SEC(36));
    bt_conn_get_info(f.c, f.id, &info);
    CU_ASSERT(info.am_choking && info.unchoke_kind == BT_UNCHOKE_NONE);
    uint64_t reg2 = 0, opt2 = 0;
    CU_ASSERT(bt_conn_unchoke_time(f.c, f.id, BT_SEC(50), &reg2, &opt2) == 0);
    CU_ASSERT(reg2 + opt2 == BT_SEC(36) - 3 && opt2 == opt);
    /* a protocol violation closes it: the CLOSE action carries the same totals */
    drain_actions(&f, NULL);
    bt_wire_put_index(&b, BT_MSG_HAVE, NPIECES);
    feed(&f, &b, BT_SEC(51));
    bt_action close = {0};
    drain_actions(&f, &close);
    CU_ASSERT(close.type == BT_ACT_CLOSE && close.conn == f.id);
    CU_ASSERT(close.unchoked_regular_us == reg2 && close.unchoked_optimistic_us == opt2);
    CU_ASSERT(bt_conn_unchoke_time(f.c, f.id, BT_SEC(52), &reg, &opt) == BT_ERR_NOTFOUND);
    bt_buf_free(&b);
    bt_buf_free(&out);
    bt_client_del(f.c);
}

/* ---- failmalloc: every allocation in a scenario fails in turn ---- */

/* Client creation, start, accept, handshake and a few messages. Returns the first error. */
static int scenario(const bt_mem *mem)
{
    fixture f;
    int rv = setup(&f, true, mem);
    if (rv == 0)
        rv = accept_peer(&f, 2);
    if (rv == 0) {
        bt_buf b;
        bt_buf_init(&b, bt_mem_default(), 0);
        put_handshake(&b, f.info_hash, peer_id, true);
        bt_wire_put_simple(&b, BT_MSG_HAVE_NONE);
        bt_wire_put_simple(&b, BT_MSG_INTERESTED);
        bt_wire_put_block(&b, BT_MSG_REQUEST, 0, 0, 16384);
        bt_ssize n = feed(&f, &b, 3);
        rv = n < 0 ? (int)n : 0;
        if (rv == 0)
            rv = bt_client_on_timer(f.c, BT_SEC(11));
        bt_buf_free(&b);
    }
    bt_client_del(f.c);
    return rv;
}

static void test_failmalloc(void)
{
    failmem fm;
    failmem_init(&fm, -1);
    CU_ASSERT_FATAL(scenario(&fm.mem) == 0);
    long total = fm.calls;
    CU_ASSERT(total > 10);
    for (long i = 0; i < total; i++) {
        failmem_init_once(&fm, i + 1); /* allocation i (from 0) fails, the others succeed */
        int rv = scenario(&fm.mem);
        /* either the failure hit an optional path and the scenario still worked, or the
         * error is reported as NOMEM; never a crash or a leak (ASan) */
        CU_ASSERT(rv == 0 || rv == BT_ERR_NOMEM);
    }
}

int test_client_add_suite(void)
{
    CU_pSuite s = CU_add_suite("client", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "handshake bytes and first messages", test_handshake_bytes) ||
        !CU_add_test(s, "protocol violations close", test_protocol_violations_close) ||
        !CU_add_test(s, "bad handshakes close", test_bad_handshakes) ||
        !CU_add_test(s, "seed serves requests as payload segments", test_seed_serves_requests) ||
        !CU_add_test(s, "pipeline, snub, request timeout", test_pipeline_and_snub) ||
        !CU_add_test(s, "keep-alive and idle timeout", test_keepalive_and_idle_timeout) ||
        !CU_add_test(s, "BEP 47 pad blocks not requested", test_pad_not_requested) ||
        !CU_add_test(s, "recv_borrow: whole blocks not copied", test_recv_borrow) ||
        !CU_add_test(s, "unchoke time by kind", test_unchoke_time) ||
        !CU_add_test(s, "failmalloc", test_failmalloc))
        return 1;
    return 0;
}
