/* sim_net.h: the simulated network. Hosts have an upload and a download capacity (asymmetric),
 * an access latency and an ISP; ISPs may be joined to the core by transit links of limited
 * capacity (0 = uncongested). Connections are reliable, in-order byte streams, established
 * after one round trip. The network moves byte *counts* only: the host keeps the bytes.
 *
 * Model. A chunk of A's stream to B (A in ISP i, B in ISP j) crosses, store-and-forward, the
 * links A.up -> [i != j: transit-up of i, transit-down of j, each only if limited] -> B.down;
 * a chunk of s bytes takes ceil(s * 1e6 / rate) us on each link, then the one-way latency
 * (A.latency + B.latency, plus both ISPs' latencies when i != j) is added once, after the
 * last link. The uplink takes a chunk of min(chunk_bytes, buffered, window room) from the
 * send buffer of one of its flows (one direction of a connection); every link serves its
 * flows by deficit round robin (quantum chunk_bytes; at the uplink, scaled by the flow's
 * weight, see sim_net_set_weight), FIFO within a flow. Back-pressure is
 * hop by hop: a link passes a flow's chunk on only while the flow has fewer than 4 chunks
 * queued at (or on the way to) its next link, so a flow held back downstream (a receiver's
 * downlink or a transit link saturated by others) drops out of the upstream round robin,
 * which serves the other flows: rates converge to max-min fairness (checked against an exact
 * water-filling solver on random instances: within 0.5% in steady state). The end-to-end
 * window bounds the bytes in flight per flow (taken by the uplink, released on delivery; the
 * ACK's trip back is folded into the size): max(min_window, 2 * path bottleneck * RTT,
 * chunk_bytes), so it does not bind on a sane path.
 * Convergence: when flows start, each flow held back downstream first fills its 4-chunk
 * allowance at its next hop at the expense of the other flows upstream; this transient lasts
 * about 4 * chunk_bytes * (such flows) / (spare upstream capacity).
 * Timing: an s-byte message on idle links arrives after latency + s / bottleneck + at most
 * one chunk time on each other link (+ 1 us rounding per chunk and link); a message smaller
 * than a chunk after latency + its transmission time on each link, exactly.
 *
 * Determinism and cost: integer microseconds, internal events ordered by (time, sequence),
 * no randomness, no floating point. Cost is O(log events) per chunk per link; nothing scans
 * hosts or flows. About 160 bytes per connection (ids are never reused; a closed
 * connection's flow state is recycled once no link lists it, 16 bytes stay per id).
 *
 * Time. Every call taking |now| must not go back in time relative to earlier calls, polls
 * included; the host loop is: t = min(own queue, sim_net_next_time()); poll the network at t
 * until it returns 0; run the host's own events at t (these may call write/connect/close at
 * t, which may add network events at t: loop again). */
#ifndef SIM_NET_H
#define SIM_NET_H

#include "bt.h"

typedef uint32_t sim_host_id;
typedef uint32_t sim_conn_id;

typedef struct sim_net_config {
    uint32_t chunk_bytes;  /* largest unit a link serves at once (default 16384) */
    uint32_t sndbuf_bytes; /* send buffer per connection direction (default 262144) */
    uint32_t min_window;   /* bytes in flight per direction at least (default 65536); the
                              window is max(min_window, 2 * path bottleneck * RTT, chunk) */
} sim_net_config;

void sim_net_config_defaults(sim_net_config *cfg);

typedef enum sim_net_event_type {
    SIM_NET_EV_ACCEPT = 1, /* |host| (the callee) sees an incoming connection |conn| from |peer| */
    SIM_NET_EV_CONNECTED,  /* |host| (the caller)'s connection |conn| is established */
    SIM_NET_EV_DELIVER,    /* |bytes| more bytes of |conn|'s stream arrived at |host| */
    SIM_NET_EV_WRITABLE,   /* |host|'s send buffer on |conn| has room again (after being full) */
    SIM_NET_EV_CLOSED,     /* the other end closed or reset |conn| (or its host went down) */
} sim_net_event_type;

typedef struct sim_net_event {
    uint8_t type;
    bt_time_us time;
    sim_conn_id conn;
    sim_host_id host; /* the host the event is for */
    sim_host_id peer; /* the other end */
    uint64_t bytes;   /* DELIVER */
} sim_net_event;

typedef struct sim_net sim_net;

/* |cfg| may be NULL for the defaults. Returns 0, BT_ERR_INVALID (chunk_bytes or sndbuf_bytes
 * is 0) or BT_ERR_NOMEM. */
int sim_net_new(sim_net **out, const sim_net_config *cfg);
void sim_net_del(sim_net *n); /* NULL is a no-op */

/* An ISP: its transit capacity to and from the core in bytes/s (0 = unlimited) and the
 * latency of its transit link. Hosts of different ISPs cross both ISPs' transit links;
 * hosts of the same ISP do not. ISP 0 always exists (unlimited, 0 latency); added ISPs get
 * ids 1, 2, ... Returns 0 or BT_ERR_NOMEM. */
int sim_net_add_isp(sim_net *n, uint64_t up_Bps, uint64_t down_Bps, bt_time_us latency_us,
                    uint32_t *id);
/* A host. Capacities in bytes/s (> 0); latency of its access link (one way). Host ids are
 * 0, 1, 2, ... in call order. Returns 0, BT_ERR_INVALID (no such ISP, a capacity of 0) or
 * BT_ERR_NOMEM. */
int sim_net_add_host(sim_net *n, uint32_t isp, uint64_t up_Bps, uint64_t down_Bps,
                     bt_time_us latency_us, sim_host_id *id);

/* Opens a connection from |from| to |to| (|from| != |to|). Connection ids are 0, 1, 2, ...
 * in call order, never reused. The callee gets ACCEPT after one one-way latency (if its host
 * is up then), the caller CONNECTED after a round trip. Exceptions: if the callee closes
 * before that, the caller gets CLOSED (one latency after the close) instead of CONNECTED;
 * if the callee's host is down when the SYN arrives, the caller gets CLOSED after the round
 * trip; if the caller closes first, the callee still gets ACCEPT, then CLOSED. Every CLOSED
 * to a callee follows its ACCEPT. The caller may write at once: data is sent after
 * CONNECTED; the callee may write after ACCEPT.
 * Returns 0, BT_ERR_STATE (|from| is down), BT_ERR_LIMIT (ids exhausted) or BT_ERR_NOMEM. */
int sim_net_connect(sim_net *n, sim_host_id from, sim_host_id to, bt_time_us now, sim_conn_id *id);
/* |host| closes |conn| at once: nothing moves on it any more (both send buffers and all
 * data in flight, both ways, are dropped; later writes by either end return 0); the other
 * end gets CLOSED one one-way latency later, unless it closed too (or its host went down)
 * meanwhile. The closer gets no further events for |conn|. Closing again, or after CLOSED
 * arrived, is a no-op. */
void sim_net_close(sim_net *n, sim_conn_id conn, sim_host_id host, bt_time_us now);
/* |host| leaves the network at once (a crash): each of its connections is closed as by
 * sim_net_close (for a SYN not yet arrived, the caller hears CLOSED one round trip after its
 * connect). The host gets no further events, sends and receives nothing more, and cannot
 * connect; connections to it are answered by CLOSED. Calling it again is a no-op. */
void sim_net_host_down(sim_net *n, sim_host_id host, bt_time_us now);

/* |host| writes |bytes| into its send buffer on |conn|. Returns how many were accepted
 * (0..bytes, limited by the free space; 0 once the connection is closed). When the buffer is
 * full after the call (in particular when fewer were accepted), one WRITABLE event follows
 * when the next chunk leaves the buffer (edge-triggered; it may come at |now| itself if the
 * uplink was idle). */
uint64_t sim_net_write(sim_net *n, sim_conn_id conn, sim_host_id host, uint64_t bytes,
                       bt_time_us now);
/* Upload weight of |host|'s direction of |conn|: its uplink serves its flows by deficit
 * round robin with a quantum of chunk_bytes * weight / SIM_NET_WEIGHT_ONE (0 = the default,
 * chunk_bytes; weights are clamped to [SIM_NET_WEIGHT_ONE / 64, 256 * SIM_NET_WEIGHT_ONE]),
 * so backlogged flows of one sender share its uplink in proportion to their weights. Takes
 * effect from the flow's next turn. A closed connection ignores it. Other links are
 * unweighted. */
#define SIM_NET_WEIGHT_ONE 256u
void sim_net_set_weight(sim_net *n, sim_conn_id conn, sim_host_id host, uint32_t weight);
/* Free space in |host|'s send buffer on |conn| (0 if closed). */
uint64_t sim_net_writable(const sim_net *n, sim_conn_id conn, sim_host_id host);

/* Time of the network's next event (internal or external), BT_TIME_NEVER if none or if the
 * network failed (see sim_net_poll). */
bt_time_us sim_net_next_time(const sim_net *n);
/* Advances the network up to |now| and returns its next external event at or before |now|
 * (1, *ev filled) or 0 when there is none. Events come out in (time, sequence) order; a
 * flow's DELIVER events at the same time may be coalesced. Returns BT_ERR_NOMEM if an
 * allocation failed (in this call or an earlier one): the network is then unusable, and may
 * only be deleted. */
int sim_net_poll(sim_net *n, bt_time_us now, sim_net_event *ev);

/* The connection and direction (0: from the caller) of the next (|k| = 0) or the one after
 * (|k| = 1) delivery in flight, as far as cheaply known: a hint for a host that prefetches.
 * Returns false when unknown. Pure query. */
bool sim_net_peek_delivery(const sim_net *n, uint32_t k, uint32_t *conn, int *dir);
/* Cache hint (no effect on behaviour): fetch what a write on |conn| will read. */
void sim_net_prefetch_conn(const sim_net *n, sim_conn_id conn);

/* Statistics. */
typedef struct sim_net_host_stats {
    uint64_t bytes_up;     /* bytes that left through its uplink */
    uint64_t bytes_down;   /* bytes delivered to it */
    bt_time_us up_busy_us; /* time its uplink spent (or is committed to) transmitting */
} sim_net_host_stats;
void sim_net_host_stats_get(const sim_net *n, sim_host_id h, sim_net_host_stats *out);
uint64_t sim_net_chunks(const sim_net *n); /* chunks served by all links so far */
/* One-way latency between two hosts (access + transit). */
bt_time_us sim_net_latency(const sim_net *n, sim_host_id a, sim_host_id b);

#endif
