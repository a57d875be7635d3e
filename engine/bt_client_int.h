/* bt_client_int.h: the client's internal structures shared by bt_client*.c and bt_conn*.c:
 * connections, peer records, the action queue and the per-connection output queue.
 * Engine-private. */
#ifndef BT_CLIENT_INT_H
#define BT_CLIENT_INT_H

#include "bt_bitfield.h"
#include "bt_client.h"
#include "bt_picker.h"
#include "bt_rate.h"
#include "bt_wire.h"

#include <stddef.h>

#define BT_MAX_SEGS 16
#define BT_OUTQ_MAX_BYTES (1u << 20)   /* control bytes queued to one peer before we give up */
#define BT_UPLOAD_LOWWATER (4u * 16384u) /* queue more payload while less than this is queued */
#define BT_PEER_ID_PREFIX "-SL0100-"     /* BEP 20 Azureus style: SL = swarmlab, 0.1.0.0 */

/* ---- output queue ---- */
typedef struct bt_outq_item {
    uint32_t len;       /* bytes left in this item */
    bool is_payload;    /* block payload the host supplies (bt_seg.is_virtual) */
    uint32_t piece;     /* payload: current position */
    uint32_t begin;
} bt_outq_item;

#define BT_OUTQ_INLINE_ITEMS 4   /* items held in the queue itself (a power of two) */
#define BT_OUTQ_INLINE_BYTES 64  /* control bytes held in the queue itself */

typedef struct bt_outq {
    bt_buf bytes;          /* control bytes; bytes.data[head_off..] are unsent */
    size_t head_off;
    bt_outq_item *items;   /* ring: |inline_items| until it needs more, then the heap */
    uint32_t cap, head, count;
    uint64_t payload_queued; /* payload bytes in the queue */
    uint64_t total_queued;   /* all bytes in the queue */
    /* Most connections only ever queue a few small messages (haves, interest, requests)
     * between sends: they need no allocation, and stay on the queue's own cache lines. */
    bt_outq_item inline_items[BT_OUTQ_INLINE_ITEMS];
    uint8_t inline_bytes[BT_OUTQ_INLINE_BYTES];
} bt_outq;

int bt_outq_init(bt_outq *q, const bt_mem *mem);
void bt_outq_free(bt_outq *q);
/* Appends the bytes just written at the end of q->bytes (from |start|) as queue items. */
int bt_outq_commit_bytes(bt_outq *q, size_t start);
int bt_outq_push_payload(bt_outq *q, uint32_t piece, uint32_t begin, uint32_t len);
/* Describes the queue's head as up to BT_MAX_SEGS segments in |segs|; returns how many. */
size_t bt_outq_segs(const bt_outq *q, bt_seg *segs);
/* Consumes |n| bytes; returns how many of them were payload. */
uint64_t bt_outq_consume(bt_outq *q, size_t n);

/* ---- connections ---- */
typedef enum bt_conn_state {
    BT_CS_CONNECTING = 0, /* waiting for the host's connect */
    BT_CS_HANDSHAKE,      /* waiting for the peer's handshake */
    BT_CS_ACTIVE,
    BT_CS_DEAD,           /* closed; freed at the end of the entry point */
} bt_conn_state;

typedef struct bt_req {
    bt_block b;
    bt_time_us at;
} bt_req;

typedef struct bt_conn {
    /* Hot: what receiving a message and a have broadcast touch, on adjacent lines. */
    bt_conn_id id;
    uint32_t peer;          /* index into bt_client.peers */
    uint8_t state;
    bool initiated;
    bool sent_handshake;
    bool got_first_msg;     /* bitfield/have-all/have-none only as the first message */
    bool fast, extended;    /* negotiated */
    bool am_choking, am_interested, peer_choking, peer_interested;
    bool snubbed;
    bool refill;            /* something changed that may let us request more */
    bool send_signalled;    /* a BT_ACT_SEND is outstanding */
    bool counted_seed;      /* picker counts it as a seed */
    bool counted_bits;      /* picker counts its bitfield */
    bool cur_ok;            /* the block being received is one we can use */
    uint32_t wanted;        /* pieces it has that we lack */
    bt_bitfield have;       /* the peer's pieces */
    bt_time_us last_recv;
    bt_req *reqs_out;       /* our requests in flight: reqs_out[reqs_out_off .. +nreqs_out) */
    uint32_t nreqs_out, reqs_out_cap, reqs_out_off; /* (the oldest is taken without a memmove) */
    uint32_t peer_reqq;     /* its BEP 10 reqq, 0 if unknown */
    bt_wire_parser parser;
    bt_outq out;
    bt_req *reqs_in;        /* its requests queued on us, with arrival times (ring, grown on
                               demand) */
    uint32_t reqs_in_head, nreqs_in, reqs_in_cap;
    uint32_t upload_weight; /* the choker's weight (0 = default), last told to the host */
    bt_block cur;
    bt_time_us last_send, last_block;
    bt_rate down, up;
    /* Cold: set-up, statistics. */
    uint8_t *blockbuf;      /* real payload: the block being received */
    uint8_t hs_buf[BT_HANDSHAKE_LEN];
    uint32_t hs_have;
    uint8_t peer_id[20];
    uint64_t down_total, up_total;
    bt_time_us created_at, connected_at, unchoked_at;
    uint8_t unchoke_kind;   /* bt_unchoke_kind of our current decision (NONE when choking) */
    bt_time_us unchoke_since; /* start of the current unchoke_kind interval */
    uint64_t unchoke_us[2]; /* closed intervals: [0] regular, [1] optimistic */
    struct bt_conn_ext *ext; /* BEP 9 / BEP 11 state (bt_client_ext.c), NULL until needed */
} bt_conn;

/* ---- peer records: every address we know of (candidates and connected) ---- */
typedef enum bt_peer_state {
    BT_PS_CANDIDATE = 0,
    BT_PS_CONNECTED,
    BT_PS_FAILED,   /* retry later */
    BT_PS_BANNED,
    BT_PS_INCOMING, /* known only from an accepted connection */
} bt_peer_state;

typedef struct bt_peer {
    bt_addr addr;
    uint8_t state;
    uint32_t strikes;   /* hash failures it took part in (virtual payload) */
    uint32_t fails;     /* failed connection attempts */
    bt_time_us retry_at;
} bt_peer;

/* ---- action queue ---- */
typedef struct bt_actq {
    bt_action *a;
    uint32_t cap, head, count;
} bt_actq;

#define BT_FIND_CACHE 256 /* entries of the connection lookup cache (a power of two) */

struct bt_client {
    bt_config cfg;
    const bt_mem *mem;
    bt_pcg32 rng;
    int poisoned;           /* a fatal error happened */
    uint8_t *piece_hashes;
    char *client_name;
    bt_picker *picker;
    const bt_choker_ops *choker;
    void *choker_state;
    uint32_t slots;
    bool started, stopped;
    /* connections, sorted by id (ids only grow) */
    bt_conn **conns;
    bt_conn_id *conn_ids;   /* conns[i]->id, kept alongside for a cache-friendly search */
    uint32_t nconns, conns_cap;
    bt_conn_id next_id;
    uint32_t ninitiated;    /* live connections we opened */
    uint32_t ndead;         /* closed connections not yet freed */
    bt_conn *found[BT_FIND_CACHE]; /* bt_client_find_conn's cache: found[id % size] */
    bt_peer *peers;
    uint32_t npeers, peers_cap;
    uint32_t connect_cursor; /* where the next search for a peer to dial starts */
    bt_actq actions;
    uint8_t *lent;          /* data of the last polled STORAGE_WRITE; freed at the next call */
    bool borrow_in;         /* inside bt_conn_recv_borrow: whole blocks point into the input */
    bool rechoke_soon;      /* an extra (non-periodic) rechoke is wanted */
    bool rechoke_urgent;    /* ... and an upload slot is free: do not wait for the limiter */
    bt_time_us extra_rechoke_at; /* when the last extra rechoke ran (they run at most 1/s) */
    /* timers */
    bt_time_us next_tick, next_rechoke, next_announce, last_announce;
    bt_time_us announce_backoff;
    bt_time_us announce_min_iv; /* the tracker's "min interval" (0 = none given) */
    uint64_t rechoke_round;
    uint32_t key;
    bt_bitfield claimed;    /* lying-have: what we advertise (ours + the lie); else unused */
    bool lying;             /* cfg.lie_have_ppm > 0 */
    bt_time_us next_serve;  /* slow responder: earliest time a queued request is due */
    bt_client_stats stats;
    bt_choke_peer *choke_peers; /* scratch for rechoke */
    uint8_t *choke_out;
    uint32_t *choke_weight;
    uint32_t choke_cap;
    uint8_t *info_dict;     /* cfg.info_dict copied (served over ut_metadata), or NULL */
    size_t info_len;
    struct bt_metadata *md; /* fetch_metadata: the info dict being assembled */
    struct bt_suspect *suspects; /* failed multi-source pieces awaiting a verified copy */
    uint32_t nsuspects;
    bt_seg segs[BT_MAX_SEGS]; /* bt_conn_pull_send's answer, valid until the next call */
};

/* Cache hints (no effect on behaviour). The connection records live apart in memory: a loop
 * over all of them asks for the hot lines of the one BT_PREFETCH_AHEAD places on while it
 * serves this one, and a lookup asks for all hot lines at once instead of one per field. */
#define BT_PREFETCH_AHEAD 4u
static inline void bt_conn_prefetch(const bt_conn *cn)
{
    for (size_t off = 0; off < offsetof(bt_conn, reqs_in); off += 64)
        __builtin_prefetch((const char *)cn + off);
}
static inline void bt_conn_prefetch_ahead(const bt_client *c, uint32_t i)
{
    if (i + BT_PREFETCH_AHEAD < c->nconns)
        bt_conn_prefetch(c->conns[i + BT_PREFETCH_AHEAD]);
}

/* bt_client.c */
int bt_client_push_action(bt_client *c, const bt_action *a);
void bt_client_enter(bt_client *c);               /* start of an entry point */
int bt_client_leave(bt_client *c, bt_time_us now); /* end of an entry point */
int bt_client_announce(bt_client *c, bt_announce_event ev, bt_time_us now);
bt_conn *bt_client_find_conn(const bt_client *c, bt_conn_id id);
void bt_client_close_conn(bt_client *c, bt_conn *cn, bt_close_reason why, const char *detail,
                          bt_time_us now);
int bt_client_fail(bt_client *c, int err); /* records a fatal error; returns it */
void bt_client_rechoke(bt_client *c, bt_time_us now, bool periodic);
/* Closes the connection's current unchoke interval at |now| and starts one of |kind|. */
void bt_client_unchoke_account(bt_conn *cn, uint8_t kind, bt_time_us now);
int bt_client_connect_more(bt_client *c, bt_time_us now);

/* bt_conn.c */
int bt_conn_new(bt_client *c, uint32_t peer, bool initiated, bt_time_us now, bt_conn **out);
void bt_conn_free(bt_client *c, bt_conn *cn);
int bt_conn_handle_recv(bt_client *c, bt_conn *cn, const uint8_t *in, size_t len, bool virt,
                        bt_time_us now);
int bt_conn_send_handshake(bt_client *c, bt_conn *cn);
int bt_conn_tick(bt_client *c, bt_conn *cn, bt_time_us now);
int bt_conn_set_choke(bt_client *c, bt_conn *cn, bool choke, bt_time_us now);
int bt_conn_update_interest(bt_client *c, bt_conn *cn);
int bt_conn_fill_requests(bt_client *c, bt_conn *cn, bt_time_us now);
int bt_conn_fill_uploads(bt_client *c, bt_conn *cn, bt_time_us now);
void bt_conn_serve_due(bt_client *c, bt_time_us now); /* slow responder: due requests */
int bt_conn_handle_msg(bt_client *c, bt_conn *cn, const bt_wire_msg *m, bt_time_us now);
int bt_conn_queue_msg(bt_client *c, bt_conn *cn, size_t start); /* after writing to out.bytes */
int bt_conn_reserve_out(bt_client *c, bt_conn *cn, uint32_t n); /* room for n more; 0/NOMEM */
static inline bt_req *bt_conn_req(bt_conn *cn, uint32_t i) { return &cn->reqs_out[cn->reqs_out_off + i]; }
int bt_conn_reserve_in(bt_client *c, bt_conn *cn);               /* room for 1 more */
void bt_conn_release_requests(bt_client *c, bt_conn *cn, bool send_cancel);
int bt_conn_on_have(bt_client *c, uint32_t piece);     /* we verified |piece| */
void bt_conn_cancel_block(bt_client *c, bt_conn_id id, const bt_block *b);

/* bt_client_ext.c: BEP 9 serving and BEP 11 (the extensions a real swarm expects) */
void bt_ext_fill_handshake(const bt_client *c, bt_ext_handshake *hs); /* adds m entries */
int bt_ext_on_extended(bt_client *c, bt_conn *cn, const bt_wire_msg *m, bt_time_us now);
int bt_ext_tick(bt_client *c, bt_time_us now); /* periodic ut_pex */
void bt_ext_conn_free(bt_client *c, bt_conn *cn);
void bt_ext_client_free(bt_client *c);
void bt_ext_wire_limits(const bt_client *c, bt_wire_limits *lim); /* fetch mode: any bitfield */
/* bt_client_ban.c: blame for a verified (|ok|) or failed piece whose bytes are |data| (or
 * NULL: unknown), called before the picker forgets its blocks; IP bans; block fingerprints;
 * the remembered failures' memory. */
void bt_client_blame(bt_client *c, uint32_t piece, bool ok, const uint8_t *data, bt_time_us now);
bool bt_client_ip_banned(const bt_client *c, const bt_addr *a);
uint64_t bt_block_print(const uint8_t *p, size_t n); /* never 0 */
void bt_client_suspects_free(bt_client *c);
/* bt_client_peers.c: add_peers inside an entry point (tracker or PEX candidates) */
int bt_client_learn_peers(bt_client *c, const bt_addr *peers, size_t n, bt_time_us now);

#endif
