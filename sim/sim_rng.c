/* sim_rng.c: named, independent random streams derived from the scenario seed. */
#include "sim_rng.h"

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t sim_rng_derive(uint64_t seed, const char *stream, uint64_t index)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)stream; *p != '\0'; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return splitmix64(splitmix64(seed ^ h) ^ index);
}

double sim_rng_unit(uint64_t key, uint64_t a, uint64_t b)
{
    uint64_t x = splitmix64(splitmix64(splitmix64(key) ^ a) ^ b);
    return (double)(x >> 11) * 0x1p-53;
}

gsl_rng *sim_rng_new(uint64_t seed, const char *stream, uint64_t index)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r == NULL)
        return NULL;
    /* mt19937 takes an unsigned long seed; 0 would select GSL's default seed. */
    unsigned long s = (unsigned long)sim_rng_derive(seed, stream, index);
    gsl_rng_set(r, s ? s : 1);
    return r;
}
