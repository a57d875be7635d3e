/* tests/unit/test_bencode.c: the strict bencode decoder (valid documents, every malformed and
 * hostile form we know of, limits, exact error offsets) and the encoder. */
#include "bt_bencode.h"
#include "bt_mem.h"
#include "failmem.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

extern int test_bencode_add_suite(void);

/* Parses the C string |s|; returns the code and fills |err|. Frees the doc on success. */
static int parse_s(const char *s, bt_ben_error *err)
{
    bt_ben_doc doc;
    int rc = bt_ben_parse(&doc, (const uint8_t *)s, strlen(s), NULL, bt_mem_default(), err);
    if (rc == 0)
        bt_ben_free(&doc);
    return rc;
}

/* Asserts |s| fails with |code| at |off| with a message containing |frag|. */
#define BAD(s, code, off, frag)                                                                    \
    do {                                                                                           \
        bt_ben_error e_ = {0, NULL};                                                               \
        CU_ASSERT_EQUAL(parse_s((s), &e_), (code));                                                \
        CU_ASSERT_EQUAL(e_.offset, (size_t)(off));                                                 \
        CU_ASSERT_PTR_NOT_NULL_FATAL(e_.msg);                                                      \
        CU_ASSERT_PTR_NOT_NULL(strstr(e_.msg, (frag)));                                            \
    } while (0)

static void test_scalars(void)
{
    bt_ben_doc d;
    const char *s = "i-42e";
    CU_ASSERT_EQUAL_FATAL(bt_ben_parse(&d, (const uint8_t *)s, 5, NULL, bt_mem_default(), NULL), 0);
    int64_t v = 0;
    CU_ASSERT_EQUAL(d.ntoks, 1);
    CU_ASSERT_TRUE(bt_ben_get_int(&d, 0, &v));
    CU_ASSERT_EQUAL(v, -42);
    CU_ASSERT_EQUAL(d.toks[0].start, 0);
    CU_ASSERT_EQUAL(d.toks[0].end, 5);
    CU_ASSERT_EQUAL(d.toks[0].next, 1);
    const uint8_t *p;
    size_t n;
    CU_ASSERT_FALSE(bt_ben_get_str(&d, 0, &p, &n));
    CU_ASSERT_FALSE(bt_ben_get_int(&d, 1, &v));
    bt_ben_free(&d);

    s = "4:spam";
    CU_ASSERT_EQUAL_FATAL(bt_ben_parse(&d, (const uint8_t *)s, 6, NULL, bt_mem_default(), NULL), 0);
    CU_ASSERT_TRUE(bt_ben_get_str(&d, 0, &p, &n));
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_EQUAL(memcmp(p, "spam", 4), 0);
    CU_ASSERT_EQUAL(d.toks[0].str_off, 2);
    bt_ben_free(&d);

    CU_ASSERT_EQUAL(parse_s("0:", NULL), 0);
    CU_ASSERT_EQUAL(parse_s("i0e", NULL), 0);
    CU_ASSERT_EQUAL(parse_s("i9223372036854775807e", NULL), 0);
    CU_ASSERT_EQUAL(parse_s("i-9223372036854775808e", NULL), 0);
    CU_ASSERT_EQUAL(parse_s("le", NULL), 0);
    CU_ASSERT_EQUAL(parse_s("de", NULL), 0);
}

static void test_int_extremes(void)
{
    bt_ben_doc d;
    const char *s = "li9223372036854775807ei-9223372036854775808ee";
    CU_ASSERT_EQUAL_FATAL(
        bt_ben_parse(&d, (const uint8_t *)s, strlen(s), NULL, bt_mem_default(), NULL), 0);
    int64_t v = 0;
    CU_ASSERT_TRUE(bt_ben_get_int(&d, bt_ben_list_at(&d, 0, 0), &v));
    CU_ASSERT_EQUAL(v, INT64_MAX);
    CU_ASSERT_TRUE(bt_ben_get_int(&d, bt_ben_list_at(&d, 0, 1), &v));
    CU_ASSERT_EQUAL(v, INT64_MIN);
    CU_ASSERT_EQUAL(bt_ben_list_at(&d, 0, 2), BT_BEN_NONE);
    bt_ben_free(&d);
}

static void test_nested(void)
{
    const char *s = "d1:ad1:bli1ei2eee1:c3:xyz1:dlee";
    bt_ben_doc d;
    CU_ASSERT_EQUAL_FATAL(
        bt_ben_parse(&d, (const uint8_t *)s, strlen(s), NULL, bt_mem_default(), NULL), 0);
    CU_ASSERT_EQUAL(d.ntoks, 11);
    CU_ASSERT_EQUAL(d.toks[0].type, BT_BEN_DICT);
    CU_ASSERT_EQUAL(d.toks[0].count, 3);
    CU_ASSERT_EQUAL(d.toks[0].next, 11);
    CU_ASSERT_EQUAL(d.toks[0].end, strlen(s));
    uint32_t a = bt_ben_dict_get(&d, 0, "a");
    CU_ASSERT_EQUAL_FATAL(a, 2);
    CU_ASSERT_EQUAL(d.toks[a].type, BT_BEN_DICT);
    CU_ASSERT_EQUAL(d.toks[a].start, 4);
    CU_ASSERT_EQUAL(d.toks[a].end, 17);
    CU_ASSERT_EQUAL(d.toks[a].next, 7);
    uint32_t b = bt_ben_dict_get(&d, a, "b");
    CU_ASSERT_EQUAL(d.toks[b].count, 2);
    int64_t v = 0;
    CU_ASSERT_TRUE(bt_ben_get_int(&d, bt_ben_list_at(&d, b, 1), &v));
    CU_ASSERT_EQUAL(v, 2);
    const uint8_t *p;
    size_t n;
    CU_ASSERT_TRUE(bt_ben_dict_str(&d, 0, "c", &p, &n));
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_FALSE(bt_ben_dict_int(&d, 0, "c", &v));
    uint32_t l = bt_ben_dict_get(&d, 0, "d");
    CU_ASSERT_EQUAL(d.toks[l].type, BT_BEN_LIST);
    CU_ASSERT_EQUAL(d.toks[l].count, 0);
    CU_ASSERT_EQUAL(bt_ben_list_at(&d, l, 0), BT_BEN_NONE);
    CU_ASSERT_EQUAL(bt_ben_dict_get(&d, 0, "e"), BT_BEN_NONE);
    CU_ASSERT_EQUAL(bt_ben_dict_get(&d, 0, ""), BT_BEN_NONE);
    /* Lookups on wrong types and every index (also out of range) never crash. */
    for (uint32_t i = 0; i < d.ntoks + 3; i++) {
        (void)bt_ben_dict_get(&d, i, "a");
        (void)bt_ben_list_at(&d, i, 0);
        (void)bt_ben_list_at(&d, i, 5);
        (void)bt_ben_get_int(&d, i, &v);
    }
    CU_ASSERT_EQUAL(bt_ben_dict_get(&d, b, "a"), BT_BEN_NONE);
    CU_ASSERT_EQUAL(bt_ben_list_at(&d, 0, 0), BT_BEN_NONE);
    CU_ASSERT_EQUAL(bt_ben_dict_get(&d, BT_BEN_NONE, "a"), BT_BEN_NONE);
    bt_ben_free(&d);
}

static void test_bad_ints(void)
{
    BAD("ie", BT_ERR_PROTO, 1, "empty");
    BAD("i-e", BT_ERR_PROTO, 2, "empty");
    BAD("i-0e", BT_ERR_PROTO, 2, "negative zero");
    BAD("i00e", BT_ERR_PROTO, 1, "leading zero");
    BAD("i01e", BT_ERR_PROTO, 1, "leading zero");
    BAD("i-01e", BT_ERR_PROTO, 2, "negative zero");
    BAD("i1x2e", BT_ERR_PROTO, 2, "invalid byte");
    BAD("i+1e", BT_ERR_PROTO, 1, "invalid byte");
    BAD("i--1e", BT_ERR_PROTO, 2, "invalid byte");
    BAD("i 1e", BT_ERR_PROTO, 1, "invalid byte");
    BAD("i9223372036854775808e", BT_ERR_PROTO, 0, "out of range");
    BAD("i-9223372036854775809e", BT_ERR_PROTO, 0, "out of range");
    BAD("i99999999999999999999999999e", BT_ERR_PROTO, 0, "out of range");
    BAD("i12", BT_ERR_PROTO, 3, "end of input");
    BAD("i", BT_ERR_PROTO, 1, "end of input");
    BAD("l i1ee", BT_ERR_PROTO, 1, "invalid type");
}

static void test_bad_strings(void)
{
    BAD("01:a", BT_ERR_PROTO, 0, "leading zero");
    BAD("00:", BT_ERR_PROTO, 0, "leading zero");
    BAD("5:abc", BT_ERR_PROTO, 5, "end of input");
    BAD("3", BT_ERR_PROTO, 1, "end of input");
    BAD("3x", BT_ERR_PROTO, 1, "invalid byte");
    BAD("-3:abc", BT_ERR_PROTO, 0, "invalid type");
    BAD("99999999999999999999:", BT_ERR_LIMIT, 0, "too large");
    BAD("4294967296:x", BT_ERR_LIMIT, 0, "too large");
    BAD("l99999999999999999999999999999:e", BT_ERR_LIMIT, 1, "too large");
    BAD("67108865:", BT_ERR_LIMIT, 0, "too large");
    BAD("67108864:", BT_ERR_PROTO, 9, "end of input");
    BAD("", BT_ERR_PROTO, 0, "end of input");
    BAD("x", BT_ERR_PROTO, 0, "invalid type");
    BAD("e", BT_ERR_PROTO, 0, "invalid type");
}

static void test_bad_dicts(void)
{
    BAD("d1:ae", BT_ERR_PROTO, 4, "without a value");
    BAD("di1ei2ee", BT_ERR_PROTO, 1, "not a string");
    BAD("dlei1ee", BT_ERR_PROTO, 1, "not a string");
    BAD("d1:bi1e1:ai2ee", BT_ERR_PROTO, 7, "not sorted");
    BAD("d1:ai1e1:ai2ee", BT_ERR_PROTO, 7, "duplicate");
    BAD("d2:abi1e1:ai2ee", BT_ERR_PROTO, 8, "not sorted");
    BAD("d1:ai1e", BT_ERR_PROTO, 7, "end of input");
    /* Byte order, not signed char order: 0xff sorts after 'a'. */
    CU_ASSERT_EQUAL(parse_s("d1:ai1e1:\xffi2ee", NULL), 0);
    BAD("d1:\xffi2e1:ai1ee", BT_ERR_PROTO, 7, "not sorted");
    CU_ASSERT_EQUAL(parse_s("d1:ai1e2:aai2ee", NULL), 0);
    CU_ASSERT_EQUAL(parse_s("d0:i1e1:ai2ee", NULL), 0);
    /* Sorting is per dict: an inner dict may reuse keys. */
    CU_ASSERT_EQUAL(parse_s("d1:bd1:ai1ee1:cd1:ai1eee", NULL), 0);
}

static void test_trailing(void)
{
    BAD("i1ei2e", BT_ERR_PROTO, 3, "trailing");
    BAD("lee", BT_ERR_PROTO, 2, "trailing");
    BAD("4:spam ", BT_ERR_PROTO, 6, "trailing");
    bt_ben_doc d;
    size_t used = 0;
    const char *s = "d1:ai1eeRAWBYTES";
    CU_ASSERT_EQUAL_FATAL(
        bt_ben_parse_prefix(&d, (const uint8_t *)s, strlen(s), &used, NULL, bt_mem_default(), NULL),
        0);
    CU_ASSERT_EQUAL(used, 8);
    CU_ASSERT_EQUAL(d.len, 8);
    bt_ben_free(&d);
    bt_ben_error e;
    CU_ASSERT_EQUAL(
        bt_ben_parse_prefix(&d, (const uint8_t *)"d1:a", 4, &used, NULL, bt_mem_default(), &e),
        BT_ERR_PROTO);
    CU_ASSERT_EQUAL(e.offset, 4);
}

/* Every proper prefix of a valid document is rejected, never crashes and reports an offset
 * within the input. */
static void test_every_prefix(void)
{
    const char *s = "d8:announce14:http://x/annou4:infod6:lengthi1024e4:listli-7e0:ledee"
                    "4:name3:abc12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAe"
                    "1:zi0ee";
    size_t n = strlen(s);
    CU_ASSERT_EQUAL_FATAL(parse_s(s, NULL), 0);
    for (size_t k = 0; k < n; k++) {
        uint8_t *b = malloc(k + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        memcpy(b, s, k);
        bt_ben_doc d;
        bt_ben_error e = {0, NULL};
        size_t used;
        int rc = bt_ben_parse(&d, k ? b : NULL, k, NULL, bt_mem_default(), &e);
        CU_ASSERT_EQUAL(rc, BT_ERR_PROTO);
        CU_ASSERT(e.offset <= k);
        CU_ASSERT_PTR_NOT_NULL(e.msg);
        CU_ASSERT_EQUAL(d.toks, NULL);
        rc = bt_ben_parse_prefix(&d, k ? b : NULL, k, &used, NULL, bt_mem_default(), &e);
        CU_ASSERT_EQUAL(rc, BT_ERR_PROTO);
        free(b);
    }
}

static void test_depth(void)
{
    size_t levels = 10000;
    char *s = malloc(2 * levels + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    memset(s, 'l', levels);
    memset(s + levels, 'e', levels);
    s[2 * levels] = '\0';
    BAD(s, BT_ERR_LIMIT, 64, "too deep");
    /* Exactly 64 levels is fine, 65 is not. */
    s[64] = '\0';
    memset(s + 32, 'e', 32);
    memset(s, 'l', 32);
    CU_ASSERT_EQUAL(parse_s(s, NULL), 0);
    memset(s, 'l', 64);
    memset(s + 64, 'e', 64);
    s[128] = '\0';
    CU_ASSERT_EQUAL(parse_s(s, NULL), 0);
    memset(s, 'l', 65);
    memset(s + 65, 'e', 65);
    s[130] = '\0';
    BAD(s, BT_ERR_LIMIT, 64, "too deep");
    /* Deep dicts too: d1:ad1:ad1:a... */
    bt_ben_limits lim = {10000 + 1, 1u << 20, 1u << 20};
    size_t m = 0;
    char *t = malloc(6 * levels + 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    for (size_t i = 0; i < levels; i++) {
        memcpy(t + m, "d1:a", 4);
        m += 4;
    }
    memcpy(t + m, "le", 2);
    m += 2;
    memset(t + m, 'e', levels);
    m += levels;
    bt_ben_doc d;
    CU_ASSERT_EQUAL(bt_ben_parse(&d, (uint8_t *)t, m, &lim, bt_mem_default(), NULL), 0);
    CU_ASSERT_EQUAL(d.ntoks, 2 * levels + 1);
    bt_ben_free(&d);
    lim.max_depth = 100;
    bt_ben_error e;
    CU_ASSERT_EQUAL(bt_ben_parse(&d, (uint8_t *)t, m, &lim, bt_mem_default(), &e), BT_ERR_LIMIT);
    CU_ASSERT_EQUAL(e.offset, 400);
    free(t);
    free(s);
}

static void test_limits(void)
{
    bt_ben_limits lim = {8, 4, 100};
    bt_ben_doc d;
    bt_ben_error e;
    const char *s = "li1ei2ei3ee";
    CU_ASSERT_EQUAL(bt_ben_parse(&d, (const uint8_t *)s, strlen(s), &lim, bt_mem_default(), &e), 0);
    bt_ben_free(&d);
    s = "li1ei2ei3ei4ee";
    CU_ASSERT_EQUAL(bt_ben_parse(&d, (const uint8_t *)s, strlen(s), &lim, bt_mem_default(), &e),
                    BT_ERR_LIMIT);
    CU_ASSERT_EQUAL(e.offset, 10);
    lim = (bt_ben_limits){8, 100, 10};
    s = "10:abcdefghij";
    CU_ASSERT_EQUAL(bt_ben_parse(&d, (const uint8_t *)s, strlen(s), &lim, bt_mem_default(), &e),
                    BT_ERR_LIMIT);
    CU_ASSERT_EQUAL(e.offset, 10);
    /* A prefix parse may see more bytes than max_input as long as the item fits. */
    s = "4:abcdXXXXXXXXXXXXXXXX";
    size_t used = 0;
    CU_ASSERT_EQUAL(
        bt_ben_parse_prefix(&d, (const uint8_t *)s, strlen(s), &used, &lim, bt_mem_default(), &e),
        0);
    CU_ASSERT_EQUAL(used, 6);
    bt_ben_free(&d);
    s = "20:abcdXXXXXXXXXXXXXXXXXXXXXX";
    CU_ASSERT_EQUAL(
        bt_ben_parse_prefix(&d, (const uint8_t *)s, strlen(s), &used, &lim, bt_mem_default(), &e),
        BT_ERR_LIMIT);
    lim = (bt_ben_limits){0, 100, 100};
    CU_ASSERT_EQUAL(bt_ben_parse(&d, (const uint8_t *)"le", 2, &lim, bt_mem_default(), &e),
                    BT_ERR_LIMIT);
    CU_ASSERT_EQUAL(bt_ben_parse(&d, (const uint8_t *)"i1e", 3, &lim, bt_mem_default(), &e), 0);
    bt_ben_free(&d);
}

static void test_failmalloc(void)
{
    char s[400];
    size_t m = 0;
    for (int i = 0; i < 40; i++) {
        memcpy(s + m, "l", 1);
        m++;
    }
    for (int i = 0; i < 40; i++)
        s[m++] = 'e';
    bool succeeded = false;
    for (int i = 0; i < 50 && !succeeded; i++) {
        failmem fm;
        failmem_init(&fm, i);
        bt_mem mem = fm.mem;
        bt_ben_doc d;
        int rc = bt_ben_parse(&d, (uint8_t *)s, m, NULL, &mem, NULL);
        CU_ASSERT(rc == 0 || rc == BT_ERR_NOMEM);
        if (rc == 0) {
            succeeded = true;
            CU_ASSERT_EQUAL(d.ntoks, 40);
            bt_ben_free(&d);
        }
    }
    CU_ASSERT_TRUE(succeeded);
}

static void test_encoder(void)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_ben_put_dict(&b);
    bt_ben_put_cstr(&b, "a");
    bt_ben_put_int(&b, INT64_MIN);
    bt_ben_put_cstr(&b, "b");
    bt_ben_put_list(&b);
    bt_ben_put_int(&b, 0);
    bt_ben_put_int(&b, INT64_MAX);
    bt_ben_put_int(&b, -1);
    bt_ben_put_str(&b, "", 0);
    bt_ben_put_str(&b, "x\0y", 3);
    bt_ben_put_end(&b);
    bt_ben_put_end(&b);
    const char want[] = "d1:ai-9223372036854775808e1:bli0ei9223372036854775807ei-1e0:3:x\0yee";
    CU_ASSERT_EQUAL_FATAL(b.len, sizeof(want) - 1);
    CU_ASSERT_EQUAL(memcmp(b.data, want, b.len), 0);
    CU_ASSERT_EQUAL(b.err, 0);
    bt_ben_doc d;
    CU_ASSERT_EQUAL(bt_ben_parse(&d, b.data, b.len, NULL, bt_mem_default(), NULL), 0);
    bt_ben_free(&d);
    bt_buf_free(&b);
    /* Errors stick in the buffer. */
    bt_buf_init(&b, bt_mem_default(), 4);
    bt_ben_put_cstr(&b, "hello");
    CU_ASSERT_EQUAL(b.err, BT_ERR_LIMIT);
    bt_buf_free(&b);
}

int test_bencode_add_suite(void)
{
    CU_pSuite s = CU_add_suite("bencode", NULL, NULL);
    if (s == NULL)
        return 1;
    if (!CU_add_test(s, "scalars", test_scalars) ||
        !CU_add_test(s, "int extremes", test_int_extremes) ||
        !CU_add_test(s, "nested", test_nested) || !CU_add_test(s, "bad ints", test_bad_ints) ||
        !CU_add_test(s, "bad strings", test_bad_strings) ||
        !CU_add_test(s, "bad dicts", test_bad_dicts) ||
        !CU_add_test(s, "trailing", test_trailing) ||
        !CU_add_test(s, "every prefix", test_every_prefix) ||
        !CU_add_test(s, "depth", test_depth) || !CU_add_test(s, "limits", test_limits) ||
        !CU_add_test(s, "failmalloc", test_failmalloc) || !CU_add_test(s, "encoder", test_encoder))
        return 1;
    return 0;
}
