/* bt_choker_altruist.c: the `altruist` choker, which unchokes every interested peer that is
 * not a seed, with no tit-for-tat (the "altruistic" peers of Legout et al., "Clustering and
 * sharing incentives in BitTorrent systems", SIGMETRICS 2007). Never does I/O.
 * State: the sorted set of added connection ids (only added connections are unchoked).
 * Every unchoke is BT_UNCHOKE_REGULAR: unchoking all is this strategy's rule, not a probe. */
#include "bt_choker.h"

#include "bt_idset.h"
#include "bt_mem.h"

#include <string.h>

typedef struct alt_state {
    bt_idset set;
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
    bt_idset_free(&s->set, mem);
    bt_free(mem, s);
}

static int alt_peer_added(void *state, bt_conn_id id, bt_pcg32 *rng, const bt_mem *mem)
{
    (void)rng;
    return bt_idset_add(&((alt_state *)state)->set, id, mem);
}

static void alt_peer_removed(void *state, bt_conn_id id)
{
    (void)bt_idset_remove(&((alt_state *)state)->set, id);
}

/* Stateless apart from the peer set, so extra calls trivially rotate nothing. */
static void alt_rechoke(void *state, const bt_choke_ctx *ctx, const bt_choke_peer *peers, size_t n,
                        uint8_t *unchoke)
{
    const alt_state *s = state;
    (void)ctx;
    for (size_t i = 0; i < n; i++)
        unchoke[i] = peers[i].interested && !peers[i].is_seed && bt_idset_has(&s->set, peers[i].id)
                         ? BT_UNCHOKE_REGULAR
                         : BT_UNCHOKE_NONE;
}

const bt_choker_ops bt_choker_altruist = {
    .name = "altruist",
    .init = alt_init,
    .del = alt_del,
    .peer_added = alt_peer_added,
    .peer_removed = alt_peer_removed,
    .rechoke = alt_rechoke,
};
