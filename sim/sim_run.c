/* sim_run.c: from a scenario to a world ready to run: the network's ISPs, initial seeds,
 * leecher arrivals and every peer's parameters, each drawn from its own named stream. */
#include "sim_run.h"
#include "sim_rng.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct builder {
    const sim_scenario *sc;
    sim_world *w;
    uint32_t *isp_ids;     /* scenario ISP index -> network ISP id */
    gsl_rng **class_rng;   /* one per class */
    gsl_rng **beh_rng;     /* one per class: per-peer behaviour draws (response_delay) */
    gsl_rng *arrivals, *choice, *churn;
    uint64_t *remaining;   /* exact mode: leechers still to place per class */
    bool exact;            /* a finite number of arrivals: exact class counts */
} builder;

static void free_builder(builder *b)
{
    for (uint32_t k = 0; b->class_rng != NULL && k < b->sc->nclasses; k++)
        if (b->class_rng[k] != NULL)
            gsl_rng_free(b->class_rng[k]);
    for (uint32_t k = 0; b->beh_rng != NULL && k < b->sc->nclasses; k++)
        if (b->beh_rng[k] != NULL)
            gsl_rng_free(b->beh_rng[k]);
    free(b->beh_rng);
    gsl_rng *rs[] = {b->arrivals, b->choice, b->churn};
    for (size_t k = 0; k < 3; k++)
        if (rs[k] != NULL)
            gsl_rng_free(rs[k]);
    free(b->class_rng);
    free(b->isp_ids);
    free(b->remaining);
}

static int make_world(builder *b, bool real_bytes)
{
    const sim_scenario *sc = b->sc;
    sim_world_config c;
    memset(&c, 0, sizeof(c));
    c.seed = sc->swarm.seed;
    c.file_size = sc->swarm.file_size;
    c.piece_size = sc->swarm.piece_size;
    c.real_bytes = real_bytes || sc->swarm.payload == SIM_PAYLOAD_REAL;
    c.duration = sc->swarm.duration_us;
    c.numwant = sc->tracker.numwant;
    c.announce_interval = sc->tracker.interval_us;
    c.min_interval = sc->tracker.min_interval_us;
    c.isp_biased = sc->tracker.policy == SIM_TRACKER_ISP_BIASED;
    c.local_fraction = sc->tracker.local_fraction;
    c.sample_interval = sc->swarm.sample_interval_us;
    c.stop_when_done = sc->swarm.stop_when_done;
    sim_net_config_defaults(&c.net);
    /* A 16 KiB block with its 13-byte header and a few control messages fits in one chunk. */
    c.net.chunk_bytes = 16384 + 512;
    c.nclasses = sc->nclasses;
    for (uint32_t k = 0; k < sc->nclasses; k++) {
        const sim_class *cl = &sc->classes[k];
        snprintf(c.classes[k].name, sizeof(c.classes[k].name), "%s", cl->name);
        c.classes[k].seed_role = cl->role == SIM_ROLE_SEED;
        c.classes[k].choker = cl->choker_ops;
        snprintf(c.classes[k].picker, sizeof(c.classes[k].picker), "%s", cl->picker);
        c.classes[k].upload_limit = cl->upload_limit_Bps;
    }
    return sim_world_new(&b->w, &c);
}

static int make_streams(builder *b)
{
    const sim_scenario *sc = b->sc;
    uint64_t seed = sc->swarm.seed;
    b->class_rng = calloc(sc->nclasses, sizeof(*b->class_rng));
    b->beh_rng = calloc(sc->nclasses, sizeof(*b->beh_rng));
    b->isp_ids = calloc(sc->nisps ? sc->nisps : 1, sizeof(*b->isp_ids));
    b->remaining = calloc(sc->nclasses, sizeof(*b->remaining));
    if (b->class_rng == NULL || b->beh_rng == NULL || b->isp_ids == NULL ||
        b->remaining == NULL)
        return BT_ERR_NOMEM;
    for (uint32_t k = 0; k < sc->nclasses; k++) {
        char name[96];
        snprintf(name, sizeof(name), "class:%s", sc->classes[k].name);
        if ((b->class_rng[k] = sim_rng_new(seed, name, 0)) == NULL)
            return BT_ERR_NOMEM;
        snprintf(name, sizeof(name), "behaviour:%s", sc->classes[k].name);
        if ((b->beh_rng[k] = sim_rng_new(seed, name, 0)) == NULL)
            return BT_ERR_NOMEM;
    }
    b->arrivals = sim_rng_new(seed, "arrivals", 0);
    b->choice = sim_rng_new(seed, "class-choice", 0);
    b->churn = sim_rng_new(seed, "churn", 0);
    return b->arrivals && b->choice && b->churn ? 0 : BT_ERR_NOMEM;
}

static bool bernoulli(gsl_rng *r, double p) { return p > 0 && gsl_rng_uniform(r) < p; }

/* The class's special behaviours; draws come from the class's own "behaviour:" stream, so
 * they leave the capacity and churn draws of every run unchanged. */
static void set_behaviour(builder *b, uint32_t k, sim_peer_params *p)
{
    const sim_class *cl = &b->sc->classes[k];
    if (p->corrupt && cl->corrupt_rate < 1) { /* a corrupter that corrupts some blocks */
        p->corrupt = false;
        p->beh.corrupt_rate = cl->corrupt_rate;
    }
    p->beh.large_view = cl->view == SIM_VIEW_LARGE;
    p->beh.response_delay_us = sim_dist_sample(&cl->response_delay, b->beh_rng[k]);
    p->beh.lie_have = cl->lying_have;
}

/* Draws one peer of class |k| joining at |at| and schedules it. */
static int add_peer(builder *b, uint32_t k, bt_time_us at)
{
    const sim_class *cl = &b->sc->classes[k];
    gsl_rng *r = b->class_rng[k];
    sim_peer_params p;
    memset(&p, 0, sizeof(p));
    p.cls = k;
    p.isp = cl->isp >= 0 ? b->isp_ids[cl->isp] : 0;
    p.up_Bps = sim_dist_sample(&cl->up, r);
    if (cl->isp >= 0) /* the ISP's upload scale and cap ([isp NAME] up_scale, up_cap) */
        p.up_Bps = sim_scenario_isp_up(&b->sc->isps[cl->isp], p.up_Bps);
    p.down_Bps = sim_dist_sample(&cl->down, r);
    p.latency_us = sim_dist_sample(&cl->latency, r);
    uint64_t linger = sim_dist_sample(&cl->linger, r);
    p.abort_after_us = BT_TIME_NEVER;
    p.leave_at = BT_TIME_NEVER;
    p.linger_us = BT_TIME_NEVER;
    if (cl->role == SIM_ROLE_SEED) {
        if (linger != BT_TIME_NEVER)
            p.leave_at = at + linger;
        if (cl->leave_at != BT_TIME_NEVER && cl->leave_at < p.leave_at)
            p.leave_at = cl->leave_at;
    } else {
        p.linger_us = linger;
        if (bernoulli(b->churn, cl->abort))
            p.abort_after_us = sim_dist_sample(&cl->abort_after, r);
    }
    p.crash = bernoulli(b->churn, cl->crash);
    p.corrupt = bernoulli(b->churn, cl->corrupt);
    set_behaviour(b, k, &p);
    return sim_world_add_peer(b->w, &p, at);
}

/* The class of the next leecher: exact counts (drawn without replacement) or by share. */
static int32_t next_class(builder *b)
{
    const sim_scenario *sc = b->sc;
    if (b->exact) {
        uint64_t total = 0;
        for (uint32_t k = 0; k < sc->nclasses; k++)
            total += b->remaining[k];
        if (total == 0)
            return -1;
        uint64_t x = (uint64_t)(gsl_rng_uniform(b->choice) * (double)total);
        for (uint32_t k = 0; k < sc->nclasses; k++) {
            if (x < b->remaining[k]) {
                b->remaining[k]--;
                return (int32_t)k;
            }
            x -= b->remaining[k];
        }
        return -1;
    }
    double u = gsl_rng_uniform(b->choice), acc = 0;
    int32_t last = -1;
    for (uint32_t k = 0; k < sc->nclasses; k++) {
        if (sc->classes[k].role != SIM_ROLE_LEECHER)
            continue;
        last = (int32_t)k;
        acc += sc->classes[k].share;
        if (u < acc)
            return (int32_t)k;
    }
    return last;
}

static int add_leecher(builder *b, bt_time_us at, int32_t cls)
{
    if (cls < 0)
        cls = next_class(b);
    if (cls < 0)
        return 0;
    return add_peer(b, (uint32_t)cls, at);
}

/* Poisson (or, with tau > 0, exponentially decaying by thinning) arrivals from |start| until
 * the duration or the count. */
static int poisson(builder *b, double rate, bt_time_us tau, uint64_t count)
{
    const sim_scenario *sc = b->sc;
    double t = (double)sc->arrivals.start_us;
    uint64_t n = 0;
    int rv = 0;
    while (rv == 0 && n < count && n < SIM_SCENARIO_MAX_PEERS) {
        t += gsl_ran_exponential(b->arrivals, 1e6 / rate);
        if (t >= (double)sc->swarm.duration_us)
            break;
        if (tau > 0) {
            double keep = exp(-(t - (double)sc->arrivals.start_us) / (double)tau);
            if (gsl_rng_uniform(b->arrivals) >= keep)
                continue;
        }
        rv = add_leecher(b, (bt_time_us)t, -1);
        n++;
    }
    return rv;
}

static int arrivals(builder *b)
{
    const sim_scenario *sc = b->sc;
    const sim_scenario_arrivals *a = &sc->arrivals;
    uint64_t total = a->process == SIM_ARRIVALS_TRACE ? a->ntrace : a->count;
    /* A finite number of arrivals gets exact class counts, drawn in random order. */
    b->exact = total != SIM_SCENARIO_UNLIMITED;
    if (b->exact)
        sim_scenario_class_counts(sc, total, b->remaining);
    int rv = 0;
    switch (a->process) {
    case SIM_ARRIVALS_FLASH:
        for (uint64_t i = 0; rv == 0 && i < total; i++)
            rv = add_leecher(b, a->start_us, -1);
        return rv;
    case SIM_ARRIVALS_POISSON: return poisson(b, a->rate_per_s, 0, total);
    case SIM_ARRIVALS_DECAY: return poisson(b, a->rate_per_s, a->tau_us, total);
    case SIM_ARRIVALS_TRACE:
        for (size_t i = 0; rv == 0 && i < a->ntrace; i++)
            rv = add_leecher(b, a->trace[i].time_us, a->trace[i].cls);
        return rv;
    default: return BT_ERR_INVALID;
    }
}

static int seeds_and_isps(builder *b)
{
    const sim_scenario *sc = b->sc;
    int rv = 0;
    for (uint32_t k = 0; rv == 0 && k < sc->nisps; k++)
        rv = sim_world_add_isp(b->w, sc->isps[k].transit_up_Bps, sc->isps[k].transit_down_Bps,
                               sc->isps[k].latency_us, &b->isp_ids[k]);
    for (uint32_t k = 0; rv == 0 && k < sc->nclasses; k++)
        for (uint64_t i = 0; rv == 0 && sc->classes[k].role == SIM_ROLE_SEED &&
                             i < sc->classes[k].count;
             i++)
            rv = add_peer(b, k, 0);
    return rv;
}

int sim_run_build(sim_world **out, const sim_scenario *sc, bool real_bytes, char *err,
                  size_t errlen)
{
    gsl_set_error_handler_off();
    builder b;
    memset(&b, 0, sizeof(b));
    b.sc = sc;
    int rv = make_streams(&b);
    if (rv == 0)
        rv = make_world(&b, real_bytes);
    if (rv == 0)
        rv = seeds_and_isps(&b);
    if (rv == 0)
        rv = arrivals(&b);
    free_builder(&b);
    if (rv != 0) {
        snprintf(err, errlen, "%s: cannot build the simulation: %s", sc->name, bt_strerror(rv));
        sim_world_del(b.w);
        return rv;
    }
    *out = b.w;
    return 0;
}
