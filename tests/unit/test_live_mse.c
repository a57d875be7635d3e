/* tests/unit/test_live_mse.c: the MSE/PE layer of live mode (live/live_mse.c) over bufferevent
 * pairs joined by a relay that cuts the stream into random small pieces and records the wire:
 * RC4 and plaintext methods with payload both ways, the initiator's IA, a plain BT handshake
 * at the responder (accepted, or refused in require mode) and a failed handshake. */
#define _GNU_SOURCE /* memmem */
#include "live_mse.h"

#include <CUnit/CUnit.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

extern int test_live_mse_add_suite(void);

#define PAYLOAD (100u << 10)

typedef struct end {
    bool done;
    const char *err;
    struct bufferevent *bev; /* the stream handed back */
    struct evbuffer *got;    /* everything read from it */
} end;

typedef struct world {
    struct event_base *base;
    struct bufferevent *a, *a2, *b2, *b; /* a <-> a2 ~relay~ b2 <-> b */
    struct event *tick;
    struct evbuffer *wire_ab, *wire_ba; /* what crossed the relay */
    bt_pcg32 rng;
    size_t moved;
    end ea, eb;
    size_t want_a, want_b; /* bytes each end must read before the loop stops */
    bool stop_on_done;     /* stop once both handshakes ended */
    bool closed;           /* the relay told a that b closed */
} world;

static void end_read(struct bufferevent *bev, void *arg)
{
    end *e = arg;
    evbuffer_add_buffer(e->got, bufferevent_get_input(bev));
}

static void on_done(struct bufferevent *bev, const char *err, void *user)
{
    end *e = user;
    e->done = true;
    e->err = err;
    e->bev = bev;
    if (bev != NULL) {
        bufferevent_setcb(bev, end_read, NULL, NULL, e);
        bufferevent_enable(bev, EV_READ | EV_WRITE);
        bufferevent_trigger(bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
    }
}

/* Moves one random piece (1..61 bytes for the first 4 KiB, then up to 4000) each way. */
static void relay_dir(world *w, struct bufferevent *from, struct bufferevent *to,
                      struct evbuffer *wire)
{
    struct evbuffer *in = bufferevent_get_input(from);
    size_t avail = evbuffer_get_length(in);
    if (avail == 0)
        return;
    size_t n = 1 + bt_pcg32_below(&w->rng, w->moved < 4096 ? 61 : 4000);
    n = n < avail ? n : avail;
    uint8_t buf[4000];
    evbuffer_remove(in, buf, n);
    evbuffer_add(wire, buf, n);
    bufferevent_write(to, buf, n);
    w->moved += n;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    world *w = arg;
    relay_dir(w, w->a2, w->b2, w->wire_ab);
    relay_dir(w, w->b2, w->a2, w->wire_ba);
    if (w->eb.done && w->eb.bev == NULL && !w->closed) {  /* b closed its end: so does a's */
        bufferevent_flush(w->a2, EV_WRITE, BEV_FINISHED); /* EOF at a */
        w->closed = true;
    }
    bool reads =
        evbuffer_get_length(w->ea.got) >= w->want_a && evbuffer_get_length(w->eb.got) >= w->want_b;
    bool hs = w->ea.done && w->eb.done;
    struct timeval tv = {0, 50}; /* a timer, not event_active: deferred callbacks run too */
    if ((w->stop_on_done && hs) || (!w->stop_on_done && hs && reads))
        event_base_loopbreak(w->base);
    else
        evtimer_add(w->tick, &tv);
}

static void world_init(world *w)
{
    memset(w, 0, sizeof(*w));
    w->base = event_base_new();
    struct bufferevent *p1[2], *p2[2];
    CU_ASSERT_FATAL(
        bufferevent_pair_new(w->base, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS, p1) == 0);
    CU_ASSERT_FATAL(
        bufferevent_pair_new(w->base, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS, p2) == 0);
    w->a = p1[0];
    w->a2 = p1[1];
    w->b2 = p2[0];
    w->b = p2[1];
    bufferevent_enable(w->a2, EV_READ | EV_WRITE);
    bufferevent_enable(w->b2, EV_READ | EV_WRITE);
    w->wire_ab = evbuffer_new();
    w->wire_ba = evbuffer_new();
    w->ea.got = evbuffer_new();
    w->eb.got = evbuffer_new();
    bt_pcg32_seed(&w->rng, 42, 7);
    w->tick = evtimer_new(w->base, on_tick, w);
}

/* Runs until the stop condition or 10 s. */
static void world_run(world *w)
{
    struct timeval tv = {10, 0};
    event_base_loopexit(w->base, &tv);
    struct timeval now = {0, 0};
    evtimer_add(w->tick, &now);
    event_base_dispatch(w->base);
}

static void world_free(world *w)
{
    if (w->ea.bev != NULL)
        bufferevent_free(w->ea.bev);
    if (w->eb.bev != NULL)
        bufferevent_free(w->eb.bev);
    if (w->a2 != NULL)
        bufferevent_free(w->a2);
    if (w->b2 != NULL)
        bufferevent_free(w->b2);
    evbuffer_free(w->wire_ab);
    evbuffer_free(w->wire_ba);
    evbuffer_free(w->ea.got);
    evbuffer_free(w->eb.got);
    event_free(w->tick);
    event_base_free(w->base);
}

static const uint8_t IH[20] = "01234567890123456789";
static const uint8_t OTHER[20] = "abcdefghijabcdefghij";

static bt_mse_config cfg(bool initiator, uint32_t crypto, const uint8_t (*ih)[20])
{
    bt_mse_config c = {.initiator = initiator,
                       .crypto = crypto,
                       .skeys = ih,
                       .nskeys = 1,
                       .pad_max = 512,
                       .pad_cd_max = 64};
    return c;
}

static uint8_t *payload(uint64_t seed)
{
    uint8_t *p = malloc(PAYLOAD);
    bt_pcg32 r;
    bt_pcg32_seed(&r, seed, 1);
    for (size_t i = 0; i < PAYLOAD; i++)
        p[i] = (uint8_t)bt_pcg32_next(&r);
    memcpy(p + 5000, "MARKER-MARKER-MARKER", 20); /* found on the wire iff not encrypted */
    return p;
}

static bool wire_has(struct evbuffer *wire, const char *s)
{
    size_t n = evbuffer_get_length(wire);
    const uint8_t *p = evbuffer_pullup(wire, -1);
    return memmem(p, n, s, strlen(s)) != NULL;
}

/* Both ends handshake (initiator a with |ia|), then send PAYLOAD bytes each way. */
static void exchange(uint32_t init_crypto, bool expect_rc4, const char *ia)
{
    world w;
    world_init(&w);
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 9, 9);
    bt_mse_config ci = cfg(true, init_crypto, &IH),
                  cr = cfg(false, BT_MSE_RC4 | BT_MSE_PLAINTEXT, &IH);
    ci.ia = (const uint8_t *)ia;
    ci.ia_len = ia != NULL ? strlen(ia) : 0;
    live_mse_hs *ha, *hb;
    CU_ASSERT_FATAL(live_mse_hs_new(&ha, w.a, &ci, false, &rng, 10, on_done, &w.ea) == 0);
    CU_ASSERT_FATAL(live_mse_hs_new(&hb, w.b, &cr, true, &rng, 10, on_done, &w.eb) == 0);
    w.stop_on_done = true;
    world_run(&w);
    CU_ASSERT_FATAL(w.ea.bev != NULL && w.eb.bev != NULL);
    /* RC4 hands back a filter over the socket's bufferevent, plaintext the original one. */
    CU_ASSERT_EQUAL(bufferevent_get_underlying(w.ea.bev) != NULL, expect_rc4);
    CU_ASSERT_EQUAL(bufferevent_get_underlying(w.eb.bev) != NULL, expect_rc4);
    uint8_t *pa = payload(1), *pb = payload(2);
    size_t ialen = ci.ia_len;
    bufferevent_write(w.ea.bev, pa, PAYLOAD);
    bufferevent_write(w.eb.bev, pb, PAYLOAD);
    w.stop_on_done = false;
    w.want_a = PAYLOAD;
    w.want_b = ialen + PAYLOAD;
    world_run(&w);
    CU_ASSERT_EQUAL_FATAL(evbuffer_get_length(w.ea.got), PAYLOAD);
    CU_ASSERT_EQUAL_FATAL(evbuffer_get_length(w.eb.got), ialen + PAYLOAD);
    const uint8_t *gb = evbuffer_pullup(w.eb.got, -1);
    if (ialen > 0)
        CU_ASSERT(memcmp(gb, ia, ialen) == 0);
    CU_ASSERT(memcmp(gb + ialen, pa, PAYLOAD) == 0);
    CU_ASSERT(memcmp(evbuffer_pullup(w.ea.got, -1), pb, PAYLOAD) == 0);
    CU_ASSERT_EQUAL(wire_has(w.wire_ab, "MARKER-MARKER"), !expect_rc4);
    CU_ASSERT_EQUAL(wire_has(w.wire_ba, "MARKER-MARKER"), !expect_rc4);
    free(pa);
    free(pb);
    world_free(&w);
}

static void test_rc4(void)
{
    exchange(BT_MSE_RC4, true, NULL);
}

static void test_rc4_with_ia(void)
{
    exchange(BT_MSE_RC4 | BT_MSE_PLAINTEXT, true, "the initial payload, as aria2 sends it");
}

static void test_plaintext_method(void)
{
    exchange(BT_MSE_PLAINTEXT, false, "IA");
}

/* A plain BT handshake reaches the responder: accepted unchanged, or refused. */
static void plain_bt(bool allow)
{
    world w;
    world_init(&w);
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 3, 3);
    bt_mse_config cr = cfg(false, allow ? BT_MSE_RC4 | BT_MSE_PLAINTEXT : BT_MSE_RC4, &IH);
    live_mse_hs *hb;
    CU_ASSERT_FATAL(live_mse_hs_new(&hb, w.b, &cr, allow, &rng, 10, on_done, &w.eb) == 0);
    uint8_t hs[68 + 1000];
    memset(hs, 0, sizeof(hs));
    hs[0] = 19;
    memcpy(hs + 1, "BitTorrent protocol", 19);
    memcpy(hs + 28, IH, 20);
    for (size_t i = 68; i < sizeof(hs); i++)
        hs[i] = (uint8_t)i;
    bufferevent_write(w.a, hs, sizeof(hs));
    w.ea.done = true; /* a is a plain peer: no handshake of its own */
    w.want_b = allow ? sizeof(hs) : 0;
    world_run(&w);
    CU_ASSERT(w.eb.done);
    if (allow) {
        CU_ASSERT(w.eb.err == NULL);
        CU_ASSERT(w.eb.bev == w.b); /* the socket's own bufferevent */
        CU_ASSERT_EQUAL_FATAL(evbuffer_get_length(w.eb.got), sizeof(hs));
        CU_ASSERT(memcmp(evbuffer_pullup(w.eb.got, -1), hs, sizeof(hs)) == 0);
    } else {
        CU_ASSERT(w.eb.bev == NULL);
        CU_ASSERT(w.eb.err != NULL);
    }
    w.ea.bev = w.a;
    world_free(&w);
}

static void test_plain_bt_accepted(void)
{
    plain_bt(true);
}

static void test_plain_bt_refused(void)
{
    plain_bt(false);
}

/* The responder serves another torrent: both ends fail, neither hands back a stream. */
static void test_unknown_info_hash(void)
{
    world w;
    world_init(&w);
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 5, 5);
    bt_mse_config ci = cfg(true, BT_MSE_RC4, &IH), cr = cfg(false, BT_MSE_RC4, &OTHER);
    live_mse_hs *ha, *hb;
    CU_ASSERT_FATAL(live_mse_hs_new(&ha, w.a, &ci, false, &rng, 10, on_done, &w.ea) == 0);
    CU_ASSERT_FATAL(live_mse_hs_new(&hb, w.b, &cr, true, &rng, 10, on_done, &w.eb) == 0);
    w.stop_on_done = true;
    world_run(&w);
    CU_ASSERT(w.ea.done && w.eb.done);
    CU_ASSERT(w.ea.bev == NULL && w.ea.err != NULL);
    CU_ASSERT(w.eb.bev == NULL && w.eb.err != NULL);
    world_free(&w);
}

static void test_parse(void)
{
    live_encryption e = LIVE_ENC_OFF;
    CU_ASSERT(live_encryption_parse("prefer", &e) == 0 && e == LIVE_ENC_PREFER);
    CU_ASSERT(live_encryption_parse("prefer-plain", &e) == 0 && e == LIVE_ENC_PREFER_PLAIN);
    CU_ASSERT(live_encryption_parse("require", &e) == 0 && e == LIVE_ENC_REQUIRE);
    CU_ASSERT(live_encryption_parse("off", &e) == 0 && e == LIVE_ENC_OFF);
    CU_ASSERT(live_encryption_parse("Require", &e) != 0);
    CU_ASSERT(live_encryption_parse("", &e) != 0);
}

int test_live_mse_add_suite(void)
{
    CU_pSuite s = CU_add_suite("live_mse", NULL, NULL);
    if (s == NULL)
        return -1;
    if (CU_add_test(s, "rc4", test_rc4) == NULL ||
        CU_add_test(s, "rc4_with_ia", test_rc4_with_ia) == NULL ||
        CU_add_test(s, "plaintext_method", test_plaintext_method) == NULL ||
        CU_add_test(s, "plain_bt_accepted", test_plain_bt_accepted) == NULL ||
        CU_add_test(s, "plain_bt_refused", test_plain_bt_refused) == NULL ||
        CU_add_test(s, "unknown_info_hash", test_unknown_info_hash) == NULL ||
        CU_add_test(s, "parse", test_parse) == NULL)
        return -1;
    return 0;
}
