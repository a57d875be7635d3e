/* bt_mem.c: the default (libc) allocator vtable, string copies and bt_strerror. */
#include "bt_mem.h"

#include <stdlib.h>
#include <string.h>

static void *libc_malloc(size_t n, void *u) { (void)u; return malloc(n); }
static void libc_free(void *p, void *u) { (void)u; free(p); }
static void *libc_calloc(size_t k, size_t n, void *u) { (void)u; return calloc(k, n); }
static void *libc_realloc(void *p, size_t n, void *u) { (void)u; return realloc(p, n); }

static const bt_mem mem_default = {NULL, libc_malloc, libc_free, libc_calloc, libc_realloc};

const bt_mem *bt_mem_default(void) { return &mem_default; }

char *bt_strndup(const bt_mem *m, const char *s, size_t n)
{
    char *p = bt_malloc(m, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *bt_strdup(const bt_mem *m, const char *s) { return bt_strndup(m, s, strlen(s)); }

const char *bt_strerror(int err)
{
    switch (err) {
    case BT_OK: return "success";
    case BT_ERR_INVALID: return "invalid argument";
    case BT_ERR_PROTO: return "protocol or format violation";
    case BT_ERR_LIMIT: return "limit exceeded";
    case BT_ERR_NOTFOUND: return "not found";
    case BT_ERR_EXISTS: return "already exists";
    case BT_ERR_REFUSED: return "refused";
    case BT_ERR_STATE: return "not possible in this state";
    case BT_ERR_FATAL: return "fatal error";
    case BT_ERR_NOMEM: return "out of memory";
    default: return "unknown error";
    }
}
