/*
 * ports: listening TCP sockets and bound UDP sockets from /proc/net/{tcp,tcp6,udp,udp6}, each with the process
 * that holds it where one is found (by the socket's inode among /proc/PID/fd links; best effort: a process may
 * exit meanwhile, and sockets of other network namespaces are not listed).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_internal.h"

#define MAX_PORTS 4096
#define TCP_LISTEN 0x0A
#define UDP_UNCONNECTED 0x07

struct port {
    const char *protocol;
    char address[INET6_ADDRSTRLEN];
    unsigned port;
    unsigned long inode;
    pid_t pid;
    char command[32];
};

static int parse_address(const char *hex, int v6, char *out, size_t out_len)
{
    if (!v6) {
        uint32_t v = (uint32_t)strtoul(hex, NULL, 16);
        struct in_addr a;
        memcpy(&a.s_addr, &v, 4); /* the kernel prints the raw network-order word as a host-order number */
        return inet_ntop(AF_INET, &a, out, (socklen_t)out_len) ? 0 : -1;
    }
    if (strlen(hex) != 32)
        return -1;
    struct in6_addr a;
    for (int i = 0; i < 4; i++) {
        char word[9];
        memcpy(word, hex + 8 * i, 8);
        word[8] = '\0';
        uint32_t v = (uint32_t)strtoul(word, NULL, 16);
        memcpy(&a.s6_addr[4 * i], &v, 4);
    }
    return inet_ntop(AF_INET6, &a, out, (socklen_t)out_len) ? 0 : -1;
}

static void scan_table(const char *path, const char *protocol, int v6, unsigned state, struct port *ports, int *n,
                       int *truncated)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return; /* no IPv6, or no UDP: nothing of that kind */
    char line[512];
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return;
    }
    while (fgets(line, sizeof line, f)) {
        char local[64];
        unsigned port, st;
        unsigned long inode;
        if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*s %*s %*s %*u %*u %lu", local, &port, &st,
                   &inode) != 4)
            continue;
        if (st != state)
            continue;
        if (*n >= MAX_PORTS) {
            *truncated = 1;
            break;
        }
        struct port *p = &ports[*n];
        memset(p, 0, sizeof *p);
        if (parse_address(local, v6, p->address, sizeof p->address) < 0)
            continue;
        p->protocol = protocol;
        p->port = port;
        p->inode = inode;
        (*n)++;
    }
    fclose(f);
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Fills in pid and command for each port whose socket inode an open fd of some process names. */
static void find_owners(struct port *ports, int n)
{
    int unowned = 0;
    for (int i = 0; i < n; i++)
        unowned += ports[i].inode != 0;
    DIR *proc = opendir("/proc");
    if (!proc)
        return;
    struct dirent *pe;
    char path[300], link[64];
    while (unowned > 0 && (pe = readdir(proc)) != NULL) {
        if (!all_digits(pe->d_name))
            continue;
        snprintf(path, sizeof path, "/proc/%s/fd", pe->d_name);
        DIR *fds = opendir(path);
        if (!fds)
            continue;
        struct dirent *fe;
        while ((fe = readdir(fds)) != NULL) {
            if (!all_digits(fe->d_name))
                continue;
            ssize_t len = readlinkat(dirfd(fds), fe->d_name, link, sizeof link - 1);
            if (len <= 8 || strncmp(link, "socket:[", 8) != 0)
                continue;
            link[len] = '\0';
            unsigned long inode = strtoul(link + 8, NULL, 10);
            for (int i = 0; i < n; i++) {
                if (ports[i].pid || ports[i].inode != inode || inode == 0)
                    continue;
                ports[i].pid = (pid_t)atoi(pe->d_name);
                snprintf(path, sizeof path, "/proc/%s/comm", pe->d_name);
                char *comm = read_small_file(path, sizeof ports[i].command - 1);
                if (comm) {
                    comm[strcspn(comm, "\n")] = '\0';
                    snprintf(ports[i].command, sizeof ports[i].command, "%s", comm);
                    free(comm);
                }
                unowned--;
            }
        }
        closedir(fds);
    }
    closedir(proc);
}

static int by_port(const void *a, const void *b)
{
    const struct port *x = a, *y = b;
    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    int c = strcmp(x->protocol, y->protocol);
    return c ? c : strcmp(x->address, y->address);
}

void op_ports(struct stream *s, uint32_t id)
{
    struct port *ports = calloc(MAX_PORTS, sizeof *ports);
    if (!ports) {
        queue_error(s, id, ERR_INTERNAL, "out of memory");
        return;
    }
    int n = 0, truncated = 0;
    scan_table("/proc/net/tcp", "tcp", 0, TCP_LISTEN, ports, &n, &truncated);
    scan_table("/proc/net/tcp6", "tcp", 1, TCP_LISTEN, ports, &n, &truncated);
    scan_table("/proc/net/udp", "udp", 0, UDP_UNCONNECTED, ports, &n, &truncated);
    scan_table("/proc/net/udp6", "udp", 1, UDP_UNCONNECTED, ports, &n, &truncated);
    find_owners(ports, n);
    qsort(ports, (size_t)n, sizeof *ports, by_port);

    struct buf b = { 0 };
    struct json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "ports");
    jw_array_begin(&w);
    for (int i = 0; i < n; i++) {
        jw_object_begin(&w);
        jw_key(&w, "protocol");
        jw_string(&w, ports[i].protocol);
        jw_key(&w, "address");
        jw_string(&w, ports[i].address);
        jw_key(&w, "port");
        jw_int(&w, ports[i].port);
        if (ports[i].pid) {
            jw_key(&w, "pid");
            jw_int(&w, ports[i].pid);
            jw_key(&w, "command");
            jw_string(&w, ports[i].command);
        }
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_key(&w, "truncated");
    jw_bool(&w, truncated);
    jw_object_end(&w);
    free(ports);
    queue_json(s, FRAME_RESULT, id, &b);
}
