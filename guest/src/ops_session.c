/* session.start, session.list, session.attach, session.logs, session.kill, session.remove. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "agent_internal.h"
#include "exec.h"
#include "session.h"

static uint8_t feed_buf[DATA_MAX_PAYLOAD];

/* A session reads as ended only once its output is drained too: then its status and output are both final. */
static void jw_session_status(struct json_writer *w, const struct session *se)
{
    jw_key(w, "running");
    jw_bool(w, !se->ended);
    if (se->ended)
        jw_exit_status(w, se->wstatus);
}

static struct session *named_session(struct stream *s, uint32_t id, const struct json_doc *doc,
                                     const struct json_node *req)
{
    const char *name;
    if (required_string(s, id, doc, req, "name", &name) < 0)
        return NULL;
    struct session *se = session_find(name);
    if (!se)
        queue_error(s, id, ERR_NOT_FOUND, "no session named \"%.80s\"", name);
    return se;
}

/* Ends an attach or logs channel with its RESULT: the session's status, or {"detached":true}. */
static void finish_channel(struct channel *ch, int detached)
{
    struct session *se = ch->sess;
    send_window(ch);
    struct buf b = { 0 };
    struct json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    if (detached) {
        jw_key(&w, "detached");
        jw_bool(&w, 1);
    } else {
        uint8_t which = STREAM_STDOUT;
        queue_frame(ch->st, FRAME_EOF, ch->id, &which, 1);
        jw_session_status(&w, se);
    }
    jw_key(&w, "lost");
    jw_int(&w, (long long)ch->lost);
    jw_object_end(&w);
    queue_json(ch->st, FRAME_RESULT, ch->id, &b);
    log_debug("channel %u: %s session %s", ch->id, detached ? "detached from" : "finished with", se->name);
    channel_release(ch);
}

void session_channel_feed(struct channel *ch)
{
    struct session *se = ch->sess;
    if (ch->dead || !se)
        return;
    uint64_t start = ring_start(&se->ring);
    if (ch->cursor < start) {
        /* A slow reader: what the ring dropped meanwhile is gone for it too. */
        ch->lost += start - ch->cursor;
        ch->cursor = start;
    }
    uint64_t end = se->ring.total < ch->stop_at ? se->ring.total : ch->stop_at;
    while (ch->credit > 0 && ch->cursor < end) {
        uint64_t want = end - ch->cursor;
        if (want > ch->credit)
            want = ch->credit;
        if (want > sizeof feed_buf)
            want = sizeof feed_buf;
        size_t n = ring_copy(&se->ring, ch->cursor, feed_buf, (size_t)want);
        if (n == 0)
            break;
        queue_frame(ch->st, FRAME_STDOUT, ch->id, feed_buf, (uint32_t)n);
        ch->credit -= n;
        ch->cursor += n;
    }
    if (ch->cursor >= ch->stop_at || (se->ended && ch->cursor >= se->ring.total))
        finish_channel(ch, 0);
}

void session_channel_close(struct channel *ch)
{
    if (!ch->dead && ch->sess)
        finish_channel(ch, 1);
}

void session_channel_signal(struct channel *ch, int sig)
{
    struct session *se = ch->sess;
    if (ch->kind == CH_ATTACH && se && !se->exited && kill(-se->pid, sig) < 0)
        log_debug("session %s: kill(-%d, %d): %s", se->name, (int)se->pid, sig, strerror(errno));
}

void session_channel_resize(struct channel *ch, uint16_t rows, uint16_t cols)
{
    struct session *se = ch->sess;
    if (se && se->tty && se->out_fd >= 0)
        pty_resize(se->out_fd, rows, cols);
}

/* Finishes the channels still showing an ended session, then forgets it. */
static void remove_session(struct session *se)
{
    for (int i = 0; i < n_channels; i++)
        if (!channels[i]->dead && channels[i]->sess == se)
            finish_channel(channels[i], 0);
    log_debug("session %s: removed", se->name);
    session_free(se);
}

void op_session_start(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req)
{
    const char *name;
    if (required_string(s, id, doc, req, "name", &name) < 0)
        return;
    const char *why = session_name_problem(name);
    if (why) {
        queue_error(s, id, ERR_BAD_REQUEST, "session name \"%.80s\" %s", name, why);
        return;
    }
    struct session *old = session_find(name);
    if (old && !old->ended) {
        queue_error(s, id, ERR_ALREADY_EXISTS, "session %s is already running (pid %d)", name, (int)old->pid);
        return;
    }
    if (!old && n_sessions >= SESSION_MAX) {
        queue_error(s, id, ERR_LIMIT, "too many sessions (%d); remove ended ones with session.remove", SESSION_MAX);
        return;
    }
    struct spawn_args a;
    if (parse_spawn_args(s, id, doc, req, &a) < 0)
        return;
    struct spawn_request sr = {
        .argv = a.argv, .envp = a.envp, .cwd = a.cwd, .tty = a.tty, .rows = a.rows, .cols = a.cols,
        .with_stdin = a.with_stdin, .merge_stderr = 1,
    };
    struct spawned sp;
    char err[512];
    int rc = spawn_process(&sr, &sp, err, sizeof err);
    free_strv(a.envp);
    if (rc < 0) {
        queue_error(s, id, ERR_EXEC_FAILED, "%s", err);
        free_strv(a.argv);
        return;
    }
    if (old)
        remove_session(old); /* an ended one of the same name is replaced */
    struct session *se = session_add(name, a.argv, sp.pid, a.tty, sp.stdin_fd, sp.stdout_fd);
    if (!se) {
        kill(-sp.pid, SIGKILL);
        if (sp.stdin_fd >= 0)
            close(sp.stdin_fd);
        close(sp.stdout_fd);
        free_strv(a.argv);
        queue_error(s, id, ERR_INTERNAL, "out of memory");
        return;
    }
    log_debug("session %s: started pid %d (%s%s)", se->name, (int)se->pid, se->argv[0], se->tty ? ", tty" : "");
    struct buf b = { 0 };
    struct json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "name");
    jw_string(&w, se->name);
    jw_key(&w, "pid");
    jw_int(&w, se->pid);
    jw_object_end(&w);
    queue_json(s, FRAME_RESULT, id, &b);
}

void op_session_list(struct stream *s, uint32_t id)
{
    uint64_t now = now_ms();
    struct buf b = { 0 };
    struct json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "sessions");
    jw_array_begin(&w);
    for (int i = 0; i < n_sessions; i++) {
        const struct session *se = sessions[i];
        int attached = 0;
        for (int k = 0; k < n_channels; k++)
            attached += !channels[k]->dead && channels[k]->kind == CH_ATTACH && channels[k]->sess == se;
        jw_object_begin(&w);
        jw_key(&w, "name");
        jw_string(&w, se->name);
        jw_key(&w, "pid");
        jw_int(&w, se->pid);
        jw_key(&w, "argv");
        jw_array_begin(&w);
        for (char **p = se->argv; *p; p++)
            jw_string(&w, *p);
        jw_array_end(&w);
        jw_key(&w, "tty");
        jw_bool(&w, se->tty);
        jw_session_status(&w, se);
        jw_key(&w, "started_at");
        jw_int(&w, (long long)se->started_at_ms);
        jw_key(&w, "runtime_ms");
        jw_int(&w, (long long)((se->exited ? se->exited_mono : now) - se->started_mono));
        jw_key(&w, "bytes");
        jw_int(&w, (long long)se->ring.total);
        jw_key(&w, "dropped");
        jw_int(&w, (long long)ring_start(&se->ring));
        jw_key(&w, "attached");
        jw_int(&w, attached);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    queue_json(s, FRAME_RESULT, id, &b);
}

void op_session_attach(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req,
                       int logs)
{
    struct session *se = named_session(s, id, doc, req);
    if (!se)
        return;
    int replay = 1, follow = 1;
    if (logs ? optional_bool(s, id, doc, req, "follow", 0, &follow) < 0
             : optional_bool(s, id, doc, req, "replay", 1, &replay) < 0)
        return;
    struct channel *ch = channel_open(s, id, logs ? CH_LOGS : CH_ATTACH);
    if (!ch)
        return;
    ch->sess = se;
    ch->cursor = replay ? ring_start(&se->ring) : se->ring.total;
    ch->stop_at = follow ? UINT64_MAX : se->ring.total;
    if (!logs && se->in_fd >= 0) {
        /* Its own dup of the session's stdin: EOF or a vanished host closes only this one. */
        ch->in_fd = fcntl(se->in_fd, F_DUPFD_CLOEXEC, 3);
    }
    ch->stdin_gone = ch->in_fd < 0;
    log_debug("channel %u: %s session %s from offset %llu", id, logs ? "logs of" : "attached to", se->name,
              (unsigned long long)ch->cursor);
}

void op_session_kill(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req)
{
    struct session *se = named_session(s, id, doc, req);
    if (!se)
        return;
    int sig = SIGTERM;
    const struct json_node *n = json_get(doc, req, "signal");
    if (n) {
        if (!json_is_int(n, 1, NSIG - 1)) {
            queue_error(s, id, ERR_BAD_REQUEST, "field signal must be a signal number from 1 to %d", NSIG - 1);
            return;
        }
        sig = (int)n->number;
    }
    if (se->exited) {
        queue_error(s, id, ERR_NOT_RUNNING, "session %s has already ended", se->name);
        return;
    }
    if (kill(-se->pid, sig) < 0) {
        queue_error(s, id, ERR_INTERNAL, "kill(-%d, %d): %s", (int)se->pid, sig, strerror(errno));
        return;
    }
    log_debug("session %s: signal %d", se->name, sig);
    queue_frame(s, FRAME_RESULT, id, "{}", 2);
}

void op_session_remove(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req)
{
    struct session *se = named_session(s, id, doc, req);
    if (!se)
        return;
    if (!se->ended) {
        queue_error(s, id, ERR_STILL_RUNNING, "session %s is still running (pid %d); kill it first", se->name,
                    (int)se->pid);
        return;
    }
    remove_session(se);
    queue_frame(s, FRAME_RESULT, id, "{}", 2);
}
