/*
 * A file copy's archive over TCP on the guest's network instead of the agent's channel (docs/agent-protocol.md,
 * "The archive over TCP"). Under QEMU the channel is a virtio-serial port whose host side moves 4 KiB per trip
 * through QEMU's main loop; a TCP stream over virtio-net is several times cheaper per byte.
 *
 * The agent opens a listener on the address the host names (copy_tcp_listen) and tells the host its port; the
 * helper process then takes the first connection that presents the channel's token, or falls back to its pipes as
 * soon as the host sends anything on the channel's stdin (data or EOF) (copy_tcp_await).
 */
#ifndef BANGER_COPY_TCP_H
#define BANGER_COPY_TCP_H

#include <stddef.h>
#include <stdint.h>

#define COPY_TOKEN_LEN 16
/* The byte the helper sends once it has accepted the host's connection: the archive may flow. */
#define COPY_TCP_ACCEPTED 'K'

/*
 * Listens on address (dotted IPv4) with a port the kernel picks. Returns the listening fd (non-blocking,
 * close-on-exec) and its port in *port, or -1 with the reason in err.
 */
int copy_tcp_listen(const char *address, uint16_t *port, char *err, size_t err_len);

/*
 * In the helper: waits on listen_fd for a connection that sends the token, and on stdin for the host's fallback.
 * Connections that send anything else (or nothing within a second) are closed and the wait goes on. On the
 * token, sends COPY_TCP_ACCEPTED, moves the connection onto target_fd (0 to read the archive from it, 1 to write
 * it) and returns 1; returns 0 when the host fell back to the channel (or after a minute without either).
 * Closes listen_fd either way.
 */
int copy_tcp_await(int listen_fd, const uint8_t token[COPY_TOKEN_LEN], int target_fd);

/* Parses 2*COPY_TOKEN_LEN hex digits. Returns 0, or -1 when hex is anything else. */
int copy_token_parse(const char *hex, uint8_t token[COPY_TOKEN_LEN]);

#endif
