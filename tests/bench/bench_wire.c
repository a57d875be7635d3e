/* tests/bench/bench_wire.c: wire codec throughput: parsing a realistic message mix (mostly
 * 16 KiB piece messages) fed in 64 KiB chunks and one byte at a time, and encoding. */
#include "bench.h"
#include "bt_wire.h"

#include <stdio.h>
#include <stdlib.h>

extern void bench_wire(void);

/* Control traffic only: have, request, cancel, interested, keep-alive. */
static size_t build_control(bt_buf *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        bt_wire_put_index(b, BT_MSG_HAVE, i);
        bt_wire_put_block(b, BT_MSG_REQUEST, i, 0, BT_BLOCK_LEN);
        bt_wire_put_block(b, BT_MSG_CANCEL, i, 0, BT_BLOCK_LEN);
        bt_wire_put_simple(b, BT_MSG_INTERESTED);
        bt_wire_put_keepalive(b);
    }
    return 5 * (size_t)n;
}

/* Per block: a piece, then have + request; every 8th block adds interested, unchoke, cancel, a
 * keep-alive and allowed fast. Returns the number of messages. */
static size_t build_stream(bt_buf *b, uint32_t nblocks)
{
    static const uint8_t block[BT_BLOCK_LEN];
    size_t msgs = 0;
    for (uint32_t i = 0; i < nblocks; i++) {
        bt_wire_put_piece_header(b, i / 16, (i % 16) * BT_BLOCK_LEN, BT_BLOCK_LEN);
        bt_buf_put(b, block, sizeof(block));
        bt_wire_put_index(b, BT_MSG_HAVE, i / 16);
        bt_wire_put_block(b, BT_MSG_REQUEST, i / 16, (i % 16) * BT_BLOCK_LEN, BT_BLOCK_LEN);
        msgs += 3;
        if (i % 8 == 0) {
            bt_wire_put_simple(b, BT_MSG_INTERESTED);
            bt_wire_put_simple(b, BT_MSG_UNCHOKE);
            bt_wire_put_block(b, BT_MSG_CANCEL, i / 16, 0, BT_BLOCK_LEN);
            bt_wire_put_keepalive(b);
            bt_wire_put_index(b, BT_MSG_ALLOWED_FAST, i / 16);
            msgs += 5;
        }
    }
    return msgs;
}

/* Parses |len| bytes in |chunk|-byte calls; returns messages (piece fragments count as one
 * message when they end a block). */
static size_t parse_stream(const uint8_t *s, size_t len, size_t chunk, const bt_wire_limits *lim)
{
    bt_wire_parser p;
    bt_wire_parser_init(&p, lim, bt_mem_default());
    size_t msgs = 0, off = 0;
    uint64_t sum = 0;
    while (off < len) {
        size_t n = len - off < chunk ? len - off : chunk, pos = 0;
        while (pos < n) {
            size_t used;
            bt_wire_msg m;
            int rc = bt_wire_parse(&p, s + off + pos, n - pos, &used, &m);
            pos += used;
            if (rc < 0) {
                fprintf(stderr, "bench_wire: parse error %s\n", p.error);
                bt_wire_parser_free(&p);
                return 0;
            }
            if (rc == 1 && (m.id != BT_MSG_PIECE || m.last))
                msgs++;
            sum += m.index + m.data_len;
        }
        off += n;
    }
    BENCH_USE(sum);
    bt_wire_parser_free(&p);
    return msgs;
}

/* Repeats the parse for about 0.4 s. */
static void bench_parse(const char *what, const bt_buf *b, size_t want, size_t chunk,
                        const bt_wire_limits *lim)
{
    double t0 = bench_now(), dt;
    size_t msgs = 0, reps = 0;
    do {
        msgs += parse_stream(b->data, b->len, chunk, lim);
        reps++;
        dt = bench_now() - t0;
    } while (dt < 0.4);
    if (msgs != want * reps)
        printf("  %s: WRONG message count %zu != %zu\n", what, msgs, want * reps);
    printf("  parse %-24s %11.0f msgs/s %9.1f MB/s %7.2f ns/byte (%zu msgs, %.2f s)\n", what,
           (double)msgs / dt, (double)b->len * (double)reps / dt / 1e6,
           dt * 1e9 / ((double)b->len * (double)reps), msgs, dt);
}

static void bench_encode(void)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    const int reps = 2000000;
    double t0 = bench_now();
    for (int i = 0; i < reps; i++) {
        bt_buf_reset(&b);
        bt_wire_put_index(&b, BT_MSG_HAVE, (uint32_t)i);
        bt_wire_put_block(&b, BT_MSG_REQUEST, (uint32_t)i, 0, BT_BLOCK_LEN);
        bt_wire_put_piece_header(&b, (uint32_t)i, 0, BT_BLOCK_LEN);
        bt_wire_put_simple(&b, BT_MSG_INTERESTED);
        BENCH_USE(b.data);
    }
    double dt = bench_now() - t0;
    printf("  encode have/request/piece hdr/interested %10.0f msgs/s  %6.1f ns/msg\n",
           4.0 * reps / dt, dt * 1e9 / (4.0 * reps));
    bt_buf_free(&b);
}

void bench_wire(void)
{
    bt_wire_limits lim = {.npieces = 1u << 20,
                          .max_block_len = BT_MAX_BLOCK_LEN,
                          .max_extended_len = 1u << 20,
                          .max_unknown_len = 1u << 20};
    bt_buf big, small, ctl;
    bt_buf_init(&big, bt_mem_default(), 0);
    bt_buf_init(&small, bt_mem_default(), 0);
    bt_buf_init(&ctl, bt_mem_default(), 0);
    size_t nbig = build_stream(&big, 2048);   /* ~32 MiB */
    size_t nsmall = build_stream(&small, 64); /* ~1 MiB */
    size_t nctl = build_control(&ctl, 20000); /* ~1 MiB */
    if (big.err != 0 || small.err != 0 || ctl.err != 0) {
        printf("  out of memory\n");
        goto out;
    }
    printf("  mix: %zu msgs in %.1f MiB (16 KiB pieces + have/request/...)\n", nbig,
           (double)big.len / 1048576.0);
    bench_parse("mix, 64 KiB chunks", &big, nbig, 65536, &lim);
    bench_parse("mix, 1500-byte chunks", &big, nbig, 1500, &lim);
    bench_parse("mix, 1 byte at a time", &small, nsmall, 1, &lim);
    bench_parse("control, 64 KiB chunks", &ctl, nctl, 65536, &lim);
    bench_parse("control, 1 byte at a time", &ctl, nctl, 1, &lim);
    bench_encode();
out:
    bt_buf_free(&big);
    bt_buf_free(&small);
    bt_buf_free(&ctl);
}
