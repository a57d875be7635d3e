/* tests/bench/bench_tracker.c: tracker codec parse rates: HTTP announce replies with 50 compact
 * and 50 dictionary-model peers, and a BEP 15 UDP announce reply with 50 peers. */
#include "bench.h"
#include "bt_bencode.h"
#include "bt_tracker.h"

#include <stdio.h>

extern void bench_tracker(void);

#define NPEERS 50

static void build_http(bt_buf *b, int compact)
{
    uint8_t raw[NPEERS * 6];
    bt_ben_put_dict(b);
    bt_ben_put_cstr(b, "complete");
    bt_ben_put_int(b, 20);
    bt_ben_put_cstr(b, "incomplete");
    bt_ben_put_int(b, 30);
    bt_ben_put_cstr(b, "interval");
    bt_ben_put_int(b, 1800);
    bt_ben_put_cstr(b, "peers");
    if (compact) {
        for (int i = 0; i < NPEERS; i++) {
            uint8_t *p = raw + 6 * i;
            p[0] = 10, p[1] = 0, p[2] = (uint8_t)(i >> 8), p[3] = (uint8_t)i;
            p[4] = 0x1a, p[5] = (uint8_t)(0xe1 + i);
        }
        bt_ben_put_str(b, raw, sizeof(raw));
    } else {
        bt_ben_put_list(b);
        for (int i = 0; i < NPEERS; i++) {
            char ip[32];
            snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 200, i % 200 + 1);
            bt_ben_put_dict(b);
            bt_ben_put_cstr(b, "ip");
            bt_ben_put_cstr(b, ip);
            bt_ben_put_cstr(b, "peer id");
            bt_ben_put_str(b, "-XX0001-abcdefghijkl", 20);
            bt_ben_put_cstr(b, "port");
            bt_ben_put_int(b, 6881 + i);
            bt_ben_put_end(b);
        }
        bt_ben_put_end(b);
    }
    bt_ben_put_end(b);
}

static void run_http(const char *what, const bt_buf *b)
{
    long n = 0;
    double t0 = bench_now(), t;
    do {
        for (int k = 0; k < 1000; k++, n++) {
            bt_announce_reply r;
            int rc = bt_tracker_http_parse_reply(&r, b->data, b->len, bt_mem_default(), NULL, NULL);
            BENCH_USE(rc);
            BENCH_USE(r.npeers);
            bt_announce_reply_free(&r);
        }
        t = bench_now() - t0;
    } while (t < 0.5);
    printf("http reply, %d %s peers (%zu bytes): %.0f replies/s, %.0f ns/reply\n", NPEERS, what,
           b->len, (double)n / t, t * 1e9 / (double)n);
}

static void run_udp(void)
{
    bt_addr peers[NPEERS];
    for (int i = 0; i < NPEERS; i++)
        peers[i] = (bt_addr){4, {10, 0, 0, (uint8_t)(i + 1)}, (uint16_t)(6881 + i)};
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_udp_put_announce_reply(&b, 7, 1800, 30, 20, peers, NPEERS, 4);
    long n = 0;
    double t0 = bench_now(), t;
    do {
        for (int k = 0; k < 10000; k++, n++) {
            bt_udp_reply r;
            int rc = bt_udp_parse_reply(&r, b.data, b.len, 4, bt_mem_default());
            BENCH_USE(rc);
            BENCH_USE(r.announce.npeers);
            bt_udp_reply_free(&r);
        }
        t = bench_now() - t0;
    } while (t < 0.5);
    printf("udp announce reply, %d peers (%zu bytes): %.0f replies/s, %.0f ns/reply\n", NPEERS,
           b.len, (double)n / t, t * 1e9 / (double)n);
    bt_buf_free(&b);
}

void bench_tracker(void)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    build_http(&b, 1);
    run_http("compact", &b);
    bt_buf_reset(&b);
    build_http(&b, 0);
    run_http("dictionary", &b);
    bt_buf_free(&b);
    run_udp();
}
