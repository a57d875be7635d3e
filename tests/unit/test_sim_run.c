/* test_sim_run.c: building a simulation from a scenario: arrival processes (flash, Poisson,
 * decaying Poisson, trace), class counts and shares, per-class streams (adding a class does
 * not change the others' draws), and the simulated tracker's peer lists. */
#include "sim_run.h"

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

extern int test_sim_run_add_suite(void);

static const char *base_classes = "[class seed]\nrole = seed\nup = 10Mbit\ndown = 10Mbit\n"
                                  "[class adsl]\nshare = 0.6\nup = 1Mbit\ndown = 8Mbit\n"
                                  "latency = uniform(10ms,30ms)\n"
                                  "[class cable]\nshare = 0.4\nup = 10Mbit\ndown = 100Mbit\n";

static sim_world *build(const char *swarm_and_arrivals, const char *classes)
{
    char text[4096], err[512];
    snprintf(text, sizeof(text), "%s%s", swarm_and_arrivals, classes);
    sim_scenario *sc = NULL;
    int rv = sim_scenario_load_string(&sc, text, strlen(text), "test.ini", NULL, NULL, 0, err,
                                      sizeof(err));
    if (rv != 0)
        fprintf(stderr, "scenario: %s\n", err);
    CU_ASSERT_FATAL(rv == 0);
    sim_world *w = NULL;
    rv = sim_run_build(&w, sc, false, err, sizeof(err));
    CU_ASSERT_FATAL(rv == 0);
    sim_scenario_free(sc);
    return w;
}

static void count_classes(const sim_world *w, uint32_t *n, uint32_t ncls)
{
    memset(n, 0, ncls * sizeof(*n));
    for (uint32_t i = 0; i < sim_world_npeers(w); i++)
        n[sim_world_peer(w, i)->cls]++;
}

static void test_flash_exact_counts(void)
{
    sim_world *w = build("[swarm]\nfile_size = 1MiB\n[arrivals]\nprocess = flash\ncount = 50\n"
                         "start = 5s\n",
                         base_classes);
    uint32_t n[3];
    count_classes(w, n, 3);
    CU_ASSERT_EQUAL(n[0], 1);
    CU_ASSERT_EQUAL(n[1], 30); /* 0.6 * 50, exactly */
    CU_ASSERT_EQUAL(n[2], 20);
    for (uint32_t i = 0; i < sim_world_npeers(w); i++) {
        const sim_peer_result *p = sim_world_peer(w, i);
        CU_ASSERT_EQUAL(p->planned_join, p->cls == 0 ? 0 : BT_SEC(5));
        if (p->cls == 1)
            CU_ASSERT(p->latency_us >= BT_MSEC(10) && p->latency_us <= BT_MSEC(30));
        if (p->cls == 2)
            CU_ASSERT(p->up_Bps == 1250000 && p->down_Bps == 12500000);
    }
    sim_world_del(w);
}

/* Poisson(0.5/s) over 2 h: the count is within 4 sigma of 3600 and the joins are in order. */
static void test_poisson(void)
{
    sim_world *w = build("[swarm]\nfile_size = 1MiB\nduration = 2h\n"
                         "[arrivals]\nprocess = poisson\nrate = 0.5/s\n",
                         base_classes);
    uint32_t leechers = sim_world_npeers(w) - 1;
    CU_ASSERT(fabs((double)leechers - 3600.0) < 4 * 60.0);
    bt_time_us prev = 0;
    double adsl = 0;
    for (uint32_t i = 1; i < sim_world_npeers(w); i++) {
        const sim_peer_result *p = sim_world_peer(w, i);
        CU_ASSERT(p->planned_join >= prev && p->planned_join < BT_SEC(7200));
        prev = p->planned_join;
        adsl += p->cls == 1;
    }
    /* classes drawn by share: 60% adsl within 4 sigma */
    double sd = sqrt(0.6 * 0.4 / leechers);
    CU_ASSERT(fabs(adsl / leechers - 0.6) < 4 * sd);
    sim_world_del(w);
}

/* Decaying arrivals: expected count rate * tau * (1 - e^(-T/tau)). */
static void test_decay(void)
{
    sim_world *w = build("[swarm]\nfile_size = 1MiB\nduration = 2h\n"
                         "[arrivals]\nprocess = decay\nrate = 1/s\ntau = 30min\n",
                         base_classes);
    double expect = 1.0 * 1800.0 * (1.0 - exp(-7200.0 / 1800.0));
    double got = sim_world_npeers(w) - 1;
    CU_ASSERT(fabs(got - expect) < 4 * sqrt(expect));
    /* more joins in the first half hour than in the last */
    uint32_t early = 0, late = 0;
    for (uint32_t i = 1; i < sim_world_npeers(w); i++) {
        bt_time_us t = sim_world_peer(w, i)->planned_join;
        early += t < BT_SEC(1800);
        late += t >= BT_SEC(5400);
    }
    CU_ASSERT(early > 5 * late);
    sim_world_del(w);
}

/* Adding a class leaves the other classes' draws unchanged (per-class streams). */
static void test_class_streams_independent(void)
{
    const char *sw = "[swarm]\nfile_size = 1MiB\n[arrivals]\nprocess = flash\ncount = 40\n";
    const char *one = "[class seed]\nrole = seed\nup = 10Mbit\ndown = 10Mbit\n"
                      "[class adsl]\ncount = 20\nup = uniform(1Mbit,2Mbit)\ndown = 8Mbit\n"
                      "[class cable]\ncount = 20\nup = exp(10Mbit)\ndown = 100Mbit\n";
    const char *two = "[class seed]\nrole = seed\nup = 10Mbit\ndown = 10Mbit\n"
                      "[class adsl]\ncount = 20\nup = uniform(1Mbit,2Mbit)\ndown = 8Mbit\n"
                      "[class extra]\ncount = 7\nup = exp(3Mbit)\ndown = 30Mbit\n"
                      "[class cable]\ncount = 20\nup = exp(10Mbit)\ndown = 100Mbit\n";
    char sw2[256];
    snprintf(sw2, sizeof(sw2), "[swarm]\nfile_size = 1MiB\n[arrivals]\nprocess = flash\ncount = 47\n");
    sim_world *a = build(sw, one), *b = build(sw2, two);
    /* the multiset of adsl (and cable) uplinks, in draw order, is the same */
    uint64_t ua[64], ub[64];
    for (int cls = 1; cls <= 2; cls++) {
        uint32_t na = 0, nb = 0, clsb = cls == 1 ? 1 : 3;
        for (uint32_t i = 0; i < sim_world_npeers(a); i++)
            if (sim_world_peer(a, i)->cls == (uint32_t)cls)
                ua[na++] = sim_world_peer(a, i)->up_Bps;
        for (uint32_t i = 0; i < sim_world_npeers(b); i++)
            if (sim_world_peer(b, i)->cls == clsb)
                ub[nb++] = sim_world_peer(b, i)->up_Bps;
        CU_ASSERT_EQUAL(na, 20);
        CU_ASSERT_EQUAL(nb, 20);
        CU_ASSERT(memcmp(ua, ub, 20 * sizeof(uint64_t)) == 0);
    }
    sim_world_del(a);
    sim_world_del(b);
}

/* The tracker never lists the requester, never more than numwant, and fills the list when it
 * can; every leecher completes. */
static void test_tracker_lists(void)
{
    sim_world *w = build("[swarm]\nfile_size = 512KiB\npiece_size = 64KiB\n"
                         "[tracker]\nnumwant = 7\n[arrivals]\nprocess = flash\ncount = 30\n",
                         base_classes);
    CU_ASSERT_FATAL(sim_world_run(w, NULL, NULL, 0) == 0);
    sim_world_stats st;
    sim_world_get_stats(w, &st);
    CU_ASSERT(st.tracker_replies >= 31);
    CU_ASSERT(st.tracker_max_list == 7);
    CU_ASSERT(st.tracker_peers_sent <= 7 * st.tracker_replies);
    CU_ASSERT(st.tracker_peers_sent >= 6 * st.tracker_replies); /* 31 tracked: lists fill */
    for (uint32_t i = 1; i < sim_world_npeers(w); i++)
        CU_ASSERT(sim_world_peer(w, i)->completed != BT_TIME_NEVER);
    sim_world_del(w);
}

/* isp-biased lists: with two equal ISPs, random lists are about half local; biased lists
 * (local_fraction 0.8) clearly more. */
static double local_share(const char *policy)
{
    char sw[512];
    snprintf(sw, sizeof(sw),
             "[swarm]\nfile_size = 256KiB\npiece_size = 64KiB\n[tracker]\nnumwant = 10\n"
             "policy = %s\nlocal_fraction = 0.8\n[arrivals]\nprocess = flash\ncount = 80\n"
             "[isp a]\nlatency = 5ms\n[isp b]\nlatency = 5ms\n",
             policy);
    const char *classes = "[class seed]\nrole = seed\nup = 10Mbit\ndown = 10Mbit\nisp = a\n"
                          "[class la]\nshare = 0.5\nup = 2Mbit\ndown = 8Mbit\nisp = a\n"
                          "[class lb]\nshare = 0.5\nup = 2Mbit\ndown = 8Mbit\nisp = b\n";
    sim_world *w = build(sw, classes);
    CU_ASSERT_FATAL(sim_world_run(w, NULL, NULL, 0) == 0);
    sim_world_stats st;
    sim_world_get_stats(w, &st);
    sim_world_del(w);
    return st.tracker_peers_sent ? (double)st.tracker_local_sent / st.tracker_peers_sent : 0;
}

static void test_tracker_isp_biased(void)
{
    double r = local_share("random"), b = local_share("isp-biased");
    CU_ASSERT(r > 0.35 && r < 0.65);
    /* 8 of 10 local and the other 2 local half the time gives 0.9 once the tracker knows
     * enough peers of each ISP; early lists, drawn from few peers, are less local. */
    CU_ASSERT(b > 0.78 && b < 0.96);
}

int test_sim_run_add_suite(void)
{
    CU_pSuite s = CU_add_suite("sim_run", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "flash crowd: exact class counts", test_flash_exact_counts) ||
        !CU_add_test(s, "Poisson arrivals", test_poisson) ||
        !CU_add_test(s, "decaying arrivals", test_decay) ||
        !CU_add_test(s, "per-class random streams", test_class_streams_independent) ||
        !CU_add_test(s, "tracker peer lists", test_tracker_lists) ||
        !CU_add_test(s, "tracker isp-biased lists", test_tracker_isp_biased))
        return 1;
    return 0;
}
