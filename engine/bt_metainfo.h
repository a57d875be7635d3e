/* bt_metainfo.h: v1 .torrent files (BEP 3, BEP 12 announce-list, BEP 27 private, BEP 47 pad
 * files): parsing with the info-hash taken over the raw info-dict bytes and sanitised file
 * paths, and creation from file contents fed by the host (the engine never opens files).
 *   https://www.bittorrent.org/beps/bep_0003.html#metainfo-files
 *   https://www.bittorrent.org/beps/bep_0012.html
 *   https://www.bittorrent.org/beps/bep_0027.html
 *   https://www.bittorrent.org/beps/bep_0047.html */
#ifndef BT_METAINFO_H
#define BT_METAINFO_H

#include "bt_types.h"

#define BT_META_MAX_FILES 100000u
#define BT_META_MAX_PATH 4096u /* bytes in a joined path */
#define BT_META_MAX_TRACKERS 256u
#define BT_META_MAX_PIECE_LEN (64u << 20)
#define BT_META_MAX_INPUT (64u << 20) /* bytes of a .torrent */
#define BT_META_MAX_ATTR 16u /* bytes of a BEP 47 'attr' string (4 letters are defined) */

typedef struct bt_file_entry {
    char *path; /* '/'-separated, every component sanitised. Multi-file: relative to the
                 * torrent's directory |name| (name not included). Single file: = name */
    uint64_t length;
    uint64_t offset; /* byte offset of the file within the torrent's data */
    bool is_pad;     /* BEP 47 padding ('p' in attr): its bytes are zeros, never stored on
                      * disk; conventionally named ".pad/N", and several may share a path */
} bt_file_entry;

#define BT_META_MAX_INFO_RAW (8u << 20) /* = BT_METADATA_MAX_SIZE */

typedef struct bt_metainfo {
    uint8_t info_hash[20];
    char *name; /* sanitised */
    uint64_t total_length;
    uint32_t piece_length;
    uint32_t npieces;
    uint8_t *piece_hashes; /* 20 * npieces bytes */
    bt_file_entry *files;
    uint32_t nfiles;
    bool multi_file;
    bool is_private;        /* BEP 27 */
    char **trackers;        /* flattened announce-list (or just announce) */
    uint32_t *tracker_tier; /* tier of each tracker */
    uint32_t ntrackers;
    char *comment;         /* NULL if absent */
    char *created_by;      /* NULL if absent */
    int64_t creation_date; /* -1 if absent */
    uint8_t *info_raw;     /* the info dict's bytes as in the file (BEP 9 serving), or NULL
                              when over BT_META_MAX_INFO_RAW */
    size_t info_len;
    const bt_mem *mem;
} bt_metainfo;

/* Parses a v1 .torrent from |buf| (borrowed for the call only). The info-hash is the SHA-1 of
 * the info dict's bytes exactly as they appear in |buf|. Strict bencode (see bt_ben_parse);
 * unknown keys, v2 keys and 'name.utf-8'/'path.utf-8' are ignored ('pieces' must be present).
 * Rejects: a total length of 0, piece length <= 0 or > BT_META_MAX_PIECE_LEN, a 'pieces'
 * length that is not 20 * ceil(total / piece length), both or neither of 'length' and
 * 'files', negative lengths, unsafe or empty names and path components (BT_ERR_INVALID), two
 * files with the same path or a file whose path is another's directory (BT_ERR_INVALID), more
 * than BT_META_MAX_FILES files, BT_META_MAX_TRACKERS distinct trackers or BT_META_MAX_PATH
 * bytes in a path (BT_ERR_LIMIT). Trackers: BEP 12 announce-list when it yields any usable URL
 * (non-empty, no control bytes), else announce; duplicates are dropped (first tier wins) and
 * tiers renumbered 0.. over non-empty tiers. private is true only for private=1 (BEP 27).
 * Wrongly typed comment / created by / creation date are ignored. BEP 47: a file entry's
 * optional 'attr' must be a string of at most BT_META_MAX_ATTR bytes (else BT_ERR_PROTO /
 * BT_ERR_LIMIT); 'p' in it marks a pad file, other letters are ignored. Pad files take no
 * part in the path collision check (they are never created).
 * On error returns BT_ERR_PROTO / BT_ERR_LIMIT / BT_ERR_INVALID with *err_off (byte offset of
 * the offending item, or of the enclosing dict when a key is missing) and *err_msg (static
 * text) set when non-NULL, or BT_ERR_NOMEM. On success *out owns everything (free with
 * bt_metainfo_del); on failure *out is NULL. */
int bt_metainfo_parse(bt_metainfo **out, const uint8_t *buf, size_t len, const bt_mem *mem,
                      size_t *err_off, const char **err_msg);
void bt_metainfo_del(bt_metainfo *m); /* NULL is a no-op */

/* BEP 47: the byte ranges of |m|'s pad files, in torrent order, adjacent pad files merged.
 * Writes up to |max| ranges to |out| (may be NULL when |max| is 0); returns how many there
 * are. */
uint32_t bt_metainfo_pad_ranges(const bt_metainfo *m, bt_byte_range *out, uint32_t max);

/* Checks one path component: not empty, not "." or "..", no '/', '\\', NUL or control
 * characters. */
bool bt_metainfo_component_ok(const uint8_t *s, size_t n);

/* Piece length for |total| bytes: the smallest power of two from 16 KiB to 16 MiB that gives
 * at most 2000 pieces (so 1001..2000 pieces between 32 MiB and 32 GiB; fewer below, where the
 * 16 KiB floor applies, and more above 32 GiB, where the 16 MiB ceiling applies). */
uint32_t bt_metainfo_default_piece_length(uint64_t total);

/* ---- creation ---- */
typedef struct bt_mktorrent bt_mktorrent;

/* |name| is the torrent name (file or directory name; must pass bt_metainfo_component_ok).
 * |piece_length| a power of two from 16 KiB to BT_META_MAX_PIECE_LEN. |multi_file|: produce a
 * "files" list (even for one file); otherwise exactly one file is added and its path is
 * ignored (the name is used). "created by" defaults to "swarmlab"; no creation date by default.
 * Returns 0, BT_ERR_INVALID (bad name or piece length) or BT_ERR_NOMEM. */
int bt_mktorrent_new(bt_mktorrent **out, const char *name, uint32_t piece_length, bool multi_file,
                     const bt_mem *mem);
void bt_mktorrent_del(bt_mktorrent *mk);
/* Declares the next file ('/'-separated relative path, sanitised here) and its length;
 * all files are declared before any data is fed, then fed in the same order. Returns 0,
 * BT_ERR_INVALID (unsafe path), BT_ERR_STATE (data already fed, or a second file in single-file
 * mode), BT_ERR_LIMIT (too many files, total beyond INT64_MAX or 2^32 pieces), BT_ERR_NOMEM.
 * The host orders the files (the CLI sorts them bytewise by path). */
int bt_mktorrent_add_file(bt_mktorrent *mk, const char *path, uint64_t length);
/* Feeds file contents in order (concatenated across files; any chunking). Returns 0,
 * BT_ERR_STATE if more than the declared bytes are fed, or BT_ERR_NOMEM. */
int bt_mktorrent_feed(bt_mktorrent *mk, const uint8_t *data, size_t len);
/* Options for the outer dict. Trackers are added with non-decreasing |tier| (BEP 12); the
 * first is 'announce', and 'announce-list' is written when there is more than one. Returns 0,
 * BT_ERR_INVALID (empty URL, control bytes, tier going down), BT_ERR_EXISTS (duplicate URL),
 * BT_ERR_LIMIT (BT_META_MAX_TRACKERS) or BT_ERR_NOMEM. */
int bt_mktorrent_add_tracker(bt_mktorrent *mk, const char *url, uint32_t tier);
void bt_mktorrent_set_private(bt_mktorrent *mk, bool is_private);
/* Copy |comment| / |created_by| (NULL omits the key). 0 or BT_ERR_NOMEM. */
int bt_mktorrent_set_comment(bt_mktorrent *mk, const char *comment);
int bt_mktorrent_set_created_by(bt_mktorrent *mk, const char *created_by);
void bt_mktorrent_set_creation_date(bt_mktorrent *mk, int64_t unix_time); /* <0: omit */
/* Appends the bencoded .torrent to |out| and writes the info-hash to |info_hash| (may be
 * NULL). Returns 0, BT_ERR_STATE if no file was declared or the fed byte count does not match
 * the declared lengths, BT_ERR_INVALID if the total is 0 bytes, or |out|'s sticky error. */
int bt_mktorrent_finish(bt_mktorrent *mk, bt_buf *out, uint8_t info_hash[20]);

#endif
