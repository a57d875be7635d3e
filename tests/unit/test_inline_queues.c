/* tests/unit/test_inline_queues.c: the small queues kept inside their owners for speed:
 * bt_buf_init_inline (stays in the owner's storage, moves to the heap with its contents when it
 * outgrows it), a connection's output queue (items and control bytes inline, then the heap) and
 * a simulated stream (spans and bytes inline, then the heap), each against a reference. */
#include "bt_client_int.h"
#include "sim_stream.h"

#include <CUnit/CUnit.h>
#include <string.h>

extern int test_inline_queues_add_suite(void); /* extern: the suite grep matches once */

static void test_buf_inline(void)
{
    uint8_t storage[16];
    bt_buf b;
    bt_buf_init_inline(&b, bt_mem_default(), 0, storage, sizeof(storage));
    bt_buf_put(&b, "0123456789", 10);
    CU_ASSERT_PTR_EQUAL(b.data, storage); /* fits: no allocation */
    CU_ASSERT_TRUE(b.inl);
    bt_buf_consume(&b, 4);
    CU_ASSERT_EQUAL(b.len, 6);
    CU_ASSERT_EQUAL(memcmp(b.data, "456789", 6), 0);
    bt_buf_put(&b, "abcdefghijklmnop", 16); /* 22 > 16: moves to the heap */
    CU_ASSERT_PTR_NOT_EQUAL(b.data, storage);
    CU_ASSERT_FALSE(b.inl);
    CU_ASSERT_EQUAL(b.len, 22);
    CU_ASSERT_EQUAL(memcmp(b.data, "456789abcdefghijklmnop", 22), 0);
    CU_ASSERT_EQUAL(b.err, 0);
    bt_buf_free(&b); /* frees the heap copy (ASan: no leak, no bad free) */
    CU_ASSERT_PTR_NULL(b.data);

    bt_buf_init_inline(&b, bt_mem_default(), 20, storage, sizeof(storage));
    bt_buf_put(&b, "0123456789", 10);
    bt_buf_put(&b, "0123456789a", 11); /* over the limit: sticky error, contents kept */
    CU_ASSERT_EQUAL(b.err, BT_ERR_LIMIT);
    CU_ASSERT_EQUAL(b.len, 10);
    bt_buf_free(&b); /* never frees the owner's storage */
}

/* Queues |n| messages of growing length interleaved with payload, then checks that the
 * segments and consumption reproduce them in order, across the inline -> heap move. */
static void check_outq(uint32_t n)
{
    bt_outq q;
    bt_outq_init(&q, bt_mem_default());
    uint8_t ref[4096];
    size_t nref = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t start = q.bytes.len;
        for (uint32_t k = 0; k <= i % 23; k++) {
            uint8_t v = (uint8_t)(i * 31 + k);
            bt_buf_put(&q.bytes, &v, 1);
            ref[nref++] = v;
        }
        CU_ASSERT_EQUAL(bt_outq_commit_bytes(&q, start), 0);
        if (i % 3 == 2)
            CU_ASSERT_EQUAL(bt_outq_push_payload(&q, i, 16384 * (i % 4), 100 + i), 0);
    }
    size_t got = 0;
    uint32_t payload_items = 0;
    while (q.total_queued > 0) {
        bt_seg segs[BT_MAX_SEGS];
        size_t ns = bt_outq_segs(&q, segs);
        CU_ASSERT_FATAL(ns > 0);
        const bt_seg *s = &segs[0];
        if (s->is_virtual) {
            uint32_t i = s->piece;
            CU_ASSERT_EQUAL(i % 3, 2);
            CU_ASSERT_EQUAL(s->begin, 16384 * (i % 4));
            CU_ASSERT_EQUAL(s->len, 100 + i);
            CU_ASSERT_EQUAL(bt_outq_consume(&q, s->len), s->len);
            payload_items++;
        } else {
            CU_ASSERT_FATAL(got + s->len <= nref);
            CU_ASSERT_EQUAL(memcmp(s->data, ref + got, s->len), 0);
            size_t take = s->len > 5 ? s->len / 2 : s->len; /* partial sends too */
            CU_ASSERT_EQUAL(bt_outq_consume(&q, take), 0);
            got += take;
        }
    }
    CU_ASSERT_EQUAL(got, nref);
    CU_ASSERT_EQUAL(payload_items, n / 3);
    CU_ASSERT_EQUAL(q.count, 0);
    bt_outq_free(&q);
}

static void test_outq(void)
{
    check_outq(1);  /* inline only */
    check_outq(6);  /* items spill to the heap */
    check_outq(40); /* items and bytes on the heap, ring wraps while consuming */
}

static void check_stream(uint32_t n)
{
    sim_stream s;
    sim_stream_init(&s);
    uint8_t ref[4096];
    size_t nref = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t msg[9];
        uint32_t len = 1 + i % 9;
        for (uint32_t k = 0; k < len; k++)
            msg[k] = ref[nref++] = (uint8_t)(i + 7 * k);
        CU_ASSERT_EQUAL(sim_stream_push_bytes(&s, SIM_SPAN_CTRL, msg, len, 0, 0), 0);
        if (i % 4 == 3)
            CU_ASSERT_EQUAL(sim_stream_push_virtual(&s, i, 0, 1000 + i), 0);
    }
    size_t got = 0;
    uint32_t virt = 0;
    for (;;) {
        const sim_span *sp;
        const uint8_t *data;
        uint32_t m = sim_stream_peek(&s, 7, &sp, &data); /* in pieces of at most 7 */
        if (m == 0)
            break;
        if (sp->kind == SIM_SPAN_VIRTUAL) {
            CU_ASSERT_PTR_NULL(data);
            if (sp->begin == 0)
                CU_ASSERT_EQUAL(sp->len, 1000 + sp->piece);
            virt += m;
        } else {
            CU_ASSERT_FATAL(got + m <= nref);
            CU_ASSERT_EQUAL(memcmp(data, ref + got, m), 0);
            got += m;
        }
        sim_stream_consume(&s, m);
    }
    uint32_t want_virt = 0;
    for (uint32_t i = 3; i < n; i += 4)
        want_virt += 1000 + i;
    CU_ASSERT_EQUAL(got, nref);
    CU_ASSERT_EQUAL(virt, want_virt);
    sim_stream_free(&s);
}

static void test_stream(void)
{
    check_stream(2);   /* inline spans and bytes */
    check_stream(12);  /* spans spill to the heap (virtual spans break the merging) */
    check_stream(300); /* bytes on the heap too */
}

int test_inline_queues_add_suite(void)
{
    CU_pSuite s = CU_add_suite("inline_queues", NULL, NULL);
    if (s == NULL)
        return -1;
    if (CU_add_test(s, "bt_buf in the owner's storage", test_buf_inline) == NULL ||
        CU_add_test(s, "output queue inline then heap", test_outq) == NULL ||
        CU_add_test(s, "sim stream inline then heap", test_stream) == NULL)
        return -1;
    return 0;
}
