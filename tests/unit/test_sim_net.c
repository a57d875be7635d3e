/* tests/unit/test_sim_net.c: unit tests for the simulated network (sim/sim_net*.c): exact
 * chunk timing, single-flow throughput, equal and weighted sharing, held-back flows, max-min
 * fairness against an exact water-filling solver on random instances, connection life
 * cycle, and determinism. Simulated time only; floating point only in the checks. */
#include "sim_net.h"
#include "sim_net_int.h" /* white-box checks of state recycling */

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int test_sim_net_add_suite(void); /* extern: the suite grep matches once */

#define MS(x) BT_MSEC(x)
#define NOCONN UINT32_MAX

/* ---- a driver that plays the host ---- */

typedef struct tconn {
    sim_host_id a, b; /* caller, callee */
    bool saturate;    /* keep a's send buffer on it full */
    bt_time_us accept_t, connected_t, closed_t[2];
    uint32_t accepts, connects, closes[2], writables[2];
    uint64_t got[2];  /* bytes delivered to end 0 (from b) and end 1 (from a) */
    uint64_t win_got; /* bytes delivered to b within [win_from, win_to) */
    bt_time_us last_deliver_t[2];
    uint64_t written[2]; /* accepted writes by each end (tracked by twrite only) */
    bool gone[2];        /* the end expects no more events (tracked by tclose/tdown/CLOSED) */
} tconn;

typedef struct drv {
    sim_net *n;
    tconn *c;
    uint32_t nc, cap;
    bt_time_us win_from, win_to;
    bt_time_us last_t;
    uint64_t hash, events;
    uint32_t disorder, stray;
    bool track; /* every write goes through twrite: check deliveries against writes */
} drv;

static void drv_init(drv *d, const sim_net_config *cfg)
{
    memset(d, 0, sizeof(*d));
    d->hash = 1469598103934665603ULL;
    CU_ASSERT_EQUAL_FATAL(sim_net_new(&d->n, cfg), 0);
    d->win_to = BT_TIME_NEVER;
}

static void drv_free(drv *d)
{
    sim_net_del(d->n);
    free(d->c);
}

static sim_host_id host(drv *d, uint32_t isp, uint64_t up, uint64_t down, bt_time_us lat)
{
    sim_host_id h = 0;
    CU_ASSERT_EQUAL_FATAL(sim_net_add_host(d->n, isp, up, down, lat, &h), 0);
    return h;
}

static uint32_t isp(drv *d, uint64_t up, uint64_t down, bt_time_us lat)
{
    uint32_t id = 0;
    CU_ASSERT_EQUAL_FATAL(sim_net_add_isp(d->n, up, down, lat, &id), 0);
    return id;
}

/* Connects a to b at |now|; conn ids are 0, 1, 2... so they index d->c. */
static sim_conn_id conn(drv *d, sim_host_id a, sim_host_id b, bool saturate, bt_time_us now)
{
    sim_conn_id id = 0;
    CU_ASSERT_EQUAL_FATAL(sim_net_connect(d->n, a, b, now, &id), 0);
    CU_ASSERT_EQUAL_FATAL(id, d->nc);
    if (d->nc == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->c = realloc(d->c, d->cap * sizeof(*d->c));
        CU_ASSERT_FATAL(d->c != NULL);
    }
    tconn *c = &d->c[d->nc++];
    memset(c, 0, sizeof(*c));
    c->a = a;
    c->b = b;
    c->saturate = saturate;
    return id;
}

static void fill(drv *d, sim_conn_id id, bt_time_us now)
{
    uint64_t w = sim_net_write(d->n, id, d->c[id].a, UINT64_C(1) << 40, now);
    CU_ASSERT(w <= 262144);
}

static void mix(drv *d, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        d->hash ^= (v >> (8 * i)) & 0xff;
        d->hash *= 1099511628211ULL;
    }
}

static void handle(drv *d, const sim_net_event *ev)
{
    mix(d, ev->type);
    mix(d, ev->time);
    mix(d, ev->conn);
    mix(d, ev->host);
    mix(d, ev->bytes);
    d->events++;
    if (ev->time < d->last_t)
        d->disorder++;
    d->last_t = ev->time;
    if (ev->conn >= d->nc) {
        d->stray++;
        return;
    }
    tconn *c = &d->c[ev->conn];
    int end = ev->host == c->b;
    if ((ev->host != c->a && ev->host != c->b) || ev->peer != (end ? c->a : c->b))
        d->stray++;
    if (c->gone[end])
        d->stray++; /* an event after CLOSED, close or crash */
    switch (ev->type) {
    case SIM_NET_EV_ACCEPT:
        d->stray += c->accepts > 0;
        c->accepts++;
        c->accept_t = ev->time;
        d->stray += !end;
        break;
    case SIM_NET_EV_CONNECTED:
        d->stray += c->connects > 0 || c->closes[0] > 0;
        c->connects++;
        c->connected_t = ev->time;
        d->stray += end;
        if (c->saturate)
            fill(d, ev->conn, ev->time);
        break;
    case SIM_NET_EV_DELIVER:
        c->got[end] += ev->bytes;
        d->stray += d->track && c->got[end] > c->written[!end]; /* more than was sent */
        c->last_deliver_t[end] = ev->time;
        if (end && ev->time >= d->win_from && ev->time < d->win_to)
            c->win_got += ev->bytes;
        break;
    case SIM_NET_EV_WRITABLE:
        c->writables[end]++;
        if (c->saturate && !end)
            fill(d, ev->conn, ev->time);
        break;
    case SIM_NET_EV_CLOSED:
        c->closes[end]++;
        c->closed_t[end] = ev->time;
        c->gone[end] = true;
        d->stray += end && c->accepts == 0; /* a callee hears CLOSED only after ACCEPT */
        break;
    default:
        d->stray++;
    }
}

/* Runs the network (the host loop) up to and including |until|. */
static void run(drv *d, bt_time_us until)
{
    sim_net_event ev;
    for (;;) {
        bt_time_us t = sim_net_next_time(d->n);
        if (t > until)
            break;
        int rc;
        while ((rc = sim_net_poll(d->n, t, &ev)) == 1) {
            CU_ASSERT(ev.time == t);
            handle(d, &ev);
        }
        CU_ASSERT_EQUAL_FATAL(rc, 0);
    }
    CU_ASSERT_EQUAL(sim_net_poll(d->n, until, &ev), 0);
}

/* Rate in bytes/s delivered to the callee of |id| over the measuring window. */
static double win_rate(const drv *d, sim_conn_id id)
{
    return (double)d->c[id].win_got * 1e6 / (double)(d->win_to - d->win_from);
}

static bool near(double got, double want, double rel)
{
    return fabs(got - want) <= rel * want;
}

static sim_net_config small_chunks(uint32_t chunk)
{
    sim_net_config cfg;
    sim_net_config_defaults(&cfg);
    cfg.chunk_bytes = chunk;
    return cfg;
}

/* ---- 2. one flow on idle links ---- */

static double one_flow(uint64_t up, uint64_t down, uint64_t tup, uint64_t tdown)
{
    drv d;
    drv_init(&d, NULL);
    uint32_t i1 = isp(&d, tup, 0, MS(5)), i2 = isp(&d, 0, tdown, MS(7));
    sim_host_id a = host(&d, i1, up, 10000000, MS(20));
    sim_host_id b = host(&d, i2, 10000000, down, MS(10));
    sim_conn_id c = conn(&d, a, b, true, 0);
    d.win_from = BT_SEC(2);
    d.win_to = BT_SEC(12);
    run(&d, BT_SEC(12));
    CU_ASSERT_EQUAL(d.disorder + d.stray, 0);
    double r = win_rate(&d, c);
    sim_net_host_stats st;
    sim_net_host_stats_get(d.n, a, &st);
    CU_ASSERT(st.bytes_up >= d.c[c].got[1]);
    CU_ASSERT(st.up_busy_us <= BT_SEC(12) + BT_SEC(1));
    sim_net_host_stats_get(d.n, b, &st);
    CU_ASSERT_EQUAL(st.bytes_down, d.c[c].got[1]);
    drv_free(&d);
    return r;
}

static void test_one_flow(void)
{
    CU_ASSERT(near(one_flow(125000, 1000000, 0, 0), 125000, 0.02));      /* sender up */
    CU_ASSERT(near(one_flow(1000000, 300000, 0, 0), 300000, 0.02));      /* receiver down */
    CU_ASSERT(near(one_flow(1000000, 800000, 200000, 0), 200000, 0.02)); /* transit up */
    CU_ASSERT(near(one_flow(1000000, 800000, 0, 150000), 150000, 0.02)); /* transit down */
    CU_ASSERT(near(one_flow(5000000, 6000000, 0, 0), 5000000, 0.02));    /* fast, long RTT */
}

/* ---- 3. exact timing ---- */

static bt_time_us txus(uint64_t bytes, uint64_t rate)
{
    return (bytes * 1000000 + rate - 1) / rate;
}

static void test_exact_timing(void)
{
    drv d;
    drv_init(&d, NULL);
    uint32_t i1 = isp(&d, 1000000, 0, MS(5)), i2 = isp(&d, 0, 3000000, MS(7));
    sim_host_id a = host(&d, i1, 125000, 1000000, MS(10));
    sim_host_id b = host(&d, i2, 1000000, 1000000, MS(3));
    sim_host_id c2 = host(&d, i2, 700000, 900000, MS(1));
    CU_ASSERT_EQUAL(sim_net_latency(d.n, a, b), 25000);
    CU_ASSERT_EQUAL(sim_net_latency(d.n, b, c2), 4000); /* same ISP: no transit latency */
    sim_conn_id c = conn(&d, a, b, false, 1000);
    run(&d, 1000 + 50000);
    CU_ASSERT_EQUAL(d.c[c].accepts, 1);
    CU_ASSERT_EQUAL(d.c[c].accept_t, 1000 + 25000);
    CU_ASSERT_EQUAL(d.c[c].connected_t, 1000 + 50000);
    bt_time_us t0 = 1000 + 50000;
    CU_ASSERT_EQUAL(sim_net_write(d.n, c, a, 1000, t0), 1000);
    run(&d, BT_SEC(1));
    bt_time_us want = t0 + txus(1000, 125000) + txus(1000, 1000000) + txus(1000, 3000000) +
                      txus(1000, 1000000) + 25000;
    CU_ASSERT_EQUAL(want, t0 + 8000 + 1000 + 334 + 1000 + 25000);
    CU_ASSERT_EQUAL(d.c[c].got[1], 1000);
    CU_ASSERT_EQUAL(d.c[c].last_deliver_t[1], want);
    /* same ISP: uplink, downlink, access latencies only */
    sim_conn_id e = conn(&d, c2, b, false, BT_SEC(1));
    run(&d, BT_SEC(1) + 8000);
    CU_ASSERT_EQUAL(d.c[e].connected_t, BT_SEC(1) + 8000);
    CU_ASSERT_EQUAL(sim_net_write(d.n, e, c2, 333, BT_SEC(1) + 8000), 333);
    run(&d, BT_SEC(2));
    CU_ASSERT_EQUAL(d.c[e].last_deliver_t[1],
                    BT_SEC(1) + 8000 + txus(333, 700000) + txus(333, 1000000) + 4000);
    /* A large message: prop + s/bottleneck + one chunk per other link (+1 us per chunk for
     * rounding), and no faster than prop + s/bottleneck. */
    bt_time_us t1 = BT_SEC(2);
    uint64_t s = 10 * 16384 + 100;
    CU_ASSERT_EQUAL(sim_net_write(d.n, c, a, s, t1), s);
    run(&d, BT_SEC(5));
    CU_ASSERT_EQUAL(d.c[c].got[1], 1000 + s);
    bt_time_us lo = t1 + 25000 + txus(s, 125000);
    bt_time_us hi = lo + 11 + txus(16384, 1000000) * 2 + txus(16384, 3000000);
    CU_ASSERT(d.c[c].last_deliver_t[1] >= lo);
    CU_ASSERT(d.c[c].last_deliver_t[1] <= hi);
    CU_ASSERT(sim_net_chunks(d.n) >= 4 * 12);
    CU_ASSERT_EQUAL(d.disorder + d.stray, 0);
    drv_free(&d);
}

/* ---- 4. equal sharing ---- */

static void test_equal_share(void)
{
    drv d;
    drv_init(&d, NULL);
    sim_host_id r = host(&d, 0, 1000000, 1000000, MS(10));
    sim_conn_id c[4];
    for (int i = 0; i < 4; i++) {
        sim_host_id s = host(&d, 0, 1000000, 1000000, MS(5 + 10 * i));
        c[i] = conn(&d, s, r, true, 0);
    }
    d.win_from = BT_SEC(3);
    d.win_to = BT_SEC(13);
    run(&d, BT_SEC(13));
    for (int i = 0; i < 4; i++)
        CU_ASSERT(near(win_rate(&d, c[i]), 250000, 0.02));
    drv_free(&d);

    drv_init(&d, NULL);
    sim_host_id s = host(&d, 0, 1000000, 1000000, MS(10));
    for (int i = 0; i < 4; i++) {
        sim_host_id rr = host(&d, 0, 1000000, 10000000, MS(3 + 20 * i));
        c[i] = conn(&d, s, rr, true, 0);
    }
    d.win_from = BT_SEC(3);
    d.win_to = BT_SEC(13);
    run(&d, BT_SEC(13));
    for (int i = 0; i < 4; i++)
        CU_ASSERT(near(win_rate(&d, c[i]), 250000, 0.02));
    CU_ASSERT_EQUAL(d.disorder + d.stray, 0);
    drv_free(&d);
}

/* ---- 5. weighted sharing (sim_net_set_weight) ---- */

/* Two backlogged flows of one sender with weights 3:1 share its uplink 3:1; a third flow of
 * default weight next to weights ONE and 2 * ONE gets its equal 1/4; weights on the
 * receiving side change nothing. */
static void test_weighted_share(void)
{
    drv d;
    drv_init(&d, NULL);
    sim_host_id s = host(&d, 0, 1000000, 1000000, MS(10));
    sim_host_id r1 = host(&d, 0, 1000000, 10000000, MS(5));
    sim_host_id r2 = host(&d, 0, 1000000, 10000000, MS(25));
    sim_conn_id c1 = conn(&d, s, r1, true, 0), c2 = conn(&d, s, r2, true, 0);
    sim_net_set_weight(d.n, c1, s, 3 * SIM_NET_WEIGHT_ONE);
    sim_net_set_weight(d.n, c2, s, SIM_NET_WEIGHT_ONE);
    sim_net_set_weight(d.n, c2, r2, 100 * SIM_NET_WEIGHT_ONE); /* r2's own upload: unused */
    d.win_from = BT_SEC(3);
    d.win_to = BT_SEC(13);
    run(&d, BT_SEC(13));
    double a = win_rate(&d, c1), b = win_rate(&d, c2);
    CU_ASSERT(near(a / b, 3.0, 0.05));
    CU_ASSERT(near(a + b, 1000000, 0.02)); /* the uplink stays busy */
    CU_ASSERT_EQUAL(d.disorder + d.stray, 0);
    drv_free(&d);

    drv_init(&d, NULL);
    s = host(&d, 0, 1000000, 1000000, MS(10));
    sim_conn_id c[3];
    for (int i = 0; i < 3; i++)
        c[i] = conn(&d, s, host(&d, 0, 1000000, 10000000, MS(3 + 7 * i)), true, 0);
    sim_net_set_weight(d.n, c[0], s, SIM_NET_WEIGHT_ONE);
    sim_net_set_weight(d.n, c[1], s, 2 * SIM_NET_WEIGHT_ONE);
    d.win_from = BT_SEC(3);
    d.win_to = BT_SEC(13);
    run(&d, BT_SEC(13));
    CU_ASSERT(near(win_rate(&d, c[0]), 250000, 0.05));
    CU_ASSERT(near(win_rate(&d, c[1]), 500000, 0.05));
    CU_ASSERT(near(win_rate(&d, c[2]), 250000, 0.05)); /* weight 0: the default, ONE */
    drv_free(&d);
}

/* ---- 6. held-back flow ---- */

static void test_held_back(void)
{
    drv d;
    drv_init(&d, NULL);
    sim_host_id s = host(&d, 0, 1000000, 1000000, MS(10));
    sim_host_id r1 = host(&d, 0, 1000000, 50000, MS(30));
    sim_host_id r2 = host(&d, 0, 1000000, 10000000, MS(5));
    sim_conn_id slow = conn(&d, s, r1, true, 0);
    sim_conn_id fast = conn(&d, s, r2, true, 0);
    d.win_from = BT_SEC(3);
    d.win_to = BT_SEC(13);
    run(&d, BT_SEC(13));
    CU_ASSERT(near(win_rate(&d, slow), 50000, 0.02));
    CU_ASSERT(near(win_rate(&d, fast), 950000, 0.02));
    CU_ASSERT_EQUAL(d.disorder + d.stray, 0);
    drv_free(&d);
}

/* ---- 5. max-min fairness against water filling ---- */

#define MM_MAXL (2 * 50 + 2 * 4)
#ifndef MM_WINDOW_S
#define MM_WINDOW_S 60 /* seconds of measurement after 30 s of warm-up */
#endif

typedef struct mm_inst {
    uint32_t nflows, nlinks;
    double cap[MM_MAXL];
    uint32_t fl[500][4]; /* links of each flow */
    uint32_t nfl[500];
    double rate[500];
} mm_inst;

/* Progressive filling: raise every unfrozen flow equally until a link saturates, freeze the
 * flows through it, repeat. Exact max-min rates. */
static void water_fill(mm_inst *m)
{
    double rem[MM_MAXL];
    uint32_t cnt[MM_MAXL] = {0};
    bool frozen[500] = {false};
    uint32_t left = m->nflows;
    for (uint32_t l = 0; l < m->nlinks; l++)
        rem[l] = m->cap[l];
    for (uint32_t f = 0; f < m->nflows; f++) {
        m->rate[f] = 0;
        for (uint32_t k = 0; k < m->nfl[f]; k++)
            cnt[m->fl[f][k]]++;
    }
    while (left > 0) {
        double inc = INFINITY;
        for (uint32_t l = 0; l < m->nlinks; l++) {
            if (cnt[l] > 0 && rem[l] / cnt[l] < inc)
                inc = rem[l] / cnt[l];
        }
        for (uint32_t f = 0; f < m->nflows; f++) {
            if (frozen[f])
                continue;
            m->rate[f] += inc;
            for (uint32_t k = 0; k < m->nfl[f]; k++)
                rem[m->fl[f][k]] -= inc;
        }
        for (uint32_t f = 0; f < m->nflows; f++) {
            if (frozen[f])
                continue;
            bool sat = false;
            for (uint32_t k = 0; k < m->nfl[f]; k++)
                sat |= rem[m->fl[f][k]] <= 1e-9 * m->cap[m->fl[f][k]];
            if (!sat)
                continue;
            frozen[f] = true;
            left--;
            for (uint32_t k = 0; k < m->nfl[f]; k++)
                cnt[m->fl[f][k]]--;
        }
    }
}

/* A rate in [lo, hi) times |scale| (scale multiplies rates and chunk size together). */
static uint64_t pick_rate(bt_pcg32 *rng, uint64_t lo, uint64_t hi, uint32_t scale)
{
    return scale * (lo + bt_pcg32_below(rng, (uint32_t)(hi - lo)));
}

/* Builds a random instance in |d| and |m|: |nh| hosts with random capacities and latencies
 * (|transit|: spread over ISP 0 and 3 ISPs with limited transit, one of them limited one way
 * only), |nf| saturated flows between random hosts. Rates are multiplied by |scale|. */
static void maxmin_build(drv *d, mm_inst *m, uint64_t seed, uint32_t nh, uint32_t nf, bool transit,
                         uint32_t scale)
{
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, seed, 7);
    uint32_t nisp = transit ? 4 : 1;
    uint32_t isp_of[50], ispl[4][2]; /* solver links of each ISP's transit, NOCONN if none */
    memset(m, 0, sizeof(*m));
    for (uint32_t i = 1; i < nisp; i++) {
        uint64_t up = pick_rate(&rng, 300000, 3000000, scale);
        uint64_t down = i == 3 ? 0 : pick_rate(&rng, 300000, 3000000, scale);
        (void)isp(d, up, down, MS(1 + bt_pcg32_below(&rng, 10)));
        ispl[i][0] = m->nlinks;
        m->cap[m->nlinks++] = (double)up;
        ispl[i][1] = down == 0 ? NOCONN : m->nlinks;
        if (down != 0)
            m->cap[m->nlinks++] = (double)down;
    }
    uint32_t hbase = m->nlinks; /* host h: solver link hbase + 2h up, hbase + 2h + 1 down */
    for (uint32_t h = 0; h < nh; h++) {
        uint64_t up = pick_rate(&rng, 100000, 1000000, scale);
        uint64_t down = pick_rate(&rng, 200000, 4000000, scale);
        isp_of[h] = bt_pcg32_below(&rng, nisp);
        (void)host(d, isp_of[h], up, down, MS(1 + bt_pcg32_below(&rng, 40)));
        m->cap[m->nlinks++] = (double)up;
        m->cap[m->nlinks++] = (double)down;
    }
    m->nflows = nf;
    for (uint32_t f = 0; f < nf; f++) {
        uint32_t s = bt_pcg32_below(&rng, nh), r = bt_pcg32_below(&rng, nh - 1);
        r += r >= s;
        (void)conn(d, s, r, true, f * 200);
        m->fl[f][m->nfl[f]++] = hbase + 2 * s;
        if (isp_of[s] != isp_of[r] && isp_of[s] != 0)
            m->fl[f][m->nfl[f]++] = ispl[isp_of[s]][0];
        if (isp_of[s] != isp_of[r] && isp_of[r] != 0 && ispl[isp_of[r]][1] != NOCONN)
            m->fl[f][m->nfl[f]++] = ispl[isp_of[r]][1];
        m->fl[f][m->nfl[f]++] = hbase + 2 * r + 1;
    }
}

/* One random instance (see maxmin_build), measured over MM_WINDOW_S seconds after 30 s of
 * warm-up. Each flow must be within 5% of its max-min rate, or within an absolute floor of
 * two chunks over the window (137 bytes/s at 4 KiB chunks over 60 s) for the slowest. Returns
 * the largest relative error over the flows whose rate is at least 20 floors (where 5% is
 * more than the floor), i.e. all but the slowest. */
static double maxmin_instance(uint64_t seed, uint32_t nh, uint32_t nf, bool transit, uint32_t scale)
{
    mm_inst m;
    drv d;
    sim_net_config cfg = small_chunks(4096 * scale);
    drv_init(&d, &cfg);
    maxmin_build(&d, &m, seed, nh, nf, transit, scale);
    water_fill(&m);
    d.win_from = BT_SEC(30);
    d.win_to = BT_SEC(30 + MM_WINDOW_S);
    run(&d, d.win_to);
    CU_ASSERT_EQUAL(d.disorder + d.stray, 0);
    double floor = 2.0 * cfg.chunk_bytes * 1e6 / (double)(d.win_to - d.win_from), worst = 0;
    uint32_t bad = 0;
    for (uint32_t f = 0; f < nf; f++) {
        double got = win_rate(&d, f), want = m.rate[f];
        double err = fabs(got - want) / want;
        if (want >= 20 * floor && err > worst)
            worst = err;
        if (fabs(got - want) > floor && err > 0.05 && bad++ < 5)
            printf("\n  seed %llu flow %u: %.0f B/s, max-min %.0f B/s (%u links)",
                   (unsigned long long)seed, f, got, want, m.nfl[f]);
    }
    CU_ASSERT_EQUAL(bad, 0);
    drv_free(&d);
    return worst;
}

static void test_maxmin(void)
{
    double worst = 0, w;
    const struct {
        uint32_t hosts, flows, scale;
        bool transit;
    } inst[] = {{6, 20, 1, false},   {20, 120, 1, false}, {50, 500, 1, false},
                {12, 60, 1, true},   {30, 250, 1, true},  {50, 500, 1, true},
                {20, 200, 4, false}, {40, 400, 4, true}}; /* 4: default chunk size */
    for (uint32_t i = 0; i < sizeof(inst) / sizeof(inst[0]); i++) {
        w = maxmin_instance(100 + i, inst[i].hosts, inst[i].flows, inst[i].transit, inst[i].scale);
        worst = w > worst ? w : worst;
    }
    printf("\n  max-min: largest relative error %.2f%% ", worst * 100);
}

/* ---- 7. connection life cycle ---- */

static void test_lifecycle_setup(void)
{
    drv d;
    drv_init(&d, NULL);
    sim_host_id a = host(&d, 0, 1000000, 1000000, MS(10));
    sim_host_id b = host(&d, 0, 500000, 2000000, MS(5));
    sim_conn_id c = conn(&d, a, b, false, 1000);
    CU_ASSERT_EQUAL(sim_net_next_time(d.n), 16000);
    /* written before CONNECTED: buffered, sent after */
    CU_ASSERT_EQUAL(sim_net_writable(d.n, c, a), 262144);
    CU_ASSERT_EQUAL(sim_net_write(d.n, c, a, 500, 1000), 500);
    CU_ASSERT_EQUAL(sim_net_writable(d.n, c, a), 262144 - 500);
    run(&d, 30999);
    CU_ASSERT_EQUAL(d.c[c].accepts, 1);
    CU_ASSERT_EQUAL(d.c[c].accept_t, 16000);
    CU_ASSERT_EQUAL(d.c[c].connects, 0);
    CU_ASSERT_EQUAL(d.c[c].got[1], 0);
    /* the callee may send as soon as it accepted */
    CU_ASSERT_EQUAL(sim_net_write(d.n, c, b, 100, 30999), 100);
    run(&d, BT_SEC(1));
    CU_ASSERT_EQUAL(d.c[c].connects, 1);
    CU_ASSERT_EQUAL(d.c[c].connected_t, 31000);
    CU_ASSERT_EQUAL(d.c[c].got[1], 500);
    CU_ASSERT_EQUAL(d.c[c].last_deliver_t[1],
                    31000 + txus(500, 1000000) + txus(500, 2000000) + 15000);
    CU_ASSERT_EQUAL(d.c[c].got[0], 100);
    CU_ASSERT_EQUAL(d.c[c].last_deliver_t[0],
                    30999 + txus(100, 500000) + txus(100, 1000000) + 15000);
    CU_ASSERT_EQUAL(d.c[c].writables[0] + d.c[c].writables[1], 0);
    CU_ASSERT_EQUAL(sim_net_writable(d.n, c, a), 262144);
    CU_ASSERT_EQUAL(d.disorder + d.stray, 0);
    drv_free(&d);
}

static void test_lifecycle_close(void)
{
    drv d;
    drv_init(&d, NULL);
    sim_host_id a = host(&d, 0, 100000, 1000000, MS(10));
    sim_host_id b = host(&d, 0, 100000, 1000000, MS(5));
    /* close drops data in flight and notifies the other end after one-way delay */
    sim_conn_id c = conn(&d, a, b, true, 0);
    run(&d, BT_SEC(1));
    uint64_t before = d.c[c].got[1];
    CU_ASSERT(before > 50000);
    sim_net_close(d.n, c, a, BT_SEC(1));
    CU_ASSERT_EQUAL(sim_net_write(d.n, c, a, 10, BT_SEC(1)), 0);
    CU_ASSERT_EQUAL(sim_net_write(d.n, c, b, 10, BT_SEC(1)), 0);
    CU_ASSERT_EQUAL(sim_net_writable(d.n, c, a), 0);
    CU_ASSERT_EQUAL(sim_net_writable(d.n, c, b), 0);
    sim_net_close(d.n, c, a, BT_SEC(1)); /* twice: no-op */
    run(&d, BT_SEC(3));
    CU_ASSERT_EQUAL(d.c[c].got[1], before);
    CU_ASSERT_EQUAL(d.c[c].closes[1], 1);
    CU_ASSERT_EQUAL(d.c[c].closed_t[1], BT_SEC(1) + 15000);
    CU_ASSERT_EQUAL(d.c[c].closes[0], 0);
    sim_net_close(d.n, c, b, BT_SEC(3)); /* closing after CLOSED: nothing for a */
    run(&d, BT_SEC(4));
    CU_ASSERT_EQUAL(d.c[c].closes[0], 0);

    /* both close before the notices arrive: nobody hears CLOSED */
    sim_conn_id c2 = conn(&d, a, b, true, BT_SEC(4));
    run(&d, BT_SEC(5));
    sim_net_close(d.n, c2, b, BT_SEC(5));
    sim_net_close(d.n, c2, a, BT_SEC(5) + 1000);
    run(&d, BT_SEC(6));
    CU_ASSERT_EQUAL(d.c[c2].closes[0] + d.c[c2].closes[1], 0);

    /* the callee closes before CONNECTED: the caller gets CLOSED instead */
    sim_conn_id c3 = conn(&d, a, b, false, BT_SEC(6));
    run(&d, BT_SEC(6) + 15000);
    CU_ASSERT_EQUAL(d.c[c3].accepts, 1);
    sim_net_close(d.n, c3, b, BT_SEC(6) + 20000);
    run(&d, BT_SEC(7));
    CU_ASSERT_EQUAL(d.c[c3].connects, 0);
    CU_ASSERT_EQUAL(d.c[c3].closes[0], 1);
    CU_ASSERT_EQUAL(d.c[c3].closed_t[0], BT_SEC(6) + 35000);

    /* the caller closes before ACCEPT: ACCEPT, then CLOSED after one-way delay */
    sim_conn_id c4 = conn(&d, a, b, false, BT_SEC(7));
    sim_net_close(d.n, c4, a, BT_SEC(7) + 5000);
    run(&d, BT_SEC(8));
    CU_ASSERT_EQUAL(d.c[c4].accepts, 1);
    CU_ASSERT_EQUAL(d.c[c4].accept_t, BT_SEC(7) + 15000);
    CU_ASSERT_EQUAL(d.c[c4].closes[1], 1);
    CU_ASSERT_EQUAL(d.c[c4].closed_t[1], BT_SEC(7) + 20000);
    CU_ASSERT_EQUAL(d.c[c4].connects + d.c[c4].closes[0], 0);
    CU_ASSERT_EQUAL(d.disorder + d.stray, 0);
    drv_free(&d);
}

static void test_lifecycle_host_down(void)
{
    drv d;
    drv_init(&d, NULL);
    sim_host_id a = host(&d, 0, 200000, 1000000, MS(10));
    sim_host_id b = host(&d, 0, 200000, 1000000, MS(5));
    sim_host_id x = host(&d, 0, 200000, 1000000, MS(2));
    sim_host_id y = host(&d, 0, 200000, 1000000, MS(3));
    sim_conn_id ab = conn(&d, a, b, true, 0);
    sim_conn_id xb = conn(&d, x, b, true, 0);
    sim_conn_id by = conn(&d, b, y, true, 0);
    sim_conn_id ax = conn(&d, a, x, true, 0);
    sim_conn_id yb = conn(&d, y, b, false, BT_SEC(2) - 2000); /* SYN in flight at the crash */
    run(&d, BT_SEC(2));
    sim_net_host_stats sb0, sb1;
    sim_net_host_stats_get(d.n, b, &sb0);
    CU_ASSERT(sb0.bytes_down > 0 && sb0.bytes_up > 0);
    sim_net_host_down(d.n, b, BT_SEC(2));
    sim_net_host_down(d.n, b, BT_SEC(2)); /* twice: no-op */
    CU_ASSERT_EQUAL(sim_net_write(d.n, by, b, 10, BT_SEC(2)), 0);
    CU_ASSERT_EQUAL(sim_net_write(d.n, ab, a, 10, BT_SEC(2)), 0);
    sim_conn_id dummy;
    CU_ASSERT_EQUAL(sim_net_connect(d.n, b, a, BT_SEC(2), &dummy), BT_ERR_STATE);
    run(&d, BT_SEC(4));
    CU_ASSERT_EQUAL(d.c[ab].closes[0], 1);
    CU_ASSERT_EQUAL(d.c[ab].closed_t[0], BT_SEC(2) + 15000);
    CU_ASSERT_EQUAL(d.c[xb].closed_t[0], BT_SEC(2) + 7000);
    CU_ASSERT_EQUAL(d.c[by].closed_t[1], BT_SEC(2) + 8000);
    CU_ASSERT_EQUAL(d.c[ab].closes[1] + d.c[xb].closes[1] + d.c[by].closes[0], 0);
    /* the SYN reaches a dead host: the caller is reset after a round trip */
    CU_ASSERT_EQUAL(d.c[yb].accepts + d.c[yb].connects, 0);
    CU_ASSERT_EQUAL(d.c[yb].closes[0], 1);
    CU_ASSERT_EQUAL(d.c[yb].closed_t[0], BT_SEC(2) - 2000 + 16000);
    /* b receives and sends nothing more; the unrelated connection carries on */
    sim_net_host_stats_get(d.n, b, &sb1);
    CU_ASSERT_EQUAL(sb1.bytes_down, sb0.bytes_down);
    CU_ASSERT(sb1.bytes_up - sb0.bytes_up <= 16384); /* at most the chunk on the wire */
    CU_ASSERT(d.c[ab].last_deliver_t[1] <= BT_SEC(2));
    CU_ASSERT(d.c[by].last_deliver_t[1] <= BT_SEC(2));
    CU_ASSERT(d.c[ax].last_deliver_t[1] > BT_SEC(3));
    CU_ASSERT_EQUAL(d.c[ax].closes[0] + d.c[ax].closes[1], 0);
    /* connecting to a host that is down */
    sim_conn_id ab2 = conn(&d, a, b, false, BT_SEC(4));
    run(&d, BT_SEC(5));
    CU_ASSERT_EQUAL(d.c[ab2].accepts + d.c[ab2].connects, 0);
    CU_ASSERT_EQUAL(d.c[ab2].closed_t[0], BT_SEC(4) + 30000);
    CU_ASSERT_EQUAL(d.disorder + d.stray, 0);
    drv_free(&d);
}

static void test_writable_edge(void)
{
    drv d;
    drv_init(&d, NULL);
    sim_host_id a = host(&d, 0, 100000, 1000000, MS(1));
    sim_host_id b = host(&d, 0, 100000, 1000000, MS(1));
    sim_conn_id c = conn(&d, a, b, false, 0);
    run(&d, 4000);
    CU_ASSERT_EQUAL(d.c[c].connects, 1);
    /* more than fits: accepted up to the buffer, one WRITABLE when the first chunk leaves */
    CU_ASSERT_EQUAL(sim_net_write(d.n, c, a, 262145, 4000), 262144);
    run(&d, 4000);
    CU_ASSERT_EQUAL(d.c[c].writables[0], 1);
    CU_ASSERT_EQUAL(sim_net_writable(d.n, c, a), 16384);
    run(&d, BT_SEC(1)); /* more chunks leave, but nobody found the buffer full again */
    CU_ASSERT_EQUAL(d.c[c].writables[0], 1);
    uint64_t room = sim_net_writable(d.n, c, a);
    CU_ASSERT(room > 16384);
    CU_ASSERT_EQUAL(sim_net_write(d.n, c, a, room - 1, BT_SEC(1)), room - 1); /* not full */
    run(&d, BT_SEC(2));
    CU_ASSERT_EQUAL(d.c[c].writables[0], 1);
    room = sim_net_writable(d.n, c, a);
    CU_ASSERT_EQUAL(sim_net_write(d.n, c, a, room, BT_SEC(2)), room); /* exactly full */
    CU_ASSERT_EQUAL(sim_net_writable(d.n, c, a), 0);
    CU_ASSERT_EQUAL(sim_net_write(d.n, c, a, 5, BT_SEC(2)), 0);
    run(&d, BT_SEC(3));
    CU_ASSERT_EQUAL(d.c[c].writables[0], 2);
    CU_ASSERT_EQUAL(d.c[c].writables[1], 0);
    CU_ASSERT_EQUAL(d.disorder + d.stray, 0);
    drv_free(&d);
}

/* Closed connections give their flow state and chunks back once no link holds them. */
static uint32_t free_len(const sim_net *n, bool pairs)
{
    uint32_t k = 0;
    for (uint32_t i = pairs ? n->pairs_free : n->chunks_free; i != SIM_NONE; k++)
        i = pairs ? n->pairs[i].conn : n->chunks[i].next;
    return k;
}

static void test_recycling(void)
{
    drv d;
    drv_init(&d, NULL);
    uint32_t i1 = isp(&d, 300000, 200000, MS(3));
    for (uint32_t h = 0; h < 8; h++)
        (void)host(&d, h & 1 ? i1 : 0, 100000 + 50000 * h, 400000, MS(1 + h));
    for (uint32_t round = 0; round < 5; round++) {
        bt_time_us t0 = BT_SEC(2 * round);
        uint32_t first = d.nc;
        for (uint32_t i = 0; i < 40; i++)
            (void)conn(&d, i % 8,
                       (i * 3 + 1 + i / 8) % 8 == i % 8 ? (i + 1) % 8 : (i * 3 + 1 + i / 8) % 8,
                       true, t0);
        run(&d, t0 + BT_SEC(1));
        if (round == 4)
            sim_net_host_down(d.n, 3, t0 + BT_SEC(1));
        for (uint32_t i = first; i < d.nc; i++)
            sim_net_close(d.n, i, i % 2 ? d.c[i].a : d.c[i].b, t0 + BT_SEC(1));
        run(&d, t0 + BT_SEC(2));
    }
    run(&d, BT_SEC(20));
    CU_ASSERT_EQUAL(sim_net_next_time(d.n), BT_TIME_NEVER);
    CU_ASSERT(d.n->npairs <= 40); /* the pairs of one round, reused by the next rounds */
    CU_ASSERT_EQUAL(free_len(d.n, true), d.n->npairs);
    CU_ASSERT(d.n->nchunks > 0);
    CU_ASSERT_EQUAL(free_len(d.n, false), d.n->nchunks);
    for (uint32_t l = 0; l < d.n->nlinks; l++)
        CU_ASSERT(d.n->links[l].head == SIM_NONE && d.n->links[l].cur == SIM_NONE);
    CU_ASSERT_EQUAL(d.disorder + d.stray, 0);
    drv_free(&d);
}

/* ---- random operations ---- */

#ifndef RANDOM_OPS_SEED
#define RANDOM_OPS_SEED 77
#endif

static uint64_t twrite(drv *d, sim_conn_id id, int end, uint64_t bytes, bt_time_us now)
{
    tconn *c = &d->c[id];
    uint64_t w = sim_net_write(d->n, id, end ? c->b : c->a, bytes, now);
    c->written[end] += w;
    return w;
}

static void tclose(drv *d, sim_conn_id id, int end, bt_time_us now)
{
    sim_net_close(d->n, id, end ? d->c[id].b : d->c[id].a, now);
    d->c[id].gone[end] = true;
}

static void tdown(drv *d, sim_host_id h, bt_time_us now)
{
    sim_net_host_down(d->n, h, now);
    for (uint32_t i = 0; i < d->nc; i++) {
        d->c[i].gone[0] |= d->c[i].a == h;
        d->c[i].gone[1] |= d->c[i].b == h;
    }
}

/* One random step at |t|: connect, write, close or crash. */
static void random_op(drv *d, bt_pcg32 *rng, bool *down, uint32_t nh, bt_time_us t)
{
    uint32_t op = bt_pcg32_below(rng, 100);
    if (op < 25 || d->nc == 0) {
        sim_host_id a = bt_pcg32_below(rng, nh), b = (a + 1 + bt_pcg32_below(rng, nh - 1)) % nh;
        sim_conn_id id;
        if (down[a]) {
            CU_ASSERT_EQUAL(sim_net_connect(d->n, a, b, t, &id), BT_ERR_STATE);
            return;
        }
        (void)conn(d, a, b, false, t);
        return;
    }
    sim_conn_id id = bt_pcg32_below(rng, d->nc);
    int end = (int)bt_pcg32_below(rng, 2);
    tconn *c = &d->c[id];
    if (op < 85) {
        if (end == 1 && c->accepts == 0)
            return; /* the callee does not know the connection yet */
        uint64_t w = twrite(d, id, end, 1 + bt_pcg32_below(rng, 100000), t);
        if (c->gone[end])
            CU_ASSERT_EQUAL(w, 0);
    } else if (op < 97) {
        if (end == 0 || c->accepts > 0)
            tclose(d, id, end, t);
    } else if (op == 97 && bt_pcg32_below(rng, 10) == 0) {
        sim_host_id h = bt_pcg32_below(rng, nh);
        tdown(d, h, t);
        down[h] = true;
    }
}

static void test_random_ops(void)
{
    enum { NH = 12 };
    drv d;
    sim_net_config cfg = small_chunks(3000);
    cfg.sndbuf_bytes = 50000;
    drv_init(&d, &cfg);
    d.track = true;
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, RANDOM_OPS_SEED, 3);
    uint32_t i1 = isp(&d, 200000, 150000, MS(2)), i2 = isp(&d, 0, 300000, MS(4));
    bool down[NH] = {false};
    for (uint32_t h = 0; h < NH; h++)
        (void)host(&d,
                   h % 3 == 0   ? 0
                   : h % 3 == 1 ? i1
                                : i2,
                   20000 + 30000 * h, 50000 + 40000 * (NH - h), MS(h % 5));
    bt_time_us t = 0;
    for (uint32_t step = 0; step < 3000; step++) {
        t += bt_pcg32_below(&rng, 4) == 0 ? 0 : bt_pcg32_below(&rng, 20000);
        run(&d, t);
        random_op(&d, &rng, down, NH, t);
    }
    run(&d, t + BT_SEC(3600)); /* drain: everything written to live connections arrives */
    CU_ASSERT_EQUAL(sim_net_next_time(d.n), BT_TIME_NEVER);
    uint32_t live = 0, lost = 0;
    for (uint32_t i = 0; i < d.nc; i++) {
        const tconn *c = &d.c[i];
        CU_ASSERT(c->got[0] <= c->written[1] && c->got[1] <= c->written[0]);
        if (c->gone[0] || c->gone[1] || c->connects == 0)
            continue;
        live++;
        lost += c->got[0] != c->written[1] || c->got[1] != c->written[0];
    }
    uint32_t ndown = 0;
    for (uint32_t h = 0; h < NH; h++)
        ndown += down[h];
    CU_ASSERT(live > 100 && ndown > 0 && ndown < NH / 2);
    CU_ASSERT_EQUAL(lost, 0);
    for (uint32_t i = 0; i < d.nc; i++)
        tclose(&d, i, 0, t + BT_SEC(3600));
    run(&d, t + BT_SEC(7200));
    CU_ASSERT_EQUAL(free_len(d.n, true), d.n->npairs);
    CU_ASSERT_EQUAL(free_len(d.n, false), d.n->nchunks);
    CU_ASSERT_EQUAL(d.disorder + d.stray, 0);
    drv_free(&d);
}

/* ---- 8. determinism ---- */

static void det_run(uint64_t *hash, uint64_t *events)
{
    drv d;
    drv_init(&d, NULL);
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 9, 9);
    uint32_t i1 = isp(&d, 2000000, 1500000, MS(4));
    for (uint32_t h = 0; h < 30; h++)
        (void)host(&d, h % 3 == 0 ? i1 : 0, 50000 + bt_pcg32_below(&rng, 900000),
                   200000 + bt_pcg32_below(&rng, 2000000), MS(1 + h % 17));
    for (uint32_t i = 0; i < 150; i++) {
        uint32_t s = bt_pcg32_below(&rng, 30), r = (s + 1 + bt_pcg32_below(&rng, 29)) % 30;
        (void)conn(&d, s, r, true, i * 3000 + bt_pcg32_below(&rng, 3000));
    }
    run(&d, BT_SEC(3));
    for (uint32_t i = 0; i < 20; i++)
        sim_net_close(d.n, i * 7, d.c[i * 7].b, BT_SEC(3));
    sim_net_host_down(d.n, 4, BT_SEC(3));
    run(&d, BT_SEC(5));
    *hash = d.hash;
    *events = d.events;
    CU_ASSERT_EQUAL(d.disorder + d.stray, 0);
    drv_free(&d);
}

static void test_determinism(void)
{
    uint64_t h1, h2, e1, e2;
    det_run(&h1, &e1);
    det_run(&h2, &e2);
    CU_ASSERT(e1 > 5000);
    CU_ASSERT_EQUAL(e1, e2);
    CU_ASSERT_EQUAL(h1, h2);
}

static void test_config(void)
{
    sim_net *n = NULL;
    sim_net_config cfg;
    sim_net_config_defaults(&cfg);
    CU_ASSERT_EQUAL(cfg.chunk_bytes, 16384);
    cfg.chunk_bytes = 0;
    CU_ASSERT_EQUAL(sim_net_new(&n, &cfg), BT_ERR_INVALID);
    CU_ASSERT_PTR_NULL(n);
    CU_ASSERT_EQUAL_FATAL(sim_net_new(&n, NULL), 0);
    sim_host_id h;
    CU_ASSERT_EQUAL(sim_net_add_host(n, 1, 10, 10, 0, &h), BT_ERR_INVALID); /* no ISP 1 */
    CU_ASSERT_EQUAL(sim_net_add_host(n, 0, 0, 10, 0, &h), BT_ERR_INVALID);
    CU_ASSERT_EQUAL(sim_net_add_host(n, 0, 10, 10, 0, &h), 0);
    CU_ASSERT_EQUAL(h, 0);
    CU_ASSERT_EQUAL(sim_net_next_time(n), BT_TIME_NEVER);
    sim_net_event ev;
    CU_ASSERT_EQUAL(sim_net_poll(n, BT_SEC(100), &ev), 0);
    sim_net_del(n);
    sim_net_del(NULL);
}

int test_sim_net_add_suite(void)
{
    CU_pSuite s = CU_add_suite("sim_net", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "config", test_config) == NULL ||
        CU_add_test(s, "one flow", test_one_flow) == NULL ||
        CU_add_test(s, "exact timing", test_exact_timing) == NULL ||
        CU_add_test(s, "equal share", test_equal_share) == NULL ||
        CU_add_test(s, "weighted share", test_weighted_share) == NULL ||
        CU_add_test(s, "held-back flow", test_held_back) == NULL ||
        CU_add_test(s, "max-min vs water filling", test_maxmin) == NULL ||
        CU_add_test(s, "set-up", test_lifecycle_setup) == NULL ||
        CU_add_test(s, "close", test_lifecycle_close) == NULL ||
        CU_add_test(s, "host down", test_lifecycle_host_down) == NULL ||
        CU_add_test(s, "writable edge", test_writable_edge) == NULL ||
        CU_add_test(s, "state recycling", test_recycling) == NULL ||
        CU_add_test(s, "random operations", test_random_ops) == NULL ||
        CU_add_test(s, "determinism", test_determinism) == NULL)
        return 1;
    return 0;
}
