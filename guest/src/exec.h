/* Starting a process for an exec channel: pipes or a PTY, its own process group, exec errors reported back. */
#ifndef BANGER_EXEC_H
#define BANGER_EXEC_H

#include <stdint.h>
#include <sys/types.h>

struct spawn_request {
    char *const *argv;
    char *const *envp;
    const char *cwd;
    int tty;
    uint16_t rows, cols;
    int with_stdin; /* 0: stdin is /dev/null */
};

struct spawned {
    pid_t pid;
    int stdin_fd;  /* parent's write end (for a PTY, a dup of the master), -1 without stdin */
    int stdout_fd; /* parent's read end (for a PTY, the master) */
    int stderr_fd; /* -1 with a PTY */
};

/*
 * Starts the process. Returns 0, or -1 with a message in err ("uname: No such file or directory") when it could
 * not be started; then no process is left behind. All returned fds are non-blocking and close-on-exec.
 */
int spawn_process(const struct spawn_request *req, struct spawned *out, char *err, size_t err_len);

/* Sets a PTY's window size. */
int pty_resize(int master_fd, uint16_t rows, uint16_t cols);

/* Runs a program detached from the agent (stdio on /dev/null, own session); returns its pid or -1. */
pid_t spawn_daemon(char *const *argv);

/* Resets everything a child must not inherit from banger-init: signal mask and dispositions. */
void child_reset_signals(void);

#endif
