/* tests/fuzz/fuzz_tracker_http.c: libFuzzer target for the HTTP tracker codec: parses any bytes
 * as an announce reply and checks the result's invariants, re-encodes the peers compactly and
 * parses them back; also derives a scrape URL from the input taken as text. */
#include "bt_bencode.h"
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

static void check_counts(const bt_announce_reply *r)
{
    const int64_t v[4] = {r->interval, r->min_interval, r->complete, r->incomplete};
    for (int i = 0; i < 4; i++)
        CHECK(v[i] >= -1 && v[i] <= (int64_t)UINT32_MAX);
    CHECK(r->failure == NULL || strlen(r->failure) <= BT_TRACKER_MAX_TEXT);
    CHECK(r->warning == NULL || strlen(r->warning) <= BT_TRACKER_MAX_TEXT);
    CHECK(r->tracker_id_len <= sizeof(r->tracker_id));
}

/* Re-encodes |r|'s peers as "peers" (v4) and "peers6" (v6) strings and parses that back: the
 * same peers must come out, v4 ones first. */
static void check_reencode(const bt_announce_reply *r)
{
    bt_buf v4, v6, doc;
    bt_buf_init(&v4, bt_mem_default(), 0);
    bt_buf_init(&v6, bt_mem_default(), 0);
    bt_buf_init(&doc, bt_mem_default(), 0);
    for (uint32_t i = 0; i < r->npeers; i++) {
        bt_buf *b = r->peers[i].family == 4 ? &v4 : &v6;
        bt_buf_put(b, r->peers[i].ip, r->peers[i].family == 4 ? 4 : 16);
        bt_buf_put_be16(b, r->peers[i].port);
    }
    bt_ben_put_dict(&doc);
    bt_ben_put_cstr(&doc, "peers");
    bt_ben_put_str(&doc, v4.data, v4.len);
    bt_ben_put_cstr(&doc, "peers6");
    bt_ben_put_str(&doc, v6.data, v6.len);
    bt_ben_put_end(&doc);
    bt_announce_reply back;
    CHECK(doc.err == 0);
    CHECK(bt_tracker_http_parse_reply(&back, doc.data, doc.len, bt_mem_default(), NULL, NULL) == 0);
    CHECK(back.npeers == r->npeers);
    uint32_t k = 0;
    for (int fam = 4; fam <= 6; fam += 2)
        for (uint32_t i = 0; i < r->npeers; i++)
            if (r->peers[i].family == fam)
                CHECK(bt_addr_equal(&r->peers[i], &back.peers[k++]));
    bt_announce_reply_free(&back);
    bt_buf_free(&v4);
    bt_buf_free(&v6);
    bt_buf_free(&doc);
}

static void check_scrape_url(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1);
    if (url == NULL)
        return;
    memcpy(url, data, size);
    url[size] = '\0';
    static const uint8_t ih[20] = {0xff, 0, ' ', '%', '~'};
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    int rc = bt_tracker_http_scrape_url(&b, url, ih);
    if (rc == 0) {
        CHECK(b.data[b.len] == '\0' && strstr((const char *)b.data, "scrape") != NULL);
        /* "announce" -> "scrape", maybe a separator, "info_hash=", 19 escaped + 1 literal */
        size_t base = strlen(url) - 2 + 10 + 19 * 3 + 1;
        CHECK(b.len == base || b.len == base + 1);
    } else {
        CHECK(rc == BT_ERR_NOTFOUND && b.len == 0);
    }
    bt_buf_free(&b);
    free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bt_announce_reply r;
    size_t off = SIZE_MAX;
    const char *msg = NULL;
    int rc = bt_tracker_http_parse_reply(&r, data, size, bt_mem_default(), &off, &msg);
    if (rc == 0) {
        CHECK(r.npeers <= BT_TRACKER_MAX_PEERS);
        CHECK(r.failure == NULL || r.npeers == 0);
        for (uint32_t i = 0; i < r.npeers; i++)
            CHECK(r.peers[i].port != 0 && (r.peers[i].family == 4 || r.peers[i].family == 6));
        check_counts(&r);
        check_reencode(&r);
    } else {
        CHECK(rc == BT_ERR_PROTO || rc == BT_ERR_LIMIT);
        CHECK(msg != NULL && off <= size);
        CHECK(r.peers == NULL && r.failure == NULL && r.warning == NULL);
    }
    bt_announce_reply_free(&r);
    check_scrape_url(data, size);
    return 0;
}
