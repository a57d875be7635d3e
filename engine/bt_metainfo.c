/* bt_metainfo.c: parsing of v1 .torrent files (BEP 3, BEP 12, BEP 27, BEP 47 pad files):
 * info-hash over the raw info bytes, sanitised paths, limits, and the default piece length.
 * Never opens a file. */
#include "bt_metainfo.h"
#include "bt_bencode.h"
#include "bt_mem.h"

#include <assert.h>
#include <string.h>

/* The parse in progress: the decoded document, the result and the first error. */
typedef struct mparse {
    bt_ben_doc doc;
    bt_metainfo *m;
    uint32_t info;
    size_t err_off;
    const char *err_msg;
} mparse;

static int fail(mparse *p, int code, uint32_t tok, const char *msg)
{
    p->err_off = tok < p->doc.ntoks ? p->doc.toks[tok].start : 0;
    p->err_msg = msg;
    return code;
}

bool bt_metainfo_component_ok(const uint8_t *s, size_t n)
{
    if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '/' || s[i] == '\\')
            return false;
    return true;
}

uint32_t bt_metainfo_default_piece_length(uint64_t total)
{
    uint32_t p = 16u << 10;
    while (p < (16u << 20) && (total + p - 1) / p > 2000)
        p <<= 1;
    return p;
}

/* Copies the string token |tok| as a C string (an embedded NUL just shortens it). */
static char *dup_str(mparse *p, uint32_t tok)
{
    const bt_ben_tok *t = &p->doc.toks[tok];
    return bt_strndup(p->m->mem, (const char *)p->doc.buf + t->str_off, t->str_len);
}

/* name, piece length, pieces, private. */
static int parse_info_head(mparse *p)
{
    bt_metainfo *m = p->m;
    const bt_ben_doc *d = &p->doc;
    uint32_t t = bt_ben_dict_get(d, p->info, "name");
    const uint8_t *s;
    size_t n;
    if (!bt_ben_get_str(d, t, &s, &n))
        return fail(p, BT_ERR_PROTO, p->info, "info has no string 'name'");
    if (!bt_metainfo_component_ok(s, n))
        return fail(p, BT_ERR_INVALID, t, "unsafe torrent name");
    if (n > BT_META_MAX_PATH)
        return fail(p, BT_ERR_LIMIT, t, "torrent name too long");
    if ((m->name = dup_str(p, t)) == NULL)
        return BT_ERR_NOMEM;
    int64_t v;
    t = bt_ben_dict_get(d, p->info, "piece length");
    if (!bt_ben_get_int(d, t, &v))
        return fail(p, BT_ERR_PROTO, p->info, "info has no integer 'piece length'");
    if (v <= 0)
        return fail(p, BT_ERR_PROTO, t, "piece length is not positive");
    if (v > (int64_t)BT_META_MAX_PIECE_LEN)
        return fail(p, BT_ERR_LIMIT, t, "piece length too large");
    m->piece_length = (uint32_t)v;
    t = bt_ben_dict_get(d, p->info, "pieces");
    if (t == BT_BEN_NONE && bt_ben_dict_get(d, p->info, "meta version") != BT_BEN_NONE)
        return fail(p, BT_ERR_PROTO, p->info, "v2-only torrents are not supported");
    if (!bt_ben_get_str(d, t, &s, &n))
        return fail(p, BT_ERR_PROTO, p->info, "info has no string 'pieces'");
    if (n % BT_SHA1_LEN != 0)
        return fail(p, BT_ERR_PROTO, t, "pieces length is not a multiple of 20");
    /* BEP 27: private=1 restricts peers to the tracker's. */
    m->is_private = bt_ben_dict_int(d, p->info, "private", &v) && v == 1;
    return 0;
}

/* Adds |len| to the total, checking for overflow. */
static bool add_total(bt_metainfo *m, int64_t len)
{
    if ((uint64_t)len > (uint64_t)INT64_MAX - m->total_length)
        return false;
    m->total_length += (uint64_t)len;
    return true;
}

/* Joins the path list |list| with '/' into a new string, checking every component. */
static int join_path(mparse *p, uint32_t list, char **out)
{
    const bt_ben_doc *d = &p->doc;
    uint32_t count = d->toks[list].count;
    if (count == 0)
        return fail(p, BT_ERR_INVALID, list, "empty file path");
    size_t total = 0;
    for (uint32_t i = 0, t = list + 1; i < count; i++, t = d->toks[t].next) {
        const uint8_t *s;
        size_t n;
        if (!bt_ben_get_str(d, t, &s, &n))
            return fail(p, BT_ERR_PROTO, t, "path component is not a string");
        if (!bt_metainfo_component_ok(s, n))
            return fail(p, BT_ERR_INVALID, t, "unsafe path component");
        total += n + 1;
        if (total > BT_META_MAX_PATH + 1)
            return fail(p, BT_ERR_LIMIT, list, "file path too long");
    }
    char *path = bt_malloc(p->m->mem, total);
    if (path == NULL)
        return BT_ERR_NOMEM;
    size_t off = 0;
    for (uint32_t i = 0, t = list + 1; i < count; i++, t = d->toks[t].next) {
        memcpy(path + off, d->buf + d->toks[t].str_off, d->toks[t].str_len);
        off += d->toks[t].str_len;
        path[off++] = i + 1 < count ? '/' : '\0';
    }
    *out = path;
    return 0;
}

/* BEP 47: the optional 'attr' string of a file entry; 'p' marks a pad file. */
static int parse_attr(mparse *p, uint32_t ft, bt_file_entry *fe)
{
    const bt_ben_doc *d = &p->doc;
    uint32_t t = bt_ben_dict_get(d, ft, "attr");
    if (t == BT_BEN_NONE)
        return 0;
    const uint8_t *s;
    size_t n;
    if (!bt_ben_get_str(d, t, &s, &n))
        return fail(p, BT_ERR_PROTO, t, "file attr is not a string");
    if (n > BT_META_MAX_ATTR)
        return fail(p, BT_ERR_LIMIT, t, "file attr too long");
    fe->is_pad = memchr(s, 'p', n) != NULL;
    return 0;
}

/* One entry of info.files: {length, path, attr}. */
static int parse_file(mparse *p, uint32_t ft, bt_file_entry *fe)
{
    const bt_ben_doc *d = &p->doc;
    if (d->toks[ft].type != BT_BEN_DICT)
        return fail(p, BT_ERR_PROTO, ft, "file entry is not a dictionary");
    int64_t len;
    uint32_t t = bt_ben_dict_get(d, ft, "length");
    if (!bt_ben_get_int(d, t, &len))
        return fail(p, BT_ERR_PROTO, ft, "file entry has no integer 'length'");
    if (len < 0)
        return fail(p, BT_ERR_PROTO, t, "negative file length");
    fe->length = (uint64_t)len;
    fe->offset = p->m->total_length;
    if (!add_total(p->m, len))
        return fail(p, BT_ERR_LIMIT, t, "total length too large");
    int rc = parse_attr(p, ft, fe);
    if (rc != 0)
        return rc;
    t = bt_ben_dict_get(d, ft, "path");
    if (t == BT_BEN_NONE || d->toks[t].type != BT_BEN_LIST)
        return fail(p, BT_ERR_PROTO, ft, "file entry has no list 'path'");
    return join_path(p, t, &fe->path);
}

/* Compares two paths bytewise with '/' ordered before every other byte, so that a path is
 * immediately followed by the paths below it. */
static int path_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned ca = *a == '/' ? 1u : (unsigned char)*a;
        unsigned cb = *b == '/' ? 1u : (unsigned char)*b;
        if (ca != cb || ca == 0)
            return ca < cb ? -1 : ca > cb;
    }
}

/* Bottom-up merge sort of |idx| (n entries) by path, using |tmp| as scratch. */
static void sort_by_path(const bt_file_entry *f, uint32_t *idx, uint32_t *tmp, uint32_t n)
{
    for (uint32_t w = 1; w < n; w *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * w) {
            uint32_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = path_cmp(f[idx[j]].path, f[idx[i]].path) < 0 ? idx[j++] : idx[i++];
            while (i < mid)
                tmp[k++] = idx[i++];
            while (j < hi)
                tmp[k++] = idx[j++];
        }
        memcpy(idx, tmp, (size_t)n * sizeof(*idx));
    }
}

/* Rejects two files with the same path, and a file whose path is another file's directory.
 * Pad files (BEP 47) are never created, so they are left out: libtorrent names them
 * ".pad/<size>", and two pads of one size share a path. */
static int check_collisions(mparse *p, uint32_t files)
{
    const bt_metainfo *m = p->m;
    uint32_t *idx = bt_malloc(m->mem, 2 * (size_t)m->nfiles * sizeof(*idx));
    if (idx == NULL)
        return BT_ERR_NOMEM;
    uint32_t nreal = 0;
    for (uint32_t i = 0; i < m->nfiles; i++)
        if (!m->files[i].is_pad)
            idx[nreal++] = i;
    sort_by_path(m->files, idx, idx + m->nfiles, nreal);
    int rc = 0;
    for (uint32_t i = 0; i + 1 < nreal && rc == 0; i++) {
        const char *a = m->files[idx[i]].path, *b = m->files[idx[i + 1]].path;
        size_t n = strlen(a);
        if (strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/')) {
            uint32_t later = idx[i] > idx[i + 1] ? idx[i] : idx[i + 1];
            rc = fail(p, BT_ERR_INVALID, bt_ben_list_at(&p->doc, files, later),
                      b[n] == '\0' ? "duplicate file path" : "file path is also a directory");
        }
    }
    bt_free(m->mem, idx);
    return rc;
}

/* info.files (multi-file) or info.length (single file). */
static int parse_files(mparse *p)
{
    bt_metainfo *m = p->m;
    const bt_ben_doc *d = &p->doc;
    uint32_t lt = bt_ben_dict_get(d, p->info, "length");
    uint32_t ft = bt_ben_dict_get(d, p->info, "files");
    if ((lt == BT_BEN_NONE) == (ft == BT_BEN_NONE))
        return fail(p, BT_ERR_PROTO, p->info, "info needs exactly one of 'length' and 'files'");
    if (lt != BT_BEN_NONE) {
        int64_t len;
        if (!bt_ben_get_int(d, lt, &len) || len < 0)
            return fail(p, BT_ERR_PROTO, lt, "length is not a non-negative integer");
        if ((m->files = bt_calloc(m->mem, 1, sizeof(*m->files))) == NULL)
            return BT_ERR_NOMEM;
        m->nfiles = 1;
        m->total_length = (uint64_t)len;
        m->files[0].length = (uint64_t)len;
        return (m->files[0].path = bt_strdup(m->mem, m->name)) == NULL ? BT_ERR_NOMEM : 0;
    }
    if (d->toks[ft].type != BT_BEN_LIST || d->toks[ft].count == 0)
        return fail(p, BT_ERR_PROTO, ft, "files is not a non-empty list");
    if (d->toks[ft].count > BT_META_MAX_FILES)
        return fail(p, BT_ERR_LIMIT, ft, "too many files");
    m->multi_file = true;
    m->files = bt_calloc(m->mem, d->toks[ft].count, sizeof(*m->files));
    if (m->files == NULL)
        return BT_ERR_NOMEM;
    for (uint32_t i = 0, t = ft + 1; i < d->toks[ft].count; i++, t = d->toks[t].next) {
        m->nfiles = i + 1; /* so that bt_metainfo_del frees a partial entry */
        int rc = parse_file(p, t, &m->files[i]);
        if (rc != 0)
            return rc;
    }
    return check_collisions(p, ft);
}

/* A tracker URL must be a non-empty string without control bytes (it is printed and sent). */
static bool url_ok(const bt_ben_doc *d, uint32_t t)
{
    const uint8_t *s;
    size_t n;
    if (!bt_ben_get_str(d, t, &s, &n) || n == 0 || n > BT_META_MAX_PATH)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* Appends tracker |t| in |tier| unless it is already listed. Returns 1 if added. */
static int add_tracker(mparse *p, uint32_t t, uint32_t tier)
{
    bt_metainfo *m = p->m;
    const bt_ben_tok *k = &p->doc.toks[t];
    for (uint32_t i = 0; i < m->ntrackers; i++)
        if (strlen(m->trackers[i]) == k->str_len &&
            memcmp(m->trackers[i], p->doc.buf + k->str_off, k->str_len) == 0)
            return 0;
    if (m->ntrackers == BT_META_MAX_TRACKERS)
        return fail(p, BT_ERR_LIMIT, t, "too many trackers");
    char *url = dup_str(p, t);
    if (url == NULL)
        return BT_ERR_NOMEM;
    m->trackers[m->ntrackers] = url;
    m->tracker_tier[m->ntrackers++] = tier;
    return 1;
}

/* BEP 12: announce-list (tiers of URLs) replaces announce when it yields any URL. Entries of
 * the wrong type, empty or with control bytes are skipped; duplicates keep their first tier;
 * tiers are renumbered 0.. over the tiers that contributed a URL. */
static int parse_trackers(mparse *p, uint32_t root)
{
    bt_metainfo *m = p->m;
    const bt_ben_doc *d = &p->doc;
    m->trackers = bt_calloc(m->mem, BT_META_MAX_TRACKERS, sizeof(*m->trackers));
    m->tracker_tier = bt_calloc(m->mem, BT_META_MAX_TRACKERS, sizeof(*m->tracker_tier));
    if (m->trackers == NULL || m->tracker_tier == NULL)
        return BT_ERR_NOMEM;
    uint32_t al = bt_ben_dict_get(d, root, "announce-list"), tier = 0;
    uint32_t ntiers = al != BT_BEN_NONE && d->toks[al].type == BT_BEN_LIST ? d->toks[al].count : 0;
    for (uint32_t i = 0, tt = al + 1; i < ntiers; i++, tt = d->toks[tt].next) {
        bool used = false;
        uint32_t n = d->toks[tt].type == BT_BEN_LIST ? d->toks[tt].count : 0;
        for (uint32_t j = 0, u = tt + 1; j < n; j++, u = d->toks[u].next) {
            int rc = url_ok(d, u) ? add_tracker(p, u, tier) : 0;
            if (rc < 0)
                return rc;
            used = used || rc == 1;
        }
        tier += used;
    }
    uint32_t a = bt_ben_dict_get(d, root, "announce");
    if (m->ntrackers == 0 && url_ok(d, a)) {
        int rc = add_tracker(p, a, 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* comment, created by, creation date: optional; wrong types are ignored. */
static int parse_extras(mparse *p, uint32_t root)
{
    bt_metainfo *m = p->m;
    uint32_t t = bt_ben_dict_get(&p->doc, root, "comment");
    if (t != BT_BEN_NONE && p->doc.toks[t].type == BT_BEN_STR &&
        (m->comment = dup_str(p, t)) == NULL)
        return BT_ERR_NOMEM;
    t = bt_ben_dict_get(&p->doc, root, "created by");
    if (t != BT_BEN_NONE && p->doc.toks[t].type == BT_BEN_STR &&
        (m->created_by = dup_str(p, t)) == NULL)
        return BT_ERR_NOMEM;
    if (!bt_ben_dict_int(&p->doc, root, "creation date", &m->creation_date))
        m->creation_date = -1;
    return 0;
}

/* Checks that the piece hashes cover the total length exactly, and copies them. */
static int parse_pieces(mparse *p)
{
    bt_metainfo *m = p->m;
    uint32_t t = bt_ben_dict_get(&p->doc, p->info, "pieces");
    if (m->total_length == 0)
        return fail(p, BT_ERR_PROTO, p->info, "torrent holds no data (total length 0)");
    uint64_t want = (m->total_length - 1) / m->piece_length + 1;
    uint64_t have = p->doc.toks[t].str_len / BT_SHA1_LEN;
    if (want != have)
        return fail(p, BT_ERR_PROTO, t, "piece count does not match the total length");
    m->npieces = (uint32_t)have;
    m->piece_hashes = bt_malloc(m->mem, (size_t)have * BT_SHA1_LEN);
    if (m->piece_hashes == NULL)
        return BT_ERR_NOMEM;
    memcpy(m->piece_hashes, p->doc.buf + p->doc.toks[t].str_off, (size_t)have * BT_SHA1_LEN);
    return 0;
}

static int parse_doc(mparse *p)
{
    if (p->doc.toks[0].type != BT_BEN_DICT)
        return fail(p, BT_ERR_PROTO, 0, "torrent is not a dictionary");
    p->info = bt_ben_dict_get(&p->doc, 0, "info");
    if (p->info == BT_BEN_NONE)
        return fail(p, BT_ERR_PROTO, 0, "no 'info' dictionary");
    if (p->doc.toks[p->info].type != BT_BEN_DICT)
        return fail(p, BT_ERR_PROTO, p->info, "'info' is not a dictionary");
    const bt_ben_tok *it = &p->doc.toks[p->info];
    bt_sha1(p->doc.buf + it->start, it->end - it->start, p->m->info_hash);
    int rc = parse_info_head(p);
    if (rc == 0)
        rc = parse_files(p);
    if (rc == 0)
        rc = parse_pieces(p);
    if (rc == 0)
        rc = parse_trackers(p, 0);
    if (rc == 0)
        rc = parse_extras(p, 0);
    size_t ilen = it->end - it->start;
    if (rc == 0 && ilen <= BT_META_MAX_INFO_RAW) { /* kept to serve it over BEP 9 */
        if ((p->m->info_raw = bt_malloc(p->m->mem, ilen)) == NULL)
            return BT_ERR_NOMEM;
        memcpy(p->m->info_raw, p->doc.buf + it->start, ilen);
        p->m->info_len = ilen;
    }
    return rc;
}

int bt_metainfo_parse(bt_metainfo **out, const uint8_t *buf, size_t len, const bt_mem *mem,
                      size_t *err_off, const char **err_msg)
{
    /* A file costs 6 tokens plus one per extra path component; 2M tokens (80 MB at most)
     * leave room for BT_META_MAX_FILES files about 15 components deep. */
    bt_ben_limits lim = {64, 1u << 21, BT_META_MAX_INPUT};
    mparse p = {.err_off = 0, .err_msg = NULL};
    bt_ben_error be = {0, NULL};
    *out = NULL;
    int rc = bt_ben_parse(&p.doc, buf, len, &lim, mem, &be);
    if (rc != 0) {
        p.err_off = be.offset;
        p.err_msg = be.msg;
    } else if ((p.m = bt_calloc(mem, 1, sizeof(*p.m))) == NULL) {
        rc = BT_ERR_NOMEM;
    } else {
        p.m->mem = mem;
        rc = parse_doc(&p);
    }
    bt_ben_free(&p.doc);
    if (rc == BT_ERR_NOMEM && p.err_msg == NULL)
        p.err_msg = "out of memory";
    if (rc != 0) {
        bt_metainfo_del(p.m);
        if (err_off != NULL)
            *err_off = p.err_off;
        if (err_msg != NULL)
            *err_msg = p.err_msg;
        return rc;
    }
    *out = p.m;
    return 0;
}

uint32_t bt_metainfo_pad_ranges(const bt_metainfo *m, bt_byte_range *out, uint32_t max)
{
    uint32_t n = 0;
    uint64_t end = 0; /* end of the last range */
    for (uint32_t i = 0; i < m->nfiles; i++) {
        const bt_file_entry *f = &m->files[i];
        if (!f->is_pad || f->length == 0)
            continue;
        if (n > 0 && end == f->offset) { /* adjacent: merge */
            if (n <= max)
                out[n - 1].length += f->length;
        } else {
            if (n < max)
                out[n] = (bt_byte_range){f->offset, f->length};
            n++;
        }
        end = f->offset + f->length;
    }
    return n;
}

/* bt_free for pointers that may be NULL. */
static void xfree(const bt_mem *mem, void *ptr)
{
    if (ptr != NULL)
        bt_free(mem, ptr);
}

void bt_metainfo_del(bt_metainfo *m)
{
    if (m == NULL)
        return;
    const bt_mem *mem = m->mem;
    assert(mem != NULL);
    for (uint32_t i = 0; m->files != NULL && i < m->nfiles; i++)
        xfree(mem, m->files[i].path);
    for (uint32_t i = 0; m->trackers != NULL && i < m->ntrackers; i++)
        xfree(mem, m->trackers[i]);
    xfree(mem, m->files);
    xfree(mem, m->trackers);
    xfree(mem, m->tracker_tier);
    xfree(mem, m->piece_hashes);
    xfree(mem, m->info_raw);
    xfree(mem, m->name);
    xfree(mem, m->comment);
    xfree(mem, m->created_by);
    bt_free(mem, m);
}
