/* tests/unit/test_live_scrape.c: live/live_scrape.c's HTTP scrape reply parser (BEP 48): the
 * counts of the requested torrent among others, an unlisted torrent, failure reasons, and
 * malformed replies (bad bencode, wrong types, negative or huge counts, oversized input). */
#include "bt.h"
#include "live_scrape.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

extern int test_live_scrape_add_suite(void);

static uint8_t ih[20], other[20];

/* d5:filesd<20 bytes>d...ee...ee with |entry| for |h|, plus one for |other| first. */
static size_t reply(uint8_t *out, const uint8_t *h, const char *entry)
{
    size_t n = 0;
    memcpy(out + n, "d5:filesd20:", 12);
    n += 12;
    memcpy(out + n, other, 20);
    n += 20;
    const char *o = "d8:completei9e10:downloadedi9e10:incompletei9ee";
    memcpy(out + n, o, strlen(o));
    n += strlen(o);
    memcpy(out + n, "20:", 3);
    n += 3;
    memcpy(out + n, h, 20);
    n += 20;
    memcpy(out + n, entry, strlen(entry));
    n += strlen(entry);
    memcpy(out + n, "ee", 2);
    return n + 2;
}

static void test_ok(void)
{
    memset(ih, 0x7b, 20);
    memset(other, 0x01, 20);
    ih[3] = 0; /* a NUL inside the key */
    uint8_t buf[512];
    char msg[256];
    bt_scrape_entry e;
    size_t n = reply(buf, ih, "d8:completei3e10:downloadedi12e10:incompletei5ee");
    CU_ASSERT_EQUAL_FATAL(bt_tracker_http_parse_scrape(buf, n, ih, &e, msg, sizeof(msg)), 0);
    CU_ASSERT(e.complete == 3 && e.incomplete == 5 && e.downloaded == 12);
    CU_ASSERT(memcmp(e.info_hash, ih, 20) == 0);
    n = reply(buf, ih, "d8:completei2ee"); /* missing counts: -1 */
    CU_ASSERT_EQUAL(bt_tracker_http_parse_scrape(buf, n, ih, &e, msg, sizeof(msg)), 0);
    CU_ASSERT(e.complete == 2 && e.incomplete == -1 && e.downloaded == -1);
    uint8_t absent[20];
    memset(absent, 0x55, 20);
    n = reply(buf, ih, "de");
    CU_ASSERT_EQUAL(bt_tracker_http_parse_scrape(buf, n, absent, &e, msg, sizeof(msg)), 0);
    CU_ASSERT(e.complete == 0 && e.incomplete == 0 && e.downloaded == 0);
}

static void expect_error(const uint8_t *buf, size_t n, const char *want)
{
    char msg[256] = "";
    bt_scrape_entry e;
    CU_ASSERT_EQUAL(bt_tracker_http_parse_scrape(buf, n, ih, &e, msg, sizeof(msg)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
}

static void test_malformed(void)
{
    uint8_t buf[512];
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"d14:failure reason11:not allowede", "tracker error: not allowed"},
        {"", "bad bencode at byte 0"},
        {"d5:files", "bad bencode at byte 8"},
        {"d5:filesd", "bad bencode at byte 9"},
        {"d5:filesdeee", "bad bencode at byte 11"},
        {"le", "not a dictionary"},
        {"de", "no 'files'"},
        {"d5:filesi1ee", "no 'files'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_error((const uint8_t *)cases[i].in, strlen(cases[i].in), cases[i].want);
    size_t n = reply(buf, ih, "i4e");
    expect_error(buf, n, "entry is not a dictionary");
    n = reply(buf, ih, "d8:completei-1ee");
    expect_error(buf, n, "'complete' is not a count");
    n = reply(buf, ih, "d10:incompletei2147483648ee");
    expect_error(buf, n, "'incomplete' is not a count");
    n = reply(buf, ih, "d10:downloaded1:xe");
    expect_error(buf, n, "'downloaded' is not a count");
    size_t big = BT_TRACKER_MAX_REPLY + 1;
    uint8_t *huge = calloc(big, 1);
    CU_ASSERT_FATAL(huge != NULL);
    expect_error(huge, big, "more than");
    free(huge);
}

int test_live_scrape_add_suite(void)
{
    CU_pSuite s = CU_add_suite("live_scrape", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "ok", test_ok) == NULL ||
        CU_add_test(s, "malformed", test_malformed) == NULL)
        return 1;
    return 0;
}
