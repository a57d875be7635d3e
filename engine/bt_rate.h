/* bt_rate.h: a rolling-window byte-rate estimator (fixed buckets over a window, e.g. 20 x 1 s),
 * fed with explicit times. Engine-private; no clock reads. */
#ifndef BT_RATE_H
#define BT_RATE_H

#include "bt_types.h"

#define BT_RATE_BUCKETS 20

typedef struct bt_rate {
    uint64_t bucket_bytes[BT_RATE_BUCKETS];
    bt_time_us bucket_us;   /* width of one bucket */
    uint64_t head;          /* absolute index of the newest bucket */
    bt_time_us started;     /* time of the first sample (to avoid underestimating young flows) */
    uint64_t total;         /* bytes ever added */
    uint64_t window_sum;    /* sum of bucket_bytes (all buckets are within the window) */
    bool any;
} bt_rate;

/* Window = BT_RATE_BUCKETS * bucket_us. */
void bt_rate_init(bt_rate *r, bt_time_us bucket_us);
void bt_rate_add(bt_rate *r, uint64_t bytes, bt_time_us now);
/* Bytes per second over the window ending at |now| (or since the first sample, if younger). */
uint64_t bt_rate_get(const bt_rate *r, bt_time_us now);

#endif
