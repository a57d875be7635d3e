/* tests/unit/test_live_host.c: the live glue (live/live_host.c) without sockets: a seed and a
 * leecher host on one event_base, joined by bufferevent pairs, with disk storage in temporary
 * directories. Checks a whole transfer, a resume that fetches only the missing pieces, and a
 * lying seed whose corrupt piece is never written and gets it banned. */
#define _XOPEN_SOURCE 700
#include "test_live_fixture.h"

#include <CUnit/CUnit.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern int test_live_host_add_suite(void);

#define PL (32u << 10)

typedef struct side {
    bt_client *c;
    live_storage *st;
    live_host *h;
    bt_addr addr;
    char dir[256];
    int complete, bans, pieces_ok, pieces_bad, announces;
} side;

typedef struct world {
    struct event_base *base;
    side seed, leech;
    bool timed_out, closing;
    int stop_on_ban;
} world;

typedef struct deferred {
    world *w;
    bt_conn_id id;
} deferred;

static void later(world *w, event_callback_fn fn, bt_conn_id id)
{
    deferred *d = malloc(sizeof(*d));
    CU_ASSERT_FATAL(d != NULL);
    d->w = w;
    d->id = id;
    struct timeval zero = {0, 0};
    event_base_once(w->base, -1, EV_TIMEOUT, fn, d, &zero);
}

/* The leecher dials: a bufferevent pair, one end to each host. */
static void do_pair(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    deferred *d = arg;
    world *w = d->w;
    if (w->closing) {
        free(d);
        return;
    }
    struct bufferevent *pair[2];
    int rv = bufferevent_pair_new(w->base, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS, pair);
    CU_ASSERT_FATAL(rv == 0);
    CU_ASSERT_EQUAL(live_host_attach(w->leech.h, pair[0], d->id), 0);
    live_host_connected(w->leech.h, d->id);
    CU_ASSERT_EQUAL(live_host_accept(w->seed.h, pair[1], &w->leech.addr), 0);
    free(d);
}

static void hook_connect(live_host *h, bt_conn_id id, const bt_addr *addr, void *user)
{
    (void)h;
    world *w = user;
    CU_ASSERT(bt_addr_equal(addr, &w->seed.addr));
    later(w, do_pair, id);
}

static void do_reply(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    deferred *d = arg;
    world *w = d->w;
    if (w->closing) {
        free(d);
        return;
    }
    bt_announce_reply r;
    memset(&r, 0, sizeof(r));
    r.interval = 1800;
    r.min_interval = r.complete = r.incomplete = -1;
    r.peers = &w->seed.addr;
    r.npeers = d->id; /* 1 for the leecher, 0 for the seed */
    live_host_announce_reply(d->id ? w->leech.h : w->seed.h, &r);
    free(d);
}

static void hook_announce(live_host *h, const bt_announce_req *req, void *user)
{
    world *w = user;
    side *s = h == w->leech.h ? &w->leech : &w->seed;
    s->announces++;
    if (req->event != BT_EVENT_STOPPED)
        later(w, do_reply, s == &w->leech);
}

static void hook_event(live_host *h, const bt_action *a, void *user)
{
    world *w = user;
    side *s = h == w->leech.h ? &w->leech : &w->seed;
    if (a->type == BT_ACT_PIECE_DONE)
        *(a->ok ? &s->pieces_ok : &s->pieces_bad) += 1;
    if (a->type == BT_ACT_BAN)
        s->bans++;
    if (a->type == BT_ACT_COMPLETE)
        s->complete++;
    if ((a->type == BT_ACT_COMPLETE && s == &w->leech) || (a->type == BT_ACT_BAN && w->stop_on_ban))
        event_base_loopexit(w->base, NULL);
}

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    world *w = arg;
    w->timed_out = true;
    event_base_loopexit(w->base, NULL);
}

/* A host for |s|: storage in s->dir (checked unless |claim_all|), the engine told it has what
 * the check found (or everything). */
static void make_side(world *w, side *s, const tl_torrent *t, bool claim_all, uint16_t port)
{
    live_host_ops ops = {hook_connect, hook_announce, hook_event, w};
    uint8_t have[64] = {0};
    CU_ASSERT_FATAL(t->m->npieces <= 64 * 8);
    CU_ASSERT_FATAL(live_storage_open(&s->st, t->m, s->dir, !claim_all, NULL, 0) == 0);
    if (!claim_all)
        CU_ASSERT_FATAL(live_storage_check(s->st, have, NULL, 0) >= 0);
    bt_config cfg;
    bt_config_defaults(&cfg);
    memcpy(cfg.info_hash, t->m->info_hash, 20);
    cfg.piece_hashes = t->m->piece_hashes;
    cfg.npieces = t->m->npieces;
    cfg.piece_len = t->m->piece_length;
    cfg.total_len = t->m->total_length;
    cfg.seed = claim_all;
    cfg.have = have;
    cfg.listen_port = port;
    memset(cfg.peer_id, 'a' + port % 26, 20);
    CU_ASSERT_FATAL(bt_client_new(&s->c, &cfg, port, NULL) == 0);
    CU_ASSERT_FATAL(live_host_new(&s->h, w->base, s->c, s->st, &ops, NULL) == 0);
    live_addr_parse(&s->addr, "10.0.0.1");
    s->addr.port = port;
}

static void free_side(side *s)
{
    live_host_del(s->h);
    bt_client_del(s->c);
    live_storage_del(s->st);
    tl_rmtree(s->dir);
}

/* Runs seed and leecher until the leecher completes (or bans, with stop_on_ban), at most
 * |limit_s| s (a time-out counts as a failure unless |expect_timeout|). */
static void run_world_for(world *w, int limit_s, bool expect_timeout)
{
    struct event *guard = evtimer_new(w->base, on_guard, w);
    struct timeval limit = {limit_s, 0};
    evtimer_add(guard, &limit);
    CU_ASSERT_EQUAL(live_host_start(w->seed.h), 0);
    CU_ASSERT_EQUAL(live_host_start(w->leech.h), 0);
    event_base_dispatch(w->base);
    event_free(guard);
    CU_ASSERT(w->timed_out == expect_timeout);
    CU_ASSERT_EQUAL(live_host_error(w->seed.h, NULL), 0);
    CU_ASSERT_EQUAL(live_host_error(w->leech.h, NULL), 0);
}

static void run_world(world *w)
{
    run_world_for(w, 60, false);
}

static void end_world(world *w)
{
    w->closing = true;
    event_base_loop(w->base, EVLOOP_NONBLOCK); /* drop the deferred hooks still queued */
    free_side(&w->leech);
    free_side(&w->seed);
    event_base_loop(w->base, EVLOOP_NONBLOCK);
    event_base_free(w->base);
}

static const tl_file files[] = {{"one.bin", 300000}, {"sub/two.bin", 5}, {"sub/z/three", 400000}};

static void start_world(world *w, tl_torrent *t, uint64_t seed)
{
    memset(w, 0, sizeof(*w));
    CU_ASSERT_FATAL(tl_torrent_make(t, "pack", true, files, 3, PL, seed) == 0);
    w->base = event_base_new();
    CU_ASSERT_FATAL(w->base != NULL);
    CU_ASSERT_FATAL(tl_tmpdir(w->seed.dir, sizeof(w->seed.dir)) == 0);
    CU_ASSERT_FATAL(tl_tmpdir(w->leech.dir, sizeof(w->leech.dir)) == 0);
    CU_ASSERT_FATAL(tl_write_content(t, w->seed.dir) == 0);
}

static bool same_files(const tl_torrent *t, const char *dir)
{
    bool same = true;
    for (uint32_t i = 0; i < t->m->nfiles; i++) {
        char path[8192];
        uint8_t *got;
        snprintf(path, sizeof(path), "%s/%s/%s", dir, t->m->name, t->m->files[i].path);
        long n = tl_slurp(path, &got);
        same = same && n == (long)t->m->files[i].length &&
               memcmp(got, t->content + t->m->files[i].offset, (size_t)n) == 0;
        free(got);
    }
    return same;
}

static void test_transfer(void)
{
    world w;
    tl_torrent t;
    start_world(&w, &t, 11);
    make_side(&w, &w.seed, &t, false, 7001);
    make_side(&w, &w.leech, &t, false, 7002);
    run_world(&w);
    CU_ASSERT_EQUAL(w.leech.complete, 1);
    CU_ASSERT_EQUAL(w.leech.pieces_ok, (int)t.m->npieces);
    CU_ASSERT_EQUAL(w.leech.pieces_bad, 0);
    CU_ASSERT_EQUAL(live_storage_pending(w.leech.st), 0);
    CU_ASSERT(same_files(&t, w.leech.dir));
    bt_client_stats st;
    bt_client_get_stats(w.leech.c, &st);
    CU_ASSERT_EQUAL(st.downloaded, t.m->total_length);
    bt_client_get_stats(w.seed.c, &st);
    CU_ASSERT_EQUAL(st.uploaded, t.m->total_length);
    CU_ASSERT(w.leech.announces >= 1);
    end_world(&w);
    tl_torrent_free(&t);
}

static void test_resume_fetches_only_missing(void)
{
    world w;
    tl_torrent t;
    start_world(&w, &t, 12);
    /* The leecher already holds every piece but 3 and 7 (zeroed on disk). */
    tl_torrent holes = t;
    holes.content = malloc(t.m->total_length);
    CU_ASSERT_FATAL(holes.content != NULL);
    memcpy(holes.content, t.content, t.m->total_length);
    memset(holes.content + 3 * PL, 0, PL);
    memset(holes.content + 7 * PL, 0, PL);
    CU_ASSERT_FATAL(tl_write_content(&holes, w.leech.dir) == 0);
    free(holes.content);
    make_side(&w, &w.seed, &t, false, 7003);
    make_side(&w, &w.leech, &t, false, 7004);
    bt_client_stats st;
    bt_client_get_stats(w.leech.c, &st);
    CU_ASSERT_EQUAL(st.pieces_have, t.m->npieces - 2);
    run_world(&w);
    CU_ASSERT_EQUAL(w.leech.complete, 1);
    CU_ASSERT_EQUAL(w.leech.pieces_ok, 2);
    bt_client_get_stats(w.leech.c, &st);
    CU_ASSERT_EQUAL(st.downloaded, 2 * PL);
    CU_ASSERT(same_files(&t, w.leech.dir));
    end_world(&w);
    tl_torrent_free(&t);
}

static void test_corrupt_seed_banned(void)
{
    world w;
    tl_torrent t;
    start_world(&w, &t, 13);
    w.stop_on_ban = 1;
    /* The seed's disk has piece 4 corrupted, but its engine is told it has every piece. */
    tl_torrent bad = t;
    bad.content = malloc(t.m->total_length);
    CU_ASSERT_FATAL(bad.content != NULL);
    memcpy(bad.content, t.content, t.m->total_length);
    for (uint32_t i = 0; i < PL; i += 97)
        bad.content[4 * PL + i] ^= 0x55;
    CU_ASSERT_FATAL(tl_write_content(&bad, w.seed.dir) == 0);
    make_side(&w, &w.seed, &t, true, 7005);
    make_side(&w, &w.leech, &t, false, 7006);
    run_world(&w);
    CU_ASSERT_EQUAL(w.leech.bans, 1);
    CU_ASSERT(w.leech.pieces_bad >= 1);
    CU_ASSERT_EQUAL(w.leech.complete, 0);
    /* Piece 4 (bytes 131072..163840 of one.bin) never reached the leecher's disk. */
    char path[8192];
    uint8_t *got;
    snprintf(path, sizeof(path), "%s/pack/one.bin", w.leech.dir);
    long n = tl_slurp(path, &got);
    CU_ASSERT(n >= 0);
    for (long i = 4 * PL; i < n && i < 5 * (long)PL; i++)
        if (got[i] != 0) {
            CU_FAIL("bytes of the corrupt piece were written");
            break;
        }
    free(got);
    free(bad.content);
    end_world(&w);
    tl_torrent_free(&t);
}

/* The seed's data shrinks under it (a short read): it closes the connection it cannot serve
 * instead of sending anything wrong, and neither side fails. */
static void test_seed_read_error(void)
{
    world w;
    tl_torrent t;
    start_world(&w, &t, 14);
    make_side(&w, &w.seed, &t, false, 7007);
    make_side(&w, &w.leech, &t, false, 7008);
    char path[8192];
    snprintf(path, sizeof(path), "%s/pack/one.bin", w.seed.dir);
    CU_ASSERT_FATAL(truncate(path, 0) == 0);
    snprintf(path, sizeof(path), "%s/pack/sub/z/three", w.seed.dir);
    CU_ASSERT_FATAL(truncate(path, 0) == 0);
    run_world_for(&w, 2, true);
    CU_ASSERT_EQUAL(w.leech.complete, 0);
    CU_ASSERT_EQUAL(w.leech.pieces_bad, 0); /* nothing wrong was sent */
    CU_ASSERT_EQUAL(live_host_nconns(w.seed.h), 0);
    bt_client_stats st;
    bt_client_get_stats(w.seed.c, &st);
    CU_ASSERT_EQUAL(st.uploaded, 0);
    end_world(&w);
    tl_torrent_free(&t);
}

int test_live_host_add_suite(void)
{
    CU_pSuite s = CU_add_suite("live_host", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "transfer", test_transfer) == NULL ||
        CU_add_test(s, "resume_fetches_only_missing", test_resume_fetches_only_missing) == NULL ||
        CU_add_test(s, "corrupt_seed_banned", test_corrupt_seed_banned) == NULL ||
        CU_add_test(s, "seed_read_error", test_seed_read_error) == NULL)
        return 1;
    return 0;
}
