#include "session.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct session *sessions[SESSION_MAX];
int n_sessions;

/* --- ring --- */

void ring_init(struct ring *r, size_t max)
{
    memset(r, 0, sizeof *r);
    r->max = max;
}

void ring_free(struct ring *r)
{
    free(r->data);
    memset(r, 0, sizeof *r);
}

static size_t ring_held(const struct ring *r)
{
    return r->total < r->cap ? (size_t)r->total : r->cap;
}

uint64_t ring_start(const struct ring *r)
{
    return r->total - ring_held(r);
}

void ring_append(struct ring *r, const uint8_t *p, size_t n)
{
    /* Until the ring first fills, the bytes sit at [0, total): growing keeps every offset where it was. */
    while (r->total + n > r->cap && r->cap < r->max) {
        size_t cap = r->cap ? r->cap * 2 : 16384;
        if (cap > r->max)
            cap = r->max;
        uint8_t *d = realloc(r->data, cap);
        if (!d) {
            log_msg("out of memory growing a session's output buffer; keeping %zu bytes", r->cap);
            r->max = r->cap;
            break;
        }
        r->data = d;
        r->cap = cap;
    }
    if (r->cap == 0) {
        r->total += n;
        return;
    }
    if (n > r->cap) {
        r->total += n - r->cap;
        p += n - r->cap;
        n = r->cap;
    }
    size_t pos = (size_t)(r->total % r->cap);
    size_t first = n < r->cap - pos ? n : r->cap - pos;
    memcpy(r->data + pos, p, first);
    memcpy(r->data, p + first, n - first);
    r->total += n;
}

size_t ring_copy(const struct ring *r, uint64_t from, uint8_t *dst, size_t len)
{
    if (from < ring_start(r) || from >= r->total)
        return 0;
    if (len > r->total - from)
        len = (size_t)(r->total - from);
    size_t pos = (size_t)(from % r->cap);
    size_t first = len < r->cap - pos ? len : r->cap - pos;
    memcpy(dst, r->data + pos, first);
    memcpy(dst + first, r->data, len - first);
    return len;
}

/* --- the table --- */

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *session_name_problem(const char *name)
{
    size_t n = strlen(name);
    if (n == 0)
        return "is empty";
    if (n > SESSION_NAME_MAX)
        return "is longer than 63 characters";
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return "may only contain a-z, 0-9 and '-'";
    }
    if (name[0] == '-' || name[n - 1] == '-')
        return "may not begin or end with '-'";
    return NULL;
}

struct session *session_find(const char *name)
{
    for (int i = 0; i < n_sessions; i++)
        if (strcmp(sessions[i]->name, name) == 0)
            return sessions[i];
    return NULL;
}

struct session *session_by_pid(pid_t pid)
{
    for (int i = 0; i < n_sessions; i++)
        if (sessions[i]->pid == pid && !sessions[i]->exited)
            return sessions[i];
    return NULL;
}

struct session *session_add(const char *name, char **argv, pid_t pid, int tty, int in_fd, int out_fd)
{
    if (n_sessions >= SESSION_MAX)
        return NULL;
    struct session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    strncpy(s->name, name, SESSION_NAME_MAX);
    s->argv = argv;
    s->pid = pid;
    s->tty = tty;
    s->in_fd = in_fd;
    s->out_fd = out_fd;
    s->started_at_ms = wall_ms();
    s->started_mono = now_ms();
    ring_init(&s->ring, SESSION_RING_MAX);
    sessions[n_sessions++] = s;
    return s;
}

void session_free(struct session *s)
{
    for (int i = 0; i < n_sessions; i++) {
        if (sessions[i] == s) {
            memmove(&sessions[i], &sessions[i + 1], (size_t)(n_sessions - i - 1) * sizeof sessions[0]);
            n_sessions--;
            break;
        }
    }
    if (s->in_fd >= 0)
        close(s->in_fd);
    if (s->out_fd >= 0)
        close(s->out_fd);
    if (s->argv) {
        for (char **p = s->argv; *p; p++)
            free(*p);
        free(s->argv);
    }
    ring_free(&s->ring);
    free(s);
}

static void close_output(struct session *s)
{
    if (s->out_fd >= 0) {
        close(s->out_fd);
        s->out_fd = -1;
    }
}

void session_read_output(struct session *s, uint8_t *scratch, size_t scratch_len)
{
    if (s->out_fd < 0)
        return;
    ssize_t r = read(s->out_fd, scratch, scratch_len);
    if (r > 0) {
        ring_append(&s->ring, scratch, (size_t)r);
        return;
    }
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    /* EOF on the pipe, or EIO on a PTY master once every slave fd is closed. */
    close_output(s);
}

void session_exited(struct session *s, int wstatus)
{
    s->exited = 1;
    s->wstatus = wstatus;
    s->exited_mono = now_ms();
    log_debug("session %s: pid %d exited (status 0x%x)", s->name, (int)s->pid, wstatus);
}

void session_check_ended(uint64_t now)
{
    for (int i = 0; i < n_sessions; i++) {
        struct session *s = sessions[i];
        if (s->ended || !s->exited)
            continue;
        /* Background children may keep the pipe or terminal open: the session is its process, not theirs. */
        if (s->out_fd >= 0 && now - s->exited_mono < SESSION_DRAIN_MS)
            continue;
        close_output(s);
        if (s->in_fd >= 0) {
            close(s->in_fd);
            s->in_fd = -1;
        }
        s->ended = 1;
        s->ended_at_ms = wall_ms();
    }
}

void session_kill_all(void)
{
    for (int i = 0; i < n_sessions; i++)
        if (!sessions[i]->exited)
            kill(-sessions[i]->pid, SIGKILL);
}
