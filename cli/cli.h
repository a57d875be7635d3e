/* cli/cli.h: the swarmlab subcommands. Each takes argv with argv[0] = the subcommand name and
 * returns an exit code: CLI_OK, CLI_FAIL (the work failed) or CLI_USAGE (bad command line). */
#ifndef CLI_H
#define CLI_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

int cmd_show(int argc, char **argv);
int cmd_make_torrent(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_live_scrape(int argc, char **argv); /* `live scrape` (cmd_live_scrape.c) */

/* mkdir -p; 0 or -1 with errno set. */
int cli_make_dirs(const char *dir);

/* Reads a whole file (at most |max| bytes) into a malloc'd buffer. Returns 0, or -1 with a
 * message naming the file printed to stderr. */
int cli_read_file(const char *path, size_t max, unsigned char **out, size_t *len);

/* Parses a byte size: an integer or decimal number with an optional unit: B, kB/KB, MB, GB, TB
 * (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024). Returns 0, or -1 if malformed or
 * too large. */
int cli_parse_size(const char *s, uint64_t *out);

/* The scenario file's name without directory and extension ("scenarios/tiny.ini" -> "tiny"),
 * into |out| (|len| bytes). */
void cli_scenario_stem(const char *path, char *out, size_t len);

/* `swarmlab plot DIR` for a sweep directory (DIR/sweep.json), with plots/sweep.gp from
 * |plots|. Returns a CLI_* code. */
int cli_plot_sweep(const char *dir, const char *plots);

/* Opens DIR/index.html and writes its head, titled |title| (plain text, no markup).
 * Returns the file to add figures to and close, or NULL after printing an error. */
FILE *cli_plot_index_open(const char *dir, const char *title);

/* True if argv[i] is -h or --help. */
int cli_is_help(const char *arg);

#endif
