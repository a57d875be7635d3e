/* bt_choker_reference.c: the `reference` choker, mainline BitTorrent 4.x Choker.py
 * (_round_robin, _rechoke, _rechoke_seed) with BitTornado's new-connection placement, and
 * `reference-upload`, the same with the seed state ranked by upload rate (REFERENCE.md s1-2).
 * Pure decision logic over a rotation list of connection ids; never does I/O.
 *
 * State: the rotation list (mainline's self.connections) of {id, round of our last
 * choked->unchoked transition}, scratch arrays sized with it (grown in peer_added, so rechoke
 * never allocates), and mainline's unchokes_since_last.
 *
 * peer_added: BitTornado Choker.connection_made, randrange(-2, n+1) clamped at 0: the front
 * (the next optimistic unchoke) has weight 3, every other position 1 (BEP 3: "new
 * connections are three times as likely to start as the current optimistic unchoke").
 * Mainline 4.x itself inserts uniformly (randrange(n+1)).
 *
 * rechoke, leeching (Choker._rechoke after _round_robin):
 * 1. On a periodic call with round % 3 == 0 (mainline count % 3 == 0: every 30 s),
 *    rotate the list so its first choked and interested peer is at the front.
 * 2. Regular: interested, not snubbed peers, best slots-1 by down_rate; ties go to the
 *    earlier list position (mainline sorts (-rate, list index)). No rate floor: mainline
 *    4.x has none (a zero-rate peer can hold a regular slot), and because ties follow the
 *    rotation list idle peers take turns.
 * 3. Optimistic: count = max(1, min(2, slots) - regular) (mainline min_uploads = 2, capped
 *    at |slots| so slots = 1 gives one unchoke, not two). Walking the list from the front,
 *    every peer not regular is unchoked while count > 0, and count drops only for interested
 *    ones (so uninterested peers met on the way stay unchoked, as in mainline); the rest are
 *    choked. With enough non-snubbed interested peers that is slots interested unchokes.
 * rechoke, seeding (Choker._rechoke_seed; force_new_unchokes on periodic calls):
 * - is_seed peers count as not interested (never unchoked while we seed);
 * - i = (slots+2)/3 new unchokes per 30 s, (i + round%3)/3 this round, minus the unchokes
 *   made by extra calls since the last round (mainline unchokes_since_last);
 * - keep up to slots - new of the unchoked interested peers: those unchoked in the last 2
 *   rounds (unchoke round > round-3) or with pending requests first, most recently unchoked
 *   first, then by up_rate, then list position; the others by up_rate, then list position;
 * - walking the list, the remaining slots go to choked interested peers (or stay with
 *   unchoked non-kept ones met first); uninterested peers are choked; then the list is
 *   rotated to start after the last peer given a remaining slot (round robin).
 *   With 4 slots: 3 kept + 1 new in two rounds of three, 4 kept in the third.
 * rechoke, seeding, `reference-upload` (the same ops with seed_by_upload set): the older
 * mainline seed algorithm, "upload rate instead of download rate" (BEP 3; REFERENCE.md s1,
 * unchoke slots), which Legout et al. (IMC 2006) call the old seed choke algorithm and most
 * clients still use when seeding (REFERENCE.md s2: Transmission's getRateBps when seeding,
 * libtorrent's fastest_upload, qBittorrent's default): the leeching algorithm above with
 * up_rate as the rate, snubbing ignored (a seed downloads nothing), is_seed peers never
 * unchoked, the optimistic unchoke rotated every 3rd periodic round as when leeching. Kinds
 * as when leeching: the slots-1 fastest are REGULAR, the walk's unchokes OPTIMISTIC.
 * Kinds (bt_unchoke_kind): leeching, the slots-1 regular peers are REGULAR and everything the
 * walk of step 3 unchokes is OPTIMISTIC; seeding, every unchoke is a round-robin turn that
 * ranking then keeps: a peer is OPTIMISTIC during the round (ctx->round, extra calls included)
 * in which we unchoked it and REGULAR while it is kept after that.
 * Extra calls (ctx->periodic false: a join, leave or interest change) never rotate and make
 * no forced seed unchokes, like mainline's event-driven _rechoke / _rechoke_seed(False); they
 * count as part of the last periodic round (ctx->round - 1). The caller is assumed to apply
 * every decision (the state records the round of each choked->unchoked decision). Peers not
 * added with peer_added are never unchoked; list entries absent from |peers| are skipped. */
#include "bt_choker.h"

#include "bt_mem.h"

#include <assert.h>
#include <string.h>

#define NONE UINT32_MAX
#define NEVER UINT64_MAX
#define MIN_UPLOADS 2u      /* mainline min_uploads */
#define OPTIMISTIC_ROUNDS 3 /* optimistic rotation every 3 rounds of 10 s (BEP 3: 30 s) */

typedef struct entry {
    bt_conn_id id;
    uint64_t unchoke_round; /* round of our last choked->unchoked decision, NEVER if none */
} entry;

typedef struct rank { /* sort key, smaller is better */
    uint64_t a, b, c;
    uint32_t pos; /* list position */
} rank;

typedef struct ref_state {
    entry *list;
    uint32_t n, cap;
    uint32_t *idx; /* scratch: list position -> index in peers, NONE if absent */
    uint8_t *keep; /* scratch: list position is regular / kept */
    rank *top;     /* scratch: best candidates */
    uint32_t unchokes_since_last;
    bool seed_by_upload; /* reference-upload: seed by upload rate, not round robin */
} ref_state;

static int ref_init(void **state, const bt_mem *mem)
{
    ref_state *s = bt_calloc(mem, 1, sizeof(*s));
    if (s == NULL)
        return BT_ERR_NOMEM;
    *state = s;
    return 0;
}

static int ref_upload_init(void **state, const bt_mem *mem)
{
    int rc = ref_init(state, mem);
    if (rc == 0)
        ((ref_state *)*state)->seed_by_upload = true;
    return rc;
}

static void ref_del(void *state, const bt_mem *mem)
{
    ref_state *s = state;
    if (s == NULL)
        return;
    void *arrays[] = {s->list, s->idx, s->keep, s->top};
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        if (arrays[i] != NULL)
            bt_free(mem, arrays[i]);
    }
    bt_free(mem, s);
}

/* Grows every array to |cap|; on failure the arrays that did grow are just larger. */
static int reserve(ref_state *s, uint32_t cap, const bt_mem *mem)
{
    entry *l = bt_realloc(mem, s->list, (size_t)cap * sizeof(*l));
    if (l == NULL)
        return BT_ERR_NOMEM;
    s->list = l;
    uint32_t *x = bt_realloc(mem, s->idx, (size_t)cap * sizeof(*x));
    if (x == NULL)
        return BT_ERR_NOMEM;
    s->idx = x;
    uint8_t *k = bt_realloc(mem, s->keep, (size_t)cap * sizeof(*k));
    if (k == NULL)
        return BT_ERR_NOMEM;
    s->keep = k;
    rank *t = bt_realloc(mem, s->top, (size_t)cap * sizeof(*t));
    if (t == NULL)
        return BT_ERR_NOMEM;
    s->top = t;
    s->cap = cap;
    return 0;
}

static uint32_t find(const ref_state *s, bt_conn_id id)
{
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->list[i].id == id)
            return i;
    }
    return NONE;
}

static int ref_peer_added(void *state, bt_conn_id id, bt_pcg32 *rng, const bt_mem *mem)
{
    ref_state *s = state;
    if (find(s, id) != NONE)
        return BT_ERR_EXISTS;
    if (s->n == s->cap) {
        if (s->cap > UINT32_MAX / 4)
            return BT_ERR_NOMEM;
        int rc = reserve(s, s->cap ? s->cap * 2 : 16, mem);
        if (rc != 0)
            return rc;
    }
    /* randrange(-2, n+1) clamped at 0 */
    uint32_t r = bt_pcg32_below(rng, s->n + 3);
    uint32_t at = r < 2 ? 0 : r - 2;
    memmove(&s->list[at + 1], &s->list[at], (size_t)(s->n - at) * sizeof(s->list[0]));
    s->list[at] = (entry){id, NEVER};
    s->n++;
    return 0;
}

static void ref_peer_removed(void *state, bt_conn_id id)
{
    ref_state *s = state;
    uint32_t at = find(s, id);
    if (at == NONE)
        return;
    memmove(&s->list[at], &s->list[at + 1], (size_t)(s->n - at - 1) * sizeof(s->list[0]));
    s->n--;
}

/* Rotates the list left by |k| (element k becomes the front), in place by three reversals. */
static void reverse(entry *a, uint32_t lo, uint32_t hi)
{
    while (lo + 1 < hi) {
        entry t = a[lo];
        a[lo++] = a[--hi];
        a[hi] = t;
    }
}

static void rotate(ref_state *s, uint32_t k)
{
    if (k == 0 || k >= s->n)
        return;
    reverse(s->list, 0, k);
    reverse(s->list, k, s->n);
    reverse(s->list, 0, s->n);
}

/* Maps list positions to peer indices (|peers| is sorted by id). */
static void map_peers(ref_state *s, const bt_choke_peer *peers, size_t n)
{
    for (uint32_t i = 0; i < s->n; i++) {
        size_t lo = 0, hi = n;
        s->idx[i] = NONE;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (peers[mid].id < s->list[i].id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < n && peers[lo].id == s->list[i].id)
            s->idx[i] = (uint32_t)lo;
    }
}

static bool better(const rank *x, const rank *y)
{
    if (x->a != y->a)
        return x->a < y->a;
    if (x->b != y->b)
        return x->b < y->b;
    if (x->c != y->c)
        return x->c < y->c;
    return x->pos < y->pos;
}

/* Keeps the best |k| ranks seen so far in s->top[0..*len) (insertion into a sorted prefix:
 * O(n k), k is a handful of slots). */
static void top_offer(ref_state *s, uint32_t k, uint32_t *len, const rank *r)
{
    if (k == 0 || (*len == k && !better(r, &s->top[k - 1])))
        return;
    uint32_t i = *len < k ? (*len)++ : k - 1;
    while (i > 0 && better(r, &s->top[i - 1])) {
        s->top[i] = s->top[i - 1];
        i--;
    }
    s->top[i] = *r;
}

static void mark_top(ref_state *s, uint32_t len)
{
    memset(s->keep, 0, s->n);
    for (uint32_t i = 0; i < len; i++)
        s->keep[s->top[i].pos] = 1;
}

static bool seed_interested(const bt_choke_peer *p)
{
    return p->interested && !p->is_seed;
}

/* Whether peer |p| may be unchoked and counts as interested: when |by_up| (seeding by upload
 * rate), seeds are never unchoked and interest is seed_interested. */
static bool candidate(const bt_choke_peer *p, bool by_up)
{
    return by_up ? seed_interested(p) : p->interested;
}

/* Mainline _round_robin: every 3rd round the first choked, interested peer goes to the
 * front of the rotation list (it becomes the optimistic unchoke). */
static void rotate_optimistic(ref_state *s, const bt_choke_peer *peers, size_t n, bool by_up)
{
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t x = s->idx[i];
        if (x != NONE && peers[x].choked && candidate(&peers[x], by_up)) {
            rotate(s, i);
            map_peers(s, peers, n);
            return;
        }
    }
}

/* Mainline _rechoke; with |by_up| (reference-upload seeding) ranked by up_rate, snubbing
 * ignored and seeds left choked. */
static void leech_decide(ref_state *s, const bt_choke_ctx *ctx, const bt_choke_peer *peers,
                         bool by_up, uint8_t *unchoke)
{
    uint32_t k = ctx->slots > 0 ? ctx->slots - 1 : 0, len = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t x = s->idx[i];
        if (x == NONE || !candidate(&peers[x], by_up) || (!by_up && peers[x].snubbed))
            continue;
        uint64_t rate = by_up ? peers[x].up_rate : peers[x].down_rate;
        rank r = {UINT64_MAX - rate, 0, 0, i};
        top_offer(s, k, &len, &r);
    }
    mark_top(s, len);
    /* count = max(1, min_uploads - prefcount), min_uploads capped at slots */
    uint32_t min_up = ctx->slots < MIN_UPLOADS ? ctx->slots : MIN_UPLOADS;
    uint32_t count = min_up > len + 1 ? min_up - len : 1;
    if (ctx->slots == 0)
        count = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t x = s->idx[i];
        if (x == NONE || (by_up && peers[x].is_seed))
            continue;
        if (s->keep[i]) {
            unchoke[x] = BT_UNCHOKE_REGULAR;
        } else if (count > 0) {
            unchoke[x] = BT_UNCHOKE_OPTIMISTIC;
            count -= candidate(&peers[x], by_up);
        }
    }
}

/* Mainline _rechoke_seed, first half: ranks the unchoked interested peers and keeps the best
 * |kept|. Returns how many were kept. */
static uint32_t seed_keep(ref_state *s, uint64_t cur, const bt_choke_peer *peers, uint32_t kept)
{
    uint32_t len = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t x = s->idx[i];
        if (x == NONE || peers[x].choked || !seed_interested(&peers[x]))
            continue;
        uint64_t when = s->list[i].unchoke_round;
        bool recent = (when != NEVER && when + 3 > cur) || peers[x].pending_requests > 0;
        rank r = {1, 0, UINT64_MAX - peers[x].up_rate, i};
        if (recent)
            r = (rank){0, UINT64_MAX - (when == NEVER ? 0 : when), r.c, i};
        top_offer(s, kept, &len, &r);
    }
    mark_top(s, len);
    return len;
}

/* Mainline _rechoke_seed. Returns the list position to rotate to (0: none). */
static uint32_t seed_decide(ref_state *s, const bt_choke_ctx *ctx, uint64_t cur,
                            const bt_choke_peer *peers, uint8_t *unchoke)
{
    bool fresh = ctx->periodic;
    uint32_t force = 0;
    if (fresh) {
        uint32_t per30 = (uint32_t)(((uint64_t)ctx->slots + 2) / 3);
        uint32_t now = (uint32_t)((per30 + ctx->round % 3) / 3);
        force = now > s->unchokes_since_last ? now - s->unchokes_since_last : 0;
    }
    assert(force <= ctx->slots);
    uint32_t nonpref = ctx->slots - seed_keep(s, cur, peers, ctx->slots - force);
    if (fresh)
        s->unchokes_since_last = 0;
    else
        s->unchokes_since_last += nonpref;
    uint32_t last = NONE;
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t x = s->idx[i];
        if (x == NONE)
            continue;
        if (s->keep[i]) {
            unchoke[x] = BT_UNCHOKE_REGULAR; /* the kind is set by ref_rechoke */
        } else if (seed_interested(&peers[x]) && nonpref > 0) {
            unchoke[x] = BT_UNCHOKE_REGULAR; /* a new unchoke, or an unchoked peer keeps its slot */
            if (--nonpref == 0)
                last = i;
        }
    }
    return last == NONE ? 0 : last + 1;
}

static void ref_rechoke(void *state, const bt_choke_ctx *ctx, const bt_choke_peer *peers, size_t n,
                        uint8_t *unchoke)
{
    ref_state *s = state;
    for (size_t i = 1; i < n; i++)
        assert(peers[i - 1].id < peers[i].id);
    memset(unchoke, 0, n);
    /* the round this call belongs to: an extra call is part of the last periodic round */
    uint64_t cur = ctx->periodic || ctx->round == 0 ? ctx->round : ctx->round - 1;
    map_peers(s, peers, n);
    uint32_t rot = 0;
    bool round_robin = ctx->seeding && !s->seed_by_upload;
    if (round_robin) {
        rot = seed_decide(s, ctx, cur, peers, unchoke);
    } else {
        if (ctx->periodic && ctx->round % OPTIMISTIC_ROUNDS == 0)
            rotate_optimistic(s, peers, n, ctx->seeding);
        leech_decide(s, ctx, peers, ctx->seeding, unchoke);
    }
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t x = s->idx[i];
        if (x == NONE || !unchoke[x])
            continue;
        if (peers[x].choked)
            s->list[i].unchoke_round = cur;
        if (round_robin) /* a round-robin turn is optimistic for the round it began */
            unchoke[x] =
                s->list[i].unchoke_round == cur ? BT_UNCHOKE_OPTIMISTIC : BT_UNCHOKE_REGULAR;
    }
    rotate(s, rot);
}

const bt_choker_ops bt_choker_reference = {
    .name = "reference",
    .init = ref_init,
    .del = ref_del,
    .peer_added = ref_peer_added,
    .peer_removed = ref_peer_removed,
    .rechoke = ref_rechoke,
};

/* The same algorithm, seeding by upload rate (see the top of this file). */
const bt_choker_ops bt_choker_reference_upload = {
    .name = "reference-upload",
    .init = ref_upload_init,
    .del = ref_del,
    .peer_added = ref_peer_added,
    .peer_removed = ref_peer_removed,
    .rechoke = ref_rechoke,
};
