/*
 * banger-init: the guest's PID 1 and agent. Modes (docs/guest-boot.md):
 *   banger-init agent --listen unix:PATH [--listen ...] [--home DIR] [--debug] [--guest-root DIR]
 *                                                                  agent only, e.g. on the host for tests
 *   PID 1 on banger's initramfs (/etc/banger/modules present)      stage 1, then exec stage 2 in the real root
 *   PID 1 anywhere else, or "stage2"                               stage 2
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "agent_internal.h"
#include "init.h"
#include "machine.h"
#include "util.h"

#define MAX_LISTEN 8

static void usage(void)
{
    fputs("usage: banger-init agent --listen unix:PATH|vsock:PORT|serial:NAME [--listen ...] [--debug]\n"
          "                         [--home DIR] [--guest-root DIR]\n"
          "       banger-init --version\n"
          "As PID 1 it boots the guest (stage 1 on banger's initramfs, stage 2 in the real root).\n"
          "--guest-root DIR: when the agent ends, print on stdout how PID 1 would end the machine\n"
          "(\"machine: reboot\" or \"machine: power-off\"), reading the kernel command line from\n"
          "DIR/proc/cmdline and ACPI's presence from DIR/sys/firmware/acpi; and judge guest.personalise's\n"
          "sshd step against DIR's sshd and host keys; for host tests that model a guest.\n",
          stderr);
}

/* Signals the agent reads from its signalfd are blocked from the start, so none is lost or kills us early. */
static void setup_signals(void)
{
    sigset_t mask;
    agent_signal_mask(&mask);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Keeps fds 0-2 open so nothing we open later lands there (the exec code relies on it). */
static void ensure_stdio(void)
{
    for (int i = 0; i < 3; i++) {
        if (fcntl(i, F_GETFD) >= 0)
            continue;
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0 && fd != i) {
            dup2(fd, i);
            close(fd);
        }
    }
}

/* What machine_off() in init.c would do at the end of the agent, for a guest whose "/" is root. */
static void report_machine_end(const char *root, enum agent_exit want)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/proc/cmdline", root);
    char *cmdline = read_small_file(path, 4096);
    char *halt = cmdline ? cmdline_value(cmdline, HALT_KEY) : NULL;
    snprintf(path, sizeof path, "%s/sys/firmware/acpi", root);
    struct stat st;
    struct machine_choice choice = machine_choose(want, halt, stat(path, &st) == 0);
    log_msg("%s (%s)", choice.end == MACHINE_REBOOT ? "reboot" : "power off", choice.why);
    printf("machine: %s\n", choice.end == MACHINE_REBOOT ? "reboot" : "power-off");
    fflush(stdout);
    free(halt);
    free(cmdline);
}

static int agent_main(int argc, char **argv)
{
    const char *specs[MAX_LISTEN];
    int n_specs = 0;
    const char *guest_root = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc && n_specs < MAX_LISTEN) {
            specs[n_specs++] = argv[++i];
        } else if (strcmp(argv[i], "--guest-root") == 0 && i + 1 < argc) {
            guest_root = argv[++i];
            g_guest_root = guest_root;
        } else if (strcmp(argv[i], "--home") == 0 && i + 1 < argc) {
            g_agent_home = argv[++i];
        } else if (strcmp(argv[i], "--debug") == 0) {
            g_debug = 1;
        } else {
            usage();
            return 2;
        }
    }
    if (n_specs == 0) {
        usage();
        return 2;
    }
    int listen_fds[MAX_LISTEN];
    int n_listen = 0;
    int serial_fd = -1;
    for (int i = 0; i < n_specs; i++) {
        int is_serial;
        int fd = init_open_transport(specs[i], &is_serial);
        if (fd < 0)
            return 1;
        if (is_serial)
            serial_fd = fd;
        else
            listen_fds[n_listen++] = fd;
    }
    log_debug("agent listening (pid %d)", (int)getpid());
    struct agent_options opt = { .listen_fds = listen_fds, .n_listen = n_listen, .serial_fd = serial_fd };
    enum agent_exit action = agent_run(&opt);
    for (int i = 0; i < n_specs; i++)
        if (strncmp(specs[i], "unix:", 5) == 0)
            unlink(specs[i] + 5);
    if (guest_root)
        report_machine_end(guest_root, action);
    return 0;
}

int main(int argc, char **argv)
{
    setup_signals();
    if (getpid() == 1) {
        if (argc >= 2 && strcmp(argv[1], "stage2") == 0)
            init_stage2();
        if ((argc >= 2 && strcmp(argv[1], "stage1") == 0)
            || (init_on_initramfs() && access(INITRAMFS_MODULES_FILE, F_OK) == 0))
            init_stage1();
        init_stage2();
    }
    ensure_stdio();
    if (argc >= 2 && strcmp(argv[1], "agent") == 0)
        return agent_main(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("banger-init %s\n", BANGER_VERSION);
        return 0;
    }
    usage();
    return 2;
}
