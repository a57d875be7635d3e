/* tests/unit/test_choker.c: unit tests for the choker registry, auto slots and the `reference`
 * and `reference-upload` strategies (engine/bt_choker*.c), driven with synthetic peer stats: no
 * connections, no clock. */
#include "bt_choker.h"
#include "failmem.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

extern int test_choker_add_suite(void); /* extern: the suite grep matches once */

#define MAXP 64

typedef struct harness {
    const bt_choker_ops *ops;
    void *state;
    bt_choke_peer peers[MAXP];
    uint8_t unchoke[MAXP]; /* 0/1: choked or not */
    uint8_t kind[MAXP];    /* what rechoke wrote: a bt_unchoke_kind */
    size_t n;
    bt_pcg32 rng;
    uint64_t round;
    bool seeding;
    uint32_t slots;
} harness;

static const bt_choker_ops *ops = &bt_choker_reference;

static bt_conn_id id_of(size_t i)
{
    return (bt_conn_id)(100 + 3 * i);
}

/* |n| peers, all interested and choked, added in index order, for strategy |o|. */
static void h_init_ops(harness *h, const bt_choker_ops *o, size_t n, uint64_t seed, uint32_t slots,
                       bool seeding)
{
    memset(h, 0, sizeof(*h));
    h->ops = o;
    bt_pcg32_seed(&h->rng, seed, 3);
    CU_ASSERT_FATAL(o->init(&h->state, bt_mem_default()) == 0);
    h->n = n;
    h->slots = slots;
    h->seeding = seeding;
    for (size_t i = 0; i < n; i++) {
        h->peers[i] = (bt_choke_peer){
            .id = id_of(i), .choked = true, .interested = true, .unchoked_at = BT_TIME_NEVER};
        CU_ASSERT_FATAL(o->peer_added(h->state, id_of(i), &h->rng, bt_mem_default()) == 0);
    }
}

static void h_init(harness *h, size_t n, uint64_t seed, uint32_t slots, bool seeding)
{
    h_init_ops(h, ops, n, seed, slots, seeding);
}

static void h_free(harness *h)
{
    h->ops->del(h->state, bt_mem_default());
}

/* One rechoke, applied: periodic (then the round advances, as the client does) or an extra
 * call (a join, leave or interest change; ctx.round = periodic rounds before it). */
static void h_call(harness *h, bool periodic)
{
    bt_choke_ctx ctx = {.now = BT_SEC(10 * h->round + 1),
                        .round = h->round,
                        .periodic = periodic,
                        .seeding = h->seeding,
                        .slots = h->slots,
                        .rng = &h->rng};
    memset(h->kind, 0xee, sizeof(h->kind));
    h->ops->rechoke(h->state, &ctx, h->peers, h->n, h->kind);
    for (size_t i = 0; i < h->n; i++) {
        CU_ASSERT(h->kind[i] <= BT_UNCHOKE_OPTIMISTIC);
        h->unchoke[i] = h->kind[i] != BT_UNCHOKE_NONE;
        h->peers[i].choked = !h->unchoke[i];
    }
    CU_ASSERT(h->kind[h->n] == 0xee); /* nothing written past n */
    if (periodic)
        h->round++;
}

static void h_round(harness *h)
{
    h_call(h, true);
}

static uint32_t count_unchoked(const harness *h, bool interested_only)
{
    uint32_t c = 0;
    for (size_t i = 0; i < h->n; i++)
        c += h->unchoke[i] && (!interested_only || h->peers[i].interested);
    return c;
}

/* ---- tests ---- */

static void test_registry(void)
{
    CU_ASSERT(bt_choker_find("reference") == &bt_choker_reference);
    CU_ASSERT(bt_choker_find("Reference") == NULL);
    CU_ASSERT(bt_choker_find("") == NULL);
    CU_ASSERT(bt_choker_find(NULL) == NULL);
    const char *const *names = bt_choker_names();
    CU_ASSERT_FATAL(names != NULL && names[0] != NULL);
    size_t k = 0;
    for (; names[k] != NULL; k++)
        CU_ASSERT(bt_choker_find(names[k]) != NULL);
    CU_ASSERT(k == 7); /* reference, reference-upload, freerider, altruist, rate_based,
                          bittyrant, propshare */
    CU_ASSERT_STRING_EQUAL(bt_choker_reference.name, "reference");
    CU_ASSERT_STRING_EQUAL(bt_choker_reference_upload.name, "reference-upload");
    CU_ASSERT(bt_choker_find("reference-upload") == &bt_choker_reference_upload);
    CU_ASSERT(bt_choker_find("reference_upload") == NULL);
}

static void test_auto_slots(void)
{
    CU_ASSERT(bt_choker_auto_slots(0) == 7);
    CU_ASSERT(bt_choker_auto_slots(1) == 2);
    CU_ASSERT(bt_choker_auto_slots(8999) == 2);
    CU_ASSERT(bt_choker_auto_slots(9000) == 3);
    CU_ASSERT(bt_choker_auto_slots(14999) == 3);
    CU_ASSERT(bt_choker_auto_slots(15000) == 4);
    CU_ASSERT(bt_choker_auto_slots(41999) == 4);
    CU_ASSERT(bt_choker_auto_slots(42000) == 5);    /* sqrt(25.2) */
    CU_ASSERT(bt_choker_auto_slots(60000) == 6);    /* sqrt(36) exactly */
    CU_ASSERT(bt_choker_auto_slots(59999) == 5);    /* sqrt(35.4) */
    CU_ASSERT(bt_choker_auto_slots(100000) == 7);   /* sqrt(60) */
    CU_ASSERT(bt_choker_auto_slots(1000000) == 24); /* sqrt(600) */
    CU_ASSERT(bt_choker_auto_slots(1000000000) == 774);
    CU_ASSERT(bt_choker_auto_slots(UINT64_MAX) == 105204783);
}

/* Regular slots: the three fastest interested, non-snubbed peers; one optimistic beyond. */
static void test_regular_slots(void)
{
    harness h;
    h_init(&h, 14, 1, 4, false);
    for (size_t i = 0; i < 14; i++)
        h.peers[i].down_rate = 10 + i; /* slow, distinct */
    h.peers[2].down_rate = 5000;
    h.peers[7].down_rate = 4000;
    h.peers[11].down_rate = 3000;
    h.peers[4].down_rate = 9000; /* fastest, but snubbed */
    h.peers[4].snubbed = true;
    h.peers[9].down_rate = 8000; /* fast, not interested */
    h.peers[9].interested = false;
    uint32_t snub_rounds = 0;
    for (int r = 0; r < 60; r++) {
        h_round(&h);
        CU_ASSERT(h.unchoke[2] && h.unchoke[7] && h.unchoke[11]);
        CU_ASSERT(count_unchoked(&h, true) == 4);
        snub_rounds += h.unchoke[4];
        /* the three earned slots are regular, the fourth interested unchoke optimistic */
        uint32_t regular = 0, optimistic = 0;
        for (size_t i = 0; i < 14; i++) {
            regular += h.kind[i] == BT_UNCHOKE_REGULAR;
            optimistic += h.kind[i] == BT_UNCHOKE_OPTIMISTIC && h.peers[i].interested;
        }
        CU_ASSERT(regular == 3 && optimistic == 1);
        CU_ASSERT(h.kind[2] == BT_UNCHOKE_REGULAR && h.kind[7] == BT_UNCHOKE_REGULAR &&
                  h.kind[11] == BT_UNCHOKE_REGULAR);
        CU_ASSERT(h.kind[4] != BT_UNCHOKE_REGULAR); /* snubbed: optimistic at best */
    }
    /* the snubbed peer is only ever the optimistic unchoke (1 of 11 candidates in turn) */
    CU_ASSERT(snub_rounds > 0 && snub_rounds <= 12);
    /* a peer that becomes fast takes a regular slot from the slowest regular */
    h.peers[5].down_rate = 4500;
    h_round(&h);
    CU_ASSERT(h.unchoke[2] && h.unchoke[7] && h.unchoke[5]);
    CU_ASSERT(count_unchoked(&h, true) == 4);
    h_free(&h);
}

/* The optimistic unchoke moves every 3rd round, not in between, not on extra calls. */
static void test_optimistic_rotation(void)
{
    harness h;
    h_init(&h, 11, 2, 4, false);
    for (size_t i = 0; i < 3; i++)
        h.peers[i].down_rate = 1000 * (i + 1);
    size_t opt[13];
    for (int r = 0; r < 13; r++) {
        h_call(&h, true);
        uint8_t first[MAXP];
        memcpy(first, h.kind, sizeof(first));
        h_call(&h, false); /* an extra (event) call changes nothing, kinds included */
        CU_ASSERT(memcmp(first, h.kind, h.n) == 0);
        size_t who = MAXP, others = 0;
        for (size_t i = 3; i < 11; i++) {
            if (h.unchoke[i]) {
                who = i;
                others++;
            }
        }
        CU_ASSERT_FATAL(others == 1);
        CU_ASSERT(h.unchoke[0] && h.unchoke[1] && h.unchoke[2]);
        CU_ASSERT(h.kind[who] == BT_UNCHOKE_OPTIMISTIC);
        CU_ASSERT(h.kind[0] == BT_UNCHOKE_REGULAR && h.kind[2] == BT_UNCHOKE_REGULAR);
        opt[r] = who;
        if (r > 0 && r % 3 != 0)
            CU_ASSERT(opt[r] == opt[r - 1]);
        if (r > 0 && r % 3 == 0)
            CU_ASSERT(opt[r] != opt[r - 1]);
    }
    h_free(&h);
}

/* When no interested peer can take a regular slot, mainline's min_uploads = 2 applies. */
static void test_min_uploads_and_slots(void)
{
    harness h;
    h_init(&h, 8, 3, 4, false);
    for (size_t i = 0; i < 8; i++)
        h.peers[i].snubbed = true;
    h_round(&h);
    CU_ASSERT(count_unchoked(&h, true) == 2);
    h_free(&h);
    h_init(&h, 8, 3, 1, false);
    for (int r = 0; r < 5; r++) {
        h_round(&h);
        CU_ASSERT(count_unchoked(&h, true) == 1);
    }
    h.slots = 0;
    h_round(&h);
    CU_ASSERT(count_unchoked(&h, false) == 0);
    h.seeding = true;
    h_round(&h);
    CU_ASSERT(count_unchoked(&h, false) == 0);
    h_free(&h);
}

/* Seed mode, 4 slots: 3 kept + 1 new in two rounds of three, 4 kept in the third. */
static void test_seed_mode(void)
{
    harness h;
    h_init(&h, 12, 4, 4, true);
    h.peers[10].is_seed = true; /* a seed is never unchoked while we seed */
    h.peers[11].interested = false;
    h.peers[11].choked = false; /* uninterested peers get choked */
    uint32_t turns[12] = {0};
    for (int r = 0; r < 30; r++) {
        bool before[12];
        for (size_t i = 0; i < 12; i++) {
            before[i] = !h.peers[i].choked;
            h.peers[i].up_rate = 100 * (i % 4);
        }
        h_round(&h);
        uint32_t kept = 0, fresh = 0, optimistic = 0;
        for (size_t i = 0; i < 12; i++) {
            kept += h.unchoke[i] && before[i];
            fresh += h.unchoke[i] && !before[i];
            turns[i] += h.unchoke[i];
            optimistic += h.kind[i] == BT_UNCHOKE_OPTIMISTIC;
            if (h.unchoke[i] && !before[i]) /* a new round-robin turn */
                CU_ASSERT(h.kind[i] == BT_UNCHOKE_OPTIMISTIC);
        }
        CU_ASSERT(optimistic == fresh); /* kept from earlier rounds: regular */
        CU_ASSERT(h.unchoke[10] == 0 && h.unchoke[11] == 0);
        CU_ASSERT(kept + fresh == 4);
        if (r > 0)
            CU_ASSERT(fresh == (r % 3 == 0 ? 0u : 1u));
        /* an extra (event) call makes no forced unchoke */
        uint8_t first[MAXP];
        memcpy(first, h.kind, sizeof(first));
        h_call(&h, false);
        CU_ASSERT(memcmp(first, h.kind, h.n) == 0); /* a turn stays optimistic in its round */
    }
    for (size_t i = 0; i < 10; i++)
        CU_ASSERT(turns[i] >= 4); /* everybody gets a turn: 30*4/10 = 12 on average */
    h_free(&h);
}

/* Seed mode: pending requests keep a peer; among old unchokes the fastest is kept. */
static void test_seed_ranking(void)
{
    harness h;
    h_init(&h, 6, 5, 4, true);
    for (int r = 0; r < 6; r++)
        h_round(&h);
    /* now make the oldest unchoked peers distinguishable */
    size_t a = MAXP;
    for (size_t i = 0; i < 6; i++) {
        if (h.unchoke[i])
            a = i;
    }
    CU_ASSERT_FATAL(a != MAXP);
    h.peers[a].pending_requests = 3;
    h.peers[a].up_rate = 0;
    for (int r = 0; r < 9; r++) {
        h_round(&h);
        CU_ASSERT(h.unchoke[a]); /* pending requests: always kept */
        CU_ASSERT(count_unchoked(&h, true) == 4);
    }
    h_free(&h);
}

/* libtorrent test_optimistic_unchoke-like fairness: 20 idle interested peers (rate 0), 4
 * slots, 600 rounds; mean 600*4/20 = 120 rounds unchoked each. Leeching, the rotation list
 * gives idle peers strict turns: every peer within 10% of the mean (observed: exactly 120).
 * Seeding, mainline ranks old unchokes by list position, so tenures differ: within -15%/+35%
 * (observed 111..157). */
static void test_fairness(void)
{
    for (int seeding = 0; seeding < 2; seeding++) {
        uint32_t lo = seeding ? 102 : 108, hi = seeding ? 162 : 132;
        for (uint64_t seed = 1; seed <= 5; seed++) {
            harness h;
            h_init(&h, 20, seed, 4, seeding != 0);
            uint32_t turns[20] = {0}, sum = 0;
            for (int r = 0; r < 600; r++) {
                h_round(&h);
                for (size_t i = 0; i < 20; i++)
                    turns[i] += h.unchoke[i];
            }
            for (size_t i = 0; i < 20; i++) {
                CU_ASSERT(turns[i] >= lo && turns[i] <= hi);
                sum += turns[i];
            }
            CU_ASSERT(sum == 600 * 4);
            h_free(&h);
        }
    }
}

/* BitTornado placement: a new connection lands in front with probability 3/(n+3). */
static void test_new_peer_weight(void)
{
    const uint32_t trials = 20000;
    for (size_t n = 0; n <= 9; n += 9) {
        uint32_t front = 0;
        for (uint32_t t = 0; t < trials; t++) {
            harness h;
            h_init(&h, n, t, 1, false);
            h.peers[n] = (bt_choke_peer){.id = id_of(n), .choked = true, .interested = true};
            h.n = n + 1;
            CU_ASSERT_FATAL(h.ops->peer_added(h.state, id_of(n), &h.rng, bt_mem_default()) == 0);
            h_round(&h); /* round 0: the front choked, interested peer is the optimistic */
            front += h.unchoke[n];
            h_free(&h);
        }
        if (n == 0) {
            CU_ASSERT(front == trials);
        } else {
            /* expected 3/12 = 0.25 (uniform placement would give 0.1); sd 0.003 */
            CU_ASSERT(front > trials * 23 / 100 && front < trials * 27 / 100);
        }
    }
}

/* reference-upload while leeching: the very same decisions as reference (same seeds, stats
 * that change every round, extra calls in between). */
static void test_upload_leeching_same(void)
{
    harness a, b;
    h_init_ops(&a, &bt_choker_reference, 16, 7, 4, false);
    h_init_ops(&b, &bt_choker_reference_upload, 16, 7, 4, false);
    uint32_t changes = 0;
    bt_pcg32 stats;
    bt_pcg32_seed(&stats, 99, 1);
    for (int r = 0; r < 40; r++) {
        for (size_t i = 0; i < 16; i++) {
            uint64_t d = bt_pcg32_below(&stats, 5000), u = bt_pcg32_below(&stats, 5000);
            bool snub = bt_pcg32_below(&stats, 8) == 0, in = bt_pcg32_below(&stats, 6) != 0;
            harness *hs[2] = {&a, &b};
            for (int k = 0; k < 2; k++) {
                hs[k]->peers[i].down_rate = d;
                hs[k]->peers[i].up_rate = u;
                hs[k]->peers[i].snubbed = snub;
                hs[k]->peers[i].interested = in;
            }
        }
        uint8_t before[MAXP];
        memcpy(before, a.unchoke, sizeof(before));
        h_call(&a, r % 4 != 3);
        h_call(&b, r % 4 != 3);
        CU_ASSERT(memcmp(a.kind, b.kind, 16) == 0);
        changes += memcmp(before, a.unchoke, 16) != 0;
    }
    CU_ASSERT(changes > 10); /* the stats did move the decisions */
    h_free(&a);
    h_free(&b);
}

/* reference-upload while seeding: the slots-1 interested non-seed peers we upload to fastest
 * are the regular unchokes, whether snubbed or not; one optimistic unchoke rotated every 3rd
 * periodic round; seeds and uninterested peers never regular. reference (round robin) on the
 * same states rotates the slots among everybody instead. */
static void test_upload_seeding(void)
{
    harness h, rr;
    h_init_ops(&h, &bt_choker_reference_upload, 12, 8, 4, true);
    h_init_ops(&rr, &bt_choker_reference, 12, 8, 4, true);
    harness *hs[2] = {&h, &rr};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < 12; i++)
            hs[k]->peers[i].up_rate = 10 + i; /* slow, distinct */
        hs[k]->peers[3].up_rate = 7000;
        hs[k]->peers[3].snubbed = true; /* a seed downloads nothing: snubbing is moot */
        hs[k]->peers[6].up_rate = 6000;
        hs[k]->peers[9].up_rate = 5000;
        hs[k]->peers[0].up_rate = 9000; /* fastest, but a seed itself */
        hs[k]->peers[0].is_seed = true;
        hs[k]->peers[1].up_rate = 8000; /* fast, not interested */
        hs[k]->peers[1].interested = false;
    }
    size_t opt[30];
    uint32_t rr_fast = 0, rr_slow = 0;
    for (int r = 0; r < 30; r++) {
        h_call(&h, true);
        uint8_t first[MAXP];
        memcpy(first, h.kind, sizeof(first));
        h_call(&h, false); /* an extra call changes nothing */
        CU_ASSERT(memcmp(first, h.kind, h.n) == 0);
        CU_ASSERT(h.kind[3] == BT_UNCHOKE_REGULAR && h.kind[6] == BT_UNCHOKE_REGULAR &&
                  h.kind[9] == BT_UNCHOKE_REGULAR);
        CU_ASSERT(h.unchoke[0] == 0);
        CU_ASSERT(h.kind[1] != BT_UNCHOKE_REGULAR);
        CU_ASSERT(count_unchoked(&h, true) == 4);
        size_t who = MAXP, n_opt = 0;
        for (size_t i = 0; i < 12; i++) {
            if (h.kind[i] == BT_UNCHOKE_OPTIMISTIC && h.peers[i].interested) {
                who = i;
                n_opt++;
            }
        }
        CU_ASSERT_FATAL(n_opt == 1);
        opt[r] = who;
        if (r > 0)
            CU_ASSERT((opt[r] == opt[r - 1]) == (r % 3 != 0));
        h_round(&rr);
        rr_fast += rr.unchoke[3] + rr.unchoke[6] + rr.unchoke[9];
        rr_slow += rr.unchoke[2] + rr.unchoke[4] + rr.unchoke[5];
        CU_ASSERT(rr.unchoke[0] == 0);
    }
    /* round robin: the fast peers hold no lasting advantage, the slow ones get turns */
    CU_ASSERT(rr_fast < 3 * 30 && rr_slow > 0);
    /* a peer that becomes fast takes a regular slot from the slowest regular */
    h.peers[11].up_rate = 6500;
    h_round(&h);
    CU_ASSERT(h.kind[11] == BT_UNCHOKE_REGULAR && h.kind[3] == BT_UNCHOKE_REGULAR &&
              h.kind[6] == BT_UNCHOKE_REGULAR && h.kind[9] != BT_UNCHOKE_REGULAR);
    h_free(&h);
    h_free(&rr);
}

/* reference-upload seeding with idle peers (rate 0): ties follow the rotation list, so the
 * idle peers take turns, as when leeching (600 rounds, 20 peers, 4 slots: 120 each). */
static void test_upload_fairness(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        harness h;
        h_init_ops(&h, &bt_choker_reference_upload, 20, seed, 4, true);
        uint32_t turns[20] = {0}, sum = 0;
        for (int r = 0; r < 600; r++) {
            h_round(&h);
            for (size_t i = 0; i < 20; i++)
                turns[i] += h.unchoke[i];
        }
        for (size_t i = 0; i < 20; i++) {
            CU_ASSERT(turns[i] >= 108 && turns[i] <= 132);
            sum += turns[i];
        }
        CU_ASSERT(sum == 600 * 4);
        h_free(&h);
    }
}

static void test_peer_set(void)
{
    harness h;
    h_init(&h, 5, 6, 4, false);
    CU_ASSERT(ops->peer_added(h.state, id_of(2), &h.rng, bt_mem_default()) == BT_ERR_EXISTS);
    ops->peer_removed(h.state, 9999); /* unknown: no-op */
    ops->peer_removed(h.state, id_of(1));
    /* a peer never added (or removed) is never unchoked */
    for (int r = 0; r < 6; r++) {
        h_round(&h);
        CU_ASSERT(h.unchoke[1] == 0);
        CU_ASSERT(count_unchoked(&h, true) == 4);
    }
    /* list entries missing from |peers| are skipped */
    h.n = 3;
    h_round(&h);
    CU_ASSERT(count_unchoked(&h, true) == 2);
    h_free(&h);
    /* allocation failure */
    for (long i = 0; i < 8; i++) {
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
        for (bt_conn_id id = 0; id < 40; id++)
            fails += ops->peer_added(st, id, &rng, &fm.mem) == BT_ERR_NOMEM;
        CU_ASSERT(fails > 0);
        ops->del(st, &fm.mem);
    }
}

int test_choker_add_suite(void)
{
    CU_pSuite s = CU_add_suite("choker", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "registry", test_registry) == NULL ||
        CU_add_test(s, "auto slots", test_auto_slots) == NULL ||
        CU_add_test(s, "regular slots", test_regular_slots) == NULL ||
        CU_add_test(s, "optimistic rotation", test_optimistic_rotation) == NULL ||
        CU_add_test(s, "min uploads and slots", test_min_uploads_and_slots) == NULL ||
        CU_add_test(s, "seed mode", test_seed_mode) == NULL ||
        CU_add_test(s, "seed ranking", test_seed_ranking) == NULL ||
        CU_add_test(s, "fairness", test_fairness) == NULL ||
        CU_add_test(s, "new peer weight", test_new_peer_weight) == NULL ||
        CU_add_test(s, "reference-upload leeching", test_upload_leeching_same) == NULL ||
        CU_add_test(s, "reference-upload seeding", test_upload_seeding) == NULL ||
        CU_add_test(s, "reference-upload fairness", test_upload_fairness) == NULL ||
        CU_add_test(s, "peer set", test_peer_set) == NULL)
        return 1;
    return 0;
}
