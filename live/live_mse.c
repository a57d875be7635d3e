/* live_mse.c: one MSE/PE handshake on a connected bufferevent (engine/bt_mse.c does the
 * protocol), then the stream: a bufferevent filter running the negotiated RC4 both ways, or
 * for plaintext the socket's own bufferevent with the already-read prefix put back. */
#include "live_mse.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>

#define CHUNK (64u << 10)       /* bytes one filter step moves at a time */
#define WRITE_HIGH (512u << 10) /* the filter stops moving output above this in the socket */
#define IO_CHUNK (256u << 10)

struct live_mse_hs {
    struct bufferevent *bev;
    bt_mse *m;
    bool initiator, allow_plain_bt;
    live_mse_cb cb;
    void *user;
};

void live_mse_hs_del(live_mse_hs *hs)
{
    if (hs == NULL)
        return;
    if (hs->bev != NULL)
        bufferevent_free(hs->bev);
    bt_mse_del(hs->m);
    free(hs);
}

/* Reports the outcome and frees |hs| (the socket too when |bev| is NULL). */
static void finish(live_mse_hs *hs, struct bufferevent *bev, const char *err)
{
    if (bev == NULL) {
        if (hs->bev != NULL)
            bufferevent_free(hs->bev);
    } else {
        bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
    }
    hs->bev = NULL;
    live_mse_cb cb = hs->cb;
    void *user = hs->user;
    live_mse_hs_del(hs);
    cb(bev, err, user);
}

/* Moves |src| to |dst| (at most |limit| bytes when positive) through |m|'s RC4. */
static enum bufferevent_filter_result crypt_move(struct evbuffer *src, struct evbuffer *dst,
                                                 ev_ssize_t limit, bt_mse *m, bool enc)
{
    size_t left = evbuffer_get_length(src), moved = 0;
    if (limit > 0 && (size_t)limit < left)
        left = (size_t)limit;
    while (left > 0) {
        size_t n = left < CHUNK ? left : CHUNK;
        struct evbuffer_iovec v;
        if (evbuffer_reserve_space(dst, (ev_ssize_t)n, &v, 1) < 1 || v.iov_len < n)
            return BEV_ERROR;
        if (evbuffer_remove(src, v.iov_base, n) != (int)n)
            return BEV_ERROR;
        if (enc)
            bt_mse_encrypt(m, v.iov_base, n);
        else
            bt_mse_decrypt(m, v.iov_base, n);
        v.iov_len = n;
        if (evbuffer_commit_space(dst, &v, 1) != 0)
            return BEV_ERROR;
        left -= n;
        moved += n;
    }
    return moved > 0 ? BEV_OK : BEV_NEED_MORE;
}

static enum bufferevent_filter_result filter_in(struct evbuffer *src, struct evbuffer *dst,
                                                ev_ssize_t limit, enum bufferevent_flush_mode mode,
                                                void *ctx)
{
    (void)mode;
    return crypt_move(src, dst, limit, ctx, false);
}

static enum bufferevent_filter_result filter_out(struct evbuffer *src, struct evbuffer *dst,
                                                 ev_ssize_t limit, enum bufferevent_flush_mode mode,
                                                 void *ctx)
{
    (void)mode;
    return crypt_move(src, dst, limit, ctx, true);
}

static void free_mse(void *ctx)
{
    bt_mse_del(ctx);
}

/* RC4: wraps the socket in a filter that owns |hs->m|; its input starts with the prefix and the
 * decrypted rest of what was read. NULL on failure. */
static struct bufferevent *wrap_rc4(live_mse_hs *hs, const uint8_t *prefix, size_t plen)
{
    struct bufferevent *f =
        bufferevent_filter_new(hs->bev, filter_in, filter_out,
                               BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS, free_mse, hs->m);
    if (f == NULL)
        return NULL;
    struct evbuffer *fin = bufferevent_get_input(f);
    struct evbuffer *raw = bufferevent_get_input(hs->bev);
    bt_mse *m = hs->m;
    hs->m = NULL; /* the filter owns the codec and the socket now */
    hs->bev = NULL;
    if ((plen > 0 && evbuffer_add(fin, prefix, plen) != 0) ||
        crypt_move(raw, fin, -1, m, false) == BEV_ERROR) {
        bufferevent_free(f);
        return NULL;
    }
    return f;
}

/* DONE or PLAIN_BT: hands over the stream. */
static void complete(live_mse_hs *hs, bool plain_bt)
{
    const uint8_t *prefix;
    size_t plen = bt_mse_prefix(hs->m, &prefix);
    bufferevent_set_timeouts(hs->bev, NULL, NULL);
    bufferevent_setwatermark(hs->bev, EV_WRITE, 0, WRITE_HIGH);
    bufferevent_set_max_single_read(hs->bev, IO_CHUNK);
    bufferevent_set_max_single_write(hs->bev, IO_CHUNK);
    if (plain_bt && !hs->allow_plain_bt) {
        finish(hs, NULL, "plain BitTorrent handshake refused (encryption required)");
        return;
    }
    if (plain_bt || bt_mse_method(hs->m) == BT_MSE_PLAINTEXT) {
        if (plen > 0 && evbuffer_prepend(bufferevent_get_input(hs->bev), prefix, plen) != 0) {
            finish(hs, NULL, "out of memory");
            return;
        }
        struct bufferevent *b = hs->bev;
        hs->bev = NULL;
        finish(hs, b, NULL);
        return;
    }
    struct bufferevent *f = wrap_rc4(hs, prefix, plen);
    finish(hs, f, f == NULL ? "out of memory" : NULL);
}

/* Writes the codec's pending bytes to the socket. 0 or -1. */
static int send_pending(live_mse_hs *hs)
{
    const uint8_t *p;
    size_t n = bt_mse_pending(hs->m, &p);
    if (n == 0)
        return 0;
    if (bufferevent_write(hs->bev, p, n) != 0)
        return -1;
    bt_mse_sent(hs->m, n);
    return 0;
}

static void hs_read(struct bufferevent *bev, void *arg)
{
    live_mse_hs *hs = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (bt_mse_status_get(hs->m) == BT_MSE_HANDSHAKING && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        bt_ssize r = bt_mse_recv(hs->m, v.iov_base, v.iov_len);
        if (r < 0)
            break;
        evbuffer_drain(in, (size_t)r);
    }
    if (send_pending(hs) != 0) {
        finish(hs, NULL, "out of memory");
        return;
    }
    switch (bt_mse_status_get(hs->m)) {
    case BT_MSE_DONE:
        complete(hs, false);
        return;
    case BT_MSE_PLAIN_BT:
        complete(hs, true);
        return;
    case BT_MSE_FAILED:
        finish(hs, NULL, bt_strerror(bt_mse_error(hs->m, NULL)));
        return;
    default:
        return;
    }
}

static void hs_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    live_mse_hs *hs = arg;
    if (what & BEV_EVENT_TIMEOUT)
        finish(hs, NULL, "MSE handshake timed out");
    else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        finish(hs, NULL, "connection closed during the MSE handshake");
}

int live_mse_hs_new(live_mse_hs **out, struct bufferevent *bev, const bt_mse_config *cfg,
                    bool allow_plain_bt, bt_pcg32 *rng, int timeout_s, live_mse_cb cb, void *user)
{
    live_mse_hs *hs = calloc(1, sizeof(*hs));
    *out = NULL;
    if (hs == NULL || bt_mse_new(&hs->m, cfg, rng, bt_mem_default()) != 0) {
        free(hs);
        bufferevent_free(bev);
        return -1;
    }
    hs->bev = bev;
    hs->initiator = cfg->initiator;
    hs->allow_plain_bt = allow_plain_bt;
    hs->cb = cb;
    hs->user = user;
    struct timeval tv = {timeout_s, 0};
    bufferevent_setcb(bev, hs_read, NULL, hs_event, hs);
    bufferevent_set_timeouts(bev, &tv, &tv);
    if (send_pending(hs) != 0 || bufferevent_enable(bev, EV_READ | EV_WRITE) != 0) {
        live_mse_hs_del(hs);
        return -1;
    }
    *out = hs;
    return 0;
}
