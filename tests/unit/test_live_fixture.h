/* tests/unit/test_live_fixture.h: helpers for the live/ tests: torrents made in memory from
 * pseudo-random content, temporary directories, and whole-file comparison. */
#ifndef TEST_LIVE_FIXTURE_H
#define TEST_LIVE_FIXTURE_H

#include "live.h"

typedef struct tl_file {
    const char *path;
    uint64_t length;
} tl_file;

typedef struct tl_torrent {
    bt_metainfo *m;
    uint8_t *content; /* total_length bytes, the torrent's data in order */
} tl_torrent;

/* Makes a torrent named |name| (multi-file when |multi|) of |n| files with content from
 * PCG32 seeded by |seed|. Returns 0 or -1. */
int tl_torrent_make(tl_torrent *t, const char *name, bool multi, const tl_file *files, size_t n,
                    uint32_t piece_len, uint64_t seed);
void tl_torrent_free(tl_torrent *t);
/* Writes the torrent's whole content under |dir| (as the storage lays it out). 0 or -1. */
int tl_write_content(const tl_torrent *t, const char *dir);
/* mkdtemp under $TMPDIR or /tmp into |out| (at least 64 bytes). 0 or -1. */
int tl_tmpdir(char *out, size_t len);
/* rm -rf |dir| (no symlinks followed). */
void tl_rmtree(const char *dir);
/* Reads file |path| whole; returns its size or -1. |*out| is malloc'd. */
long tl_slurp(const char *path, uint8_t **out);

#endif
