/* cli/cmd_make_torrent.c: `swarmlab make-torrent`: walks a file or directory (files sorted
 * bytewise by relative path), hashes it through bt_mktorrent and writes the .torrent. The
 * engine does the bencoding and hashing; this file does the file-system and clock I/O. */
#define _XOPEN_SOURCE 700 /* realpath() */

#include "bt.h"
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifndef SWARMLAB_VERSION
#define SWARMLAB_VERSION "unknown"
#endif

typedef struct mk_opts {
    const char *input, *output, *comment;
    const char *trackers[BT_META_MAX_TRACKERS];
    int ntrackers;
    uint32_t piece_length; /* 0: default */
    int is_private, no_date;
} mk_opts;

/* The files to hash: relative paths (below the input directory) and sizes. */
typedef struct file_entry {
    char *path;
    uint64_t size;
} file_entry;

typedef struct file_list {
    file_entry *e;
    size_t n, cap;
} file_list;

static void mk_usage(FILE *out)
{
    fprintf(out,
            "usage: swarmlab make-torrent FILE|DIR -t URL [-t URL ...] -o OUT.torrent\n"
            "                             [--piece-size SIZE] [--private] [--comment TEXT]\n"
            "                             [--no-date]\n\n"
            "  -t, --tracker URL    announce URL; repeat for more tiers, or give several\n"
            "                       comma-separated URLs for one tier (BEP 12); without\n"
            "                       any, the torrent is trackerless (a warning is printed)\n"
            "  -o, --output FILE    where to write the .torrent (required)\n"
            "  --piece-size SIZE    bytes or 256KiB / 1MiB / 4M...: a power of two from 16 KiB\n"
            "                       to 64 MiB (default: the smallest giving <= 2000 pieces)\n"
            "  --private            set the BEP 27 private flag\n"
            "  --comment TEXT       add a comment\n"
            "  --no-date            omit the creation date (reproducible output)\n\n"
            "Directories are walked recursively, files sorted bytewise by path; symlinks and\n"
            "special files are skipped with a warning. Prints the info-hash and piece count.\n");
}

/* Parses "262144", "256KiB", "256K", "1MiB", "1M". Returns 0 on a malformed size. */
static uint64_t parse_size(const char *s)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || s[0] == '-')
        return 0;
    uint64_t mul = 1;
    if (strcmp(end, "K") == 0 || strcmp(end, "k") == 0 || strcmp(end, "KiB") == 0)
        mul = 1024;
    else if (strcmp(end, "M") == 0 || strcmp(end, "MiB") == 0)
        mul = 1024 * 1024;
    else if (strcmp(end, "") != 0 && strcmp(end, "B") != 0)
        return 0;
    return v > UINT64_MAX / mul ? 0 : (uint64_t)v * mul;
}

static int parse_piece_size(mk_opts *o, const char *s)
{
    uint64_t v = parse_size(s);
    if (v < (16u << 10) || v > BT_META_MAX_PIECE_LEN || (v & (v - 1)) != 0) {
        fprintf(stderr,
                "swarmlab: make-torrent: bad --piece-size '%s': need a power of two "
                "from 16KiB to 64MiB\n",
                s);
        return -1;
    }
    o->piece_length = (uint32_t)v;
    return 0;
}

/* Returns CLI_OK, CLI_USAGE, or -1 for --help (already printed). */
static int parse_args(int argc, char **argv, mk_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (cli_is_help(a)) {
            mk_usage(stdout);
            return -1;
        } else if ((strcmp(a, "-t") == 0 || strcmp(a, "--tracker") == 0) && has_val) {
            if (o->ntrackers == (int)BT_META_MAX_TRACKERS) {
                fprintf(stderr, "swarmlab: make-torrent: too many trackers\n");
                return CLI_USAGE;
            }
            o->trackers[o->ntrackers++] = argv[++i];
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && has_val) {
            o->output = argv[++i];
        } else if (strcmp(a, "--piece-size") == 0 && has_val) {
            if (parse_piece_size(o, argv[++i]) != 0)
                return CLI_USAGE;
        } else if (strcmp(a, "--comment") == 0 && has_val) {
            o->comment = argv[++i];
        } else if (strcmp(a, "--private") == 0) {
            o->is_private = 1;
        } else if (strcmp(a, "--no-date") == 0) {
            o->no_date = 1;
        } else if (a[0] != '-' && o->input == NULL) {
            o->input = a;
        } else {
            fprintf(stderr, "swarmlab: make-torrent: unexpected argument '%s'\n", a);
            return CLI_USAGE;
        }
    }
    if (o->input == NULL || o->output == NULL) {
        fprintf(stderr, "swarmlab: make-torrent: %s is required\n",
                o->input == NULL ? "an input FILE or DIR" : "-o OUT.torrent");
        mk_usage(stderr);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int list_add(file_list *l, const char *rel, uint64_t size)
{
    if (l->n == BT_META_MAX_FILES) {
        fprintf(stderr, "swarmlab: more than %u files\n", BT_META_MAX_FILES);
        return -1;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap == 0 ? 64 : l->cap * 2;
        file_entry *e = realloc(l->e, cap * sizeof(*e));
        if (e == NULL) {
            fprintf(stderr, "swarmlab: out of memory\n");
            return -1;
        }
        l->e = e;
        l->cap = cap;
    }
    if ((l->e[l->n].path = strdup(rel)) == NULL) {
        fprintf(stderr, "swarmlab: out of memory\n");
        return -1;
    }
    l->e[l->n++].size = size;
    return 0;
}

static void list_free(file_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->e[i].path);
    free(l->e);
}

/* Joins |a| and |b| with '/' (either may be empty) into a malloc'd string. */
static char *join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 2);
    if (s == NULL)
        return NULL;
    memcpy(s, a, na);
    size_t k = na;
    if (na > 0 && nb > 0)
        s[k++] = '/';
    memcpy(s + k, b, nb + 1);
    return s;
}

/* Adds one directory entry |name| of |dir| (relative path |rel|) to |l|. */
static int walk_entry(const char *root, const char *rel, const char *name, file_list *l, int depth);

/* Recursively lists regular files below |root|/|rel|. */
static int walk_dir(const char *root, const char *rel, file_list *l, int depth)
{
    char *dirpath = join(root, rel);
    if (dirpath == NULL)
        return -1;
    DIR *d = opendir(dirpath);
    if (d == NULL) {
        fprintf(stderr, "swarmlab: %s: %s\n", dirpath, strerror(errno));
        free(dirpath);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            rc = walk_entry(root, rel, e->d_name, l, depth);
    }
    closedir(d);
    free(dirpath);
    return rc;
}

static int walk_entry(const char *root, const char *rel, const char *name, file_list *l, int depth)
{
    char *sub = join(rel, name), *full = sub != NULL ? join(root, sub) : NULL;
    struct stat st;
    int rc = 0;
    if (full == NULL) {
        rc = -1;
    } else if (lstat(full, &st) != 0) {
        fprintf(stderr, "swarmlab: %s: %s\n", full, strerror(errno));
        rc = -1;
    } else if (!bt_metainfo_component_ok((const unsigned char *)name, strlen(name))) {
        fprintf(stderr, "swarmlab: %s: name not allowed in a torrent\n", full);
        rc = -1;
    } else if (S_ISDIR(st.st_mode)) {
        if (depth >= 64) {
            fprintf(stderr, "swarmlab: %s: directories nested too deep\n", full);
            rc = -1;
        } else {
            rc = walk_dir(root, sub, l, depth + 1);
        }
    } else if (S_ISREG(st.st_mode)) {
        rc = list_add(l, sub, (uint64_t)st.st_size);
    } else {
        fprintf(stderr, "swarmlab: warning: skipping %s (%s)\n", full,
                S_ISLNK(st.st_mode) ? "symbolic link" : "not a regular file");
    }
    free(sub);
    free(full);
    return rc;
}

/* Paths are unique, so strcmp is a total order and qsort is deterministic. */
static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const file_entry *)a)->path, ((const file_entry *)b)->path);
}

/* Collects the input's files. Sets *is_dir. Returns 0 or -1 (message printed). */
static int collect(const char *input, file_list *l, int *is_dir)
{
    struct stat st;
    if (stat(input, &st) != 0) {
        fprintf(stderr, "swarmlab: %s: %s\n", input, strerror(errno));
        return -1;
    }
    *is_dir = S_ISDIR(st.st_mode);
    if (*is_dir) {
        if (walk_dir(input, "", l, 0) != 0)
            return -1;
        if (l->n > 0)
            qsort(l->e, l->n, sizeof(*l->e), entry_cmp);
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "swarmlab: %s: not a regular file or directory\n", input);
        return -1;
    }
    return list_add(l, "", (uint64_t)st.st_size);
}

/* The torrent name: the last component of the input's canonical path. */
static char *torrent_name(const char *input)
{
    char *real = realpath(input, NULL);
    if (real == NULL) {
        fprintf(stderr, "swarmlab: %s: %s\n", input, strerror(errno));
        return NULL;
    }
    const char *slash = strrchr(real, '/');
    char *name = strdup(slash != NULL ? slash + 1 : real);
    free(real);
    if (name != NULL && !bt_metainfo_component_ok((const unsigned char *)name, strlen(name))) {
        fprintf(stderr, "swarmlab: %s: '%s' cannot be a torrent name\n", input, name);
        free(name);
        return NULL;
    }
    return name;
}

/* Feeds every file's bytes to |mk|; a file whose size changed is an error. */
static int feed_files(bt_mktorrent *mk, const char *input, const file_list *l, int is_dir)
{
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = malloc(CHUNK);
    int rc = buf != NULL ? 0 : -1;
    for (size_t i = 0; i < l->n && rc == 0; i++) {
        char *path = is_dir ? join(input, l->e[i].path) : strdup(input);
        FILE *f = path != NULL ? fopen(path, "rb") : NULL;
        if (f == NULL) {
            fprintf(stderr, "swarmlab: %s: %s\n", path != NULL ? path : input, strerror(errno));
            free(path);
            rc = -1;
            break;
        }
        uint64_t got = 0;
        size_t n;
        while (rc == 0 && (n = fread(buf, 1, CHUNK, f)) > 0) {
            got += n;
            if (got > l->e[i].size || bt_mktorrent_feed(mk, buf, n) != 0)
                rc = -1;
        }
        if (ferror(f) || got != l->e[i].size) {
            fprintf(stderr, "swarmlab: %s: %s\n", path,
                    ferror(f) ? "read error" : "file changed size while hashing");
            rc = -1;
        }
        fclose(f);
        free(path);
    }
    free(buf);
    return rc;
}

/* Adds the -t URLs: each option is a tier, commas separate URLs within a tier (BEP 12). */
static int add_trackers(bt_mktorrent *mk, const mk_opts *o)
{
    for (int t = 0; t < o->ntrackers; t++) {
        char *copy = strdup(o->trackers[t]), *save = NULL;
        if (copy == NULL)
            return -1;
        for (char *u = strtok_r(copy, ",", &save); u != NULL; u = strtok_r(NULL, ",", &save)) {
            int rc = bt_mktorrent_add_tracker(mk, u, (uint32_t)t);
            if (rc != 0 && rc != BT_ERR_EXISTS) {
                fprintf(stderr, "swarmlab: tracker '%s': %s\n", u, bt_strerror(rc));
                free(copy);
                return -1;
            }
        }
        free(copy);
    }
    return 0;
}

/* Declares the files and the options to |mk|. */
static int setup(bt_mktorrent *mk, const mk_opts *o, const file_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *p = l->e[i].path[0] != '\0' ? l->e[i].path : name;
        int rc = bt_mktorrent_add_file(mk, p, l->e[i].size);
        if (rc != 0) {
            fprintf(stderr, "swarmlab: %s: %s\n", p, bt_strerror(rc));
            return -1;
        }
    }
    if (add_trackers(mk, o) != 0)
        return -1;
    bt_mktorrent_set_private(mk, o->is_private != 0);
    if (bt_mktorrent_set_comment(mk, o->comment) != 0 ||
        bt_mktorrent_set_created_by(mk, "swarmlab " SWARMLAB_VERSION) != 0)
        return -1;
    bt_mktorrent_set_creation_date(mk, o->no_date ? -1 : (int64_t)time(NULL));
    return 0;
}

static int write_file(const char *path, const bt_buf *b)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "swarmlab: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t n = fwrite(b->data, 1, b->len, f);
    if (fclose(f) != 0 || n != b->len) {
        fprintf(stderr, "swarmlab: %s: write error\n", path);
        remove(path);
        return -1;
    }
    return 0;
}

/* Hashes the collected files and writes the torrent. */
static int build(const mk_opts *o, const file_list *l, int is_dir, const char *name, uint64_t total)
{
    uint32_t pl = o->piece_length != 0 ? o->piece_length : bt_metainfo_default_piece_length(total);
    bt_mktorrent *mk = NULL;
    bt_buf out;
    bt_buf_init(&out, bt_mem_default(), 0);
    uint8_t ih[BT_SHA1_LEN];
    int rc = bt_mktorrent_new(&mk, name, pl, is_dir != 0, bt_mem_default());
    if (rc != 0)
        fprintf(stderr, "swarmlab: make-torrent: %s\n", bt_strerror(rc));
    if (rc == 0)
        rc = setup(mk, o, l, name);
    if (rc == 0)
        rc = feed_files(mk, o->input, l, is_dir);
    if (rc == 0 && (rc = bt_mktorrent_finish(mk, &out, ih)) != 0)
        fprintf(stderr, "swarmlab: make-torrent: %s\n", bt_strerror(rc));
    if (rc == 0)
        rc = write_file(o->output, &out);
    if (rc == 0) {
        char hex[2 * BT_SHA1_LEN + 1];
        printf("wrote %s\n", o->output);
        printf("%-14s%s\n", "info-hash:", bt_hex(ih, BT_SHA1_LEN, hex));
        printf("%-14s%" PRIu64 " (%" PRIu32 " bytes each)\n", "pieces:", (total + pl - 1) / pl, pl);
        printf("%-14s%zu, %" PRIu64 " bytes\n", "files:", l->n, total);
    }
    bt_mktorrent_del(mk);
    bt_buf_free(&out);
    return rc;
}

int cmd_make_torrent(int argc, char **argv)
{
    mk_opts o;
    memset(&o, 0, sizeof(o));
    int rc = parse_args(argc, argv, &o);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    file_list l = {NULL, 0, 0};
    int is_dir = 0;
    char *name = NULL;
    uint64_t total = 0;
    if (o.ntrackers == 0)
        fprintf(stderr, "swarmlab: warning: no -t tracker given (trackerless torrent)\n");
    rc = collect(o.input, &l, &is_dir);
    if (rc == 0 && (name = torrent_name(o.input)) == NULL)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        total += l.e[i].size;
    if (rc == 0 && total == 0) {
        fprintf(stderr, "swarmlab: %s: nothing to share (no bytes in %zu file%s)\n", o.input, l.n,
                l.n == 1 ? "" : "s");
        rc = -1;
    }
    if (rc == 0)
        rc = build(&o, &l, is_dir, name, total);
    free(name);
    list_free(&l);
    return rc == 0 ? CLI_OK : CLI_FAIL;
}
