/* tests/fuzz/fuzz_pex.c: libFuzzer target for the BEP 11 ut_pex codec. Byte 0 picks the
 * per-list limit (bit 0: BEP 11's 50 or the first message's 200); the rest is the payload.
 * Whatever parses must respect the limits, have no port-0 entries, and re-encode (as a first
 * message) to bytes that parse back to the same lists. */
#include "bt_pex.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t lim = (data[0] & 1) ? BT_PEX_MAX_FIRST : BT_PEX_MAX_ENTRIES;
    bt_pex_msg *m = malloc(sizeof(*m)), *r = malloc(sizeof(*r));
    CHECK(m != NULL && r != NULL);
    size_t off = 0;
    int rv = bt_pex_parse(data + 1, size - 1, lim, m, bt_mem_default(), &off);
    if (rv != 0) {
        CHECK(rv == BT_ERR_PROTO || rv == BT_ERR_LIMIT);
        CHECK(off <= size - 1 && m->nadded == 0 && m->ndropped == 0);
        goto out;
    }
    CHECK(m->nadded <= 2 * lim && m->ndropped <= 2 * lim);
    for (uint32_t i = 0; i < m->nadded; i++)
        CHECK(m->added[i].addr.port != 0 &&
              (m->added[i].addr.family == 4 || m->added[i].addr.family == 6));
    for (uint32_t i = 0; i < m->ndropped; i++)
        CHECK(m->dropped[i].port != 0);
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    CHECK(bt_pex_put(&b, m, true) == 0);
    CHECK(bt_pex_parse(b.data, b.len, BT_PEX_MAX_FIRST, r, bt_mem_default(), NULL) == 0);
    CHECK(r->nadded == m->nadded && r->ndropped == m->ndropped && r->nskipped == 0);
    for (uint32_t i = 0; i < m->nadded; i++)
        CHECK(bt_addr_equal(&r->added[i].addr, &m->added[i].addr) &&
              r->added[i].flags == m->added[i].flags);
    for (uint32_t i = 0; i < m->ndropped; i++)
        CHECK(bt_addr_equal(&r->dropped[i], &m->dropped[i]));
    bt_buf_free(&b);
out:
    free(m);
    free(r);
    return 0;
}
