/* tests/bench/bench_sim_net.c: timings of the simulated network (sim/sim_net*.c): 1000 hosts
 * (ADSL/cable/fibre mix, 3 ISPs, one with limited transit) with 20 saturated connections each
 * for 5 simulated seconds; then 10,000 hosts and 500,000 connections exchanging one small
 * message each way, then closing. Reports chunks/s, events/s and simulated MiB per wall s. */
#include "bench.h"
#include "sim_net.h"
#include "sim_net_int.h" /* the internal event count */

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

extern void bench_sim_net(void); /* extern: the bench grep matches once */

typedef struct bconn {
    sim_host_id a, b;
} bconn;

static void add_hosts(sim_net *n, uint32_t count, bt_pcg32 *rng)
{
    uint32_t isp1, isp2;
    sim_net_add_isp(n, 0, 0, BT_MSEC(5), &isp1);
    sim_net_add_isp(n, 50000000, 50000000, BT_MSEC(8), &isp2); /* 400 Mbit transit */
    for (uint32_t i = 0; i < count; i++) {
        uint32_t cls = bt_pcg32_below(rng, 100), isp = bt_pcg32_below(rng, 3);
        uint64_t up = 125000, down = 1000000; /* ADSL 1/8 Mbit */
        if (cls >= 50) {
            up = 625000; /* cable 5/50 Mbit */
            down = 6250000;
        }
        if (cls >= 85)
            up = down = 12500000; /* fibre 100/100 Mbit */
        const uint32_t isps[3] = {0, isp1, isp2};
        sim_host_id h;
        sim_net_add_host(n, isps[isp], up, down, BT_MSEC(5 + bt_pcg32_below(rng, 35)), &h);
    }
}

/* Runs the host loop to |until|; saturated: keep every caller's send buffer full. */
static uint64_t drive(sim_net *n, const bconn *c, bool saturated, bt_time_us until,
                      uint64_t *delivered)
{
    uint64_t events = 0;
    sim_net_event ev;
    for (;;) {
        bt_time_us t = sim_net_next_time(n);
        if (t > until)
            break;
        while (sim_net_poll(n, t, &ev) == 1) {
            events++;
            if (ev.type == SIM_NET_EV_DELIVER)
                *delivered += ev.bytes;
            else if (saturated &&
                     (ev.type == SIM_NET_EV_CONNECTED || ev.type == SIM_NET_EV_WRITABLE))
                sim_net_write(n, ev.conn, c[ev.conn].a, UINT64_C(1) << 30, t);
            else if (!saturated && ev.type == SIM_NET_EV_ACCEPT)
                sim_net_write(n, ev.conn, c[ev.conn].b, 68, t); /* a handshake back */
            else if (!saturated && ev.type == SIM_NET_EV_CONNECTED)
                sim_net_write(n, ev.conn, c[ev.conn].a, 68, t);
        }
    }
    return events;
}

static void bench_saturated(void)
{
    enum { HOSTS = 1000, PER = 20 };
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 1, 1);
    sim_net *n;
    if (sim_net_new(&n, NULL) != 0)
        return;
    add_hosts(n, HOSTS, &rng);
    bconn *c = malloc(sizeof(*c) * HOSTS * PER);
    for (uint32_t i = 0; i < HOSTS * PER; i++) {
        c[i].a = i / PER;
        c[i].b = (c[i].a + 1 + bt_pcg32_below(&rng, HOSTS - 1)) % HOSTS;
        sim_conn_id id;
        sim_net_connect(n, c[i].a, c[i].b, i, &id);
    }
    uint64_t delivered = 0;
    double t0 = bench_now();
    uint64_t ext = drive(n, c, true, BT_SEC(5), &delivered);
    double dt = bench_now() - t0;
    uint64_t chunks = sim_net_chunks(n), internal = n->q.next_seq;
    printf("  1000 hosts x 20 saturated conns, 5 s simulated: %.2f s wall\n", dt);
    printf("    %.2f M link-chunks/s, %.2f M internal events/s, %.2f M host events/s\n",
           chunks / dt / 1e6, internal / dt / 1e6, ext / dt / 1e6);
    printf("    %.0f MiB delivered (%.0f MiB/s simulated), %.0f MiB simulated per wall s\n",
           delivered / 1048576.0, delivered / 1048576.0 / 5, delivered / 1048576.0 / dt);
    sim_net_del(n);
    free(c);
}

static void bench_scale(void)
{
    enum { HOSTS = 10000, CONNS = 500000 };
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 2, 2);
    sim_net *n;
    if (sim_net_new(&n, NULL) != 0)
        return;
    add_hosts(n, HOSTS, &rng);
    bconn *c = malloc(sizeof(*c) * CONNS);
    double t0 = bench_now();
    for (uint32_t i = 0; i < CONNS; i++) {
        c[i].a = i % HOSTS;
        c[i].b = (c[i].a + 1 + bt_pcg32_below(&rng, HOSTS - 1)) % HOSTS;
        sim_conn_id id;
        if (sim_net_connect(n, c[i].a, c[i].b, i, &id) != 0) {
            printf("  connect failed\n");
            break;
        }
    }
    double t1 = bench_now();
    uint64_t delivered = 0;
    uint64_t ext = drive(n, c, false, BT_SEC(2), &delivered);
    double t2 = bench_now();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    for (uint32_t i = 0; i < CONNS; i++)
        sim_net_close(n, i, c[i].a, BT_SEC(2));
    ext += drive(n, c, false, BT_SEC(3), &delivered);
    double t3 = bench_now();
    printf("  10000 hosts, 500000 conns: connect %.2f s, handshakes %.2f s (%llu events, "
           "%llu bytes), close %.2f s wall\n",
           t1 - t0, t2 - t1, (unsigned long long)ext, (unsigned long long)delivered, t3 - t2);
    printf("    peak RSS %.0f MiB (%.0f bytes per connection, state + pending events)\n",
           ru.ru_maxrss / 1024.0, ru.ru_maxrss * 1024.0 / CONNS);
    sim_net_del(n);
    free(c);
}

void bench_sim_net(void)
{
    bench_saturated();
    bench_scale();
}
