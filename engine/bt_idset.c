/* bt_idset.c: sorted sets of connection ids. */
#include "bt_idset.h"

#include "bt_mem.h"

#include <string.h>

void bt_idset_free(bt_idset *s, const bt_mem *mem)
{
    if (s->ids != NULL)
        bt_free(mem, s->ids);
    memset(s, 0, sizeof(*s));
}

/* First position whose id is >= |id|. */
static uint32_t lower_bound(const bt_idset *s, bt_conn_id id)
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

bool bt_idset_has(const bt_idset *s, bt_conn_id id)
{
    uint32_t at = lower_bound(s, id);
    return at < s->n && s->ids[at] == id;
}

int bt_idset_add(bt_idset *s, bt_conn_id id, const bt_mem *mem)
{
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

bool bt_idset_remove(bt_idset *s, bt_conn_id id)
{
    uint32_t at = lower_bound(s, id);
    if (at == s->n || s->ids[at] != id)
        return false;
    memmove(&s->ids[at], &s->ids[at + 1], (size_t)(s->n - at - 1) * sizeof(s->ids[0]));
    s->n--;
    return true;
}
