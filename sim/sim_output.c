/* sim_output.c: result files of a simulation run: TSV tables a person can plot (peers,
 * time series, completion CDF, class matrix) and JSON summaries (jansson) a program can
 * read. Everything but run.json is a pure function of the world, so two runs of one seed
 * give byte-identical files. */
#include "sim_output.h"
#include "sim_fluid.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const leave_names[] = {"-", "graceful", "abort", "crash"};

void sim_sort_u64(uint64_t *v, uint64_t *tmp, size_t n)
{
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = v[j] < v[i] ? v[j++] : v[i++];
            while (i < mid)
                tmp[k++] = v[i++];
            while (j < hi)
                tmp[k++] = v[j++];
        }
        memcpy(v, tmp, n * sizeof(*v));
    }
}

static FILE *open_out(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        fprintf(stderr, "swarmlab sim: %s: %s\n", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path)
{
    if (ferror(f) | fclose(f)) {
        fprintf(stderr, "swarmlab sim: %s: write error\n", path);
        return -1;
    }
    return 0;
}

static double secs(bt_time_us t) { return t == BT_TIME_NEVER ? -1.0 : (double)t / 1e6; }

/* The peer's special behaviours, comma-separated ("-" for none): large-view, corrupt (every
 * block) or corrupt=RATE, slow-responder=SECONDS, lying-have=SHARE. */
static void put_behaviour(FILE *f, const sim_behaviour *b)
{
    int n = 0;
    if (b->large_view)
        fprintf(f, "%slarge-view", n++ ? "," : "");
    if (b->corrupt_rate >= 1)
        fprintf(f, "%scorrupt", n++ ? "," : "");
    else if (b->corrupt_rate > 0)
        fprintf(f, "%scorrupt=%g", n++ ? "," : "", b->corrupt_rate);
    if (b->response_delay_us > 0)
        fprintf(f, "%sslow-responder=%.3fs", n++ ? "," : "", (double)b->response_delay_us / 1e6);
    if (b->lie_have > 0)
        fprintf(f, "%slying-have=%g", n++ ? "," : "", b->lie_have);
    if (n == 0)
        fputc('-', f);
}

int sim_output_peers(const sim_world *w, const char *path)
{
    FILE *f = open_out(path);
    if (f == NULL)
        return -1;
    const sim_world_config *c = sim_world_config_get(w);
    fprintf(f, "# id\tclass\tisp\tup_Bps\tdown_Bps\tlatency_ms\tjoin_s\tcomplete_s\tleave_s\t"
               "leave\tdownload_s\tbytes_up\tbytes_down\thash_failures\tbehaviour\t"
               "announces\tmax_peers");
    for (uint32_t k = 0; k < c->nclasses; k++)
        fprintf(f, "\tup_to_%s\tdown_from_%s", c->classes[k].name, c->classes[k].name);
    fputs("\tbytes_up_leeching\n", f);
    for (uint32_t i = 0; i < sim_world_npeers(w); i++) {
        const sim_peer_result *p = sim_world_peer(w, i);
        double dl = p->completed != BT_TIME_NEVER && p->joined != BT_TIME_NEVER &&
                            !c->classes[p->cls].seed_role
                        ? (double)(p->completed - p->joined) / 1e6
                        : -1.0;
        fprintf(f, "%u\t%s\t%u\t%llu\t%llu\t%.3f\t%.6f\t%.6f\t%.6f\t%s\t%.6f\t%llu\t%llu\t%u", p->id,
                c->classes[p->cls].name, p->isp, (unsigned long long)p->up_Bps,
                (unsigned long long)p->down_Bps, (double)p->latency_us / 1e3, secs(p->joined),
                secs(p->completed), secs(p->left), leave_names[p->leave_kind & 3], dl,
                (unsigned long long)p->bytes_up, (unsigned long long)p->bytes_down,
                p->hash_failures);
        fputc('\t', f);
        put_behaviour(f, &p->beh);
        fprintf(f, "\t%u\t%u", p->announces, p->max_peers);
        for (uint32_t k = 0; k < c->nclasses; k++)
            fprintf(f, "\t%llu\t%llu", (unsigned long long)p->up_to_class[k],
                    (unsigned long long)p->down_from_class[k]);
        fprintf(f, "\t%llu\n", (unsigned long long)p->bytes_up_leeching);
    }
    return close_out(f, path);
}

int sim_output_timeseries(const sim_world *w, const char *path)
{
    FILE *f = open_out(path);
    if (f == NULL)
        return -1;
    fprintf(f, "# time_s\tleechers\tseeds\tpayload_Bps\tavail_min\tavail_mean\n");
    for (uint32_t i = 0; i < sim_world_nsamples(w); i++) {
        const sim_sample *s = sim_world_sample(w, i);
        fprintf(f, "%.3f\t%u\t%u\t%llu\t%u\t%.4f\n", (double)s->t / 1e6, s->leechers, s->seeds,
                (unsigned long long)s->up_Bps, s->avail_min, s->avail_mean);
    }
    return close_out(f, path);
}

int sim_output_completion(const sim_world *w, const char *path)
{
    const sim_world_config *c = sim_world_config_get(w);
    uint32_t n = sim_world_npeers(w);
    uint64_t *v = malloc((n ? n : 1) * sizeof(uint64_t)), *tmp = malloc((n ? n : 1) * 8);
    FILE *f = v && tmp ? open_out(path) : NULL;
    if (f == NULL) {
        free(v);
        free(tmp);
        return -1;
    }
    fprintf(f, "# download time CDF per leecher class: download_s, fraction of the class\n");
    bool first = true;
    for (uint32_t k = 0; k < c->nclasses; k++) {
        size_t m = 0, members = 0;
        for (uint32_t i = 0; i < n; i++) {
            const sim_peer_result *p = sim_world_peer(w, i);
            if (p->cls != k || p->joined == BT_TIME_NEVER || c->classes[k].seed_role)
                continue;
            members++;
            if (p->completed != BT_TIME_NEVER)
                v[m++] = p->completed - p->joined;
        }
        if (m == 0)
            continue;
        sim_sort_u64(v, tmp, m);
        fprintf(f, "%s# class %s\n", first ? "" : "\n\n", c->classes[k].name);
        first = false;
        for (size_t j = 0; j < m; j++)
            fprintf(f, "%.6f\t%.6f\n", (double)v[j] / 1e6, (double)(j + 1) / (double)members);
    }
    free(v);
    free(tmp);
    return close_out(f, path);
}

int sim_output_fluid(const sim_world *w, const sim_scenario *sc, const char *path)
{
    sim_fluid_params p;
    double x0, y0;
    bool given;
    if (sim_fluid_from_scenario(sc, &p, &x0, &y0, &given) != 0)
        return 0;
    uint32_t n = sim_world_nsamples(w);
    double *t = malloc((n ? n : 1) * 3 * sizeof(double));
    if (t == NULL) {
        fprintf(stderr, "swarmlab sim: out of memory writing %s\n", path);
        return -1;
    }
    double *x = t + n, *y = t + 2 * (size_t)n;
    for (uint32_t i = 0; i < n; i++)
        t[i] = (double)sim_world_sample(w, i)->t / 1e6;
    int rv = sim_fluid_solve(&p, x0, y0, t, n, x, y);
    if (rv != 0) {
        fprintf(stderr, "swarmlab sim: warning: fluid model not solved (%s); no %s\n",
                bt_strerror(rv), path);
        free(t);
        return 0;
    }
    FILE *f = open_out(path);
    if (f == NULL) {
        free(t);
        return -1;
    }
    fprintf(f, "# time_s\tleechers_fluid\tseeds_fluid\n");
    for (uint32_t i = 0; i < n; i++)
        fprintf(f, "%.3f\t%.6f\t%.6f\n", t[i], x[i], y[i]);
    free(t);
    return close_out(f, path);
}

/* A JSON number, or null when |v| is not finite (undefined or unbounded). */
static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* summary.json's "fluid": the model's parameters and steady state; NULL without a model. */
static json_t *fluid_json(const sim_scenario *sc)
{
    sim_fluid_params p;
    sim_fluid_steady st;
    double x0, y0;
    bool given;
    if (sc == NULL || sim_fluid_from_scenario(sc, &p, &x0, &y0, &given) != 0 ||
        sim_fluid_steady_state(&p, &st) != 0)
        return NULL;
    static const char *const regimes[] = {NULL, "download", "upload"};
    json_t *o = json_object(), *s = json_object();
    json_object_set_new(o, "model", json_string("Qiu-Srikant 2004"));
    json_object_set_new(o, "lambda", json_real(p.lambda));
    json_object_set_new(o, "tau_s", p.tau_s > 0 ? json_real(p.tau_s) : json_null());
    json_object_set_new(o, "burst", json_real(p.burst));
    json_object_set_new(o, "arrivals_start_s", json_real(p.start_s));
    json_object_set_new(o, "arrivals_stop_s", num(p.stop_s));
    json_object_set_new(o, "mu", json_real(p.mu));
    json_object_set_new(o, "c", json_real(p.c));
    json_object_set_new(o, "theta", json_real(p.theta));
    json_object_set_new(o, "gamma", num(p.gamma));
    json_object_set_new(o, "mean_linger_s", p.gamma > 0 ? json_real(1.0 / p.gamma) : json_null());
    json_object_set_new(o, "eta", json_real(p.eta));
    json_object_set_new(o, "eta_source", json_string(given ? "scenario" : "estimate"));
    json_object_set_new(o, "x0", json_real(x0));
    json_object_set_new(o, "y0", json_real(y0));
    const char *rg = regimes[st.regime];
    json_object_set_new(s, "regime", rg != NULL ? json_string(rg) : json_null());
    json_object_set_new(s, "beta", num(st.beta));
    json_object_set_new(s, "download_time_s", num(st.download_s));
    json_object_set_new(s, "leechers", num(st.leechers));
    json_object_set_new(s, "seeds", num(st.seeds));
    json_object_set_new(o, "steady", s);
    return o;
}

int sim_output_matrix(const sim_world *w, const char *path)
{
    const sim_world_config *c = sim_world_config_get(w);
    size_t nc = c->nclasses;
    sim_matrix_cell *m = malloc(nc * nc * sizeof(*m));
    FILE *f = m != NULL ? open_out(path) : NULL;
    if (f == NULL) {
        if (m == NULL)
            fprintf(stderr, "swarmlab sim: out of memory writing %s\n", path);
        free(m);
        return -1;
    }
    sim_world_matrix(w, m);
    fprintf(f, "# from_class\tto_class\tbytes\tregular_unchoke_s\toptimistic_unchoke_s\n");
    for (size_t a = 0; a < nc; a++) {
        for (size_t b = 0; b < nc; b++) {
            const sim_matrix_cell *x = &m[a * nc + b];
            fprintf(f, "%s\t%s\t%llu\t%.6f\t%.6f\n", c->classes[a].name, c->classes[b].name,
                    (unsigned long long)x->bytes, (double)x->regular_unchoke_us / 1e6,
                    (double)x->optimistic_unchoke_us / 1e6);
        }
    }
    free(m);
    return close_out(f, path);
}

double sim_jain_index(const double *x, size_t n)
{
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++) {
        sum += x[i];
        sq += x[i] * x[i];
    }
    return n > 0 && sq > 0 ? sum * sum / ((double)n * sq) : -1.0;
}

/* The |q| quantile (0..1) of sorted values, nearest rank. */
static double quantile(const uint64_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)v[k];
}

typedef struct class_acc {
    uint64_t count, completed, bytes_up, bytes_down;
    double up_capacity_bytes; /* up_Bps * time present */
    uint64_t *times;
    size_t ntimes;
    double *rate, *ratio; /* completed leechers: download rate; its ratio to the upload rate */
    size_t nrate, nratio;
} class_acc;

/* Fairness inputs of one completed leecher (download time |t| us): its download rate
 * file_size / t, and that over its upload rate while leeching, bytes_up_leeching / t, which
 * is file_size / bytes_up_leeching (only when it uploaded something). */
static void fairness_add(class_acc *a, const sim_peer_result *p, uint64_t file_size, bt_time_us t)
{
    a->rate[a->nrate++] = (double)file_size * 1e6 / (double)(t ? t : 1);
    if (p->bytes_up_leeching > 0)
        a->ratio[a->nratio++] = (double)file_size / (double)p->bytes_up_leeching;
}

static void accumulate(const sim_world *w, class_acc *acc, bt_time_us end)
{
    const sim_world_config *c = sim_world_config_get(w);
    for (uint32_t i = 0; i < sim_world_npeers(w); i++) {
        const sim_peer_result *p = sim_world_peer(w, i);
        class_acc *a = &acc[p->cls];
        if (p->joined == BT_TIME_NEVER)
            continue;
        a->count++;
        a->bytes_up += p->bytes_up;
        a->bytes_down += p->bytes_down;
        bt_time_us until = p->left != BT_TIME_NEVER ? p->left : end;
        a->up_capacity_bytes += (double)p->up_Bps * (double)(until - p->joined) / 1e6;
        if (p->completed != BT_TIME_NEVER && !c->classes[p->cls].seed_role) {
            a->completed++;
            a->times[a->ntimes++] = p->completed - p->joined;
            fairness_add(a, p, c->file_size, p->completed - p->joined);
            fairness_add(&acc[c->nclasses], p, c->file_size, p->completed - p->joined);
        }
    }
}

static json_t *jain_json(const double *x, size_t n)
{
    double j = sim_jain_index(x, n);
    return j >= 0 ? json_real(j) : json_null();
}

/* Jain's indices of one class (or, for the "fairness" object, of every completed leecher). */
static json_t *fairness_json(const class_acc *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "jain_download_rate", jain_json(a->rate, a->nrate));
    json_object_set_new(o, "jain_download_upload_ratio", jain_json(a->ratio, a->nratio));
    json_object_set_new(o, "rate_peers", json_integer((json_int_t)a->nrate));
    json_object_set_new(o, "ratio_peers", json_integer((json_int_t)a->nratio));
    return o;
}

static json_t *class_json(const class_acc *a, bool seed_role, uint64_t *tmp)
{
    sim_sort_u64(a->times, tmp, a->ntimes);
    double sum = 0;
    for (size_t k = 0; k < a->ntimes; k++)
        sum += (double)a->times[k];
    json_t *o = json_object();
    json_object_set_new(o, "role", json_string(seed_role ? "seed" : "leecher"));
    json_object_set_new(o, "peers", json_integer((json_int_t)a->count));
    json_object_set_new(o, "completed", json_integer((json_int_t)a->completed));
    json_t *t = json_object();
    json_object_set_new(t, "mean", json_real(a->ntimes ? sum / (double)a->ntimes / 1e6 : 0));
    json_object_set_new(t, "median", json_real(quantile(a->times, a->ntimes, 0.5) / 1e6));
    json_object_set_new(t, "p5", json_real(quantile(a->times, a->ntimes, 0.05) / 1e6));
    json_object_set_new(t, "p95", json_real(quantile(a->times, a->ntimes, 0.95) / 1e6));
    json_object_set_new(o, "download_time_s", t);
    json_object_set_new(o, "bytes_up", json_integer((json_int_t)a->bytes_up));
    json_object_set_new(o, "bytes_down", json_integer((json_int_t)a->bytes_down));
    json_object_set_new(o, "share_ratio",
                        json_real(a->bytes_down ? (double)a->bytes_up / (double)a->bytes_down : 0));
    json_object_set_new(o, "upload_utilisation",
                        json_real(a->up_capacity_bytes > 0
                                      ? (double)a->bytes_up / a->up_capacity_bytes
                                      : 0));
    json_object_set_new(o, "fairness", fairness_json(a));
    return o;
}

int sim_output_summary(const sim_world *w, const sim_run_info *ri, const char *path)
{
    const sim_world_config *c = sim_world_config_get(w);
    sim_world_stats st;
    sim_world_get_stats(w, &st);
    uint32_t n = sim_world_npeers(w);
    class_acc *acc = calloc(c->nclasses + 1, sizeof(*acc)); /* + 1: every class */
    uint64_t *tmp = malloc((n ? n : 1) * sizeof(uint64_t));
    int rv = acc != NULL && tmp != NULL ? 0 : -1;
    for (uint32_t k = 0; rv == 0 && k <= c->nclasses; k++) {
        acc[k].times = malloc((n ? n : 1) * sizeof(uint64_t));
        acc[k].rate = malloc((n ? n : 1) * sizeof(double));
        acc[k].ratio = malloc((n ? n : 1) * sizeof(double));
        if (acc[k].times == NULL || acc[k].rate == NULL || acc[k].ratio == NULL)
            rv = -1;
    }
    json_t *root = json_object(), *classes = json_object();
    if (rv == 0) {
        accumulate(w, acc, st.end_time);
        for (uint32_t k = 0; k < c->nclasses; k++)
            json_object_set_new(classes, c->classes[k].name,
                                class_json(&acc[k], c->classes[k].seed_role, tmp));
        json_object_set_new(root, "scenario", json_string(ri->scenario_path));
        json_object_set_new(root, "seed", json_integer((json_int_t)ri->seed));
        json_object_set_new(root, "simulated_seconds", json_real((double)st.end_time / 1e6));
        json_object_set_new(root, "events", json_integer((json_int_t)st.events));
        json_object_set_new(root, "network_chunks", json_integer((json_int_t)st.net_chunks));
        json_object_set_new(root, "announces", json_integer((json_int_t)st.announces));
        json_object_set_new(root, "peers", json_integer(n));
        json_object_set_new(root, "classes", classes);
        classes = NULL;
        json_t *fl = fluid_json(ri->scenario);
        if (fl != NULL)
            json_object_set_new(root, "fluid", fl);
        json_object_set_new(root, "fairness", fairness_json(&acc[c->nclasses]));
        if (json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
            fprintf(stderr, "swarmlab sim: %s: cannot write\n", path);
            rv = -1;
        }
    } else {
        fprintf(stderr, "swarmlab sim: out of memory writing %s\n", path);
    }
    json_decref(classes);
    json_decref(root);
    for (uint32_t k = 0; acc != NULL && k <= c->nclasses; k++) {
        free(acc[k].times);
        free(acc[k].rate);
        free(acc[k].ratio);
    }
    free(acc);
    free(tmp);
    return rv;
}

int sim_output_run(const sim_world *w, const sim_run_info *ri, const char *path)
{
    sim_world_stats st;
    sim_world_get_stats(w, &st);
    json_t *root = json_object();
    json_object_set_new(root, "wall_seconds", json_real(ri->wall_seconds));
    json_object_set_new(root, "events", json_integer((json_int_t)st.events));
    json_object_set_new(root, "events_per_second",
                        json_real(ri->wall_seconds > 0 ? (double)st.events / ri->wall_seconds : 0));
    json_object_set_new(root, "peak_rss_kib", json_integer(ri->peak_rss_kib));
    static const char *const names[16] = {NULL,     "join",    "timer",     "leave",
                                          "tracker", "reply",  "sample",    NULL,
                                          NULL,     "accept",  "connected", "deliver",
                                          "writable", "closed", NULL,       NULL};
    json_t *kinds = json_object();
    for (int k = 0; k < 16; k++)
        if (names[k] != NULL)
            json_object_set_new(kinds, names[k], json_integer((json_int_t)st.by_kind[k]));
    json_object_set_new(root, "events_by_kind", kinds);
    json_object_set_new(root, "network_chunks", json_integer((json_int_t)st.net_chunks));
    int rv = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    if (rv != 0)
        fprintf(stderr, "swarmlab sim: %s: cannot write\n", path);
    return rv == 0 ? 0 : -1;
}
