/* cli/cmd_live_scrape.c: `swarmlab live scrape FILE.torrent`: asks every http:// and udp://
 * tracker of the torrent (tier order) for its seeders, leechers and completed downloads
 * (BEP 48 / BEP 15 scrape, live/live_scrape.c) and prints one line per tracker. */
#include "cli.h"
#include "live.h"
#include "live_scrape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr, "usage: swarmlab live scrape FILE.torrent [--timeout SECONDS] [--bind ADDR]\n");
    return CLI_USAGE;
}

/* Options after "scrape": the torrent, --timeout (1..120, default 15), --bind. */
static int parse(int argc, char **argv, const char **path, int *timeout_s, const char **bind)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--timeout") == 0 || strcmp(a, "--bind") == 0) && i + 1 < argc) {
            const char *v = argv[++i];
            char *end;
            long n = strtol(v, &end, 10);
            if (a[2] == 'b') {
                *bind = v;
            } else if (*v == '\0' || *end != '\0' || n < 1 || n > 120) {
                fprintf(stderr, "swarmlab live: --timeout %s: expected seconds 1..120\n", v);
                return CLI_USAGE;
            } else {
                *timeout_s = (int)n;
            }
        } else if (a[0] == '-' || *path != NULL) {
            fprintf(stderr, "swarmlab live scrape: unexpected argument %s\n", a);
            return usage();
        } else {
            *path = a;
        }
    }
    return *path != NULL ? CLI_OK : usage();
}

int cmd_live_scrape(int argc, char **argv)
{
    const char *path = NULL, *bind = NULL;
    int timeout_s = 15, rc = parse(argc, argv, &path, &timeout_s, &bind);
    bt_addr ba;
    if (rc != CLI_OK)
        return rc;
    if (bind != NULL && live_addr_parse(&ba, bind) != 0) {
        fprintf(stderr, "swarmlab live: --bind %s: not a numeric IPv4 or IPv6 address\n", bind);
        return CLI_USAGE;
    }
    unsigned char *buf = NULL;
    size_t len = 0, off = 0;
    const char *why = NULL;
    bt_metainfo *m = NULL;
    if (cli_read_file(path, BT_META_MAX_INPUT, &buf, &len) != 0)
        return CLI_FAIL;
    int prc = bt_metainfo_parse(&m, buf, len, bt_mem_default(), &off, &why);
    free(buf);
    if (prc != 0) {
        fprintf(stderr, "swarmlab: %s: invalid torrent at byte %zu: %s\n", path, off,
                why != NULL ? why : bt_strerror(prc));
        return CLI_FAIL;
    }
    if (m->ntrackers == 0)
        fprintf(stderr, "swarmlab: %s: no trackers\n", path);
    int answered = 0;
    for (uint32_t i = 0; i < m->ntrackers; i++) {
        bt_scrape_entry e;
        char msg[512];
        if (live_scrape_url(m->trackers[i], m->info_hash, bind, timeout_s, &e, msg, sizeof(msg)) ==
            0) {
            printf("%s\tseeders %lld\tleechers %lld\tcompleted %lld\n", m->trackers[i],
                   (long long)e.complete, (long long)e.incomplete, (long long)e.downloaded);
            answered++;
        } else {
            printf("%s\terror: %s\n", m->trackers[i], msg);
        }
        fflush(stdout);
    }
    bt_metainfo_del(m);
    return answered > 0 ? CLI_OK : CLI_FAIL;
}
