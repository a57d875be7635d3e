/* bt_mse_crypto.c: the primitives of MSE/PE: RC4 (our own, since libcrypto's RC4 needs OpenSSL
 * 3's legacy provider), 768-bit Diffie-Hellman through libcrypto's BIGNUM, and the SHA-1 key
 * derivation. No state of its own. */
#include "bt_mse.h"

#include <assert.h>
#include <openssl/bn.h>
#include <string.h>

/* The MSE prime P (768 bits) and generator G = 2 (Message_Stream_Encryption, "DH"). */
static const uint8_t mse_prime[BT_MSE_KEY_LEN] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2, 0x21, 0x68, 0xC2, 0x34,
    0xC4, 0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1, 0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74,
    0x02, 0x0B, 0xBE, 0xA6, 0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD,
    0xEF, 0x95, 0x19, 0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D, 0xF2, 0x5F, 0x14, 0x37,
    0x4F, 0xE1, 0x35, 0x6D, 0x6D, 0x51, 0xC2, 0x45, 0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6,
    0xF4, 0x4C, 0x42, 0xE9, 0xA6, 0x3A, 0x36, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x05, 0x63,
};

void bt_rc4_init(bt_rc4 *r, const uint8_t *key, size_t keylen)
{
    assert(keylen >= 1 && keylen <= 256);
    for (uint32_t i = 0; i < 256; i++)
        r->s[i] = i;
    uint32_t j = 0;
    for (uint32_t i = 0; i < 256; i++) {
        j = (j + r->s[i] + key[i % keylen]) & 0xff;
        uint32_t t = r->s[i];
        r->s[i] = r->s[j];
        r->s[j] = t;
    }
    r->i = r->j = 0;
}

void bt_rc4_crypt(bt_rc4 *r, uint8_t *buf, size_t n)
{
    uint32_t i = r->i, j = r->j;
    uint32_t *s = r->s;
    for (size_t k = 0; k < n; k++) {
        i = (i + 1) & 0xff;
        uint32_t si = s[i];
        j = (j + si) & 0xff;
        uint32_t sj = s[j];
        s[i] = sj;
        s[j] = si;
        buf[k] ^= (uint8_t)s[(si + sj) & 0xff];
    }
    r->i = i;
    r->j = j;
}

void bt_rc4_skip(bt_rc4 *r, size_t n)
{
    uint8_t junk[256];
    while (n > 0) {
        size_t k = n < sizeof(junk) ? n : sizeof(junk);
        memset(junk, 0, k);
        bt_rc4_crypt(r, junk, k);
        n -= k;
    }
}

/* out = base^exp mod P as 96 big-endian bytes. |base| NULL means G = 2. Returns 0,
 * BT_ERR_PROTO (base outside [2, P-2]) or BT_ERR_NOMEM. */
static int modexp(const uint8_t *base, const uint8_t exp[BT_MSE_PRIV_LEN],
                  uint8_t out[BT_MSE_KEY_LEN])
{
    int rv = BT_ERR_NOMEM;
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *p = BN_bin2bn(mse_prime, BT_MSE_KEY_LEN, NULL);
    BIGNUM *e = BN_bin2bn(exp, BT_MSE_PRIV_LEN, NULL);
    BIGNUM *b = base != NULL ? BN_bin2bn(base, BT_MSE_KEY_LEN, NULL) : BN_new();
    BIGNUM *r = BN_new();
    BIGNUM *pm1 = BN_new();
    if (ctx == NULL || p == NULL || e == NULL || b == NULL || r == NULL || pm1 == NULL)
        goto fail;
    if (base == NULL && BN_set_word(b, 2) != 1)
        goto fail;
    if (BN_copy(pm1, p) == NULL || BN_sub_word(pm1, 1) != 1)
        goto fail;
    /* A peer value of 0, 1, P-1 or >= P gives a predictable secret: refuse it. */
    if (BN_cmp(b, BN_value_one()) <= 0 || BN_cmp(b, pm1) >= 0) {
        rv = BT_ERR_PROTO;
        goto fail;
    }
    if (BN_mod_exp(r, b, e, p, ctx) != 1 || BN_bn2binpad(r, out, BT_MSE_KEY_LEN) != BT_MSE_KEY_LEN)
        goto fail;
    rv = 0;
fail:
    BN_free(pm1);
    BN_free(r);
    BN_free(b);
    BN_clear_free(e);
    BN_free(p);
    BN_CTX_free(ctx);
    return rv;
}

int bt_mse_dh_public(const uint8_t priv[BT_MSE_PRIV_LEN], uint8_t pub[BT_MSE_KEY_LEN])
{
    int rv = modexp(NULL, priv, pub);
    assert(rv != BT_ERR_PROTO);
    return rv;
}

int bt_mse_dh_secret(const uint8_t priv[BT_MSE_PRIV_LEN], const uint8_t peer[BT_MSE_KEY_LEN],
                     uint8_t s[BT_MSE_KEY_LEN])
{
    return modexp(peer, priv, s);
}

void bt_mse_rc4_key(const char *label, const uint8_t s[BT_MSE_KEY_LEN], const uint8_t skey[20],
                    uint8_t out[BT_SHA1_LEN])
{
    uint8_t in[4 + BT_MSE_KEY_LEN + 20];
    assert(strlen(label) == 4);
    memcpy(in, label, 4);
    memcpy(in + 4, s, BT_MSE_KEY_LEN);
    memcpy(in + 4 + BT_MSE_KEY_LEN, skey, 20);
    bt_sha1(in, sizeof(in), out);
}

void bt_mse_rc4_setup(bt_rc4 *r, const char *label, const uint8_t s[BT_MSE_KEY_LEN],
                      const uint8_t skey[20])
{
    uint8_t key[BT_SHA1_LEN];
    bt_mse_rc4_key(label, s, skey, key);
    bt_rc4_init(r, key, sizeof(key));
    bt_rc4_skip(r, 1024); /* MSE: "RC4-drop1024" */
}
