/* bt_choker.h: the choking-strategy interface. A strategy is a const ops table chosen by name;
 * its rechoke is a function from a read-only array of per-peer stats plus the client's RNG to
 * a decision array, so it can be tested without connections (libtorrent's unchoke_sort).
 * Strategies keep their own state (e.g. the optimistic-unchoke rotation) behind |state|. */
#ifndef BT_CHOKER_H
#define BT_CHOKER_H

#include "bt_types.h"

/* What a choker may see of one connected peer at a rechoke. */
typedef struct bt_choke_peer {
    bt_conn_id id;
    uint64_t down_rate;     /* payload bytes/s the peer sends us (rolling window) */
    uint64_t up_rate;       /* payload bytes/s we send the peer */
    uint64_t down_total;    /* payload bytes received from the peer over the connection */
    uint64_t up_total;      /* payload bytes sent to the peer */
    bt_time_us connected_at;
    bt_time_us unchoked_at; /* when we last unchoked it (BT_TIME_NEVER if never) */
    uint32_t pending_requests; /* its requests we have queued but not served */
    float progress;         /* fraction of the torrent the peer has, 0..1 */
    bool interested;        /* the peer is interested in us */
    bool choked;            /* we currently choke it */
    bool snubbed;           /* it has sent us nothing for the snub time though we asked */
    bool is_seed;           /* it has every piece */
    bool initiated;         /* we opened the connection */
    bool choking_us;        /* the peer chokes us */
} bt_choke_peer;

/* What rechoke writes for each peer (unchoke[i]). A strategy tells apart the unchokes its
 * ranking earned from those it gives regardless of performance, so the host can measure how
 * long each kind lasted (bt_conn_unchoke_time). */
enum bt_unchoke_kind {
    BT_UNCHOKE_NONE = 0,       /* choked */
    BT_UNCHOKE_REGULAR = 1,    /* earned: tit-for-tat rank, seed ranking, d/u ratio, ... */
    BT_UNCHOKE_OPTIMISTIC = 2, /* given regardless of rank to discover or rotate peers: the
                                  optimistic unchoke, a seed's round-robin turn */
};

/* Upload weights (bt_choke_ctx.weight): a connection's share of our upload relative to the
 * others we upload to, in units of the default share; 0 means the default (equal) share. */
#define BT_UPLOAD_WEIGHT_ONE 256u

typedef struct bt_choke_ctx {
    bt_time_us now;
    uint64_t round;          /* periodic rechoke rounds before this one (0, 1, 2, ...) */
    bool periodic;           /* a periodic (10 s) round; false for an extra rechoke after a
                                join, leave or interest change: such a call must not advance
                                rotations (the optimistic unchoke, seed-mode new unchokes) */
    bool seeding;            /* we have every piece */
    uint32_t slots;          /* upload slots including optimistic (mainline max_uploads) */
    uint64_t upload_limit;   /* bytes/s, 0 = unlimited (for strategies that budget rates) */
    bt_pcg32 *rng;           /* the client's RNG */
    uint32_t *weight;        /* optional output (may be NULL), |n| entries zeroed by the
                                caller: a strategy that splits its upload unequally writes
                                weight[i] for its unchoked peers (BT_UPLOAD_WEIGHT_ONE = the
                                default share; 0 = default); the client passes the weights on
                                to the host (BT_ACT_UPLOAD_WEIGHT), which may honour them */
} bt_choke_ctx;

typedef struct bt_choker_ops {
    const char *name;
    /* Creates per-client state in *state (may stay NULL). Returns 0 or BT_ERR_NOMEM. */
    int (*init)(void **state, const bt_mem *mem);
    void (*del)(void *state, const bt_mem *mem);
    /* A connection joined / left the peer set (rotation lists, new-peer weighting). Only
     * added connections are ever unchoked. peer_added returns 0, BT_ERR_NOMEM, or
     * BT_ERR_EXISTS (id already added); removing an unknown id is a no-op. */
    int (*peer_added)(void *state, bt_conn_id id, bt_pcg32 *rng, const bt_mem *mem);
    void (*peer_removed)(void *state, bt_conn_id id);
    /* Decides who is unchoked: writes unchoke[i] = a bt_unchoke_kind (0 choked, 1 regular,
     * 2 optimistic) for each of the |n| peers (sorted by id ascending). Must not depend on
     * anything but its arguments and |state|. Extra calls (ctx->periodic false) must not
     * advance rotations. The caller applies every decision
     * (|choked| at the next call reflects it). Never allocates. */
    void (*rechoke)(void *state, const bt_choke_ctx *ctx, const bt_choke_peer *peers, size_t n,
                    uint8_t *unchoke);
} bt_choker_ops;

/* Built-in strategies. */
/* mainline 4.x, REFERENCE.md s1: leecher tit-for-tat (slots-1 fastest non-snubbed
 * interested downloaders + optimistic unchoke rotated every 3 rounds, new peers 3x as likely
 * to be next) and the seed algorithm; details in bt_choker_reference.c. */
extern const bt_choker_ops bt_choker_reference;
/* `reference` with the other seed-state variant (REFERENCE.md s1/s2): when seeding, the
 * slots-1 interested non-seed peers we upload to fastest plus the optimistic unchoke (BEP 3,
 * mainline before 4.x, most clients' default); leeching is identical to `reference`. */
extern const bt_choker_ops bt_choker_reference_upload;
/* Never unchokes anyone: a pure downloader (free-rider), details in bt_choker_freerider.c. */
extern const bt_choker_ops bt_choker_freerider;
/* Unchokes every interested non-seed peer, no tit-for-tat (bt_choker_altruist.c). */
extern const bt_choker_ops bt_choker_altruist;
/* libtorrent 2.0 rate_based_choker, REFERENCE.md s2: one slot per peer above a threshold
 * (1024 B/s, +2048 per slot) plus one, and an optimistic unchoke every 3 rounds
 * (bt_choker_rate_based.c). */
extern const bt_choker_ops bt_choker_rate_based;
/* BitTyrant (Piatek et al., NSDI 2007): unchokes by estimated download/upload ratio d_p/u_p
 * within an upload budget (bt_choker_bittyrant.c). */
extern const bt_choker_ops bt_choker_bittyrant;
/* PropShare (Levin et al., "BitTorrent is an Auction", SIGCOMM 2008): unchokes everyone who
 * gave us data in the last round with upload weights proportional to it, plus an optimistic
 * unchoke with a reserved tenth (bt_choker_propshare.c). */
extern const bt_choker_ops bt_choker_propshare;

/* Finds a built-in strategy by name; NULL if none. */
const bt_choker_ops *bt_choker_find(const char *name);
/* Names of the built-ins, NULL-terminated (for --help). */
const char *const *bt_choker_names(void);

/* Mainline 4.x automatic slot count from an upload limit in bytes/s (0 = unlimited -> 7):
 * with rate_kB = limit / 1000 (integer): <9 -> 2, <15 -> 3, <42 -> 4, else
 * int(sqrt(0.6 * rate_kB)). Only for configurations asking for auto slots; the client's
 * default is 4 (BEP 3). */
uint32_t bt_choker_auto_slots(uint64_t upload_limit);

#endif
