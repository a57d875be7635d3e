/* bt_mse.c: the MSE/PE handshake state machine (initiator and responder) and the payload
 * stream cipher it selects. Sans-IO: bytes in through bt_mse_recv, bytes out through
 * bt_mse_pending/bt_mse_sent. Randomness is drawn from the caller's PCG32 in bt_mse_new only.
 *   1 A->B: Ya, PadA             2 B->A: Yb, PadB
 *   3 A->B: HASH('req1',S), HASH('req2',SKEY)^HASH('req3',S),
 *           ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
 *   4 B->A: ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload)
 *   5 A->B: ENCRYPT2(payload)   (Vuze wiki, Message_Stream_Encryption) */
#include "bt_mse.h"
#include "bt_mem.h"

#include <assert.h>
#include <string.h>

/* The BEP 3 handshake's first 20 bytes: a responder that sees them falls back to plaintext. */
static const uint8_t bt_proto_prefix[20] = "\x13"
                                           "BitTorrent protocol";

enum mse_state {
    ST_DETECT,   /* responder: the first bytes may be a plain BT handshake */
    ST_PEER_PUB, /* the peer's 96-byte DH public value */
    ST_SYNC,     /* scanning PadA (for HASH('req1',S)) or PadB (for ENCRYPT(VC)) */
    ST_SKEY,     /* responder: HASH('req2',SKEY) xor HASH('req3',S) */
    ST_VC,       /* responder: VC, crypto_provide, len(PadC)   (encrypted from here on) */
    ST_PADC,     /* responder: PadC */
    ST_IALEN,    /* responder: len(IA) */
    ST_IA,       /* responder: IA */
    ST_SELECT,   /* initiator: crypto_select, len(PadD) (after the synchronising VC) */
    ST_PADD,     /* initiator: PadD */
};

#define ACC_MAX (BT_MSE_PAD_MAX + BT_SHA1_LEN) /* the longest sync window */
#define OUT_MAX (2 * (BT_MSE_KEY_LEN + BT_MSE_PAD_MAX) + 64 + BT_MSE_IA_MAX)

struct bt_mse {
    const bt_mem *mem;
    bool initiator;
    bool prefer_plaintext;
    uint8_t state;
    uint8_t status;   /* bt_mse_status */
    uint32_t crypto;  /* initiator: crypto_provide; responder: what it accepts */
    uint32_t method;  /* the selected method once DONE */
    int err;          /* FAILED: the error */
    size_t err_off;   /* FAILED: the offending field's stream offset */
    size_t in_off;    /* bytes consumed so far */
    size_t field_off; /* stream offset of the field being collected */
    uint8_t (*skeys)[20];
    uint32_t nskeys;
    int skey_index;
    uint8_t priv[BT_MSE_PRIV_LEN];
    uint8_t pub[BT_MSE_KEY_LEN];
    uint8_t s[BT_MSE_KEY_LEN];
    uint8_t sync[BT_SHA1_LEN]; /* responder: HASH('req1',S); initiator: ENCRYPT(VC) (8 bytes) */
    size_t sync_len;
    uint16_t pad_len;    /* our PadA / PadB length */
    uint16_t pad_cd_len; /* our PadC / PadD length */
    uint8_t pad[BT_MSE_PAD_MAX];
    uint8_t *ia; /* initiator: IA to send; responder: IA received */
    size_t ia_len;
    uint8_t acc[ACC_MAX]; /* the field being collected */
    size_t acc_len;
    size_t need; /* bytes the current field needs */
    bt_rc4 enc, dec;
    bt_buf out;
};

/* out = SHA1(label | data[0..n)), n <= 96. */
static void hash_label(const char *label, const uint8_t *data, size_t n, uint8_t out[BT_SHA1_LEN])
{
    uint8_t in[4 + BT_MSE_KEY_LEN];
    assert(n <= BT_MSE_KEY_LEN);
    memcpy(in, label, 4);
    memcpy(in + 4, data, n);
    bt_sha1(in, 4 + n, out);
}

static void draw_random(bt_mse *m, const bt_mse_config *cfg, bt_pcg32 *rng)
{
    for (int i = 0; i < BT_MSE_PRIV_LEN; i += 4) {
        uint32_t v = bt_pcg32_next(rng);
        memcpy(m->priv + i, &v, 4);
    }
    m->priv[0] |= 0x80; /* a full 160-bit exponent, never zero */
    m->pad_len = (uint16_t)bt_pcg32_below(rng, (uint32_t)cfg->pad_max + 1);
    m->pad_cd_len = (uint16_t)bt_pcg32_below(rng, (uint32_t)cfg->pad_cd_max + 1);
    for (uint16_t i = 0; i < m->pad_len; i++)
        m->pad[i] = (uint8_t)bt_pcg32_next(rng);
}

static int check_config(const bt_mse_config *cfg)
{
    uint32_t methods = cfg->crypto & (BT_MSE_PLAINTEXT | BT_MSE_RC4);
    if (methods == 0 || cfg->nskeys == 0 || cfg->nskeys > BT_MSE_MAX_SKEYS)
        return BT_ERR_INVALID;
    if (cfg->initiator && (cfg->nskeys != 1 || cfg->ia_len > BT_MSE_IA_MAX))
        return BT_ERR_INVALID;
    if (cfg->pad_max > BT_MSE_PAD_MAX || cfg->pad_cd_max > BT_MSE_PAD_MAX)
        return BT_ERR_INVALID;
    return 0;
}

/* Queues our public value and its padding (step 1 or 2). */
static int queue_pub(bt_mse *m)
{
    bt_buf_put(&m->out, m->pub, BT_MSE_KEY_LEN);
    bt_buf_put(&m->out, m->pad, m->pad_len);
    return m->out.err;
}

int bt_mse_new(bt_mse **pm, const bt_mse_config *cfg, bt_pcg32 *rng, const bt_mem *mem)
{
    int rv = check_config(cfg);
    if (rv != 0)
        return rv;
    bt_mse *m = bt_calloc(mem, 1, sizeof(*m));
    if (m == NULL)
        return BT_ERR_NOMEM;
    m->mem = mem;
    m->initiator = cfg->initiator;
    m->prefer_plaintext = cfg->prefer_plaintext;
    m->crypto = cfg->crypto & (BT_MSE_PLAINTEXT | BT_MSE_RC4);
    m->skey_index = -1;
    m->state = cfg->initiator ? ST_PEER_PUB : ST_DETECT;
    m->need = cfg->initiator ? BT_MSE_KEY_LEN : sizeof(bt_proto_prefix);
    bt_buf_init(&m->out, mem, OUT_MAX);
    draw_random(m, cfg, rng);
    rv = BT_ERR_NOMEM;
    m->skeys = bt_malloc(mem, (size_t)cfg->nskeys * 20);
    if (m->skeys == NULL)
        goto fail;
    memcpy(m->skeys, cfg->skeys, (size_t)cfg->nskeys * 20);
    m->nskeys = cfg->nskeys;
    if (cfg->initiator && cfg->ia_len > 0) {
        if ((m->ia = bt_malloc(mem, cfg->ia_len)) == NULL)
            goto fail;
        memcpy(m->ia, cfg->ia, cfg->ia_len);
        m->ia_len = cfg->ia_len;
    }
    if ((rv = bt_mse_dh_public(m->priv, m->pub)) != 0)
        goto fail;
    if (cfg->initiator && (rv = queue_pub(m)) != 0)
        goto fail;
    *pm = m;
    return 0;
fail:
    bt_mse_del(m);
    return rv;
}

void bt_mse_del(bt_mse *m)
{
    if (m == NULL)
        return;
    bt_buf_free(&m->out);
    bt_free(m->mem, m->skeys);
    bt_free(m->mem, m->ia);
    memset(m->priv, 0, sizeof(m->priv));
    bt_free(m->mem, m);
}

/* Moves to |state|, which collects |need| bytes starting at the current stream offset. */
static void enter(bt_mse *m, uint8_t state, size_t need)
{
    m->state = state;
    m->need = need;
    m->acc_len = 0;
    m->field_off = m->in_off;
}

/* Initiator, step 3: both synchronisation hashes, then the encrypted VC, crypto_provide, PadC,
 * IA. */
static int queue_step3(bt_mse *m)
{
    uint8_t req1[BT_SHA1_LEN], req2[BT_SHA1_LEN], req3[BT_SHA1_LEN];
    hash_label("req1", m->s, BT_MSE_KEY_LEN, req1);
    hash_label("req2", m->skeys[0], 20, req2);
    hash_label("req3", m->s, BT_MSE_KEY_LEN, req3);
    for (int i = 0; i < BT_SHA1_LEN; i++)
        req2[i] ^= req3[i];
    bt_buf_put(&m->out, req1, sizeof(req1));
    bt_buf_put(&m->out, req2, sizeof(req2));
    size_t start = m->out.len;
    uint8_t zeros[BT_MSE_PAD_MAX] = {0};
    bt_buf_put(&m->out, zeros, BT_MSE_VC_LEN);
    bt_buf_put_be32(&m->out, m->crypto);
    bt_buf_put_be16(&m->out, m->pad_cd_len);
    bt_buf_put(&m->out, zeros, m->pad_cd_len);
    bt_buf_put_be16(&m->out, (uint16_t)m->ia_len);
    bt_buf_put(&m->out, m->ia, m->ia_len);
    if (m->out.err != 0)
        return m->out.err;
    bt_rc4_crypt(&m->enc, m->out.data + start, m->out.len - start);
    return 0;
}

/* Responder, step 4: the encrypted VC, crypto_select and PadD. */
static int queue_step4(bt_mse *m)
{
    size_t start = m->out.len;
    uint8_t zeros[BT_MSE_PAD_MAX] = {0};
    bt_buf_put(&m->out, zeros, BT_MSE_VC_LEN);
    bt_buf_put_be32(&m->out, m->method);
    bt_buf_put_be16(&m->out, m->pad_cd_len);
    bt_buf_put(&m->out, zeros, m->pad_cd_len);
    if (m->out.err != 0)
        return m->out.err;
    bt_rc4_crypt(&m->enc, m->out.data + start, m->out.len - start);
    return 0;
}

/* The peer's public value is complete: compute S and answer. */
static int on_peer_pub(bt_mse *m)
{
    int rv = bt_mse_dh_secret(m->priv, m->acc, m->s);
    if (rv != 0)
        return rv;
    if (!m->initiator) {
        hash_label("req1", m->s, BT_MSE_KEY_LEN, m->sync);
        m->sync_len = BT_SHA1_LEN;
        enter(m, ST_SYNC, 1);
        return queue_pub(m);
    }
    bt_mse_rc4_setup(&m->enc, "keyA", m->s, m->skeys[0]);
    bt_mse_rc4_setup(&m->dec, "keyB", m->s, m->skeys[0]);
    memset(m->sync, 0, BT_MSE_VC_LEN);
    bt_rc4_crypt(&m->dec, m->sync, BT_MSE_VC_LEN); /* what ENCRYPT(VC) looks like from B */
    m->sync_len = BT_MSE_VC_LEN;
    enter(m, ST_SYNC, 1);
    return queue_step3(m);
}

/* One more byte of PadA/PadB (or of the pattern after it) is in acc. */
static int on_sync_byte(bt_mse *m)
{
    size_t n = m->acc_len;
    if (n >= m->sync_len && memcmp(m->acc + n - m->sync_len, m->sync, m->sync_len) == 0) {
        if (m->initiator)
            enter(m, ST_SELECT, 6);
        else
            enter(m, ST_SKEY, BT_SHA1_LEN);
        return 0;
    }
    if (n == BT_MSE_PAD_MAX + m->sync_len) {
        m->field_off = m->in_off - 1;
        return BT_ERR_LIMIT; /* no synchronisation point within the longest padding */
    }
    m->need = n + 1;
    return 0;
}

/* Responder: which known info hash does HASH('req2',SKEY) xor HASH('req3',S) name? */
static int on_skey(bt_mse *m)
{
    uint8_t want[BT_SHA1_LEN], h[BT_SHA1_LEN];
    hash_label("req3", m->s, BT_MSE_KEY_LEN, want);
    for (int i = 0; i < BT_SHA1_LEN; i++)
        want[i] ^= m->acc[i];
    for (uint32_t k = 0; k < m->nskeys; k++) {
        hash_label("req2", m->skeys[k], 20, h);
        if (memcmp(h, want, BT_SHA1_LEN) == 0) {
            m->skey_index = (int)k;
            bt_mse_rc4_setup(&m->enc, "keyB", m->s, m->skeys[k]);
            bt_mse_rc4_setup(&m->dec, "keyA", m->s, m->skeys[k]);
            enter(m, ST_VC, BT_MSE_VC_LEN + 4 + 2);
            return 0;
        }
    }
    return BT_ERR_NOTFOUND;
}

static int on_vc(bt_mse *m)
{
    static const uint8_t vc[BT_MSE_VC_LEN] = {0};
    if (memcmp(m->acc, vc, BT_MSE_VC_LEN) != 0)
        return BT_ERR_PROTO;
    uint32_t provide = bt_be32(m->acc + BT_MSE_VC_LEN);
    uint16_t padc = bt_be16(m->acc + BT_MSE_VC_LEN + 4);
    uint32_t common = provide & m->crypto;
    if (common == 0)
        return BT_ERR_PROTO; /* nothing in common (or an empty crypto_provide) */
    if (common == (BT_MSE_PLAINTEXT | BT_MSE_RC4))
        m->method = m->prefer_plaintext ? BT_MSE_PLAINTEXT : BT_MSE_RC4;
    else
        m->method = common;
    if (padc > BT_MSE_PAD_MAX) {
        m->field_off += BT_MSE_VC_LEN + 4;
        return BT_ERR_LIMIT;
    }
    enter(m, ST_PADC, padc);
    return 0;
}

static int on_ia_len(bt_mse *m)
{
    uint16_t n = bt_be16(m->acc);
    if (n > BT_MSE_IA_MAX)
        return BT_ERR_LIMIT;
    if (n > 0 && (m->ia = bt_malloc(m->mem, n)) == NULL)
        return BT_ERR_NOMEM;
    m->ia_len = n;
    enter(m, ST_IA, n);
    return 0;
}

static int on_select(bt_mse *m)
{
    uint32_t sel = bt_be32(m->acc);
    uint16_t padd = bt_be16(m->acc + 4);
    if ((sel != BT_MSE_PLAINTEXT && sel != BT_MSE_RC4) || (sel & m->crypto) == 0)
        return BT_ERR_PROTO; /* must be exactly one of the methods we provided */
    if (padd > BT_MSE_PAD_MAX) {
        m->field_off += 4;
        return BT_ERR_LIMIT;
    }
    m->method = sel;
    enter(m, ST_PADD, padd);
    return 0;
}

/* The current field is complete (acc_len == need): act on it. */
static int step(bt_mse *m)
{
    switch (m->state) {
    case ST_DETECT:
        m->status = BT_MSE_PLAIN_BT;
        return 0;
    case ST_PEER_PUB:
        return on_peer_pub(m);
    case ST_SYNC:
        return on_sync_byte(m);
    case ST_SKEY:
        return on_skey(m);
    case ST_VC:
        return on_vc(m);
    case ST_PADC:
        enter(m, ST_IALEN, 2);
        return 0;
    case ST_IALEN:
        return on_ia_len(m);
    case ST_IA:
        m->status = BT_MSE_DONE;
        return queue_step4(m);
    case ST_SELECT:
        return on_select(m);
    case ST_PADD:
        m->status = BT_MSE_DONE;
        return 0;
    }
    assert(0);
    return BT_ERR_STATE;
}

/* Copies up to |len| bytes of the current field from |in|; returns how many. */
static size_t collect(bt_mse *m, const uint8_t *in, size_t len)
{
    uint8_t *dst = m->state == ST_IA ? m->ia : m->acc;
    size_t take = m->need - m->acc_len;
    if (take > len)
        take = len;
    assert(m->state == ST_IA ? m->need <= m->ia_len : m->need <= ACC_MAX);
    memcpy(dst + m->acc_len, in, take);
    bool encrypted = m->state >= ST_VC;
    if (encrypted)
        bt_rc4_crypt(&m->dec, dst + m->acc_len, take);
    if (m->state == ST_DETECT && take > 0 && dst[m->acc_len] != bt_proto_prefix[m->acc_len]) {
        m->state = ST_PEER_PUB; /* not a plain handshake: these are Ya's first bytes */
        m->need = BT_MSE_KEY_LEN;
    }
    m->acc_len += take;
    m->in_off += take;
    return take;
}

bt_ssize bt_mse_recv(bt_mse *m, const uint8_t *in, size_t len)
{
    size_t used = 0;
    if (m->status == BT_MSE_FAILED)
        return m->err;
    while (m->status == BT_MSE_HANDSHAKING) {
        if (m->acc_len == m->need) {
            int rv = step(m);
            if (rv != 0) {
                m->status = BT_MSE_FAILED;
                m->err = rv;
                m->err_off = m->field_off;
                return rv;
            }
            continue;
        }
        if (used == len)
            break;
        /* The detector looks at one byte at a time so it can switch to Ya's length. */
        size_t avail = m->state == ST_DETECT ? 1 : len - used;
        used += collect(m, in + used, avail);
    }
    return (bt_ssize)used;
}

size_t bt_mse_pending(const bt_mse *m, const uint8_t **out)
{
    *out = m->out.data;
    return m->out.len;
}

void bt_mse_sent(bt_mse *m, size_t n)
{
    assert(n <= m->out.len);
    if (n > 0) /* bt_buf_consume would memmove from a NULL buffer */
        bt_buf_consume(&m->out, n);
}

bt_mse_status bt_mse_status_get(const bt_mse *m)
{
    return (bt_mse_status)m->status;
}

int bt_mse_error(const bt_mse *m, size_t *offset)
{
    if (offset != NULL)
        *offset = m->status == BT_MSE_FAILED ? m->err_off : 0;
    return m->status == BT_MSE_FAILED ? m->err : 0;
}

uint32_t bt_mse_method(const bt_mse *m)
{
    return m->status == BT_MSE_DONE ? m->method : 0;
}

int bt_mse_skey_index(const bt_mse *m)
{
    return m->status == BT_MSE_DONE ? m->skey_index : -1;
}

size_t bt_mse_prefix(const bt_mse *m, const uint8_t **p)
{
    *p = NULL;
    if (m->initiator)
        return 0;
    if (m->status == BT_MSE_PLAIN_BT) {
        *p = m->acc;
        return m->acc_len;
    }
    if (m->status == BT_MSE_DONE && m->ia_len > 0) {
        *p = m->ia;
        return m->ia_len;
    }
    return 0;
}

void bt_mse_encrypt(bt_mse *m, uint8_t *buf, size_t n)
{
    assert(m->status == BT_MSE_DONE);
    assert(m->out.len == 0); /* the handshake's own bytes must go out first */
    if (m->method == BT_MSE_RC4)
        bt_rc4_crypt(&m->enc, buf, n);
}

void bt_mse_decrypt(bt_mse *m, uint8_t *buf, size_t n)
{
    assert(m->status == BT_MSE_DONE);
    if (m->method == BT_MSE_RC4)
        bt_rc4_crypt(&m->dec, buf, n);
}
