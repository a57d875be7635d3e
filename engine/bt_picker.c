/* bt_picker.c: piece availability, per-block request state and the choice of the next blocks
 * to request (rarest-first with random tie-break, random, sequential; strict priority for
 * partial pieces; endgame). Allocates only through the picker's bt_mem; never does I/O.
 *
 * Data structures.
 * - The pool: every piece neither had nor started sits in |order|, sorted by its bucket |key|
 *   (its availability not counting seeds, which shift every piece alike). Bucket k occupies
 *   order[start[k] .. start[k+1]-1]; |pos| maps a piece to its position. A +-1 availability
 *   change is one swap with the bucket's boundary element and one boundary move, then one
 *   swap with a uniformly random slot of the new bucket (random tie-break), so inc/dec are
 *   O(1). Taking a piece out of (or back into) the pool cascades one swap per bucket above
 *   it: O(highest availability). The bucket array grows by doubling; if that allocation
 *   fails the piece stays in the top bucket (key < availability: it is only less precisely
 *   ordered, until its availability falls back to its key), which is why |key| is stored.
 * - Started pieces are records (block states) in |recs|, found through |act|. Records with
 *   unrequested blocks are also listed in |open| (usually a handful), scanned for the strict
 *   priority pass. Block arrays of full-size pieces are recycled through a small spare stack,
 *   so the steady state does not allocate.
 * - |free_total| counts missing, unrequested blocks of pieces not had; endgame is
 *   free_total == 0 while pieces are missing.
 * - BEP 47 padding: when a piece starts, its blocks wholly inside a pad range are received
 *   at once (source NONE); they were counted in free_total while the piece was in the pool. */
#include "bt_picker.h"

#include "bt_mem.h"

#include <assert.h>
#include <string.h>

#define NONE UINT32_MAX
#define FIRST_BUCKETS 16u
#define SPARE_MAX 32u
#define RANDOM_PROBES 32u /* random picks: uniform probes of the pool before a scan */

enum { BLK_MISSING = 0, BLK_REQUESTED = 1, BLK_RECEIVED = 2 };

typedef struct blk {
    uint8_t state;
    uint8_t nreq; /* > 0 iff state == BLK_REQUESTED */
    bt_conn_id req[BT_PICKER_MAX_DUPS];
    uint32_t source; /* BLK_RECEIVED: the peer record it came from */
} blk;

/* What the picker keeps per piece, together: a have or a pick touches one line, not four. */
typedef struct bt_piece_info {
    uint32_t avail; /* copies among connected peers, seeds not counted */
    uint32_t pos;   /* position in order, NONE if not in the pool */
    uint32_t key;   /* bucket (valid in the pool) */
    uint32_t act;   /* index in recs, NONE if not started */
} bt_piece_info;

typedef struct rec {
    uint32_t piece;
    uint32_t nblocks;
    uint32_t nfree;    /* missing and unrequested */
    uint32_t nrecv;    /* received */
    uint32_t open_pos; /* index in |open|, NONE when nfree == 0 */
    uint64_t seq;      /* start order, for "oldest first" */
    blk *blocks;
} rec;

struct bt_picker {
    bt_picker_config cfg;
    bt_pcg32 *rng;
    const bt_mem *mem;
    uint32_t n;
    uint32_t bpp;      /* blocks in a full-size piece */
    bt_piece_info *pc; /* per piece: availability, pool position and key, record */
    uint32_t seeds;
    uint32_t *order; /* the pool, sorted by key */
    uint32_t *start; /* nb + 1 entries; start[nb] is the pool size */
    uint32_t nb;
    uint32_t *perm;    /* BT_PICK_RANDOM: a random permutation of the pieces */
    uint32_t seq_next; /* BT_PICK_SEQUENTIAL: no pool piece has a lower index */
    rec *recs;
    uint32_t nrecs, caprecs;
    uint32_t *open; /* caprecs entries */
    uint32_t nopen;
    blk *spare[SPARE_MAX];
    uint32_t nspare;
    uint64_t seq;
    bt_bitfield have;
    uint64_t bytes_left;
    uint64_t free_total;
    bt_byte_range *pad; /* cfg.pad copied; cfg.pad points here */
    uint64_t pad_blocks;
};

/* ---- strategy names ---- */

int bt_pick_strategy_parse(const char *name, bt_pick_strategy *out)
{
    for (int i = BT_PICK_RAREST_FIRST; name != NULL && i <= BT_PICK_SEQUENTIAL; i++) {
        if (strcmp(name, bt_pick_strategy_name((bt_pick_strategy)i)) == 0) {
            *out = (bt_pick_strategy)i;
            return 0;
        }
    }
    return BT_ERR_NOTFOUND;
}

const char *bt_pick_strategy_name(bt_pick_strategy s)
{
    switch (s) {
    case BT_PICK_RAREST_FIRST:
        return "rarest-first";
    case BT_PICK_RANDOM:
        return "random";
    case BT_PICK_SEQUENTIAL:
        return "sequential";
    }
    return "?";
}

/* ---- geometry ---- */

uint32_t bt_picker_piece_size(const bt_picker *pk, uint32_t piece)
{
    assert(piece < pk->n);
    if (piece + 1 < pk->n)
        return pk->cfg.piece_len;
    return (uint32_t)(pk->cfg.total_len - (uint64_t)(pk->n - 1) * pk->cfg.piece_len);
}

uint32_t bt_picker_blocks_in_piece(const bt_picker *pk, uint32_t piece)
{
    uint32_t size = bt_picker_piece_size(pk, piece);
    return size / pk->cfg.block_len + (size % pk->cfg.block_len != 0);
}

static uint32_t block_size(const bt_picker *pk, uint32_t piece, uint32_t b)
{
    uint32_t size = bt_picker_piece_size(pk, piece);
    uint32_t begin = b * pk->cfg.block_len;
    return size - begin < pk->cfg.block_len ? size - begin : pk->cfg.block_len;
}

/* ---- the pool (availability order) ---- */

static void pool_swap(bt_picker *pk, uint32_t i, uint32_t j)
{
    uint32_t a = pk->order[i], b = pk->order[j];
    pk->order[i] = b;
    pk->order[j] = a;
    pk->pc[b].pos = i;
    pk->pc[a].pos = j;
}

/* Random tie-break: swaps |p| with a uniformly random slot of its bucket. */
static void shuffle_in(bt_picker *pk, uint32_t p)
{
    uint32_t k = pk->pc[p].key;
    uint32_t lo = pk->start[k], size = pk->start[k + 1] - lo;
    assert(size > 0);
    pool_swap(pk, pk->pc[p].pos, lo + bt_pcg32_below(pk->rng, size));
}

static bool bucket_grow(bt_picker *pk)
{
    if (pk->nb > UINT32_MAX / 4)
        return false;
    uint32_t nb = pk->nb * 2;
    uint32_t *s = bt_realloc(pk->mem, pk->start, ((size_t)nb + 1) * sizeof(*s));
    if (s == NULL)
        return false;
    for (uint32_t k = pk->nb + 1; k <= nb; k++)
        s[k] = s[pk->nb];
    pk->start = s;
    pk->nb = nb;
    return true;
}

static void pool_insert(bt_picker *pk, uint32_t p)
{
    uint32_t k = pk->pc[p].avail;
    while (k >= pk->nb && bucket_grow(pk)) {
    }
    if (k >= pk->nb)
        k = pk->nb - 1; /* saturated: see the file comment */
    uint32_t hole = pk->start[pk->nb]++;
    for (uint32_t j = pk->nb - 1; j > k; j--) {
        uint32_t first = pk->start[j]++;
        if (first != hole) {
            pk->order[hole] = pk->order[first];
            pk->pc[pk->order[hole]].pos = hole;
        }
        hole = first;
    }
    pk->order[hole] = p;
    pk->pc[p].pos = hole;
    pk->pc[p].key = k;
    shuffle_in(pk, p);
    if (p < pk->seq_next)
        pk->seq_next = p;
}

/* Removes |p| from the pool. Elements at lower positions do not move; the element that was
 * last in p's bucket takes p's position. */
static void pool_remove(bt_picker *pk, uint32_t p)
{
    uint32_t hole = pk->pc[p].pos;
    assert(hole != NONE);
    for (uint32_t j = pk->pc[p].key; j < pk->nb; j++) {
        uint32_t last = --pk->start[j + 1];
        if (last != hole) {
            pk->order[hole] = pk->order[last];
            pk->pc[pk->order[hole]].pos = hole;
        }
        hole = last;
    }
    pk->pc[p].pos = NONE;
}

/* ---- availability ---- */

void bt_picker_inc(bt_picker *pk, uint32_t p)
{
    assert(p < pk->n);
    pk->pc[p].avail++;
    if (pk->pc[p].pos == NONE)
        return;
    uint32_t k = pk->pc[p].key;
    if (k + 1 != pk->pc[p].avail)
        return; /* saturated */
    if (k + 1 >= pk->nb && !bucket_grow(pk))
        return;
    uint32_t last = pk->start[k + 1] - 1;
    pool_swap(pk, pk->pc[p].pos, last);
    pk->start[k + 1]--;
    pk->pc[p].key = k + 1;
    shuffle_in(pk, p);
}

void bt_picker_dec(bt_picker *pk, uint32_t p)
{
    assert(p < pk->n);
    assert(pk->pc[p].avail > 0);
    if (pk->pc[p].avail == 0)
        return;
    pk->pc[p].avail--;
    if (pk->pc[p].pos == NONE)
        return;
    uint32_t k = pk->pc[p].key;
    if (k <= pk->pc[p].avail)
        return;
    pool_swap(pk, pk->pc[p].pos, pk->start[k]);
    pk->start[k]++;
    pk->pc[p].key = k - 1;
    shuffle_in(pk, p);
}

static void each_bit(bt_picker *pk, const bt_bitfield *bf, void (*fn)(bt_picker *, uint32_t))
{
    size_t nbytes = bt_bitfield_bytes(bf->nbits);
    for (size_t i = 0; i < nbytes; i++) {
        uint8_t v = bf->bits[i];
        while (v != 0) {
            uint32_t bit = (uint32_t)__builtin_clz((unsigned)v) - 24u;
            v &= (uint8_t) ~(0x80u >> bit);
            uint32_t p = (uint32_t)i * 8u + bit;
            if (p < pk->n)
                fn(pk, p);
        }
    }
}

void bt_picker_inc_bitfield(bt_picker *pk, const bt_bitfield *bf)
{
    assert(bf->nbits == pk->n);
    if (bt_bitfield_full(bf))
        bt_picker_inc_seed(pk);
    else
        each_bit(pk, bf, bt_picker_inc);
}

void bt_picker_dec_bitfield(bt_picker *pk, const bt_bitfield *bf)
{
    assert(bf->nbits == pk->n);
    if (bt_bitfield_full(bf))
        bt_picker_dec_seed(pk);
    else
        each_bit(pk, bf, bt_picker_dec);
}

void bt_picker_inc_seed(bt_picker *pk)
{
    pk->seeds++;
}

void bt_picker_dec_seed(bt_picker *pk)
{
    assert(pk->seeds > 0);
    if (pk->seeds > 0)
        pk->seeds--;
}

void bt_picker_promote_seed(bt_picker *pk, const bt_bitfield *bf)
{
    assert(bf->nbits == pk->n && bt_bitfield_full(bf));
    each_bit(pk, bf, bt_picker_dec);
    pk->seeds++;
}

uint32_t bt_picker_availability(const bt_picker *pk, uint32_t p)
{
    assert(p < pk->n);
    return pk->pc[p].avail + pk->seeds;
}

/* ---- own pieces ---- */

bool bt_picker_have(const bt_picker *pk, uint32_t p)
{
    return bt_bitfield_get(&pk->have, p);
}
const bt_bitfield *bt_picker_have_bits(const bt_picker *pk)
{
    return &pk->have;
}
bool bt_picker_complete(const bt_picker *pk)
{
    return bt_bitfield_full(&pk->have);
}
uint64_t bt_picker_bytes_left(const bt_picker *pk)
{
    return pk->bytes_left;
}

bool bt_picker_in_endgame(const bt_picker *pk)
{
    return pk->free_total == 0 && !bt_picker_complete(pk);
}

/* ---- started pieces ---- */

static void open_add(bt_picker *pk, uint32_t r)
{
    assert(pk->recs[r].open_pos == NONE);
    pk->recs[r].open_pos = pk->nopen;
    pk->open[pk->nopen++] = r;
}

static void open_del(bt_picker *pk, uint32_t r)
{
    uint32_t i = pk->recs[r].open_pos;
    assert(i != NONE);
    uint32_t moved = pk->open[--pk->nopen];
    pk->open[i] = moved;
    pk->recs[moved].open_pos = i;
    pk->recs[r].open_pos = NONE;
}

static void rec_free(bt_picker *pk, uint32_t r)
{
    rec *x = &pk->recs[r];
    if (x->open_pos != NONE)
        open_del(pk, r);
    if (x->nblocks == pk->bpp && pk->nspare < SPARE_MAX)
        pk->spare[pk->nspare++] = x->blocks;
    else
        bt_free(pk->mem, x->blocks);
    pk->pc[x->piece].act = NONE;
    uint32_t last = --pk->nrecs;
    if (r != last) {
        pk->recs[r] = pk->recs[last];
        pk->pc[pk->recs[r].piece].act = r;
        if (pk->recs[r].open_pos != NONE)
            pk->open[pk->recs[r].open_pos] = r;
    }
}

static bool recs_reserve(bt_picker *pk)
{
    if (pk->nrecs < pk->caprecs)
        return true;
    uint32_t cap = pk->caprecs ? pk->caprecs * 2 : 16;
    rec *r = bt_realloc(pk->mem, pk->recs, (size_t)cap * sizeof(*r));
    if (r == NULL)
        return false;
    pk->recs = r;
    uint32_t *o = bt_realloc(pk->mem, pk->open, (size_t)cap * sizeof(*o));
    if (o == NULL)
        return false; /* recs is larger than caprecs says; harmless */
    pk->open = o;
    pk->caprecs = cap;
    return true;
}

bool bt_picker_in_pad(const bt_picker *pk, uint64_t off, uint64_t len)
{
    uint32_t lo = 0, hi = pk->cfg.npad; /* the last range starting at or before |off| */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (pk->pad[mid].offset <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    const bt_byte_range *r = &pk->pad[lo - 1];
    return off + len <= r->offset + r->length;
}

uint64_t bt_picker_pad_blocks(const bt_picker *pk)
{
    return pk->pad_blocks;
}

/* Marks the blocks of new record |x| that lie wholly in padding as received, unless all of
 * them do (then the piece is fetched like any other). */
static void mark_pad(bt_picker *pk, rec *x)
{
    uint64_t base = (uint64_t)x->piece * pk->cfg.piece_len;
    uint32_t npad = 0;
    for (uint32_t b = 0; b < x->nblocks; b++)
        npad += bt_picker_in_pad(pk, base + (uint64_t)b * pk->cfg.block_len,
                                 block_size(pk, x->piece, b));
    if (npad == 0 || npad == x->nblocks)
        return;
    for (uint32_t b = 0; b < x->nblocks; b++) {
        if (!bt_picker_in_pad(pk, base + (uint64_t)b * pk->cfg.block_len,
                              block_size(pk, x->piece, b)))
            continue;
        x->blocks[b].state = BLK_RECEIVED;
        x->blocks[b].source = NONE;
    }
    x->nfree -= npad;
    x->nrecv += npad;
    pk->free_total -= npad;
    pk->pad_blocks += npad;
}

/* Moves pool piece |p| to a new record. Returns its index, or NONE if allocation failed (the
 * piece then stays in the pool). */
static uint32_t rec_start(bt_picker *pk, uint32_t p)
{
    uint32_t nblocks = bt_picker_blocks_in_piece(pk, p);
    if (!recs_reserve(pk))
        return NONE;
    blk *blocks;
    if (nblocks == pk->bpp && pk->nspare > 0)
        blocks = pk->spare[--pk->nspare];
    else if ((blocks = bt_malloc(pk->mem, (size_t)nblocks * sizeof(*blocks))) == NULL)
        return NONE;
    memset(blocks, 0, (size_t)nblocks * sizeof(*blocks));
    pool_remove(pk, p);
    uint32_t r = pk->nrecs++;
    pk->recs[r] = (rec){.piece = p,
                        .nblocks = nblocks,
                        .nfree = nblocks,
                        .nrecv = 0,
                        .open_pos = NONE,
                        .seq = pk->seq++,
                        .blocks = blocks};
    pk->pc[p].act = r;
    if (pk->cfg.npad > 0)
        mark_pad(pk, &pk->recs[r]);
    open_add(pk, r); /* nfree > 0: a piece is never all padding here */
    return r;
}

/* Requests up to |max| unrequested blocks of record |r| for |who|. */
static uint32_t take_blocks(bt_picker *pk, uint32_t r, bt_conn_id who, bt_block *out, uint32_t max)
{
    rec *x = &pk->recs[r];
    uint32_t got = 0;
    for (uint32_t b = 0; b < x->nblocks && got < max && x->nfree > 0; b++) {
        blk *k = &x->blocks[b];
        if (k->state != BLK_MISSING)
            continue;
        k->state = BLK_REQUESTED;
        k->nreq = 1;
        k->req[0] = who;
        out[got++] = (bt_block){x->piece, b * pk->cfg.block_len, block_size(pk, x->piece, b)};
        x->nfree--;
        pk->free_total--;
    }
    if (x->nfree == 0 && x->open_pos != NONE)
        open_del(pk, r);
    return got;
}

/* ---- picking ---- */

typedef struct query {
    const bt_bitfield *has;
    const bt_bitfield *allowed;
    bt_conn_id who;
    uint32_t cursor; /* rarest walk: position in order; sequential: piece index */
    bool walking;
} query;

static bool peer_ok(const query *q, uint32_t p)
{
    return (q->has == NULL || bt_bitfield_get(q->has, p)) &&
           (q->allowed == NULL || bt_bitfield_get(q->allowed, p));
}

/* A pool piece this peer can give us. */
static bool new_ok(const bt_picker *pk, const query *q, uint32_t p)
{
    return pk->pc[p].pos != NONE && pk->pc[p].avail + pk->seeds > 0 && peer_ok(q, p);
}

/* Strict priority: open pieces the peer has, fewest unrequested blocks first, then oldest. */
static uint32_t pick_partials(bt_picker *pk, const query *q, bt_block *out, uint32_t max)
{
    uint32_t got = 0;
    while (got < max) {
        uint32_t best = NONE;
        for (uint32_t i = 0; i < pk->nopen; i++) {
            const rec *x = &pk->recs[pk->open[i]];
            if (!peer_ok(q, x->piece))
                continue;
            const rec *b = best == NONE ? NULL : &pk->recs[best];
            if (b == NULL || x->nfree < b->nfree || (x->nfree == b->nfree && x->seq < b->seq))
                best = pk->open[i];
        }
        if (best == NONE)
            break;
        got += take_blocks(pk, best, q->who, out + got, max - got);
    }
    return got;
}

/* Rarest first: walks the pool from the first bucket with availability >= 1. Within one
 * pick call the cursor only moves forward (removal never moves lower positions). */
static uint32_t next_rarest(bt_picker *pk, query *q)
{
    if (!q->walking) {
        q->cursor = pk->seeds > 0 ? 0 : pk->start[1];
        q->walking = true;
    }
    /* Every piece from the cursor on is available: with a seed, all are; without, bucket
     * k >= 1 holds pieces of availability >= k (a key never exceeds its availability). */
    const uint32_t end = pk->start[pk->nb];
    const bt_bitfield *has = q->has, *allowed = q->allowed;
    assert(q->cursor >= end || pk->pc[pk->order[q->cursor]].avail + pk->seeds > 0);
    for (uint32_t i = q->cursor; i < end; i++) {
        uint32_t p = pk->order[i];
        if ((has == NULL || bt_bitfield_get(has, p)) &&
            (allowed == NULL || bt_bitfield_get(allowed, p))) {
            q->cursor = i;
            return p;
        }
    }
    q->cursor = end;
    return NONE;
}

/* Uniform among candidates by rejection: up to RANDOM_PROBES uniform draws over the pool
 * pieces with availability >= 1; the first draw the peer has is exactly uniform among the
 * candidates. Returns NONE if every probe missed. */
static uint32_t probe_random(bt_picker *pk, const query *q)
{
    uint32_t lo = pk->seeds > 0 ? 0 : pk->start[1];
    uint32_t hi = pk->start[pk->nb];
    if (lo >= hi)
        return NONE;
    for (uint32_t t = 0; t < RANDOM_PROBES; t++) {
        uint32_t p = pk->order[lo + bt_pcg32_below(pk->rng, hi - lo)];
        if (peer_ok(q, p))
            return p;
    }
    return NONE;
}

/* Random strategy: probes, then the per-picker permutation scanned from a random start. */
static uint32_t next_random(bt_picker *pk, const query *q)
{
    uint32_t p = probe_random(pk, q);
    if (p != NONE || pk->start[pk->nb] == 0)
        return p;
    uint32_t s = bt_pcg32_below(pk->rng, pk->n);
    for (uint32_t k = 0; k < pk->n; k++) {
        p = pk->perm[(s + k) % pk->n];
        if (new_ok(pk, q, p))
            return p;
    }
    return NONE;
}

static uint32_t next_sequential(bt_picker *pk, query *q)
{
    while (pk->seq_next < pk->n && pk->pc[pk->seq_next].pos == NONE)
        pk->seq_next++;
    if (!q->walking) {
        q->cursor = pk->seq_next;
        q->walking = true;
    }
    for (; q->cursor < pk->n; q->cursor++) {
        if (new_ok(pk, q, q->cursor))
            return q->cursor;
    }
    return NONE;
}

/* With |allowed_only| (a few pieces): scans its set bits. Rarest: lowest pool position (so
 * rarest, then the bucket's random order); sequential: lowest index; random: reservoir. */
static uint32_t next_allowed(bt_picker *pk, const query *q, bool random)
{
    uint32_t best = NONE, seen = 0;
    size_t nbytes = bt_bitfield_bytes(q->allowed->nbits);
    for (size_t i = 0; i < nbytes; i++) {
        for (uint8_t v = q->allowed->bits[i]; v != 0;) {
            uint32_t bit = (uint32_t)__builtin_clz((unsigned)v) - 24u;
            v &= (uint8_t) ~(0x80u >> bit);
            uint32_t p = (uint32_t)i * 8u + bit;
            if (p >= pk->n || !new_ok(pk, q, p))
                continue;
            if (random) {
                if (bt_pcg32_below(pk->rng, ++seen) == 0)
                    best = p;
            } else if (pk->cfg.strategy == BT_PICK_SEQUENTIAL) {
                return p;
            } else if (best == NONE || pk->pc[p].pos < pk->pc[best].pos) {
                best = p;
            }
        }
    }
    return best;
}

static uint32_t next_new(bt_picker *pk, query *q)
{
    bool random_first =
        pk->cfg.strategy == BT_PICK_RAREST_FIRST && pk->have.count < pk->cfg.random_first;
    bool random = random_first || pk->cfg.strategy == BT_PICK_RANDOM;
    if (q->allowed != NULL)
        return next_allowed(pk, q, random);
    if (pk->cfg.strategy == BT_PICK_SEQUENTIAL)
        return next_sequential(pk, q);
    if (pk->cfg.strategy == BT_PICK_RANDOM)
        return next_random(pk, q);
    if (random_first) {
        /* Random first pieces: a probe, else the rarest walk (random within a bucket). */
        uint32_t p = probe_random(pk, q);
        if (p != NONE)
            return p;
    }
    return next_rarest(pk, q);
}

static uint32_t pick_new(bt_picker *pk, query *q, bt_block *out, uint32_t max)
{
    uint32_t got = 0;
    while (got < max) {
        uint32_t p = next_new(pk, q);
        if (p == NONE)
            break;
        uint32_t r = rec_start(pk, p);
        if (r == NONE)
            break; /* NOMEM: return fewer blocks */
        got += take_blocks(pk, r, q->who, out + got, max - got);
    }
    return got;
}

static bool requested_by(const blk *k, bt_conn_id who)
{
    for (uint32_t i = 0; i < k->nreq; i++) {
        if (k->req[i] == who)
            return true;
    }
    return false;
}

/* Endgame: duplicates of requested blocks, fewest requesters first. */
static uint32_t pick_endgame(bt_picker *pk, const query *q, bt_block *out, uint32_t max)
{
    uint32_t got = 0;
    for (uint32_t level = 1; level < pk->cfg.endgame_dups && got < max; level++) {
        for (uint32_t r = 0; r < pk->nrecs && got < max; r++) {
            rec *x = &pk->recs[r];
            if (x->nrecv == x->nblocks || !peer_ok(q, x->piece))
                continue;
            for (uint32_t b = 0; b < x->nblocks && got < max; b++) {
                blk *k = &x->blocks[b];
                if (k->state != BLK_REQUESTED || k->nreq != level || requested_by(k, q->who))
                    continue;
                k->req[k->nreq++] = q->who;
                out[got++] =
                    (bt_block){x->piece, b * pk->cfg.block_len, block_size(pk, x->piece, b)};
            }
        }
    }
    return got;
}

uint32_t bt_picker_pick(bt_picker *pk, const bt_bitfield *peer_has, const bt_bitfield *allowed_only,
                        bt_conn_id who, bt_block *out, uint32_t max)
{
    assert(peer_has == NULL || peer_has->nbits == pk->n);
    assert(allowed_only == NULL || allowed_only->nbits == pk->n);
    if (max == 0 || bt_picker_complete(pk))
        return 0;
    query q = {.has = peer_has, .allowed = allowed_only, .who = who};
    uint32_t got = pick_partials(pk, &q, out, max);
    if (got < max && pk->free_total > 0)
        got += pick_new(pk, &q, out + got, max - got);
    if (got < max && pk->free_total == 0)
        got += pick_endgame(pk, &q, out + got, max - got);
    return got;
}

/* ---- block events ---- */

/* Finds the block state of |b| in a started piece; NULL if |b| is not exactly one. */
static blk *find_block(bt_picker *pk, const bt_block *b, uint32_t *rp)
{
    if (b->piece >= pk->n || pk->pc[b->piece].act == NONE || b->begin % pk->cfg.block_len != 0)
        return NULL;
    uint32_t r = pk->pc[b->piece].act;
    uint32_t i = b->begin / pk->cfg.block_len;
    if (i >= pk->recs[r].nblocks || b->length != block_size(pk, b->piece, i))
        return NULL;
    *rp = r;
    return &pk->recs[r].blocks[i];
}

static bool drop_requester(blk *k, bt_conn_id who)
{
    for (uint32_t i = 0; i < k->nreq; i++) {
        if (k->req[i] == who) {
            k->req[i] = k->req[--k->nreq];
            return true;
        }
    }
    return false;
}

void bt_picker_cancel(bt_picker *pk, const bt_block *b, bt_conn_id who)
{
    uint32_t r;
    blk *k = find_block(pk, b, &r);
    if (k == NULL || k->state != BLK_REQUESTED || !drop_requester(k, who) || k->nreq > 0)
        return;
    k->state = BLK_MISSING;
    pk->recs[r].nfree++;
    pk->free_total++;
    if (pk->recs[r].open_pos == NONE)
        open_add(pk, r);
}

int bt_picker_received(bt_picker *pk, const bt_block *b, bt_conn_id who, uint32_t source,
                       bt_pick_received *res)
{
    memset(res, 0, sizeof(*res));
    uint32_t r;
    blk *k = find_block(pk, b, &r);
    if (k == NULL)
        return BT_ERR_NOTFOUND;
    rec *x = &pk->recs[r];
    if (k->state == BLK_RECEIVED)
        return 0;
    if (k->state == BLK_MISSING) {
        x->nfree--;
        pk->free_total--;
        if (x->nfree == 0)
            open_del(pk, r);
    }
    for (uint32_t i = 0; i < k->nreq; i++) {
        if (k->req[i] != who)
            res->cancel[res->ncancel++] = k->req[i];
    }
    k->nreq = 0;
    k->state = BLK_RECEIVED;
    k->source = source;
    x->nrecv++;
    res->fresh = true;
    res->piece_done = x->nrecv == x->nblocks;
    return 0;
}

uint32_t bt_picker_sources(const bt_picker *pk, uint32_t piece, uint32_t *out, uint32_t max)
{
    if (piece >= pk->n || pk->pc[piece].act == NONE)
        return 0;
    const rec *x = &pk->recs[pk->pc[piece].act];
    uint32_t count = 0;
    uint64_t lo = 0; /* the next source is >= lo */
    for (;;) {
        uint64_t best = UINT64_MAX;
        for (uint32_t b = 0; b < x->nblocks; b++) {
            const blk *k = &x->blocks[b];
            if (k->state == BLK_RECEIVED && k->source != NONE && k->source >= lo &&
                k->source < best)
                best = k->source;
        }
        if (best == UINT64_MAX)
            return count;
        if (count < max)
            out[count] = (uint32_t)best;
        count++;
        lo = best + 1;
    }
}

uint32_t bt_picker_block_sources(const bt_picker *pk, uint32_t piece, uint32_t *sources,
                                 uint32_t max)
{
    if (piece >= pk->n || pk->pc[piece].act == NONE)
        return 0;
    const rec *x = &pk->recs[pk->pc[piece].act];
    if (x->nrecv != x->nblocks || x->nblocks > max)
        return 0;
    for (uint32_t b = 0; b < x->nblocks; b++)
        sources[b] = x->blocks[b].source;
    return x->nblocks;
}

void bt_picker_verified(bt_picker *pk, uint32_t piece, bool ok)
{
    assert(piece < pk->n);
    uint32_t r = pk->pc[piece].act;
    if (r == NONE || pk->recs[r].nrecv != pk->recs[r].nblocks)
        return;
    uint32_t nblocks = pk->recs[r].nblocks;
    rec_free(pk, r);
    if (ok) {
        bt_bitfield_set(&pk->have, piece);
        pk->bytes_left -= bt_picker_piece_size(pk, piece);
    } else {
        pk->free_total += nblocks;
        pool_insert(pk, piece);
    }
}

void bt_picker_set_have(bt_picker *pk, uint32_t piece)
{
    assert(piece < pk->n);
    if (bt_bitfield_get(&pk->have, piece))
        return;
    if (pk->pc[piece].pos != NONE) {
        pool_remove(pk, piece);
        pk->free_total -= bt_picker_blocks_in_piece(pk, piece);
    } else if (pk->pc[piece].act != NONE) {
        pk->free_total -= pk->recs[pk->pc[piece].act].nfree;
        rec_free(pk, pk->pc[piece].act);
    }
    bt_bitfield_set(&pk->have, piece);
    pk->bytes_left -= bt_picker_piece_size(pk, piece);
}

/* ---- lifetime ---- */

static bool config_ok(const bt_picker_config *c)
{
    if (c->npieces == 0 || c->piece_len == 0 || c->block_len == 0 || c->endgame_dups < 1 ||
        c->endgame_dups > BT_PICKER_MAX_DUPS || (unsigned)c->strategy > BT_PICK_SEQUENTIAL ||
        c->npieces == UINT32_MAX)
        return false;
    uint64_t head = (uint64_t)(c->npieces - 1) * c->piece_len;
    if (c->total_len <= head || c->total_len - head > c->piece_len)
        return false;
    if (c->npad > 0 && c->pad == NULL)
        return false;
    for (uint32_t i = 0; i < c->npad; i++) {
        const bt_byte_range *r = &c->pad[i];
        if (r->length == 0 || r->offset >= c->total_len || r->length > c->total_len - r->offset ||
            (i > 0 && r->offset < c->pad[i - 1].offset + c->pad[i - 1].length))
            return false;
    }
    return true;
}

static void shuffle(bt_pcg32 *rng, uint32_t *a, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = bt_pcg32_below(rng, i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

static int alloc_arrays(bt_picker *pk)
{
    size_t n = pk->n;
    const bt_mem *m = pk->mem;
    pk->pc = bt_calloc(m, n, sizeof(bt_piece_info));
    pk->order = bt_malloc(m, n * sizeof(uint32_t));
    pk->start = bt_malloc(m, (FIRST_BUCKETS + 1) * sizeof(uint32_t));
    if (pk->cfg.strategy == BT_PICK_RANDOM)
        pk->perm = bt_malloc(m, n * sizeof(uint32_t));
    if (pk->pc == NULL || pk->order == NULL || pk->start == NULL ||
        (pk->cfg.strategy == BT_PICK_RANDOM && pk->perm == NULL))
        return BT_ERR_NOMEM;
    return bt_bitfield_init(&pk->have, pk->n, m);
}

int bt_picker_new(bt_picker **out, const bt_picker_config *cfg, bt_pcg32 *rng, const bt_mem *mem)
{
    *out = NULL;
    if (!config_ok(cfg))
        return BT_ERR_INVALID;
    bt_picker *pk = bt_calloc(mem, 1, sizeof(*pk));
    if (pk == NULL)
        return BT_ERR_NOMEM;
    pk->cfg = *cfg;
    pk->rng = rng;
    pk->mem = mem;
    pk->n = cfg->npieces;
    pk->bpp = cfg->piece_len / cfg->block_len + (cfg->piece_len % cfg->block_len != 0);
    pk->cfg.pad = NULL;
    if (cfg->npad > 0) {
        pk->pad = bt_malloc(mem, (size_t)cfg->npad * sizeof(*pk->pad));
        if (pk->pad != NULL)
            memcpy(pk->pad, cfg->pad, (size_t)cfg->npad * sizeof(*pk->pad));
        pk->cfg.pad = pk->pad;
    }
    if ((cfg->npad > 0 && pk->pad == NULL) || alloc_arrays(pk) != 0) {
        bt_picker_del(pk);
        return BT_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < pk->n; i++) {
        pk->order[i] = i;
        pk->pc[i].act = NONE;
    }
    shuffle(rng, pk->order, pk->n); /* random order within bucket 0 */
    for (uint32_t i = 0; i < pk->n; i++)
        pk->pc[pk->order[i]].pos = i;
    pk->nb = FIRST_BUCKETS;
    pk->start[0] = 0;
    for (uint32_t k = 1; k <= pk->nb; k++)
        pk->start[k] = pk->n;
    if (pk->perm != NULL) {
        memcpy(pk->perm, pk->order, (size_t)pk->n * sizeof(uint32_t));
        shuffle(rng, pk->perm, pk->n);
    }
    pk->bytes_left = cfg->total_len;
    for (uint32_t i = 0; i < pk->n; i++)
        pk->free_total += bt_picker_blocks_in_piece(pk, i);
    *out = pk;
    return 0;
}

void bt_picker_del(bt_picker *pk)
{
    if (pk == NULL)
        return;
    const bt_mem *m = pk->mem;
    for (uint32_t r = 0; r < pk->nrecs; r++)
        bt_free(m, pk->recs[r].blocks);
    for (uint32_t i = 0; i < pk->nspare; i++)
        bt_free(m, pk->spare[i]);
    void *arrays[] = {pk->pc, pk->order, pk->start, pk->perm, pk->recs, pk->open, pk->pad};
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        if (arrays[i] != NULL)
            bt_free(m, arrays[i]);
    }
    if (pk->have.bits != NULL)
        bt_bitfield_free(&pk->have, m);
    bt_free(m, pk);
}

/* ---- invariants ---- */

static bool check_pool(const bt_picker *pk)
{
    if (pk->start[0] != 0 || pk->start[pk->nb] > pk->n)
        return false;
    for (uint32_t k = 0; k < pk->nb; k++) {
        if (pk->start[k] > pk->start[k + 1])
            return false;
        for (uint32_t i = pk->start[k]; i < pk->start[k + 1]; i++) {
            uint32_t p = pk->order[i];
            if (p >= pk->n || pk->pc[p].pos != i || pk->pc[p].key != k || pk->pc[p].act != NONE ||
                bt_bitfield_get(&pk->have, p))
                return false;
            /* key == availability, unless the piece saturated in a top bucket when the
             * buckets could not grow (a key >= FIRST_BUCKETS - 1, then below availability) */
            if (k != pk->pc[p].avail && !(k >= FIRST_BUCKETS - 1 && pk->pc[p].avail > k))
                return false;
            if (p < pk->seq_next)
                return false;
        }
    }
    return true;
}

static bool check_rec(const bt_picker *pk, uint32_t r, uint64_t *nfree)
{
    const rec *x = &pk->recs[r];
    uint32_t f = 0, got = 0;
    if (x->piece >= pk->n || pk->pc[x->piece].act != r || pk->pc[x->piece].pos != NONE ||
        x->nblocks != bt_picker_blocks_in_piece(pk, x->piece))
        return false;
    for (uint32_t b = 0; b < x->nblocks; b++) {
        const blk *k = &x->blocks[b];
        f += k->state == BLK_MISSING;
        got += k->state == BLK_RECEIVED;
        if ((k->state == BLK_REQUESTED) != (k->nreq > 0) || k->nreq > pk->cfg.endgame_dups)
            return false;
    }
    if (f != x->nfree || got != x->nrecv || (x->open_pos == NONE) != (x->nfree == 0))
        return false;
    if (x->open_pos != NONE && (x->open_pos >= pk->nopen || pk->open[x->open_pos] != r))
        return false;
    *nfree += f;
    return true;
}

int bt_picker_check(const bt_picker *pk)
{
    uint64_t nfree = 0, left = 0;
    uint32_t pooled = 0;
    if (!check_pool(pk) || pk->nopen > pk->nrecs)
        return BT_ERR_STATE;
    for (uint32_t r = 0; r < pk->nrecs; r++) {
        if (!check_rec(pk, r, &nfree))
            return BT_ERR_STATE;
    }
    for (uint32_t p = 0; p < pk->n; p++) {
        if (pk->pc[p].pos != NONE) {
            pooled++;
            nfree += bt_picker_blocks_in_piece(pk, p);
        }
        if (!bt_bitfield_get(&pk->have, p))
            left += bt_picker_piece_size(pk, p);
        else if (pk->pc[p].pos != NONE || pk->pc[p].act != NONE)
            return BT_ERR_STATE;
    }
    if (pooled != pk->start[pk->nb] || nfree != pk->free_total || left != pk->bytes_left)
        return BT_ERR_STATE;
    return 0;
}
