/* live_scrape_udp.c: the UDP scrape of BEP 15 for `swarmlab live scrape`: a connected socket,
 * a connect request, then a scrape of one info-hash with the connection id; each request tried
 * twice with a time-out, replies decoded by the engine's codec and matched by transaction id.
 *   https://www.bittorrent.org/beps/bep_0015.html */
#define _GNU_SOURCE
#include "live.h"
#include "live_scrape.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TRIES 2
#define MAX_PACKET 2048

/* A UDP socket connected to the host and port of "udp://host:port[/...]". -1 with |msg|. */
static int open_udp(const char *url, const char *bind_to, char *msg, size_t mlen)
{
    char host[256], port[8];
    const char *h = url + 6, *end = *h == '[' ? strchr(h, ']') : strchr(h, ':');
    if (end == NULL || (*h == '[' && end[1] != ':')) {
        snprintf(msg, mlen, "cannot parse the URL");
        return -1;
    }
    if (*h == '[')
        h++;
    const char *p = *end == ']' ? end + 2 : end + 1;
    size_t n = (size_t)(end - h), pn = strspn(p, "0123456789");
    if (n == 0 || n >= sizeof(host) || pn == 0 || pn >= sizeof(port) ||
        (p[pn] != '\0' && p[pn] != '/')) {
        snprintf(msg, mlen, "cannot parse the URL");
        return -1;
    }
    memcpy(host, h, n);
    host[n] = '\0';
    memcpy(port, p, pn);
    port[pn] = '\0';
    bt_addr ba;
    bool has_bind = bind_to != NULL && live_addr_parse(&ba, bind_to) == 0;
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL;
    hints.ai_family = has_bind ? (ba.family == 4 ? AF_INET : AF_INET6) : AF_UNSPEC;
    int gai = getaddrinfo(host, port, &hints, &res), fd = -1;
    if (gai != 0) {
        snprintf(msg, mlen, "%s: %s", host, gai_strerror(gai));
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_storage bs;
        int bl = has_bind ? live_addr_to_sockaddr(&ba, &bs) : 0;
        if (fd >= 0 && ((has_bind && bind(fd, (struct sockaddr *)&bs, (socklen_t)bl) != 0) ||
                        connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(msg, mlen, "%s: no usable address", host);
    return fd;
}

/* Sends |b| and waits for the reply to |txid| of |action| into |r|. 0, or -1 with |msg|. */
static int exchange(int fd, const bt_buf *b, uint32_t txid, uint32_t action, int timeout_s,
                    bt_udp_reply *r, char *msg, size_t mlen)
{
    uint8_t pkt[MAX_PACKET];
    for (int t = 0; t < TRIES; t++) {
        if (send(fd, b->data, b->len, 0) < 0) {
            snprintf(msg, mlen, "send: %s", strerror(errno));
            return -1;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        while (poll(&pfd, 1, timeout_s * 1000) == 1) {
            ssize_t n = recv(fd, pkt, sizeof(pkt), 0);
            if (n < 0) {
                snprintf(msg, mlen, "recv: %s", strerror(errno)); /* e.g. port unreachable */
                return -1;
            }
            if (bt_udp_parse_reply(r, pkt, (size_t)n, 4, bt_mem_default()) != 0)
                continue; /* not a valid reply: ignore it */
            if (r->txid == txid && r->action == BT_UDP_ERROR) {
                snprintf(msg, mlen, "tracker error: %s", r->error);
                bt_udp_reply_free(r);
                return -1;
            }
            if (r->txid == txid && r->action == action)
                return 0;
            bt_udp_reply_free(r);
        }
    }
    snprintf(msg, mlen, "no reply after %d tries of %d s", TRIES, timeout_s);
    return -1;
}

int live_scrape_udp(const char *url, const uint8_t ih[20], const char *bind, int timeout_s,
                    bt_scrape_entry *out, char *msg, size_t mlen)
{
    int fd = open_udp(url, bind, msg, mlen);
    if (fd < 0)
        return -1;
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 256);
    bt_udp_reply r;
    memset(&r, 0, sizeof(r));
    uint32_t txid = (uint32_t)live_seed();
    bt_udp_put_connect(&b, txid);
    int rv = exchange(fd, &b, txid, BT_UDP_CONNECT, timeout_s, &r, msg, mlen);
    if (rv == 0) {
        uint64_t cid = r.conn_id;
        bt_udp_reply_free(&r);
        const uint8_t(*hashes)[20] = (const uint8_t(*)[20])ih;
        b.len = 0;
        txid = (uint32_t)live_seed();
        bt_udp_put_scrape(&b, cid, txid, hashes, 1);
        rv = exchange(fd, &b, txid, BT_UDP_SCRAPE, timeout_s, &r, msg, mlen);
    }
    if (rv == 0 && r.nscrape != 1) {
        snprintf(msg, mlen, "scrape reply: %u entries for 1 torrent", r.nscrape);
        rv = -1;
    } else if (rv == 0) {
        *out = r.scrape[0];
        memcpy(out->info_hash, ih, 20);
    }
    bt_udp_reply_free(&r);
    bt_buf_free(&b);
    close(fd);
    return rv;
}
