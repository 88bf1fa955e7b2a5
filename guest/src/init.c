#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "agent.h"
#include "exec.h"
#include "machine.h"
#include "net.h"
#include "posture.h"
#include "transport.h"
#include "util.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

#define DEVICE_WAIT_MS 5000
#define SERIAL_WAIT_MS 5000
/* Modules load synchronously in stage 1 and built-in drivers probe before init, so eth0 is there or never. */
#define NET_WAIT_MS 250
#define TERM_GRACE_MS 3000

/* --- kernel command line --- */

static char *cmdline;

static void cmdline_load(void)
{
    if (!cmdline)
        cmdline = read_small_file("/proc/cmdline", 4096);
    if (!cmdline)
        cmdline = strdup("");
}

/* The value of key=value on this machine's kernel command line (last one wins), malloc'ed, or NULL. */
static char *cmdline_get(const char *key)
{
    cmdline_load();
    return cmdline_value(cmdline, key);
}

/* --- small system helpers --- */

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void console_stdio(void)
{
    /* Not close-on-exec: stage 2 inherits these. */
    int fd = open("/dev/console", O_RDWR | O_NOCTTY);
    if (fd < 0)
        fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        return;
    for (int i = 0; i < 3; i++)
        if (fd != i)
            dup2(fd, i);
    if (fd > 2)
        close(fd);
}

static int is_mountpoint(const char *path)
{
    char *mounts = read_small_file("/proc/self/mounts", 1 << 20);
    if (!mounts)
        return 0;
    int found = 0;
    for (char *line = strtok(mounts, "\n"); line && !found; line = strtok(NULL, "\n")) {
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        char *end = strchr(sp + 1, ' ');
        if (end && (size_t)(end - sp - 1) == strlen(path) && strncmp(sp + 1, path, strlen(path)) == 0)
            found = 1;
    }
    free(mounts);
    return found;
}

static int wait_for_path(const char *path, int wait_ms)
{
    uint64_t deadline = now_ms() + (uint64_t)wait_ms;
    struct stat st;
    while (stat(path, &st) < 0) {
        if (now_ms() >= deadline)
            return -1;
        sleep_ms(10);
    }
    return 0;
}

/*
 * Ends the machine with the reboot(2) command machine_choose() picks for what was wanted (docs/guest-boot.md,
 * "Shutdown"): power-off only where it ends the VMM, else a reboot, on which the VMM exits too.
 */
__attribute__((noreturn)) static void machine_off(enum agent_exit want)
{
    struct stat st;
    if (stat("/proc/cmdline", &st) < 0) {
        mkdir("/proc", 0755);
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    }
    if (stat("/sys/firmware", &st) < 0) {
        mkdir("/sys", 0755);
        mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    }
    char *halt = cmdline_get(HALT_KEY);
    struct machine_choice choice = machine_choose(want, halt, stat("/sys/firmware/acpi", &st) == 0);
    log_msg("%s (%s)", choice.end == MACHINE_REBOOT ? "reboot" : "power off", choice.why);
    sync();
    reboot(choice.end == MACHINE_REBOOT ? RB_AUTOBOOT : RB_POWER_OFF);
    log_msg("reboot(2) failed: %s", strerror(errno));
    reboot(RB_AUTOBOOT);
    for (;;)
        pause();
}

/* One clear console line, then the machine ends: never a hung VM, never a silent panic. */
__attribute__((noreturn, format(printf, 1, 2))) static void fatal(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_msg("%s", msg);
    log_msg("fatal error; powering off");
    machine_off(AGENT_EXIT_POWEROFF);
}

static void mount_or_die(const char *src, const char *target, const char *type, unsigned long flags,
                         const char *data)
{
    if (mkdir_p(target, 0755) < 0)
        fatal("mkdir %s: %s", target, strerror(errno));
    if (mount(src, target, type, flags, data) < 0)
        fatal("mount %s on %s (%s): %s", src, target, type ? type : "move", strerror(errno));
}

static void mount_if_missing(const char *src, const char *target, const char *type, unsigned long flags,
                             const char *data)
{
    if (!is_mountpoint(target))
        mount_or_die(src, target, type, flags, data);
}

int init_on_initramfs(void)
{
    struct statfs sf;
    return statfs("/", &sf) == 0 && (sf.f_type == RAMFS_MAGIC || sf.f_type == TMPFS_MAGIC);
}

/* --- stage 1 --- */

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * The parameters the kernel command line gives module NAME ("virtio_mmio.device=4K@0xd0000000:5" gives
 * virtio_mmio "device=4K@0xd0000000:5"), space-separated, as modprobe passes them: a module loaded from the
 * initramfs must see what it would have seen built in (Firecracker describes its devices that way). '-' and '_'
 * are the same in module names. malloc'ed; "" when there are none.
 */
static char *module_params(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char name[128];
    size_t n = strcspn(base, ".");
    if (n >= sizeof name)
        n = sizeof name - 1;
    for (size_t i = 0; i < n; i++)
        name[i] = base[i] == '-' ? '_' : base[i];
    name[n] = '\0';

    cmdline_load();
    struct buf params = { 0 };
    const char *p = cmdline;
    while (*p) {
        while (*p == ' ' || *p == '\n' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *word = p;
        int quoted = 0;
        for (; *p && (quoted || (*p != ' ' && *p != '\n' && *p != '\t')); p++)
            if (*p == '"')
                quoted = !quoted;
        size_t len = (size_t)(p - word);
        const char *dot = memchr(word, '.', len);
        if (!dot || (size_t)(dot - word) != n || !memchr(dot, '=', len - (size_t)(dot - word)))
            continue;
        int same = 1;
        for (size_t i = 0; i < n && same; i++)
            same = (word[i] == '-' ? '_' : word[i]) == name[i];
        if (!same)
            continue;
        if (params.len)
            buf_append(&params, " ", 1);
        buf_append(&params, dot + 1, len - n - 1);
    }
    if (buf_append(&params, "", 1) < 0) {
        buf_free(&params);
        return strdup("");
    }
    return (char *)params.data;
}

static void load_modules(const char *list)
{
    char *text = read_small_file(list, 1 << 16);
    if (!text)
        fatal("cannot read %s: %s", list, strerror(errno));
    int loaded = 0;
    uint64_t t0 = now_ms();
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        line[strcspn(line, "\r")] = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        if (!*line || *line == '#')
            continue;
        int fd = open(line, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            fatal("kernel module %s (listed in %s): %s", line, list, strerror(errno));
        int flags = has_suffix(line, ".xz") || has_suffix(line, ".zst") || has_suffix(line, ".gz")
            ? MODULE_INIT_COMPRESSED_FILE : 0;
        char *params = module_params(line);
        if (!params)
            fatal("out of memory");
        if (syscall(SYS_finit_module, fd, params, flags) < 0 && errno != EEXIST)
            fatal("loading kernel module %s (parameters \"%s\"): %s", line, params, strerror(errno));
        if (*params)
            log_debug("kernel module %s: %s", line, params);
        free(params);
        close(fd);
        loaded++;
    }
    free(text);
    log_debug("loaded %d kernel modules in %llu ms", loaded, (unsigned long long)(now_ms() - t0));
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        fatal("open %s: %s", from, strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (out < 0)
        fatal("create %s: %s", to, strerror(errno));
    static char chunk[65536];
    ssize_t r;
    while ((r = read(in, chunk, sizeof chunk)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || write_full(out, chunk, (size_t)r) < 0)
            fatal("copy %s to %s: %s", from, to, strerror(errno));
    }
    if (fchmod(out, mode) < 0 || close(out) < 0)
        fatal("copy %s to %s: %s", from, to, strerror(errno));
    close(in);
}

/* Deletes everything below dirfd that lives on device dev (never crossing into other mounts); closes dirfd. */
static void delete_tree(int dirfd, dev_t dev)
{
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
            continue;
        if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                delete_tree(sub, dev);
            unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
        } else {
            unlinkat(dirfd, e->d_name, 0);
        }
    }
    closedir(d);
}

void init_stage1(void)
{
    mount_or_die("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    console_stdio();
    char *debug = cmdline_get("banger.debug");
    g_debug = debug && strcmp(debug, "0") != 0;
    log_debug("stage 1 (initramfs) at %llu ms uptime", (unsigned long long)uptime_ms());

    load_modules(INITRAMFS_MODULES_FILE);

    char *root = cmdline_get("banger.root");
    char *fstype = cmdline_get("banger.rootfstype");
    const char *root_dev = root ? root : "/dev/vda";
    if (wait_for_path(root_dev, DEVICE_WAIT_MS) < 0)
        fatal("root device %s did not appear within %d ms (is virtio_blk loaded and the disk attached?)",
              root_dev, DEVICE_WAIT_MS);
    mount_or_die(root_dev, "/newroot", fstype ? fstype : "ext4", 0, NULL);
    mount_or_die("tmpfs", "/newroot/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
    if (mkdir_p("/newroot" STAGE2_PATH, 0755) < 0 || rmdir("/newroot" STAGE2_PATH) < 0)
        fatal("mkdir /newroot/run/banger: %s", strerror(errno));
    copy_file("/proc/self/exe", "/newroot" STAGE2_PATH, 0755);

    static const char *const moved[] = { "/dev", "/proc", "/sys" };
    for (size_t i = 0; i < sizeof moved / sizeof moved[0]; i++) {
        char target[64];
        snprintf(target, sizeof target, "/newroot%s", moved[i]);
        mount_or_die(moved[i], target, NULL, MS_MOVE, NULL);
    }

    /* Free the initramfs's memory, as switch_root does: its files are unreachable after the switch. */
    struct stat root_st;
    int rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd >= 0 && fstat(rootfd, &root_st) == 0)
        delete_tree(rootfd, root_st.st_dev);
    else if (rootfd >= 0)
        close(rootfd);

    if (chdir("/newroot") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0)
        fatal("switching to the root filesystem on %s: %s", root_dev, strerror(errno));
    log_debug("switched root to %s at %llu ms uptime", root_dev, (unsigned long long)uptime_ms());
    char *const argv[] = { STAGE2_PATH, "stage2", NULL };
    execv(STAGE2_PATH, argv);
    fatal("exec %s: %s", STAGE2_PATH, strerror(errno));
}

/* --- stage 2 --- */

int init_mount_work_disk(const char *dev, char *err, size_t err_len)
{
    if (wait_for_path(dev, DEVICE_WAIT_MS) < 0) {
        snprintf(err, err_len, "work disk %s did not appear within %d ms", dev, DEVICE_WAIT_MS);
        return -1;
    }
    /* Opened before the mount hides it: the image's own /root, copied in on the work disk's first boot. */
    int image_home = open("/root", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (mkdir_p("/root", 0755) < 0 || mount(dev, "/root", "ext4", MS_NOSUID | MS_NODEV, NULL) < 0) {
        snprintf(err, err_len, "mount %s on /root (ext4): %s", dev, strerror(errno));
        if (image_home >= 0)
            close(image_home);
        return -1;
    }
    if (access("/root/" SEED_IMAGE_HOME_MARKER, F_OK) == 0) {
        if (image_home >= 0)
            posture_seed_home(image_home, "/root");
        if (unlink("/root/" SEED_IMAGE_HOME_MARKER) < 0)
            log_msg("cannot remove /root/%s: %s", SEED_IMAGE_HOME_MARKER, strerror(errno));
    }
    if (image_home >= 0)
        close(image_home);
    /* sshd's StrictModes: root's home and .ssh owned by root, not group/world writable; at every boot. */
    if (posture_home_modes("/root", err, err_len) < 0)
        return -1;
    log_debug("work disk %s mounted on /root", dev);
    return 0;
}

static int has_host_keys(const char *root)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/etc/ssh", root);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL)
        found = strncmp(e->d_name, "ssh_host_", 9) == 0 && has_suffix(e->d_name, "_key");
    closedir(d);
    return found;
}

/*
 * The host key banger generated for this VM (on the work disk, so it is there from the first boot and its public
 * half is already pinned in banger's known_hosts). When present, sshd uses it alone (-h replaces the default keys).
 */
#define BANGER_HOST_KEY "/root/.banger/ssh/ssh_host_ed25519_key"

static int accessible_under(const char *root, const char *path, int mode)
{
    char full[PATH_MAX];
    snprintf(full, sizeof full, "%s%s", root, path);
    return access(full, mode) == 0;
}

const char *init_sshd_unavailable(const char *root)
{
    if (!accessible_under(root, "/usr/sbin/sshd", X_OK))
        return "/usr/sbin/sshd is not in this image";
    if (!accessible_under(root, BANGER_HOST_KEY, R_OK) && !has_host_keys(root))
        return "no host keys (" BANGER_HOST_KEY " or /etc/ssh/ssh_host_*_key)";
    return NULL;
}

int init_start_sshd(char *why, size_t why_len)
{
    const char *unavailable = init_sshd_unavailable("");
    if (unavailable) {
        snprintf(why, why_len, "%s", unavailable);
        log_msg("sshd not started: %s", unavailable);
        return 0;
    }
    int banger_key = access(BANGER_HOST_KEY, R_OK) == 0;
    mkdir("/run/sshd", 0755); /* its privilege-separation directory */
    posture_write_sshd_dropin();
    char *argv[POSTURE_SSHD_ARGV];
    posture_sshd_argv(banger_key ? BANGER_HOST_KEY : NULL, argv);
    pid_t pid = spawn_daemon(argv);
    if (pid < 0) {
        snprintf(why, why_len, "fork: %s", strerror(errno));
        log_msg("sshd not started: %s", why);
        return 0;
    }
    log_msg("sshd started");
    return 1;
}

static void setup_network(void)
{
    net_loopback_up();
    char *ip = cmdline_get("banger.ip");
    if (!ip)
        return;
    char *gw = cmdline_get("banger.gw");
    char *dns = cmdline_get("banger.dns");
    int rc = net_configure("eth0", ip, gw, NET_WAIT_MS);
    if (rc == 1)
        log_msg("network: banger.ip=%s given but there is no eth0; skipped", ip);
    if (rc == 0 && dns)
        net_write_resolv_conf(dns);
    free(ip);
    free(gw);
    free(dns);
}

int init_open_transport(const char *spec, int *is_serial)
{
    *is_serial = 0;
    if (strncmp(spec, "unix:", 5) == 0)
        return transport_listen_unix(spec + 5);
    if (strncmp(spec, "vsock:", 6) == 0) {
        char *end;
        unsigned long port = strtoul(spec + 6, &end, 10);
        if (*end || end == spec + 6 || port > 0xFFFFFFFFul) {
            log_msg("bad vsock port in %s", spec);
            return -1;
        }
        return transport_listen_vsock((unsigned)port);
    }
    if (strncmp(spec, "serial:", 7) == 0 && spec[7]) {
        *is_serial = 1;
        return transport_open_serial(spec + 7, SERIAL_WAIT_MS);
    }
    log_msg("bad agent transport \"%s\" (want unix:PATH, vsock:PORT or serial:NAME)", spec);
    return -1;
}

/* Waits for every process to go; returns when none is left or the time is up. */
static void reap_all(int wait_ms)
{
    uint64_t deadline = now_ms() + (uint64_t)wait_ms;
    for (;;) {
        pid_t pid;
        while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
            ;
        if (pid < 0 && errno == ECHILD)
            return;
        if (now_ms() >= deadline)
            return;
        sleep_ms(20);
    }
}

static int skip_unmount(const char *mnt)
{
    static const char *const keep[] = { "/", "/proc", "/sys", "/dev", "/run" };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (strcmp(mnt, keep[i]) == 0)
            return 1;
    return strncmp(mnt, "/proc/", 6) == 0 || strncmp(mnt, "/sys/", 5) == 0 || strncmp(mnt, "/dev/", 5) == 0;
}

static void unmount_all(void)
{
    if (is_mountpoint("/root") && umount2("/root", 0) < 0) {
        log_msg("unmount /root: %s; remounting it read-only", strerror(errno));
        mount(NULL, "/root", NULL, MS_REMOUNT | MS_RDONLY, NULL);
    }
    char *mounts = read_small_file("/proc/self/mounts", 1 << 20);
    char *lines[256];
    int n = 0;
    for (char *line = mounts ? strtok(mounts, "\n") : NULL; line && n < 256; line = strtok(NULL, "\n"))
        lines[n++] = line;
    for (int i = n - 1; i >= 0; i--) {
        char *mnt = strchr(lines[i], ' ');
        if (!mnt)
            continue;
        mnt++;
        mnt[strcspn(mnt, " ")] = '\0';
        if (skip_unmount(mnt))
            continue;
        if (umount2(mnt, 0) < 0 && errno != EINVAL)
            mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL);
    }
    free(mounts);
    sync();
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
        log_msg("remount / read-only: %s", strerror(errno));
}

__attribute__((noreturn)) static void system_shutdown(enum agent_exit action)
{
    int want_reboot = action == AGENT_EXIT_REBOOT;
    log_msg("%s: stopping all processes", want_reboot ? "rebooting" : "powering off");
    kill(-1, SIGTERM);
    reap_all(TERM_GRACE_MS);
    kill(-1, SIGKILL);
    reap_all(1000);
    sync();
    unmount_all();
    machine_off(action);
}

void init_stage2(void)
{
    mount_if_missing("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_if_missing("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_if_missing("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    console_stdio();
    mount_if_missing("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                     "newinstance,ptmxmode=0666,mode=0620,gid=5");
    struct stat st;
    if (lstat("/dev/ptmx", &st) < 0)
        symlink("pts/ptmx", "/dev/ptmx");
    mount_if_missing("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    mount_if_missing("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
    mount_if_missing("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");

    char *debug = cmdline_get("banger.debug");
    g_debug = debug && strcmp(debug, "0") != 0;
    log_debug("stage 2 at %llu ms uptime", (unsigned long long)uptime_ms());

    /*
     * A template guest (banger.template=1) stops here, before anything per-VM: no hostname, address, work disk
     * or sshd. It is captured once the agent answers; each clone restored from it gets its identity later
     * through the agent's guest.personalise op (ops_personalise.c).
     */
    char *template = cmdline_get("banger.template");
    if (template && strcmp(template, "0") != 0) {
        net_loopback_up();
        log_msg("template guest: identity, work disk and sshd wait for guest.personalise");
    } else {
        char *hostname = cmdline_get("banger.hostname");
        if (hostname && sethostname(hostname, strlen(hostname)) < 0)
            log_msg("cannot set hostname %s: %s", hostname, strerror(errno));
        setup_network();
        char *work = cmdline_get("banger.work");
        char err[256];
        if (work && *work && init_mount_work_disk(work, err, sizeof err) < 0)
            fatal("%s", err);
        init_start_sshd(err, sizeof err);
    }
    if (reboot(RB_DISABLE_CAD) < 0)
        log_msg("reboot(RB_DISABLE_CAD): %s", strerror(errno));

    char *spec = cmdline_get("banger.agent");
    if (!spec)
        spec = strdup("serial:banger.agent");
    int is_serial;
    int fd = init_open_transport(spec, &is_serial);
    if (fd < 0)
        fatal("the agent cannot serve banger.agent=%s", spec);
    struct agent_options opt = {
        .listen_fds = is_serial ? NULL : &fd,
        .n_listen = is_serial ? 0 : 1,
        .serial_fd = is_serial ? fd : -1,
    };
    log_debug("agent on %s at %llu ms uptime", spec, (unsigned long long)uptime_ms());
    log_msg("agent ready");
    system_shutdown(agent_run(&opt));
}
