/* bt_bitfield.h: fixed-size bit sets in BEP 3 wire order (MSB of byte 0 is piece 0), with a
 * maintained population count. Engine-private. */
#ifndef BT_BITFIELD_H
#define BT_BITFIELD_H

#include "bt_types.h"

typedef struct bt_bitfield {
    uint8_t *bits;
    uint32_t nbits;
    uint32_t count; /* number of set bits */
} bt_bitfield;

static inline size_t bt_bitfield_bytes(uint32_t nbits) { return ((size_t)nbits + 7) / 8; }

int bt_bitfield_init(bt_bitfield *bf, uint32_t nbits, const bt_mem *mem); /* 0 or NOMEM */
void bt_bitfield_free(bt_bitfield *bf, const bt_mem *mem);

static inline bool bt_bitfield_get(const bt_bitfield *bf, uint32_t i)
{
    return i < bf->nbits && (bf->bits[i >> 3] >> (7 - (i & 7))) & 1;
}
/* Sets bit |i|; returns true if it changed. */
bool bt_bitfield_set(bt_bitfield *bf, uint32_t i);
bool bt_bitfield_clear(bt_bitfield *bf, uint32_t i);
void bt_bitfield_set_all(bt_bitfield *bf);
void bt_bitfield_clear_all(bt_bitfield *bf);
/* Copies wire bytes in. Returns BT_ERR_PROTO if |n| is wrong or spare trailing bits are set. */
int bt_bitfield_load(bt_bitfield *bf, const uint8_t *wire, size_t n);
static inline bool bt_bitfield_full(const bt_bitfield *bf) { return bf->count == bf->nbits; }

#endif
