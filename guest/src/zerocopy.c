/* MSG_ZEROCOPY sends from a ring of buffers (zerocopy.h; the kernel's Documentation/networking/msg_zerocopy.rst). */
#include "zerocopy.h"

#include <errno.h>
#include <time.h> /* before linux/errqueue.h, which uses struct timespec */
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY 5
#endif
#ifndef SO_EE_CODE_ZEROCOPY_COPIED
#define SO_EE_CODE_ZEROCOPY_COPIED 1
#endif

/* Sends in flight at most: the kernel numbers every successful MSG_ZEROCOPY send (from 0) and releases them by
 * ranges of those numbers; a buffer is usually one send. */
#define ZC_SEQS 256

struct zc_sender {
    int fd;
    int copying;                  /* the kernel copied anyway: plain writes from then on */
    uint8_t *buf[ZC_BUFFERS];
    unsigned pending[ZC_BUFFERS]; /* sends from each buffer the kernel has not released */
    uint8_t owner[ZC_SEQS];       /* the buffer each send in flight came from, by its number */
    uint32_t next_seq;
    unsigned in_flight;
    unsigned current;             /* the buffer zc_buffer gave last */
    unsigned handed;
};

struct zc_sender *zc_open(int fd, size_t len, size_t align)
{
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof one) < 0)
        return NULL; /* not a socket (the channel's pipe), or a kernel before 4.14 */
    struct zc_sender *z = calloc(1, sizeof *z);
    if (!z)
        return NULL;
    z->fd = fd;
    for (int i = 0; i < ZC_BUFFERS; i++) {
        if (posix_memalign((void **)&z->buf[i], align, len) != 0) {
            for (int j = 0; j < i; j++)
                free(z->buf[j]);
            free(z);
            return NULL;
        }
    }
    return z;
}

static void release(struct zc_sender *z, uint32_t seq)
{
    unsigned b = z->owner[seq % ZC_SEQS];
    if (z->pending[b] > 0)
        z->pending[b]--;
    if (z->in_flight > 0)
        z->in_flight--;
}

/* The socket's pending error (reading it clears it), 0 when it has none. */
static int socket_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ? errno : err;
}

/* Takes the kernel's notices off the error queue; with block, waits for one first. 0, or -1 (errno). */
static int reap(struct zc_sender *z, int block)
{
    for (;;) {
        char control[128];
        struct msghdr m = { .msg_control = control, .msg_controllen = sizeof control };
        if (recvmsg(z->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            if (!block)
                return 0;
            /* A notice on the error queue shows as POLLERR; so does a failed connection, whose queue stays empty. */
            struct pollfd p = { .fd = z->fd, .events = 0 };
            int r = poll(&p, 1, -1);
            if (r < 0 && errno != EINTR)
                return -1;
            if (r > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL))) {
                int err = socket_error(z->fd);
                if (err != 0 || !(p.revents & POLLERR)) { /* failed, or hung up with no notice to read */
                    errno = err != 0 ? err : EPIPE;
                    return -1;
                }
            }
            continue;
        }
        block = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if (!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR)
                  || (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)))
                continue;
            struct sock_extended_err e;
            memcpy(&e, CMSG_DATA(c), sizeof e);
            if (e.ee_origin != SO_EE_ORIGIN_ZEROCOPY)
                continue;
            if (e.ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
                z->copying = 1; /* the device could not take the pages: zero-copy only costs here */
            for (uint32_t seq = e.ee_info;; seq++) {
                release(z, seq);
                if (seq == e.ee_data)
                    break;
            }
        }
    }
}

uint8_t *zc_buffer(struct zc_sender *z)
{
    unsigned b = z->handed++ % ZC_BUFFERS;
    while (z->pending[b] > 0) {
        if (reap(z, 1) < 0)
            return NULL;
    }
    z->current = b;
    return z->buf[b];
}

int zc_send(struct zc_sender *z, size_t n)
{
    const uint8_t *p = z->buf[z->current];
    while (n > 0) {
        if (z->copying)
            return write_full(z->fd, p, n);
        if (z->in_flight >= ZC_SEQS - 1 && reap(z, 1) < 0)
            return -1;
        ssize_t w = send(z->fd, p, n, MSG_ZEROCOPY | MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOBUFS) {
                /* The socket's memory for notices is full: take them, or (none pending) write this plainly. */
                if (z->in_flight == 0)
                    return write_full(z->fd, p, n);
                if (reap(z, 1) < 0)
                    return -1;
                continue;
            }
            return -1;
        }
        z->owner[z->next_seq % ZC_SEQS] = (uint8_t)z->current;
        z->next_seq++;
        z->pending[z->current]++;
        z->in_flight++;
        p += w;
        n -= (size_t)w;
        if (reap(z, 0) < 0)
            return -1;
    }
    return 0;
}
