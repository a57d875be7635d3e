/* bench_swarm.c: the in-process swarm (sim_memswarm): wall time and MiB/s of payload moved
 * through real engine clients (real bytes, SHA-1 verified), for a few shapes. */
#include "bench.h"
#include "sim_memswarm.h"

#include <stdio.h>
#include <sys/resource.h>

void bench_swarm(void);

static void one(const char *label, uint32_t leechers, uint64_t size, uint32_t frag)
{
    sim_memswarm_config cfg;
    sim_memswarm_defaults(&cfg);
    cfg.nleechers = leechers;
    cfg.total_len = size;
    cfg.max_fragment = frag;
    cfg.link_bytes_per_step = 1u << 20; /* ~100 MiB/s per link: the engines are the limit */
    cfg.pipe_cap = 1u << 20;
    sim_memswarm_result r;
    double t0 = bench_now();
    int rv = sim_memswarm_run(&cfg, &r);
    double wall = bench_now() - t0;
    if (rv != 0) {
        printf("  %s: failed: %s\n", label, bt_strerror(rv));
        return;
    }
    double mib = (double)r.bytes_moved / 1048576.0;
    printf("  %-34s %s  %7.1f MiB moved in %6.3f s wall = %7.1f MiB/s, %.2f M recv calls/s, "
           "%.1f simulated s\n",
           label, r.all_complete ? "ok  " : "FAIL", mib, wall, mib / wall,
           (double)r.recv_calls / wall / 1e6, (double)r.elapsed / 1e6);
    sim_memswarm_result_free(&r);
}

void bench_swarm(void)
{
    one("1 seed -> 1 leecher, 64 MiB, 16K frags", 1, 64u << 20, 16384);
    one("1 seed -> 8 leechers, 32 MiB, 1500B", 8, 32u << 20, 1500);
    one("1 seed -> 8 leechers, 32 MiB, 16K", 8, 32u << 20, 16384);
    one("1 seed -> 30 leechers, 16 MiB, 4K", 30, 16u << 20, 4096);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("  peak RSS of the bench process so far: %ld MiB\n", ru.ru_maxrss / 1024);
}
