/* tests/unit/test_metainfo.c: .torrent parsing (known info-hash vectors, BEP 12 tiers, BEP 27,
 * path sanitising, malformed and hostile metainfo, failmalloc) and creation (round trips). */
#include "bt_bencode.h"
#include "bt_mem.h"
#include "bt_metainfo.h"
#include "failmem.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int test_metainfo_add_suite(void);

/* Info-hashes computed independently: python3 hashlib.sha1 over the exact info bytes. */
static const char single_torrent[] =
    "d8:announce22:http://t.example/a/ann7:comment2:hi10:created by4:test13:creation datei"
    "1700000000e4:infod6:lengthi100000e4:name8:test.bin12:piece lengthi32768e6:pieces80:"
    "AAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDDDDD"
    "7:privatei1eee";
static const char single_hash[] = "2a49d941f403ca08b4f77736ea65c7077f7ecbcb";

static const char multi_torrent[] =
    "d8:announce5:http:13:announce-listll5:udp:a5:udp:bel5:udp:a5:udp:cee4:infod5:filesld6:"
    "lengthi10e4:pathl3:sub5:a.txteed6:lengthi0e4:pathl5:emptyeed6:lengthi20000e4:pathl9:"
    "\xc3\xa9t\xc3\xa9.bineee4:name5:multi12:piece lengthi16384e6:pieces40:"
    "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZee";
static const char multi_hash[] = "7ca004cc864d37b21cea500ae1040e788617819c";

static int parse(const char *s, size_t n, bt_metainfo **m, size_t *off, const char **msg)
{
    return bt_metainfo_parse(m, (const uint8_t *)s, n, bt_mem_default(), off, msg);
}

static void test_single_vector(void)
{
    bt_metainfo *m = NULL;
    size_t off = 0;
    const char *msg = NULL;
    CU_ASSERT_EQUAL_FATAL(parse(single_torrent, strlen(single_torrent), &m, &off, &msg), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    char hex[41];
    CU_ASSERT_STRING_EQUAL(bt_hex(m->info_hash, 20, hex), single_hash);
    CU_ASSERT_STRING_EQUAL(m->name, "test.bin");
    CU_ASSERT_EQUAL(m->total_length, 100000);
    CU_ASSERT_EQUAL(m->piece_length, 32768);
    CU_ASSERT_EQUAL(m->npieces, 4);
    CU_ASSERT_EQUAL(m->piece_hashes[20], 'B');
    CU_ASSERT_EQUAL(m->piece_hashes[79], 'D');
    CU_ASSERT_FALSE(m->multi_file);
    CU_ASSERT_TRUE(m->is_private);
    CU_ASSERT_EQUAL_FATAL(m->nfiles, 1);
    CU_ASSERT_STRING_EQUAL(m->files[0].path, "test.bin");
    CU_ASSERT_EQUAL(m->files[0].length, 100000);
    CU_ASSERT_EQUAL(m->files[0].offset, 0);
    CU_ASSERT_EQUAL_FATAL(m->ntrackers, 1);
    CU_ASSERT_STRING_EQUAL(m->trackers[0], "http://t.example/a/ann");
    CU_ASSERT_EQUAL(m->tracker_tier[0], 0);
    CU_ASSERT_STRING_EQUAL(m->comment, "hi");
    CU_ASSERT_STRING_EQUAL(m->created_by, "test");
    CU_ASSERT_EQUAL(m->creation_date, 1700000000);
    bt_metainfo_del(m);
    bt_metainfo_del(NULL);
}

static void test_multi_vector(void)
{
    bt_metainfo *m = NULL;
    CU_ASSERT_EQUAL_FATAL(parse(multi_torrent, strlen(multi_torrent), &m, NULL, NULL), 0);
    char hex[41];
    CU_ASSERT_STRING_EQUAL(bt_hex(m->info_hash, 20, hex), multi_hash);
    CU_ASSERT_TRUE(m->multi_file);
    CU_ASSERT_FALSE(m->is_private);
    CU_ASSERT_EQUAL(m->total_length, 20010);
    CU_ASSERT_EQUAL(m->npieces, 2);
    CU_ASSERT_EQUAL_FATAL(m->nfiles, 3);
    CU_ASSERT_STRING_EQUAL(m->files[0].path, "sub/a.txt");
    CU_ASSERT_STRING_EQUAL(m->files[1].path, "empty");
    CU_ASSERT_STRING_EQUAL(m->files[2].path, "\xc3\xa9t\xc3\xa9.bin"); /* unicode is fine */
    CU_ASSERT_EQUAL(m->files[1].offset, 10);
    CU_ASSERT_EQUAL(m->files[1].length, 0);
    CU_ASSERT_EQUAL(m->files[2].offset, 10);
    CU_ASSERT_EQUAL(m->files[2].length, 20000);
    /* announce-list wins over announce; udp:a repeated in tier 1 is dropped. */
    CU_ASSERT_EQUAL_FATAL(m->ntrackers, 3);
    CU_ASSERT_STRING_EQUAL(m->trackers[0], "udp:a");
    CU_ASSERT_STRING_EQUAL(m->trackers[1], "udp:b");
    CU_ASSERT_STRING_EQUAL(m->trackers[2], "udp:c");
    CU_ASSERT_EQUAL(m->tracker_tier[0], 0);
    CU_ASSERT_EQUAL(m->tracker_tier[1], 0);
    CU_ASSERT_EQUAL(m->tracker_tier[2], 1);
    CU_ASSERT_PTR_NULL(m->comment);
    CU_ASSERT_PTR_NULL(m->created_by);
    CU_ASSERT_EQUAL(m->creation_date, -1);
    bt_metainfo_del(m);
}

/* Builds "d<outer>4:info<info>e" into |out| and parses it; returns the code. */
static int parse_parts(const char *outer, const char *info, size_t *off, const char **msg)
{
    char buf[2048];
    int n = snprintf(buf, sizeof(buf), "d%s4:info%se", outer, info);
    CU_ASSERT_FATAL(n > 0 && (size_t)n < sizeof(buf));
    bt_metainfo *m = NULL;
    int rc = parse(buf, (size_t)n, &m, off, msg);
    CU_ASSERT((rc == 0) == (m != NULL));
    bt_metainfo_del(m);
    return rc;
}

#define P20 "20:AAAAAAAAAAAAAAAAAAAA"
#define HEAD16K "4:name1:n12:piece lengthi16384e6:pieces" P20

/* A one-file multi-file info dict whose path list is |path| (bencoded). */
static int parse_path(const char *path)
{
    char info[512];
    snprintf(info, sizeof(info), "d5:filesld6:lengthi1e4:path%see" HEAD16K "e", path);
    return parse_parts("", info, NULL, NULL);
}

static void test_sanitise(void)
{
    CU_ASSERT_EQUAL(parse_path("l1:ae"), 0);
    CU_ASSERT_EQUAL(parse_path("l1:a1:be"), 0);
    CU_ASSERT_EQUAL(parse_path("l3:...e"), 0); /* "..." is an ordinary name */
    CU_ASSERT_EQUAL(parse_path("l6:\xe6\x97\xa5\xe6\x9c\xac"
                               "e"),
                    0); /* unicode */
    CU_ASSERT_EQUAL(parse_path("l2:..1:ae"), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(parse_path("l1:a2:..e"), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(parse_path("l1:.e"), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(parse_path("l0:1:ae"), BT_ERR_INVALID); /* empty component, like /abs */
    CU_ASSERT_EQUAL(parse_path("l1:a0:e"), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(parse_path("l4:/etce"), BT_ERR_INVALID); /* absolute */
    CU_ASSERT_EQUAL(parse_path("l3:a/be"), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(parse_path("l5:..\\x1e"), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(parse_path("l3:C:\\e"), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(parse_path("le"), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(parse_path("li1ee"), BT_ERR_PROTO);
    CU_ASSERT_EQUAL(parse_path("3:abc"), BT_ERR_PROTO);
    char nul[] = "l3:a\0be";
    char info[512];
    int n = snprintf(info, sizeof(info), "d4:infod5:filesld6:lengthi1e4:path");
    memcpy(info + n, nul, sizeof(nul) - 1);
    n += (int)sizeof(nul) - 1;
    n += snprintf(info + n, sizeof(info) - (size_t)n, "ee" HEAD16K "ee");
    bt_metainfo *m = NULL;
    size_t off = 0;
    CU_ASSERT_EQUAL(parse(info, (size_t)n, &m, &off, NULL), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(off, 35); /* the "3:a\0b" component */
    CU_ASSERT_EQUAL(parse_path("l3:a\x01"
                               "be"),
                    BT_ERR_INVALID);
    CU_ASSERT_EQUAL(parse_path("l3:a\x1f"
                               "be"),
                    BT_ERR_INVALID);
    CU_ASSERT_EQUAL(parse_path("l3:a\x7f"
                               "be"),
                    BT_ERR_INVALID);
    CU_ASSERT_EQUAL(parse_path("l3:a\nbe"), BT_ERR_INVALID);
    /* Direct checks. */
    CU_ASSERT_TRUE(bt_metainfo_component_ok((const uint8_t *)"a b", 3));
    CU_ASSERT_TRUE(bt_metainfo_component_ok((const uint8_t *)".hidden", 7));
    CU_ASSERT_FALSE(bt_metainfo_component_ok((const uint8_t *)"", 0));
    CU_ASSERT_FALSE(bt_metainfo_component_ok((const uint8_t *)"a\0", 2));
    /* The torrent name is sanitised too. */
    CU_ASSERT_EQUAL(
        parse_parts("", "d6:lengthi1e4:name2:..12:piece lengthi16384e6:pieces" P20 "e", NULL, NULL),
        BT_ERR_INVALID);
    CU_ASSERT_EQUAL(parse_parts("",
                                "d6:lengthi1e4:name4:/etc12:piece lengthi16384e6:pieces" P20 "e",
                                NULL, NULL),
                    BT_ERR_INVALID);
    CU_ASSERT_EQUAL(
        parse_parts("", "d6:lengthi1e4:name0:12:piece lengthi16384e6:pieces" P20 "e", NULL, NULL),
        BT_ERR_INVALID);
}

static void test_collisions(void)
{
    const char *dup = "d5:filesld6:lengthi1e4:pathl1:aeed6:lengthi1e4:pathl1:aeee" HEAD16K "e";
    size_t off = 0;
    const char *msg = NULL;
    CU_ASSERT_EQUAL(parse_parts("", dup, &off, &msg), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(off, 40); /* the second entry */
    CU_ASSERT_PTR_NOT_NULL(msg != NULL ? strstr(msg, "duplicate") : NULL);
    const char *dir = "d5:filesld6:lengthi1e4:pathl1:a1:beed6:lengthi1e4:pathl1:a1:cee"
                      "d6:lengthi0e4:pathl1:aeee" HEAD16K "e";
    CU_ASSERT_EQUAL(parse_parts("", dir, &off, &msg), BT_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(msg != NULL ? strstr(msg, "directory") : NULL);
    /* "a!" sorts between "a" and "a/b" bytewise; the check must still see "a" vs "a/b". */
    const char *tricky = "d5:filesld6:lengthi1e4:pathl1:aeed6:lengthi1e4:pathl2:a!ee"
                         "d6:lengthi0e4:pathl1:a1:beee" HEAD16K "e";
    CU_ASSERT_EQUAL(parse_parts("", tricky, &off, &msg), BT_ERR_INVALID);
    const char *fine = "d5:filesld6:lengthi1e4:pathl1:a1:beed6:lengthi0e4:pathl2:a!ee"
                       "d6:lengthi0e4:pathl2:abeee" HEAD16K "e";
    CU_ASSERT_EQUAL(parse_parts("", fine, &off, &msg), 0);
}

/* BEP 47: attr 'p' marks pad files; libtorrent's ".pad/<size>" names repeat; pad ranges. */
static void test_pad_files(void)
{
    /* a (1 byte) | pad 16383 | b (2) | pad 16382 | pad 5 (merged with the one before) | c */
    const char *info =
        "d5:filesl"
        "d6:lengthi1e4:pathl1:aee"
        "d4:attr1:p6:lengthi16383e4:pathl4:.pad5:16383ee"
        "d4:attr2:xh6:lengthi2e4:pathl1:bee"
        "d4:attr1:p6:lengthi16382e4:pathl4:.pad5:16382ee"
        "d4:attr2:hp6:lengthi5e4:pathl4:.pad5:16382ee"
        "d6:lengthi3e4:pathl1:cee"
        "e4:name1:n12:piece lengthi16384e6:pieces60:"
        "AAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCCCCCe";
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "d4:info%se", info);
    bt_metainfo *m = NULL;
    CU_ASSERT_EQUAL_FATAL(parse(buf, (size_t)n, &m, NULL, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(m->nfiles, 6);
    CU_ASSERT_FALSE(m->files[0].is_pad);
    CU_ASSERT_TRUE(m->files[1].is_pad);
    CU_ASSERT_FALSE(m->files[2].is_pad); /* other attr letters do not make a pad */
    CU_ASSERT_TRUE(m->files[3].is_pad);
    CU_ASSERT_TRUE(m->files[4].is_pad);
    CU_ASSERT_STRING_EQUAL(m->files[4].path, ".pad/16382"); /* same path as files[3]: fine */
    CU_ASSERT_EQUAL(m->total_length, 32776);
    bt_byte_range r[3];
    CU_ASSERT_EQUAL(bt_metainfo_pad_ranges(m, r, 3), 2);
    CU_ASSERT_EQUAL(r[0].offset, 1);
    CU_ASSERT_EQUAL(r[0].length, 16383);
    CU_ASSERT_EQUAL(r[1].offset, 16386);
    CU_ASSERT_EQUAL(r[1].length, 16387);
    CU_ASSERT_EQUAL(bt_metainfo_pad_ranges(m, r, 1), 2); /* count even when |out| is short */
    CU_ASSERT_EQUAL(r[0].length, 16383);
    CU_ASSERT_EQUAL(bt_metainfo_pad_ranges(m, NULL, 0), 2);
    bt_metainfo_del(m);
    /* Without the 'p', two files of the same path are still a collision. */
    CU_ASSERT_EQUAL(parse_parts("", "d5:filesld6:lengthi1e4:pathl4:.pad1:1eed6:lengthi1e4:pathl4:"
                                    ".pad1:1eee" HEAD16K "e", NULL, NULL),
                    BT_ERR_INVALID);
    /* A pad file does not hide a real duplicate. */
    CU_ASSERT_EQUAL(parse_parts("", "d5:filesld6:lengthi1e4:pathl1:aeed4:attr1:p6:lengthi1e4:"
                                    "pathl1:aeed6:lengthi1e4:pathl1:aeee" HEAD16K "e", NULL, NULL),
                    BT_ERR_INVALID);
    /* A single-file torrent has no pad files. */
    bt_metainfo *s1 = NULL;
    CU_ASSERT_EQUAL_FATAL(parse(single_torrent, strlen(single_torrent), &s1, NULL, NULL), 0);
    CU_ASSERT_FALSE(s1->files[0].is_pad);
    CU_ASSERT_EQUAL(bt_metainfo_pad_ranges(s1, NULL, 0), 0);
    bt_metainfo_del(s1);
}

/* Malformed BEP 47 attr: not a string, too long. An empty attr is no attribute. */
static void test_bad_attr(void)
{
    size_t off = 0;
    const char *msg = NULL;
    const char *notstr = "d5:filesld4:attri1e6:lengthi1e4:pathl1:aeee" HEAD16K "e";
    CU_ASSERT_EQUAL(parse_parts("", notstr, &off, &msg), BT_ERR_PROTO);
    CU_ASSERT_EQUAL(off, 23); /* the attr value */
    CU_ASSERT_PTR_NOT_NULL(msg != NULL ? strstr(msg, "attr") : NULL);
    const char *list = "d5:filesld4:attrl1:pe6:lengthi1e4:pathl1:aeee" HEAD16K "e";
    CU_ASSERT_EQUAL(parse_parts("", list, &off, &msg), BT_ERR_PROTO);
    const char *longer = "d5:filesld4:attr17:ppppppppppppppppp6:lengthi1e4:pathl1:aeee" HEAD16K
                         "e";
    CU_ASSERT_EQUAL(parse_parts("", longer, &off, &msg), BT_ERR_LIMIT);
    CU_ASSERT_PTR_NOT_NULL(msg != NULL ? strstr(msg, "attr") : NULL);
    const char *max = "d5:filesld4:attr16:xxxxxxxxxxxxxxxp6:lengthi1e4:pathl1:aeee" HEAD16K "e";
    CU_ASSERT_EQUAL(parse_parts("", max, &off, &msg), 0);
    const char *empty = "d5:filesld4:attr0:6:lengthi1e4:pathl1:aeee" HEAD16K "e";
    CU_ASSERT_EQUAL(parse_parts("", empty, &off, &msg), 0);
}

/* Each malformed info dict gives |code| and a message. */
static void expect_bad_info(const char *info, int code)
{
    size_t off = 12345;
    const char *msg = NULL;
    CU_ASSERT_EQUAL(parse_parts("", info, &off, &msg), code);
    CU_ASSERT_PTR_NOT_NULL(msg);
    CU_ASSERT(off < 2048);
}

static void test_bad_info(void)
{
    expect_bad_info("le", BT_ERR_PROTO);
    expect_bad_info("d4:name1:n12:piece lengthi16384e6:pieces" P20 "e", BT_ERR_PROTO);
    expect_bad_info("d6:lengthi1e5:filesle" HEAD16K "e", BT_ERR_PROTO);
    expect_bad_info("d6:lengthi0e" HEAD16K "e", BT_ERR_PROTO); /* total 0 */
    expect_bad_info("d6:lengthi-1e" HEAD16K "e", BT_ERR_PROTO);
    expect_bad_info("d6:length1:1" HEAD16K "e", BT_ERR_PROTO);
    expect_bad_info("d6:lengthi16385e" HEAD16K "e", BT_ERR_PROTO); /* needs 2 pieces */
    expect_bad_info("d6:lengthi1e4:name1:n12:piece lengthi16384e6:pieces0:e", BT_ERR_PROTO);
    expect_bad_info("d6:lengthi1e4:name1:n12:piece lengthi16384e6:pieces3:abce", BT_ERR_PROTO);
    expect_bad_info("d6:lengthi1e4:name1:n12:piece lengthi0e6:pieces" P20 "e", BT_ERR_PROTO);
    expect_bad_info("d6:lengthi1e4:name1:n12:piece lengthi-5e6:pieces" P20 "e", BT_ERR_PROTO);
    expect_bad_info("d6:lengthi1e4:name1:n12:piece lengthi67108865e6:pieces" P20 "e", BT_ERR_LIMIT);
    expect_bad_info("d6:lengthi1e4:name1:n6:pieces" P20 "e", BT_ERR_PROTO);
    expect_bad_info("d6:lengthi1e4:namei1e12:piece lengthi16384e6:pieces" P20 "e", BT_ERR_PROTO);
    expect_bad_info("d6:lengthi1e12:piece lengthi16384e6:pieces" P20 "e", BT_ERR_PROTO);
    expect_bad_info("d5:filesle" HEAD16K "e", BT_ERR_PROTO);
    expect_bad_info("d5:filesli1ee" HEAD16K "e", BT_ERR_PROTO);
    expect_bad_info("d5:filesld4:pathl1:aeee" HEAD16K "e", BT_ERR_PROTO);
    expect_bad_info("d5:filesld6:lengthi-1e4:pathl1:aeee" HEAD16K "e", BT_ERR_PROTO);
    expect_bad_info("d5:filesld6:lengthi1eee" HEAD16K "e", BT_ERR_PROTO);
    expect_bad_info("d5:files1:x" HEAD16K "e", BT_ERR_PROTO);
    /* Overflowing total length. */
    expect_bad_info("d5:filesld6:lengthi9223372036854775807e4:pathl1:aeed6:lengthi1e4:pathl1:"
                    "beee" HEAD16K "e",
                    BT_ERR_LIMIT);
    /* A v2-only torrent (no pieces) is refused; a hybrid with pieces is parsed as v1. */
    expect_bad_info("d9:file treede6:lengthi1e12:meta versioni2e4:name1:n12:piece lengthi16384ee",
                    BT_ERR_PROTO);
    CU_ASSERT_EQUAL(
        parse_parts("", "d9:file treede6:lengthi1e12:meta versioni2e" HEAD16K "e", NULL, NULL), 0);
}

static void test_bad_outer(void)
{
    bt_metainfo *m = (bt_metainfo *)&m; /* must be reset to NULL */
    size_t off = 99;
    const char *msg = NULL;
    CU_ASSERT_EQUAL(parse("", 0, &m, &off, &msg), BT_ERR_PROTO);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_EQUAL(off, 0);
    CU_ASSERT_EQUAL(parse("le", 2, &m, &off, &msg), BT_ERR_PROTO);
    CU_ASSERT_EQUAL(parse("de", 2, &m, &off, &msg), BT_ERR_PROTO);
    CU_ASSERT_PTR_NOT_NULL(msg != NULL ? strstr(msg, "info") : NULL);
    CU_ASSERT_EQUAL(parse("d4:infoi1ee", 11, &m, &off, &msg), BT_ERR_PROTO);
    CU_ASSERT_EQUAL(off, 7);
    /* Every truncation of a valid torrent fails at an offset within the input. */
    size_t n = strlen(multi_torrent);
    for (size_t k = 0; k < n; k++) {
        char *b = malloc(k + 1);
        CU_ASSERT_FATAL(b != NULL);
        memcpy(b, multi_torrent, k);
        off = 0;
        msg = NULL;
        CU_ASSERT_EQUAL(parse(k ? b : NULL, k, &m, &off, &msg), BT_ERR_PROTO);
        CU_ASSERT(off <= k && msg != NULL && m == NULL);
        free(b);
    }
    /* Unsorted keys in the info dict: rejected with the offset of the offending key. */
    const char *uns = "d4:infod4:name1:n6:lengthi1e12:piece lengthi16384e6:pieces" P20 "ee";
    CU_ASSERT_EQUAL(parse(uns, strlen(uns), &m, &off, &msg), BT_ERR_PROTO);
    CU_ASSERT_EQUAL(off, 17);
    /* Unknown keys and wrongly typed optional keys are ignored. */
    CU_ASSERT_EQUAL(parse_parts("4:abcdi1e8:announcei1e7:commenti2e10:created byle"
                                "13:creation date1:x",
                                "d6:lengthi1e" HEAD16K "7:privatei0e6:sourcele5:zzzzzi1ee", NULL,
                                NULL),
                    0);
}

/* BEP 12 tiers: bad entries skipped, empty tiers not counted, fallback to announce. */
static void test_trackers(void)
{
    const char *info = "d6:lengthi1e" HEAD16K "e";
    char buf[1024];
    bt_metainfo *m = NULL;
    snprintf(buf, sizeof(buf),
             "d8:announce1:x13:announce-listll1:ai1e0:el1:ael1:beleli5e1:c1:a1:dee4:info%se", info);
    CU_ASSERT_EQUAL_FATAL(parse(buf, strlen(buf), &m, NULL, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(m->ntrackers, 4);
    CU_ASSERT_STRING_EQUAL(m->trackers[0], "a");
    CU_ASSERT_STRING_EQUAL(m->trackers[1], "b");
    CU_ASSERT_STRING_EQUAL(m->trackers[2], "c");
    CU_ASSERT_STRING_EQUAL(m->trackers[3], "d");
    CU_ASSERT_EQUAL(m->tracker_tier[0], 0);
    CU_ASSERT_EQUAL(m->tracker_tier[1], 1);
    CU_ASSERT_EQUAL(m->tracker_tier[2], 2);
    CU_ASSERT_EQUAL(m->tracker_tier[3], 2);
    bt_metainfo_del(m);
    /* An announce-list with nothing usable falls back to announce. */
    snprintf(buf, sizeof(buf), "d8:announce1:x13:announce-listll0:eli1eee4:info%se", info);
    CU_ASSERT_EQUAL_FATAL(parse(buf, strlen(buf), &m, NULL, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(m->ntrackers, 1);
    CU_ASSERT_STRING_EQUAL(m->trackers[0], "x");
    bt_metainfo_del(m);
    /* No trackers at all (trackerless) is fine; control bytes are not a URL. */
    snprintf(buf, sizeof(buf), "d8:announce3:a\nb4:info%se", info);
    CU_ASSERT_EQUAL_FATAL(parse(buf, strlen(buf), &m, NULL, NULL), 0);
    CU_ASSERT_EQUAL(m->ntrackers, 0);
    bt_metainfo_del(m);
    /* More than BT_META_MAX_TRACKERS distinct URLs. */
    size_t cap = 16 * (BT_META_MAX_TRACKERS + 2) + 256, n = 0;
    char *big = malloc(cap);
    CU_ASSERT_FATAL(big != NULL);
    n += (size_t)snprintf(big, cap, "d13:announce-listl");
    for (unsigned i = 0; i <= BT_META_MAX_TRACKERS; i++)
        n += (size_t)snprintf(big + n, cap - n, "l6:u%05uel", i);
    n -= 1;
    n += (size_t)snprintf(big + n, cap - n, "e4:info%se", info);
    size_t off = 0;
    CU_ASSERT_EQUAL(parse(big, n, &m, &off, NULL), BT_ERR_LIMIT);
    free(big);
}

/* Feeds |data| to |mk| in chunks of varying size. */
static void feed_chunks(bt_mktorrent *mk, const uint8_t *data, size_t len)
{
    size_t off = 0, step = 1;
    while (off < len) {
        size_t k = step < len - off ? step : len - off;
        CU_ASSERT_EQUAL(bt_mktorrent_feed(mk, data + off, k), 0);
        off += k;
        step = step * 3 + 7;
    }
}

static void test_roundtrip_multi(void)
{
    const char *paths[] = {"a.bin", "dir/b.bin", "dir/empty", "dir/sub/c.bin", "z"};
    const uint64_t lens[] = {40000, 16384, 0, 70001, 3};
    uint64_t total = 0;
    for (int i = 0; i < 5; i++)
        total += lens[i];
    uint8_t *data = malloc(total);
    CU_ASSERT_FATAL(data != NULL);
    for (uint64_t i = 0; i < total; i++)
        data[i] = (uint8_t)(i * 2654435761u >> 13);
    bt_mktorrent *mk = NULL;
    CU_ASSERT_EQUAL_FATAL(bt_mktorrent_new(&mk, "tree", 16384, true, bt_mem_default()), 0);
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(bt_mktorrent_add_file(mk, paths[i], lens[i]), 0);
    CU_ASSERT_EQUAL(bt_mktorrent_add_tracker(mk, "http://a/announce", 0), 0);
    CU_ASSERT_EQUAL(bt_mktorrent_add_tracker(mk, "http://b/announce", 0), 0);
    CU_ASSERT_EQUAL(bt_mktorrent_add_tracker(mk, "udp://c:1", 1), 0);
    CU_ASSERT_EQUAL(bt_mktorrent_add_tracker(mk, "udp://c:1", 2), BT_ERR_EXISTS);
    CU_ASSERT_EQUAL(bt_mktorrent_add_tracker(mk, "udp://d:1", 0), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(bt_mktorrent_set_comment(mk, "a comment"), 0);
    CU_ASSERT_EQUAL(bt_mktorrent_set_created_by(mk, "swarmlab 9.9"), 0);
    bt_mktorrent_set_creation_date(mk, 1234567890);
    bt_mktorrent_set_private(mk, true);
    uint8_t ih[20];
    bt_buf out;
    bt_buf_init(&out, bt_mem_default(), 0);
    CU_ASSERT_EQUAL(bt_mktorrent_finish(mk, &out, ih), BT_ERR_STATE); /* nothing fed yet */
    feed_chunks(mk, data, total);
    CU_ASSERT_EQUAL(bt_mktorrent_add_file(mk, "late", 1), BT_ERR_STATE);
    CU_ASSERT_EQUAL(bt_mktorrent_feed(mk, data, 1), BT_ERR_STATE); /* beyond the total */
    CU_ASSERT_EQUAL_FATAL(bt_mktorrent_finish(mk, &out, ih), 0);
    bt_mktorrent_del(mk);
    bt_metainfo *m = NULL;
    size_t off;
    const char *msg = NULL;
    CU_ASSERT_EQUAL_FATAL(bt_metainfo_parse(&m, out.data, out.len, bt_mem_default(), &off, &msg),
                          0);
    CU_ASSERT_EQUAL(memcmp(m->info_hash, ih, 20), 0);
    CU_ASSERT_STRING_EQUAL(m->name, "tree");
    CU_ASSERT_TRUE(m->multi_file);
    CU_ASSERT_TRUE(m->is_private);
    CU_ASSERT_EQUAL(m->total_length, total);
    CU_ASSERT_EQUAL(m->npieces, (total + 16383) / 16384);
    CU_ASSERT_EQUAL_FATAL(m->nfiles, 5);
    uint64_t o = 0;
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_STRING_EQUAL(m->files[i].path, paths[i]);
        CU_ASSERT_EQUAL(m->files[i].length, lens[i]);
        CU_ASSERT_EQUAL(m->files[i].offset, o);
        o += lens[i];
    }
    for (uint32_t p = 0; p < m->npieces; p++) {
        uint8_t h[20];
        size_t start = (size_t)p * 16384, n = total - start < 16384 ? total - start : 16384;
        bt_sha1(data + start, n, h);
        CU_ASSERT_EQUAL(memcmp(h, m->piece_hashes + 20 * p, 20), 0);
    }
    CU_ASSERT_EQUAL_FATAL(m->ntrackers, 3);
    CU_ASSERT_STRING_EQUAL(m->trackers[2], "udp://c:1");
    CU_ASSERT_EQUAL(m->tracker_tier[1], 0);
    CU_ASSERT_EQUAL(m->tracker_tier[2], 1);
    CU_ASSERT_STRING_EQUAL(m->comment, "a comment");
    CU_ASSERT_STRING_EQUAL(m->created_by, "swarmlab 9.9");
    CU_ASSERT_EQUAL(m->creation_date, 1234567890);
    bt_metainfo_del(m);
    bt_buf_free(&out);
    free(data);
}

/* A single-file torrent with one tracker encodes to exactly these bytes. */
static void test_single_exact(void)
{
    bt_mktorrent *mk = NULL;
    CU_ASSERT_EQUAL_FATAL(bt_mktorrent_new(&mk, "x", 16384, false, bt_mem_default()), 0);
    CU_ASSERT_EQUAL(bt_mktorrent_add_file(mk, "ignored", 3), 0);
    CU_ASSERT_EQUAL(bt_mktorrent_add_file(mk, "second", 3), BT_ERR_STATE);
    CU_ASSERT_EQUAL(bt_mktorrent_add_tracker(mk, "http://t/a", 0), 0);
    CU_ASSERT_EQUAL(bt_mktorrent_set_created_by(mk, NULL), 0);
    CU_ASSERT_EQUAL(bt_mktorrent_feed(mk, (const uint8_t *)"abc", 3), 0);
    bt_buf out;
    bt_buf_init(&out, bt_mem_default(), 0);
    uint8_t ih[20];
    CU_ASSERT_EQUAL_FATAL(bt_mktorrent_finish(mk, &out, ih), 0);
    bt_mktorrent_del(mk);
    /* sha1("abc") = a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d */
    const char want[] = "d8:announce10:http://t/a4:infod6:lengthi3e4:name1:x12:piece length"
                        "i16384e6:pieces20:\xa9\x99\x3e\x36\x47\x06\x81\x6a\xba\x3e\x25\x71"
                        "\x78\x50\xc2\x6c\x9c\xd0\xd8\x9d"
                        "ee";
    CU_ASSERT_EQUAL_FATAL(out.len, sizeof(want) - 1);
    CU_ASSERT_EQUAL(memcmp(out.data, want, out.len), 0);
    uint8_t h2[20];
    bt_sha1(out.data + 30, out.len - 31, h2);
    CU_ASSERT_EQUAL(memcmp(ih, h2, 20), 0);
    bt_buf_free(&out);
}

static void test_mktorrent_errors(void)
{
    bt_mktorrent *mk = NULL;
    const bt_mem *mem = bt_mem_default();
    CU_ASSERT_EQUAL(bt_mktorrent_new(&mk, "..", 16384, true, mem), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(bt_mktorrent_new(&mk, "a/b", 16384, true, mem), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(bt_mktorrent_new(&mk, "", 16384, true, mem), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(bt_mktorrent_new(&mk, "a", 8192, true, mem), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(bt_mktorrent_new(&mk, "a", 3 << 14, true, mem), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(bt_mktorrent_new(&mk, "a", 128u << 20, true, mem), BT_ERR_INVALID);
    CU_ASSERT_PTR_NULL(mk);
    CU_ASSERT_EQUAL_FATAL(bt_mktorrent_new(&mk, "a", 1u << 14, true, mem), 0);
    CU_ASSERT_EQUAL(bt_mktorrent_add_file(mk, "../x", 1), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(bt_mktorrent_add_file(mk, "/x", 1), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(bt_mktorrent_add_file(mk, "x/", 1), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(bt_mktorrent_add_file(mk, "x//y", 1), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(bt_mktorrent_add_file(mk, "", 1), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(bt_mktorrent_add_file(mk, "a\tb", 1), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(bt_mktorrent_add_tracker(mk, "", 0), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(bt_mktorrent_add_tracker(mk, "http://x\n", 0), BT_ERR_INVALID);
    bt_buf out;
    bt_buf_init(&out, mem, 0);
    CU_ASSERT_EQUAL(bt_mktorrent_finish(mk, &out, NULL), BT_ERR_STATE); /* no files */
    CU_ASSERT_EQUAL(bt_mktorrent_add_file(mk, "empty", 0), 0);
    CU_ASSERT_EQUAL(bt_mktorrent_finish(mk, &out, NULL), BT_ERR_INVALID); /* 0 bytes */
    CU_ASSERT_EQUAL(bt_mktorrent_add_file(mk, "big", (uint64_t)INT64_MAX), BT_ERR_LIMIT);
    CU_ASSERT_EQUAL(bt_mktorrent_add_file(mk, "f", 10), 0);
    CU_ASSERT_EQUAL(bt_mktorrent_feed(mk, (const uint8_t *)"0123456789", 5), 0);
    CU_ASSERT_EQUAL(bt_mktorrent_finish(mk, &out, NULL), BT_ERR_STATE); /* 5 bytes missing */
    CU_ASSERT_EQUAL(out.len, 0);
    bt_mktorrent_del(mk);
    bt_mktorrent_del(NULL);
    bt_buf_free(&out);
}

static void test_default_piece_length(void)
{
    CU_ASSERT_EQUAL(bt_metainfo_default_piece_length(1), 16384);
    CU_ASSERT_EQUAL(bt_metainfo_default_piece_length(2000ull * 16384), 16384);
    CU_ASSERT_EQUAL(bt_metainfo_default_piece_length(2000ull * 16384 + 1), 32768);
    CU_ASSERT_EQUAL(bt_metainfo_default_piece_length(100ull << 20), 64u << 10);
    CU_ASSERT_EQUAL(bt_metainfo_default_piece_length(4ull << 30), 4u << 20);
    CU_ASSERT_EQUAL(bt_metainfo_default_piece_length(1ull << 50), 16u << 20);
    for (uint64_t t = 40ull << 20; t < (30ull << 30); t = t * 3 / 2) {
        uint32_t p = bt_metainfo_default_piece_length(t);
        uint64_t n = (t + p - 1) / p;
        CU_ASSERT(n > 1000 && n <= 2000);
        CU_ASSERT((p & (p - 1)) == 0);
    }
}

static void test_failmalloc(void)
{
    bool done = false;
    for (int i = 0; i < 200 && !done; i++) {
        failmem fm;
        failmem_init(&fm, i);
        bt_mem mem = fm.mem;
        bt_metainfo *m = NULL;
        int rc = bt_metainfo_parse(&m, (const uint8_t *)multi_torrent, strlen(multi_torrent), &mem,
                                   NULL, NULL);
        CU_ASSERT(rc == 0 || rc == BT_ERR_NOMEM);
        done = rc == 0;
        bt_metainfo_del(m);
    }
    CU_ASSERT_TRUE(done);
    done = false;
    uint8_t content[10000];
    for (size_t k = 0; k < sizeof(content); k++)
        content[k] = (uint8_t)(k * 7);
    for (int i = 0; i < 200 && !done; i++) {
        failmem fm;
        failmem_init(&fm, i);
        bt_mem mem = fm.mem;
        bt_mktorrent *mk = NULL;
        bt_buf out;
        bt_buf_init(&out, &mem, 0);
        int rc = bt_mktorrent_new(&mk, "n", 16384, true, &mem);
        if (rc == 0)
            rc = bt_mktorrent_add_file(mk, "a/b", 70000);
        if (rc == 0)
            rc = bt_mktorrent_add_tracker(mk, "http://x", 0);
        if (rc == 0)
            rc = bt_mktorrent_set_comment(mk, "c");
        for (int k = 0; k < 7 && rc == 0; k++)
            rc = bt_mktorrent_feed(mk, content, sizeof(content));
        if (rc == 0)
            rc = bt_mktorrent_finish(mk, &out, NULL);
        CU_ASSERT(rc == 0 || rc == BT_ERR_NOMEM);
        done = rc == 0;
        bt_mktorrent_del(mk);
        bt_buf_free(&out);
    }
    CU_ASSERT_TRUE(done);
}

int test_metainfo_add_suite(void)
{
    CU_pSuite s = CU_add_suite("metainfo", NULL, NULL);
    if (s == NULL)
        return 1;
    if (!CU_add_test(s, "single-file vector", test_single_vector) ||
        !CU_add_test(s, "multi-file vector", test_multi_vector) ||
        !CU_add_test(s, "path sanitising", test_sanitise) ||
        !CU_add_test(s, "path collisions", test_collisions) ||
        !CU_add_test(s, "BEP 47 pad files", test_pad_files) ||
        !CU_add_test(s, "BEP 47 bad attr", test_bad_attr) ||
        !CU_add_test(s, "bad info", test_bad_info) ||
        !CU_add_test(s, "bad outer", test_bad_outer) ||
        !CU_add_test(s, "announce-list tiers", test_trackers) ||
        !CU_add_test(s, "create multi -> parse", test_roundtrip_multi) ||
        !CU_add_test(s, "create single exact bytes", test_single_exact) ||
        !CU_add_test(s, "create errors", test_mktorrent_errors) ||
        !CU_add_test(s, "default piece length", test_default_piece_length) ||
        !CU_add_test(s, "failmalloc", test_failmalloc))
        return 1;
    return 0;
}
