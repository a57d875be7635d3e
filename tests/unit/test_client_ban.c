/* test_client_ban.c: blame and bans in the client engine (engine/bt_client_ban.c), driven by
 * hand-built wire bytes from two scripted peers that only have piece 0 (two blocks): an
 * honest peer A and a liar B whose block 1 is wrong. Smart ban (live mode) bans only B, once
 * piece 0 verifies, however often A shared a failed piece with it; the strike model (the
 * simulator's) bans both after two shared failures. A sole source is banned at once. A ban
 * covers the IP: B's redial from another port is refused, B's IP is skipped in peer lists,
 * other IPs are not. Fixed `now` values; no network. */
#include "bt.h"
#include "bt_client_int.h"
#include "bt_wire.h"

#include <CUnit/CUnit.h>
#include <string.h>

int test_client_ban_add_suite(void);

#define NPIECES 4
#define PLEN 32768u /* two blocks */
#define BLK 16384u

typedef struct peer {
    bt_addr addr;
    bt_conn_id id;
} peer;

typedef struct world {
    bt_client *c;
    uint8_t hashes[NPIECES * 20];
    uint8_t info_hash[20];
    uint8_t good[PLEN], bad1[BLK]; /* piece 0 and a wrong block 1 */
    uint8_t stored[NPIECES * PLEN]; /* what STORAGE_WRITE actions wrote (the host's storage) */
    bool no_bytes; /* verify results come without the piece's bytes */
    peer a, b;
    uint32_t verifies, bans;
    bt_addr banned[4];
    bt_time_us now;
} world;

static int setup(world *w, bool smart)
{
    memset(w, 0, sizeof(*w));
    for (int i = 0; i < NPIECES * 20; i++)
        w->hashes[i] = (uint8_t)i;
    memset(w->info_hash, 0x5b, 20);
    for (uint32_t i = 0; i < PLEN; i++)
        w->good[i] = (uint8_t)(i * 7 + 1);
    memcpy(w->bad1, w->good + BLK, BLK);
    w->bad1[100] ^= 0x40;
    bt_config cfg;
    bt_config_defaults(&cfg);
    memcpy(cfg.info_hash, w->info_hash, 20);
    cfg.piece_hashes = w->hashes;
    cfg.npieces = NPIECES;
    cfg.piece_len = PLEN;
    cfg.total_len = NPIECES * PLEN;
    memcpy(cfg.peer_id, "-SL0100-banbanbanban", 20);
    cfg.listen_port = 6881;
    cfg.smart_ban = smart;
    w->a.addr = (bt_addr){.family = 4, .ip = {10, 0, 0, 1}, .port = 50001};
    w->b.addr = (bt_addr){.family = 4, .ip = {10, 0, 0, 2}, .port = 50002};
    w->now = 1;
    int rv = bt_client_new(&w->c, &cfg, 7, NULL);
    return rv != 0 ? rv : bt_client_start(w->c, w->now);
}

/* Drains the actions, storing written blocks; a piece that wants verifying gets the right
 * digest when |good_next| and otherwise a wrong one, with its stored bytes (smart ban's
 * fingerprints come from them). */
static void drain(world *w, bool good_next)
{
    bt_action a;
    while (bt_client_poll_action(w->c, &a) == 1) {
        if (a.type == BT_ACT_BAN && w->bans < 4)
            w->banned[w->bans++] = a.addr;
        if (a.type == BT_ACT_STORAGE_WRITE && a.data != NULL && a.piece < NPIECES &&
            a.begin + a.length <= PLEN)
            memcpy(w->stored + a.piece * PLEN + a.begin, a.data, a.length);
        if (a.type != BT_ACT_STORAGE_VERIFY)
            continue;
        uint8_t digest[20];
        memcpy(digest, w->hashes + a.piece * 20, 20);
        if (!good_next)
            digest[0] ^= 1;
        w->verifies++;
        const uint8_t *bytes = w->no_bytes ? NULL : w->stored + a.piece * PLEN;
        CU_ASSERT(bt_client_verify_result_bytes(w->c, a.piece, digest, bytes, ++w->now) == 0);
    }
}

/* Everything the client queued for |p| (payload is real, so every segment has bytes). */
static void pull(world *w, const peer *p, bt_buf *out)
{
    for (;;) {
        const bt_seg *segs;
        bt_ssize n = bt_conn_pull_send(w->c, p->id, &segs, w->now);
        if (n <= 0)
            return;
        size_t moved = 0;
        for (bt_ssize i = 0; i < n; i++) {
            bt_buf_put(out, segs[i].data, segs[i].len);
            moved += segs[i].len;
        }
        bt_conn_sent(w->c, p->id, moved, w->now);
    }
}

static bool requested(const bt_buf *out, uint32_t begin)
{
    for (size_t off = 0; off + 4 <= out->len;) {
        uint32_t len = bt_be32(out->data + off);
        if (len == 13 && off + 17 <= out->len && out->data[off + 4] == BT_MSG_REQUEST &&
            bt_be32(out->data + off + 5) == 0 && bt_be32(out->data + off + 9) == begin)
            return true;
        off += 4 + len;
    }
    return false;
}

static void feed(world *w, const peer *p, bt_buf *b)
{
    bt_conn_recv(w->c, p->id, b->data, b->len, ++w->now);
    bt_buf_reset(b);
}

/* |p| connects with a plain BEP 3 handshake and a bitfield of piece 0, choking us. */
static void join(world *w, peer *p)
{
    CU_ASSERT_FATAL(bt_client_accept(w->c, &p->addr, &p->id, ++w->now) == 0);
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_handshake hs;
    memset(&hs, 0, sizeof(hs));
    memcpy(hs.info_hash, w->info_hash, 20);
    memcpy(hs.peer_id, p == &w->a ? "-XX0001-honesthonest" : "-XX0001-liarliarliar", 20);
    bt_wire_put_handshake(&b, &hs);
    uint8_t bits[1] = {0x80};
    bt_wire_put_bitfield(&b, bits, 1);
    feed(w, p, &b);
    bt_buf_free(&b);
    drain(w, false);
}

/* |p| unchokes us; true when we then asked it for block |begin| of piece 0. */
static bool unchoke(world *w, const peer *p, uint32_t begin)
{
    bt_buf b, out;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_buf_init(&out, bt_mem_default(), 0);
    pull(w, p, &out); /* the handshake and what came before */
    bt_buf_reset(&out);
    bt_wire_put_simple(&b, BT_MSG_UNCHOKE);
    feed(w, p, &b);
    pull(w, p, &out);
    bool rv = requested(&out, begin);
    bt_buf_free(&b);
    bt_buf_free(&out);
    return rv;
}

/* |p| sends block |begin| of piece 0 (|data|), then, if |choke|, chokes us (which drops our
 * other requests to it: no Fast extension). */
static void send_block(world *w, const peer *p, uint32_t begin, const uint8_t *data, bool choke,
                       bool good_next)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_wire_put_piece_header(&b, 0, begin, BLK);
    bt_buf_put(&b, data, BLK);
    if (choke)
        bt_wire_put_simple(&b, BT_MSG_CHOKE);
    feed(w, p, &b);
    bt_buf_free(&b);
    drain(w, good_next);
}

/* One failed attempt at piece 0: block 0 from A (right), block 1 from B (wrong). */
static void shared_failure(world *w)
{
    CU_ASSERT(unchoke(w, &w->a, 0));
    send_block(w, &w->a, 0, w->good, true, false);
    CU_ASSERT(unchoke(w, &w->b, BLK));
    send_block(w, &w->b, BLK, w->bad1, true, false);
}

static bool was_banned(const world *w, const peer *p)
{
    for (uint32_t i = 0; i < w->bans && i < 4; i++)
        if (bt_addr_equal(&w->banned[i], &p->addr))
            return true;
    return false;
}

static void test_smart_ban_spares_the_honest_co_source(void)
{
    world w;
    CU_ASSERT_FATAL(setup(&w, true) == 0);
    drain(&w, false);
    join(&w, &w.a);
    join(&w, &w.b);
    shared_failure(&w);
    shared_failure(&w);
    bt_client_stats st;
    bt_client_get_stats(w.c, &st);
    CU_ASSERT(st.hash_failures == 2 && w.verifies == 2);
    CU_ASSERT(w.bans == 0); /* two shared failures: nobody is proven guilty yet */
    /* A alone brings the right piece: B's block 1 differed from it */
    CU_ASSERT(unchoke(&w, &w.a, 0));
    send_block(&w, &w.a, 0, w.good, false, true);
    send_block(&w, &w.a, BLK, w.good + BLK, false, true);
    bt_client_get_stats(w.c, &st);
    CU_ASSERT(st.pieces_have == 1 && st.hash_failures == 2);
    CU_ASSERT(w.bans == 1 && was_banned(&w, &w.b) && !was_banned(&w, &w.a));
    bt_conn_info info;
    CU_ASSERT(bt_conn_get_info(w.c, w.a.id, &info) == 0); /* A is still connected */
    CU_ASSERT(bt_conn_get_info(w.c, w.b.id, &info) != 0); /* B's connection is gone */
    /* the ban covers B's IP, any port, and nobody else's */
    bt_addr b2 = w.b.addr, other = {.family = 4, .ip = {10, 0, 0, 3}, .port = 6881};
    b2.port = 6881;
    bt_conn_id id;
    CU_ASSERT(bt_client_addr_banned(w.c, &b2) && !bt_client_addr_banned(w.c, &w.a.addr));
    CU_ASSERT(bt_client_accept(w.c, &b2, &id, ++w.now) == BT_ERR_REFUSED);
    drain(&w, true);
    bt_addr list[2] = {b2, other};
    CU_ASSERT(bt_client_add_peers(w.c, list, 2, ++w.now) == 0);
    bt_action a;
    uint32_t dials = 0;
    while (bt_client_poll_action(w.c, &a) == 1)
        if (a.type == BT_ACT_CONNECT) {
            dials++;
            CU_ASSERT(bt_addr_equal(&a.addr, &other));
        }
    CU_ASSERT(dials == 1);
    bt_client_del(w.c);
}

/* The strike model: two shared failures ban both sources. The simulator's model, and smart
 * ban's fallback when the host gives no piece bytes with the verify result. */
static void strikes_ban_both(bool smart)
{
    world w;
    CU_ASSERT_FATAL(setup(&w, smart) == 0);
    w.no_bytes = smart;
    drain(&w, false);
    join(&w, &w.a);
    join(&w, &w.b);
    shared_failure(&w);
    CU_ASSERT(w.bans == 0);
    shared_failure(&w);
    CU_ASSERT(w.bans == 2 && was_banned(&w, &w.a) && was_banned(&w, &w.b));
    bt_client_del(w.c);
}

static void test_strikes_ban_both_co_sources(void)
{
    strikes_ban_both(false);
}

static void test_smart_ban_without_bytes_strikes(void)
{
    strikes_ban_both(true);
}

static void test_sole_source_banned_at_once(void)
{
    for (int smart = 0; smart < 2; smart++) {
        world w;
        CU_ASSERT_FATAL(setup(&w, smart) == 0);
        drain(&w, false);
        join(&w, &w.b);
        CU_ASSERT(unchoke(&w, &w.b, 0));
        send_block(&w, &w.b, 0, w.good, false, false);
        send_block(&w, &w.b, BLK, w.bad1, false, false);
        CU_ASSERT(w.verifies == 1 && w.bans == 1 && was_banned(&w, &w.b));
        bt_conn_id id;
        bt_addr again = w.b.addr;
        again.port++;
        CU_ASSERT(bt_client_accept(w.c, &again, &id, ++w.now) == BT_ERR_REFUSED);
        CU_ASSERT(bt_client_accept(w.c, &w.a.addr, &id, ++w.now) == 0);
        bt_client_del(w.c);
    }
}

/* A block's fingerprint changes with any one byte of it, at every position (and with its
 * length), and never is 0 (0 means "none"). */
static void test_block_print_sees_every_byte(void)
{
    enum { N = 16384 + 13 }; /* the 8-lane body and the byte tail */
    static uint8_t blk[N];
    for (size_t i = 0; i < N; i++)
        blk[i] = (uint8_t)(i * 131u + 7u);
    uint64_t ref = bt_block_print(blk, N);
    CU_ASSERT(ref != 0);
    CU_ASSERT(bt_block_print(blk, N - 1) != ref);
    unsigned same = 0;
    for (size_t i = 0; i < N; i += 7) {
        blk[i] ^= 0x40;
        same += bt_block_print(blk, N) == ref;
        blk[i] ^= 0x40;
    }
    CU_ASSERT_EQUAL(same, 0);
    CU_ASSERT_EQUAL(bt_block_print(blk, N), ref);
}

int test_client_ban_add_suite(void)
{
    CU_pSuite s = CU_add_suite("client_ban", NULL, NULL);
    if (s == NULL ||
        !CU_add_test(s, "smart ban spares the honest co-source",
                     test_smart_ban_spares_the_honest_co_source) ||
        !CU_add_test(s, "smart ban without the bytes: strikes",
                     test_smart_ban_without_bytes_strikes) ||
        !CU_add_test(s, "strikes ban both co-sources", test_strikes_ban_both_co_sources) ||
        !CU_add_test(s, "sole source banned at once, by IP", test_sole_source_banned_at_once) ||
        !CU_add_test(s, "block fingerprint sees every byte", test_block_print_sees_every_byte))
        return -1;
    return 0;
}
