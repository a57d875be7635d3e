/* cli/cmd_plot.c: `swarmlab plot DIR`: draws a results directory's figures with gnuplot
 * (plots/sim.gp; a sweep directory: cmd_plot_sweep.c) and writes an index.html. */
#include "cli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef SWARMLAB_PLOTS_DIR
#define SWARMLAB_PLOTS_DIR "/usr/local/share/swarmlab/plots"
#endif

static void plot_usage(FILE *out)
{
    fprintf(out, "usage: swarmlab plot DIR [--plots PLOTSDIR]\n\n"
                 "Draws DIR/completion.{png,svg} and DIR/swarm.{png,svg} from a 'swarmlab sim'\n"
                 "results directory with gnuplot, and writes DIR/index.html.\n"
                 "For a 'swarmlab sweep' directory (DIR/sweep.json), draws DIR/sweep.{png,svg}:\n"
                 "mean download time per class against the first varied key with 95%% CIs; with\n"
                 "more keys, one figure DIR/sweep-J.{png,svg} per combination of the others.\n"
                 "PLOTSDIR holds sim.gp and sweep.gp (default ./plots, else " SWARMLAB_PLOTS_DIR
                 ").\n");
}

/* Leecher class names from completion.tsv's "# class NAME" lines (block order), into |out|. */
static int class_names(const char *dir, char *out, size_t outlen)
{
    char path[4352], line[512];
    snprintf(path, sizeof(path), "%s/completion.tsv", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "swarmlab plot: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t len = 0;
    out[0] = '\0';
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "# class ", 8) != 0)
            continue;
        char *name = line + 8;
        name[strcspn(name, "\r\n")] = '\0';
        bool safe = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789_-") == strlen(name);
        if (!safe || len + strlen(name) + 2 >= outlen) {
            fprintf(stderr, "swarmlab plot: %s: unusable class name '%s'\n", path, name);
            fclose(f);
            return -1;
        }
        len += (size_t)snprintf(out + len, outlen - len, "%s%s", len ? " " : "", name);
    }
    fclose(f);
    return 0;
}

FILE *cli_plot_index_open(const char *dir, const char *title)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/index.html", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "swarmlab plot: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    fprintf(f, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>"
               "</head>\n<body>\n<h1>%s</h1>\n", title, title);
    return f;
}

static int write_index(const char *dir)
{
    FILE *f = cli_plot_index_open(dir, "swarmlab results");
    if (f == NULL)
        return -1;
    fprintf(f, "<p><img src=\"completion.svg\" alt=\"download time by class\"></p>\n"
               "<p><img src=\"swarm.svg\" alt=\"swarm over time\"></p>\n"
               "<p>Data: <a href=\"peers.tsv\">peers.tsv</a>, <a href=\"timeseries.tsv\">"
               "timeseries.tsv</a>, <a href=\"summary.json\">summary.json</a>, "
               "<a href=\"scenario.ini\">scenario.ini</a></p>\n</body></html>\n");
    return fclose(f) == 0 ? 0 : -1;
}

int cmd_plot(int argc, char **argv)
{
    const char *dir = NULL, *plots = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            plot_usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--plots") == 0 && i + 1 < argc) {
            plots = argv[++i];
        } else if (argv[i][0] != '-' && dir == NULL) {
            dir = argv[i];
        } else {
            plot_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (dir == NULL) {
        plot_usage(stderr);
        return CLI_USAGE;
    }
    struct stat st;
    if (plots == NULL)
        plots = stat("plots/sim.gp", &st) == 0 ? "plots" : SWARMLAB_PLOTS_DIR;
    char sweep[4200];
    snprintf(sweep, sizeof(sweep), "%s/sweep.json", dir);
    if (stat(sweep, &st) == 0)
        return cli_plot_sweep(dir, plots);
    if (strchr(dir, '\'') != NULL || strchr(plots, '\'') != NULL) {
        fprintf(stderr, "swarmlab plot: paths with a quote are not supported\n");
        return CLI_USAGE;
    }
    char classes[2048];
    if (class_names(dir, classes, sizeof(classes)) != 0)
        return CLI_FAIL;
    char cmd[8192];
    snprintf(cmd, sizeof(cmd), "gnuplot -e \"dir='%s'; classes='%s'\" '%s/sim.gp'", dir, classes,
             plots);
    if (system(cmd) != 0) {
        fprintf(stderr, "swarmlab plot: gnuplot failed (is gnuplot-nox installed?)\n");
        return CLI_FAIL;
    }
    if (write_index(dir) != 0)
        return CLI_FAIL;
    printf("figures: %s/completion.png %s/swarm.png (and .svg), %s/index.html\n", dir, dir, dir);
    return CLI_OK;
}
