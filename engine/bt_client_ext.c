/* bt_client_ext.c: the client's BEP 10 extensions beyond the handshake basics: advertising
 * ut_metadata (BEP 9; with metadata_size when we hold the info dict) and ut_pex (BEP 11),
 * serving metadata requests, and sending / receiving peer exchange (off for private torrents). */
#include "bt_client_int.h"
#include "bt_mem.h"
#include "bt_metadata.h"
#include "bt_pex.h"

#include <stdio.h>
#include <string.h>

#define EXT_ID_PEX 1      /* our ids for the peer's messages to us (libtorrent's numbers) */
#define EXT_ID_METADATA 2
#define PEX_FIRST_DELAY BT_SEC(5)   /* first ut_pex after the extension handshake */
#define PEX_INTERVAL BT_SEC(60)     /* BEP 11: at most one message a minute */
#define PEX_MIN_GAP BT_SEC(20)      /* received messages closer than this are ignored */

struct bt_conn_ext {
    uint8_t peer_utm;     /* the peer's id for ut_metadata (0: none) */
    uint8_t peer_pex;     /* the peer's id for ut_pex (0: none) */
    bt_time_us next_pex;  /* when we send the next ut_pex */
    bt_time_us last_pex_in;
    bt_pex_state pex;
};

void bt_ext_fill_handshake(const bt_client *c, bt_ext_handshake *hs)
{
    if (c->info_dict != NULL) {
        snprintf(hs->m[hs->n_m].name, sizeof(hs->m[0].name), "ut_metadata");
        hs->m[hs->n_m++].id = EXT_ID_METADATA;
        hs->metadata_size = (int64_t)c->info_len;
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
    uint8_t utm = c->info_dict != NULL ? find_m(&hs, "ut_metadata") : 0;
    uint8_t pex = c->cfg.pex ? find_m(&hs, "ut_pex") : 0;
    if (utm == 0 && pex == 0 && cn->ext == NULL)
        return 0;
    if (cn->ext == NULL) {
        cn->ext = bt_calloc(c->mem, 1, sizeof(*cn->ext));
        if (cn->ext == NULL)
            return BT_ERR_NOMEM;
        bt_pex_state_init(&cn->ext->pex, c->mem);
        cn->ext->last_pex_in = BT_TIME_NEVER;
        cn->ext->next_pex = now + PEX_FIRST_DELAY;
    }
    cn->ext->peer_utm = utm; /* a later handshake may update or disable (id 0) either */
    cn->ext->peer_pex = pex;
    return 0;
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

static int on_metadata(bt_client *c, bt_conn *cn, const bt_wire_msg *m)
{
    bt_utm_msg msg;
    int rv = bt_metadata_parse(m->data, m->data_len, &msg, c->mem, NULL);
    if (rv == BT_ERR_NOMEM)
        return rv;
    if (rv != 0 || msg.type != BT_UTM_REQUEST || cn->ext == NULL || cn->ext->peer_utm == 0)
        return 0; /* malformed, data we did not ask for, or a peer that gave no id: ignored */
    bt_buf b;
    bt_buf_init(&b, c->mem, 2 * BT_METADATA_PIECE_LEN);
    bt_metadata_serve(&b, c->info_dict, c->info_len, msg.piece);
    rv = send_ext(c, cn, cn->ext->peer_utm, &b);
    bt_buf_free(&b);
    return rv;
}

static int on_pex(bt_client *c, bt_conn *cn, const bt_wire_msg *m, bt_time_us now)
{
    if (cn->ext == NULL || (cn->ext->last_pex_in != BT_TIME_NEVER &&
                            now < cn->ext->last_pex_in + PEX_MIN_GAP))
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
    if (m->ext_id == EXT_ID_METADATA && c->info_dict != NULL)
        return on_metadata(c, cn, m);
    if (m->ext_id == EXT_ID_PEX && c->cfg.pex)
        return on_pex(c, cn, m, now);
    return 0; /* an extension we did not register: ignored */
}

/* The peers we could tell |to| about: other active connections we opened (their addresses
 * carry listen ports; an accepted one's port is ephemeral), in connection order. */
static uint32_t pex_current(const bt_client *c, const bt_conn *to, bt_pex_peer *cur)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->nconns && n < BT_PEX_MAX_TRACKED; i++) {
        const bt_conn *o = c->conns[i];
        if (o == to || o->state != BT_CS_ACTIVE || !o->initiated)
            continue;
        cur[n].addr = c->peers[o->peer].addr;
        cur[n].flags = BT_PEX_F_REACHABLE | (o->counted_seed ? BT_PEX_F_SEED : 0);
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

int bt_ext_tick(bt_client *c, bt_time_us now)
{
    if (!c->cfg.pex)
        return 0;
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
