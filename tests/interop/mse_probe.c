/* tests/interop/mse_probe.c: drives one engine MSE/PE handshake over a real TCP socket for
 * tests/interop/mse.sh. "dial PORT IH CRYPTO" connects to 127.0.0.1:PORT as initiator;
 * "listen IH CRYPTO" binds an ephemeral port, prints "listening PORT" and serves one connection
 * as responder. Either way the BT handshake (IA for the initiator) goes through the
 * negotiated stream, and success means the peer's handshake arrived intact with our info hash.
 * Prints "ok method N peer-id XXXXXXXX". */
#include "bt.h"
#include "probe_io.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct probe {
    int fd;
    bt_mse *m;
    uint8_t app[4096]; /* application bytes received (the peer's handshake first) */
    size_t napp;
} probe;

static int hexval(char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Reads once and feeds the handshake, then the stream. Returns 0, or -1 on EOF/error. */
static int receive(probe *p)
{
    uint8_t buf[2048];
    ssize_t r = read(p->fd, buf, sizeof(buf));
    if (r <= 0) {
        fprintf(stderr, "mse_probe: connection closed (status %d)\n", bt_mse_status_get(p->m));
        return -1;
    }
    size_t used = 0;
    if (bt_mse_status_get(p->m) == BT_MSE_HANDSHAKING) {
        bt_ssize u = bt_mse_recv(p->m, buf, (size_t)r);
        if (u < 0) {
            size_t off = 0;
            bt_mse_error(p->m, &off);
            fprintf(stderr, "mse_probe: %s at offset %zu\n", bt_strerror((int)u), off);
            return -1;
        }
        used = (size_t)u;
        const uint8_t *q;
        size_t pl = bt_mse_prefix(p->m, &q);
        if (bt_mse_status_get(p->m) == BT_MSE_DONE && pl > 0) {
            memcpy(p->app, q, pl);
            p->napp = pl;
        }
    }
    if (bt_mse_status_get(p->m) == BT_MSE_DONE) {
        size_t n = (size_t)r - used;
        if (n > sizeof(p->app) - p->napp)
            n = sizeof(p->app) - p->napp;
        bt_mse_decrypt(p->m, buf + used, n);
        memcpy(p->app + p->napp, buf + used, n);
        p->napp += n;
    }
    return 0;
}

static int run(probe *p, const uint8_t hs[68], bool initiator)
{
    bool sent_hs = initiator; /* the initiator's handshake travels as IA */
    for (int rounds = 0; rounds < 200; rounds++) {
        const uint8_t *out;
        size_t n = bt_mse_pending(p->m, &out);
        if (n > 0 && write_all(p->fd, out, n) != 0)
            return -1;
        bt_mse_sent(p->m, n);
        if (bt_mse_status_get(p->m) == BT_MSE_DONE && !sent_hs) {
            uint8_t enc[68];
            memcpy(enc, hs, 68);
            bt_mse_encrypt(p->m, enc, 68);
            if (write_all(p->fd, enc, 68) != 0)
                return -1;
            sent_hs = true;
        }
        if (bt_mse_status_get(p->m) == BT_MSE_DONE && p->napp >= 68)
            return 0;
        struct pollfd pf = {p->fd, POLLIN, 0};
        if (poll(&pf, 1, 10000) <= 0) {
            fprintf(stderr, "mse_probe: timeout (status %d)\n", bt_mse_status_get(p->m));
            return -1;
        }
        if (receive(p) != 0)
            return -1;
    }
    return -1;
}

int main(int argc, char **argv)
{
    bool dial = argc == 5 && strcmp(argv[1], "dial") == 0;
    if (!dial && !(argc == 4 && strcmp(argv[1], "listen") == 0)) {
        fprintf(stderr, "usage: mse_probe dial PORT IH CRYPTO | listen IH CRYPTO\n");
        return 2;
    }
    const char *ihhex = argv[dial ? 3 : 2];
    uint8_t hs[68] = {19}, ih[20];
    for (int i = 0; i < 20 && strlen(ihhex) == 40; i++)
        ih[i] = (uint8_t)(hexval(ihhex[2 * i]) << 4 | hexval(ihhex[2 * i + 1]));
    memcpy(hs + 1, "BitTorrent protocol", 19);
    hs[25] = 0x10; /* BEP 10 */
    memcpy(hs + 28, ih, 20);
    memcpy(hs + 48, "-SL0001-mseprobe0000", 20);
    bt_mse_config c = {0};
    c.initiator = dial;
    c.crypto = (uint32_t)atoi(argv[dial ? 4 : 3]);
    c.skeys = (const uint8_t(*)[20])ih;
    c.nskeys = 1;
    c.ia = hs;
    c.ia_len = 68;
    c.pad_max = 512;
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, (uint64_t)getpid(), 1);
    probe p = {.fd = open_socket(dial, dial ? atoi(argv[2]) : 0)};
    if (p.fd < 0 || bt_mse_new(&p.m, &c, &rng, bt_mem_default()) != 0) {
        perror("mse_probe");
        return 1;
    }
    int rv = run(&p, hs, dial);
    bool good = rv == 0 && p.app[0] == 19 && memcmp(p.app + 1, "BitTorrent protocol", 19) == 0 &&
                memcmp(p.app + 28, ih, 20) == 0;
    if (good)
        printf("ok method %u peer-id %.8s\n", bt_mse_method(p.m), (const char *)p.app + 48);
    bt_mse_del(p.m);
    close(p.fd);
    return good ? 0 : 1;
}
