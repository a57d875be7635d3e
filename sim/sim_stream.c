/* sim_stream.c: what is in flight on one direction of a simulated connection. */
#include "sim_stream.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void sim_stream_init(sim_stream *s)
{
    memset(s, 0, sizeof(*s));
    bt_buf_init_inline(&s->bytes, bt_mem_default(), 0, s->inline_bytes, sizeof(s->inline_bytes));
    s->spans = s->inline_spans;
    s->cap = SIM_STREAM_INLINE_SPANS;
}

void sim_stream_free(sim_stream *s)
{
    bt_buf_free(&s->bytes);
    if (s->spans != s->inline_spans)
        free(s->spans);
    memset(s, 0, sizeof(*s));
}

/* cap is a power of two */
static sim_span *at(const sim_stream *s, uint32_t i)
{
    return &s->spans[(s->head + i) & (s->cap - 1)];
}

static int push(sim_stream *s, const sim_span *sp)
{
    if (s->count > 0) { /* merge with the tail when it continues it */
        sim_span *t = at(s, s->count - 1);
        bool same = t->kind == sp->kind;
        if (same && sp->kind == SIM_SPAN_CTRL) {
            t->len += sp->len;
            s->queued += sp->len;
            return 0;
        }
    }
    if (s->count == s->cap) {
        uint32_t ncap = s->cap * 2;
        sim_span *n = malloc(ncap * sizeof(*n));
        if (n == NULL)
            return BT_ERR_NOMEM;
        for (uint32_t i = 0; i < s->count; i++)
            n[i] = *at(s, i);
        if (s->spans != s->inline_spans)
            free(s->spans);
        s->spans = n;
        s->cap = ncap;
        s->head = 0;
    }
    *at(s, s->count++) = *sp;
    s->queued += sp->len;
    return 0;
}

int sim_stream_push_bytes(sim_stream *s, uint8_t kind, const uint8_t *data, uint32_t len,
                          uint32_t piece, uint32_t begin)
{
    if (len == 0)
        return 0;
    bt_buf_put(&s->bytes, data, len);
    if (s->bytes.err != 0)
        return s->bytes.err;
    sim_span sp = {len, kind, piece, begin};
    return push(s, &sp);
}

int sim_stream_push_virtual(sim_stream *s, uint32_t piece, uint32_t begin, uint32_t len)
{
    if (len == 0)
        return 0;
    sim_span sp = {len, SIM_SPAN_VIRTUAL, piece, begin};
    return push(s, &sp);
}

uint32_t sim_stream_peek(const sim_stream *s, uint64_t max, const sim_span **span,
                         const uint8_t **data)
{
    if (s->count == 0)
        return 0;
    const sim_span *sp = at(s, 0);
    *span = sp;
    *data = sp->kind == SIM_SPAN_VIRTUAL ? NULL : s->bytes.data + s->off;
    return max < sp->len ? (uint32_t)max : sp->len;
}

void sim_stream_consume(sim_stream *s, uint32_t n)
{
    assert(s->count > 0);
    sim_span *sp = at(s, 0);
    assert(n <= sp->len);
    sp->len -= n;
    s->queued -= n;
    if (sp->kind != SIM_SPAN_VIRTUAL)
        s->off += n;
    else
        sp->begin += n;
    if (sp->kind == SIM_SPAN_PAYLOAD)
        sp->begin += n;
    if (sp->len == 0) {
        s->head = (s->head + 1) & (s->cap - 1);
        s->count--;
    }
    if (s->off > 0 && (s->off == s->bytes.len || s->off > 65536)) {
        bt_buf_consume(&s->bytes, s->off);
        s->off = 0;
    }
}
