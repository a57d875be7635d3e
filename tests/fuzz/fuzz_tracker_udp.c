/* tests/fuzz/fuzz_tracker_udp.c: libFuzzer target for the BEP 15 codec. Byte 0 picks the
 * address family (bit 0: 4 or 6) and the parser (bit 1: reply or request); the rest is the
 * datagram. Whatever parses must re-encode to the same bytes with the builders. */
#include "bt_tracker.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks a property even under NDEBUG. */
#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static void check_reply(const uint8_t *p, size_t n, int family)
{
    bt_udp_reply r;
    bt_buf b;
    if (bt_udp_parse_reply(&r, p, n, family, bt_mem_default()) != 0) {
        CHECK(r.announce.peers == NULL && r.scrape == NULL && r.error == NULL);
        return;
    }
    bt_buf_init(&b, bt_mem_default(), 0);
    size_t entry = family == 4 ? 6 : 18;
    switch (r.action) {
    case BT_UDP_CONNECT:
        bt_udp_put_connect_reply(&b, r.txid, r.conn_id);
        CHECK(b.len == 16 && memcmp(b.data, p, 16) == 0);
        break;
    case BT_UDP_ANNOUNCE: {
        const bt_announce_reply *a = &r.announce;
        CHECK(a->npeers <= BT_TRACKER_MAX_PEERS && a->npeers <= (n - 20) / entry);
        for (uint32_t i = 0; i < a->npeers; i++)
            CHECK(a->peers[i].port != 0 && a->peers[i].family == family);
        bt_udp_put_announce_reply(&b, r.txid, a->interval, a->incomplete, a->complete, a->peers,
                                  a->npeers, family);
        if (a->npeers == (n - 20) / entry) /* nothing skipped: identical bytes */
            CHECK(b.len == n && memcmp(b.data, p, n) == 0);
        else
            CHECK(memcmp(b.data, p, 20) == 0);
        break;
    }
    case BT_UDP_SCRAPE:
        CHECK(r.nscrape <= BT_UDP_MAX_SCRAPE && 8 + 12 * (size_t)r.nscrape == n);
        bt_udp_put_scrape_reply(&b, r.txid, r.scrape, r.nscrape);
        CHECK(b.len == n && memcmp(b.data, p, n) == 0);
        break;
    case BT_UDP_ERROR:
        CHECK(r.error != NULL && strlen(r.error) <= BT_TRACKER_MAX_TEXT);
        bt_udp_put_error(&b, r.txid, r.error);
        if (n - 8 <= BT_TRACKER_MAX_TEXT && memchr(p + 8, 0, n - 8) == NULL)
            CHECK(b.len == n && memcmp(b.data, p, n) == 0);
        break;
    default:
        CHECK(0);
    }
    CHECK(b.err == 0);
    bt_buf_free(&b);
    bt_udp_reply_free(&r);
}

static void check_request(const uint8_t *p, size_t n)
{
    bt_udp_request *q = malloc(sizeof(*q));
    bt_buf b;
    if (q == NULL)
        return;
    bt_buf_init(&b, bt_mem_default(), 0);
    if (bt_udp_parse_request(q, p, n) == 0) {
        switch (q->action) {
        case BT_UDP_CONNECT:
            bt_udp_put_connect(&b, q->txid);
            CHECK(b.len == n && memcmp(b.data, p, n) == 0);
            break;
        case BT_UDP_ANNOUNCE:
            bt_udp_put_announce(&b, q->conn_id, q->txid, &q->announce);
            CHECK(b.len == 98 && n >= 98);
            CHECK(memcmp(b.data, p, 84) == 0 && memcmp(b.data + 88, p + 88, 10) == 0);
            break;
        case BT_UDP_SCRAPE:
            CHECK(q->nscrape >= 1 && q->nscrape <= BT_UDP_MAX_SCRAPE);
            bt_udp_put_scrape(&b, q->conn_id, q->txid, (const uint8_t(*)[20])q->scrape_hashes,
                              q->nscrape);
            CHECK(b.len == n && memcmp(b.data, p, n) == 0);
            break;
        default:
            CHECK(0);
        }
    }
    bt_buf_free(&b);
    free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int family = (data[0] & 1) ? 6 : 4;
    if (data[0] & 2)
        check_request(data + 1, size - 1);
    else
        check_reply(data + 1, size - 1, family);
    return 0;
}
