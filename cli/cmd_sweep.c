/* cli/cmd_sweep.c: `swarmlab sweep SCENARIO --vary K=V1,V2 ...`: validates every point of the
 * cross product of the varied values, runs each point's replications (serially or in child
 * processes, sim_reps), and writes sweep.tsv and sweep.json (cmd_sweep_out.c). */
#include "cmd_sweep.h"
#include "cli.h"
#include "sim_scenario.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void sweep_usage(FILE *out)
{
    fprintf(out,
            "usage: swarmlab sweep SCENARIO.ini --vary SECTION.KEY=V1,V2,... [--vary ...]\n"
            "                      [--replications N] [-j J] [-o DIR] [--set K=V ...]\n"
            "                      [--seed S] [--quiet]\n\n"
            "Runs a scenario at every point of the cross product of the varied values (the\n"
            "first --vary changes slowest), each point with N replications (seeds S, S+1, ...),\n"
            "and writes one table with a row per point and class.\n\n"
            "  --vary K=V1,V2,...   a key and its values, written as in the scenario file;\n"
            "                       commas inside parentheses belong to the value, so\n"
            "                       class.adsl.up=1Mbit,uniform(1Mbit,4Mbit) has 2 values\n"
            "                       (repeatable, up to %d keys)\n"
            "  --replications N     seeds per point (default 1)\n"
            "  -j, --jobs J         run up to J simulations at once (same results as -j 1)\n"
            "  -o, --output DIR     results directory (default results/sweep-<scenario>-<seed>)\n"
            "      --set K=V        override a key at every point, before the varied ones\n"
            "      --seed S         the first replication's seed (as --set swarm.seed=S)\n"
            "  -q, --quiet          no progress display\n"
            "  -h, --help           this text\n\n"
            "Every value is checked as the scenario loader would before anything runs.\n\n"
            "Outputs: DIR/sweep.tsv and DIR/sweep.json: per point and class, the replications\n"
            "n and, for each metric, the mean and the half-width of its 95%% t interval\n"
            "(download time: mean and median over completed peers; completed fraction; share\n"
            "ratio; upload utilisation; bytes up and down). DIR/points/I/ holds point I's\n"
            "resolved scenario.ini, replications.tsv/json and rep-SEED/ runs.\n"
            "Plot it with 'swarmlab plot DIR'.\n\n"
            "examples:\n"
            "  swarmlab sweep scenarios/tiny.ini --vary class.adsl.up=1Mbit,2Mbit,4Mbit \\\n"
            "      --vary arrivals.count=8,16,32 --replications 5 -j 2\n"
            "  swarmlab sweep scenarios/flashcrowd.ini --vary 'class.adsl.choker=reference,"
            "bittyrant'\n"
            "  swarmlab sweep scenarios/poisson.ini --vary 'class.adsl.up=1Mbit,"
            "uniform(1Mbit,4Mbit)'\n",
            SWEEP_MAX_VARY);
}

/* ---- --vary parsing ------------------------------------------------------------------- */

static int vary_fail(const char *arg, const char *what)
{
    fprintf(stderr, "swarmlab sweep: --vary %s: %s\n", arg, what);
    return -1;
}

/* Appends the value |s| (|len| bytes, trimmed here) to |v|. */
static int add_value(sweep_vary *v, const char *arg, const char *s, size_t len)
{
    while (len > 0 && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0)
        return vary_fail(arg, "empty value (values are separated by commas)");
    if (v->n == SWEEP_MAX_VALUES)
        return vary_fail(arg, "too many values");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20)
            return vary_fail(arg, "a value holds a control character");
    size_t klen = strlen(v->key);
    char *val = malloc(len + 1), *set = malloc(klen + len + 2);
    if (val == NULL || set == NULL) {
        free(val);
        free(set);
        return vary_fail(arg, "out of memory");
    }
    memcpy(val, s, len);
    val[len] = '\0';
    snprintf(set, klen + len + 2, "%s=%s", v->key, val);
    for (size_t i = 0; i < v->n; i++) {
        if (strcmp(v->values[i], val) == 0) {
            fprintf(stderr, "swarmlab sweep: --vary %s: value '%s' given twice\n", arg, val);
            free(val);
            free(set);
            return -1;
        }
    }
    v->values[v->n] = val;
    v->sets[v->n++] = set;
    return 0;
}

/* Splits |list| at the commas outside parentheses. */
static int split_values(sweep_vary *v, const char *arg, const char *list)
{
    int depth = 0;
    const char *start = list;
    for (const char *p = list;; p++) {
        if (*p == '(') {
            depth++;
        } else if (*p == ')' && --depth < 0) {
            return vary_fail(arg, "unbalanced parentheses");
        } else if ((*p == ',' && depth == 0) || *p == '\0') {
            if (*p == '\0' && depth > 0)
                return vary_fail(arg, "unbalanced parentheses");
            if (add_value(v, arg, start, (size_t)(p - start)) != 0)
                return -1;
            if (*p == '\0')
                return 0;
            start = p + 1;
        }
    }
}

/* Parses one --vary SECTION.KEY=V1,V2,... into s->vary[s->nvary]. */
static int add_vary(sweep *s, const char *arg)
{
    if (s->nvary == SWEEP_MAX_VARY)
        return vary_fail(arg, "too many --vary options");
    const char *eq = strchr(arg, '=');
    if (eq == NULL)
        return vary_fail(arg, "expected SECTION.KEY=V1,V2,... (e.g. class.adsl.up=1Mbit,2Mbit)");
    const char *k = arg;
    size_t kl = (size_t)(eq - arg);
    while (kl > 0 && *k == ' ')
        k++, kl--;
    while (kl > 0 && k[kl - 1] == ' ')
        kl--;
    sweep_vary *v = &s->vary[s->nvary];
    if (kl == 0 || kl >= sizeof(v->key))
        return vary_fail(arg, "expected SECTION.KEY=V1,V2,... (e.g. class.adsl.up=1Mbit,2Mbit)");
    memcpy(v->key, k, kl);
    v->key[kl] = '\0';
    char *sp = strchr(v->key, ' '); /* "class adsl.up" -> "class.adsl.up" */
    if (sp != NULL) {
        size_t run = strspn(sp, " ");
        *sp = '.';
        memmove(sp + 1, sp + run, strlen(sp + run) + 1);
    }
    if (strcmp(v->key, "swarm.seed") == 0)
        return vary_fail(arg, "the seed is not a parameter (use --seed and --replications)");
    for (size_t i = 0; i < s->nvary; i++)
        if (strcmp(s->vary[i].key, v->key) == 0)
            return vary_fail(arg, "this key is already varied");
    s->nvary++; /* counted now so that sweep_free frees a partial list */
    return split_values(v, arg, eq + 1);
}

static void sweep_free(sweep *s)
{
    for (size_t i = 0; i < s->nvary; i++) {
        for (size_t j = 0; j < s->vary[i].n; j++) {
            free(s->vary[i].values[j]);
            free(s->vary[i].sets[j]);
        }
    }
}

/* ---- options -------------------------------------------------------------------------- */

static int parse_count(const char *arg, const char *name, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(arg, &end, 10);
    if (*end != '\0' || end == arg || arg[0] == '-' || v < 1 || v > 100000) {
        fprintf(stderr, "swarmlab sweep: bad value '%s' for --%s (1..100000)\n", arg, name);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int parse_seed(sweep *s, const char *arg)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno != 0 || *end != '\0' || end == arg || arg[0] == '-') {
        fprintf(stderr, "swarmlab sweep: bad value '%s' for --seed\n", arg);
        return -1;
    }
    snprintf(s->seedset, sizeof(s->seedset), "swarm.seed=%llu", v);
    return 0;
}

/* Returns 0, 1 for --help, or -1 on a bad command line (after printing why). */
static int parse_opts(int argc, char **argv, sweep *s)
{
    static const struct option opts[] = {{"vary", 1, 0, 'v'},  {"replications", 1, 0, 'r'},
                                         {"jobs", 1, 0, 'j'},  {"output", 1, 0, 'o'},
                                         {"set", 1, 0, 1},     {"seed", 1, 0, 2},
                                         {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    int ch, rv = 0;
    optind = 1;
    while (rv == 0 && (ch = getopt_long(argc, argv, "o:qj:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'v':
            rv = add_vary(s, optarg);
            break;
        case 'r':
            rv = parse_count(optarg, "replications", &s->reps);
            break;
        case 'j':
            rv = parse_count(optarg, "jobs", &s->jobs);
            break;
        case 'o':
            s->outdir = optarg;
            break;
        case 1:
            if (s->nsets == SWEEP_MAX_SETS) {
                fprintf(stderr, "swarmlab sweep: more than %d --set options\n", SWEEP_MAX_SETS);
                rv = -1;
            } else {
                s->sets[s->nsets++] = optarg;
            }
            break;
        case 2:
            rv = parse_seed(s, optarg);
            break;
        case 'q':
            s->quiet = true;
            break;
        case 'h':
            sweep_usage(stdout);
            return 1;
        default:
            sweep_usage(stderr);
            return -1;
        }
    }
    if (rv != 0)
        return -1;
    if (optind + 1 != argc || s->nvary == 0) {
        fprintf(stderr, "swarmlab sweep: expected one scenario file and at least one --vary\n");
        sweep_usage(stderr);
        return -1;
    }
    s->scenario = argv[optind];
    if (s->seedset[0] != '\0')
        s->sets[s->nsets++] = s->seedset; /* after the others: --seed wins */
    return 0;
}

/* Points: the first --vary changes slowest. Fails if there are too many points or runs. */
static int count_points(sweep *s)
{
    size_t n = 1;
    for (size_t i = s->nvary; i-- > 0;) {
        s->vary[i].stride = n;
        if (n > SWEEP_MAX_POINTS / s->vary[i].n) {
            fprintf(stderr, "swarmlab sweep: more than %d points\n", SWEEP_MAX_POINTS);
            return -1;
        }
        n *= s->vary[i].n;
    }
    s->npoints = n;
    if (n * s->reps > SWEEP_MAX_RUNS) {
        fprintf(stderr, "swarmlab sweep: %zu points x %u replications is more than %d runs\n", n,
                s->reps, SWEEP_MAX_RUNS);
        return -1;
    }
    return 0;
}

/* ---- points ----------------------------------------------------------------------------- */

size_t sweep_value_index(const sweep *s, size_t p, size_t v)
{
    return (p / s->vary[v].stride) % s->vary[v].n;
}

/* The overrides of point |p| into |out| (SWEEP_MAX_SETS + 1 + SWEEP_MAX_VARY entries): the
 * plain --set ones, then the point's values. Returns how many. */
static size_t point_sets(const sweep *s, size_t p, const char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nsets; i++)
        out[n++] = s->sets[i];
    for (size_t v = 0; v < s->nvary; v++)
        out[n++] = s->vary[v].sets[sweep_value_index(s, p, v)];
    return n;
}

static int load_point(const sweep *s, size_t p, sim_scenario **sc, char *err, size_t errlen)
{
    const char *sets[SWEEP_MAX_SETS + 1 + SWEEP_MAX_VARY];
    size_t n = point_sets(s, p, sets);
    return sim_scenario_load(sc, s->scenario, sets, n, err, errlen);
}

/* Names the --vary and value a loader error |err| about point |p| is about, if it names one
 * of the point's overrides ("--set KEY=VALUE: ..."); else names the whole point. */
static void point_error(const sweep *s, size_t p, const char *err)
{
    for (size_t v = 0; strncmp(err, "--set ", 6) == 0 && v < s->nvary; v++) {
        size_t j = sweep_value_index(s, p, v);
        const char *set = s->vary[v].sets[j];
        size_t n = strlen(set) < 60 ? strlen(set) : 60; /* the loader shows at most 60 */
        if (strncmp(err + 6, set, n) != 0)
            continue;
        const char *why = strstr(err + 6 + n, ": ");
        fprintf(stderr, "swarmlab sweep: --vary %s: bad value '%s': %s\n", s->vary[v].key,
                s->vary[v].values[j], why != NULL ? why + 2 : err);
        return;
    }
    fprintf(stderr, "swarmlab sweep: point %zu (", p);
    for (size_t v = 0; v < s->nvary; v++)
        fprintf(stderr, "%s%s", v ? ", " : "", s->vary[v].sets[sweep_value_index(s, p, v)]);
    fprintf(stderr, "): %s\n", err);
}

/* Loads every point's scenario before anything runs. */
static int validate(const sweep *s)
{
    char err[1024];
    for (size_t p = 0; p < s->npoints; p++) {
        sim_scenario *sc = NULL;
        if (load_point(s, p, &sc, err, sizeof(err)) != 0) {
            point_error(s, p, err);
            return -1;
        }
        sim_scenario_free(sc);
    }
    return 0;
}

/* Creates DIR/points/P/ with the point's resolved scenario.ini. */
static int setup_point(const sweep *s, size_t p)
{
    char path[4400], err[1024];
    snprintf(path, sizeof(path), "%s/points/%zu", s->dir, p);
    if (cli_make_dirs(path) != 0) {
        fprintf(stderr, "swarmlab sweep: %s: %s\n", path, strerror(errno));
        return -1;
    }
    sim_scenario *sc = NULL;
    if (load_point(s, p, &sc, err, sizeof(err)) != 0) {
        fprintf(stderr, "swarmlab sweep: %s\n", err);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/points/%zu/scenario.ini", s->dir, p);
    FILE *f = fopen(path, "w");
    int rv = f != NULL && sim_scenario_write_resolved(sc, f) == 0 ? 0 : -1;
    if (f != NULL && fclose(f) != 0)
        rv = -1;
    if (rv != 0)
        fprintf(stderr, "swarmlab sweep: %s: cannot write\n", path);
    sim_scenario_free(sc);
    return rv;
}

/* ---- running ---------------------------------------------------------------------------- */

void sweep_rep_dir(const sweep *s, size_t p, uint32_t r, char *out, size_t len)
{
    snprintf(out, len, "%s/points/%zu/rep-%llu", s->dir, p, (unsigned long long)(s->seed + r));
}

/* Job i: point i / reps, replication i % reps. */
static int sweep_job(const void *ctx, size_t i)
{
    const sweep *s = ctx;
    size_t p = i / s->reps;
    uint32_t r = (uint32_t)(i % s->reps);
    const char *sets[SWEEP_MAX_SETS + 1 + SWEEP_MAX_VARY];
    sim_run_opts o = {s->scenario, sets, point_sets(s, p, sets), NULL, false, true};
    char dir[4400];
    sweep_rep_dir(s, p, r, dir, sizeof(dir));
    return sim_run_one(&o, s->seed + r, dir, SIM_RUN_SILENT);
}

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

static void show_progress(void *ctx, size_t done, size_t n)
{
    const sweep *s = ctx;
    fprintf(stderr, "\r  %zu/%zu points done  (%zu/%zu runs, %.1f s)   ", done / s->reps,
            s->npoints, done, n, since(&s->t0));
    fflush(stderr);
}

static void default_dir(sweep *s)
{
    if (s->outdir != NULL) {
        snprintf(s->dir, sizeof(s->dir), "%s", s->outdir);
        return;
    }
    char stem[1024];
    cli_scenario_stem(s->scenario, stem, sizeof(stem));
    snprintf(s->dir, sizeof(s->dir), "results/sweep-%s-%llu", stem, (unsigned long long)s->seed);
}

/* Loads the scenario with the plain --set overrides: checks them and finds the seed. */
static int load_base(sweep *s)
{
    char err[1024];
    sim_scenario *sc = NULL;
    if (sim_scenario_load(&sc, s->scenario, s->sets, s->nsets, err, sizeof(err)) != 0) {
        fprintf(stderr, "swarmlab sweep: %s\n", err);
        return -1;
    }
    s->seed = sc->swarm.seed;
    sim_scenario_free(sc);
    return 0;
}

static int run_sweep(sweep *s)
{
    if (cli_make_dirs(s->dir) != 0) {
        fprintf(stderr, "swarmlab sweep: %s: %s\n", s->dir, strerror(errno));
        return CLI_FAIL;
    }
    for (size_t p = 0; p < s->npoints; p++)
        if (setup_point(s, p) != 0)
            return CLI_FAIL;
    bool tty = !s->quiet && isatty(STDERR_FILENO);
    size_t nruns = s->npoints * s->reps;
    size_t failed = sim_jobs_run(nruns, s->jobs, sweep_job, s, tty ? show_progress : NULL, s);
    if (tty)
        fprintf(stderr, "\n");
    if (failed > 0) {
        fprintf(stderr, "swarmlab sweep: %zu of %zu runs failed\n", failed, nruns);
        return CLI_FAIL;
    }
    return sweep_write(s) == 0 ? CLI_OK : CLI_FAIL;
}

int cmd_sweep(int argc, char **argv)
{
    sweep *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        fprintf(stderr, "swarmlab sweep: out of memory\n");
        return CLI_FAIL;
    }
    s->reps = 1;
    s->jobs = 1;
    int pr = parse_opts(argc, argv, s);
    int rv = pr > 0 ? CLI_OK : CLI_USAGE;
    if (pr == 0)
        rv = count_points(s) == 0 && load_base(s) == 0 && validate(s) == 0 ? CLI_OK : CLI_FAIL;
    if (pr == 0 && rv == CLI_OK) {
        default_dir(s);
        clock_gettime(CLOCK_MONOTONIC, &s->t0);
        rv = run_sweep(s);
    }
    if (pr == 0 && rv == CLI_OK) {
        struct rusage self, kids;
        getrusage(RUSAGE_SELF, &self);
        getrusage(RUSAGE_CHILDREN, &kids);
        long peak = self.ru_maxrss > kids.ru_maxrss ? self.ru_maxrss : kids.ru_maxrss;
        printf("sweep: %zu points x %u replications in %.2f s wall, peak RSS %ld MiB\n"
               "results: %s/sweep.tsv, %s/sweep.json, %s/points/\n",
               s->npoints, s->reps, since(&s->t0), peak / 1024, s->dir, s->dir, s->dir);
    }
    sweep_free(s);
    free(s);
    return rv;
}
