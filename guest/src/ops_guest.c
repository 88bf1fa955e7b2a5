/*
 * Operations that keep a running guest in step with its host: clock.set (the host's wall clock), clock.adjust (a
 * step by a host-measured offset, and the guest's clock after it) and ssh.authorize (banger's current public key in
 * root's authorized_keys). All are small and quick, so they run on the agent's loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "agent_internal.h"
#include "posture.h"

/* Largest authorized_keys the agent edits. */
#define AUTHORIZED_KEYS_MAX (1 << 20)
#define AUTHORIZED_KEYS_TMP ".authorized_keys.banger-tmp"

const char *g_agent_home;

/* Where ssh.authorize edits: root's home as PID 1; in agent mode only the --home a test gave. */
static const char *home_dir(void)
{
    return getpid() == 1 ? "/root" : g_agent_home;
}

void op_clock_set(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now); /* first: the host's time is as of the request's sending */
    const struct json_node *sec = json_get(doc, req, "sec");
    const struct json_node *nsec = json_get(doc, req, "nsec");
    const struct json_node *tol = json_get(doc, req, "tolerance_ms");
    if (!sec || !json_is_int(sec, 0, 1e12)) {
        queue_error(s, id, ERR_BAD_REQUEST, "field sec must be an integer from 0 to 1e12 (seconds since the epoch)");
        return;
    }
    if (!nsec || !json_is_int(nsec, 0, 999999999)) {
        queue_error(s, id, ERR_BAD_REQUEST, "field nsec must be an integer from 0 to 999999999");
        return;
    }
    if (tol && !json_is_int(tol, 0, 86400000)) {
        queue_error(s, id, ERR_BAD_REQUEST, "field tolerance_ms must be an integer from 0 to 86400000");
        return;
    }
    struct timespec host = { (time_t)sec->number, (long)nsec->number };
    long long offset_ns = ((long long)now.tv_sec - host.tv_sec) * 1000000000LL + (now.tv_nsec - host.tv_nsec);
    long long tolerance_ns = tol ? (long long)tol->number * 1000000LL : 0;
    /* Only PID 1 owns the clock: an agent run on a host for tests must never step the host's clock. */
    int step = getpid() == 1 && llabs(offset_ns) > tolerance_ns;
    if (step && clock_settime(CLOCK_REALTIME, &host) < 0) {
        queue_error(s, id, ERR_INTERNAL, "clock_settime: %s", strerror(errno));
        return;
    }
    if (step && llabs(offset_ns) >= 1000000000LL)
        log_msg("clock stepped by %+lld ms to the host's", -offset_ns / 1000000);
    struct buf b = { 0 };
    struct json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "offset_ms");
    jw_int(&w, offset_ns / 1000000);
    jw_key(&w, "stepped");
    jw_bool(&w, step);
    jw_object_end(&w);
    queue_json(s, FRAME_RESULT, id, &b);
}

/* Largest clock.adjust step: a year, in ms. */
#define CLOCK_ADJUST_MAX_MS 31536000000.0

/*
 * clock.adjust: steps the clock by delta_ms (relative, with ADJ_SETOFFSET, so the request's transit does not count),
 * then answers the clock's reading. The host times the exchange and so knows the guest's offset to within half the
 * round trip (docs/agent-protocol.md); delta_ms 0 only reads.
 */
void op_clock_adjust(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req)
{
    const struct json_node *delta = json_get(doc, req, "delta_ms");
    if (!delta || !json_is_int(delta, -CLOCK_ADJUST_MAX_MS, CLOCK_ADJUST_MAX_MS)) {
        queue_error(s, id, ERR_BAD_REQUEST, "field delta_ms must be an integer from -%.0f to %.0f",
                    CLOCK_ADJUST_MAX_MS, CLOCK_ADJUST_MAX_MS);
        return;
    }
    long long delta_ms = (long long)delta->number;
    /* Only PID 1 owns the clock: an agent run on a host for tests must never step the host's clock. */
    int step = getpid() == 1 && delta_ms != 0;
    if (step) {
        long long sec = delta_ms / 1000, ms = delta_ms % 1000;
        if (ms < 0) {
            ms += 1000;
            sec -= 1;
        }
        /* Microseconds, not ADJ_NANO: that would also switch the kernel's NTP state to nanoseconds for good,
         * and adjtimex(8) readers (busybox's) would take its time.tv_usec for microseconds. */
        struct timex tx = { .modes = ADJ_SETOFFSET };
        tx.time.tv_sec = (time_t)sec;
        tx.time.tv_usec = (long)(ms * 1000);
        if (clock_adjtime(CLOCK_REALTIME, &tx) < 0) {
            queue_error(s, id, ERR_INTERNAL, "clock_adjtime: %s", strerror(errno));
            return;
        }
        if (llabs(delta_ms) >= 1000)
            log_msg("clock stepped by %+lld ms to the host's", delta_ms);
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now); /* last: the host brackets this reading with its own clock */
    struct buf b = { 0 };
    struct json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "sec");
    jw_int(&w, now.tv_sec);
    jw_key(&w, "nsec");
    jw_int(&w, now.tv_nsec);
    jw_key(&w, "stepped");
    jw_bool(&w, step);
    jw_object_end(&w);
    queue_json(s, FRAME_RESULT, id, &b);
}

/* A public key as authorized_keys holds it: TYPE BASE64, printable, no options. */
static int valid_key(const char *key, const char **data, size_t *type_len, size_t *data_len)
{
    for (const char *p = key; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 0;
    const char *sp = strchr(key, ' ');
    if (!sp || sp == key)
        return 0;
    *type_len = (size_t)(sp - key);
    *data = sp + 1;
    *data_len = strcspn(*data, " ");
    return *data_len > 0;
}

static int valid_comment(const char *c)
{
    for (; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f)
            return 0;
    return 1;
}

/* The whitespace-separated fields of one line: their starts and lengths (at most max). */
static int split_fields(const char *line, size_t len, const char **start, size_t *flen, int max)
{
    int n = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            i++;
        if (i >= len)
            break;
        size_t j = i;
        while (j < len && line[j] != ' ' && line[j] != '\t' && line[j] != '\r')
            j++;
        if (n < max) {
            start[n] = line + i;
            flen[n] = j - i;
        }
        n++;
        i = j;
    }
    return n;
}

static int field_is(const char *f, size_t flen, const char *s, size_t slen)
{
    return flen == slen && memcmp(f, s, slen) == 0;
}

/*
 * Ensures exactly one line of banger's: "TYPE DATA COMMENT". Lines a user added stay as they are; a line that is
 * only "TYPE OTHERDATA COMMENT" (banger's earlier key) goes; a line already holding DATA (with any options or
 * comment) counts as present.
 */
void op_ssh_authorize(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req)
{
    const char *key, *comment, *data;
    size_t type_len, data_len;
    if (required_string(s, id, doc, req, "key", &key) < 0 || required_string(s, id, doc, req, "comment", &comment) < 0)
        return;
    if (!valid_key(key, &data, &type_len, &data_len)) {
        queue_error(s, id, ERR_BAD_REQUEST, "field key must be a public key line \"TYPE BASE64\"");
        return;
    }
    if (!valid_comment(comment)) {
        queue_error(s, id, ERR_BAD_REQUEST, "field comment must be one word of printable characters");
        return;
    }
    const char *home = home_dir();
    if (!home) {
        queue_error(s, id, ERR_BAD_REQUEST, "ssh.authorize needs the agent to run as PID 1 (or with --home)");
        return;
    }
    char err[256];
    if (posture_home_modes(home, err, sizeof err) < 0) {
        queue_error(s, id, ERR_IO, "%s", err);
        return;
    }
    char ssh_path[4096];
    snprintf(ssh_path, sizeof ssh_path, "%s/.ssh", home);
    int dir = open(ssh_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0) {
        queue_error(s, id, ERR_IO, "%s is not a directory: %s", ssh_path, strerror(errno));
        return;
    }
    struct buf old = { 0 };
    int fd = openat(dir, "authorized_keys", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 && errno != ENOENT) {
        queue_error(s, id, ERR_IO, "open %s/authorized_keys: %s", ssh_path, strerror(errno));
        close(dir);
        return;
    }
    if (fd >= 0) {
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > AUTHORIZED_KEYS_MAX) {
            queue_error(s, id, ERR_IO, "%s/authorized_keys is not a regular file of at most 1 MiB", ssh_path);
            close(fd);
            close(dir);
            return;
        }
        char chunk[8192];
        ssize_t r;
        while ((r = read(fd, chunk, sizeof chunk)) != 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 || buf_append(&old, chunk, (size_t)r) < 0)
                break;
        }
        close(fd);
    }
    struct buf out = { 0 };
    int present = 0, removed = 0;
    size_t comment_len = strlen(comment);
    const char *text = (const char *)buf_head(&old);
    size_t len = buf_avail(&old), pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - (text + pos)) : len - pos;
        const char *line = text + pos;
        const char *f[3];
        size_t fl[3];
        int n = split_fields(line, line_len, f, fl, 3);
        int has_data = 0;
        /* Any field equal to DATA: the key may follow options ("no-pty ssh-ed25519 DATA ..."). */
        const char *p = line;
        while (!has_data && (p = memmem(p, (size_t)(line + line_len - p), data, data_len)) != NULL) {
            int starts = p == line || p[-1] == ' ' || p[-1] == '\t';
            int ends = p + data_len == line + line_len || p[data_len] == ' ' || p[data_len] == '\t'
                || p[data_len] == '\r';
            has_data = starts && ends;
            p++;
        }
        int ours_stale = !has_data && n == 3 && line[0] != '#' && field_is(f[2], fl[2], comment, comment_len);
        if (ours_stale) {
            removed++;
        } else {
            present |= has_data && line[0] != '#';
            buf_append(&out, line, line_len);
            buf_append(&out, "\n", 1);
        }
        pos += line_len + (nl ? 1 : 0);
    }
    int added = !present;
    if (added) {
        buf_append(&out, key, type_len + 1 + data_len);
        buf_append(&out, " ", 1);
        buf_append(&out, comment, comment_len);
        buf_append(&out, "\n", 1);
    }
    int changed = added || removed > 0;
    if (changed) {
        unlinkat(dir, AUTHORIZED_KEYS_TMP, 0);
        int tmp = openat(dir, AUTHORIZED_KEYS_TMP, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        int ok = tmp >= 0 && write_full(tmp, buf_head(&out), buf_avail(&out)) == 0 && fchown(tmp, 0, 0) == 0
            && fchmod(tmp, 0600) == 0 && fsync(tmp) == 0;
        if (tmp >= 0)
            close(tmp);
        if (ok)
            ok = renameat(dir, AUTHORIZED_KEYS_TMP, dir, "authorized_keys") == 0;
        if (!ok) {
            queue_error(s, id, ERR_IO, "write %s/authorized_keys: %s", ssh_path, strerror(errno));
            unlinkat(dir, AUTHORIZED_KEYS_TMP, 0);
            buf_free(&old);
            buf_free(&out);
            close(dir);
            return;
        }
    }
    buf_free(&old);
    buf_free(&out);
    close(dir);
    struct buf b = { 0 };
    struct json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "added");
    jw_bool(&w, added);
    jw_key(&w, "removed");
    jw_int(&w, removed);
    jw_object_end(&w);
    queue_json(s, FRAME_RESULT, id, &b);
}
