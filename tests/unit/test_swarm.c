/* test_swarm.c: end-to-end swarms of real engine clients in one process (sim_memswarm):
 * a multi-file torrent of random bytes downloaded through fragmenting pipes, byte-for-byte
 * checks, SHA-1 verification of every piece, a corrupting peer detected and banned, and
 * same-seed determinism. */
#include "sim_memswarm.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

int test_swarm_add_suite(void);

/* A multi-file torrent (sizes chosen so pieces straddle file boundaries) made with the engine's
 * own creator; returns its content in *data. */
static bt_metainfo *make_multifile(uint8_t **data, uint64_t *len)
{
    static const uint64_t sizes[] = {300000, 1, 65536, 1048577, 200000};
    const char *names[] = {"a.bin", "sub/b.txt", "sub/c.dat", "d/e/f.bin", "z.bin"};
    uint64_t total = 0;
    for (size_t i = 0; i < 5; i++)
        total += sizes[i];
    uint8_t *buf = malloc(total);
    bt_pcg32 g;
    bt_pcg32_seed(&g, 42, 7);
    for (uint64_t i = 0; i < total; i++)
        buf[i] = (uint8_t)bt_pcg32_next(&g);
    bt_mktorrent *mk = NULL;
    CU_ASSERT_FATAL(bt_mktorrent_new(&mk, "multi", 32768, true, bt_mem_default()) == 0);
    for (size_t i = 0; i < 5; i++)
        CU_ASSERT_FATAL(bt_mktorrent_add_file(mk, names[i], sizes[i]) == 0);
    CU_ASSERT_FATAL(bt_mktorrent_add_tracker(mk, "http://127.0.0.1:1/announce", 0) == 0);
    CU_ASSERT_FATAL(bt_mktorrent_feed(mk, buf, total) == 0);
    bt_buf out;
    bt_buf_init(&out, bt_mem_default(), 0);
    uint8_t ih[20];
    CU_ASSERT_FATAL(bt_mktorrent_finish(mk, &out, ih) == 0);
    bt_mktorrent_del(mk);
    bt_metainfo *m = NULL;
    CU_ASSERT_FATAL(bt_metainfo_parse(&m, out.data, out.len, bt_mem_default(), NULL, NULL) == 0);
    CU_ASSERT(memcmp(m->info_hash, ih, 20) == 0);
    CU_ASSERT(m->nfiles == 5);
    bt_buf_free(&out);
    *data = buf;
    *len = total;
    return m;
}

static void check_all_leechers(const sim_memswarm_result *r, uint32_t nseeds, int corrupt)
{
    for (uint32_t i = nseeds; i < r->npeers; i++) {
        if (corrupt >= 0 && i == nseeds + (uint32_t)corrupt)
            continue;
        const sim_memswarm_peer *p = &r->peers[i];
        CU_ASSERT(p->complete);
        CU_ASSERT(p->data_matches);
        /* every piece passed SHA-1 verification in this run */
        CU_ASSERT_EQUAL(p->pieces_verified, r->npieces);
        CU_ASSERT(p->completed_at != BT_TIME_NEVER);
    }
}

static void test_multifile_swarm(void)
{
    uint8_t *data;
    uint64_t len;
    bt_metainfo *m = make_multifile(&data, &len);
    sim_memswarm_config cfg;
    sim_memswarm_defaults(&cfg);
    cfg.meta = m;
    cfg.data = data;
    cfg.nseeds = 1;
    cfg.nleechers = 5;
    cfg.max_fragment = 3000;
    cfg.seed = 11;
    sim_memswarm_result r;
    CU_ASSERT_FATAL(sim_memswarm_run(&cfg, &r) == 0);
    CU_ASSERT(r.all_complete);
    check_all_leechers(&r, 1, -1);
    CU_ASSERT(r.peers[0].uploaded > 0);
    /* leechers traded with each other, not only with the seed */
    uint64_t leecher_up = 0;
    for (uint32_t i = 1; i < r.npeers; i++)
        leecher_up += r.peers[i].uploaded;
    CU_ASSERT(leecher_up > 0);
    sim_memswarm_result_free(&r);
    bt_metainfo_del(m);
    free(data);
}

static void test_one_byte_fragments(void)
{
    sim_memswarm_config cfg;
    sim_memswarm_defaults(&cfg);
    cfg.total_len = 100000; /* last piece short, last block short */
    cfg.piece_len = 32768;
    cfg.nleechers = 2;
    cfg.max_fragment = 1;   /* every delivery is a single byte */
    cfg.link_bytes_per_step = 4096;
    sim_memswarm_result r;
    CU_ASSERT_FATAL(sim_memswarm_run(&cfg, &r) == 0);
    CU_ASSERT(r.all_complete);
    CU_ASSERT(r.recv_calls == r.bytes_moved);
    check_all_leechers(&r, 1, -1);
    sim_memswarm_result_free(&r);
}

static void test_corrupt_peer_banned(void)
{
    sim_memswarm_config cfg;
    sim_memswarm_defaults(&cfg);
    cfg.total_len = 2u << 20;
    cfg.piece_len = 65536;
    cfg.nleechers = 5;
    cfg.corrupt_peer = 0;
    cfg.seed = 3;
    sim_memswarm_result r;
    CU_ASSERT_FATAL(sim_memswarm_run(&cfg, &r) == 0);
    CU_ASSERT(r.all_complete);
    check_all_leechers(&r, 1, 0);
    uint32_t failures = 0;
    for (uint32_t i = 0; i < r.npeers; i++)
        failures += r.peers[i].hash_failures;
    CU_ASSERT(failures > 0);          /* the corrupt data was caught by SHA-1 ... */
    CU_ASSERT(r.corrupt_banned_by > 0); /* ... and its sender banned */
    sim_memswarm_result_free(&r);
}

static char *run_traced(uint64_t seed, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    sim_memswarm_config cfg;
    sim_memswarm_defaults(&cfg);
    cfg.total_len = 1u << 20;
    cfg.piece_len = 65536;
    cfg.nleechers = 4;
    cfg.seed = seed;
    cfg.trace = f;
    sim_memswarm_result r;
    CU_ASSERT(sim_memswarm_run(&cfg, &r) == 0);
    CU_ASSERT(r.all_complete);
    sim_memswarm_result_free(&r);
    fclose(f);
    return buf;
}

static void test_deterministic(void)
{
    size_t la, lb, lc;
    char *a = run_traced(5, &la), *b = run_traced(5, &lb), *c = run_traced(6, &lc);
    CU_ASSERT(la > 1000);
    CU_ASSERT(la == lb && memcmp(a, b, la) == 0);        /* same seed: identical trace */
    CU_ASSERT(la != lc || memcmp(a, c, la) != 0);        /* another seed: another run */
    free(a);
    free(b);
    free(c);
}

int test_swarm_add_suite(void)
{
    CU_pSuite s = CU_add_suite("swarm", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "multi-file torrent, 1 seed + 5 leechers", test_multifile_swarm) ||
        !CU_add_test(s, "one-byte fragments", test_one_byte_fragments) ||
        !CU_add_test(s, "corrupt peer detected and banned", test_corrupt_peer_banned) ||
        !CU_add_test(s, "same seed, same trace", test_deterministic))
        return 1;
    return 0;
}
