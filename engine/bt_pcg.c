/* bt_pcg.c: PCG32 (XSH RR 64/32), the engine's only source of randomness. */
#include "bt_types.h"

#include <assert.h>

void bt_pcg32_seed(bt_pcg32 *rng, uint64_t seed, uint64_t stream)
{
    rng->state = 0;
    rng->inc = (stream << 1u) | 1u;
    (void)bt_pcg32_next(rng);
    rng->state += seed;
    (void)bt_pcg32_next(rng);
}

uint32_t bt_pcg32_next(bt_pcg32 *rng)
{
    uint64_t old = rng->state;
    rng->state = old * 6364136223846793005ULL + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

uint32_t bt_pcg32_below(bt_pcg32 *rng, uint32_t bound)
{
    assert(bound > 0);
    uint32_t threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t r = bt_pcg32_next(rng);
        if (r >= threshold)
            return r % bound;
    }
}
