/* live_storage.c: a torrent's files on disk: layout per the metainfo, pread/pwrite across file
 * boundaries, blocks kept in memory until their piece's SHA-1 matches (only then written), and
 * the start-up check of existing data. The hash-and-write of a complete piece can run on the
 * verify thread (live_verify.c); the descriptor table and file I/O are under one mutex for
 * it. Never opens anything outside the target directory. BEP 47 pad files are never
 * created, opened or written: their bytes read as zeros. */
#define _GNU_SOURCE
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_OPEN_FILES 128 /* descriptors kept open at once; others are reopened on demand */
/* Piece buffers come back from the verify thread and are kept for reuse, up to this many bytes
 * (a fresh buffer costs a page fault per 4 KiB, and glibc would hand freed ones back to the
 * kernel); the host bounds how many are in flight (live_storage_backlogged). */
#define SPARE_BYTES (256u << 20)
/* Verify backlog (bytes) above which the host stops reading sockets: at least 4 pieces. */
#define VERIFY_HIGH (16u << 20)

typedef struct lfile {
    int fd;             /* -1 when closed */
    uint64_t orig_size; /* size found at open (bytes present before this run) */
} lfile;

typedef struct pending {
    uint32_t piece;
    uint8_t *buf;
} pending;

struct live_storage {
    const bt_metainfo *m;
    int rootfd; /* DIR, or DIR/name for a multi-file torrent */
    bool writable;
    lfile *files;
    uint32_t nopen, evict; /* open descriptors; round-robin eviction cursor */
    pending *pend;
    uint32_t npend, pend_cap;
    uint8_t **spare; /* piece_length-sized buffers back from the verify thread */
    uint32_t nspare, spare_cap;
    uint8_t *lent; /* the last collected piece's buffer when it did not fit in |spare| */
    bool has_pad; /* the torrent has BEP 47 pad files: piece buffers start zeroed */
    char *dir;
    pthread_mutex_t io_mu; /* files[], nopen, evict and the I/O through them */
    live_verifier *v;      /* the verify thread, from the first live_storage_verify_start */
};

static void seterr(char *err, size_t len, const char *fmt, const char *a, const char *b)
{
    if (err != NULL && len > 0)
        snprintf(err, len, fmt, a, b);
}

/* Opens (creating with |create|) directory |name| inside |dfd| without following symlinks. */
static int open_dir_at(int dfd, const char *name, bool create)
{
    if (!bt_metainfo_component_ok((const uint8_t *)name, strlen(name))) {
        errno = EINVAL;
        return -1;
    }
    if (create && mkdirat(dfd, name, 0777) != 0 && errno != EEXIST)
        return -1;
    return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Opens file |path| ('/'-separated, relative) under the root, component by component. */
static int open_path(live_storage *st, const char *path, bool create)
{
    char buf[BT_META_MAX_PATH + 1];
    if (strlen(path) > BT_META_MAX_PATH) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(buf, path);
    int dfd = st->rootfd;
    char *comp = buf;
    for (char *slash; (slash = strchr(comp, '/')) != NULL; comp = slash + 1) {
        *slash = '\0';
        int nd = open_dir_at(dfd, comp, create);
        if (dfd != st->rootfd)
            close(dfd);
        if (nd < 0)
            return -1;
        dfd = nd;
    }
    int fd = -1;
    if (bt_metainfo_component_ok((const uint8_t *)comp, strlen(comp))) {
        int flags = (st->writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC;
        fd = openat(dfd, comp, flags | (create ? O_CREAT : 0), 0666);
    } else {
        errno = EINVAL;
    }
    int saved = errno;
    if (dfd != st->rootfd)
        close(dfd);
    errno = saved;
    return fd;
}

static int file_fd(live_storage *st, uint32_t i)
{
    if (st->files[i].fd >= 0)
        return st->files[i].fd;
    while (st->nopen >= MAX_OPEN_FILES) {
        uint32_t k = st->evict++ % st->m->nfiles;
        if (st->files[k].fd >= 0) {
            close(st->files[k].fd);
            st->files[k].fd = -1;
            st->nopen--;
        }
    }
    int fd = open_path(st, st->m->files[i].path, false);
    if (fd >= 0) {
        st->files[i].fd = fd;
        st->nopen++;
    }
    return fd;
}

static int open_root(live_storage *st, const char *dir, char *err, size_t errlen)
{
    if (st->writable && mkdir(dir, 0777) != 0 && errno != EEXIST) {
        seterr(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        seterr(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    st->rootfd = fd;
    if (!st->m->multi_file)
        return 0;
    st->rootfd = open_dir_at(fd, st->m->name, st->writable);
    int saved = errno;
    close(fd);
    if (st->rootfd < 0) {
        char p[4200];
        snprintf(p, sizeof(p), "%s/%s", dir, st->m->name);
        seterr(err, errlen, "%s: %s", p, strerror(saved));
        return -1;
    }
    return 0;
}

/* Opens (or creates) every file once, to record its size and report problems early. Pad files
 * are left alone: they exist only in the metainfo. */
static int open_files(live_storage *st, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < st->m->nfiles; i++) {
        if (st->m->files[i].is_pad) {
            st->files[i].orig_size = st->m->files[i].length; /* always "present" */
            st->has_pad = true;
            continue;
        }
        int fd = open_path(st, st->m->files[i].path, st->writable);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            char p[8400];
            int e = fd < 0 ? errno : EINVAL;
            snprintf(p, sizeof(p), "%s/%s%s%s", st->dir, st->m->multi_file ? st->m->name : "",
                     st->m->multi_file ? "/" : "", st->m->files[i].path);
            seterr(err, errlen, "%s: %s", p,
                   e == ELOOP    ? "is a symbolic link (refused)"
                   : e == EINVAL ? "not a regular file or unsafe name"
                                 : strerror(e));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        st->files[i].orig_size = (uint64_t)sb.st_size;
        close(fd);
    }
    return 0;
}

int live_storage_open(live_storage **out, const bt_metainfo *m, const char *dir, bool writable,
                      char *err, size_t errlen)
{
    *out = NULL;
    live_storage *st = calloc(1, sizeof(*st));
    if (st != NULL)
        pthread_mutex_init(&st->io_mu, NULL);
    if (st == NULL || (st->files = calloc(m->nfiles ? m->nfiles : 1, sizeof(lfile))) == NULL ||
        (st->dir = strdup(dir)) == NULL) {
        seterr(err, errlen, "%s: %s", dir, "out of memory");
        live_storage_del(st);
        return -1;
    }
    st->m = m;
    st->writable = writable;
    st->rootfd = -1;
    for (uint32_t i = 0; i < m->nfiles; i++)
        st->files[i].fd = -1;
    if (open_root(st, dir, err, errlen) != 0 || open_files(st, err, errlen) != 0) {
        live_storage_del(st);
        return -1;
    }
    *out = st;
    return 0;
}

void live_storage_del(live_storage *st)
{
    if (st == NULL)
        return;
    live_verifier_del(st->v); /* first: its thread writes through the files */
    for (uint32_t i = 0; st->files != NULL && i < st->m->nfiles; i++)
        if (st->files[i].fd >= 0)
            close(st->files[i].fd);
    if (st->rootfd >= 0)
        close(st->rootfd);
    for (uint32_t i = 0; i < st->npend; i++)
        free(st->pend[i].buf);
    free(st->pend);
    for (uint32_t i = 0; i < st->nspare; i++)
        free(st->spare[i]);
    free(st->spare);
    free(st->lent);
    free(st->files);
    free(st->dir);
    pthread_mutex_destroy(&st->io_mu);
    free(st);
}

static uint32_t piece_size(const live_storage *st, uint32_t piece)
{
    uint64_t off = (uint64_t)piece * st->m->piece_length;
    uint64_t left = st->m->total_length - off;
    return left < st->m->piece_length ? (uint32_t)left : st->m->piece_length;
}

/* First file holding torrent byte |off| (binary search over the offsets). */
static uint32_t file_at(const live_storage *st, uint64_t off)
{
    uint32_t lo = 0, hi = st->m->nfiles;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (st->m->files[mid].offset <= off)
            lo = mid;
        else
            hi = mid;
    }
    while (lo + 1 < st->m->nfiles && st->m->files[lo].length == 0)
        lo++; /* zero-length files hold no bytes */
    return lo;
}

/* pread (|write| false) or pwrite |len| bytes at torrent offset |off|. 0 or -1 (errno). Pad
 * files read as zeros and take no writes. */
static int span_io_nolock(live_storage *st, uint64_t off, uint8_t *buf, uint64_t len, bool write)
{
    uint32_t i = file_at(st, off);
    while (len > 0) {
        if (i >= st->m->nfiles) {
            errno = EINVAL;
            return -1;
        }
        const bt_file_entry *f = &st->m->files[i];
        uint64_t in = off - f->offset, n = f->length - in < len ? f->length - in : len;
        if (f->is_pad) {
            if (!write)
                memset(buf, 0, n);
            off += n;
            buf += n;
            len -= n;
            i++;
            continue;
        }
        int fd = n > 0 ? file_fd(st, i) : 0;
        if (fd < 0)
            return -1;
        for (uint64_t done = 0; done < n;) {
            ssize_t r = write ? pwrite(fd, buf + done, n - done, (off_t)(in + done))
                              : pread(fd, buf + done, n - done, (off_t)(in + done));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                if (r == 0)
                    errno = EIO; /* short read: the file is shorter than the metainfo says */
                return -1;
            }
            done += (uint64_t)r;
        }
        off += n;
        buf += n;
        len -= n;
        i++;
    }
    return 0;
}

static int span_io(live_storage *st, uint64_t off, uint8_t *buf, uint64_t len, bool write)
{
    pthread_mutex_lock(&st->io_mu);
    int rv = span_io_nolock(st, off, buf, len, write);
    int saved = errno;
    pthread_mutex_unlock(&st->io_mu);
    errno = saved;
    return rv;
}

/* True when every byte of the piece lies within the files' sizes found at open. */
static bool piece_present(const live_storage *st, uint32_t piece)
{
    uint64_t off = (uint64_t)piece * st->m->piece_length, end = off + piece_size(st, piece);
    for (uint32_t i = file_at(st, off); i < st->m->nfiles && st->m->files[i].offset < end; i++) {
        const bt_file_entry *f = &st->m->files[i];
        uint64_t need = (end < f->offset + f->length ? end : f->offset + f->length) - f->offset;
        if (st->files[i].orig_size < need)
            return false;
    }
    return true;
}

int64_t live_storage_check(live_storage *st, uint8_t *have, char *err, size_t errlen)
{
    uint8_t *buf = malloc(st->m->piece_length);
    if (buf == NULL) {
        seterr(err, errlen, "%s: %s", st->dir, "out of memory");
        return -1;
    }
    int64_t found = 0;
    for (uint32_t p = 0; p < st->m->npieces; p++) {
        if (!piece_present(st, p))
            continue;
        uint32_t n = piece_size(st, p);
        if (span_io(st, (uint64_t)p * st->m->piece_length, buf, n, false) != 0) {
            seterr(err, errlen, "%s: read error: %s", st->dir, strerror(errno));
            free(buf);
            return -1;
        }
        uint8_t d[20];
        bt_sha1(buf, n, d);
        if (memcmp(d, st->m->piece_hashes + (size_t)p * 20, 20) == 0) {
            have[p >> 3] |= (uint8_t)(0x80u >> (p & 7));
            found++;
        }
    }
    free(buf);
    return found;
}

int live_storage_read(live_storage *st, uint32_t piece, uint32_t begin, void *buf, uint32_t len)
{
    if (piece >= st->m->npieces || (uint64_t)begin + len > piece_size(st, piece))
        return -1;
    return span_io(st, (uint64_t)piece * st->m->piece_length + begin, buf, len, false);
}

static pending *find_pending(live_storage *st, uint32_t piece, uint32_t *idx)
{
    for (uint32_t i = 0; i < st->npend; i++)
        if (st->pend[i].piece == piece) {
            if (idx != NULL)
                *idx = i;
            return &st->pend[i];
        }
    return NULL;
}

int live_storage_block(live_storage *st, uint32_t piece, uint32_t begin, const void *data,
                       uint32_t len)
{
    if (piece >= st->m->npieces || (uint64_t)begin + len > piece_size(st, piece))
        return -1;
    pending *p = find_pending(st, piece, NULL);
    if (p == NULL) {
        if (st->npend == st->pend_cap) {
            uint32_t ncap = st->pend_cap ? st->pend_cap * 2 : 16;
            pending *np = realloc(st->pend, ncap * sizeof(*np));
            if (np == NULL)
                return -1;
            st->pend = np;
            st->pend_cap = ncap;
        }
        /* every block arrives before the verify, except those wholly in padding (BEP 47),
         * which the engine does not request: they must be zeros. A buffer fits any piece. */
        uint8_t *buf = st->nspare > 0 ? st->spare[--st->nspare] : malloc(st->m->piece_length);
        if (buf != NULL && st->has_pad)
            memset(buf, 0, st->m->piece_length);
        if (buf == NULL)
            return -1;
        p = &st->pend[st->npend++];
        p->piece = piece;
        p->buf = buf;
    }
    memcpy(p->buf + begin, data, len);
    return 0;
}

int live_storage_verify(live_storage *st, uint32_t piece, uint8_t digest[20], char *err,
                        size_t errlen)
{
    uint32_t idx;
    pending *p = piece < st->m->npieces ? find_pending(st, piece, &idx) : NULL;
    if (p == NULL) { /* nothing received: a digest that cannot match */
        bt_sha1("", 0, digest);
        digest[0] ^= 0xff;
        return 0;
    }
    uint32_t n = piece_size(st, piece);
    bt_sha1(p->buf, n, digest);
    int rv = 0;
    if (memcmp(digest, st->m->piece_hashes + (size_t)piece * 20, 20) == 0 &&
        span_io(st, (uint64_t)piece * st->m->piece_length, p->buf, n, true) != 0) {
        seterr(err, errlen, "%s: write error: %s", st->dir, strerror(errno));
        rv = -1;
    }
    free(p->buf);
    st->pend[idx] = st->pend[--st->npend];
    return rv;
}

/* The verify thread's write: a whole verified piece at its offset. */
static int write_piece(void *arg, uint32_t piece, const uint8_t *buf, uint32_t len, char *err,
                       size_t errlen)
{
    live_storage *st = arg;
    if (span_io(st, (uint64_t)piece * st->m->piece_length, (uint8_t *)buf, len, true) == 0)
        return 0;
    seterr(err, errlen, "%s: write error: %s", st->dir, strerror(errno));
    return -1;
}

int live_storage_verify_start(live_storage *st, uint32_t piece)
{
    uint32_t idx;
    pending *p = piece < st->m->npieces ? find_pending(st, piece, &idx) : NULL;
    if (p == NULL)
        return 1;
    if (st->v == NULL && (st->v = live_verifier_new(write_piece, st)) == NULL)
        return -1;
    if (live_verifier_submit(st->v, piece, p->buf, piece_size(st, piece),
                             st->m->piece_hashes + (size_t)piece * 20) != 0)
        return -1;
    st->pend[idx] = st->pend[--st->npend]; /* the buffer now belongs to the job */
    return 0;
}

int live_storage_verify_fd(const live_storage *st)
{
    return st->v != NULL ? live_verifier_fd(st->v) : -1;
}

int live_storage_verify_collect(live_storage *st, uint32_t *piece, uint8_t digest[20],
                                const uint8_t **data, char *err, size_t errlen)
{
    uint8_t *buf = NULL;
    int rv = st->v != NULL ? live_verifier_collect(st->v, piece, digest, &buf, err, errlen) : 0;
    if (data != NULL)
        *data = rv == 1 ? buf : NULL;
    free(st->lent); /* a buffer the spare list had no room for, lent until this call */
    st->lent = NULL;
    if (buf != NULL && st->nspare == st->spare_cap &&
        (uint64_t)st->spare_cap * st->m->piece_length < SPARE_BYTES) {
        uint32_t ncap = st->spare_cap ? st->spare_cap * 2 : 16;
        uint8_t **n = realloc(st->spare, ncap * sizeof(*n));
        if (n != NULL) {
            st->spare = n;
            st->spare_cap = ncap;
        }
    }
    if (buf != NULL && st->nspare < st->spare_cap)
        st->spare[st->nspare++] = buf; /* unchanged until the next live_storage_block */
    else
        st->lent = buf;
    return rv;
}

bool live_storage_backlogged(const live_storage *st, bool paused)
{
    uint64_t high = (uint64_t)st->m->piece_length * 4 > VERIFY_HIGH
                        ? (uint64_t)st->m->piece_length * 4
                        : VERIFY_HIGH;
    uint64_t queued =
        st->v != NULL ? (uint64_t)live_verifier_inflight(st->v) * st->m->piece_length : 0;
    return paused ? queued > high / 2 : queued > high;
}

uint32_t live_storage_pending(const live_storage *st)
{
    return st->npend + (st->v != NULL ? live_verifier_inflight(st->v) : 0);
}
