/* cli/cmd_plot.c: `swarmlab plot DIR`: finds what kind of results directory DIR is (one run,
 * replications, a sweep) and hands it to the report writer for that kind (cmd_plot_run.c,
 * cmd_plot_reps.c, cmd_plot_sweep.c). */
#include "cli.h"
#include "report.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#ifndef SWARMLAB_PLOTS_DIR
#define SWARMLAB_PLOTS_DIR "/usr/local/share/swarmlab/plots"
#endif

static void plot_usage(FILE *out)
{
    fprintf(out,
            "usage: swarmlab plot DIR [--plots PLOTSDIR]\n\n"
            "Draws the figures of a results directory with gnuplot (PNG and SVG) and writes\n"
            "DIR/index.html, a self-contained report with the key numbers as tables.\n"
            "  'swarmlab sim' run:  download time CDF per class (completion), download time\n"
            "      and share ratio against upload capacity per peer (time_vs_upload,\n"
            "      ratio_vs_upload), swarm size with the fluid model (swarm), the unchoke\n"
            "      matrix as heat maps (unchoke), bytes between ISPs (isp, with ISPs).\n"
            "  --replications directory (DIR/replications.json): per-class means with 95%%\n"
            "      CIs (reps_means), the download time CDF pooled over the runs (reps_cdf),\n"
            "      and the first replication's report (rep-SEED/index.html).\n"
            "  'swarmlab sweep' directory (DIR/sweep.json): mean download time per class\n"
            "      against the first varied key with 95%% CIs (sweep or sweep-J).\n"
            "PLOTSDIR holds the gnuplot scripts (default ./plots, else " SWARMLAB_PLOTS_DIR ").\n");
}

static bool exists(const char *dir, const char *name)
{
    char path[RPT_PATH + 32];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

static int plot_run(const char *dir, const char *plots)
{
    rpt_report rp;
    int rv = rpt_report_draw(dir, plots, &rp);
    if (rv == 0)
        rv = rpt_report_index(dir, &rp);
    rpt_report_free(&rp);
    if (rv != 0)
        return CLI_FAIL;
    printf("report: %s/index.html (figures: PNG and SVG in %s)\n", dir, dir);
    return CLI_OK;
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
    if (strlen(dir) > RPT_PATH - 128 || (plots != NULL && strlen(plots) > RPT_PATH - 128)) {
        fprintf(stderr, "swarmlab plot: path too long\n");
        return CLI_USAGE;
    }
    if (plots == NULL)
        plots = exists("plots", "sim.gp") ? "plots" : SWARMLAB_PLOTS_DIR;
    if (exists(dir, "sweep.json"))
        return cli_plot_sweep(dir, plots);
    if (exists(dir, "replications.json"))
        return rpt_plot_reps(dir, plots);
    if (!exists(dir, "peers.tsv")) {
        fprintf(stderr,
                "swarmlab plot: %s: not a results directory (no peers.tsv, "
                "replications.json or sweep.json)\n",
                dir);
        return CLI_FAIL;
    }
    return plot_run(dir, plots);
}
