/* sim_memswarm.h: an in-process swarm of real engine clients joined by in-memory byte pipes
 * that deliver in random-sized fragments, with in-memory storage holding real bytes that are
 * SHA-1 verified, and a built-in tracker that hands every peer the others. Deterministic:
 * stepped simulated time, one PCG32 stream, no clock. Used by the tests, the demo and bench. */
#ifndef SIM_MEMSWARM_H
#define SIM_MEMSWARM_H

#include "bt.h"

#include <stdio.h>

typedef struct sim_memswarm_config {
    uint32_t nseeds;          /* >= 1 */
    uint32_t nleechers;       /* >= 1 */
    const uint8_t *data;      /* the torrent's content (borrowed); NULL: generated from |seed| */
    uint64_t total_len;
    uint32_t piece_len;
    const bt_metainfo *meta;  /* if non-NULL: its geometry, piece hashes and info-hash are used
                                 (and |data| must hold its content) */
    uint64_t seed;
    bt_time_us step_us;       /* simulated time per step (10 ms) */
    uint64_t link_bytes_per_step; /* per direction of each connection (e.g. 128 KiB) */
    uint64_t seed_up_bytes_per_step;    /* a seed's total upload per step, all links (0: no cap) */
    uint64_t leecher_up_bytes_per_step; /* a leecher's total upload per step (0: no cap) */
    uint32_t max_fragment;    /* deliveries are random sizes in 1..max_fragment */
    uint32_t pipe_cap;        /* bytes buffered per direction (e.g. 256 KiB) */
    int corrupt_peer;         /* a leecher index (0-based) that corrupts every block it sends; -1 */
    bt_time_us max_time;      /* give up after this much simulated time */
    const char *picker;       /* NULL = rarest-first */
    FILE *trace;              /* if non-NULL, one line per notable event (deterministic) */
    FILE *progress;           /* if non-NULL, rows of "time_s, verified pieces of each leecher"
                                 every progress_us (tab-separated) */
    bt_time_us progress_us;
} sim_memswarm_config;

void sim_memswarm_defaults(sim_memswarm_config *cfg);

typedef struct sim_memswarm_peer {
    bool seed;
    bool complete;
    bt_time_us completed_at;   /* BT_TIME_NEVER if not */
    uint32_t pieces_verified;  /* PIECE_DONE ok seen */
    uint32_t hash_failures;
    uint64_t uploaded, downloaded;
    bool data_matches;         /* storage equals the original content (real mode) */
    uint32_t bans;             /* BAN actions it emitted */
} sim_memswarm_peer;

typedef struct sim_memswarm_result {
    uint32_t npeers;
    sim_memswarm_peer *peers;  /* seeds first, then leechers; owned by the result */
    bt_time_us elapsed;        /* simulated time until all (honest) leechers completed */
    uint64_t steps;
    uint64_t bytes_moved;      /* bytes delivered through all pipes */
    uint64_t recv_calls;
    bool all_complete;         /* every honest leecher completed */
    uint32_t corrupt_banned_by; /* peers that banned the corrupt peer */
    uint32_t npieces;
} sim_memswarm_result;

/* Runs the swarm to completion or max_time. Returns 0 (see |res| for the outcome), or a
 * negative bt_err on an engine failure. Free |res| with sim_memswarm_result_free. */
int sim_memswarm_run(const sim_memswarm_config *cfg, sim_memswarm_result *res);
void sim_memswarm_result_free(sim_memswarm_result *res);

#endif
