/* sim_evq.c: the simulator's event queue, a 4-ary min-heap keyed by (time, seq) with hole
 * sifting (4-ary: half the depth of a binary heap, and siblings share cache lines); seq is a
 * per-queue counter, so ties pop in push order. Never reads a clock. */
#include "sim_evq.h"

#include <stdlib.h>

void sim_evq_init(sim_evq *q)
{
    q->heap = NULL;
    q->n = 0;
    q->cap = 0;
    q->next_seq = 0;
}

void sim_evq_free(sim_evq *q)
{
    free(q->heap);
    sim_evq_init(q);
}

static inline bool before(const sim_event *x, const sim_event *y)
{
    return x->time < y->time || (x->time == y->time && x->seq < y->seq);
}

int sim_evq_push(sim_evq *q, const sim_event *ev)
{
    if (q->n == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 64;
        if (ncap > SIZE_MAX / sizeof(sim_event))
            return BT_ERR_NOMEM;
        sim_event *nh = realloc(q->heap, ncap * sizeof(*nh));
        if (nh == NULL)
            return BT_ERR_NOMEM;
        q->heap = nh;
        q->cap = ncap;
    }
    sim_event e = *ev;
    e.seq = q->next_seq++;
    size_t i = q->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (!before(&e, &q->heap[parent]))
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = e;
    return 0;
}

bt_time_us sim_evq_next_time(const sim_evq *q)
{
    return q->n ? q->heap[0].time : BT_TIME_NEVER;
}

bool sim_evq_pop(sim_evq *q, sim_event *out)
{
    if (q->n == 0)
        return false;
    *out = q->heap[0];
    sim_event last = q->heap[--q->n];
    size_t n = q->n, i = 0;
    for (;;) {
        size_t first = 4 * i + 1, c = first;
        if (first >= n)
            break;
        size_t end = first + 4 < n ? first + 4 : n;
        for (size_t k = first + 1; k < end; k++) {
            if (before(&q->heap[k], &q->heap[c]))
                c = k;
        }
        if (!before(&q->heap[c], &last))
            break;
        q->heap[i] = q->heap[c];
        i = c;
    }
    if (n > 0)
        q->heap[i] = last;
    return true;
}
