/* test_client_ext.c: the client's BEP 9 / BEP 11 extensions driven by scripted peers in memory:
 * the extension handshake advertises ut_metadata + metadata_size and ut_pex, a peer fetches
 * the whole info dict over ut_metadata (verified by the assembler and reparsed as a torrent),
 * out-of-range requests get a reject, and ut_pex is sent to a peer and learnt from one. */
#include "bt.h"
#include "bt_mem.h"
#include "bt_wire.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int test_client_ext_add_suite(void);

#define NP 1000u /* 20000 bytes of piece hashes: a two-piece info dict */
#define PLEN 16384u
#define PEER_UTM 5
#define PEER_PEX 7

typedef struct fx {
    bt_client *c;
    bt_buf info;
    uint8_t info_hash[20];
    uint8_t hashes[NP * 20];
} fx;

static void make_info(fx *f)
{
    for (uint32_t i = 0; i < NP * 20; i++)
        f->hashes[i] = (uint8_t)(i * 7);
    bt_buf_init(&f->info, bt_mem_default(), 1 << 16);
    char head[128];
    int n = snprintf(head, sizeof(head), "d6:lengthi%llue4:name3:abc12:piece lengthi%ue6:pieces%u:",
                     (unsigned long long)NP * PLEN, PLEN, NP * 20);
    bt_buf_put(&f->info, head, (size_t)n);
    bt_buf_put(&f->info, f->hashes, sizeof(f->hashes));
    bt_buf_put(&f->info, "e", 1);
    bt_sha1(f->info.data, f->info.len, f->info_hash);
}

static int setup(fx *f, bool serve, bool pex)
{
    memset(f, 0, sizeof(*f));
    make_info(f);
    bt_config cfg;
    bt_config_defaults(&cfg);
    memcpy(cfg.info_hash, f->info_hash, 20);
    cfg.piece_hashes = f->hashes;
    cfg.npieces = NP;
    cfg.piece_len = PLEN;
    cfg.total_len = (uint64_t)NP * PLEN;
    cfg.seed = serve; /* a seed dials nobody: the PEX test uses a leecher */
    memcpy(cfg.peer_id, "-SL0100-000000000000", 20);
    cfg.listen_port = 6881;
    cfg.info_dict = serve ? f->info.data : NULL;
    cfg.info_len = serve ? f->info.len : 0;
    cfg.pex = pex;
    int rv = bt_client_new(&f->c, &cfg, 1, NULL);
    return rv != 0 ? rv : bt_client_start(f->c, 1);
}

static void teardown(fx *f)
{
    bt_client_del(f->c);
    bt_buf_free(&f->info);
}

static void drain(fx *f)
{
    bt_action a;
    while (bt_client_poll_action(f->c, &a) == 1)
        ;
}

static void pull(fx *f, bt_conn_id id, bt_buf *out, bt_time_us now)
{
    const bt_seg *segs;
    bt_ssize n;
    while ((n = bt_conn_pull_send(f->c, id, &segs, now)) > 0) {
        size_t moved = 0;
        for (bt_ssize i = 0; i < n; i++) {
            CU_ASSERT_FALSE(segs[i].is_virtual);
            bt_buf_put(out, segs[i].data, segs[i].len);
            moved += segs[i].len;
        }
        bt_conn_sent(f->c, id, moved, now);
    }
}

/* The extended messages in |out| (after the 68-byte handshake when |hs|): calls |fn| for each. */
static int each_ext(const bt_buf *out, bool hs, void (*fn)(const bt_wire_msg *, void *), void *arg)
{
    bt_wire_limits lim = {NP, BT_MAX_BLOCK_LEN, 1u << 20, 1u << 20, false};
    bt_wire_parser p;
    bt_wire_parser_init(&p, &lim, bt_mem_default());
    size_t off = hs ? BT_HANDSHAKE_LEN : 0, used;
    int count = 0;
    bt_wire_msg m;
    while (off < out->len && bt_wire_parse(&p, out->data + off, out->len - off, &used, &m) == 1) {
        off += used;
        if (m.id == BT_MSG_EXTENDED) {
            fn(&m, arg);
            count++;
        }
    }
    bt_wire_parser_free(&p);
    return count;
}

static void send_handshake(fx *f, bt_conn_id id, const char *pid, const char *ext_m)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 1 << 16);
    bt_handshake hs;
    memset(&hs, 0, sizeof(hs));
    hs.reserved[BT_RESERVED_EXT_BYTE] |= BT_RESERVED_EXT_BIT;
    hs.reserved[BT_RESERVED_FAST_BYTE] |= BT_RESERVED_FAST_BIT;
    memcpy(hs.info_hash, f->info_hash, 20);
    memcpy(hs.peer_id, pid, 20);
    bt_wire_put_handshake(&b, &hs);
    bt_wire_put_extended(&b, 0, (const uint8_t *)ext_m, strlen(ext_m));
    CU_ASSERT_EQUAL(bt_conn_recv(f->c, id, b.data, b.len, 2), (bt_ssize)b.len);
    bt_buf_free(&b);
}

static void on_our_hs(const bt_wire_msg *m, void *arg)
{
    bt_ext_handshake *hs = arg;
    if (m->ext_id == 0)
        CU_ASSERT_EQUAL(bt_wire_parse_ext_handshake(m->data, m->data_len, hs, bt_mem_default()), 0);
}

static uint8_t m_id(const bt_ext_handshake *hs, const char *name)
{
    for (uint32_t i = 0; i < hs->n_m; i++)
        if (strcmp(hs->m[i].name, name) == 0)
            return hs->m[i].id;
    return 0;
}

typedef struct utm_ctx {
    bt_metadata *md;
    int added, rejects, last;
} utm_ctx;

static void on_utm(const bt_wire_msg *m, void *arg)
{
    utm_ctx *u = arg;
    if (m->ext_id != PEER_UTM)
        return;
    bt_utm_msg msg;
    CU_ASSERT_EQUAL_FATAL(bt_metadata_parse(m->data, m->data_len, &msg, bt_mem_default(), NULL), 0);
    if (msg.type == BT_UTM_REJECT) {
        u->rejects++;
        return;
    }
    CU_ASSERT_EQUAL(msg.type, BT_UTM_DATA);
    u->last = bt_metadata_add(u->md, &msg);
    u->added++;
}

static void request(fx *f, bt_conn_id id, uint8_t ext, uint32_t piece)
{
    bt_buf pl, b;
    bt_buf_init(&pl, bt_mem_default(), 256);
    bt_buf_init(&b, bt_mem_default(), 256);
    bt_metadata_put_request(&pl, piece);
    bt_wire_put_extended(&b, ext, pl.data, pl.len);
    CU_ASSERT_EQUAL(bt_conn_recv(f->c, id, b.data, b.len, 3), (bt_ssize)b.len);
    bt_buf_free(&pl);
    bt_buf_free(&b);
}

/* A peer given only the info hash fetches the info dict from the client, piece by piece. */
static void test_metadata_serve_fetch(void)
{
    fx f;
    CU_ASSERT_EQUAL_FATAL(setup(&f, true, true), 0);
    bt_addr from = {.family = 4, .ip = {127, 0, 0, 2}, .port = 40000};
    bt_conn_id id;
    CU_ASSERT_EQUAL_FATAL(bt_client_accept(f.c, &from, &id, 1), 0);
    send_handshake(&f, id, "-LT0001-abcdefghijkl", "d1:md11:ut_metadatai5eee");
    bt_buf out;
    bt_buf_init(&out, bt_mem_default(), 1 << 22);
    pull(&f, id, &out, 2);
    bt_ext_handshake hs;
    memset(&hs, 0, sizeof(hs));
    CU_ASSERT_EQUAL(each_ext(&out, true, on_our_hs, &hs), 1);
    uint8_t utm = m_id(&hs, "ut_metadata");
    CU_ASSERT_NOT_EQUAL_FATAL(utm, 0);
    CU_ASSERT_NOT_EQUAL(m_id(&hs, "ut_pex"), 0);
    CU_ASSERT_EQUAL_FATAL(hs.metadata_size, (int64_t)f.info.len);
    utm_ctx u = {0};
    CU_ASSERT_EQUAL_FATAL(
        bt_metadata_new(&u.md, f.info_hash, (uint32_t)hs.metadata_size, bt_mem_default()), 0);
    CU_ASSERT_EQUAL(bt_metadata_piece_count((uint32_t)hs.metadata_size), 2);
    int32_t p;
    int rounds = 0;
    while ((p = bt_metadata_next_missing(u.md, 0)) >= 0 && rounds++ < 10) {
        bt_buf_reset(&out);
        request(&f, id, utm, (uint32_t)p);
        pull(&f, id, &out, 3);
        CU_ASSERT_EQUAL(each_ext(&out, false, on_utm, &u), 1);
    }
    CU_ASSERT_EQUAL(u.added, 2);
    CU_ASSERT_EQUAL(u.last, 1);
    CU_ASSERT_TRUE_FATAL(bt_metadata_done(u.md));
    /* out of range: a reject */
    bt_buf_reset(&out);
    request(&f, id, utm, 2);
    pull(&f, id, &out, 3);
    CU_ASSERT_EQUAL(each_ext(&out, false, on_utm, &u), 1);
    CU_ASSERT_EQUAL(u.rejects, 1);
    /* the verified dict makes a torrent with our geometry */
    size_t len;
    const uint8_t *d = bt_metadata_data(u.md, &len);
    bt_buf t;
    bt_buf_init(&t, bt_mem_default(), 1 << 22);
    bt_metadata_wrap(&t, d, len);
    bt_metainfo *mi = NULL;
    CU_ASSERT_EQUAL_FATAL(bt_metainfo_parse(&mi, t.data, t.len, bt_mem_default(), NULL, NULL), 0);
    CU_ASSERT_EQUAL(memcmp(mi->info_hash, f.info_hash, 20), 0);
    CU_ASSERT_EQUAL(mi->npieces, NP);
    bt_metainfo_del(mi);
    bt_buf_free(&t);
    bt_metadata_del(u.md);
    bt_buf_free(&out);
    teardown(&f);
}

/* Without an info dict (and with PEX off, a private torrent) nothing is advertised, and a
 * request on the id libtorrent would use is not answered. */
static void test_no_metadata_no_pex(void)
{
    fx f;
    CU_ASSERT_EQUAL_FATAL(setup(&f, false, false), 0);
    bt_addr from = {.family = 4, .ip = {127, 0, 0, 2}, .port = 40000};
    bt_conn_id id;
    CU_ASSERT_EQUAL_FATAL(bt_client_accept(f.c, &from, &id, 1), 0);
    send_handshake(&f, id, "-LT0001-abcdefghijkl", "d1:md11:ut_metadatai5e6:ut_pexi7eee");
    bt_buf out;
    bt_buf_init(&out, bt_mem_default(), 1 << 20);
    pull(&f, id, &out, 2);
    bt_ext_handshake hs;
    memset(&hs, 0, sizeof(hs));
    CU_ASSERT_EQUAL(each_ext(&out, true, on_our_hs, &hs), 1);
    CU_ASSERT_EQUAL(m_id(&hs, "ut_metadata"), 0);
    CU_ASSERT_EQUAL(m_id(&hs, "ut_pex"), 0);
    CU_ASSERT_EQUAL(hs.metadata_size, -1);
    bt_buf_reset(&out);
    request(&f, id, 2, 0);
    CU_ASSERT_EQUAL(bt_client_on_timer(f.c, BT_SEC(120)), 0);
    pull(&f, id, &out, BT_SEC(120));
    utm_ctx u = {0};
    CU_ASSERT_EQUAL(each_ext(&out, false, on_utm, &u), 0);
    bt_buf_free(&out);
    teardown(&f);
}

typedef struct serve_ctx {
    const bt_buf *info;
    bt_buf *reply; /* the peer's answers, framed with our ut_metadata id */
    uint8_t our_utm;
    int requests;
    bool corrupt; /* flip a byte of the first two data blocks */
    bool reject;  /* answer every request with a reject */
} serve_ctx;

static void on_request(const bt_wire_msg *m, void *arg)
{
    serve_ctx *x = arg;
    if (m->ext_id == 0) {
        bt_ext_handshake hs;
        CU_ASSERT_EQUAL(bt_wire_parse_ext_handshake(m->data, m->data_len, &hs, bt_mem_default()),
                        0);
        x->our_utm = m_id(&hs, "ut_metadata");
        CU_ASSERT_EQUAL(hs.metadata_size, -1); /* fetching: no size to offer */
        return;
    }
    CU_ASSERT_EQUAL_FATAL(m->ext_id, PEER_UTM);
    bt_utm_msg msg;
    CU_ASSERT_EQUAL_FATAL(bt_metadata_parse(m->data, m->data_len, &msg, bt_mem_default(), NULL), 0);
    CU_ASSERT_EQUAL_FATAL(msg.type, BT_UTM_REQUEST);
    x->requests++;
    bt_buf pl;
    bt_buf_init(&pl, bt_mem_default(), 1 << 16);
    if (x->reject)
        bt_metadata_put_reject(&pl, msg.piece);
    else
        bt_metadata_serve(&pl, x->info->data, x->info->len, msg.piece);
    if (x->corrupt && x->requests <= 2)
        pl.data[pl.len - 1] ^= 1; /* the first full copy (2 pieces) is corrupt */
    bt_wire_put_extended(x->reply, x->our_utm, pl.data, pl.len);
    bt_buf_free(&pl);
}

/* A client in magnet mode: placeholder geometry, the real info hash. */
static int setup_fetch(fx *f)
{
    memset(f, 0, sizeof(*f));
    make_info(f);
    static const uint8_t zero[20];
    bt_config cfg;
    bt_config_defaults(&cfg);
    memcpy(cfg.info_hash, f->info_hash, 20);
    cfg.piece_hashes = zero;
    cfg.npieces = 1;
    cfg.piece_len = 1;
    cfg.total_len = 1;
    cfg.fetch_metadata = true;
    memcpy(cfg.peer_id, "-SL0100-000000000000", 20);
    int rv = bt_client_new(&f->c, &cfg, 1, NULL);
    return rv != 0 ? rv : bt_client_start(f->c, 1);
}

/* A peer that rejects our request is not asked again, even after the request timeout. */
static void test_fetch_rejected(void)
{
    fx f;
    CU_ASSERT_EQUAL_FATAL(setup_fetch(&f), 0);
    bt_addr from = {.family = 4, .ip = {127, 0, 0, 2}, .port = 40000};
    bt_conn_id id;
    CU_ASSERT_EQUAL_FATAL(bt_client_accept(f.c, &from, &id, 1), 0);
    char hs[96];
    snprintf(hs, sizeof(hs), "d1:md11:ut_metadatai%dee13:metadata_sizei%zuee", PEER_UTM,
             f.info.len);
    send_handshake(&f, id, "-LT0001-abcdefghijkl", hs);
    bt_buf b, out;
    bt_buf_init(&b, bt_mem_default(), 1 << 20);
    bt_buf_init(&out, bt_mem_default(), 1 << 20);
    serve_ctx x = {.info = &f.info, .reply = &b, .reject = true};
    pull(&f, id, &out, 2);
    each_ext(&out, true, on_request, &x);
    CU_ASSERT_EQUAL(x.requests, 1);
    CU_ASSERT_EQUAL(bt_conn_recv(f.c, id, b.data, b.len, 3), (bt_ssize)b.len);
    for (int s = 4; s < 40; s++)
        CU_ASSERT_EQUAL(bt_client_on_timer(f.c, BT_SEC(s)), 0);
    drain(&f);
    bt_buf_reset(&out);
    pull(&f, id, &out, BT_SEC(40));
    each_ext(&out, false, on_request, &x);
    CU_ASSERT_EQUAL(x.requests, 1);
    CU_ASSERT_PTR_NULL(bt_client_metadata(f.c, &(size_t){0}));
    bt_buf_free(&b);
    bt_buf_free(&out);
    teardown(&f);
}

/* Magnet mode: the client knows only the info hash, tolerates a bitfield of any length, asks a
 * peer that offers metadata for every piece and verifies the whole; a corrupt copy is refused
 * and fetched again. */
static void test_fetch_metadata(void)
{
    fx f;
    CU_ASSERT_EQUAL_FATAL(setup_fetch(&f), 0);
    size_t len = 0;
    CU_ASSERT_PTR_NULL(bt_client_metadata(f.c, &len));
    bt_addr from = {.family = 4, .ip = {127, 0, 0, 2}, .port = 40000};
    bt_conn_id id;
    CU_ASSERT_EQUAL_FATAL(bt_client_accept(f.c, &from, &id, 1), 0);
    char hs[96];
    snprintf(hs, sizeof(hs), "d1:md11:ut_metadatai%dee13:metadata_sizei%zuee", PEER_UTM,
             f.info.len);
    send_handshake(&f, id, "-LT0001-abcdefghijkl", hs);
    bt_buf b, out;
    bt_buf_init(&b, bt_mem_default(), 1 << 20);
    bt_buf_init(&out, bt_mem_default(), 1 << 20);
    uint8_t bits[NP / 8 + 1];
    memset(bits, 0xff, sizeof(bits));
    bits[NP / 8] = 0; /* 1000 pieces: exactly 125 bytes + a spare zero byte is too long */
    bt_wire_put_bitfield(&b, bits, NP / 8);
    bt_wire_put_index(&b, BT_MSG_HAVE, NP - 1);
    CU_ASSERT_EQUAL(bt_conn_recv(f.c, id, b.data, b.len, 2), (bt_ssize)b.len);
    bt_buf_reset(&b);
    serve_ctx x = {.info = &f.info, .reply = &b, .corrupt = true};
    pull(&f, id, &out, 2);
    each_ext(&out, true, on_request, &x);
    CU_ASSERT_NOT_EQUAL_FATAL(x.our_utm, 0);
    for (int round = 0; round < 8 && bt_client_metadata(f.c, &len) == NULL; round++) {
        CU_ASSERT_EQUAL(bt_conn_recv(f.c, id, b.data, b.len, 3), (bt_ssize)b.len);
        bt_buf_reset(&b);
        bt_buf_reset(&out);
        pull(&f, id, &out, 3);
        each_ext(&out, false, on_request, &x);
    }
    const uint8_t *d = bt_client_metadata(f.c, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(len, f.info.len);
    CU_ASSERT_EQUAL(memcmp(d, f.info.data, len), 0);
    CU_ASSERT_EQUAL(x.requests, 4); /* 2 corrupt + 2 good */
    bt_conn_info ci;
    CU_ASSERT_EQUAL(bt_conn_get_info(f.c, id, &ci), 0); /* still connected */
    bt_buf_free(&b);
    bt_buf_free(&out);
    teardown(&f);
}

/* Parses |len| bytes of bitfield payload under the fetch-mode limits: 1 or 0 (needs more)
 * on success, a negative error otherwise. */
static int parse_bitfield(uint32_t npieces, bool any, size_t len)
{
    bt_wire_limits lim = {npieces, BT_MAX_BLOCK_LEN, 1u << 20, 1u << 20, any};
    bt_wire_parser p;
    bt_wire_parser_init(&p, &lim, bt_mem_default());
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 1 << 16);
    bt_buf_put_be32(&b, (uint32_t)(len + 1));
    bt_buf_put_u8(&b, BT_MSG_BITFIELD);
    for (size_t i = 0; i < len; i++)
        bt_buf_put_u8(&b, 0xff);
    size_t used;
    bt_wire_msg m;
    int rv = bt_wire_parse(&p, b.data, b.len, &used, &m);
    if (rv == 1 && m.data_len != len)
        rv = -100;
    bt_buf_free(&b);
    bt_wire_parser_free(&p);
    return rv;
}

/* any_bitfield: any length from 1 byte to ceil(npieces/8) passes; empty or longer ones fail,
 * as does a wrong length without the flag. */
static void test_any_bitfield_limits(void)
{
    CU_ASSERT_EQUAL(parse_bitfield(64, true, 1), 1);
    CU_ASSERT_EQUAL(parse_bitfield(64, true, 8), 1);
    CU_ASSERT_EQUAL(parse_bitfield(64, true, 0), BT_ERR_PROTO);
    CU_ASSERT_EQUAL(parse_bitfield(64, true, 9), BT_ERR_PROTO);
    CU_ASSERT_EQUAL(parse_bitfield(64, false, 8), 1);
    CU_ASSERT_EQUAL(parse_bitfield(64, false, 7), BT_ERR_PROTO);
}

typedef struct pex_ctx {
    int msgs;
    bt_pex_msg msg;
} pex_ctx;

static void on_pex(const bt_wire_msg *m, void *arg)
{
    pex_ctx *x = arg;
    if (m->ext_id != PEER_PEX)
        return;
    CU_ASSERT_EQUAL(
        bt_pex_parse(m->data, m->data_len, BT_PEX_MAX_FIRST, &x->msg, bt_mem_default(), NULL), 0);
    x->msgs++;
}

/* Two peers we dialled: the one that speaks ut_pex hears about the other; peers it sends us
 * become connect candidates. */
static void test_pex_exchange(void)
{
    fx f;
    CU_ASSERT_EQUAL_FATAL(setup(&f, false, true), 0);
    drain(&f);
    bt_addr peers[2] = {{.family = 4, .ip = {127, 0, 0, 2}, .port = 6001},
                        {.family = 4, .ip = {127, 0, 0, 3}, .port = 6002}};
    bt_conn_id ids[2];
    int nc = 0;
    bt_action a;
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL_FATAL(bt_client_add_peers(f.c, &peers[i], 1, 1), 0);
        while (bt_client_poll_action(f.c, &a) == 1)
            if (a.type == BT_ACT_CONNECT && nc < 2)
                ids[nc++] = a.conn;
    }
    CU_ASSERT_EQUAL_FATAL(nc, 2);
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(bt_conn_connected(f.c, ids[i], 1), 0);
    send_handshake(&f, ids[0], "-LT0001-aaaaaaaaaaaa", "d1:md6:ut_pexi7eee");
    send_handshake(&f, ids[1], "-LT0001-bbbbbbbbbbbb", "d1:mdee");
    /* two accepted peers: one tells its listen port (listed with it), one does not */
    bt_addr in4 = {.family = 4, .ip = {127, 0, 0, 4}, .port = 50004};
    bt_addr in5 = {.family = 4, .ip = {127, 0, 0, 5}, .port = 50005};
    bt_conn_id id4, id5;
    CU_ASSERT_EQUAL_FATAL(bt_client_accept(f.c, &in4, &id4, 1), 0);
    CU_ASSERT_EQUAL_FATAL(bt_client_accept(f.c, &in5, &id5, 1), 0);
    send_handshake(&f, id4, "-LT0001-cccccccccccc", "d1:mde1:pi7004ee");
    send_handshake(&f, id5, "-LT0001-dddddddddddd", "d1:mdee");
    drain(&f);
    bt_buf out;
    bt_buf_init(&out, bt_mem_default(), 1 << 20);
    pull(&f, ids[0], &out, 2);
    pull(&f, ids[1], &out, 2);
    bt_buf_reset(&out);
    pex_ctx *x = calloc(1, sizeof(*x));
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    /* nothing before the first delay, one message after it, none a few seconds later */
    CU_ASSERT_EQUAL(bt_client_on_timer(f.c, BT_SEC(3)), 0);
    pull(&f, ids[0], &out, BT_SEC(3));
    each_ext(&out, false, on_pex, x);
    CU_ASSERT_EQUAL(x->msgs, 0);
    for (int s = 4; s <= 12; s++) {
        CU_ASSERT_EQUAL(bt_client_on_timer(f.c, BT_SEC(s)), 0);
        drain(&f);
    }
    pull(&f, ids[0], &out, BT_SEC(12));
    each_ext(&out, false, on_pex, x);
    CU_ASSERT_EQUAL_FATAL(x->msgs, 1);
    CU_ASSERT_EQUAL_FATAL(x->msg.nadded, 2);
    CU_ASSERT_EQUAL(memcmp(&x->msg.added[0].addr.ip, peers[1].ip, 4), 0);
    CU_ASSERT_EQUAL(x->msg.added[0].addr.port, 6002);
    CU_ASSERT_EQUAL(x->msg.added[0].flags & BT_PEX_F_REACHABLE, BT_PEX_F_REACHABLE);
    CU_ASSERT_EQUAL(memcmp(&x->msg.added[1].addr.ip, in4.ip, 4), 0);
    CU_ASSERT_EQUAL(x->msg.added[1].addr.port, 7004);
    CU_ASSERT_EQUAL(x->msg.added[1].flags & BT_PEX_F_REACHABLE, 0);
    bt_buf_reset(&out);
    pull(&f, ids[1], &out, BT_SEC(12));
    x->msgs = 0;
    each_ext(&out, false, on_pex, x); /* the other peer did not register ut_pex */
    CU_ASSERT_EQUAL(x->msgs, 0);
    /* receive: two new addresses become candidates */
    bt_client_stats st0, st1;
    bt_client_get_stats(f.c, &st0);
    const char *pl = "d5:added12:\x0a\x00\x00\x09\x1a\xe1\x0a\x00\x00\x0a\x1a\xe2"
                     "e";
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 256);
    bt_wire_put_extended(&b, 1 /* our ut_pex id, from our handshake */, (const uint8_t *)pl, 24);
    CU_ASSERT_EQUAL(bt_conn_recv(f.c, ids[0], b.data, b.len, BT_SEC(13)), (bt_ssize)b.len);
    bt_client_get_stats(f.c, &st1);
    CU_ASSERT_EQUAL(st1.nknown, st0.nknown + 2);
    /* a second message within 20 s is ignored */
    pl = "d5:added6:\x0a\x00\x00\x0b\x1a\xe3"
         "e";
    bt_buf_reset(&b);
    bt_wire_put_extended(&b, 1, (const uint8_t *)pl, 17);
    CU_ASSERT_EQUAL(bt_conn_recv(f.c, ids[0], b.data, b.len, BT_SEC(14)), (bt_ssize)b.len);
    bt_client_get_stats(f.c, &st0);
    CU_ASSERT_EQUAL(st0.nknown, st1.nknown);
    drain(&f);
    free(x);
    bt_buf_free(&b);
    bt_buf_free(&out);
    teardown(&f);
}

int test_client_ext_add_suite(void)
{
    CU_pSuite s = CU_add_suite("client_ext", NULL, NULL);
    if (s == NULL ||
        CU_add_test(s, "metadata served and fetched", test_metadata_serve_fetch) == NULL ||
        CU_add_test(s, "no metadata, no pex", test_no_metadata_no_pex) == NULL ||
        CU_add_test(s, "pex sent and received", test_pex_exchange) == NULL ||
        CU_add_test(s, "metadata fetched in magnet mode", test_fetch_metadata) == NULL ||
        CU_add_test(s, "any-length bitfield limits", test_any_bitfield_limits) == NULL ||
        CU_add_test(s, "a rejecting peer is not asked again", test_fetch_rejected) == NULL)
        return -1;
    return 0;
}
