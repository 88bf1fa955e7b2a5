/*
 * The agent: one single-threaded poll() loop serving docs/agent-protocol.md on any number of listening sockets
 * (each accepted connection an independent stream) and at most one virtio-serial port (one long-lived stream
 * whose host side comes and goes).
 */
#ifndef BANGER_AGENT_H
#define BANGER_AGENT_H

#include <signal.h>

enum agent_exit {
    AGENT_EXIT_POWEROFF, /* shutdown op with action poweroff, or SIGTERM */
    AGENT_EXIT_REBOOT,   /* shutdown op with action reboot, or SIGINT (Ctrl-Alt-Del when PID 1) */
};

struct agent_options {
    const int *listen_fds; /* non-blocking listening sockets */
    int n_listen;
    int serial_fd; /* non-blocking virtio-serial port, or -1 */
};

/* The signals the agent takes through its signalfd; they must be blocked in every thread before agent_run. */
void agent_signal_mask(sigset_t *set);

/*
 * Serves until a shutdown op or SIGTERM/SIGINT. On return every channel's and every session's process group has
 * been sent SIGKILL (processes not started by the agent are the caller's business) and the answer to a shutdown
 * op has been flushed (for at most about a second).
 */
enum agent_exit agent_run(const struct agent_options *opt);

#endif
