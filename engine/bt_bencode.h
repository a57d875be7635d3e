/* bt_bencode.h: strict bencode (BEP 3) decoder into a flat token array, and an encoder.
 * The decoder uses an explicit bounded stack (no recursion) and reports the exact byte offset
 * of the first error. It never allocates more than its limits allow and never does I/O.
 * https://www.bittorrent.org/beps/bep_0003.html#bencoding */
#ifndef BT_BENCODE_H
#define BT_BENCODE_H

#include "bt_types.h"

typedef enum bt_ben_type {
    BT_BEN_INT = 1,
    BT_BEN_STR = 2,
    BT_BEN_LIST = 3,
    BT_BEN_DICT = 4,
} bt_ben_type;

#define BT_BEN_NONE UINT32_MAX /* "no such token" */

/* One decoded item. Tokens are stored in pre-order: a list's or dict's children follow it
 * directly; a dict's children alternate key (always STR), value. */
typedef struct bt_ben_tok {
    uint8_t type;     /* bt_ben_type */
    uint32_t start;   /* offset of the item's first byte in the input */
    uint32_t end;     /* offset one past the item's last byte (so [start,end) is its raw bytes) */
    uint32_t next;    /* index of the first token after this item's whole subtree */
    uint32_t count;   /* LIST: number of elements; DICT: number of key/value pairs */
    int64_t ival;     /* INT: the value */
    uint32_t str_off; /* STR: offset of the payload */
    uint32_t str_len; /* STR: payload length */
} bt_ben_tok;

typedef struct bt_ben_limits {
    uint32_t max_depth;  /* nesting of lists/dicts, e.g. 64 */
    uint32_t max_tokens; /* total items, e.g. 1 << 20 */
    size_t max_input;    /* input length, e.g. 64 MiB; at most UINT32_MAX - 1 */
} bt_ben_limits;

/* Defaults: depth 64, 1M tokens, 64 MiB input. */
extern const bt_ben_limits bt_ben_default_limits;

typedef struct bt_ben_doc {
    const uint8_t *buf; /* borrowed input; must outlive the doc */
    size_t len;
    bt_ben_tok *toks;
    uint32_t ntoks;
    const bt_mem *mem;
} bt_ben_doc;

/* Error detail from bt_ben_parse. |msg| is a static string. */
typedef struct bt_ben_error {
    size_t offset;
    const char *msg;
} bt_ben_error;

/* Decodes exactly one item that spans all of |buf|[0..len) (trailing bytes are an error).
 * Strict: integers must be canonical (no leading zeros, no "-0", no empty, fit int64); string
 * lengths canonical and within the input; dict keys strictly ascending as raw byte strings
 * (so duplicates are rejected); truncation, depth, token count and input size are limited.
 * |lim| may be NULL for the defaults. |buf| is borrowed and must outlive |doc|.
 * Returns 0, or BT_ERR_PROTO / BT_ERR_LIMIT with |err| (may be NULL) filled, or
 * BT_ERR_NOMEM. On failure |doc| holds nothing to free (it is zeroed).
 * Error offsets: the offending byte (bad type byte, bad digit, the 'e' of "ie", the '0' of
 * "i03e" or "03:", the first byte of an unsorted or duplicate key, the first trailing byte);
 * the start of an out-of-range integer or of a string whose length exceeds max_input
 * (BT_ERR_LIMIT); the input length when the input ends early; the container's first byte for
 * depth and the item's first byte for token-count limits (both BT_ERR_LIMIT). */
int bt_ben_parse(bt_ben_doc *doc, const uint8_t *buf, size_t len, const bt_ben_limits *lim,
                 const bt_mem *mem, bt_ben_error *err);

/* Like bt_ben_parse but decodes one item from the start of |buf| and stops there; *used is set
 * to the item's length (also doc->len). Needed for BEP 9 data messages (dict followed by raw
 * bytes). |len| may exceed max_input: only the item itself must fit in max_input bytes. */
int bt_ben_parse_prefix(bt_ben_doc *doc, const uint8_t *buf, size_t len, size_t *used,
                        const bt_ben_limits *lim, const bt_mem *mem, bt_ben_error *err);

void bt_ben_free(bt_ben_doc *doc);

/* Lookup helpers; |tok| indexes doc->toks. All return BT_BEN_NONE / false when absent or of
 * the wrong type, never crash on any token index < ntoks. */
uint32_t bt_ben_dict_get(const bt_ben_doc *doc, uint32_t dict, const char *key);
/* Returns the token of the |i|th element of a list (linear in i), or BT_BEN_NONE. */
uint32_t bt_ben_list_at(const bt_ben_doc *doc, uint32_t list, uint32_t i);
bool bt_ben_get_int(const bt_ben_doc *doc, uint32_t tok, int64_t *out);
bool bt_ben_get_str(const bt_ben_doc *doc, uint32_t tok, const uint8_t **p, size_t *n);
/* Convenience: dict_get + get_int / get_str. */
bool bt_ben_dict_int(const bt_ben_doc *doc, uint32_t dict, const char *key, int64_t *out);
bool bt_ben_dict_str(const bt_ben_doc *doc, uint32_t dict, const char *key, const uint8_t **p,
                     size_t *n);

/* Encoder: appends to a bt_buf (errors are sticky in the buffer). Callers emit dict keys in
 * sorted order themselves. */
void bt_ben_put_int(bt_buf *b, int64_t v);
void bt_ben_put_str(bt_buf *b, const void *p, size_t n);
void bt_ben_put_cstr(bt_buf *b, const char *s);
void bt_ben_put_list(bt_buf *b); /* 'l' */
void bt_ben_put_dict(bt_buf *b); /* 'd' */
void bt_ben_put_end(bt_buf *b);  /* 'e' */

#endif
