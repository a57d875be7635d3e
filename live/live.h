/* live.h: the libevent host of the engine (live mode): the clock and seed, disk storage, the
 * socket glue that drives a bt_client, the HTTP/UDP tracker client and the session that ties them
 * together. Only live/ reads CLOCK_MONOTONIC and getrandom(); the engine never does I/O. */
#ifndef LIVE_H
#define LIVE_H

#include "bt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct bufferevent;
struct sockaddr;

/* ---- clock and seed (live_clock.c) ---- */

/* CLOCK_MONOTONIC in µs: the |now| of every engine call in live mode. */
bt_time_us live_now(void);
/* 64 random bits from getrandom() (falls back to the clock if the call fails). */
uint64_t live_seed(void);
/* A fresh BEP 20 peer id ("-SL0100-" + 12 random printable bytes), from live_seed. */
void live_peer_id_make(uint8_t out[20]);
/* Converts a socket address (IPv4, IPv6, or IPv4-mapped IPv6 -> family 4) to a bt_addr.
 * Returns 0, or -1 for another family. */
int live_addr_from_sockaddr(bt_addr *out, const struct sockaddr *sa);
/* Fills |ss| (a struct sockaddr_storage) from |a|; returns the address length. */
int live_addr_to_sockaddr(const bt_addr *a, void *ss);
/* A non-blocking, close-on-exec TCP socket for |addr|'s family, bound to |bind| when it is
 * not NULL and has the same family. Returns the descriptor or -1. */
int live_socket_open(const bt_addr *addr, const bt_addr *bind);
/* Parses a numeric IPv4 or IPv6 address (no port) into |out| (port 0). 0 or -1. */
int live_addr_parse(bt_addr *out, const char *text);
/* Parses "1.2.3.4:6881" or "[::1]:6881" (numeric, port 1..65535) into |out|. 0 or -1. */
int live_addr_parse_port(bt_addr *out, const char *text);

/* ---- storage (live_storage.c) ---- */

typedef struct live_storage live_storage;

/* Opens the torrent's files under |dir|: DIR/name for a single-file torrent, DIR/name/path
 * for each file of a multi-file one. With |writable| the directories and files are created
 * as needed (never truncated); without, every file must exist. Every path component is
 * checked again (no "", ".", "..", '/', control bytes) and opened with O_NOFOLLOW relative to
 * its parent, so nothing outside DIR is ever opened or created. |m| is borrowed and must
 * outlive the storage. Returns 0, or -1 with a message naming the file in |err|. */
int live_storage_open(live_storage **out, const bt_metainfo *m, const char *dir, bool writable,
                      char *err, size_t errlen);
void live_storage_del(live_storage *st); /* NULL is a no-op; drops unverified blocks */

/* Hashes every piece whose bytes are all present on disk and sets its bit in |have| (a BEP 3
 * bitfield of ceil(npieces / 8) bytes, zeroed by the caller) when its SHA-1 matches the
 * metainfo. Pieces that reach past the end of a file are not read. Returns the number of
 * pieces found, or -1 with a message in |err| on a read error. */
int64_t live_storage_check(live_storage *st, uint8_t *have, char *err, size_t errlen);

/* Reads |len| bytes of piece |piece| at |begin| (a verified piece) into |buf|. 0 or -1. */
int live_storage_read(live_storage *st, uint32_t piece, uint32_t begin, void *buf, uint32_t len);

/* Keeps a received block in memory until its piece is verified (BT_ACT_STORAGE_WRITE).
 * |data| is copied. Returns 0, or -1 (out of memory, or the block lies outside the piece). */
int live_storage_block(live_storage *st, uint32_t piece, uint32_t begin, const void *data,
                       uint32_t len);

/* BT_ACT_STORAGE_VERIFY: hashes the piece's blocks into |digest|; when the digest matches the
 * metainfo, writes the piece to disk first. The blocks are dropped either way. Returns 0, or
 * -1 with a message in |err| when the write failed (the digest is then of nothing useful and
 * the caller must stop). */
int live_storage_verify(live_storage *st, uint32_t piece, uint8_t digest[20], char *err,
                        size_t errlen);

/* BT_ACT_STORAGE_VERIFY on the verify thread (live_verify.c): hands the piece's blocks to
 * it; the thread hashes them and writes the piece when the digest matches. Returns 0
 * (started: collect the result later), 1 (nothing received: use live_storage_verify), or -1
 * (out of memory, or the thread could not start). */
int live_storage_verify_start(live_storage *st, uint32_t piece);

/* Readable when started verifies have finished; -1 before the first start. */
int live_storage_verify_fd(const live_storage *st);

/* One finished verify, in start order: 1 with |piece| and |digest|, 0 when none is ready,
 * -1 when the write failed (message in |err|; the caller must stop). |data| (may be NULL)
 * gets the piece's bytes as hashed, valid until the next call on the storage. */
int live_storage_verify_collect(live_storage *st, uint32_t *piece, uint8_t digest[20],
                                const uint8_t **data, char *err, size_t errlen);

/* Read backpressure, with hysteresis: true when so many pieces wait for the verify thread
 * (16 MiB, at least 4 pieces) that the host should stop reading sockets (hashing and writing
 * is the bottleneck then, and each queued piece holds a buffer); once |paused|, true until
 * the backlog is half that. */
bool live_storage_backlogged(const live_storage *st, bool paused);

/* Pieces held in memory awaiting verification or being verified (tests, progress line). */
uint32_t live_storage_pending(const live_storage *st);

/* ---- the verify-and-write thread (live_verify.c) ---- */

typedef struct live_verifier live_verifier;
/* Writes a verified piece; 0, or -1 with a message in |err|. Called on the thread. */
typedef int (*live_verify_write_fn)(void *arg, uint32_t piece, const uint8_t *buf, uint32_t len,
                                    char *err, size_t errlen);
live_verifier *live_verifier_new(live_verify_write_fn write_fn, void *arg); /* NULL on failure */
void live_verifier_del(live_verifier *v); /* NULL is a no-op; drops queued jobs */
/* Queues |piece|'s |len| bytes (takes ownership of |buf|, a malloc'ed block) to be hashed
 * and, when the digest equals |expect|, written. 0 or -1 (out of memory: |buf| not taken). */
int live_verifier_submit(live_verifier *v, uint32_t piece, uint8_t *buf, uint32_t len,
                         const uint8_t expect[20]);
int live_verifier_fd(const live_verifier *v); /* an eventfd, readable when results wait */
/* As live_storage_verify_collect; also hands back the job's buffer in |buf| (the caller
 * owns it again). */
int live_verifier_collect(live_verifier *v, uint32_t *piece, uint8_t digest[20], uint8_t **buf,
                          char *err, size_t errlen);
uint32_t live_verifier_inflight(live_verifier *v); /* submitted, not yet collected */

/* ---- the glue: one bt_client on one event_base (live_host.c) ---- */

typedef struct live_host live_host;

/* Hooks the host calls while draining actions. Every hook is optional. */
typedef struct live_host_ops {
    /* BT_ACT_CONNECT. NULL: a TCP connection through bufferevent_socket_connect (bound to
     * the host's bind address, if any). A hook must later call live_host_attach and then
     * live_host_connected, or live_host_connect_failed. */
    void (*connect)(live_host *h, bt_conn_id id, const bt_addr *addr, void *user);
    /* BT_ACT_ANNOUNCE: answer later with live_host_announce_reply / _error. */
    void (*announce)(live_host *h, const bt_announce_req *req, void *user);
    /* PIECE_DONE, COMPLETE, BAN and CLOSE actions, after the host handled them. */
    void (*event)(live_host *h, const bt_action *a, void *user);
    void *user;
} live_host_ops;

/* Creates a host driving |c| on |base| with |st| for payload. |c| and |st| are borrowed and
 * must outlive the host; |ops| is copied (NULL: all defaults). |bind| (or NULL) is the
 * address outgoing connections are bound to. Returns 0 or -1 (out of memory). */
int live_host_new(live_host **out, struct event_base *base, bt_client *c, live_storage *st,
                  const live_host_ops *ops, const bt_addr *bind);
/* Closes every connection (without telling the engine) and frees the host. NULL: no-op. */
void live_host_del(live_host *h);

/* Hands |bev| (its callbacks are taken over) to the host as the transport of engine
 * connection |id|. On success the host owns |bev|. Returns 0 or -1 (out of memory). */
int live_host_attach(live_host *h, struct bufferevent *bev, bt_conn_id id);
/* An incoming connection from |from| on |bev|: bt_client_accept, then attach. On refusal or
 * failure |bev| is freed and -1 returned. */
int live_host_accept(live_host *h, struct bufferevent *bev, const bt_addr *from);
/* Outcome of a hooked CONNECT: connected (after live_host_attach) or failed. */
void live_host_connected(live_host *h, bt_conn_id id);
void live_host_connect_failed(live_host *h, bt_conn_id id);

/* Tracker answers for the engine; each drains the actions afterwards. */
void live_host_announce_reply(live_host *h, const bt_announce_reply *r);
void live_host_announce_error(live_host *h);

/* Engine calls made by the session (start, stop), each followed by the drain and re-arm. */
int live_host_start(live_host *h);
int live_host_stop(live_host *h);

/* Adds candidate peers (bt_client_add_peers), then drains. */
void live_host_add_peers(live_host *h, const bt_addr *peers, size_t n);

/* A fatal error (engine poisoned, disk write failed): 0 while none. The message names it. */
int live_host_error(const live_host *h, const char **msg);
/* Connections with a transport attached or connecting. */
uint32_t live_host_nconns(const live_host *h);
/* Copies the ids of up to |max| of those connections into |out|; returns how many. */
size_t live_host_conn_ids(const live_host *h, bt_conn_id *out, size_t max);
/* MSE/PE (--encryption). PREFER (the default): dial MSE first offering RC4 and plaintext,
 * redial in plaintext when the peer does not speak MSE; accept both (RC4 chosen when offered).
 * PREFER_PLAIN: dial plaintext; accept both (plaintext chosen when offered). REQUIRE: RC4 only,
 * both ways; plain BT handshakes are refused. OFF: no MSE at all (encrypted peers fail). */
typedef enum live_encryption {
    LIVE_ENC_PREFER = 0,
    LIVE_ENC_PREFER_PLAIN,
    LIVE_ENC_REQUIRE,
    LIVE_ENC_OFF,
} live_encryption;
/* Turns the encryption layer on for the torrent |info_hash| (before the first connection).
 * OFF leaves it off. Returns 0 or -1 (out of memory). */
int live_host_set_encryption(live_host *h, live_encryption mode, const uint8_t info_hash[20]);
/* Parses "prefer", "prefer-plain", "require" or "off". 0 or -1. */
int live_encryption_parse(const char *text, live_encryption *out);

/* Puts every peer connection (present and future) into a libevent rate-limit group that
 * allows |up_bps| / |down_bps| bytes per second in total (0 = unlimited). 0 or -1. */
int live_host_set_rate_limit(live_host *h, uint64_t up_bps, uint64_t down_bps);

/* ---- trackers: HTTP (live_tracker.c) and UDP, BEP 15 (live_tracker_udp.c) ---- */

typedef struct live_tracker live_tracker;

/* Called once per announce: |r| on success (borrowed for the call), or NULL with |error|. */
typedef void (*live_tracker_cb)(void *user, const bt_announce_reply *r, const char *error);

/* A client of the metainfo's http:// and udp:// trackers (https:// and others are skipped) per
 * BEP 12: each announce tries them tier by tier until one answers (one error callback only when
 * all failed); each tier is shuffled once, and a tracker that answers moves to the front of its
 * tier. |bind| (numeric, or NULL) is the
 * local address of the tracker connections, so the tracker records the address we listen on.
 * |timeout_s| bounds each HTTP request; UDP retransmits at 15 * 2^n s (BEP 15) and gives up
 * after 3 tries. Returns 0, or -1 with a message in |err| (no usable URL, out of memory). */
int live_tracker_new(live_tracker **out, struct event_base *base, const bt_metainfo *m,
                     const char *bind, int timeout_s, live_tracker_cb cb, void *user, char *err,
                     size_t errlen);
void live_tracker_del(live_tracker *t);
/* Sends |req| (copied) after the requests before it (one at a time, in order; at most 16
 * wait, the oldest is dropped beyond). Each gets its own callback. */
void live_tracker_announce(live_tracker *t, const bt_announce_req *req);
/* Requests in flight or waiting. */
uint32_t live_tracker_inflight(const live_tracker *t);
/* Host names (HTTP and UDP trackers) are resolved through evdns with /etc/resolv.conf and
 * /etc/hosts, never blocking the loop. This replaces resolv.conf's name servers with the one
 * at |ip_port| ("127.0.0.1:5353"; tests run their own). 0, or -1. */
int live_tracker_set_nameserver(live_tracker *t, const char *ip_port);

/* ---- the session: `swarmlab live` (live_session.c) ---- */

typedef struct live_opts {
    const char *torrent_path; /* for messages */
    const char *dir;          /* download directory (or the seed's data directory) */
    bool seed;                /* `live seed`: the data must be complete */
    bool seed_after;          /* keep seeding after the download completes */
    bool quiet;
    bool verbose;                      /* also report every closed connection and why */
    bool progress;                     /* a progress line on stderr (the CLI sets it on a TTY) */
    uint64_t max_up_bps, max_down_bps; /* 0 = unlimited */
    uint32_t max_peers;                /* connections at most (0: the engine's 80) */
    uint16_t port;                     /* 0: 6881..6889, then any free port */
    const char *bind;                  /* numeric address to listen on and dial from, or NULL */
    const bt_addr *peers;              /* peers to dial besides the tracker's (--peer) */
    size_t npeers;
    int tracker_timeout_s; /* 0: 20 s */
    const char *results;   /* --results DIR: sim-style result files (live_output.h), or NULL */
    uint32_t sample_s;     /* --sample: seconds between timeseries rows (0: 1 s) */
    live_encryption encryption; /* 0: LIVE_ENC_PREFER */
    const uint8_t *peer_id;     /* 20 bytes: our BEP 20 peer id in every phase (a magnet
                                   link's metadata fetch, then the download), so trackers and
                                   peers see one client; NULL: a fresh one (live_peer_id_make) */
} live_opts;

/* Runs the download of torrent |m| (borrowed) or seed until done (download without seed_after:
 * completed, then "stopped" announced) or SIGINT/SIGTERM. Returns 0 on success, 1 on failure (a
 * message on stderr names the file or value). */
int live_session_run(const live_opts *o, const bt_metainfo *m);

/* ---- magnet links (live_magnet.c) ---- */

/* o->torrent_path is a magnet link: fetches the info dict from the swarm (the link's trackers,
 * x.pe and o->peers) and builds the torrent into *out (free with bt_metainfo_del). Returns 0,
 * or -1 with a message on stderr (bad link, no metadata within 300 s). */
int live_magnet_load(const live_opts *o, bt_metainfo **out);

#endif
