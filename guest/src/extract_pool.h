/* file.write's small files, created by worker threads while the main thread reads the archive on. */
#ifndef BANGER_EXTRACT_POOL_H
#define BANGER_EXTRACT_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Files up to this size may go to the pool (their data is held in memory until a worker writes it). */
#define POOL_FILE_MAX (256 * 1024)

/* Why creating a file failed, for the verdict: code (ERR_*), what failed, and errno (0: none to print). */
struct create_error {
    const char *code;
    const char *what;
    int err;
};

/* The owner, mode and time a created file gets (mode: permission, set-id and sticky bits). */
struct file_meta {
    mode_t mode;
    uid_t uid;
    gid_t gid;
    int64_t mtime;
};

/* Clears what stands at leaf for a non-directory: nothing, or a file or symlink (unlinked, never followed).
 * A directory there is an error. 0, or -1 with *ce set. */
int clear_spot_quietly(int dirfd, const char *leaf, struct create_error *ce);

/* Creates leaf in dirfd exclusively with meta's permission bits, replacing what clear_spot_quietly may replace.
 * The fd, or -1 with *ce set. */
int create_exclusively(int dirfd, const char *leaf, mode_t mode, struct create_error *ce);

/* Gives a created file its owner (when it differs: chown costs a journal round), set-id and sticky bits (after
 * chown, which clears them) and mtime. */
void finish_created(int fd, const struct file_meta *meta);

struct extract_pool;

/* A pool of n worker threads (n >= 1), or NULL when they cannot be started (the caller writes files itself). */
struct extract_pool *extract_pool_start(int n);

/* True when a job not yet collected writes rel or a path below it ("a/b" pending, rel "a/b" or "a/b/c"): the
 * caller drains the pool first, so entries keep their archive order where it matters. */
int extract_pool_conflicts(struct extract_pool *p, const char *rel);

/* Queues a file of size bytes (<= POOL_FILE_MAX) to create at leaf in dirfd (the pool closes dirfd); its data is
 * read with read_data(ctx, buf, len) (as tar_read_data) before this returns. rel and name are copied: rel for
 * extract_pool_conflicts, name for messages. Returns 0; -1 when the data cannot be read (truncated archive,
 * dirfd closed, nothing queued) or memory runs out (*oom set). Collects finished jobs on the way. */
int extract_pool_submit(struct extract_pool *p, int dirfd, const char *leaf, const char *rel, const char *name,
                        const struct file_meta *meta, uint64_t size,
                        long (*read_data)(void *ctx, void *buf, size_t len), void *ctx, int *oom);

/* Waits for every queued job. Returns 0 when all succeeded so far, or -1 when one failed: *ce and *name (valid
 * as long as the pool) describe the first failure in archive order. */
int extract_pool_drain(struct extract_pool *p, struct create_error *ce, const char **name);

/* The first failure seen while collecting (without waiting), as extract_pool_drain reports it; 0 when none. */
int extract_pool_failed(struct extract_pool *p);

/* Files and bytes created by the pool's collected jobs. */
void extract_pool_counts(struct extract_pool *p, long long *files, long long *bytes);

#endif
