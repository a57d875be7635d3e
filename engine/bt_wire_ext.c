/* bt_wire_ext.c: the BEP 10 extension handshake (ext id 0) encoder and decoder, over the
 * bencode module. Never does I/O; the decoder's token array is its only allocation and is freed
 * before returning.  https://www.bittorrent.org/beps/bep_0010.html */
#include "bt_bencode.h"
#include "bt_wire.h"

#include <string.h>

/* Limits for a peer's handshake dict: it is flat apart from m (and the odd list). */
static const bt_ben_limits ext_limits = {
    .max_depth = 8,
    .max_tokens = 1024,
    .max_input = UINT32_MAX - 1,
};

/* Fills |order| with the indices of the distinct names of hs->m sorted bytewise (insertion
 * sort over at most BT_EXT_MAX_M entries). Returns how many. */
static uint32_t sort_m(const bt_ext_handshake *hs, uint32_t order[BT_EXT_MAX_M])
{
    uint32_t n = 0;
    uint32_t total = hs->n_m < BT_EXT_MAX_M ? hs->n_m : BT_EXT_MAX_M;
    for (uint32_t i = 0; i < total; i++) {
        const char *name = hs->m[i].name;
        uint32_t j = n;
        while (j > 0 && strcmp(hs->m[order[j - 1]].name, name) > 0)
            j--;
        if (j > 0 && strcmp(hs->m[order[j - 1]].name, name) == 0)
            continue; /* duplicate name: the first one wins */
        memmove(order + j + 1, order + j, (n - j) * sizeof(order[0]));
        order[j] = i;
        n++;
    }
    return n;
}

static void put_key(bt_buf *b, const char *key)
{
    bt_ben_put_cstr(b, key);
}

void bt_wire_put_ext_handshake(bt_buf *b, const bt_ext_handshake *hs)
{
    size_t start = b->len;
    bt_buf_put_be32(b, 0); /* patched below */
    bt_buf_put_u8(b, BT_MSG_EXTENDED);
    bt_buf_put_u8(b, 0); /* BEP 10: ext id 0 is the handshake */
    bt_ben_put_dict(b);
    put_key(b, "m");
    bt_ben_put_dict(b);
    uint32_t order[BT_EXT_MAX_M];
    uint32_t n = sort_m(hs, order);
    for (uint32_t i = 0; i < n; i++) {
        put_key(b, hs->m[order[i]].name);
        bt_ben_put_int(b, hs->m[order[i]].id);
    }
    bt_ben_put_end(b);
    if (hs->metadata_size >= 0) {
        put_key(b, "metadata_size"); /* BEP 9 */
        bt_ben_put_int(b, hs->metadata_size);
    }
    if (hs->p != 0) {
        put_key(b, "p");
        bt_ben_put_int(b, hs->p);
    }
    if (hs->reqq != 0) {
        put_key(b, "reqq");
        bt_ben_put_int(b, hs->reqq);
    }
    if (hs->upload_only) {
        put_key(b, "upload_only"); /* BEP 21 */
        bt_ben_put_int(b, 1);
    }
    if (hs->v[0] != '\0') {
        put_key(b, "v");
        bt_ben_put_str(b, hs->v, strnlen(hs->v, sizeof(hs->v)));
    }
    if (hs->yourip_len == 4 || hs->yourip_len == 16) {
        put_key(b, "yourip");
        bt_ben_put_str(b, hs->yourip, hs->yourip_len);
    }
    bt_ben_put_end(b);
    if (b->err != 0)
        return;
    uint32_t len = (uint32_t)(b->len - start - 4);
    b->data[start] = (uint8_t)(len >> 24);
    b->data[start + 1] = (uint8_t)(len >> 16);
    b->data[start + 2] = (uint8_t)(len >> 8);
    b->data[start + 3] = (uint8_t)len;
}

/* Reads the m dict at token |d| into hs->m. */
static void read_m(const bt_ben_doc *doc, uint32_t d, bt_ext_handshake *hs)
{
    uint32_t key = d + 1;
    for (uint32_t i = 0; i < doc->toks[d].count && hs->n_m < BT_EXT_MAX_M; i++) {
        uint32_t val = key + 1;
        const uint8_t *name;
        size_t nlen;
        int64_t id;
        if (bt_ben_get_str(doc, key, &name, &nlen) && nlen >= 1 && nlen < BT_EXT_NAME_MAX &&
            memchr(name, '\0', nlen) == NULL && bt_ben_get_int(doc, val, &id) && id >= 0 &&
            id <= 255) {
            memcpy(hs->m[hs->n_m].name, name, nlen);
            hs->m[hs->n_m].name[nlen] = '\0';
            hs->m[hs->n_m].id = (uint8_t)id;
            hs->n_m++;
        }
        key = doc->toks[val].next;
    }
}

/* Reads every top-level key but m. */
static void read_scalars(const bt_ben_doc *doc, bt_ext_handshake *hs)
{
    const uint8_t *s;
    size_t n;
    int64_t v;
    if (bt_ben_dict_str(doc, 0, "v", &s, &n)) {
        n = n < sizeof(hs->v) - 1 ? n : sizeof(hs->v) - 1;
        memcpy(hs->v, s, n);
        hs->v[n] = '\0';
    }
    if (bt_ben_dict_int(doc, 0, "reqq", &v) && v >= 1 && v <= UINT32_MAX)
        hs->reqq = (uint32_t)v;
    if (bt_ben_dict_int(doc, 0, "p", &v) && v >= 1 && v <= 65535)
        hs->p = (uint16_t)v;
    if (bt_ben_dict_str(doc, 0, "yourip", &s, &n) && (n == 4 || n == 16)) {
        memcpy(hs->yourip, s, n);
        hs->yourip_len = (uint8_t)n;
    }
    if (bt_ben_dict_int(doc, 0, "metadata_size", &v) && v >= 0)
        hs->metadata_size = v;
    if (bt_ben_dict_int(doc, 0, "upload_only", &v))
        hs->upload_only = v != 0;
}

int bt_wire_parse_ext_handshake(const uint8_t *p, size_t n, bt_ext_handshake *hs, const bt_mem *mem)
{
    memset(hs, 0, sizeof(*hs));
    hs->metadata_size = -1;
    if (n > ext_limits.max_input)
        return BT_ERR_LIMIT;
    bt_ben_doc doc;
    int rc = bt_ben_parse(&doc, p, n, &ext_limits, mem, NULL);
    if (rc != 0)
        return rc;
    if (doc.toks[0].type != BT_BEN_DICT) {
        bt_ben_free(&doc);
        return BT_ERR_PROTO;
    }
    uint32_t m = bt_ben_dict_get(&doc, 0, "m");
    if (m != BT_BEN_NONE && doc.toks[m].type == BT_BEN_DICT)
        read_m(&doc, m, hs);
    read_scalars(&doc, hs);
    bt_ben_free(&doc);
    return 0;
}
