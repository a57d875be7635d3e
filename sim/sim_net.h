/* sim_net.h: the simulated network. Hosts have an upload and a download capacity (asymmetric),
 * an access latency and an ISP; ISPs may be joined to the core by transit links of limited
 * capacity (0 = uncongested). Connections are reliable, in-order byte streams, established
 * after one round trip. Bytes move as chunks through per-link round-robin queues (uplink, ISP
 * transit up, ISP transit down, downlink); each direction of a connection has a send buffer
 * and a window of bytes in flight, so a flow held back at the receiver stops taking the
 * sender's uplink, which then serves its other flows (max-min fairness by back-pressure).
 * The network moves byte *counts* only: the host keeps the bytes themselves.
 * Cost grows with chunks moved, never with the number of hosts. Deterministic: integer
 * microseconds, events ordered by (time, sequence), no randomness. */
#ifndef SIM_NET_H
#define SIM_NET_H

#include "bt.h"

typedef uint32_t sim_host_id;
typedef uint32_t sim_conn_id;

typedef struct sim_net_config {
    uint32_t chunk_bytes;  /* largest unit a link serves at once (default 16384) */
    uint32_t sndbuf_bytes; /* send buffer per connection direction (default 262144) */
    uint32_t min_window;   /* bytes in flight per direction at least (default 65536); the
                              window is max(min_window, 2 * path bottleneck * RTT) */
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

/* |cfg| may be NULL for the defaults. Returns 0 or BT_ERR_NOMEM. */
int sim_net_new(sim_net **out, const sim_net_config *cfg);
void sim_net_del(sim_net *n); /* NULL is a no-op */

/* An ISP: its transit capacity to and from the core in bytes/s (0 = unlimited) and the
 * latency of its transit link. Hosts of different ISPs cross both ISPs' transit links;
 * hosts of the same ISP do not. ISP 0 always exists (unlimited, 0 latency). */
int sim_net_add_isp(sim_net *n, uint64_t up_Bps, uint64_t down_Bps, bt_time_us latency_us,
                    uint32_t *id);
/* A host. Capacities in bytes/s (> 0); latency of its access link (one way). */
int sim_net_add_host(sim_net *n, uint32_t isp, uint64_t up_Bps, uint64_t down_Bps,
                     bt_time_us latency_us, sim_host_id *id);

/* Opens a connection from |from| to |to|. The callee gets ACCEPT after one one-way latency,
 * the caller CONNECTED after a round trip (unless the callee closed it). */
int sim_net_connect(sim_net *n, sim_host_id from, sim_host_id to, bt_time_us now,
                    sim_conn_id *id);
/* |host| closes |conn|: its unsent data and data in flight are dropped; the other end gets
 * CLOSED after one one-way latency. Closing an already-closed connection is a no-op. */
void sim_net_close(sim_net *n, sim_conn_id conn, sim_host_id host, bt_time_us now);
/* |host| leaves the network at once (a crash): every connection of it is reset; the other
 * ends get CLOSED after one one-way latency. The host sends and receives nothing more. */
void sim_net_host_down(sim_net *n, sim_host_id host, bt_time_us now);

/* |host| writes |bytes| into its send buffer on |conn|. Returns how many were accepted
 * (0..bytes, limited by the free space); when fewer were accepted, a WRITABLE event follows
 * once room frees up. */
uint64_t sim_net_write(sim_net *n, sim_conn_id conn, sim_host_id host, uint64_t bytes,
                       bt_time_us now);
/* Free space in |host|'s send buffer on |conn| (0 if closed). */
uint64_t sim_net_writable(const sim_net *n, sim_conn_id conn, sim_host_id host);

/* Time of the network's next event (internal or external), BT_TIME_NEVER if none. */
bt_time_us sim_net_next_time(const sim_net *n);
/* Advances the network up to |now| and returns its next external event at or before |now|
 * (1, *ev filled) or 0 when there is none. Events come out in (time, sequence) order. */
int sim_net_poll(sim_net *n, bt_time_us now, sim_net_event *ev);

/* Statistics. */
typedef struct sim_net_host_stats {
    uint64_t bytes_up;   /* bytes that left through its uplink */
    uint64_t bytes_down; /* bytes delivered to it */
    bt_time_us up_busy_us; /* time its uplink spent transmitting */
} sim_net_host_stats;
void sim_net_host_stats_get(const sim_net *n, sim_host_id h, sim_net_host_stats *out);
uint64_t sim_net_chunks(const sim_net *n); /* chunks served by all links so far */
/* One-way latency between two hosts (access + transit). */
bt_time_us sim_net_latency(const sim_net *n, sim_host_id a, sim_host_id b);

#endif
