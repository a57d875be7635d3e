/* bt_types.h: the engine's common vocabulary: time, errors, the allocator vtable, the PCG32
 * generator, peer addresses, growable byte buffers and SHA-1. Owns no state; never does I/O. */
#ifndef BT_TYPES_H
#define BT_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic time in microseconds, always passed in by the host. */
typedef uint64_t bt_time_us;
#define BT_TIME_NEVER UINT64_MAX
#define BT_US_PER_S 1000000u
#define BT_SEC(s) ((bt_time_us)(s) * BT_US_PER_S)
#define BT_MSEC(ms) ((bt_time_us)(ms) * 1000u)

typedef ptrdiff_t bt_ssize;
typedef uint32_t bt_conn_id;
#define BT_CONN_NONE UINT32_MAX

/* Error codes. Codes below BT_ERR_FATAL poison a client: it may then only be deleted. */
typedef enum bt_err {
    BT_OK = 0,
    BT_ERR_INVALID = -1,  /* argument out of range (bad data from a file, not a caller bug) */
    BT_ERR_PROTO = -2,    /* bytes violate the protocol or format */
    BT_ERR_LIMIT = -3,    /* a configured hard limit was exceeded */
    BT_ERR_NOTFOUND = -4, /* no such connection, key or item */
    BT_ERR_EXISTS = -5,   /* already present (e.g. a connection to the same address) */
    BT_ERR_REFUSED = -6,  /* refused by policy: peer limit reached, address banned */
    BT_ERR_STATE = -7,    /* not possible in the current state */
    BT_ERR_FATAL = -900,
    BT_ERR_NOMEM = -901,  /* allocation failed */
} bt_err;

/* Returns a static, human-readable name for |err|. */
const char *bt_strerror(int err);

/* Allocator vtable; every engine allocation goes through one (so failmalloc tests work). */
typedef struct bt_mem {
    void *user;
    void *(*malloc)(size_t size, void *user);
    void (*free)(void *ptr, void *user);
    void *(*calloc)(size_t nmemb, size_t size, void *user);
    void *(*realloc)(void *ptr, size_t size, void *user);
} bt_mem;

/* The libc allocator as a bt_mem. */
const bt_mem *bt_mem_default(void);

/* PCG32 (O'Neill, pcg-random.org): the engine's only randomness. */
typedef struct bt_pcg32 {
    uint64_t state;
    uint64_t inc;
} bt_pcg32;

void bt_pcg32_seed(bt_pcg32 *rng, uint64_t seed, uint64_t stream);
uint32_t bt_pcg32_next(bt_pcg32 *rng);
/* Uniform in [0, bound); |bound| > 0. Unbiased (rejection). */
uint32_t bt_pcg32_below(bt_pcg32 *rng, uint32_t bound);

/* A span of the torrent's data: |length| bytes from byte |offset| (BEP 47 padding). */
typedef struct bt_byte_range {
    uint64_t offset;
    uint64_t length;
} bt_byte_range;

/* A peer's transport address. family is 4 or 6; ip holds 4 or 16 bytes (network order). */
typedef struct bt_addr {
    uint8_t family;
    uint8_t ip[16];
    uint16_t port; /* host order */
} bt_addr;

bool bt_addr_equal(const bt_addr *a, const bt_addr *b);
/* Formats "1.2.3.4:6881" or "[::1]:6881" into |out| (at least 48 bytes). Returns |out|. */
char *bt_addr_format(const bt_addr *a, char *out, size_t outlen);

/* A growable byte buffer with a hard size limit and a sticky error: after a failed append
 * every later append is a no-op, and |err| says why (BT_ERR_NOMEM or BT_ERR_LIMIT). */
typedef struct bt_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max; /* hard limit on len; 0 means SIZE_MAX */
    int err;
    bool inl;   /* |data| is storage its owner embeds (bt_buf_init_inline): never freed */
    const bt_mem *mem;
} bt_buf;

void bt_buf_init(bt_buf *b, const bt_mem *mem, size_t max);
/* Starts in |cap| bytes of |storage| the owner embeds next to the buffer (small buffers then
 * need no allocation and share cache lines with their owner); moves to the heap when it
 * outgrows them. |storage| must stay put while the buffer lives. */
void bt_buf_init_inline(bt_buf *b, const bt_mem *mem, size_t max, uint8_t *storage, size_t cap);
void bt_buf_free(bt_buf *b);
void bt_buf_reset(bt_buf *b);             /* len = 0, err = 0; keeps the allocation */
int bt_buf_reserve(bt_buf *b, size_t extra); /* 0 or BT_ERR_NOMEM / BT_ERR_LIMIT */
void bt_buf_put(bt_buf *b, const void *p, size_t n);
void bt_buf_put_u8(bt_buf *b, uint8_t v);
void bt_buf_put_be16(bt_buf *b, uint16_t v);
void bt_buf_put_be32(bt_buf *b, uint32_t v);
void bt_buf_put_be64(bt_buf *b, uint64_t v);
void bt_buf_put_str(bt_buf *b, const char *s);
/* Removes the first |n| bytes (n <= len). */
void bt_buf_consume(bt_buf *b, size_t n);

/* Big-endian loads. */
static inline uint16_t bt_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t bt_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t bt_be64(const uint8_t *p)
{
    return ((uint64_t)bt_be32(p) << 32) | bt_be32(p + 4);
}

/* SHA-1 through libcrypto. */
#define BT_SHA1_LEN 20
void bt_sha1(const void *data, size_t len, uint8_t out[BT_SHA1_LEN]);
typedef struct bt_sha1_ctx bt_sha1_ctx;
int bt_sha1_new(bt_sha1_ctx **pctx, const bt_mem *mem); /* 0 or BT_ERR_NOMEM */
void bt_sha1_update(bt_sha1_ctx *ctx, const void *data, size_t len);
void bt_sha1_final(bt_sha1_ctx *ctx, uint8_t out[BT_SHA1_LEN]); /* then the ctx restarts */
void bt_sha1_del(bt_sha1_ctx *ctx);

/* Lower-case hex of |n| bytes into |out| (2n+1 bytes). Returns |out|. */
char *bt_hex(const uint8_t *in, size_t n, char *out);

#endif
