/* sim_delayq.c: per-delay FIFOs with a heap over their heads (see sim_delayq.h). */
#include "sim_delayq.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void sim_delayq_init(sim_delayq *d) { memset(d, 0, sizeof(*d)); }

void sim_delayq_free(sim_delayq *d)
{
    for (uint32_t i = 0; i < d->nfifos; i++)
        free(d->fifos[i].ev);
    free(d->fifos);
    free(d->table);
    free(d->heads);
    memset(d, 0, sizeof(*d));
}

static uint32_t slot_of(bt_time_us delay, uint32_t cap)
{
    uint64_t h = delay * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 32) & (cap - 1);
}

static int table_grow(sim_delayq *d)
{
    uint32_t ncap = d->table_cap ? d->table_cap * 2 : 64;
    uint32_t *t = calloc(ncap, sizeof(*t));
    if (t == NULL)
        return BT_ERR_NOMEM;
    for (uint32_t i = 0; i < d->nfifos; i++) {
        uint32_t s = slot_of(d->fifos[i].delay, ncap);
        while (t[s] != 0)
            s = (s + 1) & (ncap - 1);
        t[s] = i + 1;
    }
    free(d->table);
    d->table = t;
    d->table_cap = ncap;
    return 0;
}

/* The FIFO for |delay|, created if needed; UINT32_MAX on allocation failure. */
static uint32_t fifo_for(sim_delayq *d, bt_time_us delay)
{
    if (d->table_cap == 0 || 2 * (d->nfifos + 1) > d->table_cap) {
        if (table_grow(d) != 0)
            return UINT32_MAX;
    }
    uint32_t s = slot_of(delay, d->table_cap);
    while (d->table[s] != 0) {
        if (d->fifos[d->table[s] - 1].delay == delay)
            return d->table[s] - 1;
        s = (s + 1) & (d->table_cap - 1);
    }
    if (d->nfifos == d->fifos_cap) {
        uint32_t ncap = d->fifos_cap ? d->fifos_cap * 2 : 16;
        sim_delay_fifo *f = realloc(d->fifos, ncap * sizeof(*f));
        uint32_t *h = realloc(d->heads, ncap * sizeof(*h));
        if (f != NULL)
            d->fifos = f;
        if (h != NULL)
            d->heads = h;
        if (f == NULL || h == NULL)
            return UINT32_MAX;
        d->fifos_cap = ncap;
    }
    uint32_t i = d->nfifos++;
    memset(&d->fifos[i], 0, sizeof(d->fifos[i]));
    d->fifos[i].delay = delay;
    d->table[s] = i + 1;
    return i;
}

static const sim_event *head_of(const sim_delayq *d, uint32_t fi)
{
    const sim_delay_fifo *f = &d->fifos[fi];
    return &f->ev[f->head];
}

static bool ev_before(const sim_event *x, const sim_event *y)
{
    return x->time < y->time || (x->time == y->time && x->seq < y->seq);
}

static bool before(const sim_delayq *d, uint32_t a, uint32_t b)
{
    return ev_before(head_of(d, a), head_of(d, b));
}

static void sift_up(sim_delayq *d, uint32_t i)
{
    uint32_t v = d->heads[i];
    while (i > 0 && before(d, v, d->heads[(i - 1) / 2])) {
        d->heads[i] = d->heads[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    d->heads[i] = v;
}

static void sift_down(sim_delayq *d, uint32_t i)
{
    uint32_t v = d->heads[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= d->nheads)
            break;
        if (c + 1 < d->nheads && before(d, d->heads[c + 1], d->heads[c]))
            c++;
        if (!before(d, d->heads[c], v))
            break;
        d->heads[i] = d->heads[c];
        i = c;
    }
    d->heads[i] = v;
}

int sim_delayq_push(sim_delayq *d, sim_evq *seqsrc, bt_time_us now, bt_time_us delay,
                    const sim_event *ev)
{
    uint32_t fi = fifo_for(d, delay);
    if (fi == UINT32_MAX)
        return BT_ERR_NOMEM;
    sim_delay_fifo *f = &d->fifos[fi];
    bt_time_us t = now + delay;
    if (f->n > 0 && f->ev[(f->head + f->n - 1) & (f->cap - 1)].time > t)
        return BT_ERR_STATE;
    if (f->n == f->cap) {
        uint32_t ncap = f->cap ? f->cap * 2 : 16;
        sim_event *e = malloc(ncap * sizeof(*e));
        if (e == NULL)
            return BT_ERR_NOMEM;
        for (uint32_t k = 0; k < f->n; k++)
            e[k] = f->ev[(f->head + k) & (f->cap - 1)];
        free(f->ev);
        f->ev = e;
        f->cap = ncap;
        f->head = 0;
    }
    sim_event *slot = &f->ev[(f->head + f->n) & (f->cap - 1)]; /* cap: a power of two */
    *slot = *ev;
    slot->time = t;
    slot->seq = seqsrc->next_seq++;
    if (f->n++ == 0) {
        d->heads[d->nheads] = fi;
        sift_up(d, d->nheads++);
    }
    return 0;
}

const sim_event *sim_delayq_peek(const sim_delayq *d)
{
    return d->nheads ? head_of(d, d->heads[0]) : NULL;
}

const sim_event *sim_delayq_peek_second(const sim_delayq *d)
{
    if (d->nheads == 0)
        return NULL;
    /* the root FIFO's second event, or the head of one of the root's children */
    const sim_delay_fifo *f = &d->fifos[d->heads[0]];
    const sim_event *best = f->n > 1 ? &f->ev[(f->head + 1) & (f->cap - 1)] : NULL;
    for (uint32_t c = 1; c <= 2 && c < d->nheads; c++) {
        const sim_event *h = head_of(d, d->heads[c]);
        if (best == NULL || ev_before(h, best))
            best = h;
    }
    return best;
}

void sim_delayq_pop(sim_delayq *d, sim_event *out)
{
    assert(d->nheads > 0);
    uint32_t fi = d->heads[0];
    sim_delay_fifo *f = &d->fifos[fi];
    *out = f->ev[f->head];
    f->head = (f->head + 1) & (f->cap - 1);
    if (--f->n == 0) {
        d->heads[0] = d->heads[--d->nheads];
        if (d->nheads > 0)
            sift_down(d, 0);
        f->head = 0;
    } else {
        sift_down(d, 0);
    }
}
