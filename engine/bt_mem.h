/* bt_mem.h: internal allocation helpers over a bt_mem vtable (engine-private). */
#ifndef BT_MEM_H
#define BT_MEM_H

#include "bt_types.h"

static inline void *bt_malloc(const bt_mem *m, size_t n) { return m->malloc(n, m->user); }
static inline void *bt_calloc(const bt_mem *m, size_t k, size_t n) { return m->calloc(k, n, m->user); }
static inline void *bt_realloc(const bt_mem *m, void *p, size_t n) { return m->realloc(p, n, m->user); }
static inline void bt_free(const bt_mem *m, void *p) { m->free(p, m->user); }

/* Copies a NUL-terminated string (or |n| bytes plus a NUL for bt_strndup). NULL on NOMEM. */
char *bt_strdup(const bt_mem *m, const char *s);
char *bt_strndup(const bt_mem *m, const char *s, size_t n);

#endif
