/* bt_metadata.h: BEP 9 metadata exchange: the ut_metadata message codec (request, data,
 * reject), an assembler that collects 16 KiB pieces of a peer's info dict and verifies it
 * against the info hash, and the seeding side (serve piece i of a known info dict). Never does
 * I/O; the extension id and the framing are the wire module's (bt_wire_put_extended).
 *   https://www.bittorrent.org/beps/bep_0009.html */
#ifndef BT_METADATA_H
#define BT_METADATA_H

#include "bt_types.h"

#define BT_METADATA_PIECE_LEN 16384u    /* BEP 9: metadata is sent in 16 KiB pieces */
#define BT_METADATA_MAX_SIZE (8u << 20) /* our limit on metadata_size */
#define BT_METADATA_MAX_PIECES (BT_METADATA_MAX_SIZE / BT_METADATA_PIECE_LEN)
#define BT_METADATA_MAX_DICT 512 /* bencoded dict part of a message */

enum bt_utm_type {
    BT_UTM_REQUEST = 0, /* BEP 9 msg_type values */
    BT_UTM_DATA = 1,
    BT_UTM_REJECT = 2,
    BT_UTM_UNKNOWN = 255, /* another msg_type: BEP 9 says ignore it */
};

typedef struct bt_utm_msg {
    uint8_t type; /* enum bt_utm_type */
    uint32_t piece;
    uint32_t total_size; /* data: the peer's total_size; 0 otherwise */
    const uint8_t *data; /* data: the raw block after the dict (points into the input) */
    size_t data_len;
} bt_utm_msg;

/* Encoders: append the message payload (the bytes after the extended message's ext id) to
 * |b|; errors are sticky in |b|. |len| <= BT_METADATA_PIECE_LEN. */
void bt_metadata_put_request(bt_buf *b, uint32_t piece);
void bt_metadata_put_reject(bt_buf *b, uint32_t piece);
void bt_metadata_put_data(bt_buf *b, uint32_t piece, uint32_t total_size, const uint8_t *data,
                          size_t len);

/* Parses one ut_metadata payload |p|[0..n) (borrowed; msg->data points into it). Requires a
 * strict bencoded dict with integer msg_type and piece; data also needs total_size. Returns 0
 * (msg->type may be BT_UTM_UNKNOWN: ignore it), BT_ERR_PROTO (not a dict, missing or wrongly
 * typed keys, negative values, bytes after a request/reject dict, a data piece at or beyond
 * total_size) or BT_ERR_LIMIT (dict over BT_METADATA_MAX_DICT bytes or 64 items, piece at or
 * above BT_METADATA_MAX_PIECES, total_size above BT_METADATA_MAX_SIZE, a block over 16 KiB),
 * with *err_off (may be NULL) at the offending byte; or BT_ERR_NOMEM (temporary tokens). */
int bt_metadata_parse(const uint8_t *p, size_t n, bt_utm_msg *msg, const bt_mem *mem,
                      size_t *err_off);

/* Number of 16 KiB pieces for |size| bytes of metadata. */
uint32_t bt_metadata_piece_count(uint32_t size);

/* Seeding: appends the data message for piece |piece| of the info dict |info|[0..len), or a
 * reject when |piece| is out of range. Returns true if it sent data. */
bool bt_metadata_serve(bt_buf *b, const uint8_t *info, size_t len, uint32_t piece);

/* ---- assembler (downloading from magnet links) ---- */

typedef struct bt_metadata bt_metadata;

/* Creates an assembler for |size| bytes (the peer's metadata_size, BEP 10 handshake) of the
 * info dict whose SHA-1 must be |info_hash|. Returns 0, BT_ERR_LIMIT (size 0 or above
 * BT_METADATA_MAX_SIZE) or BT_ERR_NOMEM. */
int bt_metadata_new(bt_metadata **pm, const uint8_t info_hash[20], uint32_t size,
                    const bt_mem *mem);
void bt_metadata_del(bt_metadata *m); /* NULL is a no-op */

uint32_t bt_metadata_size(const bt_metadata *m);
/* The first missing piece at or after |from| (wrapping around), or -1 when none is missing. */
int32_t bt_metadata_next_missing(const bt_metadata *m, uint32_t from);
bool bt_metadata_have(const bt_metadata *m, uint32_t piece);

/* Stores a received data message. A piece already held is ignored. When the last piece
 * arrives the whole is hashed: on a match the assembler is done (returns 1); on a mismatch
 * every piece is dropped, the failure count goes up and BT_ERR_PROTO is returned (fetch again,
 * preferably from other peers). Returns 0 (stored, not complete), 1 (complete and verified),
 * BT_ERR_PROTO (total_size differs from ours, piece out of range, a block of the wrong length
 * (16 KiB except the last), or the hash mismatch above), BT_ERR_STATE (already done). */
int bt_metadata_add(bt_metadata *m, const bt_utm_msg *msg);
bool bt_metadata_done(const bt_metadata *m);
uint32_t bt_metadata_failures(const bt_metadata *m);
/* Done: the verified info dict (valid until bt_metadata_del). NULL before. */
const uint8_t *bt_metadata_data(const bt_metadata *m, size_t *len);

/* Appends a minimal .torrent, d4:info<info>e, that bt_metainfo_parse accepts (trackers come
 * from the magnet link). Errors are sticky in |b|. */
void bt_metadata_wrap(bt_buf *b, const uint8_t *info, size_t len);

#endif
