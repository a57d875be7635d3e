/* bt_choker_altruist.c: the `altruist` choker, which unchokes every interested peer that is
 * not a seed, with no tit-for-tat (the "altruistic" peers of Legout et al., "Clustering and
 * sharing incentives in BitTorrent systems", SIGMETRICS 2007). Never does I/O.
 * State: the sorted set of added connection ids (only added connections are unchoked). */
#include "bt_choker.h"

#include "bt_mem.h"

#include <string.h>

typedef struct alt_state {
    bt_conn_id *ids; /* sorted ascending */
    uint32_t n, cap;
} alt_state;

static int alt_init(void **state, const bt_mem *mem)
{
    alt_state *s = bt_calloc(mem, 1, sizeof(*s));
    if (s == NULL)
        return BT_ERR_NOMEM;
    *state = s;
    return 0;
}

static void alt_del(void *state, const bt_mem *mem)
{
    alt_state *s = state;
    if (s == NULL)
        return;
    if (s->ids != NULL)
        bt_free(mem, s->ids);
    bt_free(mem, s);
}

/* First position whose id is >= |id|. */
static uint32_t lower_bound(const alt_state *s, bt_conn_id id)
{
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool has(const alt_state *s, bt_conn_id id)
{
    uint32_t at = lower_bound(s, id);
    return at < s->n && s->ids[at] == id;
}

static int alt_peer_added(void *state, bt_conn_id id, bt_pcg32 *rng, const bt_mem *mem)
{
    alt_state *s = state;
    (void)rng;
    uint32_t at = lower_bound(s, id);
    if (at < s->n && s->ids[at] == id)
        return BT_ERR_EXISTS;
    if (s->n == s->cap) {
        if (s->cap > UINT32_MAX / 4)
            return BT_ERR_NOMEM;
        uint32_t cap = s->cap ? s->cap * 2 : 16;
        bt_conn_id *ids = bt_realloc(mem, s->ids, (size_t)cap * sizeof(*ids));
        if (ids == NULL)
            return BT_ERR_NOMEM;
        s->ids = ids;
        s->cap = cap;
    }
    memmove(&s->ids[at + 1], &s->ids[at], (size_t)(s->n - at) * sizeof(s->ids[0]));
    s->ids[at] = id;
    s->n++;
    return 0;
}

static void alt_peer_removed(void *state, bt_conn_id id)
{
    alt_state *s = state;
    uint32_t at = lower_bound(s, id);
    if (at == s->n || s->ids[at] != id)
        return;
    memmove(&s->ids[at], &s->ids[at + 1], (size_t)(s->n - at - 1) * sizeof(s->ids[0]));
    s->n--;
}

/* Stateless apart from the peer set, so extra calls trivially rotate nothing. */
static void alt_rechoke(void *state, const bt_choke_ctx *ctx, const bt_choke_peer *peers, size_t n,
                        uint8_t *unchoke)
{
    const alt_state *s = state;
    (void)ctx;
    for (size_t i = 0; i < n; i++)
        unchoke[i] = peers[i].interested && !peers[i].is_seed && has(s, peers[i].id);
}

const bt_choker_ops bt_choker_altruist = {
    .name = "altruist",
    .init = alt_init,
    .del = alt_del,
    .peer_added = alt_peer_added,
    .peer_removed = alt_peer_removed,
    .rechoke = alt_rechoke,
};
