/* live_output_write.c: writes a live run's records in `swarmlab sim`'s schema: peers.tsv (our
 * own row "self", then one per remote peer; its class is its client), timeseries.tsv (with our
 * rates, pieces and connections appended), completion.tsv, summary.json and run.json. */
#include "live_output_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double secs(bt_time_us t)
{
    return t == BT_TIME_NEVER ? -1.0 : (double)t / 1e6;
}

static int close_out(FILE *f)
{
    int bad = ferror(f);
    return (fclose(f) != 0 || bad) ? -1 : 0;
}

/* Our own completion time relative to t0, BT_TIME_NEVER if none in this run. */
static bt_time_us self_complete(const live_out *o, const bt_client_stats *st)
{
    if (!st->complete || st->completed_at == BT_TIME_NEVER)
        return BT_TIME_NEVER;
    return st->completed_at > o->t0 ? st->completed_at - o->t0 : 0;
}

/* Our download time in this run (s), or -1 (seeding, or not complete). */
static double self_download_s(const live_out *o, const bt_client_stats *st)
{
    bt_time_us t = self_complete(o, st);
    return o->info.seed || t == BT_TIME_NEVER || st->pieces_verified == 0 ? -1.0 : secs(t);
}

static void self_row(FILE *f, const live_out *o, const bt_client_stats *st)
{
    fprintf(f,
            "0\tself\t0\t%llu\t%llu\t0.000\t0.000000\t%.6f\t-1.000000\t-\t%.6f\t%llu\t%llu\t%u"
            "\t-\t0\t0",
            (unsigned long long)o->peak_up, (unsigned long long)o->peak_down,
            secs(self_complete(o, st)), self_download_s(o, st), (unsigned long long)st->uploaded,
            (unsigned long long)st->downloaded, st->hash_failures);
    fputs("\t0\t0", f); /* to and from ourselves */
    for (uint32_t k = 1; k < o->nclasses; k++) {
        uint64_t up = 0, down = 0;
        for (size_t i = 0; i < o->npeers; i++)
            if (o->peers[i].cls == k) {
                up += o->peers[i].up;
                down += o->peers[i].down;
            }
        fprintf(f, "\t%llu\t%llu", (unsigned long long)up, (unsigned long long)down);
    }
    fprintf(f, "\t%llu\t-\t-\n", (unsigned long long)o->self_up_leeching);
}

/* The printable part of a peer id's first 8 bytes (non-printables as '.'). */
static void pid_prefix(const uint8_t *pid, char out[9])
{
    for (int i = 0; i < 8; i++)
        out[i] = pid[i] > ' ' && pid[i] < 127 ? (char)pid[i] : '.';
    out[8] = '\0';
}

static void peer_row(FILE *f, const live_out *o, size_t i)
{
    const out_peer *p = &o->peers[i];
    char addr[64], pre[9];
    bool done = p->complete != BT_TIME_NEVER && !p->seed_at_join;
    fprintf(f, "%zu\t%s\t0\t%llu\t%llu\t0.000\t%.6f\t%.6f\t%.6f\t%s\t%.6f\t%llu\t%llu\t0\t-\t0\t0",
            i + 1, o->classes[p->cls], (unsigned long long)p->peak_from,
            (unsigned long long)p->peak_to, secs(p->join), secs(p->complete), secs(p->left),
            p->left == BT_TIME_NEVER ? "-" : "closed",
            done ? (double)(p->complete - p->join) / 1e6 : -1.0, (unsigned long long)p->down,
            (unsigned long long)p->up);
    /* what it sent us went to "self"; it got nothing from the peers we cannot see */
    fprintf(f, "\t%llu\t%llu", (unsigned long long)p->down, (unsigned long long)p->up);
    for (uint32_t k = 1; k < o->nclasses; k++)
        fputs("\t0\t0", f);
    pid_prefix(p->pid, pre);
    fprintf(f, "\t%llu\t%s\t%s\n", (unsigned long long)p->down_leeching,
            bt_addr_format(&p->addr, addr, sizeof(addr)), pre);
}

int live_out_write_peers(const live_out *o, const bt_client_stats *st, bt_time_us now,
                         const char *path)
{
    (void)now;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    /* the columns of sim's peers.tsv; up_Bps / down_Bps are the highest rates seen from / to
     * the peer (for "self": our own), as live mode cannot know a peer's capacity */
    fprintf(f, "# id\tclass\tisp\tup_Bps\tdown_Bps\tlatency_ms\tjoin_s\tcomplete_s\tleave_s\t"
               "leave\tdownload_s\tbytes_up\tbytes_down\thash_failures\tbehaviour\t"
               "announces\tmax_peers");
    for (uint32_t k = 0; k < o->nclasses; k++)
        fprintf(f, "\tup_to_%s\tdown_from_%s", o->classes[k], o->classes[k]);
    fputs("\tbytes_up_leeching\taddress\tpeer_id\n", f);
    self_row(f, o, st);
    for (size_t i = 0; i < o->npeers; i++)
        peer_row(f, o, i);
    return close_out(f);
}

int live_out_write_series(const live_out *o, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    /* payload_Bps: our download + upload rate; avail_min: a lower bound (see live_output.c) */
    fputs("# time_s\tleechers\tseeds\tpayload_Bps\tavail_min\tavail_mean\tdown_Bps\tup_Bps\t"
          "pieces\tconns\n",
          f);
    for (size_t i = 0; i < o->nsamples; i++) {
        const out_sample *s = &o->samples[i];
        fprintf(f, "%.3f\t%u\t%u\t%llu\t%u\t%.4f\t%llu\t%llu\t%u\t%u\n", (double)s->t / 1e6,
                s->leechers, s->seeds, (unsigned long long)(s->down_Bps + s->up_Bps), s->avail_min,
                s->avail_mean, (unsigned long long)s->down_Bps, (unsigned long long)s->up_Bps,
                s->pieces, s->conns);
    }
    return close_out(f);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The download times (s) of class |k|'s completed leechers, sorted, into |v|; the count. */
static size_t class_times(const live_out *o, const bt_client_stats *st, uint32_t k, double *v)
{
    size_t m = 0;
    if (k == 0) {
        double d = self_download_s(o, st);
        if (d >= 0)
            v[m++] = d;
    } else {
        for (size_t i = 0; i < o->npeers; i++) {
            const out_peer *p = &o->peers[i];
            if (p->cls == k && !p->seed_at_join && p->complete != BT_TIME_NEVER)
                v[m++] = (double)(p->complete - p->join) / 1e6;
        }
    }
    qsort(v, m, sizeof(double), cmp_double);
    return m;
}

/* Leechers of class |k| (peers not seeding when first seen; "self" unless seeding). */
static size_t class_leechers(const live_out *o, uint32_t k)
{
    if (k == 0)
        return o->info.seed ? 0 : 1;
    size_t n = 0;
    for (size_t i = 0; i < o->npeers; i++)
        n += o->peers[i].cls == k && !o->peers[i].seed_at_join;
    return n;
}

int live_out_write_completion(const live_out *o, const bt_client_stats *st, const char *path)
{
    double *v = malloc((o->npeers + 1) * sizeof(double));
    FILE *f = v != NULL ? fopen(path, "w") : NULL;
    if (f == NULL) {
        free(v);
        return -1;
    }
    fprintf(f, "# download time CDF per leecher class: download_s, fraction of the class\n");
    bool first = true;
    for (uint32_t k = 0; k < o->nclasses; k++) {
        size_t m = class_times(o, st, k, v), members = class_leechers(o, k);
        if (m == 0 || members == 0)
            continue;
        fprintf(f, "%s# class %s\n", first ? "" : "\n\n", o->classes[k]);
        first = false;
        for (size_t j = 0; j < m; j++)
            fprintf(f, "%.6f\t%.6f\n", v[j], (double)(j + 1) / (double)members);
    }
    free(v);
    return close_out(f);
}
