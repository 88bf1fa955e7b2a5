#include "posture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* sshd's policy: the same five directives as the daemon's SshdDropIn (SshdDropInTest keeps the two in step). */
static const char *const SSHD_POLICY_OPTIONS[] = {
    "PermitRootLogin=prohibit-password",
    "PubkeyAuthentication=yes",
    "PasswordAuthentication=no",
    "KbdInteractiveAuthentication=no",
    "AuthorizedKeysFile=/root/.ssh/authorized_keys",
};
#define N_POLICY (sizeof SSHD_POLICY_OPTIONS / sizeof SSHD_POLICY_OPTIONS[0])

static const char SSHD_DROPIN_TEXT[] =
    "# Written by banger-init at every boot; sshd also gets these as -o options, which win over any file.\n"
    "PermitRootLogin prohibit-password\n"
    "PubkeyAuthentication yes\n"
    "PasswordAuthentication no\n"
    "KbdInteractiveAuthentication no\n"
    "AuthorizedKeysFile /root/.ssh/authorized_keys\n";

/* A tree deeper than this in an image's /root is not copied further (bounded recursion). */
#define SEED_MAX_DEPTH 64
/* Problems reported on the console per seeding; the rest are counted. */
#define SEED_MAX_REPORTS 5

void posture_sshd_argv(const char *host_key, char **argv)
{
    size_t n = 0;
    argv[n++] = "/usr/sbin/sshd";
    if (host_key) {
        argv[n++] = "-h";
        argv[n++] = (char *)host_key;
    }
    for (size_t i = 0; i < N_POLICY; i++) {
        argv[n++] = "-o";
        argv[n++] = (char *)SSHD_POLICY_OPTIONS[i];
    }
    argv[n] = NULL;
}

void posture_write_sshd_dropin(void)
{
    struct stat st;
    if (stat("/etc/ssh", &st) < 0 || !S_ISDIR(st.st_mode))
        return;
    if (mkdir("/etc/ssh/sshd_config.d", 0755) < 0 && errno != EEXIST) {
        log_msg("cannot create /etc/ssh/sshd_config.d: %s (sshd still gets banger's policy as -o options)",
                strerror(errno));
        return;
    }
    int dir = open("/etc/ssh/sshd_config.d", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0) {
        log_msg("cannot open /etc/ssh/sshd_config.d: %s", strerror(errno));
        return;
    }
    const char *name = strrchr(SSHD_DROPIN, '/') + 1;
    unlinkat(dir, ".00-banger.conf.tmp", 0);
    int fd = openat(dir, ".00-banger.conf.tmp", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    int ok = fd >= 0 && write_full(fd, SSHD_DROPIN_TEXT, sizeof SSHD_DROPIN_TEXT - 1) == 0 && fchown(fd, 0, 0) == 0
        && fchmod(fd, 0644) == 0;
    if (fd >= 0)
        close(fd);
    if (ok)
        ok = renameat(dir, ".00-banger.conf.tmp", dir, name) == 0;
    if (!ok) {
        log_msg("cannot write %s: %s (sshd still gets banger's policy as -o options)", SSHD_DROPIN, strerror(errno));
        unlinkat(dir, ".00-banger.conf.tmp", 0);
    }
    close(dir);
}

int posture_home_modes(const char *home, char *err, size_t err_len)
{
    int dir = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0 || fchown(dir, 0, 0) < 0 || fchmod(dir, 0755) < 0) {
        snprintf(err, err_len, "chown/chmod %s: %s", home, strerror(errno));
        if (dir >= 0)
            close(dir);
        return -1;
    }
    /* A .ssh that cannot be fixed costs ssh logins, not the boot: a console line says why. */
    if (mkdirat(dir, ".ssh", 0700) < 0 && errno != EEXIST)
        log_msg("mkdir %s/.ssh: %s", home, strerror(errno));
    /* O_NOFOLLOW: a .ssh that is a symlink is refused, never followed to chmod what it points at. */
    int ssh = openat(dir, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (ssh < 0 || fchown(ssh, 0, 0) < 0 || fchmod(ssh, 0700) < 0)
        log_msg("chown/chmod %s/.ssh (it must be a directory): %s", home, strerror(errno));
    if (ssh >= 0)
        close(ssh);
    close(dir);
    return 0;
}

struct seed_stats {
    unsigned copied, skipped, failed;
    int full; /* ENOSPC: stop copying */
};

static void seed_problem(struct seed_stats *s, const char *what, const char *name)
{
    if (errno == ENOSPC || errno == EDQUOT)
        s->full = 1;
    if (s->failed++ < SEED_MAX_REPORTS)
        log_msg("copying the image's /root: %s %s: %s", what, name, strerror(errno));
}

static int copy_file_at(int src_dir, int dst_dir, const char *name, const struct stat *st)
{
    int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return -1;
    }
    static char chunk[65536];
    ssize_t r;
    int rc = 0;
    while (rc == 0 && (r = read(in, chunk, sizeof chunk)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || write_full(out, chunk, (size_t)r) < 0)
            rc = -1;
    }
    struct timespec times[2] = { st->st_atim, st->st_mtim };
    /* The mode after the owner: chown clears set-id bits. */
    if (rc == 0 && (fchown(out, st->st_uid, st->st_gid) < 0 || fchmod(out, st->st_mode & 07777) < 0
                    || futimens(out, times) < 0))
        rc = -1;
    int saved = errno;
    close(in);
    close(out);
    if (rc < 0) {
        unlinkat(dst_dir, name, 0);
        errno = saved;
    }
    return rc;
}

static void seed_dir(int src_dir, int dst_dir, int depth, struct seed_stats *s)
{
    int fd = dup(src_dir);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        seed_problem(s, "reading", "a directory");
        return;
    }
    struct dirent *e;
    while (!s->full && (e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        struct stat st, have;
        if (fstatat(src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            seed_problem(s, "stat", name);
            continue;
        }
        int exists = fstatat(dst_dir, name, &have, AT_SYMLINK_NOFOLLOW) == 0;
        if (exists && !(S_ISDIR(st.st_mode) && S_ISDIR(have.st_mode))) {
            s->skipped++; /* the work disk's own file wins (banger's keys, the workspace) */
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (depth >= SEED_MAX_DEPTH) {
                s->skipped++;
                continue;
            }
            if (!exists && mkdirat(dst_dir, name, 0700) < 0) {
                seed_problem(s, "mkdir", name);
                continue;
            }
            int sub_src = openat(src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            int sub_dst = openat(dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub_src < 0 || sub_dst < 0) {
                seed_problem(s, "opening", name);
            } else {
                seed_dir(sub_src, sub_dst, depth + 1, s);
                if (!exists) {
                    struct timespec times[2] = { st.st_atim, st.st_mtim };
                    if (fchown(sub_dst, st.st_uid, st.st_gid) < 0 || fchmod(sub_dst, st.st_mode & 07777) < 0
                        || futimens(sub_dst, times) < 0)
                        seed_problem(s, "setting owner/mode of", name);
                    s->copied++;
                }
            }
            if (sub_src >= 0)
                close(sub_src);
            if (sub_dst >= 0)
                close(sub_dst);
        } else if (S_ISREG(st.st_mode)) {
            if (copy_file_at(src_dir, dst_dir, name, &st) < 0)
                seed_problem(s, "copying", name);
            else
                s->copied++;
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = readlinkat(src_dir, name, target, sizeof target - 1);
            if (n < 0) {
                seed_problem(s, "readlink", name);
                continue;
            }
            target[n] = '\0';
            struct timespec times[2] = { st.st_atim, st.st_mtim };
            if (symlinkat(target, dst_dir, name) < 0
                || fchownat(dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0
                || utimensat(dst_dir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
                seed_problem(s, "symlink", name);
            else
                s->copied++;
        } else if (S_ISFIFO(st.st_mode)) {
            if (mkfifoat(dst_dir, name, 0600) < 0
                || fchownat(dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0
                || fchmodat(dst_dir, name, st.st_mode & 07777, 0) < 0)
                seed_problem(s, "mkfifo", name);
            else
                s->copied++;
        } else {
            s->skipped++; /* devices and sockets have no place in a home */
        }
    }
    closedir(d);
}

void posture_seed_home(int image_home, const char *home)
{
    int dst = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dst < 0) {
        log_msg("copying the image's /root: open %s: %s", home, strerror(errno));
        return;
    }
    uint64_t t0 = now_ms();
    struct seed_stats s = { 0 };
    seed_dir(image_home, dst, 0, &s);
    if (syncfs(dst) < 0)
        log_msg("copying the image's /root: syncfs: %s", strerror(errno));
    close(dst);
    if (s.full)
        log_msg("copying the image's /root: the work disk is full; the rest was not copied");
    log_msg("copied the image's /root into the work disk: %u entries, %u kept as they were, %u failed (%llu ms)",
            s.copied, s.skipped, s.failed, (unsigned long long)(now_ms() - t0));
}
