/* Small helpers shared by every part of banger-init: console logging, byte buffers, clocks, fd flags. */
#ifndef BANGER_UTIL_H
#define BANGER_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BANGER_VERSION "0.1.0"

/* Set from banger.debug=1 (PID 1) or --debug (agent mode). */
extern int g_debug;

/* One line "banger-init: ..." on stderr, which is /dev/console when banger-init is PID 1. */
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, only when debugging is on. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte queue: bytes are appended at the end and consumed from the front. */
struct buf {
    uint8_t *data;
    size_t off;  /* first unconsumed byte */
    size_t len;  /* end of valid bytes */
    size_t cap;
};

static inline size_t buf_avail(const struct buf *b) { return b->len - b->off; }
static inline uint8_t *buf_head(const struct buf *b) { return b->data + b->off; }
/* Returns 0, or -1 when memory runs out (the buffer is then unchanged). */
int buf_append(struct buf *b, const void *p, size_t n);
/* Makes room for n more bytes at the end and returns where they go (NULL on no memory); commit with buf_commit. */
uint8_t *buf_reserve(struct buf *b, size_t n);
static inline void buf_commit(struct buf *b, size_t n) { b->len += n; }
void buf_consume(struct buf *b, size_t n);
void buf_clear(struct buf *b);
void buf_free(struct buf *b);

int set_nonblock(int fd);
/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t now_ms(void);
/* Milliseconds since the machine booted (CLOCK_BOOTTIME): the guest's uptime. */
uint64_t uptime_ms(void);
/* Writes all of p to a blocking fd, retrying on EINTR. */
int write_full(int fd, const void *p, size_t n);
/* Reads a whole small file into a NUL-terminated malloc'ed string (NULL on error). */
char *read_small_file(const char *path, size_t max);
/*
 * The value of key=value in a kernel command line (last one wins; double quotes protect blanks: key="a b"),
 * malloc'ed, or NULL when the key is absent.
 */
char *cmdline_value(const char *cmdline, const char *key);
/* mkdir -p for one path (mode for created directories); 0 or -1 with errno. */
int mkdir_p(const char *path, mode_t mode);

#endif
