/* bt_idset.h: a sorted set of connection ids (binary search, memmove insert/remove), for
 * choking strategies that only need to know which connections were added. Engine-private. */
#ifndef BT_IDSET_H
#define BT_IDSET_H

#include "bt_types.h"

typedef struct bt_idset {
    bt_conn_id *ids; /* ascending */
    uint32_t n, cap;
} bt_idset;

/* A zeroed bt_idset is empty and valid. */
void bt_idset_free(bt_idset *s, const bt_mem *mem);
bool bt_idset_has(const bt_idset *s, bt_conn_id id);
/* Returns 0, BT_ERR_EXISTS (already present) or BT_ERR_NOMEM. */
int bt_idset_add(bt_idset *s, bt_conn_id id, const bt_mem *mem);
/* Returns whether |id| was present. */
bool bt_idset_remove(bt_idset *s, bt_conn_id id);

#endif
