/* bt_buf.c: growable byte buffers with a hard limit and a sticky error; peer addresses; hex. */
#include "bt_mem.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

void bt_buf_init(bt_buf *b, const bt_mem *mem, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->mem = mem;
    b->max = max == 0 ? SIZE_MAX : max;
}

void bt_buf_init_inline(bt_buf *b, const bt_mem *mem, size_t max, uint8_t *storage, size_t cap)
{
    bt_buf_init(b, mem, max);
    b->data = storage;
    b->cap = cap;
    b->inl = true;
}

void bt_buf_free(bt_buf *b)
{
    if (b->data != NULL && !b->inl)
        bt_free(b->mem, b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->inl = false;
}

void bt_buf_reset(bt_buf *b)
{
    b->len = 0;
    b->err = 0;
}

int bt_buf_reserve(bt_buf *b, size_t extra)
{
    if (b->err != 0)
        return b->err;
    if (extra > b->max - b->len) {
        b->err = BT_ERR_LIMIT;
        return b->err;
    }
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max)
        cap = b->max;
    uint8_t *p = b->inl ? bt_malloc(b->mem, cap) : bt_realloc(b->mem, b->data, cap);
    if (p == NULL) {
        b->err = BT_ERR_NOMEM;
        return b->err;
    }
    if (b->inl && b->len > 0)
        memcpy(p, b->data, b->len);
    b->inl = false;
    b->data = p;
    b->cap = cap;
    return 0;
}

void bt_buf_put(bt_buf *b, const void *p, size_t n)
{
    if (n == 0 || bt_buf_reserve(b, n) != 0)
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void bt_buf_put_u8(bt_buf *b, uint8_t v) { bt_buf_put(b, &v, 1); }

void bt_buf_put_be16(bt_buf *b, uint16_t v)
{
    uint8_t t[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    bt_buf_put(b, t, 2);
}

void bt_buf_put_be32(bt_buf *b, uint32_t v)
{
    uint8_t t[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    bt_buf_put(b, t, 4);
}

void bt_buf_put_be64(bt_buf *b, uint64_t v)
{
    bt_buf_put_be32(b, (uint32_t)(v >> 32));
    bt_buf_put_be32(b, (uint32_t)v);
}

void bt_buf_put_str(bt_buf *b, const char *s) { bt_buf_put(b, s, strlen(s)); }

void bt_buf_consume(bt_buf *b, size_t n)
{
    assert(n <= b->len);
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

bool bt_addr_equal(const bt_addr *a, const bt_addr *b)
{
    size_t n = a->family == 6 ? 16 : 4;
    return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, n) == 0;
}

char *bt_addr_format(const bt_addr *a, char *out, size_t outlen)
{
    if (a->family == 4) {
        snprintf(out, outlen, "%u.%u.%u.%u:%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3], a->port);
        return out;
    }
    size_t off = 0;
    off += (size_t)snprintf(out, outlen, "[");
    for (int i = 0; i < 16 && off < outlen; i += 2)
        off += (size_t)snprintf(out + off, outlen - off, "%s%x", i ? ":" : "", bt_be16(a->ip + i));
    if (off < outlen)
        snprintf(out + off, outlen - off, "]:%u", a->port);
    return out;
}

char *bt_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}
