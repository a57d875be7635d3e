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
 * full bitfield) are counted once in a separate counter, so they cost O(1). */
void bt_picker_inc(bt_picker *pk, uint32_t piece);
void bt_picker_dec(bt_picker *pk, uint32_t piece);
void bt_picker_inc_bitfield(bt_picker *pk, const bt_bitfield *bf);
void bt_picker_dec_bitfield(bt_picker *pk, const bt_bitfield *bf);
void bt_picker_inc_seed(bt_picker *pk);
void bt_picker_dec_seed(bt_picker *pk);
uint32_t bt_picker_availability(const bt_picker *pk, uint32_t piece);

/* Our own pieces. */
void bt_picker_set_have(bt_picker *pk, uint32_t piece); /* e.g. when starting as a seed */
bool bt_picker_have(const bt_picker *pk, uint32_t piece);
const bt_bitfield *bt_picker_have_bits(const bt_picker *pk);
bool bt_picker_complete(const bt_picker *pk);
uint64_t bt_picker_bytes_left(const bt_picker *pk); /* bytes in pieces not yet verified */
bool bt_picker_in_endgame(const bt_picker *pk);

/* Picks up to |max| blocks to request from the peer |who| whose pieces are |peer_has| (NULL
 * means the peer is a seed), writes them to |out| and marks them requested by |who|.
 * |allowed_only| (may be NULL): if non-NULL, only pieces set in it may be picked (BEP 6
 * allowed-fast while choked). Order: blocks of partial pieces first, then new pieces by the
 * strategy; in endgame, blocks already requested by other peers (never twice by |who|).
 * Returns the number of blocks written. */
uint32_t bt_picker_pick(bt_picker *pk, const bt_bitfield *peer_has, const bt_bitfield *allowed_only,
                        bt_conn_id who, bt_block *out, uint32_t max);

/* A request to |who| was dropped (choke without Fast, reject, timeout, disconnect). */
void bt_picker_cancel(bt_picker *pk, const bt_block *b, bt_conn_id who);

typedef struct bt_pick_received {
    bool fresh;        /* the block was missing and is now received */
    bool piece_done;   /* all blocks of the piece are now received: verify it */
    bt_conn_id cancel[BT_PICKER_MAX_DUPS]; /* other requesters of the block (send cancels) */
    uint32_t ncancel;
} bt_pick_received;

/* Block |b| arrived from |who|, whose peer record is |source| (kept per block for banning).
 * Returns 0, or BT_ERR_NOTFOUND if |b| is not a block of a piece we are missing (caller
 * treats it as unrequested data). */
int bt_picker_received(bt_picker *pk, const bt_block *b, bt_conn_id who, uint32_t source,
                       bt_pick_received *res);

/* The sources of a piece's blocks (distinct, ascending), for banning after a hash failure.
 * Returns the count (may exceed |max|; only |max| are written). */
uint32_t bt_picker_sources(const bt_picker *pk, uint32_t piece, uint32_t *out, uint32_t max);

/* Verification result for a piece whose blocks were all received: ok marks it had; failure
 * resets all its blocks to missing. */
void bt_picker_verified(bt_picker *pk, uint32_t piece, bool ok);

#endif
