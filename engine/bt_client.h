/* bt_client.h: the sans-IO BitTorrent client: one torrent, its peer set, the wire protocol on
 * each connection, piece picking, choking, verification and tracker scheduling. The host (sim
 * or live) passes in time, randomness (a seed), received bytes and transport events, and
 * drains actions (connect, close, send, announce, storage writes and verifies) after every
 * call, then re-arms one timer at bt_client_next_deadline(). The engine never calls back. */
#ifndef BT_CLIENT_H
#define BT_CLIENT_H

#include "bt_choker.h"
#include "bt_tracker.h"
#include "bt_types.h"

typedef struct bt_config {
    /* The torrent. |piece_hashes| (20 * npieces bytes) is copied by bt_client_new. */
    uint8_t info_hash[20];
    const uint8_t *piece_hashes;
    uint32_t npieces;
    uint32_t piece_len;
    uint64_t total_len;
    /* Identity. */
    uint8_t peer_id[20];       /* BEP 20 style; see bt_peer_id_make() */
    uint16_t listen_port;      /* sent in the BEP 10 handshake and announces */
    const char *client_name;   /* BEP 10 "v"; copied */
    bool seed;                 /* start with every piece (the host's storage holds them) */
    const uint8_t *have;       /* or NULL: the pieces the host's storage already holds (a
                                  resumed download), as a BEP 3 bitfield of ceil(npieces / 8)
                                  bytes, high bit first; read by bt_client_new only. Spare
                                  bits past npieces are ignored. Combined with |seed| by OR */
    const bt_byte_range *pad;  /* or NULL: BEP 47 padding, |npad| ranges ascending and
                                  disjoint (bt_metainfo_pad_ranges); read by bt_client_new
                                  only. Their bytes are zeros the host's storage supplies:
                                  blocks wholly inside are never requested (see
                                  bt_picker_config), and a piece wholly inside whose hash is
                                  that of zeros starts as had */
    uint32_t npad;
    bool virtual_payload;      /* sim mode: payload bytes are counted, not carried */
    const uint8_t *info_dict;  /* or NULL: the bencoded info dict (copied), served to peers
                                  over ut_metadata (BEP 9); its SHA-1 should be info_hash */
    size_t info_len;           /* 1 .. BT_METADATA_MAX_SIZE bytes */
    bool fetch_metadata;       /* magnet mode: only the info hash is real (give a placeholder
                                  geometry: 1 piece of 1 byte, any hash); the client connects,
                                  exchanges BEP 10 handshakes and fetches the info dict over
                                  ut_metadata (BEP 9) from peers that offer it, ignoring every
                                  other message; see bt_client_metadata */
    bool pex;                  /* BEP 11 peer exchange (false; live mode sets it unless the
                                  torrent is private, BEP 27) */
    /* Policies. */
    const bt_choker_ops *choker; /* NULL: bt_choker_reference */
    const char *picker;          /* "rarest-first" (NULL), "random", "sequential" */
    uint32_t random_first;       /* pieces picked at random before rarest-first (4) */
    uint32_t upload_slots;       /* unchoke slots incl. optimistic; 0 = auto from limit (4) */
    uint64_t upload_limit;       /* bytes/s the host will allow (0 = unlimited); for slots */
    /* Peer set. */
    uint32_t max_conns;          /* 80 */
    uint32_t max_initiated;      /* 40 */
    uint32_t min_peers;          /* re-announce below this many connections (20) */
    uint32_t max_known_peers;    /* candidate addresses kept (2000) */
    uint32_t numwant;            /* peers asked from the tracker (50) */
    /* Protocol. */
    bool fast_ext;               /* offer BEP 6 (true) */
    bool ext_protocol;           /* offer BEP 10 (true) */
    uint32_t max_requests_in;    /* requests a peer may queue on us; our "reqq" (250) */
    uint32_t max_requests_out;   /* cap on our pipeline to one peer (128) */
    uint32_t ban_strikes;        /* hash failures a peer may take part in before a ban (2;
                                    1 if it was the only source; not used with smart_ban) */
    bool smart_ban;              /* real payload: a piece failed by several sources bans only
                                    those whose blocks differ from the piece once verified
                                    (bt_client_ban.c; false, live mode sets it) */
    bool lenient;                /* accept what real clients send though BEP 3 forbids it: a
                                    bitfield after other messages (aria2 sends one mid-stream)
                                    is merged as "have"s, unless it drops a piece the peer
                                    announced (false; live mode sets it) */
    /* Timers. */
    bt_time_us tick;             /* housekeeping period (1 s) */
    bt_time_us rechoke_interval; /* 10 s */
    uint32_t optimistic_rounds;  /* rotate the optimistic unchoke every N rounds (3 = 30 s) */
    bt_time_us snub_time;        /* 30 s */
    bt_time_us keepalive_interval; /* 120 s */
    bt_time_us idle_timeout;     /* 300 s without any byte from the peer */
    bt_time_us handshake_timeout; /* 30 s */
    bt_time_us request_timeout;  /* a request unanswered this long is re-issued elsewhere (60 s) */
    bt_time_us reannounce_min;   /* earliest re-announce when short of peers (300 s) */
    bt_time_us rate_bucket;      /* rate estimator bucket; window = 20 buckets (1 s) */
    /* Special (misbehaving) peers for experiments; all off by default. */
    bt_time_us response_delay;   /* slow responder: serve each request this long after it
                                    arrives (0). Cancels and chokes still act at once. */
    uint32_t lie_have_ppm;       /* lying-have: also claim this share (parts per million) of
                                    the pieces we lack, a random set fixed at bt_client_new
                                    (0; BT_PPM = claim to be a seed: have-all). Requests for
                                    claimed pieces we lack are ignored (no reject), so the
                                    requester waits for its snub and request timeouts. */
} bt_config;

#define BT_PPM 1000000u /* lie_have_ppm of a peer that claims every piece */

/* Large view, the exploit of Sirivianos et al. ("Free-riding in BitTorrent networks with the
 * large view exploit", 2007) and of BitThief (Locher et al., "Free riding in BitTorrent is
 * cheap", HotNets 2006): learn as many peers as possible and connect to all of them. Sets
 * numwant and the connection limits (max_conns, max_initiated) to BT_LARGE_VIEW_PEERS (the
 * tracker caps numwant at its own maximum), and min_peers to the same, with reannounce_min =
 * 60 s: while fewer peers are connected, the client re-announces every 60 s or the tracker's
 * "min interval", whichever is longer (a normal client: below 20 peers, every 300 s). */
#define BT_LARGE_VIEW_PEERS 1000u
void bt_config_large_view(bt_config *cfg);

/* Fills |cfg| with the defaults above (mainline 4.x values where REFERENCE.md s1 has them);
 * the torrent and identity fields are zeroed. */
void bt_config_defaults(bt_config *cfg);

/* BEP 20 Azureus-style peer id: "-SL0100-" + 12 random printable bytes from |rng|. */
void bt_peer_id_make(uint8_t out[20], bt_pcg32 *rng);

typedef enum bt_close_reason {
    BT_CLOSE_NONE = 0,
    BT_CLOSE_PROTOCOL,     /* malformed or illegal message */
    BT_CLOSE_LIMIT,        /* a hard limit exceeded (message length, queued requests) */
    BT_CLOSE_HANDSHAKE,    /* bad handshake or wrong info-hash */
    BT_CLOSE_SELF,         /* connected to ourselves */
    BT_CLOSE_DUPLICATE,    /* already connected to that peer id */
    BT_CLOSE_TIMEOUT,      /* idle or handshake timeout */
    BT_CLOSE_BANNED,       /* sent data that failed verification */
    BT_CLOSE_BOTH_SEEDS,   /* neither side needs anything */
    BT_CLOSE_SHUTDOWN,     /* bt_client_stop */
    BT_CLOSE_REASON_COUNT
} bt_close_reason;

const char *bt_close_reason_name(int reason);

typedef enum bt_action_type {
    BT_ACT_CONNECT = 1,    /* open a connection to |addr| for |conn|; report with
                              bt_conn_connected() or bt_conn_closed() */
    BT_ACT_CLOSE,          /* close |conn|'s transport (|reason|, |detail|); the engine has
                              already forgotten it: do not call bt_conn_closed() */
    BT_ACT_SEND,           /* |conn| has output: call bt_conn_pull_send() */
    BT_ACT_ANNOUNCE,       /* send |announce| to the tracker; answer with bt_client_on_announce */
    BT_ACT_STORAGE_WRITE,  /* write |length| bytes of |data| at (|piece|, |begin|); the block
                              came from |conn|. Virtual payload: |data| is NULL (the host
                              records only that the block, from |conn|, is stored) */
    BT_ACT_STORAGE_VERIFY, /* hash piece |piece| from storage; answer bt_client_verify_result */
    BT_ACT_PIECE_DONE,     /* piece |piece| verified (|ok|) */
    BT_ACT_COMPLETE,       /* every piece is verified: now seeding */
    BT_ACT_BAN,            /* |addr| is banned (sent corrupt data) */
    BT_ACT_UPLOAD_WEIGHT,  /* the choker gave |conn| upload weight |weight| (see
                              BT_UPLOAD_WEIGHT_ONE; 0 = default equal share): a host that
                              can shape its upload serves its connections in proportion */
} bt_action_type;

typedef struct bt_action {
    uint8_t type;
    uint8_t reason;          /* CLOSE: bt_close_reason */
    bool ok;                 /* PIECE_DONE */
    bool borrowed;           /* STORAGE_WRITE: |data| points into a bt_conn_recv_borrow input */
    bt_conn_id conn;
    bt_addr addr;            /* CONNECT, BAN */
    const char *detail;      /* CLOSE: static text naming the violation, or NULL */
    uint32_t piece, begin, length;
    uint32_t weight;         /* UPLOAD_WEIGHT */
    const uint8_t *data;     /* STORAGE_WRITE: valid until the next bt_* call on the client
                                (|borrowed|: while that input is unchanged) */
    union { /* by type: the queue holds many actions, so they share storage */
        bt_announce_req announce; /* ANNOUNCE */
        struct {                  /* CLOSE */
            /* how long we had the connection unchoked, in µs, up to the close, by
             * bt_unchoke_kind (see bt_conn_unchoke_time) */
            uint64_t unchoked_regular_us, unchoked_optimistic_us;
            uint64_t up_total, down_total; /* payload bytes sent to / received from it */
        };
    };
} bt_action;

/* One segment of output. Either engine-owned bytes (|data|, |len|; valid until the next bt_*
 * call on the client) or, when |is_virtual|, |len| bytes of block payload the host supplies
 * from its storage at (|piece|, |begin|) (in the simulator's virtual mode it only counts them). */
typedef struct bt_seg {
    const uint8_t *data;
    size_t len;
    bool is_virtual;
    uint32_t piece, begin;
} bt_seg;

typedef struct bt_client bt_client;

/* Creates a client. |cfg| is copied. |seed| seeds the client's PCG32. |mem| (NULL = libc) is
 * borrowed and must outlive the client. Returns 0, BT_ERR_INVALID (inconsistent torrent
 * geometry or unknown picker), BT_ERR_NOMEM. */
int bt_client_new(bt_client **pc, const bt_config *cfg, uint64_t seed, const bt_mem *mem);
void bt_client_del(bt_client *c); /* NULL is a no-op */

/* Starts the client: queues the "started" announce and arms the timers. */
int bt_client_start(bt_client *c, bt_time_us now);
/* Closes every connection (CLOSE actions) and queues the "stopped" announce. */
int bt_client_stop(bt_client *c, bt_time_us now);

/* Tracker results. Peers go to the candidate list (deduplicated, bounded); connections are
 * opened up to the limits. */
int bt_client_on_announce(bt_client *c, const bt_announce_reply *r, bt_time_us now);
int bt_client_on_announce_error(bt_client *c, bt_time_us now);
int bt_client_add_peers(bt_client *c, const bt_addr *peers, size_t n, bt_time_us now);

/* An incoming connection from |from|. On success *id names it and the engine waits for the
 * peer's handshake. BT_ERR_REFUSED if the peer set is full or |from|'s IP is banned. */
int bt_client_accept(bt_client *c, const bt_addr *from, bt_conn_id *id, bt_time_us now);
/* True when |a|'s IP address (any port) is banned: a peer there sent data that failed SHA-1.
 * Banned addresses are refused by bt_client_accept and skipped in tracker and PEX lists. */
bool bt_client_addr_banned(const bt_client *c, const bt_addr *a);

/* Transport events for a connection. */
int bt_conn_connected(bt_client *c, bt_conn_id id, bt_time_us now);
void bt_conn_closed(bt_client *c, bt_conn_id id, bt_time_us now);

/* Feeds received bytes. Returns the number consumed (all of |len| unless the connection was
 * closed: then the rest is ignored and a CLOSE action is queued), BT_ERR_NOTFOUND for an
 * unknown id, or a fatal error. |in| is borrowed for the call only. */
bt_ssize bt_conn_recv(bt_client *c, bt_conn_id id, const uint8_t *in, size_t len, bt_time_us now);
/* Simulator: |n| bytes of virtual piece payload arrived (see bt_seg.is_virtual). */
bt_ssize bt_conn_recv_virtual(bt_client *c, bt_conn_id id, size_t n, bt_time_us now);
/* As bt_conn_recv, but a block that arrives whole inside |in| is not copied: its
 * STORAGE_WRITE action (|borrowed| set) points into |in|, so the host must poll it before it
 * changes or frees |in| (a block that spans calls is still assembled by the engine). */
bt_ssize bt_conn_recv_borrow(bt_client *c, bt_conn_id id, const uint8_t *in, size_t len,
                             bt_time_us now);

/* Output: points *segs at the head of the connection's output queue and returns how many
 * segments there are (0 when there is nothing to send), or BT_ERR_NOTFOUND. */
bt_ssize bt_conn_pull_send(bt_client *c, bt_conn_id id, const bt_seg **segs, bt_time_us now);
/* The transport accepted |nbytes| from the head of the queue. */
void bt_conn_sent(bt_client *c, bt_conn_id id, size_t nbytes, bt_time_us now);

/* Next action, if any: returns 1 and fills *out, or 0 when the queue is empty. */
int bt_client_poll_action(bt_client *c, bt_action *out);
/* The |k|-th queued action (0: the one bt_client_poll_action returns next), or NULL: a look
 * ahead for a host that wants to prefetch what the coming actions will touch. Valid until the
 * next bt_* call on the client. */
const bt_action *bt_client_peek_action(const bt_client *c, uint32_t k);
/* Cache hint (no effect on behaviour): fetch the client's hot fields and connection |id|'s
 * hot state (if the connection is at hand), before a call for it. */
void bt_conn_prefetch_id(const bt_client *c, bt_conn_id id);
bt_time_us bt_client_next_deadline(const bt_client *c);
int bt_client_on_timer(bt_client *c, bt_time_us now);

/* Answer to BT_ACT_STORAGE_VERIFY: the SHA-1 of the piece as stored. The engine compares it
 * with the torrent's hash. */
int bt_client_verify_result(bt_client *c, uint32_t piece, const uint8_t digest[20],
                            bt_time_us now);
/* The same, with the piece's bytes as hashed (piece-size bytes, read during the call only; or
 * NULL). With cfg.smart_ban they tell which sources of a multi-source piece sent bad blocks:
 * a failed piece's blocks are fingerprinted and compared with the piece once it verifies.
 * Without them (bt_client_verify_result) every source of a failed multi-source piece takes
 * a strike instead. */
int bt_client_verify_result_bytes(bt_client *c, uint32_t piece, const uint8_t digest[20],
                                  const uint8_t *data, bt_time_us now);

typedef struct bt_client_stats {
    uint64_t uploaded;        /* payload bytes sent */
    uint64_t downloaded;      /* payload bytes received (incl. duplicates and corrupt) */
    uint64_t wasted;          /* payload bytes received that were duplicates or unrequested */
    uint64_t corrupt;         /* bytes of pieces that failed verification */
    uint32_t pieces_have;
    uint32_t pieces_verified; /* pieces that passed verification in this run */
    uint32_t pieces_claimed;  /* lying-have: pieces we advertise but lack (now) */
    uint64_t requests_ignored; /* lying-have: requests for claimed pieces we lack */
    uint32_t hash_failures;
    uint64_t pad_blocks;      /* blocks not requested because they are BEP 47 padding */
    uint32_t nconns;          /* connections (any state) */
    uint32_t nconns_active;   /* handshake done */
    uint32_t nknown;          /* candidate addresses */
    uint32_t nbanned;
    uint64_t closes[BT_CLOSE_REASON_COUNT];
    bool complete;
    bt_time_us completed_at;  /* BT_TIME_NEVER if not (yet) */
} bt_client_stats;

void bt_client_get_stats(const bt_client *c, bt_client_stats *out);

/* Per-connection view for tests, metrics and the CLI. */
typedef struct bt_conn_info {
    bt_addr addr;
    uint8_t peer_id[20];
    bool handshaked, initiated;
    bool am_choking, am_interested, peer_choking, peer_interested;
    bool fast, extended, snubbed, is_seed;
    uint32_t peer_pieces;
    uint32_t requests_out;   /* our requests in flight to the peer */
    uint32_t requests_in;    /* the peer's requests queued on us */
    uint32_t pipeline;       /* current target depth of our pipeline */
    uint64_t down_rate, up_rate, down_total, up_total;
    uint8_t unchoke_kind;    /* bt_unchoke_kind of our current decision */
    uint32_t upload_weight;  /* the choker's upload weight for it (0 = default) */
} bt_conn_info;

int bt_conn_get_info(const bt_client *c, bt_conn_id id, bt_conn_info *out);

/* fetch_metadata: the info dict once it is complete and its SHA-1 matched the info hash
 * (*len set; valid until bt_client_del), else NULL. The host then builds the real torrent
 * (bt_metadata_wrap, bt_metainfo_parse) and a new client; this one is only deleted. */
const uint8_t *bt_client_metadata(const bt_client *c, size_t *len);

/* How long we have had connection |id| unchoked, in µs, by the kind the choker gave
 * (BT_UNCHOKE_REGULAR / BT_UNCHOKE_OPTIMISTIC), the current interval counted up to |now|
 * (>= the time of the last call). A connection the engine closes reports its final totals
 * in its CLOSE action instead; a host closing one itself (bt_conn_closed) or deleting the
 * client asks here first. Returns 0 or BT_ERR_NOTFOUND. */
int bt_conn_unchoke_time(const bt_client *c, bt_conn_id id, bt_time_us now,
                         uint64_t *regular_us, uint64_t *optimistic_us);

#endif
