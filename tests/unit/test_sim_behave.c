/* test_sim_behave.c: misbehaving peer classes end to end: the scenario keys (view,
 * corrupt_rate, response_delay, lying_have) and their errors, the per-block corruption
 * decision (deterministic, near its rate), and small swarms built with sim_run that show each
 * behaviour's effect: corrupters are banned and both payload modes agree; a slow seed uploads
 * far less; a fake seed is cut off by real seeds and liars slow honest peers down; the large
 * view holds more connections than the 80/40 limits allow. */
#include "sim_run.h"

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int test_sim_behave_add_suite(void);

/* ---- helpers ---- */

static sim_scenario *load(const char *text, const char *const *ov, size_t nov, char *err,
                          size_t errlen)
{
    sim_scenario *sc = NULL;
    int rv = sim_scenario_load_string(&sc, text, strlen(text), "t.ini", NULL, ov, nov, err, errlen);
    return rv == 0 ? sc : NULL;
}

typedef struct run {
    sim_world *w;
    char *trace;
    size_t trace_len;
} run;

/* Builds and runs |text| with overrides; the event trace is kept in r->trace. */
static void run_scenario(run *r, const char *text, const char *const *ov, size_t nov, bool real)
{
    char err[512];
    sim_scenario *sc = load(text, ov, nov, err, sizeof(err));
    if (sc == NULL)
        fprintf(stderr, "scenario: %s\n", err);
    CU_ASSERT_FATAL(sc != NULL);
    r->w = NULL;
    CU_ASSERT_FATAL(sim_run_build(&r->w, sc, real, err, sizeof(err)) == 0);
    sim_scenario_free(sc);
    r->trace = NULL;
    FILE *f = open_memstream(&r->trace, &r->trace_len);
    CU_ASSERT_FATAL(f != NULL);
    sim_world_set_trace(r->w, f);
    CU_ASSERT_FATAL(sim_world_run(r->w, NULL, NULL, 0) == 0);
    sim_world_set_trace(r->w, NULL);
    fclose(f);
}

static void run_free(run *r)
{
    sim_world_del(r->w);
    free(r->trace);
}

/* Mean download time (s) of the completed peers of class |cls|; *done counts them. */
static double mean_download(const sim_world *w, uint32_t cls, uint32_t *done, uint32_t *all)
{
    double sum = 0;
    *done = *all = 0;
    for (uint32_t i = 0; i < sim_world_npeers(w); i++) {
        const sim_peer_result *p = sim_world_peer(w, i);
        if (p->cls != cls)
            continue;
        (*all)++;
        if (p->completed == BT_TIME_NEVER)
            continue;
        (*done)++;
        sum += (double)(p->completed - p->joined) / 1e6;
    }
    return *done ? sum / *done : 0;
}

/* How many times peer |id| was banned, from the trace ("T ban PEER LASTOCTET"). */
static uint32_t bans_of(const run *r, uint32_t id)
{
    uint32_t n = 0;
    const char *p = r->trace;
    while (p != NULL && (p = strstr(p, " ban ")) != NULL) {
        unsigned who, octet;
        if (sscanf(p, " ban %u %u", &who, &octet) == 2 && octet == (id & 0xff))
            n++;
        p += 5;
    }
    return n;
}

/* ---- scenario keys ---- */

static const char *keys_ok = "[swarm]\nfile_size = 1MiB\n[arrivals]\ncount = 4\n"
                             "[class s]\nrole = seed\nup = 1Mbit\ndown = 1Mbit\n"
                             "response_delay = 3s\ncorrupt = 0.5\ncorrupt_rate = 10%\n"
                             "[class l]\nshare = 1\nup = 1Mbit\ndown = 1Mbit\nview = large\n"
                             "lying_have = 0.25\nresponse_delay = uniform(1s, 2s)\n";

static void test_keys(void)
{
    char err[512];
    sim_scenario *sc = load(keys_ok, NULL, 0, err, sizeof(err));
    CU_ASSERT_FATAL(sc != NULL);
    const sim_class *s = &sc->classes[0], *l = &sc->classes[1];
    CU_ASSERT(s->corrupt_rate == 0.1 && s->corrupt == 0.5 && s->view == SIM_VIEW_NORMAL);
    CU_ASSERT(s->response_delay.kind == SIM_DIST_CONST && s->response_delay.a == BT_SEC(3));
    CU_ASSERT(l->view == SIM_VIEW_LARGE && l->lying_have == 0.25 && l->corrupt_rate == 1);
    CU_ASSERT(l->response_delay.kind == SIM_DIST_UNIFORM);
    /* the resolved scenario names every new key and loads back to the same */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(sim_scenario_write_resolved(sc, f) == 0);
    fclose(f);
    CU_ASSERT(strstr(buf, "view = large") != NULL && strstr(buf, "lying_have = 0.25") != NULL);
    CU_ASSERT(strstr(buf, "corrupt_rate = 0.1") != NULL);
    CU_ASSERT(strstr(buf, "response_delay = 3s") != NULL);
    sim_scenario *again = load(buf, NULL, 0, err, sizeof(err));
    CU_ASSERT_FATAL(again != NULL);
    CU_ASSERT(again->classes[1].view == SIM_VIEW_LARGE && again->classes[0].corrupt_rate == 0.1);
    sim_scenario_free(again);
    free(buf);
    sim_scenario_free(sc);
    /* overrides, and errors that name the key */
    const char *ov[] = {"class.l.view=normal", "class.l.lying_have=1"};
    sc = load(keys_ok, ov, 2, err, sizeof(err));
    CU_ASSERT_FATAL(sc != NULL);
    CU_ASSERT(sc->classes[1].view == SIM_VIEW_NORMAL && sc->classes[1].lying_have == 1);
    sim_scenario_free(sc);
    static const struct {
        const char *ov, *needle;
    } bad[] = {
        {"class.l.view=huge", "expected one of: normal, large"},
        {"class.s.view=large", "only for leecher classes"},
        {"class.s.lying_have=0.5", "only for leecher classes"},
        {"class.l.lying_have=1.5", "between 0 and 1"},
        {"class.l.corrupt_rate=0.2", "set corrupt too"},
        {"class.l.response_delay=forever", "response_delay"},
        {"class.l.response_delay=-1s", "response_delay"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sc = load(keys_ok, &bad[i].ov, 1, err, sizeof(err));
        CU_ASSERT(sc == NULL);
        if (strstr(err, bad[i].needle) == NULL)
            fprintf(stderr, "override %s: %s\n", bad[i].ov, err);
        CU_ASSERT(strstr(err, bad[i].needle) != NULL);
        sim_scenario_free(sc);
    }
}

/* ---- the corruption decision ---- */

static sim_peer_params peer(uint32_t cls)
{
    sim_peer_params p;
    memset(&p, 0, sizeof(p));
    p.cls = cls;
    p.up_Bps = p.down_Bps = 125000;
    p.linger_us = p.abort_after_us = p.leave_at = BT_TIME_NEVER;
    return p;
}

static void test_block_corrupt_rate(void)
{
    sim_world_config c;
    memset(&c, 0, sizeof(c));
    c.seed = 9;
    c.file_size = 1u << 20;
    c.piece_size = 1u << 18;
    c.duration = BT_SEC(10);
    c.sample_interval = BT_SEC(1);
    c.nclasses = 1;
    sim_net_config_defaults(&c.net);
    sim_world *w = NULL;
    CU_ASSERT_FATAL(sim_world_new(&w, &c) == 0);
    sim_peer_params p = peer(0);
    p.beh.corrupt_rate = 0.1;
    CU_ASSERT_FATAL(sim_world_add_peer(w, &p, 0) == 0); /* 0 and 1: 10% of blocks */
    CU_ASSERT_FATAL(sim_world_add_peer(w, &p, 0) == 0);
    p = peer(0);
    p.corrupt = true;
    CU_ASSERT_FATAL(sim_world_add_peer(w, &p, 0) == 0); /* 2: every block */
    p = peer(0);
    CU_ASSERT_FATAL(sim_world_add_peer(w, &p, 0) == 0); /* 3: honest */
    uint32_t bad = 0, total = 0, differ = 0, all = 0, none = 0;
    for (uint32_t to = 0; to < 40; to++)
        for (uint32_t piece = 0; piece < 50; piece++)
            for (uint32_t b = 0; b < 16; b++) {
                bool x = sim_world_block_corrupt(w, 0, to, piece, b * 16384);
                total++;
                bad += x;
                /* deterministic, and the same anywhere inside the block */
                CU_ASSERT(x == sim_world_block_corrupt(w, 0, to, piece, b * 16384 + 100));
                differ += x != sim_world_block_corrupt(w, 1, to, piece, b * 16384);
                all += sim_world_block_corrupt(w, 2, to, piece, b * 16384);
                none += sim_world_block_corrupt(w, 3, to, piece, b * 16384);
            }
    double frac = (double)bad / total, sd = sqrt(0.1 * 0.9 / total);
    CU_ASSERT(fabs(frac - 0.1) < 4 * sd); /* 32,000 blocks: within 4 sigma of 10% */
    CU_ASSERT(differ > total / 10);       /* another peer's own stream decides otherwise */
    CU_ASSERT(all == total && none == 0);
    const sim_peer_result *r = sim_world_peer(w, 2);
    CU_ASSERT(r->corrupt && r->beh.corrupt_rate == 1);
    CU_ASSERT(!sim_world_peer(w, 3)->corrupt && sim_world_peer(w, 0)->corrupt);
    sim_world_del(w);
}

/* ---- small swarms ---- */

static const char *swarm_bad = "[swarm]\nfile_size = 2MiB\npiece_size = 64KiB\nduration = 1h\n"
                               "[arrivals]\nprocess = flash\n"
                               "[class seed]\nrole = seed\nup = 4Mbit\ndown = 4Mbit\n"
                               "latency = 10ms\n"
                               "[class honest]\ncount = 12\nup = 1Mbit\ndown = 8Mbit\n"
                               "latency = 20ms\n"
                               "[class bad]\ncount = 3\nup = 1Mbit\ndown = 8Mbit\n"
                               "latency = 20ms\ncorrupt = 1\ncorrupt_rate = 0.1\n";

/* 10% of the blocks of three peers are corrupt: pieces fail their check, every corrupter is
 * banned by someone, and virtual payload (taint) and real bytes (SHA-1) give the same run.
 * (Honest co-sources of a failed piece take strikes too; see scenarios/README.md.) */
static void test_corrupt_rate_swarm(void)
{
    run v, r;
    run_scenario(&v, swarm_bad, NULL, 0, false);
    run_scenario(&r, swarm_bad, NULL, 0, true);
    CU_ASSERT(v.trace_len > 100);
    CU_ASSERT(v.trace_len == r.trace_len && memcmp(v.trace, r.trace, v.trace_len) == 0);
    uint32_t fails = 0, banned = 0;
    for (uint32_t i = 0; i < sim_world_npeers(v.w); i++) {
        const sim_peer_result *p = sim_world_peer(v.w, i);
        fails += p->hash_failures;
        if (p->cls == 2) {
            CU_ASSERT(p->corrupt && p->beh.corrupt_rate == 0.1);
            banned += bans_of(&v, i) > 0;
        }
    }
    CU_ASSERT(fails > 0);
    CU_ASSERT(banned == 3);
    run_free(&v);
    run_free(&r);
    /* without corruption: no failures, no bans */
    const char *ov[] = {"class.bad.corrupt=0"};
    run_scenario(&v, swarm_bad, ov, 1, false);
    CU_ASSERT(strstr(v.trace, " ban ") == NULL && strstr(v.trace, "hashfail") == NULL);
    uint32_t done, all;
    mean_download(v.w, 1, &done, &all);
    CU_ASSERT(done == all && all == 12);
    run_free(&v);
}

static const char *swarm_slow = "[swarm]\nfile_size = 2MiB\npiece_size = 64KiB\nduration = 1h\n"
                                "[arrivals]\nprocess = flash\n"
                                "[class seed]\nrole = seed\nup = 4Mbit\ndown = 4Mbit\n"
                                "latency = 10ms\n"
                                "[class slow]\nrole = seed\nup = 4Mbit\ndown = 4Mbit\n"
                                "latency = 10ms\nresponse_delay = 10s\n"
                                "[class leecher]\ncount = 12\nup = 1Mbit\ndown = 8Mbit\n"
                                "latency = 20ms\n";

/* Two equal seeds, one answering every request 10 s late: the leechers still complete, but
 * the slow seed uploads less than a quarter of what the prompt one does (its requesters
 * snub it and fetch elsewhere). */
static void test_slow_responder_swarm(void)
{
    run v;
    run_scenario(&v, swarm_slow, NULL, 0, false);
    const sim_peer_result *fast = sim_world_peer(v.w, 0), *slow = sim_world_peer(v.w, 1);
    CU_ASSERT_FATAL(fast->cls == 0 && slow->cls == 1);
    CU_ASSERT(slow->beh.response_delay_us == BT_SEC(10) && fast->beh.response_delay_us == 0);
    CU_ASSERT(slow->bytes_up > 0);
    CU_ASSERT(slow->bytes_up * 4 < fast->bytes_up);
    uint32_t done, all;
    mean_download(v.w, 2, &done, &all);
    CU_ASSERT(done == all && all == 12);
    run_free(&v);
    /* without the delay the two seeds share the work about evenly */
    const char *ov[] = {"class.slow.response_delay=0"};
    run_scenario(&v, swarm_slow, ov, 1, false);
    fast = sim_world_peer(v.w, 0);
    slow = sim_world_peer(v.w, 1);
    CU_ASSERT(slow->bytes_up * 2 > fast->bytes_up && fast->bytes_up * 2 > slow->bytes_up);
    run_free(&v);
}

static const char *swarm_lie = "[swarm]\nfile_size = 4MiB\nduration = 2h\n"
                               "[arrivals]\nprocess = flash\n"
                               "[class seed]\nrole = seed\nup = 4Mbit\ndown = 4Mbit\n"
                               "latency = 10ms\n"
                               "[class honest]\ncount = 16\nup = 1Mbit\ndown = 8Mbit\n"
                               "latency = 20ms\n"
                               "[class liar]\ncount = 4\nup = 1Mbit\ndown = 8Mbit\n"
                               "latency = 20ms\nlying_have = 1\n";

/* Liars that claim to be seeds are disconnected by the real seed (both seeds) and get nothing
 * from it; honest peers still complete. Liars that claim half the pieces they lack slow the
 * honest peers down (their requests for the claimed pieces wait for the timeouts). */
static void test_lying_have_swarm(void)
{
    run v;
    run_scenario(&v, swarm_lie, NULL, 0, false);
    uint32_t done, all;
    mean_download(v.w, 1, &done, &all);
    CU_ASSERT(done == all && all == 16);
    for (uint32_t i = 0; i < sim_world_npeers(v.w); i++) {
        const sim_peer_result *p = sim_world_peer(v.w, i);
        if (p->cls == 2) {
            CU_ASSERT(p->beh.lie_have == 1);
            CU_ASSERT(p->down_from_class[0] == 0); /* nothing from the seed */
            CU_ASSERT(p->bytes_down > 0);          /* but from honest leechers */
        }
    }
    run_free(&v);
    const char *half[] = {"class.liar.lying_have=0.5"}, *none[] = {"class.liar.lying_have=0"};
    run_scenario(&v, swarm_lie, half, 1, false);
    double lied = mean_download(v.w, 1, &done, &all);
    CU_ASSERT(done == all);
    run_free(&v);
    run_scenario(&v, swarm_lie, none, 1, false);
    double honest = mean_download(v.w, 1, &done, &all);
    CU_ASSERT(done == all);
    run_free(&v);
    CU_ASSERT(lied > honest * 1.05); /* seed 1: 62.1 s against 53.5 s */
}

static const char *swarm_view = "[swarm]\nfile_size = 2MiB\npiece_size = 64KiB\nduration = 1h\n"
                                "sample_interval = 5s\n[tracker]\nnumwant = 200\n"
                                "[arrivals]\nprocess = flash\n"
                                "[class seed]\nrole = seed\nup = 4Mbit\ndown = 4Mbit\n"
                                "latency = 10ms\n"
                                "[class normal]\ncount = 110\nup = 1Mbit\ndown = 8Mbit\n"
                                "latency = 20ms\n"
                                "[class large]\ncount = 10\nup = 1Mbit\ndown = 8Mbit\n"
                                "latency = 20ms\nview = large\n";

/* 120 leechers that all learn of each other: normal peers stop at mainline's limits (40
 * dialled, 80 in all), large-view peers go past them. */
static void test_large_view_swarm(void)
{
    run v;
    run_scenario(&v, swarm_view, NULL, 0, false);
    double sum[3] = {0}, n[3] = {0};
    uint32_t most[3] = {0};
    for (uint32_t i = 0; i < sim_world_npeers(v.w); i++) {
        const sim_peer_result *p = sim_world_peer(v.w, i);
        sum[p->cls] += p->max_peers;
        n[p->cls]++;
        if (p->max_peers > most[p->cls])
            most[p->cls] = p->max_peers;
        CU_ASSERT(p->beh.large_view == (p->cls == 2));
        CU_ASSERT(p->completed != BT_TIME_NEVER);
    }
    CU_ASSERT(most[1] <= 80);
    CU_ASSERT(most[2] > 80);
    CU_ASSERT(sum[2] / n[2] > 1.2 * (sum[1] / n[1]));
    run_free(&v);
}

int test_sim_behave_add_suite(void)
{
    CU_pSuite s = CU_add_suite("sim_behave", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "scenario keys and errors", test_keys) ||
        !CU_add_test(s, "corrupt blocks: deterministic, near the rate", test_block_corrupt_rate) ||
        !CU_add_test(s, "corrupt_rate swarm: bans; virtual == real", test_corrupt_rate_swarm) ||
        !CU_add_test(s, "slow responder uploads less", test_slow_responder_swarm) ||
        !CU_add_test(s, "lying-have: cut off by seeds; slows others", test_lying_have_swarm) ||
        !CU_add_test(s, "large view: past the 80/40 limits", test_large_view_swarm))
        return 1;
    return 0;
}
