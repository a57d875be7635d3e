/* tests/unit/test_magnet.c: the BEP 9 magnet URI parser: hex and base32 hashes, dn/tr/x.pe,
 * percent-decoding, numbered keys, every error with its offset, limits, allocation failures. */
#include "bt_magnet.h"
#include "failmem.h"
#include "mse_util.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int test_magnet_add_suite(void);

#define IH_HEX "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
#define IH_B32 "YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK"

static int parse(bt_magnet *mg, const char *s, bt_magnet_error *e)
{
    e->offset = 9999;
    e->msg = NULL;
    return bt_magnet_parse(mg, s, strlen(s), bt_mem_default(), e);
}

static void test_full(void)
{
    static const char uri[] = "magnet:?xt=urn:btih:" IH_HEX "&dn=Big+Buck%20Bunny"
                              "&tr=udp%3A%2F%2Ftracker.example%3A1337%2Fannounce"
                              "&tr.1=http://t2.example/announce&tr=http://t2.example/announce"
                              "&x.pe=10.0.0.1:6881&x.pe=%5B2001:db8::1%5D:51413"
                              "&x.pe=peer.example:6881&ws=http://web.example/f&&";
    bt_magnet mg;
    bt_magnet_error e;
    CU_ASSERT_EQUAL_FATAL(parse(&mg, uri, &e), 0);
    uint8_t want[20];
    unhex(IH_HEX, want);
    CU_ASSERT(memcmp(mg.info_hash, want, 20) == 0);
    CU_ASSERT_STRING_EQUAL(mg.name, "Big Buck Bunny");
    CU_ASSERT_EQUAL_FATAL(mg.ntrackers, 2);
    CU_ASSERT_STRING_EQUAL(mg.trackers[0], "udp://tracker.example:1337/announce");
    CU_ASSERT_STRING_EQUAL(mg.trackers[1], "http://t2.example/announce");
    CU_ASSERT_EQUAL_FATAL(mg.npeers, 2);
    CU_ASSERT_EQUAL(mg.peers[0].family, 4);
    CU_ASSERT(mg.peers[0].ip[0] == 10 && mg.peers[0].ip[3] == 1 && mg.peers[0].port == 6881);
    CU_ASSERT_EQUAL(mg.peers[1].family, 6);
    CU_ASSERT(mg.peers[1].ip[0] == 0x20 && mg.peers[1].ip[15] == 1 && mg.peers[1].port == 51413);
    CU_ASSERT_EQUAL(mg.npeers_skipped, 1);
    bt_magnet_free(&mg);
    bt_magnet_free(&mg); /* idempotent */
}

static void test_base32_and_case(void)
{
    bt_magnet mg;
    bt_magnet_error e;
    uint8_t want[20];
    unhex(IH_HEX, want);
    CU_ASSERT_EQUAL_FATAL(parse(&mg, "MAGNET:?xt=urn:btih:" IH_B32, &e), 0);
    CU_ASSERT(memcmp(mg.info_hash, want, 20) == 0);
    CU_ASSERT(mg.name == NULL && mg.ntrackers == 0 && mg.npeers == 0);
    bt_magnet_free(&mg);
    /* Lower-case base32, upper-case hex, a btmh next to it, the same btih twice. */
    CU_ASSERT_EQUAL_FATAL(
        parse(&mg,
              "magnet:?xt=urn:btmh:1220abcd&xt.1=urn:btih:yex6dqdlxisuvhoj6um3gnnk"
              "pqjwpkek&xt.2=urn:btih:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A",
              &e),
        0);
    CU_ASSERT(memcmp(mg.info_hash, want, 20) == 0);
    bt_magnet_free(&mg);
}

typedef struct bad_case {
    const char *uri;
    int rv;
    size_t offset;
} bad_case;

static void test_errors(void)
{
    static const bad_case cases[] = {
        {"http://x", BT_ERR_PROTO, 0},
        {"magnet:", BT_ERR_PROTO, 0},
        {"magnet:?", BT_ERR_PROTO, 8},                            /* no btih */
        {"magnet:?dn=x", BT_ERR_PROTO, 12},                       /* no btih */
        {"magnet:?xt=urn:btih:" IH_HEX "&foo", BT_ERR_PROTO, 61}, /* no '=' */
        {"magnet:?xt=urn:btih:1234", BT_ERR_PROTO, 11},           /* short hash */
        {"magnet:?xt=urn:btih:" IH_HEX "0", BT_ERR_PROTO, 11},    /* 41 digits */
        {"magnet:?xt=urn:btih:g12fe1c06bba254a9dc9f519b335aa7c1367a88a", BT_ERR_PROTO, 11},
        {"magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE1", BT_ERR_PROTO, 11}, /* '1' */
        {"magnet:?xt=urn:btih:" IH_HEX "&xt=urn:btih:" IH_B32 "&xt=urn:btih:"
         "0000000000000000000000000000000000000000",
         BT_ERR_PROTO, 109},                                          /* conflicting */
        {"magnet:?xt=urn:btih:" IH_HEX "&dn=a%2", BT_ERR_PROTO, 65},  /* short escape */
        {"magnet:?xt=urn:btih:" IH_HEX "&dn=a%zz", BT_ERR_PROTO, 65}, /* bad escape */
        {"magnet:?xt=urn:btih:" IH_HEX "&dn=a%00b", BT_ERR_PROTO, 65},
        {"magnet:?xt=urn:btih:" IH_HEX "&tr=a%0Ab", BT_ERR_PROTO, 65},
        {"magnet:?xt=urn:btih:" IH_HEX "&tr=", BT_ERR_PROTO, 64},
        {"magnet:?xt=urn:btih:" IH_HEX "&x.pe=1.2.3.4", BT_ERR_PROTO, 66},
        {"magnet:?xt=urn:btih:" IH_HEX "&x.pe=1.2.3.4:0", BT_ERR_PROTO, 66},
        {"magnet:?xt=urn:btih:" IH_HEX "&x.pe=1.2.3.4:65536", BT_ERR_PROTO, 66},
        {"magnet:?xt=urn:btih:" IH_HEX "&x.pe=1.2.3.4:12a", BT_ERR_PROTO, 66},
        {"magnet:?xt=urn:btih:" IH_HEX "&x.pe=[zz::1]:80", BT_ERR_PROTO, 66},
        {"magnet:?xt=urn:btih:" IH_HEX "&x.pe=[::1:80", BT_ERR_PROTO, 66},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bt_magnet mg;
        bt_magnet_error e;
        int rv = parse(&mg, cases[i].uri, &e);
        CU_ASSERT_EQUAL(rv, cases[i].rv);
        CU_ASSERT_EQUAL(e.offset, cases[i].offset);
        CU_ASSERT(e.msg != NULL && strncmp(e.msg, "magnet: ", 8) == 0);
        if (rv != cases[i].rv || e.offset != cases[i].offset)
            fprintf(stderr, "case %zu: rv %d offset %zu (%s)\n", i, rv, e.offset, e.msg);
        CU_ASSERT(mg.trackers == NULL && mg.name == NULL && mg.peers == NULL);
    }
}

static void test_limits(void)
{
    size_t cap = BT_MAGNET_MAX_LEN + 64;
    char *u = malloc(cap);
    CU_ASSERT_FATAL(u != NULL);
    bt_magnet mg;
    bt_magnet_error e;
    /* Too long as a whole. */
    memset(u, 'a', cap);
    memcpy(u, "magnet:?", 8);
    CU_ASSERT_EQUAL(bt_magnet_parse(&mg, u, BT_MAGNET_MAX_LEN + 1, bt_mem_default(), &e),
                    BT_ERR_LIMIT);
    CU_ASSERT_EQUAL(e.offset, BT_MAGNET_MAX_LEN);
    /* Too many distinct trackers. */
    size_t n = (size_t)snprintf(u, cap, "magnet:?xt=urn:btih:%s", IH_HEX);
    for (int i = 0; i <= BT_MAGNET_MAX_TRACKERS; i++)
        n += (size_t)snprintf(u + n, cap - n, "&tr=http://t%d/a", i);
    CU_ASSERT_EQUAL(parse(&mg, u, &e), BT_ERR_LIMIT);
    CU_ASSERT_EQUAL(e.offset, n - strlen("http://t64/a"));
    /* Exactly the maximum is fine. */
    u[n - strlen("&tr=http://t64/a")] = '\0';
    CU_ASSERT_EQUAL(parse(&mg, u, &e), 0);
    CU_ASSERT_EQUAL(mg.ntrackers, BT_MAGNET_MAX_TRACKERS);
    bt_magnet_free(&mg);
    /* Too many parameters (unknown ones count too). */
    n = (size_t)snprintf(u, cap, "magnet:?xt=urn:btih:%s", IH_HEX);
    for (int i = 0; i < BT_MAGNET_MAX_PARAMS; i++)
        n += (size_t)snprintf(u + n, cap - n, "&k=%d", i % 10);
    CU_ASSERT_EQUAL(parse(&mg, u, &e), BT_ERR_LIMIT);
    CU_ASSERT_EQUAL(e.offset, n - 3);
    /* A value longer than BT_MAGNET_MAX_VALUE once decoded. */
    n = (size_t)snprintf(u, cap, "magnet:?xt=urn:btih:%s&dn=", IH_HEX);
    memset(u + n, 'x', BT_MAGNET_MAX_VALUE + 1);
    u[n + BT_MAGNET_MAX_VALUE + 1] = '\0';
    CU_ASSERT_EQUAL(parse(&mg, u, &e), BT_ERR_LIMIT);
    CU_ASSERT_EQUAL(e.offset, n + BT_MAGNET_MAX_VALUE);
    /* Too many x.pe peers. */
    n = (size_t)snprintf(u, cap, "magnet:?xt=urn:btih:%s", IH_HEX);
    for (int i = 0; i <= BT_MAGNET_MAX_PEERS; i++)
        n += (size_t)snprintf(u + n, cap - n, "&x.pe=10.0.0.%d:1", i);
    CU_ASSERT_EQUAL(parse(&mg, u, &e), BT_ERR_LIMIT);
    free(u);
}

static void test_failmalloc(void)
{
    static const char uri[] = "magnet:?xt=urn:btih:" IH_HEX "&dn=n&tr=http://a/&tr=http://b/"
                              "&x.pe=1.2.3.4:5";
    int nomem = 0;
    for (long i = 1; i < 32; i++) {
        failmem f;
        failmem_init_once(&f, i);
        bt_magnet mg;
        int rv = bt_magnet_parse(&mg, uri, strlen(uri), &f.mem, NULL);
        if (f.calls < i) {
            CU_ASSERT_EQUAL(rv, 0);
            bt_magnet_free(&mg);
            break;
        }
        CU_ASSERT_EQUAL(rv, BT_ERR_NOMEM);
        nomem++;
    }
    CU_ASSERT_EQUAL(nomem, 6); /* ctx, dn, tracker array, 2 trackers, peer array */
}

int test_magnet_add_suite(void)
{
    CU_pSuite s = CU_add_suite("magnet", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "full", test_full) == NULL ||
        CU_add_test(s, "base32_and_case", test_base32_and_case) == NULL ||
        CU_add_test(s, "errors", test_errors) == NULL ||
        CU_add_test(s, "limits", test_limits) == NULL ||
        CU_add_test(s, "failmalloc", test_failmalloc) == NULL)
        return 1;
    return 0;
}
