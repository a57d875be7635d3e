/* tests/unit/mse_util.h: small helpers shared by the MSE/magnet/metadata/pex tests: hex
 * decoding into a caller's buffer. */
#ifndef TEST_MSE_UTIL_H
#define TEST_MSE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Decodes the hex string |hex| into |out| (at least strlen(hex)/2 bytes); returns the count. */
static inline size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + (size_t)k];
            v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        out[i] = (uint8_t)v;
    }
    return n;
}

#endif
