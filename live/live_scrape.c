/* live_scrape.c: one scrape of one tracker for one torrent: HTTP (BEP 48) through evhttp on a
 * private event_base, UDP (BEP 15 connect + scrape) on a connected socket with poll(); the
 * engine's codecs build the URL and packets and decode the UDP replies; the HTTP reply is
 * decoded here with the engine's bencode parser.
 *   https://www.bittorrent.org/beps/bep_0048.html  https://www.bittorrent.org/beps/bep_0015.html */
#define _GNU_SOURCE
#include "live_scrape.h"
#include "live.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

int live_scrape_parse_http(const uint8_t *body, size_t len, const uint8_t ih[20],
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

/* ---- HTTP ---- */

typedef struct http_job {
    struct event_base *base;
    int code;
    bool done;
    uint8_t *body;
    size_t len;
} http_job;

static void on_http(struct evhttp_request *req, void *arg)
{
    http_job *j = arg;
    j->done = true;
    j->code = req != NULL ? evhttp_request_get_response_code(req) : 0;
    struct evbuffer *in = req != NULL ? evhttp_request_get_input_buffer(req) : NULL;
    size_t n = in != NULL ? evbuffer_get_length(in) : 0;
    if (j->code == 200 && n <= BT_TRACKER_MAX_REPLY && (j->body = malloc(n ? n : 1)) != NULL) {
        evbuffer_remove(in, j->body, n);
        j->len = n;
    }
    event_base_loopexit(j->base, NULL);
}

/* GET |url| into |j| (a 200 reply's body). 0 or -1 with |msg|. */
static int http_get(http_job *j, const char *url, const char *bind, int timeout_s, char *msg,
                    size_t mlen)
{
    struct evhttp_uri *u = evhttp_uri_parse(url);
    const char *host = u != NULL ? evhttp_uri_get_host(u) : NULL;
    struct evhttp_connection *conn = NULL;
    int rv = -1;
    if (host != NULL) {
        int port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 80;
        const char *path = evhttp_uri_get_path(u), *query = evhttp_uri_get_query(u);
        char target[8192];
        snprintf(target, sizeof(target), "%s%s%s", path && *path ? path : "/", query ? "?" : "",
                 query ? query : "");
        conn = evhttp_connection_base_new(j->base, NULL, host, (uint16_t)port);
        struct evhttp_request *req = conn ? evhttp_request_new(on_http, j) : NULL;
        if (req != NULL) {
            evhttp_connection_set_timeout(conn, timeout_s);
            evhttp_connection_set_max_body_size(conn, BT_TRACKER_MAX_REPLY);
            if (bind != NULL)
                evhttp_connection_set_local_address(conn, bind);
            struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
            evhttp_add_header(hd, "Host", host);
            evhttp_add_header(hd, "User-Agent", "swarmlab/" SWARMLAB_VERSION);
            evhttp_add_header(hd, "Connection", "close");
            rv = evhttp_make_request(conn, req, EVHTTP_REQ_GET, target);
        }
    }
    if (rv == 0 && !j->done)
        event_base_dispatch(j->base);
    if (host == NULL)
        snprintf(msg, mlen, "cannot parse the URL");
    else if (rv != 0)
        snprintf(msg, mlen, "cannot send the request");
    else if (j->code == 0)
        snprintf(msg, mlen, "no reply (time-out or refused)");
    else if (j->code != 200)
        snprintf(msg, mlen, "HTTP %d", j->code);
    else if (j->body == NULL)
        snprintf(msg, mlen, "reply too large or out of memory");
    if (conn != NULL)
        evhttp_connection_free(conn);
    if (u != NULL)
        evhttp_uri_free(u);
    return rv == 0 && j->body != NULL ? 0 : -1;
}

static int scrape_http(const char *url, const uint8_t ih[20], const char *bind, int timeout_s,
                       bt_scrape_entry *out, char *msg, size_t mlen)
{
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 8192);
    int rv = bt_tracker_http_scrape_url(&b, url, ih);
    if (rv != 0 || b.err != 0) {
        snprintf(msg, mlen,
                 rv == BT_ERR_NOTFOUND ? "no scrape URL (BEP 48: the path does not "
                                         "end in \"announce\")"
                                       : "URL too long");
        bt_buf_free(&b);
        return -1;
    }
    http_job j = {.base = event_base_new()};
    rv = j.base != NULL ? http_get(&j, (const char *)b.data, bind, timeout_s, msg, mlen) : -1;
    if (rv == 0)
        rv = live_scrape_parse_http(j.body, j.len, ih, out, msg, mlen);
    free(j.body);
    if (j.base != NULL)
        event_base_free(j.base);
    bt_buf_free(&b);
    return rv;
}

int live_scrape_url(const char *url, const uint8_t ih[20], const char *bind, int timeout_s,
                    bt_scrape_entry *out, char *msg, size_t mlen)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(url, "http://", 7) == 0)
        return scrape_http(url, ih, bind, timeout_s, out, msg, mlen);
    if (strncmp(url, "udp://", 6) == 0)
        return live_scrape_udp(url, ih, bind, timeout_s, out, msg, mlen);
    snprintf(msg, mlen, "unsupported scheme (http:// and udp:// only)");
    return -1;
}
