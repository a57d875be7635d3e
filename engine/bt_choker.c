/* bt_choker.c: the registry of built-in choking strategies and mainline's automatic upload
 * slot count. Holds no state; never does I/O. */
#include "bt_choker.h"

#include <string.h>

static const bt_choker_ops *const builtins[] = {
    &bt_choker_reference,  &bt_choker_reference_upload, &bt_choker_freerider, &bt_choker_altruist,
    &bt_choker_rate_based, &bt_choker_bittyrant,        &bt_choker_propshare};
static const char *const names[] = {"reference",  "reference-upload", "freerider", "altruist",
                                    "rate_based", "bittyrant",        "propshare", NULL};

const bt_choker_ops *bt_choker_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(builtins) / sizeof(builtins[0]); i++) {
        if (strcmp(builtins[i]->name, name) == 0)
            return builtins[i];
    }
    return NULL;
}

const char *const *bt_choker_names(void)
{
    return names;
}

/* floor(sqrt(x)) without floating point. */
static uint64_t isqrt(uint64_t x)
{
    uint64_t r = 0;
    for (uint64_t bit = (uint64_t)1 << 62; bit != 0; bit >>= 2) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
    }
    return r;
}

/* Mainline 4.x _set_auto_uploads, with the limit in kB/s (1000 bytes, as mainline's
 * max_upload_rate): int(sqrt(0.6 * rate)) == isqrt(floor(0.6 * rate)) for rate >= 0. */
uint32_t bt_choker_auto_slots(uint64_t upload_limit)
{
    uint64_t kb = upload_limit / 1000;
    if (upload_limit == 0)
        return 7;
    if (kb < 9)
        return 2;
    if (kb < 15)
        return 3;
    if (kb < 42)
        return 4;
    uint64_t s = isqrt(kb / 10 * 6 + kb % 10 * 6 / 10);
    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}
