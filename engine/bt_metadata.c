/* bt_metadata.c: BEP 9 ut_metadata: message codec over the bencode module, the metadata
 * assembler (bounded by BT_METADATA_MAX_SIZE, verified by SHA-1) and the serving side. No I/O. */
#include "bt_metadata.h"
#include "bt_bencode.h"
#include "bt_mem.h"

#include <string.h>

/* The dict is flat: msg_type, piece, total_size and perhaps a few extras. */
static const bt_ben_limits utm_limits = {
    .max_depth = 2,
    .max_tokens = 64,
    .max_input = BT_METADATA_MAX_DICT,
};

static void put_head(bt_buf *b, uint8_t type, uint32_t piece)
{
    bt_ben_put_dict(b);
    bt_ben_put_cstr(b, "msg_type");
    bt_ben_put_int(b, type);
    bt_ben_put_cstr(b, "piece");
    bt_ben_put_int(b, piece);
}

void bt_metadata_put_request(bt_buf *b, uint32_t piece)
{
    put_head(b, BT_UTM_REQUEST, piece);
    bt_ben_put_end(b);
}

void bt_metadata_put_reject(bt_buf *b, uint32_t piece)
{
    put_head(b, BT_UTM_REJECT, piece);
    bt_ben_put_end(b);
}

void bt_metadata_put_data(bt_buf *b, uint32_t piece, uint32_t total_size, const uint8_t *data,
                          size_t len)
{
    put_head(b, BT_UTM_DATA, piece);
    bt_ben_put_cstr(b, "total_size");
    bt_ben_put_int(b, total_size);
    bt_ben_put_end(b);
    bt_buf_put(b, data, len);
}

static int fail(size_t *err_off, size_t off, int rv)
{
    if (err_off != NULL)
        *err_off = off;
    return rv;
}

/* Reads a non-negative integer |key| of dict 0; returns 0, BT_ERR_PROTO (absent, wrong type
 * or negative; *off set to the value or the dict). */
static int get_uint(const bt_ben_doc *d, const char *key, int64_t *v, size_t *off)
{
    uint32_t t = bt_ben_dict_get(d, 0, key);
    *off = t == BT_BEN_NONE ? 0 : d->toks[t].start;
    if (t == BT_BEN_NONE || !bt_ben_get_int(d, t, v) || *v < 0)
        return BT_ERR_PROTO;
    return 0;
}

static int check_fields(const bt_ben_doc *d, size_t used, size_t n, bt_utm_msg *msg,
                        size_t *err_off)
{
    int64_t type, piece, total = 0;
    size_t off;
    if (get_uint(d, "msg_type", &type, &off) != 0)
        return fail(err_off, off, BT_ERR_PROTO);
    if (type > BT_UTM_REJECT) {
        msg->type = BT_UTM_UNKNOWN;
        return 0;
    }
    if (get_uint(d, "piece", &piece, &off) != 0)
        return fail(err_off, off, BT_ERR_PROTO);
    if (piece >= (int64_t)BT_METADATA_MAX_PIECES)
        return fail(err_off, off, BT_ERR_LIMIT);
    msg->type = (uint8_t)type;
    msg->piece = (uint32_t)piece;
    if (type != BT_UTM_DATA)
        return used == n ? 0 : fail(err_off, used, BT_ERR_PROTO);
    size_t poff = off;
    if (get_uint(d, "total_size", &total, &off) != 0 || total == 0)
        return fail(err_off, off, BT_ERR_PROTO);
    if (total > (int64_t)BT_METADATA_MAX_SIZE)
        return fail(err_off, off, BT_ERR_LIMIT);
    if (piece * (int64_t)BT_METADATA_PIECE_LEN >= total)
        return fail(err_off, poff, BT_ERR_PROTO);
    if (n - used > BT_METADATA_PIECE_LEN)
        return fail(err_off, used, BT_ERR_LIMIT);
    msg->total_size = (uint32_t)total;
    msg->data_len = n - used;
    msg->data = msg->data_len > 0 ? d->buf + used : NULL;
    return 0;
}

int bt_metadata_parse(const uint8_t *p, size_t n, bt_utm_msg *msg, const bt_mem *mem,
                      size_t *err_off)
{
    memset(msg, 0, sizeof(*msg));
    msg->type = BT_UTM_UNKNOWN;
    bt_ben_doc d;
    bt_ben_error e = {0, NULL};
    size_t used = 0;
    int rv = bt_ben_parse_prefix(&d, p, n, &used, &utm_limits, mem, &e);
    if (rv != 0)
        return rv == BT_ERR_NOMEM ? rv : fail(err_off, e.offset, rv);
    if (d.toks[0].type != BT_BEN_DICT)
        rv = fail(err_off, 0, BT_ERR_PROTO);
    else
        rv = check_fields(&d, used, n, msg, err_off);
    bt_ben_free(&d);
    if (rv != 0) {
        memset(msg, 0, sizeof(*msg));
        msg->type = BT_UTM_UNKNOWN;
    }
    return rv;
}

uint32_t bt_metadata_piece_count(uint32_t size)
{
    return (uint32_t)(((uint64_t)size + BT_METADATA_PIECE_LEN - 1) / BT_METADATA_PIECE_LEN);
}

bool bt_metadata_serve(bt_buf *b, const uint8_t *info, size_t len, uint32_t piece)
{
    if (len == 0 || len > BT_METADATA_MAX_SIZE || piece >= bt_metadata_piece_count((uint32_t)len)) {
        bt_metadata_put_reject(b, piece);
        return false;
    }
    size_t off = (size_t)piece * BT_METADATA_PIECE_LEN;
    size_t n = len - off < BT_METADATA_PIECE_LEN ? len - off : BT_METADATA_PIECE_LEN;
    bt_metadata_put_data(b, piece, (uint32_t)len, info + off, n);
    return true;
}

void bt_metadata_wrap(bt_buf *b, const uint8_t *info, size_t len)
{
    bt_ben_put_dict(b);
    bt_ben_put_cstr(b, "info");
    bt_buf_put(b, info, len);
    bt_ben_put_end(b);
}

/* ---- assembler ---- */

struct bt_metadata {
    const bt_mem *mem;
    uint8_t info_hash[20];
    uint32_t size;
    uint32_t npieces;
    uint32_t nhave;
    uint32_t failures;
    bool done;
    uint8_t *data;
    uint8_t have[BT_METADATA_MAX_PIECES / 8]; /* bit i: piece i held */
};

int bt_metadata_new(bt_metadata **pm, const uint8_t info_hash[20], uint32_t size, const bt_mem *mem)
{
    if (size == 0 || size > BT_METADATA_MAX_SIZE)
        return BT_ERR_LIMIT;
    bt_metadata *m = bt_calloc(mem, 1, sizeof(*m));
    if (m == NULL)
        return BT_ERR_NOMEM;
    m->data = bt_malloc(mem, size);
    if (m->data == NULL) {
        bt_free(mem, m);
        return BT_ERR_NOMEM;
    }
    m->mem = mem;
    memcpy(m->info_hash, info_hash, 20);
    m->size = size;
    m->npieces = bt_metadata_piece_count(size);
    *pm = m;
    return 0;
}

void bt_metadata_del(bt_metadata *m)
{
    if (m == NULL)
        return;
    bt_free(m->mem, m->data);
    bt_free(m->mem, m);
}

uint32_t bt_metadata_size(const bt_metadata *m)
{
    return m->size;
}

bool bt_metadata_have(const bt_metadata *m, uint32_t piece)
{
    return piece < m->npieces && (m->have[piece / 8] >> (piece % 8) & 1) != 0;
}

int32_t bt_metadata_next_missing(const bt_metadata *m, uint32_t from)
{
    for (uint32_t k = 0; k < m->npieces; k++) {
        uint32_t i = (from % m->npieces + k) % m->npieces;
        if (!bt_metadata_have(m, i))
            return (int32_t)i;
    }
    return -1;
}

int bt_metadata_add(bt_metadata *m, const bt_utm_msg *msg)
{
    if (m->done)
        return BT_ERR_STATE;
    if (msg->type != BT_UTM_DATA || msg->total_size != m->size || msg->piece >= m->npieces)
        return BT_ERR_PROTO;
    size_t off = (size_t)msg->piece * BT_METADATA_PIECE_LEN;
    size_t want = m->size - off < BT_METADATA_PIECE_LEN ? m->size - off : BT_METADATA_PIECE_LEN;
    if (msg->data_len != want)
        return BT_ERR_PROTO;
    if (bt_metadata_have(m, msg->piece))
        return 0;
    memcpy(m->data + off, msg->data, want);
    m->have[msg->piece / 8] |= (uint8_t)(1u << (msg->piece % 8));
    if (++m->nhave < m->npieces)
        return 0;
    uint8_t h[BT_SHA1_LEN];
    bt_sha1(m->data, m->size, h);
    if (memcmp(h, m->info_hash, 20) != 0) {
        memset(m->have, 0, sizeof(m->have));
        m->nhave = 0;
        m->failures++;
        return BT_ERR_PROTO;
    }
    m->done = true;
    return 1;
}

bool bt_metadata_done(const bt_metadata *m)
{
    return m->done;
}

uint32_t bt_metadata_failures(const bt_metadata *m)
{
    return m->failures;
}

const uint8_t *bt_metadata_data(const bt_metadata *m, size_t *len)
{
    *len = m->done ? m->size : 0;
    return m->done ? m->data : NULL;
}
