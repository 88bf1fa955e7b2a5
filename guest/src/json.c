#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 32
#define JSON_MAX_NODES 200000

struct parser {
    struct json_doc *doc;
    const char *p;
    const char *start;
    const char *end;
    int depth;
};

static int fail(struct parser *ps, const char *what)
{
    snprintf(ps->doc->error, sizeof ps->doc->error, "%s at offset %ld", what, (long)(ps->p - ps->start));
    return -1;
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int new_node(struct parser *ps, enum json_type type)
{
    struct json_doc *d = ps->doc;
    if (d->n_nodes >= JSON_MAX_NODES)
        return fail(ps, "too many values");
    if (d->n_nodes == d->cap_nodes) {
        int cap = d->cap_nodes ? d->cap_nodes * 2 : 16;
        struct json_node *n = realloc(d->nodes, (size_t)cap * sizeof *n);
        if (!n)
            return fail(ps, "out of memory");
        d->nodes = n;
        d->cap_nodes = cap;
    }
    struct json_node *n = &d->nodes[d->n_nodes];
    memset(n, 0, sizeof *n);
    n->type = type;
    n->first_child = -1;
    n->next = -1;
    return d->n_nodes++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *dst, unsigned cp)
{
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xC0 | (cp >> 6));
        dst[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | (cp >> 12));
        dst[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        dst[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | (cp >> 18));
    dst[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    dst[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    dst[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the string at ps->p (which points at the opening quote) into the arena. */
static int parse_string_raw(struct parser *ps, const char **out, size_t *out_len)
{
    struct json_doc *d = ps->doc;
    ps->p++;
    char *dst = d->strings + d->strings_len;
    size_t n = 0;
    for (;;) {
        if (ps->p >= ps->end)
            return fail(ps, "unterminated string");
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') {
            ps->p++;
            break;
        }
        if (c < 0x20)
            return fail(ps, "control character in string");
        if (c != '\\') {
            dst[n++] = (char)c;
            ps->p++;
            continue;
        }
        if (ps->end - ps->p < 2)
            return fail(ps, "unterminated escape");
        char e = ps->p[1];
        ps->p += 2;
        switch (e) {
        case '"': dst[n++] = '"'; break;
        case '\\': dst[n++] = '\\'; break;
        case '/': dst[n++] = '/'; break;
        case 'b': dst[n++] = '\b'; break;
        case 'f': dst[n++] = '\f'; break;
        case 'n': dst[n++] = '\n'; break;
        case 'r': dst[n++] = '\r'; break;
        case 't': dst[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (ps->end - ps->p < 4 || hex4(ps->p, &cp) < 0)
                return fail(ps, "bad \\u escape");
            ps->p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u' && hex4(ps->p + 2, &lo) == 0
                    && lo >= 0xDC00 && lo <= 0xDFFF) {
                    ps->p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            /* A 6-byte escape decodes to at most 4 bytes (12 bytes for a pair), so the arena never overflows. */
            n += put_utf8(dst + n, cp);
            break;
        }
        default:
            return fail(ps, "bad escape");
        }
    }
    dst[n] = '\0';
    d->strings_len += n + 1;
    *out = dst;
    *out_len = n;
    return 0;
}

static int parse_value(struct parser *ps);

static int parse_number(struct parser *ps, int idx)
{
    const char *s = ps->p;
    const char *q = s;
    if (q < ps->end && *q == '-')
        q++;
    if (q >= ps->end || *q < '0' || *q > '9')
        return fail(ps, "bad number");
    if (*q == '0')
        q++;
    else
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    if (q < ps->end && *q == '.') {
        q++;
        if (q >= ps->end || *q < '0' || *q > '9')
            return fail(ps, "bad number");
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= ps->end || *q < '0' || *q > '9')
            return fail(ps, "bad number");
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    char tmp[64];
    size_t n = (size_t)(q - s);
    if (n >= sizeof tmp)
        return fail(ps, "number too long");
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    ps->doc->nodes[idx].number = strtod(tmp, NULL);
    ps->p = q;
    return 0;
}

static int parse_container(struct parser *ps, int idx, char close)
{
    int is_object = close == '}';
    if (++ps->depth > JSON_MAX_DEPTH)
        return fail(ps, "nested too deeply");
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return 0;
    }
    int prev = -1;
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;
        skip_ws(ps);
        if (is_object) {
            if (ps->p >= ps->end || *ps->p != '"')
                return fail(ps, "expected member name");
            if (parse_string_raw(ps, &key, &key_len) < 0)
                return -1;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return fail(ps, "expected ':'");
            ps->p++;
            skip_ws(ps);
        }
        int child = parse_value(ps);
        if (child < 0)
            return -1;
        struct json_node *nodes = ps->doc->nodes;
        nodes[child].key = key;
        nodes[child].key_len = key_len;
        if (prev < 0)
            nodes[idx].first_child = child;
        else
            nodes[prev].next = child;
        nodes[idx].count++;
        prev = child;
        skip_ws(ps);
        if (ps->p >= ps->end)
            return fail(ps, is_object ? "unterminated object" : "unterminated array");
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            break;
        }
        return fail(ps, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    ps->depth--;
    return 0;
}

static int literal(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, "unexpected character");
    ps->p += n;
    return 0;
}

/* Returns the new node's index or -1. */
static int parse_value(struct parser *ps)
{
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, "unexpected end of input");
    char c = *ps->p;
    int idx;
    switch (c) {
    case '{':
    case '[':
        idx = new_node(ps, c == '{' ? JSON_OBJECT : JSON_ARRAY);
        if (idx < 0 || parse_container(ps, idx, c == '{' ? '}' : ']') < 0)
            return -1;
        return idx;
    case '"': {
        idx = new_node(ps, JSON_STRING);
        const char *s;
        size_t n;
        if (idx < 0 || parse_string_raw(ps, &s, &n) < 0)
            return -1;
        ps->doc->nodes[idx].str = s;
        ps->doc->nodes[idx].str_len = n;
        return idx;
    }
    case 't':
    case 'f':
        idx = new_node(ps, JSON_BOOL);
        if (idx < 0 || literal(ps, c == 't' ? "true" : "false") < 0)
            return -1;
        ps->doc->nodes[idx].boolean = c == 't';
        return idx;
    case 'n':
        idx = new_node(ps, JSON_NULL);
        if (idx < 0 || literal(ps, "null") < 0)
            return -1;
        return idx;
    default:
        idx = new_node(ps, JSON_NUMBER);
        if (idx < 0 || parse_number(ps, idx) < 0)
            return -1;
        return idx;
    }
}

int json_parse(struct json_doc *doc, const char *text, size_t len)
{
    memset(doc, 0, sizeof *doc);
    /* Decoded strings are never longer than their source text, plus one NUL each. */
    doc->strings_cap = len * 2 + 16;
    doc->strings = malloc(doc->strings_cap);
    struct parser ps = { doc, text, text, text + len, 0 };
    if (!doc->strings)
        return fail(&ps, "out of memory");
    if (parse_value(&ps) < 0)
        return -1;
    skip_ws(&ps);
    if (ps.p != ps.end)
        return fail(&ps, "trailing characters");
    return 0;
}

void json_free(struct json_doc *doc)
{
    free(doc->nodes);
    free(doc->strings);
    memset(doc, 0, sizeof *doc);
}

const struct json_node *json_first(const struct json_doc *doc, const struct json_node *parent)
{
    return parent->first_child < 0 ? NULL : &doc->nodes[parent->first_child];
}

const struct json_node *json_next(const struct json_doc *doc, const struct json_node *node)
{
    return node->next < 0 ? NULL : &doc->nodes[node->next];
}

const struct json_node *json_get(const struct json_doc *doc, const struct json_node *obj, const char *key)
{
    if (obj->type != JSON_OBJECT)
        return NULL;
    size_t klen = strlen(key);
    for (const struct json_node *m = json_first(doc, obj); m; m = json_next(doc, m))
        if (m->key_len == klen && memcmp(m->key, key, klen) == 0)
            return m;
    return NULL;
}

int json_is_int(const struct json_node *node, double min, double max)
{
    return node->type == JSON_NUMBER && node->number >= min && node->number <= max
        && (double)(long long)node->number == node->number;
}

const char *json_type_name(enum json_type type)
{
    switch (type) {
    case JSON_NULL: return "null";
    case JSON_BOOL: return "boolean";
    case JSON_NUMBER: return "number";
    case JSON_STRING: return "string";
    case JSON_ARRAY: return "array";
    case JSON_OBJECT: return "object";
    }
    return "?";
}

/* --- writer --- */

void jw_init(struct json_writer *w, struct buf *out)
{
    w->out = out;
    w->depth = 0;
    w->need_comma[0] = 0;
}

static void jw_raw(struct json_writer *w, const char *s, size_t n)
{
    buf_append(w->out, s, n);
}

static void jw_before_value(struct json_writer *w)
{
    if (w->need_comma[w->depth])
        jw_raw(w, ",", 1);
    w->need_comma[w->depth] = 1;
}

void jw_object_begin(struct json_writer *w)
{
    jw_before_value(w);
    jw_raw(w, "{", 1);
    if (w->depth + 1 < (int)sizeof w->need_comma)
        w->depth++;
    w->need_comma[w->depth] = 0;
}

void jw_object_end(struct json_writer *w)
{
    jw_raw(w, "}", 1);
    if (w->depth > 0)
        w->depth--;
}

void jw_key(struct json_writer *w, const char *key)
{
    jw_string(w, key);
    jw_raw(w, ":", 1);
    w->need_comma[w->depth] = 0;
}

/* Length of a valid UTF-8 sequence starting at s (at most n bytes), or 0 when it is not valid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

void jw_string_n(struct json_writer *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    jw_before_value(w);
    jw_raw(w, "\"", 1);
    size_t i = 0;
    while (i < n) {
        unsigned char c = u[i];
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };
            jw_raw(w, esc, 2);
            i++;
        } else if (c == '\n') {
            jw_raw(w, "\\n", 2);
            i++;
        } else if (c == '\t') {
            jw_raw(w, "\\t", 2);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            jw_raw(w, esc, 6);
            i++;
        } else {
            size_t len = utf8_seq(u + i, n - i);
            if (len == 0) {
                jw_raw(w, "\\ufffd", 6); /* not UTF-8: replace so the host's parser accepts the text */
                i++;
            } else {
                jw_raw(w, s + i, len);
                i += len;
            }
        }
    }
    jw_raw(w, "\"", 1);
}

void jw_string(struct json_writer *w, const char *s)
{
    jw_string_n(w, s, strlen(s));
}

void jw_int(struct json_writer *w, long long v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%lld", v);
    jw_before_value(w);
    jw_raw(w, tmp, (size_t)n);
}

void jw_bool(struct json_writer *w, int v)
{
    jw_before_value(w);
    jw_raw(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct json_writer *w)
{
    jw_before_value(w);
    jw_raw(w, "null", 4);
}

void jw_array_begin(struct json_writer *w)
{
    jw_before_value(w);
    jw_raw(w, "[", 1);
    if (w->depth + 1 < (int)sizeof w->need_comma)
        w->depth++;
    w->need_comma[w->depth] = 0;
}

void jw_array_end(struct json_writer *w)
{
    jw_raw(w, "]", 1);
    if (w->depth > 0)
        w->depth--;
}
