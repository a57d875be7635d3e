/* bt_wire.h: the peer wire protocol as a codec: BEP 3 handshake and messages, BEP 6 Fast
 * extension, BEP 10 extension handshake, keep-alives; an incremental parser that accepts any
 * fragmentation (one byte at a time works) with a hard length limit per message type.
 * Engine-private. Never does I/O, never allocates per message.
 *   https://www.bittorrent.org/beps/bep_0003.html  (handshake, messages)
 *   https://www.bittorrent.org/beps/bep_0006.html  (Fast extension)
 *   https://www.bittorrent.org/beps/bep_0010.html  (extension protocol) */
#ifndef BT_WIRE_H
#define BT_WIRE_H

#include "bt_types.h"

#define BT_HANDSHAKE_LEN 68 /* <19>"BitTorrent protocol"<reserved 8><info_hash 20><peer_id 20> */
#define BT_BLOCK_LEN 16384u /* BEP 3: 2^14 */
#define BT_MAX_BLOCK_LEN 131072u /* largest piece/request length we accept from a peer */

/* Reserved-bit tests and setters (byte index from 0). */
#define BT_RESERVED_EXT_BYTE 5 /* BEP 10: reserved[5] & 0x10 */
#define BT_RESERVED_EXT_BIT 0x10
#define BT_RESERVED_FAST_BYTE 7 /* BEP 6: reserved[7] & 0x04 */
#define BT_RESERVED_FAST_BIT 0x04

enum bt_msg_id {
    BT_MSG_CHOKE = 0,
    BT_MSG_UNCHOKE = 1,
    BT_MSG_INTERESTED = 2,
    BT_MSG_NOT_INTERESTED = 3,
    BT_MSG_HAVE = 4,
    BT_MSG_BITFIELD = 5,
    BT_MSG_REQUEST = 6,
    BT_MSG_PIECE = 7,
    BT_MSG_CANCEL = 8,
    BT_MSG_PORT = 9,     /* BEP 5 */
    BT_MSG_SUGGEST = 13, /* BEP 6 */
    BT_MSG_HAVE_ALL = 14,
    BT_MSG_HAVE_NONE = 15,
    BT_MSG_REJECT = 16,
    BT_MSG_ALLOWED_FAST = 17,
    BT_MSG_EXTENDED = 20,   /* BEP 10 */
    BT_MSG_KEEPALIVE = 255, /* pseudo id: a zero-length message */
    BT_MSG_UNKNOWN = 254,   /* pseudo id: an unknown id, skipped (payload not delivered) */
};

typedef struct bt_handshake {
    uint8_t reserved[8];
    uint8_t info_hash[20];
    uint8_t peer_id[20];
} bt_handshake;

/* Appends the 68-byte handshake (BEP 3): <19>"BitTorrent protocol"<reserved><info_hash>
 * <peer_id>. Errors are sticky in |b|. */
void bt_wire_put_handshake(bt_buf *b, const bt_handshake *hs);
/* Parses the 68 bytes at |in| into |hs|. Returns 0, or BT_ERR_PROTO when the length byte is
 * not 19 or the protocol string is not "BitTorrent protocol" (|hs| is then untouched). */
int bt_wire_parse_handshake(const uint8_t in[BT_HANDSHAKE_LEN], bt_handshake *hs);

/* Message encoders: each appends one complete framed message (4-byte big-endian length prefix
 * included) to |b|; errors (BT_ERR_NOMEM / BT_ERR_LIMIT) are sticky in |b|. Passing an id of
 * the wrong kind is a caller bug (assert). */
void bt_wire_put_keepalive(bt_buf *b);
/* choke, unchoke, interested, not interested, have all, have none */
void bt_wire_put_simple(bt_buf *b, uint8_t id);
/* have, suggest, allowed fast */
void bt_wire_put_index(bt_buf *b, uint8_t id, uint32_t index);
/* |nbytes| must be ceil(npieces/8) with the spare bits zero for the peer to accept it. */
void bt_wire_put_bitfield(bt_buf *b, const uint8_t *bits, size_t nbytes);
/* request, cancel, reject */
void bt_wire_put_block(bt_buf *b, uint8_t id, uint32_t index, uint32_t begin, uint32_t length);
/* The 13-byte header of a piece message carrying |length| payload bytes (sent separately). */
void bt_wire_put_piece_header(bt_buf *b, uint32_t index, uint32_t begin, uint32_t length);
void bt_wire_put_port(bt_buf *b, uint16_t port);
/* id 20, |ext_id|, then |len| payload bytes (|payload| may be NULL when |len| is 0). */
void bt_wire_put_extended(bt_buf *b, uint8_t ext_id, const uint8_t *payload, size_t len);

/* BEP 10 extension handshake contents (the subset we send and read). */
#define BT_EXT_MAX_M 16
#define BT_EXT_NAME_MAX 32
typedef struct bt_ext_handshake {
    struct {
        char name[BT_EXT_NAME_MAX]; /* NUL-terminated */
        uint8_t id;                 /* 0 = disabled */
    } m[BT_EXT_MAX_M];
    uint32_t n_m;
    char v[64];    /* client name/version, NUL-terminated, truncated if longer */
    uint32_t reqq; /* 0 if absent */
    uint16_t p;    /* listen port, 0 if absent */
    uint8_t yourip[16];
    uint8_t yourip_len;    /* 0, 4 or 16 */
    int64_t metadata_size; /* -1 if absent */
    bool upload_only;
} bt_ext_handshake;

/* Appends a complete extended message (id 20, ext id 0; BEP 10) carrying |hs| as a bencoded
 * dict with sorted keys: m (entries sorted by name, duplicate names sent once), metadata_size
 * if >= 0, p if nonzero, reqq if nonzero, upload_only (as 1) if true, v if nonempty, yourip if
 * yourip_len is 4 or 16. Errors are sticky in |b|. */
void bt_wire_put_ext_handshake(bt_buf *b, const bt_ext_handshake *hs);
/* Parses the bencoded payload |p|[0..n) of an extension handshake (after the ext id byte) into
 * |hs| (always fully reset first: metadata_size -1, everything else 0/empty). Reads m (names
 * 1..BT_EXT_NAME_MAX-1 bytes without NUL, ids 0..255, the first BT_EXT_MAX_M such entries; the
 * rest are skipped), v (truncated), reqq (>= 1), p (1..65535), yourip (4 or 16 bytes),
 * metadata_size (>= 0), upload_only (nonzero integer). Unknown keys are ignored and a key of
 * the wrong type or out of range is ignored. Temporary memory comes from |mem| and is freed.
 * Returns 0, BT_ERR_PROTO if the payload is not one strict bencoded dict (trailing bytes,
 * unsorted keys...), BT_ERR_LIMIT if it nests deeper than 8 or has more than 1024 items,
 * BT_ERR_NOMEM. */
int bt_wire_parse_ext_handshake(const uint8_t *p, size_t n, bt_ext_handshake *hs,
                                const bt_mem *mem);

/* ---- incremental parser ---- */

typedef struct bt_wire_limits {
    uint32_t npieces;          /* for have/bitfield validation */
    uint32_t max_block_len;    /* largest piece payload / request length, e.g. BT_MAX_BLOCK_LEN */
    uint32_t max_extended_len; /* largest extended message (length prefix value), e.g. 1 MiB */
    uint32_t max_unknown_len;  /* largest unknown message (length prefix value) we skip */
    bool any_bitfield;         /* accept a bitfield of any length up to 1 + ceil(npieces/8)
                                  (a client fetching metadata does not know npieces yet) */
} bt_wire_limits;

/* One parsed message (or one fragment of a piece's payload). */
typedef struct bt_wire_msg {
    uint8_t id;      /* bt_msg_id, or BT_MSG_KEEPALIVE / BT_MSG_UNKNOWN */
    uint8_t raw_id;  /* the id byte on the wire (== id except for BT_MSG_UNKNOWN; 0 for
                      * keep-alives) */
    uint32_t index;  /* have, suggest, allowed fast, request, cancel, reject, piece */
    uint32_t begin;  /* request, cancel, reject, piece */
    uint32_t length; /* request, cancel, reject: requested length; piece: whole block length;
                      * unknown: payload bytes skipped (length prefix - 1) */
    uint16_t port;   /* port */
    uint8_t ext_id;  /* extended */
    /* bitfield: the bytes; extended: payload after the ext id; piece: this fragment's bytes
     * (NULL for virtual payload). Points into the input or the parser's buffer; valid until
     * the next parser call (and as long as the input). */
    const uint8_t *data;
    size_t data_len;
    uint32_t frag_off; /* piece: offset of this fragment within the block */
    bool last;         /* piece: this fragment ends the block */
} bt_wire_msg;

/* Parser state. Embed it and treat every field but |lim| (which may be updated between
 * messages, e.g. npieces once metadata is known), |error| and |offset| as private. */
typedef struct bt_wire_parser {
    bt_wire_limits lim;
    uint8_t state;   /* private */
    uint8_t hdr[13]; /* the length prefix, then the id + fixed fields being assembled */
    uint32_t hdr_have;
    uint32_t msg_len;   /* length prefix of the current message */
    uint32_t body_have; /* bytes of the current message's variable part consumed */
    uint8_t cur_id;
    uint8_t *body; /* buffer for bitfield / extended payloads (grown up to the limits) */
    size_t body_cap;
    const bt_mem *mem;
    const char *error; /* static reason for the last BT_ERR_PROTO / BT_ERR_LIMIT / NOMEM */
    uint64_t offset;   /* total bytes consumed so far; after an error, the stream position
                        * just past the byte that revealed it */
} bt_wire_parser;

/* Initialises |p| with a copy of |lim|; |mem| must outlive the parser. Never allocates. */
void bt_wire_parser_init(bt_wire_parser *p, const bt_wire_limits *lim, const bt_mem *mem);
/* Frees the body buffer. Safe after an error and on a parser that never allocated. */
void bt_wire_parser_free(bt_wire_parser *p);

/* Consumes bytes from |in|[0..len) until one message (or one piece fragment) is complete.
 * Returns 1 with *msg filled when a message is ready (*consumed says how much of |in| was
 * used); 0 when all of |in| was consumed without completing one (*consumed == len);
 * BT_ERR_PROTO or BT_ERR_LIMIT on a violation (p->error names it, p->offset is the position,
 * *consumed counts the bytes used up to it); BT_ERR_NOMEM if the body buffer cannot grow.
 * After an error the parser must not be used again (assert). Any fragmentation of the same
 * stream gives the same messages and the same error at the same offset. Per-message rules:
 * choke..not interested, have all/none: length 1; have/suggest/allowed fast: length 5 and
 * index < npieces; bitfield: 1 + ceil(npieces/8) with zero spare bits (returned whole);
 * request/cancel/reject: length 13, block length 1..max_block_len, index < npieces; piece:
 * payload 1..max_block_len, index < npieces, delivered as fragments as it arrives (never
 * buffered), at most one per call; port: length 3; extended: length 2..max_extended_len
 * (returned whole); unknown ids: skipped and returned as BT_MSG_UNKNOWN if the length is at
 * most max_unknown_len. A length prefix above every limit fails before its body arrives. */
int bt_wire_parse(bt_wire_parser *p, const uint8_t *in, size_t len, size_t *consumed,
                  bt_wire_msg *msg);

/* Like bt_wire_parse for |n| bytes of *virtual* piece payload (simulator mode): legal only
 * while the parser is inside a piece's payload; the fragment has data == NULL. Returns 1 with
 * *msg (a fragment, *consumed <= n), 0 when |n| is 0, or BT_ERR_PROTO if not inside a piece
 * payload (the parser is then dead, as after any error). */
int bt_wire_parse_virtual(bt_wire_parser *p, size_t n, size_t *consumed, bt_wire_msg *msg);

/* True when the parser is inside a piece message's payload; *remaining (may be NULL) gets the
 * payload bytes still to come (always >= 1 then). */
bool bt_wire_in_payload(const bt_wire_parser *p, uint32_t *remaining);

#endif
