/* bt_tracker_udp.c: the UDP tracker codec (BEP 15) for both sides, plus the shared
 * bt_announce_reply_free. Builds and parses datagrams only; never touches a socket or a clock.
 *   https://www.bittorrent.org/beps/bep_0015.html */
#include "bt_tracker.h"

#include "bt_mem.h"

#include <assert.h>
#include <string.h>

/* BEP 15 sizes. */
#define CONNECT_LEN 16u      /* connect request and response */
#define ANNOUNCE_REQ_LEN 98u /* announce request without BEP 41 options */
#define ANNOUNCE_HDR_LEN 20u /* announce response before the peers */
#define REPLY_HDR_LEN 8u     /* action + transaction id */
#define SCRAPE_ENTRY_LEN 12u /* seeders, completed, leechers */
#define HASH_LEN 20u

static void free_ptr(const bt_mem *mem, void *p)
{
    if (p != NULL) {
        assert(mem != NULL);
        bt_free(mem, p);
    }
}

void bt_announce_reply_free(bt_announce_reply *r)
{
    const bt_mem *mem = r->mem;
    free_ptr(mem, r->peers);
    free_ptr(mem, r->failure);
    free_ptr(mem, r->warning);
    memset(r, 0, sizeof(*r));
    r->mem = mem;
}

void bt_udp_reply_free(bt_udp_reply *r)
{
    const bt_mem *mem = r->mem;
    bt_announce_reply_free(&r->announce);
    free_ptr(mem, r->scrape);
    free_ptr(mem, r->error);
    memset(r, 0, sizeof(*r));
    r->mem = mem;
}

bt_time_us bt_udp_timeout(uint32_t attempt)
{
    if (attempt > 8) /* BEP 15: 15 * 2 ^ n seconds, n up to 8 */
        return BT_TIME_NEVER;
    return BT_SEC(15u << attempt);
}

/* ---- requests (client side) ---- */

void bt_udp_put_connect(bt_buf *out, uint32_t txid)
{
    bt_buf_put_be64(out, BT_UDP_PROTOCOL_ID);
    bt_buf_put_be32(out, BT_UDP_CONNECT);
    bt_buf_put_be32(out, txid);
}

void bt_udp_put_announce(bt_buf *out, uint64_t conn_id, uint32_t txid, const bt_announce_req *req)
{
    assert(req->event >= BT_EVENT_NONE && req->event <= BT_EVENT_STOPPED);
    bt_buf_put_be64(out, conn_id);
    bt_buf_put_be32(out, BT_UDP_ANNOUNCE);
    bt_buf_put_be32(out, txid);
    bt_buf_put(out, req->info_hash, HASH_LEN);
    bt_buf_put(out, req->peer_id, HASH_LEN);
    bt_buf_put_be64(out, req->downloaded);
    bt_buf_put_be64(out, req->left);
    bt_buf_put_be64(out, req->uploaded);
    bt_buf_put_be32(out, (uint32_t)req->event);
    bt_buf_put_be32(out, 0); /* ip: 0 = the sender's address */
    bt_buf_put_be32(out, req->key);
    bt_buf_put_be32(out, (uint32_t)req->numwant); /* two's complement: -1 = default */
    bt_buf_put_be16(out, req->port);
}

void bt_udp_put_scrape(bt_buf *out, uint64_t conn_id, uint32_t txid, const uint8_t (*hashes)[20],
                       uint32_t n)
{
    assert(n >= 1 && n <= BT_UDP_MAX_SCRAPE);
    bt_buf_put_be64(out, conn_id);
    bt_buf_put_be32(out, BT_UDP_SCRAPE);
    bt_buf_put_be32(out, txid);
    for (uint32_t i = 0; i < n; i++)
        bt_buf_put(out, hashes[i], HASH_LEN);
}

/* ---- responses (server side) ---- */

static uint32_t clamp_u32(int64_t v)
{
    if (v < 0)
        return 0;
    return v > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void put_head(bt_buf *out, uint32_t action, uint32_t txid)
{
    bt_buf_put_be32(out, action);
    bt_buf_put_be32(out, txid);
}

void bt_udp_put_connect_reply(bt_buf *out, uint32_t txid, uint64_t conn_id)
{
    put_head(out, BT_UDP_CONNECT, txid);
    bt_buf_put_be64(out, conn_id);
}

void bt_udp_put_announce_reply(bt_buf *out, uint32_t txid, int64_t interval, int64_t leechers,
                               int64_t seeders, const bt_addr *peers, uint32_t npeers, int family)
{
    assert(family == 4 || family == 6);
    put_head(out, BT_UDP_ANNOUNCE, txid);
    bt_buf_put_be32(out, clamp_u32(interval));
    bt_buf_put_be32(out, clamp_u32(leechers));
    bt_buf_put_be32(out, clamp_u32(seeders));
    for (uint32_t i = 0; i < npeers; i++) {
        if (peers[i].family != family)
            continue;
        bt_buf_put(out, peers[i].ip, family == 4 ? 4 : 16);
        bt_buf_put_be16(out, peers[i].port);
    }
}

void bt_udp_put_scrape_reply(bt_buf *out, uint32_t txid, const bt_scrape_entry *e, uint32_t n)
{
    put_head(out, BT_UDP_SCRAPE, txid);
    for (uint32_t i = 0; i < n; i++) {
        bt_buf_put_be32(out, clamp_u32(e[i].complete));
        bt_buf_put_be32(out, clamp_u32(e[i].downloaded));
        bt_buf_put_be32(out, clamp_u32(e[i].incomplete));
    }
}

void bt_udp_put_error(bt_buf *out, uint32_t txid, const char *msg)
{
    put_head(out, BT_UDP_ERROR, txid);
    bt_buf_put_str(out, msg);
}

/* ---- response parsing (client side) ---- */

static int parse_announce(bt_udp_reply *r, const uint8_t *pkt, size_t len, int family)
{
    size_t entry = family == 4 ? 6 : 18, iplen = entry - 2;
    if (len < ANNOUNCE_HDR_LEN || (len - ANNOUNCE_HDR_LEN) % entry != 0)
        return BT_ERR_PROTO;
    bt_announce_reply *a = &r->announce;
    a->interval = bt_be32(pkt + 8);
    a->min_interval = -1;
    a->incomplete = bt_be32(pkt + 12); /* leechers */
    a->complete = bt_be32(pkt + 16);   /* seeders */
    size_t n = (len - ANNOUNCE_HDR_LEN) / entry;
    if (n > BT_TRACKER_MAX_PEERS)
        n = BT_TRACKER_MAX_PEERS;
    if (n == 0)
        return 0;
    a->peers = bt_calloc(r->mem, n, sizeof(bt_addr));
    if (a->peers == NULL)
        return BT_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = pkt + ANNOUNCE_HDR_LEN + i * entry;
        uint16_t port = bt_be16(p + iplen);
        if (port == 0)
            continue;
        bt_addr *ad = &a->peers[a->npeers++];
        ad->family = (uint8_t)family;
        memcpy(ad->ip, p, iplen);
        ad->port = port;
    }
    return 0;
}

static int parse_scrape(bt_udp_reply *r, const uint8_t *pkt, size_t len)
{
    if ((len - REPLY_HDR_LEN) % SCRAPE_ENTRY_LEN != 0)
        return BT_ERR_PROTO;
    size_t n = (len - REPLY_HDR_LEN) / SCRAPE_ENTRY_LEN;
    if (n > BT_UDP_MAX_SCRAPE)
        return BT_ERR_LIMIT;
    if (n == 0)
        return 0;
    r->scrape = bt_calloc(r->mem, n, sizeof(bt_scrape_entry));
    if (r->scrape == NULL)
        return BT_ERR_NOMEM;
    r->nscrape = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = pkt + REPLY_HDR_LEN + i * SCRAPE_ENTRY_LEN;
        r->scrape[i].complete = bt_be32(p);
        r->scrape[i].downloaded = bt_be32(p + 4);
        r->scrape[i].incomplete = bt_be32(p + 8);
    }
    return 0;
}

static int parse_error(bt_udp_reply *r, const uint8_t *pkt, size_t len)
{
    size_t n = len - REPLY_HDR_LEN;
    if (n > BT_TRACKER_MAX_TEXT)
        n = BT_TRACKER_MAX_TEXT;
    r->error = bt_strndup(r->mem, (const char *)pkt + REPLY_HDR_LEN, n);
    return r->error == NULL ? BT_ERR_NOMEM : 0;
}

int bt_udp_parse_reply(bt_udp_reply *r, const uint8_t *pkt, size_t len, int family,
                       const bt_mem *mem)
{
    assert(family == 4 || family == 6);
    memset(r, 0, sizeof(*r));
    r->mem = mem;
    r->announce.mem = mem;
    r->announce.interval = r->announce.min_interval = -1;
    r->announce.complete = r->announce.incomplete = -1;
    if (len < REPLY_HDR_LEN)
        return BT_ERR_PROTO;
    r->action = bt_be32(pkt);
    r->txid = bt_be32(pkt + 4);
    int rc;
    switch (r->action) {
    case BT_UDP_CONNECT:
        rc = len < CONNECT_LEN ? BT_ERR_PROTO : 0;
        if (rc == 0)
            r->conn_id = bt_be64(pkt + 8);
        break;
    case BT_UDP_ANNOUNCE:
        rc = parse_announce(r, pkt, len, family);
        break;
    case BT_UDP_SCRAPE:
        rc = parse_scrape(r, pkt, len);
        break;
    case BT_UDP_ERROR:
        rc = parse_error(r, pkt, len);
        break;
    default:
        rc = BT_ERR_PROTO;
        break;
    }
    if (rc != 0) {
        bt_udp_reply_free(r);
        memset(r, 0, sizeof(*r));
    }
    return rc;
}

/* ---- request parsing (server side) ---- */

static int parse_announce_req(bt_udp_request *q, const uint8_t *pkt, size_t len)
{
    if (len < ANNOUNCE_REQ_LEN)
        return BT_ERR_PROTO;
    bt_announce_req *a = &q->announce;
    uint32_t event = bt_be32(pkt + 80);
    if (event > BT_EVENT_STOPPED)
        return BT_ERR_PROTO;
    memcpy(a->info_hash, pkt + 16, HASH_LEN);
    memcpy(a->peer_id, pkt + 36, HASH_LEN);
    a->downloaded = bt_be64(pkt + 56);
    a->left = bt_be64(pkt + 64);
    a->uploaded = bt_be64(pkt + 72);
    a->event = (bt_announce_event)event;
    /* pkt + 84: ip, ignored (the datagram's source address is used) */
    a->key = bt_be32(pkt + 88);
    a->numwant = (int32_t)bt_be32(pkt + 92);
    a->port = bt_be16(pkt + 96);
    return 0;
}

static int parse_scrape_req(bt_udp_request *q, const uint8_t *pkt, size_t len)
{
    if (len < CONNECT_LEN + HASH_LEN || (len - CONNECT_LEN) % HASH_LEN != 0)
        return BT_ERR_PROTO;
    size_t n = (len - CONNECT_LEN) / HASH_LEN;
    if (n > BT_UDP_MAX_SCRAPE)
        return BT_ERR_LIMIT;
    q->nscrape = (uint32_t)n;
    memcpy(q->scrape_hashes, pkt + CONNECT_LEN, n * HASH_LEN);
    return 0;
}

int bt_udp_parse_request(bt_udp_request *q, const uint8_t *pkt, size_t len)
{
    memset(q, 0, sizeof(*q));
    if (len < CONNECT_LEN)
        return BT_ERR_PROTO;
    q->conn_id = bt_be64(pkt);
    q->action = bt_be32(pkt + 8);
    q->txid = bt_be32(pkt + 12);
    int rc;
    switch (q->action) {
    case BT_UDP_CONNECT:
        rc = len == CONNECT_LEN && q->conn_id == BT_UDP_PROTOCOL_ID ? 0 : BT_ERR_PROTO;
        break;
    case BT_UDP_ANNOUNCE:
        rc = parse_announce_req(q, pkt, len);
        break;
    case BT_UDP_SCRAPE:
        rc = parse_scrape_req(q, pkt, len);
        break;
    default:
        rc = BT_ERR_PROTO;
        break;
    }
    if (rc != 0)
        memset(q, 0, sizeof(*q));
    return rc;
}
