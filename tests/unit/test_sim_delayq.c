/* test_sim_delayq.c: the per-delay FIFO queue pops every event in (time, seq) order, shares
 * the sequence counter of its sim_evq, and refuses an out-of-order push. */
#include "sim_delayq.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>

extern int test_sim_delayq_add_suite(void);

static void test_order(void)
{
    sim_delayq d;
    sim_evq seq;
    sim_delayq_init(&d);
    sim_evq_init(&seq);
    bt_pcg32 g;
    bt_pcg32_seed(&g, 9, 1);
    static const bt_time_us delays[] = {0, 5, 5000, 12000, 12001, 40000, 250000};
    bt_time_us now = 0;
    uint32_t pushed = 0, popped = 0;
    sim_event last = {0};
    bool have_last = false, ordered = true;
    for (int round = 0; round < 20000; round++) {
        now += bt_pcg32_below(&g, 3000);
        uint32_t k = bt_pcg32_below(&g, 4);
        for (uint32_t i = 0; i < k; i++) {
            sim_event ev = {.kind = 1, .a = pushed};
            bt_time_us dl = delays[bt_pcg32_below(&g, 7)];
            CU_ASSERT_FATAL(sim_delayq_push(&d, &seq, now, dl, &ev) == 0);
            pushed++;
        }
        /* pop everything due by now, as the network does */
        const sim_event *h;
        while ((h = sim_delayq_peek(&d)) != NULL && h->time <= now) {
            sim_event e;
            sim_delayq_pop(&d, &e);
            popped++;
            if (have_last && (e.time < last.time || (e.time == last.time && e.seq < last.seq)))
                ordered = false;
            last = e;
            have_last = true;
        }
    }
    while (sim_delayq_peek(&d) != NULL) {
        sim_event e;
        sim_delayq_pop(&d, &e);
        popped++;
        if (e.time < last.time || (e.time == last.time && e.seq < last.seq))
            ordered = false;
        last = e;
    }
    CU_ASSERT(ordered);
    CU_ASSERT_EQUAL(pushed, popped);
    CU_ASSERT_EQUAL(seq.next_seq, pushed); /* sequence numbers come from the shared counter */
    CU_ASSERT(d.nfifos == 7);
    /* a push that would land before its FIFO's tail is refused */
    sim_event ev = {.kind = 2};
    CU_ASSERT(sim_delayq_push(&d, &seq, 1000, 50, &ev) == 0);
    CU_ASSERT(sim_delayq_push(&d, &seq, 900, 50, &ev) == BT_ERR_STATE);
    sim_delayq_free(&d);
    sim_evq_free(&seq);
}

int test_sim_delayq_add_suite(void)
{
    CU_pSuite s = CU_add_suite("sim_delayq", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "per-delay FIFOs pop in (time, seq) order", test_order))
        return 1;
    return 0;
}
