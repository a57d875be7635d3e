/* bt_client_ext.c: the client's BEP 10 extensions beyond the handshake basics: advertising
 * ut_metadata (BEP 9; with metadata_size when we hold the info dict) and ut_pex (BEP 11),
 * serving metadata requests, fetching the info dict in magnet mode (cfg.fetch_metadata), and
 * sending / receiving peer exchange (off for private torrents). */
#include "bt_client_int.h"
#include "bt_mem.h"
#include "bt_metadata.h"
#include "bt_pex.h"

#include <stdio.h>
#include <string.h>

#define EXT_ID_PEX 1 /* our ids for the peer's messages to us (libtorrent's numbers) */
#define EXT_ID_METADATA 2
#define PEX_FIRST_DELAY BT_SEC(5) /* first ut_pex after the extension handshake */
#define PEX_INTERVAL BT_SEC(60)   /* BEP 11: at most one message a minute */
#define PEX_MIN_GAP BT_SEC(20)    /* received messages closer than this are ignored */
#define MD_TIMEOUT BT_SEC(10)     /* a metadata request unanswered this long is re-sent */
/* Fetch mode: a bitfield may cover any torrent whose hashes fit in BT_METADATA_MAX_SIZE (a
 * multiple of 8, so the parser checks no spare bits). */
#define FETCH_MAX_PIECES ((BT_METADATA_MAX_SIZE / 20 + 7) & ~7u)

typedef struct bt_conn_ext bt_conn_ext;

struct bt_conn_ext {
    uint8_t peer_utm;     /* the peer's id for ut_metadata (0: none) */
    uint8_t peer_pex;     /* the peer's id for ut_pex (0: none) */
    uint16_t listen_port; /* its BEP 10 "p" (0: not told) */
    bt_time_us next_pex;  /* when we send the next ut_pex */
    bt_time_us last_pex_in;
    bt_pex_state pex;
    bool md_bad;        /* fetch: it rejected us or sent metadata of another size */
    int32_t md_pending; /* fetch: the piece we asked it for (-1: none) */
    bt_time_us md_at;   /* fetch: when */
    uint32_t md_asked;  /* fetch: requests sent (spreads the pieces over the peers) */
};

void bt_ext_wire_limits(const bt_client *c, bt_wire_limits *lim)
{
    if (c->cfg.fetch_metadata) {
        lim->npieces = FETCH_MAX_PIECES;
        lim->any_bitfield = true;
    }
}

void bt_ext_client_free(bt_client *c)
{
    bt_metadata_del(c->md);
    c->md = NULL;
}

const uint8_t *bt_client_metadata(const bt_client *c, size_t *len)
{
    if (c->md == NULL || !bt_metadata_done(c->md))
        return NULL;
    return bt_metadata_data(c->md, len);
}

static bool offers_utm(const bt_client *c)
{
    return c->info_dict != NULL || c->cfg.fetch_metadata;
}

void bt_ext_fill_handshake(const bt_client *c, bt_ext_handshake *hs)
{
    if (offers_utm(c)) {
        snprintf(hs->m[hs->n_m].name, sizeof(hs->m[0].name), "ut_metadata");
        hs->m[hs->n_m++].id = EXT_ID_METADATA;
        hs->metadata_size = c->info_dict != NULL ? (int64_t)c->info_len : -1;
    }
    if (c->cfg.pex) {
        snprintf(hs->m[hs->n_m].name, sizeof(hs->m[0].name), "ut_pex");
        hs->m[hs->n_m++].id = EXT_ID_PEX;
    }
}

void bt_ext_conn_free(bt_client *c, bt_conn *cn)
{
    if (cn->ext == NULL)
        return;
    bt_pex_state_free(&cn->ext->pex);
    bt_free(c->mem, cn->ext);
    cn->ext = NULL;
}

static uint8_t find_m(const bt_ext_handshake *hs, const char *name)
{
    for (uint32_t i = 0; i < hs->n_m; i++)
        if (strcmp(hs->m[i].name, name) == 0)
            return hs->m[i].id;
    return 0;
}

/* Sends the next metadata request to |cn| if it has nothing in flight (or it timed out). */
static int md_request(bt_client *c, bt_conn *cn, bt_time_us now);

/* Fetch mode: the first peer that tells a plausible metadata_size sizes the assembler. */
static int fetch_start(bt_client *c, bt_conn *cn, const bt_ext_handshake *hs, bt_time_us now)
{
    if (!c->cfg.fetch_metadata || cn->ext->peer_utm == 0)
        return 0;
    if (hs->metadata_size <= 0 || hs->metadata_size > BT_METADATA_MAX_SIZE) {
        cn->ext->md_bad = true;
        return 0;
    }
    if (c->md == NULL) {
        int rv = bt_metadata_new(&c->md, c->cfg.info_hash, (uint32_t)hs->metadata_size, c->mem);
        if (rv != 0)
            return rv == BT_ERR_NOMEM ? rv : 0;
    }
    cn->ext->md_bad = (uint32_t)hs->metadata_size != bt_metadata_size(c->md);
    return md_request(c, cn, now);
}

static int on_handshake(bt_client *c, bt_conn *cn, const bt_wire_msg *m, bt_time_us now)
{
    bt_ext_handshake hs;
    int rv = bt_wire_parse_ext_handshake(m->data, m->data_len, &hs, c->mem);
    if (rv == BT_ERR_NOMEM)
        return rv;
    if (rv != 0)
        return 0; /* a malformed extension handshake is ignored, as libtorrent does */
    if (hs.reqq > 0)
        cn->peer_reqq = hs.reqq;
    uint8_t utm = offers_utm(c) ? find_m(&hs, "ut_metadata") : 0;
    uint8_t pex = c->cfg.pex ? find_m(&hs, "ut_pex") : 0;
    if (utm == 0 && pex == 0 && (hs.p == 0 || !c->cfg.pex) && cn->ext == NULL)
        return 0;
    if (cn->ext == NULL) {
        cn->ext = bt_calloc(c->mem, 1, sizeof(*cn->ext));
        if (cn->ext == NULL)
            return BT_ERR_NOMEM;
        bt_pex_state_init(&cn->ext->pex, c->mem);
        cn->ext->last_pex_in = BT_TIME_NEVER;
        cn->ext->next_pex = now + PEX_FIRST_DELAY;
        cn->ext->md_pending = -1;
    }
    cn->ext->peer_utm = utm; /* a later handshake may update or disable (id 0) either */
    cn->ext->peer_pex = pex;
    cn->ext->listen_port = hs.p;
    return fetch_start(c, cn, &hs, now);
}

/* Sends |payload| as extended message |id| to the peer. */
static int send_ext(bt_client *c, bt_conn *cn, uint8_t id, const bt_buf *payload)
{
    if (payload->err != 0)
        return payload->err;
    size_t start = cn->out.bytes.len;
    bt_wire_put_extended(&cn->out.bytes, id, payload->data, payload->len);
    return bt_conn_queue_msg(c, cn, start);
}

static int md_request(bt_client *c, bt_conn *cn, bt_time_us now)
{
    bt_conn_ext *x = cn->ext;
    if (c->md == NULL || bt_metadata_done(c->md) || x == NULL || x->peer_utm == 0 || x->md_bad ||
        (x->md_pending >= 0 && now < x->md_at + MD_TIMEOUT))
        return 0;
    uint32_t n = bt_metadata_piece_count(bt_metadata_size(c->md));
    int32_t piece = bt_metadata_next_missing(c->md, (uint32_t)(cn->id + x->md_asked) % n);
    if (piece < 0)
        return 0;
    bt_buf b;
    bt_buf_init(&b, c->mem, 64);
    bt_metadata_put_request(&b, (uint32_t)piece);
    int rv = send_ext(c, cn, x->peer_utm, &b);
    bt_buf_free(&b);
    x->md_pending = piece;
    x->md_at = now;
    x->md_asked++;
    return rv;
}

/* Fetch mode: a data or reject message for our request. */
static int md_answer(bt_client *c, bt_conn *cn, const bt_utm_msg *msg, bt_time_us now)
{
    bt_conn_ext *x = cn->ext;
    x->md_pending = -1;
    if (msg->type == BT_UTM_REJECT || c->md == NULL) {
        x->md_bad = true; /* BEP 9: it will not serve us; ask the others */
        return 0;
    }
    uint32_t fails = bt_metadata_failures(c->md);
    int rv = bt_metadata_add(c->md, msg);
    if (rv == BT_ERR_PROTO && bt_metadata_failures(c->md) == fails)
        x->md_bad = true; /* wrong size or block: a hash mismatch instead restarts the fetch */
    return md_request(c, cn, now);
}

static int on_metadata(bt_client *c, bt_conn *cn, const bt_wire_msg *m, bt_time_us now)
{
    bt_utm_msg msg;
    int rv = bt_metadata_parse(m->data, m->data_len, &msg, c->mem, NULL);
    if (rv == BT_ERR_NOMEM)
        return rv;
    if (rv != 0 || cn->ext == NULL || cn->ext->peer_utm == 0)
        return 0; /* malformed, or a peer that gave no id: ignored */
    if (msg.type == BT_UTM_DATA || msg.type == BT_UTM_REJECT)
        return c->cfg.fetch_metadata ? md_answer(c, cn, &msg, now) : 0;
    if (msg.type != BT_UTM_REQUEST)
        return 0;
    bt_buf b;
    bt_buf_init(&b, c->mem, 2 * BT_METADATA_PIECE_LEN);
    if (c->info_dict != NULL)
        bt_metadata_serve(&b, c->info_dict, c->info_len, msg.piece);
    else
        bt_metadata_put_reject(&b, msg.piece); /* fetching it ourselves */
    rv = send_ext(c, cn, cn->ext->peer_utm, &b);
    bt_buf_free(&b);
    return rv;
}

static int on_pex(bt_client *c, bt_conn *cn, const bt_wire_msg *m, bt_time_us now)
{
    if (cn->ext == NULL ||
        (cn->ext->last_pex_in != BT_TIME_NEVER && now < cn->ext->last_pex_in + PEX_MIN_GAP))
        return 0; /* BEP 11 allows one a minute: a flood is ignored */
    bt_pex_msg *msg = bt_malloc(c->mem, sizeof(*msg));
    if (msg == NULL)
        return BT_ERR_NOMEM;
    int rv = bt_pex_parse(m->data, m->data_len, BT_PEX_MAX_FIRST, msg, c->mem, NULL);
    if (rv == 0) {
        cn->ext->last_pex_in = now;
        bt_addr addrs[2 * BT_PEX_MAX_FIRST];
        for (uint32_t i = 0; i < msg->nadded; i++)
            addrs[i] = msg->added[i].addr;
        rv = bt_client_learn_peers(c, addrs, msg->nadded, now);
    }
    bt_free(c->mem, msg);
    return rv == BT_ERR_NOMEM ? rv : 0; /* a malformed message is ignored */
}

int bt_ext_on_extended(bt_client *c, bt_conn *cn, const bt_wire_msg *m, bt_time_us now)
{
    if (!cn->extended)
        return 0;
    if (m->ext_id == 0)
        return on_handshake(c, cn, m, now);
    if (m->ext_id == EXT_ID_METADATA && offers_utm(c))
        return on_metadata(c, cn, m, now);
    if (m->ext_id == EXT_ID_PEX && c->cfg.pex)
        return on_pex(c, cn, m, now);
    return 0; /* an extension we did not register: ignored */
}

/* The peers we could tell |to| about, in connection order: other active connections we
 * opened (their addresses carry listen ports) and accepted ones whose BEP 10 handshake gave
 * a listen port "p" (the address's own port is ephemeral). */
static uint32_t pex_current(const bt_client *c, const bt_conn *to, bt_pex_peer *cur)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->nconns && n < BT_PEX_MAX_TRACKED; i++) {
        const bt_conn *o = c->conns[i];
        uint16_t port = o->initiated     ? c->peers[o->peer].addr.port
                        : o->ext != NULL ? o->ext->listen_port
                                         : 0;
        if (o == to || o->state != BT_CS_ACTIVE || port == 0)
            continue;
        cur[n].addr = c->peers[o->peer].addr;
        cur[n].addr.port = port;
        cur[n].flags =
            (o->initiated ? BT_PEX_F_REACHABLE : 0) | (o->counted_seed ? BT_PEX_F_SEED : 0);
        n++;
    }
    return n;
}

static int pex_send(bt_client *c, bt_conn *cn, bt_pex_peer *cur, bt_pex_msg *msg)
{
    uint32_t ncur = pex_current(c, cn, cur);
    bool first = false;
    int rv = bt_pex_state_next(&cn->ext->pex, cur, ncur, msg, &first);
    if (rv <= 0)
        return rv;
    bt_buf b;
    bt_buf_init(&b, c->mem, 4 * BT_PEX_MAX_PAYLOAD);
    rv = bt_pex_put(&b, msg, first);
    if (rv == 0)
        rv = send_ext(c, cn, cn->ext->peer_pex, &b);
    bt_buf_free(&b);
    return rv;
}

static int pex_tick(bt_client *c, bt_time_us now)
{
    bt_pex_peer *cur = NULL;
    bt_pex_msg *msg = NULL;
    int rv = 0;
    for (uint32_t i = 0; i < c->nconns && rv == 0; i++) {
        bt_conn *cn = c->conns[i];
        if (cn->state != BT_CS_ACTIVE || cn->ext == NULL || cn->ext->peer_pex == 0 ||
            now < cn->ext->next_pex)
            continue;
        if (cur == NULL) {
            cur = bt_malloc(c->mem, BT_PEX_MAX_TRACKED * sizeof(*cur));
            msg = bt_malloc(c->mem, sizeof(*msg));
            if (cur == NULL || msg == NULL) {
                rv = BT_ERR_NOMEM;
                break;
            }
        }
        cn->ext->next_pex = now + PEX_INTERVAL;
        rv = pex_send(c, cn, cur, msg);
    }
    if (cur != NULL)
        bt_free(c->mem, cur);
    if (msg != NULL)
        bt_free(c->mem, msg);
    return rv;
}

int bt_ext_tick(bt_client *c, bt_time_us now)
{
    for (uint32_t i = 0; i < c->nconns && c->cfg.fetch_metadata; i++) {
        bt_conn *cn = c->conns[i];
        int rv = cn->state == BT_CS_ACTIVE ? md_request(c, cn, now) : 0;
        if (rv != 0)
            return rv;
    }
    return c->cfg.pex ? pex_tick(c, now) : 0;
}
