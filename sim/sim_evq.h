/* sim_evq.h: the simulator's event queue: a heap ordered by (time in integer
 * microseconds, insertion sequence), so equal-time events pop in the order they were pushed
 * and runs are deterministic. Never reads a clock. */
#ifndef SIM_EVQ_H
#define SIM_EVQ_H

#include "bt.h"

typedef struct sim_event {
    bt_time_us time;
    uint64_t seq;  /* assigned by sim_evq_push */
    uint32_t kind; /* the owner's event type */
    uint32_t a, b; /* the owner's operands (e.g. a peer index, a connection id) */
    uint64_t x;    /* the owner's payload (e.g. a generation counter) */
} sim_event;

typedef struct sim_evq {
    sim_event *heap;
    size_t n, cap;
    uint64_t next_seq;
} sim_evq;

/* An empty queue; allocates nothing. */
void sim_evq_init(sim_evq *q);
/* Frees the storage; |q| is then empty again (and reusable: its sequence restarts at 0). */
void sim_evq_free(sim_evq *q);
/* Pushes a copy of |ev| (its seq is overwritten). Returns 0 or BT_ERR_NOMEM. */
int sim_evq_push(sim_evq *q, const sim_event *ev);
/* Earliest event's time, BT_TIME_NEVER when empty. */
bt_time_us sim_evq_next_time(const sim_evq *q);
/* Pops the earliest event into *out; returns false when empty. */
bool sim_evq_pop(sim_evq *q, sim_event *out);
static inline size_t sim_evq_size(const sim_evq *q)
{
    return q->n;
}

#endif
