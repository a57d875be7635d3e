/* cli/cmd_live.c: `swarmlab live download|seed`: parses the command line and the torrent, then
 * hands over to live_session_run (live/). Never touches sockets or the disk data itself. */
#include "cli.h"
#include "live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void live_usage(FILE *out)
{
    fprintf(out,
            "usage: swarmlab live download FILE.torrent|MAGNET -o DIR [options]\n"
            "       swarmlab live seed FILE.torrent DIR [options]\n"
            "       swarmlab live scrape FILE.torrent [--timeout SECONDS] [--bind ADDR]\n\n"
            "Downloads (or seeds) a torrent with real peers: the swarmlab engine on real\n"
            "sockets, announcing to the torrent's HTTP or UDP (BEP 15) trackers.\n\n"
            "download: the files go to DIR/NAME (multi-file: DIR/NAME/...). Data already in\n"
            "  DIR is checked piece by piece first, so an interrupted download resumes; only\n"
            "  pieces whose SHA-1 matches are ever written. Exits when complete, unless\n"
            "  --seed-after.\n"
            "seed: DIR must hold the complete data (DIR/NAME); seeds until interrupted.\n"
            "scrape: asks each http:// (BEP 48) and udp:// (BEP 15) tracker for its seeders,\n"
            "  leechers and completed downloads; one line per tracker (exit 1 if none answers).\n\n"
            "options:\n"
            "  -o, --output DIR    download directory (download)\n"
            "  --seed-after        keep seeding after the download completes\n"
            "  --max-up RATE       upload limit in bytes/s, e.g. 500KiB, 2MB/s (default: none)\n"
            "  --max-down RATE     download limit, same units (default: none)\n"
            "  --port N            listen port (default: first free of 6881-6889)\n"
            "  --max-peers N       connections at most, 1..1000 (default 80)\n"
            "  --bind ADDR         numeric IPv4/IPv6 address to listen on and dial from\n"
            "  --peer ADDR:PORT    also dial this peer (1.2.3.4:6881 or [::1]:6881; repeatable,\n"
            "                      up to 64)\n"
            "  --encryption MODE   MSE/PE: prefer (default: dial encrypted first, redial in\n"
            "                      plaintext; accept both), prefer-plain (dial plaintext\n"
            "                      first, redial encrypted), require (RC4 only both ways), off\n"
            "  --quiet             no progress line and no messages (errors only)\n"
            "  -v, --verbose       also report each closed peer connection and its reason\n"
            "  --results DIR       write sim-style results to DIR (created if missing):\n"
            "                      peers.tsv (\"self\", then one row per remote peer, its class\n"
            "                      the client named by its peer id), timeseries.tsv,\n"
            "                      completion.tsv, summary.json, run.json; rewritten every\n"
            "                      10 s and at exit, for `swarmlab plot DIR` (default: none)\n"
            "  --sample SECONDS    seconds between timeseries.tsv rows, 1..3600 (default 1)\n"
            "  -h, --help          this text\n\n"
            "SIGINT/SIGTERM announce \"stopped\" and exit 0; a second signal exits at once\n"
            "(the data on disk stays consistent: it only ever holds verified pieces).\n"
            "Exit codes: 0 ok, 1 failure, 2 usage.\n");
}

static int bad_value(const char *opt, const char *val, const char *why)
{
    fprintf(stderr, "swarmlab live: %s %s: %s\n", opt, val, why);
    return CLI_USAGE;
}

/* A rate: a size (cli_parse_size units) with an optional "/s". */
static int parse_rate(const char *opt, const char *val, uint64_t *out)
{
    char buf[64];
    size_t n = strlen(val);
    if (n == 0 || n >= sizeof(buf))
        return bad_value(opt, val, "expected a rate such as 1MiB or 500kB/s");
    memcpy(buf, val, n + 1);
    if (n > 2 && strcmp(buf + n - 2, "/s") == 0)
        buf[n - 2] = '\0';
    if (cli_parse_size(buf, out) != 0)
        return bad_value(opt, val, "expected a rate such as 1MiB or 500kB/s");
    return 0;
}

#define MAX_PEERS 64

static int add_peer(const char *val, bt_addr *peers, size_t *n)
{
    if (*n == MAX_PEERS)
        return bad_value("--peer", val, "too many peers (at most 64)");
    if (live_addr_parse_port(&peers[*n], val) != 0)
        return bad_value("--peer", val, "expected ADDR:PORT, e.g. 10.0.0.2:6881 or [::1]:6881");
    (*n)++;
    return 0;
}

static int parse_max_peers(const char *val, uint32_t *out)
{
    char *end;
    long v = strtol(val, &end, 10);
    if (*val == '\0' || *end != '\0' || v < 1 || v > 1000)
        return bad_value("--max-peers", val, "expected a number 1..1000");
    *out = (uint32_t)v;
    return 0;
}

static int parse_port(const char *val, uint16_t *out)
{
    char *end;
    long v = strtol(val, &end, 10);
    if (*val == '\0' || *end != '\0' || v < 1 || v > 65535)
        return bad_value("--port", val, "expected a port number 1..65535");
    *out = (uint16_t)v;
    return 0;
}

/* --results DIR and --sample SECONDS (result files, live_output.h). 1 if |a| is neither, 0 when
 * parsed, or CLI_USAGE. */
static int parse_results_opt(const char *a, const char *v, live_opts *o)
{
    if (strcmp(a, "--results") != 0 && strcmp(a, "--sample") != 0)
        return 1;
    if (v == NULL || *v == '\0')
        return bad_value(a, "", "missing value");
    if (a[2] == 'r') {
        o->results = v;
        return 0;
    }
    char *end;
    long n = strtol(v, &end, 10);
    if (*end != '\0' || n < 1 || n > 3600)
        return bad_value(a, v, "expected seconds 1..3600");
    o->sample_s = (uint32_t)n;
    return 0;
}

/* Options after the subcommand; positional arguments go to |pos| (at most 2). */
static int parse_args(int argc, char **argv, live_opts *o, const char **pos, int *npos,
                      bt_addr *peers)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        int rv = parse_results_opt(a, has_val ? argv[i + 1] : NULL, o);
        if (rv != 1) {
            if (rv != 0)
                return rv;
            i++;
            continue;
        }
        rv = 0;
        if (strcmp(a, "--seed-after") == 0) {
            o->seed_after = true;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o->quiet = true;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ||
                   strcmp(a, "--max-up") == 0 || strcmp(a, "--max-down") == 0 ||
                   strcmp(a, "--port") == 0 || strcmp(a, "--bind") == 0 ||
                   strcmp(a, "--peer") == 0 || strcmp(a, "--max-peers") == 0 ||
                   strcmp(a, "--encryption") == 0) {
            if (!has_val)
                return bad_value(a, "", "missing value");
            const char *v = argv[++i];
            if (a[1] == 'o' || strcmp(a, "--output") == 0)
                o->dir = v;
            else if (strcmp(a, "--max-up") == 0)
                rv = parse_rate(a, v, &o->max_up_bps);
            else if (strcmp(a, "--max-down") == 0)
                rv = parse_rate(a, v, &o->max_down_bps);
            else if (strcmp(a, "--port") == 0)
                rv = parse_port(v, &o->port);
            else if (strcmp(a, "--max-peers") == 0)
                rv = parse_max_peers(v, &o->max_peers);
            else if (strcmp(a, "--encryption") == 0 &&
                     live_encryption_parse(v, &o->encryption) != 0)
                rv = bad_value(a, v, "expected prefer, prefer-plain, require or off");
            else if (strcmp(a, "--encryption") == 0)
                continue; /* parsed */
            else if (strcmp(a, "--peer") == 0)
                rv = add_peer(v, peers, &o->npeers);
            else
                o->bind = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "swarmlab live: unknown option %s (see swarmlab live --help)\n", a);
            return CLI_USAGE;
        } else if (*npos < 2) {
            pos[(*npos)++] = a;
        } else {
            fprintf(stderr, "swarmlab live: unexpected argument %s\n", a);
            return CLI_USAGE;
        }
        if (rv != 0)
            return rv;
    }
    return 0;
}

static int load_torrent(const char *path, bt_metainfo **m)
{
    unsigned char *buf = NULL;
    size_t len = 0, off = 0;
    const char *msg = NULL;
    if (cli_read_file(path, BT_META_MAX_INPUT, &buf, &len) != 0)
        return CLI_FAIL;
    int rc = bt_metainfo_parse(m, buf, len, bt_mem_default(), &off, &msg);
    free(buf);
    if (rc != 0) {
        fprintf(stderr, "swarmlab: %s: invalid torrent at byte %zu: %s (%s)\n", path, off,
                msg != NULL ? msg : "?", bt_strerror(rc));
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cmd_live(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        live_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    for (int i = 2; i < argc; i++)
        if (cli_is_help(argv[i])) {
            live_usage(stdout);
            return CLI_OK;
        }
    if (strcmp(argv[1], "scrape") == 0)
        return cmd_live_scrape(argc, argv);
    live_opts o;
    memset(&o, 0, sizeof(o));
    bool seed = strcmp(argv[1], "seed") == 0;
    if (!seed && strcmp(argv[1], "download") != 0) {
        fprintf(stderr, "swarmlab live: unknown mode '%s' (download or seed)\n", argv[1]);
        return CLI_USAGE;
    }
    const char *pos[2];
    bt_addr peers[MAX_PEERS];
    int npos = 0, rv = parse_args(argc, argv, &o, pos, &npos, peers);
    o.peers = peers;
    if (rv != 0)
        return rv;
    if (seed && npos == 2 && o.dir == NULL)
        o.dir = pos[1];
    else if (npos != 1 || o.dir == NULL) {
        fprintf(stderr, seed ? "usage: swarmlab live seed FILE.torrent DIR [options]\n"
                             : "usage: swarmlab live download FILE.torrent -o DIR [options]\n");
        return CLI_USAGE;
    }
    o.torrent_path = pos[0];
    o.seed = seed;
    uint8_t peer_id[20]; /* one for the process: the magnet phase and the download */
    live_peer_id_make(peer_id);
    o.peer_id = peer_id;
    o.progress = isatty(STDERR_FILENO) != 0;
    bt_metainfo *m = NULL;
    bool magnet = strncmp(o.torrent_path, "magnet:", 7) == 0; /* live_magnet.c */
    if (magnet && seed) {
        fprintf(stderr, "swarmlab live seed: needs a .torrent file, not a magnet link\n");
        return CLI_USAGE;
    }
    if (magnet ? live_magnet_load(&o, &m) != 0 : load_torrent(o.torrent_path, &m) != CLI_OK)
        return CLI_FAIL;
    int rc = live_session_run(&o, m);
    bt_metainfo_del(m);
    return rc == 0 ? CLI_OK : CLI_FAIL;
}
