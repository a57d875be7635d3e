/* sim_delayq.h: an event queue for events scheduled a fixed delay after "now" (propagation
 * delays): one FIFO per distinct delay (pushes at a non-decreasing now keep each FIFO sorted),
 * and a small heap over the FIFO heads. Pops cost O(log #delays) instead of O(log #events).
 * Shares the sequence counter of a sim_evq, so merged with it the (time, seq) order is exact.
 * Deterministic: the delay -> FIFO table is only ever looked up, never iterated. */
#ifndef SIM_DELAYQ_H
#define SIM_DELAYQ_H

#include "sim_evq.h"

typedef struct sim_delay_fifo {
    bt_time_us delay;
    sim_event *ev; /* ring */
    uint32_t head, n, cap;
} sim_delay_fifo;

typedef struct sim_delayq {
    sim_delay_fifo *fifos;
    uint32_t nfifos, fifos_cap;
    uint32_t *table;   /* open addressing: delay -> fifo index + 1 (0 = empty) */
    uint32_t table_cap; /* power of two */
    uint32_t *heads;   /* min-heap of non-empty fifo indices by their head's (time, seq) */
    uint32_t nheads;
} sim_delayq;

void sim_delayq_init(sim_delayq *d);
void sim_delayq_free(sim_delayq *d);
/* Pushes |ev| at |now| + |delay|, taking its seq from |seqsrc|. Returns 0, BT_ERR_NOMEM, or
 * BT_ERR_STATE when the event would be earlier than the FIFO's tail (the caller then uses its
 * general heap instead). */
int sim_delayq_push(sim_delayq *d, sim_evq *seqsrc, bt_time_us now, bt_time_us delay,
                    const sim_event *ev);
/* The earliest event, or NULL. */
const sim_event *sim_delayq_peek(const sim_delayq *d);
void sim_delayq_pop(sim_delayq *d, sim_event *out);
/* The event after the earliest one, or NULL (a look ahead for cache hints). */
const sim_event *sim_delayq_peek_second(const sim_delayq *d);

#endif
