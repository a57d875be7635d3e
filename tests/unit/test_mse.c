/* tests/unit/test_mse.c: MSE/PE: RC4 against RFC 6229, DH and key derivation against values
 * computed independently (Python pow/hashlib), two handshakes talking through in-memory wires
 * under every fragmentation, both methods, malformed peers built by hand, plaintext fallback,
 * and allocation failures. */
#include "bt_mse.h"
#include "failmem.h"
#include "mse_util.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

extern int test_mse_add_suite(void);

/* ---- known answers ---- */

static void rc4_at(const char *keyhex, size_t offset, const char *want_hex)
{
    uint8_t key[32], want[16], buf[16] = {0};
    size_t kl = unhex(keyhex, key);
    unhex(want_hex, want);
    bt_rc4 r;
    bt_rc4_init(&r, key, kl);
    bt_rc4_skip(&r, offset);
    bt_rc4_crypt(&r, buf, sizeof(buf));
    CU_ASSERT(memcmp(buf, want, sizeof(want)) == 0);
}

static void test_rc4_rfc6229(void)
{
    /* RFC 6229 section 2: 40-bit key 0x0102030405 and 128-bit key 0x0102..10. */
    rc4_at("0102030405", 0, "b2396305f03dc027ccc3524a0a1118a8");
    rc4_at("0102030405", 16, "6982944f18fc82d589c403a47a0d0919");
    rc4_at("0102030405", 1024, "30abbcc7c20b01609f23ee2d5f6bb7df");
    rc4_at("0102030405060708090a0b0c0d0e0f10", 0, "9ac7cc9a609d1ef7b2932899cde41b97");
    rc4_at("0102030405060708090a0b0c0d0e0f10", 1024, "bdf0324e6083dcc6d3cedd3ca8c53c16");
    rc4_at("0102030405060708090a0b0c0d0e0f10", 4096, "a36a4c301ae8ac13610ccbc12256cacc");
    /* The classic "Key"/"Plaintext" vector, and crypt in pieces == crypt in one go. */
    uint8_t msg[9];
    memcpy(msg, "Plaintext", 9);
    bt_rc4 r;
    bt_rc4_init(&r, (const uint8_t *)"Key", 3);
    bt_rc4_crypt(&r, msg, 4);
    bt_rc4_crypt(&r, msg + 4, 5);
    uint8_t want[9];
    unhex("bbf316e8d940af0ad3", want);
    CU_ASSERT(memcmp(msg, want, 9) == 0);
}

/* Private keys 01..14 (A) and 80..93 (B), SKEY = 20 x 0xaa. */
#define KAT_YA                                                                                     \
    "96e112dab29e8c5272accb9b17b26887ce54a144a4e3b697c7d159b7a817e556b0918db2b4c658e02a87f7e5fb"   \
    "14b18a553e084cbf3dad2d30f16596ccb982d406258c61b30c5c1dae2ddc60bdbd48d79896312aad63238c39e1a6" \
    "33821eb693"
#define KAT_S                                                                                      \
    "a011b28ec0a53781383f616c88038f30d07759263bc7cfdccbda1a157a42ea06274374b93a2ee055d7c9ebdac7a3" \
    "0914bacfd87efa4b74757bd7e79651d5d47cc1b827f4ec56fec641346a9c997147e8e8a3edff05fb0bc85d60098a" \
    "90884da9"

static void test_dh_and_keys(void)
{
    uint8_t xa[20], xb[20], ya[96], yb[96], s1[96], s2[96], want[96], skey[20];
    for (int i = 0; i < 20; i++) {
        xa[i] = (uint8_t)(i + 1);
        xb[i] = (uint8_t)(0x80 + i);
    }
    memset(skey, 0xaa, 20);
    CU_ASSERT_EQUAL_FATAL(bt_mse_dh_public(xa, ya), 0);
    CU_ASSERT_EQUAL_FATAL(bt_mse_dh_public(xb, yb), 0);
    unhex(KAT_YA, want);
    CU_ASSERT(memcmp(ya, want, 96) == 0);
    CU_ASSERT_EQUAL(bt_mse_dh_secret(xa, yb, s1), 0);
    CU_ASSERT_EQUAL(bt_mse_dh_secret(xb, ya, s2), 0);
    unhex(KAT_S, want);
    CU_ASSERT(memcmp(s1, want, 96) == 0);
    CU_ASSERT(memcmp(s2, want, 96) == 0);
    uint8_t k[20], wk[20];
    bt_mse_rc4_key("keyA", s1, skey, k);
    unhex("26ebeda8365f0b0bc62a01198e481ccfd61d48f5", wk);
    CU_ASSERT(memcmp(k, wk, 20) == 0);
    bt_mse_rc4_key("keyB", s1, skey, k);
    unhex("1605e64e01e0ff7fe904f384df9a633478961e2f", wk);
    CU_ASSERT(memcmp(k, wk, 20) == 0);
    /* keyA's keystream after the 1024 discarded bytes. */
    bt_rc4 r;
    uint8_t ks[16] = {0}, wks[16];
    bt_mse_rc4_setup(&r, "keyA", s1, skey);
    bt_rc4_crypt(&r, ks, 16);
    unhex("55257145a0e7f35e06fe8e9251981c56", wks);
    CU_ASSERT(memcmp(ks, wks, 16) == 0);
}

static void test_dh_rejects_bad_peer(void)
{
    uint8_t x[20] = {1}, y[96], s[96];
    memset(y, 0, 96);
    CU_ASSERT_EQUAL(bt_mse_dh_secret(x, y, s), BT_ERR_PROTO); /* 0 */
    y[95] = 1;
    CU_ASSERT_EQUAL(bt_mse_dh_secret(x, y, s), BT_ERR_PROTO); /* 1 */
    memset(y, 0xff, 96);
    CU_ASSERT_EQUAL(bt_mse_dh_secret(x, y, s), BT_ERR_PROTO); /* > P */
    y[95] = 2;
    memset(y, 0, 95);
    CU_ASSERT_EQUAL(bt_mse_dh_secret(x, y, s), 0); /* 2 is fine */
}

/* ---- the pair harness ---- */

typedef struct side {
    bt_mse *m;
    bt_buf wire;   /* bytes on their way to the other side */
    bt_buf stream; /* application bytes this side received (prefix + decrypted payload) */
    bool prefix_taken;
} side;

static const uint8_t skeys3[3][20] = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}};

static bt_mse_config cfg_init(uint32_t crypto, const uint8_t *ia, size_t ia_len)
{
    bt_mse_config c = {0};
    c.initiator = true;
    c.crypto = crypto;
    c.skeys = &skeys3[1];
    c.nskeys = 1;
    c.ia = ia;
    c.ia_len = ia_len;
    c.pad_max = 512;
    c.pad_cd_max = 512;
    return c;
}

static bt_mse_config cfg_resp(uint32_t crypto, bool prefer_plain)
{
    bt_mse_config c = {0};
    c.crypto = crypto;
    c.prefer_plaintext = prefer_plain;
    c.skeys = skeys3;
    c.nskeys = 3;
    c.pad_max = 512;
    c.pad_cd_max = 16;
    return c;
}

static void side_init(side *s, const bt_mem *mem)
{
    memset(s, 0, sizeof(*s));
    (void)mem; /* the harness's own buffers never fail: only the handshakes use |mem| */
    bt_buf_init(&s->wire, bt_mem_default(), 0);
    bt_buf_init(&s->stream, bt_mem_default(), 0);
}

static void side_free(side *s)
{
    bt_mse_del(s->m);
    bt_buf_free(&s->wire);
    bt_buf_free(&s->stream);
}

/* Moves |from|'s handshake output onto its wire. */
static void flush(side *from)
{
    const uint8_t *p;
    size_t n = bt_mse_pending(from->m, &p);
    bt_buf_put(&from->wire, p, n);
    bt_mse_sent(from->m, n);
}

/* Appends application bytes (encrypted once the handshake is done) to |from|'s wire. */
static void send_app(side *from, const char *text)
{
    size_t n = strlen(text), start = from->wire.len;
    bt_buf_put(&from->wire, text, n);
    if (from->wire.err == 0)
        bt_mse_encrypt(from->m, from->wire.data + start, n);
}

/* Delivers |from|'s wire to |to| in fragments of |frag| bytes. Returns the first error. */
static int deliver(side *from, side *to, size_t frag)
{
    size_t off = 0;
    while (off < from->wire.len) {
        size_t n = from->wire.len - off < frag ? from->wire.len - off : frag;
        uint8_t chunk[1024];
        size_t used = 0;
        memcpy(chunk, from->wire.data + off, n);
        off += n;
        if (bt_mse_status_get(to->m) == BT_MSE_HANDSHAKING) {
            bt_ssize r = bt_mse_recv(to->m, chunk, n);
            if (r < 0)
                return (int)r;
            used = (size_t)r;
        }
        if (bt_mse_status_get(to->m) == BT_MSE_DONE && !to->prefix_taken) {
            const uint8_t *p;
            size_t pn = bt_mse_prefix(to->m, &p);
            bt_buf_put(&to->stream, p, pn);
            to->prefix_taken = true;
        }
        if (bt_mse_status_get(to->m) == BT_MSE_DONE) {
            bt_mse_decrypt(to->m, chunk + used, n - used);
            bt_buf_put(&to->stream, chunk + used, n - used);
        } else {
            CU_ASSERT(used == n); /* a handshake in progress consumes everything */
        }
    }
    bt_buf_reset(&from->wire);
    return to->stream.err;
}

#define IA_TEXT                                                                                    \
    "\x13"                                                                                         \
    "BitTorrent protocol-ia-"

/* Runs a whole handshake plus payload both ways. Returns 0 or the first error. */
static int run_pair(const bt_mem *mem, uint64_t seed, size_t frag, uint32_t ci, uint32_t cr,
                    bool prefer_plain, uint32_t *method)
{
    side a, b;
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, seed, 7);
    side_init(&a, mem);
    side_init(&b, mem);
    bt_mse_config ca = cfg_init(ci, (const uint8_t *)IA_TEXT, strlen(IA_TEXT));
    bt_mse_config cb = cfg_resp(cr, prefer_plain);
    int rv = bt_mse_new(&a.m, &ca, &rng, mem);
    if (rv == 0)
        rv = bt_mse_new(&b.m, &cb, &rng, mem);
    for (int round = 0; rv == 0 && round < 4; round++) {
        flush(&a);
        if (bt_mse_status_get(a.m) == BT_MSE_DONE && round == 2)
            send_app(&a, "hello from A");
        if ((rv = deliver(&a, &b, frag)) != 0)
            break;
        flush(&b);
        if (bt_mse_status_get(b.m) == BT_MSE_DONE && round == 1)
            send_app(&b, "hello from B"); /* right behind step 4 */
        rv = deliver(&b, &a, frag);
    }
    if (rv == 0) {
        CU_ASSERT_EQUAL(bt_mse_status_get(a.m), BT_MSE_DONE);
        CU_ASSERT_EQUAL(bt_mse_status_get(b.m), BT_MSE_DONE);
        CU_ASSERT_EQUAL(bt_mse_method(a.m), bt_mse_method(b.m));
        CU_ASSERT_EQUAL(bt_mse_skey_index(b.m), 1);
        const char *want_b = IA_TEXT "hello from A";
        CU_ASSERT(b.stream.len == strlen(want_b) &&
                  memcmp(b.stream.data, want_b, b.stream.len) == 0);
        CU_ASSERT(a.stream.len == 12 && memcmp(a.stream.data, "hello from B", 12) == 0);
        *method = bt_mse_method(a.m);
    }
    side_free(&a);
    side_free(&b);
    return rv;
}

static void test_pair_fragmentation(void)
{
    static const size_t frags[] = {1, 2, 3, 7, 19, 20, 21, 95, 96, 97, 128, 700, 1024};
    uint32_t method = 0;
    for (size_t f = 0; f < sizeof(frags) / sizeof(frags[0]); f++) {
        for (uint64_t seed = 1; seed <= 6; seed++) {
            CU_ASSERT_EQUAL(run_pair(bt_mem_default(), seed, frags[f], 3, 3, false, &method), 0);
            CU_ASSERT_EQUAL(method, BT_MSE_RC4);
            CU_ASSERT_EQUAL(run_pair(bt_mem_default(), seed, frags[f], 3, 3, true, &method), 0);
            CU_ASSERT_EQUAL(method, BT_MSE_PLAINTEXT);
        }
    }
}

static void test_pair_methods(void)
{
    uint32_t method = 0;
    CU_ASSERT_EQUAL(run_pair(bt_mem_default(), 9, 64, BT_MSE_RC4, 3, true, &method), 0);
    CU_ASSERT_EQUAL(method, BT_MSE_RC4);
    CU_ASSERT_EQUAL(run_pair(bt_mem_default(), 9, 64, BT_MSE_PLAINTEXT, 3, false, &method), 0);
    CU_ASSERT_EQUAL(method, BT_MSE_PLAINTEXT);
    CU_ASSERT_EQUAL(run_pair(bt_mem_default(), 9, 64, 3, BT_MSE_RC4, true, &method), 0);
    CU_ASSERT_EQUAL(method, BT_MSE_RC4);
    /* Nothing in common: the responder refuses. */
    CU_ASSERT_EQUAL(run_pair(bt_mem_default(), 9, 64, BT_MSE_PLAINTEXT, BT_MSE_RC4, false, &method),
                    BT_ERR_PROTO);
}

static void test_deterministic(void)
{
    bt_pcg32 r1, r2;
    bt_pcg32_seed(&r1, 42, 1);
    bt_pcg32_seed(&r2, 42, 1);
    bt_mse_config c = cfg_init(3, NULL, 0);
    bt_mse *m1, *m2;
    CU_ASSERT_FATAL(bt_mse_new(&m1, &c, &r1, bt_mem_default()) == 0);
    CU_ASSERT_FATAL(bt_mse_new(&m2, &c, &r2, bt_mem_default()) == 0);
    const uint8_t *p1, *p2;
    size_t n1 = bt_mse_pending(m1, &p1), n2 = bt_mse_pending(m2, &p2);
    CU_ASSERT(n1 >= 96 && n1 <= 96 + 512 && n1 == n2 && memcmp(p1, p2, n1) == 0);
    bt_mse_del(m1);
    bt_mse_del(m2);
}

static void test_failmalloc(void)
{
    uint32_t method;
    int nomem = 0;
    for (long i = 1; i < 64; i++) {
        failmem f;
        failmem_init_once(&f, i);
        int rv = run_pair(&f.mem, 3, 50, 3, 3, false, &method);
        if (f.calls < i) {
            CU_ASSERT_EQUAL(rv, 0); /* allocation i never happened: the run must succeed */
            break;
        }
        CU_ASSERT_EQUAL(rv, BT_ERR_NOMEM);
        nomem++;
    }
    CU_ASSERT(nomem >= 4);
}

/* ---- hand-built peers ---- */

typedef struct fake_a {
    uint8_t x[20], y[96], s[96];
    bt_mse *resp;
} fake_a;

/* Sends Ya + |padlen| bytes of 0x55 padding to a fresh responder and computes S from its Yb. */
static void fake_a_start(fake_a *f, size_t padlen)
{
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 5, 5);
    for (int i = 0; i < 20; i++)
        f->x[i] = (uint8_t)(i * 7 + 1);
    CU_ASSERT_FATAL(bt_mse_dh_public(f->x, f->y) == 0);
    bt_mse_config c = cfg_resp(3, false);
    CU_ASSERT_FATAL(bt_mse_new(&f->resp, &c, &rng, bt_mem_default()) == 0);
    uint8_t buf[96 + 1024];
    memcpy(buf, f->y, 96);
    memset(buf + 96, 0x55, padlen);
    CU_ASSERT_EQUAL(bt_mse_recv(f->resp, buf, 96 + padlen), (bt_ssize)(96 + padlen));
    const uint8_t *p;
    size_t n = bt_mse_pending(f->resp, &p);
    CU_ASSERT_FATAL(n >= 96);
    CU_ASSERT_FATAL(bt_mse_dh_secret(f->x, p, f->s) == 0);
    bt_mse_sent(f->resp, n);
}

/* Builds step 3 for |skey| with the given fields; returns its length. */
static size_t fake_step3(const fake_a *f, const uint8_t skey[20], uint64_t vc, uint32_t provide,
                         uint16_t padc, uint16_t ialen, uint8_t *out)
{
    uint8_t in[100], h2[20], h3[20];
    memcpy(in, "req1", 4);
    memcpy(in + 4, f->s, 96);
    bt_sha1(in, 100, out);
    memcpy(in, "req2", 4);
    memcpy(in + 4, skey, 20);
    bt_sha1(in, 24, h2);
    memcpy(in, "req3", 4);
    memcpy(in + 4, f->s, 96);
    bt_sha1(in, 100, h3);
    for (int i = 0; i < 20; i++)
        out[20 + i] = h2[i] ^ h3[i];
    size_t n = 40;
    for (int i = 7; i >= 0; i--)
        out[n++] = (uint8_t)(vc >> (8 * i));
    for (int i = 3; i >= 0; i--)
        out[n++] = (uint8_t)(provide >> (8 * i));
    out[n++] = (uint8_t)(padc >> 8);
    out[n++] = (uint8_t)padc;
    size_t padn = padc <= 512 ? padc : 0;
    memset(out + n, 0, padn);
    n += padn;
    out[n++] = (uint8_t)(ialen >> 8);
    out[n++] = (uint8_t)ialen;
    bt_rc4 r;
    bt_mse_rc4_setup(&r, "keyA", f->s, skey);
    bt_rc4_crypt(&r, out + 40, n - 40);
    return n;
}

static void expect_resp_error(size_t padlen, const uint8_t skey[20], uint64_t vc, uint32_t provide,
                              uint16_t padc, uint16_t ialen, int want, size_t want_off)
{
    fake_a f;
    fake_a_start(&f, padlen);
    uint8_t buf[1024];
    size_t n = fake_step3(&f, skey, vc, provide, padc, ialen, buf);
    CU_ASSERT_EQUAL(bt_mse_recv(f.resp, buf, n), want == 0 ? (bt_ssize)n : want);
    CU_ASSERT_EQUAL(bt_mse_status_get(f.resp), want == 0 ? BT_MSE_HANDSHAKING : BT_MSE_FAILED);
    size_t off = 0;
    CU_ASSERT_EQUAL(bt_mse_error(f.resp, &off), want);
    CU_ASSERT_EQUAL(off, want_off);
    /* Errors are sticky. */
    if (want != 0)
        CU_ASSERT_EQUAL(bt_mse_recv(f.resp, buf, 1), want);
    bt_mse_del(f.resp);
}

static void test_responder_malformed(void)
{
    static const uint8_t unknown[20] = {9, 9, 9};
    size_t p = 96 + 30; /* step 3 starts here (30 bytes of PadA) */
    /* The hand-built step 3 is right: with IA len 5 the responder waits for the IA. */
    expect_resp_error(30, skeys3[2], 0, 2, 0, 5, 0, 0);
    expect_resp_error(30, unknown, 0, 2, 0, 0, BT_ERR_NOTFOUND, p + 20);
    expect_resp_error(30, skeys3[0], 1, 2, 0, 0, BT_ERR_PROTO, p + 40);      /* bad VC */
    expect_resp_error(30, skeys3[0], 0, 0, 0, 0, BT_ERR_PROTO, p + 40);      /* empty provide */
    expect_resp_error(30, skeys3[0], 0, 0x10, 0, 0, BT_ERR_PROTO, p + 40);   /* unknown only */
    expect_resp_error(30, skeys3[0], 0, 2, 513, 0, BT_ERR_LIMIT, p + 52);    /* PadC */
    expect_resp_error(30, skeys3[0], 0, 2, 0, 0xffff, BT_ERR_LIMIT, p + 54); /* len(IA) */
    expect_resp_error(512, skeys3[0], 0, 2, 0, 0xffff, BT_ERR_LIMIT, 96 + 512 + 54);
}

static void test_responder_no_sync(void)
{
    /* 512 bytes of PadA and no HASH('req1',S) after them: fails at the 533rd byte after Ya. */
    fake_a f;
    fake_a_start(&f, 512);
    uint8_t junk[64];
    memset(junk, 0x55, sizeof(junk));
    CU_ASSERT_EQUAL(bt_mse_recv(f.resp, junk, 19), 19);
    CU_ASSERT_EQUAL(bt_mse_status_get(f.resp), BT_MSE_HANDSHAKING);
    CU_ASSERT_EQUAL(bt_mse_recv(f.resp, junk, 1), BT_ERR_LIMIT);
    size_t off = 0;
    CU_ASSERT_EQUAL(bt_mse_error(f.resp, &off), BT_ERR_LIMIT);
    CU_ASSERT_EQUAL(off, 96 + 512 + 19);
    bt_mse_del(f.resp);
}

static void test_responder_bad_ya(void)
{
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 1, 1);
    bt_mse_config c = cfg_resp(3, false);
    bt_mse *m;
    CU_ASSERT_FATAL(bt_mse_new(&m, &c, &rng, bt_mem_default()) == 0);
    const uint8_t *p;
    CU_ASSERT_EQUAL(bt_mse_pending(m, &p), 0);
    bt_mse_sent(m, 0); /* nothing queued yet: a host loop does this (found by interop/mse.sh) */
    uint8_t y[96];
    memset(y, 0xff, 96); /* >= P */
    CU_ASSERT_EQUAL(bt_mse_recv(m, y, 96), BT_ERR_PROTO);
    CU_ASSERT_EQUAL(bt_mse_pending(m, &p), 0); /* nothing was answered */
    bt_mse_del(m);
}

static void test_plain_detect(void)
{
    static const char hs[] = "\x13"
                             "BitTorrent protocol\0\0\0\0\0\x10\0\x05";
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 1, 1);
    bt_mse_config c = cfg_resp(3, false);
    bt_mse *m;
    CU_ASSERT_FATAL(bt_mse_new(&m, &c, &rng, bt_mem_default()) == 0);
    size_t used = 0;
    for (size_t i = 0; i < sizeof(hs) - 1; i++) { /* one byte at a time */
        bt_ssize r = bt_mse_recv(m, (const uint8_t *)hs + i, 1);
        CU_ASSERT(r == 0 || r == 1);
        used += (size_t)r;
    }
    CU_ASSERT_EQUAL(used, 20);
    CU_ASSERT_EQUAL(bt_mse_status_get(m), BT_MSE_PLAIN_BT);
    const uint8_t *p;
    CU_ASSERT_EQUAL(bt_mse_prefix(m, &p), 20);
    CU_ASSERT(p != NULL && memcmp(p, hs, 20) == 0);
    CU_ASSERT_EQUAL(bt_mse_pending(m, &p), 0);
    bt_mse_del(m);

    /* A Ya that merely starts like the handshake is still MSE: answered with Yb. */
    bt_mse_config c2 = cfg_resp(3, false);
    CU_ASSERT_FATAL(bt_mse_new(&m, &c2, &rng, bt_mem_default()) == 0);
    uint8_t ya[96];
    memset(ya, 0x42, 96);
    memcpy(ya, hs, 19); /* the 20th byte differs ('l' vs 0x42) */
    CU_ASSERT_EQUAL(bt_mse_recv(m, ya, 96), 96);
    CU_ASSERT_EQUAL(bt_mse_status_get(m), BT_MSE_HANDSHAKING);
    CU_ASSERT(bt_mse_pending(m, &p) >= 96);
    bt_mse_del(m);
}

/* Initiator against a hand-built responder: step 2 + step 4 with chosen fields. */
static int initiator_against(uint32_t select, uint16_t padb, uint16_t padd, size_t *off)
{
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 8, 8);
    bt_mse_config c = cfg_init(3, NULL, 0);
    bt_mse *m;
    CU_ASSERT_FATAL(bt_mse_new(&m, &c, &rng, bt_mem_default()) == 0);
    const uint8_t *p;
    bt_mse_pending(m, &p);
    uint8_t xb[20] = {3, 1, 4, 1, 5}, yb[96], s[96];
    CU_ASSERT_FATAL(bt_mse_dh_public(xb, yb) == 0);
    CU_ASSERT_FATAL(bt_mse_dh_secret(xb, p, s) == 0);
    uint8_t buf[2048];
    size_t n = 0;
    memcpy(buf, yb, 96);
    n = 96;
    memset(buf + n, 0x33, padb);
    n += padb;
    size_t enc = n;
    memset(buf + n, 0, 8);
    n += 8;
    buf[n++] = (uint8_t)(select >> 24);
    buf[n++] = (uint8_t)(select >> 16);
    buf[n++] = (uint8_t)(select >> 8);
    buf[n++] = (uint8_t)select;
    buf[n++] = (uint8_t)(padd >> 8);
    buf[n++] = (uint8_t)padd;
    size_t pn = padd <= 512 ? padd : 0;
    memset(buf + n, 0, pn);
    n += pn;
    memcpy(buf + n, "XYZ", 3); /* payload right behind the handshake */
    n += 3;
    bt_rc4 r;
    bt_mse_rc4_setup(&r, "keyB", s, skeys3[1]);
    bt_rc4_crypt(&r, buf + enc, n - 3 - enc);
    if (select == BT_MSE_RC4) /* the payload stream is ENCRYPT2: RC4 only if selected */
        bt_rc4_crypt(&r, buf + n - 3, 3);
    bt_ssize used = bt_mse_recv(m, buf, n);
    int rv = used < 0 ? (int)used : 0;
    bt_mse_error(m, off);
    if (rv == 0) {
        CU_ASSERT_EQUAL(bt_mse_status_get(m), BT_MSE_DONE);
        CU_ASSERT_EQUAL((size_t)used, n - 3);
        CU_ASSERT_EQUAL(bt_mse_method(m), select);
        bt_mse_decrypt(m, buf + n - 3, 3);
        CU_ASSERT(memcmp(buf + n - 3, "XYZ", 3) == 0);
    }
    bt_mse_del(m);
    return rv;
}

static void test_initiator_malformed(void)
{
    size_t off = 0;
    CU_ASSERT_EQUAL(initiator_against(BT_MSE_RC4, 100, 10, &off), 0);
    CU_ASSERT_EQUAL(initiator_against(BT_MSE_PLAINTEXT, 512, 512, &off), 0);
    CU_ASSERT_EQUAL(initiator_against(3, 10, 0, &off), BT_ERR_PROTO); /* two bits */
    CU_ASSERT_EQUAL(off, 96 + 10 + 8);
    CU_ASSERT_EQUAL(initiator_against(0x10, 10, 0, &off), BT_ERR_PROTO); /* not provided */
    CU_ASSERT_EQUAL(initiator_against(BT_MSE_RC4, 10, 600, &off), BT_ERR_LIMIT);
    CU_ASSERT_EQUAL(off, 96 + 10 + 8 + 4);
    CU_ASSERT_EQUAL(initiator_against(BT_MSE_RC4, 513, 0, &off), BT_ERR_LIMIT); /* no VC */
    CU_ASSERT_EQUAL(off, 96 + 512 + 7);
}

static void test_config_checks(void)
{
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, 1, 1);
    bt_mse *m = NULL;
    bt_mse_config c = cfg_init(0, NULL, 0);
    CU_ASSERT_EQUAL(bt_mse_new(&m, &c, &rng, bt_mem_default()), BT_ERR_INVALID);
    c = cfg_init(3, NULL, BT_MSE_IA_MAX + 1);
    CU_ASSERT_EQUAL(bt_mse_new(&m, &c, &rng, bt_mem_default()), BT_ERR_INVALID);
    c = cfg_init(3, NULL, 0);
    c.nskeys = 2;
    CU_ASSERT_EQUAL(bt_mse_new(&m, &c, &rng, bt_mem_default()), BT_ERR_INVALID);
    c = cfg_resp(3, false);
    c.pad_max = 513;
    CU_ASSERT_EQUAL(bt_mse_new(&m, &c, &rng, bt_mem_default()), BT_ERR_INVALID);
    c = cfg_resp(3, false);
    c.nskeys = 0;
    CU_ASSERT_EQUAL(bt_mse_new(&m, &c, &rng, bt_mem_default()), BT_ERR_INVALID);
    CU_ASSERT(m == NULL);
    bt_mse_del(NULL);
}

int test_mse_add_suite(void)
{
    CU_pSuite s = CU_add_suite("mse", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "rc4_rfc6229", test_rc4_rfc6229) == NULL ||
        CU_add_test(s, "dh_and_keys", test_dh_and_keys) == NULL ||
        CU_add_test(s, "dh_rejects_bad_peer", test_dh_rejects_bad_peer) == NULL ||
        CU_add_test(s, "pair_fragmentation", test_pair_fragmentation) == NULL ||
        CU_add_test(s, "pair_methods", test_pair_methods) == NULL ||
        CU_add_test(s, "deterministic", test_deterministic) == NULL ||
        CU_add_test(s, "failmalloc", test_failmalloc) == NULL ||
        CU_add_test(s, "responder_malformed", test_responder_malformed) == NULL ||
        CU_add_test(s, "responder_no_sync", test_responder_no_sync) == NULL ||
        CU_add_test(s, "responder_bad_ya", test_responder_bad_ya) == NULL ||
        CU_add_test(s, "plain_detect", test_plain_detect) == NULL ||
        CU_add_test(s, "initiator_malformed", test_initiator_malformed) == NULL ||
        CU_add_test(s, "config_checks", test_config_checks) == NULL)
        return 1;
    return 0;
}
