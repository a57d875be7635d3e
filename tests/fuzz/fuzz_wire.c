/* tests/fuzz/fuzz_wire.c: libFuzzer target for the wire parser. The first 6 bytes pick the
 * limits and a fragmentation; the rest is parsed in those fragments, one byte at a time, and
 * with piece payload fed as virtual bytes: all runs must agree. Extension handshakes (and the
 * raw rest) go through the BEP 10 decoder, which must round-trip through the encoder. */
#include "bt_wire.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

typedef struct ev {
    uint8_t id, raw_id, ext_id;
    uint16_t port;
    uint32_t index, begin, length;
    uint64_t data_hash; /* bitfield / extended payload */
} ev;

typedef struct trace {
    ev *ev;
    size_t n, cap;
    uint64_t piece_hash; /* over all real piece payload bytes */
    uint32_t piece_have; /* bytes of the current piece seen */
    int rc;
    uint64_t offset;
    const char *err;
} trace;

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static bool ext_equal(const bt_ext_handshake *a, const bt_ext_handshake *b)
{
    if (a->n_m != b->n_m || a->reqq != b->reqq || a->p != b->p || a->yourip_len != b->yourip_len ||
        a->metadata_size != b->metadata_size || a->upload_only != b->upload_only ||
        strcmp(a->v, b->v) != 0 || memcmp(a->yourip, b->yourip, a->yourip_len) != 0)
        return false;
    for (uint32_t i = 0; i < a->n_m; i++)
        if (strcmp(a->m[i].name, b->m[i].name) != 0 || a->m[i].id != b->m[i].id)
            return false;
    return true;
}

/* decode(encode(decode(x))) == decode(x) */
static void check_ext(const uint8_t *p, size_t n)
{
    bt_ext_handshake hs, again;
    if (bt_wire_parse_ext_handshake(p, n, &hs, bt_mem_default()) != 0)
        return;
    CHECK(hs.n_m <= BT_EXT_MAX_M && strlen(hs.v) < sizeof(hs.v));
    CHECK(hs.yourip_len == 0 || hs.yourip_len == 4 || hs.yourip_len == 16);
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_wire_put_ext_handshake(&b, &hs);
    CHECK(b.err == 0 && b.len >= 6 && bt_be32(b.data) == b.len - 4);
    CHECK(b.data[4] == BT_MSG_EXTENDED && b.data[5] == 0);
    CHECK(bt_wire_parse_ext_handshake(b.data + 6, b.len - 6, &again, bt_mem_default()) == 0);
    CHECK(ext_equal(&hs, &again));
    bt_buf_free(&b);
}

static void record(trace *t, const bt_wire_msg *m, const uint8_t *chunk, size_t clen)
{
    if (m->id == BT_MSG_PIECE) {
        CHECK(m->data_len > 0 && m->frag_off == t->piece_have);
        CHECK(m->data == NULL || (m->data >= chunk && m->data + m->data_len <= chunk + clen));
        t->piece_have += (uint32_t)m->data_len;
        CHECK(m->last == (t->piece_have == m->length));
        if (m->data != NULL)
            t->piece_hash = fnv(t->piece_hash, m->data, m->data_len);
        if (m->last)
            t->piece_have = 0;
        if (m->frag_off != 0)
            return;
    }
    CHECK(t->n < t->cap);
    ev *e = &t->ev[t->n++];
    memset(e, 0, sizeof(*e));
    e->id = m->id;
    e->raw_id = m->raw_id;
    e->ext_id = m->ext_id;
    e->port = m->port;
    e->index = m->index;
    e->begin = m->begin;
    e->length = m->length;
    if (m->id == BT_MSG_BITFIELD || m->id == BT_MSG_EXTENDED)
        e->data_hash = fnv(14695981039346656037ull, m->data, m->data_len);
}

/* Chunk size for |mode|: 0 whole, 1 fixed, 2 random small, 3 random mixed. */
static size_t next_chunk(int mode, uint8_t fixed, bt_pcg32 *rng, size_t remaining)
{
    size_t n = remaining;
    if (mode == 1)
        n = (size_t)fixed + 1;
    else if (mode == 2)
        n = 1 + bt_pcg32_below(rng, 16);
    else if (mode == 3 && bt_pcg32_below(rng, 4) == 0)
        n = 1 + bt_pcg32_below(rng, 70000);
    else if (mode == 3)
        n = 1 + bt_pcg32_below(rng, 300);
    return n < remaining ? n : remaining;
}

/* One parser call on |chunk| at |*pos|; virtual payload instead of real when |virt|. */
static int step(bt_wire_parser *p, const uint8_t *chunk, size_t n, size_t *pos, bool virt, trace *t,
                bool ext)
{
    bt_wire_msg m;
    size_t used = 0;
    uint32_t rem;
    int rc;
    if (virt && bt_wire_in_payload(p, &rem)) {
        size_t k = n - *pos < rem ? n - *pos : rem;
        rc = bt_wire_parse_virtual(p, k, &used, &m);
        CHECK(rc == 1 && used == k && m.data == NULL);
    } else {
        rc = bt_wire_parse(p, chunk + *pos, n - *pos, &used, &m);
        CHECK(used <= n - *pos && (rc != 0 || used == n - *pos));
    }
    *pos += used;
    if (rc == 1) {
        record(t, &m, chunk, n);
        if (ext && m.id == BT_MSG_EXTENDED && m.ext_id == 0)
            check_ext(m.data, m.data_len);
    }
    return rc;
}

static void run(const uint8_t *in, size_t len, const bt_wire_limits *lim, int mode, uint8_t fixed,
                bool virt, trace *t)
{
    bt_wire_parser p;
    bt_wire_parser_init(&p, lim, bt_mem_default());
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, fixed, (uint64_t)mode);
    size_t off = 0;
    while (off < len && t->rc >= 0) {
        size_t n = next_chunk(mode, fixed, &rng, len - off);
        uint8_t *chunk = malloc(n); /* its own block, so ASan sees reads past it */
        CHECK(chunk != NULL);
        memcpy(chunk, in + off, n);
        size_t pos = 0;
        while (pos < n) {
            int rc = step(&p, chunk, n, &pos, virt, t, mode != 0 && !virt);
            CHECK(p.offset == off + pos);
            if (rc < 0) {
                t->rc = rc;
                t->err = p.error;
                CHECK(p.error != NULL);
                break;
            }
        }
        free(chunk);
        off += n;
    }
    t->offset = p.offset;
    bt_wire_parser_free(&p);
}

static bool same(const trace *a, const trace *b, bool cmp_payload)
{
    if (a->n != b->n || a->rc != b->rc || a->offset != b->offset || a->err != b->err)
        return false;
    if (cmp_payload && a->piece_hash != b->piece_hash)
        return false;
    return memcmp(a->ev, b->ev, a->n * sizeof(ev)) == 0;
}

static void check_handshake(const uint8_t *data, size_t size)
{
    bt_handshake hs;
    if (size < BT_HANDSHAKE_LEN || bt_wire_parse_handshake(data, &hs) != 0)
        return;
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_wire_put_handshake(&b, &hs);
    CHECK(b.len == BT_HANDSHAKE_LEN && memcmp(b.data, data, BT_HANDSHAKE_LEN) == 0);
    bt_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_handshake(data, size);
    if (size < 6)
        return 0;
    bt_wire_limits lim = {
        .npieces = ((uint32_t)data[0] << 8 | data[1]) % 2000,
        .max_block_len = 1u << (data[4] % 18),
        .max_extended_len = 2u + 16u * data[5],
        .max_unknown_len = 24u * data[3],
    };
    int mode = data[2] & 3;
    const uint8_t *in = data + 6;
    size_t len = size - 6;
    check_ext(in, len);
    trace t[3];
    memset(t, 0, sizeof(t));
    for (int i = 0; i < 3; i++) {
        t[i].cap = len / 4 + 2;
        t[i].ev = calloc(t[i].cap, sizeof(ev));
        CHECK(t[i].ev != NULL);
    }
    run(in, len, &lim, mode, data[3], false, &t[0]);
    run(in, len, &lim, 1, 0, false, &t[1]); /* one byte at a time */
    run(in, len, &lim, mode, data[3], true, &t[2]);
    CHECK(same(&t[0], &t[1], true));
    CHECK(same(&t[0], &t[2], false));
    for (int i = 0; i < 3; i++)
        free(t[i].ev);
    return 0;
}
