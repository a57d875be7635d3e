/* bt_magnet.h: magnet URI parser (BEP 9 "magnet URI format"): xt=urn:btih (40 hex or 32
 * base32), dn, tr (several), x.pe; percent-decoding; hard limits on length and counts and an
 * error with the byte offset. Never does I/O or name resolution.
 *   https://www.bittorrent.org/beps/bep_0009.html#magnet-uri-format */
#ifndef BT_MAGNET_H
#define BT_MAGNET_H

#include "bt_types.h"

#define BT_MAGNET_MAX_LEN 8192    /* whole URI */
#define BT_MAGNET_MAX_PARAMS 256  /* key=value pairs */
#define BT_MAGNET_MAX_TRACKERS 64 /* distinct tr values kept */
#define BT_MAGNET_MAX_PEERS 64    /* x.pe addresses kept */
#define BT_MAGNET_MAX_VALUE 2048  /* one decoded value (dn, tr) */

typedef struct bt_magnet {
    uint8_t info_hash[20];
    char *name;      /* dn, decoded ('+' means space), NUL-terminated; NULL if absent */
    char **trackers; /* tr values, decoded, in order, duplicates dropped */
    uint32_t ntrackers;
    bt_addr *peers; /* x.pe values that are IP literals: "1.2.3.4:6881", "[::1]:6881" */
    uint32_t npeers;
    uint32_t npeers_skipped; /* x.pe values naming a host (the host may resolve them) */
    const bt_mem *mem;
} bt_magnet;

typedef struct bt_magnet_error {
    size_t offset;   /* byte offset in the URI */
    const char *msg; /* static string */
} bt_magnet_error;

/* Parses |uri|[0..len) ("magnet:?" then '&'-separated key=value pairs; the scheme is
 * case-insensitive). Keys: xt (also xt.N), dn, tr (also tr.N), x.pe; others are ignored.
 * Several xt are allowed (e.g. a btmh next to the btih) but btih values must agree.
 * |uri| is borrowed; results are copies owned by |mg| (free with bt_magnet_free).
 * Returns 0; BT_ERR_PROTO (not a magnet URI, a parameter without '=', a bad %-escape or %00, a
 * control character in dn/tr, a malformed btih, conflicting btih values, no btih, a bad x.pe
 * port) or BT_ERR_LIMIT (URI, parameter, tracker, peer or value counts/lengths over the
 * limits above), both with |err| (may be NULL) at the offending byte or parameter; or
 * BT_ERR_NOMEM. On failure |mg| holds nothing to free. */
int bt_magnet_parse(bt_magnet *mg, const char *uri, size_t len, const bt_mem *mem,
                    bt_magnet_error *err);
void bt_magnet_free(bt_magnet *mg);

/* Decodes a 40-hex or 32-base32 info hash (either case). Returns 0 or BT_ERR_PROTO. */
int bt_magnet_decode_hash(const char *s, size_t n, uint8_t out[20]);

#endif
