/* bt_tracker.h: tracker codecs. HTTP announce (query string building, bencoded reply with
 * compact and dictionary peer lists) and the UDP tracker protocol (BEP 15: connect, announce,
 * scrape, error packets). Pure codecs: the host moves the bytes.
 *   https://www.bittorrent.org/beps/bep_0003.html#trackers
 *   https://www.bittorrent.org/beps/bep_0023.html  (compact peer lists)
 *   https://www.bittorrent.org/beps/bep_0007.html  (peers6)
 *   https://www.bittorrent.org/beps/bep_0015.html  (UDP tracker) */
#ifndef BT_TRACKER_H
#define BT_TRACKER_H

#include "bt_types.h"

/* Event numbering as in BEP 15 (HTTP uses the names). */
typedef enum bt_announce_event {
    BT_EVENT_NONE = 0,
    BT_EVENT_COMPLETED = 1,
    BT_EVENT_STARTED = 2,
    BT_EVENT_STOPPED = 3,
} bt_announce_event;

typedef struct bt_announce_req {
    uint8_t info_hash[20];
    uint8_t peer_id[20];
    uint16_t port;
    uint64_t uploaded;
    uint64_t downloaded;
    uint64_t left;
    bt_announce_event event;
    int32_t numwant; /* -1 = tracker default */
    uint32_t key;
} bt_announce_req;

/* Hard limits on replies. */
#define BT_TRACKER_MAX_REPLY (4u << 20) /* bytes of an HTTP reply body */
#define BT_TRACKER_MAX_PEERS 4096u      /* peers kept from one reply */
#define BT_TRACKER_MAX_TEXT 1024u       /* failure reason / warning kept */

typedef struct bt_announce_reply {
    int64_t interval;     /* seconds; -1 if absent */
    int64_t min_interval; /* -1 if absent */
    int64_t complete;     /* seeders; -1 if absent */
    int64_t incomplete;   /* leechers; -1 if absent */
    bt_addr *peers;       /* owned by the reply */
    uint32_t npeers;
    char *failure; /* "failure reason", NUL-terminated, or NULL */
    char *warning; /* "warning message", or NULL */
    uint8_t tracker_id[64];
    uint32_t tracker_id_len;
    const bt_mem *mem;
} bt_announce_reply;

/* Frees what |r| owns (peers, failure, warning) and zeroes it, keeping r->mem. Safe on a
 * zeroed struct, twice in a row, and after a failed parse. Defined in bt_tracker_udp.c. */
void bt_announce_reply_free(bt_announce_reply *r);

/* Appends the announce URL for |base_url| to |out|: base_url, then '?' (or '&' when base_url
 * already holds a '?'; nothing when it ends in '?' or '&'), then in this order
 *   info_hash=..&peer_id=..&port=N&uploaded=N&downloaded=N&left=N&compact=1
 *   [&event=started|completed|stopped] [&numwant=N] &key=xxxxxxxx
 * info_hash and peer_id are percent-encoded bytewise (RFC 3986 unreserved A-Z a-z 0-9 - . _ ~
 * stay literal, every other byte is %XX in upper-case hex); event is omitted for
 * BT_EVENT_NONE, numwant when < 0; key is 8 lower-case hex digits. The text is NUL-terminated:
 * out->len counts the URL without the terminator and out->data[out->len] == '\0' (so |out|
 * needs room for one extra byte). Returns 0 or the buffer's sticky error (BT_ERR_NOMEM,
 * BT_ERR_LIMIT). */
int bt_tracker_http_build_url(bt_buf *out, const char *base_url, const bt_announce_req *req);

/* Parses a bencoded announce reply |body| (BEP 3) of |len| bytes into |r|, allocating through
 * |mem|. The body must be one bencoded dict (else BT_ERR_PROTO), at most BT_TRACKER_MAX_REPLY
 * bytes and nested at most 8 deep (else BT_ERR_LIMIT).
 *  - "failure reason" (string): copied (truncated to BT_TRACKER_MAX_TEXT bytes) into
 *    r->failure and 0 is returned; no other key is then read.
 *  - "warning message" (string) -> r->warning, truncated likewise.
 *  - "interval", "min interval", "complete", "incomplete" (ints): a negative value is treated
 *    as absent (-1), a value above UINT32_MAX is clamped to UINT32_MAX (the UDP range); absent
 *    -> -1. A reply without interval is accepted (interval -1).
 *  - "tracker id" (string): kept when at most 64 bytes, otherwise ignored (never truncated,
 *    since it must be echoed exactly).
 *  - "peers": a string (compact, BEP 23; length a multiple of 6, else BT_ERR_PROTO) or a list
 *    of dicts with "ip" (dotted IPv4 or textual IPv6; IPv4-mapped IPv6 becomes family 4) and
 *    "port"; list entries that are not dicts, lack a string ip that parses (hostnames do not),
 *    or lack an int port in 1..65535 are skipped. "peer id" is not kept.
 *  - "peers6": a string (BEP 7; length a multiple of 18, else BT_ERR_PROTO).
 *  A known key with the wrong bencode type is BT_ERR_PROTO. Peers with port 0 are skipped;
 * peers past BT_TRACKER_MAX_PEERS are ignored (not an error). Compact peers come first, then
 * the list, then peers6, each in reply order. Unknown keys are ignored.
 * Returns 0, BT_ERR_PROTO or BT_ERR_LIMIT (with *err_off, the byte offset, and *err_msg, a
 * static string, when those are non-NULL), or BT_ERR_NOMEM. On failure |r| is zeroed (holds
 * nothing to free). On success free it with bt_announce_reply_free. |body| is borrowed. */
int bt_tracker_http_parse_reply(bt_announce_reply *r, const uint8_t *body, size_t len,
                                const bt_mem *mem, size_t *err_off, const char **err_msg);

/* Scrape (BEP 48): appends to |out| the scrape URL derived from |announce_url| plus the
 * info_hash parameter (percent-encoded as above, joined with '?' or '&'), NUL-terminated like
 * bt_tracker_http_build_url. Rule: find the last '/' in the whole URL; the text after it must
 * start with "announce", which is replaced by "scrape". Returns 0, BT_ERR_NOTFOUND (nothing
 * appended) when the rule does not apply, or the buffer's error.
 *   https://www.bittorrent.org/beps/bep_0048.html */
int bt_tracker_http_scrape_url(bt_buf *out, const char *announce_url, const uint8_t info_hash[20]);

typedef struct bt_scrape_entry {
    uint8_t info_hash[20];
    int64_t complete, downloaded, incomplete;
} bt_scrape_entry;

/* Parses an HTTP scrape reply |body| (at most BT_TRACKER_MAX_REPLY bytes) for torrent |ih|:
 * d5:filesd20:<ih>d8:completei..e10:downloadedi..e10:incompletei..eeee. A "failure reason"
 * is reported as the error. Counts must be 0..2^31-1 (a missing one is -1); a torrent missing
 * from "files" (the tracker does not know it) has 0 of each. Returns 0 with
 * |out|, or -1 with a message (and byte offset, for malformed bencode) in |msg|. */
int bt_tracker_http_parse_scrape(const uint8_t *body, size_t len, const uint8_t ih[20],
                                 bt_scrape_entry *out, char *msg, size_t mlen);

/* ---- UDP (BEP 15) ---- */
#define BT_UDP_PROTOCOL_ID 0x41727101980ULL /* BEP 15: magic of the connect request */
/* BEP 15 actions. */
enum { BT_UDP_CONNECT = 0, BT_UDP_ANNOUNCE = 1, BT_UDP_SCRAPE = 2, BT_UDP_ERROR = 3 };
#define BT_UDP_MAX_SCRAPE 74 /* BEP 15: "up to about 74 torrents can be scraped at once" */

/* Request builders: append the packet to |out| (errors are sticky in |out|).
 * connect: 16 bytes. announce: 98 bytes, ip field 0, num_want as a signed 32-bit value, no
 * BEP 41 options. scrape: 16 + 20n bytes, 1 <= |n| <= BT_UDP_MAX_SCRAPE (asserted). */
void bt_udp_put_connect(bt_buf *out, uint32_t txid);
void bt_udp_put_announce(bt_buf *out, uint64_t conn_id, uint32_t txid, const bt_announce_req *req);
void bt_udp_put_scrape(bt_buf *out, uint64_t conn_id, uint32_t txid, const uint8_t (*hashes)[20],
                       uint32_t n);

/* Response builders (server side: the simulated tracker and tests). Append to |out|.
 * announce: 20 bytes plus 6 (|family| 4) or 18 (|family| 6) per peer; peers of the other
 * family are left out. Interval, leechers and seeders are clamped to 0..UINT32_MAX.
 * scrape: 8 + 12n bytes (info_hash of the entries unused). error: 8 + strlen(|msg|). */
void bt_udp_put_connect_reply(bt_buf *out, uint32_t txid, uint64_t conn_id);
void bt_udp_put_announce_reply(bt_buf *out, uint32_t txid, int64_t interval, int64_t leechers,
                               int64_t seeders, const bt_addr *peers, uint32_t npeers, int family);
void bt_udp_put_scrape_reply(bt_buf *out, uint32_t txid, const bt_scrape_entry *e, uint32_t n);
void bt_udp_put_error(bt_buf *out, uint32_t txid, const char *msg);

/* A decoded response. Check |action| first: BT_UDP_ERROR carries |error| text. */
typedef struct bt_udp_reply {
    uint32_t action;
    uint32_t txid;
    uint64_t conn_id; /* connect */
    /* announce: interval, leechers -> incomplete, seeders -> complete, peers */
    bt_announce_reply announce;
    bt_scrape_entry *scrape; /* scrape: one per requested hash, info_hash left zeroed */
    uint32_t nscrape;
    char *error; /* error: message, NUL-terminated */
    const bt_mem *mem;
} bt_udp_reply;

/* Parses one response datagram |pkt| of |len| bytes into |r| (allocating through |mem|).
 * |family| (4 or 6, asserted) is the address family the datagram came over (selects 6- or
 * 18-byte peer entries). Sizes: every packet >= 8; connect >= 16 (extra bytes ignored);
 * announce >= 20 with a whole number of peer entries after the header; scrape 8 + 12n with
 * n <= BT_UDP_MAX_SCRAPE (more is BT_ERR_LIMIT); error >= 8, the rest is the message (any
 * bytes, truncated to BT_TRACKER_MAX_TEXT, NUL-terminated, never NULL). Announce: peers with
 * port 0 are skipped, peers past BT_TRACKER_MAX_PEERS ignored; seeders -> complete, leechers
 * -> incomplete, min_interval = -1. The caller checks r->txid against its request.
 * Returns 0, BT_ERR_PROTO (bad size, unknown action), BT_ERR_LIMIT, BT_ERR_NOMEM. On failure
 * |r| is zeroed (holds nothing). |pkt| is borrowed. */
int bt_udp_parse_reply(bt_udp_reply *r, const uint8_t *pkt, size_t len, int family,
                       const bt_mem *mem);
/* Frees what |r| owns and zeroes it (keeps r->mem). Safe on a zeroed struct. */
void bt_udp_reply_free(bt_udp_reply *r);

/* Server side (used by the simulated tracker and by tests): parse a request packet. */
typedef struct bt_udp_request {
    uint32_t action;
    uint32_t txid;
    uint64_t conn_id; /* announce/scrape; connect: the protocol id */
    bt_announce_req announce;
    uint32_t nscrape;
    uint8_t scrape_hashes[BT_UDP_MAX_SCRAPE][20];
} bt_udp_request;
/* Parses request datagram |pkt| (|len| bytes) into |q| (no allocation). connect: exactly 16
 * bytes with the protocol id (BT_UDP_PROTOCOL_ID) in |conn_id|. announce: >= 98 bytes (BEP 41
 * options after byte 98 are ignored), event 0..3, the ip field ignored; |announce| filled.
 * scrape: exactly 16 + 20n bytes with 1 <= n <= BT_UDP_MAX_SCRAPE (n > max: BT_ERR_LIMIT).
 * Returns 0, BT_ERR_PROTO (bad size, protocol id, action or event) or BT_ERR_LIMIT. */
int bt_udp_parse_request(bt_udp_request *q, const uint8_t *pkt, size_t len);

/* Retransmission timeout of BEP 15 for attempt |attempt|: 15 * 2^n seconds for n = 0..8;
 * BT_TIME_NEVER past 8 (give up). */
bt_time_us bt_udp_timeout(uint32_t attempt);

#endif
