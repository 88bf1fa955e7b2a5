/*
 * Sessions (docs/agent-protocol.md, "Sessions"): named processes that belong to the agent rather than to a
 * connection. Each one's output (stdout and stderr together, or the terminal's output) goes into a bounded ring
 * buffer that attachers replay and then follow; the process never waits for a reader.
 */
#ifndef BANGER_SESSION_H
#define BANGER_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SESSION_MAX 64
#define SESSION_NAME_MAX 63
#define SESSION_RING_MAX (1u << 20)
/* After the process has exited, output still in flight is read for at most this long. */
#define SESSION_DRAIN_MS 200

/*
 * The last `max` bytes of an output stream. Byte k of the stream (k counted from 0 over the session's life) is
 * held while k >= ring_start(); memory grows with the output up to `max`.
 */
struct ring {
    uint8_t *data;
    size_t cap;
    size_t max;
    uint64_t total; /* bytes ever appended */
};

void ring_init(struct ring *r, size_t max);
void ring_free(struct ring *r);
void ring_append(struct ring *r, const uint8_t *p, size_t n);
/* The first stream offset still held; everything before it was dropped. */
uint64_t ring_start(const struct ring *r);
/* Copies up to len bytes starting at stream offset `from` (>= ring_start, < total); returns how many. */
size_t ring_copy(const struct ring *r, uint64_t from, uint8_t *dst, size_t len);

struct session {
    char name[SESSION_NAME_MAX + 1];
    char **argv; /* NULL-terminated copy, for session.list */
    pid_t pid;   /* also its process group (and session, with a PTY) */
    int tty;
    int in_fd;  /* pipe write end or a dup of the PTY master: the process's stdin */
    int out_fd; /* pipe read end (stdout and stderr share the pipe) or the PTY master; -1 once drained */
    int exited; /* reaped: wstatus is valid */
    int wstatus;
    int ended;  /* exited and output drained: nothing will change any more */
    uint64_t started_at_ms; /* CLOCK_REALTIME */
    uint64_t started_mono, exited_mono, ended_at_ms;
    struct ring ring;
};

extern struct session *sessions[SESSION_MAX];
extern int n_sessions;

/* NULL when name is a valid session name, else why not (DNS-label-like: a-z, 0-9, '-', 1..63, no '-' at ends). */
const char *session_name_problem(const char *name);
struct session *session_find(const char *name);
struct session *session_by_pid(pid_t pid);
/* Takes ownership of argv; returns NULL on no memory (nothing taken then) or when the table is full. */
struct session *session_add(const char *name, char **argv, pid_t pid, int tty, int in_fd, int out_fd);
/* Closes its fds and frees it; the caller has finished every channel that refers to it. */
void session_free(struct session *s);
/* Reads what the process wrote (one chunk); at end of output closes out_fd. */
void session_read_output(struct session *s, uint8_t *scratch, size_t scratch_len);
/* The process was reaped. */
void session_exited(struct session *s, int wstatus);
/* Marks sessions whose process has exited as ended once their output is drained (or the drain time is up). */
void session_check_ended(uint64_t now);
/* SIGKILL to every running session's process group (the agent is exiting). */
void session_kill_all(void);

#endif
