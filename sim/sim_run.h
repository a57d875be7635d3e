/* sim_run.h: builds a simulated swarm (sim_world) from a scenario: ISPs, the initial seeds,
 * the leechers' arrival process (flash, Poisson, decaying Poisson, trace) and each peer's
 * drawn parameters (capacities, latency, linger, abort, crash, corruption, special
 * behaviours). Randomness comes from named streams of the scenario seed: "arrivals",
 * "class-choice", "churn", and per class a "class:<name>" and a "behaviour:<name>" stream, so
 * adding a class or a behaviour does not reshuffle the others. */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include "sim_scenario.h"
#include "sim_world.h"

/* Creates the world for |sc| with every peer's join scheduled. |real_bytes| forces real
 * payload (as --real-bytes). Returns 0, BT_ERR_NOMEM, BT_ERR_LIMIT, or BT_ERR_INVALID with a
 * message in |err|. */
int sim_run_build(sim_world **out, const sim_scenario *sc, bool real_bytes, char *err,
                  size_t errlen);

#endif
