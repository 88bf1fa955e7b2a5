/*
 * guest.personalise (version 1): what makes a guest restored from a template itself, run once, right after the
 * restore and before anything else runs in the guest (docs/agent-protocol.md, docs/snapshots.md). The template
 * booted with banger.template=1, so it has no hostname, address, work disk or sshd yet, and its RNG state, clock
 * and MAC address are the template's. In order:
 *   entropy     host-supplied bytes mixed into the kernel RNG (RNDADDENTROPY), then a reseed (RNDRESEEDCRNG),
 *               before anything in the guest asks for randomness;
 *   clock       the wall clock set to the host's;
 *   hostname    sethostname;
 *   machine-id  /etc/machine-id rewritten when the image has a non-empty one (clones must not share it);
 *   network     eth0 gets the clone's MAC (the restored device carries the template's), address, route, DNS;
 *   work-disk   the clone's work disk mounted on /root (workspace, keys), home modes enforced;
 *   sshd        started with the host key on the work disk; when the image has no sshd (or no host key) the
 *               reply lists it under "skipped" with the reason instead of under "applied".
 * Only PID 1 applies them: the agent run on a host for tests validates the request and changes nothing; given
 * --guest-root DIR it judges the sshd step against DIR, so tests see what PID 1 would report.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent_internal.h"
#include "init.h"
#include "net.h"

#define PERSONALISE_VERSION 1
#define ENTROPY_MIN 32
#define ENTROPY_MAX 512
#define NET_WAIT_MS 2000

const char *g_guest_root;

static const char *text(const struct json_doc *doc, const struct json_node *req, const char *key)
{
    const struct json_node *n = json_get(doc, req, key);
    return n && n->type == JSON_STRING && n->str_len == strlen(n->str) ? n->str : NULL;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes lowercase or uppercase hex into out (at most max bytes); returns the byte count or -1. */
static int hex_decode(const char *hex, unsigned char *out, size_t max)
{
    size_t len = strlen(hex);
    if (len % 2 != 0 || len / 2 > max)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return (int)(len / 2);
}

static int reseed_rng(const unsigned char *bytes, int n, char *err, size_t err_len)
{
    struct {
        int entropy_count;
        int buf_size;
        unsigned char buf[ENTROPY_MAX];
    } info;
    info.entropy_count = n * 8;
    info.buf_size = n;
    memcpy(info.buf, bytes, (size_t)n);
    int fd = open("/dev/urandom", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "open /dev/urandom: %s", strerror(errno));
        return -1;
    }
    int rc = ioctl(fd, RNDADDENTROPY, &info);
    const char *what = "RNDADDENTROPY";
    if (rc == 0) {
        rc = ioctl(fd, RNDRESEEDCRNG);
        what = "RNDRESEEDCRNG";
    }
    int saved = errno;
    close(fd);
    explicit_bzero(&info, sizeof info);
    if (rc < 0) {
        snprintf(err, err_len, "%s: %s", what, strerror(saved));
        return -1;
    }
    return 0;
}

/* Rewrites /etc/machine-id when the image has a non-empty one; an absent or empty file is left as it is. */
static int write_machine_id(const char *id, int *written, char *err, size_t err_len)
{
    struct stat st;
    *written = 0;
    if (lstat("/etc/machine-id", &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
        return 0;
    char line[40];
    int n = snprintf(line, sizeof line, "%s\n", id);
    int fd = open("/etc/machine-id.banger-tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0444);
    if (fd < 0 || write_full(fd, line, (size_t)n) < 0 || fsync(fd) < 0) {
        snprintf(err, err_len, "write /etc/machine-id: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink("/etc/machine-id.banger-tmp");
        return -1;
    }
    close(fd);
    if (rename("/etc/machine-id.banger-tmp", "/etc/machine-id") < 0) {
        snprintf(err, err_len, "replace /etc/machine-id: %s", strerror(errno));
        unlink("/etc/machine-id.banger-tmp");
        return -1;
    }
    *written = 1;
    return 0;
}

/* Appends " STEP MS" to a step-timing line and starts the next lap. */
static void lap(char *line, size_t len, const char *step, uint64_t *since)
{
    uint64_t now = now_ms();
    size_t used = strlen(line);
    snprintf(line + used, len - used, " %s %llu", step, (unsigned long long)(now - *since));
    *since = now;
}

static int valid_hostname(const char *h)
{
    size_t len = strlen(h);
    if (len == 0 || len > 63 || h[0] == '-' || h[len - 1] == '-')
        return 0;
    for (const char *p = h; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    return 1;
}

void op_guest_personalise(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req)
{
    const struct json_node *version = json_get(doc, req, "version");
    if (!version || !json_is_int(version, 0, 1e6)) {
        queue_error(s, id, ERR_BAD_REQUEST, "field version must be an integer");
        return;
    }
    if ((int)version->number != PERSONALISE_VERSION) {
        queue_error(s, id, ERR_BAD_REQUEST, "guest.personalise version %d is not supported; this agent speaks %d",
                    (int)version->number, PERSONALISE_VERSION);
        return;
    }
    const char *hostname = text(doc, req, "hostname");
    const char *mac = text(doc, req, "mac");
    const char *ip = text(doc, req, "ip");
    const char *gateway = text(doc, req, "gateway");
    const char *dns = text(doc, req, "dns");
    const char *entropy_hex = text(doc, req, "entropy");
    const char *machine_id = text(doc, req, "machine_id");
    const char *work = text(doc, req, "work");
    const struct json_node *sec = json_get(doc, req, "sec");
    const struct json_node *nsec = json_get(doc, req, "nsec");
    const struct json_node *sshd = json_get(doc, req, "sshd");
    unsigned char entropy[ENTROPY_MAX];
    int entropy_len = entropy_hex ? hex_decode(entropy_hex, entropy, sizeof entropy) : -1;
    unsigned char id_bytes[16];
    if (!hostname || !valid_hostname(hostname)) {
        queue_error(s, id, ERR_BAD_REQUEST, "field hostname must be a DNS label (a-z, 0-9, -; 1-63 characters)");
    } else if (entropy_len < ENTROPY_MIN) {
        queue_error(s, id, ERR_BAD_REQUEST, "field entropy must be %d to %d bytes in hex", ENTROPY_MIN, ENTROPY_MAX);
    } else if (!sec || !json_is_int(sec, 0, 1e12) || !nsec || !json_is_int(nsec, 0, 999999999)) {
        queue_error(s, id, ERR_BAD_REQUEST, "fields sec and nsec must give the host's wall clock");
    } else if (machine_id && (strlen(machine_id) != 32 || hex_decode(machine_id, id_bytes, sizeof id_bytes) != 16)) {
        queue_error(s, id, ERR_BAD_REQUEST, "field machine_id must be 32 hex digits");
    } else if ((ip != NULL) != (mac != NULL)) {
        queue_error(s, id, ERR_BAD_REQUEST, "fields mac and ip go together");
    } else if (sshd && sshd->type != JSON_BOOL) {
        queue_error(s, id, ERR_BAD_REQUEST, "field sshd must be a boolean");
    } else {
        goto valid;
    }
    explicit_bzero(entropy, sizeof entropy);
    return;

valid:;
    struct buf b = { 0 };
    struct json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "applied");
    jw_array_begin(&w);
    char err[256] = "";
    const char *step = NULL;
    char timings[160] = "";
    uint64_t t = now_ms();
    char sshd_skipped[160] = ""; /* why sshd did not start, when it was asked for and did not */
    if (getpid() == 1) {
        step = "entropy";
        if (reseed_rng(entropy, entropy_len, err, sizeof err) < 0)
            goto fail;
        jw_string(&w, step);
        lap(timings, sizeof timings, step, &t);
        step = "clock";
        struct timespec host = { (time_t)sec->number, (long)nsec->number };
        if (clock_settime(CLOCK_REALTIME, &host) < 0) {
            snprintf(err, sizeof err, "clock_settime: %s", strerror(errno));
            goto fail;
        }
        jw_string(&w, step);
        lap(timings, sizeof timings, step, &t);
        step = "hostname";
        if (sethostname(hostname, strlen(hostname)) < 0) {
            snprintf(err, sizeof err, "sethostname %s: %s", hostname, strerror(errno));
            goto fail;
        }
        jw_string(&w, step);
        lap(timings, sizeof timings, step, &t);
        if (machine_id) {
            step = "machine-id";
            int written;
            if (write_machine_id(machine_id, &written, err, sizeof err) < 0)
                goto fail;
            if (written)
                jw_string(&w, step);
            lap(timings, sizeof timings, step, &t);
        }
        if (mac) {
            step = "network";
            if (net_set_mac("eth0", mac) < 0) {
                snprintf(err, sizeof err, "set the MAC address of eth0 to %s: %s", mac, strerror(errno));
                goto fail;
            }
            int rc = net_configure("eth0", ip, gateway, NET_WAIT_MS);
            if (rc != 0) {
                snprintf(err, sizeof err, "configure eth0 as %s: %s", ip,
                         rc == 1 ? "no such interface" : "see the console log");
                goto fail;
            }
            if (dns && *dns)
                net_write_resolv_conf(dns);
            jw_string(&w, step);
            lap(timings, sizeof timings, step, &t);
        }
        if (work && *work) {
            step = "work-disk";
            if (init_mount_work_disk(work, err, sizeof err) < 0)
                goto fail;
            jw_string(&w, step);
            lap(timings, sizeof timings, step, &t);
        }
        if (sshd && sshd->boolean) {
            step = "sshd";
            if (init_start_sshd(sshd_skipped, sizeof sshd_skipped))
                jw_string(&w, step);
            lap(timings, sizeof timings, step, &t);
        }
        log_msg("personalised as %s (ms per step:%s)", hostname, timings);
    } else if (sshd && sshd->boolean && g_guest_root) {
        const char *why = init_sshd_unavailable(g_guest_root);
        if (why)
            snprintf(sshd_skipped, sizeof sshd_skipped, "%s", why);
    }
    explicit_bzero(entropy, sizeof entropy);
    jw_array_end(&w);
    if (sshd_skipped[0]) {
        jw_key(&w, "skipped");
        jw_array_begin(&w);
        jw_object_begin(&w);
        jw_key(&w, "step");
        jw_string(&w, "sshd");
        jw_key(&w, "why");
        jw_string(&w, sshd_skipped);
        jw_object_end(&w);
        jw_array_end(&w);
    }
    jw_object_end(&w);
    queue_json(s, FRAME_RESULT, id, &b);
    return;
fail:
    explicit_bzero(entropy, sizeof entropy);
    free(b.data);
    log_msg("guest.personalise: %s: %s", step, err);
    queue_error(s, id, ERR_INTERNAL, "%s: %s", step, err);
}
