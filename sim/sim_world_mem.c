/* sim_world_mem.c: backs the simulator's heap with transparent huge pages where the system
 * offers them. A swarm is hundreds of MiB of small records (engine connections, streams, flows)
 * visited in event order, i.e. at random: with 4 KiB pages nearly every visit also misses the
 * TLB (measured on the 1,000-peer bench: about a quarter of the run time). Memory only; no
 * effect on results. glibc on Linux; elsewhere, and under sanitizers, a no-op. */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include "sim_world_int.h"

#if defined(__linux__) && defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define STEP_BYTES (16u << 20) /* below glibc's largest mmap threshold (32 MiB) */
#define MAX_STEPS 512u         /* at most 8 GiB of address space */
#define HUGE_BYTES ((uintptr_t)2 << 20)

/* glibc grows its main heap by brk: a region the kernel can back with huge pages only if it is
 * marked before first use, and brk growth after the mark is not marked. So: grow the heap to
 * |bytes| now (address space only, nothing is touched), mark it, and give it back to malloc
 * without trimming, so the swarm's allocations land in marked memory. */
void sim_world_reserve_memory(uint64_t bytes)
{
    uint32_t steps = (uint32_t)((bytes + STEP_BYTES - 1) / STEP_BYTES);
    if (steps > MAX_STEPS)
        steps = MAX_STEPS;
    if (mallopt(M_TRIM_THRESHOLD, INT32_MAX) == 0 || mallopt(M_MMAP_THRESHOLD, 32 << 20) == 0)
        return;
    void *blocks[MAX_STEPS];
    uint32_t n = 0;
    while (n < steps && (blocks[n] = malloc(STEP_BYTES)) != NULL)
        n++;
    /* Mark each run of adjacent blocks (one brk region; malloc may also have fallen back to
     * separate mappings), rounded inwards to whole huge pages. */
    for (uint32_t i = 0; i < n;) {
        uintptr_t lo = (uintptr_t)blocks[i], hi = lo + STEP_BYTES;
        while (++i < n && (uintptr_t)blocks[i] >= hi && (uintptr_t)blocks[i] - hi <= 64)
            hi = (uintptr_t)blocks[i] + STEP_BYTES;
        uintptr_t from = (lo + HUGE_BYTES - 1) & ~(HUGE_BYTES - 1), to = hi & ~(HUGE_BYTES - 1);
        if (to > from)
            (void)madvise((void *)from, to - from, MADV_HUGEPAGE); /* a hint: may fail */
    }
    while (n > 0)
        free(blocks[--n]);
}
#else
void sim_world_reserve_memory(uint64_t bytes)
{
    (void)bytes;
}
#endif
