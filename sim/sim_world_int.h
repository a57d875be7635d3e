/* sim_world_int.h: the simulated swarm's internal state, shared by sim_world*.c. */
#ifndef SIM_WORLD_INT_H
#define SIM_WORLD_INT_H

#include "sim_evq.h"
#include "sim_stream.h"
#include "sim_world.h"

#include <gsl/gsl_rng.h>

enum sim_ev_kind {
    SIM_EV_JOIN = 1,   /* a: peer */
    SIM_EV_TIMER,      /* a: peer, x: generation */
    SIM_EV_LEAVE,      /* a: peer, b: leave kind */
    SIM_EV_TRACKER,    /* a: peer; its announce reaches the tracker */
    SIM_EV_REPLY,      /* a: peer; the tracker's reply reaches it */
    SIM_EV_SAMPLE,
};

enum { SIM_LEFT_NONE = 0, SIM_LEFT_GRACEFUL, SIM_LEFT_ABORT, SIM_LEFT_CRASH };

typedef struct sim_link {
    bt_conn_id cid;
    sim_conn_id nid;
} sim_link;

typedef struct sim_peer {
    /* Hot: what every network event and engine call of the peer touches, on one line. */
    bt_client *c;            /* NULL before joining and after leaving */
    sim_host_id host;
    uint32_t nlinks, links_cap;
    sim_link *links;         /* sorted by cid */
    bt_time_us timer_at;
    uint64_t timer_gen;
    bool present, complete, tracked, tracked_seed;
    uint8_t *taint;          /* virtual mode: pieces with a block from a corrupt peer */
    uint8_t *have;           /* verified pieces (bit set) for availability */
    sim_peer_result r;
    sim_peer_params p;
    bt_addr addr;
    uint8_t *store;          /* real-bytes mode: the peer's copy of the content */
    uint64_t corrupt_key;    /* keys its corrupt-block decisions (sim_world_block_corrupt) */
    bt_announce_req pending; /* the announce in flight to the tracker */
    bt_buf reply;            /* the tracker's reply body in flight back */
    bt_time_us tracker_seen;
    uint32_t tracker_pos;    /* index in the tracker's list */
} sim_peer;

typedef struct sim_conn {
    uint32_t a, b;           /* peers; a called */
    bt_conn_id ca, cb;       /* BT_CONN_NONE until known */
    bool open[2];            /* side a / side b's engine still has the connection */
    sim_stream dir[2];       /* 0: a -> b, 1: b -> a */
} sim_conn;

struct sim_world {
    sim_world_config cfg;
    sim_net *net;
    sim_evq q;
    bt_time_us now;
    uint64_t events;
    uint64_t ev_by_kind[16];  /* 0..7 world event kinds, 8.. network event types */
    gsl_rng *rng_tracker;
    uint8_t info_hash[20];
    uint8_t *hashes;         /* npieces * 20 */
    uint8_t *content;        /* real-bytes mode */
    uint32_t npieces;
    sim_peer *peers;
    uint32_t npeers, peers_cap;
    uint32_t *host_peer;     /* network host id -> peer index */
    uint32_t host_cap;
    sim_conn **conns;        /* by sim_conn_id; NULL once closed */
    uint32_t nconns, conns_cap;
    uint32_t *tracker;       /* peers in the tracker's list */
    uint32_t ntracker, tracker_cap, tracker_seeds;
    uint32_t *avail;         /* copies of each piece among present peers */
    sim_sample *samples;
    uint32_t nsamples, samples_cap;
    uint64_t payload_since_sample;
    uint32_t pending_joins, present, leechers, completed, joined;
    uint64_t announces;
    uint64_t weight_changes;
    uint64_t tracker_replies, tracker_peers_sent, tracker_local_sent;
    uint32_t tracker_max_list;
    FILE *trace;
    uint64_t *unchoke_us;    /* closed connections: [(from * nclasses + to) * 2 + optimistic] */
    bool any_corrupt;        /* some peer corrupts blocks (else no block needs its sender) */
    int err;                 /* first fatal error */
};

/* Asks for the |n| bytes at |p| at once (a cache hint, no effect on behaviour): a record whose
 * fields are read one after another through pointers then costs about one memory latency,
 * not one per line. */
static inline void sim_prefetch(const void *p, size_t n)
{
    for (size_t off = 0; off < n; off += 64)
        __builtin_prefetch((const char *)p + off);
}

/* sim_world_mem.c: makes room for about |bytes| of heap in memory the kernel may back with
 * transparent huge pages (tunes glibc's malloc: no trimming, mmap only above 32 MiB). */
void sim_world_reserve_memory(uint64_t bytes);

/* sim_world.c */
int sim_world_fail(sim_world *w, int err);
void sim_world_trace(sim_world *w, const char *what, uint32_t peer, uint64_t x);
void sim_world_resched(sim_world *w, uint32_t i);
void sim_world_leave(sim_world *w, uint32_t i, int kind);

/* sim_world_host.c: engine actions <-> network */
void sim_host_drain(sim_world *w, uint32_t i);
void sim_host_net_event(sim_world *w, const sim_net_event *ev);
sim_conn *sim_host_conn(sim_world *w, uint32_t peer, bt_conn_id cid, sim_conn_id *nid);
void sim_host_forget_links(sim_world *w, uint32_t i);
/* Adds what peer |i|'s engine reports for each of its links as unchoke time to the class
 * matrix (before the engine forgets them: a crash or a stop). */
void sim_host_close_out_links(sim_world *w, uint32_t i);

/* sim_world_tracker.c */
void sim_tracker_request(sim_world *w, uint32_t i);
void sim_tracker_reply(sim_world *w, uint32_t i);
void sim_tracker_remove(sim_world *w, uint32_t i);

#endif
