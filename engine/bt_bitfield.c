/* bt_bitfield.c: bit sets in BEP 3 wire order with a population count. */
#include "bt_bitfield.h"

#include "bt_mem.h"

#include <string.h>

int bt_bitfield_init(bt_bitfield *bf, uint32_t nbits, const bt_mem *mem)
{
    size_t n = bt_bitfield_bytes(nbits);
    bf->bits = bt_calloc(mem, n ? n : 1, 1);
    if (bf->bits == NULL)
        return BT_ERR_NOMEM;
    bf->nbits = nbits;
    bf->count = 0;
    return 0;
}

void bt_bitfield_free(bt_bitfield *bf, const bt_mem *mem)
{
    if (bf->bits != NULL)
        bt_free(mem, bf->bits);
    bf->bits = NULL;
    bf->nbits = bf->count = 0;
}

bool bt_bitfield_set(bt_bitfield *bf, uint32_t i)
{
    if (i >= bf->nbits || bt_bitfield_get(bf, i))
        return false;
    bf->bits[i >> 3] |= (uint8_t)(0x80u >> (i & 7));
    bf->count++;
    return true;
}

bool bt_bitfield_clear(bt_bitfield *bf, uint32_t i)
{
    if (i >= bf->nbits || !bt_bitfield_get(bf, i))
        return false;
    bf->bits[i >> 3] &= (uint8_t)~(0x80u >> (i & 7));
    bf->count--;
    return true;
}

void bt_bitfield_set_all(bt_bitfield *bf)
{
    size_t n = bt_bitfield_bytes(bf->nbits);
    if (n == 0)
        return;
    memset(bf->bits, 0xff, n);
    if (bf->nbits & 7)
        bf->bits[n - 1] = (uint8_t)(0xffu << (8 - (bf->nbits & 7)));
    bf->count = bf->nbits;
}

void bt_bitfield_clear_all(bt_bitfield *bf)
{
    memset(bf->bits, 0, bt_bitfield_bytes(bf->nbits));
    bf->count = 0;
}

int bt_bitfield_load(bt_bitfield *bf, const uint8_t *wire, size_t n)
{
    if (n != bt_bitfield_bytes(bf->nbits))
        return BT_ERR_PROTO;
    if ((bf->nbits & 7) && (wire[n - 1] & (0xffu >> (bf->nbits & 7))))
        return BT_ERR_PROTO;
    memcpy(bf->bits, wire, n);
    uint32_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (uint32_t)__builtin_popcount(wire[i]);
    bf->count = c;
    return 0;
}
