/* live_mse.h (live-internal): MSE/PE over libevent. A handshake runs on a connected
 * bufferevent and hands back the bufferevent to use (RC4: a filter that encrypts and decrypts;
 * plaintext: the socket's own, with the prefix put back in front of its input). The dialler
 * and acceptor on top of it (live_mse_dial.c) apply the --encryption policy for a live_host. */
#ifndef LIVE_MSE_H
#define LIVE_MSE_H

#include "bt_mse.h"
#include "live.h"

typedef struct live_mse_hs live_mse_hs;

/* The outcome of a handshake: |bev| (owned by the callee from now on; its callbacks are cleared;
 * its input may already hold stream bytes: after setting callbacks, read them, e.g. with
 * bufferevent_trigger, as no new read will report them) or NULL with |err|
 * (the socket was freed). |hs| is freed after the callback returns: do not call
 * live_mse_hs_del from it. */
typedef void (*live_mse_cb)(struct bufferevent *bev, const char *err, void *user);

/* Starts a handshake (|cfg| as bt_mse_new's; |allow_plain_bt|: a responder accepts a plain BT
 * handshake) on the connected |bev|, which the handshake owns from now on. |timeout_s| bounds
 * the whole exchange. Returns 0, or -1 (invalid config, out of memory: |bev| is freed). */
int live_mse_hs_new(live_mse_hs **out, struct bufferevent *bev, const bt_mse_config *cfg,
                    bool allow_plain_bt, bt_pcg32 *rng, int timeout_s, live_mse_cb cb, void *user);
/* Abandons a handshake still running (frees its socket). NULL: no-op. */
void live_mse_hs_del(live_mse_hs *hs);

/* ---- the policy for one host (live_mse_dial.c) ---- */

typedef struct live_mse_ctx live_mse_ctx;

live_mse_ctx *live_mse_ctx_new(live_host *h, struct event_base *base, live_encryption mode,
                               const uint8_t info_hash[20], const bt_addr *bind);
void live_mse_ctx_del(live_mse_ctx *x); /* abandons every pending dial and accept */
/* Dials |addr| for engine connection |id|; later live_host_attach + live_host_connected, or
 * live_host_connect_failed. Returns -1 when nothing could be started. */
int live_mse_dial(live_mse_ctx *x, bt_conn_id id, const bt_addr *addr);
/* --encryption prefer-plain: the plaintext dial of connection |id| was dropped by the peer
 * before it sent a byte; dials |addr| again with MSE (RC4 or plaintext offered, RC4 chosen by
 * a peer that requires it), then live_host_redialed, or live_host_connect_failed. Returns -1
 * when nothing could be started. */
int live_mse_redial(live_mse_ctx *x, bt_conn_id id, const bt_addr *addr);
/* The engine gave up on connection |id|: abandons its pending dial, if any. */
void live_mse_forget(live_mse_ctx *x, bt_conn_id id);
/* An incoming connection: the handshake, then live_host_accept_now. Takes |bev|. */
void live_mse_accept(live_mse_ctx *x, struct bufferevent *bev, const bt_addr *from);

/* live_host.c: live_host_accept without the encryption layer. */
int live_host_accept_now(live_host *h, struct bufferevent *bev, const bt_addr *from);
/* live_host.c: connection |id| (attached, connected) is a prefer-plain plaintext dial to
 * |addr|: keep what the engine sends until the peer answers, for live_mse_redial. */
void live_host_probe_plain(live_host *h, bt_conn_id id, const bt_addr *addr);
/* live_host.c: the MSE redial of |id| succeeded on |bev| (taken): the kept bytes are sent on
 * it and the connection goes on, the engine unaware. */
void live_host_redialed(live_host *h, struct bufferevent *bev, bt_conn_id id);

#endif
