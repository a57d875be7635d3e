/* cli/main.c: the swarmlab command line: git-style subcommands, --help, --version, and exit
 * codes 0 (ok), 1 (failure), 2 (usage). */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"show", cmd_show, "print a .torrent's name, size, pieces, files, trackers and info-hash"},
    {"make-torrent", cmd_make_torrent, "create a .torrent from a file or a directory"},
    {"sim", cmd_sim, "run a scenario on the discrete-event simulator"},
    {"sweep", cmd_sweep, "run a scenario over a grid of parameter values (with replications)"},
    {"plot", cmd_plot, "draw a results directory's figures with gnuplot"},
    {"live", cmd_live, "download or seed a torrent with real peers (libevent, HTTP tracker)"},
    {"demo", cmd_demo, "run an in-process swarm of engine peers over in-memory pipes"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: swarmlab [--version] [--help] <command> [<args>]\n\n"
                 "swarmlab is a laboratory for BitTorrent swarms.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'swarmlab <command> --help' for a command's options.\n");
}

int cli_make_dirs(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s", dir);
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

int cli_parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        double mult;
    } units[] = {{"", 1},         {"B", 1},           {"kB", 1e3},         {"KB", 1e3},
                 {"MB", 1e6},     {"GB", 1e9},        {"TB", 1e12},        {"KiB", 1024.0},
                 {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}};
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || v < 0 || s[0] == '-' || s[0] == '+')
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) != 0)
            continue;
        double bytes = v * units[i].mult;
        if (bytes > 9.0e18 || bytes != bytes)
            return -1;
        *out = (uint64_t)(bytes + 0.5);
        return 0;
    }
    return -1;
}

void cli_scenario_stem(const char *path, char *out, size_t len)
{
    const char *slash = strrchr(path, '/');
    snprintf(out, len, "%s", slash != NULL ? slash + 1 : path);
    char *dot = strrchr(out, '.');
    if (dot != NULL && dot != out)
        *dot = '\0';
}

int cli_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

int cli_read_file(const char *path, size_t max, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "swarmlab: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            if (cap > max) {
                fprintf(stderr, "swarmlab: %s: larger than %zu bytes\n", path, max);
                free(buf);
                fclose(f);
                return -1;
            }
            unsigned char *nb = realloc(buf, cap * 2);
            if (nb == NULL)
                free(buf);
            buf = nb;
            cap *= 2;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (buf == NULL || err) {
        fprintf(stderr, "swarmlab: %s: %s\n", path, buf == NULL ? "out of memory" : "read error");
        free(buf);
        return -1;
    }
    if (n > max) {
        fprintf(stderr, "swarmlab: %s: larger than %zu bytes\n", path, max);
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (cli_is_help(argv[1])) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("swarmlab %s\n", SWARMLAB_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "swarmlab: '%s' is not a command. See 'swarmlab --help'.\n", argv[1]);
    return CLI_USAGE;
}
