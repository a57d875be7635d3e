/* tests/fuzz/fuzz_mse.c: libFuzzer target for the MSE/PE handshake. Byte 0 picks the mode:
 * bit 0 initiator or responder, bits 1-2 the methods, bit 3 prefer plaintext, bit 4 "pair":
 * two real handshakes talk while the input chooses the seed, the fragment size and one byte to
 * flip on the wire. Otherwise the rest of the input is the peer's bytes, fed in fragments of
 * byte 1's size. Properties: no crash, consumption never exceeds input, errors are sticky,
 * the pair completes with equal methods unless a byte was flipped. */
#include "bt_mse.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static const uint8_t skeys[2][20] = {{0x11}, {0x22}};

static bt_mse_config config(bool initiator, uint8_t mode)
{
    bt_mse_config c = {0};
    c.initiator = initiator;
    c.crypto = (mode >> 1) & 3;
    if (c.crypto == 0)
        c.crypto = 3;
    c.prefer_plaintext = (mode & 8) != 0;
    c.skeys = initiator ? &skeys[1] : skeys;
    c.nskeys = initiator ? 1 : 2;
    c.ia = (const uint8_t *)"\x13"
                            "BitTorrent protocol";
    c.ia_len = initiator ? 20 : 0;
    c.pad_max = 512;
    c.pad_cd_max = 32;
    return c;
}

static void feed_one(bt_mse *m, const uint8_t *p, size_t n, size_t frag)
{
    int err = 0;
    for (size_t off = 0; off < n;) {
        size_t k = n - off < frag ? n - off : frag;
        bt_mse_status before = bt_mse_status_get(m);
        bt_ssize r = bt_mse_recv(m, p + off, k);
        if (err != 0)
            CHECK(r == err); /* sticky */
        if (r < 0) {
            err = (int)r;
            CHECK(bt_mse_status_get(m) == BT_MSE_FAILED && bt_mse_error(m, NULL) == err);
        } else {
            CHECK((size_t)r <= k);
            if (before != BT_MSE_HANDSHAKING)
                CHECK(r == 0);
            else if (bt_mse_status_get(m) == BT_MSE_HANDSHAKING)
                CHECK((size_t)r == k);
        }
        off += k;
        const uint8_t *q;
        size_t pl = bt_mse_prefix(m, &q);
        CHECK(pl <= BT_MSE_IA_MAX);
        if (bt_mse_status_get(m) == BT_MSE_DONE) {
            uint32_t meth = bt_mse_method(m);
            CHECK(meth == BT_MSE_PLAINTEXT || meth == BT_MSE_RC4);
        }
    }
}

/* Moves |from|'s pending bytes into |to|, flipping byte |flip| of the whole conversation. */
static int move(bt_mse *from, bt_mse *to, size_t frag, size_t *pos, size_t flip)
{
    const uint8_t *p;
    size_t n = bt_mse_pending(from, &p);
    uint8_t *copy = malloc(n + 1);
    CHECK(copy != NULL);
    memcpy(copy, p, n);
    bt_mse_sent(from, n);
    if (flip >= *pos && flip < *pos + n)
        copy[flip - *pos] ^= 0x5a;
    *pos += n;
    int rv = 0;
    for (size_t off = 0; off < n && rv == 0 && bt_mse_status_get(to) == BT_MSE_HANDSHAKING;) {
        size_t k = n - off < frag ? n - off : frag;
        bt_ssize r = bt_mse_recv(to, copy + off, k);
        rv = r < 0 ? (int)r : 0;
        off += k;
    }
    free(copy);
    return rv;
}

static void pair(const uint8_t *d, size_t n, uint8_t mode)
{
    if (n < 4)
        return;
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, d[0], d[1]);
    size_t frag = (size_t)d[2] + 1;
    size_t flip = n > 4 ? ((size_t)d[3] << 8 | d[4]) : SIZE_MAX;
    if (mode & 0x20)
        flip = SIZE_MAX;
    bt_mse_config ca = config(true, mode), cb = config(false, mode);
    bt_mse *a = NULL, *b = NULL;
    CHECK(bt_mse_new(&a, &ca, &rng, bt_mem_default()) == 0);
    CHECK(bt_mse_new(&b, &cb, &rng, bt_mem_default()) == 0);
    size_t pos = 0;
    int rv = 0;
    for (int round = 0; round < 3 && rv == 0; round++) {
        rv = move(a, b, frag, &pos, flip);
        if (rv == 0)
            rv = move(b, a, frag, &pos, flip);
    }
    if (flip == SIZE_MAX) {
        CHECK(rv == 0 && bt_mse_status_get(a) == BT_MSE_DONE);
        CHECK(bt_mse_status_get(b) == BT_MSE_DONE && bt_mse_method(a) == bt_mse_method(b));
    }
    bt_mse_del(a);
    bt_mse_del(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t mode = data[0];
    if (mode & 0x10) {
        pair(data + 1, size - 1, mode);
        return 0;
    }
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, mode, 1);
    bt_mse_config c = config(mode & 1, mode);
    bt_mse *m = NULL;
    CHECK(bt_mse_new(&m, &c, &rng, bt_mem_default()) == 0);
    feed_one(m, data + 2, size - 2, (size_t)data[1] + 1);
    bt_mse_del(m);
    return 0;
}
