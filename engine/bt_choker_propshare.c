/* bt_choker_propshare.c: the `propshare` choker, after Levin, LaCurts, Spring and
 * Bhattacharjee, "BitTorrent is an Auction: Analyzing and Improving BitTorrent's Incentives",
 * SIGCOMM 2008 (PropShare, s5): each round a peer's "bid" is what it uploaded to us in the
 * previous round, and our upload is split among the bidders in proportion to their bids.
 * Pure decision logic over per-peer records kept by connection id; never does I/O.
 *
 * Leeching, each periodic round (ctx->periodic, every 10 s):
 * - gave(p) = the payload bytes p sent us since the previous periodic round (down_total now
 *   minus down_total then; for a peer new since then, all it sent);
 * - regular: every interested peer with gave(p) > 0 is unchoked, sharing 9/10 of the upload
 *   in proportion to gave(p) (the upload weights, below);
 * - optimistic: the other 1/10 (OPT_RESERVE_DEN) goes to one optimistic unchoke among the
 *   interested peers that gave nothing, newcomers (never unchoked by us) first, drawn with
 *   ctx->rng; it is kept while it stays interested and gives nothing, and redrawn every 3rd
 *   round (30 s, as BitTorrent's). The paper reserves a share of the upload for optimistic
 *   unchokes of newcomers; 10 % is the figure of the Harvard CS 136 course specification of
 *   PropShare (we could not check the paper's own number);
 * - nobody gave anything (start-up, or nobody reciprocates): ctx->slots optimistic unchokes
 *   with equal weights, BitTorrent's bootstrap; ctx->slots == 0 unchokes nobody.
 * Weights (ctx->weight, if not NULL) are in BT_UPLOAD_WEIGHT_ONE units, scaled so that they
 * average BT_UPLOAD_WEIGHT_ONE over the unchoked peers, each at least 1; choked peers get 0.
 * Seeding (nobody can reciprocate): the ctx->slots interested non-seed peers we have sent the
 * least (up_total; ties: lower id), recomputed every periodic round, regular, weight 0 (equal).
 * Extra calls (ctx->periodic false) re-apply the last periodic decision to the peers still
 * interested; only when that leaves nobody unchoked do they fill the vacancy as a periodic
 * round would (the bootstrap draw, or the seed's least served), without rotating anything.
 * Kinds: regular for the proportional shares and the seed's picks, optimistic for the
 * reserved share and the bootstrap draws. Only added peers are unchoked. Integer arithmetic. */
#include "bt_choker.h"

#include "bt_mem.h"

#include <string.h>

#define OPT_RESERVE_DEN 10u  /* 1/10 of the upload for the optimistic unchoke */
#define OPTIMISTIC_ROUNDS 3u /* redraw the optimistic unchoke every 3 rounds (30 s) */
#define GAVE_MAX ((uint64_t)1 << 32) /* bytes per round counted at most (no overflow) */

typedef struct ps_peer {
    bt_conn_id id;
    uint64_t last_total; /* down_total at the last periodic round */
    uint64_t gave;       /* bytes it gave us in the round before the last periodic call */
    uint8_t kind;        /* bt_unchoke_kind of the last decision */
} ps_peer;

typedef struct ps_state {
    ps_peer *p; /* sorted by id */
    uint32_t n, cap;
} ps_state;

static int ps_init(void **state, const bt_mem *mem)
{
    ps_state *s = bt_calloc(mem, 1, sizeof(*s));
    if (s == NULL)
        return BT_ERR_NOMEM;
    *state = s;
    return 0;
}

static void ps_del(void *state, const bt_mem *mem)
{
    ps_state *s = state;
    if (s == NULL)
        return;
    if (s->p != NULL)
        bt_free(mem, s->p);
    bt_free(mem, s);
}

static uint32_t lower_bound(const ps_state *s, bt_conn_id id)
{
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->p[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static ps_peer *lookup(ps_state *s, bt_conn_id id)
{
    uint32_t at = lower_bound(s, id);
    return at < s->n && s->p[at].id == id ? &s->p[at] : NULL;
}

static int ps_peer_added(void *state, bt_conn_id id, bt_pcg32 *rng, const bt_mem *mem)
{
    ps_state *s = state;
    (void)rng;
    uint32_t at = lower_bound(s, id);
    if (at < s->n && s->p[at].id == id)
        return BT_ERR_EXISTS;
    if (s->n == s->cap) {
        if (s->cap > UINT32_MAX / 4)
            return BT_ERR_NOMEM;
        uint32_t cap = s->cap ? s->cap * 2 : 16;
        ps_peer *p = bt_realloc(mem, s->p, (size_t)cap * sizeof(*p));
        if (p == NULL)
            return BT_ERR_NOMEM;
        s->p = p;
        s->cap = cap;
    }
    memmove(&s->p[at + 1], &s->p[at], (size_t)(s->n - at) * sizeof(s->p[0]));
    s->p[at] = (ps_peer){.id = id};
    s->n++;
    return 0;
}

static void ps_peer_removed(void *state, bt_conn_id id)
{
    ps_state *s = state;
    uint32_t at = lower_bound(s, id);
    if (at == s->n || s->p[at].id != id)
        return;
    memmove(&s->p[at], &s->p[at + 1], (size_t)(s->n - at - 1) * sizeof(s->p[0]));
    s->n--;
}

static bool wants(const bt_choke_ctx *ctx, const bt_choke_peer *p)
{
    return p->interested && !(ctx->seeding && p->is_seed);
}

/* Draws up to |k| optimistic unchokes among the added, interested peers still choked in
 * unchoke[], newcomers (never unchoked by us) first. */
static void draw_optimistic(ps_state *s, const bt_choke_ctx *ctx, const bt_choke_peer *peers,
                            size_t n, uint8_t *unchoke, uint32_t k)
{
    for (; k > 0; k--) {
        uint32_t fresh = 0, any = 0;
        for (size_t i = 0; i < n; i++) {
            if (unchoke[i] || !wants(ctx, &peers[i]) || lookup(s, peers[i].id) == NULL)
                continue;
            any++;
            fresh += peers[i].unchoked_at == BT_TIME_NEVER;
        }
        if (any == 0)
            return;
        uint32_t r = bt_pcg32_below(ctx->rng, fresh > 0 ? fresh : any);
        for (size_t i = 0; i < n; i++) {
            if (unchoke[i] || !wants(ctx, &peers[i]) || lookup(s, peers[i].id) == NULL ||
                (fresh > 0 && peers[i].unchoked_at != BT_TIME_NEVER))
                continue;
            if (r-- == 0) {
                unchoke[i] = BT_UNCHOKE_OPTIMISTIC;
                break;
            }
        }
    }
}

/* Seeding: the ctx->slots wanting peers with the least up_total (ties: lower index). */
static void seed_pick(ps_state *s, const bt_choke_ctx *ctx, const bt_choke_peer *peers, size_t n,
                      uint8_t *unchoke)
{
    for (uint32_t k = 0; k < ctx->slots; k++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            if (unchoke[i] || !wants(ctx, &peers[i]) || lookup(s, peers[i].id) == NULL)
                continue;
            if (best == n || peers[i].up_total < peers[best].up_total)
                best = i;
        }
        if (best == n)
            return;
        unchoke[best] = BT_UNCHOKE_REGULAR;
    }
}

/* Proportional weights: regular peers share (1 - 1/OPT_RESERVE_DEN) of the total by gave(p),
 * optimistic ones the rest equally (everything equally when nobody is regular; all 0, the
 * default equal share, when |equal|). Records each decision in the peer's entry. */
static void set_weights(ps_state *s, const bt_choke_peer *peers, size_t n, const uint8_t *unchoke,
                        bool equal, uint32_t *weight)
{
    uint64_t sum = 0, nreg = 0, nopt = 0;
    for (size_t i = 0; i < n; i++) {
        const ps_peer *e = lookup(s, peers[i].id);
        nreg += unchoke[i] == BT_UNCHOKE_REGULAR;
        nopt += unchoke[i] == BT_UNCHOKE_OPTIMISTIC;
        if (unchoke[i] == BT_UNCHOKE_REGULAR)
            sum += e->gave;
    }
    unsigned shift = 0; /* scale the bids to 24 bits: the products below stay < 2^56 */
    while ((sum >> shift) > ((uint64_t)1 << 24))
        shift++;
    uint64_t total = (uint64_t)BT_UPLOAD_WEIGHT_ONE * (nreg + nopt);
    uint64_t opt_pool = nreg == 0 ? total : nopt > 0 ? total / OPT_RESERVE_DEN : 0;
    for (size_t i = 0; i < n; i++) {
        ps_peer *e = lookup(s, peers[i].id);
        uint64_t w = 0;
        if (unchoke[i] == BT_UNCHOKE_REGULAR && (sum >> shift) > 0)
            w = (total - opt_pool) * (e->gave >> shift) / (sum >> shift);
        else if (unchoke[i] == BT_UNCHOKE_OPTIMISTIC)
            w = opt_pool / nopt;
        if (unchoke[i] != BT_UNCHOKE_NONE && w == 0)
            w = 1;
        if (equal || w > UINT32_MAX)
            w = equal ? 0 : UINT32_MAX;
        if (e != NULL)
            e->kind = unchoke[i];
        if (weight != NULL)
            weight[i] = (uint32_t)w;
    }
}

/* A periodic round while leeching. */
static void leech_round(ps_state *s, const bt_choke_ctx *ctx, const bt_choke_peer *peers,
                        size_t n, uint8_t *unchoke)
{
    uint32_t nreg = 0, nopt = 0;
    bool redraw = ctx->round % OPTIMISTIC_ROUNDS == 0;
    for (size_t i = 0; i < n; i++) {
        ps_peer *e = lookup(s, peers[i].id);
        if (e == NULL)
            continue;
        uint64_t now_total = peers[i].down_total;
        e->gave = now_total >= e->last_total ? now_total - e->last_total : now_total;
        if (e->gave > GAVE_MAX)
            e->gave = GAVE_MAX;
        e->last_total = now_total;
        if (!wants(ctx, &peers[i]) || ctx->slots == 0)
            continue;
        if (e->gave > 0) {
            unchoke[i] = BT_UNCHOKE_REGULAR;
            nreg++;
        } else if (e->kind == BT_UNCHOKE_OPTIMISTIC && !redraw) {
            unchoke[i] = BT_UNCHOKE_OPTIMISTIC;
            nopt++;
        }
    }
    uint32_t want = ctx->slots == 0 ? 0 : nreg == 0 ? ctx->slots : 1;
    if (nopt > want) { /* e.g. bootstrap unchokes once somebody reciprocates: redraw */
        for (size_t i = 0; i < n; i++)
            if (unchoke[i] == BT_UNCHOKE_OPTIMISTIC)
                unchoke[i] = BT_UNCHOKE_NONE;
        nopt = 0;
    }
    draw_optimistic(s, ctx, peers, n, unchoke, want - nopt);
}

static void ps_rechoke(void *state, const bt_choke_ctx *ctx, const bt_choke_peer *peers, size_t n,
                       uint8_t *unchoke)
{
    ps_state *s = state;
    memset(unchoke, 0, n);
    if (ctx->periodic) {
        if (ctx->seeding)
            seed_pick(s, ctx, peers, n, unchoke);
        else
            leech_round(s, ctx, peers, n, unchoke);
    } else {
        uint32_t kept = 0;
        for (size_t i = 0; i < n; i++) {
            const ps_peer *e = lookup(s, peers[i].id);
            if (e != NULL && e->kind != BT_UNCHOKE_NONE && wants(ctx, &peers[i]))
                unchoke[i] = e->kind;
            kept += unchoke[i] != BT_UNCHOKE_NONE;
        }
        if (kept == 0 && ctx->seeding)
            seed_pick(s, ctx, peers, n, unchoke);
        else if (kept == 0)
            draw_optimistic(s, ctx, peers, n, unchoke, ctx->slots);
    }
    /* the entries keep this decision; for a kept set the weights keep their proportions */
    set_weights(s, peers, n, unchoke, ctx->seeding, ctx->weight);
}

const bt_choker_ops bt_choker_propshare = {
    .name = "propshare",
    .init = ps_init,
    .del = ps_del,
    .peer_added = ps_peer_added,
    .peer_removed = ps_peer_removed,
    .rechoke = ps_rechoke,
};
