/* tests/bench/bench_bencode.c: throughput of the bencode decoder, bt_metainfo_parse and the
 * encoder on a realistic large .torrent (10,000 pieces, 2,000 files in nested directories). */
#include "bench.h"
#include "bt_bencode.h"
#include "bt_metainfo.h"

#include <stdio.h>
#include <string.h>

extern void bench_bencode(void);

enum { NPIECES = 10000, NFILES = 2000, PIECE_LEN = 1 << 18 };

/* Encodes the whole test torrent into |b| (keys in sorted order). */
static void build_torrent(bt_buf *b, const uint8_t *pieces)
{
    char path[64];
    bt_ben_put_dict(b);
    bt_ben_put_cstr(b, "announce");
    bt_ben_put_cstr(b, "http://tracker.example.org:6969/announce");
    bt_ben_put_cstr(b, "announce-list");
    bt_ben_put_list(b);
    for (int t = 0; t < 3; t++) {
        bt_ben_put_list(b);
        snprintf(path, sizeof(path), "udp://tracker%d.example.org:1337/announce", t);
        bt_ben_put_cstr(b, path);
        bt_ben_put_end(b);
    }
    bt_ben_put_end(b);
    bt_ben_put_cstr(b, "comment");
    bt_ben_put_cstr(b, "benchmark torrent");
    bt_ben_put_cstr(b, "created by");
    bt_ben_put_cstr(b, "swarmlab bench");
    bt_ben_put_cstr(b, "creation date");
    bt_ben_put_int(b, 1700000000);
    bt_ben_put_cstr(b, "info");
    bt_ben_put_dict(b);
    bt_ben_put_cstr(b, "files");
    bt_ben_put_list(b);
    for (int i = 0; i < NFILES; i++) {
        bt_ben_put_dict(b);
        bt_ben_put_cstr(b, "length");
        bt_ben_put_int(b, (int64_t)NPIECES * PIECE_LEN / NFILES);
        bt_ben_put_cstr(b, "path");
        bt_ben_put_list(b);
        snprintf(path, sizeof(path), "disc %02d", i / 100);
        bt_ben_put_cstr(b, path);
        snprintf(path, sizeof(path), "track %04d - some longer title.flac", i);
        bt_ben_put_cstr(b, path);
        bt_ben_put_end(b);
        bt_ben_put_end(b);
    }
    bt_ben_put_end(b);
    bt_ben_put_cstr(b, "name");
    bt_ben_put_cstr(b, "A Large Collection");
    bt_ben_put_cstr(b, "piece length");
    bt_ben_put_int(b, PIECE_LEN);
    bt_ben_put_cstr(b, "pieces");
    bt_ben_put_str(b, pieces, (size_t)NPIECES * 20);
    bt_ben_put_end(b);
    bt_ben_put_end(b);
}

void bench_bencode(void)
{
    static uint8_t pieces[NPIECES * 20];
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 42, 1);
    for (size_t i = 0; i < sizeof(pieces); i++)
        pieces[i] = (uint8_t)bt_pcg32_next(&rng);
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    int reps = 0;
    double t0 = bench_now(), t;
    do {
        bt_buf_reset(&b);
        build_torrent(&b, pieces);
        reps++;
    } while ((t = bench_now() - t0) < 0.5);
    double mb = (double)b.len / 1e6;
    printf("  document: %.2f MB, %d files, %d pieces\n", mb, NFILES, NPIECES);
    printf("  encode:        %8.1f MB/s (%.0f ns per file entry)\n", mb * reps / t,
           t / reps / NFILES * 1e9);

    uint64_t toks = 0;
    reps = 0;
    t0 = bench_now();
    do {
        bt_ben_doc d;
        if (bt_ben_parse(&d, b.data, b.len, NULL, bt_mem_default(), NULL) != 0) {
            printf("  bencode parse failed\n");
            break;
        }
        toks = d.ntoks;
        bt_ben_free(&d);
        reps++;
    } while ((t = bench_now() - t0) < 1.0);
    printf("  bt_ben_parse:  %8.1f MB/s, %.1f Mtokens/s (%llu tokens)\n", mb * reps / t,
           (double)toks * reps / t / 1e6, (unsigned long long)toks);

    reps = 0;
    t0 = bench_now();
    do {
        bt_metainfo *m = NULL;
        if (bt_metainfo_parse(&m, b.data, b.len, bt_mem_default(), NULL, NULL) != 0) {
            printf("  metainfo parse failed\n");
            break;
        }
        BENCH_USE(m->npieces);
        bt_metainfo_del(m);
        reps++;
    } while ((t = bench_now() - t0) < 1.0);
    printf("  metainfo_parse:%8.1f MB/s, %.0f torrents/s (incl. SHA-1 of info, path checks)\n",
           mb * reps / t, reps / t);
    bt_buf_free(&b);
}
