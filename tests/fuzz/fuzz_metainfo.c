/* tests/fuzz/fuzz_metainfo.c: libFuzzer target for bt_metainfo_parse. On success it checks the
 * invariants the rest of the engine relies on: piece count matches the total, file offsets
 * are contiguous, every path component is safe, BEP 47 pad ranges are ordered and disjoint,
 * trackers are distinct with ordered tiers, and the info-hash is the SHA-1 of the raw info
 * dict. */
#include "bt_bencode.h"
#include "bt_metainfo.h"

#include <assert.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *path)
{
    size_t n = strlen(path);
    assert(n > 0 && n <= BT_META_MAX_PATH);
    const char *s = path;
    for (;;) {
        const char *slash = strchr(s, '/');
        size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
        assert(bt_metainfo_component_ok((const uint8_t *)s, len));
        if (slash == NULL)
            break;
        s = slash + 1;
    }
}

static void check(const bt_metainfo *m, const uint8_t *data, size_t size)
{
    assert(m->total_length > 0 && m->piece_length > 0);
    assert(m->piece_length <= BT_META_MAX_PIECE_LEN);
    assert(m->npieces == (m->total_length - 1) / m->piece_length + 1);
    assert(m->piece_hashes != NULL);
    assert(bt_metainfo_component_ok((const uint8_t *)m->name, strlen(m->name)));
    assert(m->nfiles >= 1 && m->nfiles <= BT_META_MAX_FILES);
    assert(m->multi_file || m->nfiles == 1);
    uint64_t off = 0;
    for (uint32_t i = 0; i < m->nfiles; i++) {
        assert(m->files[i].offset == off);
        off += m->files[i].length;
        check_path(m->files[i].path);
        if (!m->multi_file)
            assert(strcmp(m->files[i].path, m->name) == 0);
        for (uint32_t j = 0; j < i && m->nfiles <= 64; j++) /* pad files may share a path */
            assert(m->files[i].is_pad || m->files[j].is_pad ||
                   strcmp(m->files[i].path, m->files[j].path) != 0);
    }
    assert(off == m->total_length);
    /* BEP 47 pad ranges: ordered, disjoint, non-empty, within the data. */
    bt_byte_range r[8];
    uint32_t npad = bt_metainfo_pad_ranges(m, r, 8);
    uint64_t end = 0;
    for (uint32_t i = 0; i < npad && i < 8; i++) {
        assert(r[i].length > 0 && (i == 0 || r[i].offset > end));
        end = r[i].offset + r[i].length;
        assert(end <= m->total_length);
    }
    assert(npad <= m->nfiles);
    assert(m->ntrackers <= BT_META_MAX_TRACKERS);
    for (uint32_t i = 0; i < m->ntrackers; i++) {
        assert(m->trackers[i][0] != '\0');
        assert(i == 0 ? m->tracker_tier[0] == 0
                      : m->tracker_tier[i] == m->tracker_tier[i - 1] ||
                            m->tracker_tier[i] == m->tracker_tier[i - 1] + 1);
        for (uint32_t j = 0; j < i; j++)
            assert(strcmp(m->trackers[i], m->trackers[j]) != 0);
    }
    /* The info-hash covers the raw "info" value: find it again through the bencode layer. */
    bt_ben_doc d;
    bt_ben_limits lim = {64, 1u << 21, BT_META_MAX_INPUT};
    int rc = bt_ben_parse(&d, data, size, &lim, bt_mem_default(), NULL);
    assert(rc == 0);
    uint32_t info = bt_ben_dict_get(&d, 0, "info");
    assert(info != BT_BEN_NONE);
    uint8_t h[BT_SHA1_LEN];
    bt_sha1(data + d.toks[info].start, d.toks[info].end - d.toks[info].start, h);
    assert(memcmp(h, m->info_hash, BT_SHA1_LEN) == 0);
    bt_ben_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bt_metainfo *m = NULL;
    size_t off = SIZE_MAX;
    const char *msg = NULL;
    int rc = bt_metainfo_parse(&m, data, size, bt_mem_default(), &off, &msg);
    if (rc != 0) {
        assert(rc == BT_ERR_PROTO || rc == BT_ERR_LIMIT || rc == BT_ERR_INVALID);
        assert(m == NULL && msg != NULL && off <= size);
        return 0;
    }
    assert(m != NULL);
    check(m, data, size);
    bt_metainfo_del(m);
    return 0;
}
