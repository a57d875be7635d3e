/* tests/bench/bench_picker.c: timings of the piece picker: availability updates (have,
 * disconnect, bitfield add/remove) and 16-block picks through a whole simulated download,
 * for 4000 and 20000 pieces with 200 peers holding random partial bitfields. */
#include "bench.h"
#include "bt_picker.h"

#include <stdio.h>

extern void bench_picker(void); /* extern: the bench grep matches once */

#define PEERS 200
#define BATCH 16
#define OPS 2000000u

static void fill_peers(bt_bitfield *peers, uint32_t npieces, bt_pcg32 *rng)
{
    for (uint32_t i = 0; i < PEERS; i++) {
        bt_bitfield_init(&peers[i], npieces, bt_mem_default());
        uint32_t share = 20 + bt_pcg32_below(rng, 70); /* 20..89% of the pieces */
        for (uint32_t p = 0; p < npieces; p++) {
            if (bt_pcg32_below(rng, 100) < share)
                bt_bitfield_set(&peers[i], p);
        }
    }
}

static void bench_updates(bt_picker *pk, bt_bitfield *peers, uint32_t npieces, bt_pcg32 *rng)
{
    double t0 = bench_now();
    for (uint32_t i = 0; i < PEERS; i++)
        bt_picker_inc_bitfield(pk, &peers[i]);
    double t1 = bench_now();
    for (uint32_t i = 0; i < PEERS; i++)
        bt_picker_dec_bitfield(pk, &peers[i]);
    double t2 = bench_now();
    for (uint32_t i = 0; i < PEERS; i++)
        bt_picker_inc_bitfield(pk, &peers[i]);
    printf("  bitfield add    %10.0f ns/op  (%.1f ns/piece)\n", (t1 - t0) * 1e9 / PEERS,
           (t1 - t0) * 1e9 / PEERS / npieces);
    printf("  bitfield remove %10.0f ns/op\n", (t2 - t1) * 1e9 / PEERS);
    static uint32_t which[OPS];
    for (uint32_t i = 0; i < OPS; i++)
        which[i] = bt_pcg32_below(rng, npieces);
    t0 = bench_now();
    for (uint32_t i = 0; i < OPS; i++)
        bt_picker_inc(pk, which[i]);
    t1 = bench_now();
    for (uint32_t i = 0; i < OPS; i++)
        bt_picker_dec(pk, which[i]);
    t2 = bench_now();
    printf("  have (inc)      %10.1f ns/op\n", (t1 - t0) * 1e9 / OPS);
    printf("  dec             %10.1f ns/op\n", (t2 - t1) * 1e9 / OPS);
}

/* Picks for random peers; every block arrives at once and each piece verifies. */
static void bench_download(bt_picker *pk, bt_bitfield *peers, bt_pcg32 *rng)
{
    bt_block b[BATCH];
    uint64_t picks = 0, blocks = 0, empty = 0;
    double t0 = bench_now();
    while (!bt_picker_complete(pk) && picks < 100000000u) {
        bt_conn_id who = bt_pcg32_below(rng, PEERS);
        uint32_t n = bt_picker_pick(pk, &peers[who], NULL, who, b, BATCH);
        picks++;
        blocks += n;
        empty += n == 0;
        for (uint32_t i = 0; i < n; i++) {
            bt_pick_received res;
            if (bt_picker_received(pk, &b[i], who, who, &res) == 0 && res.piece_done)
                bt_picker_verified(pk, b[i].piece, true);
        }
    }
    double t1 = bench_now();
    printf("  pick+recv+verify %9.0f ns/pick  (%llu picks, %llu empty, %llu blocks, %s)\n",
           (t1 - t0) * 1e9 / (double)picks, (unsigned long long)picks, (unsigned long long)empty,
           (unsigned long long)blocks, bt_picker_complete(pk) ? "complete" : "INCOMPLETE");
}

static void run(uint32_t npieces)
{
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 42, 1);
    bt_picker_config cfg = {.npieces = npieces,
                            .piece_len = 262144,
                            .total_len = (uint64_t)npieces * 262144 - 1000,
                            .block_len = 16384,
                            .strategy = BT_PICK_RAREST_FIRST,
                            .random_first = 4,
                            .endgame_dups = 2};
    bt_picker *pk = NULL;
    if (bt_picker_new(&pk, &cfg, &rng, bt_mem_default()) != 0) {
        printf("  bt_picker_new failed\n");
        return;
    }
    static bt_bitfield peers[PEERS];
    fill_peers(peers, npieces, &rng);
    printf(" %u pieces x 16 blocks, %u peers:\n", npieces, PEERS);
    bench_updates(pk, peers, npieces, &rng);
    bench_download(pk, peers, &rng);
    BENCH_USE(bt_picker_bytes_left(pk));
    for (uint32_t i = 0; i < PEERS; i++)
        bt_bitfield_free(&peers[i], bt_mem_default());
    bt_picker_del(pk);
}

void bench_picker(void)
{
    run(4000);
    run(20000);
}
