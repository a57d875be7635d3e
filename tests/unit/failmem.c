/* tests/unit/failmem.c: the shared failing allocator for failmalloc tests. */
#include "failmem.h"

#include <stdlib.h>

static bool fails(failmem *f)
{
    f->calls++;
    if (f->fail_only > 0)
        return f->calls == f->fail_only;
    if (f->left == 0)
        return true;
    if (f->left > 0)
        f->left--;
    return false;
}

static void *fm_malloc(size_t n, void *u)
{
    return fails(u) ? NULL : malloc(n);
}
static void *fm_calloc(size_t k, size_t n, void *u)
{
    return fails(u) ? NULL : calloc(k, n);
}
static void *fm_realloc(void *p, size_t n, void *u)
{
    return fails(u) ? NULL : realloc(p, n);
}
static void fm_free(void *p, void *u)
{
    (void)u;
    free(p);
}

void failmem_init(failmem *f, long left)
{
    f->mem = (bt_mem){f, fm_malloc, fm_free, fm_calloc, fm_realloc};
    f->left = left;
    f->fail_only = 0;
    f->calls = 0;
}

void failmem_init_once(failmem *f, long nth)
{
    failmem_init(f, -1);
    f->fail_only = nth;
}
