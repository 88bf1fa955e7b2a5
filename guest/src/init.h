/*
 * banger-init as PID 1 (docs/guest-boot.md). Stage 1 runs in the initramfs banger builds: modules, root device,
 * switch to the real root. Stage 2 runs in the real root: mounts, hostname, network, work disk, sshd, agent,
 * orderly shutdown.
 */
#ifndef BANGER_INIT_H
#define BANGER_INIT_H

#include <stddef.h>

/* The file that marks banger's initramfs: kernel modules to load, one path per line, in dependency order. */
#define INITRAMFS_MODULES_FILE "/etc/banger/modules"
/* Where stage 1 puts its own copy in the new root (on a tmpfs, so the image need not contain banger-init). */
#define STAGE2_PATH "/run/banger/banger-init"

/* True when / is the initramfs (ramfs or tmpfs rootfs). */
int init_on_initramfs(void);

__attribute__((noreturn)) void init_stage1(void);
__attribute__((noreturn)) void init_stage2(void);

/*
 * Parses a listen spec shared by agent mode and banger.agent=: "unix:PATH", "vsock:PORT", "serial:NAME".
 * Opens it; *is_serial tells which kind came back. Returns the fd or -1 with a console line.
 */
int init_open_transport(const char *spec, int *is_serial);

/*
 * Mounts the work disk on /root (the image's /root copied in on the disk's first boot, root's home modes
 * enforced). Returns 0, or -1 with err saying why. Used at boot and by guest.personalise.
 */
int init_mount_work_disk(const char *dev, char *err, size_t err_len);
/*
 * Why sshd cannot start in the root filesystem at root ("" for the guest's own /): "/usr/sbin/sshd is not in this
 * image" or no host keys; NULL when it can.
 */
const char *init_sshd_unavailable(const char *root);
/*
 * Starts the image's sshd with banger's host key and drop-in. Returns 1 when it started, 0 (with why, and a console
 * line) when the image has no sshd or no host key, or the fork failed.
 */
int init_start_sshd(char *why, size_t why_len);

#endif
