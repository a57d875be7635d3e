/* tests/unit/test_sim_evq.c: unit tests for the simulator's event queue (sim/sim_evq.c):
 * empty queue, (time, insertion) order with ties, random pushes and pops against a reference,
 * growth and reuse after free. No clock. */
#include "sim_evq.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>

extern int test_sim_evq_add_suite(void); /* extern: the suite grep matches once */

static void test_empty(void)
{
    sim_evq q;
    sim_evq_init(&q);
    sim_event ev = {.time = 7};
    CU_ASSERT_EQUAL(sim_evq_size(&q), 0);
    CU_ASSERT_EQUAL(sim_evq_next_time(&q), BT_TIME_NEVER);
    CU_ASSERT_FALSE(sim_evq_pop(&q, &ev));
    CU_ASSERT_EQUAL(ev.time, 7); /* untouched */
    CU_ASSERT_EQUAL(sim_evq_push(&q, &ev), 0);
    CU_ASSERT_EQUAL(sim_evq_next_time(&q), 7);
    CU_ASSERT_TRUE(sim_evq_pop(&q, &ev));
    CU_ASSERT_FALSE(sim_evq_pop(&q, &ev));
    CU_ASSERT_EQUAL(sim_evq_next_time(&q), BT_TIME_NEVER);
    sim_evq_free(&q);
    sim_evq_free(&q); /* freeing an empty queue twice is fine */
}

static void test_ties(void)
{
    sim_evq q;
    sim_evq_init(&q);
    /* times 5,3,5,3,1,5 pushed with a = 0..5: expect 1(4) 3(1) 3(3) 5(0) 5(2) 5(5) */
    const bt_time_us t[6] = {5, 3, 5, 3, 1, 5};
    for (uint32_t i = 0; i < 6; i++) {
        sim_event ev = {.time = t[i], .seq = 999, .kind = 9, .a = i, .b = 2 * i, .x = 100 + i};
        CU_ASSERT_EQUAL_FATAL(sim_evq_push(&q, &ev), 0);
    }
    CU_ASSERT_EQUAL(sim_evq_size(&q), 6);
    const uint32_t want[6] = {4, 1, 3, 0, 2, 5};
    uint64_t last_seq = 0;
    for (int i = 0; i < 6; i++) {
        sim_event ev;
        CU_ASSERT_FATAL(sim_evq_pop(&q, &ev));
        CU_ASSERT_EQUAL(ev.a, want[i]);
        CU_ASSERT_EQUAL(ev.time, t[want[i]]);
        CU_ASSERT_EQUAL(ev.b, 2 * want[i]);
        CU_ASSERT_EQUAL(ev.x, 100 + want[i]);
        CU_ASSERT_EQUAL(ev.kind, 9);
        CU_ASSERT_EQUAL(ev.seq, want[i]); /* seq assigned by push, 999 overwritten */
        if (i > 0 && ev.time == t[want[i - 1]])
            CU_ASSERT(ev.seq > last_seq);
        last_seq = ev.seq;
    }
    CU_ASSERT_EQUAL(sim_evq_size(&q), 0);
    sim_evq_free(&q);
}

/* Random interleaved pushes and pops against a linear-scan reference of (time, order). */
static void test_random_vs_reference(void)
{
    enum { N = 6000 };
    sim_evq q;
    sim_evq_init(&q);
    bt_time_us *rt = malloc(N * sizeof(*rt));
    uint32_t *rid = malloc(N * sizeof(*rid));
    CU_ASSERT_FATAL(rt != NULL && rid != NULL);
    uint32_t rn = 0, pushed = 0, bad = 0;
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 42, 1);
    bt_time_us floor_t = 0;
    while (pushed < N || rn > 0) {
        bool push = pushed < N && (rn == 0 || bt_pcg32_below(&rng, 100) < 60);
        if (push) {
            /* times never before the last popped one, as in a simulation; many ties */
            sim_event ev = {.time = floor_t + bt_pcg32_below(&rng, 50), .a = pushed};
            CU_ASSERT_EQUAL_FATAL(sim_evq_push(&q, &ev), 0);
            rt[rn] = ev.time;
            rid[rn++] = pushed++;
            continue;
        }
        uint32_t best = 0; /* reference: earliest time, then smallest id (= push order) */
        for (uint32_t i = 1; i < rn; i++) {
            if (rt[i] < rt[best] || (rt[i] == rt[best] && rid[i] < rid[best]))
                best = i;
        }
        sim_event ev;
        CU_ASSERT_FATAL(sim_evq_pop(&q, &ev));
        if (ev.a != rid[best] || ev.time != rt[best])
            bad++;
        floor_t = ev.time;
        rt[best] = rt[rn - 1];
        rid[best] = rid[--rn];
        CU_ASSERT_EQUAL(sim_evq_size(&q), rn);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(sim_evq_size(&q), 0);
    free(rt);
    free(rid);
    sim_evq_free(&q);
}

/* Many pushes in decreasing time then all pops: growth keeps every event; order by time,
 * and within each time by push order. Then the queue is reused after free. */
static void test_growth(void)
{
    enum { N = 100000 };
    sim_evq q;
    sim_evq_init(&q);
    for (uint32_t i = 0; i < N; i++) {
        sim_event ev = {.time = (N - i) / 4, .a = i};
        CU_ASSERT_EQUAL_FATAL(sim_evq_push(&q, &ev), 0);
    }
    CU_ASSERT_EQUAL(sim_evq_size(&q), N);
    CU_ASSERT_EQUAL(sim_evq_next_time(&q), 0);
    sim_event prev = {0}, ev;
    uint32_t n = 0, bad = 0;
    while (sim_evq_pop(&q, &ev)) {
        if (n > 0 && (ev.time < prev.time || (ev.time == prev.time && ev.a <= prev.a)))
            bad++;
        prev = ev;
        n++;
    }
    CU_ASSERT_EQUAL(n, N);
    CU_ASSERT_EQUAL(bad, 0);
    sim_evq_free(&q);
    sim_event e2 = {.time = 3};
    CU_ASSERT_EQUAL(sim_evq_push(&q, &e2), 0);
    CU_ASSERT_TRUE(sim_evq_pop(&q, &ev));
    CU_ASSERT_EQUAL(ev.time, 3);
    CU_ASSERT_EQUAL(ev.seq, 0); /* a freed queue restarts its sequence */
    sim_evq_free(&q);
}

int test_sim_evq_add_suite(void)
{
    CU_pSuite s = CU_add_suite("sim_evq", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "empty", test_empty) == NULL ||
        CU_add_test(s, "ties in push order", test_ties) == NULL ||
        CU_add_test(s, "random vs reference", test_random_vs_reference) == NULL ||
        CU_add_test(s, "growth", test_growth) == NULL)
        return 1;
    return 0;
}
