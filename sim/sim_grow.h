/* sim_grow.h: one helper for the simulator's growable arrays (double the capacity, starting
 * at |first|), so each owner does not repeat the realloc dance. */
#ifndef SIM_GROW_H
#define SIM_GROW_H

#include "bt.h"

#include <stdlib.h>

/* Makes room for index |need| - 1 in *arr (elements of |elem| bytes, capacity *cap). New
 * slots are not initialised. Returns 0 or BT_ERR_NOMEM (then *arr and *cap are unchanged). */
static inline int sim_grow(void **arr, uint32_t *cap, uint32_t need, size_t elem, uint32_t first)
{
    if (need <= *cap)
        return 0;
    uint64_t ncap = *cap ? *cap : first;
    while (ncap < need)
        ncap *= 2;
    if (ncap > UINT32_MAX || ncap > SIZE_MAX / elem)
        return BT_ERR_NOMEM;
    void *n = realloc(*arr, (size_t)ncap * elem);
    if (n == NULL)
        return BT_ERR_NOMEM;
    *arr = n;
    *cap = (uint32_t)ncap;
    return 0;
}

#endif
