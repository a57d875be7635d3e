/* bt_rate.c: rolling-window rate estimator with fixed-width buckets. */
#include "bt_rate.h"

#include <assert.h>
#include <string.h>

void bt_rate_init(bt_rate *r, bt_time_us bucket_us)
{
    assert(bucket_us > 0);
    memset(r, 0, sizeof(*r));
    r->bucket_us = bucket_us;
}

static void advance(bt_rate *r, uint64_t idx)
{
    if (idx <= r->head)
        return;
    uint64_t steps = idx - r->head;
    if (steps > BT_RATE_BUCKETS)
        steps = BT_RATE_BUCKETS;
    for (uint64_t i = 1; i <= steps; i++) {
        uint64_t *b = &r->bucket_bytes[(r->head + i) % BT_RATE_BUCKETS];
        r->window_sum -= *b;
        *b = 0;
    }
    r->head = idx;
}

void bt_rate_add(bt_rate *r, uint64_t bytes, bt_time_us now)
{
    uint64_t idx = now / r->bucket_us;
    if (!r->any) {
        r->any = true;
        r->started = now;
        r->head = idx;
        memset(r->bucket_bytes, 0, sizeof(r->bucket_bytes));
        r->window_sum = 0;
    }
    advance(r, idx);
    if (idx + BT_RATE_BUCKETS <= r->head)
        return; /* older than the window */
    r->bucket_bytes[(idx < r->head ? idx : r->head) % BT_RATE_BUCKETS] += bytes;
    r->window_sum += bytes;
    r->total += bytes;
}

uint64_t bt_rate_get(const bt_rate *r, bt_time_us now)
{
    if (!r->any)
        return 0;
    uint64_t idx = now / r->bucket_us;
    if (idx >= r->head + BT_RATE_BUCKETS)
        return 0;
    /* Buckets older than the window as of |now| (the head lags when nothing was added). */
    uint64_t sum = r->window_sum;
    uint64_t lag = idx > r->head ? idx - r->head : 0;
    for (uint64_t i = 0; i < lag && i < BT_RATE_BUCKETS; i++)
        sum -= r->bucket_bytes[(r->head + 1 + i) % BT_RATE_BUCKETS];
    /* Span covered: the full buckets before the current one plus the elapsed part of the
     * current one (or, for a young estimator, its age). */
    bt_time_us span = (bt_time_us)(BT_RATE_BUCKETS - 1) * r->bucket_us + now % r->bucket_us;
    bt_time_us young = now - r->started;
    if (young < span)
        span = young;
    if (span < r->bucket_us)
        span = r->bucket_us;
    return (uint64_t)((sum * (uint64_t)BT_US_PER_S) / span);
}
