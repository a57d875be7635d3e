/* sim_net_int.h: internal state of the simulated network shared by sim_net.c (API, hosts,
 * connections, event dispatch) and sim_net_link.c (links, round robin, chunks). Not for
 * use outside sim_net*.c. */
#ifndef SIM_NET_INT_H
#define SIM_NET_INT_H

#include "sim_delayq.h"
#include "sim_evq.h"
#include "sim_grow.h"
#include "sim_net.h"

#define SIM_NONE UINT32_MAX

/* Hop-by-hop back-pressure: a link passes a flow's chunk on only while the flow has fewer
 * than this many chunks queued at (or heading to) its next link. */
#ifndef SIM_NET_HOP_CHUNKS
#define SIM_NET_HOP_CHUNKS 4
#endif

/* Stages of a path; a flow is listed at most once per stage. */
enum { ST_UP = 0, ST_TUP = 1, ST_TDOWN = 2, ST_DOWN = 3, ST_N = 4 };

/* Internal event kinds (sim_event.kind). */
enum {
    EV_LINK_DONE = 1, /* a = link: its current chunk is fully transmitted */
    EV_DELIVER,       /* a = conn, b = bytes, x = direction | pair slot << 1 (a cache hint:
                         the slot may be recycled by then): bytes reach the receiver */
    EV_ACCEPT,        /* a = conn: the SYN reaches the callee */
    EV_CONNECTED,     /* a = conn: the SYN-ACK reaches the caller */
    EV_CLOSED,        /* a = conn, x = end to notify */
};

/* Connection flags. End 0 is the caller, end 1 the callee; direction d flows from end d. */
enum {
    CONN_ACCEPTED = 1u << 0,  /* the callee may send */
    CONN_CONNECTED = 1u << 1, /* the caller may send */
    CONN_DEAD = 1u << 2,      /* closed or reset: nothing moves any more */
    CONN_GONE0 = 1u << 3,     /* end 0 gets no more events (closed it, or its host is down) */
    CONN_GONE1 = 1u << 4,
};

typedef struct net_link {
    uint64_t rate_Bps;
    uint32_t head, tail; /* round robin of flow indices, SIM_NONE when empty */
    uint32_t cur;        /* chunk being transmitted, SIM_NONE when idle */
    uint32_t owner;      /* host (uplink, downlink) or ISP (transit) */
    uint8_t stage;
    uint64_t bytes;     /* uplink: bytes that left; downlink: bytes delivered (host stats) */
    bt_time_us busy_us; /* uplink: time spent (or committed to) transmitting */
} net_link;

typedef struct net_host {
    uint32_t isp;
    uint32_t up, down; /* link ids */
    bool gone;
    bt_time_us latency_us;
    uint32_t *conns; /* connections that may still concern it (compacted on growth) */
    uint32_t nconns, conns_cap;
} net_host;

typedef struct net_isp {
    bt_time_us latency_us;
    uint32_t tup, tdown; /* link ids, SIM_NONE when unlimited */
} net_isp;

typedef struct net_conn {
    sim_host_id host[2]; /* 0: caller, 1: callee */
    uint32_t pair;       /* flow pair slot, SIM_NONE once freed */
    uint32_t flags;
} net_conn;

/* One direction of a connection. Flow index = pair slot * 2 + direction. The path and the
 * "may send" state are copied here from the hosts and the connection when they are set, so
 * serving a chunk reads only the flow (and the links). */
typedef struct net_flow {
    uint32_t buffered; /* bytes in the send buffer */
    uint32_t inflight; /* taken by the uplink, not yet delivered */
    uint32_t window;
    uint8_t ready;  /* the connection is set up this way and not dead */
    uint8_t listed; /* bit k: in the list of its stage-k link */
    uint8_t want_writable;
    uint8_t pend[ST_N];       /* chunks queued at stage k or on their way to it (k >= 1) */
    uint32_t quantum;         /* uplink DRR quantum (sim_net_set_weight); 0 = chunk_bytes */
    uint32_t link[ST_N];      /* its link at each stage, SIM_NONE where unlimited */
    uint32_t next[ST_N];      /* link list linkage per stage */
    uint32_t deficit[ST_N];   /* deficit round robin counter per stage */
    uint32_t qtail[ST_N - 1]; /* circular chunk FIFO at stages 1..3 (tail; tail.next = head) */
} net_flow;

typedef struct net_pair {
    net_flow f[2];
    uint32_t conn;         /* owner; next free slot while on the free list */
    bt_time_us latency_us; /* one way, from the owner's hosts */
} net_pair;

typedef struct net_chunk {
    uint32_t next; /* FIFO or free-list link */
    uint32_t conn;
    uint32_t bytes;
    uint8_t dir, stage;
} net_chunk;

struct sim_net {
    sim_net_config cfg;
    sim_evq q;
    sim_delayq dq;  /* propagation events (a fixed delay after now), merged with q by (t, seq) */
    bt_time_us now; /* time of the last processed event or call */
    int err;        /* sticky BT_ERR_NOMEM */
    net_link *links;
    uint32_t nlinks, links_cap;
    net_host *hosts;
    uint32_t nhosts, hosts_cap;
    net_isp *isps;
    uint32_t nisps, isps_cap;
    net_conn *conns;
    uint32_t nconns, conns_cap;
    net_pair *pairs;
    uint32_t npairs, pairs_cap, pairs_free;
    net_chunk *chunks;
    uint32_t nchunks, chunks_cap, chunks_free;
    sim_net_event *out; /* external events not yet polled: out[out_head .. out_head+out_n) */
    uint32_t out_head, out_n, out_cap;
    uint64_t chunks_served;
};

static inline net_flow *net_flow_at(sim_net *n, uint32_t fi)
{
    return &n->pairs[fi >> 1].f[fi & 1];
}

static inline net_conn *net_flow_conn(sim_net *n, uint32_t fi)
{
    return &n->conns[n->pairs[fi >> 1].conn];
}

/* Appends an external event; sets the sticky error on failure. */
void sim_net_emit(sim_net *n, uint8_t type, sim_conn_id conn, sim_host_id host, sim_host_id peer,
                  uint64_t bytes);
/* Pushes an internal event at |t|; sets the sticky error on failure. */
void sim_net_schedule(sim_net *n, bt_time_us t, uint32_t kind, uint32_t a, uint32_t b, uint64_t x);
/* Pushes an internal event |delay| after n->now (propagation: per-delay FIFOs, O(1)). */
void sim_net_schedule_after(sim_net *n, bt_time_us delay, uint32_t kind, uint32_t a, uint32_t b,
                            uint64_t x);
/* The earliest internal event's time / pops it (from q or dq, by (time, seq)). */
bt_time_us sim_net_q_next_time(const sim_net *n);
bool sim_net_q_pop(sim_net *n, sim_event *out);
/* One-way latency of |conn|. */
bt_time_us sim_net_conn_latency(const sim_net *n, const net_conn *c);

/* sim_net_link.c */
uint32_t sim_net_link_new(sim_net *n, uint64_t rate_Bps, uint8_t stage, uint32_t owner);
/* Flow |fi| may have become able to send: lists it at its uplink and starts the link. */
void sim_net_link_wake(sim_net *n, uint32_t fi);
/* Handles EV_LINK_DONE for link |l|. */
void sim_net_link_done(sim_net *n, uint32_t l);
/* Drops everything the flows of |conn| have buffered or queued; frees the pair if unlisted. */
void sim_net_link_drop_conn(sim_net *n, uint32_t conn);
/* The links of direction |dir| of |c| by stage, SIM_NONE where unlimited. */
void sim_net_link_path(const sim_net *n, const net_conn *c, int dir, uint32_t link[ST_N]);
/* Path window of direction |dir| of |c| (max(min_window, 2 * bottleneck * RTT)). */
uint32_t sim_net_link_window(const sim_net *n, const net_conn *c, int dir);

#endif
