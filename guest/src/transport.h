/* Where the agent listens: a Unix socket (tests on the host), AF_VSOCK (Firecracker) or a virtio-serial port (QEMU). */
#ifndef BANGER_TRANSPORT_H
#define BANGER_TRANSPORT_H

/* Listening sockets are non-blocking and close-on-exec; each returns the fd or -1 with a console line. */
int transport_listen_unix(const char *path);
int transport_listen_vsock(unsigned port);
/*
 * Opens the virtio-serial port whose name (in /sys/class/virtio-ports/vportNpM/name) is `name`, waiting up to
 * wait_ms for it to appear. Returns a non-blocking fd or -1 with a console line.
 */
int transport_open_serial(const char *name, int wait_ms);

#endif
