/* sim_evq.c: the simulator's event queue, a 4-ary min-heap keyed by (time, seq) with hole
 * sifting (4-ary: half the depth of a binary heap, and siblings share cache lines); seq is a
 * per-queue counter, so ties pop in push order. A pop sifts the hole at the root down to a
 * leaf along the smallest children, then lets the last element rise from there (Floyd's
 * bottom-up variant: it comes from the bottom, so it rarely rises far). Never reads a clock. */
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

/* (time, seq) of |x| sorts before that of |y|: one 128-bit compare, no branch. */
static inline bool before(const sim_event *x, const sim_event *y)
{
    unsigned __int128 kx = (unsigned __int128)x->time << 64 | x->seq;
    unsigned __int128 ky = (unsigned __int128)y->time << 64 | y->seq;
    return kx < ky;
}

/* Moves |e| up from the hole at |i| to its place. */
static inline void sift_up(sim_event *heap, size_t i, const sim_event *e)
{
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (!before(e, &heap[parent]))
            break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = *e;
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
    sift_up(q->heap, q->n++, &e);
    return 0;
}

bt_time_us sim_evq_next_time(const sim_evq *q)
{
    return q->n ? q->heap[0].time : BT_TIME_NEVER;
}

/* Index of the smallest of the (up to 4) children starting at |first| of a heap of |n|. */
static inline size_t min_child(const sim_event *heap, size_t first, size_t n)
{
    if (first + 4 <= n) {
        size_t a = before(&heap[first + 1], &heap[first]) ? first + 1 : first;
        size_t b = before(&heap[first + 3], &heap[first + 2]) ? first + 3 : first + 2;
        return before(&heap[b], &heap[a]) ? b : a;
    }
    size_t c = first;
    for (size_t k = first + 1; k < n; k++)
        if (before(&heap[k], &heap[c]))
            c = k;
    return c;
}

bool sim_evq_pop(sim_evq *q, sim_event *out)
{
    if (q->n == 0)
        return false;
    sim_event *heap = q->heap;
    *out = heap[0];
    size_t n = --q->n, i = 0;
    if (n == 0)
        return true;
    for (;;) { /* the hole at i goes down to a leaf along the smallest children */
        size_t first = 4 * i + 1;
        if (first >= n)
            break;
        size_t c = min_child(heap, first, n);
        heap[i] = heap[c];
        i = c;
    }
    if (i != n) {
        sim_event last = heap[n];
        sift_up(heap, i, &last);
    }
    return true;
}
