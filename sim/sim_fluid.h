/* sim_fluid.h: the Qiu-Srikant fluid model of a BitTorrent swarm (D. Qiu, R. Srikant,
 * "Modeling and performance analysis of BitTorrent-like peer-to-peer networks", SIGCOMM 2004):
 * the ODE solved with GSL (gsl_odeiv2), its closed-form steady state, and the mapping from a
 * scenario to the model's parameters. Pure computation: never prints, no I/O, no global state.
 *
 * ---- The model -----------------------------------------------------------------------------
 * x(t) leechers, y(t) seeds (both counts of peers, real numbers):
 *   dx/dt = lambda(t) - theta x - min{c x, mu (eta x + y)}
 *   dy/dt = min{c x, mu (eta x + y)} - gamma y
 * lambda  arrival rate of leechers (1/s); constant, or lambda0 e^(-(t - start) / tau)
 * mu      upload rate of one peer in files/s (upload bytes/s / file size)
 * c       download rate of one leecher in files/s
 * theta   rate at which a leecher aborts (1/s)
 * gamma   rate at which a seed leaves (1/s): 1 / mean linger. 0 = seeds never leave;
 *         +INFINITY = seeds leave at once (linger 0): y stays 0.
 * eta     effectiveness of file sharing in [0, 1]: the share of a leecher's upload capacity
 *         it can use (it needs pieces others lack). The paper argues eta ~ 1 for many pieces.
 *
 * ---- Steady state (paper, section 3) -------------------------------------------------------
 * With a constant lambda > 0:
 *   1/beta = max{1/c, (1/eta) (1/mu - 1/gamma)}
 *   T = 1/(theta + beta)             mean time a leecher spends downloading (Little's law on
 *                                    x: aborters included; with theta = 0 it is the mean
 *                                    download time of completing leechers)
 *   xbar = lambda / (theta + beta) = lambda / (beta (1 + theta/beta))
 *   ybar = beta xbar / gamma       = lambda / (gamma (1 + theta/beta))
 * The max picks the regime: 1/c (download-constrained: leechers get their full download
 * rate) or the upload term (upload-constrained). Special cases: gamma <= mu makes the upload
 * term <= 0 (seeds stay long enough to serve everyone: download-constrained); gamma = 0 makes
 * it -infinity (download-constrained, ybar grows without bound: +INFINITY); gamma = +INFINITY
 * gives 1/beta = max{1/c, 1/(eta mu)} and ybar = 0; eta = 0 with gamma > mu gives beta = 0
 * (leechers only get what the seeds give and those vanish): xbar = lambda/theta, or no steady
 * state when theta = 0 too.
 *
 * ---- From a scenario (sim_fluid_from_scenario) ---------------------------------------------
 * One homogeneous population stands for all leecher classes; class k weighs w_k (its share,
 * or its count / all leechers in count mode):
 *   mu    = sum w_k E[up_k] / file_size,   c = sum w_k E[down_k] / file_size (E[up_k] after
 *           the class's ISP's up_scale and up_cap, applied to the mean)
 *   gamma = 1 / sum w_k E[linger_k] (a class lingering forever makes it 0; all lingering 0
 *           makes it +INFINITY). The fluid seeds are finished leechers; linger is exponential
 *           in the model, only its mean is used.
 *   theta = sum w_k abort_k / E[abort_after_k]: an aborter with mean patience A leaves at
 *           rate about 1/A while leeching (exact for exp(A) patience and aborters only).
 *           Aborters with zero patience never download: they are removed from lambda instead.
 *   eta   = the scenario's [fluid] eta, or sim_fluid_eta_estimate(pieces, 4).
 *   lambda, tau, start: poisson: arrivals.rate from arrivals.start; decay: rate as lambda0,
 *           tau; a finite arrivals.count ends the arrivals when the expected number of
 *           arrivals reaches it (poisson: start + count/rate; decay: start - tau ln(1 -
 *           count / (rate tau)) when count < rate tau). flash: no rate, a burst of count
 *           leechers at start. trace: not modelled (BT_ERR_INVALID).
 *   x0 = 0, y0 = the initial seeds (they then leave at rate gamma like any seed, whatever
 *           their own linger; with gamma = +INFINITY they are dropped).
 * Not modelled: ISP transit limits and latency, capacity spread within a class beyond its
 * mean (the model uses mean capacities), crashes and corruption, upload limits, the initial
 * seeds' own capacity and linger, whether the file is available at all (leechers share from
 * t = 0 even without a seed), and the protocol (choking, piece selection, TCP). */
#ifndef SIM_FLUID_H
#define SIM_FLUID_H

#include "sim_scenario.h"

#include <stddef.h>

/* Upload slots assumed by the eta estimate (BitTorrent's regular unchoke slots). */
#define SIM_FLUID_ETA_SLOTS 4u

typedef struct sim_fluid_params {
    double lambda;  /* arrivals per second (decay: lambda0), >= 0 */
    double tau_s;   /* decay time constant (s); 0 = constant rate */
    double start_s; /* arrivals (and the burst) begin, >= 0 */
    double stop_s;  /* arrivals end, >= start_s; INFINITY = never */
    double burst;   /* leechers added at once at start_s (flash crowd), >= 0 */
    double mu;      /* files/s, > 0 */
    double c;       /* files/s, > 0 */
    double theta;   /* 1/s, >= 0 */
    double gamma;   /* 1/s, >= 0 or INFINITY */
    double eta;     /* [0, 1] */
} sim_fluid_params;

typedef enum sim_fluid_regime {
    SIM_FLUID_NO_STEADY = 0, /* no steady state (time-varying or no arrivals, or unbounded) */
    SIM_FLUID_DOWNLOAD = 1,  /* 1/beta = 1/c */
    SIM_FLUID_UPLOAD = 2,    /* 1/beta = (1/eta)(1/mu - 1/gamma) */
} sim_fluid_regime;

typedef struct sim_fluid_steady {
    int regime;        /* sim_fluid_regime */
    double beta;       /* 1/s; NAN without a steady state */
    double download_s; /* T = 1/(theta + beta); NAN without a steady state */
    double leechers;   /* xbar; NAN without a steady state */
    double seeds;      /* ybar; INFINITY when gamma = 0; NAN without a steady state */
} sim_fluid_steady;

/* 0 when every field of |p| is in its range (see sim_fluid_params), else BT_ERR_INVALID. */
int sim_fluid_check(const sim_fluid_params *p);

/* The arrival rate lambda(t) at |t_s| seconds: 0 before start_s and from stop_s on. */
double sim_fluid_lambda(const sim_fluid_params *p, double t_s);

/* Solves the ODE from t = 0 with x(0) = |x0|, y(0) = |y0| (>= 0, finite), writing x and y at
 * each of the |n| times in |times_s| (seconds, >= 0, finite, non-decreasing) into |x| and |y|
 * (n values each). The burst is added when t reaches start_s (a time equal to start_s sees
 * it). Integration: gsl_odeiv2 rkf45 with absolute and relative error 1e-8, restarted at
 * start_s and stop_s where lambda jumps. Returns 0, BT_ERR_INVALID (bad parameters, initial
 * values or times), BT_ERR_NOMEM, or BT_ERR_LIMIT (the solver failed: too many steps, or a
 * step became too small). */
int sim_fluid_solve(const sim_fluid_params *p, double x0, double y0, const double *times_s,
                    size_t n, double *x, double *y);

/* The closed-form steady state of |p| (see the file comment) into |out|. It exists only for
 * a constant arrival rate (tau_s = 0, lambda > 0; the burst and stop_s are ignored: it is the
 * state the swarm tends to while arrivals last); otherwise out->regime is
 * SIM_FLUID_NO_STEADY and the values are NAN. Returns 0 or BT_ERR_INVALID (bad |p|). */
int sim_fluid_steady_state(const sim_fluid_params *p, sim_fluid_steady *out);

/* The estimate of eta for a file of |npieces| pieces when each leecher serves |slots| peers:
 * 1 - (ln N / N)^slots, after the paper's argument that a leecher lacks nothing its
 * neighbours have with probability about (log N / N)^k. N <= 1 gives 0 (a leecher has
 * nothing to give before it is done). */
double sim_fluid_eta_estimate(uint64_t npieces, unsigned slots);

/* The model of |sc| (see "From a scenario" above) into |p|, |x0|, |y0|; |*eta_given| is set
 * to whether eta came from the scenario ([fluid] eta) rather than the estimate. Returns 0,
 * or BT_ERR_INVALID for trace arrivals or parameters the model cannot take. */
int sim_fluid_from_scenario(const sim_scenario *sc, sim_fluid_params *p, double *x0, double *y0,
                            bool *eta_given);

#endif
