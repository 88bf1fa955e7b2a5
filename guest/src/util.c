#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int g_debug;

static void vlog(const char *fmt, va_list ap)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "banger-init: ");
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    if (m < 0)
        return;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    write_full(STDERR_FILENO, line, len);
}

void log_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    if (!g_debug)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

uint8_t *buf_reserve(struct buf *b, size_t n)
{
    if (b->off > 0 && (b->off == b->len || (b->cap - b->len < n && b->off >= b->len - b->off))) {
        /* Slide the unconsumed bytes to the front before growing, when what was consumed is at least what is
         * left: sliding a large buffer for every small append would copy it over and over (a file copy's 2 MiB of
         * queued stdin, 64 KiB at a time), so each byte is slid at most about once. */
        size_t avail = b->len - b->off;
        memmove(b->data, b->data + b->off, avail);
        b->off = 0;
        b->len = avail;
    }
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            return NULL;
        b->data = d;
        b->cap = cap;
    }
    return b->data + b->len;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    uint8_t *dst = buf_reserve(b, n);
    if (!dst)
        return -1;
    memcpy(dst, p, n);
    b->len += n;
    return 0;
}

void buf_consume(struct buf *b, size_t n)
{
    b->off += n;
    if (b->off >= b->len)
        b->off = b->len = 0;
}

void buf_clear(struct buf *b)
{
    b->off = b->len = 0;
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -1;
    return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static uint64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
uint64_t uptime_ms(void) { return clock_ms(CLOCK_BOOTTIME); }

int write_full(int fd, const void *p, size_t n)
{
    const uint8_t *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

char *read_small_file(const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *s = malloc(max + 1);
    size_t len = 0;
    while (s && len < max) {
        ssize_t r = read(fd, s + len, max - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (s)
        s[len] = '\0';
    return s;
}

char *cmdline_value(const char *cmdline, const char *key)
{
    size_t klen = strlen(key);
    char *found = NULL;
    const char *p = cmdline;
    while (*p) {
        while (*p == ' ' || *p == '\n' || *p == '\t')
            p++;
        if (!*p)
            break;
        char word[1024];
        size_t n = 0;
        int quoted = 0;
        for (; *p && (quoted || (*p != ' ' && *p != '\n' && *p != '\t')); p++) {
            if (*p == '"')
                quoted = !quoted;
            else if (n < sizeof word - 1)
                word[n++] = *p;
        }
        word[n] = '\0';
        if (strncmp(word, key, klen) == 0 && word[klen] == '=') {
            free(found);
            found = strdup(word + klen + 1);
        }
    }
    return found;
}

int mkdir_p(const char *path, mode_t mode)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) < 0 && errno != EEXIST)
        return -1;
    return 0;
}
