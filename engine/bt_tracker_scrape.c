/* bt_tracker_scrape.c: decodes an HTTP tracker's scrape reply (BEP 48) for one torrent with the
 * engine's bencode parser. Pure codec: the host fetches the bytes.
 *   https://www.bittorrent.org/beps/bep_0048.html */
#include "bt_bencode.h"
#include "bt_tracker.h"

#include <stdio.h>
#include <string.h>

#define MAX_COUNT 0x7fffffffLL

/* The value of key |key| (|klen| bytes, may hold NULs) in dict |d|, or BT_BEN_NONE. */
static uint32_t dict_find(const bt_ben_doc *doc, uint32_t d, const uint8_t *key, size_t klen)
{
    if (d == BT_BEN_NONE || doc->toks[d].type != BT_BEN_DICT)
        return BT_BEN_NONE;
    uint32_t k = d + 1;
    for (uint32_t i = 0; i < doc->toks[d].count && k < doc->ntoks; i++) {
        uint32_t v = doc->toks[k].next;
        const uint8_t *p;
        size_t n;
        if (bt_ben_get_str(doc, k, &p, &n) && n == klen && memcmp(p, key, n) == 0)
            return v;
        k = doc->toks[v].next;
    }
    return BT_BEN_NONE;
}

static int count_field(const bt_ben_doc *doc, uint32_t d, const char *key, int64_t *out, char *msg,
                       size_t mlen)
{
    uint32_t t = bt_ben_dict_get(doc, d, key);
    *out = -1;
    if (t == BT_BEN_NONE)
        return 0;
    if (!bt_ben_get_int(doc, t, out) || *out < 0 || *out > MAX_COUNT) {
        snprintf(msg, mlen, "scrape reply: '%s' is not a count 0..2^31-1", key);
        return -1;
    }
    return 0;
}

int bt_tracker_http_parse_scrape(const uint8_t *body, size_t len, const uint8_t ih[20],
                                 bt_scrape_entry *out, char *msg, size_t mlen)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->info_hash, ih, 20);
    if (len > BT_TRACKER_MAX_REPLY) {
        snprintf(msg, mlen, "scrape reply: %zu bytes, more than %u", len, BT_TRACKER_MAX_REPLY);
        return -1;
    }
    bt_ben_doc doc;
    bt_ben_error e = {0, NULL};
    bt_ben_limits lim = {.max_depth = 8, .max_tokens = 1u << 16, .max_input = len ? len : 1};
    if (bt_ben_parse(&doc, body, len, &lim, bt_mem_default(), &e) != 0) {
        snprintf(msg, mlen, "scrape reply: bad bencode at byte %zu: %s", e.offset,
                 e.msg ? e.msg : "?");
        return -1;
    }
    int rv = -1;
    const uint8_t *p;
    size_t n;
    uint32_t files = bt_ben_dict_get(&doc, 0, "files");
    uint32_t ent = dict_find(&doc, files, ih, 20);
    if (doc.toks[0].type != BT_BEN_DICT) {
        snprintf(msg, mlen, "scrape reply: not a dictionary");
    } else if (bt_ben_dict_str(&doc, 0, "failure reason", &p, &n)) {
        snprintf(msg, mlen, "tracker error: %.*s", (int)(n < 256 ? n : 256), (const char *)p);
    } else if (files == BT_BEN_NONE || doc.toks[files].type != BT_BEN_DICT) {
        snprintf(msg, mlen, "scrape reply: no 'files' dictionary");
    } else if (ent == BT_BEN_NONE) {
        rv = 0; /* the tracker does not know the torrent (opentracker leaves it out): no peers */
    } else if (doc.toks[ent].type != BT_BEN_DICT) {
        snprintf(msg, mlen, "scrape reply: the torrent's entry is not a dictionary");
    } else if (count_field(&doc, ent, "complete", &out->complete, msg, mlen) == 0 &&
               count_field(&doc, ent, "incomplete", &out->incomplete, msg, mlen) == 0 &&
               count_field(&doc, ent, "downloaded", &out->downloaded, msg, mlen) == 0) {
        rv = 0;
    }
    bt_ben_free(&doc);
    return rv;
}
