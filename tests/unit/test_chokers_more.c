/* tests/unit/test_chokers_more.c: unit tests for the freerider, altruist, rate_based,
 * bittyrant and propshare chokers (engine/bt_choker_*.c), driven with synthetic peer stats
 * and a fixed-seed RNG: no connections, no clock. */
#include "bt_choker.h"
#include "sim_run.h"
#include "failmem.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int test_chokers_more_add_suite(void); /* extern: the suite grep matches once */

#define MAXP 64

typedef struct harness {
    const bt_choker_ops *ops;
    void *state;
    bt_choke_peer peers[MAXP];
    uint8_t unchoke[MAXP + 1]; /* 0/1: choked or not */
    uint8_t kind[MAXP + 1];    /* what rechoke wrote: a bt_unchoke_kind */
    uint32_t weight[MAXP + 1]; /* the upload weights it wrote */
    size_t n;
    bt_pcg32 rng;
    uint64_t round;
    bool seeding;
    uint32_t slots;
    uint64_t limit;
} harness;

static bt_conn_id id_of(size_t i)
{
    return (bt_conn_id)(100 + 3 * i);
}

/* |n| peers, all interested and choked (and choking us), added in index order. */
static void h_init(harness *h, const bt_choker_ops *ops, size_t n, uint64_t seed)
{
    memset(h, 0, sizeof(*h));
    h->ops = ops;
    h->slots = 4;
    bt_pcg32_seed(&h->rng, seed, 5);
    CU_ASSERT_FATAL(ops->init(&h->state, bt_mem_default()) == 0);
    h->n = n;
    for (size_t i = 0; i < n; i++) {
        h->peers[i] = (bt_choke_peer){.id = id_of(i),
                                      .choked = true,
                                      .interested = true,
                                      .choking_us = true,
                                      .unchoked_at = BT_TIME_NEVER};
        CU_ASSERT_FATAL(ops->peer_added(h->state, id_of(i), &h->rng, bt_mem_default()) == 0);
    }
}

static void h_free(harness *h)
{
    h->ops->del(h->state, bt_mem_default());
}

/* One rechoke, applied; a periodic one advances the round as the client does. */
static void h_call(harness *h, bool periodic)
{
    bt_choke_ctx ctx = {.now = BT_SEC(10 * h->round + 1),
                        .round = h->round,
                        .periodic = periodic,
                        .seeding = h->seeding,
                        .slots = h->slots,
                        .upload_limit = h->limit,
                        .rng = &h->rng,
                        .weight = h->weight};
    memset(h->kind, 0xee, sizeof(h->kind));
    memset(h->weight, 0, h->n * sizeof(h->weight[0])); /* zeroed by the caller */
    h->weight[h->n] = 0xeeeeeeee;
    h->ops->rechoke(h->state, &ctx, h->peers, h->n, h->kind);
    for (size_t i = 0; i < h->n; i++) {
        CU_ASSERT(h->kind[i] <= BT_UNCHOKE_OPTIMISTIC);
        h->unchoke[i] = h->kind[i] != BT_UNCHOKE_NONE;
        h->peers[i].choked = !h->unchoke[i];
    }
    CU_ASSERT(h->kind[h->n] == 0xee); /* nothing written past n */
    CU_ASSERT(h->weight[h->n] == 0xeeeeeeee);
    for (size_t i = 0; i < h->n; i++)
        CU_ASSERT(h->unchoke[i] || h->weight[i] == 0); /* choked peers get no weight */
    if (periodic)
        h->round++;
}

static uint32_t count_unchoked(const harness *h)
{
    uint32_t c = 0;
    for (size_t i = 0; i < h->n; i++)
        c += h->unchoke[i];
    return c;
}

/* Removes peer |i| from the array (keeping it sorted by id) and from the choker. */
static void h_remove(harness *h, size_t i)
{
    h->ops->peer_removed(h->state, h->peers[i].id);
    memmove(&h->peers[i], &h->peers[i + 1], (h->n - i - 1) * sizeof(h->peers[0]));
    h->n--;
}

/* init/peer_added under failing allocators: NOMEM is reported, nothing leaks, and an id set
 * keeping strategy reports at least one failure over 40 additions. */
static void check_nomem(const bt_choker_ops *ops, bool keeps_set)
{
    for (long i = 0; i < 4; i++) { /* init, then growth at 16 and 32 entries */
        failmem fm;
        failmem_init(&fm, i);
        void *st = NULL;
        bt_pcg32 rng;
        bt_pcg32_seed(&rng, 1, 1);
        int rc = ops->init(&st, &fm.mem);
        if (rc != 0) {
            CU_ASSERT(rc == BT_ERR_NOMEM);
            continue;
        }
        int fails = 0;
        for (bt_conn_id id = 0; id < 40; id++) {
            rc = ops->peer_added(st, id, &rng, &fm.mem);
            CU_ASSERT(rc == 0 || rc == BT_ERR_NOMEM);
            fails += rc == BT_ERR_NOMEM;
        }
        CU_ASSERT(keeps_set ? fails > 0 : fails == 0);
        ops->del(st, &fm.mem);
    }
}

static void test_registry(void)
{
    const bt_choker_ops *all[] = {&bt_choker_freerider, &bt_choker_altruist, &bt_choker_rate_based,
                                  &bt_choker_bittyrant, &bt_choker_propshare};
    const char *want[] = {"freerider", "altruist", "rate_based", "bittyrant", "propshare"};
    for (size_t i = 0; i < 5; i++) {
        CU_ASSERT_STRING_EQUAL(all[i]->name, want[i]);
        CU_ASSERT(bt_choker_find(want[i]) == all[i]);
        bool listed = false;
        for (const char *const *n = bt_choker_names(); *n != NULL; n++)
            listed = listed || strcmp(*n, want[i]) == 0;
        CU_ASSERT(listed);
    }
    CU_ASSERT(bt_choker_find("BitTyrant") == NULL);
    CU_ASSERT(bt_choker_find("rate") == NULL);
}

static void test_freerider(void)
{
    harness h;
    h_init(&h, &bt_choker_freerider, 6, 1);
    h.peers[2].down_rate = 50000;
    h.peers[3].choking_us = false;
    for (int r = 0; r < 7; r++) {
        h_call(&h, r % 2 == 0);
        CU_ASSERT(count_unchoked(&h) == 0);
    }
    h.seeding = true;
    h_call(&h, true);
    CU_ASSERT(count_unchoked(&h) == 0);
    h.ops->peer_removed(h.state, 12345);
    h_free(&h);
    check_nomem(&bt_choker_freerider, false);
}

static void test_altruist(void)
{
    harness h;
    h_init(&h, &bt_choker_altruist, 10, 2);
    CU_ASSERT(h.ops->peer_added(h.state, id_of(4), &h.rng, bt_mem_default()) == BT_ERR_EXISTS);
    h.peers[1].interested = false;
    h.peers[3].is_seed = true;
    h.peers[5].is_seed = true;
    h.peers[5].interested = false;
    h.peers[7].snubbed = true;              /* no tit-for-tat: still unchoked */
    h.ops->peer_removed(h.state, id_of(8)); /* not added any more: never unchoked */
    h.ops->peer_removed(h.state, 99999);    /* unknown: harmless */
    for (int r = 0; r < 4; r++) {
        h_call(&h, r != 2);
        for (size_t i = 0; i < h.n; i++) {
            bool want = i != 1 && i != 3 && i != 5 && i != 8;
            CU_ASSERT(h.kind[i] == (want ? BT_UNCHOKE_REGULAR : BT_UNCHOKE_NONE));
        }
    }
    h.seeding = true;
    h_call(&h, true);
    CU_ASSERT(count_unchoked(&h) == 6);
    h_free(&h);
    check_nomem(&bt_choker_altruist, true);
}

/* Peers with up_rates |up| (the rest 0), down_rate decreasing with index: the regular slots
 * are the first slots peers (minus the optimistic, which is one more). */
static void rb_slots_case(const uint64_t *up, size_t nup, uint32_t want_slots)
{
    harness h;
    h_init(&h, &bt_choker_rate_based, 12, 3);
    for (size_t i = 0; i < h.n; i++)
        h.peers[i].down_rate = 100000 - 1000 * i;
    for (size_t i = 0; i < nup; i++)
        h.peers[h.n - 1 - i].up_rate = up[i]; /* slowest downloaders: the count is by up_rate */
    h_call(&h, true);
    CU_ASSERT(count_unchoked(&h) == want_slots + 1);
    /* the regular slots are the best downloaders other than the optimistic */
    uint32_t regular = 0;
    size_t i = 0;
    for (; i < h.n && regular < want_slots; i++)
        regular += h.unchoke[i];
    CU_ASSERT(regular == want_slots);
    CU_ASSERT(i <= want_slots + 1);
    /* kinds: exactly one optimistic, the rest regular */
    uint32_t kinds[3] = {0};
    for (i = 0; i < h.n; i++)
        kinds[h.kind[i] <= 2 ? h.kind[i] : 0]++;
    CU_ASSERT(kinds[BT_UNCHOKE_OPTIMISTIC] == 1 && kinds[BT_UNCHOKE_REGULAR] == want_slots);
    h_free(&h);
}

static void test_rate_based_slots(void)
{
    uint64_t none[] = {1023};
    rb_slots_case(none, 1, 1);
    uint64_t one[] = {1024, 3071};
    rb_slots_case(one, 2, 2);
    uint64_t two[] = {4000, 2000}; /* 4000 >= 1024, 2000 < 3072 */
    rb_slots_case(two, 2, 2);
    uint64_t three[] = {4000, 3072, 1000};
    rb_slots_case(three, 3, 3);
    uint64_t five[] = {20000, 9000, 8000, 7168, 9215};
    rb_slots_case(five, 4, 5); /* the 5th (9215 < 9216) is not listed: 4 earn + 1 */
    rb_slots_case(five, 5, 5); /* sorted: 20000 9215 9000 8000 7168: 7168 < 9216 stops */
    uint64_t five_b[] = {20000, 9216, 9000, 8000, 7168}; /* 7168 < 9216: 4 earn */
    rb_slots_case(five_b, 5, 5);
    uint64_t six[] = {9216, 20000, 12000, 15000, 10000}; /* 9216 >= 9216: 5 earn */
    rb_slots_case(six, 5, 6);
    uint64_t seven[] = {1u << 20, 1u << 20, 1u << 20, 1u << 20, 1u << 20, 1u << 20};
    rb_slots_case(seven, 6, 7);
    /* uninterested peers earn no slot */
    harness h;
    h_init(&h, &bt_choker_rate_based, 6, 4);
    for (size_t i = 0; i < h.n; i++) {
        h.peers[i].up_rate = 50000;
        h.peers[i].interested = i < 2;
    }
    h_call(&h, true);
    CU_ASSERT(count_unchoked(&h) == 2);
    CU_ASSERT(h.unchoke[0] && h.unchoke[1]);
    h_free(&h);
}

static size_t rb_optimistic(const harness *h)
{
    size_t opt = MAXP;
    for (size_t i = 1; i < h->n; i++) {
        if (h->unchoke[i]) {
            CU_ASSERT(opt == MAXP);
            CU_ASSERT(h->kind[i] == BT_UNCHOKE_OPTIMISTIC);
            opt = i;
        }
    }
    return opt;
}

static void test_rate_based_optimistic(void)
{
    harness h, g;
    h_init(&h, &bt_choker_rate_based, 9, 7);
    h_init(&g, &bt_choker_rate_based, 9, 7);
    h.peers[0].down_rate = g.peers[0].down_rate = 90000; /* the one regular slot */
    size_t prev = MAXP;
    int changes = 0;
    for (int r = 0; r < 30; r++) {
        h_call(&h, true);
        h_call(&g, true);
        CU_ASSERT(memcmp(h.unchoke, g.unchoke, h.n) == 0); /* same seed, same choices */
        CU_ASSERT(count_unchoked(&h) == 2);
        CU_ASSERT(h.kind[0] == BT_UNCHOKE_REGULAR);
        size_t opt = rb_optimistic(&h);
        CU_ASSERT_FATAL(opt < h.n);
        if (r % 3 == 0) {
            CU_ASSERT(opt != prev); /* drawn among the choked peers */
            changes++;
        } else {
            CU_ASSERT(opt == prev);
        }
        /* extra calls never rotate, even at a rotation round */
        for (int e = 0; e < 3; e++) {
            h_call(&h, false);
            CU_ASSERT(rb_optimistic(&h) == opt);
        }
        prev = opt;
    }
    CU_ASSERT(changes == 10);
    /* the optimistic leaves: an extra call leaves the slot empty, the next round refills it */
    h.peers[prev].interested = false;
    h_call(&h, false);
    CU_ASSERT(count_unchoked(&h) == 1);
    h.round = 31; /* not a rotation round */
    h_call(&h, true);
    CU_ASSERT(count_unchoked(&h) == 2);
    CU_ASSERT(h.unchoke[prev] == 0);
    size_t opt = rb_optimistic(&h);
    CU_ASSERT_FATAL(opt < h.n);
    h_remove(&h, opt);
    h_call(&h, false);
    CU_ASSERT(count_unchoked(&h) == 1);
    CU_ASSERT(h.ops->peer_added(h.state, id_of(1), &h.rng, bt_mem_default()) == BT_ERR_EXISTS ||
              opt == 1);
    h.ops->peer_removed(h.state, 4242);
    h_free(&h);
    h_free(&g);
}

static void test_rate_based_seeding(void)
{
    harness h;
    h_init(&h, &bt_choker_rate_based, 6, 8);
    h.seeding = true;
    h.peers[4].up_rate = 5000; /* earns a slot: 2 regular */
    h.peers[2].up_rate = 900;
    h.peers[0].is_seed = true;
    h.peers[0].up_rate = 90000; /* seeds are no candidates while we seed */
    h.peers[0].choked = false;
    h_call(&h, false); /* no optimistic on an extra call */
    CU_ASSERT(count_unchoked(&h) == 2);
    CU_ASSERT(h.unchoke[4] && h.unchoke[2] && !h.unchoke[0]);
    CU_ASSERT(h.kind[4] == BT_UNCHOKE_REGULAR && h.kind[2] == BT_UNCHOKE_REGULAR);
    h_free(&h);
    check_nomem(&bt_choker_rate_based, true);
}

static void test_bittyrant_ratio(void)
{
    harness h;
    h_init(&h, &bt_choker_bittyrant, 6, 9);
    h.limit = 40000; /* u_p starts at 10000: 4 fit */
    const uint64_t down[] = {5000, 50000, 0, 20000, 30000, 15000};
    for (size_t i = 0; i < h.n; i++)
        h.peers[i].down_rate = down[i];
    h_call(&h, true);
    /* d/u: 50000 30000 20000 15000 then 10000 (default for 0) and 5000 */
    const uint8_t want[] = {0, 1, 0, 1, 1, 1};
    CU_ASSERT(memcmp(h.unchoke, want, 6) == 0);
    CU_ASSERT(memcmp(h.kind, want, 6) == 0); /* BT_UNCHOKE_REGULAR == 1: no optimistic */
    /* extra calls keep the set even when rates change */
    h.peers[0].down_rate = 1000000;
    h.peers[1].down_rate = 0;
    h_call(&h, false);
    CU_ASSERT(memcmp(h.unchoke, want, 6) == 0);
    /* a larger budget takes more */
    harness g;
    h_init(&g, &bt_choker_bittyrant, 6, 9);
    g.limit = 59999;
    for (size_t i = 0; i < g.n; i++)
        g.peers[i].down_rate = down[i];
    h_call(&g, true); /* u = 14999 (rounded down): still 4 fit */
    CU_ASSERT(count_unchoked(&g) == 4);
    CU_ASSERT(g.unchoke[1] && g.unchoke[4] && g.unchoke[3]);
    h_free(&g);
    h_free(&h);
}

/* All peers reciprocate at equal rates: after 3 reciprocated rounds u_p drops by 10 % a round,
 * so more fit (4 at u = 10000, 9000, 8100; 5 at 7290: 4 * 7290 + 7290 <= 40000). */
static void test_bittyrant_reciprocation(void)
{
    harness h;
    h_init(&h, &bt_choker_bittyrant, 10, 10);
    h.limit = 40000;
    for (size_t i = 0; i < h.n; i++) {
        h.peers[i].down_rate = 8000;
        h.peers[i].choking_us = false;
    }
    uint32_t counts[8];
    for (int r = 0; r < 8; r++) {
        h_call(&h, true);
        counts[r] = count_unchoked(&h);
    }
    /* round 0: 4 new peers (u 10000); rounds 1-3 the same 4 (streaks 1, 2, 3 -> 9000 at 3);
     * round 4: 8100; round 5: 7290 and 7290 * 4 = 29160: a fifth (10000) fits */
    CU_ASSERT(counts[0] == 4 && counts[3] == 4 && counts[4] == 4);
    CU_ASSERT(counts[5] == 5);
    CU_ASSERT(counts[7] >= 5);
    h_free(&h);
}

/* A peer that looks fast but never unchokes us is dropped; cheap reciprocators stay. */
static void test_bittyrant_nonreciprocator(void)
{
    harness h;
    h_init(&h, &bt_choker_bittyrant, 5, 11);
    h.limit = 40000;
    h.peers[0].down_rate = 100000; /* advertised fast, always chokes us */
    for (size_t i = 1; i < h.n; i++) {
        h.peers[i].down_rate = 20000;
        h.peers[i].choking_us = false;
    }
    h_call(&h, true);
    CU_ASSERT(h.unchoke[0] == 1);
    h.peers[0].down_rate = 0; /* it sends nothing */
    /* each round it is unchoked its u_p grows by 20 %; it is taken again only when the
     * budget left by the others fits it (it is re-probed while their u_p decays), and once
     * u_p > budget (10000 * 1.2^k > 40000 after 8 probes) it is out for good */
    int probes = 1;
    for (int r = 1; r < 60; r++) {
        h_call(&h, true);
        if (r < 4)
            CU_ASSERT(count_unchoked(&h) <= 4); /* every u_p >= 10000 until then */
        probes += h.unchoke[0];
        if (r >= 40)
            CU_ASSERT(h.unchoke[0] == 0);
    }
    CU_ASSERT(probes >= 2 && probes <= 8);
    for (size_t i = 1; i < h.n; i++)
        CU_ASSERT(h.unchoke[i] == 1);
    h_free(&h);
}

/* The budget is never exceeded with u_p only growing: nobody reciprocates, so at most 4 of
 * u = budget/4 fit at any time, and eventually nobody (u_p > budget). */
static void test_bittyrant_budget(void)
{
    harness h;
    h_init(&h, &bt_choker_bittyrant, 20, 12);
    h.limit = 100000;
    bt_pcg32 g;
    bt_pcg32_seed(&g, 77, 1);
    bool ever_zero = false;
    for (int r = 0; r < 200; r++) {
        for (size_t i = 0; i < h.n; i++) {
            h.peers[i].down_rate = bt_pcg32_below(&g, 50000);
            h.peers[i].up_rate = bt_pcg32_below(&g, 50000);
        }
        h_call(&h, bt_pcg32_below(&g, 3) != 0);
        CU_ASSERT(count_unchoked(&h) <= 4);
        ever_zero = ever_zero || (r > 10 && count_unchoked(&h) == 0);
    }
    /* new peers start at budget/4 and then also fail to reciprocate */
    CU_ASSERT(ever_zero);
    h_free(&h);
    /* unlimited upload: the budget is at least 64 KiB/s, so 4 of 16 KiB/s fit */
    h_init(&h, &bt_choker_bittyrant, 8, 13);
    h_call(&h, true);
    CU_ASSERT(count_unchoked(&h) == 4);
    h_free(&h);
}

/* Before the first periodic round an extra call (a peer became interested) decides from the
 * default estimates, so a newcomer uploads at once; it judges no reciprocation yet. */
static void test_bittyrant_first_round(void)
{
    harness h;
    h_init(&h, &bt_choker_bittyrant, 6, 15);
    h.limit = 40000; /* u_p = 10000: 4 fit */
    for (size_t i = 0; i < h.n; i++)
        h.peers[i].interested = i < 2;
    h.peers[5].down_rate = 30000; /* the best d/u once it is interested */
    h_call(&h, false);
    CU_ASSERT(count_unchoked(&h) == 2);
    CU_ASSERT(h.unchoke[0] && h.unchoke[1]);
    for (size_t i = 0; i < h.n; i++)
        h.peers[i].interested = true;
    h_call(&h, false);
    CU_ASSERT(count_unchoked(&h) == 4); /* the budget is never exceeded */
    CU_ASSERT(h.unchoke[0] && h.unchoke[1] && h.unchoke[5]);
    /* the first periodic round judges those unchoked (all chokes us: u_p grows 20 %), and
     * later extra calls keep its set */
    h_call(&h, true);
    uint32_t after_round = count_unchoked(&h);
    CU_ASSERT(after_round >= 1 && after_round <= 4);
    uint8_t kept[MAXP];
    memcpy(kept, h.unchoke, h.n);
    h.peers[2].down_rate = 1000000;
    h_call(&h, false);
    CU_ASSERT(memcmp(kept, h.unchoke, h.n) == 0);
    h_free(&h);
}

static void test_bittyrant_peer_set(void)
{
    harness h;
    h_init(&h, &bt_choker_bittyrant, 6, 14);
    h.limit = 40000;
    for (size_t i = 0; i < h.n; i++) {
        h.peers[i].down_rate = 1000 * (i + 1);
        h.peers[i].choking_us = false;
    }
    CU_ASSERT(h.ops->peer_added(h.state, id_of(3), &h.rng, bt_mem_default()) == BT_ERR_EXISTS);
    h.ops->peer_removed(h.state, 7777); /* unknown: harmless */
    h.ops->peer_removed(h.state, 0);
    h_call(&h, true);
    const uint8_t want[] = {0, 0, 1, 1, 1, 1};
    CU_ASSERT(memcmp(h.unchoke, want, 6) == 0);
    /* an unchoked peer leaves: an extra call keeps the rest and adds nobody */
    h_remove(&h, 5);
    h_call(&h, false);
    CU_ASSERT(count_unchoked(&h) == 3);
    CU_ASSERT(h.unchoke[0] == 0 && h.unchoke[1] == 0);
    /* a fast peer joins: not unchoked by an extra call, taken at the next round */
    bt_conn_id nid = id_of(40);
    CU_ASSERT(h.ops->peer_added(h.state, nid, &h.rng, bt_mem_default()) == 0);
    h.peers[h.n] = (bt_choke_peer){.id = nid,
                                   .choked = true,
                                   .interested = true,
                                   .down_rate = 90000,
                                   .unchoked_at = BT_TIME_NEVER};
    h.n++;
    h_call(&h, false);
    CU_ASSERT(h.unchoke[h.n - 1] == 0);
    h_call(&h, true);
    CU_ASSERT(h.unchoke[h.n - 1] == 1);
    CU_ASSERT(count_unchoked(&h) == 4);
    /* a peer present in |peers| but never added is never unchoked */
    h.ops->peer_removed(h.state, nid);
    h_call(&h, true);
    CU_ASSERT(h.unchoke[h.n - 1] == 0);
    /* seeding: the 4 highest up_rate interested non-seeds */
    h.seeding = true;
    for (size_t i = 0; i < h.n; i++)
        h.peers[i].up_rate = 100 * (i + 1);
    h.peers[4].is_seed = true;
    h.peers[3].interested = false;
    h_call(&h, true);
    const uint8_t seed_want[] = {1, 1, 1, 0, 0, 0};
    CU_ASSERT(memcmp(h.kind, seed_want, 6) == 0); /* regular */
    h_free(&h);
    check_nomem(&bt_choker_bittyrant, true);
}

static uint32_t count_kind(const harness *h, uint8_t kind)
{
    uint32_t c = 0;
    for (size_t i = 0; i < h->n; i++)
        c += h->kind[i] == kind;
    return c;
}

/* Nobody gave anything: ctx->slots optimistic unchokes with equal weights; newcomers first. */
static void test_propshare_bootstrap(void)
{
    harness h;
    h_init(&h, &bt_choker_propshare, 8, 21);
    for (size_t i = 0; i < 4; i++)
        h.peers[i].unchoked_at = BT_SEC(1); /* unchoked by us before: not newcomers */
    h_call(&h, true);
    CU_ASSERT(count_kind(&h, BT_UNCHOKE_OPTIMISTIC) == 4 && count_unchoked(&h) == 4);
    for (size_t i = 0; i < h.n; i++) {
        CU_ASSERT(h.unchoke[i] == (i >= 4)); /* exactly the four newcomers */
        CU_ASSERT(h.weight[i] == (i >= 4 ? BT_UPLOAD_WEIGHT_ONE : 0));
    }
    /* no upload slot: nobody */
    h.slots = 0;
    h_call(&h, true);
    CU_ASSERT(count_unchoked(&h) == 0);
    h_free(&h);
}

/* Weights in proportion to what each peer gave in the last round, 1/10 kept for the
 * optimistic unchoke; the next round counts only the bytes of that round. */
static void test_propshare_weights(void)
{
    harness h;
    h_init(&h, &bt_choker_propshare, 6, 22);
    h_call(&h, true); /* round 0: bootstrap */
    h.peers[0].down_total = 30000;
    h.peers[1].down_total = 10000;
    h.peers[2].down_total = 5000;
    h.peers[2].interested = false; /* gave, but wants nothing from us */
    h_call(&h, true);              /* round 1 */
    CU_ASSERT(h.kind[0] == BT_UNCHOKE_REGULAR && h.kind[1] == BT_UNCHOKE_REGULAR);
    CU_ASSERT(h.kind[2] == BT_UNCHOKE_NONE);
    CU_ASSERT(count_kind(&h, BT_UNCHOKE_REGULAR) == 2);
    CU_ASSERT(count_kind(&h, BT_UNCHOKE_OPTIMISTIC) == 1);
    /* 3 unchoked: total 3 * 256 = 768; optimistic 76 (1/10); 692 split 3:1 */
    size_t opt = MAXP;
    for (size_t i = 0; i < h.n; i++)
        if (h.kind[i] == BT_UNCHOKE_OPTIMISTIC)
            opt = i;
    CU_ASSERT_FATAL(opt >= 3 && opt < h.n);
    CU_ASSERT(h.weight[0] == 519 && h.weight[1] == 173 && h.weight[opt] == 76);
    /* an extra call keeps the set and the weights */
    uint32_t w[MAXP];
    memcpy(w, h.weight, sizeof(w));
    h_call(&h, false);
    CU_ASSERT(memcmp(w, h.weight, h.n * sizeof(w[0])) == 0);
    /* round 2: peer 0 sent nothing more, peer 1 5000 more: only peer 1 is regular */
    h.peers[1].down_total += 5000;
    h_call(&h, true);
    CU_ASSERT(h.kind[0] != BT_UNCHOKE_REGULAR && h.kind[1] == BT_UNCHOKE_REGULAR);
    CU_ASSERT(count_kind(&h, BT_UNCHOKE_REGULAR) == 1);
    CU_ASSERT(h.kind[opt] == BT_UNCHOKE_OPTIMISTIC); /* kept until round 3 */
    CU_ASSERT(h.weight[1] == 461 && h.weight[opt] == 51); /* 512: 51 reserved, 461 */
    /* the regular peer loses interest: an extra call drops it, the optimistic stays */
    h.peers[1].interested = false;
    h_call(&h, false);
    CU_ASSERT(h.unchoke[1] == 0 && h.kind[opt] == BT_UNCHOKE_OPTIMISTIC);
    CU_ASSERT(count_unchoked(&h) == 1);
    h_free(&h);
}

/* The optimistic unchoke is redrawn every 3rd round, not in between, never by extra calls. */
static void test_propshare_optimistic(void)
{
    harness h;
    h_init(&h, &bt_choker_propshare, 10, 23);
    size_t prev = MAXP;
    int changes = 0;
    for (int r = 0; r < 12; r++) {
        h.peers[0].down_total += 1000; /* one steady contributor */
        h_call(&h, true);
        for (size_t i = 0; i < h.n; i++) /* the harness does not track unchoked_at */
            if (h.unchoke[i] && h.peers[i].unchoked_at == BT_TIME_NEVER)
                h.peers[i].unchoked_at = BT_SEC(10 * (uint64_t)r + 1);
        if (r == 0)
            continue; /* peer 0 gave nothing before round 0: bootstrap */
        CU_ASSERT(h.kind[0] == BT_UNCHOKE_REGULAR);
        CU_ASSERT(count_kind(&h, BT_UNCHOKE_OPTIMISTIC) == 1);
        size_t opt = MAXP;
        for (size_t i = 1; i < h.n; i++)
            if (h.kind[i] == BT_UNCHOKE_OPTIMISTIC)
                opt = i;
        CU_ASSERT_FATAL(opt < h.n);
        if (r % 3 == 0 && opt != prev)
            changes++;
        if (r % 3 != 0 && prev != MAXP && r != 1)
            CU_ASSERT(opt == prev);
        h_call(&h, false);
        CU_ASSERT(h.kind[opt] == BT_UNCHOKE_OPTIMISTIC && count_unchoked(&h) == 2);
        prev = opt;
    }
    CU_ASSERT(changes == 3); /* rounds 3, 6, 9: newcomers first, so always another peer */
    h_free(&h);
}

static void test_propshare_seeding(void)
{
    harness h;
    h_init(&h, &bt_choker_propshare, 7, 24);
    h.seeding = true;
    const uint64_t up[] = {500, 100, 900, 300, 0, 200, 50};
    for (size_t i = 0; i < h.n; i++) {
        h.peers[i].up_total = up[i];
        h.peers[i].down_total = 99999; /* gave a lot: irrelevant when seeding */
    }
    h.peers[4].is_seed = true;
    h.peers[6].interested = false;
    h_call(&h, true);
    /* the 4 least served interested non-seeds: 1 (100), 5 (200), 3 (300), 0 (500) */
    const uint8_t want[] = {1, 1, 0, 1, 0, 1, 0};
    CU_ASSERT(memcmp(h.kind, want, 7) == 0); /* regular */
    for (size_t i = 0; i < h.n; i++)
        CU_ASSERT(h.weight[i] == 0); /* equal shares */
    /* an extra call before anybody is unchoked fills the slots the same way */
    harness g;
    h_init(&g, &bt_choker_propshare, 7, 24);
    g.seeding = true;
    memcpy(g.peers, h.peers, sizeof(g.peers));
    for (size_t i = 0; i < g.n; i++)
        g.peers[i].choked = true;
    h_call(&g, false);
    CU_ASSERT(memcmp(g.kind, want, 7) == 0);
    h_free(&g);
    /* peers never added are never unchoked */
    h.ops->peer_removed(h.state, id_of(1));
    h.ops->peer_removed(h.state, 31337);
    h_call(&h, true);
    CU_ASSERT(h.unchoke[1] == 0 && count_unchoked(&h) == 4);
    CU_ASSERT(h.ops->peer_added(h.state, id_of(0), &h.rng, bt_mem_default()) == BT_ERR_EXISTS);
    h_free(&h);
    check_nomem(&bt_choker_propshare, true);
}

/* End to end: a simulated flash crowd with one class per strategy. Everybody completes, the
 * free-riders upload nothing, every other class uploads. */
static void test_swarm_end_to_end(void)
{
    const char *text = "[swarm]\nfile_size = 1MiB\npiece_size = 64KiB\n"
                       "[arrivals]\nprocess = flash\ncount = 24\n"
                       "[class seed]\nrole = seed\nup = 4Mbit\ndown = 4Mbit\n"
                       "[class fr]\nshare = 0.25\nup = 2Mbit\ndown = 8Mbit\nchoker = freerider\n"
                       "[class alt]\nshare = 0.25\nup = 2Mbit\ndown = 8Mbit\nchoker = altruist\n"
                       "[class rb]\nshare = 0.25\nup = 2Mbit\ndown = 8Mbit\n"
                       "choker = rate_based\n"
                       "[class ty]\nshare = 0.25\nup = 2Mbit\ndown = 8Mbit\nchoker = bittyrant\n";
    char err[512];
    sim_scenario *sc = NULL;
    int rv = sim_scenario_load_string(&sc, text, strlen(text), "chokers.ini", NULL, NULL, 0, err,
                                      sizeof(err));
    if (rv != 0)
        fprintf(stderr, "scenario: %s\n", err);
    CU_ASSERT_FATAL(rv == 0);
    sim_world *w = NULL;
    CU_ASSERT_FATAL(sim_run_build(&w, sc, false, err, sizeof(err)) == 0);
    sim_scenario_free(sc);
    CU_ASSERT_FATAL(sim_world_run(w, NULL, NULL, 0) == 0);
    uint64_t up[5] = {0};
    uint32_t count[5] = {0};
    for (uint32_t i = 0; i < sim_world_npeers(w); i++) {
        const sim_peer_result *p = sim_world_peer(w, i);
        CU_ASSERT_FATAL(p->cls < 5);
        CU_ASSERT(p->completed != BT_TIME_NEVER);
        up[p->cls] += p->bytes_up;
        count[p->cls]++;
    }
    CU_ASSERT(count[1] == 6 && count[4] == 6);
    CU_ASSERT(up[1] == 0);
    CU_ASSERT(up[0] > 0 && up[2] > 0 && up[3] > 0 && up[4] > 0);
    sim_world_del(w);
}

/* End to end: propshare leechers (and a reference seed) complete a flash crowd, trade
 * through regular (proportional) and optimistic unchokes, and set upload weights that the
 * host passes to the network; reference leechers set none. */
static void test_propshare_swarm(void)
{
    for (int ps = 0; ps < 2; ps++) {
        char text[512];
        snprintf(text, sizeof(text),
                 "[swarm]\nfile_size = 2MiB\npiece_size = 64KiB\nduration = 1h\n"
                 "[arrivals]\nprocess = flash\ncount = 12\n"
                 "[class seed]\nrole = seed\nup = 4Mbit\ndown = 4Mbit\n"
                 "[class l]\nshare = 1\nup = 2Mbit\ndown = 8Mbit\nlatency = 20ms\n"
                 "choker = %s\n", ps ? "propshare" : "reference");
        char err[512];
        sim_scenario *sc = NULL;
        CU_ASSERT_FATAL(sim_scenario_load_string(&sc, text, strlen(text), "ps.ini", NULL, NULL,
                                                 0, err, sizeof(err)) == 0);
        sim_world *w = NULL;
        CU_ASSERT_FATAL(sim_run_build(&w, sc, false, err, sizeof(err)) == 0);
        sim_scenario_free(sc);
        CU_ASSERT_FATAL(sim_world_run(w, NULL, NULL, 0) == 0);
        for (uint32_t i = 0; i < sim_world_npeers(w); i++)
            CU_ASSERT(sim_world_peer(w, i)->completed != BT_TIME_NEVER);
        sim_matrix_cell m[4];
        sim_world_matrix(w, m);
        CU_ASSERT(m[3].bytes > 0); /* l -> l */
        CU_ASSERT(m[3].regular_unchoke_us > 0 && m[3].optimistic_unchoke_us > 0);
        sim_world_stats st;
        sim_world_get_stats(w, &st);
        CU_ASSERT(ps ? st.weight_changes > 0 : st.weight_changes == 0);
        sim_world_del(w);
    }
}

int test_chokers_more_add_suite(void)
{
    CU_pSuite s = CU_add_suite("chokers_more", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "registry", test_registry) == NULL ||
        CU_add_test(s, "freerider", test_freerider) == NULL ||
        CU_add_test(s, "altruist", test_altruist) == NULL ||
        CU_add_test(s, "rate_based slots", test_rate_based_slots) == NULL ||
        CU_add_test(s, "rate_based optimistic", test_rate_based_optimistic) == NULL ||
        CU_add_test(s, "rate_based seeding", test_rate_based_seeding) == NULL ||
        CU_add_test(s, "bittyrant ratio", test_bittyrant_ratio) == NULL ||
        CU_add_test(s, "bittyrant reciprocation", test_bittyrant_reciprocation) == NULL ||
        CU_add_test(s, "bittyrant non-reciprocator", test_bittyrant_nonreciprocator) == NULL ||
        CU_add_test(s, "bittyrant budget", test_bittyrant_budget) == NULL ||
        CU_add_test(s, "bittyrant peer set", test_bittyrant_peer_set) == NULL ||
        CU_add_test(s, "bittyrant first round", test_bittyrant_first_round) == NULL ||
        CU_add_test(s, "propshare bootstrap", test_propshare_bootstrap) == NULL ||
        CU_add_test(s, "propshare weights", test_propshare_weights) == NULL ||
        CU_add_test(s, "propshare optimistic", test_propshare_optimistic) == NULL ||
        CU_add_test(s, "propshare seeding", test_propshare_seeding) == NULL ||
        CU_add_test(s, "swarm end to end", test_swarm_end_to_end) == NULL ||
        CU_add_test(s, "propshare swarm", test_propshare_swarm) == NULL)
        return 1;
    return 0;
}
