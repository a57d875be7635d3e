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
        rv = bt_tracker_http_parse_scrape(j.body, j.len, ih, out, msg, mlen);
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
