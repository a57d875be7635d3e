/* bt_pex_state.c: per-connection BEP 11 sender state: which peers we advertised to one peer,
 * and the diff (added / dropped, per-message limits) for its next ut_pex message. Linear scans
 * over bounded sets, no hashing, so the output depends only on the order of its inputs. */
#include "bt_mem.h"
#include "bt_pex.h"

#include <string.h>

void bt_pex_state_init(bt_pex_state *s, const bt_mem *mem)
{
    memset(s, 0, sizeof(*s));
    s->mem = mem;
}

void bt_pex_state_free(bt_pex_state *s)
{
    bt_free(s->mem, s->sent);
    s->sent = NULL;
    s->nsent = 0;
}

static bool contains_addr(const bt_addr *set, uint32_t n, const bt_addr *a)
{
    for (uint32_t i = 0; i < n; i++)
        if (bt_addr_equal(&set[i], a))
            return true;
    return false;
}

static bool contains_peer(const bt_pex_peer *set, uint32_t n, const bt_addr *a)
{
    for (uint32_t i = 0; i < n; i++)
        if (bt_addr_equal(&set[i].addr, a))
            return true;
    return false;
}

/* Moves advertised peers that are gone into out->dropped (within the limit), keeping the
 * order of the others. */
static void diff_dropped(bt_pex_state *s, const bt_pex_peer *cur, uint32_t ncur, uint32_t lim,
                         bt_pex_msg *out)
{
    uint32_t per_family[2] = {0, 0}, kept = 0;
    for (uint32_t i = 0; i < s->nsent; i++) {
        const bt_addr *a = &s->sent[i];
        uint32_t *fam = &per_family[a->family == 6];
        if (!contains_peer(cur, ncur, a) && *fam < lim) {
            out->dropped[out->ndropped++] = *a;
            (*fam)++;
            continue;
        }
        s->sent[kept++] = *a;
    }
    s->nsent = kept;
}

static void diff_added(bt_pex_state *s, const bt_pex_peer *cur, uint32_t ncur, uint32_t lim,
                       bt_pex_msg *out)
{
    uint32_t per_family[2] = {0, 0};
    for (uint32_t i = 0; i < ncur && s->nsent < BT_PEX_MAX_TRACKED; i++) {
        const bt_addr *a = &cur[i].addr;
        uint32_t *fam = &per_family[a->family == 6];
        if (*fam == lim || contains_addr(s->sent, s->nsent, a))
            continue;
        out->added[out->nadded++] = cur[i];
        s->sent[s->nsent++] = *a;
        (*fam)++;
    }
}

int bt_pex_state_next(bt_pex_state *s, const bt_pex_peer *cur, uint32_t ncur, bt_pex_msg *out,
                      bool *first)
{
    if (s->sent == NULL) {
        s->sent = bt_calloc(s->mem, BT_PEX_MAX_TRACKED, sizeof(bt_addr));
        if (s->sent == NULL)
            return BT_ERR_NOMEM;
    }
    if (ncur > BT_PEX_MAX_TRACKED)
        ncur = BT_PEX_MAX_TRACKED;
    memset(out, 0, sizeof(*out));
    *first = !s->started;
    uint32_t lim = *first ? BT_PEX_MAX_FIRST : BT_PEX_MAX_ENTRIES;
    diff_dropped(s, cur, ncur, lim, out);
    diff_added(s, cur, ncur, lim, out);
    int n = (int)(out->nadded + out->ndropped);
    if (n > 0)
        s->started = true; /* an empty first message is not sent, so the next one is first */
    return n;
}
