/* bt_sha1.c: SHA-1 through OpenSSL's EVP interface (uses the CPU's SHA extensions). */
#include "bt_mem.h"

#include <assert.h>
#include <openssl/evp.h>

struct bt_sha1_ctx {
    const bt_mem *mem;
    EVP_MD_CTX *md;
};

void bt_sha1(const void *data, size_t len, uint8_t out[BT_SHA1_LEN])
{
    unsigned int n = 0;
    int ok = EVP_Digest(data, len, out, &n, EVP_sha1(), NULL);
    assert(ok == 1 && n == BT_SHA1_LEN);
    (void)ok;
}

int bt_sha1_new(bt_sha1_ctx **pctx, const bt_mem *mem)
{
    bt_sha1_ctx *c = bt_malloc(mem, sizeof(*c));
    if (c == NULL)
        return BT_ERR_NOMEM;
    c->mem = mem;
    c->md = EVP_MD_CTX_new();
    if (c->md == NULL || EVP_DigestInit_ex(c->md, EVP_sha1(), NULL) != 1) {
        EVP_MD_CTX_free(c->md);
        bt_free(mem, c);
        return BT_ERR_NOMEM;
    }
    *pctx = c;
    return 0;
}

void bt_sha1_update(bt_sha1_ctx *c, const void *data, size_t len)
{
    int ok = EVP_DigestUpdate(c->md, data, len);
    assert(ok == 1);
    (void)ok;
}

void bt_sha1_final(bt_sha1_ctx *c, uint8_t out[BT_SHA1_LEN])
{
    unsigned int n = 0;
    int ok = EVP_DigestFinal_ex(c->md, out, &n) == 1 && EVP_DigestInit_ex(c->md, EVP_sha1(), NULL) == 1;
    assert(ok && n == BT_SHA1_LEN);
    (void)ok;
}

void bt_sha1_del(bt_sha1_ctx *c)
{
    if (c == NULL)
        return;
    EVP_MD_CTX_free(c->md);
    bt_free(c->mem, c);
}
