/* tests/unit/test_tracker_udp.c: the BEP 15 UDP tracker codec: builders checked byte for byte,
 * reply and request parsers against every wrong size, wrong actions and allocation failures. */
#include "bt_tracker.h"
#include "failmem.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

extern int test_tracker_udp_add_suite(void);

static bt_announce_req sample_req(void)
{
    bt_announce_req q;
    memset(&q, 0, sizeof(q));
    for (int i = 0; i < 20; i++) {
        q.info_hash[i] = (uint8_t)(0xa0 + i);
        q.peer_id[i] = (uint8_t)(0x30 + i);
    }
    q.port = 6881;
    q.uploaded = 0x0102030405060708ULL;
    q.downloaded = 0x1112131415161718ULL;
    q.left = 0x2122232425262728ULL;
    q.event = BT_EVENT_STARTED;
    q.numwant = -1;
    q.key = 0xdeadbeef;
    return q;
}

static int req_equal(const bt_announce_req *a, const bt_announce_req *b)
{
    return memcmp(a->info_hash, b->info_hash, 20) == 0 && memcmp(a->peer_id, b->peer_id, 20) == 0 &&
           a->port == b->port && a->uploaded == b->uploaded && a->downloaded == b->downloaded &&
           a->left == b->left && a->event == b->event && a->numwant == b->numwant &&
           a->key == b->key;
}

static void test_put_connect(void)
{
    static const uint8_t want[16] = {0x00, 0x00, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80,
                                     0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78};
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_udp_put_connect(&b, 0x12345678);
    CU_ASSERT_EQUAL_FATAL(b.len, sizeof(want));
    CU_ASSERT(memcmp(b.data, want, sizeof(want)) == 0);
    bt_buf_free(&b);
}

static void test_put_announce(void)
{
    static const uint8_t want[98] = {
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,             /* connection_id */
        0x00, 0x00, 0x00, 0x01,                                     /* action announce */
        0xca, 0xfe, 0xba, 0xbe,                                     /* txid */
        0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, /* info_hash */
        0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3,
        0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, /* peer_id */
        0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43,
        0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, /* downloaded */
        0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, /* left */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* uploaded */
        0x00, 0x00, 0x00, 0x02,                         /* event started */
        0x00, 0x00, 0x00, 0x00,                         /* ip */
        0xde, 0xad, 0xbe, 0xef,                         /* key */
        0xff, 0xff, 0xff, 0xff,                         /* num_want -1 */
        0x1a, 0xe1,                                     /* port 6881 */
    };
    bt_announce_req q = sample_req();
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_udp_put_announce(&b, 0x0102030405060708ULL, 0xcafebabe, &q);
    CU_ASSERT_EQUAL_FATAL(b.len, sizeof(want));
    CU_ASSERT(memcmp(b.data, want, sizeof(want)) == 0);

    /* num_want 50, event none, port 65535 */
    q.numwant = 50;
    q.event = BT_EVENT_NONE;
    q.port = 65535;
    bt_buf_reset(&b);
    bt_udp_put_announce(&b, 0x0102030405060708ULL, 0xcafebabe, &q);
    CU_ASSERT_EQUAL_FATAL(b.len, 98);
    static const uint8_t tail[] = {0,    0,    0,    0, 0, 0, 0,  0,    0xde,
                                   0xad, 0xbe, 0xef, 0, 0, 0, 50, 0xff, 0xff};
    CU_ASSERT(memcmp(b.data + 80, tail, sizeof(tail)) == 0);
    bt_buf_free(&b);
}

static void test_put_scrape(void)
{
    static const uint8_t want[56] = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
        0x00, 0x07, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
        0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    };
    uint8_t hashes[2][20];
    memset(hashes[0], 1, 20);
    memset(hashes[1], 2, 20);
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_udp_put_scrape(&b, 42, 7, (const uint8_t(*)[20])hashes, 2);
    CU_ASSERT_EQUAL_FATAL(b.len, sizeof(want));
    CU_ASSERT(memcmp(b.data, want, sizeof(want)) == 0);
    bt_buf_free(&b);
}

static void test_put_replies(void)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    static const uint8_t conn[16] = {0,    0,    0,    0,    0,    0,    0,    9,
                                     0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    bt_udp_put_connect_reply(&b, 9, 0x1122334455667788ULL);
    CU_ASSERT(b.len == sizeof(conn) && memcmp(b.data, conn, sizeof(conn)) == 0);

    bt_addr peers[3] = {
        {4, {10, 0, 0, 1}, 6881}, {6, {0x20, 0x01, 0x0d, 0xb8}, 80}, {4, {192, 168, 1, 2}, 0x1234}};
    peers[1].ip[15] = 1;
    static const uint8_t ann4[32] = {0,    0, 0,    1,    0,   0,    0,    5,    0,    0,   0x07,
                                     0x08, 0, 0,    0,    0,   0xff, 0xff, 0xff, 0xff, 10,  0,
                                     0,    1, 0x1a, 0xe1, 192, 168,  1,    2,    0x12, 0x34};
    bt_buf_reset(&b);
    bt_udp_put_announce_reply(&b, 5, 1800, -3, (int64_t)1 << 40, peers, 3, 4);
    CU_ASSERT(b.len == sizeof(ann4) && memcmp(b.data, ann4, sizeof(ann4)) == 0);
    static const uint8_t ann6[38] = {0, 0, 0, 1, 0, 0, 0, 5,    0,    0,    0,    60, 0,
                                     0, 0, 1, 0, 0, 0, 2, 0x20, 0x01, 0x0d, 0xb8, 0,  0,
                                     0, 0, 0, 0, 0, 0, 0, 0,    0,    1,    0,    80};
    bt_buf_reset(&b);
    bt_udp_put_announce_reply(&b, 5, 60, 1, 2, peers, 3, 6);
    CU_ASSERT(b.len == sizeof(ann6) && memcmp(b.data, ann6, sizeof(ann6)) == 0);

    bt_scrape_entry e = {{0}, 3, 4, 5};
    static const uint8_t scr[20] = {0, 0, 0, 2, 0, 0, 0, 6, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5};
    bt_buf_reset(&b);
    bt_udp_put_scrape_reply(&b, 6, &e, 1);
    CU_ASSERT(b.len == sizeof(scr) && memcmp(b.data, scr, sizeof(scr)) == 0);

    static const uint8_t err[11] = {0, 0, 0, 3, 0, 0, 0, 1, 'b', 'a', 'd'};
    bt_buf_reset(&b);
    bt_udp_put_error(&b, 1, "bad");
    CU_ASSERT(b.len == sizeof(err) && memcmp(b.data, err, sizeof(err)) == 0);
    bt_buf_free(&b);
}

static void test_parse_connect_reply(void)
{
    uint8_t p[17] = {0, 0, 0, 0, 0xca, 0xfe, 0xba, 0xbe, 1, 2, 3, 4, 5, 6, 7, 8, 0x99};
    bt_udp_reply r;
    CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, p, 16, 4, bt_mem_default()), 0);
    CU_ASSERT_EQUAL(r.action, BT_UDP_CONNECT);
    CU_ASSERT_EQUAL(r.txid, 0xcafebabe);
    CU_ASSERT_EQUAL(r.conn_id, 0x0102030405060708ULL);
    bt_udp_reply_free(&r);
    CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, p, 17, 6, bt_mem_default()), 0); /* extra ignored */
    CU_ASSERT_EQUAL(r.conn_id, 0x0102030405060708ULL);
    bt_udp_reply_free(&r);
    for (size_t n = 0; n < 16; n++) {
        CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, p, n, 4, bt_mem_default()), BT_ERR_PROTO);
        CU_ASSERT(r.announce.peers == NULL && r.error == NULL && r.scrape == NULL);
    }
}

/* Builds an announce reply: header + |n| v4 (6-byte) or v6 (18-byte) entries. */
static size_t make_announce(uint8_t *p, uint32_t txid, int family, uint32_t n)
{
    static const uint8_t head[20] = {0,    0,    0, 1, 0, 0, 0, 0, 0, 0,
                                     0x07, 0x08, 0, 0, 0, 3, 0, 0, 0, 9};
    memcpy(p, head, sizeof(head));
    p[4] = (uint8_t)(txid >> 24), p[5] = (uint8_t)(txid >> 16);
    p[6] = (uint8_t)(txid >> 8), p[7] = (uint8_t)txid;
    size_t entry = family == 4 ? 6 : 18, off = 20;
    for (uint32_t i = 0; i < n; i++, off += entry) {
        memset(p + off, 0, entry);
        p[off] = family == 4 ? 10 : 0xfe;
        p[off + entry - 4] = (uint8_t)(i >> 8);
        p[off + entry - 3] = (uint8_t)i;
        p[off + entry - 2] = (uint8_t)((i + 1) >> 8);
        p[off + entry - 1] = (uint8_t)(i + 1); /* port i + 1, never 0 */
    }
    return off;
}

static void test_parse_announce_v4(void)
{
    static const uint8_t p[] = {0, 0, 0, 1, 0, 0, 0,   77,  0, 0, 0x07, 0x08, 0,
                                0, 0, 3, 0, 0, 0, 9,   1,   2, 3, 4,    0x1a, 0xe1,
                                5, 6, 7, 8, 0, 0, 192, 168, 0, 1, 0xff, 0xff};
    bt_udp_reply r;
    CU_ASSERT_EQUAL_FATAL(bt_udp_parse_reply(&r, p, sizeof(p), 4, bt_mem_default()), 0);
    CU_ASSERT_EQUAL(r.action, BT_UDP_ANNOUNCE);
    CU_ASSERT_EQUAL(r.txid, 77);
    CU_ASSERT_EQUAL(r.announce.interval, 1800);
    CU_ASSERT_EQUAL(r.announce.min_interval, -1);
    CU_ASSERT_EQUAL(r.announce.incomplete, 3);
    CU_ASSERT_EQUAL(r.announce.complete, 9);
    CU_ASSERT_EQUAL_FATAL(r.announce.npeers, 2); /* the port-0 entry is skipped */
    bt_addr a0 = {4, {1, 2, 3, 4}, 6881}, a1 = {4, {192, 168, 0, 1}, 65535};
    CU_ASSERT(bt_addr_equal(&r.announce.peers[0], &a0));
    CU_ASSERT(bt_addr_equal(&r.announce.peers[1], &a1));
    bt_udp_reply_free(&r);
    CU_ASSERT(r.announce.peers == NULL && r.announce.npeers == 0);
    bt_udp_reply_free(&r); /* twice is fine */

    /* every size from 0 to 2 entries + 5: only 20, 26, 32 parse over v4 */
    uint8_t buf[64];
    make_announce(buf, 1, 4, 7);
    for (size_t n = 0; n <= 37; n++) {
        int want = (n >= 20 && (n - 20) % 6 == 0) ? 0 : BT_ERR_PROTO;
        CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, buf, n, 4, bt_mem_default()), want);
        if (want == 0)
            CU_ASSERT_EQUAL(r.announce.npeers, (n - 20) / 6);
        bt_udp_reply_free(&r);
    }
}

static void test_parse_announce_v6(void)
{
    uint8_t buf[20 + 3 * 18];
    size_t n = make_announce(buf, 0x01020304, 6, 3);
    bt_udp_reply r;
    CU_ASSERT_EQUAL_FATAL(bt_udp_parse_reply(&r, buf, n, 6, bt_mem_default()), 0);
    CU_ASSERT_EQUAL(r.txid, 0x01020304);
    CU_ASSERT_EQUAL_FATAL(r.announce.npeers, 3);
    for (uint32_t i = 0; i < 3; i++) {
        bt_addr want = {6, {0xfe}, (uint16_t)(i + 1)};
        want.ip[15] = (uint8_t)i;
        CU_ASSERT(bt_addr_equal(&r.announce.peers[i], &want));
    }
    bt_udp_reply_free(&r);
    /* one v6 entry is three whole v4 entries (18 = 3 * 6); two have port 0 and are skipped */
    CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, buf, 38, 4, bt_mem_default()), 0);
    CU_ASSERT_EQUAL_FATAL(r.announce.npeers, 1);
    CU_ASSERT(r.announce.peers[0].family == 4 && r.announce.peers[0].port == 1);
    bt_udp_reply_free(&r);
    /* 20 + 6 and 20 + 12 are not whole v6 entries */
    CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, buf, 26, 6, bt_mem_default()), BT_ERR_PROTO);
    CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, buf, 32, 6, bt_mem_default()), BT_ERR_PROTO);
    CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, buf, 20, 6, bt_mem_default()), 0);
    CU_ASSERT_EQUAL(r.announce.npeers, 0);
    CU_ASSERT(r.announce.peers == NULL);
    bt_udp_reply_free(&r);
}

static void test_parse_announce_cap(void)
{
    uint32_t n = BT_TRACKER_MAX_PEERS + 500;
    uint8_t *buf = malloc(20 + 6 * (size_t)n);
    CU_ASSERT_FATAL(buf != NULL);
    size_t len = make_announce(buf, 1, 4, n);
    bt_udp_reply r;
    CU_ASSERT_EQUAL_FATAL(bt_udp_parse_reply(&r, buf, len, 4, bt_mem_default()), 0);
    CU_ASSERT_EQUAL(r.announce.npeers, BT_TRACKER_MAX_PEERS);
    CU_ASSERT_EQUAL(r.announce.peers[BT_TRACKER_MAX_PEERS - 1].port, BT_TRACKER_MAX_PEERS);
    bt_udp_reply_free(&r);
    free(buf);
}

static void test_parse_scrape_reply(void)
{
    uint8_t buf[8 + 12 * 75];
    memset(buf, 0, sizeof(buf));
    buf[3] = 2;
    buf[7] = 42;
    for (int i = 0; i < 75; i++) {
        buf[8 + 12 * i + 3] = (uint8_t)i;        /* seeders */
        buf[8 + 12 * i + 7] = (uint8_t)(i + 1);  /* completed */
        buf[8 + 12 * i + 11] = (uint8_t)(i + 2); /* leechers */
    }
    bt_udp_reply r;
    CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, buf, 8, 4, bt_mem_default()), 0);
    CU_ASSERT(r.action == BT_UDP_SCRAPE && r.nscrape == 0 && r.txid == 42);
    bt_udp_reply_free(&r);
    CU_ASSERT_EQUAL_FATAL(bt_udp_parse_reply(&r, buf, 8 + 24, 4, bt_mem_default()), 0);
    CU_ASSERT_EQUAL_FATAL(r.nscrape, 2);
    CU_ASSERT(r.scrape[1].complete == 1 && r.scrape[1].downloaded == 2 &&
              r.scrape[1].incomplete == 3);
    bt_udp_reply_free(&r);
    for (size_t n = 9; n < 8 + 24; n++)
        if ((n - 8) % 12 != 0)
            CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, buf, n, 4, bt_mem_default()), BT_ERR_PROTO);
    CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, buf, 8 + 12 * 74, 4, bt_mem_default()), 0);
    CU_ASSERT_EQUAL(r.nscrape, 74);
    bt_udp_reply_free(&r);
    CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, buf, sizeof(buf), 4, bt_mem_default()), BT_ERR_LIMIT);
    CU_ASSERT(r.scrape == NULL && r.nscrape == 0);
}

static void test_parse_error_reply(void)
{
    uint8_t buf[8 + 2000];
    memset(buf, 'x', sizeof(buf));
    static const uint8_t head[8] = {0, 0, 0, 3, 0, 0, 0, 5};
    memcpy(buf, head, 8);
    bt_udp_reply r;
    CU_ASSERT_EQUAL_FATAL(bt_udp_parse_reply(&r, buf, 8, 4, bt_mem_default()), 0);
    CU_ASSERT(r.action == BT_UDP_ERROR && r.txid == 5);
    CU_ASSERT_FATAL(r.error != NULL);
    CU_ASSERT_STRING_EQUAL(r.error, "");
    bt_udp_reply_free(&r);
    memcpy(buf + 8, "no such torrent", 15);
    CU_ASSERT_EQUAL_FATAL(bt_udp_parse_reply(&r, buf, 23, 4, bt_mem_default()), 0);
    CU_ASSERT_STRING_EQUAL(r.error, "no such torrent");
    bt_udp_reply_free(&r);
    buf[8] = 0; /* any bytes, including NUL and 0xff */
    buf[9] = 0xff;
    CU_ASSERT_EQUAL_FATAL(bt_udp_parse_reply(&r, buf, 11, 4, bt_mem_default()), 0);
    CU_ASSERT(r.error[0] == 0 && (uint8_t)r.error[1] == 0xff && r.error[2] == ' ' &&
              r.error[3] == 0);
    bt_udp_reply_free(&r);
    memset(buf + 8, 'y', 2000);
    CU_ASSERT_EQUAL_FATAL(bt_udp_parse_reply(&r, buf, sizeof(buf), 6, bt_mem_default()), 0);
    CU_ASSERT_EQUAL(strlen(r.error), BT_TRACKER_MAX_TEXT);
    bt_udp_reply_free(&r);
    for (size_t n = 0; n < 8; n++)
        CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, buf, n, 4, bt_mem_default()), BT_ERR_PROTO);
}

static void test_parse_bad_action(void)
{
    uint8_t buf[64];
    memset(buf, 0, sizeof(buf));
    static const uint32_t actions[] = {4, 5, 0x100, 0x01000000, 0xffffffff};
    bt_udp_reply r;
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
        buf[0] = (uint8_t)(actions[i] >> 24), buf[1] = (uint8_t)(actions[i] >> 16);
        buf[2] = (uint8_t)(actions[i] >> 8), buf[3] = (uint8_t)actions[i];
        for (size_t n = 0; n <= sizeof(buf); n += 8)
            CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, buf, n, 4, bt_mem_default()), BT_ERR_PROTO);
    }
}

static void test_roundtrip_reply(void)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_addr peers[2] = {{4, {8, 8, 4, 4}, 443}, {4, {127, 0, 0, 1}, 1}};
    bt_udp_put_announce_reply(&b, 0xabcdef01, 900, 11, 22, peers, 2, 4);
    bt_udp_reply r;
    CU_ASSERT_EQUAL_FATAL(bt_udp_parse_reply(&r, b.data, b.len, 4, bt_mem_default()), 0);
    CU_ASSERT_EQUAL(r.txid, 0xabcdef01); /* the txid is echoed for the caller to check */
    CU_ASSERT(r.announce.interval == 900 && r.announce.incomplete == 11 &&
              r.announce.complete == 22);
    CU_ASSERT_EQUAL_FATAL(r.announce.npeers, 2);
    CU_ASSERT(bt_addr_equal(&r.announce.peers[0], &peers[0]));
    CU_ASSERT(bt_addr_equal(&r.announce.peers[1], &peers[1]));
    bt_udp_reply_free(&r);
    bt_buf_free(&b);
}

static void test_parse_request(void)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_udp_request q;
    bt_udp_put_connect(&b, 99);
    CU_ASSERT_EQUAL_FATAL(bt_udp_parse_request(&q, b.data, b.len), 0);
    CU_ASSERT(q.action == BT_UDP_CONNECT && q.txid == 99 && q.conn_id == BT_UDP_PROTOCOL_ID);
    CU_ASSERT_EQUAL(bt_udp_parse_request(&q, b.data, 15), BT_ERR_PROTO);
    bt_buf_put_u8(&b, 0);
    CU_ASSERT_EQUAL(bt_udp_parse_request(&q, b.data, 17), BT_ERR_PROTO);
    b.data[7] ^= 1; /* wrong protocol id */
    CU_ASSERT_EQUAL(bt_udp_parse_request(&q, b.data, 16), BT_ERR_PROTO);

    bt_announce_req a = sample_req();
    a.numwant = 200;
    bt_buf_reset(&b);
    bt_udp_put_announce(&b, 0x77, 0x88, &a);
    CU_ASSERT_EQUAL_FATAL(bt_udp_parse_request(&q, b.data, b.len), 0);
    CU_ASSERT(q.action == BT_UDP_ANNOUNCE && q.txid == 0x88 && q.conn_id == 0x77);
    CU_ASSERT(req_equal(&q.announce, &a));
    a.numwant = -1;
    bt_buf_reset(&b);
    bt_udp_put_announce(&b, 0x77, 0x88, &a);
    static const uint8_t opts[] = {2, 5, '/', 'a', 'n', 'n', 'o', 1}; /* BEP 41 options */
    bt_buf_put(&b, opts, sizeof(opts));
    CU_ASSERT_EQUAL_FATAL(bt_udp_parse_request(&q, b.data, b.len), 0);
    CU_ASSERT(req_equal(&q.announce, &a));
    CU_ASSERT_EQUAL(q.announce.numwant, -1);
    for (size_t n = 16; n < 98; n++)
        CU_ASSERT_EQUAL(bt_udp_parse_request(&q, b.data, n), BT_ERR_PROTO);
    b.data[83] = 4; /* unknown event */
    CU_ASSERT_EQUAL(bt_udp_parse_request(&q, b.data, 98), BT_ERR_PROTO);
    b.data[8 + 3] = 3; /* action error from a client */
    CU_ASSERT_EQUAL(bt_udp_parse_request(&q, b.data, 98), BT_ERR_PROTO);
    for (size_t n = 0; n < 16; n++)
        CU_ASSERT_EQUAL(bt_udp_parse_request(&q, b.data, n), BT_ERR_PROTO);
    bt_buf_free(&b);
}

static void test_parse_scrape_request(void)
{
    uint8_t hashes[75][20];
    for (int i = 0; i < 75; i++)
        memset(hashes[i], i, 20);
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_udp_request q;
    bt_udp_put_scrape(&b, 5, 6, (const uint8_t(*)[20])hashes, 74);
    CU_ASSERT_EQUAL_FATAL(bt_udp_parse_request(&q, b.data, b.len), 0);
    CU_ASSERT(q.action == BT_UDP_SCRAPE && q.nscrape == 74 && q.conn_id == 5 && q.txid == 6);
    CU_ASSERT(memcmp(q.scrape_hashes, hashes, 74 * 20) == 0);
    CU_ASSERT_EQUAL(bt_udp_parse_request(&q, b.data, 36), 0);
    CU_ASSERT_EQUAL(q.nscrape, 1);
    CU_ASSERT_EQUAL(bt_udp_parse_request(&q, b.data, 16), BT_ERR_PROTO); /* n = 0 */
    for (size_t n = 17; n < 56; n++)
        if (n != 36)
            CU_ASSERT_EQUAL(bt_udp_parse_request(&q, b.data, n), BT_ERR_PROTO);
    bt_buf_put(&b, hashes[74], 20);
    CU_ASSERT_EQUAL(bt_udp_parse_request(&q, b.data, b.len), BT_ERR_LIMIT); /* 75 */
    CU_ASSERT_EQUAL(q.nscrape, 0);
    bt_buf_free(&b);
}

static void test_timeout(void)
{
    CU_ASSERT_EQUAL(bt_udp_timeout(0), BT_SEC(15));
    CU_ASSERT_EQUAL(bt_udp_timeout(1), BT_SEC(30));
    CU_ASSERT_EQUAL(bt_udp_timeout(8), BT_SEC(3840));
    CU_ASSERT_EQUAL(bt_udp_timeout(9), BT_TIME_NEVER);
    CU_ASSERT_EQUAL(bt_udp_timeout(UINT32_MAX), BT_TIME_NEVER);
}

static void test_failmalloc(void)
{
    uint8_t ann[20 + 12];
    size_t alen = make_announce(ann, 1, 4, 2);
    static const uint8_t err[12] = {0, 0, 0, 3, 0, 0, 0, 1, 'o', 'o', 'p', 's'};
    static const uint8_t scr[20] = {0, 0, 0, 2, 0, 0, 0, 1};
    const struct {
        const uint8_t *p;
        size_t n;
    } cases[] = {{ann, alen}, {err, sizeof(err)}, {scr, sizeof(scr)}};
    for (size_t c = 0; c < 3; c++) {
        failmem st;
        failmem_init_once(&st, 1);
        bt_mem m = st.mem;
        bt_udp_reply r;
        CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, cases[c].p, cases[c].n, 4, &m), BT_ERR_NOMEM);
        CU_ASSERT(r.announce.peers == NULL && r.error == NULL && r.scrape == NULL);
        bt_udp_reply_free(&r);
        st.fail_only = 0;
        st.calls = 0;
        CU_ASSERT_EQUAL(bt_udp_parse_reply(&r, cases[c].p, cases[c].n, 4, &m), 0);
        bt_udp_reply_free(&r);
    }
    bt_udp_reply z;
    memset(&z, 0, sizeof(z));
    bt_udp_reply_free(&z); /* zeroed struct, no allocator */
    CU_ASSERT(z.mem == NULL);
}

int test_tracker_udp_add_suite(void)
{
    CU_pSuite s = CU_add_suite("tracker_udp", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "put_connect", test_put_connect) == NULL ||
        CU_add_test(s, "put_announce", test_put_announce) == NULL ||
        CU_add_test(s, "put_scrape", test_put_scrape) == NULL ||
        CU_add_test(s, "put_replies", test_put_replies) == NULL ||
        CU_add_test(s, "parse_connect_reply", test_parse_connect_reply) == NULL ||
        CU_add_test(s, "parse_announce_v4", test_parse_announce_v4) == NULL ||
        CU_add_test(s, "parse_announce_v6", test_parse_announce_v6) == NULL ||
        CU_add_test(s, "parse_announce_cap", test_parse_announce_cap) == NULL ||
        CU_add_test(s, "parse_scrape_reply", test_parse_scrape_reply) == NULL ||
        CU_add_test(s, "parse_error_reply", test_parse_error_reply) == NULL ||
        CU_add_test(s, "parse_bad_action", test_parse_bad_action) == NULL ||
        CU_add_test(s, "roundtrip_reply", test_roundtrip_reply) == NULL ||
        CU_add_test(s, "parse_request", test_parse_request) == NULL ||
        CU_add_test(s, "parse_scrape_request", test_parse_scrape_request) == NULL ||
        CU_add_test(s, "timeout", test_timeout) == NULL ||
        CU_add_test(s, "failmalloc", test_failmalloc) == NULL)
        return 1;
    return 0;
}
