/* bt_choker_rate_based.c: the `rate_based` choker, libtorrent-rasterbar 2.0's
 * rate_based_choker (REFERENCE.md s2, src/choker.cpp:231-262) plus one optimistic unchoke.
 * Pure decision logic over the set of added connection ids; never does I/O.
 *
 * Slot count (libtorrent unchoke_sort): candidates are the added, interested peers (not
 * seeds while we seed). Walking them by up_rate (our upload to them) descending, each peer
 * whose rate is >= the threshold earns one slot and raises the threshold; the threshold starts
 * at 1024 B/s (rate_choker_initial_threshold) and rises by 2048 B/s per slot; the walk stops
 * at the first peer below it. Then one more slot ("always have at least 1 unchoke slot").
 * ctx->slots is ignored: the rates decide.
 * Regular unchokes: the best |slots| candidates other than the optimistic peer, by down_rate
 * (bytes the peer gave us: tit-for-tat, libtorrent compare_peers) while leeching, by up_rate
 * while seeding; ties go to the lower connection id.
 * Optimistic unchoke: one extra peer. On periodic rounds with round % 3 == 0 (30 s, as
 * libtorrent's optimistic_unchoke_interval and BEP 3), or on any periodic round when the
 * current one has left or lost interest, a new one is drawn uniformly with ctx->rng among
 * the interested candidates we choke (|choked| at the call). Simplified from libtorrent,
 * which picks the longest-waiting peers and max(1, slots/5) of them. Extra calls
 * (ctx->periodic false) never draw: a lost optimistic stays empty until the next round.
 * Kinds: the optimistic peer is BT_UNCHOKE_OPTIMISTIC, the rate-ranked slots REGULAR. */
#include "bt_choker.h"

#include "bt_idset.h"
#include "bt_mem.h"

#include <string.h>

#define INITIAL_THRESHOLD 1024u /* libtorrent rate_choker_initial_threshold, B/s */
#define THRESHOLD_STEP 2048u    /* libtorrent choker.cpp: rate_threshold += 2048 */
#define OPTIMISTIC_ROUNDS 3     /* 3 rounds of 10 s = 30 s */

typedef struct rb_state {
    bt_idset set;   /* added connections */
    bool has_opt;
    bt_conn_id opt; /* the optimistic unchoke */
} rb_state;

static int rb_init(void **state, const bt_mem *mem)
{
    rb_state *s = bt_calloc(mem, 1, sizeof(*s));
    if (s == NULL)
        return BT_ERR_NOMEM;
    *state = s;
    return 0;
}

static void rb_del(void *state, const bt_mem *mem)
{
    rb_state *s = state;
    if (s == NULL)
        return;
    bt_idset_free(&s->set, mem);
    bt_free(mem, s);
}

static bool has(const rb_state *s, bt_conn_id id) { return bt_idset_has(&s->set, id); }

static int rb_peer_added(void *state, bt_conn_id id, bt_pcg32 *rng, const bt_mem *mem)
{
    (void)rng;
    return bt_idset_add(&((rb_state *)state)->set, id, mem);
}

static void rb_peer_removed(void *state, bt_conn_id id)
{
    rb_state *s = state;
    if (bt_idset_remove(&s->set, id) && s->has_opt && s->opt == id)
        s->has_opt = false;
}

static bool candidate(const rb_state *s, const bt_choke_ctx *ctx, const bt_choke_peer *p)
{
    return p->interested && !(ctx->seeding && p->is_seed) && has(s, p->id);
}

/* libtorrent's slot count: the j-th fastest candidate (by up_rate, j from 0) earns a slot
 * while its rate >= 1024 + 2048 j, i.e. while more than j candidates reach that threshold. */
static size_t count_slots(const rb_state *s, const bt_choke_ctx *ctx, const bt_choke_peer *peers,
                          size_t n)
{
    size_t j = 0;
    for (uint64_t t = INITIAL_THRESHOLD; j < n; j++, t += THRESHOLD_STEP) {
        size_t reach = 0;
        for (size_t i = 0; i < n; i++)
            reach += candidate(s, ctx, &peers[i]) && peers[i].up_rate >= t;
        if (reach <= j)
            break;
    }
    return j + 1;
}

/* Index of the optimistic peer in |peers|, or n if none (or no longer eligible). */
static size_t find_opt(const rb_state *s, const bt_choke_ctx *ctx, const bt_choke_peer *peers,
                       size_t n)
{
    for (size_t i = 0; s->has_opt && i < n; i++) {
        if (peers[i].id == s->opt)
            return candidate(s, ctx, &peers[i]) ? i : n;
    }
    return n;
}

/* Draws a new optimistic peer among the interested candidates we choke. */
static void draw_opt(rb_state *s, const bt_choke_ctx *ctx, const bt_choke_peer *peers, size_t n)
{
    uint32_t k = 0;
    s->has_opt = false;
    for (size_t i = 0; i < n; i++)
        k += peers[i].choked && candidate(s, ctx, &peers[i]);
    if (k == 0)
        return;
    uint32_t r = bt_pcg32_below(ctx->rng, k);
    for (size_t i = 0; i < n; i++) {
        if (peers[i].choked && candidate(s, ctx, &peers[i]) && r-- == 0) {
            s->opt = peers[i].id;
            s->has_opt = true;
            return;
        }
    }
}

static uint64_t rank_rate(const bt_choke_ctx *ctx, const bt_choke_peer *p)
{
    return ctx->seeding ? p->up_rate : p->down_rate;
}

static void rb_rechoke(void *state, const bt_choke_ctx *ctx, const bt_choke_peer *peers, size_t n,
                       uint8_t *unchoke)
{
    rb_state *s = state;
    memset(unchoke, 0, n);
    size_t opt = find_opt(s, ctx, peers, n);
    if (ctx->periodic && (opt == n || ctx->round % OPTIMISTIC_ROUNDS == 0)) {
        draw_opt(s, ctx, peers, n);
        opt = find_opt(s, ctx, peers, n);
    }
    if (opt < n)
        unchoke[opt] = BT_UNCHOKE_OPTIMISTIC;
    size_t slots = count_slots(s, ctx, peers, n);
    /* selection of the best |slots| by repeated maximum; unchoke[] marks the chosen */
    for (size_t k = 0; k < slots; k++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            if (unchoke[i] || !candidate(s, ctx, &peers[i]))
                continue;
            if (best == n || rank_rate(ctx, &peers[i]) > rank_rate(ctx, &peers[best]))
                best = i;
        }
        if (best == n)
            break;
        unchoke[best] = BT_UNCHOKE_REGULAR;
    }
}

const bt_choker_ops bt_choker_rate_based = {
    .name = "rate_based",
    .init = rb_init,
    .del = rb_del,
    .peer_added = rb_peer_added,
    .peer_removed = rb_peer_removed,
    .rechoke = rb_rechoke,
};
