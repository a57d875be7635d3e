/* bt_metainfo.h: v1 .torrent files (BEP 3, BEP 12 announce-list, BEP 27 private): parsing with
 * the info-hash taken over the raw info-dict bytes and sanitised file paths, and creation from
 * file contents fed by the host (the engine never opens files).
 *   https://www.bittorrent.org/beps/bep_0003.html#metainfo-files
 *   https://www.bittorrent.org/beps/bep_0012.html
 *   https://www.bittorrent.org/beps/bep_0027.html */
#ifndef BT_METAINFO_H
#define BT_METAINFO_H

#include "bt_types.h"

#define BT_META_MAX_FILES 100000u
#define BT_META_MAX_PATH 4096u      /* bytes in a joined path */
#define BT_META_MAX_TRACKERS 256u
#define BT_META_MAX_PIECE_LEN (64u << 20)
#define BT_META_MAX_INPUT (64u << 20) /* bytes of a .torrent */

typedef struct bt_file_entry {
    char *path;      /* relative, '/'-separated, sanitised; for single-file torrents = name */
    uint64_t length;
    uint64_t offset; /* byte offset of the file within the torrent's data */
} bt_file_entry;

typedef struct bt_metainfo {
    uint8_t info_hash[20];
    char *name;                /* sanitised */
    uint64_t total_length;
    uint32_t piece_length;
    uint32_t npieces;
    uint8_t *piece_hashes;     /* 20 * npieces bytes */
    bt_file_entry *files;
    uint32_t nfiles;
    bool multi_file;
    bool is_private;           /* BEP 27 */
    char **trackers;           /* flattened announce-list (or just announce) */
    uint32_t *tracker_tier;    /* tier of each tracker */
    uint32_t ntrackers;
    char *comment;             /* NULL if absent */
    char *created_by;          /* NULL if absent */
    int64_t creation_date;     /* -1 if absent */
    const bt_mem *mem;
} bt_metainfo;

/* Parses a .torrent. On error returns BT_ERR_PROTO / BT_ERR_LIMIT / BT_ERR_INVALID (e.g. an
 * unsafe path) with *err_off (byte offset) and *err_msg (static text) set when non-NULL, or
 * BT_ERR_NOMEM. On success *out owns everything (free with bt_metainfo_del). */
int bt_metainfo_parse(bt_metainfo **out, const uint8_t *buf, size_t len, const bt_mem *mem,
                      size_t *err_off, const char **err_msg);
void bt_metainfo_del(bt_metainfo *m); /* NULL is a no-op */

/* Checks one path component: not empty, not "." or "..", no '/', '\\', NUL or control
 * characters. */
bool bt_metainfo_component_ok(const uint8_t *s, size_t n);

/* Piece length for |total| bytes: the power of two (16 KiB..16 MiB) giving about 1000-2000
 * pieces, at least 256 KiB for anything over 256 MiB... (see the implementation). */
uint32_t bt_metainfo_default_piece_length(uint64_t total);

/* ---- creation ---- */
typedef struct bt_mktorrent bt_mktorrent;

/* |name| is the torrent name (file or directory name). |piece_length| a power of two >= 16 KiB.
 * |multi_file|: produce a "files" list even for one file. */
int bt_mktorrent_new(bt_mktorrent **out, const char *name, uint32_t piece_length,
                     bool multi_file, const bt_mem *mem);
void bt_mktorrent_del(bt_mktorrent *mk);
/* Declares the next file ('/'-separated relative path, sanitised here) and its length;
 * files must then be fed in the same order. BT_ERR_INVALID on an unsafe path. */
int bt_mktorrent_add_file(bt_mktorrent *mk, const char *path, uint64_t length);
/* Feeds file contents in order (concatenated across files). */
int bt_mktorrent_feed(bt_mktorrent *mk, const uint8_t *data, size_t len);
/* Options for the outer dict. Any may be NULL/0. */
int bt_mktorrent_add_tracker(bt_mktorrent *mk, const char *url, uint32_t tier);
void bt_mktorrent_set_private(bt_mktorrent *mk, bool is_private);
int bt_mktorrent_set_comment(bt_mktorrent *mk, const char *comment);
void bt_mktorrent_set_creation_date(bt_mktorrent *mk, int64_t unix_time); /* <0: omit */
/* Writes the bencoded .torrent to |out| and the info-hash to |info_hash| (may be NULL).
 * BT_ERR_STATE if the fed byte count does not match the declared lengths. */
int bt_mktorrent_finish(bt_mktorrent *mk, bt_buf *out, uint8_t info_hash[20]);

#endif
