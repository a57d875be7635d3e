/* tests/unit/test_live_fixture.c: in-memory torrents, temporary directories and file reads for
 * the live/ unit tests (no suite of its own). */
#define _XOPEN_SOURCE 700
#include "test_live_fixture.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tl_torrent_make(tl_torrent *t, const char *name, bool multi, const tl_file *files, size_t n,
                    uint32_t piece_len, uint64_t seed)
{
    memset(t, 0, sizeof(*t));
    bt_mktorrent *mk = NULL;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += files[i].length;
    if (bt_mktorrent_new(&mk, name, piece_len, multi, bt_mem_default()) != 0)
        return -1;
    t->content = malloc(total ? total : 1);
    bt_pcg32 g;
    bt_pcg32_seed(&g, seed, 7);
    for (uint64_t i = 0; t->content != NULL && i < total; i++)
        t->content[i] = (uint8_t)bt_pcg32_next(&g);
    int rv = t->content == NULL ? -1 : 0;
    for (size_t i = 0; rv == 0 && i < n; i++)
        rv = bt_mktorrent_add_file(mk, files[i].path, files[i].length);
    if (rv == 0)
        rv = bt_mktorrent_feed(mk, t->content, total);
    if (rv == 0)
        rv = bt_mktorrent_add_tracker(mk, "http://127.0.0.1:1/announce", 0);
    bt_buf b;
    bt_buf_init(&b, bt_mem_default(), 0);
    if (rv == 0)
        rv = bt_mktorrent_finish(mk, &b, NULL);
    if (rv == 0)
        rv = bt_metainfo_parse(&t->m, b.data, b.len, bt_mem_default(), NULL, NULL);
    bt_buf_free(&b);
    bt_mktorrent_del(mk);
    if (rv != 0)
        tl_torrent_free(t);
    return rv == 0 ? 0 : -1;
}

void tl_torrent_free(tl_torrent *t)
{
    bt_metainfo_del(t->m);
    free(t->content);
    memset(t, 0, sizeof(*t));
}

/* mkdir -p of the directories leading to |path|. */
static void make_parents(char *path)
{
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(path, 0777);
        *p = '/';
    }
}

int tl_write_content(const tl_torrent *t, const char *dir)
{
    for (uint32_t i = 0; i < t->m->nfiles; i++) {
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s%s%s", dir, t->m->multi_file ? t->m->name : "",
                 t->m->multi_file ? "/" : "", t->m->files[i].path);
        make_parents(path);
        FILE *f = fopen(path, "wb");
        if (f == NULL)
            return -1;
        size_t len = (size_t)t->m->files[i].length;
        size_t w = len ? fwrite(t->content + t->m->files[i].offset, 1, len, f) : 0;
        if (fclose(f) != 0 || w != len)
            return -1;
    }
    return 0;
}

int tl_tmpdir(char *out, size_t len)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, len, "%s/swarmlab-live-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(out) != NULL ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void tl_rmtree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

long tl_slurp(const char *path, uint8_t **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = malloc(n > 0 ? (size_t)n : 1);
    if (*out == NULL || (n > 0 && fread(*out, 1, (size_t)n, f) != (size_t)n)) {
        fclose(f);
        free(*out);
        *out = NULL;
        return -1;
    }
    fclose(f);
    return n;
}
