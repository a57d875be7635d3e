/* tests/fuzz/fuzz_scrape.c: libFuzzer target for the HTTP scrape reply decoder
 * (bt_tracker_http_parse_scrape): the first 20 bytes are the info hash asked for, the rest the
 * reply; checks that a success gives counts in range and a failure a message. */
#include "bt_tracker.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks a property even under NDEBUG. */
#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t ih[20] = {0};
    size_t k = size < 20 ? size : 20;
    memcpy(ih, data, k);
    bt_scrape_entry e;
    char msg[160];
    msg[0] = '\0';
    int rv = bt_tracker_http_parse_scrape(data + k, size - k, ih, &e, msg, sizeof(msg));
    CHECK(rv == 0 || rv == -1);
    CHECK(memcmp(e.info_hash, ih, 20) == 0);
    if (rv == 0) {
        const int64_t v[3] = {e.complete, e.incomplete, e.downloaded};
        for (int i = 0; i < 3; i++)
            CHECK(v[i] >= -1 && v[i] <= 0x7fffffffLL);
    } else {
        CHECK(msg[0] != '\0' && strlen(msg) < sizeof(msg));
    }
    return 0;
}
