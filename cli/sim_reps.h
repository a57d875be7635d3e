/* cli/sim_reps.h: `swarmlab sim --replications N [-j J]`: runs N seeds of one scenario (in
 * up to J processes), each into DIR/rep-SEED/, then writes DIR/replications.tsv and
 * DIR/replications.json: per class and metric, the mean over runs with a 95% confidence
 * interval. A parallel run gives the same files as a serial one. */
#ifndef CLI_SIM_REPS_H
#define CLI_SIM_REPS_H

#include <stdint.h>

/* Runs one replication: |seed| overrides swarm.seed; results go to |dir|. Returns a CLI_*
 * code. Implemented by cmd_sim.c. */
int sim_run_one(const void *opts, uint64_t seed, const char *dir, int brief);

/* Runs |reps| seeds from |base_seed| with up to |jobs| processes, then aggregates. */
int sim_reps_run(const void *opts, const char *dir, uint64_t base_seed, uint32_t reps,
                 uint32_t jobs);

#endif
