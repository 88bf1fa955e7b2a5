/*
 * What the agent's loop (agent.c) shares with the operations kept in their own files: streams, channels, frame
 * queueing and request parsing. Everything here runs on the agent's single thread.
 */
#ifndef BANGER_AGENT_INTERNAL_H
#define BANGER_AGENT_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>

#include "json.h"
#include "proto.h"
#include "util.h"

struct session;

struct stream {
    int fd;
    int serial;
    int host_present; /* serial: the host side is connected */
    int dead;
    struct frame_decoder dec;
    struct buf out;
    size_t out_written; /* bytes of the frame(s) at the head of `out` already written */
};

enum channel_kind {
    CH_EXEC,   /* a process of the channel's own: CLOSE kills it */
    CH_HELPER, /* file.read / file.write: a forked helper whose verdict becomes the RESULT or ERROR */
    CH_ATTACH, /* session.attach: the session's output, stdin to it; CLOSE detaches */
    CH_LOGS,   /* session.logs: the session's output only */
};

struct channel {
    struct stream *st;
    uint32_t id;
    enum channel_kind kind;
    int dead;
    pid_t pid; /* exec, helper: the channel's process (and process group); 0 otherwise */
    int exited;
    int wstatus;
    int tty;
    int in_fd, out_fd, err_fd;
    int verdict_fd;     /* helper: the read end of its verdict pipe */
    struct buf inq;     /* stdin bytes received but not yet written to the process */
    int stdin_eof;      /* the host sent EOF on stdin */
    int stdin_gone;     /* the process's stdin is closed: STDIN is acknowledged and dropped */
    uint64_t credit;    /* STDOUT+STDERR bytes the host will still accept */
    uint32_t ack;       /* stdin bytes consumed and not yet returned with WINDOW */
    uint32_t stdin_window; /* the stdin credit granted the host: INITIAL_WINDOW unless raised */
    int cancelled;      /* CLOSE received: nothing more but the final RESULT */
    int pty_drain;      /* the PTY's process has exited: read what is left, then end */
    struct session *sess; /* attach, logs */
    uint64_t cursor;      /* attach, logs: offset of the next session output byte to send */
    uint64_t stop_at;     /* logs without follow: where the output ended when asked; else UINT64_MAX */
    uint64_t lost;        /* attach, logs: bytes that left the ring buffer before this channel could send them */
};

#define MAX_CHANNELS 1024
extern struct channel *channels[MAX_CHANNELS];
extern int n_channels;

void queue_frame(struct stream *s, uint8_t type, uint32_t ch, const void *payload, uint32_t len);
/* Queues the JSON in `json` as one frame and frees the buffer. */
void queue_json(struct stream *s, uint8_t type, uint32_t ch, struct buf *json);
void queue_error(struct stream *s, uint32_t ch, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A new open channel with every fd -1 and a full credit window; NULL (ERROR queued) when there are too many. */
struct channel *channel_open(struct stream *s, uint32_t id, enum channel_kind kind);
/* Finishes a channel here (closes its fds); the caller has sent its last frame. */
void channel_release(struct channel *ch);
/* Returns acknowledged stdin credit with a WINDOW frame. */
void send_window(struct channel *ch);
/* Raises the channel's stdin window to `window`, granting the host the difference with a WINDOW frame. */
void grant_stdin_window(struct channel *ch, uint32_t window);

/* Request fields. Each returns 0, or -1 with ERROR bad_request queued naming the field. */
int optional_bool(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req,
                  const char *key, int dflt, int *out);
int optional_u16(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req,
                 const char *key, int dflt, uint16_t *out);
/* A non-empty string without NUL bytes; *out points into doc. */
int required_string(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req,
                    const char *key, const char **out);

/* What exec and session.start share: argv, env, cwd, tty, rows, cols, stdin. */
struct spawn_args {
    char **argv; /* malloc'ed, NULL-terminated */
    char **envp; /* malloc'ed, NULL-terminated: the base environment plus env */
    const char *cwd;
    int tty;
    int with_stdin;
    uint16_t rows, cols;
};

int parse_spawn_args(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req,
                     struct spawn_args *a);
void free_strv(char **v);

/* Writes {"exit_code":N} or {"exit_code":128+S,"signal":S} members for a wait status. */
void jw_exit_status(struct json_writer *w, int wstatus);

/* ops_session.c */
void op_session_start(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req);
void op_session_list(struct stream *s, uint32_t id);
void op_session_attach(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req,
                       int logs);
void op_session_kill(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req);
void op_session_remove(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req);
/* Attach and logs channels: send what the host has credit for, and finish at the end of the output. */
void session_channel_feed(struct channel *ch);
/* CLOSE on an attach or logs channel: the session goes on; the channel ends with RESULT {"detached":true}. */
void session_channel_close(struct channel *ch);
void session_channel_signal(struct channel *ch, int sig);
void session_channel_resize(struct channel *ch, uint16_t rows, uint16_t cols);

/* ops_files.c */
void op_file_read(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req);
void op_file_write(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req);
/* A helper channel's process has exited and its output is drained: its verdict becomes RESULT or ERROR. */
void helper_channel_finish(struct channel *ch);

/* ops_guest.c */
/* Root's home for ssh.authorize in agent mode (--home); NULL refuses the op there. PID 1 uses /root. */
extern const char *g_agent_home;
void op_clock_set(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req);
void op_clock_adjust(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req);
void op_ssh_authorize(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req);

/* ops_personalise.c */
/* Agent mode's --guest-root: the root filesystem ops judge against where PID 1 would act (tests), or NULL. */
extern const char *g_guest_root;
void op_guest_personalise(struct stream *s, uint32_t id, const struct json_doc *doc, const struct json_node *req);

/* ports.c */
void op_ports(struct stream *s, uint32_t id);

#endif
