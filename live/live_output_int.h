/* live_output_int.h: the records behind live_output.h, shared by the recorder
 * (live_output.c) and the file writers (live_output_write.c). */
#ifndef LIVE_OUTPUT_INT_H
#define LIVE_OUTPUT_INT_H

#include "live_output.h"

#define OUT_MAX_CLASSES 32

typedef struct out_peer {
    uint8_t pid[20];
    bt_addr addr;
    uint8_t cls; /* index into live_out.classes */
    bool active, seed_at_join;
    bt_conn_id conn;                 /* while active */
    bt_time_us join, complete, left; /* relative to t0; BT_TIME_NEVER if not */
    uint64_t up, down;               /* payload bytes we sent it / it sent us */
    uint64_t down_leeching;          /* bytes it sent us while it was not a seed */
    uint64_t last_up, last_down;     /* the connection's totals at the last sample */
    uint64_t rate_up, rate_down;     /* bytes since |rate_t| */
    bt_time_us rate_t;               /* start of the current rate interval */
    uint64_t peak_from, peak_to;     /* highest rates seen from it / to it (bytes/s) */
} out_peer;

typedef struct out_sample {
    bt_time_us t;
    uint32_t leechers, seeds, avail_min, pieces, conns;
    double avail_mean;
    uint64_t down_Bps, up_Bps;
} out_sample;

struct live_out {
    char *dir;
    live_out_info info;
    bt_time_us t0;
    const char *classes[OUT_MAX_CLASSES]; /* [0] = "self" */
    uint32_t nclasses;
    out_peer *peers;
    size_t npeers, cap, dropped;
    uint32_t *active; /* indices of active rows */
    size_t nactive, active_cap;
    out_sample *samples;
    size_t nsamples, samples_cap;
    uint64_t peak_down, peak_up; /* our own highest rates */
    uint64_t self_up_leeching;   /* bytes we uploaded before we completed */
};

/* peers.tsv, timeseries.tsv, completion.tsv, summary.json, run.json (live_output_write.c). */
int live_out_write_peers(const live_out *o, const bt_client_stats *st, bt_time_us now,
                         const char *path);
int live_out_write_series(const live_out *o, const char *path);
int live_out_write_completion(const live_out *o, const bt_client_stats *st, const char *path);
int live_out_write_summary(const live_out *o, const bt_client_stats *st, bt_time_us now,
                           const char *path);
int live_out_write_run(const live_out *o, bt_time_us now, const char *path);

#endif
