/*
 * A small JSON reader and writer for the agent's requests and results. The reader builds a tree of nodes (indices
 * into one array, strings decoded into one arena) so a request can be checked field by field; the writer appends
 * to a struct buf and always produces valid UTF-8.
 */
#ifndef BANGER_JSON_H
#define BANGER_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_node {
    enum json_type type;
    int first_child; /* arrays and objects: index of the first element, -1 when empty */
    int next;        /* next sibling, -1 at the end */
    int count;       /* arrays and objects: number of elements */
    const char *key; /* object members: the member name (NUL-terminated) */
    size_t key_len;
    const char *str; /* strings: decoded, NUL-terminated (may contain NUL bytes; see str_len) */
    size_t str_len;
    double number;
    int boolean;
};

struct json_doc {
    struct json_node *nodes;
    int n_nodes;
    int cap_nodes;
    char *strings; /* arena for decoded strings, sized from the input so it never moves */
    size_t strings_len;
    size_t strings_cap;
    char error[128];
};

/* Parses text (not NUL-terminated). Returns 0, or -1 with doc->error saying what and where. Free with json_free. */
int json_parse(struct json_doc *doc, const char *text, size_t len);
void json_free(struct json_doc *doc);

static inline const struct json_node *json_root(const struct json_doc *doc) { return &doc->nodes[0]; }
/* First member named key of an object, or NULL. */
const struct json_node *json_get(const struct json_doc *doc, const struct json_node *obj, const char *key);
/* First element / next sibling, or NULL. */
const struct json_node *json_first(const struct json_doc *doc, const struct json_node *parent);
const struct json_node *json_next(const struct json_doc *doc, const struct json_node *node);
/* True when a number node holds an integer within [min, max]. */
int json_is_int(const struct json_node *node, double min, double max);
const char *json_type_name(enum json_type type);

struct json_writer {
    struct buf *out;
    int depth;
    uint8_t need_comma[16];
};

void jw_init(struct json_writer *w, struct buf *out);
void jw_object_begin(struct json_writer *w);
void jw_object_end(struct json_writer *w);
void jw_key(struct json_writer *w, const char *key);
void jw_string(struct json_writer *w, const char *s);
void jw_string_n(struct json_writer *w, const char *s, size_t n);
void jw_int(struct json_writer *w, long long v);
void jw_bool(struct json_writer *w, int v);
void jw_null(struct json_writer *w);
void jw_array_begin(struct json_writer *w);
void jw_array_end(struct json_writer *w);

#endif
