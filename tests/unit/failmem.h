/* tests/unit/failmem.h: the failing allocator the failmalloc tests share (nghttp2's
 * malloc_wrapper idea): either a budget of allocations that succeed before every later one
 * fails, or exactly one failing allocation; it counts every attempt. */
#ifndef TEST_FAILMEM_H
#define TEST_FAILMEM_H

#include "bt_types.h"

typedef struct failmem {
    bt_mem mem;     /* pass &f->mem (its user pointer is |f|) */
    long left;      /* allocations that may still succeed; < 0: unlimited */
    long fail_only; /* > 0: only the allocation with this 1-based number fails (left unused) */
    long calls;     /* allocation attempts so far */
} failmem;

/* Budget mode: |left| allocations succeed, then all fail (|left| < 0: none fail). */
void failmem_init(failmem *f, long left);
/* One-shot mode: only allocation number |nth| (1-based) fails; 0: none. */
void failmem_init_once(failmem *f, long nth);

#endif
