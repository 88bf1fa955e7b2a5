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
    int merge_stderr; /* without a PTY: stderr goes into the stdout pipe (stderr_fd is then -1) */
    /*
     * 1: a program that cannot be executed is reported as a shell does, not as a spawn error: the process
     * writes "banger: NAME: command not found" (or the error) to its stderr and exits 127 when it does not
     * exist, 126 when it exists but cannot be executed. A bad cwd or a setup failure is still an error.
     */
    int shell_status;
};

struct spawned {
    pid_t pid;
    int stdin_fd;  /* parent's write end (for a PTY, a dup of the master), -1 without stdin */
    int stdout_fd; /* parent's read end (for a PTY, the master) */
    int stderr_fd; /* -1 with a PTY */
};

/*
 * Starts the process. Returns 0, or -1 with a message in err ("uname: No such file or directory") when it could
 * not be started (with shell_status, a program that cannot be executed still starts, see above); then no process
 * is left behind. All returned fds are non-blocking and close-on-exec.
 */
int spawn_process(const struct spawn_request *req, struct spawned *out, char *err, size_t err_len);

/* The size asked for a helper's stdin and stdout pipes (the kernel's default is 64 KiB). */
#define HELPER_PIPE_SIZE (1024 * 1024)

/* The body of a helper process: runs in the child, returns its exit code. */
typedef int (*helper_main)(const void *arg);

/* Where a helper finds the descriptor it was handed (spawn_helper's pass_fd). */
#define HELPER_PASSED_FD 4

/*
 * Forks a helper process running fn(arg) in its own process group, with working directory /: stdin and stdout
 * are pipes to the agent when asked for (else /dev/null), fd 3 the write end of a pipe whose read end comes back
 * in *verdict_fd, and fd HELPER_PASSED_FD a copy of pass_fd when it is not -1 (the agent keeps its own); the pipes
 * hold HELPER_PIPE_SIZE when the kernel allows. Returns 0, or -1 with a message in err. All returned fds are
 * non-blocking and close-on-exec.
 */
int spawn_helper(helper_main fn, const void *arg, int with_stdin, int with_stdout, int pass_fd,
                 struct spawned *out, int *verdict_fd, char *err, size_t err_len);

/* Sets a PTY's window size. */
int pty_resize(int master_fd, uint16_t rows, uint16_t cols);

/* Runs a program detached from the agent (stdio on /dev/null, own session); returns its pid or -1. */
pid_t spawn_daemon(char *const *argv);

/* Resets everything a child must not inherit from banger-init: signal mask and dispositions. */
void child_reset_signals(void);

#endif
