/* cli/report_gp.c: runs gnuplot for `swarmlab plot`: one process fed through a pipe with the
 * variables of a figure and `load` lines for the scripts in plots/. Never parses results. */
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

FILE *rpt_gp_open(void)
{
    fflush(NULL);
    FILE *gp = popen("gnuplot", "w");
    if (gp == NULL)
        fprintf(stderr, "swarmlab plot: cannot start gnuplot: %s\n", strerror(errno));
    return gp;
}

/* 'value', doubling single quotes (gnuplot's escape) and blanking control characters. */
static void quote(FILE *gp, const char *value)
{
    fputc('\'', gp);
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '\'')
            fputc('\'', gp);
        fputc((unsigned char)*p < 0x20 ? ' ' : *p, gp);
    }
    fputc('\'', gp);
}

void rpt_gp_str(FILE *gp, const char *name, const char *value)
{
    fprintf(gp, "%s = ", name);
    quote(gp, value);
    fputc('\n', gp);
}

void rpt_gp_int(FILE *gp, const char *name, long value)
{
    fprintf(gp, "%s = %ld\n", name, value);
}

void rpt_gp_load(FILE *gp, const char *plots, const char *script)
{
    char path[RPT_PATH];
    snprintf(path, sizeof(path), "%s/%s", plots, script);
    rpt_gp_str(gp, "plotsdir", plots);
    fputs("load ", gp);
    quote(gp, path);
    fputc('\n', gp);
}

int rpt_gp_close(FILE *gp)
{
    int st = pclose(gp);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "swarmlab plot: gnuplot failed (is gnuplot-nox installed?)\n");
        return -1;
    }
    return 0;
}
