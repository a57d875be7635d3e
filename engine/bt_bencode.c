/* bt_bencode.c: strict bencode (BEP 3) decoding into a flat pre-order token array with an
 * explicit bounded stack (no recursion), lookups over that array, and an encoder onto bt_buf.
 * Never does I/O; every allocation goes through the caller's bt_mem. */
#include "bt_bencode.h"
#include "bt_mem.h"

#include <assert.h>
#include <string.h>

const bt_ben_limits bt_ben_default_limits = {64, 1u << 20, 64u << 20};

/* One open list or dict on the parser's stack. */
typedef struct frame {
    uint32_t tok;      /* the container's token */
    uint32_t last_key; /* DICT: token of the previous key, or BT_BEN_NONE */
    uint32_t nitems;   /* children so far (keys and values both count for a dict) */
} frame;

typedef struct parser {
    const uint8_t *buf;
    size_t len;   /* bytes we may look at: min(input length, max_input) */
    bool clipped; /* the input was longer than max_input */
    size_t pos;
    bt_ben_tok *toks;
    uint32_t ntoks, cap;
    frame *stack;
    uint32_t depth, stack_cap;
    bt_ben_limits lim;
    const bt_mem *mem;
    size_t err_off;
    const char *err_msg;
} parser;

static int fail(parser *p, int code, size_t off, const char *msg)
{
    p->err_off = off;
    p->err_msg = msg;
    return code;
}

/* Reports running out of input: a LIMIT error if the input was clipped to max_input. */
static int fail_eof(parser *p)
{
    if (p->clipped)
        return fail(p, BT_ERR_LIMIT, p->len, "input larger than the limit");
    return fail(p, BT_ERR_PROTO, p->len, "unexpected end of input");
}

static int new_tok(parser *p, uint8_t type, uint32_t *out)
{
    if (p->ntoks >= p->lim.max_tokens)
        return fail(p, BT_ERR_LIMIT, p->pos, "too many items");
    if (p->ntoks == p->cap) {
        uint32_t cap = p->cap < 32 ? 32 : p->cap;
        cap = cap > p->lim.max_tokens / 2 ? p->lim.max_tokens : cap * 2;
        bt_ben_tok *t = bt_realloc(p->mem, p->toks, (size_t)cap * sizeof(*t));
        if (t == NULL)
            return BT_ERR_NOMEM;
        p->toks = t;
        p->cap = cap;
    }
    bt_ben_tok *t = &p->toks[p->ntoks];
    memset(t, 0, sizeof(*t));
    t->type = type;
    t->start = (uint32_t)p->pos;
    *out = p->ntoks++;
    return 0;
}

/* Parses "i<int>e" at p->pos. */
static int parse_int(parser *p)
{
    size_t start = p->pos, i = start + 1;
    bool neg = false;
    if (i < p->len && p->buf[i] == '-') {
        neg = true;
        i++;
    }
    size_t digits = i;
    uint64_t v = 0, max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < p->len && p->buf[i] >= '0' && p->buf[i] <= '9'; i++) {
        if (i == digits + 1 && p->buf[digits] == '0')
            return fail(p, BT_ERR_PROTO, digits, neg ? "negative zero" : "leading zero in integer");
        unsigned d = (unsigned)(p->buf[i] - '0');
        if (v > (max - d) / 10)
            return fail(p, BT_ERR_PROTO, start, "integer out of range");
        v = v * 10 + d;
    }
    if (i == p->len)
        return fail_eof(p);
    if (p->buf[i] != 'e')
        return fail(p, BT_ERR_PROTO, i, "invalid byte in integer");
    if (i == digits)
        return fail(p, BT_ERR_PROTO, i, "empty integer");
    if (neg && v == 0)
        return fail(p, BT_ERR_PROTO, digits, "negative zero");
    uint32_t t;
    int rc = new_tok(p, BT_BEN_INT, &t);
    if (rc != 0)
        return rc;
    p->toks[t].ival = neg ? (int64_t)(0 - v) : (int64_t)v;
    p->pos = i + 1;
    p->toks[t].end = (uint32_t)p->pos;
    p->toks[t].next = p->ntoks;
    return 0;
}

/* Parses "<len>:<bytes>" at p->pos (which holds a digit). */
static int parse_str(parser *p)
{
    size_t start = p->pos, i = start;
    uint64_t n = 0;
    for (; i < p->len && p->buf[i] >= '0' && p->buf[i] <= '9'; i++) {
        if (i == start + 1 && p->buf[start] == '0')
            return fail(p, BT_ERR_PROTO, start, "leading zero in string length");
        n = n * 10 + (unsigned)(p->buf[i] - '0');
        if (n > p->lim.max_input) /* also keeps |n| far from overflowing */
            return fail(p, BT_ERR_LIMIT, start, "string length too large");
    }
    if (i == p->len)
        return fail_eof(p);
    if (p->buf[i] != ':')
        return fail(p, BT_ERR_PROTO, i, "invalid byte in string length");
    i++;
    if (n > p->len - i)
        return fail_eof(p);
    uint32_t t;
    int rc = new_tok(p, BT_BEN_STR, &t);
    if (rc != 0)
        return rc;
    p->toks[t].str_off = (uint32_t)i;
    p->toks[t].str_len = (uint32_t)n;
    p->pos = i + (size_t)n;
    p->toks[t].end = (uint32_t)p->pos;
    p->toks[t].next = p->ntoks;
    return 0;
}

static int push(parser *p, uint8_t type)
{
    if (p->depth >= p->lim.max_depth)
        return fail(p, BT_ERR_LIMIT, p->pos, "nesting too deep");
    if (p->depth == p->stack_cap) {
        uint32_t cap = p->stack_cap < 16 ? 16 : p->stack_cap;
        cap = cap > p->lim.max_depth / 2 ? p->lim.max_depth : cap * 2;
        frame *s = bt_realloc(p->mem, p->stack, (size_t)cap * sizeof(*s));
        if (s == NULL)
            return BT_ERR_NOMEM;
        p->stack = s;
        p->stack_cap = cap;
    }
    uint32_t t;
    int rc = new_tok(p, type, &t);
    if (rc != 0)
        return rc;
    p->stack[p->depth++] = (frame){t, BT_BEN_NONE, 0};
    p->pos++;
    return 0;
}

/* Closes the innermost container at the 'e' under p->pos. */
static int pop(parser *p)
{
    frame *f = &p->stack[p->depth - 1];
    bt_ben_tok *t = &p->toks[f->tok];
    if (t->type == BT_BEN_DICT && f->nitems % 2 != 0)
        return fail(p, BT_ERR_PROTO, p->pos, "dict key without a value");
    t->count = t->type == BT_BEN_DICT ? f->nitems / 2 : f->nitems;
    p->pos++;
    t->end = (uint32_t)p->pos;
    t->next = p->ntoks;
    p->depth--;
    return 0;
}

/* Keys of a dict must be strictly ascending raw byte strings (BEP 3). */
static int check_key(parser *p, frame *f, uint32_t key)
{
    const bt_ben_tok *k = &p->toks[key];
    if (f->last_key != BT_BEN_NONE) {
        const bt_ben_tok *prev = &p->toks[f->last_key];
        size_t m = prev->str_len < k->str_len ? prev->str_len : k->str_len;
        int c = memcmp(p->buf + prev->str_off, p->buf + k->str_off, m);
        if (c == 0 && prev->str_len == k->str_len)
            return fail(p, BT_ERR_PROTO, k->start, "duplicate dict key");
        if (c > 0 || (c == 0 && prev->str_len > k->str_len))
            return fail(p, BT_ERR_PROTO, k->start, "dict keys not sorted");
    }
    f->last_key = key;
    return 0;
}

/* Parses one item (or closes a container) at p->pos. */
static int step(parser *p)
{
    if (p->pos >= p->len)
        return fail_eof(p);
    uint8_t c = p->buf[p->pos];
    frame *f = p->depth > 0 ? &p->stack[p->depth - 1] : NULL;
    if (f != NULL && c == 'e')
        return pop(p);
    bool want_key = f != NULL && p->toks[f->tok].type == BT_BEN_DICT && f->nitems % 2 == 0;
    if (want_key && !(c >= '0' && c <= '9'))
        return fail(p, BT_ERR_PROTO, p->pos, "dict key is not a string");
    if (f != NULL)
        f->nitems++;
    if (c == 'i')
        return parse_int(p);
    if (c == 'l' || c == 'd')
        return push(p, c == 'l' ? BT_BEN_LIST : BT_BEN_DICT);
    if (!(c >= '0' && c <= '9'))
        return fail(p, BT_ERR_PROTO, p->pos, "invalid type byte");
    int rc = parse_str(p);
    if (rc == 0 && want_key)
        rc = check_key(p, f, p->ntoks - 1);
    return rc;
}

static int run(bt_ben_doc *doc, const uint8_t *buf, size_t len, bool prefix, size_t *used,
               const bt_ben_limits *lim, const bt_mem *mem, bt_ben_error *err)
{
    parser p = {.buf = buf, .len = len, .mem = mem};
    p.lim = lim != NULL ? *lim : bt_ben_default_limits;
    if (p.lim.max_input > UINT32_MAX - 1)
        p.lim.max_input = UINT32_MAX - 1;
    assert(buf != NULL || len == 0);
    int rc = 0;
    if (len > p.lim.max_input) {
        p.len = p.lim.max_input;
        p.clipped = true;
        if (!prefix)
            rc = fail(&p, BT_ERR_LIMIT, p.lim.max_input, "input larger than the limit");
    }
    do {
        if (rc == 0)
            rc = step(&p);
    } while (rc == 0 && p.depth > 0);
    if (rc == 0 && !prefix && p.pos != len)
        rc = fail(&p, BT_ERR_PROTO, p.pos, "trailing bytes after the item");
    if (p.stack != NULL)
        bt_free(mem, p.stack);
    if (rc != 0) {
        if (p.toks != NULL)
            bt_free(mem, p.toks);
        if (err != NULL)
            *err = (bt_ben_error){rc == BT_ERR_NOMEM ? p.pos : p.err_off,
                                  rc == BT_ERR_NOMEM ? "out of memory" : p.err_msg};
        memset(doc, 0, sizeof(*doc));
        return rc;
    }
    *doc = (bt_ben_doc){buf, p.pos, p.toks, p.ntoks, mem};
    if (used != NULL)
        *used = p.pos;
    return 0;
}

int bt_ben_parse(bt_ben_doc *doc, const uint8_t *buf, size_t len, const bt_ben_limits *lim,
                 const bt_mem *mem, bt_ben_error *err)
{
    return run(doc, buf, len, false, NULL, lim, mem, err);
}

int bt_ben_parse_prefix(bt_ben_doc *doc, const uint8_t *buf, size_t len, size_t *used,
                        const bt_ben_limits *lim, const bt_mem *mem, bt_ben_error *err)
{
    return run(doc, buf, len, true, used, lim, mem, err);
}

void bt_ben_free(bt_ben_doc *doc)
{
    if (doc->toks != NULL)
        bt_free(doc->mem, doc->toks);
    memset(doc, 0, sizeof(*doc));
}

/* ---- lookups ---- */

static bool is_type(const bt_ben_doc *doc, uint32_t tok, uint8_t type)
{
    return tok < doc->ntoks && doc->toks[tok].type == type;
}

uint32_t bt_ben_dict_get(const bt_ben_doc *doc, uint32_t dict, const char *key)
{
    if (!is_type(doc, dict, BT_BEN_DICT))
        return BT_BEN_NONE;
    size_t klen = strlen(key);
    uint32_t i = dict + 1;
    for (uint32_t k = 0; k < doc->toks[dict].count && i + 1 < doc->ntoks; k++) {
        const bt_ben_tok *kt = &doc->toks[i];
        if (kt->type == BT_BEN_STR && kt->str_len == klen &&
            memcmp(doc->buf + kt->str_off, key, klen) == 0)
            return i + 1;
        i = doc->toks[i + 1].next;
    }
    return BT_BEN_NONE;
}

uint32_t bt_ben_list_at(const bt_ben_doc *doc, uint32_t list, uint32_t idx)
{
    if (!is_type(doc, list, BT_BEN_LIST) || idx >= doc->toks[list].count)
        return BT_BEN_NONE;
    uint32_t i = list + 1;
    for (uint32_t k = 0; k < idx && i < doc->ntoks; k++)
        i = doc->toks[i].next;
    return i < doc->ntoks ? i : BT_BEN_NONE;
}

bool bt_ben_get_int(const bt_ben_doc *doc, uint32_t tok, int64_t *out)
{
    if (!is_type(doc, tok, BT_BEN_INT))
        return false;
    *out = doc->toks[tok].ival;
    return true;
}

bool bt_ben_get_str(const bt_ben_doc *doc, uint32_t tok, const uint8_t **p, size_t *n)
{
    if (!is_type(doc, tok, BT_BEN_STR))
        return false;
    *p = doc->buf + doc->toks[tok].str_off;
    *n = doc->toks[tok].str_len;
    return true;
}

bool bt_ben_dict_int(const bt_ben_doc *doc, uint32_t dict, const char *key, int64_t *out)
{
    return bt_ben_get_int(doc, bt_ben_dict_get(doc, dict, key), out);
}

bool bt_ben_dict_str(const bt_ben_doc *doc, uint32_t dict, const char *key, const uint8_t **p,
                     size_t *n)
{
    return bt_ben_get_str(doc, bt_ben_dict_get(doc, dict, key), p, n);
}

/* ---- encoder ---- */

/* Writes the decimal digits of |v| and returns the count; |out| holds at least 20 bytes. */
static size_t utoa(uint64_t v, char *out)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

void bt_ben_put_int(bt_buf *b, int64_t v)
{
    char s[24];
    size_t n = 0;
    s[n++] = 'i';
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        s[n++] = '-';
        u = 0 - u;
    }
    n += utoa(u, s + n);
    s[n++] = 'e';
    bt_buf_put(b, s, n);
}

void bt_ben_put_str(bt_buf *b, const void *p, size_t n)
{
    char s[24];
    size_t k = utoa((uint64_t)n, s);
    s[k++] = ':';
    bt_buf_put(b, s, k);
    bt_buf_put(b, p, n);
}

void bt_ben_put_cstr(bt_buf *b, const char *s)
{
    bt_ben_put_str(b, s, strlen(s));
}

void bt_ben_put_list(bt_buf *b)
{
    bt_buf_put_u8(b, 'l');
}

void bt_ben_put_dict(bt_buf *b)
{
    bt_buf_put_u8(b, 'd');
}

void bt_ben_put_end(bt_buf *b)
{
    bt_buf_put_u8(b, 'e');
}
