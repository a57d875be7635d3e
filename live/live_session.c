/* live_session.c: one `swarmlab live` run: checks the data on disk, creates the engine client,
 * listens for peers, announces to the HTTP tracker, shows progress, and stops cleanly on
 * completion or SIGINT/SIGTERM ("stopped" announced, then exit; a second signal exits at once). */
#include "live.h"
#include "live_output.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STOP_GRACE_S 5                    /* longest wait for the "stopped" announce */
#define WRITE_EVERY_US (10 * BT_US_PER_S) /* --results files rewritten this often */
#define MAX_IDS 4096

typedef struct session {
    const live_opts *o;
    const bt_metainfo *m;
    struct event_base *base;
    live_storage *st;
    bt_client *c;
    live_host *h;
    live_tracker *t;
    struct evconnlistener *lis;
    struct event *sig_int, *sig_term, *progress, *grace;
    uint16_t port;
    bool stopping, progress_shown;
    int signals;
    bt_time_us t0, last_t;
    uint64_t last_down, last_up, rate_down, rate_up;
    live_out *out; /* --results */
    struct event *sampler;
    bt_time_us out_t, out_written, out_sampled;
    uint64_t out_down, out_up, out_rate_down, out_rate_up;
} session;

/* ---- --results: sample the connections, append a timeseries row, rewrite the files ---- */

static void out_sample(session *s, bt_time_us now)
{
    bt_conn_id ids[MAX_IDS];
    size_t n = live_host_conn_ids(s->h, ids, MAX_IDS);
    live_out_sample(s->out, s->c, ids, n, now);
    s->out_sampled = now;
}

static void on_sample(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    session *s = arg;
    bt_time_us now = live_now(), dt = now - s->out_t;
    bt_client_stats st;
    bt_client_get_stats(s->c, &st);
    if (dt >= BT_US_PER_S / 2) { /* shorter intervals (the final row) keep the last rates */
        s->out_rate_down = (st.downloaded - s->out_down) * BT_US_PER_S / dt;
        s->out_rate_up = (st.uploaded - s->out_up) * BT_US_PER_S / dt;
        s->out_t = now;
        s->out_down = st.downloaded;
        s->out_up = st.uploaded;
    }
    uint64_t down = s->out_rate_down, up = s->out_rate_up;
    out_sample(s, now);
    live_out_tick(s->out, s->c, down, up, now);
    if (now - s->out_written >= WRITE_EVERY_US) {
        live_out_write(s->out, s->c, now);
        s->out_written = now;
    }
}

static int out_start(session *s)
{
    if (s->o->results == NULL)
        return 0;
    live_out_info info = {.torrent_path = s->o->torrent_path,
                          .m = s->m,
                          .seed = s->o->seed,
                          .port = s->port,
                          .start_unix = (uint64_t)time(NULL)};
    if (live_out_new(&s->out, s->o->results, &info, s->t0) != 0)
        return -1;
    s->sampler = event_new(s->base, -1, EV_PERSIST, on_sample, s);
    if (s->sampler == NULL)
        return -1;
    struct timeval tv = {s->o->sample_s ? (time_t)s->o->sample_s : 1, 0};
    evtimer_add(s->sampler, &tv);
    s->out_t = s->out_written = s->t0;
    on_sample(0, 0, s); /* the row at time 0, and the files exist from the start */
    return 0;
}

/* The final sample and files (at exit, including after a second signal). */
static void out_finish(session *s)
{
    if (s->out == NULL)
        return;
    s->out_written = live_now(); /* written just below, not twice */
    on_sample(0, 0, s);
    live_out_write(s->out, s->c, live_now());
    if (!s->o->quiet)
        fprintf(stderr, "swarmlab: results in %s (swarmlab plot %s)\n", s->o->results,
                s->o->results);
}

static void say(const session *s, const char *fmt, const char *a, const char *b)
{
    if (s->o->quiet)
        return;
    if (s->progress_shown)
        fputs("\r\033[K", stderr);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
}

static void maybe_finish(session *s)
{
    if (s->stopping && (s->t == NULL || live_tracker_inflight(s->t) == 0))
        event_base_loopexit(s->base, NULL);
}

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    session *s = arg;
    say(s, "swarmlab: %s%s", "tracker did not answer the \"stopped\" announce in time", "");
    event_base_loopexit(s->base, NULL);
}

static void finish_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    maybe_finish(arg);
}

static void begin_stop(session *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    if (s->out != NULL) /* the engine forgets the connections' totals when it closes them */
        out_sample(s, live_now());
    if (s->lis != NULL)
        evconnlistener_disable(s->lis);
    live_host_stop(s->h);
    struct timeval tv = {STOP_GRACE_S, 0};
    s->grace = evtimer_new(s->base, on_grace, s);
    if (s->grace != NULL)
        evtimer_add(s->grace, &tv);
    /* Checked once the host has drained the "stopped" announce into the tracker queue (this
     * may run inside the drain, from the COMPLETE action). */
    struct timeval zero = {0, 0};
    event_base_once(s->base, -1, EV_TIMEOUT, finish_later, s, &zero);
}

/* ---- tracker ---- */

static void on_tracker(void *user, const bt_announce_reply *r, const char *error)
{
    session *s = user;
    if (error != NULL)
        say(s, "swarmlab: %s%s", error, "");
    if (!s->stopping) {
        if (r != NULL)
            live_host_announce_reply(s->h, r);
        else
            live_host_announce_error(s->h);
    }
    maybe_finish(s);
}

static void no_tracker(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    session *s = arg;
    if (!s->stopping)
        live_host_announce_error(s->h);
}

static void hook_announce(live_host *h, const bt_announce_req *req, void *user)
{
    (void)h;
    session *s = user;
    if (s->t != NULL) {
        live_tracker_announce(s->t, req);
        return;
    }
    struct timeval zero = {0, 0}; /* answer outside the drain loop */
    if (req->event != BT_EVENT_STOPPED)
        event_base_once(s->base, -1, EV_TIMEOUT, no_tracker, s, &zero);
}

static void hook_event(live_host *h, const bt_action *a, void *user)
{
    (void)h;
    session *s = user;
    char addr[64];
    if (a->type == BT_ACT_COMPLETE) {
        say(s, "swarmlab: %s: download complete%s", s->m->name,
            s->o->seed_after ? ", seeding (Ctrl-C stops)" : "");
        if (!s->o->seed_after && !s->o->seed)
            begin_stop(s);
    } else if (a->type == BT_ACT_PIECE_DONE && s->out != NULL &&
               live_now() - s->out_sampled >= BT_US_PER_S / 5) {
        out_sample(s, live_now()); /* keeps the per-peer byte counts close to the engine's */
    }
    if (a->type == BT_ACT_CLOSE && s->out != NULL)
        live_out_closed(s->out, a, live_now());
    if (a->type == BT_ACT_CLOSE && s->o->verbose) {
        char who[96];
        snprintf(who, sizeof(who), "%u with %s", a->conn,
                 bt_addr_format(&a->addr, addr, sizeof(addr)));
        char why[256];
        snprintf(why, sizeof(why), "%s%s%s", bt_close_reason_name(a->reason), a->detail ? ": " : "",
                 a->detail ? a->detail : "");
        say(s, "swarmlab: connection %s closed (%s)", who, why);
    } else if (a->type == BT_ACT_BAN) {
        say(s, "swarmlab: banned %s (sent data that failed SHA-1)",
            bt_addr_format(&a->addr, addr, sizeof(addr)), "");
    }
}

/* ---- signals and progress ---- */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    session *s = arg;
    if (++s->signals > 1) { /* second signal: out at once; the disk only has verified pieces */
        event_base_loopbreak(s->base);
        return;
    }
    say(s, "swarmlab: %s, stopping (again to quit at once)", sig == SIGINT ? "SIGINT" : "SIGTERM",
        "");
    begin_stop(s);
}

static void fmt_rate(char *out, size_t n, uint64_t bps)
{
    if (bps >= (1u << 20))
        snprintf(out, n, "%.1f MiB/s", (double)bps / 1048576.0);
    else
        snprintf(out, n, "%.1f KiB/s", (double)bps / 1024.0);
}

static void on_progress(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    session *s = arg;
    bt_client_stats st;
    bt_client_get_stats(s->c, &st);
    bt_time_us now = live_now(), dt = now - s->last_t;
    if (dt > 0) {
        s->rate_down = (st.downloaded - s->last_down) * BT_US_PER_S / dt;
        s->rate_up = (st.uploaded - s->last_up) * BT_US_PER_S / dt;
    }
    s->last_t = now;
    s->last_down = st.downloaded;
    s->last_up = st.uploaded;
    if (!s->o->progress || s->o->quiet)
        return;
    char down[32], up[32], eta[32] = "-";
    fmt_rate(down, sizeof(down), s->rate_down);
    fmt_rate(up, sizeof(up), s->rate_up);
    uint64_t have = (uint64_t)st.pieces_have * s->m->piece_length;
    uint64_t left = have < s->m->total_length ? s->m->total_length - have : 0;
    if (left > 0 && s->rate_down > 0) {
        uint64_t sec = left / s->rate_down;
        snprintf(eta, sizeof(eta), "%llu:%02llu:%02llu", (unsigned long long)(sec / 3600),
                 (unsigned long long)(sec / 60 % 60), (unsigned long long)(sec % 60));
    } else if (left == 0) {
        snprintf(eta, sizeof(eta), "seeding");
    }
    fprintf(stderr, "\r\033[K%5.1f%%  down %s  up %s  peers %u  ETA %s",
            100.0 * st.pieces_have / s->m->npieces, down, up, st.nconns_active, eta);
    fflush(stderr);
    s->progress_shown = true;
}

/* ---- listening ---- */

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    (void)l;
    (void)len;
    session *s = arg;
    bt_addr from;
    if (s->stopping || live_addr_from_sockaddr(&from, sa) != 0) {
        close(fd);
        return;
    }
    if (bt_client_addr_banned(s->c, &from)) { /* before any MSE work for it */
        char addr[64];
        if (s->o->verbose)
            say(s, "swarmlab: refused %s (banned)", bt_addr_format(&from, addr, sizeof(addr)), "");
        close(fd);
        return;
    }
    evutil_make_socket_closeonexec(fd);
    struct bufferevent *bev =
        bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (bev == NULL) {
        close(fd);
        return;
    }
    live_host_accept(s->h, bev, &from);
}

/* A listening socket on |bind| (or the IPv6 wildcard, dual-stack) port |port|. -1 on error. */
static evutil_socket_t listen_socket(const bt_addr *where, uint16_t port)
{
    bt_addr a;
    if (where != NULL)
        a = *where;
    else
        live_addr_parse(&a, "::");
    a.port = port;
    struct sockaddr_storage ss;
    int len = live_addr_to_sockaddr(&a, &ss), one = 1, zero = 0;
    evutil_socket_t fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (a.family == 6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if (bind(fd, (struct sockaddr *)&ss, (socklen_t)len) != 0 || listen(fd, 64) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Listens on the requested port, or on the first free one of 6881..6889, then any port. */
static int start_listener(session *s, const bt_addr *where)
{
    uint16_t ports[11] = {s->o->port};
    int nports = 1;
    if (s->o->port == 0) {
        for (int i = 0; i < 9; i++)
            ports[i] = (uint16_t)(6881 + i);
        ports[9] = 0;
        nports = 10;
    }
    evutil_socket_t fd = -1;
    for (int i = 0; i < nports && fd < 0; i++)
        fd = listen_socket(where, ports[i]);
    if (fd < 0 && where == NULL) { /* no IPv6: the IPv4 wildcard */
        bt_addr any;
        live_addr_parse(&any, "0.0.0.0");
        for (int i = 0; i < nports && fd < 0; i++)
            fd = listen_socket(&any, ports[i]);
    }
    if (fd < 0) {
        fprintf(stderr, "swarmlab: cannot listen on %s port %u: %s\n",
                s->o->bind ? s->o->bind : "any address", (unsigned)s->o->port, strerror(errno));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    bt_addr me;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
        live_addr_from_sockaddr(&me, (struct sockaddr *)&ss) != 0) {
        close(fd);
        return -1;
    }
    s->port = me.port;
    evutil_make_socket_nonblocking(fd);
    evutil_make_socket_closeonexec(fd);
    s->lis = evconnlistener_new(s->base, on_accept, s, LEV_OPT_CLOSE_ON_FREE, -1, fd);
    if (s->lis == NULL) {
        close(fd);
        return -1;
    }
    return 0;
}

/* ---- set-up ---- */

/* Checks the data on disk into |have|. Returns the pieces present, or -1 after a message. */
static int64_t check_data(session *s, uint8_t *have)
{
    char err[1024];
    if (live_storage_open(&s->st, s->m, s->o->dir, !s->o->seed, err, sizeof(err)) != 0) {
        fprintf(stderr, "swarmlab: %s\n", err);
        return -1;
    }
    int64_t n = live_storage_check(s->st, have, err, sizeof(err));
    if (n < 0) {
        fprintf(stderr, "swarmlab: %s\n", err);
        return -1;
    }
    if (s->o->seed && n < s->m->npieces) {
        fprintf(stderr, "swarmlab: %s: %llu of %u pieces missing or corrupt: cannot seed %s\n",
                s->o->dir, (unsigned long long)(s->m->npieces - n), s->m->npieces,
                s->o->torrent_path);
        return -1;
    }
    if (!s->o->quiet && n > 0 && !s->o->seed)
        fprintf(stderr, "swarmlab: %s: resuming, %lld of %u pieces already verified\n", s->o->dir,
                (long long)n, s->m->npieces);
    return n;
}

static int make_client(session *s, const uint8_t *have)
{
    bt_config cfg;
    bt_config_defaults(&cfg);
    memcpy(cfg.info_hash, s->m->info_hash, 20);
    cfg.piece_hashes = s->m->piece_hashes;
    cfg.npieces = s->m->npieces;
    cfg.piece_len = s->m->piece_length;
    cfg.total_len = s->m->total_length;
    cfg.listen_port = s->port;
    cfg.have = have;
    cfg.lenient = true; /* aria2 re-sends its bitfield mid-stream */
    cfg.smart_ban = true; /* an honest peer that shared a piece with a liar is not banned */
    cfg.info_dict = s->m->info_raw; /* BEP 9: served to magnet-link peers */
    cfg.info_len = s->m->info_len;
    cfg.pex = !s->m->is_private; /* BEP 11, off for private torrents (BEP 27) */
    if (s->o->max_peers > 0) {
        cfg.max_conns = s->o->max_peers;
        if (cfg.max_initiated > cfg.max_conns)
            cfg.max_initiated = cfg.max_conns;
    }
    cfg.upload_limit = s->o->max_up_bps;
    cfg.upload_slots = s->o->max_up_bps ? 0 : cfg.upload_slots;
    uint64_t seed = live_seed();
    if (s->o->peer_id != NULL) /* the magnet phase's, if there was one */
        memcpy(cfg.peer_id, s->o->peer_id, 20);
    else
        live_peer_id_make(cfg.peer_id);
    /* BEP 47 padding: the engine requests no block wholly inside it */
    cfg.npad = bt_metainfo_pad_ranges(s->m, NULL, 0);
    bt_byte_range *pad = cfg.npad > 0 ? calloc(cfg.npad, sizeof(*pad)) : NULL;
    int rv = cfg.npad > 0 && pad == NULL ? BT_ERR_NOMEM : 0;
    if (rv == 0) {
        bt_metainfo_pad_ranges(s->m, pad, cfg.npad);
        cfg.pad = pad;
        rv = bt_client_new(&s->c, &cfg, seed, NULL);
    }
    free(pad);
    if (rv != 0)
        fprintf(stderr, "swarmlab: %s: cannot start the engine: %s\n", s->o->torrent_path,
                bt_strerror(rv));
    return rv != 0 ? -1 : 0;
}

static int make_events(session *s)
{
    s->sig_int = evsignal_new(s->base, SIGINT, on_signal, s);
    s->sig_term = evsignal_new(s->base, SIGTERM, on_signal, s);
    s->progress = event_new(s->base, -1, EV_PERSIST, on_progress, s);
    if (s->sig_int == NULL || s->sig_term == NULL || s->progress == NULL)
        return -1;
    struct timeval sec = {1, 0};
    evsignal_add(s->sig_int, NULL);
    evsignal_add(s->sig_term, NULL);
    evtimer_add(s->progress, &sec);
    return 0;
}

static int setup(session *s, const bt_addr *where, uint8_t *have)
{
    if (check_data(s, have) < 0 || (s->base = event_base_new()) == NULL ||
        start_listener(s, where) != 0 || make_client(s, have) != 0)
        return -1;
    live_host_ops ops = {.announce = hook_announce, .event = hook_event, .user = s};
    if (live_host_new(&s->h, s->base, s->c, s->st, &ops, where) != 0 ||
        live_host_set_rate_limit(s->h, s->o->max_up_bps, s->o->max_down_bps) != 0 ||
        live_host_set_encryption(s->h, s->o->encryption, s->m->info_hash) != 0 ||
        make_events(s) != 0) {
        fprintf(stderr, "swarmlab: out of memory\n");
        return -1;
    }
    char err[1024];
    if (live_tracker_new(&s->t, s->base, s->m, s->o->bind, s->o->tracker_timeout_s, on_tracker, s,
                         err, sizeof(err)) != 0)
        say(s, "swarmlab: %s: %s", s->o->torrent_path, err);
    return 0;
}

static void teardown(session *s)
{
    struct event *evs[] = {s->sig_int, s->sig_term, s->progress, s->grace, s->sampler};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
    live_tracker_del(s->t);
    live_host_del(s->h);
    if (s->lis != NULL)
        evconnlistener_free(s->lis);
    if (s->base != NULL) {
        event_base_loop(s->base, EVLOOP_NONBLOCK); /* run the deferred frees */
        event_base_free(s->base);
    }
    bt_client_del(s->c);
    live_storage_del(s->st);
    live_out_del(s->out);
}

static void summary(session *s)
{
    bt_client_stats st;
    bt_client_get_stats(s->c, &st);
    double secs = (double)(live_now() - s->t0) / 1e6;
    if (s->progress_shown)
        fputs("\r\033[K", stderr);
    if (s->o->quiet)
        return;
    fprintf(stderr,
            "swarmlab: %s: %u/%u pieces, %.1f MiB down, %.1f MiB up, %u hash "
            "failures, %.1f s\n",
            s->m->name, st.pieces_have, s->m->npieces, (double)st.downloaded / 1048576.0,
            (double)st.uploaded / 1048576.0, st.hash_failures, secs);
    if (st.pad_blocks > 0)
        fprintf(stderr, "swarmlab: %s: %llu blocks of padding (BEP 47) not requested, %llu "
                "payload bytes down\n", s->m->name, (unsigned long long)st.pad_blocks,
                (unsigned long long)st.downloaded);
}

static int run(session *s)
{
    bt_client_stats st;
    bt_client_get_stats(s->c, &st);
    if (st.complete && !s->o->seed && !s->o->seed_after) {
        say(s, "swarmlab: %s: already complete in %s", s->m->name, s->o->dir);
        return 0;
    }
    if (!s->o->quiet)
        fprintf(stderr, "swarmlab: %s: %s on port %u, %u/%u pieces\n", s->m->name,
                st.complete ? "seeding" : "downloading", (unsigned)s->port, st.pieces_have,
                s->m->npieces);
    s->t0 = s->last_t = live_now();
    if (out_start(s) != 0)
        return 1;
    live_host_start(s->h);
    if (s->o->npeers > 0)
        live_host_add_peers(s->h, s->o->peers, s->o->npeers);
    event_base_dispatch(s->base);
    out_finish(s);
    const char *msg;
    if (live_host_error(s->h, &msg) != 0) {
        fprintf(stderr, "\nswarmlab: %s: %s\n", s->o->torrent_path, msg);
        return 1;
    }
    summary(s);
    return 0;
}

int live_session_run(const live_opts *o, const bt_metainfo *m)
{
    session s;
    memset(&s, 0, sizeof(s));
    s.o = o;
    s.m = m;
    bt_addr where;
    if (o->bind != NULL && live_addr_parse(&where, o->bind) != 0) {
        fprintf(stderr, "swarmlab: --bind %s: not a numeric IPv4 or IPv6 address\n", o->bind);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    uint8_t *have = calloc((m->npieces + 7) / 8, 1);
    int rc = 1;
    if (have != NULL && setup(&s, o->bind ? &where : NULL, have) == 0)
        rc = run(&s);
    teardown(&s);
    free(have);
    return rc;
}
