/* live_output.h: the result files of a live run (`swarmlab live --results DIR`), in the schema
 * of `swarmlab sim` (peers.tsv, timeseries.tsv, completion.tsv, summary.json, run.json) so that
 * `swarmlab plot DIR` reports on live runs. Records what one client sees of its swarm. */
#ifndef LIVE_OUTPUT_H
#define LIVE_OUTPUT_H

#include "bt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIVE_OUT_MAX_PEERS 100000   /* peers.tsv rows at most; later peers are only counted */
#define LIVE_OUT_MAX_SAMPLES 500000 /* timeseries.tsv rows at most; later samples are dropped */

/* The client name of a BEP 20 peer id, a plot-safe class name ([a-z0-9]): "transmission",
 * "libtorrent", "rtorrent", "qbittorrent", "aria2", "swarmlab", ... or "peer" if unknown. */
const char *live_peer_class(const uint8_t peer_id[20]);

typedef struct live_out_info {
    const char *torrent_path;
    const bt_metainfo *m;
    bool seed;           /* `live seed`: our own row has the seed role */
    uint16_t port;       /* the port we listen on */
    uint64_t start_unix; /* wall-clock start, seconds (run.json only) */
} live_out_info;

typedef struct live_out live_out;

/* Creates the recorder writing into |dir| (created, with its parents, if missing). |t0| is the
 * run's start (live_now). Returns 0, or -1 after a message on stderr. */
int live_out_new(live_out **out, const char *dir, const live_out_info *info, bt_time_us t0);
void live_out_del(live_out *o); /* NULL: no-op */

/* Reads every connection in |ids| (bt_conn_get_info): adds or updates its peer's row (rows are
 * keyed by peer id, so a reconnecting peer keeps its row); connections missing from |ids| are
 * marked as left at |now|. */
void live_out_sample(live_out *o, const bt_client *c, const bt_conn_id *ids, size_t n,
                     bt_time_us now);
/* Connection |id| closed at |now|. */
void live_out_closed(live_out *o, const bt_action *close, bt_time_us now);
/* Appends one timeseries row (call after live_out_sample) with our rates in bytes/s. */
void live_out_tick(live_out *o, const bt_client *c, uint64_t down_Bps, uint64_t up_Bps,
                   bt_time_us now);
/* Writes every file (each to a temporary name, then renamed). 0, or -1 after a message. */
int live_out_write(live_out *o, const bt_client *c, bt_time_us now);

#endif
