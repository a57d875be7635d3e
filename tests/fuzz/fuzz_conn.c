/* fuzz_conn.c: feeds arbitrary bytes to a client connection (after a valid handshake or
 * not), under a fragmentation chosen by the input, as ngtcp2's read_write_pkt does: whatever
 * the peer sends, the engine must close the connection or carry on, never crash or leak. */
#include "bt.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NPIECES 37
#define PLEN 32768u

static void drain(bt_client *c, bt_conn_id id, bt_time_us now)
{
    bt_action a;
    while (bt_client_poll_action(c, &a) == 1) {
        if (a.type == BT_ACT_STORAGE_VERIFY) {
            uint8_t digest[20] = {0};
            bt_client_verify_result(c, a.piece, digest, now);
        }
    }
    const bt_seg *segs;
    bt_ssize n = bt_conn_pull_send(c, id, &segs, now);
    size_t total = 0;
    for (bt_ssize i = 0; i < n; i++)
        total += segs[i].len;
    if (n > 0)
        bt_conn_sent(c, id, total, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t mode = data[0], frag = data[1];
    data += 2;
    size -= 2;
    uint8_t hashes[NPIECES * 20] = {0};
    bt_config cfg;
    bt_config_defaults(&cfg);
    memset(cfg.info_hash, 0x11, 20);
    cfg.piece_hashes = hashes;
    cfg.npieces = NPIECES;
    cfg.piece_len = PLEN;
    cfg.total_len = (uint64_t)NPIECES * PLEN - 77;
    memset(cfg.peer_id, 'S', 20);
    cfg.seed = mode & 1;
    cfg.fast_ext = (mode & 2) != 0;
    cfg.virtual_payload = (mode & 4) != 0;
    cfg.lenient = (mode & 16) != 0; /* live mode: late bitfields merged as haves */
    bt_client *c = NULL;
    if (bt_client_new(&c, &cfg, mode, NULL) != 0)
        return 0;
    bt_client_start(c, 1);
    bt_addr from = {.family = 4, .ip = {10, 0, 0, 9}, .port = 4000};
    bt_conn_id id;
    if (bt_client_accept(c, &from, &id, 1) == 0) {
        if (mode & 8) { /* start after a valid handshake so the message parser is reached */
            uint8_t hs[68] = {19};
            memcpy(hs + 1, "BitTorrent protocol", 19);
            hs[25] = 0x10;
            hs[27] = 0x04;
            memset(hs + 28, 0x11, 20);
            memset(hs + 48, 'P', 20);
            bt_conn_recv(c, id, hs, sizeof(hs), 2);
        }
        size_t step = frag == 0 ? size : frag;
        bt_time_us now = 3;
        for (size_t off = 0; off < size; off += step) {
            size_t n = size - off < step ? size - off : step;
            if (bt_conn_recv(c, id, data + off, n, now) < 0)
                break;
            drain(c, id, now);
            now += 250000;
            bt_client_on_timer(c, now);
        }
    }
    bt_client_del(c);
    return 0;
}
