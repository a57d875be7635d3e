/* live_clock.c: the only clock and randomness of live mode (CLOCK_MONOTONIC for |now|,
 * getrandom() for seeds), socket address conversions and TCP socket creation. Never used by
 * engine/ or sim/. */
#define _GNU_SOURCE
#include "live.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/util.h>

bt_time_us live_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (bt_time_us)ts.tv_sec * BT_US_PER_S + (bt_time_us)ts.tv_nsec / 1000u;
}

uint64_t live_seed(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        v = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec;
    }
    return v;
}

void live_peer_id_make(uint8_t out[20])
{
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, live_seed(), 0x1d);
    bt_peer_id_make(out, &rng);
}

int live_addr_from_sockaddr(bt_addr *out, const struct sockaddr *sa)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(out, 0, sizeof(*out));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        out->family = 4;
        memcpy(out->ip, &in->sin_addr, 4);
        out->port = ntohs(in->sin_port);
        return 0;
    }
    if (sa->sa_family != AF_INET6)
        return -1;
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    out->port = ntohs(in6->sin6_port);
    if (memcmp(in6->sin6_addr.s6_addr, mapped, 12) == 0) {
        out->family = 4;
        memcpy(out->ip, in6->sin6_addr.s6_addr + 12, 4);
    } else {
        out->family = 6;
        memcpy(out->ip, in6->sin6_addr.s6_addr, 16);
    }
    return 0;
}

int live_addr_to_sockaddr(const bt_addr *a, void *ss)
{
    memset(ss, 0, sizeof(struct sockaddr_storage));
    if (a->family == 4) {
        struct sockaddr_in *in = ss;
        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, a->ip, 4);
        in->sin_port = htons(a->port);
        return (int)sizeof(*in);
    }
    struct sockaddr_in6 *in6 = ss;
    in6->sin6_family = AF_INET6;
    memcpy(in6->sin6_addr.s6_addr, a->ip, 16);
    in6->sin6_port = htons(a->port);
    return (int)sizeof(*in6);
}

int live_addr_parse(bt_addr *out, const char *text)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, out->ip) == 1) {
        out->family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, text, out->ip) == 1) {
        out->family = 6;
        return 0;
    }
    return -1;
}

int live_addr_parse_port(bt_addr *out, const char *text)
{
    char host[64];
    const char *colon;
    if (text[0] == '[') { /* [v6]:port */
        const char *end = strchr(text, ']');
        if (end == NULL || end[1] != ':' || (size_t)(end - text - 1) >= sizeof(host))
            return -1;
        memcpy(host, text + 1, (size_t)(end - text - 1));
        host[end - text - 1] = '\0';
        colon = end + 1;
    } else { /* v4:port */
        colon = strrchr(text, ':');
        if (colon == NULL || (size_t)(colon - text) >= sizeof(host) || strchr(text, ':') != colon)
            return -1;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || port < 1 || port > 65535 ||
        live_addr_parse(out, host) != 0 || (text[0] == '[') != (out->family == 6))
        return -1;
    out->port = (uint16_t)port;
    return 0;
}

int live_socket_open(const bt_addr *addr, const bt_addr *bind_to)
{
    struct sockaddr_storage bs;
    evutil_socket_t fd = socket(addr->family == 4 ? AF_INET : AF_INET6, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (bind_to != NULL && bind_to->family == addr->family) {
        int blen = live_addr_to_sockaddr(bind_to, &bs);
        if (bind(fd, (struct sockaddr *)&bs, (socklen_t)blen) != 0) {
            close(fd);
            return -1;
        }
    }
    if (evutil_make_socket_nonblocking(fd) != 0 || evutil_make_socket_closeonexec(fd) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}
