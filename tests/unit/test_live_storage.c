/* tests/unit/test_live_storage.c: live/live_storage.c on a real temporary directory: multi-file
 * layout with nested directories, reads across file boundaries, nothing written before a piece
 * verifies (also on the verify thread, live_verify.c), the resume check (missing, short and
 * corrupt pieces), refusal of unsafe paths and symlinks, a read-only seed with a missing file,
 * and BEP 47 pad files (never created or written, read as zeros, counted present by the
 * resume check). */
#define _XOPEN_SOURCE 700
#include "test_live_fixture.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern int test_live_storage_add_suite(void);

#define PL (32u << 10) /* piece length of the test torrents */

static const tl_file tree[] = {
    {"a/b/c.dat", 50000},      {"a/empty", 0},    {"a/z.bin", 1},
    {"x/y/z/deep.bin", 70000}, {"zz.txt", 12345},
};

static uint32_t psize(const bt_metainfo *m, uint32_t p)
{
    uint64_t left = m->total_length - (uint64_t)p * m->piece_length;
    return left < m->piece_length ? (uint32_t)left : m->piece_length;
}

/* Feeds every piece through block + verify, in 16 KiB blocks. */
static int store_all(live_storage *st, const tl_torrent *t)
{
    for (uint32_t p = 0; p < t->m->npieces; p++) {
        uint32_t n = psize(t->m, p);
        const uint8_t *src = t->content + (uint64_t)p * t->m->piece_length;
        for (uint32_t b = 0; b < n; b += 16384)
            if (live_storage_block(st, p, b, src + b, n - b < 16384 ? n - b : 16384) != 0)
                return -1;
        uint8_t d[20];
        if (live_storage_verify(st, p, d, NULL, 0) != 0 ||
            memcmp(d, t->m->piece_hashes + (size_t)p * 20, 20) != 0)
            return -1;
    }
    return 0;
}

static void check_file(const char *dir, const tl_torrent *t, uint32_t i)
{
    char path[8192];
    uint8_t *got;
    snprintf(path, sizeof(path), "%s/%s/%s", dir, t->m->name, t->m->files[i].path);
    long n = tl_slurp(path, &got);
    CU_ASSERT_EQUAL(n, (long)t->m->files[i].length);
    if (n == (long)t->m->files[i].length && n > 0)
        CU_ASSERT(memcmp(got, t->content + t->m->files[i].offset, (size_t)n) == 0);
    free(got);
}

static void test_layout_and_read(void)
{
    tl_torrent t;
    char dir[256], err[512];
    CU_ASSERT_FATAL(tl_torrent_make(&t, "tree", true, tree, 5, PL, 1) == 0);
    CU_ASSERT_FATAL(tl_tmpdir(dir, sizeof(dir)) == 0);
    live_storage *st;
    CU_ASSERT_FATAL(live_storage_open(&st, t.m, dir, true, err, sizeof(err)) == 0);
    CU_ASSERT_EQUAL(store_all(st, &t), 0);
    CU_ASSERT_EQUAL(live_storage_pending(st), 0);
    for (uint32_t i = 0; i < t.m->nfiles; i++)
        check_file(dir, &t, i);
    /* A read that spans c.dat, the empty file, z.bin and deep.bin (piece 1 covers 32K..64K). */
    uint8_t buf[PL];
    CU_ASSERT_EQUAL(live_storage_read(st, 1, 0, buf, PL), 0);
    CU_ASSERT(memcmp(buf, t.content + PL, PL) == 0);
    uint32_t last = t.m->npieces - 1;
    CU_ASSERT_EQUAL(live_storage_read(st, last, 0, buf, psize(t.m, last) + 1), -1);
    CU_ASSERT_EQUAL(live_storage_read(st, t.m->npieces, 0, buf, 1), -1);
    live_storage_del(st);
    tl_rmtree(dir);
    tl_torrent_free(&t);
}

static void test_nothing_written_before_verify(void)
{
    tl_torrent t;
    char dir[256], path[512];
    const tl_file one = {"f", 3 * PL};
    CU_ASSERT_FATAL(tl_torrent_make(&t, "single.bin", false, &one, 1, PL, 2) == 0);
    CU_ASSERT_FATAL(tl_tmpdir(dir, sizeof(dir)) == 0);
    live_storage *st;
    CU_ASSERT_FATAL(live_storage_open(&st, t.m, dir, true, NULL, 0) == 0);
    uint8_t bad[PL];
    memcpy(bad, t.content + PL, PL);
    bad[100] ^= 1; /* one flipped bit */
    CU_ASSERT_EQUAL(live_storage_block(st, 1, 0, bad, PL), 0);
    CU_ASSERT_EQUAL(live_storage_block(st, 1, PL - 10, bad, 11), -1); /* past the piece */
    CU_ASSERT_EQUAL(live_storage_pending(st), 1);
    struct stat sb;
    snprintf(path, sizeof(path), "%s/single.bin", dir);
    CU_ASSERT(stat(path, &sb) == 0 && sb.st_size == 0);
    uint8_t d[20];
    CU_ASSERT_EQUAL(live_storage_verify(st, 1, d, NULL, 0), 0);
    CU_ASSERT(memcmp(d, t.m->piece_hashes + 20, 20) != 0);
    CU_ASSERT_EQUAL(live_storage_pending(st), 0);
    CU_ASSERT(stat(path, &sb) == 0 && sb.st_size == 0); /* the bad piece was never written */
    /* Verify of a piece with no blocks gives a digest that does not match. */
    CU_ASSERT_EQUAL(live_storage_verify(st, 0, d, NULL, 0), 0);
    CU_ASSERT(memcmp(d, t.m->piece_hashes, 20) != 0);
    /* The good piece 2 is written at its offset. */
    CU_ASSERT_EQUAL(live_storage_block(st, 2, 0, t.content + 2 * PL, PL), 0);
    CU_ASSERT_EQUAL(live_storage_verify(st, 2, d, NULL, 0), 0);
    CU_ASSERT(memcmp(d, t.m->piece_hashes + 40, 20) == 0);
    CU_ASSERT(stat(path, &sb) == 0 && sb.st_size == 3 * PL);
    live_storage_del(st);
    tl_rmtree(dir);
    tl_torrent_free(&t);
}

/* Waits (up to 10 s) for one result of the verify thread; |data| (may be NULL) gets the
 * piece's bytes. */
static int collect_data(live_storage *st, uint32_t *piece, uint8_t d[20], const uint8_t **data)
{
    for (int i = 0; i < 10000; i++) {
        int rv = live_storage_verify_collect(st, piece, d, data, NULL, 0);
        if (rv != 0)
            return rv;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return 0;
}

static int collect_one(live_storage *st, uint32_t *piece, uint8_t d[20])
{
    return collect_data(st, piece, d, NULL);
}

/* The host stops reading sockets while more than 16 MiB (at least 4 pieces) wait for the
 * verify thread, and reads again at half that; a collected result lends the piece's bytes. */
static void test_verify_backlog(void)
{
    enum { BIG = 4u << 20, N = 6 };
    tl_torrent t;
    char dir[256];
    const tl_file one = {"big", (uint64_t)N * BIG};
    CU_ASSERT_FATAL(tl_torrent_make(&t, "big.bin", false, &one, 1, BIG, 5) == 0);
    CU_ASSERT_FATAL(tl_tmpdir(dir, sizeof(dir)) == 0);
    live_storage *st;
    CU_ASSERT_FATAL(live_storage_open(&st, t.m, dir, true, NULL, 0) == 0);
    CU_ASSERT(!live_storage_backlogged(st, false));
    for (uint32_t p = 0; p < 5; p++) {
        CU_ASSERT(!live_storage_backlogged(st, false)); /* p pieces queued: p * 4 MiB */
        CU_ASSERT_EQUAL(live_storage_block(st, p, 0, t.content + (size_t)p * BIG, BIG), 0);
        CU_ASSERT_EQUAL(live_storage_verify_start(st, p), 0);
    }
    CU_ASSERT(live_storage_backlogged(st, false)); /* 20 MiB > 16 */
    uint32_t piece;
    uint8_t d[20];
    const uint8_t *data = NULL;
    for (uint32_t p = 0; p < 2; p++) {
        CU_ASSERT_EQUAL(collect_data(st, &piece, d, &data), 1);
        CU_ASSERT(piece == p && data != NULL &&
                  memcmp(data, t.content + (size_t)p * BIG, BIG) == 0);
    }
    CU_ASSERT(live_storage_backlogged(st, true)); /* 12 MiB: still above 8 */
    CU_ASSERT(!live_storage_backlogged(st, false));
    CU_ASSERT_EQUAL(collect_one(st, &piece, d), 1);
    CU_ASSERT(!live_storage_backlogged(st, true)); /* 8 MiB */
    live_storage_del(st);
    tl_rmtree(dir);
    tl_torrent_free(&t);
}

/* The verify thread: results in start order, a good piece written before its result, a bad
 * one never written, and a piece with no blocks left to the synchronous verify. */
static void test_verify_thread(void)
{
    tl_torrent t;
    char dir[256], path[512];
    const tl_file one = {"f", 3 * PL};
    CU_ASSERT_FATAL(tl_torrent_make(&t, "thread.bin", false, &one, 1, PL, 4) == 0);
    CU_ASSERT_FATAL(tl_tmpdir(dir, sizeof(dir)) == 0);
    live_storage *st;
    CU_ASSERT_FATAL(live_storage_open(&st, t.m, dir, true, NULL, 0) == 0);
    CU_ASSERT_EQUAL(live_storage_verify_fd(st), -1);
    CU_ASSERT_EQUAL(live_storage_verify_start(st, 0), 1); /* nothing received */
    uint8_t bad[PL];
    memcpy(bad, t.content + PL, PL);
    bad[7] ^= 0x80;
    CU_ASSERT_EQUAL(live_storage_block(st, 2, 0, t.content + 2 * PL, PL), 0);
    CU_ASSERT_EQUAL(live_storage_block(st, 1, 0, bad, PL), 0);
    CU_ASSERT_EQUAL(live_storage_verify_start(st, 2), 0);
    CU_ASSERT_EQUAL(live_storage_verify_start(st, 1), 0);
    CU_ASSERT(live_storage_verify_fd(st) >= 0);
    CU_ASSERT_EQUAL(live_storage_pending(st), 2);
    uint32_t piece = 99;
    uint8_t d[20];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/thread.bin", dir);
    CU_ASSERT_EQUAL(collect_one(st, &piece, d), 1);
    CU_ASSERT_EQUAL(piece, 2);
    CU_ASSERT(memcmp(d, t.m->piece_hashes + 40, 20) == 0);
    CU_ASSERT(stat(path, &sb) == 0 && sb.st_size == 3 * PL); /* written before the result */
    CU_ASSERT_EQUAL(collect_one(st, &piece, d), 1);
    CU_ASSERT_EQUAL(piece, 1);
    CU_ASSERT(memcmp(d, t.m->piece_hashes + 20, 20) != 0);
    CU_ASSERT_EQUAL(live_storage_pending(st), 0);
    CU_ASSERT_EQUAL(live_storage_verify_collect(st, &piece, d, NULL, NULL, 0), 0);
    uint8_t got[PL];
    CU_ASSERT_EQUAL(live_storage_read(st, 2, 0, got, PL), 0);
    CU_ASSERT(memcmp(got, t.content + 2 * PL, PL) == 0);
    CU_ASSERT_EQUAL(live_storage_read(st, 1, 0, got, PL), 0);
    CU_ASSERT(memcmp(got, bad, PL) != 0); /* a hole of zeros, not the bad bytes */
    /* a job still queued when the storage goes is dropped without a leak */
    CU_ASSERT_EQUAL(live_storage_block(st, 0, 0, t.content, PL), 0);
    CU_ASSERT_EQUAL(live_storage_verify_start(st, 0), 0);
    live_storage_del(st);
    tl_rmtree(dir);
    tl_torrent_free(&t);
}

static uint32_t count_bits(const uint8_t *have, uint32_t n)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        k += (have[i >> 3] >> (7 - (i & 7))) & 1;
    return k;
}

static void test_resume_check(void)
{
    tl_torrent t;
    char dir[256], path[8192];
    CU_ASSERT_FATAL(tl_torrent_make(&t, "tree", true, tree, 5, PL, 3) == 0);
    CU_ASSERT_FATAL(tl_tmpdir(dir, sizeof(dir)) == 0);
    CU_ASSERT_FATAL(tl_write_content(&t, dir) == 0);
    /* Corrupt one byte of piece 2 (in deep.bin), and cut zz.txt (from byte 120001) short so
     * that piece 3 (up to byte 131072) is whole but the last piece 4 is not. */
    snprintf(path, sizeof(path), "%s/tree/x/y/z/deep.bin", dir);
    FILE *f = fopen(path, "r+b");
    CU_ASSERT_FATAL(f != NULL);
    fseek(f, (long)(2 * PL + 5 - t.m->files[3].offset), SEEK_SET);
    fputc(t.content[2 * PL + 5] ^ 0xff, f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/tree/zz.txt", dir);
    CU_ASSERT_EQUAL(truncate(path, 131072 - 120001 + 10), 0);
    live_storage *st;
    CU_ASSERT_FATAL(live_storage_open(&st, t.m, dir, true, NULL, 0) == 0);
    uint8_t have[16] = {0};
    int64_t n = live_storage_check(st, have, NULL, 0);
    uint32_t last = t.m->npieces - 1;
    CU_ASSERT_EQUAL(n, t.m->npieces - 2);
    CU_ASSERT_EQUAL(count_bits(have, t.m->npieces), t.m->npieces - 2);
    CU_ASSERT_EQUAL((have[0] >> 5) & 1, 0);                        /* piece 2 */
    CU_ASSERT_EQUAL((have[last >> 3] >> (7 - (last & 7))) & 1, 0); /* the short last piece */
    CU_ASSERT_EQUAL((have[0] >> 7) & 1, 1);                        /* piece 0 */
    live_storage_del(st);
    tl_rmtree(dir);
    tl_torrent_free(&t);
}

static void test_refuses_escapes(void)
{
    tl_torrent t;
    char dir[256], err[512], outside[512], link[512];
    const tl_file files[] = {{"sub/f", 1000}};
    CU_ASSERT_FATAL(tl_torrent_make(&t, "tree", true, files, 1, PL, 4) == 0);
    CU_ASSERT_FATAL(tl_tmpdir(dir, sizeof(dir)) == 0);
    live_storage *st = NULL;
    /* A path with "..": rejected (the metainfo parser already refuses; storage checks again). */
    char *saved = t.m->files[0].path;
    t.m->files[0].path = (char *)"../escaped";
    CU_ASSERT_EQUAL(live_storage_open(&st, t.m, dir, true, err, sizeof(err)), -1);
    CU_ASSERT(strstr(err, "escaped") != NULL);
    snprintf(outside, sizeof(outside), "%s/escaped", dir);
    CU_ASSERT(access(outside, F_OK) != 0);
    t.m->files[0].path = (char *)"sub//f";
    CU_ASSERT_EQUAL(live_storage_open(&st, t.m, dir, true, err, sizeof(err)), -1);
    t.m->files[0].path = saved;
    /* A symlinked directory inside DIR pointing elsewhere is not followed. */
    snprintf(outside, sizeof(outside), "%s/elsewhere", dir);
    CU_ASSERT_FATAL(mkdir(outside, 0777) == 0);
    snprintf(link, sizeof(link), "%s/tree", dir);
    mkdir(link, 0777); /* may exist from the refused opens above */
    snprintf(link, sizeof(link), "%s/tree/sub", dir);
    rmdir(link); /* "sub//f" got as far as creating sub */
    CU_ASSERT_FATAL(symlink(outside, link) == 0);
    CU_ASSERT_EQUAL(live_storage_open(&st, t.m, dir, true, err, sizeof(err)), -1);
    CU_ASSERT(st == NULL);
    snprintf(outside, sizeof(outside), "%s/elsewhere/f", dir);
    CU_ASSERT(access(outside, F_OK) != 0);
    tl_rmtree(dir);
    tl_torrent_free(&t);
}

/* BEP 47: marks |t|'s files named ".pad/..." as padding, zeroes their content and rehashes the
 * pieces (bt_mktorrent writes no attr). */
static void make_pad(tl_torrent *t)
{
    for (uint32_t i = 0; i < t->m->nfiles; i++) {
        bt_file_entry *f = &t->m->files[i];
        if (strncmp(f->path, ".pad/", 5) != 0)
            continue;
        f->is_pad = true;
        memset(t->content + f->offset, 0, (size_t)f->length);
    }
    for (uint32_t p = 0; p < t->m->npieces; p++)
        bt_sha1(t->content + (uint64_t)p * t->m->piece_length, psize(t->m, p),
                t->m->piece_hashes + (size_t)p * 20);
}

/* True when [off, off + len) lies wholly in one of |r[0..n)|. */
static bool in_pad(const bt_byte_range *r, uint32_t n, uint64_t off, uint64_t len)
{
    for (uint32_t i = 0; i < n; i++)
        if (off >= r[i].offset && off + len <= r[i].offset + r[i].length)
            return true;
    return false;
}

static void test_pad_files(void)
{
    static const tl_file padded[] = {
        {"a.bin", 20000}, {".pad/12768", 12768}, {"b.bin", 40000}, {".pad/25536", 25536},
        {"c", 5},
    };
    tl_torrent t;
    char dir[256], err[512], path[1024];
    CU_ASSERT_FATAL(tl_torrent_make(&t, "padded", true, padded, 5, PL, 3) == 0);
    make_pad(&t);
    bt_byte_range r[4];
    uint32_t nr = bt_metainfo_pad_ranges(t.m, r, 4);
    CU_ASSERT_EQUAL_FATAL(nr, 2);
    CU_ASSERT_FATAL(tl_tmpdir(dir, sizeof(dir)) == 0);
    live_storage *st;
    CU_ASSERT_FATAL(live_storage_open(&st, t.m, dir, true, err, sizeof(err)) == 0);
    snprintf(path, sizeof(path), "%s/padded/.pad", dir);
    struct stat sb;
    CU_ASSERT(lstat(path, &sb) != 0); /* not created */
    /* every block but those wholly in padding, as the engine requests them */
    uint32_t skipped = 0;
    for (uint32_t p = 0; p < t.m->npieces; p++) {
        uint32_t n = psize(t.m, p);
        uint64_t base = (uint64_t)p * PL;
        for (uint32_t b = 0; b < n; b += 16384) {
            uint32_t len = n - b < 16384 ? n - b : 16384;
            if (in_pad(r, nr, base + b, len)) {
                skipped++;
                continue;
            }
            CU_ASSERT(live_storage_block(st, p, b, t.content + base + b, len) == 0);
        }
        uint8_t d[20];
        CU_ASSERT(live_storage_verify(st, p, d, err, sizeof(err)) == 0);
        CU_ASSERT(memcmp(d, t.m->piece_hashes + (size_t)p * 20, 20) == 0);
    }
    CU_ASSERT_EQUAL(skipped, 1); /* piece 2's second block */
    CU_ASSERT(lstat(path, &sb) != 0); /* still not there after the writes */
    check_file(dir, &t, 0);
    check_file(dir, &t, 2);
    check_file(dir, &t, 4);
    uint8_t buf[PL];
    CU_ASSERT_EQUAL(live_storage_read(st, 2, 0, buf, PL), 0); /* b.bin's tail, then zeros */
    CU_ASSERT(memcmp(buf, t.content + 2 * PL, PL) == 0);
    live_storage_del(st);
    /* the seed's start-up check finds every piece, pad bytes included */
    CU_ASSERT_FATAL(live_storage_open(&st, t.m, dir, false, err, sizeof(err)) == 0);
    uint8_t have[1] = {0};
    CU_ASSERT_EQUAL(live_storage_check(st, have, err, sizeof(err)), (int64_t)t.m->npieces);
    live_storage_del(st);
    CU_ASSERT(lstat(path, &sb) != 0);
    tl_rmtree(dir);
    tl_torrent_free(&t);
}

static void test_seed_needs_files(void)
{
    tl_torrent t;
    char dir[256], err[512];
    CU_ASSERT_FATAL(tl_torrent_make(&t, "tree", true, tree, 5, PL, 5) == 0);
    CU_ASSERT_FATAL(tl_tmpdir(dir, sizeof(dir)) == 0);
    CU_ASSERT_FATAL(tl_write_content(&t, dir) == 0);
    live_storage *st = NULL;
    CU_ASSERT_FATAL(live_storage_open(&st, t.m, dir, false, err, sizeof(err)) == 0);
    uint8_t have[16] = {0};
    CU_ASSERT_EQUAL(live_storage_check(st, have, NULL, 0), t.m->npieces);
    live_storage_del(st);
    char path[8192];
    snprintf(path, sizeof(path), "%s/tree/a/z.bin", dir);
    CU_ASSERT_FATAL(unlink(path) == 0);
    CU_ASSERT_EQUAL(live_storage_open(&st, t.m, dir, false, err, sizeof(err)), -1);
    CU_ASSERT(strstr(err, "a/z.bin") != NULL);
    CU_ASSERT(access(path, F_OK) != 0); /* read-only mode creates nothing */
    tl_rmtree(dir);
    tl_torrent_free(&t);
}

int test_live_storage_add_suite(void)
{
    CU_pSuite s = CU_add_suite("live_storage", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "layout_and_read", test_layout_and_read) == NULL ||
        CU_add_test(s, "nothing_written_before_verify", test_nothing_written_before_verify) ==
            NULL ||
        CU_add_test(s, "verify_thread", test_verify_thread) == NULL ||
        CU_add_test(s, "verify_backlog", test_verify_backlog) == NULL ||
        CU_add_test(s, "resume_check", test_resume_check) == NULL ||
        CU_add_test(s, "refuses_escapes", test_refuses_escapes) == NULL ||
        CU_add_test(s, "seed_needs_files", test_seed_needs_files) == NULL ||
        CU_add_test(s, "BEP 47 pad files", test_pad_files) == NULL)
        return 1;
    return 0;
}
