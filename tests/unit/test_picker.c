/* tests/unit/test_picker.c: unit tests for the piece picker (engine/bt_picker.c): geometry,
 * availability order, strategies, strict priority, endgame, verification, allocation failure
 * and a full simulated download. Never touches the network or the clock. */
#include "bt_mem.h"
#include "bt_picker.h"
#include "failmem.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

extern int test_picker_add_suite(void); /* extern: the suite grep matches once */

#define KB16 16384u

/* ---- helpers ---- */

static bt_picker_config cfg_of(uint32_t npieces, uint32_t piece_len, bt_pick_strategy s)
{
    return (bt_picker_config){.npieces = npieces,
                              .piece_len = piece_len,
                              .total_len = (uint64_t)npieces * piece_len,
                              .block_len = KB16,
                              .strategy = s,
                              .random_first = 0,
                              .endgame_dups = 2};
}

static bt_picker *mk(const bt_picker_config *c, bt_pcg32 *rng, uint64_t seed)
{
    bt_pcg32_seed(rng, seed, 7);
    bt_picker *pk = NULL;
    CU_ASSERT_FATAL(bt_picker_new(&pk, c, rng, bt_mem_default()) == 0);
    CU_ASSERT_FATAL(pk != NULL);
    return pk;
}

static void bf_of(bt_bitfield *bf, uint32_t n, const uint32_t *set, size_t k)
{
    CU_ASSERT_FATAL(bt_bitfield_init(bf, n, bt_mem_default()) == 0);
    for (size_t i = 0; i < k; i++)
        bt_bitfield_set(bf, set[i]);
}

/* Receives and verifies every block of |b[0..n)| from |who|. */
static void deliver(bt_picker *pk, const bt_block *b, uint32_t n, bt_conn_id who, bool ok)
{
    for (uint32_t i = 0; i < n; i++) {
        bt_pick_received res;
        CU_ASSERT(bt_picker_received(pk, &b[i], who, who, &res) == 0);
        if (res.piece_done)
            bt_picker_verified(pk, b[i].piece, ok);
    }
}

/* ---- tests ---- */

static void test_config_and_names(void)
{
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 1, 1);
    bt_picker *pk = (bt_picker *)&rng;
    bt_picker_config c = cfg_of(4, 32768, BT_PICK_RAREST_FIRST);
    bt_picker_config bad[8];
    for (int i = 0; i < 8; i++)
        bad[i] = c;
    bad[0].npieces = 0;
    bad[1].piece_len = 0;
    bad[2].block_len = 0;
    bad[3].endgame_dups = 0;
    bad[4].endgame_dups = BT_PICKER_MAX_DUPS + 1;
    bad[5].total_len = 3 * 32768;     /* last piece would be empty */
    bad[6].total_len = 4 * 32768 + 1; /* last piece longer than piece_len */
    bad[7].strategy = (bt_pick_strategy)9;
    for (int i = 0; i < 8; i++) {
        CU_ASSERT(bt_picker_new(&pk, &bad[i], &rng, bt_mem_default()) == BT_ERR_INVALID);
        CU_ASSERT(pk == NULL);
    }
    bt_pick_strategy s = BT_PICK_RAREST_FIRST;
    CU_ASSERT(bt_pick_strategy_parse("sequential", &s) == 0 && s == BT_PICK_SEQUENTIAL);
    CU_ASSERT(bt_pick_strategy_parse("random", &s) == 0 && s == BT_PICK_RANDOM);
    CU_ASSERT(bt_pick_strategy_parse("rarest-first", &s) == 0 && s == BT_PICK_RAREST_FIRST);
    CU_ASSERT(bt_pick_strategy_parse("rarest", &s) == BT_ERR_NOTFOUND);
    CU_ASSERT(bt_pick_strategy_parse(NULL, &s) == BT_ERR_NOTFOUND);
    CU_ASSERT_STRING_EQUAL(bt_pick_strategy_name(BT_PICK_RANDOM), "random");
    bt_picker_del(NULL);
}

static void test_geometry(void)
{
    bt_pcg32 rng;
    bt_picker_config c = cfg_of(4, 32768, BT_PICK_SEQUENTIAL);
    c.total_len = 100000;
    bt_picker *pk = mk(&c, &rng, 1);
    CU_ASSERT(bt_picker_piece_size(pk, 0) == 32768);
    CU_ASSERT(bt_picker_piece_size(pk, 3) == 100000 - 3 * 32768);
    CU_ASSERT(bt_picker_blocks_in_piece(pk, 2) == 2);
    CU_ASSERT(bt_picker_blocks_in_piece(pk, 3) == 1);
    CU_ASSERT(bt_picker_bytes_left(pk) == 100000);
    bt_picker_inc_seed(pk);
    bt_block b[16];
    uint32_t n = bt_picker_pick(pk, NULL, NULL, 1, b, 16);
    CU_ASSERT_FATAL(n == 7);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        CU_ASSERT(b[i].piece == i / 2);
        CU_ASSERT(b[i].begin == (i % 2) * KB16);
        sum += b[i].length;
    }
    CU_ASSERT(sum == 100000);
    CU_ASSERT(b[6].length == 1696 && b[6].begin == 0 && b[6].piece == 3);
    /* a wrong length for the short last block is not a block of ours */
    bt_block wrong = {3, 0, KB16};
    bt_pick_received res;
    CU_ASSERT(bt_picker_received(pk, &wrong, 1, 1, &res) == BT_ERR_NOTFOUND);
    deliver(pk, b, n, 1, true);
    CU_ASSERT(bt_picker_complete(pk));
    CU_ASSERT(bt_picker_bytes_left(pk) == 0);
    CU_ASSERT(!bt_picker_in_endgame(pk));
    CU_ASSERT(bt_picker_pick(pk, NULL, NULL, 1, b, 16) == 0);
    CU_ASSERT(bt_picker_check(pk) == 0);
    bt_picker_del(pk);
}

static void test_availability(void)
{
    bt_pcg32 rng;
    bt_picker_config c = cfg_of(10, KB16, BT_PICK_RAREST_FIRST);
    bt_picker *pk = mk(&c, &rng, 2);
    bt_picker_inc(pk, 3);
    bt_picker_inc(pk, 3);
    bt_picker_inc(pk, 4);
    CU_ASSERT(bt_picker_availability(pk, 3) == 2);
    CU_ASSERT(bt_picker_availability(pk, 4) == 1);
    CU_ASSERT(bt_picker_availability(pk, 5) == 0);
    bt_picker_dec(pk, 3);
    CU_ASSERT(bt_picker_availability(pk, 3) == 1);
    bt_picker_inc_seed(pk);
    CU_ASSERT(bt_picker_availability(pk, 5) == 1 && bt_picker_availability(pk, 3) == 2);
    bt_bitfield part, full;
    const uint32_t some[] = {1, 3, 9};
    bf_of(&part, 10, some, 3);
    bf_of(&full, 10, NULL, 0);
    bt_bitfield_set_all(&full);
    bt_picker_inc_bitfield(pk, &part);
    CU_ASSERT(bt_picker_availability(pk, 1) == 2 && bt_picker_availability(pk, 9) == 2);
    CU_ASSERT(bt_picker_availability(pk, 3) == 3 && bt_picker_availability(pk, 0) == 1);
    bt_picker_inc_bitfield(pk, &full); /* a seed: O(1) */
    CU_ASSERT(bt_picker_availability(pk, 0) == 2 && bt_picker_availability(pk, 3) == 4);
    CU_ASSERT(bt_picker_check(pk) == 0);
    bt_picker_dec_bitfield(pk, &full);
    bt_picker_dec_bitfield(pk, &part);
    CU_ASSERT(bt_picker_availability(pk, 1) == 1 && bt_picker_availability(pk, 3) == 2);
    /* a peer that became a seed through haves */
    bt_picker_inc_bitfield(pk, &part);
    for (uint32_t p = 0; p < 10; p++) {
        if (bt_bitfield_set(&part, p))
            bt_picker_inc(pk, p);
    }
    bt_picker_promote_seed(pk, &part);
    CU_ASSERT(bt_picker_availability(pk, 0) == 2 && bt_picker_availability(pk, 3) == 3);
    bt_picker_dec_bitfield(pk, &part);
    bt_picker_dec_seed(pk);
    CU_ASSERT(bt_picker_availability(pk, 3) == 1 && bt_picker_availability(pk, 4) == 1);
    CU_ASSERT(bt_picker_availability(pk, 0) == 0);
    /* many peers: buckets grow past the initial size */
    for (int i = 0; i < 100; i++)
        bt_picker_inc(pk, 7);
    CU_ASSERT(bt_picker_availability(pk, 7) == 100);
    CU_ASSERT(bt_picker_check(pk) == 0);
    for (int i = 0; i < 100; i++)
        bt_picker_dec(pk, 7);
    CU_ASSERT(bt_picker_check(pk) == 0);
    bt_bitfield_free(&part, bt_mem_default());
    bt_bitfield_free(&full, bt_mem_default());
    bt_picker_del(pk);
}

static void test_rarest_first(void)
{
    bt_pcg32 rng;
    bt_picker_config c = cfg_of(50, KB16, BT_PICK_RAREST_FIRST);
    bt_picker *pk = mk(&c, &rng, 3);
    /* availability of piece p is 1 + (p * 7) % 5, plus extra copies for a few */
    for (uint32_t p = 0; p < 50; p++) {
        for (uint32_t k = 0; k < 1 + (p * 7) % 5; k++)
            bt_picker_inc(pk, p);
    }
    /* the peer lacks every piece of availability 1 except 20 and 45 */
    bt_bitfield has;
    bf_of(&has, 50, NULL, 0);
    for (uint32_t p = 0; p < 50; p++) {
        if (bt_picker_availability(pk, p) > 1 || p == 20 || p == 45)
            bt_bitfield_set(&has, p);
    }
    CU_ASSERT(bt_picker_availability(pk, 20) == 1 && bt_picker_availability(pk, 45) == 1);
    bt_block b[50];
    uint32_t n = bt_picker_pick(pk, &has, NULL, 9, b, 2);
    CU_ASSERT_FATAL(n == 2);
    CU_ASSERT((b[0].piece == 20 && b[1].piece == 45) || (b[0].piece == 45 && b[1].piece == 20));
    /* the rest come in non-decreasing availability */
    n = bt_picker_pick(pk, &has, NULL, 9, b, 50);
    CU_ASSERT(n == has.count - 2);
    for (uint32_t i = 1; i < n; i++) {
        CU_ASSERT(bt_picker_availability(pk, b[i - 1].piece) <=
                  bt_picker_availability(pk, b[i].piece));
        CU_ASSERT(bt_bitfield_get(&has, b[i].piece));
    }
    CU_ASSERT(bt_picker_check(pk) == 0);
    bt_bitfield_free(&has, bt_mem_default());
    bt_picker_del(pk);
}

static void test_ties_random(void)
{
    uint32_t hits[10] = {0};
    for (uint64_t seed = 0; seed < 600; seed++) {
        bt_pcg32 rng;
        bt_picker_config c = cfg_of(10, KB16, BT_PICK_RAREST_FIRST);
        bt_picker *pk = mk(&c, &rng, seed);
        for (uint32_t p = 0; p < 10; p++) {
            uint32_t copies = (p == 2 || p == 5 || p == 7) ? 1 : 3;
            for (uint32_t k = 0; k < copies; k++)
                bt_picker_inc(pk, p);
        }
        bt_block b;
        CU_ASSERT_FATAL(bt_picker_pick(pk, NULL, NULL, 1, &b, 1) == 1);
        hits[b.piece]++;
        bt_picker_del(pk);
    }
    CU_ASSERT(hits[2] + hits[5] + hits[7] == 600);
    /* each tied piece about 200 of 600: accept 140..260 (about 5 sigma) */
    CU_ASSERT(hits[2] > 140 && hits[2] < 260);
    CU_ASSERT(hits[5] > 140 && hits[5] < 260);
    CU_ASSERT(hits[7] > 140 && hits[7] < 260);
}

static void test_zero_availability(void)
{
    bt_pcg32 rng;
    for (int s = 0; s < 3; s++) {
        bt_picker_config c = cfg_of(8, KB16, (bt_pick_strategy)s);
        c.random_first = 4;
        bt_picker *pk = mk(&c, &rng, 4);
        bt_picker_inc(pk, 6);
        bt_block b[8];
        /* a seed we have not counted: only piece 6 has a known copy */
        uint32_t n = bt_picker_pick(pk, NULL, NULL, 1, b, 8);
        CU_ASSERT(n == 1 && b[0].piece == 6);
        CU_ASSERT(bt_picker_pick(pk, NULL, NULL, 2, b, 8) == 0);
        CU_ASSERT(!bt_picker_in_endgame(pk));
        bt_picker_inc_seed(pk); /* now every piece has a copy */
        /* seven new pieces, then (endgame) a second requester for piece 6 */
        CU_ASSERT(bt_picker_pick(pk, NULL, NULL, 2, b, 8) == 8);
        CU_ASSERT(b[7].piece == 6);
        CU_ASSERT(bt_picker_in_endgame(pk));
        CU_ASSERT(bt_picker_check(pk) == 0);
        bt_picker_del(pk);
    }
}

static void test_partial_first(void)
{
    bt_pcg32 rng;
    bt_picker_config c = cfg_of(20, 4 * KB16, BT_PICK_RAREST_FIRST);
    bt_picker *pk = mk(&c, &rng, 5);
    for (uint32_t p = 0; p < 20; p++)
        bt_picker_inc(pk, p);
    bt_picker_inc(pk, 11);
    bt_picker_inc(pk, 12);
    bt_block a[8], b[8];
    /* A takes 1 block of piece x and 3 of piece y */
    const uint32_t x_only[] = {11}, y_only[] = {12};
    bt_bitfield hx, hy;
    bf_of(&hx, 20, x_only, 1);
    bf_of(&hy, 20, y_only, 1);
    CU_ASSERT(bt_picker_pick(pk, &hx, NULL, 1, a, 1) == 1 && a[0].piece == 11);
    CU_ASSERT(bt_picker_pick(pk, &hy, NULL, 1, a, 3) == 3 && a[0].piece == 12);
    /* B (a seed) gets the open pieces first even though others are rarer: piece 12 (one
     * unrequested block left) before 11 (three left), then a new piece */
    uint32_t n = bt_picker_pick(pk, NULL, NULL, 2, b, 5);
    CU_ASSERT_FATAL(n == 5);
    CU_ASSERT(b[0].piece == 12 && b[0].begin == 3 * KB16);
    CU_ASSERT(b[1].piece == 11 && b[2].piece == 11 && b[3].piece == 11);
    CU_ASSERT(b[4].piece != 11 && b[4].piece != 12);
    /* a cancelled block reopens its piece and is picked next */
    bt_picker_cancel(pk, &b[2], 2);
    CU_ASSERT(bt_picker_check(pk) == 0);
    CU_ASSERT(bt_picker_pick(pk, NULL, NULL, 3, b, 1) == 1);
    CU_ASSERT(b[0].piece == 11 && b[0].begin == 2 * KB16);
    /* cancels of unknown requesters or blocks are ignored */
    bt_picker_cancel(pk, &b[0], 77);
    bt_block junk = {11, 5, KB16};
    bt_picker_cancel(pk, &junk, 3);
    CU_ASSERT(bt_picker_check(pk) == 0);
    bt_bitfield_free(&hx, bt_mem_default());
    bt_bitfield_free(&hy, bt_mem_default());
    bt_picker_del(pk);
}

static void test_random_first(void)
{
    uint32_t rare_early = 0, rare_late = 0;
    for (uint64_t seed = 0; seed < 200; seed++) {
        bt_pcg32 rng;
        bt_picker_config c = cfg_of(50, KB16, BT_PICK_RAREST_FIRST);
        c.random_first = 4;
        bt_picker *pk = mk(&c, &rng, seed);
        for (uint32_t p = 0; p < 50; p++) {
            for (uint32_t k = 0; k < (p == 0 ? 1u : 5u); k++)
                bt_picker_inc(pk, p);
        }
        bt_block b;
        CU_ASSERT_FATAL(bt_picker_pick(pk, NULL, NULL, 1, &b, 1) == 1);
        rare_early += b.piece == 0;
        deliver(pk, &b, 1, 1, true);
        for (uint32_t p = 49; bt_picker_have_bits(pk)->count < 4; p--)
            bt_picker_set_have(pk, p);
        if (b.piece != 0) {
            CU_ASSERT_FATAL(bt_picker_pick(pk, NULL, NULL, 1, &b, 1) == 1);
            rare_late += b.piece == 0;
        }
        CU_ASSERT(bt_picker_check(pk) == 0);
        bt_picker_del(pk);
    }
    /* uniform among 50: piece 0 about 4 times in 200; rarest first afterwards: always */
    CU_ASSERT(rare_early < 20);
    CU_ASSERT(rare_late == 200 - rare_early);
}

static void test_sequential(void)
{
    bt_pcg32 rng;
    bt_picker_config c = cfg_of(12, KB16, BT_PICK_SEQUENTIAL);
    bt_picker *pk = mk(&c, &rng, 6);
    const uint32_t pieces[] = {1, 2, 4, 5, 8, 11};
    bt_bitfield has;
    bf_of(&has, 12, pieces, 6);
    bt_picker_inc_bitfield(pk, &has);
    bt_block b[12];
    CU_ASSERT_FATAL(bt_picker_pick(pk, &has, NULL, 1, b, 3) == 3);
    CU_ASSERT(b[0].piece == 1 && b[1].piece == 2 && b[2].piece == 4);
    deliver(pk, b, 1, 1, true);      /* piece 1 verified */
    deliver(pk, b + 1, 1, 1, false); /* piece 2 fails: back to missing */
    CU_ASSERT(bt_picker_have(pk, 1) && !bt_picker_have(pk, 2));
    CU_ASSERT_FATAL(bt_picker_pick(pk, &has, NULL, 1, b, 12) == 4);
    CU_ASSERT(b[0].piece == 2 && b[1].piece == 5 && b[2].piece == 8 && b[3].piece == 11);
    CU_ASSERT(bt_picker_check(pk) == 0);
    bt_bitfield_free(&has, bt_mem_default());
    bt_picker_del(pk);
}

static void test_random_strategy(void)
{
    uint32_t hits[20] = {0}, few[20] = {0};
    for (uint64_t seed = 0; seed < 2000; seed++) {
        bt_pcg32 rng;
        bt_picker_config c = cfg_of(20, KB16, BT_PICK_RANDOM);
        bt_picker *pk = mk(&c, &rng, seed);
        bt_picker_inc_seed(pk);
        for (uint32_t p = 0; p < 10; p++)
            bt_picker_inc(pk, p); /* availability must not matter */
        bt_block b[2];
        CU_ASSERT_FATAL(bt_picker_pick(pk, NULL, NULL, 1, b, 1) == 1);
        hits[b[0].piece]++;
        const uint32_t two[] = {3, 17};
        bt_bitfield has;
        bf_of(&has, 20, two, 2);
        if (b[0].piece != 3 && b[0].piece != 17) {
            CU_ASSERT_FATAL(bt_picker_pick(pk, &has, NULL, 2, b, 1) == 1);
            few[b[0].piece]++;
        }
        bt_bitfield_free(&has, bt_mem_default());
        bt_picker_del(pk);
    }
    for (uint32_t p = 0; p < 20; p++)
        CU_ASSERT(hits[p] > 50 && hits[p] < 150); /* mean 100 */
    CU_ASSERT(few[3] + few[17] == 2000 - hits[3] - hits[17]);
    CU_ASSERT(few[3] > 700 && few[17] > 700);
}

static void test_allowed_only(void)
{
    bt_pcg32 rng;
    for (int s = 0; s < 3; s++) {
        bt_picker_config c = cfg_of(30, KB16, (bt_pick_strategy)s);
        bt_picker *pk = mk(&c, &rng, 8);
        bt_picker_inc_seed(pk);
        bt_picker_inc(pk, 21);
        const uint32_t al[] = {4, 21, 25};
        bt_bitfield allowed;
        bf_of(&allowed, 30, al, 3);
        bt_block b[8];
        uint32_t n = bt_picker_pick(pk, NULL, &allowed, 1, b, 8);
        CU_ASSERT_FATAL(n == 3);
        for (uint32_t i = 0; i < n; i++)
            CU_ASSERT(bt_bitfield_get(&allowed, b[i].piece));
        if (s == BT_PICK_SEQUENTIAL)
            CU_ASSERT(b[0].piece == 4 && b[1].piece == 21 && b[2].piece == 25);
        if (s == BT_PICK_RAREST_FIRST)
            CU_ASSERT(b[2].piece == 21); /* the most common comes last */
        CU_ASSERT(bt_picker_pick(pk, NULL, &allowed, 1, b, 8) == 0);
        CU_ASSERT(bt_picker_check(pk) == 0);
        bt_bitfield_free(&allowed, bt_mem_default());
        bt_picker_del(pk);
    }
}

static void test_endgame(void)
{
    bt_pcg32 rng;
    bt_picker_config c = cfg_of(2, 2 * KB16, BT_PICK_RAREST_FIRST);
    c.endgame_dups = 3;
    bt_picker *pk = mk(&c, &rng, 9);
    bt_picker_inc_seed(pk);
    bt_block a[8], b[8], d[8];
    CU_ASSERT(!bt_picker_in_endgame(pk));
    CU_ASSERT_FATAL(bt_picker_pick(pk, NULL, NULL, 1, a, 8) == 4);
    CU_ASSERT(bt_picker_in_endgame(pk));
    CU_ASSERT(bt_picker_pick(pk, NULL, NULL, 1, a + 4, 4) == 0); /* never twice by A */
    CU_ASSERT_FATAL(bt_picker_pick(pk, NULL, NULL, 2, b, 8) == 4);
    bt_picker_cancel(pk, &b[3], 2); /* block 3 back to one requester */
    CU_ASSERT(bt_picker_pick(pk, NULL, NULL, 3, d, 1) == 1);
    CU_ASSERT(d[0].piece == b[3].piece && d[0].begin == b[3].begin); /* fewest requesters */
    CU_ASSERT(bt_picker_pick(pk, NULL, NULL, 3, d + 1, 8) == 3);
    CU_ASSERT(bt_picker_pick(pk, NULL, NULL, 4, d, 8) == 1); /* the one with 2 requesters */
    CU_ASSERT(d[0].piece == b[3].piece && d[0].begin == b[3].begin);
    CU_ASSERT(bt_picker_pick(pk, NULL, NULL, 5, d, 8) == 0); /* all at 3 requesters */
    CU_ASSERT(bt_picker_check(pk) == 0);
    bt_pick_received res;
    CU_ASSERT(bt_picker_received(pk, &a[0], 3, 30, &res) == 0);
    CU_ASSERT(res.fresh && !res.piece_done);
    CU_ASSERT_FATAL(res.ncancel == 2);
    CU_ASSERT((res.cancel[0] == 1 && res.cancel[1] == 2) ||
              (res.cancel[0] == 2 && res.cancel[1] == 1));
    /* the late duplicate is not fresh and cancels nothing */
    CU_ASSERT(bt_picker_received(pk, &a[0], 1, 10, &res) == 0);
    CU_ASSERT(!res.fresh && res.ncancel == 0);
    CU_ASSERT(bt_picker_received(pk, &a[1], 1, 10, &res) == 0);
    CU_ASSERT(res.fresh && res.piece_done && res.ncancel == 2);
    uint32_t src[4];
    CU_ASSERT(bt_picker_sources(pk, a[0].piece, src, 4) == 2);
    CU_ASSERT(src[0] == 10 && src[1] == 30);
    CU_ASSERT(bt_picker_sources(pk, a[0].piece, src, 1) == 2 && src[0] == 10);
    bt_picker_verified(pk, a[0].piece, true);
    CU_ASSERT(bt_picker_sources(pk, a[0].piece, src, 4) == 0);
    CU_ASSERT(bt_picker_in_endgame(pk));
    CU_ASSERT(bt_picker_check(pk) == 0);
    bt_picker_del(pk);
}

static void test_verify_fail(void)
{
    bt_pcg32 rng;
    bt_picker_config c = cfg_of(3, 2 * KB16, BT_PICK_RAREST_FIRST);
    bt_picker *pk = mk(&c, &rng, 10);
    bt_picker_inc_seed(pk);
    bt_picker_inc(pk, 0);
    bt_picker_inc(pk, 2);
    bt_block b[8];
    CU_ASSERT_FATAL(bt_picker_pick(pk, NULL, NULL, 1, b, 2) == 2 && b[0].piece == 1);
    bt_pick_received res;
    CU_ASSERT(bt_picker_received(pk, &b[0], 1, 5, &res) == 0 && !res.piece_done);
    CU_ASSERT(bt_picker_received(pk, &b[1], 1, 4, &res) == 0 && res.piece_done);
    bt_picker_verified(pk, 0, true); /* not started: ignored */
    CU_ASSERT(!bt_picker_have(pk, 0));
    uint32_t src[4];
    CU_ASSERT(bt_picker_sources(pk, 1, src, 4) == 2 && src[0] == 4 && src[1] == 5);
    bt_picker_verified(pk, 1, false);
    CU_ASSERT(!bt_picker_have(pk, 1));
    CU_ASSERT(bt_picker_bytes_left(pk) == 3 * 2 * KB16);
    CU_ASSERT(bt_picker_check(pk) == 0);
    /* data for a piece back in the pool is unrequested */
    CU_ASSERT(bt_picker_received(pk, &b[0], 1, 5, &res) == BT_ERR_NOTFOUND);
    CU_ASSERT(bt_picker_pick(pk, NULL, NULL, 1, b, 2) == 2 && b[0].piece == 1);
    deliver(pk, b, 2, 1, true);
    CU_ASSERT(bt_picker_have(pk, 1));
    CU_ASSERT(bt_picker_bytes_left(pk) == 2 * 2 * KB16);
    /* hostile blocks, also for started pieces */
    CU_ASSERT(bt_picker_pick(pk, NULL, NULL, 1, b, 4) == 4);
    bt_block bad[] = {
        {1, 0, KB16}, {9, 0, KB16}, {0, 1, KB16}, {2, 2 * KB16, KB16}, {2, 0, KB16 - 1}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT(bt_picker_received(pk, &bad[i], 1, 1, &res) == BT_ERR_NOTFOUND);
    CU_ASSERT(bt_picker_check(pk) == 0);
    bt_picker_del(pk);
}

/* inc/dec on pieces in every state: pool, open, fully requested, received, had */
static void test_states(void)
{
    bt_pcg32 rng;
    bt_picker_config c = cfg_of(6, 2 * KB16, BT_PICK_RAREST_FIRST);
    bt_picker *pk = mk(&c, &rng, 11);
    for (uint32_t p = 0; p < 6; p++)
        bt_picker_inc(pk, p);
    bt_block b[8];
    const uint32_t only[] = {0, 1, 2, 3};
    bt_bitfield has;
    bf_of(&has, 6, only, 4);
    /* seq strategy would be simpler; here drive the states by hand */
    uint32_t n = bt_picker_pick(pk, &has, NULL, 1, b, 7);
    CU_ASSERT_FATAL(n == 7); /* three pieces fully requested, one open */
    bt_pick_received res;
    deliver(pk, b, 2, 1, true); /* first piece had */
    CU_ASSERT(bt_picker_received(pk, &b[2], 1, 1, &res) == 0);
    CU_ASSERT(bt_picker_received(pk, &b[3], 1, 1, &res) == 0 && res.piece_done);
    for (int round = 0; round < 40; round++) {
        for (uint32_t p = 0; p < 6; p++)
            bt_picker_inc(pk, p);
        CU_ASSERT(bt_picker_check(pk) == 0);
    }
    for (int round = 0; round < 40; round++) {
        for (uint32_t p = 0; p < 6; p++)
            bt_picker_dec(pk, p);
    }
    CU_ASSERT(bt_picker_check(pk) == 0);
    for (uint32_t p = 0; p < 6; p++)
        CU_ASSERT(bt_picker_availability(pk, p) == 1);
    bt_picker_verified(pk, b[2].piece, true);
    bt_picker_set_have(pk, b[4].piece); /* a fully requested piece */
    bt_picker_set_have(pk, 5);          /* a pool piece */
    bt_picker_set_have(pk, 5);
    CU_ASSERT(bt_picker_check(pk) == 0);
    /* the open piece, piece 4, then (endgame) the open piece's block requested by 1 */
    CU_ASSERT(bt_picker_pick(pk, NULL, NULL, 2, b, 8) == 4);
    CU_ASSERT(bt_picker_in_endgame(pk));
    CU_ASSERT(bt_picker_check(pk) == 0);
    bt_bitfield_free(&has, bt_mem_default());
    bt_picker_del(pk);
}

static void test_nomem(void)
{
    bt_picker_config c = cfg_of(40, 4 * KB16, BT_PICK_RANDOM);
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 1, 1);
    int ok = 0;
    for (long i = 0; i < 30; i++) {
        failmem fm;
        failmem_init(&fm, i);
        bt_picker *pk = NULL;
        int rc = bt_picker_new(&pk, &c, &rng, &fm.mem);
        CU_ASSERT(rc == 0 || (rc == BT_ERR_NOMEM && pk == NULL));
        if (rc != 0)
            continue;
        ok++;
        /* picks under failing allocation: fewer blocks, never a broken state */
        bt_picker_inc_seed(pk);
        bt_block b[16];
        for (int k = 0; k < 5; k++) {
            fm.left = k;
            uint32_t n = bt_picker_pick(pk, NULL, NULL, 1, b, 16);
            CU_ASSERT(n <= 16 && n % 4 == 0);
            CU_ASSERT(bt_picker_check(pk) == 0);
            deliver(pk, b, n, 1, k % 2 == 0);
            CU_ASSERT(bt_picker_check(pk) == 0);
        }
        /* no allocation possible: recycled block arrays run out, then picks return 0 */
        fm.left = 0;
        uint32_t n = 16, guard = 0;
        while (n > 0 && guard++ < 10)
            n = bt_picker_pick(pk, NULL, NULL, 1, b, 16);
        CU_ASSERT(n == 0 && !bt_picker_in_endgame(pk));
        CU_ASSERT(bt_picker_check(pk) == 0);
        fm.left = -1;
        CU_ASSERT(bt_picker_pick(pk, NULL, NULL, 1, b, 16) == 16);
        bt_picker_del(pk);
    }
    CU_ASSERT(ok > 0 && ok < 30);
    /* the availability buckets cannot grow: pieces saturate in the top bucket */
    failmem fm;
    failmem_init(&fm, -1);
    bt_picker *pk = NULL;
    bt_picker_config c2 = cfg_of(8, KB16, BT_PICK_RAREST_FIRST);
    CU_ASSERT_FATAL(bt_picker_new(&pk, &c2, &rng, &fm.mem) == 0);
    fm.left = 0;
    for (uint32_t k = 0; k < 40; k++) {
        for (uint32_t p = 0; p < 8; p++) {
            if (p <= k % 8)
                bt_picker_inc(pk, p);
        }
        CU_ASSERT(bt_picker_check(pk) == 0);
    }
    CU_ASSERT(bt_picker_availability(pk, 0) == 40 && bt_picker_availability(pk, 7) == 5);
    for (uint32_t k = 0; k < 31; k++)
        bt_picker_dec(pk, 0); /* 9: now the rarest */
    CU_ASSERT(bt_picker_check(pk) == 0);
    fm.left = -1;
    for (uint32_t k = 0; k < 40; k++)
        bt_picker_inc(pk, 7);
    CU_ASSERT(bt_picker_check(pk) == 0);
    bt_block b[8];
    CU_ASSERT(bt_picker_pick(pk, NULL, NULL, 1, b, 1) == 1 && b[0].piece == 0);
    CU_ASSERT(bt_picker_check(pk) == 0);
    bt_picker_del(pk);
}

/* ---- a simulated download with several fake peers ---- */

#define SIM_PEERS 6
#define SIM_QUEUE 64

typedef struct fake_peer {
    bt_bitfield has;
    bt_block q[SIM_QUEUE];
    uint32_t nq;
    bool gone;
} fake_peer;

static void fake_drop(fake_peer *f, const bt_block *b)
{
    for (uint32_t i = 0; i < f->nq; i++) {
        if (f->q[i].piece == b->piece && f->q[i].begin == b->begin) {
            memmove(&f->q[i], &f->q[i + 1], (f->nq - i - 1) * sizeof(f->q[0]));
            f->nq--;
            return;
        }
    }
}

typedef struct sim_stats {
    uint32_t fresh, dups_outside_endgame, fails, rounds;
} sim_stats;

/* Peer |i| delivers the oldest block it was asked for. */
static void fake_deliver(bt_picker *pk, fake_peer *peers, uint32_t i, bt_pcg32 *rng, sim_stats *st)
{
    fake_peer *f = &peers[i];
    if (f->nq == 0)
        return;
    bt_block b = f->q[0];
    bool endgame = bt_picker_in_endgame(pk);
    fake_drop(f, &b);
    bt_pick_received res;
    CU_ASSERT(bt_picker_received(pk, &b, i, i, &res) == 0);
    st->fresh += res.fresh;
    if (!res.fresh && !endgame)
        st->dups_outside_endgame++;
    for (uint32_t k = 0; k < res.ncancel; k++) {
        CU_ASSERT_FATAL(res.cancel[k] < SIM_PEERS && res.cancel[k] != i);
        fake_drop(&peers[res.cancel[k]], &b);
    }
    if (res.piece_done) {
        bool ok = bt_pcg32_below(rng, 20) != 0; /* 5% corrupt pieces */
        st->fails += !ok;
        if (!ok)
            st->fresh -= bt_picker_blocks_in_piece(pk, b.piece);
        bt_picker_verified(pk, b.piece, ok);
    }
}

static void sim_run(bt_pick_strategy strategy, uint64_t seed)
{
    bt_pcg32 rng, net;
    bt_picker_config c = cfg_of(60, 4 * KB16, strategy);
    c.total_len -= 5000;
    c.random_first = 4;
    c.endgame_dups = 2;
    bt_picker *pk = mk(&c, &rng, seed);
    bt_pcg32_seed(&net, seed, 99);
    fake_peer peers[SIM_PEERS];
    memset(peers, 0, sizeof(peers));
    for (uint32_t i = 0; i < SIM_PEERS; i++) {
        CU_ASSERT_FATAL(bt_bitfield_init(&peers[i].has, 60, bt_mem_default()) == 0);
        for (uint32_t p = 0; p < 60; p++) {
            if (i == 0 || bt_pcg32_below(&net, 3) == 0)
                bt_bitfield_set(&peers[i].has, p);
        }
        bt_picker_inc_bitfield(pk, &peers[i].has);
    }
    sim_stats st = {0};
    uint32_t total_blocks = 0;
    for (uint32_t p = 0; p < 60; p++)
        total_blocks += bt_picker_blocks_in_piece(pk, p);
    while (!bt_picker_complete(pk) && st.rounds < 5000) {
        st.rounds++;
        for (uint32_t i = 0; i < SIM_PEERS; i++) {
            fake_peer *f = &peers[i];
            if (f->gone)
                continue;
            if (f->nq < 8)
                f->nq += bt_picker_pick(pk, &f->has, NULL, i, f->q + f->nq, 8 - f->nq);
            if (bt_pcg32_below(&net, 2) == 0)
                fake_deliver(pk, peers, i, &net, &st);
        }
        if (st.rounds == 30) { /* peer 5 disconnects */
            for (uint32_t k = 0; k < peers[5].nq; k++)
                bt_picker_cancel(pk, &peers[5].q[k], 5);
            peers[5].nq = 0;
            peers[5].gone = true;
            bt_picker_dec_bitfield(pk, &peers[5].has);
        }
        CU_ASSERT_FATAL(bt_picker_check(pk) == 0);
    }
    CU_ASSERT(bt_picker_complete(pk));
    CU_ASSERT(bt_picker_bytes_left(pk) == 0);
    CU_ASSERT(st.fresh == total_blocks);
    CU_ASSERT(st.dups_outside_endgame == 0);
    for (uint32_t i = 0; i < SIM_PEERS; i++)
        bt_bitfield_free(&peers[i].has, bt_mem_default());
    bt_picker_del(pk);
}

static void test_full_download(void)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        sim_run(BT_PICK_RAREST_FIRST, seed);
        sim_run(BT_PICK_RANDOM, seed);
        sim_run(BT_PICK_SEQUENTIAL, seed);
    }
}

/* ---- random operation sequences keep the invariants ---- */

#define RP 5
#define ROUT 512

typedef struct rnd_world {
    bt_picker *pk;
    bt_pcg32 rng;
    bt_bitfield has[RP];
    bt_block out[ROUT];
    bt_conn_id who[ROUT];
    uint32_t nout;
} rnd_world;

static void rnd_forget(rnd_world *w, uint32_t i)
{
    w->out[i] = w->out[w->nout - 1];
    w->who[i] = w->who[w->nout - 1];
    w->nout--;
}

/* Drops the outstanding requests of |piece|. */
static void rnd_forget_piece(rnd_world *w, uint32_t piece)
{
    for (uint32_t i = w->nout; i-- > 0;) {
        if (w->out[i].piece == piece)
            rnd_forget(w, i);
    }
}

static void rnd_receive(rnd_world *w, uint32_t i)
{
    bt_block b = w->out[i];
    bt_conn_id who = w->who[i];
    rnd_forget(w, i);
    bt_pick_received res;
    CU_ASSERT_FATAL(bt_picker_received(w->pk, &b, who, who, &res) == 0);
    for (uint32_t k = 0; k < res.ncancel; k++) {
        for (uint32_t j = w->nout; j-- > 0;) {
            if (w->who[j] == res.cancel[k] && w->out[j].piece == b.piece &&
                w->out[j].begin == b.begin)
                rnd_forget(w, j);
        }
    }
    if (res.piece_done) {
        bt_picker_verified(w->pk, b.piece, bt_pcg32_below(&w->rng, 4) != 0);
        rnd_forget_piece(w, b.piece);
    }
}

static void rnd_step(rnd_world *w, uint32_t npieces)
{
    uint32_t op = bt_pcg32_below(&w->rng, 100), peer = bt_pcg32_below(&w->rng, RP);
    uint32_t p = bt_pcg32_below(&w->rng, npieces);
    if (op < 20 && !bt_bitfield_full(&w->has[peer])) {
        if (bt_bitfield_set(&w->has[peer], p))
            bt_picker_inc(w->pk, p);
        if (bt_bitfield_full(&w->has[peer]))
            bt_picker_promote_seed(w->pk, &w->has[peer]);
    } else if (op < 25) { /* the peer reconnects with another bitfield */
        bt_picker_dec_bitfield(w->pk, &w->has[peer]);
        for (uint32_t i = w->nout; i-- > 0;) {
            if (w->who[i] == peer) {
                bt_picker_cancel(w->pk, &w->out[i], peer);
                rnd_forget(w, i);
            }
        }
        bt_bitfield_clear_all(&w->has[peer]);
        bool all = bt_pcg32_below(&w->rng, 4) == 0;
        for (uint32_t q = 0; q < npieces; q++) {
            if (all || bt_pcg32_below(&w->rng, 2))
                bt_bitfield_set(&w->has[peer], q);
        }
        bt_picker_inc_bitfield(w->pk, &w->has[peer]);
    } else if (op < 55 && w->nout + 8 <= ROUT) {
        uint32_t n = bt_picker_pick(w->pk, &w->has[peer], NULL, peer, w->out + w->nout,
                                    bt_pcg32_below(&w->rng, 9));
        for (uint32_t i = 0; i < n; i++) {
            CU_ASSERT(bt_bitfield_get(&w->has[peer], w->out[w->nout + i].piece));
            w->who[w->nout + i] = peer;
        }
        w->nout += n;
    } else if (op < 65 && w->nout > 0) {
        uint32_t i = bt_pcg32_below(&w->rng, w->nout);
        bt_picker_cancel(w->pk, &w->out[i], w->who[i]);
        rnd_forget(w, i);
    } else if (op < 98 && w->nout > 0) {
        rnd_receive(w, bt_pcg32_below(&w->rng, w->nout));
    } else if (op >= 98) {
        bt_picker_set_have(w->pk, p);
        rnd_forget_piece(w, p);
    }
}

/* BEP 47: blocks wholly in padding are never picked and count as received when their piece
 * starts (again after a hash failure); partly padded blocks are picked; a piece that is all
 * padding is picked like any other; pad blocks have no source. */
static void test_pad_blocks(void)
{
    /* 3 pieces of 4 blocks. Pad 1: [20000, 85536): piece 0 blocks 2, 3 and piece 1 block 0
     * wholly, piece 0 block 1 and piece 1 block 1 partly. Pad 2: all of piece 2. */
    bt_byte_range pad[2] = {{20000, 65536}, {131072, 65536}};
    bt_picker_config c = cfg_of(3, 4 * KB16, BT_PICK_SEQUENTIAL);
    c.pad = pad;
    c.npad = 2;
    bt_pcg32 rng;
    bt_picker *pk = mk(&c, &rng, 1);
    CU_ASSERT(bt_picker_in_pad(pk, 32768, KB16));
    CU_ASSERT(!bt_picker_in_pad(pk, 16384, KB16));
    CU_ASSERT(!bt_picker_in_pad(pk, 19999, 2));
    CU_ASSERT(bt_picker_in_pad(pk, 20000, 65536));
    CU_ASSERT(!bt_picker_in_pad(pk, 20000, 65537));
    CU_ASSERT(!bt_picker_in_pad(pk, 0, 1));
    bt_picker_inc_seed(pk);
    bt_block b[16];
    uint32_t n = bt_picker_pick(pk, NULL, NULL, 1, b, 16);
    CU_ASSERT_EQUAL_FATAL(n, 9); /* 12 blocks, 3 of them padding */
    for (uint32_t i = 0; i < n; i++) /* piece 2 is all padding: fetched */
        CU_ASSERT(b[i].piece == 2 || !bt_picker_in_pad(pk, (uint64_t)b[i].piece * 4 * KB16 +
                                                               b[i].begin, b[i].length));
    CU_ASSERT(b[0].piece == 0 && b[0].begin == 0 && b[1].piece == 0 && b[1].begin == KB16);
    CU_ASSERT(b[2].piece == 1 && b[2].begin == KB16); /* piece 1 block 0 is skipped */
    CU_ASSERT(b[5].piece == 2 && b[5].begin == 0);    /* all padding: fetched */
    CU_ASSERT_EQUAL(bt_picker_pad_blocks(pk), 3);
    CU_ASSERT(bt_picker_check(pk) == 0);
    CU_ASSERT(bt_picker_in_endgame(pk));
    /* piece 0 completes with its two real blocks */
    bt_pick_received res;
    CU_ASSERT(bt_picker_received(pk, &b[0], 1, 7, &res) == 0 && !res.piece_done);
    CU_ASSERT(bt_picker_received(pk, &b[1], 1, 7, &res) == 0 && res.piece_done);
    uint32_t src[4];
    CU_ASSERT_EQUAL(bt_picker_sources(pk, 0, src, 4), 1); /* only the real source */
    CU_ASSERT_EQUAL(src[0], 7);
    /* a pad block sent anyway is no news */
    bt_block padblk = {0, 2 * KB16, KB16};
    CU_ASSERT(bt_picker_received(pk, &padblk, 1, 7, &res) == 0 && !res.fresh);
    bt_picker_verified(pk, 0, false); /* hash failure: back to the pool */
    CU_ASSERT(bt_picker_check(pk) == 0);
    n = bt_picker_pick(pk, NULL, NULL, 2, b, 2); /* (more would be endgame duplicates) */
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT(b[0].piece == 0 && b[0].begin == 0 && b[1].piece == 0 && b[1].begin == KB16);
    CU_ASSERT_EQUAL(bt_picker_pad_blocks(pk), 5);
    CU_ASSERT(bt_picker_check(pk) == 0);
    deliver(pk, b, n, 2, true);
    CU_ASSERT(bt_picker_have(pk, 0));
    CU_ASSERT(bt_picker_check(pk) == 0);
    bt_picker_del(pk);
    /* bad ranges: overlapping, empty, past the end */
    bt_byte_range bad[2] = {{0, 100}, {99, 10}};
    c.pad = bad;
    c.npad = 2;
    bt_picker *x = NULL;
    CU_ASSERT(bt_picker_new(&x, &c, &rng, bt_mem_default()) == BT_ERR_INVALID);
    bad[1] = (bt_byte_range){200, 0};
    CU_ASSERT(bt_picker_new(&x, &c, &rng, bt_mem_default()) == BT_ERR_INVALID);
    bad[1] = (bt_byte_range){200, 3 * 4 * KB16};
    CU_ASSERT(bt_picker_new(&x, &c, &rng, bt_mem_default()) == BT_ERR_INVALID);
    c.pad = NULL;
    CU_ASSERT(bt_picker_new(&x, &c, &rng, bt_mem_default()) == BT_ERR_INVALID);
    CU_ASSERT_PTR_NULL(x);
}

static void test_random_operations(void)
{
    for (uint64_t seed = 0; seed < 60; seed++) {
        rnd_world w;
        memset(&w, 0, sizeof(w));
        bt_picker_config c = cfg_of(37, 3 * KB16, (bt_pick_strategy)(seed % 3));
        c.total_len -= KB16 + 77;
        c.endgame_dups = 1 + (uint32_t)(seed % 4);
        c.random_first = (uint32_t)(seed % 5);
        w.pk = mk(&c, &w.rng, seed);
        for (uint32_t i = 0; i < RP; i++)
            CU_ASSERT_FATAL(bt_bitfield_init(&w.has[i], 37, bt_mem_default()) == 0);
        for (int step = 0; step < 3000 && !bt_picker_complete(w.pk); step++) {
            rnd_step(&w, 37);
            CU_ASSERT_FATAL(bt_picker_check(w.pk) == 0);
        }
        for (uint32_t i = 0; i < RP; i++)
            bt_bitfield_free(&w.has[i], bt_mem_default());
        bt_picker_del(w.pk);
    }
}

int test_picker_add_suite(void)
{
    CU_pSuite s = CU_add_suite("picker", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "config and names", test_config_and_names) == NULL ||
        CU_add_test(s, "geometry", test_geometry) == NULL ||
        CU_add_test(s, "availability", test_availability) == NULL ||
        CU_add_test(s, "rarest first", test_rarest_first) == NULL ||
        CU_add_test(s, "random tie-break", test_ties_random) == NULL ||
        CU_add_test(s, "zero availability", test_zero_availability) == NULL ||
        CU_add_test(s, "partial pieces first", test_partial_first) == NULL ||
        CU_add_test(s, "random first pieces", test_random_first) == NULL ||
        CU_add_test(s, "sequential", test_sequential) == NULL ||
        CU_add_test(s, "random strategy", test_random_strategy) == NULL ||
        CU_add_test(s, "allowed only", test_allowed_only) == NULL ||
        CU_add_test(s, "endgame", test_endgame) == NULL ||
        CU_add_test(s, "verify failure", test_verify_fail) == NULL ||
        CU_add_test(s, "states", test_states) == NULL ||
        CU_add_test(s, "allocation failure", test_nomem) == NULL ||
        CU_add_test(s, "full download", test_full_download) == NULL ||
        CU_add_test(s, "BEP 47 pad blocks", test_pad_blocks) == NULL ||
        CU_add_test(s, "random operations", test_random_operations) == NULL)
        return 1;
    return 0;
}
