/* bt_picker.h: the piece picker: piece availability, which blocks are missing, requested,
 * received and verified, and the choice of the next blocks to request from a peer
 * (rarest-first with random tie-break and random first pieces, strict priority for partial
 * pieces, endgame; or random, or sequential). Engine-private; never does I/O.
 * Cost: availability updates (have, bitfield, disconnect) are O(1) per piece; a pick touches
 * the partial pieces, then walks the availability buckets from the rarest up and stops at the
 * first pieces this peer has. */
#ifndef BT_PICKER_H
#define BT_PICKER_H

#include "bt_bitfield.h"
#include "bt_types.h"

typedef struct bt_block {
    uint32_t piece;
    uint32_t begin;
    uint32_t length;
} bt_block;

typedef enum bt_pick_strategy {
    BT_PICK_RAREST_FIRST = 0,
    BT_PICK_RANDOM = 1,
    BT_PICK_SEQUENTIAL = 2,
} bt_pick_strategy;

/* Parses "rarest-first" | "random" | "sequential". Returns 0 or BT_ERR_NOTFOUND. */
int bt_pick_strategy_parse(const char *name, bt_pick_strategy *out);
const char *bt_pick_strategy_name(bt_pick_strategy s);

typedef struct bt_picker_config {
    uint32_t npieces;       /* > 0 */
    uint32_t piece_len;     /* > 0; all pieces but the last */
    uint64_t total_len;     /* the last piece is total_len - (npieces-1)*piece_len bytes */
    uint32_t block_len;     /* 16384 */
    bt_pick_strategy strategy;
    uint32_t random_first;  /* rarest-first: pick at random until this many pieces are had (4) */
    uint32_t endgame_dups;  /* endgame: at most this many requesters per block (1..4) */
    /* BEP 47 padding (zeros the host's storage supplies): |npad| ranges, ascending, disjoint,
     * non-empty, within total_len (copied by bt_picker_new). A block wholly inside one is
     * never requested: it counts as received (no source) when its piece starts, unless every
     * block of the piece is padding (such a piece is picked like any other). */
    const bt_byte_range *pad;
    uint32_t npad;
} bt_picker_config;

#define BT_PICKER_MAX_DUPS 4

typedef struct bt_picker bt_picker;

/* |rng| is borrowed and must outlive the picker. Returns 0, BT_ERR_INVALID (bad config),
 * BT_ERR_NOMEM. */
int bt_picker_new(bt_picker **out, const bt_picker_config *cfg, bt_pcg32 *rng,
                  const bt_mem *mem);
void bt_picker_del(bt_picker *pk); /* NULL is a no-op */

/* Geometry. */
uint32_t bt_picker_piece_size(const bt_picker *pk, uint32_t piece);
uint32_t bt_picker_blocks_in_piece(const bt_picker *pk, uint32_t piece);

/* Availability: a peer's have (inc) or its loss (dec, on disconnect). Seeds (have-all or a
 * full bitfield) are counted once in a separate counter, so they cost O(1).
 * inc_bitfield/dec_bitfield: a FULL |bf| (bf->count == npieces) is counted as a seed (same as
 * inc_seed/dec_seed); any other |bf| is counted piece by piece. |bf| must have npieces bits.
 * The caller must undo exactly what it added: if haves complete a peer's bitfield, call
 * bt_picker_promote_seed(|bf|) once (after the bt_picker_inc of the last piece), so that the
 * later dec_bitfield of the full bitfield (a seed decrement) is symmetric.
 * Decrementing below zero is a caller bug (assert). */
void bt_picker_inc(bt_picker *pk, uint32_t piece);
void bt_picker_dec(bt_picker *pk, uint32_t piece);
void bt_picker_inc_bitfield(bt_picker *pk, const bt_bitfield *bf);
void bt_picker_dec_bitfield(bt_picker *pk, const bt_bitfield *bf);
void bt_picker_inc_seed(bt_picker *pk);
void bt_picker_dec_seed(bt_picker *pk);
/* A peer counted piece by piece now has every piece (|bf| is full): moves its counts to the
 * seed counter (per-piece decrements + one seed increment). */
void bt_picker_promote_seed(bt_picker *pk, const bt_bitfield *bf);
/* Per-piece count plus the seed count. */
uint32_t bt_picker_availability(const bt_picker *pk, uint32_t piece);

/* Our own pieces. */
/* Marks |piece| had without verification through the picker (e.g. resume data, starting as a
 * seed); drops its block states if it was started. */
void bt_picker_set_have(bt_picker *pk, uint32_t piece);
bool bt_picker_have(const bt_picker *pk, uint32_t piece);
const bt_bitfield *bt_picker_have_bits(const bt_picker *pk);
bool bt_picker_complete(const bt_picker *pk);
uint64_t bt_picker_bytes_left(const bt_picker *pk); /* bytes in pieces not yet verified */
bool bt_picker_in_endgame(const bt_picker *pk);
/* Blocks taken as received because they lie wholly in padding (counted each time a piece
 * starts, so again after a hash failure). */
uint64_t bt_picker_pad_blocks(const bt_picker *pk);
/* True when byte range [off, off + len) lies wholly inside one padding range. */
bool bt_picker_in_pad(const bt_picker *pk, uint64_t off, uint64_t len);

/* Picks up to |max| blocks to request from the peer |who| whose pieces are |peer_has| (NULL
 * means the peer is a seed), writes them to |out| and marks them requested by |who|.
 * |allowed_only| (may be NULL): if non-NULL, only pieces set in it may be picked (BEP 6
 * allowed-fast while choked). Order: blocks of partial pieces first (open pieces with
 * unrequested blocks: fewest unrequested blocks first, then oldest), then new pieces by the
 * strategy (new pieces need availability >= 1); in endgame (no unrequested block left in any
 * missing piece), blocks already requested by other peers, fewest requesters first, at most
 * cfg.endgame_dups requesters per block, never twice by |who|. If the last unrequested blocks
 * are taken in this call, the rest of |max| is filled with endgame blocks.
 * Starting a new piece may allocate its block array (reused from a small pool when
 * possible); if that fails the pick stops and returns the blocks found so far (maybe 0).
 * Returns the number of blocks written. */
uint32_t bt_picker_pick(bt_picker *pk, const bt_bitfield *peer_has, const bt_bitfield *allowed_only,
                        bt_conn_id who, bt_block *out, uint32_t max);

/* A request to |who| was dropped (choke without Fast, reject, timeout, disconnect). When
 * the last requester of a block is dropped the block is unrequested again. Unknown blocks or
 * requesters are ignored. */
void bt_picker_cancel(bt_picker *pk, const bt_block *b, bt_conn_id who);

typedef struct bt_pick_received {
    bool fresh;        /* the block was missing and is now received */
    bool piece_done;   /* all blocks of the piece are now received: verify it */
    bt_conn_id cancel[BT_PICKER_MAX_DUPS]; /* other requesters of the block (send cancels) */
    uint32_t ncancel;
} bt_pick_received;

/* Block |b| arrived from |who|, whose peer record is |source| (kept per block for banning).
 * Fills |res|. Returns 0, or BT_ERR_NOTFOUND if |b| is not a block (exact begin and length)
 * of a started piece we are missing (caller treats it as unrequested data). A block already
 * received returns 0 with fresh == false (its requester |who| is released). */
int bt_picker_received(bt_picker *pk, const bt_block *b, bt_conn_id who, uint32_t source,
                       bt_pick_received *res);

/* The sources of a piece's blocks (distinct, ascending; padding has none), for banning after
 * a hash failure.
 * Returns the count (may exceed |max|; only |max| are written). */
uint32_t bt_picker_sources(const bt_picker *pk, uint32_t piece, uint32_t *out, uint32_t max);

/* Smart banning: per block of |piece|, in order, its source (NONE, i.e. UINT32_MAX, for
 * padding); only for a started piece whose blocks were all received and that has at most
 * |max| blocks. Returns the block count, or 0. */
uint32_t bt_picker_block_sources(const bt_picker *pk, uint32_t piece, uint32_t *sources,
                                 uint32_t max);

/* Verification result for a piece whose blocks were all received (piece_done): ok marks it
 * had; failure resets all its blocks to missing and returns the piece to the availability
 * order. Ignored if |piece| is not a started piece with every block received. */
void bt_picker_verified(bt_picker *pk, uint32_t piece, bool ok);

/* Checks the picker's internal invariants (availability order, bucket bounds, block counters,
 * open list). O(npieces + blocks in flight); for tests, fuzzing and sim invariant sweeps.
 * Returns 0, or BT_ERR_STATE if an invariant is broken. */
int bt_picker_check(const bt_picker *pk);

#endif
