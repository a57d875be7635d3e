/* bt_client_choke.c: glue between the connections and the choking strategy: builds the
 * read-only peer-stats array (sorted by connection id), asks the strategy, and applies its
 * decision with choke/unchoke messages and upload-weight actions; keeps per connection the
 * time unchoked regularly and optimistically (intervals closed at every change of kind and
 * at the close). */
#include "bt_client_int.h"
#include "bt_mem.h"

#include <string.h>

static int ensure_choke_space(bt_client *c, uint32_t n)
{
    if (n <= c->choke_cap)
        return 0;
    uint32_t ncap = c->choke_cap ? c->choke_cap : 16;
    while (ncap < n)
        ncap *= 2;
    bt_choke_peer *p = bt_realloc(c->mem, c->choke_peers, ncap * sizeof(*p));
    if (p == NULL)
        return BT_ERR_NOMEM;
    c->choke_peers = p;
    uint8_t *o = bt_realloc(c->mem, c->choke_out, ncap);
    if (o == NULL)
        return BT_ERR_NOMEM;
    c->choke_out = o;
    uint32_t *w = bt_realloc(c->mem, c->choke_weight, ncap * sizeof(*w));
    if (w == NULL)
        return BT_ERR_NOMEM;
    c->choke_weight = w;
    c->choke_cap = ncap;
    return 0;
}

static void fill_stats(const bt_client *c, const bt_conn *cn, bt_choke_peer *p, bt_time_us now)
{
    memset(p, 0, sizeof(*p));
    p->id = cn->id;
    p->down_rate = bt_rate_get(&cn->down, now);
    p->up_rate = bt_rate_get(&cn->up, now);
    p->down_total = cn->down_total;
    p->up_total = cn->up_total;
    p->connected_at = cn->connected_at;
    p->unchoked_at = cn->unchoked_at;
    p->pending_requests = cn->nreqs_in;
    p->progress = c->cfg.npieces ? (float)cn->have.count / (float)c->cfg.npieces : 0.0f;
    p->interested = cn->peer_interested;
    p->choked = cn->am_choking;
    p->snubbed = cn->snubbed;
    p->is_seed = bt_bitfield_full(&cn->have);
    p->initiated = cn->initiated;
    p->choking_us = cn->peer_choking;
}

/* Tells the host about a changed upload weight. */
static int set_weight(bt_client *c, bt_conn *cn, uint32_t weight)
{
    if (weight == cn->upload_weight)
        return 0;
    cn->upload_weight = weight;
    bt_action a = {.type = BT_ACT_UPLOAD_WEIGHT, .conn = cn->id, .weight = weight};
    return bt_client_push_action(c, &a);
}

void bt_client_unchoke_account(bt_conn *cn, uint8_t kind, bt_time_us now)
{
    if (kind == cn->unchoke_kind)
        return;
    if (cn->unchoke_kind != BT_UNCHOKE_NONE && now > cn->unchoke_since)
        cn->unchoke_us[cn->unchoke_kind == BT_UNCHOKE_OPTIMISTIC] += now - cn->unchoke_since;
    cn->unchoke_kind = kind;
    cn->unchoke_since = now;
}

void bt_client_rechoke(bt_client *c, bt_time_us now, bool periodic)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->nconns; i++) {
        bt_conn_prefetch_ahead(c, i);
        n += c->conns[i]->state == BT_CS_ACTIVE;
    }
    if (ensure_choke_space(c, n ? n : 1) != 0) {
        bt_client_fail(c, BT_ERR_NOMEM);
        return;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < c->nconns; i++)
        if (c->conns[i]->state == BT_CS_ACTIVE)
            fill_stats(c, c->conns[i], &c->choke_peers[k++], now);
    bt_choke_ctx ctx = {
        .now = now,
        .round = c->rechoke_round,
        .periodic = periodic,
        .seeding = bt_picker_complete(c->picker),
        .slots = c->slots,
        .upload_limit = c->cfg.upload_limit,
        .rng = &c->rng,
        .weight = c->choke_weight,
    };
    memset(c->choke_out, 0, n ? n : 1);
    memset(c->choke_weight, 0, (n ? n : 1) * sizeof(*c->choke_weight));
    if (n > 0)
        c->choker->rechoke(c->choker_state, &ctx, c->choke_peers, n, c->choke_out);
    if (periodic)
        c->rechoke_round++;
    k = 0;
    for (uint32_t i = 0; i < c->nconns; i++) {
        bt_conn *cn = c->conns[i];
        if (cn->state != BT_CS_ACTIVE)
            continue;
        uint8_t kind = c->choke_out[k++];
        kind = kind == BT_UNCHOKE_NONE         ? BT_UNCHOKE_NONE
               : kind == BT_UNCHOKE_OPTIMISTIC ? BT_UNCHOKE_OPTIMISTIC
                                               : BT_UNCHOKE_REGULAR;
        bt_client_unchoke_account(cn, kind, now);
        int rv = bt_conn_set_choke(c, cn, kind == BT_UNCHOKE_NONE, now);
        if (rv == 0)
            rv = set_weight(c, cn, kind == BT_UNCHOKE_NONE ? 0 : c->choke_weight[k - 1]);
        if (rv != 0) {
            bt_client_fail(c, rv);
            return;
        }
    }
}
