/* bt_outq.c: a connection's output queue: runs of engine-owned control bytes interleaved with
 * block payload that the host supplies from storage. Produces bt_seg arrays for pull-style
 * sending and consumes what the transport accepted. Never copies payload. */
#include "bt_client_int.h"
#include "bt_mem.h"

#include <assert.h>
#include <string.h>

#define OUTQ_MIN_ITEMS 16

int bt_outq_init(bt_outq *q, const bt_mem *mem)
{
    memset(q, 0, sizeof(*q));
    bt_buf_init_inline(&q->bytes, mem, BT_OUTQ_MAX_BYTES, q->inline_bytes, sizeof(q->inline_bytes));
    q->items = q->inline_items;
    q->cap = BT_OUTQ_INLINE_ITEMS;
    return 0;
}

void bt_outq_free(bt_outq *q)
{
    if (q->items != NULL && q->items != q->inline_items)
        bt_free(q->bytes.mem, q->items);
    bt_buf_free(&q->bytes);
    memset(q, 0, sizeof(*q));
}

/* cap is a power of two */
static bt_outq_item *item_at(bt_outq *q, uint32_t i)
{
    return &q->items[(q->head + i) & (q->cap - 1)];
}

static int grow_items(bt_outq *q)
{
    uint32_t ncap = q->items == q->inline_items ? OUTQ_MIN_ITEMS : q->cap * 2;
    bt_outq_item *n = bt_malloc(q->bytes.mem, ncap * sizeof(*n));
    if (n == NULL)
        return BT_ERR_NOMEM;
    for (uint32_t i = 0; i < q->count; i++)
        n[i] = *item_at(q, i);
    if (q->items != q->inline_items)
        bt_free(q->bytes.mem, q->items);
    q->items = n;
    q->cap = ncap;
    q->head = 0;
    return 0;
}

static int push_item(bt_outq *q, const bt_outq_item *it)
{
    if (q->count == q->cap) {
        int rv = grow_items(q);
        if (rv != 0)
            return rv;
    }
    *item_at(q, q->count++) = *it;
    q->total_queued += it->len;
    if (it->is_payload)
        q->payload_queued += it->len;
    return 0;
}

int bt_outq_commit_bytes(bt_outq *q, size_t start)
{
    if (q->bytes.err != 0)
        return q->bytes.err;
    assert(start <= q->bytes.len);
    uint32_t n = (uint32_t)(q->bytes.len - start);
    if (n == 0)
        return 0;
    if (q->count > 0) {
        bt_outq_item *last = item_at(q, q->count - 1);
        if (!last->is_payload) {
            last->len += n;
            q->total_queued += n;
            return 0;
        }
    }
    bt_outq_item it = {n, false, 0, 0};
    return push_item(q, &it);
}

int bt_outq_push_payload(bt_outq *q, uint32_t piece, uint32_t begin, uint32_t len)
{
    bt_outq_item it = {len, true, piece, begin};
    return push_item(q, &it);
}

size_t bt_outq_segs(const bt_outq *q, bt_seg *segs)
{
    size_t n = 0, off = q->head_off;
    for (uint32_t i = 0; i < q->count && n < BT_MAX_SEGS; i++) {
        const bt_outq_item *it = &q->items[(q->head + i) & (q->cap - 1)];
        bt_seg *s = &segs[n++];
        s->len = it->len;
        s->is_virtual = it->is_payload;
        if (it->is_payload) {
            s->data = NULL;
            s->piece = it->piece;
            s->begin = it->begin;
        } else {
            s->data = q->bytes.data + off;
            s->piece = s->begin = 0;
            off += it->len;
        }
    }
    return n;
}

uint64_t bt_outq_consume(bt_outq *q, size_t n)
{
    uint64_t payload = 0;
    assert(n <= q->total_queued);
    while (n > 0) {
        assert(q->count > 0);
        bt_outq_item *it = item_at(q, 0);
        uint32_t take = n < it->len ? (uint32_t)n : it->len;
        if (it->is_payload) {
            payload += take;
            q->payload_queued -= take;
            it->begin += take;
        } else {
            q->head_off += take;
        }
        it->len -= take;
        q->total_queued -= take;
        n -= take;
        if (it->len == 0) {
            q->head = (q->head + 1) & (q->cap - 1);
            q->count--;
        }
    }
    /* Compact the control bytes once everything before head_off is sent. */
    if (q->head_off > 0 && (q->head_off == q->bytes.len || q->head_off > 65536)) {
        bt_buf_consume(&q->bytes, q->head_off);
        q->head_off = 0;
    }
    return payload;
}
