/* tests/unit/test_metadata.c: BEP 9 ut_metadata: encoders byte for byte (the BEP's examples),
 * the parser on good and malformed payloads, the assembler (order, duplicates, bad blocks,
 * hash failure and recovery) and serve -> assemble -> wrap -> bt_metainfo_parse end to end. */
#include "bt_metadata.h"
#include "bt_metainfo.h"
#include "failmem.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int test_metadata_add_suite(void);

static void test_encode(void)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_metadata_put_request(&b, 0);
    static const char req[] = "d8:msg_typei0e5:piecei0ee"; /* BEP 9 example */
    CU_ASSERT(b.len == strlen(req) && memcmp(b.data, req, b.len) == 0);
    bt_buf_reset(&b);
    bt_metadata_put_reject(&b, 7);
    static const char rej[] = "d8:msg_typei2e5:piecei7ee";
    CU_ASSERT(b.len == strlen(rej) && memcmp(b.data, rej, b.len) == 0);
    bt_buf_reset(&b);
    bt_metadata_put_data(&b, 0, 34256, (const uint8_t *)"xyz", 3);
    static const char dat[] = "d8:msg_typei1e5:piecei0e10:total_sizei34256eexyz";
    CU_ASSERT(b.len == strlen(dat) && memcmp(b.data, dat, b.len) == 0);
    bt_buf_free(&b);
}

static int parse_str(const char *s, size_t n, bt_utm_msg *m, size_t *off)
{
    *off = 9999;
    return bt_metadata_parse((const uint8_t *)s, n, m, bt_mem_default(), off);
}

static void test_parse_good(void)
{
    bt_utm_msg m;
    size_t off;
    static const char dat[] = "d8:msg_typei1e5:piecei2e10:total_sizei34256eeABCD";
    CU_ASSERT_EQUAL_FATAL(parse_str(dat, strlen(dat), &m, &off), 0);
    CU_ASSERT(m.type == BT_UTM_DATA && m.piece == 2 && m.total_size == 34256);
    CU_ASSERT(m.data_len == 4 && memcmp(m.data, "ABCD", 4) == 0);
    static const char req[] = "d8:msg_typei0e5:piecei511ee";
    CU_ASSERT_EQUAL(parse_str(req, strlen(req), &m, &off), 0);
    CU_ASSERT(m.type == BT_UTM_REQUEST && m.piece == 511 && m.data == NULL);
    static const char rej[] = "d8:msg_typei2e5:piecei3ee";
    CU_ASSERT_EQUAL(parse_str(rej, strlen(rej), &m, &off), 0);
    CU_ASSERT(m.type == BT_UTM_REJECT && m.piece == 3);
    /* Unknown msg_type: to be ignored, whatever else is there. */
    static const char unk[] = "d8:msg_typei9ee";
    CU_ASSERT_EQUAL(parse_str(unk, strlen(unk), &m, &off), 0);
    CU_ASSERT_EQUAL(m.type, BT_UTM_UNKNOWN);
    /* Extra keys are fine. */
    static const char extra[] = "d8:msg_typei0e5:piecei1e1:xi1e1:zlee";
    CU_ASSERT_EQUAL(parse_str(extra, strlen(extra), &m, &off), 0);
    CU_ASSERT(m.type == BT_UTM_REQUEST && m.piece == 1);
}

typedef struct bad_case {
    const char *s;
    int rv;
    size_t off;
} bad_case;

static void test_parse_bad(void)
{
    static const bad_case cases[] = {
        {"", BT_ERR_PROTO, 0},
        {"i5e", BT_ERR_PROTO, 0},
        {"d8:msg_typei0e5:piecei0e", BT_ERR_PROTO, 24}, /* truncated */
        {"d5:piecei0ee", BT_ERR_PROTO, 0},              /* no msg_type */
        {"d8:msg_type1:0e", BT_ERR_PROTO, 11},          /* string msg_type */
        {"d8:msg_typei-1ee", BT_ERR_PROTO, 11},
        {"d8:msg_typei0ee", BT_ERR_PROTO, 0}, /* no piece */
        {"d8:msg_typei0e5:piecei-3ee", BT_ERR_PROTO, 21},
        {"d8:msg_typei0e5:piecei512ee", BT_ERR_LIMIT, 21}, /* beyond 8 MiB */
        {"d8:msg_typei0e5:piecei0eeX", BT_ERR_PROTO, 25},  /* trailing bytes */
        {"d5:piecei0e8:msg_typei0ee", BT_ERR_PROTO, 11},   /* unsorted keys */
        {"d8:msg_typei1e5:piecei0eeAB", BT_ERR_PROTO, 0},  /* no total_size */
        {"d8:msg_typei1e5:piecei0e10:total_sizei0eeAB", BT_ERR_PROTO, 37},
        {"d8:msg_typei1e5:piecei0e10:total_sizei8388609eeAB", BT_ERR_LIMIT, 37},
        {"d8:msg_typei1e5:piecei2e10:total_sizei32768eeAB", BT_ERR_PROTO, 21}, /* past end */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bt_utm_msg m;
        size_t off;
        int rv = parse_str(cases[i].s, strlen(cases[i].s), &m, &off);
        CU_ASSERT_EQUAL(rv, cases[i].rv);
        CU_ASSERT_EQUAL(off, cases[i].off);
        CU_ASSERT_EQUAL(m.type, BT_UTM_UNKNOWN);
        if (rv != cases[i].rv || off != cases[i].off)
            fprintf(stderr, "metadata case %zu: rv %d off %zu\n", i, rv, off);
    }
    /* A block over 16 KiB, and a dict over BT_METADATA_MAX_DICT bytes. */
    char *big = malloc(70000);
    CU_ASSERT_FATAL(big != NULL);
    int n = snprintf(big, 200, "d8:msg_typei1e5:piecei0e10:total_sizei99999ee");
    memset(big + n, 'x', BT_METADATA_PIECE_LEN + 1);
    bt_utm_msg m;
    size_t off;
    CU_ASSERT_EQUAL(parse_str(big, (size_t)n + BT_METADATA_PIECE_LEN + 1, &m, &off), BT_ERR_LIMIT);
    CU_ASSERT_EQUAL(off, (size_t)n);
    CU_ASSERT_EQUAL(parse_str(big, (size_t)n + BT_METADATA_PIECE_LEN, &m, &off), 0);
    n = snprintf(big, 200, "d1:a600:");
    memset(big + n, 'y', 600);
    memcpy(big + n + 600, "8:msg_typei0e5:piecei0ee", 24);
    CU_ASSERT_EQUAL(parse_str(big, (size_t)n + 624, &m, &off), BT_ERR_LIMIT);
    free(big);
}

/* A synthetic single-file info dict of ~50 KB (4 metadata pieces) that bt_metainfo accepts. */
static uint8_t *make_info(size_t *len)
{
    const uint32_t npieces = 2500;
    size_t cap = 200 + 20 * (size_t)npieces;
    uint8_t *p = malloc(cap);
    CU_ASSERT_FATAL(p != NULL);
    int n = snprintf((char *)p, 200, "d6:lengthi%ue4:name5:hello12:piece lengthi16384e6:pieces%u:",
                     npieces * 16384u, npieces * 20u);
    for (uint32_t i = 0; i < 20 * npieces; i++)
        p[n + (int)i] = (uint8_t)(i * 131 + 7);
    size_t total = (size_t)n + 20 * npieces;
    p[total++] = 'e';
    *len = total;
    return p;
}

/* Serves piece |i| of |info| and parses it back into |m| (borrowing |b|). */
static void serve(bt_buf *b, const uint8_t *info, size_t len, uint32_t i, bt_utm_msg *m)
{
    bt_buf_reset(b);
    CU_ASSERT(bt_metadata_serve(b, info, len, i));
    CU_ASSERT_EQUAL_FATAL(bt_metadata_parse(b->data, b->len, m, bt_mem_default(), NULL), 0);
}

static void test_assemble_end_to_end(void)
{
    size_t len;
    uint8_t *info = make_info(&len);
    uint8_t ih[20];
    bt_sha1(info, len, ih);
    bt_metadata *md;
    CU_ASSERT_FATAL(bt_metadata_new(&md, ih, (uint32_t)len, bt_mem_default()) == 0);
    uint32_t np = bt_metadata_piece_count((uint32_t)len);
    CU_ASSERT_EQUAL_FATAL(np, 4);
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_utm_msg m;
    static const uint32_t order[] = {2, 0, 2, 3};
    for (int k = 0; k < 4; k++) {
        serve(&b, info, len, order[k], &m);
        CU_ASSERT_EQUAL(bt_metadata_add(md, &m), 0);
    }
    CU_ASSERT_EQUAL(bt_metadata_next_missing(md, 0), 1);
    CU_ASSERT_EQUAL(bt_metadata_next_missing(md, 2), 1);
    size_t dl;
    CU_ASSERT(bt_metadata_data(md, &dl) == NULL && dl == 0);
    /* Out of range: a reject. */
    bt_buf_reset(&b);
    CU_ASSERT(!bt_metadata_serve(&b, info, len, 4));
    CU_ASSERT_EQUAL(bt_metadata_parse(b.data, b.len, &m, bt_mem_default(), NULL), 0);
    CU_ASSERT(m.type == BT_UTM_REJECT && m.piece == 4);
    CU_ASSERT_EQUAL(bt_metadata_add(md, &m), BT_ERR_PROTO); /* not data */
    serve(&b, info, len, 1, &m);
    CU_ASSERT_EQUAL(bt_metadata_add(md, &m), 1);
    CU_ASSERT(bt_metadata_done(md));
    const uint8_t *d = bt_metadata_data(md, &dl);
    CU_ASSERT(d != NULL && dl == len && memcmp(d, info, len) == 0);
    CU_ASSERT_EQUAL(bt_metadata_add(md, &m), BT_ERR_STATE);
    CU_ASSERT_EQUAL(bt_metadata_next_missing(md, 0), -1);
    /* Wrapped as a .torrent, the metainfo parser gives the same info hash. */
    bt_buf_reset(&b);
    bt_metadata_wrap(&b, d, dl);
    bt_metainfo *mi = NULL;
    CU_ASSERT_EQUAL_FATAL(bt_metainfo_parse(&mi, b.data, b.len, bt_mem_default(), NULL, NULL), 0);
    CU_ASSERT(memcmp(mi->info_hash, ih, 20) == 0 && mi->npieces == 2500);
    bt_metainfo_del(mi);
    bt_buf_free(&b);
    bt_metadata_del(md);
    free(info);
}

static void test_assemble_bad(void)
{
    size_t len;
    uint8_t *info = make_info(&len);
    uint8_t ih[20];
    bt_sha1(info, len, ih);
    bt_metadata *md;
    CU_ASSERT_EQUAL(bt_metadata_new(&md, ih, 0, bt_mem_default()), BT_ERR_LIMIT);
    CU_ASSERT_EQUAL(bt_metadata_new(&md, ih, BT_METADATA_MAX_SIZE + 1, bt_mem_default()),
                    BT_ERR_LIMIT);
    CU_ASSERT_FATAL(bt_metadata_new(&md, ih, (uint32_t)len, bt_mem_default()) == 0);
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_utm_msg m;
    serve(&b, info, len, 0, &m);
    bt_utm_msg w = m;
    w.total_size = m.total_size + 1; /* the peer disagrees about the size */
    CU_ASSERT_EQUAL(bt_metadata_add(md, &w), BT_ERR_PROTO);
    w = m;
    w.data_len--; /* short block */
    CU_ASSERT_EQUAL(bt_metadata_add(md, &w), BT_ERR_PROTO);
    w = m;
    w.piece = 4; /* beyond the last piece */
    CU_ASSERT_EQUAL(bt_metadata_add(md, &w), BT_ERR_PROTO);
    CU_ASSERT(!bt_metadata_have(md, 0));
    /* A corrupted piece: detected when the whole is hashed; then everything is refetched. */
    uint8_t *bad = malloc(len);
    CU_ASSERT_FATAL(bad != NULL);
    memcpy(bad, info, len);
    bad[20000] ^= 1;
    for (uint32_t i = 0; i < 4; i++) {
        serve(&b, i == 1 ? bad : info, len, i, &m);
        CU_ASSERT_EQUAL(bt_metadata_add(md, &m), i < 3 ? 0 : BT_ERR_PROTO);
    }
    CU_ASSERT_EQUAL(bt_metadata_failures(md), 1);
    CU_ASSERT(!bt_metadata_done(md) && !bt_metadata_have(md, 0));
    for (uint32_t i = 0; i < 4; i++) {
        serve(&b, info, len, i, &m);
        CU_ASSERT_EQUAL(bt_metadata_add(md, &m), i < 3 ? 0 : 1);
    }
    CU_ASSERT(bt_metadata_done(md));
    free(bad);
    bt_buf_free(&b);
    bt_metadata_del(md);
    bt_metadata_del(NULL);
    free(info);
}

static void test_failmalloc(void)
{
    static const char dat[] = "d8:msg_typei1e5:piecei0e10:total_sizei3eeabc";
    failmem f;
    failmem_init_once(&f, 1);
    bt_utm_msg m;
    CU_ASSERT_EQUAL(bt_metadata_parse((const uint8_t *)dat, strlen(dat), &m, &f.mem, NULL),
                    BT_ERR_NOMEM);
    uint8_t ih[20] = {0};
    bt_metadata *md = NULL;
    for (long i = 1; i <= 2; i++) {
        failmem_init_once(&f, i);
        CU_ASSERT_EQUAL(bt_metadata_new(&md, ih, 100, &f.mem), BT_ERR_NOMEM);
    }
    failmem_init_once(&f, 3);
    CU_ASSERT_EQUAL_FATAL(bt_metadata_new(&md, ih, 100, &f.mem), 0);
    CU_ASSERT_EQUAL(f.calls, 2);
    bt_metadata_del(md);
}

int test_metadata_add_suite(void)
{
    CU_pSuite s = CU_add_suite("metadata", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "encode", test_encode) == NULL ||
        CU_add_test(s, "parse_good", test_parse_good) == NULL ||
        CU_add_test(s, "parse_bad", test_parse_bad) == NULL ||
        CU_add_test(s, "assemble_end_to_end", test_assemble_end_to_end) == NULL ||
        CU_add_test(s, "assemble_bad", test_assemble_bad) == NULL ||
        CU_add_test(s, "failmalloc", test_failmalloc) == NULL)
        return 1;
    return 0;
}
