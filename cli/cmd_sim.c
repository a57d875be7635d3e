/* cli/cmd_sim.c: `swarmlab sim SCENARIO`: loads a scenario, runs the discrete-event simulator
 * and writes peers.tsv, timeseries.tsv, completion.tsv, matrix.tsv, summary.json, run.json
 * and scenario.ini into the output directory; shows a one-line progress display on a
 * terminal. */
#include "cli.h"
#include "sim_output.h"
#include "sim_run.h"
#include "sim_reps.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_SETS 256

static void sim_usage(FILE *out)
{
    fprintf(out,
            "usage: swarmlab sim SCENARIO.ini [options]\n\n"
            "Runs a swarm of real engine peers on the simulated network.\n\n"
            "  -o, --output DIR     results directory (default results/<scenario>-<seed>)\n"
            "      --set K=V        override a scenario key, e.g. --set class.adsl.up=2Mbit\n"
            "                       or --set arrivals.count=100 (repeatable)\n"
            "      --seed N         the run's seed (same as --set swarm.seed=N)\n"
            "      --real-bytes     carry real payload bytes and SHA-1 verify (small swarms)\n"
            "      --trace FILE     write the event trace (joins, completions, departures, bans)\n"
            "      --replications N run N seeds (seed, seed+1, ...) into DIR/rep-SEED/ and write\n"
            "                       DIR/replications.tsv: per-class means with 95%% CIs\n"
            "  -j, --jobs J         run up to J replications at once (same results as -j 1)\n"
            "  -q, --quiet          no progress display\n"
            "  -h, --help           this text\n\n"
            "Outputs: peers.tsv, timeseries.tsv, matrix.tsv (bytes and unchoke time by class\n"
            "pair), summary.json, run.json (wall time, events/s, peak memory: the only file\n"
            "that differs between runs of one seed), scenario.ini (the scenario as resolved),\n"
            "fluid.tsv (the Qiu-Srikant fluid model's leechers and seeds at the same times as\n"
            "timeseries.tsv; not for trace arrivals). Plot them with 'swarmlab plot DIR'.\n");
}

typedef struct sim_opts {
    sim_run_opts run; /* run.sets points at sets */
    const char *outdir;
    const char *sets[MAX_SETS + 1];
    size_t nsets;
    char seedset[64];
    uint32_t reps, jobs;
} sim_opts;

static int parse_opts(int argc, char **argv, sim_opts *o)
{
    static const struct option opts[] = {
        {"output", 1, 0, 'o'},     {"set", 1, 0, 1},   {"seed", 1, 0, 2},
        {"real-bytes", 0, 0, 3},   {"trace", 1, 0, 4}, {"quiet", 0, 0, 'q'},
        {"replications", 1, 0, 5}, {"jobs", 1, 0, 'j'}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:qj:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': o->outdir = optarg; break;
        case 1:
            if (o->nsets == MAX_SETS) {
                fprintf(stderr, "swarmlab sim: more than %d --set options\n", MAX_SETS);
                return -1;
            }
            o->sets[o->nsets++] = optarg;
            break;
        case 2: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || end == optarg) {
                fprintf(stderr, "swarmlab sim: bad value '%s' for --seed\n", optarg);
                return -1;
            }
            snprintf(o->seedset, sizeof(o->seedset), "swarm.seed=%llu", v);
            break;
        }
        case 3: o->run.real_bytes = true; break;
        case 5:
        case 'j': {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end != '\0' || end == optarg || v < 1 || v > 100000) {
                fprintf(stderr, "swarmlab sim: bad value '%s' for --%s\n", optarg,
                        ch == 'j' ? "jobs" : "replications");
                return -1;
            }
            if (ch == 'j')
                o->jobs = (uint32_t)v;
            else
                o->reps = (uint32_t)v;
            break;
        }
        case 4: o->run.trace = optarg; break;
        case 'q': o->run.quiet = true; break;
        case 'h': sim_usage(stdout); return 1;
        default: sim_usage(stderr); return -1;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "swarmlab sim: expected one scenario file\n");
        sim_usage(stderr);
        return -1;
    }
    o->run.scenario = argv[optind];
    if (o->seedset[0] != '\0')
        o->sets[o->nsets++] = o->seedset; /* after the others: --seed wins */
    o->run.sets = o->sets;
    o->run.nsets = o->nsets;
    return 0;
}

typedef struct progress_ctx {
    struct timespec t0;
    uint64_t total;
} progress_ctx;

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

static void show_progress(void *ctx, const sim_progress *p)
{
    progress_ctx *pc = ctx;
    double wall = since(&pc->t0);
    fprintf(stderr, "\r  t=%9.1fs  peers %u (%u leeching)  completed %u  %.2fM events  %.0f ev/s   ",
            (double)p->now / 1e6, p->present, p->leechers, p->completed, (double)p->events / 1e6,
            wall > 0 ? (double)p->events / wall : 0.0);
    fflush(stderr);
}

static int write_all(const sim_world *w, const sim_scenario *sc, const char *dir,
                     const sim_run_info *ri)
{
    char path[4352]; /* dir (< 4096) + a file name */
    int rv = 0;
    snprintf(path, sizeof(path), "%s/peers.tsv", dir);
    rv |= sim_output_peers(w, path);
    snprintf(path, sizeof(path), "%s/matrix.tsv", dir);
    rv |= sim_output_matrix(w, path);
    snprintf(path, sizeof(path), "%s/timeseries.tsv", dir);
    rv |= sim_output_timeseries(w, path);
    snprintf(path, sizeof(path), "%s/completion.tsv", dir);
    rv |= sim_output_completion(w, path);
    snprintf(path, sizeof(path), "%s/fluid.tsv", dir);
    rv |= sim_output_fluid(w, sc, path);
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    rv |= sim_output_summary(w, ri, path);
    snprintf(path, sizeof(path), "%s/run.json", dir);
    rv |= sim_output_run(w, ri, path);
    snprintf(path, sizeof(path), "%s/scenario.ini", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL || sim_scenario_write_resolved(sc, f) != 0) {
        fprintf(stderr, "swarmlab sim: %s: cannot write\n", path);
        rv = -1;
    }
    if (f != NULL)
        fclose(f);
    return rv;
}

static void print_summary(const sim_world *w, const char *dir)
{
    const sim_world_config *c = sim_world_config_get(w);
    sim_world_stats st;
    sim_world_get_stats(w, &st);
    printf("simulated %.1f s, %u peers, %llu events\n", (double)st.end_time / 1e6, st.peers,
           (unsigned long long)st.events);
    for (uint32_t k = 0; k < c->nclasses; k++) {
        uint32_t n = 0, done = 0;
        double sum = 0;
        for (uint32_t i = 0; i < sim_world_npeers(w); i++) {
            const sim_peer_result *p = sim_world_peer(w, i);
            if (p->cls != k || p->joined == BT_TIME_NEVER)
                continue;
            n++;
            if (!c->classes[k].seed_role && p->completed != BT_TIME_NEVER) {
                done++;
                sum += (double)(p->completed - p->joined) / 1e6;
            }
        }
        if (c->classes[k].seed_role)
            printf("  %-12s %5u seeds\n", c->classes[k].name, n);
        else
            printf("  %-12s %5u leechers, %u completed, mean download %.1f s\n",
                   c->classes[k].name, n, done, done ? sum / done : 0.0);
    }
    printf("results: %s/{peers,timeseries,completion,matrix}.tsv, summary.json, run.json, "
           "scenario.ini\n", dir);
}

static int run(const sim_run_opts *o, sim_scenario *sc, const char *dir, int verbosity)
{
    char err[1024];
    sim_world *w = NULL;
    if (sim_run_build(&w, sc, o->real_bytes, err, sizeof(err)) != 0) {
        fprintf(stderr, "swarmlab sim: %s\n", err);
        return CLI_FAIL;
    }
    FILE *tf = NULL;
    if (o->trace != NULL && (tf = fopen(o->trace, "w")) == NULL) {
        fprintf(stderr, "swarmlab sim: %s: %s\n", o->trace, strerror(errno));
        sim_world_del(w);
        return CLI_FAIL;
    }
    sim_world_set_trace(w, tf);
    progress_ctx pc;
    clock_gettime(CLOCK_MONOTONIC, &pc.t0);
    bool tty = !o->quiet && verbosity == SIM_RUN_FULL && isatty(STDERR_FILENO);
    int rv = sim_world_run(w, tty ? show_progress : NULL, &pc, 200000);
    double wall = since(&pc.t0);
    if (tty)
        fprintf(stderr, "\n");
    if (tf != NULL)
        fclose(tf);
    if (rv != 0) {
        fprintf(stderr, "swarmlab sim: simulation failed: %s\n", bt_strerror(rv));
        sim_world_del(w);
        return CLI_FAIL;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    sim_run_info ri = {o->scenario, sc->swarm.seed, wall, ru.ru_maxrss, sc};
    int wr = write_all(w, sc, dir, &ri);
    sim_world_stats st;
    sim_world_get_stats(w, &st);
    if (verbosity == SIM_RUN_BRIEF) {
        printf("  seed %llu: %.1f simulated s, %llu events, %.2f s wall -> %s\n",
               (unsigned long long)sc->swarm.seed, (double)st.end_time / 1e6,
               (unsigned long long)st.events, wall, dir);
    } else if (verbosity == SIM_RUN_FULL) {
        if (wr == 0)
            print_summary(w, dir);
        printf("wall %.2f s, %.0f events/s, peak RSS %ld MiB\n", wall,
               wall > 0 ? (double)st.events / wall : 0.0, ru.ru_maxrss / 1024);
    }
    sim_world_del(w);
    return wr == 0 ? CLI_OK : CLI_FAIL;
}

int sim_run_one(const sim_run_opts *o, uint64_t seed, const char *dir, int verbosity)
{
    char seedset[64], err[1024];
    snprintf(seedset, sizeof(seedset), "swarm.seed=%llu", (unsigned long long)seed);
    const char **sets = malloc((o->nsets + 1) * sizeof(*sets));
    if (sets == NULL) {
        fprintf(stderr, "swarmlab sim: out of memory\n");
        return CLI_FAIL;
    }
    if (o->nsets > 0)
        memcpy(sets, o->sets, o->nsets * sizeof(*sets));
    sets[o->nsets] = seedset; /* last, so it wins */
    sim_scenario *sc = NULL;
    int rv = CLI_FAIL;
    if (sim_scenario_load(&sc, o->scenario, sets, o->nsets + 1, err, sizeof(err)) != 0)
        fprintf(stderr, "swarmlab sim: %s\n", err);
    else if (cli_make_dirs(dir) != 0)
        fprintf(stderr, "swarmlab sim: %s: %s\n", dir, strerror(errno));
    else
        rv = run(o, sc, dir, verbosity);
    sim_scenario_free(sc);
    free(sets);
    return rv;
}

int cmd_sim(int argc, char **argv)
{
    sim_opts o;
    memset(&o, 0, sizeof(o));
    int pr = parse_opts(argc, argv, &o);
    if (pr != 0)
        return pr > 0 ? CLI_OK : CLI_USAGE;
    char err[1024];
    sim_scenario *sc = NULL;
    if (sim_scenario_load(&sc, o.run.scenario, o.sets, o.nsets, err, sizeof(err)) != 0) {
        fprintf(stderr, "swarmlab sim: %s\n", err);
        return CLI_FAIL;
    }
    char dir[4096];
    if (o.outdir != NULL) {
        snprintf(dir, sizeof(dir), "%s", o.outdir);
    } else {
        char stem[1024];
        cli_scenario_stem(o.run.scenario, stem, sizeof(stem));
        snprintf(dir, sizeof(dir), "results/%s-%llu", stem, (unsigned long long)sc->swarm.seed);
    }
    int rv = CLI_FAIL;
    uint64_t base = sc->swarm.seed;
    if (cli_make_dirs(dir) != 0)
        fprintf(stderr, "swarmlab sim: %s: %s\n", dir, strerror(errno));
    else if (o.reps > 1)
        rv = sim_reps_run(&o.run, dir, base, o.reps, o.jobs ? o.jobs : 1);
    else
        rv = run(&o.run, sc, dir, SIM_RUN_FULL);
    sim_scenario_free(sc);
    return rv;
}
