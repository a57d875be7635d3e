/* tests/interop/meta_probe.c: BEP 9 against a real client for tests/interop/mse.sh, over an
 * MSE/PE connection made by the engine. "fetch PORT MAGNET": parse the magnet link, dial
 * 127.0.0.1:PORT, fetch the info dict with ut_metadata (plus one out-of-range request, which
 * must be rejected), verify it and print "ok fetched ...". "serve TORRENT": listen on an
 * ephemeral port (prints "listening PORT"), accept one peer and serve the info dict of TORRENT
 * until every piece was sent; prints "ok served ...". */
#include "bt.h"
#include "probe_io.h"
#include "bt_wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UT_METADATA_ID 3 /* our local id for ut_metadata */
#define MAX_MSG (1u << 20)

typedef struct peer {
    int fd;
    bt_mse *m;
    uint8_t *in; /* decrypted application bytes not yet used */
    size_t nin;
} peer;

/* Flushes the handshake's output, reads once, feeds the handshake and keeps the decrypted
 * application bytes. Returns 0 or -1 (EOF, timeout, MSE error). */
static int pump(peer *p)
{
    const uint8_t *out;
    size_t n = bt_mse_pending(p->m, &out);
    if (n > 0 && write_all(p->fd, out, n) != 0)
        return -1;
    bt_mse_sent(p->m, n);
    struct pollfd pf = {p->fd, POLLIN, 0};
    uint8_t buf[16384];
    ssize_t r = poll(&pf, 1, 10000) > 0 ? read(p->fd, buf, sizeof(buf)) : -1;
    if (r <= 0)
        return -1;
    size_t used = 0;
    if (bt_mse_status_get(p->m) == BT_MSE_HANDSHAKING) {
        bt_ssize u = bt_mse_recv(p->m, buf, (size_t)r);
        if (u < 0)
            return -1;
        used = (size_t)u;
        const uint8_t *q;
        size_t pl = bt_mse_prefix(p->m, &q);
        if (bt_mse_status_get(p->m) == BT_MSE_DONE && pl > 0) {
            memcpy(p->in, q, pl);
            p->nin = pl;
        }
    }
    if (bt_mse_status_get(p->m) != BT_MSE_DONE)
        return 0;
    size_t k = (size_t)r - used;
    if (k > MAX_MSG - p->nin)
        return -1;
    bt_mse_decrypt(p->m, buf + used, k);
    memcpy(p->in + p->nin, buf + used, k);
    p->nin += k;
    return 0;
}

/* Waits for |n| application bytes and moves them to |out|. */
static int read_exact(peer *p, uint8_t *out, size_t n)
{
    while (p->nin < n)
        if (pump(p) != 0)
            return -1;
    memcpy(out, p->in, n);
    memmove(p->in, p->in + n, p->nin - n);
    p->nin -= n;
    return 0;
}

/* Reads one framed message (keep-alives skipped) into |msg| (MAX_MSG bytes); *len is its
 * length without the prefix. */
static int read_msg(peer *p, uint8_t *msg, size_t *len)
{
    uint8_t hdr[4];
    do {
        if (read_exact(p, hdr, 4) != 0)
            return -1;
        *len = bt_be32(hdr);
    } while (*len == 0);
    return *len > MAX_MSG ? -1 : read_exact(p, msg, *len);
}

/* Encrypts (if RC4 was selected) and sends the contents of |b|, then empties it. */
static int send_buf(peer *p, bt_buf *b)
{
    if (b->err != 0)
        return -1;
    bt_mse_encrypt(p->m, b->data, b->len);
    int rv = write_all(p->fd, b->data, b->len);
    bt_buf_reset(b);
    return rv;
}

static void make_handshake(uint8_t hs[68], const uint8_t ih[20])
{
    memset(hs, 0, 68);
    hs[0] = 19;
    memcpy(hs + 1, "BitTorrent protocol", 19);
    hs[25] = 0x10; /* BEP 10 */
    memcpy(hs + 28, ih, 20);
    memcpy(hs + 48, "-SL0001-metaprobe000", 20);
}

/* Dials or accepts and runs MSE (either method) until the peer's BT handshake arrived. */
static int connect_peer(peer *p, bool dial, int port, const uint8_t ih[20], bt_pcg32 *rng)
{
    uint8_t hs[68], theirs[68];
    make_handshake(hs, ih);
    bt_mse_config c = {0};
    c.initiator = dial;
    c.crypto = BT_MSE_PLAINTEXT | BT_MSE_RC4;
    c.skeys = (const uint8_t(*)[20])ih;
    c.nskeys = 1;
    c.ia = hs;
    c.ia_len = 68;
    c.pad_max = 512;
    p->in = malloc(MAX_MSG);
    p->fd = open_socket(dial, port);
    if (p->in == NULL || p->fd < 0 || bt_mse_new(&p->m, &c, rng, bt_mem_default()) != 0)
        return -1;
    while (bt_mse_status_get(p->m) != BT_MSE_DONE)
        if (pump(p) != 0)
            return -1;
    const uint8_t *out;
    size_t n = bt_mse_pending(p->m, &out); /* step 4 goes out before any payload */
    if (n > 0 && write_all(p->fd, out, n) != 0)
        return -1;
    bt_mse_sent(p->m, n);
    if (!dial) { /* the responder answers the IA with its own handshake */
        bt_buf b;
        bt_buf_init(&b, bt_mem_default(), 0);
        bt_buf_put(&b, hs, 68);
        int rv = send_buf(p, &b);
        bt_buf_free(&b);
        if (rv != 0)
            return -1;
    }
    if (read_exact(p, theirs, 68) != 0 || memcmp(theirs + 28, ih, 20) != 0)
        return -1;
    return 0;
}

static void put_ext_handshake(bt_buf *b, int64_t metadata_size)
{
    bt_ext_handshake hs;
    memset(&hs, 0, sizeof(hs));
    strcpy(hs.m[0].name, "ut_metadata");
    hs.m[0].id = UT_METADATA_ID;
    hs.n_m = 1;
    hs.metadata_size = metadata_size;
    strcpy(hs.v, "swarmlab-probe");
    bt_wire_put_ext_handshake(b, &hs);
}

/* The peer's ut_metadata id and metadata_size from its extension handshake payload. */
static int their_ext(const uint8_t *p, size_t n, uint8_t *id, int64_t *size)
{
    bt_ext_handshake hs;
    if (bt_wire_parse_ext_handshake(p, n, &hs, bt_mem_default()) != 0)
        return -1;
    for (uint32_t i = 0; i < hs.n_m; i++)
        if (strcmp(hs.m[i].name, "ut_metadata") == 0)
            *id = hs.m[i].id;
    *size = hs.metadata_size;
    return *id != 0 ? 0 : -1;
}

static void send_request(bt_buf *b, uint8_t their_id, uint32_t piece)
{
    bt_buf pl;
    bt_buf_init(&pl, bt_mem_default(), 0);
    bt_metadata_put_request(&pl, piece);
    bt_wire_put_extended(b, their_id, pl.data, pl.len);
    bt_buf_free(&pl);
}

/* Collects data messages into |md| until it is verified and the extra request was rejected. */
static int collect(peer *p, bt_metadata *md, uint32_t npieces, uint8_t *msg, uint32_t *nrej)
{
    size_t len;
    bool rejected = false;
    while (!bt_metadata_done(md) || !rejected) {
        if (read_msg(p, msg, &len) != 0)
            return -1;
        if (len < 2 || msg[0] != BT_MSG_EXTENDED || msg[1] != UT_METADATA_ID)
            continue;
        bt_utm_msg um;
        if (bt_metadata_parse(msg + 2, len - 2, &um, bt_mem_default(), NULL) != 0)
            return -1;
        if (um.type == BT_UTM_REJECT && um.piece == npieces) {
            rejected = true;
            (*nrej)++;
        } else if (um.type == BT_UTM_DATA && bt_metadata_add(md, &um) < 0) {
            return -1;
        }
    }
    return 0;
}

static int fetch(int port, const char *magnet, bt_pcg32 *rng)
{
    bt_magnet mg;
    bt_magnet_error e;
    if (bt_magnet_parse(&mg, magnet, strlen(magnet), bt_mem_default(), &e) != 0) {
        fprintf(stderr, "meta_probe: magnet: %s at %zu\n", e.msg, e.offset);
        return 1;
    }
    peer p = {0};
    uint8_t *msg = malloc(MAX_MSG), their_id = 0;
    size_t len;
    int64_t size = -1;
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    if (msg == NULL || connect_peer(&p, true, port, mg.info_hash, rng) != 0)
        return 1;
    put_ext_handshake(&b, -1);
    if (send_buf(&p, &b) != 0)
        return 1;
    do {
        if (read_msg(&p, msg, &len) != 0)
            return 1;
    } while (len < 2 || msg[0] != BT_MSG_EXTENDED || msg[1] != 0);
    bt_metadata *md;
    if (their_ext(msg + 2, len - 2, &their_id, &size) != 0 || size <= 0 ||
        bt_metadata_new(&md, mg.info_hash, (uint32_t)size, bt_mem_default()) != 0)
        return 1;
    uint32_t np = bt_metadata_piece_count((uint32_t)size), nrej = 0;
    for (uint32_t i = 0; i <= np; i++) /* piece np does not exist */
        send_request(&b, their_id, i);
    if (send_buf(&p, &b) != 0 || collect(&p, md, np, msg, &nrej) != 0)
        return 1;
    size_t dl;
    const uint8_t *d = bt_metadata_data(md, &dl);
    bt_metadata_wrap(&b, d, dl);
    bt_metainfo *mi = NULL;
    if (bt_metainfo_parse(&mi, b.data, b.len, bt_mem_default(), NULL, NULL) != 0 ||
        memcmp(mi->info_hash, mg.info_hash, 20) != 0)
        return 1;
    printf("ok fetched %zu bytes in %u pieces, name %s, %u reject, method %u, %u tracker(s)\n", dl,
           np, mi->name, nrej, bt_mse_method(p.m), mg.ntrackers);
    bt_metainfo_del(mi);
    bt_metadata_del(md);
    bt_magnet_free(&mg);
    bt_buf_free(&b);
    bt_mse_del(p.m);
    free(p.in);
    free(msg);
    close(p.fd);
    return 0;
}

/* Reads TORRENT and finds its info dict: *info points into the returned buffer. */
static uint8_t *load_info(const char *path, const uint8_t **info, size_t *ilen)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = malloc(MAX_MSG);
    size_t n = f != NULL && buf != NULL ? fread(buf, 1, MAX_MSG, f) : 0;
    if (f != NULL)
        fclose(f);
    bt_ben_doc d;
    if (n == 0 || bt_ben_parse(&d, buf, n, NULL, bt_mem_default(), NULL) != 0) {
        free(buf);
        return NULL;
    }
    uint32_t t = bt_ben_dict_get(&d, 0, "info");
    *info = t == BT_BEN_NONE ? NULL : buf + d.toks[t].start;
    *ilen = t == BT_BEN_NONE ? 0 : d.toks[t].end - d.toks[t].start;
    bt_ben_free(&d);
    return buf;
}

/* Answers the peer's ut_metadata requests until every piece went out once. */
static int serve_loop(peer *p, const uint8_t *info, size_t ilen, uint8_t *msg, uint32_t *sent)
{
    uint32_t np = bt_metadata_piece_count((uint32_t)ilen), distinct = 0;
    uint8_t their_id = 0, seen[BT_METADATA_MAX_PIECES / 8] = {0};
    int64_t dummy;
    size_t len;
    bt_buf b, pl;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_buf_init(&pl, bt_mem_default(), 0);
    while (distinct < np) {
        if (read_msg(p, msg, &len) != 0)
            return -1;
        if (len >= 2 && msg[0] == BT_MSG_EXTENDED && msg[1] == 0)
            their_ext(msg + 2, len - 2, &their_id, &dummy);
        bt_utm_msg um;
        if (len < 2 || msg[0] != BT_MSG_EXTENDED || msg[1] != UT_METADATA_ID ||
            bt_metadata_parse(msg + 2, len - 2, &um, bt_mem_default(), NULL) != 0 ||
            um.type != BT_UTM_REQUEST || their_id == 0)
            continue;
        bt_buf_reset(&pl);
        if (bt_metadata_serve(&pl, info, ilen, um.piece) &&
            !(seen[um.piece / 8] >> um.piece % 8 & 1)) {
            seen[um.piece / 8] |= (uint8_t)(1u << um.piece % 8);
            distinct++;
        }
        (*sent)++;
        bt_wire_put_extended(&b, their_id, pl.data, pl.len);
        if (send_buf(p, &b) != 0)
            return -1;
    }
    bt_buf_free(&b);
    bt_buf_free(&pl);
    return 0;
}

static int serve(const char *torrent, bt_pcg32 *rng)
{
    const uint8_t *info = NULL;
    size_t ilen = 0;
    uint8_t *file = load_info(torrent, &info, &ilen), ih[20], *msg = malloc(MAX_MSG);
    if (file == NULL || info == NULL || msg == NULL)
        return 1;
    bt_sha1(info, ilen, ih);
    peer p = {0};
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    uint32_t sent = 0;
    if (connect_peer(&p, false, 0, ih, rng) != 0)
        return 1;
    put_ext_handshake(&b, (int64_t)ilen);
    if (send_buf(&p, &b) != 0 || serve_loop(&p, info, ilen, msg, &sent) != 0)
        return 1;
    printf("ok served %zu bytes in %u messages, method %u\n", ilen, sent, bt_mse_method(p.m));
    fflush(stdout);
    sleep(1); /* let the peer read the last piece before we close */
    bt_buf_free(&b);
    bt_mse_del(p.m);
    free(p.in);
    free(msg);
    free(file);
    close(p.fd);
    return 0;
}

int main(int argc, char **argv)
{
    bt_pcg32 rng;
    bt_pcg32_seed(&rng, (uint64_t)getpid(), 2);
    if (argc == 4 && strcmp(argv[1], "fetch") == 0)
        return fetch(atoi(argv[2]), argv[3], &rng);
    if (argc == 3 && strcmp(argv[1], "serve") == 0)
        return serve(argv[2], &rng);
    fprintf(stderr, "usage: meta_probe fetch PORT MAGNET | serve TORRENT\n");
    return 2;
}
