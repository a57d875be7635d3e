/* bt_choker_freerider.c: the `freerider` choker, a pure downloader that never unchokes
 * anyone (the free-riding clients of Locher et al., "Free Riding in BitTorrent is Cheap",
 * HotNets 2006, and the BitThief client). Keeps no state; never does I/O. */
#include "bt_choker.h"

#include <string.h>

static int fr_init(void **state, const bt_mem *mem)
{
    (void)mem;
    *state = NULL;
    return 0;
}

static void fr_del(void *state, const bt_mem *mem)
{
    (void)state;
    (void)mem;
}

/* No peer set is kept (nobody is ever unchoked), so duplicates are not detected. */
static int fr_peer_added(void *state, bt_conn_id id, bt_pcg32 *rng, const bt_mem *mem)
{
    (void)state;
    (void)id;
    (void)rng;
    (void)mem;
    return 0;
}

static void fr_peer_removed(void *state, bt_conn_id id)
{
    (void)state;
    (void)id;
}

static void fr_rechoke(void *state, const bt_choke_ctx *ctx, const bt_choke_peer *peers, size_t n,
                       uint8_t *unchoke)
{
    (void)state;
    (void)ctx;
    (void)peers;
    memset(unchoke, 0, n);
}

const bt_choker_ops bt_choker_freerider = {
    .name = "freerider",
    .init = fr_init,
    .del = fr_del,
    .peer_added = fr_peer_added,
    .peer_removed = fr_peer_removed,
    .rechoke = fr_rechoke,
};
