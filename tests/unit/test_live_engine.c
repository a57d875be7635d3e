/* tests/unit/test_live_engine.c: the engine changes live mode needed, from hand-built wire
 * bytes with fixed `now` values: bt_config.have (a resumed download starts with the pieces
 * its storage holds and advertises them), and the first-message rule tolerating a BEP 10
 * extension handshake (or a BEP 5 port message) before bitfield/have-all, as libtorrent and
 * transmission send it. */
#include "bt.h"
#include "bt_wire.h"

#include <CUnit/CUnit.h>
#include <string.h>

extern int test_live_engine_add_suite(void);

#define NP 10
#define PLEN 32768u
#define TOTAL (NP * PLEN - 5)

typedef struct fix {
    bt_client *c;
    uint8_t hashes[NP * 20];
    uint8_t ih[20];
    bt_conn_id id;
} fix;

static void setup_mode(fix *f, const uint8_t *have, bool lenient)
{
    memset(f, 0, sizeof(*f));
    memset(f->ih, 0x3c, 20);
    bt_config cfg;
    bt_config_defaults(&cfg);
    memcpy(cfg.info_hash, f->ih, 20);
    cfg.piece_hashes = f->hashes;
    cfg.npieces = NP;
    cfg.piece_len = PLEN;
    cfg.total_len = TOTAL;
    memcpy(cfg.peer_id, "-SL0100-live00000000", 20);
    cfg.have = have;
    cfg.lenient = lenient;
    CU_ASSERT_FATAL(bt_client_new(&f->c, &cfg, 9, bt_mem_default()) == 0);
    CU_ASSERT_FATAL(bt_client_start(f->c, 1) == 0);
    bt_addr from = {.family = 4, .ip = {127, 0, 0, 9}, .port = 50001};
    CU_ASSERT_FATAL(bt_client_accept(f->c, &from, &f->id, 2) == 0);
}

static void setup(fix *f, const uint8_t *have)
{
    setup_mode(f, have, false);
}

/* Feeds a handshake (Fast + extended) plus whatever |b| holds; returns the close reason of
 * the connection, or BT_CLOSE_NONE. */
static int feed(fix *f, bt_buf *b)
{
    bt_buf all;
    bt_buf_init(&all, bt_mem_default(), 0);
    bt_handshake hs;
    memset(&hs, 0, sizeof(hs));
    hs.reserved[BT_RESERVED_FAST_BYTE] |= BT_RESERVED_FAST_BIT;
    hs.reserved[BT_RESERVED_EXT_BYTE] |= BT_RESERVED_EXT_BIT;
    memcpy(hs.info_hash, f->ih, 20);
    memcpy(hs.peer_id, "-LT2080-abcdefghijkl", 20);
    bt_wire_put_handshake(&all, &hs);
    bt_buf_put(&all, b->data, b->len);
    bt_conn_recv(f->c, f->id, all.data, all.len, 3);
    bt_buf_free(&all);
    bt_action a;
    int reason = BT_CLOSE_NONE;
    while (bt_client_poll_action(f->c, &a) == 1)
        if (a.type == BT_ACT_CLOSE && a.conn == f->id)
            reason = a.reason;
    return reason;
}

static void put_ext_hs(bt_buf *b)
{
    bt_ext_handshake eh;
    memset(&eh, 0, sizeof(eh));
    eh.metadata_size = -1;
    eh.reqq = 500;
    strcpy(eh.v, "libtorrent 2.0.8");
    bt_wire_put_ext_handshake(b, &eh);
}

static void test_ext_handshake_before_have_all(void)
{
    fix f;
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    setup(&f, NULL);
    put_ext_hs(&b);
    bt_wire_put_simple(&b, BT_MSG_HAVE_ALL);
    CU_ASSERT_EQUAL(feed(&f, &b), BT_CLOSE_NONE);
    bt_conn_info info;
    CU_ASSERT_FATAL(bt_conn_get_info(f.c, f.id, &info) == 0);
    CU_ASSERT(info.is_seed);
    CU_ASSERT_EQUAL(info.peer_pieces, NP);
    bt_client_del(f.c);
    /* A port message first, then a bitfield: accepted too. */
    bt_buf_reset(&b);
    setup(&f, NULL);
    uint8_t bits[2] = {0xff, 0xc0};
    bt_wire_put_port(&b, 6881);
    put_ext_hs(&b);
    bt_wire_put_bitfield(&b, bits, 2);
    CU_ASSERT_EQUAL(feed(&f, &b), BT_CLOSE_NONE);
    bt_client_del(f.c);
    /* A core message first still makes a later bitfield a violation. */
    bt_buf_reset(&b);
    setup(&f, NULL);
    put_ext_hs(&b);
    bt_wire_put_index(&b, BT_MSG_HAVE, 1);
    bt_wire_put_bitfield(&b, bits, 2);
    CU_ASSERT_EQUAL(feed(&f, &b), BT_CLOSE_PROTOCOL);
    bt_client_del(f.c);
    bt_buf_free(&b);
}

/* aria2 sends have-none, then later a whole bitfield instead of (or besides) haves. */
static void test_late_bitfield(void)
{
    uint8_t some[2] = {0x90, 0x00}, more[2] = {0x98, 0x40}, fewer[2] = {0x10, 0x00};
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    for (int lenient = 0; lenient <= 1; lenient++) {
        fix f;
        setup_mode(&f, NULL, lenient);
        put_ext_hs(&b);
        bt_wire_put_simple(&b, BT_MSG_HAVE_NONE);
        bt_wire_put_index(&b, BT_MSG_HAVE, 0);
        bt_wire_put_bitfield(&b, some, 2);
        CU_ASSERT_EQUAL(feed(&f, &b), lenient ? BT_CLOSE_NONE : BT_CLOSE_PROTOCOL);
        bt_conn_info info;
        if (lenient) {
            CU_ASSERT_FATAL(bt_conn_get_info(f.c, f.id, &info) == 0);
            CU_ASSERT_EQUAL(info.peer_pieces, 2); /* 0 and 3 */
            CU_ASSERT(info.am_interested);
            bt_buf_reset(&b);
            bt_wire_put_bitfield(&b, more, 2); /* adds 4 and 9 */
            bt_conn_recv(f.c, f.id, b.data, b.len, 4);
            CU_ASSERT(bt_conn_get_info(f.c, f.id, &info) == 0 && info.peer_pieces == 4);
            bt_buf_reset(&b);
            bt_wire_put_bitfield(&b, fewer, 2); /* drops 0: a violation even when lenient */
            bt_conn_recv(f.c, f.id, b.data, b.len, 5);
            CU_ASSERT(bt_conn_get_info(f.c, f.id, &info) == BT_ERR_NOTFOUND);
            bt_buf_reset(&b);
            uint8_t spare[2] = {0x00, 0x01}; /* a spare bit set */
            bt_client_del(f.c);
            setup_mode(&f, NULL, true);
            put_ext_hs(&b);
            bt_wire_put_simple(&b, BT_MSG_HAVE_NONE);
            bt_wire_put_bitfield(&b, spare, 2);
            CU_ASSERT_EQUAL(feed(&f, &b), BT_CLOSE_PROTOCOL);
            bt_buf_reset(&b);
            bt_client_del(f.c);
            setup_mode(&f, NULL, true); /* a late bitfield one byte short */
            put_ext_hs(&b);
            bt_wire_put_simple(&b, BT_MSG_HAVE_NONE);
            bt_wire_put_bitfield(&b, some, 1);
            CU_ASSERT_EQUAL(feed(&f, &b), BT_CLOSE_PROTOCOL);
        }
        bt_buf_reset(&b);
        bt_client_del(f.c);
    }
    bt_buf_free(&b);
}

/* Collects the control bytes the client sends on f->id. */
static void pull(fix *f, bt_buf *out)
{
    const bt_seg *segs;
    bt_ssize n;
    while ((n = bt_conn_pull_send(f->c, f->id, &segs, 4)) > 0) {
        size_t moved = 0;
        for (bt_ssize i = 0; i < n; i++) {
            if (!segs[i].is_virtual)
                bt_buf_put(out, segs[i].data, segs[i].len);
            moved += segs[i].len;
        }
        bt_conn_sent(f->c, f->id, moved, 4);
    }
}

static void test_config_have(void)
{
    /* Pieces 0, 2 and 9 (the short last piece) are on disk. */
    const uint8_t have[2] = {0xa0, 0x40};
    fix f;
    setup(&f, have);
    bt_client_stats st;
    bt_client_get_stats(f.c, &st);
    CU_ASSERT_EQUAL(st.pieces_have, 3);
    CU_ASSERT(!st.complete);
    bt_buf b, out;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_buf_init(&out, bt_mem_default(), 0);
    CU_ASSERT_EQUAL(feed(&f, &b), BT_CLOSE_NONE);
    pull(&f, &out);
    /* After our handshake: bitfield of 2 bytes with exactly those bits (spare bits clear). */
    static const uint8_t want[7] = {0, 0, 0, 3, BT_MSG_BITFIELD, 0xa0, 0x40};
    CU_ASSERT_FATAL(out.len >= BT_HANDSHAKE_LEN + 7);
    CU_ASSERT(memcmp(out.data + BT_HANDSHAKE_LEN, want, 7) == 0);
    bt_client_del(f.c);
    /* Every bit set (spare bits too): complete from the start, like |seed|. */
    const uint8_t all[2] = {0xff, 0xff};
    setup(&f, all);
    bt_client_get_stats(f.c, &st);
    CU_ASSERT_EQUAL(st.pieces_have, NP);
    CU_ASSERT(st.complete);
    bt_client_del(f.c);
    bt_buf_free(&b);
    bt_buf_free(&out);
}

int test_live_engine_add_suite(void)
{
    CU_pSuite s = CU_add_suite("live_engine", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "ext_handshake_before_have_all", test_ext_handshake_before_have_all) ==
            NULL ||
        CU_add_test(s, "late_bitfield", test_late_bitfield) == NULL ||
        CU_add_test(s, "config_have", test_config_have) == NULL)
        return 1;
    return 0;
}
