/* live_magnet.c: `swarmlab live download 'magnet:?...'`: a metadata phase before the session.
 * The engine runs in magnet mode (bt_config.fetch_metadata) on its own event loop, announces to
 * the link's trackers, dials the peers it learns (and x.pe / --peer ones), fetches the info dict
 * over ut_metadata (BEP 9, verified against the info hash); the torrent is then rebuilt from
 * the link's trackers and that dict for live_session_run, which creates the real client. Both
 * phases use the process's one peer id (live_opts.peer_id). */
#include "live.h"

#include "bt_bencode.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FETCH_LIMIT_S 300 /* give up when no peer gave us the metadata in this time */

typedef struct fetch {
    const live_opts *o;
    struct event_base *base;
    bt_client *c;
    live_host *h;
    live_tracker *t;
    struct event *poll, *limit;
    bool timed_out;
} fetch;

static void on_tracker(void *user, const bt_announce_reply *r, const char *error)
{
    fetch *f = user;
    if (error != NULL && !f->o->quiet)
        fprintf(stderr, "swarmlab: %s\n", error);
    if (r != NULL)
        live_host_announce_reply(f->h, r);
    else
        live_host_announce_error(f->h);
}

static void hook_announce(live_host *h, const bt_announce_req *req, void *user)
{
    (void)h;
    fetch *f = user;
    if (f->t != NULL && req->event != BT_EVENT_STOPPED)
        live_tracker_announce(f->t, req);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fetch *f = arg;
    size_t len;
    const char *msg;
    if (bt_client_metadata(f->c, &len) != NULL || live_host_error(f->h, &msg) != 0)
        event_base_loopexit(f->base, NULL);
}

static void on_limit(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fetch *f = arg;
    f->timed_out = true;
    event_base_loopexit(f->base, NULL);
}

/* The fetching engine: placeholder geometry, the real info hash. */
static int make_client(fetch *f, const bt_magnet *mg)
{
    static const uint8_t zero[20];
    bt_config cfg;
    bt_config_defaults(&cfg);
    memcpy(cfg.info_hash, mg->info_hash, 20);
    cfg.piece_hashes = zero;
    cfg.npieces = 1;
    cfg.piece_len = 1;
    cfg.total_len = 1;
    cfg.fetch_metadata = true;
    cfg.listen_port = f->o->port != 0 ? f->o->port : 6881;
    cfg.lenient = true;
    if (f->o->peer_id != NULL) /* the download phase announces with the same id */
        memcpy(cfg.peer_id, f->o->peer_id, 20);
    else
        live_peer_id_make(cfg.peer_id);
    return bt_client_new(&f->c, &cfg, live_seed(), NULL) == 0 ? 0 : -1;
}

/* A tracker-only metainfo for live_tracker_new (it reads the tracker list only). */
static int make_tracker(fetch *f, const bt_magnet *mg)
{
    bt_metainfo tm;
    memset(&tm, 0, sizeof(tm));
    memcpy(tm.info_hash, mg->info_hash, 20);
    tm.trackers = mg->trackers;
    tm.ntrackers = mg->ntrackers;
    char err[1024];
    if (live_tracker_new(&f->t, f->base, &tm, f->o->bind, f->o->tracker_timeout_s, on_tracker, f,
                         err, sizeof(err)) != 0 &&
        !f->o->quiet)
        fprintf(stderr, "swarmlab: magnet link: %s\n", err);
    return 0;
}

static int run_fetch(fetch *f, const bt_magnet *mg)
{
    bt_addr where;
    if (f->o->bind != NULL && live_addr_parse(&where, f->o->bind) != 0)
        return -1;
    live_host_ops ops = {.announce = hook_announce, .user = f};
    if ((f->base = event_base_new()) == NULL || make_client(f, mg) != 0 ||
        live_host_new(&f->h, f->base, f->c, NULL, &ops, f->o->bind ? &where : NULL) != 0 ||
        make_tracker(f, mg) != 0 ||
        (f->poll = event_new(f->base, -1, EV_PERSIST, on_poll, f)) == NULL ||
        (f->limit = evtimer_new(f->base, on_limit, f)) == NULL)
        return -1;
    struct timeval tick = {0, 200000}, limit = {FETCH_LIMIT_S, 0};
    evtimer_add(f->poll, &tick);
    evtimer_add(f->limit, &limit);
    live_host_start(f->h);
    if (mg->npeers > 0)
        live_host_add_peers(f->h, mg->peers, mg->npeers);
    if (f->o->npeers > 0)
        live_host_add_peers(f->h, f->o->peers, f->o->npeers);
    event_base_dispatch(f->base);
    return 0;
}

static void free_fetch(fetch *f)
{
    struct event *evs[] = {f->poll, f->limit};
    for (size_t i = 0; i < 2; i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
    live_tracker_del(f->t);
    live_host_del(f->h);
    if (f->base != NULL) {
        event_base_loop(f->base, EVLOOP_NONBLOCK); /* run the deferred frees */
        event_base_free(f->base);
    }
    bt_client_del(f->c);
}

/* d8:announce..13:announce-list..4:info<dict>e: the link's trackers, one per tier. */
static void wrap_torrent(bt_buf *b, const bt_magnet *mg, const uint8_t *info, size_t len)
{
    bt_ben_put_dict(b);
    if (mg->ntrackers > 0) {
        bt_ben_put_cstr(b, "announce");
        bt_ben_put_cstr(b, mg->trackers[0]);
        bt_ben_put_cstr(b, "announce-list");
        bt_ben_put_list(b);
        for (uint32_t i = 0; i < mg->ntrackers; i++) {
            bt_ben_put_list(b);
            bt_ben_put_cstr(b, mg->trackers[i]);
            bt_ben_put_end(b);
        }
        bt_ben_put_end(b);
    }
    bt_ben_put_cstr(b, "info");
    bt_buf_put(b, info, len);
    bt_ben_put_end(b);
}

/* After the fetch: the torrent for the session, or -1 with a message. */
static int finish(fetch *f, const bt_magnet *mg, const char *uri, bt_metainfo **out)
{
    size_t len = 0, off = 0;
    const uint8_t *info = bt_client_metadata(f->c, &len);
    const char *msg = NULL;
    if (info == NULL) {
        if (live_host_error(f->h, &msg) == 0)
            msg = f->timed_out ? "no peer sent the metadata in time" : "metadata fetch failed";
        fprintf(stderr, "swarmlab: %s: %s\n", uri, msg);
        return -1;
    }
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), BT_META_MAX_INPUT);
    wrap_torrent(&b, mg, info, len);
    int rc =
        b.err != 0 ? b.err : bt_metainfo_parse(out, b.data, b.len, bt_mem_default(), &off, &msg);
    bt_buf_free(&b);
    if (rc != 0) {
        fprintf(stderr, "swarmlab: %s: the fetched metadata is not a usable torrent: %s (%s)\n",
                uri, msg != NULL ? msg : "?", bt_strerror(rc));
        return -1;
    }
    if (!f->o->quiet)
        fprintf(stderr, "swarmlab: %s: metadata fetched (%zu bytes, %u pieces)\n", (*out)->name,
                len, (*out)->npieces);
    return 0;
}

int live_magnet_load(const live_opts *o, bt_metainfo **out)
{
    *out = NULL;
    const char *uri = o->torrent_path;
    bt_magnet mg;
    bt_magnet_error err = {0, NULL};
    int rc = bt_magnet_parse(&mg, uri, strlen(uri), bt_mem_default(), &err);
    if (rc != 0) {
        fprintf(stderr, "swarmlab: magnet link: at byte %zu: %s (%s)\n", err.offset,
                err.msg != NULL ? err.msg : "?", bt_strerror(rc));
        return -1;
    }
    if (mg.ntrackers == 0 && mg.npeers == 0 && o->npeers == 0 && !o->quiet)
        fprintf(stderr, "swarmlab: magnet link has no tracker (tr=) and no peer (x.pe=): "
                        "without DHT nobody can be found\n");
    fetch f;
    memset(&f, 0, sizeof(f));
    f.o = o;
    rc = run_fetch(&f, &mg);
    if (rc != 0)
        fprintf(stderr, "swarmlab: %s: cannot start the metadata fetch\n", uri);
    else
        rc = finish(&f, &mg, uri, out);
    free_fetch(&f);
    bt_magnet_free(&mg);
    return rc;
}
