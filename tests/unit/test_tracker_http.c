/* tests/unit/test_tracker_http.c: the HTTP tracker codec: exact announce and scrape URLs
 * (BEP 3, BEP 48 examples), reply parsing with compact, dictionary and peers6 peer lists, and
 * hostile replies (wrong types, bad lengths, deep nesting, oversize, allocation failures). */
#include "bt_bencode.h"
#include "bt_tracker.h"
#include "failmem.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

extern int test_tracker_http_add_suite(void);

#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1

static int parse(bt_announce_reply *r, const uint8_t *p, size_t n)
{
    return bt_tracker_http_parse_reply(r, p, n, bt_mem_default(), NULL, NULL);
}

static bt_announce_req url_req(void)
{
    static const uint8_t ih[20] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1, 0x23, 0x45,
                                   0x67, 0x89, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x9a};
    bt_announce_req q;
    memset(&q, 0, sizeof(q));
    memcpy(q.info_hash, ih, 20);
    memcpy(q.peer_id, "-SL0001-a.b_c~d e/f+", 20);
    q.port = 6881;
    q.uploaded = 0;
    q.downloaded = 1234;
    q.left = UINT64_MAX;
    q.event = BT_EVENT_STARTED;
    q.numwant = 50;
    q.key = 0xabcd;
    return q;
}

#define IH_ENC "%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A"
#define PID_ENC "-SL0001-a.b_c~d%20e%2Ff%2B"

static void test_build_url(void)
{
    bt_announce_req q = url_req();
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    CU_ASSERT_EQUAL_FATAL(bt_tracker_http_build_url(&b, "http://tracker.example:6969/announce", &q),
                          0);
    const char *want = "http://tracker.example:6969/announce?info_hash=" IH_ENC "&peer_id=" PID_ENC
                       "&port=6881&uploaded=0&downloaded=1234"
                       "&left=18446744073709551615&compact=1&event=started&numwant=50"
                       "&key=0000abcd";
    CU_ASSERT_EQUAL(b.len, strlen(want));
    CU_ASSERT(b.data[b.len] == '\0');
    CU_ASSERT_STRING_EQUAL((const char *)b.data, want);

    /* existing query, no event, default numwant, other events */
    q.event = BT_EVENT_NONE;
    q.numwant = -1;
    q.key = 0xfedcba98;
    bt_buf_reset(&b);
    CU_ASSERT_EQUAL(bt_tracker_http_build_url(&b, "http://t.example/a.php?pk=x%20y", &q), 0);
    CU_ASSERT_STRING_EQUAL((const char *)b.data,
                           "http://t.example/a.php?pk=x%20y&info_hash=" IH_ENC "&peer_id=" PID_ENC
                           "&port=6881&uploaded=0&downloaded=1234&left=18446744073709551615"
                           "&compact=1&key=fedcba98");
    q.event = BT_EVENT_STOPPED;
    q.numwant = 0;
    bt_buf_reset(&b);
    CU_ASSERT_EQUAL(bt_tracker_http_build_url(&b, "http://t/?", &q), 0);
    CU_ASSERT(strncmp((const char *)b.data, "http://t/?info_hash=", 20) == 0);
    CU_ASSERT(strstr((const char *)b.data, "&event=stopped&numwant=0&key=") != NULL);
    q.event = BT_EVENT_COMPLETED;
    bt_buf_reset(&b);
    CU_ASSERT_EQUAL(bt_tracker_http_build_url(&b, "http://t/a?x=1&", &q), 0);
    CU_ASSERT(strncmp((const char *)b.data, "http://t/a?x=1&info_hash=", 25) == 0);
    CU_ASSERT(strstr((const char *)b.data, "&event=completed&") != NULL);
    bt_buf_free(&b);
}

static void test_build_url_all_bytes(void)
{
    bt_announce_req q = url_req();
    for (int i = 0; i < 20; i++)
        q.info_hash[i] = (uint8_t)(i * 13 + 7); /* a spread of bytes */
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    CU_ASSERT_EQUAL_FATAL(bt_tracker_http_build_url(&b, "u", &q), 0);
    /* decode the info_hash back and compare */
    const char *s = strstr((const char *)b.data, "info_hash=") + 10;
    uint8_t back[20];
    int n = 0;
    while (*s != '&' && n < 20) {
        if (*s == '%') {
            CU_ASSERT(strchr("0123456789ABCDEF", s[1]) && strchr("0123456789ABCDEF", s[2]));
            back[n++] = (uint8_t)strtol((char[]){s[1], s[2], 0}, NULL, 16);
            s += 3;
        } else {
            back[n++] = (uint8_t)*s++;
        }
    }
    CU_ASSERT(n == 20 && *s == '&' && memcmp(back, q.info_hash, 20) == 0);
    bt_buf_free(&b);

    /* a buffer too small for the URL plus its NUL reports LIMIT */
    bt_buf_init(&b, bt_mem_default(), 40);
    CU_ASSERT_EQUAL(bt_tracker_http_build_url(&b, "http://t/announce", &q), BT_ERR_LIMIT);
    bt_buf_free(&b);
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_tracker_http_build_url(&b, "http://t/announce", &q);
    size_t need = b.len;
    bt_buf_free(&b);
    bt_buf_init(&b, bt_mem_default(), need); /* no room for the terminator */
    CU_ASSERT_EQUAL(bt_tracker_http_build_url(&b, "http://t/announce", &q), BT_ERR_LIMIT);
    bt_buf_free(&b);
    bt_buf_init(&b, bt_mem_default(), need + 1);
    CU_ASSERT_EQUAL(bt_tracker_http_build_url(&b, "http://t/announce", &q), 0);
    CU_ASSERT(b.len == need && b.data[need] == '\0');
    bt_buf_free(&b);
}

static void check_scrape(const char *announce, const char *want)
{
    static const uint8_t ih[20] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1, 0x23, 0x45,
                                   0x67, 0x89, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x9a};
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    int rc = bt_tracker_http_scrape_url(&b, announce, ih);
    if (want == NULL) {
        CU_ASSERT_EQUAL(rc, BT_ERR_NOTFOUND);
        CU_ASSERT_EQUAL(b.len, 0);
    } else {
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_STRING_EQUAL((const char *)b.data, want);
        CU_ASSERT_EQUAL(b.len, strlen(want));
    }
    bt_buf_free(&b);
}

static void test_scrape_url(void)
{
    /* the BEP 48 examples */
    check_scrape("http://example.com/announce", "http://example.com/scrape?info_hash=" IH_ENC);
    check_scrape("http://example.com/x/announce", "http://example.com/x/scrape?info_hash=" IH_ENC);
    check_scrape("http://example.com/announce.php",
                 "http://example.com/scrape.php?info_hash=" IH_ENC);
    check_scrape("http://example.com/a", NULL);
    check_scrape("http://example.com/announce?x2%0644",
                 "http://example.com/scrape?x2%0644&info_hash=" IH_ENC);
    check_scrape("http://example.com/announce?x=2/4", NULL);
    check_scrape("http://example.com/x%064announce", NULL);
    /* more */
    check_scrape("http://t:80/announce.php?pk=1&", "http://t:80/scrape.php?pk=1&info_hash=" IH_ENC);
    check_scrape("http://t/announceX?", "http://t/scrapeX?info_hash=" IH_ENC);
    check_scrape("announce", NULL);
    check_scrape("", NULL);
    check_scrape("http://t/Announce", NULL);
    check_scrape("http://t/announc", NULL);
    check_scrape("http://t/", NULL);
}

static void test_compact(void)
{
    static const uint8_t body[] = "d8:completei5e10:incompletei3e8:intervali1800e"
                                  "12:min intervali900e5:peers18:"
                                  "\x0a\x00\x00\x01\x1a\xe1"
                                  "\xc0\xa8\x01\x02\x00\x00"
                                  "\xff\xff\xff\xff\xff\xff"
                                  "e";
    bt_announce_reply r;
    CU_ASSERT_EQUAL_FATAL(parse(&r, body, sizeof(body) - 1), 0);
    CU_ASSERT(r.failure == NULL && r.warning == NULL && r.tracker_id_len == 0);
    CU_ASSERT_EQUAL(r.interval, 1800);
    CU_ASSERT_EQUAL(r.min_interval, 900);
    CU_ASSERT_EQUAL(r.complete, 5);
    CU_ASSERT_EQUAL(r.incomplete, 3);
    CU_ASSERT_EQUAL_FATAL(r.npeers, 2); /* 192.168.1.2:0 skipped */
    bt_addr a0 = {4, {10, 0, 0, 1}, 6881}, a1 = {4, {255, 255, 255, 255}, 65535};
    CU_ASSERT(bt_addr_equal(&r.peers[0], &a0));
    CU_ASSERT(bt_addr_equal(&r.peers[1], &a1));
    bt_announce_reply_free(&r);
    CU_ASSERT(r.peers == NULL && r.npeers == 0);
    bt_announce_reply_free(&r);

    /* empty compact string and an empty dict: OK, nothing known */
    CU_ASSERT_EQUAL(parse(&r, LIT("d8:intervali60e5:peers0:e")), 0);
    CU_ASSERT(r.interval == 60 && r.npeers == 0 && r.peers == NULL);
    bt_announce_reply_free(&r);
    CU_ASSERT_EQUAL(parse(&r, LIT("de")), 0);
    CU_ASSERT(r.interval == -1 && r.min_interval == -1 && r.complete == -1 && r.incomplete == -1 &&
              r.npeers == 0 && r.failure == NULL);
    bt_announce_reply_free(&r);
}

static void test_dict_model(void)
{
    static const char body[] =
        "d8:intervali60e5:peersl"
        "d2:ip9:127.0.0.17:peer id20:-XX0001-abcdefghijkl4:porti6881ee" /* ok v4 */
        "d2:ip11:2001:db8::14:porti80ee"                                /* ok v6 */
        "d2:ip15:::ffff:10.1.2.34:porti1ee"                             /* mapped -> v4 */
        "d2:ip11:example.com4:porti1ee"                                 /* host name */
        "d2:ip7:1.2.3.44:porti0ee"                                      /* port 0 */
        "d2:ip7:1.2.3.44:porti70000ee"                                  /* port too big */
        "d2:ip7:1.2.3.44:porti-1ee"                                     /* negative port */
        "d2:ip7:1.2.3.44:port4:6881e"                                   /* port a string */
        "d2:ipi16909060e4:porti1ee"                                     /* ip an int */
        "d4:porti1ee"                                                   /* no ip */
        "d2:ip7:1.2.3.4e"                                               /* no port */
        "d2:ip5:1.2.34:porti1ee"                                        /* short ip */
        "d2:ip9:256.1.1.14:porti1ee"                                    /* octet > 255 */
        "d2:ip8:1.2.3.4 4:porti1ee"                                     /* trailing space */
        "d2:ip9:1.2.3.4\0x4:porti1ee"                                   /* embedded NUL */
        "d2:ip0:4:porti1ee"                                             /* empty ip */
        "d2:ip5:::1%14:porti1ee"                                        /* zone id */
        "i5e"                                                           /* not a dict */
        "l2:ipe"                                                        /* not a dict */
        "d2:ip7:8.8.4.44:porti65535ee"                                  /* ok v4 */
        "ee";
    bt_announce_reply r;
    size_t off = 99;
    const char *msg = NULL;
    int rc = bt_tracker_http_parse_reply(&r, (const uint8_t *)body, sizeof(body) - 1,
                                         bt_mem_default(), &off, &msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(off, 99); /* untouched on success */
    CU_ASSERT_EQUAL(r.interval, 60);
    CU_ASSERT_EQUAL_FATAL(r.npeers, 4);
    bt_addr a0 = {4, {127, 0, 0, 1}, 6881}, a1 = {6, {0x20, 0x01, 0x0d, 0xb8}, 80};
    bt_addr a2 = {4, {10, 1, 2, 3}, 1}, a3 = {4, {8, 8, 4, 4}, 65535};
    a1.ip[15] = 1;
    CU_ASSERT(bt_addr_equal(&r.peers[0], &a0));
    CU_ASSERT(bt_addr_equal(&r.peers[1], &a1));
    CU_ASSERT(bt_addr_equal(&r.peers[2], &a2));
    CU_ASSERT(bt_addr_equal(&r.peers[3], &a3));
    bt_announce_reply_free(&r);
}

static void test_peers6(void)
{
    static const uint8_t body[] = "d8:intervali30e5:peers6:"
                                  "\x01\x02\x03\x04\x00\x50"
                                  "6:peers636:"
                                  "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02"
                                  "\x1a\xe1"
                                  "\xfe\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03"
                                  "\x00\x00"
                                  "e";
    bt_announce_reply r;
    CU_ASSERT_EQUAL_FATAL(parse(&r, body, sizeof(body) - 1), 0);
    CU_ASSERT_EQUAL_FATAL(r.npeers, 2);
    bt_addr a0 = {4, {1, 2, 3, 4}, 80}, a1 = {6, {0x20, 0x01, 0x0d, 0xb8}, 6881};
    a1.ip[15] = 2;
    CU_ASSERT(bt_addr_equal(&r.peers[0], &a0));
    CU_ASSERT(bt_addr_equal(&r.peers[1], &a1));
    bt_announce_reply_free(&r);
    /* peers6 alone, with a dictionary-model peers list */
    static const uint8_t b2[] = "d5:peersld2:ip7:5.6.7.84:porti9eee6:peers618:"
                                "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
                                "\x00\x07"
                                "e";
    CU_ASSERT_EQUAL_FATAL(parse(&r, b2, sizeof(b2) - 1), 0);
    CU_ASSERT_EQUAL_FATAL(r.npeers, 2);
    CU_ASSERT(r.peers[0].family == 4 && r.peers[0].port == 9 && r.peers[0].ip[3] == 8);
    CU_ASSERT(r.peers[1].family == 6 && r.peers[1].port == 7 && r.peers[1].ip[15] == 1);
    CU_ASSERT_EQUAL(r.interval, -1);
    bt_announce_reply_free(&r);
}

static void test_failure(void)
{
    bt_announce_reply r;
    CU_ASSERT_EQUAL_FATAL(parse(&r, LIT("d14:failure reason11:bad passkey8:intervali5ee")), 0);
    CU_ASSERT_FATAL(r.failure != NULL);
    CU_ASSERT_STRING_EQUAL(r.failure, "bad passkey");
    CU_ASSERT_EQUAL(r.interval, -1); /* nothing else is read */
    CU_ASSERT_EQUAL(r.npeers, 0);
    bt_announce_reply_free(&r);
    CU_ASSERT(r.failure == NULL);

    /* long failure text is truncated */
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    char big[3000];
    memset(big, 'z', sizeof(big));
    bt_ben_put_dict(&b);
    bt_ben_put_cstr(&b, "failure reason");
    bt_ben_put_str(&b, big, sizeof(big));
    bt_ben_put_end(&b);
    CU_ASSERT_EQUAL_FATAL(parse(&r, b.data, b.len), 0);
    CU_ASSERT_FATAL(r.failure != NULL);
    CU_ASSERT_EQUAL(strlen(r.failure), BT_TRACKER_MAX_TEXT);
    bt_announce_reply_free(&r);
    bt_buf_free(&b);

    /* a failure reason that is not a string */
    size_t off = 0;
    const char *msg = NULL;
    CU_ASSERT_EQUAL(bt_tracker_http_parse_reply(&r, LIT("d14:failure reasoni1ee"), bt_mem_default(),
                                                &off, &msg),
                    BT_ERR_PROTO);
    CU_ASSERT_EQUAL(off, 18);
    CU_ASSERT(msg != NULL);
    CU_ASSERT(r.failure == NULL && r.peers == NULL);
    bt_announce_reply_free(&r);
}

static void test_warning_tracker_id(void)
{
    bt_announce_reply r;
    CU_ASSERT_EQUAL_FATAL(parse(&r, LIT("d8:intervali1e10:tracker id3:abc"
                                        "15:warning message5:helloe")),
                          0);
    CU_ASSERT_FATAL(r.warning != NULL);
    CU_ASSERT_STRING_EQUAL(r.warning, "hello");
    CU_ASSERT(r.tracker_id_len == 3 && memcmp(r.tracker_id, "abc", 3) == 0);
    bt_announce_reply_free(&r);

    char id[65];
    memset(id, 'k', sizeof(id));
    for (size_t n = 64; n <= 65; n++) {
        bt_buf b;
        bt_buf_init(&b, bt_mem_default(), 0);
        bt_ben_put_dict(&b);
        bt_ben_put_cstr(&b, "tracker id");
        bt_ben_put_str(&b, id, n);
        bt_ben_put_end(&b);
        CU_ASSERT_EQUAL_FATAL(parse(&r, b.data, b.len), 0);
        CU_ASSERT_EQUAL(r.tracker_id_len, n == 64 ? 64 : 0); /* too long: ignored */
        bt_announce_reply_free(&r);
        bt_buf_free(&b);
    }
}

static void test_counts(void)
{
    bt_announce_reply r;
    CU_ASSERT_EQUAL_FATAL(parse(&r, LIT("d8:completei-5e10:incompletei0e8:intervali-1e"
                                        "12:min intervali1099511627776ee")),
                          0);
    CU_ASSERT_EQUAL(r.complete, -1); /* negative: as if absent */
    CU_ASSERT_EQUAL(r.incomplete, 0);
    CU_ASSERT_EQUAL(r.interval, -1);
    CU_ASSERT_EQUAL(r.min_interval, UINT32_MAX); /* clamped */
    bt_announce_reply_free(&r);
}

/* Expects |body| to fail with |want| at byte |want_off| (SIZE_MAX: any offset). */
static void expect_fail(const char *body, size_t len, int want, size_t want_off)
{
    bt_announce_reply r;
    size_t off = SIZE_MAX;
    const char *msg = NULL;
    int rc =
        bt_tracker_http_parse_reply(&r, (const uint8_t *)body, len, bt_mem_default(), &off, &msg);
    CU_ASSERT_EQUAL(rc, want);
    if (want_off != SIZE_MAX)
        CU_ASSERT_EQUAL(off, want_off);
    CU_ASSERT(msg != NULL);
    CU_ASSERT(r.peers == NULL && r.failure == NULL && r.warning == NULL && r.npeers == 0);
    bt_announce_reply_free(&r);
}

#define FAIL(s, rc, off) expect_fail(s, sizeof(s) - 1, rc, off)

static void test_malformed(void)
{
    FAIL("le", BT_ERR_PROTO, 0);
    FAIL("i5e", BT_ERR_PROTO, 0);
    FAIL("4:spam", BT_ERR_PROTO, 0);
    FAIL("", BT_ERR_PROTO, SIZE_MAX);
    FAIL("d8:interval", BT_ERR_PROTO, SIZE_MAX);
    FAIL("d8:intervali60e", BT_ERR_PROTO, SIZE_MAX);
    FAIL("d8:intervali60ee ", BT_ERR_PROTO, SIZE_MAX); /* trailing byte */
    FAIL("d8:intervali60e5:peers7:abcdefge", BT_ERR_PROTO, 22);
    FAIL("d8:intervali60e5:peers5:abcdee", BT_ERR_PROTO, 22);
    FAIL("d8:interval2:60e", BT_ERR_PROTO, 11);
    FAIL("d8:intervalli60eee", BT_ERR_PROTO, 11);
    FAIL("d8:completedee", BT_ERR_PROTO, 11);
    FAIL("d10:incomplete1:1e", BT_ERR_PROTO, 14);
    FAIL("d12:min interval0:e", BT_ERR_PROTO, 16);
    FAIL("d5:peersi6ee", BT_ERR_PROTO, 8);
    FAIL("d5:peersdee", BT_ERR_PROTO, 8);
    FAIL("d6:peers6lee", BT_ERR_PROTO, 9);
    FAIL("d6:peers617:aaaaaaaaaaaaaaaaae", BT_ERR_PROTO, 9);
    FAIL("d6:peers619:aaaaaaaaaaaaaaaaaaae", BT_ERR_PROTO, 9);
    FAIL("d15:warning messagei1ee", BT_ERR_PROTO, 19);
    FAIL("d10:tracker idi1ee", BT_ERR_PROTO, 14);
    FAIL("d8:intervali60e5:peers0:8:completei1ee", BT_ERR_PROTO, SIZE_MAX); /* unsorted */
    FAIL("d8:intervali01ee", BT_ERR_PROTO, SIZE_MAX);                       /* non-canonical int */
    FAIL("d8:intervali99999999999999999999ee", BT_ERR_PROTO, SIZE_MAX);     /* overflows int64 */
    FAIL("d5:peers4294967296:e", BT_ERR_LIMIT, 8);                          /* huge string length */
}

static void test_depth_and_size(void)
{
    /* 8 levels (top dict + 7 lists) are fine, 9 are not */
    FAIL("d1:xlllllllleeeeeeeee", BT_ERR_LIMIT, SIZE_MAX);
    bt_announce_reply r;
    CU_ASSERT_EQUAL(parse(&r, LIT("d1:xllllllleeeeeeee")), 0);
    bt_announce_reply_free(&r);
    /* nesting inside a peer entry is skipped, not fatal, while within the depth limit */
    CU_ASSERT_EQUAL(parse(&r, LIT("d5:peersld2:ipld2:ip0:eeeee")), 0);
    CU_ASSERT_EQUAL(r.npeers, 0);
    bt_announce_reply_free(&r);

    size_t n = BT_TRACKER_MAX_REPLY + 1;
    char *big = malloc(n);
    CU_ASSERT_FATAL(big != NULL);
    memset(big, 'x', n);
    memcpy(big, "d1:x", 4);
    expect_fail(big, n, BT_ERR_LIMIT, SIZE_MAX);
    free(big);
}

static void test_cap(void)
{
    uint32_t n = BT_TRACKER_MAX_PEERS + 1000;
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    uint8_t *compact = calloc(n, 6);
    CU_ASSERT_FATAL(compact != NULL);
    for (uint32_t i = 0; i < n; i++) {
        compact[6 * i] = 10;
        compact[6 * i + 4] = (uint8_t)((i + 1) >> 8);
        compact[6 * i + 5] = (uint8_t)(i + 1);
    }
    bt_ben_put_dict(&b);
    bt_ben_put_cstr(&b, "peers");
    bt_ben_put_str(&b, compact, 6 * (size_t)n);
    bt_ben_put_end(&b);
    free(compact);
    bt_announce_reply r;
    CU_ASSERT_EQUAL_FATAL(parse(&r, b.data, b.len), 0);
    CU_ASSERT_EQUAL(r.npeers, BT_TRACKER_MAX_PEERS);
    CU_ASSERT_EQUAL(r.peers[BT_TRACKER_MAX_PEERS - 1].port, BT_TRACKER_MAX_PEERS);
    bt_announce_reply_free(&r);

    /* the same number as a dictionary-model list */
    bt_buf_reset(&b);
    bt_ben_put_dict(&b);
    bt_ben_put_cstr(&b, "peers");
    bt_ben_put_list(&b);
    for (uint32_t i = 0; i < n; i++) {
        bt_ben_put_dict(&b);
        bt_ben_put_cstr(&b, "ip");
        bt_ben_put_cstr(&b, "192.0.2.1");
        bt_ben_put_cstr(&b, "port");
        bt_ben_put_int(&b, i + 1);
        bt_ben_put_end(&b);
    }
    bt_ben_put_end(&b);
    bt_ben_put_end(&b);
    CU_ASSERT_EQUAL_FATAL(parse(&r, b.data, b.len), 0);
    CU_ASSERT_EQUAL(r.npeers, BT_TRACKER_MAX_PEERS);
    CU_ASSERT_EQUAL(r.peers[100].port, 101);
    bt_announce_reply_free(&r);
    bt_buf_free(&b);
}

static void test_failmalloc(void)
{
    static const char body[] = "d8:intervali60e5:peersld2:ip7:1.2.3.44:porti1ee"
                               "e6:peers618:aaaaaaaaaaaaaaaaaa15:warning message2:hie";
    int fails = 0;
    for (int i = 1; i < 100; i++) {
        failmem st;
        failmem_init_once(&st, i);
        bt_mem m = st.mem;
        bt_announce_reply r;
        int rc = bt_tracker_http_parse_reply(&r, (const uint8_t *)body, sizeof(body) - 1, &m, NULL,
                                             NULL);
        bt_announce_reply_free(&r);
        if (rc == 0) {
            CU_ASSERT(st.calls < i); /* no allocation was failed */
            break;
        }
        CU_ASSERT_EQUAL(rc, BT_ERR_NOMEM);
        fails++;
    }
    CU_ASSERT(fails >= 3); /* tokens, warning, peers at least */

    failmem st;
    failmem_init_once(&st, 1);
    bt_mem m = st.mem;
    bt_announce_reply r;
    CU_ASSERT_EQUAL(bt_tracker_http_parse_reply(&r, LIT("d14:failure reason1:xe"), &m, NULL, NULL),
                    BT_ERR_NOMEM);
    bt_announce_reply_free(&r);
    bt_announce_reply z;
    memset(&z, 0, sizeof(z));
    bt_announce_reply_free(&z);
    CU_ASSERT(z.mem == NULL && z.peers == NULL);
}

int test_tracker_http_add_suite(void)
{
    CU_pSuite s = CU_add_suite("tracker_http", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "build_url", test_build_url) == NULL ||
        CU_add_test(s, "build_url_all_bytes", test_build_url_all_bytes) == NULL ||
        CU_add_test(s, "scrape_url", test_scrape_url) == NULL ||
        CU_add_test(s, "compact", test_compact) == NULL ||
        CU_add_test(s, "dict_model", test_dict_model) == NULL ||
        CU_add_test(s, "peers6", test_peers6) == NULL ||
        CU_add_test(s, "failure", test_failure) == NULL ||
        CU_add_test(s, "warning_tracker_id", test_warning_tracker_id) == NULL ||
        CU_add_test(s, "counts", test_counts) == NULL ||
        CU_add_test(s, "malformed", test_malformed) == NULL ||
        CU_add_test(s, "depth_and_size", test_depth_and_size) == NULL ||
        CU_add_test(s, "cap", test_cap) == NULL ||
        CU_add_test(s, "failmalloc", test_failmalloc) == NULL)
        return 1;
    return 0;
}
