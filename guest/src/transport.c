#include "transport.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "util.h"

int transport_listen_unix(const char *path)
{
    /* Bound under a temporary name and renamed once listening, so the path never refuses a connection. */
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s.%d.tmp", path, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof sa.sun_path) {
        log_msg("socket path too long (max about %zu bytes): %s", sizeof sa.sun_path - 16, path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_msg("socket(AF_UNIX): %s", strerror(errno));
        return -1;
    }
    unlink(sa.sun_path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0 || rename(sa.sun_path, path) < 0) {
        log_msg("cannot listen on %s: %s", path, strerror(errno));
        unlink(sa.sun_path);
        close(fd);
        return -1;
    }
    return fd;
}

int transport_listen_vsock(unsigned port)
{
    int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_msg("socket(AF_VSOCK): %s (is the vsock transport module loaded?)", strerror(errno));
        return -1;
    }
    struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_port = port, .svm_cid = VMADDR_CID_ANY };
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0) {
        log_msg("cannot listen on vsock port %u: %s", port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Finds /dev/vportNpM for a port name; 0 with the device path in dev, or -1. */
static int find_serial_port(const char *name, char *dev, size_t dev_len)
{
    DIR *d = opendir("/sys/class/virtio-ports");
    if (!d)
        return -1;
    int found = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
        char *port_name = read_small_file(path, 256);
        if (!port_name)
            continue;
        port_name[strcspn(port_name, "\n")] = '\0';
        int match = strcmp(port_name, name) == 0;
        free(port_name);
        if (match) {
            snprintf(dev, dev_len, "/dev/%s", e->d_name);
            found = 0;
            break;
        }
    }
    closedir(d);
    return found;
}

int transport_open_serial(const char *name, int wait_ms)
{
    char dev[300];
    uint64_t deadline = now_ms() + (uint64_t)wait_ms;
    for (;;) {
        if (find_serial_port(name, dev, sizeof dev) == 0) {
            int fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
            if (fd >= 0) {
                log_debug("agent transport: virtio-serial port %s is %s", name, dev);
                return fd;
            }
            if (errno != ENOENT || now_ms() >= deadline) {
                log_msg("cannot open %s (virtio-serial port %s): %s", dev, name, strerror(errno));
                return -1;
            }
        } else if (now_ms() >= deadline) {
            log_msg("no virtio-serial port named %s in /sys/class/virtio-ports after %d ms "
                    "(is virtio_console loaded and the port configured?)", name, wait_ms);
            return -1;
        }
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}
