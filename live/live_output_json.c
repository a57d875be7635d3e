/* live_output_json.c: summary.json (per class: peers, completions, download time quantiles,
 * bytes, share ratio, Jain's fairness indices; as `swarmlab sim` writes them) and run.json (the
 * torrent, info-hash, port, wall-clock times) of a live run. */
#include "live_output_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double quantile(const double *v, size_t n, double q)
{
    return n == 0 ? 0 : v[(size_t)(q * (double)(n - 1) + 0.5)];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static json_t *jain(const double *x, size_t n)
{
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++) {
        sum += x[i];
        sq += x[i] * x[i];
    }
    return n > 0 && sq > 0 ? json_real(sum * sum / ((double)n * sq)) : json_null();
}

typedef struct acc {
    size_t peers, ntimes, nratio;
    uint64_t up, down;
    double *times, *rate, *ratio;
} acc;

/* One peer (or "self") into |a|: download time |dl| (< 0: none), bytes, bytes up leeching. */
static void add(acc *a, double total, double dl, uint64_t up, uint64_t down, uint64_t up_leech)
{
    a->peers++;
    a->up += up;
    a->down += down;
    if (dl < 0)
        return;
    a->rate[a->ntimes] = total / (dl > 0 ? dl : 1e-6);
    a->times[a->ntimes++] = dl;
    if (up_leech > 0)
        a->ratio[a->nratio++] = total / (double)up_leech;
}

static json_t *fairness(const acc *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "jain_download_rate", jain(a->rate, a->ntimes));
    json_object_set_new(o, "jain_download_upload_ratio", jain(a->ratio, a->nratio));
    json_object_set_new(o, "rate_peers", json_integer((json_int_t)a->ntimes));
    json_object_set_new(o, "ratio_peers", json_integer((json_int_t)a->nratio));
    return o;
}

static json_t *class_json(acc *a, bool seed_role)
{
    qsort(a->times, a->ntimes, sizeof(double), cmp_double);
    double sum = 0;
    for (size_t i = 0; i < a->ntimes; i++)
        sum += a->times[i];
    json_t *o = json_object(), *t = json_object();
    json_object_set_new(o, "role", json_string(seed_role ? "seed" : "leecher"));
    json_object_set_new(o, "peers", json_integer((json_int_t)a->peers));
    json_object_set_new(o, "completed", json_integer((json_int_t)a->ntimes));
    json_object_set_new(t, "mean", json_real(a->ntimes ? sum / (double)a->ntimes : 0));
    json_object_set_new(t, "median", json_real(quantile(a->times, a->ntimes, 0.5)));
    json_object_set_new(t, "p5", json_real(quantile(a->times, a->ntimes, 0.05)));
    json_object_set_new(t, "p95", json_real(quantile(a->times, a->ntimes, 0.95)));
    json_object_set_new(o, "download_time_s", t);
    json_object_set_new(o, "bytes_up", json_integer((json_int_t)a->up));
    json_object_set_new(o, "bytes_down", json_integer((json_int_t)a->down));
    json_object_set_new(o, "share_ratio", json_real(a->down ? (double)a->up / (double)a->down : 0));
    json_object_set_new(o, "upload_utilisation", json_null()); /* capacities are unknown */
    json_object_set_new(o, "fairness", fairness(a));
    return o;
}

/* Fills acc[0] (self), acc[1..] (classes) and acc[nclasses] (every completed leecher). */
static void accumulate(const live_out *o, const bt_client_stats *st, acc *accs)
{
    double total = (double)o->info.m->total_length;
    bt_time_us done =
        st->complete && st->completed_at != BT_TIME_NEVER ? st->completed_at : BT_TIME_NEVER;
    double dl = o->info.seed || done == BT_TIME_NEVER || st->pieces_verified == 0
                    ? -1.0
                    : (double)(done > o->t0 ? done - o->t0 : 0) / 1e6;
    add(&accs[0], total, dl, st->uploaded, st->downloaded, o->self_up_leeching);
    if (dl >= 0)
        add(&accs[o->nclasses], total, dl, 0, 0, o->self_up_leeching);
    for (size_t i = 0; i < o->npeers; i++) {
        const out_peer *p = &o->peers[i];
        double d = p->complete != BT_TIME_NEVER && !p->seed_at_join
                       ? (double)(p->complete - p->join) / 1e6
                       : -1.0;
        add(&accs[p->cls], total, d, p->down, p->up, p->down_leeching);
        if (d >= 0)
            add(&accs[o->nclasses], total, d, 0, 0, p->down_leeching);
    }
}

/* A class has the seed role when every one of its peers was a seed when first seen. */
static bool seed_role(const live_out *o, uint32_t k)
{
    if (k == 0)
        return o->info.seed;
    for (size_t i = 0; i < o->npeers; i++)
        if (o->peers[i].cls == k && !o->peers[i].seed_at_join)
            return false;
    return true;
}

static json_t *summary_json(const live_out *o, const bt_client_stats *st, bt_time_us now, acc *accs)
{
    char hex[41];
    for (int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02x", o->info.m->info_hash[i]);
    json_t *root = json_object(), *classes = json_object();
    accumulate(o, st, accs);
    for (uint32_t k = 0; k < o->nclasses; k++)
        json_object_set_new(classes, o->classes[k], class_json(&accs[k], seed_role(o, k)));
    json_object_set_new(root, "mode", json_string("live"));
    json_object_set_new(root, "scenario", json_string(o->info.torrent_path));
    json_object_set_new(root, "info_hash", json_string(hex));
    json_object_set_new(root, "seed", json_integer(0));
    json_object_set_new(root, "simulated_seconds", json_real((double)(now - o->t0) / 1e6));
    json_object_set_new(root, "peers", json_integer((json_int_t)(o->npeers + 1)));
    json_object_set_new(root, "peers_not_recorded", json_integer((json_int_t)o->dropped));
    json_object_set_new(root, "hash_failures", json_integer(st->hash_failures));
    json_object_set_new(root, "pieces_have", json_integer(st->pieces_have));
    json_object_set_new(root, "pieces", json_integer(o->info.m->npieces));
    json_object_set_new(root, "classes", classes);
    json_object_set_new(root, "fairness", fairness(&accs[o->nclasses]));
    return root;
}

int live_out_write_summary(const live_out *o, const bt_client_stats *st, bt_time_us now,
                           const char *path)
{
    size_t n = o->npeers + 1;
    acc accs[OUT_MAX_CLASSES + 1];
    memset(accs, 0, sizeof(accs));
    int rv = 0;
    for (uint32_t k = 0; k <= o->nclasses; k++) {
        accs[k].times = malloc(n * sizeof(double));
        accs[k].rate = malloc(n * sizeof(double));
        accs[k].ratio = malloc(n * sizeof(double));
        if (accs[k].times == NULL || accs[k].rate == NULL || accs[k].ratio == NULL)
            rv = -1;
    }
    if (rv == 0) {
        json_t *root = summary_json(o, st, now, accs);
        rv = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 ? 0 : -1;
        json_decref(root);
    }
    for (uint32_t k = 0; k <= o->nclasses; k++) {
        free(accs[k].times);
        free(accs[k].rate);
        free(accs[k].ratio);
    }
    return rv;
}

int live_out_write_run(const live_out *o, bt_time_us now, const char *path)
{
    char hex[41];
    for (int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02x", o->info.m->info_hash[i]);
    json_t *root = json_object();
    json_object_set_new(root, "mode", json_string("live"));
    json_object_set_new(root, "torrent", json_string(o->info.torrent_path));
    json_object_set_new(root, "name", json_string(o->info.m->name));
    json_object_set_new(root, "info_hash", json_string(hex));
    json_object_set_new(root, "total_bytes", json_integer((json_int_t)o->info.m->total_length));
    json_object_set_new(root, "role", json_string(o->info.seed ? "seed" : "download"));
    json_object_set_new(root, "port", json_integer(o->info.port));
    json_object_set_new(root, "start_unix", json_integer((json_int_t)o->info.start_unix));
    json_object_set_new(root, "wall_seconds", json_real((double)(now - o->t0) / 1e6));
    json_object_set_new(root, "samples", json_integer((json_int_t)o->nsamples));
    int rv = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    return rv == 0 ? 0 : -1;
}
