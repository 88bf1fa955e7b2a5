#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_internal.h"
#include "exec.h"
#include "json.h"
#include "proto.h"
#include "session.h"
#include "util.h"

/* Stop reading a stream while this much output is queued for it (bounds what garbage input can make us queue). */
#define OUT_HIGH_WATER (1u << 20)
/* The host may not send more stdin than the window; anything past twice that is dropped. */
#define STDIN_QUEUE_MAX(ch) (2 * (size_t)(ch)->stdin_window)
#define MAX_STREAMS 64
/* While the host side of a virtio-serial port is away, look again this often (SIGIO usually comes first). */
#define SERIAL_RECHECK_MS 250
#define SHUTDOWN_FLUSH_MS 1000
/*
 * A virtio-serial port hands over at most one of its 4 KiB buffers per read() and takes at most 32 KiB per
 * write(). Each syscall (and each trip round the poll loop) costs tens of microseconds under TCG, so the stream is
 * read with a readv of page-sized slices and written with a writev of 32 KiB slices: the kernel goes slice by slice
 * and stops at the first short one, so one call moves whatever the port has, and the bytes land contiguously.
 * Sockets fill or drain the slices in one go.
 */
#define READ_SLICE 4096
#define READ_SLICES 32
#define WRITE_SLICE (32 * 1024)
#define WRITE_SLICES 16

static struct stream *streams[MAX_STREAMS];
static int n_streams;
struct channel *channels[MAX_CHANNELS];
int n_channels;
static enum agent_exit exit_action;
static int exit_requested;
static uint8_t io_buf[DATA_MAX_PAYLOAD];

void agent_signal_mask(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGIO);
}

/* --- output --- */

void queue_frame(struct stream *s, uint8_t type, uint32_t ch, const void *payload, uint32_t len)
{
    if (s->dead)
        return;
    if (frame_append(&s->out, type, ch, payload, len) < 0)
        log_msg("out of memory queueing a frame for the host; frame dropped");
}

void queue_json(struct stream *s, uint8_t type, uint32_t ch, struct buf *json)
{
    queue_frame(s, type, ch, buf_head(json), (uint32_t)buf_avail(json));
    buf_free(json);
}

void queue_error(struct stream *s, uint32_t ch, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_debug("channel %u: error %s: %s", ch, code, msg);
    struct buf b = { 0 };
    struct json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "code");
    jw_string(&w, code);
    jw_key(&w, "message");
    jw_string(&w, msg);
    jw_object_end(&w);
    queue_json(s, FRAME_ERROR, ch, &b);
}

static void queue_u32(struct stream *s, uint8_t type, uint32_t ch, uint32_t v)
{
    uint8_t p[4];
    put_u32(p, v);
    queue_frame(s, type, ch, p, 4);
}

/*
 * Drops queued output, except the rest of a frame that is partly written: the byte stream must stay
 * frame-aligned for whoever reads it next.
 */
static void drop_queued_output(struct stream *s)
{
    if (s->out_written == 0) {
        buf_clear(&s->out);
        return;
    }
    size_t flen = FRAME_HEADER_LEN + get_u32(buf_head(&s->out) + 8);
    s->out.len = s->out.off + flen;
}

static void stream_kill(struct stream *s, const char *why);

static void stream_flush(struct stream *s)
{
    while (!s->dead && buf_avail(&s->out) > s->out_written) {
        struct iovec iov[WRITE_SLICES];
        int n_iov = 0;
        const uint8_t *p = buf_head(&s->out) + s->out_written;
        size_t left = buf_avail(&s->out) - s->out_written;
        for (; left > 0 && n_iov < WRITE_SLICES; n_iov++) {
            size_t k = left < WRITE_SLICE ? left : WRITE_SLICE;
            iov[n_iov] = (struct iovec){ .iov_base = (void *)p, .iov_len = k };
            p += k;
            left -= k;
        }
        ssize_t w = writev(s->fd, iov, n_iov);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                stream_kill(s, strerror(errno));
            return;
        }
        s->out_written += (size_t)w;
        while (buf_avail(&s->out) >= FRAME_HEADER_LEN) {
            size_t flen = FRAME_HEADER_LEN + get_u32(buf_head(&s->out) + 8);
            if (s->out_written < flen)
                break;
            buf_consume(&s->out, flen);
            s->out_written -= flen;
        }
    }
}

/* --- channels --- */

static struct channel *find_channel(struct stream *s, uint32_t id)
{
    for (int i = 0; i < n_channels; i++)
        if (!channels[i]->dead && channels[i]->st == s && channels[i]->id == id)
            return channels[i];
    return NULL;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

struct channel *channel_open(struct stream *s, uint32_t id, enum channel_kind kind)
{
    if (n_channels >= MAX_CHANNELS) {
        queue_error(s, id, ERR_INTERNAL, "too many open channels (%d)", MAX_CHANNELS);
        return NULL;
    }
    struct channel *ch = calloc(1, sizeof *ch);
    if (!ch) {
        queue_error(s, id, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    ch->st = s;
    ch->id = id;
    ch->kind = kind;
    ch->in_fd = ch->out_fd = ch->err_fd = ch->verdict_fd = -1;
    ch->credit = INITIAL_WINDOW;
    ch->stdin_window = INITIAL_WINDOW;
    ch->stop_at = UINT64_MAX;
    channels[n_channels++] = ch;
    return ch;
}

void channel_release(struct channel *ch)
{
    close_fd(&ch->in_fd);
    close_fd(&ch->out_fd);
    close_fd(&ch->err_fd);
    close_fd(&ch->verdict_fd);
    buf_free(&ch->inq);
    ch->sess = NULL;
    ch->dead = 1;
}

/*
 * Ends a channel without a word to the host: its process group (exec, helper) is killed and reaped later as a
 * stranger. A session an attach channel was showing goes on.
 */
static void channel_detach(struct channel *ch)
{
    if (ch->dead)
        return;
    if (ch->pid > 0 && !ch->exited)
        kill(-ch->pid, SIGKILL);
    log_debug("channel %u: dropped (pid %d)", ch->id, (int)ch->pid);
    channel_release(ch);
}

/* Sends ERROR on an open channel, which finishes it for the host, and finishes it here too. */
static void channel_fail(struct channel *ch, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void channel_fail(struct channel *ch, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    queue_error(ch->st, ch->id, code, "%s", msg);
    channel_detach(ch);
}

static void reset_stream_channels(struct stream *s)
{
    for (int i = 0; i < n_channels; i++)
        if (channels[i]->st == s)
            channel_detach(channels[i]);
}

void send_window(struct channel *ch)
{
    if (ch->ack > 0 && !ch->cancelled && !ch->dead) {
        queue_u32(ch->st, FRAME_WINDOW, ch->id, ch->ack);
        ch->ack = 0;
    }
}

void grant_stdin_window(struct channel *ch, uint32_t window)
{
    if (window <= ch->stdin_window)
        return;
    ch->ack += window - ch->stdin_window;
    ch->stdin_window = window;
    send_window(ch);
}

static void stdin_close(struct channel *ch)
{
    close_fd(&ch->in_fd);
    ch->ack += (uint32_t)buf_avail(&ch->inq);
    buf_free(&ch->inq);
    ch->stdin_gone = 1;
}

/*
 * Writes a STDIN payload straight to the process when nothing is queued before it (saving a copy through the
 * queue). Returns how many bytes are dealt with: written, or dropped because the process closed its stdin.
 */
static size_t stdin_write_direct(struct channel *ch, const uint8_t *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(ch->in_fd, p + done, n - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN) {
                stdin_close(ch);
                ch->ack += (uint32_t)(n - done);
                return n;
            }
            break;
        }
        done += (size_t)w;
        ch->ack += (uint32_t)w;
    }
    return done;
}

static void channel_write_stdin(struct channel *ch)
{
    while (ch->in_fd >= 0 && buf_avail(&ch->inq) > 0) {
        ssize_t w = write(ch->in_fd, buf_head(&ch->inq), buf_avail(&ch->inq));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                stdin_close(ch); /* EPIPE: the process closed its stdin; the host's credit still comes back */
            break;
        }
        buf_consume(&ch->inq, (size_t)w);
        ch->ack += (uint32_t)w;
    }
    if (ch->in_fd >= 0 && buf_avail(&ch->inq) == 0 && ch->stdin_eof) {
        close_fd(&ch->in_fd);
        buf_free(&ch->inq);
    }
    /* Credit goes back in batches (a quarter of the window, or all once nothing waits): a process that reads its
     * stdin a page at a time would otherwise cost a WINDOW frame, and a trip through the transport, per page.
     * A window raised above the initial one (a file copy) goes back in quarters only: with the queue drained after
     * every frame, that would be a WINDOW frame per 64 KiB, each a wake-up of the host's reader. */
    int bulk = ch->stdin_window > INITIAL_WINDOW;
    if (ch->ack >= ch->stdin_window / 4 || (buf_avail(&ch->inq) == 0 && !bulk))
        send_window(ch);
}

/* Reads one chunk of a process's output; at EOF sends EOF for that stream. Returns 1 when it got data. */
static int channel_read_output(struct channel *ch, int err_stream)
{
    int *fd = err_stream ? &ch->err_fd : &ch->out_fd;
    size_t max = ch->cancelled ? sizeof io_buf : (size_t)(ch->credit < sizeof io_buf ? ch->credit : sizeof io_buf);
    if (*fd < 0 || max == 0)
        return 0;
    /* Read straight into the stream's output queue, behind room for the frame header (saves a copy). */
    struct buf *out = &ch->st->out;
    uint8_t *frame = ch->cancelled || ch->st->dead ? NULL : buf_reserve(out, FRAME_HEADER_LEN + max);
    ssize_t r = read(*fd, frame ? frame + FRAME_HEADER_LEN : io_buf, max);
    if (r > 0) {
        if (frame) {
            frame_header_put(frame, err_stream ? FRAME_STDERR : FRAME_STDOUT, ch->id, (uint32_t)r);
            buf_commit(out, FRAME_HEADER_LEN + (size_t)r);
            ch->credit -= (uint64_t)r;
        } else if (!ch->cancelled && !ch->st->dead) {
            log_msg("out of memory queueing output for the host; %zd bytes dropped", r);
        }
        return 1;
    }
    if (r < 0 && errno == EINTR)
        return 0;
    if (r < 0 && errno == EAGAIN) {
        if (!ch->pty_drain)
            return 0;
        /* The process is gone and the PTY has nothing left (other holders of the slave do not keep us). */
    }
    /* EOF, or EIO on a PTY master once every slave fd is closed. */
    close_fd(fd);
    if (ch->tty && ch->in_fd >= 0)
        close_fd(&ch->in_fd);
    if (!ch->cancelled) {
        uint8_t which = err_stream ? STREAM_STDERR : STREAM_STDOUT;
        queue_frame(ch->st, FRAME_EOF, ch->id, &which, 1);
        if (ch->tty) {
            which = STREAM_STDERR;
            queue_frame(ch->st, FRAME_EOF, ch->id, &which, 1);
        }
    }
    return 0;
}

/*
 * Reads what a process has ready, several chunks per wake-up while credit and the stream's queue allow: a file
 * copy's helper keeps a 1 MiB pipe full, and each trip round the poll loop costs about as much as a chunk.
 */
static void channel_read_ready(struct channel *ch, int err_stream)
{
    for (int i = 0; i < 8 && !ch->dead && buf_avail(&ch->st->out) < OUT_HIGH_WATER; i++)
        if (!channel_read_output(ch, err_stream))
            return;
}

void jw_exit_status(struct json_writer *w, int wstatus)
{
    jw_key(w, "exit_code");
    if (WIFSIGNALED(wstatus)) {
        jw_int(w, 128 + WTERMSIG(wstatus));
        jw_key(w, "signal");
        jw_int(w, WTERMSIG(wstatus));
    } else {
        jw_int(w, WEXITSTATUS(wstatus));
    }
}

static void channel_maybe_finish(struct channel *ch)
{
    if (ch->dead || !ch->exited)
        return;
    if (!ch->cancelled && (ch->out_fd >= 0 || ch->err_fd >= 0))
        return;
    send_window(ch);
    if (ch->kind == CH_HELPER) {
        helper_channel_finish(ch);
        return;
    }
    struct buf b = { 0 };
    struct json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_exit_status(&w, ch->wstatus);
    jw_object_end(&w);
    log_debug("channel %u: pid %d finished: %.*s", ch->id, (int)ch->pid, (int)buf_avail(&b), (char *)buf_head(&b));
    queue_json(ch->st, FRAME_RESULT, ch->id, &b);
    channel_release(ch);
}

static void reap_children(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct channel *owner = NULL;
        for (int i = 0; i < n_channels; i++)
            if (!channels[i]->dead && channels[i]->pid == pid)
                owner = channels[i];
        if (!owner) {
            struct session *se = session_by_pid(pid);
            if (se)
                session_exited(se, status);
            else
                log_debug("reaped pid %d (no channel)", (int)pid);
            continue;
        }
        owner->exited = 1;
        owner->wstatus = status;
        if (owner->tty)
            owner->pty_drain = 1;
    }
}

/* --- requests --- */

static const char *const base_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/root",
    "USER=root",
    "LOGNAME=root",
    "SHELL=/bin/sh",
};

/* Adds or replaces KEY=VALUE in a NULL-terminated, malloc'ed environment. */
static int env_set(char ***envp, size_t *n, const char *key, size_t klen, const char *val)
{
    char *entry = malloc(klen + strlen(val) + 2);
    if (!entry)
        return -1;
    memcpy(entry, key, klen);
    entry[klen] = '=';
    strcpy(entry + klen + 1, val);
    for (size_t i = 0; i < *n; i++) {
        if (strncmp((*envp)[i], key, klen) == 0 && (*envp)[i][klen] == '=') {
            free((*envp)[i]);
            (*envp)[i] = entry;
            return 0;
        }
    }
    char **grown = realloc(*envp, (*n + 2) * sizeof *grown);
    if (!grown) {
        free(entry);
        return -1;
    }
    *envp = grown;
    grown[(*n)++] = entry;
    grown[*n] = NULL;
    return 0;
}

void free_strv(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

int optional_bool(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req,
                  const char *key, int dflt, int *out)
{
    const struct json_node *n = json_get(doc, req, key);
    if (!n) {
        *out = dflt;
        return 0;
    }
    if (n->type != JSON_BOOL) {
        queue_error(s, id, ERR_BAD_REQUEST, "field %s must be a boolean, not %s", key, json_type_name(n->type));
        return -1;
    }
    *out = n->boolean;
    return 0;
}

int optional_u16(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req,
                 const char *key, int dflt, uint16_t *out)
{
    const struct json_node *n = json_get(doc, req, key);
    if (!n) {
        *out = (uint16_t)dflt;
        return 0;
    }
    if (!json_is_int(n, 0, 65535)) {
        queue_error(s, id, ERR_BAD_REQUEST, "field %s must be an integer from 0 to 65535", key);
        return -1;
    }
    *out = (uint16_t)n->number;
    return 0;
}

int required_string(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req,
                    const char *key, const char **out)
{
    const struct json_node *n = json_get(doc, req, key);
    if (!n) {
        queue_error(s, id, ERR_BAD_REQUEST, "missing field %s", key);
        return -1;
    }
    if (n->type != JSON_STRING || n->str_len == 0 || strlen(n->str) != n->str_len) {
        queue_error(s, id, ERR_BAD_REQUEST, "field %s must be a non-empty string (without NUL)", key);
        return -1;
    }
    *out = n->str;
    return 0;
}

int parse_spawn_args(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req,
                     struct spawn_args *a)
{
    memset(a, 0, sizeof *a);
    const struct json_node *argv_n = json_get(doc, req, "argv");
    if (!argv_n) {
        queue_error(s, id, ERR_BAD_REQUEST, "missing field argv");
        return -1;
    }
    if (argv_n->type != JSON_ARRAY || argv_n->count == 0) {
        queue_error(s, id, ERR_BAD_REQUEST, "field argv must be a non-empty array of strings");
        return -1;
    }
    for (const struct json_node *n = json_first(doc, argv_n); n; n = json_next(doc, n)) {
        if (n->type != JSON_STRING || strlen(n->str) != n->str_len) {
            queue_error(s, id, ERR_BAD_REQUEST, "field argv must be a non-empty array of strings (without NUL)");
            return -1;
        }
    }
    if (strlen(json_first(doc, argv_n)->str) == 0) {
        queue_error(s, id, ERR_BAD_REQUEST, "field argv: the program name is empty");
        return -1;
    }
    const struct json_node *env_n = json_get(doc, req, "env");
    if (env_n && env_n->type != JSON_OBJECT) {
        queue_error(s, id, ERR_BAD_REQUEST, "field env must be an object of strings, not %s",
                    json_type_name(env_n->type));
        return -1;
    }
    for (const struct json_node *e = env_n ? json_first(doc, env_n) : NULL; e; e = json_next(doc, e)) {
        if (e->type != JSON_STRING || strlen(e->str) != e->str_len || e->key_len == 0
            || strlen(e->key) != e->key_len || strchr(e->key, '=')) {
            queue_error(s, id, ERR_BAD_REQUEST, "field env: entry \"%.64s\" must be a string with a name "
                        "without '=' (and no NUL)", e->key);
            return -1;
        }
    }
    const struct json_node *cwd_n = json_get(doc, req, "cwd");
    if (cwd_n && (cwd_n->type != JSON_STRING || strlen(cwd_n->str) != cwd_n->str_len || cwd_n->str_len == 0)) {
        queue_error(s, id, ERR_BAD_REQUEST, "field cwd must be a non-empty string");
        return -1;
    }
    if (optional_bool(s, id, doc, req, "tty", 0, &a->tty) < 0
        || optional_bool(s, id, doc, req, "stdin", 1, &a->with_stdin) < 0
        || optional_u16(s, id, doc, req, "rows", 24, &a->rows) < 0
        || optional_u16(s, id, doc, req, "cols", 80, &a->cols) < 0)
        return -1;

    a->argv = calloc((size_t)argv_n->count + 1, sizeof *a->argv);
    a->envp = calloc(1, sizeof *a->envp);
    size_t n_env = 0;
    int oom = !a->argv || !a->envp;
    int i = 0;
    for (const struct json_node *n = json_first(doc, argv_n); n && !oom; n = json_next(doc, n))
        oom = (a->argv[i++] = strdup(n->str)) == NULL;
    for (size_t k = 0; k < sizeof base_env / sizeof base_env[0] && !oom; k++) {
        const char *eq = strchr(base_env[k], '=');
        oom = env_set(&a->envp, &n_env, base_env[k], (size_t)(eq - base_env[k]), eq + 1) < 0;
    }
    if (a->tty && !oom)
        oom = env_set(&a->envp, &n_env, "TERM", 4, "xterm-256color") < 0;
    for (const struct json_node *e = env_n ? json_first(doc, env_n) : NULL; e && !oom; e = json_next(doc, e))
        oom = env_set(&a->envp, &n_env, e->key, e->key_len, e->str) < 0;
    if (oom) {
        queue_error(s, id, ERR_INTERNAL, "out of memory");
        free_strv(a->argv);
        free_strv(a->envp);
        a->argv = a->envp = NULL;
        return -1;
    }
    struct stat st;
    a->cwd = cwd_n ? cwd_n->str : stat("/root", &st) == 0 && S_ISDIR(st.st_mode) ? "/root" : "/";
    return 0;
}

static void op_exec(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req)
{
    struct spawn_args a;
    if (parse_spawn_args(s, id, doc, req, &a) < 0)
        return;
    struct spawn_request sr = {
        .argv = a.argv, .envp = a.envp, .cwd = a.cwd, .tty = a.tty, .rows = a.rows, .cols = a.cols,
        .with_stdin = a.with_stdin, .shell_status = 1,
    };
    struct spawned sp;
    char err[512];
    struct channel *ch = channel_open(s, id, CH_EXEC);
    int rc = ch ? spawn_process(&sr, &sp, err, sizeof err) : -1;
    if (ch && rc < 0) {
        queue_error(s, id, ERR_EXEC_FAILED, "%s", err);
        channel_release(ch);
    }
    if (rc == 0) {
        ch->pid = sp.pid;
        ch->tty = a.tty;
        ch->in_fd = sp.stdin_fd;
        ch->out_fd = sp.stdout_fd;
        ch->err_fd = sp.stderr_fd;
        ch->stdin_gone = sp.stdin_fd < 0;
        log_debug("channel %u: started pid %d (%s%s)", id, (int)sp.pid, a.argv[0], a.tty ? ", tty" : "");
    }
    free_strv(a.argv);
    free_strv(a.envp);
}

static void op_ping(struct stream *s, uint32_t id)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    struct buf b = { 0 };
    struct json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "protocol");
    jw_int(&w, PROTOCOL_VERSION);
    jw_key(&w, "version");
    jw_string(&w, BANGER_VERSION);
    jw_key(&w, "uptime_ms");
    jw_int(&w, (long long)uptime_ms());
    jw_key(&w, "hostname");
    jw_string(&w, host);
    jw_object_end(&w);
    queue_json(s, FRAME_RESULT, id, &b);
}

static void op_shutdown(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req)
{
    const struct json_node *a = json_get(doc, req, "action");
    enum agent_exit action = AGENT_EXIT_POWEROFF;
    if (a && a->type == JSON_STRING && strcmp(a->str, "reboot") == 0) {
        action = AGENT_EXIT_REBOOT;
    } else if (a && !(a->type == JSON_STRING && strcmp(a->str, "poweroff") == 0)) {
        queue_error(s, id, ERR_BAD_REQUEST, "field action must be \"poweroff\" or \"reboot\"");
        return;
    }
    queue_frame(s, FRAME_RESULT, id, "{}", 2);
    log_msg("shutdown requested (%s)", action == AGENT_EXIT_REBOOT ? "reboot" : "poweroff");
    exit_action = action;
    exit_requested = 1;
}

static void handle_open(struct stream *s, const struct frame *f)
{
    if (f->channel == 0) {
        queue_error(s, 0, ERR_BAD_FRAME, "OPEN on channel 0, which is the control channel");
        return;
    }
    struct channel *existing = find_channel(s, f->channel);
    if (existing) {
        /* Both ends must agree the id is finished: the ERROR ends it for the host, so it ends here too. */
        channel_fail(existing, ERR_CHANNEL_IN_USE, "channel %u is already open; it has been cancelled", f->channel);
        return;
    }
    struct json_doc doc;
    if (json_parse(&doc, (const char *)f->payload, f->length) < 0) {
        queue_error(s, f->channel, ERR_BAD_REQUEST, "request is not valid JSON: %s", doc.error);
        json_free(&doc);
        return;
    }
    const struct json_node *req = json_root(&doc);
    const struct json_node *op = json_get(&doc, req, "op");
    if (req->type != JSON_OBJECT)
        queue_error(s, f->channel, ERR_BAD_REQUEST, "request must be a JSON object");
    else if (!op)
        queue_error(s, f->channel, ERR_BAD_REQUEST, "missing field op");
    else if (op->type != JSON_STRING)
        queue_error(s, f->channel, ERR_BAD_REQUEST, "field op must be a string");
    else if (strcmp(op->str, "ping") == 0)
        op_ping(s, f->channel);
    else if (strcmp(op->str, "exec") == 0)
        op_exec(s, f->channel, &doc, req);
    else if (strcmp(op->str, "shutdown") == 0)
        op_shutdown(s, f->channel, &doc, req);
    else if (strcmp(op->str, "session.start") == 0)
        op_session_start(s, f->channel, &doc, req);
    else if (strcmp(op->str, "session.list") == 0)
        op_session_list(s, f->channel);
    else if (strcmp(op->str, "session.attach") == 0)
        op_session_attach(s, f->channel, &doc, req, 0);
    else if (strcmp(op->str, "session.logs") == 0)
        op_session_attach(s, f->channel, &doc, req, 1);
    else if (strcmp(op->str, "session.kill") == 0)
        op_session_kill(s, f->channel, &doc, req);
    else if (strcmp(op->str, "session.remove") == 0)
        op_session_remove(s, f->channel, &doc, req);
    else if (strcmp(op->str, "file.read") == 0)
        op_file_read(s, f->channel, &doc, req);
    else if (strcmp(op->str, "file.write") == 0)
        op_file_write(s, f->channel, &doc, req);
    else if (strcmp(op->str, "ports") == 0)
        op_ports(s, f->channel);
    else if (strcmp(op->str, "clock.set") == 0)
        op_clock_set(s, f->channel, &doc, req);
    else if (strcmp(op->str, "clock.adjust") == 0)
        op_clock_adjust(s, f->channel, &doc, req);
    else if (strcmp(op->str, "ssh.authorize") == 0)
        op_ssh_authorize(s, f->channel, &doc, req);
    else if (strcmp(op->str, "guest.personalise") == 0)
        op_guest_personalise(s, f->channel, &doc, req);
    else
        queue_error(s, f->channel, ERR_BAD_REQUEST, "unknown op \"%.64s\"", op->str);
    json_free(&doc);
}

static void handle_hello(struct stream *s, const struct frame *f)
{
    if (f->channel != 0) {
        queue_error(s, f->channel, ERR_BAD_FRAME, "HELLO must be sent on channel 0");
        return;
    }
    struct json_doc doc;
    if (json_parse(&doc, (const char *)f->payload, f->length) < 0) {
        queue_error(s, 0, ERR_BAD_REQUEST, "HELLO is not valid JSON: %s", doc.error);
        json_free(&doc);
        return;
    }
    const struct json_node *p = json_get(&doc, json_root(&doc), "protocol");
    int ok = p && json_is_int(p, 0, 1e9);
    int version = ok ? (int)p->number : 0;
    json_free(&doc);
    if (!ok) {
        queue_error(s, 0, ERR_BAD_REQUEST, "HELLO needs an integer field protocol");
        return;
    }
    if (version != PROTOCOL_VERSION) {
        queue_error(s, 0, ERR_BAD_REQUEST, "protocol %d is not supported; this agent speaks %d", version,
                    PROTOCOL_VERSION);
        return;
    }
    reset_stream_channels(s);
    drop_queued_output(s);
    static const char reply[] = "{\"protocol\":1,\"agent\":\"banger-init\",\"version\":\"" BANGER_VERSION "\"}";
    queue_frame(s, FRAME_HELLO, 0, reply, sizeof reply - 1);
    log_debug("HELLO: stream reset");
}

static void handle_channel_frame(struct stream *s, const struct frame *f)
{
    struct channel *ch = find_channel(s, f->channel);
    if (!ch || f->channel == 0)
        return; /* races with the channel's end */
    switch (f->type) {
    case FRAME_STDIN:
        if (ch->cancelled || ch->stdin_gone || ch->stdin_eof || buf_avail(&ch->inq) + f->length > STDIN_QUEUE_MAX(ch)) {
            ch->ack += f->length;
            send_window(ch);
            return;
        }
        size_t done = buf_avail(&ch->inq) == 0 && ch->in_fd >= 0 ? stdin_write_direct(ch, f->payload, f->length) : 0;
        if (done < f->length && !ch->stdin_gone && buf_append(&ch->inq, f->payload + done, f->length - done) < 0) {
            channel_fail(ch, ERR_INTERNAL, "out of memory buffering stdin");
            return;
        }
        channel_write_stdin(ch);
        return;
    case FRAME_EOF:
        if (f->length != 1 || f->payload[0] != STREAM_STDIN) {
            channel_fail(ch, ERR_BAD_FRAME, "EOF from the host must carry the single byte 0 (stdin)");
            return;
        }
        ch->stdin_eof = 1;
        channel_write_stdin(ch);
        return;
    case FRAME_SIGNAL:
        if (f->length != 1 || f->payload[0] == 0 || f->payload[0] >= NSIG) {
            channel_fail(ch, ERR_BAD_FRAME, "SIGNAL must carry one byte, a signal number from 1 to %d", NSIG - 1);
            return;
        }
        if (ch->kind == CH_ATTACH || ch->kind == CH_LOGS)
            session_channel_signal(ch, f->payload[0]);
        else if (ch->pid > 0 && !ch->exited && kill(-ch->pid, f->payload[0]) < 0)
            log_debug("channel %u: kill(-%d, %d): %s", ch->id, (int)ch->pid, f->payload[0], strerror(errno));
        return;
    case FRAME_RESIZE:
        if (f->length != 4) {
            channel_fail(ch, ERR_BAD_FRAME, "RESIZE must carry 4 bytes (rows, cols)");
            return;
        }
        if (ch->kind == CH_ATTACH)
            session_channel_resize(ch, get_u16(f->payload), get_u16(f->payload + 2));
        else if (ch->tty && ch->out_fd >= 0)
            pty_resize(ch->out_fd, get_u16(f->payload), get_u16(f->payload + 2));
        return;
    case FRAME_WINDOW:
        if (f->length != 4) {
            channel_fail(ch, ERR_BAD_FRAME, "WINDOW must carry 4 bytes (credit)");
            return;
        }
        ch->credit += get_u32(f->payload);
        if (ch->credit > (1ull << 32))
            ch->credit = 1ull << 32;
        return;
    case FRAME_CLOSE:
        if (ch->kind == CH_ATTACH || ch->kind == CH_LOGS) {
            session_channel_close(ch);
            return;
        }
        if (ch->cancelled)
            return;
        ch->cancelled = 1;
        if (!ch->exited)
            kill(-ch->pid, SIGKILL);
        stdin_close(ch);
        ch->ack = 0;
        log_debug("channel %u: cancelled", ch->id);
        return;
    }
}

static void handle_frame(struct stream *s, const struct frame *f)
{
    switch (f->type) {
    case FRAME_HELLO:
        handle_hello(s, f);
        return;
    case FRAME_OPEN:
        handle_open(s, f);
        return;
    case FRAME_STDIN:
    case FRAME_EOF:
    case FRAME_SIGNAL:
    case FRAME_RESIZE:
    case FRAME_WINDOW:
    case FRAME_CLOSE:
        handle_channel_frame(s, f);
        return;
    default: {
        struct channel *ch = f->channel ? find_channel(s, f->channel) : NULL;
        if (ch)
            channel_fail(ch, ERR_BAD_FRAME, "frame type 0x%02x is not one the host sends", f->type);
        else
            queue_error(s, f->channel, ERR_BAD_FRAME, "frame type 0x%02x is not one the host sends", f->type);
    }
    }
}

/* --- streams --- */

static struct stream *stream_add(int fd, int serial)
{
    if (n_streams >= MAX_STREAMS) {
        log_msg("too many agent connections (%d); refusing one", MAX_STREAMS);
        close(fd);
        return NULL;
    }
    struct stream *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return NULL;
    }
    s->fd = fd;
    s->serial = serial;
    s->host_present = !serial;
    streams[n_streams++] = s;
    return s;
}

/* A socket connection ended: its channels end with it. */
static void stream_kill(struct stream *s, const char *why)
{
    if (s->dead)
        return;
    if (s->serial) {
        /* The port stays; only the host went away. Whoever connects next starts with HELLO. */
        log_debug("virtio-serial host side gone (%s): resetting", why);
        reset_stream_channels(s);
        frame_decoder_reset(&s->dec);
        drop_queued_output(s);
        s->host_present = 0;
        return;
    }
    log_debug("connection closed (%s)", why);
    reset_stream_channels(s);
    s->dead = 1;
    close(s->fd);
    s->fd = -1;
}

static void stream_read(struct stream *s)
{
    uint8_t *dst = buf_reserve(&s->dec.in, READ_SLICE * READ_SLICES);
    if (!dst) {
        stream_kill(s, "out of memory");
        return;
    }
    struct iovec iov[READ_SLICES];
    for (int i = 0; i < READ_SLICES; i++)
        iov[i] = (struct iovec){ .iov_base = dst + (size_t)i * READ_SLICE, .iov_len = READ_SLICE };
    ssize_t r = readv(s->fd, iov, READ_SLICES);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        stream_kill(s, r == 0 ? "end of stream" : strerror(errno));
        return;
    }
    buf_commit(&s->dec.in, (size_t)r);
    struct frame f;
    enum decode_result res;
    while (!s->dead && (res = frame_next(&s->dec, &f)) != DECODE_NEED_MORE) {
        if (res == DECODE_BAD_MAGIC) {
            queue_error(s, 0, ERR_BAD_FRAME, "bytes that are not a frame (wrong magic); skipped to the next frame");
        } else if (res == DECODE_TOO_LARGE) {
            struct channel *ch = f.channel ? find_channel(s, f.channel) : NULL;
            if (ch)
                channel_fail(ch, ERR_FRAME_TOO_LARGE, "frame of %u bytes exceeds the limit of %u; payload discarded",
                             f.length, FRAME_MAX_PAYLOAD);
            else
                queue_error(s, f.channel, ERR_FRAME_TOO_LARGE,
                            "frame of %u bytes exceeds the limit of %u; payload discarded", f.length, FRAME_MAX_PAYLOAD);
        } else {
            handle_frame(s, &f);
        }
    }
}

static void serial_recheck(struct stream *s)
{
    if (!s->serial || s->host_present)
        return;
    struct pollfd p = { .fd = s->fd, .events = POLLIN | POLLOUT };
    if (poll(&p, 1, 0) >= 0 && !(p.revents & POLLHUP)) {
        log_debug("virtio-serial host side connected");
        s->host_present = 1;
    }
}

static void sweep(void)
{
    int j = 0;
    for (int i = 0; i < n_channels; i++) {
        if (channels[i]->dead)
            free(channels[i]);
        else
            channels[j++] = channels[i];
    }
    n_channels = j;
    j = 0;
    for (int i = 0; i < n_streams; i++) {
        if (streams[i]->dead) {
            buf_free(&streams[i]->dec.in);
            buf_free(&streams[i]->out);
            free(streams[i]);
        } else {
            streams[j++] = streams[i];
        }
    }
    n_streams = j;
}

/* --- the loop --- */

enum poll_kind { PK_SIGNAL, PK_LISTEN, PK_STREAM, PK_CH_IN, PK_CH_OUT, PK_CH_ERR, PK_SESSION };

struct poll_owner {
    enum poll_kind kind;
    void *ptr;
};

#define MAX_POLL (1 + 8 + MAX_STREAMS + 3 * MAX_CHANNELS + SESSION_MAX)

static struct pollfd pfds[MAX_POLL];
static struct poll_owner owners[MAX_POLL];

static int add_poll(int *n, int fd, short events, enum poll_kind kind, void *ptr)
{
    pfds[*n] = (struct pollfd){ .fd = fd, .events = events };
    owners[*n] = (struct poll_owner){ kind, ptr };
    return (*n)++;
}

static void accept_all(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                log_msg("accept: %s", strerror(errno));
            if (errno != EINTR && errno != ECONNABORTED)
                return;
            continue;
        }
        stream_add(fd, 0);
        log_debug("connection accepted");
    }
}

static void handle_signals(int sfd)
{
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        switch (si.ssi_signo) {
        case SIGCHLD:
            reap_children();
            break;
        case SIGTERM:
            log_msg("SIGTERM: shutting down");
            exit_action = AGENT_EXIT_POWEROFF;
            exit_requested = 1;
            break;
        case SIGINT:
            log_msg("SIGINT (Ctrl-Alt-Del): shutting down");
            exit_action = AGENT_EXIT_REBOOT;
            exit_requested = 1;
            break;
        case SIGIO:
            for (int i = 0; i < n_streams; i++)
                serial_recheck(streams[i]);
            break;
        }
    }
}

static int output_pending(void)
{
    for (int i = 0; i < n_streams; i++)
        if (!streams[i]->dead && streams[i]->host_present && buf_avail(&streams[i]->out) > streams[i]->out_written)
            return 1;
    return 0;
}

enum agent_exit agent_run(const struct agent_options *opt)
{
    sigset_t mask;
    agent_signal_mask(&mask);
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) {
        log_msg("signalfd: %s", strerror(errno));
        return AGENT_EXIT_POWEROFF;
    }
    if (opt->serial_fd >= 0) {
        struct stream *s = stream_add(opt->serial_fd, 1);
        /* Ask for SIGIO when the host side connects or goes away, so we need not poll a hung-up port. */
        fcntl(opt->serial_fd, F_SETOWN, getpid());
        fcntl(opt->serial_fd, F_SETFL, fcntl(opt->serial_fd, F_GETFL) | O_ASYNC);
        if (s)
            serial_recheck(s);
    }
    reap_children(); /* anything that exited before the signalfd existed */

    uint64_t flush_deadline = 0;
    for (;;) {
        if (exit_requested) {
            uint64_t now = now_ms();
            if (!flush_deadline)
                flush_deadline = now + SHUTDOWN_FLUSH_MS;
            if (!output_pending() || now >= flush_deadline)
                break;
        }
        int n = 0;
        int timeout = -1;
        add_poll(&n, sfd, POLLIN, PK_SIGNAL, NULL);
        for (int i = 0; i < opt->n_listen && !exit_requested; i++)
            add_poll(&n, opt->listen_fds[i], POLLIN, PK_LISTEN, NULL);
        for (int i = 0; i < n_streams; i++) {
            struct stream *s = streams[i];
            if (!s->host_present) {
                timeout = SERIAL_RECHECK_MS;
                continue;
            }
            short ev = 0;
            if (buf_avail(&s->out) < OUT_HIGH_WATER && !exit_requested)
                ev |= POLLIN;
            if (buf_avail(&s->out) > s->out_written)
                ev |= POLLOUT;
            add_poll(&n, s->fd, ev, PK_STREAM, s);
        }
        for (int i = 0; i < n_channels; i++) {
            struct channel *ch = channels[i];
            int can_read = ch->cancelled || ch->credit > 0;
            if (ch->in_fd >= 0 && buf_avail(&ch->inq) > 0)
                add_poll(&n, ch->in_fd, POLLOUT, PK_CH_IN, ch);
            if (ch->out_fd >= 0 && can_read)
                add_poll(&n, ch->out_fd, POLLIN, PK_CH_OUT, ch);
            if (ch->err_fd >= 0 && can_read)
                add_poll(&n, ch->err_fd, POLLIN, PK_CH_ERR, ch);
            if (ch->pty_drain && can_read)
                timeout = 0;
        }
        /* Sessions are read whether or not anyone is attached: their output goes to the ring buffer. */
        for (int i = 0; i < n_sessions; i++) {
            struct session *se = sessions[i];
            if (se->out_fd >= 0)
                add_poll(&n, se->out_fd, POLLIN, PK_SESSION, se);
            if (se->exited && !se->ended && (timeout < 0 || timeout > SESSION_DRAIN_MS / 4))
                timeout = SESSION_DRAIN_MS / 4;
        }
        if (exit_requested)
            timeout = 50;

        int ready = poll(pfds, (nfds_t)n, timeout);
        if (ready < 0 && errno != EINTR) {
            log_msg("poll: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n && ready > 0; i++) {
            short re = pfds[i].revents;
            if (!re)
                continue;
            struct channel *ch = owners[i].ptr;
            struct stream *s = owners[i].ptr;
            switch (owners[i].kind) {
            case PK_SIGNAL:
                handle_signals(sfd);
                break;
            case PK_LISTEN:
                accept_all(pfds[i].fd);
                break;
            case PK_STREAM:
                if (s->dead || s->fd != pfds[i].fd || !s->host_present)
                    break;
                if (re & POLLOUT)
                    stream_flush(s);
                if (!s->dead && (re & (POLLIN | POLLERR)))
                    stream_read(s);
                if (!s->dead && s->host_present && (re & POLLHUP) && (s->serial || !(re & POLLIN)))
                    stream_kill(s, "hang-up");
                break;
            case PK_CH_IN:
                if (!ch->dead && ch->in_fd == pfds[i].fd)
                    channel_write_stdin(ch);
                break;
            case PK_CH_OUT:
                if (!ch->dead && ch->out_fd == pfds[i].fd)
                    channel_read_ready(ch, 0);
                break;
            case PK_CH_ERR:
                if (!ch->dead && ch->err_fd == pfds[i].fd)
                    channel_read_ready(ch, 1);
                break;
            case PK_SESSION: {
                struct session *se = owners[i].ptr;
                if (se->out_fd == pfds[i].fd)
                    session_read_output(se, io_buf, sizeof io_buf);
                break;
            }
            }
        }
        session_check_ended(now_ms());
        for (int i = 0; i < n_channels; i++) {
            struct channel *ch = channels[i];
            if (ch->kind == CH_ATTACH || ch->kind == CH_LOGS) {
                session_channel_feed(ch);
                continue;
            }
            if (!ch->dead && ch->pty_drain && ch->out_fd >= 0 && (ch->cancelled || ch->credit > 0))
                channel_read_output(ch, 0);
            channel_maybe_finish(ch);
        }
        for (int i = 0; i < n_streams; i++) {
            serial_recheck(streams[i]);
            if (streams[i]->host_present)
                stream_flush(streams[i]);
        }
        sweep();
    }

    for (int i = 0; i < n_streams; i++) {
        reset_stream_channels(streams[i]);
        if (!streams[i]->serial)
            stream_kill(streams[i], "agent exiting");
    }
    session_kill_all();
    sweep();
    close(sfd);
    return exit_action;
}
