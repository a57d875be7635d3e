/* tests/bench/bench_mse.c: cost of MSE/PE: RC4 stream throughput (what an encrypted connection
 * pays per byte) and full handshakes per second (two DH modexps and the key setup per side). */
#include "bench.h"
#include "bt_mse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void bench_mse(void);

static void bench_rc4(void)
{
    enum { LEN = 1 << 20, ROUNDS = 256 };
    uint8_t *buf = calloc(1, LEN);
    if (buf == NULL)
        return;
    bt_rc4 r;
    bt_rc4_init(&r, (const uint8_t *)"bench-key-0123456789", 20);
    double t0 = bench_now();
    for (int i = 0; i < ROUNDS; i++)
        bt_rc4_crypt(&r, buf, LEN);
    double dt = bench_now() - t0;
    printf("rc4: %d MiB in %.3f s = %.0f MiB/s (check byte %u)\n", ROUNDS, dt, ROUNDS / dt,
           buf[LEN - 1]);
    free(buf);
}

/* One handshake between two fresh instances through in-memory buffers; returns 0 when both
 * ends are done. */
static int one_handshake(bt_pcg32 *rng, const uint8_t (*keys)[20])
{
    bt_mse_config ca = {.initiator = true, .crypto = 3, .skeys = keys, .nskeys = 1, .pad_max = 512};
    bt_mse_config cb = {.crypto = 3, .skeys = keys, .nskeys = 1, .pad_max = 512};
    bt_mse *a = NULL, *b = NULL;
    int rv = bt_mse_new(&a, &ca, rng, bt_mem_default());
    if (rv == 0)
        rv = bt_mse_new(&b, &cb, rng, bt_mem_default());
    for (int i = 0; rv == 0 && i < 3; i++) {
        bt_mse *from = a, *to = b;
        for (int dir = 0; dir < 2 && rv == 0; dir++) {
            const uint8_t *p;
            size_t n = bt_mse_pending(from, &p);
            bt_ssize u =
                n > 0 && bt_mse_status_get(to) == BT_MSE_HANDSHAKING ? bt_mse_recv(to, p, n) : 0;
            rv = u < 0 ? (int)u : 0;
            bt_mse_sent(from, n);
            from = b;
            to = a;
        }
    }
    if (rv == 0 && (bt_mse_status_get(a) != BT_MSE_DONE || bt_mse_status_get(b) != BT_MSE_DONE))
        rv = BT_ERR_STATE;
    bt_mse_del(a);
    bt_mse_del(b);
    return rv;
}

void bench_mse(void)
{
    bench_rc4();
    static const uint8_t keys[1][20] = {{1, 2, 3}};
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 1, 1);
    enum { N = 500 };
    int bad = 0;
    double t0 = bench_now();
    for (int i = 0; i < N; i++)
        bad += one_handshake(&rng, keys) != 0;
    double dt = bench_now() - t0;
    printf("mse handshakes (both ends, in memory): %d in %.3f s = %.0f/s, %.0f us each, %d "
           "failed\n",
           N, dt, N / dt, dt / N * 1e6, bad);
}
