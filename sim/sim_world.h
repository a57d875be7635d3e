/* sim_world.h: one simulated swarm: real engine clients (one per peer) on the simulated
 * network (sim_net), a simulated tracker speaking the engine's HTTP announce codec, joins and
 * departures (graceful stops, aborts, crashes), virtual or real payload, and the per-peer and
 * time-series measurements. Scenario-agnostic: sim_run builds a world from a scenario.
 * Deterministic: events ordered by (time, sequence), randomness only from named streams. */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include "bt.h"
#include "sim_net.h"

#include <stdio.h>

#define SIM_MAX_CLASSES 256

typedef struct sim_class_info {
    char name[64];
    bool seed_role;            /* initial seeds (have everything at join) */
    const bt_choker_ops *choker;
    char picker[32];           /* "" = rarest-first */
    uint64_t upload_limit;     /* bytes/s told to the choker (slot count), 0 = none */
} sim_class_info;

typedef struct sim_world_config {
    uint64_t seed;
    uint64_t file_size;
    uint32_t piece_size;
    bool real_bytes;           /* payload as real bytes, SHA-1 verified (small swarms only) */
    bt_time_us duration;       /* simulated time limit */
    uint32_t numwant;          /* tracker: peers per reply (50) */
    bt_time_us announce_interval; /* tracker: interval (30 min) */
    bt_time_us min_interval;      /* tracker: "min interval" sent (0 = none) */
    bool isp_biased;              /* tracker: prefer peers of the requester's ISP */
    double local_fraction;        /* isp-biased: share of a list taken from the same ISP */
    bt_time_us sample_interval;   /* time series period (10 s) */
    bool stop_when_done;       /* end once no leecher is left and no join is pending */
    sim_class_info classes[SIM_MAX_CLASSES];
    uint32_t nclasses;
    sim_net_config net;
} sim_world_config;

/* Special (misbehaving) peers; all zero = an ordinary peer. */
typedef struct sim_behaviour {
    bool large_view;              /* connects to everyone it can learn of (bt_config_large_view) */
    double corrupt_rate;          /* share of the blocks it sends that are corrupt (0; the
                                     params' |corrupt| flag means 1) */
    bt_time_us response_delay_us; /* serves each request this long after it came (0) */
    double lie_have;              /* claims this share of the pieces it lacks (0; 1 = claims to
                                     be a seed); ignores requests for them */
} sim_behaviour;

/* What one peer is, decided by the scenario when it joins. */
typedef struct sim_peer_params {
    uint32_t cls;              /* index into classes */
    uint32_t isp;              /* network ISP id (0 = core) */
    uint64_t up_Bps, down_Bps;
    bt_time_us latency_us;
    bt_time_us linger_us;      /* after completion; BT_TIME_NEVER = forever */
    bt_time_us abort_after_us; /* leave this long after joining if not complete; NEVER = no */
    bt_time_us leave_at;       /* absolute time to leave (initial seeds); NEVER = no */
    bool crash;                /* its departure is a crash (no goodbye) */
    bool corrupt;              /* sends corrupt payload (every block) */
    sim_behaviour beh;
} sim_peer_params;

typedef struct sim_world sim_world;

int sim_world_new(sim_world **out, const sim_world_config *cfg);
void sim_world_del(sim_world *w);
/* Adds an ISP to the network (see sim_net_add_isp); returns its id in *id. */
int sim_world_add_isp(sim_world *w, uint64_t up_Bps, uint64_t down_Bps, bt_time_us latency_us,
                      uint32_t *id);
/* Schedules a peer to join at |at|. Returns 0 or BT_ERR_NOMEM / BT_ERR_LIMIT. */
int sim_world_add_peer(sim_world *w, const sim_peer_params *p, bt_time_us at);
typedef struct sim_progress {
    bt_time_us now;
    uint64_t events;
    uint32_t present, leechers, completed, joined;
} sim_progress;

/* Runs until the duration, or until done (see stop_when_done). |fn| (may be NULL) is called
 * with |ctx| every |every| events (the caller may print it; the world never reads a clock).
 * First reserves heap for the swarm in transparent huge pages where available (glibc on Linux:
 * sets malloc's trim threshold to the maximum and its mmap threshold to 32 MiB for the
 * process; see sim_world_mem.c). Returns 0 or a negative bt_err. */
int sim_world_run(sim_world *w, void (*fn)(void *ctx, const sim_progress *p), void *ctx,
                  uint64_t every);

/* ---- results ---- */
typedef struct sim_peer_result {
    uint32_t id, cls, isp;
    uint64_t up_Bps, down_Bps;
    bt_time_us latency_us;
    bt_time_us planned_join;   /* when it was scheduled to join */
    bt_time_us joined, completed, left; /* BT_TIME_NEVER when it did not happen */
    bool crash_planned, abort_planned, corrupt; /* corrupt: corrupt_rate > 0 */
    sim_behaviour beh;         /* with corrupt_rate = 1 for a peer that corrupts everything */
    uint8_t leave_kind;        /* 0 still there, 1 graceful, 2 abort, 3 crash */
    uint64_t bytes_up, bytes_down;     /* payload */
    uint64_t bytes_up_leeching;        /* payload sent before completing (all if it did not) */
    uint64_t *up_to_class, *down_from_class; /* payload by the other end's class */
    uint32_t hash_failures;
    uint32_t announces;        /* announces it sent to the tracker */
    uint32_t max_peers;        /* most handshaked connections seen at a sample instant */
} sim_peer_result;

typedef struct sim_sample {
    bt_time_us t;
    uint32_t leechers, seeds;
    uint64_t up_Bps;           /* aggregate payload rate over the last period */
    uint32_t avail_min;        /* copies of the rarest piece among present peers */
    double avail_mean;
} sim_sample;

typedef struct sim_world_stats {
    bt_time_us end_time;
    uint64_t events;           /* host events + network events */
    uint64_t net_chunks;
    uint64_t announces;
    uint64_t tracker_replies;    /* replies with a peer list */
    uint64_t tracker_peers_sent; /* peers in all those lists */
    uint64_t tracker_local_sent; /* ... of which in the requester's ISP */
    uint32_t tracker_max_list;   /* longest list sent */
    uint32_t peers;
    uint64_t weight_changes;     /* upload weights the engines set (BT_ACT_UPLOAD_WEIGHT) */
    /* events by kind: [1..6] join, timer, leave, tracker, reply, sample;
     * [9..13] network accept, connected, deliver, writable, closed */
    uint64_t by_kind[16];
} sim_world_stats;

/* One ordered pair of classes: what class |from|'s peers gave class |to|'s peers. */
typedef struct sim_matrix_cell {
    uint64_t bytes;                 /* payload bytes delivered */
    uint64_t regular_unchoke_us;    /* connection-time a |from| peer had a |to| peer unchoked */
    uint64_t optimistic_unchoke_us; /* ... as an optimistic unchoke (bt_unchoke_kind) */
} sim_matrix_cell;

/* Fills out[from * nclasses + to] (nclasses^2 cells) for every ordered pair of classes;
 * the unchoke time of connections still open is counted up to the world's current time. */
void sim_world_matrix(const sim_world *w, sim_matrix_cell *out);

uint32_t sim_world_npeers(const sim_world *w);
const sim_peer_result *sim_world_peer(const sim_world *w, uint32_t i);
uint32_t sim_world_nsamples(const sim_world *w);
const sim_sample *sim_world_sample(const sim_world *w, uint32_t i);
void sim_world_get_stats(const sim_world *w, sim_world_stats *out);
const sim_world_config *sim_world_config_get(const sim_world *w);

/* Whether the block at (|piece|, |begin|) that peer |from| sends to peer |to| is corrupt: always
 * for a peer with |corrupt| set, never for one with corrupt_rate 0, otherwise with probability
 * corrupt_rate, decided by a hash of (the sender's own key, the receiver, the piece, the 16 KiB
 * block), so both payload modes decide alike and a block sent again to the same peer is
 * corrupt again. Blocks are 16 KiB aligned (|begin| may be anywhere inside one). */
bool sim_world_block_corrupt(const sim_world *w, uint32_t from, uint32_t to, uint32_t piece,
                             uint32_t begin);

/* Optional event trace (one line per join, completion, departure, ban), for determinism and
 * payload-mode comparisons. |f| may be NULL. */
void sim_world_set_trace(sim_world *w, FILE *f);

#endif
