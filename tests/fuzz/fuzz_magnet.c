/* tests/fuzz/fuzz_magnet.c: libFuzzer target for the magnet URI parser. Whatever parses must
 * respect the limits, carry no control characters, and a rebuilt URI (hex btih, escaped dn and
 * tr, the literal peers) must parse to the same result. */
#include "bt_magnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

/* Appends |s| percent-escaping everything but unreserved characters. */
static size_t put_escaped(char *out, size_t n, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            out[n++] = (char)ch;
        } else {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15];
        }
    }
    return n;
}

static void check_roundtrip(const bt_magnet *mg)
{
    size_t cap = 3 * BT_MAGNET_MAX_VALUE * (BT_MAGNET_MAX_TRACKERS + 2) + 4096;
    char *u = malloc(cap);
    CHECK(u != NULL);
    size_t n = (size_t)snprintf(u, cap, "magnet:?xt=urn:btih:");
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(u + n, cap - n, "%02x", mg->info_hash[i]);
    if (mg->name != NULL) {
        memcpy(u + n, "&dn=", 4);
        n = put_escaped(u, n + 4, mg->name);
    }
    for (uint32_t i = 0; i < mg->ntrackers; i++) {
        memcpy(u + n, "&tr=", 4);
        n = put_escaped(u, n + 4, mg->trackers[i]);
    }
    bt_magnet back;
    /* The rebuilt URI may exceed the length limit when many long values were %-escaped. */
    int rv = bt_magnet_parse(&back, u, n, bt_mem_default(), NULL);
    if (n <= BT_MAGNET_MAX_LEN) {
        CHECK(rv == 0);
        CHECK(memcmp(back.info_hash, mg->info_hash, 20) == 0);
        CHECK((back.name == NULL) == (mg->name == NULL));
        CHECK(back.name == NULL || strcmp(back.name, mg->name) == 0);
        CHECK(back.ntrackers == mg->ntrackers);
        for (uint32_t i = 0; i < back.ntrackers; i++)
            CHECK(strcmp(back.trackers[i], mg->trackers[i]) == 0);
        bt_magnet_free(&back);
    }
    free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bt_magnet mg;
    bt_magnet_error e = {0, NULL};
    int rv = bt_magnet_parse(&mg, (const char *)data, size, bt_mem_default(), &e);
    if (rv != 0) {
        CHECK(rv == BT_ERR_PROTO || rv == BT_ERR_LIMIT);
        CHECK(e.msg != NULL && e.offset <= size);
        CHECK(mg.name == NULL && mg.trackers == NULL && mg.peers == NULL);
        return 0;
    }
    CHECK(size <= BT_MAGNET_MAX_LEN);
    CHECK(mg.ntrackers <= BT_MAGNET_MAX_TRACKERS && mg.npeers <= BT_MAGNET_MAX_PEERS);
    for (uint32_t i = 0; i < mg.ntrackers; i++) {
        CHECK(strlen(mg.trackers[i]) >= 1 && strlen(mg.trackers[i]) <= BT_MAGNET_MAX_VALUE);
        for (const char *p = mg.trackers[i]; *p != '\0'; p++)
            CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
    }
    for (uint32_t i = 0; i < mg.npeers; i++)
        CHECK((mg.peers[i].family == 4 || mg.peers[i].family == 6) && mg.peers[i].port != 0);
    check_roundtrip(&mg);
    bt_magnet_free(&mg);
    return 0;
}
