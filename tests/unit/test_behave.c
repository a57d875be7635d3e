/* test_behave.c: the engine's special-peer options on hand-built state: lying-have (the
 * bitfield claims pieces not held, requests for them are ignored, no second have), the slow
 * responder (requests served response_delay after they arrive, cancels still answered at
 * once) and the large view (numwant, connection limits, re-announces at the tracker's min
 * interval). Fixed `now` values; a scripted peer; no network. */
#include "bt.h"
#include "bt_wire.h"
#include "failmem.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

int test_behave_add_suite(void);

#define NPIECES 16
#define PLEN 32768u
#define TOTAL ((uint64_t)NPIECES * PLEN)

typedef struct fixture {
    bt_client *c;
    uint8_t hashes[NPIECES * 20];
    uint8_t info_hash[20];
    bt_conn_id id;
    bt_buf in, out; /* to the client; everything the client sent on |id| */
    size_t cursor;  /* messages in |out| before this offset were looked at */
} fixture;

static const uint8_t peer_id[20] = "-XX0001-abcdefghijkl";

static void base_config(fixture *f, bt_config *cfg, bool seed)
{
    memset(f, 0, sizeof(*f));
    for (int i = 0; i < NPIECES * 20; i++)
        f->hashes[i] = (uint8_t)(i * 7);
    memset(f->info_hash, 0xab, 20);
    bt_config_defaults(cfg);
    memcpy(cfg->info_hash, f->info_hash, 20);
    cfg->piece_hashes = f->hashes;
    cfg->npieces = NPIECES;
    cfg->piece_len = PLEN;
    cfg->total_len = TOTAL;
    memcpy(cfg->peer_id, "-SL0100-000000000000", 20);
    cfg->listen_port = 6881;
    cfg->seed = seed;
}

static void start(fixture *f, const bt_config *cfg, uint64_t seed)
{
    CU_ASSERT_FATAL(bt_client_new(&f->c, cfg, seed, NULL) == 0);
    CU_ASSERT_FATAL(bt_client_start(f->c, 1) == 0);
    bt_buf_init(&f->in, bt_mem_default(), 0);
    bt_buf_init(&f->out, bt_mem_default(), 0);
}

static void finish(fixture *f)
{
    bt_client_del(f->c);
    bt_buf_free(&f->in);
    bt_buf_free(&f->out);
}

/* Moves the client's output on f->id to f->out; returns the payload bytes among it. */
static uint64_t pull(fixture *f, bt_time_us now)
{
    uint64_t payload = 0;
    for (;;) {
        const bt_seg *segs;
        bt_ssize n = bt_conn_pull_send(f->c, f->id, &segs, now);
        if (n <= 0)
            return payload;
        size_t moved = 0;
        for (bt_ssize i = 0; i < n; i++) {
            if (segs[i].is_virtual) { /* zeros stand in for the payload (keeps framing) */
                payload += segs[i].len;
                for (size_t k = 0; k < segs[i].len; k++)
                    bt_buf_put_u8(&f->out, 0);
            } else {
                bt_buf_put(&f->out, segs[i].data, segs[i].len);
            }
            moved += segs[i].len;
        }
        bt_conn_sent(f->c, f->id, moved, now);
    }
}

static void feed(fixture *f, bt_time_us now)
{
    CU_ASSERT(bt_conn_recv(f->c, f->id, f->in.data, f->in.len, now) == (bt_ssize)f->in.len);
    bt_buf_reset(&f->in);
}

/* Accepts the scripted peer and plays its handshake (plus whatever |f->in| already holds
 * after it is prepended); the client's handshake is skipped in f->out. */
static void connect_peer(fixture *f, bool fast, void (*first)(bt_buf *))
{
    bt_addr from = {.family = 4, .ip = {127, 0, 0, 2}, .port = 50000};
    CU_ASSERT_FATAL(bt_client_accept(f->c, &from, &f->id, 2) == 0);
    bt_handshake hs;
    memset(&hs, 0, sizeof(hs));
    if (fast)
        hs.reserved[BT_RESERVED_FAST_BYTE] |= BT_RESERVED_FAST_BIT;
    memcpy(hs.info_hash, f->info_hash, 20);
    memcpy(hs.peer_id, peer_id, 20);
    bt_wire_put_handshake(&f->in, &hs);
    if (first != NULL)
        first(&f->in);
    feed(f, 3);
    pull(f, 3);
    CU_ASSERT_FATAL(f->out.len >= BT_HANDSHAKE_LEN);
    f->cursor = BT_HANDSHAKE_LEN;
}

/* The next whole message in f->out after the cursor: its id (or -1 when none is left; 0xff
 * for a keep-alive), with the body at *body. */
static int next_msg(fixture *f, const uint8_t **body, uint32_t *len)
{
    if (f->cursor + 4 > f->out.len)
        return -1;
    uint32_t n = bt_be32(f->out.data + f->cursor);
    if (f->cursor + 4 + n > f->out.len)
        return -1;
    *body = f->out.data + f->cursor + 5;
    *len = n > 0 ? n - 1 : 0;
    int id = n > 0 ? f->out.data[f->cursor + 4] : 0xff;
    f->cursor += 4 + n;
    return id;
}

static uint32_t count_new(fixture *f, int want)
{
    const uint8_t *body = NULL;
    uint32_t len, n = 0;
    int id;
    while ((id = next_msg(f, &body, &len)) >= 0)
        n += id == want;
    return n;
}

static bt_action last_action(fixture *f, uint8_t type, uint32_t *count)
{
    bt_action a, hit;
    memset(&hit, 0, sizeof(hit));
    uint32_t n = 0;
    while (bt_client_poll_action(f->c, &a) == 1)
        if (a.type == type) {
            hit = a;
            n++;
        }
    if (count != NULL)
        *count = n;
    return hit;
}

/* ---- lying-have ---- */

static void s_have_none_interested(bt_buf *b)
{
    bt_wire_put_simple(b, BT_MSG_HAVE_NONE);
    bt_wire_put_simple(b, BT_MSG_INTERESTED);
}

/* A leecher with nothing that claims half its pieces: the bitfield holds exactly 8 of 16,
 * the same set for the same seed; a request for a claimed piece is ignored (no reject, no
 * payload, no close), one for an unclaimed piece is rejected (BEP 6). */
static void test_lying_bitfield_and_requests(void)
{
    fixture f;
    bt_config cfg;
    base_config(&f, &cfg, false);
    cfg.lie_have_ppm = BT_PPM / 2;
    start(&f, &cfg, 11);
    connect_peer(&f, true, s_have_none_interested);
    const uint8_t *body = NULL;
    uint32_t len;
    int id = next_msg(&f, &body, &len);
    CU_ASSERT_FATAL(id == BT_MSG_BITFIELD && len == NPIECES / 8);
    uint8_t claimed[NPIECES / 8];
    memcpy(claimed, body, sizeof(claimed));
    uint32_t nclaimed = 0;
    for (uint32_t i = 0; i < NPIECES; i++)
        nclaimed += (claimed[i / 8] >> (7 - i % 8)) & 1;
    CU_ASSERT(nclaimed == NPIECES / 2); /* round(0.5 * 16 lacking) */
    bt_client_stats st;
    bt_client_get_stats(f.c, &st);
    CU_ASSERT(st.pieces_have == 0 && st.pieces_claimed == NPIECES / 2);
    bt_conn_info info;
    CU_ASSERT_FATAL(bt_conn_get_info(f.c, f.id, &info) == 0);
    CU_ASSERT_FATAL(!info.am_choking); /* a free slot: unchoked at once */
    uint32_t lie = 0, honest = 0;
    while (!((claimed[lie / 8] >> (7 - lie % 8)) & 1))
        lie++;
    while ((claimed[honest / 8] >> (7 - honest % 8)) & 1)
        honest++;
    bt_wire_put_block(&f.in, BT_MSG_REQUEST, lie, 0, 16384);
    feed(&f, 4);
    CU_ASSERT(pull(&f, 4) == 0);
    CU_ASSERT(count_new(&f, BT_MSG_REJECT) == 0);
    bt_wire_put_block(&f.in, BT_MSG_REQUEST, honest, 0, 16384);
    feed(&f, 5);
    CU_ASSERT(pull(&f, 5) == 0);
    CU_ASSERT(count_new(&f, BT_MSG_REJECT) == 1);
    bt_client_get_stats(f.c, &st);
    CU_ASSERT(st.requests_ignored == 1);
    CU_ASSERT(bt_conn_get_info(f.c, f.id, &info) == 0); /* still connected */
    finish(&f);
    /* the same seed claims the same pieces; another seed, (almost surely) others */
    uint8_t again[2][NPIECES / 8];
    for (int k = 0; k < 2; k++) {
        base_config(&f, &cfg, false);
        cfg.lie_have_ppm = BT_PPM / 2;
        start(&f, &cfg, k == 0 ? 11 : 12);
        connect_peer(&f, true, s_have_none_interested);
        CU_ASSERT_FATAL(next_msg(&f, &body, &len) == BT_MSG_BITFIELD && len == NPIECES / 8);
        memcpy(again[k], body, NPIECES / 8);
        finish(&f);
    }
    CU_ASSERT(memcmp(again[0], claimed, sizeof(claimed)) == 0);
    CU_ASSERT(memcmp(again[1], claimed, sizeof(claimed)) != 0);
}

/* Claiming everything to a Fast peer is a have-all; without Fast, a full bitfield. */
static void test_lying_seed_claim(void)
{
    for (int fast = 0; fast < 2; fast++) {
        fixture f;
        bt_config cfg;
        base_config(&f, &cfg, false);
        cfg.lie_have_ppm = BT_PPM;
        start(&f, &cfg, 3);
        connect_peer(&f, fast, NULL);
        const uint8_t *body = NULL;
        uint32_t len;
        int id = next_msg(&f, &body, &len);
        if (fast) {
            CU_ASSERT(id == BT_MSG_HAVE_ALL);
        } else {
            CU_ASSERT_FATAL(id == BT_MSG_BITFIELD && len == NPIECES / 8);
            CU_ASSERT(body[0] == 0xff && body[1] == 0xff);
        }
        finish(&f);
    }
    /* an out-of-range share is refused */
    fixture f;
    bt_config cfg;
    base_config(&f, &cfg, false);
    cfg.lie_have_ppm = BT_PPM + 1;
    bt_client *c = NULL;
    CU_ASSERT(bt_client_new(&c, &cfg, 1, NULL) == BT_ERR_INVALID);
}

static void s_seed_unchoke(bt_buf *b)
{
    uint8_t bits[NPIECES / 8];
    memset(bits, 0xff, sizeof(bits));
    bt_wire_put_bitfield(b, bits, sizeof(bits));
    bt_wire_put_simple(b, BT_MSG_UNCHOKE);
}

/* The liar downloads everything from a scripted seed: it sends a have only for the pieces it
 * had not claimed (the others were advertised already), and ends claiming nothing it lacks. */
static void test_lying_no_second_have(void)
{
    fixture f;
    bt_config cfg;
    base_config(&f, &cfg, false);
    cfg.lie_have_ppm = BT_PPM / 4;
    start(&f, &cfg, 5);
    connect_peer(&f, false, s_seed_unchoke);
    const uint8_t *body = NULL;
    uint32_t len;
    CU_ASSERT_FATAL(next_msg(&f, &body, &len) == BT_MSG_BITFIELD);
    uint8_t claimed[NPIECES / 8];
    memcpy(claimed, body, sizeof(claimed));
    uint32_t haves[NPIECES] = {0}, pend[256][3], npend = 0, last_piece = NPIECES;
    bt_time_us now = BT_MSEC(100);
    bool done = false;
    for (int round = 0; round < 400 && !done; round++, now += BT_MSEC(100)) {
        int id;
        while ((id = next_msg(&f, &body, &len)) >= 0) {
            if (id == BT_MSG_HAVE && len == 4 && bt_be32(body) < NPIECES)
                haves[bt_be32(body)]++;
            if (id == BT_MSG_REQUEST && len == 12 && npend < 256) {
                for (int k = 0; k < 3; k++)
                    pend[npend][k] = bt_be32(body + 4 * k);
                npend++;
            }
        }
        if (npend > 0) { /* one block a round, oldest first */
            bt_wire_put_piece_header(&f.in, pend[0][0], pend[0][1], pend[0][2]);
            for (uint32_t k = 0; k < pend[0][2]; k++)
                bt_buf_put_u8(&f.in, 0);
            memmove(pend[0], pend[1], (--npend) * sizeof(pend[0]));
            feed(&f, now);
        }
        bt_action a;
        while (bt_client_poll_action(f.c, &a) == 1) {
            if (a.type != BT_ACT_STORAGE_VERIFY)
                continue;
            last_piece = a.piece;
            CU_ASSERT(bt_client_verify_result(f.c, a.piece, f.hashes + a.piece * 20, now) == 0);
        }
        pull(&f, now);
        bt_client_stats st;
        bt_client_get_stats(f.c, &st);
        done = st.complete;
    }
    bt_client_stats st;
    bt_client_get_stats(f.c, &st);
    CU_ASSERT_FATAL(st.complete);
    CU_ASSERT(st.pieces_claimed == 0);
    /* (the last piece's have is lost: both are seeds then, and the connection closes) */
    for (uint32_t i = 0; i < NPIECES; i++) {
        bool lied = (claimed[i / 8] >> (7 - i % 8)) & 1;
        if (i != last_piece)
            CU_ASSERT(haves[i] == (lied ? 0u : 1u));
    }
    finish(&f);
}

/* ---- slow responder ---- */

/* A seed that answers 5 s late: nothing is served before the delay; the deadline says when;
 * a later request is served 5 s after it came; a cancelled one gets its reject at once and
 * is never served. */
static void test_slow_responder(void)
{
    fixture f;
    bt_config cfg;
    base_config(&f, &cfg, true);
    cfg.response_delay = BT_SEC(5);
    start(&f, &cfg, 1);
    connect_peer(&f, true, s_have_none_interested);
    bt_conn_info info;
    CU_ASSERT_FATAL(bt_conn_get_info(f.c, f.id, &info) == 0 && !info.am_choking);
    bt_time_us t0 = BT_MSEC(10500);
    bt_wire_put_block(&f.in, BT_MSG_REQUEST, 0, 0, 16384);
    feed(&f, t0);
    CU_ASSERT(pull(&f, t0) == 0);
    CU_ASSERT(bt_client_next_deadline(f.c) <= t0 + BT_SEC(5));
    for (bt_time_us t = t0; t < t0 + BT_SEC(5); t += BT_MSEC(250)) {
        if (t == t0 + BT_SEC(2)) { /* a second request, 2 s after the first */
            bt_wire_put_block(&f.in, BT_MSG_REQUEST, 1, 0, 16384);
            feed(&f, t);
        }
        CU_ASSERT(bt_client_on_timer(f.c, t) == 0);
        CU_ASSERT(pull(&f, t) == 0);
    }
    CU_ASSERT(bt_client_next_deadline(f.c) == t0 + BT_SEC(5));
    CU_ASSERT(bt_client_on_timer(f.c, t0 + BT_SEC(5)) == 0);
    CU_ASSERT(pull(&f, t0 + BT_SEC(5)) == 16384); /* the first, exactly on time */
    CU_ASSERT(bt_client_next_deadline(f.c) <= t0 + BT_SEC(7));
    CU_ASSERT(bt_client_on_timer(f.c, t0 + BT_SEC(7) - 1) == 0);
    CU_ASSERT(pull(&f, t0 + BT_SEC(7) - 1) == 0);
    CU_ASSERT(bt_client_on_timer(f.c, t0 + BT_SEC(7)) == 0);
    CU_ASSERT(pull(&f, t0 + BT_SEC(7)) == 16384); /* the second, 5 s after it came */
    /* cancelled while waiting: rejected at once, never served */
    count_new(&f, BT_MSG_REJECT);
    bt_time_us t1 = BT_SEC(20);
    bt_wire_put_block(&f.in, BT_MSG_REQUEST, 2, 0, 16384);
    feed(&f, t1);
    bt_wire_put_block(&f.in, BT_MSG_CANCEL, 2, 0, 16384);
    feed(&f, t1 + BT_SEC(1));
    CU_ASSERT(pull(&f, t1 + BT_SEC(1)) == 0);
    CU_ASSERT(count_new(&f, BT_MSG_REJECT) == 1);
    CU_ASSERT(bt_client_on_timer(f.c, t1 + BT_SEC(6)) == 0);
    CU_ASSERT(pull(&f, t1 + BT_SEC(6)) == 0);
    bt_client_stats st;
    bt_client_get_stats(f.c, &st);
    CU_ASSERT(st.uploaded == 2 * 16384);
    finish(&f);
    /* the default serves at once */
    base_config(&f, &cfg, true);
    start(&f, &cfg, 1);
    connect_peer(&f, true, s_have_none_interested);
    bt_wire_put_block(&f.in, BT_MSG_REQUEST, 0, 0, 16384);
    feed(&f, t0);
    CU_ASSERT(pull(&f, t0) == 16384);
    finish(&f);
}

/* ---- large view ---- */

static void add_many(bt_client *c, uint32_t n, bt_time_us now)
{
    bt_addr *a = calloc(n, sizeof(*a));
    CU_ASSERT_FATAL(a != NULL);
    for (uint32_t i = 0; i < n; i++)
        a[i] = (bt_addr){.family = 4, .ip = {10, 0, (uint8_t)(i >> 8), (uint8_t)i}, .port = 6881};
    CU_ASSERT(bt_client_add_peers(c, a, n, now) == 0);
    free(a);
}

/* Returns the number of announces the client makes at |now|. */
static uint32_t announces_at(fixture *f, bt_time_us now)
{
    CU_ASSERT(bt_client_on_timer(f->c, now) == 0);
    uint32_t n;
    last_action(f, BT_ACT_ANNOUNCE, &n);
    return n;
}

static void test_large_view(void)
{
    for (int large = 0; large < 2; large++) {
        fixture f;
        bt_config cfg;
        base_config(&f, &cfg, false);
        if (large)
            bt_config_large_view(&cfg);
        start(&f, &cfg, 1);
        uint32_t n;
        bt_action a = last_action(&f, BT_ACT_ANNOUNCE, &n);
        CU_ASSERT(n == 1 && a.announce.numwant == (large ? 1000 : 50));
        /* the tracker answers with no peers and a 2-min min interval */
        bt_announce_reply r;
        memset(&r, 0, sizeof(r));
        r.interval = 1800;
        r.min_interval = 120;
        CU_ASSERT(bt_client_on_announce(f.c, &r, 2) == 0);
        add_many(f.c, 300, 3);
        last_action(&f, BT_ACT_CONNECT, &n);
        /* one call dials every fresh candidate up to the limit (its search does not skip any
         * when the cursor moves past a dialled one); later ticks dial no more */
        CU_ASSERT(n == (large ? 300u : 40u));
        uint32_t dialled = n;
        for (int k = 0; k < 10; k++) {
            CU_ASSERT(bt_client_on_timer(f.c, BT_SEC(2 + k)) == 0);
            last_action(&f, BT_ACT_CONNECT, &n);
            dialled += n;
        }
        CU_ASSERT(dialled == (large ? 300u : 40u)); /* 40: mainline's initiated limit */
        /* short of peers: the large view re-announces at the min interval, a normal client
         * after 300 s */
        CU_ASSERT(announces_at(&f, BT_SEC(61)) == 0); /* (60 s would do; the tracker says 120) */
        CU_ASSERT(announces_at(&f, BT_SEC(119)) == 0);
        CU_ASSERT(announces_at(&f, BT_SEC(121)) == (large ? 1u : 0u));
        CU_ASSERT(announces_at(&f, BT_SEC(242)) == (large ? 1u : 0u));
        CU_ASSERT(announces_at(&f, BT_SEC(303)) == (large ? 0u : 1u));
        finish(&f);
    }
}

/* ---- failmalloc: a lying, slow client through its paths, each allocation failing in turn ---- */

static int alloc_client(const bt_mem *mem, bool seed)
{
    uint8_t hashes[NPIECES * 20] = {0}, ih[20] = {0};
    bt_config cfg;
    bt_config_defaults(&cfg);
    memcpy(cfg.info_hash, ih, 20);
    cfg.piece_hashes = hashes;
    cfg.npieces = NPIECES;
    cfg.piece_len = PLEN;
    cfg.total_len = TOTAL;
    cfg.lie_have_ppm = BT_PPM / 2;
    cfg.response_delay = BT_SEC(2);
    cfg.seed = seed; /* a seed serves (late); a leecher lies */
    bt_config_large_view(&cfg);
    bt_client *c = NULL;
    int rv = bt_client_new(&c, &cfg, 1, mem);
    if (rv == 0)
        rv = bt_client_start(c, 1);
    bt_conn_id id;
    bt_addr from = {.family = 4, .ip = {127, 0, 0, 2}, .port = 50000};
    if (rv == 0)
        rv = bt_client_accept(c, &from, &id, 2);
    if (rv == 0) {
        bt_buf b;
        bt_buf_init(&b, bt_mem_default(), 0);
        bt_handshake hs;
        memset(&hs, 0, sizeof(hs));
        hs.reserved[BT_RESERVED_FAST_BYTE] |= BT_RESERVED_FAST_BIT;
        memcpy(hs.peer_id, peer_id, 20);
        bt_wire_put_handshake(&b, &hs);
        bt_wire_put_simple(&b, BT_MSG_HAVE_NONE);
        bt_wire_put_simple(&b, BT_MSG_INTERESTED);
        for (uint32_t p = 0; p < NPIECES; p++)
            bt_wire_put_block(&b, BT_MSG_REQUEST, p, 0, 16384);
        bt_ssize n = bt_conn_recv(c, id, b.data, b.len, 3);
        rv = n < 0 ? (int)n : 0;
        if (rv == 0)
            rv = bt_client_on_timer(c, BT_SEC(3));
        bt_buf_free(&b);
    }
    bt_client_del(c);
    return rv;
}

static int alloc_scenario(const bt_mem *mem)
{
    int rv = alloc_client(mem, false);
    return rv != 0 ? rv : alloc_client(mem, true);
}

static void test_failmalloc(void)
{
    failmem fm;
    failmem_init(&fm, -1);
    CU_ASSERT_FATAL(alloc_scenario(&fm.mem) == 0);
    long total = fm.calls;
    CU_ASSERT(total > 10);
    for (long i = 0; i < total; i++) {
        failmem_init_once(&fm, i + 1);
        int rv = alloc_scenario(&fm.mem);
        CU_ASSERT(rv == 0 || rv == BT_ERR_NOMEM);
    }
}

int test_behave_add_suite(void)
{
    CU_pSuite s = CU_add_suite("behave", NULL, NULL);
    if (s == NULL ||
        !CU_add_test(s, "lying-have: bitfield, ignored requests",
                     test_lying_bitfield_and_requests) ||
        !CU_add_test(s, "lying-have: claims to be a seed", test_lying_seed_claim) ||
        !CU_add_test(s, "lying-have: no second have", test_lying_no_second_have) ||
        !CU_add_test(s, "slow responder: served after the delay", test_slow_responder) ||
        !CU_add_test(s, "large view: numwant, limits, re-announce", test_large_view) ||
        !CU_add_test(s, "failmalloc", test_failmalloc))
        return 1;
    return 0;
}
