/* live_tracker_int.h: the tracker client's internals shared by its HTTP part
 * (live_tracker.c: the queue, evhttp) and its UDP part (live_tracker_udp.c: BEP 15). */
#ifndef LIVE_TRACKER_INT_H
#define LIVE_TRACKER_INT_H

#include "live.h"

#include <event2/event.h>

#define MAX_URL 4096
#define MAX_QUEUED 16   /* announces waiting behind the one in flight */
#define UDP_ATTEMPTS 3  /* BEP 15 tries (15, 30, 60 s) before moving to the next tracker */
#define MAX_REDIRECTS 3 /* HTTP redirects followed per announce */

typedef struct treq {
    live_tracker *t;
    struct evhttp_connection *conn;
    struct treq *next;
    uint32_t url;   /* index of the tracker asked */
    bool sending;   /* inside evhttp_make_request */
    bool sync_fail; /* evhttp called back (a failure) before make_request returned */
    int redirects;  /* HTTP redirects followed so far */
    /* UDP (BEP 15) */
    bt_announce_req areq;
    struct evdns_getaddrinfo_request *dns_req; /* the tracker's name being resolved */
    evutil_socket_t fd;
    struct event *ev_read, *ev_timer;
    uint32_t txid, attempt;
    int family;
    bool announcing; /* connect done: the announce is out */
} treq;

typedef struct udp_conn_id {
    uint64_t id;
    bt_time_us got_at; /* BT_TIME_NEVER: none */
} udp_conn_id;

struct live_tracker {
    struct event_base *base;
    struct evdns_base *dns;
    char **urls;          /* BEP 12 order: tier by tier, each tier shuffled once */
    uint32_t *tier;       /* per URL: its tier */
    udp_conn_id *udp_ids; /* per URL: BEP 15 connection ids are valid one minute */
    uint32_t nurls;
    int timeout_s;
    live_tracker_cb cb;
    void *user;
    char bind[64]; /* local address of tracker connections, or "" */
    treq *reqs;    /* in flight (at most one) */
    uint32_t inflight;
    bt_announce_req queue[MAX_QUEUED]; /* waiting, oldest first */
    uint32_t nqueued;
    bool deleting;
};

/* Ends request |q| with an error (live_tracker.c): the next tracker is tried next time. */
void live_tracker_fail(live_tracker *t, treq *q, const char *msg);
/* Ends request |q| with reply |r| (borrowed) and sends the next waiting announce. */
void live_tracker_done(live_tracker *t, treq *q, const bt_announce_reply *r);
/* Starts the UDP announce of |q| (live_tracker_udp.c); ends it through _fail or _done. */
void live_tracker_udp_send(live_tracker *t, treq *q);
/* Frees |q|'s UDP socket and events. */
void live_tracker_udp_free(treq *q);

#endif
