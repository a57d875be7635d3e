/* test_rate.c: the rolling-window rate estimator (bt_rate) and bit sets (bt_bitfield). */
#include "bt_bitfield.h"
#include "bt_rate.h"

#include <CUnit/CUnit.h>

extern int test_rate_add_suite(void);

/* 16 KiB every 100 ms for a minute = 163840 B/s; the window (20 x 1 s) sees exactly that. */
static void test_steady_rate(void)
{
    bt_rate r;
    bt_rate_init(&r, BT_SEC(1));
    CU_ASSERT_EQUAL(bt_rate_get(&r, BT_SEC(5)), 0);
    for (bt_time_us t = BT_SEC(10); t < BT_SEC(70); t += BT_MSEC(100))
        bt_rate_add(&r, 16384, t);
    uint64_t v = bt_rate_get(&r, BT_SEC(70));
    CU_ASSERT(v >= 163840 * 99 / 100 && v <= 163840 * 101 / 100);
    CU_ASSERT_EQUAL(r.total, 600u * 16384);
}

/* A young flow is measured over its own age, not the whole window. */
static void test_young_flow(void)
{
    bt_rate r;
    bt_rate_init(&r, BT_SEC(1));
    bt_rate_add(&r, 100000, BT_SEC(100));
    bt_rate_add(&r, 100000, BT_SEC(101));
    uint64_t v = bt_rate_get(&r, BT_SEC(102));
    CU_ASSERT(v >= 99000 && v <= 101000); /* 200000 bytes over 2 s */
}

/* After the window passes with nothing added, the rate decays to zero bucket by bucket. */
static void test_window_expiry(void)
{
    bt_rate r;
    bt_rate_init(&r, BT_SEC(1));
    for (bt_time_us t = 0; t < BT_SEC(40); t += BT_SEC(1))
        bt_rate_add(&r, 1000, t);
    /* the window at time T is the 19 s before T's bucket plus the elapsed part of it */
    CU_ASSERT_EQUAL(bt_rate_get(&r, BT_SEC(40)), 1000);
    CU_ASSERT_EQUAL(bt_rate_get(&r, BT_MSEC(40500)), 19000 * 1000 / 19500); /* no bucket 40 */
    CU_ASSERT_EQUAL(bt_rate_get(&r, BT_SEC(50)), 9000 / 19); /* buckets 31..39 left */
    CU_ASSERT_EQUAL(bt_rate_get(&r, BT_SEC(58)), 1000 / 19); /* bucket 39 left */
    CU_ASSERT_EQUAL(bt_rate_get(&r, BT_SEC(59)), 0);
    CU_ASSERT_EQUAL(bt_rate_get(&r, BT_SEC(500)), 0);
    bt_rate_add(&r, 2000, BT_SEC(500)); /* a long gap, then new data */
    CU_ASSERT_EQUAL(bt_rate_get(&r, BT_SEC(501)), 2000 / 19);
}

static void test_bitfield(void)
{
    bt_bitfield bf;
    CU_ASSERT_FATAL(bt_bitfield_init(&bf, 13, bt_mem_default()) == 0);
    CU_ASSERT(bt_bitfield_set(&bf, 0) && bt_bitfield_set(&bf, 12));
    CU_ASSERT(!bt_bitfield_set(&bf, 12) && !bt_bitfield_set(&bf, 13));
    CU_ASSERT(bf.bits[0] == 0x80 && bf.bits[1] == 0x08 && bf.count == 2);
    uint8_t spare[2] = {0xff, 0xfc}; /* bit 13 set: a spare bit */
    CU_ASSERT(bt_bitfield_load(&bf, spare, 2) == BT_ERR_PROTO);
    uint8_t ok[2] = {0xff, 0xf8};
    CU_ASSERT(bt_bitfield_load(&bf, ok, 2) == 0 && bt_bitfield_full(&bf));
    CU_ASSERT(bt_bitfield_load(&bf, ok, 1) == BT_ERR_PROTO);
    bt_bitfield_clear_all(&bf);
    CU_ASSERT(bf.count == 0);
    bt_bitfield_set_all(&bf);
    CU_ASSERT(bf.count == 13 && bf.bits[1] == 0xf8);
    bt_bitfield_free(&bf, bt_mem_default());
}

int test_rate_add_suite(void)
{
    CU_pSuite s = CU_add_suite("rate", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "steady rate", test_steady_rate) ||
        !CU_add_test(s, "young flow", test_young_flow) ||
        !CU_add_test(s, "window expiry", test_window_expiry) ||
        !CU_add_test(s, "bitfield", test_bitfield))
        return 1;
    return 0;
}
