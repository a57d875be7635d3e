/* tests/unit/test_pex.c: BEP 11 ut_pex codec: encoder byte for byte, round trips of mixed
 * IPv4/IPv6 lists with flags, per-message limits both ways, malformed payloads with offsets,
 * lenient flags, port-0 entries, allocation failure. */
#include "bt_pex.h"
#include "failmem.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int test_pex_add_suite(void);

static bt_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    bt_addr x;
    memset(&x, 0, sizeof(x));
    x.family = 4;
    x.ip[0] = a;
    x.ip[1] = b;
    x.ip[2] = c;
    x.ip[3] = d;
    x.port = port;
    return x;
}

static bt_addr v6(uint8_t last, uint16_t port)
{
    bt_addr x;
    memset(&x, 0, sizeof(x));
    x.family = 6;
    x.ip[0] = 0x20;
    x.ip[1] = 0x01;
    x.ip[15] = last;
    x.port = port;
    return x;
}

static void test_encode_exact(void)
{
    bt_pex_msg *m = calloc(1, sizeof(*m));
    CU_ASSERT_FATAL(m != NULL);
    m->added[0] = (bt_pex_peer){v4(10, 0, 0, 1, 0x1ae1), BT_PEX_F_SEED | BT_PEX_F_ENCRYPT};
    m->nadded = 1;
    m->dropped[0] = v4(1, 2, 3, 4, 0x0102);
    m->ndropped = 1;
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    CU_ASSERT_EQUAL(bt_pex_put(&b, m, false), 0);
    static const uint8_t want[] = "d5:added6:\x0a\x00\x00\x01\x1a\xe1"
                                  "7:added.f1:\x03"
                                  "7:dropped6:\x01\x02\x03\x04\x01\x02"
                                  "e";
    CU_ASSERT(b.len == sizeof(want) - 1 && memcmp(b.data, want, b.len) == 0);
    /* Empty: an empty dict. */
    bt_buf_reset(&b);
    memset(m, 0, sizeof(*m));
    CU_ASSERT_EQUAL(bt_pex_put(&b, m, false), 0);
    CU_ASSERT(b.len == 2 && memcmp(b.data, "de", 2) == 0);
    bt_buf_free(&b);
    free(m);
}

static void test_roundtrip(void)
{
    bt_pex_msg *m = calloc(1, sizeof(*m)), *r = calloc(1, sizeof(*r));
    CU_ASSERT_FATAL(m != NULL && r != NULL);
    for (uint32_t i = 0; i < 40; i++) {
        bt_addr a = i % 3 == 0 ? v6((uint8_t)i, (uint16_t)(1000 + i))
                               : v4(10, 0, (uint8_t)(i >> 8), (uint8_t)i, (uint16_t)(2000 + i));
        m->added[m->nadded++] = (bt_pex_peer){a, (uint8_t)(i & 0x1f)};
        if (i < 10)
            m->dropped[m->ndropped++] =
                i % 2 ? v6((uint8_t)(100 + i), 7) : v4(9, 9, 9, (uint8_t)i, 8);
    }
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    CU_ASSERT_EQUAL_FATAL(bt_pex_put(&b, m, false), 0);
    size_t off = 0;
    CU_ASSERT_EQUAL_FATAL(
        bt_pex_parse(b.data, b.len, BT_PEX_MAX_ENTRIES, r, bt_mem_default(), &off), 0);
    CU_ASSERT_EQUAL(r->nadded, 40);
    CU_ASSERT_EQUAL(r->ndropped, 10);
    CU_ASSERT_EQUAL(r->nskipped, 0);
    /* Each family keeps its order; v4 entries come first. */
    uint32_t k = 0;
    for (int fam = 4; fam <= 6; fam += 2)
        for (uint32_t i = 0; i < m->nadded; i++)
            if (m->added[i].addr.family == fam) {
                CU_ASSERT(bt_addr_equal(&r->added[k].addr, &m->added[i].addr));
                CU_ASSERT_EQUAL(r->added[k].flags, m->added[i].flags);
                k++;
            }
    k = 0;
    for (int fam = 4; fam <= 6; fam += 2)
        for (uint32_t i = 0; i < m->ndropped; i++)
            if (m->dropped[i].family == fam)
                CU_ASSERT(bt_addr_equal(&r->dropped[k++], &m->dropped[i]));
    bt_buf_free(&b);
    free(m);
    free(r);
}

static void test_limits(void)
{
    bt_pex_msg *m = calloc(1, sizeof(*m)), *r = calloc(1, sizeof(*r));
    CU_ASSERT_FATAL(m != NULL && r != NULL);
    for (uint32_t i = 0; i < BT_PEX_MAX_ENTRIES + 1; i++)
        m->added[m->nadded++] = (bt_pex_peer){v4(10, 1, 0, (uint8_t)i, 1), 0};
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    CU_ASSERT_EQUAL(bt_pex_put(&b, m, false), BT_ERR_LIMIT); /* 51 in a later message */
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_EQUAL_FATAL(bt_pex_put(&b, m, true), 0); /* fine in the first */
    size_t off = 0;
    CU_ASSERT_EQUAL(bt_pex_parse(b.data, b.len, BT_PEX_MAX_ENTRIES, r, bt_mem_default(), &off),
                    BT_ERR_LIMIT);
    CU_ASSERT_EQUAL(off, 8); /* the added string */
    CU_ASSERT_EQUAL(r->nadded, 0);
    CU_ASSERT_EQUAL(bt_pex_parse(b.data, b.len, BT_PEX_MAX_FIRST, r, bt_mem_default(), &off), 0);
    CU_ASSERT_EQUAL(r->nadded, BT_PEX_MAX_ENTRIES + 1);
    /* 50 IPv4 plus 50 IPv6 is within the limit: it is per list. */
    memset(m, 0, sizeof(*m));
    for (uint32_t i = 0; i < BT_PEX_MAX_ENTRIES; i++) {
        m->added[m->nadded++] = (bt_pex_peer){v4(10, 1, 0, (uint8_t)i, 1), 0};
        m->added[m->nadded++] = (bt_pex_peer){v6((uint8_t)i, 2), 0};
    }
    bt_buf_reset(&b);
    CU_ASSERT_EQUAL(bt_pex_put(&b, m, false), 0);
    for (uint32_t i = 0; i <= BT_PEX_MAX_FIRST; i++)
        m->added[i] = (bt_pex_peer){v6((uint8_t)i, 2), 0};
    m->nadded = BT_PEX_MAX_FIRST + 1;
    CU_ASSERT_EQUAL(bt_pex_put(&b, m, true), BT_ERR_LIMIT);
    bt_buf_free(&b);
    free(m);
    free(r);
}

typedef struct bad_case {
    const char *s;
    size_t n;
    int rv;
    size_t off;
} bad_case;

#define S(lit) lit, sizeof(lit) - 1

static void test_malformed(void)
{
    static const bad_case cases[] = {
        {S(""), BT_ERR_PROTO, 0},
        {S("le"), BT_ERR_PROTO, 0},
        {S("d5:added5:abcdee"), BT_ERR_PROTO, 8},               /* 5 bytes: not 6n */
        {S("d6:added617:abcdefghijklmnopqe"), BT_ERR_PROTO, 9}, /* 17: not 18n */
        {S("d5:addedi1ee"), BT_ERR_PROTO, 8},                   /* not a string */
        {S("d5:added6:abcdef7:added.fi1ee"), BT_ERR_PROTO, 25}, /* flags not a string */
        {S("d7:dropped4:abcde"), BT_ERR_PROTO, 10},
        {S("d8:dropped6lee"), BT_ERR_PROTO, 11},
        {S("d7:dropped0:8:dropped60:e"), 0, 0},    /* empty lists are fine */
        {S("d1:zi1e5:added0:e"), BT_ERR_PROTO, 7}, /* unsorted keys */
        {S("d5:added6:abcdef"), BT_ERR_PROTO, 16}, /* truncated */
    };
    bt_pex_msg *r = calloc(1, sizeof(*r));
    CU_ASSERT_FATAL(r != NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t off = 9999;
        int rv = bt_pex_parse((const uint8_t *)cases[i].s, cases[i].n, BT_PEX_MAX_ENTRIES, r,
                              bt_mem_default(), &off);
        CU_ASSERT_EQUAL(rv, cases[i].rv);
        if (rv != 0)
            CU_ASSERT_EQUAL(off, cases[i].off);
        if (rv != cases[i].rv || (rv != 0 && off != cases[i].off))
            fprintf(stderr, "pex case %zu: rv %d off %zu\n", i, rv, off);
        CU_ASSERT(r->nadded == 0 && r->ndropped == 0);
    }
    /* Oversized payload. */
    size_t big = BT_PEX_MAX_PAYLOAD + 20;
    char *p = malloc(big);
    CU_ASSERT_FATAL(p != NULL);
    int n = snprintf(p, 32, "d5:added%zu:", big - 11);
    memset(p + n, 'x', big - (size_t)n);
    size_t off = 0;
    CU_ASSERT_EQUAL(
        bt_pex_parse((const uint8_t *)p, big, BT_PEX_MAX_FIRST, r, bt_mem_default(), &off),
        BT_ERR_LIMIT);
    free(p);
    free(r);
}

static void test_lenient_flags_and_port0(void)
{
    /* Two peers, one flag byte; the second peer has port 0 and is skipped. Extra keys ignored. */
    static const char s[] = "d5:added12:\x0a\x00\x00\x01\x00\x50\x0a\x00\x00\x02\x00\x00"
                            "7:added.f1:\x12"
                            "1:xi5ee";
    bt_pex_msg *r = calloc(1, sizeof(*r));
    CU_ASSERT_FATAL(r != NULL);
    CU_ASSERT_EQUAL(bt_pex_parse((const uint8_t *)s, sizeof(s) - 1, BT_PEX_MAX_ENTRIES, r,
                                 bt_mem_default(), NULL),
                    0);
    CU_ASSERT_EQUAL(r->nadded, 1);
    CU_ASSERT_EQUAL(r->nskipped, 1);
    CU_ASSERT(r->added[0].addr.port == 80 && r->added[0].flags == 0x12);
    /* More flags than peers: the extras are ignored; none: flags 0. */
    static const char s2[] = "d5:added6:\x0a\x00\x00\x01\x00\x50"
                             "7:added.f3:\x01\x02\x03"
                             "e";
    CU_ASSERT_EQUAL(bt_pex_parse((const uint8_t *)s2, sizeof(s2) - 1, BT_PEX_MAX_ENTRIES, r,
                                 bt_mem_default(), NULL),
                    0);
    CU_ASSERT(r->nadded == 1 && r->added[0].flags == 1);
    static const char s3[] = "d5:added6:\x0a\x00\x00\x01\x00\x50"
                             "e";
    CU_ASSERT_EQUAL(bt_pex_parse((const uint8_t *)s3, sizeof(s3) - 1, BT_PEX_MAX_ENTRIES, r,
                                 bt_mem_default(), NULL),
                    0);
    CU_ASSERT(r->nadded == 1 && r->added[0].flags == 0);
    free(r);
}

static void test_failmalloc(void)
{
    static const char s[] = "d5:added6:\x0a\x00\x00\x01\x00\x50"
                            "e";
    bt_pex_msg *r = calloc(1, sizeof(*r));
    CU_ASSERT_FATAL(r != NULL);
    failmem f;
    failmem_init(&f, -1);
    CU_ASSERT_EQUAL(
        bt_pex_parse((const uint8_t *)s, sizeof(s) - 1, BT_PEX_MAX_ENTRIES, r, &f.mem, NULL), 0);
    long total = f.calls;
    CU_ASSERT(total >= 1);
    for (long i = 1; i <= total; i++) {
        failmem_init_once(&f, i);
        CU_ASSERT_EQUAL(
            bt_pex_parse((const uint8_t *)s, sizeof(s) - 1, BT_PEX_MAX_ENTRIES, r, &f.mem, NULL),
            BT_ERR_NOMEM);
        CU_ASSERT_EQUAL(r->nadded, 0);
    }
    free(r);
}

/* ---- sender state ---- */

static bt_pex_peer pp(uint32_t i)
{
    bt_pex_peer p;
    p.addr = i % 4 == 3 ? v6((uint8_t)i, (uint16_t)(3000 + i))
                        : v4(10, 2, (uint8_t)(i >> 8), (uint8_t)i, (uint16_t)(3000 + i));
    p.flags = (uint8_t)(i % 3);
    return p;
}

static void test_state_diff(void)
{
    bt_pex_peer *cur = calloc(300, sizeof(*cur));
    bt_pex_msg *m = calloc(1, sizeof(*m)), *r = calloc(1, sizeof(*r));
    CU_ASSERT_FATAL(cur != NULL && m != NULL && r != NULL);
    bt_pex_state st;
    bt_pex_state_init(&st, bt_mem_default());
    bool first = false;
    /* Nothing to say yet: no message, and the next one still counts as the first. */
    CU_ASSERT_EQUAL(bt_pex_state_next(&st, cur, 0, m, &first), 0);
    CU_ASSERT(first);
    for (uint32_t i = 0; i < 4; i++)
        cur[i] = pp(i);
    CU_ASSERT_EQUAL(bt_pex_state_next(&st, cur, 4, m, &first), 4);
    CU_ASSERT(first && m->nadded == 4 && m->ndropped == 0);
    CU_ASSERT(bt_addr_equal(&m->added[3].addr, &cur[3].addr) && m->added[3].flags == 0);
    /* It encodes and decodes as one message. */
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    CU_ASSERT_EQUAL(bt_pex_put(&b, m, first), 0);
    CU_ASSERT_EQUAL(bt_pex_parse(b.data, b.len, BT_PEX_MAX_ENTRIES, r, bt_mem_default(), NULL), 0);
    CU_ASSERT_EQUAL(r->nadded, 4);
    /* Same set: nothing. Peer 1 gone, 4 and 5 new: one drop, two adds. */
    CU_ASSERT_EQUAL(bt_pex_state_next(&st, cur, 4, m, &first), 0);
    CU_ASSERT(!first);
    cur[1] = pp(4);
    cur[4] = pp(5);
    CU_ASSERT_EQUAL(bt_pex_state_next(&st, cur, 5, m, &first), 3);
    bt_pex_peer p1 = pp(1), p4 = pp(4), p5 = pp(5);
    CU_ASSERT(m->ndropped == 1 && bt_addr_equal(&m->dropped[0], &p1.addr));
    CU_ASSERT(m->nadded == 2 && bt_addr_equal(&m->added[0].addr, &p4.addr) &&
              bt_addr_equal(&m->added[1].addr, &p5.addr));
    CU_ASSERT_EQUAL(st.nsent, 5);
    /* 85 new IPv4 peers replace the 5: 5 drops and 50 adds now, 35 adds next; bt_pex_put takes it.
     */
    uint32_t n = 0;
    for (uint32_t i = 100; n < 85; i++)
        if (i % 4 != 3)
            cur[n++] = pp(i);
    CU_ASSERT_EQUAL(bt_pex_state_next(&st, cur, n, m, &first), 5 + BT_PEX_MAX_ENTRIES);
    CU_ASSERT(m->ndropped == 5 && m->nadded == BT_PEX_MAX_ENTRIES);
    bt_buf_reset(&b);
    CU_ASSERT_EQUAL(bt_pex_put(&b, m, first), 0);
    CU_ASSERT_EQUAL(bt_pex_state_next(&st, cur, n, m, &first), 35);
    CU_ASSERT_EQUAL(bt_pex_state_next(&st, cur, n, m, &first), 0);
    CU_ASSERT_EQUAL(st.nsent, 85);
    bt_buf_free(&b);
    bt_pex_state_free(&st);
    bt_pex_state_free(&st);
    free(cur);
    free(m);
    free(r);
}

static void test_state_first_limit_and_nomem(void)
{
    bt_pex_peer *cur = calloc(300, sizeof(*cur));
    bt_pex_msg *m = calloc(1, sizeof(*m));
    CU_ASSERT_FATAL(cur != NULL && m != NULL);
    uint32_t n = 0;
    for (uint32_t i = 0; n < 250; i++)
        if (i % 4 != 3)
            cur[n++] = pp(i);
    failmem f;
    failmem_init_once(&f, 1);
    bt_pex_state st;
    bt_pex_state_init(&st, &f.mem);
    bool first = false;
    CU_ASSERT_EQUAL(bt_pex_state_next(&st, cur, n, m, &first), BT_ERR_NOMEM);
    CU_ASSERT(!st.started && st.nsent == 0);
    CU_ASSERT_EQUAL(bt_pex_state_next(&st, cur, n, m, &first), BT_PEX_MAX_FIRST);
    CU_ASSERT(first);
    CU_ASSERT_EQUAL(bt_pex_state_next(&st, cur, n, m, &first), 250 - BT_PEX_MAX_FIRST);
    CU_ASSERT(!first);
    bt_pex_state_free(&st);
    free(cur);
    free(m);
}

int test_pex_add_suite(void)
{
    CU_pSuite s = CU_add_suite("pex", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "encode_exact", test_encode_exact) == NULL ||
        CU_add_test(s, "roundtrip", test_roundtrip) == NULL ||
        CU_add_test(s, "limits", test_limits) == NULL ||
        CU_add_test(s, "malformed", test_malformed) == NULL ||
        CU_add_test(s, "lenient_flags_and_port0", test_lenient_flags_and_port0) == NULL ||
        CU_add_test(s, "failmalloc", test_failmalloc) == NULL ||
        CU_add_test(s, "state_diff", test_state_diff) == NULL ||
        CU_add_test(s, "state_first_limit_and_nomem", test_state_first_limit_and_nomem) == NULL)
        return 1;
    return 0;
}
