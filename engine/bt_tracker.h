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
#define BT_TRACKER_MAX_REPLY (4u << 20)  /* bytes of an HTTP reply body */
#define BT_TRACKER_MAX_PEERS 4096u       /* peers kept from one reply */
#define BT_TRACKER_MAX_TEXT 1024u        /* failure reason / warning kept */

typedef struct bt_announce_reply {
    int64_t interval;     /* seconds; -1 if absent */
    int64_t min_interval; /* -1 if absent */
    int64_t complete;     /* seeders; -1 if absent */
    int64_t incomplete;   /* leechers; -1 if absent */
    bt_addr *peers;       /* owned by the reply */
    uint32_t npeers;
    char *failure;        /* "failure reason", NUL-terminated, or NULL */
    char *warning;        /* "warning message", or NULL */
    uint8_t tracker_id[64];
    uint32_t tracker_id_len;
    const bt_mem *mem;
} bt_announce_reply;

void bt_announce_reply_free(bt_announce_reply *r);

/* Appends the announce URL for |base_url| (which may already hold a '?query') with
 * info_hash, peer_id (percent-encoded bytes), port, uploaded, downloaded, left, compact=1,
 * event (omitted for NONE), numwant (omitted if < 0) and key (8 hex digits). Result is
 * NUL-terminated in |out|. Returns 0 or the buffer's error. */
int bt_tracker_http_build_url(bt_buf *out, const char *base_url, const bt_announce_req *req);

/* Parses a bencoded announce reply body. A "failure reason" reply returns 0 with
 * r->failure set. Peers may be compact (BEP 23), a list of dicts, and/or "peers6" (BEP 7);
 * entries with port 0 or a malformed ip are skipped. Returns 0, BT_ERR_PROTO (with *err_off
 * and *err_msg when non-NULL), BT_ERR_LIMIT, BT_ERR_NOMEM. On failure |r| holds nothing. */
int bt_tracker_http_parse_reply(bt_announce_reply *r, const uint8_t *body, size_t len,
                                const bt_mem *mem, size_t *err_off, const char **err_msg);

/* Scrape (BEP 48): derives the scrape URL ("/announce" -> "/scrape"); BT_ERR_NOTFOUND when
 * the last path component does not start with "announce". */
int bt_tracker_http_scrape_url(bt_buf *out, const char *announce_url,
                               const uint8_t info_hash[20]);

typedef struct bt_scrape_entry {
    uint8_t info_hash[20];
    int64_t complete, downloaded, incomplete;
} bt_scrape_entry;

/* ---- UDP (BEP 15) ---- */
#define BT_UDP_PROTOCOL_ID 0x41727101980ULL
enum { BT_UDP_CONNECT = 0, BT_UDP_ANNOUNCE = 1, BT_UDP_SCRAPE = 2, BT_UDP_ERROR = 3 };
#define BT_UDP_MAX_SCRAPE 74

/* Request builders: append the packet to |out|. */
void bt_udp_put_connect(bt_buf *out, uint32_t txid);
void bt_udp_put_announce(bt_buf *out, uint64_t conn_id, uint32_t txid, const bt_announce_req *req);
/* |n| <= BT_UDP_MAX_SCRAPE */
void bt_udp_put_scrape(bt_buf *out, uint64_t conn_id, uint32_t txid, const uint8_t (*hashes)[20],
                       uint32_t n);

/* A decoded response. Check |action| first: BT_UDP_ERROR carries |error| text. */
typedef struct bt_udp_reply {
    uint32_t action;
    uint32_t txid;
    uint64_t conn_id;            /* connect */
    bt_announce_reply announce;  /* announce (interval, leechers->incomplete, seeders->complete, peers) */
    bt_scrape_entry *scrape;     /* scrape: one per requested hash, info_hash left zeroed */
    uint32_t nscrape;
    char *error;                 /* error: message, NUL-terminated */
    const bt_mem *mem;
} bt_udp_reply;

/* Parses one response datagram. |family| (4 or 6) is the address family the datagram came
 * over (selects 6- or 18-byte peer entries). Checks minimum sizes (connect 16, announce 20,
 * scrape 8, error 8), that peer data is a whole number of entries, and the limits. Returns 0,
 * BT_ERR_PROTO, BT_ERR_LIMIT, BT_ERR_NOMEM. On failure |r| holds nothing. */
int bt_udp_parse_reply(bt_udp_reply *r, const uint8_t *pkt, size_t len, int family,
                       const bt_mem *mem);
void bt_udp_reply_free(bt_udp_reply *r);

/* Server side (used by the simulated tracker and by tests): parse a request packet. */
typedef struct bt_udp_request {
    uint32_t action;
    uint32_t txid;
    uint64_t conn_id;      /* announce/scrape; connect: the protocol id */
    bt_announce_req announce;
    uint32_t nscrape;
    uint8_t scrape_hashes[BT_UDP_MAX_SCRAPE][20];
} bt_udp_request;
int bt_udp_parse_request(bt_udp_request *q, const uint8_t *pkt, size_t len);

/* Retransmission timeout of BEP 15: 15 * 2^n seconds, n = 0..8; BT_TIME_NEVER past 8. */
bt_time_us bt_udp_timeout(uint32_t attempt);

#endif
