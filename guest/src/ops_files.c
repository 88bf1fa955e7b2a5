/* file.read and file.write: a helper process per channel (files.c), pumped like an exec's pipes. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_internal.h"
#include "exec.h"
#include "files.h"

/* A verdict is one small JSON object; anything longer is not one. */
#define VERDICT_MAX 65536

static void open_helper(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req,
                        int writing)
{
    const char *path;
    if (required_string(s, id, doc, req, "path", &path) < 0)
        return;
    if (path[0] != '/') {
        queue_error(s, id, ERR_BAD_REQUEST, "field path must be an absolute path, not \"%.80s\"", path);
        return;
    }
    struct channel *ch = channel_open(s, id, CH_HELPER);
    if (!ch)
        return;
    struct spawned sp;
    int verdict_fd;
    char err[256];
    if (spawn_helper(writing ? file_write_main : file_read_main, path, writing, !writing, &sp, &verdict_fd, err,
                     sizeof err) < 0) {
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
    log_debug("channel %u: %s %s (helper pid %d)", id, writing ? "file.write" : "file.read", path, (int)sp.pid);
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
