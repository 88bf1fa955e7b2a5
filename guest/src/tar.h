/*
 * The tar format of file.read and file.write (docs/agent-protocol.md, "File copy"): POSIX ustar, with GNU
 * long-name ('L') and long-link ('K') entries for names that do not fit, and GNU base-256 numbers for values
 * that do not fit in octal. The reader also takes pax extended headers ('x': path, linkpath, size, mtime, uid,
 * gid), as other tar writers emit them. Both sides work on blocking fds.
 */
#ifndef BANGER_TAR_H
#define BANGER_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

#define TAR_BLOCK 512
/* Longest name or link target either side handles (PATH_MAX - 1); longer ones are refused. */
#define TAR_NAME_MAX 4095

enum tar_type {
    TAR_FILE = '0',
    TAR_HARDLINK = '1',
    TAR_SYMLINK = '2',
    TAR_CHAR = '3',
    TAR_BLOCKDEV = '4',
    TAR_DIR = '5',
    TAR_FIFO = '6',
};

struct tar_entry {
    char name[TAR_NAME_MAX + 1];
    char link[TAR_NAME_MAX + 1];
    char type;
    mode_t mode; /* permission bits only (07777) */
    uid_t uid;
    gid_t gid;
    uint64_t size;
    int64_t mtime;
    unsigned devmajor, devminor;
};

/* Appends the header block(s) for e (GNU long-name/long-link entries first when needed). 0, or -1: no memory. */
int tar_encode_header(const struct tar_entry *e, struct buf *out);
/* Appends the two zero blocks that end an archive. */
int tar_encode_end(struct buf *out);

/* Reads from fd through a buffer of TAR_READ_BUFFER bytes (allocated at the first read), so a stream of small
 * entries costs one read per buffer instead of several per entry; large reads of entry data bypass it. */
#define TAR_READ_BUFFER (256 * 1024)

struct tar_reader {
    int fd;
    uint64_t data_left; /* data bytes of the current entry not yet read */
    uint32_t pad_left;  /* padding after them */
    uint8_t *buf;       /* read ahead from fd: buf[off..len) not yet taken */
    size_t off, len;
};

/*
 * Reads the next entry's header(s). Returns 1 with *e filled, 0 at the end of the archive (zero block or end of
 * input at an entry boundary), -1 with a message in err (malformed, truncated, a name too long, read error).
 */
int tar_next(struct tar_reader *r, struct tar_entry *e, char *err, size_t err_len);
/* Reads up to len bytes of the current entry's data; 0 at its end, -1 on a read error or truncated input. */
ssize_t tar_read_data(struct tar_reader *r, void *buf, size_t len);

#endif
