/*
 * What makes every guest a banger dev machine whatever its image holds, done by PID 1 at boot: root's home (the
 * work disk) with sshd-safe modes and, on its first boot, the image's own /root contents; sshd started with
 * banger's policy on its command line (which wins over every config file) and the same policy as a drop-in.
 */
#ifndef BANGER_POSTURE_H
#define BANGER_POSTURE_H

#include <stddef.h>

/* Work-disk file whose presence asks the first boot to copy the image's /root in (the daemon writes it). */
#define SEED_IMAGE_HOME_MARKER ".banger/seed-image-home"
/* The drop-in's path; its name sorts first because sshd keeps the first value it reads for a directive. */
#define SSHD_DROPIN "/etc/ssh/sshd_config.d/00-banger.conf"

/*
 * Copies the entries of the image's home (image_home: a directory fd opened on /root before the work disk was
 * mounted over it) into home that home does not have yet: directories merge, anything already there wins.
 * Owners, modes and times are kept; devices and sockets are skipped. Logs what it could not copy; never fatal.
 */
void posture_seed_home(int image_home, const char *home);

/*
 * home 0755 root:root and home/.ssh 0700 root:root (created when missing), as sshd's StrictModes wants. Returns -1
 * with err when home itself cannot be fixed; a .ssh that cannot (a symlink, say) gets a console line only.
 */
int posture_home_modes(const char *home, char *err, size_t err_len);

/* Writes SSHD_DROPIN (creating sshd_config.d) when /etc/ssh exists; a console line when it cannot. */
void posture_write_sshd_dropin(void);

/*
 * The argv that starts sshd with banger's policy as -o options; host_key (or NULL for the image's own keys) goes
 * in as -h. argv has room for at least POSTURE_SSHD_ARGV entries.
 */
#define POSTURE_SSHD_ARGV 16
void posture_sshd_argv(const char *host_key, char **argv);

#endif
