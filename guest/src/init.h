/*
 * banger-init as PID 1 (docs/guest-boot.md). Stage 1 runs in the initramfs banger builds: modules, root device,
 * switch to the real root. Stage 2 runs in the real root: mounts, hostname, network, work disk, sshd, agent,
 * orderly shutdown.
 */
#ifndef BANGER_INIT_H
#define BANGER_INIT_H

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

#endif
