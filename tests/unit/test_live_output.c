/* tests/unit/test_live_output.c: live/live_output.c: client classes from BEP 20 peer ids (and
 * "peer" for unknown or malformed ones), and the recorder on a real engine client: a handshaked
 * connection becomes a row of its client's class, a close marks it left, a reconnect of the
 * same peer id reuses the row, and the files appear (with no temporary ones left). */
#include "bt.h"
#include "bt_wire.h"
#include "live_output.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern int test_live_output_add_suite(void);

static void test_classes(void)
{
    static const struct {
        const char *id, *cls;
    } cases[] = {
        {"-TR3000-abcdefghijkl", "transmission"},
        {"-LT2080-abcdefghijkl", "libtorrent"},
        {"-lt0D80-abcdefghijkl", "rtorrent"},
        {"-qB4250-abcdefghijkl", "qbittorrent"},
        {"A2-1-36-0-abcdefghij", "aria2"},
        {"-SL0100-abcdefghijkl", "swarmlab"},
        {"M7-2-2--abcdefghijkl", "mainline"},
        {"Mxxxxxxxxxxxxxxxxxxx", "peer"},
        {"-ZZ0000-abcdefghijkl", "peer"},
        {"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", "peer"},
        {"-T", "peer"}, /* "-T\0..." is not "-TR" */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t id[20] = {0};
        memcpy(id, cases[i].id, strlen(cases[i].id));
        CU_ASSERT_STRING_EQUAL(live_peer_class(id), cases[i].cls);
    }
}

#define NP 4
#define PLEN 16384u

static bt_client *new_client(uint8_t *hashes, const uint8_t *ih)
{
    bt_config cfg;
    bt_config_defaults(&cfg);
    memcpy(cfg.info_hash, ih, 20);
    cfg.piece_hashes = hashes;
    cfg.npieces = NP;
    cfg.piece_len = PLEN;
    cfg.total_len = NP * PLEN;
    memcpy(cfg.peer_id, "-SL0100-unit00000000", 20);
    bt_client *c = NULL;
    CU_ASSERT_FATAL(bt_client_new(&c, &cfg, 5, bt_mem_default()) == 0);
    CU_ASSERT_FATAL(bt_client_start(c, 1) == 0);
    return c;
}

/* An accepted connection that has received a handshake from |pid|. */
static bt_conn_id connect_peer(bt_client *c, const uint8_t *ih, const char *pid, uint8_t ip,
                               bt_time_us now)
{
    bt_addr from = {.family = 4, .ip = {127, 0, 0, ip}, .port = 40000};
    bt_conn_id id;
    CU_ASSERT_FATAL(bt_client_accept(c, &from, &id, now) == 0);
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    bt_handshake hs;
    memset(&hs, 0, sizeof(hs));
    memcpy(hs.info_hash, ih, 20);
    memcpy(hs.peer_id, pid, 20);
    bt_wire_put_handshake(&b, &hs);
    bt_conn_recv(c, id, b.data, b.len, now);
    bt_buf_free(&b);
    bt_action a;
    while (bt_client_poll_action(c, &a) == 1)
        ;
    return id;
}

/* The number of lines of |path| that contain |needle|, -1 if it cannot be read. */
static int lines_with(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static void test_recorder(void)
{
    uint8_t hashes[NP * 20] = {0}, ih[20];
    memset(ih, 0x5a, 20);
    bt_client *c = new_client(hashes, ih);
    bt_metainfo m;
    memset(&m, 0, sizeof(m));
    memcpy(m.info_hash, ih, 20);
    m.name = "unit";
    m.npieces = NP;
    m.piece_length = PLEN;
    m.total_length = NP * PLEN;
    char dir[] = "/tmp/swarmlab-unit-out.XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    char sub[64], path[128];
    snprintf(sub, sizeof(sub), "%s/a/b", dir); /* parents are created */
    live_out_info info = {.torrent_path = "unit.torrent", .m = &m, .port = 6881};
    live_out *o = NULL;
    CU_ASSERT_FATAL(live_out_new(&o, sub, &info, 10) == 0);
    bt_conn_id id = connect_peer(c, ih, "-TR3000-abcdefghijkl", 7, 20);
    live_out_sample(o, c, &id, 1, BT_US_PER_S);
    live_out_tick(o, c, 100, 200, BT_US_PER_S);
    /* the bytes moved after the last sample come with the close (the engine forgets them) */
    bt_action closing = {.type = BT_ACT_CLOSE, .conn = id, .down_total = 5000, .up_total = 7000};
    live_out_closed(o, &closing, 2 * BT_US_PER_S);
    bt_conn_closed(c, id, 2 * BT_US_PER_S);
    bt_conn_id id2 = connect_peer(c, ih, "-TR3000-abcdefghijkl", 8, 3 * BT_US_PER_S);
    bt_conn_id id3 = connect_peer(c, ih, "-qB4250-abcdefghijkl", 9, 3 * BT_US_PER_S);
    bt_conn_id ids[2] = {id2, id3};
    live_out_sample(o, c, ids, 2, 4 * BT_US_PER_S);
    live_out_sample(o, c, &id3, 1, 5 * BT_US_PER_S); /* id2 vanished: it left */
    live_out_tick(o, c, 0, 0, 5 * BT_US_PER_S);
    CU_ASSERT_EQUAL(live_out_write(o, c, 6 * BT_US_PER_S), 0);
    snprintf(path, sizeof(path), "%s/peers.tsv", sub);
    CU_ASSERT_EQUAL(lines_with(path, "\ttransmission\t"), 1); /* the reconnect reused its row */
    CU_ASSERT_EQUAL(lines_with(path, "\tqbittorrent\t"), 1);
    CU_ASSERT_EQUAL(lines_with(path, "\tself\t"), 1);
    CU_ASSERT_EQUAL(lines_with(path, "\t5000\t7000\t0\t-\t0\t0\t5000\t7000\t"), 1);
    CU_ASSERT_EQUAL(lines_with(path, "up_to_transmission\tdown_from_transmission"), 1);
    CU_ASSERT_EQUAL(lines_with(path, "\t4.999990\tclosed\t"), 1); /* left at 5 s - t0 */
    snprintf(path, sizeof(path), "%s/timeseries.tsv", sub);
    CU_ASSERT_EQUAL(lines_with(path, "\t300\t"), 1); /* payload = down + up */
    const char *files[] = {"peers.tsv",    "timeseries.tsv", "completion.tsv",
                           "summary.json", "run.json",       ".peers.tsv.tmp"};
    for (size_t i = 0; i < 6; i++) {
        snprintf(path, sizeof(path), "%s/%s", sub, files[i]);
        CU_ASSERT_EQUAL(access(path, F_OK) == 0, i < 5);
        remove(path);
    }
    live_out_del(o);
    bt_client_del(c);
    snprintf(path, sizeof(path), "%s/a", dir);
    CU_ASSERT(rmdir(sub) == 0 && rmdir(path) == 0 && rmdir(dir) == 0);
    /* a path through a regular file cannot be a results directory */
    CU_ASSERT_EQUAL(live_out_new(&o, "/dev/null/x", &info, 10), -1);
    CU_ASSERT_PTR_NULL(o);
}

int test_live_output_add_suite(void)
{
    CU_pSuite s = CU_add_suite("live_output", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "classes", test_classes) == NULL ||
        CU_add_test(s, "recorder", test_recorder) == NULL)
        return 1;
    return 0;
}
