/* bt_pex.h: BEP 11 peer exchange: the ut_pex message codec (added, added.f, added6, added6.f,
 * dropped, dropped6; compact forms; flags) with per-message limits. Never does I/O; the
 * extension id and framing are the wire module's (bt_wire_put_extended).
 *   https://www.bittorrent.org/beps/bep_0011.html */
#ifndef BT_PEX_H
#define BT_PEX_H

#include "bt_types.h"

/* BEP 11 added.f / added6.f flag bits. */
#define BT_PEX_F_ENCRYPT 0x01   /* prefers encryption (MSE) */
#define BT_PEX_F_SEED 0x02      /* seed / upload only */
#define BT_PEX_F_UTP 0x04       /* supports uTP */
#define BT_PEX_F_HOLEPUNCH 0x08 /* supports ut_holepunch */
#define BT_PEX_F_REACHABLE 0x10 /* outgoing connection: reachable */

/* Entries per list (added, added6, dropped, dropped6): BEP 11 allows 50 per message, except in
 * the first message to a peer, which may carry the current set. */
#define BT_PEX_MAX_ENTRIES 50
#define BT_PEX_MAX_FIRST 200
#define BT_PEX_MAX_PAYLOAD 16384 /* bencoded payload we accept (full lists take ~10 KB) */

typedef struct bt_pex_peer {
    bt_addr addr; /* family 4 or 6, port != 0 */
    uint8_t flags;
} bt_pex_peer;

typedef struct bt_pex_msg {
    bt_pex_peer added[2 * BT_PEX_MAX_FIRST]; /* IPv4 and IPv6 together, each family in order */
    uint32_t nadded;
    bt_addr dropped[2 * BT_PEX_MAX_FIRST];
    uint32_t ndropped;
    uint32_t nskipped; /* entries with port 0 that were dropped while decoding */
} bt_pex_msg;

/* Appends the bencoded ut_pex payload for |msg| (the bytes after the ext id): added, added.f,
 * added6, added6.f, dropped, dropped6, each present only when non-empty. Returns 0,
 * BT_ERR_LIMIT (a list over BT_PEX_MAX_ENTRIES, or BT_PEX_MAX_FIRST when |first|; nothing is
 * appended), or the sticky error of |b|. Entries of another family are a caller bug. */
int bt_pex_put(bt_buf *b, const bt_pex_msg *msg, bool first);

/* Parses a ut_pex payload |p|[0..n) into |msg| (always reset first), accepting at most
 * |max_entries| (<= BT_PEX_MAX_FIRST) entries per list: BT_PEX_MAX_ENTRIES is BEP 11 to the
 * letter for every message but the first; BT_PEX_MAX_FIRST tolerates clients that send more
 * (the live code should use it until interop tests say otherwise). Keys of the wrong type are
 * errors; unknown keys are ignored; a flags string shorter than its list leaves the rest 0 and
 * extra flag bytes are ignored (clients disagree); entries with port 0 are skipped and counted.
 * Returns 0; BT_ERR_PROTO (not a strict bencoded dict, a list that is not a string, a compact
 * list whose length is not a multiple of 6 or 18) or BT_ERR_LIMIT (payload over
 * BT_PEX_MAX_PAYLOAD, a list over |max_entries|), with *err_off (may be
 * NULL) at the offending byte; or BT_ERR_NOMEM (temporary tokens from |mem|). */
int bt_pex_parse(const uint8_t *p, size_t n, uint32_t max_entries, bt_pex_msg *msg,
                 const bt_mem *mem, size_t *err_off);

/* ---- per-connection sender state (bt_pex_state.c) ---- */

#define BT_PEX_MAX_TRACKED 2000 /* peers remembered per connection as advertised */

/* What we last told one peer: the set of addresses it believes we are connected to. */
typedef struct bt_pex_state {
    bt_addr *sent; /* advertised and not yet dropped, in the order they were added */
    uint32_t nsent;
    bool started; /* the first message went out (later ones obey BT_PEX_MAX_ENTRIES) */
    const bt_mem *mem;
} bt_pex_state;

void bt_pex_state_init(bt_pex_state *s, const bt_mem *mem);
void bt_pex_state_free(bt_pex_state *s);

/* Builds the next message for one peer from |cur|[0..ncur), the peers we are connected to now
 * (no duplicates; the receiving peer itself excluded by the caller; at most
 * BT_PEX_MAX_TRACKED are considered): dropped = advertised but gone, added = new, each family
 * capped at BT_PEX_MAX_FIRST for the first message and BT_PEX_MAX_ENTRIES after (the rest
 * waits for the next call), in the order of |cur| and of the state. |s| is updated as if the
 * message was sent; call at most once a minute (BEP 11) and send |out| with bt_pex_put(b, out,
 * first) where |first| is the value *first gets here. Returns the number of entries (0: send
 * nothing) or BT_ERR_NOMEM (|s| unchanged). */
int bt_pex_state_next(bt_pex_state *s, const bt_pex_peer *cur, uint32_t ncur, bt_pex_msg *out,
                      bool *first);

#endif
