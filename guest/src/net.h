/* Guest network from the kernel command line (Debian's kernels have no CONFIG_IP_PNP, so init does it). */
#ifndef BANGER_NET_H
#define BANGER_NET_H

/* Brings lo up. Returns 0 or -1 with a console line. */
int net_loopback_up(void);
/*
 * Configures ifname with addr_cidr ("10.0.0.2/24"), brings it up and, when gateway is non-NULL, adds the
 * default route through it; waits up to wait_ms for the interface to appear. Returns 0, 1 when the interface
 * does not exist (nothing done), or -1 with a console line.
 */
int net_configure(const char *ifname, const char *addr_cidr, const char *gateway, int wait_ms);
/* Sets ifname's MAC address ("02:00:0a:00:00:05"); the interface must be down. Returns 0 or -1 with errno. */
int net_set_mac(const char *ifname, const char *mac);
/* Writes /etc/resolv.conf with one nameserver line per comma-separated address. */
int net_write_resolv_conf(const char *dns_list);

#endif
