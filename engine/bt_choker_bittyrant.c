/* bt_choker_bittyrant.c: the `bittyrant` choker, after Piatek et al., "Do incentives build
 * robustness in BitTorrent?", NSDI 2007, s4 (the BitTyrant unchoke algorithm). Pure decision
 * logic over per-peer estimates kept by connection id; never does I/O.
 *
 * Per peer p: d_p, the download rate we expect from p while we unchoke it, and u_p, the upload
 * rate we think p needs from us to reciprocate. Both are set at the first rechoke that sees p:
 * d_p = its observed down_rate, or budget/4 if that is 0 (the paper estimates d_p from the
 * rate of p's have announcements: simplified); u_p = budget/4, mainline's equal split over 4
 * slots (the paper uses the equal-split rate of its capacity estimate likewise).
 * Periodic rounds (every 10 s), for each peer we unchoked in the previous round:
 * - p unchoked us (!choking_us): d_p = observed down_rate; after 3 reciprocated rounds in a
 *   row (paper: r = 3), u_p *= (1 - gamma), gamma = 0.1, each further round;
 * - p did not: u_p *= (1 + delta), delta = 0.2, and the streak restarts.
 * Then the interested peers are taken in decreasing d_p / u_p (ties: lower id) and each one
 * whose u_p still fits in what is left of the upload budget is unchoked, so the sum of u_p
 * of the unchoked set never exceeds the budget. A peer that does not fit is skipped and
 * cheaper ones after it may still fit (the paper stops at the first that does not: with a
 * never-reciprocating peer at the top that would unchoke nobody for rounds).
 * Budget: ctx->upload_limit, or if 0 the highest sum of up_rate seen at a periodic round,
 * but at least DEFAULT_BUDGET (the paper estimates capacity from observed upload too).
 * Extra calls (ctx->periodic false) update nothing and keep the last periodic set among the
 * peers still present; only before the first periodic round do they decide from the default
 * estimates (as a round would, with no reciprocation to judge yet), so that a newcomer
 * uploads from its first interested peer on instead of staying silent for up to 10 s. Seeding (no reciprocation to earn): the interested non-seed peers
 * with the highest up_rate get SEED_SLOTS unchokes, recomputed at every call.
 * Only added peers are unchoked. Integer arithmetic except the d/u comparisons (double).
 * Every unchoke is BT_UNCHOKE_REGULAR: BitTyrant has no optimistic unchoke (new peers are
 * tried through their default estimates), and its seed mode ranks by rate. */
#include "bt_choker.h"

#include "bt_mem.h"

#include <string.h>

#define DEFAULT_BUDGET 65536u /* B/s, budget floor when the upload is unlimited */
#define SPLIT 4u              /* mainline equal split: 4 upload slots */
#define RECIP_ROUNDS 3u       /* paper: r = 3 rounds of reciprocation before lowering u_p */
#define GAMMA_NUM 9u          /* u_p *= 1 - 0.1 */
#define DELTA_NUM 12u         /* u_p *= 1 + 0.2 */
#define FRACTION_DEN 10u
#define U_MIN 1u                  /* u_p never reaches 0 (it divides d_p) */
#define U_MAX ((uint64_t)1 << 48) /* u_p stops growing (no overflow) */
#define SEED_SLOTS 4u
#define NO_FIT 0xffu /* scratch mark in unchoke[]: looked at, does not fit (never returned) */

typedef struct tyrant_peer {
    bt_conn_id id;
    bool known;      /* d and u are set */
    bool unchoked;   /* in the last decided set */
    uint32_t streak; /* rounds in a row it reciprocated */
    uint64_t d, u;   /* B/s */
} tyrant_peer;

typedef struct tyrant_state {
    tyrant_peer *p; /* sorted by id */
    uint32_t n, cap;
    uint64_t peak_up; /* highest sum of up_rate seen at a periodic round */
    bool had_round;   /* a periodic round has run */
} tyrant_state;

static int ty_init(void **state, const bt_mem *mem)
{
    tyrant_state *s = bt_calloc(mem, 1, sizeof(*s));
    if (s == NULL)
        return BT_ERR_NOMEM;
    *state = s;
    return 0;
}

static void ty_del(void *state, const bt_mem *mem)
{
    tyrant_state *s = state;
    if (s == NULL)
        return;
    if (s->p != NULL)
        bt_free(mem, s->p);
    bt_free(mem, s);
}

static uint32_t lower_bound(const tyrant_state *s, bt_conn_id id)
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

static tyrant_peer *lookup(tyrant_state *s, bt_conn_id id)
{
    uint32_t at = lower_bound(s, id);
    return at < s->n && s->p[at].id == id ? &s->p[at] : NULL;
}

static int ty_peer_added(void *state, bt_conn_id id, bt_pcg32 *rng, const bt_mem *mem)
{
    tyrant_state *s = state;
    (void)rng;
    uint32_t at = lower_bound(s, id);
    if (at < s->n && s->p[at].id == id)
        return BT_ERR_EXISTS;
    if (s->n == s->cap) {
        if (s->cap > UINT32_MAX / 4)
            return BT_ERR_NOMEM;
        uint32_t cap = s->cap ? s->cap * 2 : 16;
        tyrant_peer *p = bt_realloc(mem, s->p, (size_t)cap * sizeof(*p));
        if (p == NULL)
            return BT_ERR_NOMEM;
        s->p = p;
        s->cap = cap;
    }
    memmove(&s->p[at + 1], &s->p[at], (size_t)(s->n - at) * sizeof(s->p[0]));
    s->p[at] = (tyrant_peer){.id = id};
    s->n++;
    return 0;
}

static void ty_peer_removed(void *state, bt_conn_id id)
{
    tyrant_state *s = state;
    uint32_t at = lower_bound(s, id);
    if (at == s->n || s->p[at].id != id)
        return;
    memmove(&s->p[at], &s->p[at + 1], (size_t)(s->n - at - 1) * sizeof(s->p[0]));
    s->n--;
}

static uint64_t budget(tyrant_state *s, const bt_choke_ctx *ctx)
{
    if (ctx->upload_limit > 0)
        return ctx->upload_limit;
    return s->peak_up > DEFAULT_BUDGET ? s->peak_up : DEFAULT_BUDGET;
}

/* Default estimates for a peer seen for the first time. Returns whether |t| was new. */
static bool learn(tyrant_peer *t, const bt_choke_peer *p, uint64_t b)
{
    if (t->known)
        return false;
    t->known = true;
    t->d = p->down_rate > 0 ? p->down_rate : b / SPLIT;
    t->u = b / SPLIT > U_MIN ? b / SPLIT : U_MIN;
    return true;
}

/* The paper's per-round update of d_p and u_p for the peers we unchoked last round. */
static void update(tyrant_state *s, const bt_choke_peer *peers, size_t n, uint64_t b)
{
    uint64_t up = 0;
    for (size_t i = 0; i < n; i++) {
        up += peers[i].up_rate;
        tyrant_peer *t = lookup(s, peers[i].id);
        if (t == NULL || learn(t, &peers[i], b) || !t->unchoked)
            continue;
        if (!peers[i].choking_us) {
            t->d = peers[i].down_rate;
            if (++t->streak >= RECIP_ROUNDS)
                t->u = t->u / FRACTION_DEN * GAMMA_NUM +
                       t->u % FRACTION_DEN * GAMMA_NUM / FRACTION_DEN;
        } else {
            t->streak = 0;
            t->u = t->u >= U_MAX ? U_MAX
                                 : t->u / FRACTION_DEN * DELTA_NUM +
                                       t->u % FRACTION_DEN * DELTA_NUM / FRACTION_DEN;
        }
        if (t->u < U_MIN)
            t->u = U_MIN;
    }
    if (up > s->peak_up)
        s->peak_up = up;
}

/* Is a (with estimates ta) a better d/u pick than b? Ties: the lower index (= lower id). */
static bool better(const tyrant_peer *ta, size_t a, const tyrant_peer *tb, size_t b)
{
    double ra = (double)ta->d / (double)ta->u, rb = (double)tb->d / (double)tb->u;
    return ra != rb ? ra > rb : a < b;
}

/* Greedy: decreasing d/u, each peer that fits the remaining budget is unchoked. */
static void leech_decide(tyrant_state *s, const bt_choke_peer *peers, size_t n, uint64_t b,
                         uint8_t *unchoke)
{
    uint64_t left = b;
    for (;;) {
        size_t best = n;
        const tyrant_peer *tb = NULL;
        for (size_t i = 0; i < n; i++) {
            const tyrant_peer *t = lookup(s, peers[i].id);
            if (unchoke[i] || t == NULL || !t->known || !peers[i].interested)
                continue;
            if (best == n || better(t, i, tb, best)) {
                best = i;
                tb = t;
            }
        }
        if (best == n)
            return;
        unchoke[best] = tb->u <= left ? BT_UNCHOKE_REGULAR : NO_FIT;
        if (tb->u <= left)
            left -= tb->u;
    }
}

/* Seeding: the SEED_SLOTS interested non-seed peers with the highest up_rate. */
static void seed_decide(tyrant_state *s, const bt_choke_peer *peers, size_t n, uint8_t *unchoke)
{
    for (uint32_t k = 0; k < SEED_SLOTS; k++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            if (unchoke[i] || !peers[i].interested || peers[i].is_seed ||
                lookup(s, peers[i].id) == NULL)
                continue;
            if (best == n || peers[i].up_rate > peers[best].up_rate)
                best = i;
        }
        if (best == n)
            return;
        unchoke[best] = BT_UNCHOKE_REGULAR;
    }
}

static void ty_rechoke(void *state, const bt_choke_ctx *ctx, const bt_choke_peer *peers, size_t n,
                       uint8_t *unchoke)
{
    tyrant_state *s = state;
    memset(unchoke, 0, n);
    if (ctx->seeding) {
        seed_decide(s, peers, n, unchoke);
    } else if (!ctx->periodic && !s->had_round) {
        uint64_t b = budget(s, ctx);
        for (size_t i = 0; i < n; i++) {
            tyrant_peer *t = lookup(s, peers[i].id);
            if (t != NULL)
                learn(t, &peers[i], b);
        }
        leech_decide(s, peers, n, b, unchoke);
    } else if (!ctx->periodic) {
        for (size_t i = 0; i < n; i++) {
            const tyrant_peer *t = lookup(s, peers[i].id);
            unchoke[i] = t != NULL && t->unchoked ? BT_UNCHOKE_REGULAR : BT_UNCHOKE_NONE;
        }
        return;
    } else {
        uint64_t b = budget(s, ctx);
        update(s, peers, n, b);
        leech_decide(s, peers, n, b, unchoke);
        s->had_round = true;
    }
    for (uint32_t j = 0; j < s->n; j++)
        s->p[j].unchoked = false;
    for (size_t i = 0; i < n; i++) {
        unchoke[i] = unchoke[i] == BT_UNCHOKE_REGULAR ? BT_UNCHOKE_REGULAR : BT_UNCHOKE_NONE;
        tyrant_peer *t = lookup(s, peers[i].id);
        if (t != NULL)
            t->unchoked = unchoke[i];
    }
}

const bt_choker_ops bt_choker_bittyrant = {
    .name = "bittyrant",
    .init = ty_init,
    .del = ty_del,
    .peer_added = ty_peer_added,
    .peer_removed = ty_peer_removed,
    .rechoke = ty_rechoke,
};
