/* cli/report.h: the pieces of `swarmlab plot`'s report: gnuplot runs (report_gp.c), the HTML
 * page and its tables (report_html.c), and the tables derived from a run directory for the
 * figures (report_run.c). Never runs a simulation. */
#ifndef CLI_REPORT_H
#define CLI_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define RPT_MAX_CLASSES 256
#define RPT_MAX_ISPS 257 /* core + SIM_SCENARIO_MAX_ISPS */
#define RPT_MAX_NAME 64  /* class and ISP names: [A-Za-z0-9_-], at most 63 characters */
#define RPT_MAX_LINE 65536
#define RPT_MAX_ROWS 10000000
#define RPT_PATH 4352

/* ---- gnuplot (report_gp.c) ------------------------------------------------------------- */

/* Starts gnuplot reading commands from a pipe; NULL after printing an error. */
FILE *rpt_gp_open(void);
/* Sets gnuplot variable |name| to the string |value| (quotes doubled, controls blanked). */
void rpt_gp_str(FILE *gp, const char *name, const char *value);
void rpt_gp_int(FILE *gp, const char *name, long value);
/* Loads PLOTS/SCRIPT (each script starts with `reset`). */
void rpt_gp_load(FILE *gp, const char *plots, const char *script);
/* Ends gnuplot; 0, or -1 (with a message) if it reported an error. */
int rpt_gp_close(FILE *gp);

/* ---- HTML (report_html.c) --------------------------------------------------------------- */

/* Writes |s| with &, <, >, " and ' escaped. */
void rpt_html_put(FILE *f, const char *s);
/* Writes a number with |digits| significant digits, or "–" for NULL/null/non-numbers. */
void rpt_html_num(FILE *f, const json_t *v, int digits);
/* A figure: PREFIX/NAME.svg shown, PREFIX/NAME.png linked, under |caption| (plain text). If
 * DIR/PREFIX/NAME.svg is missing, writes a note saying so instead. */
void rpt_html_figure(FILE *f, const char *dir, const char *prefix, const char *name,
                     const char *caption);
/* A paragraph of plain text in the "note" style. */
void rpt_html_note(FILE *f, const char *text);
/* The tables of one run's summary.json (run, per class, fairness, fluid model). */
void rpt_html_summary(FILE *f, const json_t *summary, const char *const *classes, size_t n);
/* The fluid model's table of a summary.json (or a note when it has none). */
void rpt_html_fluid(FILE *f, const json_t *summary);
typedef struct rpt_run rpt_run;
typedef struct rpt_pooled rpt_pooled;
/* The pooled download times table (rpt_run_pooled_cdf) of the classes of |r| with leechers. */
void rpt_html_pooled(FILE *f, const rpt_run *r, const rpt_pooled *st, size_t nruns);
/* The per-class table of a replications.json (mean and 95% CI of each metric), classes in
 * |r|'s order (a seed class has no share ratio). */
void rpt_html_reps(FILE *f, const json_t *reps, const rpt_run *r);
/* Ends the page and closes it; 0 or -1 on a write error. */
int rpt_html_close(FILE *f, const char *dir);

/* ---- a run directory's data (report_run.c) ---------------------------------------------- */

typedef struct rpt_class {
    char name[RPT_MAX_NAME];
    int isp;        /* network ISP id of its peers (0 = core), -1: no peer seen */
    bool seed;      /* the seed role: never downloads */
    uint32_t peers; /* rows in peers.tsv */
    uint32_t done;  /* leechers that completed */
    uint32_t ratio; /* peers that downloaded something (a share ratio is defined) */
    double up_min_Bps, up_max_Bps;
} rpt_class;

struct rpt_run {
    rpt_class cls[RPT_MAX_CLASSES]; /* class order (peers.tsv's up_to_* columns) */
    size_t ncls;
    /* 1-based columns of peers.tsv, for gnuplot */
    int c_class, c_isp, c_up, c_join, c_dl, c_bup, c_bdown;
    double dl_max_s, ratio_max; /* largest download time, share ratio */
    bool isp_mixed;             /* some class has peers in two ISPs: no ISP matrix */
    char isp_names[RPT_MAX_ISPS][RPT_MAX_NAME]; /* from scenario.ini; "" if unknown */
    size_t nisp_names;
};

/* Reads DIR/peers.tsv (required) and DIR/summary.json's class roles into |r|. Returns 0, or
 * -1 after printing an error naming the file and line. */
int rpt_run_scan(const char *dir, rpt_run *r);
/* Space-separated names of the classes passing |want| (NULL: all), into |out|. */
void rpt_run_classes(const rpt_run *r, bool (*want)(const rpt_class *), char *out, size_t len);
/* DIR/report-matrix.tsv from DIR/matrix.tsv: rows "i j bytes_MB regular_frac optimistic_frac
 * bytes_frac", fractions of the from class's row total (-1 when the row is 0). Returns 1 if
 * written, 0 if DIR/matrix.tsv is missing or there is one class, -1 on an error (printed). */
int rpt_run_matrix(const char *dir, const rpt_run *r);
/* DIR/report-isp.tsv: payload bytes between ISPs (rows "i j MB frac", frac -1 if no bytes), from
 * matrix.tsv and each class's ISP; |names| gets the ISPs' names (space-separated) and |cross| the
 * share of bytes that crossed ISPs. Returns 1 if written, 0 if not meaningful (one ISP, no
 * matrix.tsv, a class in two ISPs; |why| says which), -1 on an error (printed). */
int rpt_run_isp(const char *dir, rpt_run *r, char *names, size_t len, double *cross,
                const char **why);
/* DIR/report-cdf.tsv: the download-time CDF of each class pooled over the run directories
 * |runs| (gnuplot blocks in |r|'s class order, "# class NAME" first; only classes with a
 * completion). |classes| gets the names of the written blocks. Returns 0 or -1 (printed). */
struct rpt_pooled {
    uint64_t members, done; /* leechers that joined, of which completed, over all runs */
    double mean_s, median_s, p5_s, p95_s; /* of the pooled download times (nearest rank) */
};
/* ... and fills |st| (one per class of |r|) with the pooled download-time statistics. */
int rpt_run_pooled_cdf(const char *dir, const rpt_run *r, char *const *runs, size_t nruns,
                       char *classes, size_t len, rpt_pooled *st);

/* ---- one run's figures and page (cmd_plot_run.c) --------------------------------------- */

typedef struct rpt_report {
    rpt_run *run;
    json_t *summary;
    bool fluid;          /* DIR/fluid.tsv exists: the swarm figure overlays the fluid model */
    int matrix;          /* rpt_run_matrix's result */
    int isp;             /* rpt_run_isp's result */
    const char *isp_why; /* why there is no ISP figure */
    double cross;        /* share of payload bytes that crossed ISPs */
    char cdf[4096];      /* completion.tsv's classes, in block order */
} rpt_report;

/* Reads the run directory DIR and draws its figures (PLOTS/sim.gp, peers.gp, matrix.gp,
 * isp.gp) into DIR. Returns 0 or -1 (printed); call rpt_report_free either way. */
int rpt_report_draw(const char *dir, const char *plots, rpt_report *rp);
/* The figures section of a page, the images under PREFIX (e.g. "rep-1/"), and a note for each
 * figure that is missing and why. */
void rpt_report_figures(FILE *f, const char *dir, const char *prefix, const rpt_report *rp);
/* DIR/index.html of a single run. Returns 0 or -1. */
int rpt_report_index(const char *dir, const rpt_report *rp);
void rpt_report_free(rpt_report *rp);

/* `swarmlab plot DIR` for a replications directory (DIR/replications.json). */
int rpt_plot_reps(const char *dir, const char *plots);

#endif
