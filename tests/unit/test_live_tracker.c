/* tests/unit/test_live_tracker.c: live/live_tracker.c against an in-process evhttp server on
 * 127.0.0.1: a compact reply reaches the callback with its peers, failure reasons, HTTP errors
 * and malformed bodies become errors naming the tracker, a silent tracker times out, requests
 * go out one at a time in order, and BEP 12: after a failure the next tracker (tier by tier) is
 * asked within the same announce, and one that answers moves to the front of its tier. UDP
 * (BEP 15) against an in-process tracker, by address and by a host name that an in-process
 * DNS server answers late: the loop keeps running while the name resolves (evdns). */
#include "test_live_fixture.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

extern int test_live_tracker_add_suite(void);

#define B(text) text, sizeof(text) - 1 /* a body literal and its length (it may hold NULs) */

typedef struct srv {
    struct event_base *base;
    struct evhttp *http;
    int port;
    const char *body; /* reply body; NULL: never answer */
    size_t body_len;
    int code;
    char seen[8][512]; /* request URIs, in arrival order */
    int nseen;
    struct evhttp_request *held;
} srv;

typedef struct got {
    int replies, errors;
    uint32_t npeers;
    bt_addr first;
    int64_t interval;
    char error[1024];
    int done_target;
    struct event_base *base;
} got;

static void serve(struct evhttp_request *req, void *arg)
{
    srv *s = arg;
    if (s->nseen < 8)
        snprintf(s->seen[s->nseen++], sizeof(s->seen[0]), "%s", evhttp_request_get_uri(req));
    if (s->body == NULL) {
        s->held = req; /* never answered: the client must time out */
        return;
    }
    const char *uri = evhttp_request_get_uri(req);
    if (strncmp(uri, "/loop", 5) == 0 || strncmp(uri, "/moved", 6) == 0) {
        char loc[256];
        snprintf(loc, sizeof(loc), "http://127.0.0.1:%d/%s%s", s->port,
                 uri[1] == 'l' ? "loop" : "announce", strchr(uri, '?'));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
        evhttp_send_reply(req, uri[1] == 'l' ? 302 : 301, "moved", NULL);
        return;
    }
    struct evbuffer *out = evbuffer_new();
    evbuffer_add(out, s->body, s->body_len);
    evhttp_send_reply(req, s->code, "x", out);
    evbuffer_free(out);
}

static void start_srv(srv *s, struct event_base *base, const char *body, size_t len, int code)
{
    memset(s, 0, sizeof(*s));
    s->base = base;
    s->body = body;
    s->body_len = len;
    s->code = code;
    s->http = evhttp_new(base);
    CU_ASSERT_FATAL(s->http != NULL);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
    CU_ASSERT_FATAL(bs != NULL);
    struct sockaddr_in sin;
    socklen_t slen = sizeof(sin);
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &slen);
    s->port = ntohs(sin.sin_port);
    evhttp_set_gencb(s->http, serve, s);
}

static void on_result(void *user, const bt_announce_reply *r, const char *error)
{
    got *g = user;
    if (r != NULL) {
        g->replies++;
        g->npeers = r->npeers;
        g->interval = r->interval;
        if (r->npeers > 0)
            g->first = r->peers[0];
    } else {
        g->errors++;
        snprintf(g->error, sizeof(g->error), "%s", error);
    }
    if (g->replies + g->errors >= g->done_target)
        event_base_loopexit(g->base, NULL);
}

/* A metainfo whose trackers are |urls| (the torrent itself does not matter). */
static void make_meta(tl_torrent *t, const char *const *urls, uint32_t n)
{
    const tl_file f = {"x", 1000};
    CU_ASSERT_FATAL(tl_torrent_make(t, "x", false, &f, 1, 16384, 1) == 0);
    for (uint32_t i = 0; i < t->m->ntrackers; i++)
        free(t->m->trackers[i]);
    CU_ASSERT_FATAL(n <= 4);
    t->m->trackers = realloc(t->m->trackers, 4 * sizeof(char *));
    for (uint32_t i = 0; i < n; i++)
        t->m->trackers[i] = strdup(urls[i]);
    t->m->ntrackers = n;
}

static bt_announce_req req_of(bt_announce_event ev)
{
    bt_announce_req q;
    memset(&q, 0, sizeof(q));
    memset(q.info_hash, 0xaa, 20);
    memcpy(q.peer_id, "-SL0100-trackertest1", 20);
    q.port = 6881;
    q.left = 1000;
    q.event = ev;
    q.numwant = 50;
    return q;
}

/* Runs announces |evs| (n of them) against a server answering |body| with |code|. */
static const char *path = "announce"; /* the tracker URL's path in run() */

static void run(got *g, srv *s, const char *body, size_t len, int code,
                const bt_announce_event *evs, int n, int timeout_s)
{
    struct event_base *base = event_base_new();
    CU_ASSERT_FATAL(base != NULL);
    start_srv(s, base, body, len, code);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", s->port, path);
    const char *urls[] = {url};
    tl_torrent t;
    make_meta(&t, urls, 1);
    memset(g, 0, sizeof(*g));
    g->base = base;
    g->done_target = n;
    live_tracker *tr;
    char err[256];
    CU_ASSERT_FATAL(
        live_tracker_new(&tr, base, t.m, NULL, timeout_s, on_result, g, err, sizeof(err)) == 0);
    for (int i = 0; i < n; i++) {
        bt_announce_req q = req_of(evs[i]);
        live_tracker_announce(tr, &q);
    }
    CU_ASSERT_EQUAL(live_tracker_inflight(tr), (uint32_t)n);
    struct timeval limit = {10, 0};
    event_base_loopexit(base, &limit);
    event_base_dispatch(base);
    CU_ASSERT_EQUAL(live_tracker_inflight(tr), 0);
    live_tracker_del(tr);
    evhttp_free(s->http);
    event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
    tl_torrent_free(&t);
}

static void test_reply_and_order(void)
{
    got g;
    srv s;
    static const char body[] = "d8:intervali900e5:peers12:\x0a\x00\x00\x02\x1a\xe1"
                               "\x7f\x00\x00\x01\x00\x50"
                               "e";
    const bt_announce_event evs[] = {BT_EVENT_STARTED, BT_EVENT_COMPLETED, BT_EVENT_STOPPED};
    run(&g, &s, body, sizeof(body) - 1, 200, evs, 3, 5);
    CU_ASSERT_EQUAL(g.replies, 3);
    CU_ASSERT_EQUAL(g.errors, 0);
    CU_ASSERT_EQUAL(g.interval, 900);
    CU_ASSERT_EQUAL(g.npeers, 2);
    CU_ASSERT(g.first.family == 4 && g.first.ip[0] == 10 && g.first.ip[3] == 2 &&
              g.first.port == 6881);
    CU_ASSERT_EQUAL_FATAL(s.nseen, 3);
    CU_ASSERT(strncmp(s.seen[0], "/announce?info_hash=%AA%AA", 26) == 0);
    CU_ASSERT(strstr(s.seen[0], "&event=started") != NULL);
    CU_ASSERT(strstr(s.seen[1], "&event=completed") != NULL);
    CU_ASSERT(strstr(s.seen[2], "&event=stopped") != NULL);
    CU_ASSERT(strstr(s.seen[0], "&compact=1") != NULL);
}

static void test_errors(void)
{
    got g;
    srv s;
    const bt_announce_event ev[] = {BT_EVENT_NONE};
    run(&g, &s, B("d14:failure reason8:not heree"), 200, ev, 1, 5);
    CU_ASSERT(g.errors == 1 && g.replies == 0);
    CU_ASSERT(strstr(g.error, "failure reason: not here") != NULL);
    CU_ASSERT(strstr(g.error, "/announce") != NULL);
    run(&g, &s, B("d8:intervali900ee"), 503, ev, 1, 5);
    CU_ASSERT(g.errors == 1 && strstr(g.error, "HTTP 503") != NULL);
    run(&g, &s, B("d8:intervali900e5:peers5:abcdee"), 200, ev, 1, 5); /* not a multiple of 6 */
    CU_ASSERT(g.errors == 1 && strstr(g.error, "bad reply at byte") != NULL);
    run(&g, &s, B("<html>"), 200, ev, 1, 5);
    CU_ASSERT(g.errors == 1 && strstr(g.error, "bad reply") != NULL);
    run(&g, &s, NULL, 0, 200, ev, 1, 1); /* silent: times out after 1 s */
    CU_ASSERT(g.errors == 1 && strstr(g.error, "no reply") != NULL);
    path = "moved"; /* one 301 to /announce: followed */
    run(&g, &s, B("d8:intervali77ee"), 200, ev, 1, 5);
    CU_ASSERT(g.replies == 1 && g.interval == 77);
    CU_ASSERT(s.nseen == 2 && strncmp(s.seen[1], "/announce?info_hash=", 20) == 0);
    path = "loop"; /* 302 to itself forever: given up after 3 */
    run(&g, &s, B("d8:intervali77ee"), 200, ev, 1, 5);
    CU_ASSERT(g.errors == 1 && strstr(g.error, "more than 3 redirects") != NULL);
    CU_ASSERT_EQUAL(s.nseen, 4);
    path = "announce";
}

static void test_next_tracker_after_failure(void)
{
    struct event_base *base = event_base_new();
    srv s;
    start_srv(&s, base, B("d8:intervali60e5:peers0:e"), 200);
    char good[128];
    snprintf(good, sizeof(good), "http://127.0.0.1:%d/announce", s.port);
    /* Port 1 refuses; https:// is skipped. */
    const char *urls[] = {"http://127.0.0.1:1/announce", "https://127.0.0.1:1/announce", good};
    tl_torrent t;
    make_meta(&t, urls, 3);
    got g;
    memset(&g, 0, sizeof(g));
    g.base = base;
    g.done_target = 2;
    live_tracker *tr;
    char err[256];
    CU_ASSERT_FATAL(live_tracker_new(&tr, base, t.m, NULL, 5, on_result, &g, err, sizeof(err)) ==
                    0);
    bt_announce_req q = req_of(BT_EVENT_STARTED);
    live_tracker_announce(tr, &q);
    live_tracker_announce(tr, &q);
    struct timeval limit = {10, 0};
    event_base_loopexit(base, &limit);
    event_base_dispatch(base);
    /* the refusing tracker is skipped within each announce (BEP 12): no error reaches us */
    CU_ASSERT_EQUAL(g.errors, 0);
    CU_ASSERT_EQUAL(g.replies, 2);
    CU_ASSERT_EQUAL(s.nseen, 2);
    live_tracker_del(tr);
    evhttp_free(s.http);
    event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
    /* Only https and unknown schemes: refused with a message saying so. */
    const char *unusable[] = {"https://127.0.0.1:1/announce", "wss://x/announce"};
    tl_torrent_free(&t);
    make_meta(&t, unusable, 2);
    CU_ASSERT_EQUAL(live_tracker_new(&tr, NULL, t.m, NULL, 5, on_result, &g, err, sizeof(err)), -1);
    CU_ASSERT(strstr(err, "no http:// or udp:// tracker") != NULL);
    tl_torrent_free(&t);
}

/* Runs |n| announces, one after the other, against a metainfo of |urls| in |tiers|. */
static void run_tiers(got *g, struct event_base *base, const char *const *urls,
                      const uint32_t *tiers, uint32_t nurls, int n)
{
    tl_torrent t;
    make_meta(&t, urls, nurls);
    for (uint32_t i = 0; i < nurls; i++)
        t.m->tracker_tier[i] = tiers[i];
    memset(g, 0, sizeof(*g));
    g->base = base;
    live_tracker *tr;
    char err[256];
    CU_ASSERT_FATAL(live_tracker_new(&tr, base, t.m, NULL, 5, on_result, g, err, sizeof(err)) == 0);
    for (int i = 0; i < n; i++) { /* sequentially, so each starts after the last answer */
        g->done_target = i + 1;
        bt_announce_req q = req_of(BT_EVENT_NONE);
        live_tracker_announce(tr, &q);
        struct timeval limit = {10, 0};
        event_base_loopexit(base, &limit);
        event_base_dispatch(base);
    }
    live_tracker_del(tr);
    event_base_loop(base, EVLOOP_NONBLOCK);
    tl_torrent_free(&t);
}

static void test_bep12_tiers(void)
{
    struct event_base *base = event_base_new();
    srv good, bad, bad2;
    start_srv(&good, base, B("d8:intervali60e5:peers0:e"), 200);
    start_srv(&bad, base, B("d8:intervali60ee"), 503);
    start_srv(&bad2, base, B("d8:intervali60ee"), 503);
    char gu[128], bu[128], b2u[128];
    snprintf(gu, sizeof(gu), "http://127.0.0.1:%d/announce", good.port);
    snprintf(bu, sizeof(bu), "http://127.0.0.1:%d/announce", bad.port);
    snprintf(b2u, sizeof(b2u), "http://127.0.0.1:%d/announce", bad2.port);
    got g;
    /* one tier [bad, good], shuffled: bad is asked at most once per client, as good then
     * leads the tier; over 16 clients the shuffle puts bad first at least once (p = 1 - 2^-16) */
    const char *one[] = {bu, gu};
    const uint32_t t00[] = {0, 0};
    int bad_first = 0;
    for (int k = 0; k < 16; k++) {
        good.nseen = bad.nseen = 0;
        run_tiers(&g, base, one, t00, 2, 4);
        CU_ASSERT(g.replies == 4 && g.errors == 0);
        CU_ASSERT_EQUAL(good.nseen, 4);
        CU_ASSERT(bad.nseen <= 1);
        bad_first += bad.nseen;
    }
    CU_ASSERT(bad_first > 0 && bad_first < 16);
    /* tiers [bad] [good]: tier order is kept, so every announce asks bad first */
    good.nseen = bad.nseen = 0;
    const uint32_t t01[] = {0, 1};
    run_tiers(&g, base, one, t01, 2, 3);
    CU_ASSERT(g.replies == 3 && g.errors == 0);
    CU_ASSERT(good.nseen == 3 && bad.nseen == 3);
    /* everything fails: one error per announce, after asking each tracker once */
    bad.nseen = 0;
    const char *dead[] = {bu, b2u};
    run_tiers(&g, base, dead, t01, 2, 2);
    CU_ASSERT(g.replies == 0 && g.errors == 2);
    CU_ASSERT(bad.nseen == 2 && bad2.nseen == 2);
    CU_ASSERT(strstr(g.error, "all 2 trackers failed") != NULL && strstr(g.error, b2u) != NULL);
    evhttp_free(good.http);
    evhttp_free(bad.http);
    evhttp_free(bad2.http);
    event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
}

/* ---- UDP (BEP 15) against an in-process server built on the engine's codec ---- */

typedef struct usrv {
    evutil_socket_t fd;
    int port, connects, announces;
    bool mute; /* never answer */
    bt_announce_req last;
} usrv;

static void udp_serve(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    usrv *u = arg;
    uint8_t pkt[2048];
    struct sockaddr_storage from;
    socklen_t fl = sizeof(from);
    ssize_t n = recvfrom(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &fl);
    bt_udp_request q;
    if (n <= 0 || bt_udp_parse_request(&q, pkt, (size_t)n) != 0 || u->mute)
        return;
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    if (q.action == BT_UDP_CONNECT) {
        u->connects++;
        bt_udp_put_connect_reply(&b, q.txid, 0x1122334455667788ull);
    } else if (q.action == BT_UDP_ANNOUNCE && q.conn_id == 0x1122334455667788ull) {
        u->announces++;
        u->last = q.announce;
        bt_addr p = {.family = 4, .ip = {10, 9, 8, 7}, .port = 51413};
        bt_udp_put_announce_reply(&b, q.txid, 1200, 3, 4, &p, 1, 4);
    } else {
        bt_udp_put_error(&b, q.txid, "bad connection id");
    }
    sendto(fd, b.data, b.len, 0, (struct sockaddr *)&from, fl);
    bt_buf_free(&b);
}

static void test_udp(void)
{
    struct event_base *base = event_base_new();
    usrv u = {0};
    u.fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t sl = sizeof(sin);
    CU_ASSERT_FATAL(bind(u.fd, (struct sockaddr *)&sin, sl) == 0);
    getsockname(u.fd, (struct sockaddr *)&sin, &sl);
    struct event *ev = event_new(base, u.fd, EV_READ | EV_PERSIST, udp_serve, &u);
    event_add(ev, NULL);
    char url[128];
    snprintf(url, sizeof(url), "udp://127.0.0.1:%d/announce", ntohs(sin.sin_port));
    const char *urls[] = {url};
    tl_torrent t;
    make_meta(&t, urls, 1);
    got g;
    memset(&g, 0, sizeof(g));
    g.base = base;
    g.done_target = 2;
    live_tracker *tr;
    char err[256];
    CU_ASSERT_FATAL(live_tracker_new(&tr, base, t.m, NULL, 5, on_result, &g, err, sizeof(err)) ==
                    0);
    bt_announce_req q = req_of(BT_EVENT_STARTED);
    live_tracker_announce(tr, &q);
    q.event = BT_EVENT_COMPLETED;
    live_tracker_announce(tr, &q);
    struct timeval limit = {10, 0};
    event_base_loopexit(base, &limit);
    event_base_dispatch(base);
    CU_ASSERT_EQUAL(g.replies, 2);
    CU_ASSERT_EQUAL(g.errors, 0);
    CU_ASSERT_EQUAL(u.connects, 1); /* the connection id is reused within its minute */
    CU_ASSERT_EQUAL(u.announces, 2);
    CU_ASSERT_EQUAL(u.last.event, BT_EVENT_COMPLETED);
    CU_ASSERT(memcmp(u.last.peer_id, "-SL0100-trackertest1", 20) == 0);
    CU_ASSERT(g.npeers == 1 && g.first.ip[0] == 10 && g.first.port == 51413);
    CU_ASSERT_EQUAL(g.interval, 1200);
    live_tracker_del(tr);
    tl_torrent_free(&t);
    event_free(ev);
    close(u.fd);
    event_base_free(base);
}

/* ---- a UDP tracker found by name through an in-process DNS server ---- */

#define DNS_NAME "tracker.swarmlab.test"
#define DNS_DELAY_US 300000 /* the A answer waits this long */

typedef struct dsrv {
    evutil_socket_t fd;
    struct event_base *base;
    int queries_a;
    uint8_t reply[512];
    size_t reply_len;
    struct sockaddr_storage to;
    socklen_t tolen;
    int ticks, ticks_at_answer; /* the test's 50 ms timer, counted while resolving */
} dsrv;

static void dns_send_late(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    dsrv *d = arg;
    d->ticks_at_answer = d->ticks;
    sendto(d->fd, d->reply, d->reply_len, 0, (struct sockaddr *)&d->to, d->tolen);
}

/* Answers A queries for DNS_NAME with 127.0.0.1 after DNS_DELAY_US; anything else with no
 * records (NXDOMAIN for other names). */
static void dns_serve(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    dsrv *d = arg;
    uint8_t q[512], r[512];
    struct sockaddr_storage from;
    socklen_t fl = sizeof(from);
    ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
    if (n < 17 || (size_t)n > sizeof(q) - 16)
        return;
    char name[256];
    size_t off = 12, nl = 0;
    while (off < (size_t)n && q[off] != 0 && nl + q[off] + 1 < sizeof(name)) {
        if (nl > 0)
            name[nl++] = '.';
        memcpy(name + nl, q + off + 1, q[off]);
        nl += q[off];
        off += 1u + q[off];
    }
    name[nl] = '\0';
    if (off + 5 > (size_t)n)
        return;
    size_t qend = off + 5; /* the root label, qtype, qclass */
    uint16_t qtype = (uint16_t)(q[off + 1] << 8 | q[off + 2]);
    bool ours = strcasecmp(name, DNS_NAME) == 0; /* evdns randomises the case (0x20) */
    memcpy(r, q, qend);
    r[2] = 0x81;
    r[3] = ours ? 0x80 : 0x83; /* response, RD+RA; NXDOMAIN for other names */
    r[4] = 0, r[5] = 1;        /* qdcount */
    r[6] = 0, r[7] = 0;        /* ancount */
    r[8] = r[9] = r[10] = r[11] = 0;
    size_t len = qend;
    if (ours && qtype == 1) {
        static const uint8_t ans[16] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1};
        memcpy(r + len, ans, sizeof(ans));
        len += sizeof(ans);
        r[7] = 1;
        d->queries_a++;
        memcpy(d->reply, r, len);
        d->reply_len = len;
        d->to = from;
        d->tolen = fl;
        struct timeval later = {0, DNS_DELAY_US};
        event_base_once(d->base, -1, EV_TIMEOUT, dns_send_late, d, &later);
        return;
    }
    sendto(fd, r, len, 0, (struct sockaddr *)&from, fl);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ((dsrv *)arg)->ticks++;
}

/* Binds a UDP socket on 127.0.0.1 (port 0: any); returns it and sets *port. */
static evutil_socket_t udp_on_lo(int *port)
{
    evutil_socket_t fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t sl = sizeof(sin);
    CU_ASSERT_FATAL(fd >= 0 && bind(fd, (struct sockaddr *)&sin, sl) == 0);
    getsockname(fd, (struct sockaddr *)&sin, &sl);
    *port = ntohs(sin.sin_port);
    return fd;
}

static void test_udp_by_name(void)
{
    struct event_base *base = event_base_new();
    usrv u = {0};
    dsrv d = {0};
    int uport, dport;
    u.fd = udp_on_lo(&uport);
    d.fd = udp_on_lo(&dport);
    d.base = base;
    struct event *eu = event_new(base, u.fd, EV_READ | EV_PERSIST, udp_serve, &u);
    struct event *ed = event_new(base, d.fd, EV_READ | EV_PERSIST, dns_serve, &d);
    struct event *et = event_new(base, -1, EV_PERSIST, tick, &d);
    struct timeval every = {0, 50000};
    event_add(eu, NULL);
    event_add(ed, NULL);
    event_add(et, &every);
    char url[128], ns[64];
    snprintf(url, sizeof(url), "udp://" DNS_NAME ":%d/announce", uport);
    snprintf(ns, sizeof(ns), "127.0.0.1:%d", dport);
    const char *urls[] = {url};
    tl_torrent t;
    make_meta(&t, urls, 1);
    got g;
    memset(&g, 0, sizeof(g));
    g.base = base;
    g.done_target = 1;
    live_tracker *tr;
    char err[256];
    CU_ASSERT_FATAL(live_tracker_new(&tr, base, t.m, "127.0.0.1", 5, on_result, &g, err,
                                     sizeof(err)) == 0);
    CU_ASSERT_FATAL(live_tracker_set_nameserver(tr, ns) == 0);
    bt_announce_req q = req_of(BT_EVENT_STARTED);
    live_tracker_announce(tr, &q);
    CU_ASSERT_EQUAL(u.connects, 0); /* nothing sent before the name resolves */
    struct timeval limit = {10, 0};
    event_base_loopexit(base, &limit);
    event_base_dispatch(base);
    CU_ASSERT_EQUAL(g.errors, 0);
    CU_ASSERT_EQUAL(g.replies, 1);
    CU_ASSERT_EQUAL(d.queries_a, 1);
    CU_ASSERT(d.ticks_at_answer >= 3); /* the loop ran while the name was resolving */
    CU_ASSERT_EQUAL(u.announces, 1);
    CU_ASSERT(g.npeers == 1 && g.first.port == 51413);
    live_tracker_del(tr);
    /* a name the server does not know: an error naming the resolution, no packet sent */
    snprintf(url, sizeof(url), "udp://nowhere.swarmlab.test:%d/announce", uport);
    tl_torrent t2;
    make_meta(&t2, urls, 1);
    memset(&g, 0, sizeof(g));
    g.base = base;
    g.done_target = 1;
    CU_ASSERT_FATAL(live_tracker_new(&tr, base, t2.m, "127.0.0.1", 5, on_result, &g, err,
                                     sizeof(err)) == 0);
    CU_ASSERT_FATAL(live_tracker_set_nameserver(tr, ns) == 0);
    live_tracker_announce(tr, &q);
    event_base_loopexit(base, &limit);
    event_base_dispatch(base);
    CU_ASSERT_EQUAL(g.errors, 1);
    CU_ASSERT(strstr(g.error, "resolve") != NULL);
    CU_ASSERT_EQUAL(u.connects, 1);
    /* deleted while a name is resolving: the request is cancelled cleanly */
    live_tracker_announce(tr, &q);
    live_tracker_del(tr);
    tl_torrent_free(&t);
    tl_torrent_free(&t2);
    event_free(eu);
    event_free(ed);
    event_free(et);
    close(u.fd);
    close(d.fd);
    event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
}

int test_live_tracker_add_suite(void)
{
    CU_pSuite s = CU_add_suite("live_tracker", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "reply_and_order", test_reply_and_order) == NULL ||
        CU_add_test(s, "errors", test_errors) == NULL ||
        CU_add_test(s, "next_tracker_after_failure", test_next_tracker_after_failure) == NULL ||
        CU_add_test(s, "bep12_tiers", test_bep12_tiers) == NULL ||
        CU_add_test(s, "udp", test_udp) == NULL ||
        CU_add_test(s, "udp_by_name", test_udp_by_name) == NULL)
        return 1;
    return 0;
}
