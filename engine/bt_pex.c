/* bt_pex.c: BEP 11 ut_pex codec over the bencode module: compact IPv4 (6 bytes) and IPv6 (18
 * bytes) peer lists with one flag byte per added peer. No I/O, no state. */
#include "bt_pex.h"
#include "bt_bencode.h"

#include <assert.h>
#include <string.h>

static const bt_ben_limits pex_limits = {
    .max_depth = 2,
    .max_tokens = 64,
    .max_input = BT_PEX_MAX_PAYLOAD,
};

static uint32_t limit_for(bool first)
{
    return first ? BT_PEX_MAX_FIRST : BT_PEX_MAX_ENTRIES;
}

static size_t compact_len(int family)
{
    return family == 4 ? 6 : 18;
}

/* Writes |a| in compact form (4 or 16 address bytes, then the port) at |out|; returns the size. */
static size_t compact(uint8_t *out, const bt_addr *a)
{
    size_t n = a->family == 4 ? 4 : 16;
    memcpy(out, a->ip, n);
    out[n] = (uint8_t)(a->port >> 8);
    out[n + 1] = (uint8_t)a->port;
    return n + 2;
}

static uint32_t count_added(const bt_pex_msg *msg, int family)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < msg->nadded; i++) {
        assert(msg->added[i].addr.family == 4 || msg->added[i].addr.family == 6);
        k += msg->added[i].addr.family == family;
    }
    return k;
}

static uint32_t count_dropped(const bt_pex_msg *msg, int family)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < msg->ndropped; i++) {
        assert(msg->dropped[i].family == 4 || msg->dropped[i].family == 6);
        k += msg->dropped[i].family == family;
    }
    return k;
}

/* "added"/"added6" and their flag strings, for one family (counts already checked). */
static void put_added(bt_buf *b, const bt_pex_msg *msg, int family)
{
    uint8_t c[BT_PEX_MAX_FIRST * 18], f[BT_PEX_MAX_FIRST];
    size_t cl = 0;
    uint32_t k = 0;
    for (uint32_t i = 0; i < msg->nadded; i++) {
        if (msg->added[i].addr.family != family)
            continue;
        cl += compact(c + cl, &msg->added[i].addr);
        f[k++] = msg->added[i].flags;
    }
    if (k == 0)
        return;
    bt_ben_put_cstr(b, family == 4 ? "added" : "added6");
    bt_ben_put_str(b, c, cl);
    bt_ben_put_cstr(b, family == 4 ? "added.f" : "added6.f");
    bt_ben_put_str(b, f, k);
}

static void put_dropped(bt_buf *b, const bt_pex_msg *msg, int family)
{
    uint8_t c[BT_PEX_MAX_FIRST * 18];
    size_t cl = 0;
    for (uint32_t i = 0; i < msg->ndropped; i++)
        if (msg->dropped[i].family == family)
            cl += compact(c + cl, &msg->dropped[i]);
    if (cl == 0)
        return;
    bt_ben_put_cstr(b, family == 4 ? "dropped" : "dropped6");
    bt_ben_put_str(b, c, cl);
}

int bt_pex_put(bt_buf *b, const bt_pex_msg *msg, bool first)
{
    uint32_t lim = limit_for(first);
    if (count_added(msg, 4) > lim || count_added(msg, 6) > lim || count_dropped(msg, 4) > lim ||
        count_dropped(msg, 6) > lim)
        return BT_ERR_LIMIT;
    bt_ben_put_dict(b); /* keys in byte order: added, added.f, added6, added6.f, dropped, ... */
    put_added(b, msg, 4);
    put_added(b, msg, 6);
    put_dropped(b, msg, 4);
    put_dropped(b, msg, 6);
    bt_ben_put_end(b);
    return b->err;
}

typedef struct pex_ctx {
    const bt_ben_doc *doc;
    uint32_t max_entries;
    bt_pex_msg *msg;
    size_t *err_off;
} pex_ctx;

static int fail(pex_ctx *c, size_t off, int rv)
{
    if (c->err_off != NULL)
        *c->err_off = off;
    return rv;
}

/* Looks up the compact list |key| of |family|: sets *p and *count (0 if absent). */
static int get_list(pex_ctx *c, const char *key, int family, const uint8_t **p, uint32_t *count)
{
    *p = NULL;
    *count = 0;
    uint32_t t = bt_ben_dict_get(c->doc, 0, key);
    if (t == BT_BEN_NONE)
        return 0;
    size_t n = 0;
    if (!bt_ben_get_str(c->doc, t, p, &n))
        return fail(c, c->doc->toks[t].start, BT_ERR_PROTO);
    size_t el = compact_len(family);
    if (n % el != 0)
        return fail(c, c->doc->toks[t].start, BT_ERR_PROTO);
    if (n / el > c->max_entries)
        return fail(c, c->doc->toks[t].start, BT_ERR_LIMIT);
    *count = (uint32_t)(n / el);
    return 0;
}

static void read_addr(bt_addr *a, const uint8_t *p, int family)
{
    size_t n = family == 4 ? 4 : 16;
    memset(a, 0, sizeof(*a));
    a->family = (uint8_t)family;
    memcpy(a->ip, p, n);
    a->port = bt_be16(p + n);
}

static int parse_added(pex_ctx *c, const char *key, const char *fkey, int family)
{
    const uint8_t *p, *f = NULL;
    uint32_t count;
    int rv = get_list(c, key, family, &p, &count);
    if (rv != 0 || count == 0)
        return rv;
    size_t fl = 0;
    uint32_t t = bt_ben_dict_get(c->doc, 0, fkey);
    if (t != BT_BEN_NONE && !bt_ben_get_str(c->doc, t, &f, &fl))
        return fail(c, c->doc->toks[t].start, BT_ERR_PROTO);
    for (uint32_t i = 0; i < count; i++) {
        bt_pex_peer *e = &c->msg->added[c->msg->nadded];
        read_addr(&e->addr, p + i * compact_len(family), family);
        e->flags = i < fl ? f[i] : 0;
        if (e->addr.port == 0)
            c->msg->nskipped++;
        else
            c->msg->nadded++;
    }
    return 0;
}

static int parse_dropped(pex_ctx *c, const char *key, int family)
{
    const uint8_t *p;
    uint32_t count;
    int rv = get_list(c, key, family, &p, &count);
    for (uint32_t i = 0; rv == 0 && i < count; i++) {
        bt_addr *a = &c->msg->dropped[c->msg->ndropped];
        read_addr(a, p + i * compact_len(family), family);
        if (a->port == 0)
            c->msg->nskipped++;
        else
            c->msg->ndropped++;
    }
    return rv;
}

int bt_pex_parse(const uint8_t *p, size_t n, uint32_t max_entries, bt_pex_msg *msg,
                 const bt_mem *mem, size_t *err_off)
{
    assert(max_entries <= BT_PEX_MAX_FIRST);
    memset(msg, 0, sizeof(*msg));
    bt_ben_doc d;
    bt_ben_error e = {0, NULL};
    int rv = bt_ben_parse(&d, p, n, &pex_limits, mem, &e);
    if (rv != 0) {
        if (rv != BT_ERR_NOMEM && err_off != NULL)
            *err_off = e.offset;
        return rv;
    }
    pex_ctx c = {&d, max_entries, msg, err_off};
    if (d.toks[0].type != BT_BEN_DICT)
        rv = fail(&c, 0, BT_ERR_PROTO);
    if (rv == 0)
        rv = parse_added(&c, "added", "added.f", 4);
    if (rv == 0)
        rv = parse_added(&c, "added6", "added6.f", 6);
    if (rv == 0)
        rv = parse_dropped(&c, "dropped", 4);
    if (rv == 0)
        rv = parse_dropped(&c, "dropped6", 6);
    bt_ben_free(&d);
    if (rv != 0)
        memset(msg, 0, sizeof(*msg));
    return rv;
}
