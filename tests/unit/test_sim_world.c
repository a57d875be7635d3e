/* test_sim_world.c: whole simulated swarms of real engine peers on the simulated network:
 * the analytic one-seed-one-leecher time, same-seed determinism, virtual vs real payload
 * giving the same trace, a corrupt peer, and churn (half the leechers crash mid-download). */
#include "sim_world.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

extern int test_sim_world_add_suite(void);

static void base_config(sim_world_config *c, uint64_t size, uint32_t piece)
{
    memset(c, 0, sizeof(*c));
    c->seed = 7;
    c->file_size = size;
    c->piece_size = piece;
    c->duration = BT_SEC(3600);
    c->numwant = 50;
    c->announce_interval = BT_SEC(1800);
    c->sample_interval = BT_SEC(5);
    c->stop_when_done = true;
    sim_net_config_defaults(&c->net);
    snprintf(c->classes[0].name, sizeof(c->classes[0].name), "seed");
    c->classes[0].seed_role = true;
    snprintf(c->classes[1].name, sizeof(c->classes[1].name), "leecher");
    c->nclasses = 2;
}

static sim_peer_params params(uint32_t cls, uint64_t up, uint64_t down, bt_time_us lat)
{
    sim_peer_params p;
    memset(&p, 0, sizeof(p));
    p.cls = cls;
    p.up_Bps = up;
    p.down_Bps = down;
    p.latency_us = lat;
    p.linger_us = BT_TIME_NEVER;
    p.abort_after_us = BT_TIME_NEVER;
    p.leave_at = BT_TIME_NEVER;
    return p;
}

/* One seed (1 MB/s up) to one leecher (8 MB/s down): size / 1 MB/s plus start-up. */
static void test_one_to_one_analytic(void)
{
    sim_world_config c;
    base_config(&c, 40u << 20, 256u << 10);
    sim_world *w = NULL;
    CU_ASSERT_FATAL(sim_world_new(&w, &c) == 0);
    sim_peer_params s = params(0, 1000000, 8000000, BT_MSEC(10));
    sim_peer_params l = params(1, 125000, 8000000, BT_MSEC(10));
    CU_ASSERT_FATAL(sim_world_add_peer(w, &s, 0) == 0);
    CU_ASSERT_FATAL(sim_world_add_peer(w, &l, BT_SEC(1)) == 0);
    CU_ASSERT_FATAL(sim_world_run(w, NULL, NULL, 0) == 0);
    const sim_peer_result *r = sim_world_peer(w, 1);
    CU_ASSERT_FATAL(r->completed != BT_TIME_NEVER);
    double took = (double)(r->completed - r->joined) / 1e6;
    double ideal = (double)c.file_size / 1000000.0;
    /* wire overhead: 13 header bytes per 16 KiB block */
    double overhead = ideal * 13.0 / 16384.0;
    double expect = ideal + overhead;
    CU_ASSERT(took >= ideal);
    CU_ASSERT(took <= expect * 1.03);
    CU_ASSERT(r->bytes_down == c.file_size);
    sim_world_del(w);
}

static char *run_swarm(uint64_t seed, bool real, int corrupt, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    sim_world_config c;
    base_config(&c, 3u << 20, 64u << 10);
    c.seed = seed;
    c.real_bytes = real;
    sim_world *w = NULL;
    CU_ASSERT_FATAL(sim_world_new(&w, &c) == 0);
    sim_world_set_trace(w, f);
    sim_peer_params s = params(0, 500000, 2000000, BT_MSEC(20));
    CU_ASSERT_FATAL(sim_world_add_peer(w, &s, 0) == 0);
    for (uint32_t i = 0; i < 12; i++) {
        sim_peer_params l = params(1, 125000 + 25000 * (i % 4), 1000000, BT_MSEC(5 + 3 * i));
        l.corrupt = (int)i == corrupt;
        CU_ASSERT_FATAL(sim_world_add_peer(w, &l, BT_MSEC(100 * i)) == 0);
    }
    CU_ASSERT_FATAL(sim_world_run(w, NULL, NULL, 0) == 0);
    for (uint32_t i = 1; i < sim_world_npeers(w); i++) {
        const sim_peer_result *r = sim_world_peer(w, i);
        if ((int)i - 1 != corrupt)
            CU_ASSERT(r->completed != BT_TIME_NEVER);
        fprintf(f, "peer %u done %llu up %llu down %llu fails %u\n", i,
                (unsigned long long)r->completed, (unsigned long long)r->bytes_up,
                (unsigned long long)r->bytes_down, r->hash_failures);
    }
    sim_world_del(w);
    fclose(f);
    return buf;
}

static void test_deterministic_and_payload_modes(void)
{
    size_t la, lb, lc, ld;
    char *a = run_swarm(3, false, -1, &la), *b = run_swarm(3, false, -1, &lb);
    char *cr = run_swarm(3, true, -1, &lc), *d = run_swarm(4, false, -1, &ld);
    CU_ASSERT(la > 500);
    CU_ASSERT(la == lb && memcmp(a, b, la) == 0);  /* same seed: identical */
    CU_ASSERT(la == lc && memcmp(a, cr, la) == 0); /* virtual and real payload: identical */
    CU_ASSERT(la != ld || memcmp(a, d, la) != 0);  /* another seed: another run */
    free(a);
    free(b);
    free(cr);
    free(d);
}

static void test_corrupt_peer_virtual(void)
{
    size_t la, lb;
    char *a = run_swarm(5, false, 0, &la), *b = run_swarm(5, true, 0, &lb);
    CU_ASSERT(strstr(a, " ban ") != NULL); /* someone banned the corrupting peer */
    CU_ASSERT(la == lb && memcmp(a, b, la) == 0); /* taint model == real SHA-1 failures */
    free(a);
    free(b);
}

/* Half the leechers crash mid-download; the rest still complete. */
static void test_churn_crashes(void)
{
    sim_world_config c;
    base_config(&c, 8u << 20, 128u << 10);
    sim_world *w = NULL;
    CU_ASSERT_FATAL(sim_world_new(&w, &c) == 0);
    sim_peer_params s = params(0, 1000000, 4000000, BT_MSEC(10));
    CU_ASSERT_FATAL(sim_world_add_peer(w, &s, 0) == 0);
    for (uint32_t i = 0; i < 20; i++) {
        sim_peer_params l = params(1, 250000, 2000000, BT_MSEC(15));
        if (i % 2 == 0) {
            l.abort_after_us = BT_SEC(10 + i);
            l.crash = true;
        }
        CU_ASSERT_FATAL(sim_world_add_peer(w, &l, 0) == 0);
    }
    CU_ASSERT_FATAL(sim_world_run(w, NULL, NULL, 0) == 0);
    uint32_t crashed = 0, done = 0;
    for (uint32_t i = 1; i <= 20; i++) {
        const sim_peer_result *r = sim_world_peer(w, i);
        if ((i - 1) % 2 == 0) {
            crashed += r->leave_kind == 3 && r->completed == BT_TIME_NEVER;
        } else {
            done += r->completed != BT_TIME_NEVER;
        }
    }
    CU_ASSERT_EQUAL(crashed, 10);
    CU_ASSERT_EQUAL(done, 10);
    sim_world_del(w);
}

int test_sim_world_add_suite(void)
{
    CU_pSuite s = CU_add_suite("sim_world", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "one seed to one leecher: analytic", test_one_to_one_analytic) ||
        !CU_add_test(s, "determinism; virtual == real payload", test_deterministic_and_payload_modes) ||
        !CU_add_test(s, "corrupt peer: taint == SHA-1", test_corrupt_peer_virtual) ||
        !CU_add_test(s, "half the leechers crash", test_churn_crashes))
        return 1;
    return 0;
}
