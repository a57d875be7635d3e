/* live_mse_dial.c: the --encryption policy of one live_host: dials MSE first and redials in
 * plaintext when the peer does not speak MSE (prefer), or dials plaintext first and redials
 * with MSE when the peer drops it unanswered (prefer-plain); runs the responder side of
 * incoming connections before they reach the engine. Owns the connections still
 * handshaking. */
#include "live_mse.h"

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HS_TIMEOUT_S 20 /* the whole MSE exchange */
#define MAX_PENDING 256 /* connections handshaking at once; more incoming ones are refused */

typedef struct pending {
    live_mse_ctx *x;
    bool incoming;
    bool mse;                /* this attempt runs MSE (else plaintext) */
    bool redial;             /* prefer-plain's MSE redial of a connection the engine has */
    bt_conn_id id;           /* outgoing */
    bt_addr addr;            /* the peer */
    struct bufferevent *bev; /* a TCP connect in progress, or NULL */
    live_mse_hs *hs;         /* a handshake in progress, or NULL */
} pending;

struct live_mse_ctx {
    live_host *h;
    struct event_base *base;
    live_encryption mode;
    uint8_t ih[20];
    bt_addr bind;
    bool has_bind;
    bt_pcg32 rng;
    pending *p[MAX_PENDING];
    uint32_t np;
};

live_mse_ctx *live_mse_ctx_new(live_host *h, struct event_base *base, live_encryption mode,
                               const uint8_t info_hash[20], const bt_addr *bind)
{
    live_mse_ctx *x = calloc(1, sizeof(*x));
    if (x == NULL)
        return NULL;
    x->h = h;
    x->base = base;
    x->mode = mode;
    memcpy(x->ih, info_hash, 20);
    if (bind != NULL) {
        x->bind = *bind;
        x->bind.port = 0;
        x->has_bind = true;
    }
    bt_pcg32_seed(&x->rng, live_seed(), live_seed());
    return x;
}

/* Forgets |p| and frees it with whatever it still owns. */
static void drop(live_mse_ctx *x, pending *p)
{
    for (uint32_t i = 0; i < x->np; i++)
        if (x->p[i] == p) {
            x->p[i] = x->p[--x->np];
            break;
        }
    if (p->bev != NULL)
        bufferevent_free(p->bev);
    live_mse_hs_del(p->hs);
    free(p);
}

void live_mse_ctx_del(live_mse_ctx *x)
{
    if (x == NULL)
        return;
    while (x->np > 0)
        drop(x, x->p[0]);
    free(x);
}

static pending *add(live_mse_ctx *x, bool incoming, const bt_addr *addr)
{
    if (x->np == MAX_PENDING)
        return NULL;
    pending *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->x = x;
    p->incoming = incoming;
    p->addr = *addr;
    x->p[x->np++] = p;
    return p;
}

static void config(const live_mse_ctx *x, bool initiator, bt_mse_config *c)
{
    memset(c, 0, sizeof(*c));
    c->initiator = initiator;
    c->crypto = x->mode == LIVE_ENC_REQUIRE ? BT_MSE_RC4 : BT_MSE_RC4 | BT_MSE_PLAINTEXT;
    c->prefer_plaintext = x->mode == LIVE_ENC_PREFER_PLAIN;
    c->skeys = (const uint8_t(*)[20])x->ih;
    c->nskeys = 1;
    c->pad_max = 512;
    /* IA stays empty (as libtorrent sends it): the engine's handshake follows, encrypted. */
}

/* ---- outgoing ---- */

static int start_connect(pending *p);

/* The attempt failed: redial in plaintext when the policy allows, else tell the host. */
static void attempt_failed(pending *p)
{
    live_mse_ctx *x = p->x;
    if (p->mse && x->mode == LIVE_ENC_PREFER) {
        p->mse = false;
        if (start_connect(p) == 0)
            return;
    }
    bt_conn_id id = p->id;
    drop(x, p);
    live_host_connect_failed(x->h, id);
}

/* The stream is ready: hands it to the host as connection |p->id|. */
static void handoff(pending *p, struct bufferevent *bev)
{
    live_mse_ctx *x = p->x;
    bt_conn_id id = p->id;
    bt_addr addr = p->addr;
    bool plain = !p->mse, redial = p->redial;
    drop(x, p);
    if (redial) {
        live_host_redialed(x->h, bev, id);
        return;
    }
    if (live_host_attach(x->h, bev, id) != 0) {
        bufferevent_free(bev);
        live_host_connect_failed(x->h, id);
        return;
    }
    if (plain && x->mode == LIVE_ENC_PREFER_PLAIN)
        live_host_probe_plain(x->h, id, &addr); /* before the engine sends its handshake */
    live_host_connected(x->h, id);
}

static void dial_done(struct bufferevent *bev, const char *err, void *user)
{
    (void)err;
    pending *p = user;
    p->hs = NULL; /* freed by the handshake after this call */
    if (bev == NULL)
        attempt_failed(p);
    else
        handoff(p, bev);
}

static void on_connect(struct bufferevent *bev, short what, void *arg)
{
    pending *p = arg;
    if (!(what & BEV_EVENT_CONNECTED)) {
        bufferevent_free(bev);
        p->bev = NULL;
        bt_conn_id id = p->id;
        live_mse_ctx *x = p->x;
        drop(x, p); /* a refused TCP connection is not retried */
        live_host_connect_failed(x->h, id);
        return;
    }
    p->bev = NULL;
    if (!p->mse) {
        bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
        handoff(p, bev);
        return;
    }
    bt_mse_config c;
    config(p->x, true, &c);
    if (live_mse_hs_new(&p->hs, bev, &c, false, &p->x->rng, HS_TIMEOUT_S, dial_done, p) != 0)
        attempt_failed(p);
}

static int start_connect(pending *p)
{
    struct sockaddr_storage ss;
    int slen = live_addr_to_sockaddr(&p->addr, &ss);
    evutil_socket_t fd = live_socket_open(&p->addr, p->x->has_bind ? &p->x->bind : NULL);
    if (fd < 0)
        return -1;
    p->bev =
        bufferevent_socket_new(p->x->base, fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (p->bev == NULL) {
        close(fd);
        return -1;
    }
    bufferevent_setcb(p->bev, NULL, NULL, on_connect, p);
    if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&ss, slen) != 0) {
        bufferevent_free(p->bev);
        p->bev = NULL;
        return -1;
    }
    return 0;
}

int live_mse_dial(live_mse_ctx *x, bt_conn_id id, const bt_addr *addr)
{
    pending *p = add(x, false, addr);
    if (p == NULL)
        return -1;
    p->id = id;
    p->mse = x->mode != LIVE_ENC_PREFER_PLAIN;
    if (start_connect(p) != 0) {
        drop(x, p);
        return -1;
    }
    return 0;
}

int live_mse_redial(live_mse_ctx *x, bt_conn_id id, const bt_addr *addr)
{
    pending *p = add(x, false, addr);
    if (p == NULL)
        return -1;
    p->id = id;
    p->mse = true;
    p->redial = true;
    if (start_connect(p) != 0) {
        drop(x, p);
        return -1;
    }
    return 0;
}

void live_mse_forget(live_mse_ctx *x, bt_conn_id id)
{
    for (uint32_t i = 0; i < x->np; i++)
        if (!x->p[i]->incoming && x->p[i]->id == id) {
            drop(x, x->p[i]);
            return;
        }
}

/* ---- incoming ---- */

static void accept_done(struct bufferevent *bev, const char *err, void *user)
{
    (void)err;
    pending *p = user;
    live_mse_ctx *x = p->x;
    bt_addr from = p->addr;
    p->hs = NULL;
    drop(x, p);
    if (bev != NULL)
        live_host_accept_now(x->h, bev, &from);
}

void live_mse_accept(live_mse_ctx *x, struct bufferevent *bev, const bt_addr *from)
{
    pending *p = add(x, true, from);
    if (p == NULL) {
        bufferevent_free(bev);
        return;
    }
    bt_mse_config c;
    config(x, false, &c);
    bool plain_ok = x->mode != LIVE_ENC_REQUIRE;
    if (live_mse_hs_new(&p->hs, bev, &c, plain_ok, &x->rng, HS_TIMEOUT_S, accept_done, p) != 0)
        drop(x, p);
}

int live_encryption_parse(const char *text, live_encryption *out)
{
    static const char *const names[] = {"prefer", "prefer-plain", "require", "off"};
    for (int i = 0; i < 4; i++)
        if (strcmp(text, names[i]) == 0) {
            *out = (live_encryption)i;
            return 0;
        }
    return -1;
}
