/* tests/fuzz/fuzz_metadata.c: libFuzzer target for the BEP 9 ut_metadata codec and assembler.
 * The input is parsed as one payload; what parses must re-encode (no longer than the input,
 * since extra keys are dropped) and parse back to the same message, and data messages go into an
 * assembler sized by total_size, which must never accept a block of the wrong length or finish
 * without a hash match. */
#include "bt_metadata.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static void reencode(const bt_utm_msg *m, size_t n)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    if (m->type == BT_UTM_REQUEST)
        bt_metadata_put_request(&b, m->piece);
    else if (m->type == BT_UTM_REJECT)
        bt_metadata_put_reject(&b, m->piece);
    else
        bt_metadata_put_data(&b, m->piece, m->total_size, m->data, m->data_len);
    CHECK(b.err == 0 && b.len <= n); /* canonical form: never longer than what parsed */
    bt_utm_msg back;
    CHECK(bt_metadata_parse(b.data, b.len, &back, bt_mem_default(), NULL) == 0);
    CHECK(back.type == m->type && back.piece == m->piece && back.total_size == m->total_size);
    CHECK(back.data_len == m->data_len);
    CHECK(m->data_len == 0 || memcmp(back.data, m->data, m->data_len) == 0);
    bt_buf_free(&b);
}

static void assemble(const bt_utm_msg *m)
{
    uint8_t ih[20] = {0};
    bt_metadata *md = NULL;
    CHECK(bt_metadata_new(&md, ih, m->total_size, bt_mem_default()) == 0);
    int rv = bt_metadata_add(md, m);
    uint32_t last = bt_metadata_piece_count(m->total_size) - 1;
    size_t want = m->piece == last ? m->total_size - (size_t)last * BT_METADATA_PIECE_LEN
                                   : BT_METADATA_PIECE_LEN;
    if (m->data_len != want)
        CHECK(rv == BT_ERR_PROTO && !bt_metadata_have(md, m->piece));
    else
        CHECK(rv == 0 || rv == BT_ERR_PROTO); /* complete only if SHA-1 is all zeros: never */
    CHECK(!bt_metadata_done(md));
    bt_metadata_del(md);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bt_utm_msg m;
    size_t off = 0;
    int rv = bt_metadata_parse(data, size, &m, bt_mem_default(), &off);
    if (rv != 0) {
        CHECK(rv == BT_ERR_PROTO || rv == BT_ERR_LIMIT);
        CHECK(off <= size && m.type == BT_UTM_UNKNOWN);
        return 0;
    }
    if (m.type == BT_UTM_UNKNOWN)
        return 0;
    CHECK(m.piece < BT_METADATA_MAX_PIECES);
    if (m.type == BT_UTM_DATA) {
        CHECK(m.total_size >= 1 && m.total_size <= BT_METADATA_MAX_SIZE);
        CHECK((size_t)m.piece * BT_METADATA_PIECE_LEN < m.total_size);
        CHECK(m.data_len <= BT_METADATA_PIECE_LEN);
        assemble(&m);
    }
    reencode(&m, size);
    return 0;
}
