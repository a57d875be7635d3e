/* bt_mse.h: MSE/PE (Message Stream Encryption / Protocol Encryption) as a sans-IO handshake
 * state machine for both ends, plus the RC4 stream it negotiates. Never does I/O, never reads a
 * clock; its only randomness is the caller's PCG32, drawn inside bt_mse_new (PCG is no CSPRNG:
 * live seeds it from getrandom(), and MSE is obfuscation without authentication anyway).
 * Spec: the Vuze wiki page "Message_Stream_Encryption" (summarised in REFERENCE.md §3).
 * Interop notes (tests/interop/mse.sh, libtorrent 2.0.8): libtorrent as initiator sends an
 * empty IA and its BT handshake after step 4; for hybrid v1/v2 torrents it uses the v1 info
 * hash as SKEY. An initiator whose peer does not speak MSE sees FAILED or a closed connection:
 * retry in plaintext, as aria2 and transmission do. */
#ifndef BT_MSE_H
#define BT_MSE_H

#include "bt_types.h"

#define BT_MSE_KEY_LEN 96      /* 768-bit DH public values and the shared secret S */
#define BT_MSE_PRIV_LEN 20     /* 160-bit DH private exponent */
#define BT_MSE_PAD_MAX 512     /* PadA..PadD are 0..512 bytes */
#define BT_MSE_VC_LEN 8        /* verification constant: 8 zero bytes */
#define BT_MSE_IA_MAX 16384    /* our limit on len(IA); a BT handshake (68) plus extras fits */
#define BT_MSE_MAX_SKEYS 65536 /* limit on the info hashes a responder resolves SKEY against */

/* crypto_provide / crypto_select bits. */
#define BT_MSE_PLAINTEXT 0x01u
#define BT_MSE_RC4 0x02u

/* ---- RC4 (own implementation: libcrypto's RC4 needs OpenSSL 3's legacy provider) ---- */
typedef struct bt_rc4 {
    uint32_t s[256]; /* 32-bit cells: faster than bytes on x86-64 (no partial-register stalls) */
    uint32_t i, j;
} bt_rc4;

/* Key schedule for a |keylen|-byte key (1..256). */
void bt_rc4_init(bt_rc4 *r, const uint8_t *key, size_t keylen);
/* XORs the next |n| keystream bytes into |buf| in place (encrypts and decrypts). */
void bt_rc4_crypt(bt_rc4 *r, uint8_t *buf, size_t n);
/* Discards the next |n| keystream bytes. */
void bt_rc4_skip(bt_rc4 *r, size_t n);

/* ---- the primitives, exposed for known-answer tests ---- */

/* pub = 2^priv mod P (P: the MSE 768-bit prime), big-endian, left-padded to 96 bytes.
 * Returns 0, or BT_ERR_NOMEM if libcrypto cannot allocate. */
int bt_mse_dh_public(const uint8_t priv[BT_MSE_PRIV_LEN], uint8_t pub[BT_MSE_KEY_LEN]);
/* s = peer^priv mod P. Returns 0, BT_ERR_PROTO if |peer| is not in [2, P-2], BT_ERR_NOMEM. */
int bt_mse_dh_secret(const uint8_t priv[BT_MSE_PRIV_LEN], const uint8_t peer[BT_MSE_KEY_LEN],
                     uint8_t s[BT_MSE_KEY_LEN]);
/* out = SHA1(label[0..4) | s | skey): the RC4 key for |label| "keyA" (initiator to responder)
 * or "keyB" (responder to initiator). */
void bt_mse_rc4_key(const char *label, const uint8_t s[BT_MSE_KEY_LEN], const uint8_t skey[20],
                    uint8_t out[BT_SHA1_LEN]);
/* Initialises |r| with the key for |label| and discards the first 1024 keystream bytes. */
void bt_mse_rc4_setup(bt_rc4 *r, const char *label, const uint8_t s[BT_MSE_KEY_LEN],
                      const uint8_t skey[20]);

/* ---- the handshake ---- */

typedef enum bt_mse_status {
    BT_MSE_HANDSHAKING = 0, /* feed more bytes / send pending bytes */
    BT_MSE_DONE = 1,        /* handshake complete: bt_mse_method() tells the stream's method */
    BT_MSE_PLAIN_BT = 2,    /* responder only: the peer sent a plain BitTorrent handshake */
    BT_MSE_FAILED = 3,      /* bt_mse_error() tells why; close the connection */
} bt_mse_status;

typedef struct bt_mse_config {
    bool initiator;
    /* Initiator: crypto_provide. Responder: the methods it accepts. Nonzero subset of
     * BT_MSE_PLAINTEXT | BT_MSE_RC4. */
    uint32_t crypto;
    bool prefer_plaintext; /* responder: select plaintext when the peer offers both */
    /* SKEY candidates (info hashes), copied by bt_mse_new: the initiator gives exactly one (the
     * torrent it dials for), the responder every torrent it serves (1..BT_MSE_MAX_SKEYS). */
    const uint8_t (*skeys)[20];
    uint32_t nskeys;
    /* Initiator: initial payload sent inside step 3 (RC4-encrypted whatever is selected; e.g.
     * the 68-byte BT handshake), 0..BT_MSE_IA_MAX bytes, copied. Responder: ignored. */
    const uint8_t *ia;
    size_t ia_len;
    /* Padding lengths are drawn uniformly from 0..pad_max (PadA/PadB, at most 512) and
     * 0..pad_cd_max (PadC/PadD, zero bytes, at most 512; 0 is what most clients send). */
    uint16_t pad_max;
    uint16_t pad_cd_max;
} bt_mse_config;

typedef struct bt_mse bt_mse;

/* Creates one handshake. Draws the DH private key and the padding from |rng| (which it does
 * not keep), computes the public value, and for the initiator queues step 1 (Ya, PadA) for
 * sending. |cfg| and everything it points to are borrowed for this call only; |mem| must
 * outlive the handshake. Returns 0, BT_ERR_INVALID (nskeys 0 or above BT_MSE_MAX_SKEYS, an
 * initiator with nskeys != 1, ia_len above BT_MSE_IA_MAX, a pad limit above 512, no method in
 * |crypto|), or BT_ERR_NOMEM. */
int bt_mse_new(bt_mse **pm, const bt_mse_config *cfg, bt_pcg32 *rng, const bt_mem *mem);
/* Frees |m|; NULL is a no-op. */
void bt_mse_del(bt_mse *m);

/* Feeds received bytes. While handshaking it consumes everything it is given; once the
 * handshake completes it stops at its last byte and returns how many bytes it consumed, and
 * the rest of |in| is the payload stream (pass it through bt_mse_decrypt). |in| is borrowed.
 * After DONE or PLAIN_BT it consumes nothing (returns 0). Returns the count consumed or, once
 * the handshake has failed (now or earlier), the error: BT_ERR_PROTO (peer public value out of
 * range, a bad VC, a selected method that was not provided, no method in common), BT_ERR_LIMIT (no
 * synchronisation point within PadA/PadB's 512 bytes, PadC/PadD or IA longer than allowed),
 * BT_ERR_NOTFOUND (responder: the SKEY hash matches no known info hash), BT_ERR_NOMEM.
 * bt_mse_error() tells the stream offset. */
bt_ssize bt_mse_recv(bt_mse *m, const uint8_t *in, size_t len);
/* Bytes waiting to be sent (*out points into |m|, valid until the next call on |m|). */
size_t bt_mse_pending(const bt_mse *m, const uint8_t **out);
/* Marks |n| (<= pending) bytes as sent. */
void bt_mse_sent(bt_mse *m, size_t n);

bt_mse_status bt_mse_status_get(const bt_mse *m);
/* The error of a FAILED handshake (0 otherwise) and, if |offset| is not NULL, the offset in
 * the received stream of the field that failed. */
int bt_mse_error(const bt_mse *m, size_t *offset);
/* DONE: the selected method, BT_MSE_PLAINTEXT or BT_MSE_RC4; 0 before. */
uint32_t bt_mse_method(const bt_mse *m);
/* Responder, DONE: the index in cfg->skeys of the info hash the peer asked for; -1 before. */
int bt_mse_skey_index(const bt_mse *m);
/* Responder: the bytes the connection must read before the rest of the stream: the decrypted
 * IA once DONE, or the buffered start of the plain handshake once PLAIN_BT (20 bytes). Returns
 * the length (0 if none); *p stays valid until bt_mse_del. */
size_t bt_mse_prefix(const bt_mse *m, const uint8_t **p);

/* After DONE: encrypts outgoing / decrypts incoming payload bytes in place (RC4 continues the
 * handshake's keystreams; plaintext leaves the bytes alone). The handshake's pending bytes go
 * out before any payload, so bt_mse_encrypt requires bt_mse_pending() == 0 (the host wrote
 * them and called bt_mse_sent). Calls before DONE, or with bytes pending, are caller bugs. */
void bt_mse_encrypt(bt_mse *m, uint8_t *buf, size_t n);
void bt_mse_decrypt(bt_mse *m, uint8_t *buf, size_t n);

#endif
