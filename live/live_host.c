/* live_host.c: the glue between one bt_client and libevent. Read callbacks feed the engine
 * (evbuffer_peek -> bt_conn_recv -> evbuffer_drain), topping up a plaintext socket's input
 * with large reads of their own (libevent 2.1 reads at most 4 KiB per wake-up), output is
 * pulled from the engine into the bufferevent (bt_conn_pull_send -> bufferevent_write ->
 * bt_conn_sent), pieces are verified and written on the storage's verify thread (results
 * come back through its eventfd), and after every engine call the actions are drained and
 * the single evtimer re-armed at the next deadline. */
#include "live.h"
#include "live_mse.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define OUT_HIGH (512u << 10) /* bytes queued in a bufferevent before we stop pulling */
#define OUT_LOW (128u << 10)  /* the write callback pulls again below this */
#define PEEK_VECS 16
#define IO_CHUNK (256u << 10)  /* most bytes one read or write syscall moves */
#define READ_BUDGET (1u << 20) /* most bytes one read callback takes from its socket */
#define PROBE_MAX 4096u        /* bytes kept from a plaintext probe for an MSE redial */

typedef struct live_conn {
    live_host *h;
    bt_conn_id id;
    struct bufferevent *bev; /* NULL while a hooked connect is pending */
    bool connecting;         /* outgoing, not yet connected */
    bool feeding;            /* inside feed(): a nested read callback leaves the input alone */
    /* --encryption prefer-plain: a plaintext dial the peer has not answered yet. If the peer
     * drops it before sending a byte, the dialler redials with MSE and the bytes the engine
     * sent (|probe_sent|, its handshake) are replayed on the new stream: the engine never
     * learns that its transport changed. */
    bool probe;
    bt_addr probe_addr;
    struct evbuffer *probe_sent;
} live_conn;

struct live_host {
    struct event_base *base;
    bt_client *c;
    live_storage *st;
    live_host_ops ops;
    bt_addr bind;
    bool has_bind;
    struct event *timer;
    live_conn **conns;
    uint32_t nconns, conns_cap;
    struct bufferevent_rate_limit_group *group;
    struct ev_token_bucket_cfg *bucket;
    int error;
    char msg[512];
    bool draining;          /* inside after(): nested calls leave the draining to it */
    live_mse_ctx *mse;      /* the encryption layer (live_mse_dial.c), or NULL */
    struct event *verified; /* on the storage's verify thread's fd, from the first verify */
    bool reads_paused;      /* the verify thread is behind: no socket is read (backlogged) */
};

static void after(live_host *h);

static void fail(live_host *h, int err, const char *msg)
{
    if (h->error != 0)
        return;
    h->error = err;
    snprintf(h->msg, sizeof(h->msg), "%s", msg);
    event_base_loopbreak(h->base);
}

static void check(live_host *h, int rv)
{
    if (rv <= BT_ERR_FATAL) {
        char m[128];
        snprintf(m, sizeof(m), "engine: %s", bt_strerror(rv));
        fail(h, rv, m);
    }
}

/* ---- the connection table (small: a linear scan) ---- */

static live_conn *find_conn(live_host *h, bt_conn_id id, uint32_t *idx)
{
    for (uint32_t i = 0; i < h->nconns; i++)
        if (h->conns[i]->id == id) {
            if (idx != NULL)
                *idx = i;
            return h->conns[i];
        }
    return NULL;
}

static live_conn *add_conn(live_host *h, bt_conn_id id)
{
    if (h->nconns == h->conns_cap) {
        uint32_t ncap = h->conns_cap ? h->conns_cap * 2 : 32;
        live_conn **n = realloc(h->conns, ncap * sizeof(*n));
        if (n == NULL)
            return NULL;
        h->conns = n;
        h->conns_cap = ncap;
    }
    live_conn *lc = calloc(1, sizeof(*lc));
    if (lc == NULL)
        return NULL;
    lc->h = h;
    lc->id = id;
    h->conns[h->nconns++] = lc;
    return lc;
}

static void probe_end(live_conn *lc)
{
    lc->probe = false;
    if (lc->probe_sent != NULL)
        evbuffer_free(lc->probe_sent);
    lc->probe_sent = NULL;
}

/* Frees the transport and forgets the connection (the engine is told by the caller). */
static void drop_conn(live_host *h, bt_conn_id id)
{
    uint32_t idx;
    live_conn *lc = find_conn(h, id, &idx);
    if (lc == NULL)
        return;
    if (lc->bev != NULL)
        bufferevent_free(lc->bev);
    else if (h->mse != NULL)
        live_mse_forget(h->mse, id); /* a dial still handshaking */
    probe_end(lc);
    h->conns[idx] = h->conns[--h->nconns];
    free(lc);
}

/* ---- output: engine -> bufferevent ---- */

/* Appends |len| bytes of stored payload at (piece, begin) to |out|. 0 or -1. */
static int add_payload(live_host *h, struct evbuffer *out, const bt_seg *s, size_t len)
{
    struct evbuffer_iovec v;
    if (evbuffer_reserve_space(out, (ev_ssize_t)len, &v, 1) == 1 && v.iov_len >= len) {
        if (live_storage_read(h->st, s->piece, s->begin, v.iov_base, (uint32_t)len) != 0)
            return -1;
        v.iov_len = len;
        return evbuffer_commit_space(out, &v, 1);
    }
    return -1;
}

/* Pulls the connection's output into its bufferevent until OUT_HIGH bytes are queued.
 * Returns -1 when stored payload could not be read (the caller closes the connection). */
static int flush_conn(live_host *h, live_conn *lc)
{
    if (lc->bev == NULL || lc->connecting)
        return 0;
    struct evbuffer *out = bufferevent_get_output(lc->bev);
    for (;;) {
        size_t queued = evbuffer_get_length(out);
        if (queued >= OUT_HIGH)
            return 0;
        const bt_seg *segs;
        bt_time_us now = live_now();
        bt_ssize n = bt_conn_pull_send(h->c, lc->id, &segs, now);
        if (n <= 0) {
            check(h, (int)n);
            return 0;
        }
        size_t room = OUT_HIGH - queued, moved = 0;
        for (bt_ssize k = 0; k < n && moved < room; k++) {
            size_t take = segs[k].len < room - moved ? segs[k].len : room - moved;
            if (segs[k].is_virtual) {
                probe_end(lc); /* payload: the peer has answered long ago */
                if (add_payload(h, out, &segs[k], take) != 0)
                    return -1;
            } else if (bufferevent_write(lc->bev, segs[k].data, take) != 0) {
                return -1;
            } else if (lc->probe && (evbuffer_get_length(lc->probe_sent) + take > PROBE_MAX ||
                                     evbuffer_add(lc->probe_sent, segs[k].data, take) != 0)) {
                probe_end(lc);
            }
            moved += take;
        }
        bt_conn_sent(h->c, lc->id, moved, now);
        if (moved == 0)
            return 0;
    }
}

/* Flushes, and on a storage read error closes the connection and tells the engine (false:
 * |lc| is gone). */
static bool flush_or_close(live_host *h, live_conn *lc)
{
    if (flush_conn(h, lc) == 0)
        return true;
    bt_conn_id id = lc->id;
    fprintf(stderr, "swarmlab: reading stored payload failed: %s\n", strerror(errno));
    drop_conn(h, id);
    bt_conn_closed(h->c, id, live_now());
    return false;
}

/* ---- backpressure from the verify thread ---- */

static void set_reading(live_host *h, bool on)
{
    h->reads_paused = !on;
    for (uint32_t i = 0; i < h->nconns; i++) {
        struct bufferevent *bev = h->conns[i]->bev;
        if (bev != NULL && on)
            bufferevent_enable(bev, EV_READ);
        else if (bev != NULL)
            bufferevent_disable(bev, EV_READ);
    }
}

/* ---- bufferevent callbacks ---- */

/* Feeds the input buffer to the engine and drains it. False when the engine closed the
 * connection or failed (the rest is ignored). Blocks that lie whole in one chunk of the
 * buffer are not copied by the engine (bt_conn_recv_borrow): their actions are taken before
 * the chunk is drained (unless an outer after() is draining: then they are copied). */
static bool feed(live_host *h, live_conn *lc, struct evbuffer *in)
{
    bt_conn_id id = lc->id;
    bool borrow = !h->draining;
    while (evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v[PEEK_VECS];
        int nv = evbuffer_peek(in, -1, NULL, v, PEEK_VECS);
        size_t consumed = 0;
        bt_time_us now = live_now();
        for (int i = 0; i < nv && i < PEEK_VECS; i++) {
            bt_ssize r = borrow ? bt_conn_recv_borrow(h->c, id, v[i].iov_base, v[i].iov_len, now)
                                : bt_conn_recv(h->c, id, v[i].iov_base, v[i].iov_len, now);
            if (r < 0) {
                check(h, (int)r);
                return false; /* unknown id (closed) or fatal */
            }
            if ((size_t)r < v[i].iov_len)
                return false; /* the engine closed it */
            consumed += v[i].iov_len;
        }
        if (borrow && bt_client_peek_action(h->c, 0) != NULL) {
            lc->feeding = true; /* |consumed| bytes are fed but still in |in| */
            after(h);           /* the borrowed blocks go to storage while |in| holds them */
            if (find_conn(h, id, NULL) == NULL)
                return false; /* closed meanwhile: |lc| and |in| are gone */
            lc->feeding = false;
            if (h->error != 0)
                return false;
        }
        evbuffer_drain(in, consumed);
    }
    return true;
}

/* One read of up to IO_CHUNK bytes straight from a plaintext socket into |in|, past
 * libevent 2.1's 4 KiB cap (evbuffer_read, whatever bufferevent_set_max_single_read says).
 * Not under a rate limit (the group meters only libevent's reads) nor an MSE filter. End of
 * stream and errors are left to the bufferevent, which sees them on its next read. Returns
 * the bytes read (0: nothing now). */
static size_t read_more(live_host *h, struct bufferevent *bev, struct evbuffer *in)
{
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (h->group != NULL || fd < 0 || bufferevent_get_underlying(bev) != NULL)
        return 0;
    struct evbuffer_iovec v[2];
    evbuffer_unfreeze(in, 0); /* the bufferevent keeps its input's end frozen between reads */
    int nv = evbuffer_reserve_space(in, IO_CHUNK, v, 2);
    ssize_t r = nv > 0 ? readv(fd, v, nv) : -1;
    size_t got = r > 0 ? (size_t)r : 0, left = got;
    for (int i = 0; i < nv; i++) {
        v[i].iov_len = left < v[i].iov_len ? left : v[i].iov_len;
        left -= v[i].iov_len;
    }
    if (nv > 0)
        evbuffer_commit_space(in, v, nv);
    evbuffer_freeze(in, 0);
    return got;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    live_conn *lc = arg;
    live_host *h = lc->h;
    if (lc->feeding)
        return; /* called back from inside feed(): the outer call reads on */
    struct evbuffer *in = bufferevent_get_input(bev);
    if (lc->probe && evbuffer_get_length(in) > 0)
        probe_end(lc); /* the peer speaks plaintext */
    /* Our requests go out after every read, before the next one: the peer's pipeline must
     * not wait for the whole budget. */
    for (size_t budget = READ_BUDGET, n = 0;; budget -= n < budget ? n : budget) {
        if (!feed(h, lc, in) || !flush_or_close(h, lc) || budget == 0 || h->reads_paused ||
            (n = read_more(h, bev, in)) == 0)
            break;
    }
    after(h); /* may free |lc| (a CLOSE action) */
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    live_conn *lc = arg;
    live_host *h = lc->h;
    flush_or_close(h, lc);
    after(h);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    live_conn *lc = arg;
    live_host *h = lc->h;
    bt_conn_id id = lc->id;
    if ((what & BEV_EVENT_CONNECTED) && lc->connecting) {
        lc->connecting = false;
        check(h, bt_conn_connected(h->c, id, live_now()));
        flush_or_close(h, lc);
    } else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        if (lc->probe && h->mse != NULL) {
            /* dropped unanswered: perhaps the peer requires encryption; redial with MSE */
            lc->probe = false;
            bufferevent_free(lc->bev);
            lc->bev = NULL;
            if (live_mse_redial(h->mse, id, &lc->probe_addr) == 0) {
                after(h);
                return;
            }
        }
        drop_conn(h, id);
        bt_conn_closed(h->c, id, live_now());
    }
    after(h);
}

/* The bufferevent on the socket: under an MSE filter, its underlying one (the rate limits
 * apply to the socket; a filter is driven by it). */
static struct bufferevent *socket_bev(struct bufferevent *bev)
{
    struct bufferevent *u = bufferevent_get_underlying(bev);
    return u != NULL ? u : bev;
}

static void setup_bev(live_host *h, live_conn *lc, struct bufferevent *bev)
{
    lc->bev = bev;
    bufferevent_setcb(bev, on_read, on_write, on_event, lc);
    bufferevent_setwatermark(bev, EV_WRITE, OUT_LOW, 0);
    bufferevent_set_max_single_read(bev, IO_CHUNK); /* libevent's default is 16 KiB */
    bufferevent_set_max_single_write(bev, IO_CHUNK);
    if (h->group != NULL)
        bufferevent_add_to_rate_limit_group(socket_bev(bev), h->group);
    bufferevent_enable(bev, h->reads_paused ? EV_WRITE : EV_READ | EV_WRITE);
    if (evbuffer_get_length(bufferevent_get_input(bev)) > 0) /* read past an MSE handshake */
        bufferevent_trigger(bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}

int live_host_attach(live_host *h, struct bufferevent *bev, bt_conn_id id)
{
    live_conn *lc = find_conn(h, id, NULL);
    if (lc == NULL && (lc = add_conn(h, id)) == NULL)
        return -1;
    if (lc->bev != NULL && lc->bev != bev)
        bufferevent_free(lc->bev);
    setup_bev(h, lc, bev);
    return 0;
}

int live_host_accept(live_host *h, struct bufferevent *bev, const bt_addr *from)
{
    if (h->mse != NULL) {
        live_mse_accept(h->mse, bev, from); /* then live_host_accept_now */
        return 0;
    }
    return live_host_accept_now(h, bev, from);
}

int live_host_accept_now(live_host *h, struct bufferevent *bev, const bt_addr *from)
{
    bt_conn_id id;
    int rv = bt_client_accept(h->c, from, &id, live_now());
    if (rv != 0) {
        check(h, rv);
        bufferevent_free(bev);
        after(h);
        return -1;
    }
    if (live_host_attach(h, bev, id) != 0) {
        bufferevent_free(bev);
        bt_conn_closed(h->c, id, live_now());
        after(h);
        return -1;
    }
    after(h);
    return 0;
}

void live_host_connected(live_host *h, bt_conn_id id)
{
    live_conn *lc = find_conn(h, id, NULL);
    if (lc == NULL || lc->bev == NULL) {
        live_host_connect_failed(h, id);
        return;
    }
    lc->connecting = false;
    check(h, bt_conn_connected(h->c, id, live_now()));
    flush_or_close(h, lc);
    after(h);
}

static void connect_failed(live_host *h, bt_conn_id id);

void live_host_probe_plain(live_host *h, bt_conn_id id, const bt_addr *addr)
{
    live_conn *lc = find_conn(h, id, NULL);
    if (lc == NULL || lc->bev == NULL || lc->probe)
        return;
    if ((lc->probe_sent = evbuffer_new()) == NULL)
        return; /* no redial then */
    lc->probe = true;
    lc->probe_addr = *addr;
}

void live_host_redialed(live_host *h, struct bufferevent *bev, bt_conn_id id)
{
    live_conn *lc = find_conn(h, id, NULL);
    if (lc == NULL || lc->bev != NULL || lc->probe_sent == NULL) {
        bufferevent_free(bev);
        if (lc != NULL)
            connect_failed(h, id);
        after(h);
        return;
    }
    setup_bev(h, lc, bev);
    int rv = bufferevent_write_buffer(bev, lc->probe_sent); /* the engine's first bytes */
    probe_end(lc);
    if (rv != 0)
        connect_failed(h, id);
    else
        flush_or_close(h, lc);
    after(h);
}

void live_host_connect_failed(live_host *h, bt_conn_id id)
{
    connect_failed(h, id);
    after(h);
}

/* ---- actions ---- */

/* A connection that never got a transport: forget it and tell the engine (no drain: the
 * caller is inside one). */
static void connect_failed(live_host *h, bt_conn_id id)
{
    drop_conn(h, id);
    bt_conn_closed(h->c, id, live_now());
}

/* Default CONNECT: bufferevent_socket_connect on a fresh socket. */
static void do_connect(live_host *h, bt_conn_id id, const bt_addr *addr)
{
    struct sockaddr_storage ss;
    int slen = live_addr_to_sockaddr(addr, &ss);
    live_conn *lc = add_conn(h, id);
    if (lc != NULL && h->mse != NULL) {
        if (live_mse_dial(h->mse, id, addr) != 0)
            connect_failed(h, id);
        return;
    }
    evutil_socket_t fd = lc != NULL ? live_socket_open(addr, h->has_bind ? &h->bind : NULL) : -1;
    struct bufferevent *bev = NULL;
    if (fd >= 0) {
        bev = bufferevent_socket_new(h->base, fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
        if (bev == NULL)
            close(fd);
    }
    if (bev == NULL) {
        connect_failed(h, id);
        return;
    }
    lc->connecting = true;
    setup_bev(h, lc, bev);
    if (bufferevent_socket_connect(bev, (struct sockaddr *)&ss, slen) != 0)
        connect_failed(h, id);
}

/* The verify thread finished pieces: the engine learns each result (a verified piece's bytes
 * are in the files by now). */
static void on_verified(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    live_host *h = arg;
    uint32_t piece;
    uint8_t d[20];
    const uint8_t *data;
    char err[512];
    int rv;
    while (h->error == 0 &&
           (rv = live_storage_verify_collect(h->st, &piece, d, &data, err, sizeof(err))) != 0) {
        if (rv < 0) {
            fail(h, -1, err);
            break;
        }
        check(h, bt_client_verify_result_bytes(h->c, piece, d, data, live_now()));
    }
    if (h->reads_paused && !live_storage_backlogged(h->st, true))
        set_reading(h, true);
    after(h);
}

static void do_verify(live_host *h, const bt_action *a)
{
    uint8_t d[20];
    char err[512];
    int rv = live_storage_verify_start(h->st, a->piece);
    if (rv == 0 && h->verified == NULL) {
        h->verified =
            event_new(h->base, live_storage_verify_fd(h->st), EV_READ | EV_PERSIST, on_verified, h);
        if (h->verified == NULL || event_add(h->verified, NULL) != 0)
            fail(h, BT_ERR_NOMEM, "storage: cannot watch the verify thread");
    }
    if (rv == 0) {
        if (!h->reads_paused && live_storage_backlogged(h->st, false))
            set_reading(h, false);
        return;
    }
    if (rv < 0) {
        fail(h, BT_ERR_NOMEM, "storage: cannot start the verify of a piece");
        return;
    }
    if (live_storage_verify(h->st, a->piece, d, err, sizeof(err)) != 0) { /* nothing received */
        fail(h, -1, err);
        return;
    }
    check(h, bt_client_verify_result(h->c, a->piece, d, live_now()));
}

static void handle(live_host *h, const bt_action *a)
{
    switch (a->type) {
    case BT_ACT_CONNECT:
        if (h->ops.connect != NULL)
            h->ops.connect(h, a->conn, &a->addr, h->ops.user);
        else
            do_connect(h, a->conn, &a->addr);
        return;
    case BT_ACT_CLOSE:
        drop_conn(h, a->conn);
        break;
    case BT_ACT_SEND: {
        live_conn *lc = find_conn(h, a->conn, NULL);
        if (lc != NULL)
            flush_or_close(h, lc);
        return;
    }
    case BT_ACT_ANNOUNCE:
        if (h->ops.announce != NULL)
            h->ops.announce(h, &a->announce, h->ops.user);
        return;
    case BT_ACT_STORAGE_WRITE:
        if (a->data != NULL &&
            live_storage_block(h->st, a->piece, a->begin, a->data, a->length) != 0)
            fail(h, BT_ERR_NOMEM, "storage: out of memory for a received block");
        return;
    case BT_ACT_STORAGE_VERIFY:
        do_verify(h, a);
        return;
    default:
        break;
    }
    if (h->ops.event != NULL)
        h->ops.event(h, a, h->ops.user);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    live_host *h = arg;
    check(h, bt_client_on_timer(h->c, live_now()));
    after(h);
}

/* Drains the actions, then re-arms the one timer at the engine's next deadline. */
static void after(live_host *h)
{
    /* A hook that calls back into the host (a tracker error answered at once, a stop on
     * completion) makes engine calls inside this loop: their actions are drained here, by
     * the outermost call, which also re-arms the timer. */
    if (h->draining)
        return;
    h->draining = true;
    bt_action a;
    while (h->error == 0 && bt_client_poll_action(h->c, &a) == 1)
        handle(h, &a);
    h->draining = false;
    bt_time_us d = bt_client_next_deadline(h->c), now = live_now();
    if (d == BT_TIME_NEVER || h->error != 0) {
        evtimer_del(h->timer);
        return;
    }
    bt_time_us wait = d > now ? d - now : 0;
    struct timeval tv = {(time_t)(wait / BT_US_PER_S), (suseconds_t)(wait % BT_US_PER_S)};
    evtimer_add(h->timer, &tv);
}

/* ---- life cycle ---- */

int live_host_new(live_host **out, struct event_base *base, bt_client *c, live_storage *st,
                  const live_host_ops *ops, const bt_addr *bind)
{
    live_host *h = calloc(1, sizeof(*h));
    *out = NULL;
    if (h == NULL)
        return -1;
    h->base = base;
    h->c = c;
    h->st = st;
    if (ops != NULL)
        h->ops = *ops;
    if (bind != NULL) {
        h->bind = *bind;
        h->bind.port = 0;
        h->has_bind = true;
    }
    h->timer = evtimer_new(base, on_timer, h);
    if (h->timer == NULL) {
        free(h);
        return -1;
    }
    *out = h;
    return 0;
}

void live_host_del(live_host *h)
{
    if (h == NULL)
        return;
    live_mse_ctx_del(h->mse);
    for (uint32_t i = 0; i < h->nconns; i++) {
        if (h->conns[i]->bev != NULL)
            bufferevent_free(h->conns[i]->bev);
        probe_end(h->conns[i]);
        free(h->conns[i]);
    }
    free(h->conns);
    if (h->group != NULL)
        bufferevent_rate_limit_group_free(h->group);
    if (h->bucket != NULL)
        ev_token_bucket_cfg_free(h->bucket);
    if (h->verified != NULL)
        event_free(h->verified);
    event_free(h->timer);
    free(h);
}

void live_host_announce_reply(live_host *h, const bt_announce_reply *r)
{
    check(h, bt_client_on_announce(h->c, r, live_now()));
    after(h);
}

void live_host_announce_error(live_host *h)
{
    check(h, bt_client_on_announce_error(h->c, live_now()));
    after(h);
}

void live_host_add_peers(live_host *h, const bt_addr *peers, size_t n)
{
    check(h, bt_client_add_peers(h->c, peers, n, live_now()));
    after(h);
}

int live_host_start(live_host *h)
{
    int rv = bt_client_start(h->c, live_now());
    check(h, rv);
    after(h);
    return rv;
}

int live_host_stop(live_host *h)
{
    int rv = bt_client_stop(h->c, live_now());
    check(h, rv);
    after(h);
    return rv;
}

int live_host_set_encryption(live_host *h, live_encryption mode, const uint8_t info_hash[20])
{
    if (mode == LIVE_ENC_OFF)
        return 0;
    const bt_addr *bind = h->has_bind ? &h->bind : NULL;
    h->mse = live_mse_ctx_new(h, h->base, mode, info_hash, bind);
    return h->mse != NULL ? 0 : -1;
}

int live_host_error(const live_host *h, const char **msg)
{
    if (msg != NULL)
        *msg = h->msg;
    return h->error;
}

uint32_t live_host_nconns(const live_host *h)
{
    return h->nconns;
}

int live_host_set_rate_limit(live_host *h, uint64_t up_bps, uint64_t down_bps)
{
    if (up_bps == 0 && down_bps == 0)
        return 0;
    size_t rmax = EV_RATE_LIMIT_MAX;
    size_t rd = down_bps && down_bps < rmax ? (size_t)down_bps : rmax;
    size_t wr = up_bps && up_bps < rmax ? (size_t)up_bps : rmax;
    /* Per-tick rates on a 100 ms tick; bursts of one second. */
    size_t rtick = rd == rmax ? rmax : (rd / 10 ? rd / 10 : 1);
    size_t wtick = wr == rmax ? rmax : (wr / 10 ? wr / 10 : 1);
    struct timeval tick = {0, 100000};
    h->bucket = ev_token_bucket_cfg_new(rtick, rd, wtick, wr, &tick);
    if (h->bucket == NULL)
        return -1;
    h->group = bufferevent_rate_limit_group_new(h->base, h->bucket);
    if (h->group == NULL)
        return -1;
    for (uint32_t i = 0; i < h->nconns; i++)
        if (h->conns[i]->bev != NULL)
            bufferevent_add_to_rate_limit_group(socket_bev(h->conns[i]->bev), h->group);
    return 0;
}

size_t live_host_conn_ids(const live_host *h, bt_conn_id *out, size_t max)
{
    size_t n = 0;
    for (uint32_t i = 0; i < h->nconns && n < max; i++)
        out[n++] = h->conns[i]->id;
    return n;
}
