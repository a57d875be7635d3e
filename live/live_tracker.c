/* live_tracker.c: HTTP tracker announces through evhttp: the URL from the engine's codec, a
 * bounded reply body parsed by bt_tracker_http_parse_reply, a per-request time-out, BEP 12 tiers
 * (each announce tries the trackers tier by tier until one answers; a tier is shuffled once and
 * a tracker that answers moves to the front of its tier), and one request at a time (a "stopped"
 * must never overtake the "completed" before it). Back-off is the engine's (on_announce_error).
 *   https://www.bittorrent.org/beps/bep_0012.html */
#include "live_tracker_int.h"

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool usable(const char *u)
{
    return strncmp(u, "http://", 7) == 0 || strncmp(u, "udp://", 6) == 0;
}

/* BEP 12: the URLs of each tier (consecutive, tiers in order) in a random order, once. */
static void shuffle_tiers(live_tracker *t)
{
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, live_seed(), 12);
    for (uint32_t lo = 0, hi; lo < t->nurls; lo = hi) {
        for (hi = lo + 1; hi < t->nurls && t->tier[hi] == t->tier[lo];)
            hi++;
        for (uint32_t i = hi - 1; i > lo; i--) {
            uint32_t j = lo + bt_pcg32_below(&rng, i - lo + 1);
            char *u = t->urls[i];
            t->urls[i] = t->urls[j];
            t->urls[j] = u;
        }
    }
}

/* BEP 12: the tracker at |i| answered: it moves to the front of its tier (its UDP connection
 * id with it). */
static void promote(live_tracker *t, uint32_t i)
{
    uint32_t first = i;
    while (first > 0 && t->tier[first - 1] == t->tier[i])
        first--;
    char *u = t->urls[i];
    udp_conn_id id = t->udp_ids[i];
    memmove(&t->urls[first + 1], &t->urls[first], (i - first) * sizeof(*t->urls));
    memmove(&t->udp_ids[first + 1], &t->udp_ids[first], (i - first) * sizeof(*t->udp_ids));
    t->urls[first] = u;
    t->udp_ids[first] = id;
}

int live_tracker_new(live_tracker **out, struct event_base *base, const bt_metainfo *m,
                     const char *bind, int timeout_s, live_tracker_cb cb, void *user, char *err,
                     size_t errlen)
{
    *out = NULL;
    live_tracker *t = calloc(1, sizeof(*t));
    if (t == NULL || (t->urls = calloc(m->ntrackers + 1, sizeof(char *))) == NULL ||
        (t->tier = calloc(m->ntrackers + 1, sizeof(uint32_t))) == NULL ||
        (t->udp_ids = calloc(m->ntrackers + 1, sizeof(udp_conn_id))) == NULL) {
        if (t != NULL) {
            free(t->urls);
            free(t->tier);
        }
        free(t);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < m->ntrackers; i++)
        if (usable(m->trackers[i]) && strlen(m->trackers[i]) < MAX_URL / 2) {
            t->tier[t->nurls] = m->tracker_tier != NULL ? m->tracker_tier[i] : i;
            t->urls[t->nurls++] = m->trackers[i]; /* borrowed from |m| */
        }
    if (t->nurls == 0) {
        snprintf(err, errlen,
                 "no http:// or udp:// tracker in the metainfo (%u tracker%s; https "
                 "trackers are not supported yet)",
                 m->ntrackers, m->ntrackers == 1 ? "" : "s");
        free(t->urls);
        free(t->tier);
        free(t->udp_ids);
        free(t);
        return -1;
    }
    shuffle_tiers(t);
    for (uint32_t i = 0; i < t->nurls; i++)
        t->udp_ids[i].got_at = BT_TIME_NEVER;
    t->base = base;
    t->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    t->timeout_s = timeout_s > 0 ? timeout_s : 20;
    t->cb = cb;
    t->user = user;
    bool wildcard = bind == NULL || strcmp(bind, "0.0.0.0") == 0 || strcmp(bind, "::") == 0;
    snprintf(t->bind, sizeof(t->bind), "%s", wildcard ? "" : bind);
    *out = t;
    return 0;
}

static void unlink_req(live_tracker *t, treq *q)
{
    for (treq **pp = &t->reqs; *pp != NULL; pp = &(*pp)->next)
        if (*pp == q) {
            *pp = q->next;
            t->inflight--;
            return;
        }
}

void live_tracker_del(live_tracker *t)
{
    if (t == NULL)
        return;
    t->deleting = true;
    while (t->reqs != NULL) {
        treq *q = t->reqs;
        t->reqs = q->next;
        if (q->conn != NULL)
            evhttp_connection_free(q->conn);
        live_tracker_udp_free(q);
        free(q);
    }
    if (t->dns != NULL)
        evdns_base_free(t->dns, 0);
    free(t->urls);
    free(t->tier);
    free(t->udp_ids);
    free(t);
}

int live_tracker_set_nameserver(live_tracker *t, const char *ip_port)
{
    if (t->dns == NULL || evdns_base_clear_nameservers_and_suspend(t->dns) != 0)
        return -1;
    int rv = evdns_base_nameserver_ip_add(t->dns, ip_port);
    return evdns_base_resume(t->dns) != 0 || rv != 0 ? -1 : 0;
}

uint32_t live_tracker_inflight(const live_tracker *t)
{
    return t->inflight + t->nqueued;
}

static void send_announce(live_tracker *t, const bt_announce_req *areq, uint32_t url);

/* Sends the oldest waiting announce, if nothing is in flight. */
static void send_next(live_tracker *t)
{
    if (t->inflight > 0 || t->nqueued == 0)
        return;
    bt_announce_req q = t->queue[0];
    memmove(&t->queue[0], &t->queue[1], --t->nqueued * sizeof(q));
    send_announce(t, &q, 0); /* BEP 12: from the first tracker of the first tier */
}

static void free_conn_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evhttp_connection_free(arg);
}

/* Parses the reply of |req|: 0 with |r| filled, or -1 with |msg| set. */
static int read_reply(struct evhttp_request *req, bt_announce_reply *r, char *msg, size_t len)
{
    if (req == NULL || evhttp_request_get_response_code(req) == 0) {
        snprintf(msg, len, "no reply (connection failed or timed out)");
        return -1;
    }
    int code = evhttp_request_get_response_code(req);
    if (code != 200) {
        snprintf(msg, len, "HTTP %d", code);
        return -1;
    }
    struct evbuffer *body = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(body);
    const uint8_t *p = n > 0 ? evbuffer_pullup(body, -1) : (const uint8_t *)"";
    size_t off = 0;
    const char *why = NULL;
    int rv = bt_tracker_http_parse_reply(r, p, n, bt_mem_default(), &off, &why);
    if (rv != 0) {
        snprintf(msg, len, "bad reply at byte %zu: %s", off, why ? why : bt_strerror(rv));
        return -1;
    }
    if (r->failure != NULL) {
        snprintf(msg, len, "failure reason: %s", r->failure);
        bt_announce_reply_free(r);
        return -1;
    }
    return 0;
}

static void release(live_tracker *t, treq *q)
{
    unlink_req(t, q);
    if (q->conn != NULL) { /* never freed inside evhttp's own call chain */
        struct timeval zero = {0, 0};
        event_base_once(t->base, -1, EV_TIMEOUT, free_conn_later, q->conn, &zero);
    }
    live_tracker_udp_free(q);
    free(q);
}

void live_tracker_fail(live_tracker *t, treq *q, const char *msg)
{
    char full[BT_TRACKER_MAX_TEXT + 256 + MAX_URL];
    snprintf(full, sizeof(full), "tracker %s: %s", t->urls[q->url], msg);
    uint32_t next = q->url + 1;
    bt_announce_req areq = q->areq;
    release(t, q);
    if (next < t->nurls && !t->deleting) { /* BEP 12: the next tracker, tier by tier */
        send_announce(t, &areq, next);
        return;
    }
    if (t->nurls > 1)
        snprintf(full, sizeof(full), "all %u trackers failed; the last, %s: %s", t->nurls,
                 t->urls[t->nurls - 1], msg);
    t->cb(t->user, NULL, full);
    send_next(t);
}

void live_tracker_done(live_tracker *t, treq *q, const bt_announce_reply *r)
{
    promote(t, q->url);
    release(t, q);
    t->cb(t->user, r, NULL);
    send_next(t);
}

static int send_get(live_tracker *t, treq *q, const char *url, char *msg, size_t len);

/* HTTP 301/302/303/307/308 with an absolute http:// Location: asks there (at most
 * MAX_REDIRECTS hops). Returns 1 when a new request went out, 0 when |req| is no redirect,
 * -1 with |msg| on a bad or failed redirect. */
static int follow_redirect(live_tracker *t, treq *q, struct evhttp_request *req, char *msg,
                           size_t len)
{
    int code = req != NULL ? evhttp_request_get_response_code(req) : 0;
    if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308)
        return 0;
    const char *loc = evhttp_find_header(evhttp_request_get_input_headers(req), "Location");
    if (loc == NULL || strncmp(loc, "http://", 7) != 0 || strlen(loc) >= MAX_URL) {
        snprintf(msg, len, "HTTP %d without an http:// Location", code);
        return -1;
    }
    if (++q->redirects > MAX_REDIRECTS) {
        snprintf(msg, len, "more than %d redirects", MAX_REDIRECTS);
        return -1;
    }
    struct timeval zero = {0, 0};
    event_base_once(t->base, -1, EV_TIMEOUT, free_conn_later, q->conn, &zero);
    q->conn = NULL;
    q->sending = true;
    int rv = send_get(t, q, loc, msg, len);
    q->sending = false;
    if (rv == 0 && q->sync_fail)
        snprintf(msg, len, "redirect to %s: connection failed at once", loc);
    return rv == 0 && !q->sync_fail ? 1 : -1;
}

static void on_done(struct evhttp_request *req, void *arg)
{
    treq *q = arg;
    live_tracker *t = q->t;
    if (t->deleting)
        return;
    if (q->sending) { /* a synchronous failure: send_announce finishes it */
        q->sync_fail = true;
        return;
    }
    bt_announce_reply r;
    memset(&r, 0, sizeof(r));
    char msg[BT_TRACKER_MAX_TEXT + MAX_URL];
    int redirected = follow_redirect(t, q, req, msg, sizeof(msg));
    if (redirected == 1)
        return;
    if (redirected < 0 || read_reply(req, &r, msg, sizeof(msg)) != 0) {
        live_tracker_fail(t, q, msg);
        return;
    }
    live_tracker_done(t, q, &r);
    bt_announce_reply_free(&r);
}

/* Sends GET |url| (absolute) over a new connection. 0 or -1 with |msg|. */
static int send_get(live_tracker *t, treq *q, const char *url, char *msg, size_t len)
{
    struct evhttp_uri *u = evhttp_uri_parse(url);
    const char *host = u != NULL ? evhttp_uri_get_host(u) : NULL;
    if (host == NULL) {
        snprintf(msg, len, "cannot parse the URL");
        if (u != NULL)
            evhttp_uri_free(u);
        return -1;
    }
    int port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 80;
    const char *path = evhttp_uri_get_path(u), *query = evhttp_uri_get_query(u);
    char target[MAX_URL * 2];
    snprintf(target, sizeof(target), "%s%s%s", path && *path ? path : "/", query ? "?" : "",
             query ? query : "");
    q->conn = evhttp_connection_base_new(t->base, t->dns, host, (uint16_t)port);
    struct evhttp_request *req = q->conn ? evhttp_request_new(on_done, q) : NULL;
    int rv = -1;
    if (req != NULL) {
        evhttp_connection_set_timeout(q->conn, t->timeout_s);
        evhttp_connection_set_max_body_size(q->conn, BT_TRACKER_MAX_REPLY);
        evhttp_connection_set_retries(q->conn, 0);
        if (t->bind[0] != '\0') /* the tracker must see the address we listen on */
            evhttp_connection_set_local_address(q->conn, t->bind);
        struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
        evhttp_add_header(hd, "Host", host);
        evhttp_add_header(hd, "User-Agent", "swarmlab/" SWARMLAB_VERSION);
        evhttp_add_header(hd, "Connection", "close");
        rv = evhttp_make_request(q->conn, req, EVHTTP_REQ_GET, target); /* frees req on error */
    }
    if (rv != 0)
        snprintf(msg, len, "cannot send the request");
    evhttp_uri_free(u);
    return rv;
}

void live_tracker_announce(live_tracker *t, const bt_announce_req *areq)
{
    if (t->nqueued == MAX_QUEUED) { /* the tracker is stuck: forget the oldest */
        memmove(&t->queue[0], &t->queue[1], (MAX_QUEUED - 1) * sizeof(*areq));
        t->nqueued--;
    }
    t->queue[t->nqueued++] = *areq;
    send_next(t);
}

static void send_announce(live_tracker *t, const bt_announce_req *areq, uint32_t url)
{
    char msg[256];
    treq *q = calloc(1, sizeof(*q));
    if (q == NULL) {
        t->cb(t->user, NULL, "out of memory");
        return;
    }
    q->t = t;
    q->url = url;
    q->areq = *areq;
    q->fd = -1;
    q->next = t->reqs;
    t->reqs = q;
    t->inflight++;
    if (strncmp(t->urls[q->url], "udp://", 6) == 0) {
        live_tracker_udp_send(t, q);
        return;
    }
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), MAX_URL);
    int rv = bt_tracker_http_build_url(&b, t->urls[q->url], areq);
    if (rv != 0) {
        snprintf(msg, sizeof(msg), "announce URL: %s", bt_strerror(rv));
    } else {
        q->sending = true;
        rv = send_get(t, q, (const char *)b.data, msg, sizeof(msg));
        q->sending = false;
        if (rv == 0 && q->sync_fail) {
            rv = -1;
            snprintf(msg, sizeof(msg),
                     "connection failed at once (a --bind address of the "
                     "wrong family?)");
        }
    }
    bt_buf_free(&b);
    if (rv != 0)
        live_tracker_fail(t, q, msg);
}
