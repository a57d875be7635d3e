/* live_tracker_udp.c: UDP tracker announces (BEP 15) for live_tracker: connect, then announce
 * with the connection id (reused for a minute per tracker), each packet retransmitted after
 * 15 * 2^n s and given up after UDP_ATTEMPTS tries; replies decoded by the engine's codec and
 * matched by transaction id. Host names are resolved with evdns_getaddrinfo, so the event loop
 * never blocks on DNS (numeric addresses and /etc/hosts entries are answered at once).
 *   https://www.bittorrent.org/beps/bep_0015.html */
#define _GNU_SOURCE
#include "live_tracker_int.h"

#include <errno.h>
#include <event2/dns.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_ID_LIFETIME BT_SEC(60) /* BEP 15: a connection id is valid for one minute */
#define UDP_MAX_PACKET 16384

/* Splits "udp://host:port[/path]" ("[v6]" hosts too) into |host| and |port|. 0 or -1. */
static int split_url(const char *url, char *host, size_t hlen, char *port, size_t plen)
{
    const char *h = url + 6, *end;
    if (*h == '[') {
        end = strchr(h, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        h++;
    } else {
        end = strchr(h, ':');
        if (end == NULL)
            return -1;
    }
    size_t n = (size_t)(end - h);
    const char *p = *end == ']' ? end + 2 : end + 1;
    size_t pn = strspn(p, "0123456789");
    if (n == 0 || n >= hlen || pn == 0 || pn >= plen || (p[pn] != '\0' && p[pn] != '/'))
        return -1;
    memcpy(host, h, n);
    host[n] = '\0';
    memcpy(port, p, pn);
    port[pn] = '\0';
    return 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg);
static void on_read(evutil_socket_t fd, short what, void *arg);

/* Sends a connect, or the announce when the tracker's connection id is fresh, and arms the
 * retransmission timer. 0 or -1 with |msg|. */
static int transmit(live_tracker *t, treq *q, char *msg, size_t len)
{
    udp_conn_id *cid = &t->udp_ids[q->url];
    bt_time_us now = live_now();
    bool fresh = cid->got_at != BT_TIME_NEVER && now - cid->got_at < UDP_ID_LIFETIME;
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 256);
    q->txid = (uint32_t)live_seed();
    q->announcing = fresh;
    if (fresh)
        bt_udp_put_announce(&b, cid->id, q->txid, &q->areq);
    else
        bt_udp_put_connect(&b, q->txid);
    ssize_t sent = b.err == 0 ? send(q->fd, b.data, b.len, 0) : -1;
    bt_buf_free(&b);
    if (sent < 0) {
        snprintf(msg, len, "send: %s", strerror(errno));
        return -1;
    }
    bt_time_us wait = bt_udp_timeout(q->attempt);
    struct timeval tv = {(time_t)(wait / BT_US_PER_S), 0};
    return evtimer_add(q->ev_timer, &tv);
}

/* A UDP socket connected to the first usable address of |res| (bound to the bind address of
 * the same family). */
static int open_socket(live_tracker *t, treq *q, struct evutil_addrinfo *res, char *msg,
                       size_t len)
{
    bt_addr bind_addr;
    bool has_bind = t->bind[0] != '\0' && live_addr_parse(&bind_addr, t->bind) == 0;
    for (struct evutil_addrinfo *ai = res; ai != NULL && q->fd < 0; ai = ai->ai_next) {
        q->fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct sockaddr_storage bs;
        int bl = has_bind ? live_addr_to_sockaddr(&bind_addr, &bs) : 0;
        if (q->fd >= 0 && ((has_bind && bind(q->fd, (struct sockaddr *)&bs, (socklen_t)bl)) ||
                           connect(q->fd, ai->ai_addr, ai->ai_addrlen) != 0)) {
            close(q->fd);
            q->fd = -1;
        }
        q->family = ai->ai_family == AF_INET ? 4 : 6;
    }
    if (q->fd < 0) {
        snprintf(msg, len, "no usable address");
        return -1;
    }
    q->ev_read = event_new(t->base, q->fd, EV_READ | EV_PERSIST, on_read, q);
    q->ev_timer = evtimer_new(t->base, on_timer, q);
    if (q->ev_read == NULL || q->ev_timer == NULL || event_add(q->ev_read, NULL) != 0) {
        snprintf(msg, len, "out of memory");
        return -1;
    }
    return 0;
}

/* The tracker's name resolved (maybe inside evdns_getaddrinfo, before it returns). */
static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    if (result == EVUTIL_EAI_CANCEL)
        return; /* live_tracker_udp_free: |q| is going away */
    treq *q = arg;
    live_tracker *t = q->t;
    q->dns_req = NULL;
    char msg[512];
    int rv = -1;
    if (result != 0)
        snprintf(msg, sizeof(msg), "cannot resolve the host: %s", evutil_gai_strerror(result));
    else
        rv = open_socket(t, q, res, msg, sizeof(msg));
    if (res != NULL)
        evutil_freeaddrinfo(res);
    if (rv != 0 || transmit(t, q, msg, sizeof(msg)) != 0)
        live_tracker_fail(t, q, msg);
}

void live_tracker_udp_send(live_tracker *t, treq *q)
{
    char host[256], port[8];
    if (split_url(t->urls[q->url], host, sizeof(host), port, sizeof(port)) != 0) {
        live_tracker_fail(t, q, "cannot parse the URL");
        return;
    }
    if (t->dns == NULL) {
        live_tracker_fail(t, q, "no DNS resolver (evdns_base_new failed)");
        return;
    }
    bt_addr bind_addr;
    bool has_bind = t->bind[0] != '\0' && live_addr_parse(&bind_addr, t->bind) == 0;
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_protocol = IPPROTO_UDP;
    hints.ai_family = has_bind ? (bind_addr.family == 4 ? AF_INET : AF_INET6) : AF_UNSPEC;
    /* NULL when answered at once (|q| may then be gone already): touch nothing after it */
    struct evdns_getaddrinfo_request *r =
        evdns_getaddrinfo(t->dns, host, port, &hints, on_resolved, q);
    if (r != NULL)
        q->dns_req = r;
}

void live_tracker_udp_free(treq *q)
{
    if (q->dns_req != NULL)
        evdns_getaddrinfo_cancel(q->dns_req); /* calls on_resolved with EVUTIL_EAI_CANCEL */
    q->dns_req = NULL;
    if (q->ev_read != NULL)
        event_free(q->ev_read);
    if (q->ev_timer != NULL)
        event_free(q->ev_timer);
    if (q->fd >= 0)
        close(q->fd);
    q->ev_read = q->ev_timer = NULL;
    q->fd = -1;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    treq *q = arg;
    char msg[256];
    if (++q->attempt >= UDP_ATTEMPTS) {
        snprintf(msg, sizeof(msg), "no reply after %u tries (BEP 15 time-outs)", UDP_ATTEMPTS);
        live_tracker_fail(q->t, q, msg);
    } else if (transmit(q->t, q, msg, sizeof(msg)) != 0) {
        live_tracker_fail(q->t, q, msg);
    }
}

/* Handles one decoded reply |r| of the current transaction. */
static void handle(treq *q, bt_udp_reply *r)
{
    live_tracker *t = q->t;
    char msg[BT_TRACKER_MAX_TEXT + 64];
    if (r->action == BT_UDP_ERROR) {
        t->udp_ids[q->url].got_at = BT_TIME_NEVER; /* the id may be what it refused */
        snprintf(msg, sizeof(msg), "tracker error: %s", r->error);
        live_tracker_fail(t, q, msg);
    } else if (r->action == BT_UDP_CONNECT && !q->announcing) {
        t->udp_ids[q->url] = (udp_conn_id){r->conn_id, live_now()};
        evtimer_del(q->ev_timer);
        if (transmit(t, q, msg, sizeof(msg)) != 0)
            live_tracker_fail(t, q, msg);
    } else if (r->action == BT_UDP_ANNOUNCE && q->announcing) {
        live_tracker_done(t, q, &r->announce);
    } /* anything else: a stray packet, ignored */
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    treq *q = arg;
    uint8_t pkt[UDP_MAX_PACKET];
    ssize_t n = recv(fd, pkt, sizeof(pkt), 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        char msg[256];
        snprintf(msg, sizeof(msg), "recv: %s", strerror(errno));
        live_tracker_fail(q->t, q, msg);
        return;
    }
    bt_udp_reply r;
    memset(&r, 0, sizeof(r));
    if (bt_udp_parse_reply(&r, pkt, (size_t)n, q->family, bt_mem_default()) != 0)
        return; /* malformed: ignored, the timer still runs */
    if (r.txid == q->txid)
        handle(q, &r); /* may free |q| */
    bt_udp_reply_free(&r);
}
