#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "util.h"

enum exec_stage { STAGE_CWD = 1, STAGE_EXEC = 2, STAGE_SETUP = 3 };

struct exec_error {
    int stage;
    int err;
};

void child_reset_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL); /* fails harmlessly for SIGKILL, SIGSTOP and the libc-reserved ones */
}

static void close_fds_from(int lowfd)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
        return;
#endif
    struct rlimit rl;
    long max = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)max)
        max = (long)rl.rlim_cur;
    for (long fd = lowfd; fd < max; fd++)
        close((int)fd);
}

static const char *env_get(char *const *envp, const char *key)
{
    size_t n = strlen(key);
    for (; *envp; envp++)
        if (strncmp(*envp, key, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

/* execve with a PATH search taken from the child's own environment; returns the most telling errno. */
static int exec_search(char *const *argv, char *const *envp)
{
    const char *file = argv[0];
    if (strchr(file, '/')) {
        execve(file, argv, envp);
        return errno;
    }
    const char *path = env_get(envp, "PATH");
    if (!path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int best = ENOENT;
    char full[PATH_MAX];
    size_t flen = strlen(file);
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t dlen = colon ? (size_t)(colon - path) : strlen(path);
        if (dlen == 0) {
            full[0] = '.';
            dlen = 1;
        } else if (dlen < sizeof full) {
            memcpy(full, path, dlen);
        }
        if (dlen + 1 + flen < sizeof full) {
            full[dlen] = '/';
            memcpy(full + dlen + 1, file, flen + 1);
            execve(full, argv, envp);
            if (errno == EACCES)
                best = EACCES; /* found but not executable: more useful than "not found" */
            else if (errno != ENOENT && errno != ENOTDIR && best != EACCES)
                best = errno;
        }
        if (!colon)
            break;
        path = colon + 1;
    }
    return best;
}

static void child_fail(int errfd, int stage, int err)
{
    struct exec_error e = { stage, err };
    write_full(errfd, &e, sizeof e);
    _exit(127);
}

/*
 * What sh does when it cannot run a command, so callers can tell "tool missing" (127) and "not executable" (126)
 * from the tool's own failures. The error pipe is left to close unwritten: to the agent the process started.
 */
static void shell_exec_failed(const char *name, int err)
{
    if (err == ENOENT && !strchr(name, '/'))
        dprintf(2, "banger: %s: command not found\n", name);
    else
        dprintf(2, "banger: %s: %s\n", name, strerror(err));
    _exit(err == ENOENT ? 127 : 126);
}

static void run_child(const struct spawn_request *req, int in_fd, int out_fd, int err_fd, int slave_fd, int errfd,
                      pid_t agent)
{
    child_reset_signals();
    /* Dies with the agent (matters in agent mode on a host; PID 1 never goes away first). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != agent)
        _exit(127);
    umask(022);
    if (req->tty) {
        if (setsid() < 0 || ioctl(slave_fd, TIOCSCTTY, 0) < 0)
            child_fail(errfd, STAGE_SETUP, errno);
        in_fd = req->with_stdin ? slave_fd : in_fd;
        out_fd = err_fd = slave_fd;
    } else if (setpgid(0, 0) < 0) {
        child_fail(errfd, STAGE_SETUP, errno);
    } else if (req->merge_stderr) {
        err_fd = out_fd;
    }
    /* The sources are all >= 3 (banger-init keeps 0-2 open), so these dup2s cannot clobber each other. */
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        child_fail(errfd, STAGE_SETUP, errno);
    if (errfd != 3) {
        if (dup3(errfd, 3, O_CLOEXEC) < 0)
            child_fail(errfd, STAGE_SETUP, errno);
        errfd = 3;
    }
    close_fds_from(4);
    if (req->cwd && chdir(req->cwd) < 0)
        child_fail(errfd, STAGE_CWD, errno);
    int err = exec_search(req->argv, req->envp);
    if (req->shell_status)
        shell_exec_failed(req->argv[0], err);
    child_fail(errfd, STAGE_EXEC, err);
}

static void close_if(int fd)
{
    if (fd >= 0)
        close(fd);
}

int spawn_process(const struct spawn_request *req, struct spawned *out, char *err, size_t err_len)
{
    int in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, ep[2] = { -1, -1 };
    int master = -1, slave = -1, devnull = -1, stdin_dup = -1;
    out->pid = -1;
    out->stdin_fd = out->stdout_fd = out->stderr_fd = -1;

    if (pipe2(ep, O_CLOEXEC) < 0)
        goto sys_fail;
    if (req->tty) {
        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        char name[64];
        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0)
            goto sys_fail;
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
            goto sys_fail;
        pty_resize(master, req->rows, req->cols);
        if (req->with_stdin && (stdin_dup = fcntl(master, F_DUPFD_CLOEXEC, 3)) < 0)
            goto sys_fail;
    } else {
        if (pipe2(out_p, O_CLOEXEC) < 0 || (!req->merge_stderr && pipe2(err_p, O_CLOEXEC) < 0))
            goto sys_fail;
        if (req->with_stdin && pipe2(in_p, O_CLOEXEC) < 0)
            goto sys_fail;
    }
    if (!req->with_stdin && (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
        goto sys_fail;

    pid_t agent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        goto sys_fail;
    if (pid == 0)
        run_child(req, req->with_stdin ? in_p[0] : devnull, out_p[1], err_p[1], slave, ep[1], agent);

    close(ep[1]);
    ep[1] = -1;
    close_if(slave);
    close_if(in_p[0]);
    close_if(out_p[1]);
    close_if(err_p[1]);
    close_if(devnull);
    slave = in_p[0] = out_p[1] = err_p[1] = devnull = -1;

    /* The error pipe closes on a successful exec (CLOEXEC) or carries the reason it failed. */
    struct exec_error e;
    ssize_t r;
    do
        r = read(ep[0], &e, sizeof e);
    while (r < 0 && errno == EINTR);
    close(ep[0]);
    if (r == (ssize_t)sizeof e) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        if (e.stage == STAGE_CWD)
            snprintf(err, err_len, "cwd %s: %s", req->cwd, strerror(e.err));
        else if (e.stage == STAGE_EXEC)
            snprintf(err, err_len, "%s: %s", req->argv[0], strerror(e.err));
        else
            snprintf(err, err_len, "%s: cannot set up the process: %s", req->argv[0], strerror(e.err));
        close_if(master);
        close_if(stdin_dup);
        close_if(in_p[1]);
        close_if(out_p[0]);
        close_if(err_p[0]);
        return -1;
    }
    out->pid = pid;
    if (req->tty) {
        out->stdout_fd = master;
        out->stdin_fd = stdin_dup;
    } else {
        out->stdout_fd = out_p[0];
        out->stderr_fd = err_p[0];
        out->stdin_fd = in_p[1];
    }
    if (out->stdin_fd >= 0)
        set_nonblock(out->stdin_fd);
    set_nonblock(out->stdout_fd);
    if (out->stderr_fd >= 0)
        set_nonblock(out->stderr_fd);
    return 0;

sys_fail:
    snprintf(err, err_len, "%s: cannot start: %s", req->argv[0], strerror(errno));
    close_if(ep[0]);
    close_if(ep[1]);
    close_if(master);
    close_if(slave);
    close_if(stdin_dup);
    close_if(devnull);
    close_if(in_p[0]);
    close_if(in_p[1]);
    close_if(out_p[0]);
    close_if(out_p[1]);
    close_if(err_p[0]);
    close_if(err_p[1]);
    return -1;
}

int spawn_helper(helper_main fn, const void *arg, int with_stdin, int with_stdout, int pass_fd,
                 struct spawned *out, int *verdict_fd, char *err, size_t err_len)
{
    int in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 }, vp[2] = { -1, -1 };
    out->pid = -1;
    out->stdin_fd = out->stdout_fd = out->stderr_fd = -1;
    *verdict_fd = -1;
    if (pipe2(vp, O_CLOEXEC) < 0 || (with_stdin && pipe2(in_p, O_CLOEXEC) < 0)
        || (with_stdout && pipe2(out_p, O_CLOEXEC) < 0)) {
        snprintf(err, err_len, "cannot start a helper: %s", strerror(errno));
        goto fail;
    }
    /* A pipe's default 64 KiB makes the two ends hand over every 64 KiB: under TCG each hand-over between vCPUs
     * costs milliseconds (a default pipe moves ~15 MiB/s there, a 1 MiB one ~150). Best effort. */
    if (with_stdin)
        (void)fcntl(in_p[1], F_SETPIPE_SZ, HELPER_PIPE_SIZE);
    if (with_stdout)
        (void)fcntl(out_p[1], F_SETPIPE_SZ, HELPER_PIPE_SIZE);
    pid_t agent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, err_len, "cannot start a helper: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        child_reset_signals();
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != agent || setpgid(0, 0) < 0)
            _exit(127);
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        /* Sources are all >= 3 (fds 0-2 stay open in banger-init), so 0 and 1 cannot clobber them. */
        if (dup2(with_stdin ? in_p[0] : devnull, 0) < 0 || dup2(with_stdout ? out_p[1] : devnull, 1) < 0)
            _exit(127);
        /* Out of the way first: pass_fd may be 3, which the verdict pipe takes next. */
        int passed = pass_fd >= 0 ? fcntl(pass_fd, F_DUPFD_CLOEXEC, HELPER_PASSED_FD + 1) : -1;
        if (pass_fd >= 0 && passed < 0)
            _exit(127);
        if (vp[1] == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(vp[1], 3) < 0)
            _exit(127);
        if (passed >= 0 && dup2(passed, HELPER_PASSED_FD) < 0)
            _exit(127);
        close_fds_from(passed >= 0 ? HELPER_PASSED_FD + 1 : 4);
        if (chdir("/") < 0)
            _exit(127);
        _exit(fn(arg));
    }
    close(vp[1]);
    close_if(in_p[0]);
    close_if(out_p[1]);
    out->pid = pid;
    out->stdin_fd = in_p[1];
    out->stdout_fd = out_p[0];
    *verdict_fd = vp[0];
    set_nonblock(vp[0]);
    if (out->stdin_fd >= 0)
        set_nonblock(out->stdin_fd);
    if (out->stdout_fd >= 0)
        set_nonblock(out->stdout_fd);
    return 0;
fail:
    close_if(vp[0]);
    close_if(vp[1]);
    close_if(in_p[0]);
    close_if(in_p[1]);
    close_if(out_p[0]);
    close_if(out_p[1]);
    return -1;
}

int pty_resize(int master_fd, uint16_t rows, uint16_t cols)
{
    struct winsize ws = { .ws_row = rows, .ws_col = cols };
    return ioctl(master_fd, TIOCSWINSZ, &ws);
}

pid_t spawn_daemon(char *const *argv)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    child_reset_signals();
    setsid();
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
    }
    close_fds_from(3);
    static char *const envp[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL };
    execve(argv[0], argv, envp);
    _exit(127);
}
