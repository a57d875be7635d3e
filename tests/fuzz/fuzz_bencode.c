/* tests/fuzz/fuzz_bencode.c: libFuzzer target for the strict bencode decoder. Any input that
 * parses must re-encode, token by token, to exactly the same bytes (canonical bencode has one
 * encoding), and prefix parsing must agree with whole-input parsing. */
#include "bt_bencode.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Re-encodes the token array without recursion: tokens are in pre-order, so a container ends
 * just before the token index in its |next|. */
static void reencode(const bt_ben_doc *d, bt_buf *b)
{
    uint32_t *ends = malloc(((size_t)d->ntoks + 1) * sizeof(*ends));
    assert(ends != NULL);
    uint32_t depth = 0;
    for (uint32_t i = 0; i <= d->ntoks; i++) {
        while (depth > 0 && ends[depth - 1] == i) {
            bt_ben_put_end(b);
            depth--;
        }
        if (i == d->ntoks)
            break;
        const bt_ben_tok *t = &d->toks[i];
        assert(t->start < t->end && t->end <= d->len && t->next > i && t->next <= d->ntoks);
        if (t->type == BT_BEN_INT) {
            bt_ben_put_int(b, t->ival);
        } else if (t->type == BT_BEN_STR) {
            assert(t->str_off >= t->start && t->str_off + (size_t)t->str_len == t->end);
            bt_ben_put_str(b, d->buf + t->str_off, t->str_len);
        } else {
            assert(t->type == BT_BEN_LIST || t->type == BT_BEN_DICT);
            t->type == BT_BEN_LIST ? bt_ben_put_list(b) : bt_ben_put_dict(b);
            ends[depth++] = t->next;
        }
    }
    assert(depth == 0);
    free(ends);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bt_ben_limits lim = {32, 4096, 1u << 20};
    bt_ben_doc doc, pre;
    bt_ben_error err = {0, NULL};
    size_t used = 0;
    int rc = bt_ben_parse(&doc, data, size, &lim, bt_mem_default(), &err);
    int prc = bt_ben_parse_prefix(&pre, data, size, &used, &lim, bt_mem_default(), NULL);
    if (rc != 0) {
        assert(rc == BT_ERR_PROTO || rc == BT_ERR_LIMIT);
        assert(err.msg != NULL && err.offset <= size);
        assert(doc.toks == NULL && doc.ntoks == 0);
        /* A prefix parse fails too, or stops early (the rest is trailing bytes). */
        assert(prc != 0 || used < size || size > lim.max_input);
    } else {
        assert(prc == 0 && used == size && pre.ntoks == doc.ntoks);
        bt_buf b;
        bt_buf_init(&b, bt_mem_default(), 0);
        reencode(&doc, &b);
        assert(b.err == 0 && b.len == size && memcmp(b.data, data, size) == 0);
        bt_buf_free(&b);
        bt_ben_free(&doc);
    }
    if (prc == 0) {
        /* The prefix alone parses as a whole document. */
        assert(used <= size && used > 0);
        rc = bt_ben_parse(&doc, data, used, &lim, bt_mem_default(), NULL);
        assert(rc == 0 && doc.ntoks == pre.ntoks);
        bt_ben_free(&doc);
        bt_ben_free(&pre);
    }
    return 0;
}
