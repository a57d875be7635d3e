/* sim_fluid.c: the Qiu-Srikant fluid model: its ODE (gsl_odeiv2 rkf45, restarted where the
 * arrival rate jumps), closed-form steady state and parameters from a scenario. No I/O. */
#include "sim_fluid.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>
#include <math.h>

#define EPS_ABS 1e-8
#define EPS_REL 1e-8
#define H_START 1e-3        /* first step (s) after each (re)start */
#define MAX_STEPS 2000000ul /* per output interval: bounds the work on absurd stiffness */

static bool nonneg(double v)
{
    return isfinite(v) && v >= 0;
}

int sim_fluid_check(const sim_fluid_params *p)
{
    bool ok = nonneg(p->lambda) && nonneg(p->tau_s) && nonneg(p->start_s) && nonneg(p->burst) &&
              !isnan(p->stop_s) && p->stop_s >= p->start_s && isfinite(p->mu) && p->mu > 0 &&
              isfinite(p->c) && p->c > 0 && nonneg(p->theta) && !isnan(p->gamma) && p->gamma >= 0 &&
              nonneg(p->eta) && p->eta <= 1;
    return ok ? 0 : BT_ERR_INVALID;
}

double sim_fluid_lambda(const sim_fluid_params *p, double t_s)
{
    if (t_s < p->start_s || t_s >= p->stop_s)
        return 0;
    return p->tau_s > 0 ? p->lambda * exp(-(t_s - p->start_s) / p->tau_s) : p->lambda;
}

/* The system's parameters: the model, and whether arrivals are on in the current segment
 * (decided per segment, not by t, so a step ending exactly at stop_s still sees them). */
typedef struct ode_ctx {
    const sim_fluid_params *p;
    bool on;
} ode_ctx;

static int rhs(double t, const double s[], double ds[], void *arg)
{
    const ode_ctx *o = arg;
    const sim_fluid_params *p = o->p;
    double lam = 0;
    if (o->on)
        lam = p->tau_s > 0 ? p->lambda * exp(-(t - p->start_s) / p->tau_s) : p->lambda;
    bool instant = isinf(p->gamma); /* seeds leave at once */
    double x = s[0] > 0 ? s[0] : 0, y = s[1] > 0 && !instant ? s[1] : 0;
    double down = p->c * x, up = p->mu * (p->eta * x + y);
    double flow = down < up ? down : up;
    ds[0] = lam - p->theta * x - flow;
    ds[1] = instant ? 0 : flow - p->gamma * y;
    return GSL_SUCCESS;
}

typedef struct solver {
    const sim_fluid_params *p;
    ode_ctx ctx;
    gsl_odeiv2_driver *d;
    double t, s[2];
    bool burst_done;
} solver;

/* After reaching sv->t: adds the burst at start_s and switches arrivals on or off, restarting
 * the driver when the right-hand side jumps. */
static void enter_segment(solver *sv)
{
    const sim_fluid_params *p = sv->p;
    bool jump = false;
    if (!sv->burst_done && sv->t >= p->start_s) {
        sv->burst_done = true;
        sv->s[0] += p->burst;
        jump = p->burst > 0;
    }
    bool on = sv->t >= p->start_s && sv->t < p->stop_s;
    if (on != sv->ctx.on) {
        sv->ctx.on = on;
        jump = true;
    }
    if (jump)
        gsl_odeiv2_driver_reset_hstart(sv->d, H_START);
}

/* Integrates from sv->t to |to|, stopping at start_s and stop_s on the way. */
static int advance(solver *sv, double to)
{
    const sim_fluid_params *p = sv->p;
    while (sv->t < to) {
        double end = to;
        if (sv->t < p->start_s && p->start_s < end)
            end = p->start_s;
        if (sv->t < p->stop_s && p->stop_s < end)
            end = p->stop_s;
        int rv = gsl_odeiv2_driver_apply(sv->d, &sv->t, end, sv->s);
        if (rv == GSL_ENOMEM)
            return BT_ERR_NOMEM;
        if (rv != GSL_SUCCESS)
            return BT_ERR_LIMIT;
        sv->t = end;
        enter_segment(sv);
    }
    return 0;
}

static bool times_ok(const double *times_s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!nonneg(times_s[i]) || (i > 0 && times_s[i] < times_s[i - 1]))
            return false;
    return true;
}

int sim_fluid_solve(const sim_fluid_params *p, double x0, double y0, const double *times_s,
                    size_t n, double *x, double *y)
{
    if (sim_fluid_check(p) != 0 || !nonneg(x0) || !nonneg(y0) || !times_ok(times_s, n))
        return BT_ERR_INVALID;
    gsl_set_error_handler_off();
    solver sv = {.p = p, .ctx = {.p = p, .on = false}, .t = 0, .s = {x0, y0}};
    if (isinf(p->gamma))
        sv.s[1] = 0;
    gsl_odeiv2_system sys = {rhs, NULL, 2, &sv.ctx};
    sv.d = gsl_odeiv2_driver_alloc_y_new(&sys, gsl_odeiv2_step_rkf45, H_START, EPS_ABS, EPS_REL);
    if (sv.d == NULL)
        return BT_ERR_NOMEM;
    int rv = gsl_odeiv2_driver_set_nmax(sv.d, MAX_STEPS) == GSL_SUCCESS ? 0 : BT_ERR_INVALID;
    if (rv == 0)
        enter_segment(&sv);
    for (size_t i = 0; rv == 0 && i < n; i++) {
        rv = advance(&sv, times_s[i]);
        x[i] = sv.s[0] > 0 ? sv.s[0] : 0;
        y[i] = sv.s[1] > 0 ? sv.s[1] : 0;
    }
    gsl_odeiv2_driver_free(sv.d);
    return rv;
}

static void no_steady(sim_fluid_steady *out)
{
    out->regime = SIM_FLUID_NO_STEADY;
    out->beta = out->download_s = out->leechers = out->seeds = NAN;
}

int sim_fluid_steady_state(const sim_fluid_params *p, sim_fluid_steady *out)
{
    no_steady(out);
    if (sim_fluid_check(p) != 0)
        return BT_ERR_INVALID;
    if (p->tau_s > 0 || p->lambda <= 0)
        return 0;
    /* 1/mu - 1/gamma: how long a peer's upload is still owed after its seeding time. */
    double owed = p->gamma == 0 ? -INFINITY : 1.0 / p->mu - 1.0 / p->gamma;
    double inv_up = owed <= 0 ? -INFINITY : p->eta > 0 ? owed / p->eta : INFINITY;
    double inv_beta = inv_up > 1.0 / p->c ? inv_up : 1.0 / p->c;
    double beta = isinf(inv_beta) ? 0 : 1.0 / inv_beta;
    if (p->theta + beta <= 0)
        return 0; /* leechers pile up without bound */
    out->regime = inv_up > 1.0 / p->c ? SIM_FLUID_UPLOAD : SIM_FLUID_DOWNLOAD;
    out->beta = beta;
    out->download_s = 1.0 / (p->theta + beta);
    out->leechers = p->lambda * out->download_s;
    if (p->gamma == 0)
        out->seeds = INFINITY;
    else if (isinf(p->gamma))
        out->seeds = 0;
    else
        out->seeds = beta * out->leechers / p->gamma;
    return 0;
}

double sim_fluid_eta_estimate(uint64_t npieces, unsigned slots)
{
    if (npieces <= 1)
        return 0;
    double n = (double)npieces;
    return 1.0 - pow(log(n) / n, (double)slots);
}

/* Weighted means over the leecher classes of |sc|. */
typedef struct class_means {
    double up_Bps, down_Bps, linger_s, theta, instant_abort;
} class_means;

static bool forever(const sim_dist *d)
{
    return d->kind == SIM_DIST_CONST && d->a == BT_TIME_NEVER;
}

static int leecher_means(const sim_scenario *sc, class_means *m)
{
    double total = 0;
    for (uint32_t k = 0; k < sc->nclasses; k++)
        if (sc->classes[k].role == SIM_ROLE_LEECHER)
            total += sc->by_count ? (double)sc->classes[k].count : sc->classes[k].share;
    if (!(total > 0))
        return BT_ERR_INVALID;
    *m = (class_means){0};
    for (uint32_t k = 0; k < sc->nclasses; k++) {
        const sim_class *cl = &sc->classes[k];
        if (cl->role != SIM_ROLE_LEECHER)
            continue;
        double w = (sc->by_count ? (double)cl->count : cl->share) / total;
        double up = sim_dist_mean(&cl->up); /* the ISP's up_scale / up_cap on the mean */
        if (cl->isp >= 0)
            up = (double)sim_scenario_isp_up(&sc->isps[cl->isp], (uint64_t)(up + 0.5));
        m->up_Bps += w * up;
        m->down_Bps += w * sim_dist_mean(&cl->down);
        m->linger_s += forever(&cl->linger) ? INFINITY : w * sim_dist_mean(&cl->linger) / 1e6;
        double patience_s = sim_dist_mean(&cl->abort_after) / 1e6;
        if (patience_s > 0)
            m->theta += w * cl->abort / patience_s;
        else
            m->instant_abort += w * cl->abort;
    }
    return 0;
}

/* Arrival rate, decay, start, end and burst of |sc|'s arrival process. */
static int arrival_params(const sim_scenario *sc, double keep, sim_fluid_params *p)
{
    const sim_scenario_arrivals *a = &sc->arrivals;
    bool finite = a->count != SIM_SCENARIO_UNLIMITED;
    double count = (double)a->count * keep;
    p->start_s = (double)a->start_us / 1e6;
    p->stop_s = INFINITY;
    switch (a->process) {
    case SIM_ARRIVALS_FLASH:
        p->burst = count;
        return 0;
    case SIM_ARRIVALS_POISSON:
        p->lambda = a->rate_per_s * keep;
        if (finite)
            p->stop_s = p->start_s + (p->lambda > 0 ? count / p->lambda : 0);
        return 0;
    case SIM_ARRIVALS_DECAY:
        p->lambda = a->rate_per_s * keep;
        p->tau_s = (double)a->tau_us / 1e6;
        if (finite && count < p->lambda * p->tau_s)
            p->stop_s = p->start_s - p->tau_s * log1p(-count / (p->lambda * p->tau_s));
        return 0;
    default:
        return BT_ERR_INVALID;
    }
}

int sim_fluid_from_scenario(const sim_scenario *sc, sim_fluid_params *p, double *x0, double *y0,
                            bool *eta_given)
{
    class_means m;
    *p = (sim_fluid_params){0};
    if (sc->swarm.file_size == 0 || leecher_means(sc, &m) != 0)
        return BT_ERR_INVALID;
    int rv = arrival_params(sc, m.instant_abort < 1 ? 1.0 - m.instant_abort : 0, p);
    if (rv != 0)
        return rv;
    double size = (double)sc->swarm.file_size;
    p->mu = m.up_Bps / size;
    p->c = m.down_Bps / size;
    p->theta = m.theta;
    p->gamma = isinf(m.linger_s) ? 0 : m.linger_s > 0 ? 1.0 / m.linger_s : INFINITY;
    *eta_given = sc->fluid.eta >= 0;
    uint64_t pieces = (sc->swarm.file_size + sc->swarm.piece_size - 1) / sc->swarm.piece_size;
    p->eta = *eta_given ? sc->fluid.eta : sim_fluid_eta_estimate(pieces, SIM_FLUID_ETA_SLOTS);
    *x0 = 0;
    *y0 = isinf(p->gamma) ? 0 : (double)sc->nseeds;
    return sim_fluid_check(p);
}
