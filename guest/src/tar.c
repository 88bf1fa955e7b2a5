#include "tar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ustar header field offsets and sizes */
#define F_NAME 0
#define F_MODE 100
#define F_UID 108
#define F_GID 116
#define F_SIZE 124
#define F_MTIME 136
#define F_CHKSUM 148
#define F_TYPE 156
#define F_LINK 157
#define F_MAGIC 257
#define F_VERSION 263
#define F_DEVMAJOR 329
#define F_DEVMINOR 337
#define F_PREFIX 345

#define PAX_MAX (64 * 1024)

static const char GNU_LONGLINK[] = "././@LongLink";

/* --- writing --- */

/* Octal with a NUL when it fits in width-1 digits, else GNU base-256 (big-endian two's complement). */
static void put_number(uint8_t *field, size_t width, int64_t v)
{
    int fits = v >= 0 && (width - 1 >= 22 || (uint64_t)v < (1ull << (3 * (width - 1))));
    if (fits) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%0*llo", (int)(width - 1), (unsigned long long)v);
        memcpy(field, tmp, width - 1);
        field[width - 1] = '\0';
        return;
    }
    uint64_t u = (uint64_t)v;
    for (size_t i = width; i-- > 1;) {
        field[i] = (uint8_t)u;
        u = (uint64_t)((int64_t)u >> 8);
    }
    field[0] = v < 0 ? 0xFF : 0x80;
}

static void finish_header(uint8_t *h)
{
    memcpy(h + F_MAGIC, "ustar", 6);
    memcpy(h + F_VERSION, "00", 2);
    memset(h + F_CHKSUM, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < TAR_BLOCK; i++)
        sum += h[i];
    snprintf((char *)h + F_CHKSUM, 8, "%06o", sum);
    h[F_CHKSUM + 7] = ' ';
}

static int append_padded(struct buf *out, const void *p, size_t n)
{
    size_t padded = (n + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
    uint8_t *dst = buf_reserve(out, padded);
    if (!dst)
        return -1;
    memcpy(dst, p, n);
    memset(dst + n, 0, padded - n);
    buf_commit(out, padded);
    return 0;
}

/* A GNU 'L' or 'K' entry carrying a long name (with its NUL). */
static int encode_long(char type, const char *value, struct buf *out)
{
    uint8_t h[TAR_BLOCK] = { 0 };
    size_t len = strlen(value) + 1;
    memcpy(h + F_NAME, GNU_LONGLINK, sizeof GNU_LONGLINK);
    put_number(h + F_MODE, 8, 0);
    put_number(h + F_UID, 8, 0);
    put_number(h + F_GID, 8, 0);
    put_number(h + F_SIZE, 12, (int64_t)len);
    put_number(h + F_MTIME, 12, 0);
    h[F_TYPE] = (uint8_t)type;
    finish_header(h);
    if (buf_append(out, h, TAR_BLOCK) < 0)
        return -1;
    return append_padded(out, value, len);
}

int tar_encode_header(const struct tar_entry *e, struct buf *out)
{
    uint8_t h[TAR_BLOCK] = { 0 };
    size_t nlen = strlen(e->name);
    if (nlen <= 100) {
        memcpy(h + F_NAME, e->name, nlen);
    } else {
        /* ustar splits at a '/' into prefix (155) and name (100); when no split fits, a GNU long name. */
        const char *split = NULL;
        for (const char *p = e->name + nlen - 1; p > e->name; p--) {
            if (*p != '/')
                continue;
            size_t plen = (size_t)(p - e->name), rest = nlen - plen - 1;
            if (rest > 100)
                break;
            if (plen <= 155 && rest > 0)
                split = p;
        }
        if (split) {
            memcpy(h + F_PREFIX, e->name, (size_t)(split - e->name));
            memcpy(h + F_NAME, split + 1, nlen - (size_t)(split - e->name) - 1);
        } else {
            if (encode_long('L', e->name, out) < 0)
                return -1;
            memcpy(h + F_NAME, e->name, 100);
        }
    }
    size_t llen = strlen(e->link);
    if (llen > 100) {
        if (encode_long('K', e->link, out) < 0)
            return -1;
        llen = 100;
    }
    memcpy(h + F_LINK, e->link, llen);
    put_number(h + F_MODE, 8, e->mode & 07777);
    put_number(h + F_UID, 8, e->uid);
    put_number(h + F_GID, 8, e->gid);
    put_number(h + F_SIZE, 12, e->type == TAR_FILE ? (int64_t)e->size : 0);
    put_number(h + F_MTIME, 12, e->mtime);
    h[F_TYPE] = (uint8_t)e->type;
    if (e->type == TAR_CHAR || e->type == TAR_BLOCKDEV) {
        put_number(h + F_DEVMAJOR, 8, e->devmajor);
        put_number(h + F_DEVMINOR, 8, e->devminor);
    }
    finish_header(h);
    return buf_append(out, h, TAR_BLOCK);
}

int tar_encode_end(struct buf *out)
{
    uint8_t *dst = buf_reserve(out, 2 * TAR_BLOCK);
    if (!dst)
        return -1;
    memset(dst, 0, 2 * TAR_BLOCK);
    buf_commit(out, 2 * TAR_BLOCK);
    return 0;
}

/* --- reading --- */

/* Up to n bytes: what the buffer holds, else one read (into p when n is at least a buffer's worth). */
static ssize_t read_some(struct tar_reader *r, void *p, size_t n)
{
    if (r->off == r->len) {
        if (n >= TAR_READ_BUFFER) {
            ssize_t got;
            do
                got = read(r->fd, p, n);
            while (got < 0 && errno == EINTR);
            return got;
        }
        if (!r->buf && !(r->buf = malloc(TAR_READ_BUFFER))) {
            errno = ENOMEM;
            return -1;
        }
        ssize_t got;
        do
            got = read(r->fd, r->buf, TAR_READ_BUFFER);
        while (got < 0 && errno == EINTR);
        if (got <= 0)
            return got;
        r->off = 0;
        r->len = (size_t)got;
    }
    size_t k = r->len - r->off < n ? r->len - r->off : n;
    memcpy(p, r->buf + r->off, k);
    r->off += k;
    return (ssize_t)k;
}

/* 1 read, 0 clean end of input before the first byte, -1 error or truncated (errno EIO for truncation). */
static int read_exact(struct tar_reader *rd, void *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read_some(rd, (uint8_t *)p + got, n - got);
        if (r < 0)
            return -1;
        if (r == 0) {
            if (got == 0)
                return 0;
            errno = EIO;
            return -1;
        }
        got += (size_t)r;
    }
    return 1;
}

static int get_number(const uint8_t *f, size_t width, int64_t *out)
{
    if (f[0] & 0x80) {
        /* base-256: after the marker bit, a big-endian two's complement number (bit 6 is its sign) */
        uint64_t v = (f[0] & 0x40) ? ~0ull : 0;
        v = (v << 7) | (f[0] & 0x7F);
        for (size_t i = 1; i < width; i++)
            v = (v << 8) | f[i];
        *out = (int64_t)v;
        return 0;
    }
    size_t i = 0;
    while (i < width && (f[i] == ' ' || f[i] == '\0'))
        i++;
    uint64_t v = 0;
    int digits = 0;
    for (; i < width && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
        if (v >> 60)
            return -1;
        v = v * 8 + (uint64_t)(f[i] - '0');
    }
    for (; i < width; i++)
        if (f[i] != ' ' && f[i] != '\0')
            return -1;
    *out = (int64_t)v;
    return 0;
}

static int all_zero(const uint8_t *b)
{
    for (int i = 0; i < TAR_BLOCK; i++)
        if (b[i])
            return 0;
    return 1;
}

static int checksum_ok(const uint8_t *h)
{
    int64_t stored;
    if (get_number(h + F_CHKSUM, 8, &stored) < 0)
        return 0;
    unsigned long usum = 0;
    long ssum = 0;
    for (int i = 0; i < TAR_BLOCK; i++) {
        uint8_t c = (i >= F_CHKSUM && i < F_CHKSUM + 8) ? ' ' : h[i];
        usum += c;
        ssum += (signed char)c;
    }
    return (int64_t)usum == stored || (int64_t)ssum == stored;
}

static int skip_rest(struct tar_reader *r)
{
    uint8_t scratch[4096];
    while (r->data_left > 0 || r->pad_left > 0) {
        if (r->data_left > 0) {
            ssize_t n = tar_read_data(r, scratch, sizeof scratch);
            if (n <= 0)
                return -1;
            continue;
        }
        if (read_exact(r, scratch, r->pad_left) != 1)
            return -1;
        r->pad_left = 0;
    }
    return 0;
}

ssize_t tar_read_data(struct tar_reader *r, void *buf, size_t len)
{
    if (r->data_left == 0)
        return 0;
    if (len > r->data_left)
        len = (size_t)r->data_left;
    ssize_t n = read_some(r, buf, len);
    if (n == 0) {
        errno = EIO;
        return -1;
    }
    if (n > 0)
        r->data_left -= (uint64_t)n;
    return n;
}

/* Reads a whole small entry body (long name, pax header) into a NUL-terminated malloc'ed string. */
static char *read_body(struct tar_reader *r, size_t max, size_t *len_out)
{
    if (r->data_left > max)
        return NULL;
    size_t len = (size_t)r->data_left;
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    size_t got = 0;
    while (got < len) {
        ssize_t n = tar_read_data(r, s + got, len - got);
        if (n <= 0) {
            free(s);
            return NULL;
        }
        got += (size_t)n;
    }
    s[len] = '\0';
    *len_out = len;
    return s;
}

static int set_name(char *dst, const char *src, size_t len, const char *what, char *err, size_t err_len)
{
    if (len > TAR_NAME_MAX) {
        snprintf(err, err_len, "%s of %zu bytes is longer than the limit of %d", what, len, TAR_NAME_MAX);
        return -1;
    }
    if (memchr(src, '\0', len)) {
        len = strlen(src);
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

struct pax {
    int has_path, has_link, has_size, has_mtime, has_uid, has_gid;
    char *path, *link;
    uint64_t size, uid, gid;
    int64_t mtime;
};

static int parse_pax(char *body, size_t len, struct pax *p, char *err, size_t err_len)
{
    size_t off = 0;
    while (off < len) {
        char *rec = body + off;
        char *sp = memchr(rec, ' ', len - off);
        unsigned long rlen = strtoul(rec, NULL, 10);
        if (!sp || rlen == 0 || rlen > len - off || rec[rlen - 1] != '\n') {
            snprintf(err, err_len, "malformed pax extended header");
            return -1;
        }
        rec[rlen - 1] = '\0';
        char *key = sp + 1;
        char *eq = strchr(key, '=');
        if (!eq) {
            snprintf(err, err_len, "malformed pax record");
            return -1;
        }
        *eq = '\0';
        char *val = eq + 1;
        if (strcmp(key, "path") == 0) {
            p->has_path = 1;
            p->path = val;
        } else if (strcmp(key, "linkpath") == 0) {
            p->has_link = 1;
            p->link = val;
        } else if (strcmp(key, "size") == 0) {
            p->has_size = 1;
            p->size = strtoull(val, NULL, 10);
        } else if (strcmp(key, "mtime") == 0) {
            p->has_mtime = 1;
            p->mtime = strtoll(val, NULL, 10);
        } else if (strcmp(key, "uid") == 0) {
            p->has_uid = 1;
            p->uid = strtoull(val, NULL, 10);
        } else if (strcmp(key, "gid") == 0) {
            p->has_gid = 1;
            p->gid = strtoull(val, NULL, 10);
        }
        off += rlen;
    }
    return 0;
}

int tar_next(struct tar_reader *r, struct tar_entry *e, char *err, size_t err_len)
{
    char *long_name = NULL, *long_link = NULL, *pax_body = NULL;
    size_t long_name_len = 0, long_link_len = 0;
    struct pax pax = { 0 };
    int rc = -1;
    uint8_t h[TAR_BLOCK];

    for (;;) {
        if (skip_rest(r) < 0) {
            snprintf(err, err_len, "archive ends inside an entry");
            goto out;
        }
        int got = read_exact(r, h, TAR_BLOCK);
        if (got == 0 && !long_name && !long_link && !pax_body) {
            rc = 0; /* end of input at an entry boundary: accepted as the end */
            goto out;
        }
        if (got != 1) {
            snprintf(err, err_len, got == 0 ? "archive ends after an extended header" : "reading the archive: %s",
                     strerror(errno));
            goto out;
        }
        if (all_zero(h)) {
            rc = 0;
            goto out;
        }
        if (!checksum_ok(h)) {
            snprintf(err, err_len, "not a tar archive (header checksum mismatch)");
            goto out;
        }
        int64_t size, v;
        if (get_number(h + F_SIZE, 12, &size) < 0 || size < 0) {
            snprintf(err, err_len, "malformed size field in a tar header");
            goto out;
        }
        r->data_left = (uint64_t)size;
        r->pad_left = (uint32_t)((TAR_BLOCK - (uint64_t)size % TAR_BLOCK) % TAR_BLOCK);
        char type = (char)h[F_TYPE];
        if (type == 'L' || type == 'K') {
            char **dst = type == 'L' ? &long_name : &long_link;
            size_t *dlen = type == 'L' ? &long_name_len : &long_link_len;
            free(*dst);
            *dst = read_body(r, TAR_NAME_MAX + 1, dlen);
            if (!*dst) {
                snprintf(err, err_len, "%s of %lld bytes is longer than the limit of %d",
                         type == 'L' ? "name" : "link target", (long long)size, TAR_NAME_MAX);
                goto out;
            }
            while (*dlen > 0 && (*dst)[*dlen - 1] == '\0')
                (*dlen)--;
            continue;
        }
        if (type == 'x' || type == 'g') {
            size_t plen;
            char *body = read_body(r, PAX_MAX, &plen);
            if (!body) {
                snprintf(err, err_len, "pax extended header of %lld bytes is too large or truncated", (long long)size);
                goto out;
            }
            if (type == 'g') {
                free(body);
                continue;
            }
            free(pax_body);
            pax_body = body;
            memset(&pax, 0, sizeof pax);
            if (parse_pax(pax_body, plen, &pax, err, err_len) < 0)
                goto out;
            continue;
        }

        memset(e, 0, sizeof *e);
        e->type = type == '\0' || type == '7' ? TAR_FILE : type;
        if (pax.has_path) {
            if (set_name(e->name, pax.path, strlen(pax.path), "name", err, err_len) < 0)
                goto out;
        } else if (long_name) {
            if (set_name(e->name, long_name, long_name_len, "name", err, err_len) < 0)
                goto out;
        } else {
            char nm[257];
            size_t n = strnlen((const char *)h + F_NAME, 100);
            size_t p = memcmp(h + F_MAGIC, "ustar\0", 6) == 0 ? strnlen((const char *)h + F_PREFIX, 155) : 0;
            size_t len = 0;
            if (p) {
                memcpy(nm, h + F_PREFIX, p);
                nm[p] = '/';
                len = p + 1;
            }
            memcpy(nm + len, h + F_NAME, n);
            len += n;
            nm[len] = '\0';
            memcpy(e->name, nm, len + 1);
        }
        if (pax.has_link) {
            if (set_name(e->link, pax.link, strlen(pax.link), "link target", err, err_len) < 0)
                goto out;
        } else if (long_link) {
            if (set_name(e->link, long_link, long_link_len, "link target", err, err_len) < 0)
                goto out;
        } else {
            size_t n = strnlen((const char *)h + F_LINK, 100);
            memcpy(e->link, h + F_LINK, n);
            e->link[n] = '\0';
        }
        if (get_number(h + F_MODE, 8, &v) < 0) {
            snprintf(err, err_len, "%s: malformed mode field", e->name);
            goto out;
        }
        e->mode = (mode_t)(v & 07777);
        if (get_number(h + F_UID, 8, &v) < 0) {
            snprintf(err, err_len, "%s: malformed uid field", e->name);
            goto out;
        }
        e->uid = (uid_t)(pax.has_uid ? (int64_t)pax.uid : v);
        if (get_number(h + F_GID, 8, &v) < 0) {
            snprintf(err, err_len, "%s: malformed gid field", e->name);
            goto out;
        }
        e->gid = (gid_t)(pax.has_gid ? (int64_t)pax.gid : v);
        if (get_number(h + F_MTIME, 12, &v) < 0) {
            snprintf(err, err_len, "%s: malformed mtime field", e->name);
            goto out;
        }
        e->mtime = pax.has_mtime ? pax.mtime : v;
        if (pax.has_size) {
            r->data_left = pax.size;
            r->pad_left = (uint32_t)((TAR_BLOCK - pax.size % TAR_BLOCK) % TAR_BLOCK);
        }
        e->size = r->data_left;
        if (e->type == TAR_CHAR || e->type == TAR_BLOCKDEV) {
            int64_t maj = 0, min = 0;
            get_number(h + F_DEVMAJOR, 8, &maj);
            get_number(h + F_DEVMINOR, 8, &min);
            e->devmajor = (unsigned)maj;
            e->devminor = (unsigned)min;
        }
        if (e->type != TAR_FILE) {
            /* Only regular files carry data; whatever another type claims is skipped. */
            e->size = 0;
        }
        rc = 1;
        goto out;
    }
out:
    free(long_name);
    free(long_link);
    free(pax_body);
    return rc;
}
