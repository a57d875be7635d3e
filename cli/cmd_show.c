/* cli/cmd_show.c: `swarmlab show FILE.torrent`: prints a torrent's name, sizes, pieces,
 * info-hash, trackers with tiers, every file, and comment/creator/date. Reads only the file. */
#include "bt.h"
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void show_usage(FILE *out)
{
    fprintf(out, "usage: swarmlab show FILE.torrent\n\n"
                 "Prints the torrent's name, info-hash, total size, piece length and count,\n"
                 "private flag, trackers (with BEP 12 tiers), every file with its size, and\n"
                 "the comment, creator and creation date when present.\n"
                 "Exit codes: 0 ok, 1 unreadable or invalid torrent, 2 usage.\n");
}

/* Formats |n| bytes as "1.5 MiB" into |out|. */
static const char *human(uint64_t n, char *out, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(out, len, "%" PRIu64 " B", n);
    else
        snprintf(out, len, "%.1f %s", v, units[u]);
    return out;
}

/* Prints |s| with control bytes replaced by '?', so a hostile torrent cannot drive the
 * terminal. */
static void put_safe(const char *s)
{
    for (; *s != '\0'; s++)
        putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void print_field(const char *label, const char *value)
{
    printf("%-14s", label);
    put_safe(value);
    putchar('\n');
}

static void print_general(const bt_metainfo *m)
{
    char hex[2 * BT_SHA1_LEN + 1], h[32];
    print_field("name:", m->name);
    printf("%-14s%s\n", "info-hash:", bt_hex(m->info_hash, BT_SHA1_LEN, hex));
    printf("%-14s%" PRIu64 " bytes (%s)\n", "total size:", m->total_length,
           human(m->total_length, h, sizeof(h)));
    printf("%-14s%" PRIu32 " bytes (%s)\n", "piece length:", m->piece_length,
           human(m->piece_length, h, sizeof(h)));
    printf("%-14s%" PRIu32 "\n", "pieces:", m->npieces);
    printf("%-14s%s\n", "private:", m->is_private ? "yes" : "no");
    printf("%-14s%s, %" PRIu32 " file%s\n", "layout:", m->multi_file ? "multi-file" : "single-file",
           m->nfiles, m->nfiles == 1 ? "" : "s");
    if (m->comment != NULL)
        print_field("comment:", m->comment);
    if (m->created_by != NULL)
        print_field("created by:", m->created_by);
    if (m->creation_date >= 0) {
        time_t t = (time_t)m->creation_date;
        struct tm tm;
        char date[64];
        if (gmtime_r(&t, &tm) != NULL &&
            strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", &tm) > 0)
            printf("%-14s%s (%" PRId64 ")\n", "created on:", date, m->creation_date);
        else
            printf("%-14s%" PRId64 "\n", "created on:", m->creation_date);
    }
}

static void print_lists(const bt_metainfo *m)
{
    printf("\ntrackers (%" PRIu32 "):\n", m->ntrackers);
    if (m->ntrackers == 0)
        printf("  (none)\n");
    for (uint32_t i = 0; i < m->ntrackers; i++) {
        printf("  tier %-3" PRIu32 " ", m->tracker_tier[i]);
        put_safe(m->trackers[i]);
        putchar('\n');
    }
    uint32_t npad = 0;
    uint64_t pad_bytes = 0;
    for (uint32_t i = 0; i < m->nfiles; i++)
        if (m->files[i].is_pad) {
            npad++;
            pad_bytes += m->files[i].length;
        }
    printf("\nfiles (%" PRIu32 "):\n", m->nfiles);
    if (npad > 0) /* BEP 47: zeros that align the next file; never written to disk */
        printf("  (%" PRIu32 " pad file%s, %" PRIu64 " bytes of padding: not stored)\n", npad,
               npad == 1 ? "" : "s", pad_bytes);
    for (uint32_t i = 0; i < m->nfiles; i++) {
        char h[32];
        printf("  %15" PRIu64 " bytes %10s  ", m->files[i].length,
               human(m->files[i].length, h, sizeof(h)));
        if (m->multi_file) {
            put_safe(m->name);
            putchar('/');
        }
        put_safe(m->files[i].path);
        fputs(m->files[i].is_pad ? "  [pad]\n" : "\n", stdout);
    }
}

int cmd_show(int argc, char **argv)
{
    if (argc == 2 && cli_is_help(argv[1])) {
        show_usage(stdout);
        return CLI_OK;
    }
    if (argc != 2 || argv[1][0] == '-') {
        show_usage(stderr);
        return CLI_USAGE;
    }
    const char *path = argv[1];
    unsigned char *buf = NULL;
    size_t len = 0;
    if (cli_read_file(path, BT_META_MAX_INPUT, &buf, &len) != 0)
        return CLI_FAIL;
    bt_metainfo *m = NULL;
    size_t off = 0;
    const char *msg = NULL;
    int rc = bt_metainfo_parse(&m, buf, len, bt_mem_default(), &off, &msg);
    free(buf);
    if (rc != 0) {
        fprintf(stderr, "swarmlab: %s: invalid torrent at byte %zu: %s (%s)\n", path, off,
                msg != NULL ? msg : "?", bt_strerror(rc));
        return CLI_FAIL;
    }
    print_general(m);
    print_lists(m);
    bt_metainfo_del(m);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "swarmlab: show: cannot write the output\n");
        return CLI_FAIL;
    }
    return CLI_OK;
}
