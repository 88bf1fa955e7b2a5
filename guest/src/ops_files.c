/* file.read and file.write: a helper process per channel (files.c), pumped like an exec's pipes. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_internal.h"
#include "exec.h"
#include "copy_tcp.h"
#include "files.h"

/* A verdict is one small JSON object; anything longer is not one. */
#define VERDICT_MAX 65536

/*
 * The optional "tcp" member: {"address":"172.30.77.5","token":"<32 hex digits>"}. Returns 0 (absent: *asked 0),
 * or 1 with the token parsed and the address in *address; -1 with ERROR bad_request queued.
 */
static int tcp_request(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req,
                       const char **address, uint8_t token[COPY_TOKEN_LEN])
{
    const struct json_node *tcp = json_get(doc, req, "tcp");
    if (!tcp || tcp->type == JSON_NULL)
        return 0;
    if (tcp->type != JSON_OBJECT) {
        queue_error(s, id, ERR_BAD_REQUEST, "field tcp must be an object, not %s", json_type_name(tcp->type));
        return -1;
    }
    const char *hex;
    if (required_string(s, id, doc, tcp, "address", address) < 0 || required_string(s, id, doc, tcp, "token", &hex) < 0)
        return -1;
    if (copy_token_parse(hex, token) < 0) {
        queue_error(s, id, ERR_BAD_REQUEST, "field tcp.token must be %d hex digits", 2 * COPY_TOKEN_LEN);
        return -1;
    }
    return 1;
}

/* Tells the host where the archive goes: TRANSPORT {"tcp_port":N}, or {"tcp_port":0,"why":"..."} for the channel. */
static void queue_transport(struct stream *s, uint32_t id, uint16_t port, const char *why)
{
    struct buf b = { 0 };
    struct json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "tcp_port");
    jw_int(&w, port);
    if (why) {
        jw_key(&w, "why");
        jw_string(&w, why);
    }
    jw_object_end(&w);
    queue_json(s, FRAME_TRANSPORT, id, &b);
}

static void open_helper(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req,
                        int writing)
{
    struct file_copy_job job = { .listen_fd = -1 };
    const char *address = NULL;
    if (required_string(s, id, doc, req, "path", &job.path) < 0)
        return;
    if (job.path[0] != '/') {
        queue_error(s, id, ERR_BAD_REQUEST, "field path must be an absolute path, not \"%.80s\"", job.path);
        return;
    }
    int tcp = tcp_request(s, id, doc, req, &address, job.token);
    if (tcp < 0)
        return;
    struct channel *ch = channel_open(s, id, CH_HELPER);
    if (!ch)
        return;
    if (tcp) {
        /* TRANSPORT is the channel's first frame whenever the host asked: it waits for it before sending. */
        char why[160];
        uint16_t port = 0;
        job.listen_fd = copy_tcp_listen(address, &port, why, sizeof why);
        queue_transport(s, id, job.listen_fd < 0 ? 0 : port, job.listen_fd < 0 ? why : NULL);
    }
    struct spawned sp;
    int verdict_fd;
    char err[256];
    /* Over TCP a file.read helper has stdin too: the host's EOF there says it could not connect. */
    int rc = spawn_helper(writing ? file_write_main : file_read_main, &job, writing || job.listen_fd >= 0, !writing,
                          job.listen_fd, &sp, &verdict_fd, err, sizeof err);
    if (job.listen_fd >= 0)
        close(job.listen_fd); /* the helper has its own */
    if (rc < 0) {
        queue_error(s, id, ERR_INTERNAL, "%s", err);
        channel_release(ch);
        return;
    }
    ch->pid = sp.pid;
    ch->in_fd = sp.stdin_fd;
    ch->out_fd = sp.stdout_fd;
    ch->verdict_fd = verdict_fd;
    ch->stdin_gone = sp.stdin_fd < 0;
    if (writing)
        grant_stdin_window(ch, FILE_COPY_WINDOW); /* the archive streams in without waiting on every 256 KiB */
    log_debug("channel %u: %s %s (helper pid %d%s)", id, writing ? "file.write" : "file.read", job.path, (int)sp.pid,
              job.listen_fd >= 0 ? ", over TCP" : "");
}

void op_file_read(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req)
{
    open_helper(s, id, doc, req, 0);
}

void op_file_write(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req)
{
    open_helper(s, id, doc, req, 1);
}

void helper_channel_finish(struct channel *ch)
{
    struct buf v = { 0 };
    while (buf_avail(&v) < VERDICT_MAX) {
        uint8_t *dst = buf_reserve(&v, 4096);
        if (!dst)
            break;
        ssize_t r = read(ch->verdict_fd, dst, 4096);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        buf_commit(&v, (size_t)r);
    }
    const char *kind = buf_avail(&v) > 1 ? (const char *)buf_head(&v) : "";
    if (ch->cancelled) {
        queue_frame(ch->st, FRAME_RESULT, ch->id, "{\"cancelled\":true}", 18);
    } else if (kind[0] == 'R' || kind[0] == 'E') {
        queue_frame(ch->st, kind[0] == 'R' ? FRAME_RESULT : FRAME_ERROR, ch->id, buf_head(&v) + 1,
                    (uint32_t)buf_avail(&v) - 1);
    } else if (WIFSIGNALED(ch->wstatus)) {
        queue_error(ch->st, ch->id, ERR_INTERNAL, "the file copy helper (pid %d) was killed by signal %d",
                    (int)ch->pid, WTERMSIG(ch->wstatus));
    } else {
        queue_error(ch->st, ch->id, ERR_INTERNAL, "the file copy helper (pid %d) exited with %d without a verdict",
                    (int)ch->pid, WEXITSTATUS(ch->wstatus));
    }
    buf_free(&v);
    channel_release(ch);
}
