/* test_sim_output.c: the result files of a small constructed swarm (one seed; classes a, b
 * and c of one leecher each; a leaves gracefully, c crashes): matrix.tsv (a row per ordered
 * class pair, bytes equal to the per-class totals of peers.tsv, unchoke time within run
 * time x pairs and at least what the bytes took) and the Jain fairness indices of summary.json
 * recomputed from peers.tsv. Files go to a temporary directory, removed afterwards. */
#include "sim_output.h"

#include <CUnit/CUnit.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern int test_sim_output_add_suite(void); /* extern: the suite grep matches once */

#define NCLS 4
#define MAXROWS 16
#define MAXCOLS 32
#define FILE_SIZE (2u << 20)
#define SEED_UP 500000u

typedef struct table {
    char *cell[MAXROWS][MAXCOLS];
    size_t nrows, ncols[MAXROWS];
    char *header;
} table;

/* Reads a TSV file: the "# ..." header line, then up to MAXROWS rows. */
static int read_tsv(const char *path, table *t)
{
    memset(t, 0, sizeof(*t));
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[len - 1] = '\0';
        if (line[0] == '#') {
            free(t->header);
            t->header = strdup(line);
            continue;
        }
        if (t->nrows == MAXROWS)
            break;
        size_t r = t->nrows++;
        char *save = NULL;
        for (char *tok = strtok_r(line, "\t", &save); tok != NULL && t->ncols[r] < MAXCOLS;
             tok = strtok_r(NULL, "\t", &save))
            t->cell[r][t->ncols[r]++] = strdup(tok);
    }
    free(line);
    fclose(f);
    return 0;
}

static void free_tsv(table *t)
{
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t k = 0; k < t->ncols[r]; k++)
            free(t->cell[r][k]);
    free(t->header);
}

static sim_peer_params params(uint32_t cls, uint64_t up, bt_time_us linger)
{
    sim_peer_params p;
    memset(&p, 0, sizeof(p));
    p.cls = cls;
    p.up_Bps = up;
    p.down_Bps = 2000000;
    p.latency_us = BT_MSEC(15);
    p.linger_us = linger;
    p.abort_after_us = BT_TIME_NEVER;
    p.leave_at = BT_TIME_NEVER;
    return p;
}

/* Peers per class and the highest upload capacity in each. */
static const uint32_t npeers_of[NCLS] = {1, 1, 1, 1};
static const double max_up_of[NCLS] = {SEED_UP, 200000, 100000, 300000};

/* Runs the swarm and writes peers.tsv, matrix.tsv and summary.json into |dir|. */
static bt_time_us run_and_write(const char *dir)
{
    sim_world_config c;
    memset(&c, 0, sizeof(c));
    c.seed = 3;
    c.file_size = FILE_SIZE;
    c.piece_size = 64u << 10;
    c.duration = BT_SEC(3600);
    c.numwant = 50;
    c.announce_interval = BT_SEC(1800);
    c.sample_interval = BT_SEC(5);
    c.stop_when_done = true;
    sim_net_config_defaults(&c.net);
    const char *names[NCLS] = {"seed", "a", "b", "c"};
    for (int k = 0; k < NCLS; k++)
        snprintf(c.classes[k].name, sizeof(c.classes[k].name), "%s", names[k]);
    c.classes[0].seed_role = true;
    c.nclasses = NCLS;
    sim_world *w = NULL;
    CU_ASSERT_FATAL(sim_world_new(&w, &c) == 0);
    /* a leaves gracefully 1 s after completing (its engine's CLOSE actions), c crashes 3 s
     * after joining (the host asks its engine), the rest stay to the end (open connections) */
    sim_peer_params s = params(0, SEED_UP, BT_TIME_NEVER);
    sim_peer_params a = params(1, 200000, BT_SEC(1));
    sim_peer_params b = params(2, 100000, BT_TIME_NEVER);
    sim_peer_params cr = params(3, 300000, BT_TIME_NEVER);
    cr.abort_after_us = BT_SEC(3);
    cr.crash = true;
    CU_ASSERT_FATAL(sim_world_add_peer(w, &s, 0) == 0);
    CU_ASSERT_FATAL(sim_world_add_peer(w, &a, BT_MSEC(500)) == 0);
    CU_ASSERT_FATAL(sim_world_add_peer(w, &b, BT_SEC(4)) == 0);
    CU_ASSERT_FATAL(sim_world_add_peer(w, &cr, BT_MSEC(1500)) == 0);
    CU_ASSERT_FATAL(sim_world_run(w, NULL, NULL, 0) == 0);
    sim_world_stats st;
    sim_world_get_stats(w, &st);
    char path[512];
    sim_run_info ri = {.scenario_path = "constructed", .seed = 3};
    snprintf(path, sizeof(path), "%s/peers.tsv", dir);
    CU_ASSERT(sim_output_peers(w, path) == 0);
    snprintf(path, sizeof(path), "%s/matrix.tsv", dir);
    CU_ASSERT(sim_output_matrix(w, path) == 0);
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    CU_ASSERT(sim_output_summary(w, &ri, path) == 0);
    sim_world_del(w);
    return st.end_time;
}

static int class_index(const char *name)
{
    const char *names[NCLS] = {"seed", "a", "b", "c"};
    for (int k = 0; k < NCLS; k++)
        if (strcmp(names[k], name) == 0)
            return k;
    return -1;
}

/* peers.tsv: PEERS_FIXED fixed columns (id .. max_peers), then up_to_X / down_from_X per class,
 * then bytes_up_leeching. */
#define PEERS_FIXED 17
static void check_matrix(const table *peers, const table *m, bt_time_us end)
{
    CU_ASSERT_FATAL(m->nrows == NCLS * NCLS);
    CU_ASSERT_FATAL(m->header != NULL);
    CU_ASSERT_STRING_EQUAL(m->header, "# from_class\tto_class\tbytes\tregular_unchoke_s\t"
                                      "optimistic_unchoke_s");
    uint64_t up[NCLS][NCLS] = {{0}}, down[NCLS][NCLS] = {{0}};
    CU_ASSERT_FATAL(peers->header != NULL);
    const char *first = strstr(peers->header, "\tup_to_seed\t");
    CU_ASSERT_FATAL(first != NULL);
    int tabs = 0; /* the per-class columns start where this test expects them */
    for (const char *q = peers->header; q <= first; q++)
        tabs += *q == '\t';
    CU_ASSERT_FATAL(tabs == PEERS_FIXED);
    for (size_t r = 0; r < peers->nrows; r++) {
        CU_ASSERT_FATAL(peers->ncols[r] == PEERS_FIXED + 2 * NCLS + 1);
        int from = class_index(peers->cell[r][1]);
        CU_ASSERT_FATAL(from >= 0);
        for (int k = 0; k < NCLS; k++) {
            up[from][k] += strtoull(peers->cell[r][PEERS_FIXED + 2 * k], NULL, 10);
            down[k][from] += strtoull(peers->cell[r][PEERS_FIXED + 1 + 2 * k], NULL, 10);
        }
    }
    double run_s = (double)end / 1e6;
    for (int a = 0; a < NCLS; a++) {
        for (int b = 0; b < NCLS; b++) {
            char *const *row = m->cell[a * NCLS + b];
            CU_ASSERT_FATAL(m->ncols[a * NCLS + b] == 5);
            CU_ASSERT(class_index(row[0]) == a && class_index(row[1]) == b); /* class order */
            uint64_t bytes = strtoull(row[2], NULL, 10);
            double reg = strtod(row[3], NULL), opt = strtod(row[4], NULL);
            CU_ASSERT(bytes == up[a][b]);
            CU_ASSERT(bytes == down[a][b]); /* what b's peers got from a's */
            CU_ASSERT(reg >= 0 && opt >= 0);
            double pairs = (double)npeers_of[a] * (npeers_of[b] - (a == b));
            CU_ASSERT(reg + opt <= run_s * pairs + 1e-6);
            /* the bytes took at least bytes / (fastest sender's upload) of unchoked time */
            CU_ASSERT(reg + opt >= (double)bytes / max_up_of[a] - 1e-6);
        }
    }
    /* the seed served both leechers, and each got an optimistic turn (reference seed mode) */
    for (int b = 1; b < NCLS; b++) {
        CU_ASSERT(up[0][b] > 0);
        CU_ASSERT(strtod(m->cell[b][4], NULL) > 0);
    }
    CU_ASSERT(up[1][2] > 0 && up[2][1] > 0); /* the leechers traded */
    CU_ASSERT(up[3][1] + up[3][2] > 0);       /* the crasher uploaded before it crashed */
    CU_ASSERT(strtod(m->cell[0][3], NULL) + strtod(m->cell[0][4], NULL) == 0); /* seed-seed */
}

static double jain(const double *x, size_t n)
{
    double s = 0, q = 0;
    for (size_t i = 0; i < n; i++) {
        s += x[i];
        q += x[i] * x[i];
    }
    return s * s / ((double)n * q);
}

static void check_fairness(const table *peers, const char *summary)
{
    json_error_t err;
    json_t *root = json_load_file(summary, 0, &err);
    CU_ASSERT_FATAL(root != NULL);
    double rate[MAXROWS], ratio[MAXROWS];
    size_t n = 0, nratio = 0;
    for (size_t r = 0; r < peers->nrows; r++) {
        double dl = strtod(peers->cell[r][10], NULL);
        uint64_t upl = strtoull(peers->cell[r][PEERS_FIXED + 2 * NCLS], NULL, 10);
        if (dl <= 0)
            continue; /* the seed */
        rate[n++] = FILE_SIZE / dl;
        if (upl > 0)
            ratio[nratio++] = (double)FILE_SIZE / (double)upl;
    }
    CU_ASSERT_FATAL(n >= 2 && nratio >= 2);
    json_t *f = json_object_get(root, "fairness");
    double jr = json_real_value(json_object_get(f, "jain_download_rate"));
    double jq = json_real_value(json_object_get(f, "jain_download_upload_ratio"));
    CU_ASSERT(fabs(jr - jain(rate, n)) < 1e-6);
    CU_ASSERT(fabs(jq - jain(ratio, nratio)) < 1e-9);
    CU_ASSERT(jr > 0.5 && jr <= 1.0);
    CU_ASSERT(json_integer_value(json_object_get(f, "rate_peers")) == (json_int_t)n);
    CU_ASSERT(json_integer_value(json_object_get(f, "ratio_peers")) == (json_int_t)nratio);
    /* one peer in class a: index 1; the seed class has no leecher: null */
    json_t *ca = json_object_get(json_object_get(json_object_get(root, "classes"), "a"),
                                 "fairness");
    CU_ASSERT(fabs(json_real_value(json_object_get(ca, "jain_download_rate")) - 1.0) < 1e-12);
    json_t *cs = json_object_get(json_object_get(json_object_get(root, "classes"), "seed"),
                                 "fairness");
    CU_ASSERT(json_is_null(json_object_get(cs, "jain_download_rate")));
    json_decref(root);
}

static void test_matrix_and_fairness(void)
{
    char dir[] = "/tmp/swarmlab-test-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    bt_time_us end = run_and_write(dir);
    char path[512];
    table peers, m;
    snprintf(path, sizeof(path), "%s/peers.tsv", dir);
    CU_ASSERT_FATAL(read_tsv(path, &peers) == 0);
    CU_ASSERT_FATAL(peers.nrows == 4);
    snprintf(path, sizeof(path), "%s/matrix.tsv", dir);
    CU_ASSERT_FATAL(read_tsv(path, &m) == 0);
    check_matrix(&peers, &m, end);
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    check_fairness(&peers, path);
    free_tsv(&peers);
    free_tsv(&m);
    const char *files[] = {"peers.tsv", "matrix.tsv", "summary.json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        CU_ASSERT(unlink(path) == 0);
    }
    CU_ASSERT(rmdir(dir) == 0);
}

static void test_jain_index(void)
{
    const double eq[] = {3, 3, 3, 3}, one_hog[] = {1, 0, 0, 0}, mixed[] = {1, 2, 3};
    CU_ASSERT(fabs(sim_jain_index(eq, 4) - 1.0) < 1e-12);
    CU_ASSERT(fabs(sim_jain_index(one_hog, 4) - 0.25) < 1e-12); /* 1/n */
    CU_ASSERT(fabs(sim_jain_index(mixed, 3) - 36.0 / 42.0) < 1e-12);
    CU_ASSERT(sim_jain_index(eq, 0) < 0);
    const double zeros[] = {0, 0};
    CU_ASSERT(sim_jain_index(zeros, 2) < 0);
}

int test_sim_output_add_suite(void)
{
    CU_pSuite s = CU_add_suite("sim_output", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "Jain's index", test_jain_index) ||
        !CU_add_test(s, "matrix.tsv and fairness", test_matrix_and_fairness))
        return 1;
    return 0;
}
