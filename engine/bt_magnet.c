/* bt_magnet.c: the magnet URI parser (BEP 9): splits the query, percent-decodes values into a
 * bounded scratch buffer and copies what it keeps through bt_mem. No I/O, no name lookups. */
#include "bt_magnet.h"
#include "bt_mem.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

typedef struct parse_ctx {
    bt_magnet *mg;
    bt_magnet_error *err;
    size_t val_off;                    /* offset of the current value in the URI */
    char buf[BT_MAGNET_MAX_VALUE + 1]; /* the decoded value */
    size_t buf_len;
    bool have_hash;
} parse_ctx;

static int fail(parse_ctx *c, int rv, size_t off, const char *msg)
{
    if (c->err != NULL) {
        c->err->offset = off;
        c->err->msg = msg;
    }
    return rv;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (char)(ch | 0x20);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static int b32val(char ch)
{
    if (ch >= '2' && ch <= '7')
        return ch - '2' + 26;
    ch = (char)(ch | 0x20);
    return ch >= 'a' && ch <= 'z' ? ch - 'a' : -1;
}

int bt_magnet_decode_hash(const char *s, size_t n, uint8_t out[20])
{
    if (n == 40) {
        for (size_t i = 0; i < 20; i++) {
            int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
            if (hi < 0 || lo < 0)
                return BT_ERR_PROTO;
            out[i] = (uint8_t)(hi << 4 | lo);
        }
        return 0;
    }
    if (n != 32)
        return BT_ERR_PROTO;
    uint32_t acc = 0, bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < 32; i++) {
        int v = b32val(s[i]);
        if (v < 0)
            return BT_ERR_PROTO;
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return 0; /* 32 * 5 = 160 bits exactly */
}

/* Percent-decodes |v|[0..n) (at URI offset |off|) into c->buf. '+' becomes a space if
 * |plus_space|. Rejects bad escapes and control characters (%00 included). */
static int decode_value(parse_ctx *c, const char *v, size_t n, size_t off, bool plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        size_t at = i; /* where this (possibly escaped) character starts */
        if (ch == '%') {
            int hi = n - i >= 3 ? hexval(v[i + 1]) : -1;
            int lo = n - i >= 3 ? hexval(v[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return fail(c, BT_ERR_PROTO, off + i, "magnet: bad %-escape");
            ch = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else if (ch == '+' && plus_space) {
            ch = ' ';
        }
        if (ch < 0x20 || ch == 0x7f)
            return fail(c, BT_ERR_PROTO, off + at, "magnet: control character or %00 in a value");
        if (o == BT_MAGNET_MAX_VALUE)
            return fail(c, BT_ERR_LIMIT, off + at, "magnet: value too long");
        c->buf[o++] = (char)ch;
    }
    c->buf[o] = '\0';
    c->buf_len = o;
    return 0;
}

/* Does |key|[0..n) equal |name| or |name| followed by ".<digits>" (tr.1, xt.2)? */
static bool key_is(const char *key, size_t n, const char *name)
{
    size_t k = strlen(name);
    if (n < k || memcmp(key, name, k) != 0)
        return false;
    if (n == k)
        return true;
    if (key[k] != '.' || n == k + 1)
        return false;
    for (size_t i = k + 1; i < n; i++)
        if (key[i] < '0' || key[i] > '9')
            return false;
    return true;
}

static int on_xt(parse_ctx *c)
{
    static const char btih[] = "urn:btih:";
    size_t p = sizeof(btih) - 1;
    if (c->buf_len < p || strncmp(c->buf, btih, p) != 0)
        return 0; /* another kind of URN (btmh, sha1...): not ours */
    uint8_t h[20];
    if (bt_magnet_decode_hash(c->buf + p, c->buf_len - p, h) != 0)
        return fail(c, BT_ERR_PROTO, c->val_off, "magnet: btih is not 40 hex or 32 base32");
    if (c->have_hash && memcmp(h, c->mg->info_hash, 20) != 0)
        return fail(c, BT_ERR_PROTO, c->val_off, "magnet: conflicting btih values");
    memcpy(c->mg->info_hash, h, 20);
    c->have_hash = true;
    return 0;
}

static int on_dn(parse_ctx *c)
{
    if (c->mg->name != NULL)
        return 0; /* the first dn wins */
    c->mg->name = bt_strndup(c->mg->mem, c->buf, c->buf_len);
    return c->mg->name == NULL ? BT_ERR_NOMEM : 0;
}

static int on_tr(parse_ctx *c)
{
    bt_magnet *mg = c->mg;
    if (c->buf_len == 0)
        return fail(c, BT_ERR_PROTO, c->val_off, "magnet: empty tr");
    for (uint32_t i = 0; i < mg->ntrackers; i++)
        if (strcmp(mg->trackers[i], c->buf) == 0)
            return 0;
    if (mg->ntrackers == BT_MAGNET_MAX_TRACKERS)
        return fail(c, BT_ERR_LIMIT, c->val_off, "magnet: too many trackers");
    if (mg->trackers == NULL) {
        mg->trackers = bt_calloc(mg->mem, BT_MAGNET_MAX_TRACKERS, sizeof(char *));
        if (mg->trackers == NULL)
            return BT_ERR_NOMEM;
    }
    char *t = bt_strndup(mg->mem, c->buf, c->buf_len);
    if (t == NULL)
        return BT_ERR_NOMEM;
    mg->trackers[mg->ntrackers++] = t;
    return 0;
}

/* Parses "a.b.c.d:port" or "[v6]:port" in c->buf into |a|. Returns 1 for an address, 0 for a
 * host name (skipped), or BT_ERR_PROTO for a bad port or brackets. */
static int parse_peer(parse_ctx *c, bt_addr *a)
{
    char *colon = strrchr(c->buf, ':');
    if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) > 5)
        return fail(c, BT_ERR_PROTO, c->val_off, "magnet: x.pe needs host:port");
    unsigned long port = 0;
    for (const char *q = colon + 1; *q != '\0'; q++) {
        if (*q < '0' || *q > '9')
            return fail(c, BT_ERR_PROTO, c->val_off, "magnet: bad x.pe port");
        port = port * 10 + (unsigned long)(*q - '0');
    }
    if (port == 0 || port > 65535)
        return fail(c, BT_ERR_PROTO, c->val_off, "magnet: x.pe port out of range");
    *colon = '\0';
    char *host = c->buf;
    memset(a, 0, sizeof(*a));
    a->port = (uint16_t)port;
    if (host[0] == '[') {
        size_t hl = strlen(host);
        if (hl < 3 || host[hl - 1] != ']')
            return fail(c, BT_ERR_PROTO, c->val_off, "magnet: bad [IPv6] in x.pe");
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, a->ip) != 1)
            return fail(c, BT_ERR_PROTO, c->val_off, "magnet: bad IPv6 address in x.pe");
        a->family = 6;
        return 1;
    }
    if (inet_pton(AF_INET, host, a->ip) == 1) {
        a->family = 4;
        return 1;
    }
    return 0;
}

static int on_pe(parse_ctx *c)
{
    bt_magnet *mg = c->mg;
    bt_addr a;
    int rv = parse_peer(c, &a);
    if (rv <= 0) {
        if (rv == 0)
            mg->npeers_skipped++;
        return rv;
    }
    if (mg->npeers == BT_MAGNET_MAX_PEERS)
        return fail(c, BT_ERR_LIMIT, c->val_off, "magnet: too many x.pe peers");
    if (mg->peers == NULL) {
        mg->peers = bt_calloc(mg->mem, BT_MAGNET_MAX_PEERS, sizeof(bt_addr));
        if (mg->peers == NULL)
            return BT_ERR_NOMEM;
    }
    mg->peers[mg->npeers++] = a;
    return 0;
}

/* One "key=value" parameter at URI offset |off|. */
static int on_param(parse_ctx *c, const char *p, size_t n, size_t off)
{
    const char *eq = memchr(p, '=', n);
    if (eq == NULL)
        return fail(c, BT_ERR_PROTO, off, "magnet: parameter without '='");
    size_t kn = (size_t)(eq - p);
    const char *v = eq + 1;
    size_t vn = n - kn - 1;
    c->val_off = off + kn + 1;
    bool is_dn = key_is(p, kn, "dn");
    int (*handler)(parse_ctx *) = NULL;
    if (key_is(p, kn, "xt"))
        handler = on_xt;
    else if (is_dn)
        handler = on_dn;
    else if (key_is(p, kn, "tr"))
        handler = on_tr;
    else if (kn == 4 && memcmp(p, "x.pe", 4) == 0)
        handler = on_pe;
    if (handler == NULL)
        return 0; /* unknown keys (ws, as, xs, kt, so...) are ignored */
    int rv = decode_value(c, v, vn, c->val_off, is_dn);
    return rv != 0 ? rv : handler(c);
}

static int parse_query(parse_ctx *c, const char *uri, size_t len, size_t start)
{
    uint32_t nparams = 0;
    size_t i = start;
    while (i < len) {
        const char *amp = memchr(uri + i, '&', len - i);
        size_t end = amp != NULL ? (size_t)(amp - uri) : len;
        if (end > i) {
            if (++nparams > BT_MAGNET_MAX_PARAMS)
                return fail(c, BT_ERR_LIMIT, i, "magnet: too many parameters");
            int rv = on_param(c, uri + i, end - i, i);
            if (rv != 0)
                return rv;
        }
        i = end + 1;
    }
    if (!c->have_hash)
        return fail(c, BT_ERR_PROTO, len, "magnet: no xt=urn:btih");
    return 0;
}

static int ieq_prefix(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++)
        if ((s[i] | 0x20) != (prefix[i] | 0x20))
            return 0;
    return 1;
}

int bt_magnet_parse(bt_magnet *mg, const char *uri, size_t len, const bt_mem *mem,
                    bt_magnet_error *err)
{
    memset(mg, 0, sizeof(*mg));
    mg->mem = mem;
    parse_ctx *c = bt_malloc(mem, sizeof(*c));
    if (c == NULL)
        return BT_ERR_NOMEM;
    memset(c, 0, sizeof(*c));
    c->mg = mg;
    c->err = err;
    int rv;
    if (len > BT_MAGNET_MAX_LEN)
        rv = fail(c, BT_ERR_LIMIT, BT_MAGNET_MAX_LEN, "magnet: URI too long");
    else if (!ieq_prefix(uri, len, "magnet:?"))
        rv = fail(c, BT_ERR_PROTO, 0, "magnet: does not start with magnet:?");
    else
        rv = parse_query(c, uri, len, 8);
    bt_free(mem, c);
    if (rv != 0)
        bt_magnet_free(mg);
    return rv;
}

void bt_magnet_free(bt_magnet *mg)
{
    if (mg->mem == NULL)
        return;
    for (uint32_t i = 0; i < mg->ntrackers; i++)
        bt_free(mg->mem, mg->trackers[i]);
    bt_free(mg->mem, mg->trackers);
    bt_free(mg->mem, mg->peers);
    bt_free(mg->mem, mg->name);
    memset(mg, 0, sizeof(*mg)); /* a second free is a no-op */
}
