/* bt_tracker_http.c: the HTTP tracker codec: announce and scrape URL building (BEP 3, BEP 48)
 * and bencoded announce reply parsing (BEP 3, BEP 23 compact, BEP 7 peers6). Text in, text
 * out: never opens a connection and never resolves a host name.
 *   https://www.bittorrent.org/beps/bep_0003.html#trackers */
#include "bt_tracker.h"

#include "bt_bencode.h"
#include "bt_mem.h"

#include <arpa/inet.h>
#include <assert.h>
#include <string.h>

#define COMPACT4_LEN 6u  /* BEP 23: 4-byte IPv4 + 2-byte port, big-endian */
#define COMPACT6_LEN 18u /* BEP 7: 16-byte IPv6 + 2-byte port */
#define REPLY_MAX_DEPTH 8u
#define REPLY_MAX_TOKENS (1u << 18)

/* ---- URLs ---- */

static bool is_unreserved(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Percent-encodes |n| bytes (RFC 3986 unreserved bytes stay literal). */
static void put_pct(bt_buf *out, const uint8_t *p, size_t n)
{
    static const char hexd[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        if (is_unreserved(p[i])) {
            bt_buf_put_u8(out, p[i]);
        } else {
            char t[3] = {'%', hexd[p[i] >> 4], hexd[p[i] & 15]};
            bt_buf_put(out, t, 3);
        }
    }
}

static void put_u64(bt_buf *out, uint64_t v)
{
    char t[20];
    size_t i = sizeof(t);
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    bt_buf_put(out, t + i, sizeof(t) - i);
}

static void put_num_param(bt_buf *out, const char *name, uint64_t v)
{
    bt_buf_put_str(out, name);
    put_u64(out, v);
}

/* Appends |url| and the separator before the first new parameter. */
static void put_base(bt_buf *out, const char *url, size_t n)
{
    bt_buf_put(out, url, n);
    if (memchr(url, '?', n) == NULL)
        bt_buf_put_u8(out, '?');
    else if (n > 0 && url[n - 1] != '?' && url[n - 1] != '&')
        bt_buf_put_u8(out, '&');
}

/* NUL-terminates the text in |out| without counting the terminator in out->len. */
static int finish_text(bt_buf *out)
{
    bt_buf_put_u8(out, '\0');
    if (out->err == 0)
        out->len--;
    return out->err;
}

static const char *event_name(bt_announce_event e)
{
    switch (e) {
    case BT_EVENT_COMPLETED:
        return "completed";
    case BT_EVENT_STARTED:
        return "started";
    case BT_EVENT_STOPPED:
        return "stopped";
    default:
        return NULL;
    }
}

int bt_tracker_http_build_url(bt_buf *out, const char *base_url, const bt_announce_req *req)
{
    assert(req->event >= BT_EVENT_NONE && req->event <= BT_EVENT_STOPPED);
    put_base(out, base_url, strlen(base_url));
    bt_buf_put_str(out, "info_hash=");
    put_pct(out, req->info_hash, sizeof(req->info_hash));
    bt_buf_put_str(out, "&peer_id=");
    put_pct(out, req->peer_id, sizeof(req->peer_id));
    put_num_param(out, "&port=", req->port);
    put_num_param(out, "&uploaded=", req->uploaded);
    put_num_param(out, "&downloaded=", req->downloaded);
    put_num_param(out, "&left=", req->left);
    bt_buf_put_str(out, "&compact=1"); /* BEP 23 */
    const char *ev = event_name(req->event);
    if (ev != NULL) {
        bt_buf_put_str(out, "&event=");
        bt_buf_put_str(out, ev);
    }
    if (req->numwant >= 0)
        put_num_param(out, "&numwant=", (uint64_t)req->numwant);
    uint8_t key[4] = {(uint8_t)(req->key >> 24), (uint8_t)(req->key >> 16),
                      (uint8_t)(req->key >> 8), (uint8_t)req->key};
    char hex[9];
    bt_buf_put_str(out, "&key=");
    bt_buf_put_str(out, bt_hex(key, sizeof(key), hex));
    return finish_text(out);
}

int bt_tracker_http_scrape_url(bt_buf *out, const char *announce_url, const uint8_t info_hash[20])
{
    static const char announce[] = "announce"; /* BEP 48 */
    const char *slash = strrchr(announce_url, '/');
    if (slash == NULL || strncmp(slash + 1, announce, sizeof(announce) - 1) != 0)
        return BT_ERR_NOTFOUND;
    const char *rest = slash + 1 + (sizeof(announce) - 1);
    bt_buf_put(out, announce_url, (size_t)(slash + 1 - announce_url));
    bt_buf_put_str(out, "scrape");
    put_base(out, rest, strlen(rest));
    bt_buf_put_str(out, "info_hash=");
    put_pct(out, info_hash, 20);
    return finish_text(out);
}

/* ---- announce reply ---- */

typedef struct reply_ctx {
    const bt_ben_doc *doc;
    bt_announce_reply *r;
    size_t err_off;
    const char *err_msg;
} reply_ctx;

static int bad(reply_ctx *x, uint32_t tok, const char *msg)
{
    x->err_off = tok < x->doc->ntoks ? x->doc->toks[tok].start : 0;
    x->err_msg = msg;
    return BT_ERR_PROTO;
}

/* Reads optional int |key| into *out: absent or negative -> -1, above UINT32_MAX -> UINT32_MAX
 * (the range UDP replies have, so BT_SEC() of an interval cannot overflow); not an int ->
 * BT_ERR_PROTO. */
static int get_count(reply_ctx *x, const char *key, int64_t *out)
{
    uint32_t t = bt_ben_dict_get(x->doc, 0, key);
    *out = -1;
    if (t == BT_BEN_NONE)
        return 0;
    if (!bt_ben_get_int(x->doc, t, out))
        return bad(x, t, "tracker reply field is not an integer");
    if (*out < 0)
        *out = -1;
    else if (*out > (int64_t)UINT32_MAX)
        *out = UINT32_MAX;
    return 0;
}

/* Copies optional string |key| (truncated to BT_TRACKER_MAX_TEXT) into *out. */
static int get_text(reply_ctx *x, const char *key, char **out)
{
    uint32_t t = bt_ben_dict_get(x->doc, 0, key);
    const uint8_t *p;
    size_t n;
    if (t == BT_BEN_NONE)
        return 0;
    if (!bt_ben_get_str(x->doc, t, &p, &n))
        return bad(x, t, "tracker reply field is not a string");
    *out =
        bt_strndup(x->r->mem, (const char *)p, n < BT_TRACKER_MAX_TEXT ? n : BT_TRACKER_MAX_TEXT);
    return *out == NULL ? BT_ERR_NOMEM : 0;
}

static void add_peer(bt_announce_reply *r, uint32_t cap, int family, const uint8_t *ip,
                     uint16_t port)
{
    if (port == 0 || r->npeers >= cap)
        return;
    bt_addr *a = &r->peers[r->npeers++];
    memset(a, 0, sizeof(*a));
    a->family = (uint8_t)family;
    memcpy(a->ip, ip, family == 4 ? 4 : 16);
    a->port = port;
}

static void add_compact(bt_announce_reply *r, uint32_t cap, const uint8_t *p, size_t n, int family)
{
    size_t entry = family == 4 ? COMPACT4_LEN : COMPACT6_LEN;
    for (size_t off = 0; off + entry <= n && r->npeers < cap; off += entry)
        add_peer(r, cap, family, p + off, bt_be16(p + off + entry - 2));
}

/* Parses a textual IPv4 or IPv6 address (no host names, no zone ids). Returns the family
 * (IPv4-mapped IPv6 gives 4) or 0. */
static int parse_ip(const uint8_t *s, size_t n, uint8_t ip[16])
{
    char t[64];
    if (n == 0 || n >= sizeof(t) || memchr(s, '\0', n) != NULL)
        return 0;
    memcpy(t, s, n);
    t[n] = '\0';
    if (inet_pton(AF_INET, t, ip) == 1)
        return 4;
    if (inet_pton(AF_INET6, t, ip) != 1)
        return 0;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(ip, mapped, sizeof(mapped)) != 0)
        return 6;
    memmove(ip, ip + 12, 4);
    return 4;
}

/* Adds the dictionary-model peers (BEP 3) of list token |list|; bad entries are skipped. */
static void add_dict_peers(reply_ctx *x, uint32_t cap, uint32_t list)
{
    const bt_ben_doc *doc = x->doc;
    uint32_t t = list + 1;
    for (uint32_t i = 0; i < doc->toks[list].count && t < doc->ntoks; i++, t = doc->toks[t].next) {
        const uint8_t *s;
        size_t n;
        int64_t port;
        uint8_t ip[16] = {0};
        if (x->r->npeers >= cap)
            return;
        if (!bt_ben_dict_str(doc, t, "ip", &s, &n) || !bt_ben_dict_int(doc, t, "port", &port))
            continue;
        if (port < 1 || port > 65535)
            continue;
        int family = parse_ip(s, n, ip);
        if (family != 0)
            add_peer(x->r, cap, family, ip, (uint16_t)port);
    }
}

static int get_peers(reply_ctx *x)
{
    const bt_ben_doc *doc = x->doc;
    uint32_t tp = bt_ben_dict_get(doc, 0, "peers"), t6 = bt_ben_dict_get(doc, 0, "peers6");
    const uint8_t *p4 = NULL, *p6 = NULL;
    size_t n4 = 0, n6 = 0, total = 0;
    bool is_list = tp != BT_BEN_NONE && doc->toks[tp].type == BT_BEN_LIST;
    if (tp != BT_BEN_NONE && !is_list && !bt_ben_get_str(doc, tp, &p4, &n4))
        return bad(x, tp, "peers is neither a string nor a list");
    if (n4 % COMPACT4_LEN != 0)
        return bad(x, tp, "compact peers length is not a multiple of 6");
    if (t6 != BT_BEN_NONE && !bt_ben_get_str(doc, t6, &p6, &n6))
        return bad(x, t6, "peers6 is not a string");
    if (n6 % COMPACT6_LEN != 0)
        return bad(x, t6, "peers6 length is not a multiple of 18");
    total = n4 / COMPACT4_LEN + n6 / COMPACT6_LEN + (is_list ? doc->toks[tp].count : 0);
    uint32_t cap = total < BT_TRACKER_MAX_PEERS ? (uint32_t)total : BT_TRACKER_MAX_PEERS;
    if (cap == 0)
        return 0;
    x->r->peers = bt_calloc(x->r->mem, cap, sizeof(bt_addr));
    if (x->r->peers == NULL)
        return BT_ERR_NOMEM;
    add_compact(x->r, cap, p4, n4, 4);
    if (is_list)
        add_dict_peers(x, cap, tp);
    add_compact(x->r, cap, p6, n6, 6);
    return 0;
}

static int get_tracker_id(reply_ctx *x)
{
    uint32_t t = bt_ben_dict_get(x->doc, 0, "tracker id");
    const uint8_t *p;
    size_t n;
    if (t == BT_BEN_NONE)
        return 0;
    if (!bt_ben_get_str(x->doc, t, &p, &n))
        return bad(x, t, "tracker id is not a string");
    if (n <= sizeof(x->r->tracker_id)) { /* a longer id cannot be echoed: ignore it */
        memcpy(x->r->tracker_id, p, n);
        x->r->tracker_id_len = (uint32_t)n;
    }
    return 0;
}

static int read_reply(reply_ctx *x)
{
    bt_announce_reply *r = x->r;
    if (x->doc->toks[0].type != BT_BEN_DICT)
        return bad(x, 0, "tracker reply is not a dictionary");
    int rc = get_text(x, "failure reason", &r->failure);
    if (rc != 0 || r->failure != NULL)
        return rc;
    rc = get_text(x, "warning message", &r->warning);
    if (rc == 0)
        rc = get_count(x, "interval", &r->interval);
    if (rc == 0)
        rc = get_count(x, "min interval", &r->min_interval);
    if (rc == 0)
        rc = get_count(x, "complete", &r->complete);
    if (rc == 0)
        rc = get_count(x, "incomplete", &r->incomplete);
    if (rc == 0)
        rc = get_tracker_id(x);
    if (rc == 0)
        rc = get_peers(x);
    return rc;
}

int bt_tracker_http_parse_reply(bt_announce_reply *r, const uint8_t *body, size_t len,
                                const bt_mem *mem, size_t *err_off, const char **err_msg)
{
    static const bt_ben_limits lim = {REPLY_MAX_DEPTH, REPLY_MAX_TOKENS, BT_TRACKER_MAX_REPLY};
    memset(r, 0, sizeof(*r));
    r->mem = mem;
    r->interval = r->min_interval = r->complete = r->incomplete = -1;
    bt_ben_doc doc;
    bt_ben_error berr = {0, NULL};
    reply_ctx x = {&doc, r, 0, NULL};
    int rc = bt_ben_parse(&doc, body, len, &lim, mem, &berr);
    if (rc != 0) {
        x.err_off = berr.offset;
        x.err_msg = berr.msg;
    } else {
        rc = read_reply(&x);
        bt_ben_free(&doc);
    }
    if (rc != 0) {
        bt_announce_reply_free(r);
        memset(r, 0, sizeof(*r));
        if (err_off != NULL)
            *err_off = x.err_off;
        if (err_msg != NULL)
            *err_msg = x.err_msg != NULL ? x.err_msg : "out of memory";
    }
    return rc;
}
