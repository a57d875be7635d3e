/* cli/cmd_demo.c: `swarmlab demo`: an in-process swarm of real engine peers (sim_memswarm)
 * downloading random bytes through fragmenting in-memory pipes; writes a per-peer table, a
 * summary and, when gnuplot is installed, a completion-time plot. */
#include "cli.h"
#include "sim_memswarm.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void demo_usage(FILE *out)
{
    fprintf(out,
            "usage: swarmlab demo [options]\n\n"
            "Runs one seed and several leechers of the real engine in one process, joined by\n"
            "in-memory pipes that deliver bytes in random-sized fragments; every piece is SHA-1\n"
            "verified and every leecher's data is compared byte for byte with the original.\n\n"
            "  -o, --output DIR      write peers.tsv, summary.txt (and demo.png) into DIR\n"
            "  -l, --leechers N      leechers (default 8)\n"
            "  -s, --seeds N         initial seeds (default 1)\n"
            "      --size SIZE       torrent size, e.g. 16MiB (default 16MiB)\n"
            "      --piece-size SIZE piece size (default 256KiB)\n"
            "      --link-rate RATE  bytes/s per connection direction (default 12.5MB)\n"
            "      --seed-up RATE    a seed's total upload, bytes/s (default 4MB; 0 = no cap)\n"
            "      --leecher-up RATE a leecher's total upload, bytes/s (default 1MB; 0 = no cap)\n"
            "      --fragment N      largest delivery in bytes (default 1500)\n"
            "      --corrupt         the first leecher corrupts every block it uploads\n"
            "      --picker NAME     rarest-first | random | sequential\n"
            "      --seed N          random seed (default 1)\n"
            "  -h, --help            this text\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int write_outputs(const char *dir, const sim_memswarm_config *cfg,
                         const sim_memswarm_result *r, double wall)
{
    char path[4096];
    if (cli_make_dirs(dir) != 0) {
        fprintf(stderr, "swarmlab demo: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/peers.tsv", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "swarmlab demo: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "# peer\trole\tcomplete\tcompleted_s\tpieces_verified\thash_failures\t"
               "uploaded_bytes\tdownloaded_bytes\tdata_matches\n");
    for (uint32_t i = 0; i < r->npeers; i++) {
        const sim_memswarm_peer *p = &r->peers[i];
        bool bad = cfg->corrupt_peer >= 0 && i == cfg->nseeds + (uint32_t)cfg->corrupt_peer;
        double t = p->completed_at == BT_TIME_NEVER ? -1 : (double)p->completed_at / 1e6;
        fprintf(f, "%u\t%s\t%d\t%.3f\t%u\t%u\t%llu\t%llu\t%d\n", i,
                p->seed ? "seed" : bad ? "corrupt" : "leecher", p->complete, t,
                p->pieces_verified, p->hash_failures, (unsigned long long)p->uploaded,
                (unsigned long long)p->downloaded, p->data_matches);
    }
    fclose(f);
    snprintf(path, sizeof(path), "%s/summary.txt", dir);
    if ((f = fopen(path, "w")) == NULL) {
        fprintf(stderr, "swarmlab demo: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "peers %u (seeds %u)\nsize_bytes %llu\npieces %u\nall_complete %d\n"
               "simulated_seconds %.3f\nwall_seconds %.3f\nbytes_moved %llu\n",
            r->npeers, cfg->nseeds, (unsigned long long)cfg->total_len, r->npieces,
            r->all_complete, (double)r->elapsed / 1e6, wall,
            (unsigned long long)r->bytes_moved);
    fclose(f);
    return 0;
}

static void plot(const char *dir)
{
    char cmd[8192];
    snprintf(cmd, sizeof(cmd),
             "command -v gnuplot >/dev/null 2>&1 && gnuplot -e \"dir='%s'\" plots/demo.gp", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "swarmlab demo: gnuplot missing or failed; no plot drawn\n");
    else
        printf("plot: %s/demo.png\n", dir);
}

static uint64_t per_step(uint64_t bytes_per_s, bt_time_us step_us)
{
    uint64_t b = bytes_per_s * step_us / BT_US_PER_S;
    return b ? b : 1;
}

static int parse_args(int argc, char **argv, sim_memswarm_config *cfg, const char **dir)
{
    static const struct option opts[] = {
        {"output", 1, 0, 'o'}, {"leechers", 1, 0, 'l'}, {"seeds", 1, 0, 's'},
        {"size", 1, 0, 1},     {"piece-size", 1, 0, 2}, {"link-rate", 1, 0, 3},
        {"fragment", 1, 0, 4}, {"corrupt", 0, 0, 5},    {"seed", 1, 0, 6},
        {"picker", 1, 0, 7},   {"seed-up", 1, 0, 8},    {"leecher-up", 1, 0, 9},
        {"help", 0, 0, 'h'},   {0, 0, 0, 0}};
    int ch;
    uint64_t v, rate = 12500000, seed_up = 4000000, leecher_up = 1000000;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:l:s:h", opts, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case 'o': *dir = optarg; break;
        case 'l': bad = parse_u64(optarg, &v) || v < 1 || v > 200; cfg->nleechers = (uint32_t)v; break;
        case 's': bad = parse_u64(optarg, &v) || v < 1 || v > 50; cfg->nseeds = (uint32_t)v; break;
        case 1: bad = cli_parse_size(optarg, &cfg->total_len) || cfg->total_len == 0; break;
        case 2: bad = cli_parse_size(optarg, &v) || v < 16384 || v > (16u << 20); cfg->piece_len = (uint32_t)v; break;
        case 3: bad = cli_parse_size(optarg, &rate) || rate < 1000; break;
        case 4: bad = parse_u64(optarg, &v) || v < 1 || v > (1u << 20); cfg->max_fragment = (uint32_t)v; break;
        case 5: cfg->corrupt_peer = 0; break;
        case 6: bad = parse_u64(optarg, &cfg->seed); break;
        case 7: cfg->picker = optarg; break;
        case 8: bad = cli_parse_size(optarg, &seed_up); break;
        case 9: bad = cli_parse_size(optarg, &leecher_up); break;
        case 'h': demo_usage(stdout); return 1;
        default: demo_usage(stderr); return -1;
        }
        if (bad) {
            fprintf(stderr, "swarmlab demo: bad value '%s' for option %s\n", optarg, argv[optind - 1]);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "swarmlab demo: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    cfg->link_bytes_per_step = per_step(rate, cfg->step_us);
    cfg->seed_up_bytes_per_step = seed_up ? per_step(seed_up, cfg->step_us) : 0;
    cfg->leecher_up_bytes_per_step = leecher_up ? per_step(leecher_up, cfg->step_us) : 0;
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    sim_memswarm_config cfg;
    sim_memswarm_defaults(&cfg);
    cfg.nleechers = 8;
    cfg.total_len = 16u << 20;
    const char *dir = NULL;
    int pr = parse_args(argc, argv, &cfg, &dir);
    if (pr != 0)
        return pr > 0 ? CLI_OK : CLI_USAGE;
    printf("demo: %u seed(s), %u leechers, %llu bytes in %llu pieces, seed %llu\n", cfg.nseeds,
           cfg.nleechers, (unsigned long long)cfg.total_len,
           (unsigned long long)((cfg.total_len + cfg.piece_len - 1) / cfg.piece_len),
           (unsigned long long)cfg.seed);
    char ppath[4096];
    FILE *pf = NULL;
    if (dir != NULL) {
        if (cli_make_dirs(dir) != 0) {
            fprintf(stderr, "swarmlab demo: %s: %s\n", dir, strerror(errno));
            return CLI_FAIL;
        }
        snprintf(ppath, sizeof(ppath), "%s/progress.tsv", dir);
        if ((pf = fopen(ppath, "w")) == NULL) {
            fprintf(stderr, "swarmlab demo: %s: %s\n", ppath, strerror(errno));
            return CLI_FAIL;
        }
        fprintf(pf, "# time_s");
        for (uint32_t i = 0; i < cfg.nleechers; i++)
            fprintf(pf, "\tpeer%u_pieces", cfg.nseeds + i);
        fputc('\n', pf);
        cfg.progress = pf;
        cfg.progress_us = BT_MSEC(250);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sim_memswarm_result r;
    int rv = sim_memswarm_run(&cfg, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (pf != NULL)
        fclose(pf);
    if (rv != 0) {
        fprintf(stderr, "swarmlab demo: %s\n", bt_strerror(rv));
        return CLI_FAIL;
    }
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("all leechers complete: %s after %.2f simulated s (%.2f s wall, %.1f MiB moved, "
           "%.1f MiB/s through the engines)\n",
           r.all_complete ? "yes" : "NO", (double)r.elapsed / 1e6, wall,
           (double)r.bytes_moved / 1048576.0, (double)r.bytes_moved / 1048576.0 / wall);
    int ok = r.all_complete;
    for (uint32_t i = cfg.nseeds; i < r.npeers; i++) {
        const sim_memswarm_peer *p = &r.peers[i];
        bool bad = cfg.corrupt_peer >= 0 && i == cfg.nseeds + (uint32_t)cfg.corrupt_peer;
        printf("  peer %2u %-8s done %8.2f s  verified %u/%u  hash failures %u  up %llu  %s\n", i,
               bad ? "corrupt" : "leecher", p->completed_at == BT_TIME_NEVER ? -1.0 : (double)p->completed_at / 1e6,
               p->pieces_verified, r.npieces, p->hash_failures, (unsigned long long)p->uploaded,
               bad ? "" : p->data_matches ? "data matches" : "DATA DIFFERS");
        if (!bad && !p->data_matches)
            ok = 0;
    }
    if (cfg.corrupt_peer >= 0)
        printf("the corrupt peer was banned by %u peer(s)\n", r.corrupt_banned_by);
    if (dir != NULL && write_outputs(dir, &cfg, &r, wall) == 0) {
        printf("results: %s/peers.tsv %s/progress.tsv %s/summary.txt\n", dir, dir, dir);
        plot(dir);
    }
    sim_memswarm_result_free(&r);
    return ok ? CLI_OK : CLI_FAIL;
}
