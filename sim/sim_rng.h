/* sim_rng.h: the simulator's random streams. One gsl_rng per purpose (arrivals, each class's
 * capacities, churn, tracker, each peer's engine), each seeded from (scenario seed, stream
 * name), so adding a stream or a class does not shift the others. Never reads the environment
 * (no gsl_rng_env_setup). */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

/* A 64-bit seed derived from the scenario seed and a stream name (FNV-1a of the name mixed
 * with the seed through splitmix64). */
uint64_t sim_rng_derive(uint64_t seed, const char *stream, uint64_t index);
/* A new Mersenne Twister stream for (seed, name, index); NULL on allocation failure. */
gsl_rng *sim_rng_new(uint64_t seed, const char *stream, uint64_t index);
/* A uniform double in [0, 1) that depends only on (|key|, |a|, |b|): a counter-based stream
 * (splitmix64), for decisions keyed by what they are about (e.g. one block to one peer), so
 * they do not depend on the order in which events ask for them. */
double sim_rng_unit(uint64_t key, uint64_t a, uint64_t b);

#endif
