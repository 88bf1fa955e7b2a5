/* The archive of a file copy over TCP: the agent's listener and the helper's accept (copy_tcp.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "copy_tcp.h"
#include "util.h"

/* How long a connection has to present the token before it is dropped. */
#define TOKEN_WAIT_MS 1000
/* How long the helper waits for either the host's connection or its fallback. */
#define AWAIT_MS 60000

int copy_tcp_listen(const char *address, uint16_t *port, char *err, size_t err_len)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
        snprintf(err, err_len, "%.60s is not an IPv4 address", address);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, err_len, "socket: %s", strerror(errno));
        return -1;
    }
    socklen_t len = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 8) < 0
        || getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        snprintf(err, err_len, "listening on %s: %s", address, strerror(errno));
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Reads the token from a new connection: 1 when it is the right one, 0 otherwise. Compares in constant time. */
static int presents_token(int fd, const uint8_t token[COPY_TOKEN_LEN])
{
    struct timeval tv = { .tv_sec = TOKEN_WAIT_MS / 1000, .tv_usec = (TOKEN_WAIT_MS % 1000) * 1000 };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
        return 0;
    uint8_t got[COPY_TOKEN_LEN];
    size_t n = 0;
    uint64_t deadline = now_ms() + TOKEN_WAIT_MS;
    while (n < sizeof got) {
        ssize_t r = read(fd, got + n, sizeof got - n);
        if (r < 0 && errno == EINTR && now_ms() < deadline)
            continue;
        if (r <= 0 || now_ms() > deadline)
            return 0;
        n += (size_t)r;
    }
    uint8_t diff = 0;
    for (size_t i = 0; i < sizeof got; i++)
        diff |= (uint8_t)(got[i] ^ token[i]);
    struct timeval none = { 0 };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none) < 0)
        return 0;
    return diff == 0;
}

int copy_tcp_await(int listen_fd, const uint8_t token[COPY_TOKEN_LEN], int target_fd)
{
    uint64_t deadline = now_ms() + AWAIT_MS;
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline)
            break;
        long long left = (long long)(deadline - now);
        struct pollfd p[2] = { { .fd = listen_fd, .events = POLLIN }, { .fd = STDIN_FILENO, .events = POLLIN } };
        int r = poll(p, 2, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        if (p[1].revents)
            break; /* the host sent data or EOF on the channel: it could not connect */
        if (p[0].revents & (POLLERR | POLLNVAL))
            break;
        if (!p[0].revents)
            continue;
        int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
            continue;
        if (!presents_token(conn, token)) {
            log_debug("file copy: dropped a connection without the token");
            close(conn);
            continue;
        }
        close(listen_fd);
        /* Writes to a connection the host closed must fail (an io_error verdict), not kill the helper. */
        signal(SIGPIPE, SIG_IGN);
        const uint8_t accepted = COPY_TCP_ACCEPTED;
        if (write(conn, &accepted, 1) != 1 || dup2(conn, target_fd) < 0) {
            close(conn);
            return -1;
        }
        close(conn);
        return 1;
    }
    close(listen_fd);
    return 0;
}

int copy_token_parse(const char *hex, uint8_t token[COPY_TOKEN_LEN])
{
    if (strlen(hex) != 2 * COPY_TOKEN_LEN)
        return -1;
    for (size_t i = 0; i < COPY_TOKEN_LEN; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + k];
            unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                       : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                       : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
            if (d > 15)
                return -1;
            v = v * 16 + d;
        }
        token[i] = (uint8_t)v;
    }
    return 0;
}
