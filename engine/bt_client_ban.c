/* bt_client_ban.c: who is to blame for a piece that failed SHA-1, and banning. A ban covers
 * the peer's IP address (every port): its connections close, it is never dialled again,
 * its incoming connections are refused and tracker/PEX entries with its IP are skipped.
 * A piece from one peer alone bans that peer. A piece from several peers: with cfg.smart_ban
 * (real payload, live mode) and the failed piece's bytes at hand, each block's source and a
 * fingerprint of its bytes are remembered and, once the piece verifies, a source whose block
 * differs from the verified block is banned and the others are cleared; otherwise (the
 * simulator's model) each source takes a strike and is banned at cfg.ban_strikes, honest
 * co-sources included. Fingerprints are taken only then, from the piece's bytes, so blocks
 * cost nothing on arrival. */
#include "bt_client_int.h"
#include "bt_mem.h"

#include <string.h>

#define MAX_SUSPECTS 16u /* failed multi-source attempts remembered (oldest dropped) */

typedef struct bt_suspect {
    uint32_t piece;
    uint32_t nblocks;
    uint32_t *sources; /* per block: the peer record it came from */
    uint64_t *prints;  /* per block: fingerprint of the bytes it sent */
} bt_suspect;

static bool same_ip(const bt_addr *a, const bt_addr *b)
{
    return a->family == b->family && memcmp(a->ip, b->ip, a->family == 6 ? 16 : 4) == 0;
}

bool bt_client_ip_banned(const bt_client *c, const bt_addr *a)
{
    if (c->stats.nbanned == 0)
        return false;
    for (uint32_t i = 0; i < c->npeers; i++)
        if (c->peers[i].state == BT_PS_BANNED && same_ip(&c->peers[i].addr, a))
            return true;
    return false;
}

bool bt_client_addr_banned(const bt_client *c, const bt_addr *a)
{
    return bt_client_ip_banned(c, a);
}

/* Bans |peer|'s IP address: every connection from it closes and every record with it (its
 * listen port, earlier incoming connections) is banned too; one BAN action names the address
 * that sent the bad data. */
static void ban_peer(bt_client *c, uint32_t peer, bt_time_us now)
{
    if (peer >= c->npeers || c->peers[peer].state == BT_PS_BANNED)
        return;
    bt_addr addr = c->peers[peer].addr;
    for (uint32_t i = 0; i < c->nconns; i++)
        if (c->conns[i]->state != BT_CS_DEAD && same_ip(&c->peers[c->conns[i]->peer].addr, &addr))
            bt_client_close_conn(c, c->conns[i], BT_CLOSE_BANNED, "sent data that failed SHA-1",
                                 now);
    for (uint32_t i = 0; i < c->npeers; i++)
        if (same_ip(&c->peers[i].addr, &addr))
            c->peers[i].state = BT_PS_BANNED;
    c->stats.nbanned++;
    bt_action a = {.type = BT_ACT_BAN, .addr = addr, .conn = BT_CONN_NONE};
    bt_client_push_action(c, &a);
}

/* Not cryptographic: it tells apart two versions of one block. Eight independent lanes of
 * 8 bytes each, so the multiplies overlap (one serial chain cost 16% of a live leecher's CPU
 * at loopback speed); the lanes fold together at the end. Every step is a bijection of the
 * lane given the word, so a change in any one word always changes the print. */
uint64_t bt_block_print(const uint8_t *p, size_t n)
{
    enum { LANES = 8 };
    const uint64_t k = 0x100000001b3u;
    uint64_t lane[LANES];
    for (int j = 0; j < LANES; j++)
        lane[j] = 0x9e3779b97f4a7c15u * (uint64_t)(j + 1) ^ n;
    size_t i = 0;
    for (; i + 8 * LANES <= n; i += 8 * LANES)
        for (int j = 0; j < LANES; j++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * (size_t)j, 8);
            lane[j] = (lane[j] ^ w) * k;
            lane[j] ^= lane[j] >> 29;
        }
    uint64_t h = 0;
    for (int j = 0; j < LANES; j++)
        h = (h ^ lane[j]) * k;
    for (; i < n; i++)
        h = (h ^ p[i]) * k;
    h ^= h >> 32;
    return h != 0 ? h : 1; /* 0 means "no fingerprint" */
}

static void suspect_free(bt_client *c, bt_suspect *s)
{
    if (s->sources != NULL)
        bt_free(c->mem, s->sources);
    if (s->prints != NULL)
        bt_free(c->mem, s->prints);
    memset(s, 0, sizeof(*s));
}

void bt_client_suspects_free(bt_client *c)
{
    if (c->suspects == NULL)
        return;
    for (uint32_t i = 0; i < c->nsuspects; i++)
        suspect_free(c, &c->suspects[i]);
    bt_free(c->mem, c->suspects);
    c->suspects = NULL;
    c->nsuspects = 0;
}

/* Reads |piece|'s per-block sources into a new record |s| and fingerprints each block of
 * |data| (the piece's bytes). 0, or -1 when out of memory. */
static int suspect_fill(bt_client *c, uint32_t piece, const uint8_t *data, bt_suspect *s)
{
    uint32_t n = bt_picker_blocks_in_piece(c->picker, piece);
    uint32_t size = bt_picker_piece_size(c->picker, piece);
    s->piece = piece;
    s->sources = bt_malloc(c->mem, (size_t)n * sizeof(*s->sources));
    s->prints = bt_malloc(c->mem, (size_t)n * sizeof(*s->prints));
    if (s->sources == NULL || s->prints == NULL ||
        (s->nblocks = bt_picker_block_sources(c->picker, piece, s->sources, n)) == 0)
        return -1;
    for (uint32_t b = 0; b < s->nblocks; b++) {
        uint32_t off = b * BT_BLOCK_LEN;
        s->prints[b] = bt_block_print(data + off, size - off < BT_BLOCK_LEN ? size - off
                                                                             : BT_BLOCK_LEN);
    }
    return 0;
}

/* Remembers the failed attempt at |piece| (|data|: its bytes). -1 when it could not be
 * kept. */
static int remember(bt_client *c, uint32_t piece, const uint8_t *data)
{
    if (c->suspects == NULL &&
        (c->suspects = bt_calloc(c->mem, MAX_SUSPECTS, sizeof(*c->suspects))) == NULL)
        return -1;
    if (c->nsuspects == MAX_SUSPECTS) { /* drop the oldest */
        suspect_free(c, &c->suspects[0]);
        memmove(c->suspects, c->suspects + 1, (MAX_SUSPECTS - 1) * sizeof(*c->suspects));
        c->nsuspects--;
    }
    bt_suspect *s = &c->suspects[c->nsuspects];
    memset(s, 0, sizeof(*s));
    if (suspect_fill(c, piece, data, s) != 0) {
        suspect_free(c, s);
        return -1;
    }
    c->nsuspects++;
    return 0;
}

/* |piece| verified (|data|: its bytes): every remembered failed attempt at it is settled. A
 * source whose block differs from the verified one sent bad data and is banned. */
static void settle(bt_client *c, uint32_t piece, const uint8_t *data, bt_time_us now)
{
    bt_suspect good;
    memset(&good, 0, sizeof(good));
    bool have_good = false;
    for (uint32_t i = 0; i < c->nsuspects;) {
        bt_suspect *s = &c->suspects[i];
        if (s->piece != piece) {
            i++;
            continue;
        }
        if (!have_good && suspect_fill(c, piece, data, &good) != 0)
            break; /* out of memory: keep the records for a later success */
        have_good = true;
        for (uint32_t b = 0; b < s->nblocks && b < good.nblocks; b++)
            if (s->prints[b] != good.prints[b])
                ban_peer(c, s->sources[b], now);
        suspect_free(c, s);
        memmove(s, s + 1, (c->nsuspects - i - 1) * sizeof(*s));
        c->nsuspects--;
    }
    suspect_free(c, &good);
}

static void strike(bt_client *c, const uint32_t *src, uint32_t n, bt_time_us now)
{
    for (uint32_t i = 0; i < n; i++) {
        if (src[i] >= c->npeers)
            continue;
        bt_peer *p = &c->peers[src[i]];
        p->strikes++;
        if (p->strikes >= c->cfg.ban_strikes)
            ban_peer(c, src[i], now);
    }
}

void bt_client_blame(bt_client *c, uint32_t piece, bool ok, const uint8_t *data, bt_time_us now)
{
    if (ok) {
        if (c->nsuspects > 0 && data != NULL)
            settle(c, piece, data, now);
        return;
    }
    uint32_t src[64];
    uint32_t n = bt_picker_sources(c->picker, piece, src, 64);
    if (n == 1)
        ban_peer(c, src[0], now);
    else if (!c->cfg.smart_ban || data == NULL || remember(c, piece, data) != 0)
        strike(c, src, n < 64 ? n : 64, now);
}
