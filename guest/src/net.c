#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static int set_up(int sock, const char *ifname)
{
    struct ifreq ifr = { 0 };
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
        return -1;
    ifr.ifr_flags |= IFF_UP;
    return ioctl(sock, SIOCSIFFLAGS, &ifr);
}

static int iface_exists(int sock, const char *ifname)
{
    struct ifreq ifr = { 0 };
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    return ioctl(sock, SIOCGIFINDEX, &ifr) == 0;
}

static void set_sin(struct sockaddr *sa, struct in_addr a)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = a };
    memcpy(sa, &sin, sizeof sin);
}

int net_loopback_up(void)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || set_up(sock, "lo") < 0) {
        log_msg("network: cannot bring lo up: %s", strerror(errno));
        if (sock >= 0)
            close(sock);
        return -1;
    }
    close(sock);
    return 0;
}

int net_set_mac(const char *ifname, const char *mac)
{
    unsigned int b[6];
    char extra;
    if (sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &extra) != 6) {
        log_msg("network: bad MAC address %s", mac);
        errno = EINVAL;
        return -1;
    }
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return -1;
    struct ifreq ifr = { 0 };
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    for (int i = 0; i < 6; i++)
        ifr.ifr_hwaddr.sa_data[i] = (char)b[i];
    int rc = ioctl(sock, SIOCSIFHWADDR, &ifr);
    int saved = errno;
    close(sock);
    errno = saved;
    return rc;
}

int net_configure(const char *ifname, const char *addr_cidr, const char *gateway, int wait_ms)
{
    char addr_s[64];
    const char *slash = strchr(addr_cidr, '/');
    size_t alen = slash ? (size_t)(slash - addr_cidr) : strlen(addr_cidr);
    long prefix = slash ? strtol(slash + 1, NULL, 10) : 32;
    struct in_addr addr, gw;
    if (alen >= sizeof addr_s || prefix < 0 || prefix > 32) {
        log_msg("network: bad banger.ip=%s (want ADDRESS/PREFIX)", addr_cidr);
        return -1;
    }
    memcpy(addr_s, addr_cidr, alen);
    addr_s[alen] = '\0';
    if (inet_pton(AF_INET, addr_s, &addr) != 1) {
        log_msg("network: bad address in banger.ip=%s", addr_cidr);
        return -1;
    }
    if (gateway && inet_pton(AF_INET, gateway, &gw) != 1) {
        log_msg("network: bad banger.gw=%s", gateway);
        return -1;
    }
    struct in_addr mask = { .s_addr = htonl(prefix == 0 ? 0 : 0xFFFFFFFFu << (32 - prefix)) };

    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        log_msg("network: socket: %s", strerror(errno));
        return -1;
    }
    uint64_t deadline = now_ms() + (uint64_t)wait_ms;
    while (!iface_exists(sock, ifname)) {
        if (now_ms() >= deadline) {
            close(sock);
            return 1;
        }
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    struct ifreq ifr = { 0 };
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    set_sin(&ifr.ifr_addr, addr);
    const char *step = "set address";
    if (ioctl(sock, SIOCSIFADDR, &ifr) < 0)
        goto fail;
    step = "set netmask";
    set_sin(&ifr.ifr_netmask, mask);
    if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0)
        goto fail;
    step = "bring up";
    if (set_up(sock, ifname) < 0)
        goto fail;
    if (gateway) {
        step = "add default route";
        struct rtentry rt = { 0 };
        char dev[IFNAMSIZ];
        snprintf(dev, sizeof dev, "%s", ifname);
        set_sin(&rt.rt_dst, (struct in_addr){ 0 });
        set_sin(&rt.rt_genmask, (struct in_addr){ 0 });
        set_sin(&rt.rt_gateway, gw);
        rt.rt_flags = RTF_UP | RTF_GATEWAY;
        rt.rt_dev = dev;
        if (ioctl(sock, SIOCADDRT, &rt) < 0 && errno != EEXIST)
            goto fail;
    }
    close(sock);
    log_msg("network: %s %s%s%s", ifname, addr_cidr, gateway ? " via " : "", gateway ? gateway : "");
    return 0;
fail:
    log_msg("network: %s: cannot %s: %s", ifname, step, strerror(errno));
    close(sock);
    return -1;
}

int net_write_resolv_conf(const char *dns_list)
{
    char text[1024];
    size_t n = 0;
    const char *p = dns_list;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len > 0 && n + len + 12 < sizeof text)
            n += (size_t)snprintf(text + n, sizeof text - n, "nameserver %.*s\n", (int)len, p);
        p += len;
        if (*p == ',')
            p++;
    }
    unlink("/etc/resolv.conf"); /* may be a dangling symlink into a resolver we do not run */
    int fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_full(fd, text, n) < 0) {
        log_msg("network: cannot write /etc/resolv.conf: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}
