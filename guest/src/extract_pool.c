/*
 * file.write's small files, created by worker threads while the main thread reads the archive on.
 *
 * Under TCG a small file costs the guest's ext4 about 0.2 ms of emulated kernel work (create, write, close), and
 * one thread doing that leaves the other vCPUs idle; the work of two files in different places does not wait on
 * each other. So the main thread reads a small file's data into a slot and queues it, and workers create the
 * files. Jobs are collected in archive order, so the first failure reported is the first in the archive.
 *
 * What keeps the archive's order where it matters is the caller's: before an entry whose path a queued job
 * writes (or lies below: a file, then a directory of the same name), and before hard links and anything it does
 * not queue that could meet a queued file, it drains the pool (extract_pool_conflicts). Directories a job writes
 * into exist before it is queued (the main thread created them), and each job holds its directory open, so a
 * job never walks a path.
 */
#include "extract_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "util.h"

/* Jobs queued at once: enough to keep the workers busy while the main thread reads (at most SLOTS *
 * POOL_FILE_MAX bytes held). */
#define SLOTS 16

struct job {
    int dirfd;
    char *rel; /* relative to the extraction's base; leaf points inside it */
    size_t rel_cap;
    const char *leaf;
    char *name; /* as in the archive, for messages */
    size_t name_cap;
    struct file_meta meta;
    uint8_t *data;
    size_t size, cap;
    int done;
    int failed;
    struct create_error ce;
};

struct extract_pool {
    pthread_mutex_t mu;
    pthread_cond_t queued;   /* a job was queued */
    pthread_cond_t finished; /* a job was done */
    struct job jobs[SLOTS];
    /* Ever-growing positions: jobs [head, tail) are not collected yet, [take, tail) not taken by a worker. */
    uint64_t head, take, tail;
    int failed; /* a failed job was collected: the first is kept below */
    struct create_error fail_ce;
    char *fail_name;
    long long files, bytes;
};

int clear_spot_quietly(int dirfd, const char *leaf, struct create_error *ce)
{
    struct stat sb;
    if (fstatat(dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    if (S_ISDIR(sb.st_mode)) {
        *ce = (struct create_error){ ERR_IO, "cannot replace a directory with a non-directory", 0 };
        return -1;
    }
    if (unlinkat(dirfd, leaf, 0) < 0) {
        *ce = (struct create_error){ ERR_IO, "cannot replace the existing file", errno };
        return -1;
    }
    return 0;
}

int create_exclusively(int dirfd, const char *leaf, mode_t mode, struct create_error *ce)
{
    /* Created with its permission bits (the helper's umask is 0), so a plain file needs no chmod. Whatever stands
     * at the name is cleared only when the name is taken: every inode change costs a journal round under TCG. */
    int fd = openat(dirfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
    if (fd < 0 && errno == EEXIST) {
        if (clear_spot_quietly(dirfd, leaf, ce) < 0)
            return -1;
        fd = openat(dirfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
    }
    if (fd < 0)
        *ce = (struct create_error){ ERR_IO, "cannot create", errno };
    return fd;
}

void finish_created(int fd, const struct file_meta *meta)
{
    struct stat sb;
    if (fstat(fd, &sb) < 0 || sb.st_uid != meta->uid || sb.st_gid != meta->gid)
        (void)!fchown(fd, meta->uid, meta->gid);
    if (meta->mode & 07000)
        fchmod(fd, meta->mode);
    struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = (time_t)meta->mtime } };
    futimens(fd, ts);
}

static int run_job(struct job *j)
{
    int fd = create_exclusively(j->dirfd, j->leaf, j->meta.mode, &j->ce);
    int rc = 0;
    if (fd < 0) {
        rc = -1;
    } else {
        if (j->size > 0 && write_full(fd, j->data, j->size) < 0) {
            j->ce = (struct create_error){ ERR_IO, "write", errno };
            rc = -1;
        } else {
            finish_created(fd, &j->meta);
        }
        close(fd);
    }
    close(j->dirfd);
    return rc;
}

static void *worker(void *arg)
{
    struct extract_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->take == p->tail)
            pthread_cond_wait(&p->queued, &p->mu);
        struct job *j = &p->jobs[p->take++ % SLOTS];
        pthread_mutex_unlock(&p->mu);
        int failed = run_job(j) < 0;
        pthread_mutex_lock(&p->mu);
        j->failed = failed;
        j->done = 1;
        pthread_cond_broadcast(&p->finished);
    }
    return NULL;
}

/* Collects the finished jobs at the head, in order. With p->mu held. */
static void collect(struct extract_pool *p)
{
    while (p->head < p->take && p->jobs[p->head % SLOTS].done) {
        struct job *j = &p->jobs[p->head % SLOTS];
        if (j->failed && !p->failed) {
            p->failed = 1;
            p->fail_ce = j->ce;
            /* Take the name: the slot's buffer is reused. */
            p->fail_name = j->name;
            j->name = NULL;
            j->name_cap = 0;
        } else if (!j->failed) {
            p->files++;
            p->bytes += (long long)j->size;
        }
        p->head++;
    }
}

struct extract_pool *extract_pool_start(int n)
{
    struct extract_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->queued, NULL);
    pthread_cond_init(&p->finished, NULL);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int started = 0;
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, worker, p) == 0)
            started++;
    }
    pthread_attr_destroy(&attr);
    if (started == 0) {
        free(p);
        return NULL;
    }
    /* The workers live as long as the helper (one copy); they are never stopped. */
    return p;
}

static int below_or_at(const char *queued, const char *rel)
{
    size_t n = strlen(queued);
    return strncmp(queued, rel, n) == 0 && (rel[n] == '\0' || rel[n] == '/');
}

int extract_pool_conflicts(struct extract_pool *p, const char *rel)
{
    pthread_mutex_lock(&p->mu);
    collect(p);
    uint64_t head = p->head, tail = p->tail;
    pthread_mutex_unlock(&p->mu);
    /* Only this thread writes a slot's rel, and it does so only for slots outside [head, tail). */
    for (uint64_t i = head; i < tail; i++)
        if (below_or_at(p->jobs[i % SLOTS].rel, rel))
            return 1;
    return 0;
}

static int copy_string(char **dst, size_t *cap, const char *src)
{
    size_t n = strlen(src) + 1;
    if (n > *cap) {
        char *grown = realloc(*dst, n);
        if (!grown)
            return -1;
        *dst = grown;
        *cap = n;
    }
    memcpy(*dst, src, n);
    return 0;
}

int extract_pool_submit(struct extract_pool *p, int dirfd, const char *leaf, const char *rel, const char *name,
                        const struct file_meta *meta, uint64_t size,
                        long (*read_data)(void *ctx, void *buf, size_t len), void *ctx, int *oom)
{
    *oom = 0;
    pthread_mutex_lock(&p->mu);
    collect(p);
    while (p->tail - p->head == SLOTS) {
        pthread_cond_wait(&p->finished, &p->mu);
        collect(p);
    }
    pthread_mutex_unlock(&p->mu);
    /* The slot at tail is collected and no worker looks at it until tail moves past it. */
    struct job *j = &p->jobs[p->tail % SLOTS];
    if (copy_string(&j->rel, &j->rel_cap, rel) < 0 || copy_string(&j->name, &j->name_cap, name) < 0)
        goto oom;
    if (size > j->cap) {
        uint8_t *grown = realloc(j->data, size);
        if (!grown)
            goto oom;
        j->data = grown;
        j->cap = size;
    }
    for (size_t got = 0; got < size;) {
        long n = read_data(ctx, j->data + got, size - got);
        if (n <= 0) {
            close(dirfd);
            return -1;
        }
        got += (size_t)n;
    }
    j->dirfd = dirfd;
    j->leaf = j->rel + (leaf - rel);
    j->meta = *meta;
    j->size = size;
    j->done = 0;
    j->failed = 0;
    pthread_mutex_lock(&p->mu);
    p->tail++;
    pthread_cond_signal(&p->queued);
    pthread_mutex_unlock(&p->mu);
    return 0;
oom:
    close(dirfd);
    *oom = 1;
    return -1;
}

int extract_pool_drain(struct extract_pool *p, struct create_error *ce, const char **name)
{
    pthread_mutex_lock(&p->mu);
    collect(p);
    while (p->head < p->tail) {
        pthread_cond_wait(&p->finished, &p->mu);
        collect(p);
    }
    int failed = p->failed;
    pthread_mutex_unlock(&p->mu);
    if (failed) {
        *ce = p->fail_ce;
        *name = p->fail_name ? p->fail_name : "(a file)";
        return -1;
    }
    return 0;
}

int extract_pool_failed(struct extract_pool *p)
{
    pthread_mutex_lock(&p->mu);
    collect(p);
    int failed = p->failed;
    pthread_mutex_unlock(&p->mu);
    return failed;
}

void extract_pool_counts(struct extract_pool *p, long long *files, long long *bytes)
{
    pthread_mutex_lock(&p->mu);
    *files = p->files;
    *bytes = p->bytes;
    pthread_mutex_unlock(&p->mu);
}
