/* bt_mktorrent.c: creation of v1 .torrent files (BEP 3, BEP 12, BEP 27) from file lengths and
 * contents fed by the host; pieces are hashed streaming across file boundaries. Never opens a
 * file or reads the clock (the creation date is passed in). */
#include "bt_bencode.h"
#include "bt_mem.h"
#include "bt_metainfo.h"

#include <assert.h>
#include <string.h>

typedef struct mk_file {
    char *path;
    uint64_t length;
} mk_file;

typedef struct mk_tracker {
    char *url;
    uint32_t tier;
} mk_tracker;

struct bt_mktorrent {
    const bt_mem *mem;
    char *name;
    uint32_t piece_length;
    bool multi_file;
    bool is_private;
    mk_file *files;
    uint32_t nfiles, files_cap;
    uint64_t total; /* declared bytes */
    uint64_t fed;   /* bytes fed so far */
    bt_sha1_ctx *sha;
    uint32_t piece_fill; /* bytes of the current piece hashed so far */
    bt_buf hashes;       /* 20 bytes per finished piece */
    mk_tracker trackers[BT_META_MAX_TRACKERS];
    uint32_t ntrackers;
    char *comment;
    char *created_by;
    int64_t creation_date;
};

int bt_mktorrent_new(bt_mktorrent **out, const char *name, uint32_t piece_length, bool multi_file,
                     const bt_mem *mem)
{
    *out = NULL;
    if (!bt_metainfo_component_ok((const uint8_t *)name, strlen(name)) ||
        strlen(name) > BT_META_MAX_PATH)
        return BT_ERR_INVALID;
    if (piece_length < (16u << 10) || piece_length > BT_META_MAX_PIECE_LEN ||
        (piece_length & (piece_length - 1)) != 0)
        return BT_ERR_INVALID;
    bt_mktorrent *mk = bt_calloc(mem, 1, sizeof(*mk));
    if (mk == NULL)
        return BT_ERR_NOMEM;
    mk->mem = mem;
    mk->piece_length = piece_length;
    mk->multi_file = multi_file;
    mk->creation_date = -1;
    /* 20 bytes per piece; add_file keeps the piece count within uint32. */
    bt_buf_init(&mk->hashes, mem, 0);
    mk->name = bt_strdup(mem, name);
    mk->created_by = bt_strdup(mem, "swarmlab");
    if (mk->name == NULL || mk->created_by == NULL || bt_sha1_new(&mk->sha, mem) != 0) {
        bt_mktorrent_del(mk);
        return BT_ERR_NOMEM;
    }
    *out = mk;
    return 0;
}

static void xfree(const bt_mem *mem, void *p)
{
    if (p != NULL)
        bt_free(mem, p);
}

void bt_mktorrent_del(bt_mktorrent *mk)
{
    if (mk == NULL)
        return;
    for (uint32_t i = 0; i < mk->nfiles; i++)
        xfree(mk->mem, mk->files[i].path);
    for (uint32_t i = 0; i < mk->ntrackers; i++)
        xfree(mk->mem, mk->trackers[i].url);
    xfree(mk->mem, mk->files);
    xfree(mk->mem, mk->name);
    xfree(mk->mem, mk->comment);
    xfree(mk->mem, mk->created_by);
    bt_sha1_del(mk->sha);
    bt_buf_free(&mk->hashes);
    bt_free(mk->mem, mk);
}

/* True if |path| is a '/'-separated list of components that each pass component_ok. */
static bool path_ok(const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || n > BT_META_MAX_PATH)
        return false;
    const char *s = path;
    for (;;) {
        const char *slash = strchr(s, '/');
        size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
        if (!bt_metainfo_component_ok((const uint8_t *)s, len))
            return false;
        if (slash == NULL)
            return true;
        s = slash + 1;
    }
}

int bt_mktorrent_add_file(bt_mktorrent *mk, const char *path, uint64_t length)
{
    if (!path_ok(path))
        return BT_ERR_INVALID;
    if ((!mk->multi_file && mk->nfiles == 1) || mk->fed != 0)
        return BT_ERR_STATE;
    if (mk->nfiles == BT_META_MAX_FILES || length > (uint64_t)INT64_MAX - mk->total)
        return BT_ERR_LIMIT;
    uint64_t pieces = (mk->total + length + mk->piece_length - 1) / mk->piece_length;
    if (pieces > UINT32_MAX)
        return BT_ERR_LIMIT;
    if (mk->nfiles == mk->files_cap) {
        uint32_t cap = mk->files_cap == 0 ? 16 : mk->files_cap * 2;
        mk_file *f = bt_realloc(mk->mem, mk->files, (size_t)cap * sizeof(*f));
        if (f == NULL)
            return BT_ERR_NOMEM;
        mk->files = f;
        mk->files_cap = cap;
    }
    char *copy = bt_strdup(mk->mem, path);
    if (copy == NULL)
        return BT_ERR_NOMEM;
    mk->files[mk->nfiles++] = (mk_file){copy, length};
    mk->total += length;
    return 0;
}

int bt_mktorrent_feed(bt_mktorrent *mk, const uint8_t *data, size_t len)
{
    if (len > mk->total - mk->fed)
        return BT_ERR_STATE;
    while (len > 0) {
        size_t take = mk->piece_length - mk->piece_fill;
        if (take > len)
            take = len;
        bt_sha1_update(mk->sha, data, take);
        data += take;
        len -= take;
        mk->fed += take;
        mk->piece_fill += (uint32_t)take;
        if (mk->piece_fill == mk->piece_length) {
            uint8_t h[BT_SHA1_LEN];
            bt_sha1_final(mk->sha, h);
            bt_buf_put(&mk->hashes, h, sizeof(h));
            mk->piece_fill = 0;
        }
    }
    return mk->hashes.err;
}

int bt_mktorrent_add_tracker(bt_mktorrent *mk, const char *url, uint32_t tier)
{
    size_t n = strlen(url);
    if (n == 0 || n > BT_META_MAX_PATH)
        return BT_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)url[i] < 0x20 || url[i] == 0x7f)
            return BT_ERR_INVALID;
    if (mk->ntrackers > 0 && tier < mk->trackers[mk->ntrackers - 1].tier)
        return BT_ERR_INVALID;
    for (uint32_t i = 0; i < mk->ntrackers; i++)
        if (strcmp(mk->trackers[i].url, url) == 0)
            return BT_ERR_EXISTS;
    if (mk->ntrackers == BT_META_MAX_TRACKERS)
        return BT_ERR_LIMIT;
    char *copy = bt_strdup(mk->mem, url);
    if (copy == NULL)
        return BT_ERR_NOMEM;
    mk->trackers[mk->ntrackers++] = (mk_tracker){copy, tier};
    return 0;
}

void bt_mktorrent_set_private(bt_mktorrent *mk, bool is_private)
{
    mk->is_private = is_private;
}

/* Replaces the string *|dst| with a copy of |s| (NULL clears it). */
static int set_str(bt_mktorrent *mk, char **dst, const char *s)
{
    char *copy = NULL;
    if (s != NULL && (copy = bt_strdup(mk->mem, s)) == NULL)
        return BT_ERR_NOMEM;
    xfree(mk->mem, *dst);
    *dst = copy;
    return 0;
}

int bt_mktorrent_set_comment(bt_mktorrent *mk, const char *comment)
{
    return set_str(mk, &mk->comment, comment);
}

int bt_mktorrent_set_created_by(bt_mktorrent *mk, const char *created_by)
{
    return set_str(mk, &mk->created_by, created_by);
}

void bt_mktorrent_set_creation_date(bt_mktorrent *mk, int64_t unix_time)
{
    mk->creation_date = unix_time;
}

/* Emits a '/'-separated path as a list of components. */
static void put_path(bt_buf *b, const char *path)
{
    bt_ben_put_list(b);
    for (;;) {
        const char *slash = strchr(path, '/');
        size_t len = slash != NULL ? (size_t)(slash - path) : strlen(path);
        bt_ben_put_str(b, path, len);
        if (slash == NULL)
            break;
        path = slash + 1;
    }
    bt_ben_put_end(b);
}

/* The info dict, keys in sorted order (BEP 3). */
static void put_info(const bt_mktorrent *mk, bt_buf *b)
{
    bt_ben_put_dict(b);
    if (mk->multi_file) {
        bt_ben_put_cstr(b, "files");
        bt_ben_put_list(b);
        for (uint32_t i = 0; i < mk->nfiles; i++) {
            bt_ben_put_dict(b);
            bt_ben_put_cstr(b, "length");
            bt_ben_put_int(b, (int64_t)mk->files[i].length);
            bt_ben_put_cstr(b, "path");
            put_path(b, mk->files[i].path);
            bt_ben_put_end(b);
        }
        bt_ben_put_end(b);
    } else {
        bt_ben_put_cstr(b, "length");
        bt_ben_put_int(b, (int64_t)mk->total);
    }
    bt_ben_put_cstr(b, "name");
    bt_ben_put_cstr(b, mk->name);
    bt_ben_put_cstr(b, "piece length");
    bt_ben_put_int(b, mk->piece_length);
    bt_ben_put_cstr(b, "pieces");
    bt_ben_put_str(b, mk->hashes.data, mk->hashes.len);
    if (mk->is_private) { /* BEP 27 */
        bt_ben_put_cstr(b, "private");
        bt_ben_put_int(b, 1);
    }
    bt_ben_put_end(b);
}

/* BEP 12: announce-list is a list of tiers, each a list of URLs. */
static void put_announce_list(const bt_mktorrent *mk, bt_buf *b)
{
    bt_ben_put_cstr(b, "announce-list");
    bt_ben_put_list(b);
    for (uint32_t i = 0; i < mk->ntrackers; i++) {
        if (i == 0 || mk->trackers[i].tier != mk->trackers[i - 1].tier) {
            if (i > 0)
                bt_ben_put_end(b);
            bt_ben_put_list(b);
        }
        bt_ben_put_cstr(b, mk->trackers[i].url);
    }
    bt_ben_put_end(b);
    bt_ben_put_end(b);
}

int bt_mktorrent_finish(bt_mktorrent *mk, bt_buf *out, uint8_t info_hash[20])
{
    if (mk->nfiles == 0 || mk->fed != mk->total)
        return BT_ERR_STATE;
    if (mk->total == 0)
        return BT_ERR_INVALID;
    if (mk->piece_fill > 0) {
        uint8_t h[BT_SHA1_LEN];
        bt_sha1_final(mk->sha, h);
        bt_buf_put(&mk->hashes, h, sizeof(h));
        mk->piece_fill = 0;
    }
    if (mk->hashes.err != 0)
        return mk->hashes.err;
    size_t start = out->len;
    bt_ben_put_dict(out);
    if (mk->ntrackers > 0) {
        bt_ben_put_cstr(out, "announce");
        bt_ben_put_cstr(out, mk->trackers[0].url);
    }
    if (mk->ntrackers > 1)
        put_announce_list(mk, out);
    if (mk->comment != NULL) {
        bt_ben_put_cstr(out, "comment");
        bt_ben_put_cstr(out, mk->comment);
    }
    if (mk->created_by != NULL) {
        bt_ben_put_cstr(out, "created by");
        bt_ben_put_cstr(out, mk->created_by);
    }
    if (mk->creation_date >= 0) {
        bt_ben_put_cstr(out, "creation date");
        bt_ben_put_int(out, mk->creation_date);
    }
    bt_ben_put_cstr(out, "info");
    size_t info_start = out->len;
    put_info(mk, out);
    if (out->err == 0 && info_hash != NULL)
        bt_sha1(out->data + info_start, out->len - info_start, info_hash);
    bt_ben_put_end(out);
    if (out->err != 0)
        return out->err;
    assert(out->len > start);
    return 0;
}
