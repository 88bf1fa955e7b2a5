#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "exec.h"
#include "extract_pool.h"
#include "json.h"
#include "proto.h"
#include "tar.h"
#include "util.h"
#include "zerocopy.h"

#define OUT_CHUNK (64 * 1024)
/* file.write: file data is written in pieces of up to WRITE_CHUNK; files of DIRECT_MIN and more with O_DIRECT,
 * whose buffers, lengths and offsets must be multiples of the device's block size (DIRECT_ALIGN covers 4Kn). */
#define WRITE_CHUNK (1024 * 1024)
#define DIRECT_MIN (1024 * 1024)
#define DIRECT_ALIGN 4096
#define MAX_WARNINGS 5

struct stats {
    long long files, dirs, symlinks, others, bytes, skipped, warnings;
    char warn[MAX_WARNINGS][256];
};

static void warnf(struct stats *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warnf(struct stats *st, const char *fmt, ...)
{
    if (st->warnings < MAX_WARNINGS) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->warn[st->warnings], sizeof st->warn[0], fmt, ap);
        va_end(ap);
    }
    st->warnings++;
}

static void verdict(char kind, struct buf *json)
{
    write_full(FILES_VERDICT_FD, &kind, 1);
    write_full(FILES_VERDICT_FD, buf_head(json), buf_avail(json));
    buf_free(json);
}

static int fail(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* file.write's pool of file-creating threads, once it has one: a verdict waits for the files still being written,
 * and the first failure in archive order is the one reported (extract_pool.c). */
static struct extract_pool *pending_files;

static int fail_created(const char *name, const struct create_error *ce)
{
    pending_files = NULL; /* this is the verdict */
    if (ce->err)
        return fail(ce->code, "%s: %s: %s", name, ce->what, strerror(ce->err));
    return fail(ce->code, "%s: %s", name, ce->what);
}

static int fail(const char *code, const char *fmt, ...)
{
    if (pending_files) {
        struct extract_pool *p = pending_files;
        pending_files = NULL;
        struct create_error ce;
        const char *name;
        if (extract_pool_drain(p, &ce, &name) < 0)
            return fail_created(name, &ce); /* an earlier entry failed */
    }
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct buf b = { 0 };
    struct json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "code");
    jw_string(&w, code);
    jw_key(&w, "message");
    jw_string(&w, msg);
    jw_object_end(&w);
    verdict('E', &b);
    return -1;
}

static int succeed(const struct stats *st)
{
    struct buf b = { 0 };
    struct json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "files");
    jw_int(&w, st->files);
    jw_key(&w, "dirs");
    jw_int(&w, st->dirs);
    jw_key(&w, "symlinks");
    jw_int(&w, st->symlinks);
    jw_key(&w, "others");
    jw_int(&w, st->others);
    jw_key(&w, "bytes");
    jw_int(&w, st->bytes);
    jw_key(&w, "skipped");
    jw_int(&w, st->skipped);
    jw_key(&w, "warnings");
    jw_array_begin(&w);
    for (long long i = 0; i < st->warnings && i < MAX_WARNINGS; i++)
        jw_string(&w, st->warn[i]);
    if (st->warnings > MAX_WARNINGS) {
        char more[64];
        snprintf(more, sizeof more, "(%lld more warnings)", st->warnings - MAX_WARNINGS);
        jw_string(&w, more);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    verdict('R', &b);
    return 0;
}

/* --- file.read: a tree → tar on stdout --- */

struct out {
    struct buf b;
};

static void out_flush(struct out *o, int all)
{
    if (buf_avail(&o->b) == 0 || (!all && buf_avail(&o->b) < OUT_CHUNK))
        return;
    if (write_full(STDOUT_FILENO, buf_head(&o->b), buf_avail(&o->b)) < 0) {
        /* The host cancelled (EPIPE): nobody wants the rest, or the verdict. */
        _exit(1);
    }
    buf_clear(&o->b);
}

static int oom_reported;
static int out_oom(void);

/* The aligned buffer of WRITE_CHUNK bytes that large files go through both ways; NULL when memory runs out. */
static uint8_t *chunk_buffer(void)
{
    static uint8_t *chunk;
    if (!chunk && posix_memalign((void **)&chunk, DIRECT_ALIGN, WRITE_CHUNK) != 0)
        chunk = NULL;
    return chunk;
}

/* Turns O_DIRECT on or off for fd; 0, or -1 when the file system refuses it. */
static int set_direct(int fd, int on)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -1;
    return fcntl(fd, F_SETFL, on ? flags | O_DIRECT : flags & ~O_DIRECT);
}

/*
 * The data of a large file (the header is in o): read with O_DIRECT where the file system takes it (under TCG the
 * page cache's work per page costs more than the read itself), in pieces of WRITE_CHUNK straight to stdout. Exactly
 * `size` bytes, as for small files. 0, or -1 (out of memory; verdict written).
 */
static int emit_large(struct out *o, struct stats *st, const char *fs, int fd, uint64_t size)
{
    static struct zc_sender *zc;
    static int zc_tried;
    if (!zc_tried) {
        zc_tried = 1;
        zc = zc_open(STDOUT_FILENO, WRITE_CHUNK, DIRECT_ALIGN); /* NULL on the channel's pipe: plain writes */
    }
    if (!zc && !chunk_buffer())
        return out_oom();
    out_flush(o, 1);
    int direct = set_direct(fd, 1) == 0;
    uint64_t left = size;
    int short_read = 0;
    while (left > 0) {
        uint8_t *chunk = zc ? zc_buffer(zc) : chunk_buffer();
        if (!chunk)
            _exit(1); /* the connection failed while the kernel still held our pages: the host is gone */
        size_t want = left < WRITE_CHUNK ? (size_t)left : WRITE_CHUNK;
        /* O_DIRECT reads whole blocks: ask for the block-rounded length, use what the header allows. */
        size_t ask = direct ? (want + DIRECT_ALIGN - 1) / DIRECT_ALIGN * DIRECT_ALIGN : want;
        ssize_t r = short_read ? 0 : read(fd, chunk, ask);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EINVAL && direct) {
            set_direct(fd, 0); /* not for this file after all: on through the page cache */
            direct = 0;
            continue;
        }
        if (r <= 0) {
            if (!short_read)
                warnf(st, "%s: %s while reading; padded with zeros", fs, r < 0 ? strerror(errno) : "shrank");
            short_read = 1;
            memset(chunk, 0, want);
            r = (ssize_t)want;
        }
        size_t n = (size_t)r < want ? (size_t)r : want;
        if (direct && n % DIRECT_ALIGN != 0 && n < want) {
            /* A short direct read mid-file (it shrank, or a file system's quirk): the rest without O_DIRECT, from
             * where this piece ends. */
            set_direct(fd, 0);
            direct = 0;
        }
        if ((zc ? zc_send(zc, n) : write_full(STDOUT_FILENO, chunk, n)) < 0)
            _exit(1); /* the host cancelled (EPIPE) */
        left -= n;
    }
    return 0;
}

/* Reports running out of memory once (a failing recursion unwinds through every level). */
static int out_oom(void)
{
    if (oom_reported)
        return -1;
    oom_reported = 1;
    return fail(ERR_INTERNAL, "out of memory");
}

/* The helper's exit code after a verdict: 0 for a result, 1 for an error. */
static int exit_code(int verdict_rc)
{
    return verdict_rc < 0 ? 1 : 0;
}

static int name_cat(char *dst, size_t len, const char *child)
{
    size_t c = strlen(child);
    if (len + 1 + c > TAR_NAME_MAX)
        return -1;
    dst[len] = '/';
    memcpy(dst + len + 1, child, c + 1);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists a directory's names (sorted, without . and ..) so no directory stays open while we recurse. */
static char **list_dir(const char *path, size_t *count, int *err)
{
    DIR *d = opendir(path);
    if (!d) {
        *err = errno;
        return NULL;
    }
    size_t n = 0, cap = 16;
    char **names = malloc(cap * sizeof *names);
    struct dirent *de;
    while (names && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            char **grown = realloc(names, (cap *= 2) * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        if (!(names[n] = strdup(de->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (names)
        qsort(names, n, sizeof *names, cmp_names);
    *count = n;
    *err = names ? 0 : ENOMEM;
    return names;
}

/* Adds fs (named `name` in the archive) and, for a directory, everything under it. fs and name are buffers of
 * TAR_NAME_MAX + 2 bytes that children are appended to and then cut back. What cannot be read below the root is
 * skipped with a warning. Returns 0, or -1 when the copy cannot go on (verdict written). */
static int emit(struct out *o, struct stats *st, char *fs, char *name, int is_root)
{
    struct stat sb;
    if (lstat(fs, &sb) < 0) {
        if (is_root)
            return fail(errno == ENOENT ? ERR_NOT_FOUND : ERR_IO, "%s: %s", fs, strerror(errno));
        warnf(st, "%s: %s", fs, strerror(errno));
        st->skipped++;
        return 0;
    }
    struct tar_entry *e = calloc(1, sizeof *e);
    if (!e)
        return out_oom();
    size_t nlen = strlen(name);
    memcpy(e->name, name, nlen + 1);
    e->mode = sb.st_mode & 07777;
    e->uid = sb.st_uid;
    e->gid = sb.st_gid;
    e->mtime = sb.st_mtim.tv_sec;
    int rc = 0;
    if (S_ISREG(sb.st_mode)) {
        int fd = open(fs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            warnf(st, "%s: %s", fs, strerror(errno));
            st->skipped++;
            goto done;
        }
        e->type = TAR_FILE;
        e->size = (uint64_t)sb.st_size;
        if (tar_encode_header(e, &o->b) < 0) {
            close(fd);
            rc = -1;
            goto done;
        }
        /* Exactly the size the header announced: a file that shrinks is padded, one that grows is cut. */
        if (e->size >= DIRECT_MIN) {
            if (emit_large(o, st, fs, fd, e->size) < 0) {
                close(fd);
                rc = -1;
                goto done;
            }
        } else {
            uint64_t left = e->size;
            int short_read = 0;
            while (left > 0) {
                size_t want = left < OUT_CHUNK ? (size_t)left : OUT_CHUNK;
                uint8_t *dst = buf_reserve(&o->b, want);
                if (!dst) {
                    close(fd);
                    rc = -1;
                    goto done;
                }
                ssize_t r = short_read ? 0 : read(fd, dst, want);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0) {
                    if (!short_read)
                        warnf(st, "%s: %s while reading; padded with zeros", fs, r < 0 ? strerror(errno) : "shrank");
                    short_read = 1;
                    memset(dst, 0, want);
                    r = (ssize_t)want;
                }
                buf_commit(&o->b, (size_t)r);
                left -= (uint64_t)r;
                out_flush(o, 0);
            }
        }
        close(fd);
        size_t pad = (size_t)((TAR_BLOCK - e->size % TAR_BLOCK) % TAR_BLOCK);
        uint8_t *dst = buf_reserve(&o->b, pad ? pad : 1);
        if (!dst) {
            rc = -1;
            goto done;
        }
        memset(dst, 0, pad);
        buf_commit(&o->b, pad);
        st->files++;
        st->bytes += (long long)e->size;
    } else if (S_ISDIR(sb.st_mode)) {
        e->type = TAR_DIR;
        if (strcmp(e->name, ".") != 0 && nlen + 1 <= TAR_NAME_MAX) {
            e->name[nlen] = '/';
            e->name[nlen + 1] = '\0';
        }
        if (tar_encode_header(e, &o->b) < 0) {
            rc = -1;
            goto done;
        }
        st->dirs++;
        out_flush(o, 0);
        size_t count = 0;
        int err = 0;
        char **names = list_dir(fs, &count, &err);
        if (!names && err == ENOMEM) {
            rc = -1;
            goto done;
        }
        if (!names) {
            warnf(st, "%s: %s", fs, strerror(err));
            goto done;
        }
        size_t flen = strlen(fs);
        for (size_t i = 0; i < count; i++) {
            int too_long = name_cat(fs, flen, names[i]) < 0 || name_cat(name, nlen, names[i]) < 0;
            if (flen == 1 && fs[0] == '/' && !too_long) /* "/" + "/x" */
                memmove(fs + 1, fs + 2, strlen(fs + 2) + 1);
            if (too_long) {
                warnf(st, "%s/%s: path longer than %d bytes; skipped", fs, names[i], TAR_NAME_MAX);
                st->skipped++;
            } else if (rc == 0) {
                rc = emit(o, st, fs, name, 0);
            }
            fs[flen] = '\0';
            name[nlen] = '\0';
            free(names[i]);
        }
        free(names);
    } else if (S_ISLNK(sb.st_mode)) {
        ssize_t n = readlink(fs, e->link, TAR_NAME_MAX);
        if (n < 0 || n >= TAR_NAME_MAX) {
            warnf(st, "%s: cannot read the link: %s", fs, n < 0 ? strerror(errno) : "too long");
            st->skipped++;
            goto done;
        }
        e->link[n] = '\0';
        e->type = TAR_SYMLINK;
        rc = tar_encode_header(e, &o->b);
        st->symlinks++;
    } else if (S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) || S_ISFIFO(sb.st_mode)) {
        e->type = S_ISCHR(sb.st_mode) ? TAR_CHAR : S_ISBLK(sb.st_mode) ? TAR_BLOCKDEV : TAR_FIFO;
        e->devmajor = major(sb.st_rdev);
        e->devminor = minor(sb.st_rdev);
        rc = tar_encode_header(e, &o->b);
        st->others++;
    } else {
        warnf(st, "%s: a socket; skipped", fs);
        st->skipped++;
    }
done:
    free(e);
    out_flush(o, 0);
    if (rc < 0)
        out_oom();
    return rc;
}

/* Takes the host's TCP connection as fd target_fd when the job offers one. Returns 0, or a verdict's exit code. */
static int take_route(const struct file_copy_job *job, int target_fd)
{
    if (job->listen_fd < 0)
        return 0;
    if (copy_tcp_await(HELPER_PASSED_FD, job->token, target_fd) < 0)
        return exit_code(fail(ERR_IO, "taking the host's connection: %s", strerror(errno)));
    return 0;
}

int file_read_main(const void *arg)
{
    const struct file_copy_job *job = arg;
    const char *path = job->path;
    int routed = take_route(job, STDOUT_FILENO);
    if (routed)
        return routed;
    char *fs = calloc(1, TAR_NAME_MAX + 2);
    char *name = calloc(1, TAR_NAME_MAX + 2);
    struct stats st = { 0 };
    struct out o = { { 0 } };
    if (!fs || !name)
        return exit_code(out_oom());
    size_t len = strlen(path);
    if (len > TAR_NAME_MAX)
        return exit_code(fail(ERR_BAD_REQUEST, "path of %zu bytes is longer than %d", len, TAR_NAME_MAX));
    memcpy(fs, path, len + 1);
    while (len > 1 && fs[len - 1] == '/')
        fs[--len] = '\0';
    /* "DIR/." and "/" mean the directory's contents: archive names start with "./". */
    int contents = strcmp(fs, "/") == 0 || (len >= 2 && strcmp(fs + len - 2, "/.") == 0) || strcmp(fs, ".") == 0;
    if (contents && strcmp(fs, "/") != 0) {
        fs[len - 1] = '\0';
        len--;
        while (len > 1 && fs[len - 1] == '/')
            fs[--len] = '\0';
    }
    if (contents) {
        struct stat sb;
        if (stat(fs, &sb) < 0)
            return exit_code(fail(errno == ENOENT ? ERR_NOT_FOUND : ERR_IO, "%s: %s", fs, strerror(errno)));
        if (!S_ISDIR(sb.st_mode))
            return exit_code(fail(ERR_BAD_REQUEST, "%s is not a directory, so it has no contents to copy", fs));
        strcpy(name, ".");
    } else {
        const char *slash = strrchr(fs, '/');
        strcpy(name, slash ? slash + 1 : fs);
    }
    if (emit(&o, &st, fs, name, 1) < 0)
        return 1;
    if (tar_encode_end(&o.b) < 0)
        return exit_code(out_oom());
    out_flush(&o, 1);
    return exit_code(succeed(&st));
}

/* --- file.write: tar on stdin → a tree --- */

struct dir_attr {
    char *path; /* relative to the base directory */
    struct tar_entry meta;
};

struct extract {
    int base_fd;
    const char *leaf;     /* the archive's top-level name is renamed to this (destination did not exist) */
    char root[256];       /* that top-level name, once seen */
    int root_seen;
    struct dir_attr *dirs;
    size_t n_dirs, cap_dirs;
    struct stats st;
    /* The last parent open_parent walked to (relative to base) and its fd, -1 for none: consecutive entries of
     * one directory skip the walk. Entries never replace a directory, so the path keeps naming that directory. */
    char parent[TAR_NAME_MAX + 1];
    int parent_fd;
    /* Workers creating small files (extract_pool.c), started at the first one when there are several CPUs. */
    struct extract_pool *pool;
    int pool_tried;
};

/*
 * Maps an archive name to a path relative to the base directory: refuses absolute names and "..", drops "." and
 * empty components, renames the top-level component to x->leaf. Returns 1 (mapped into out), 0 (the entry is the
 * destination directory itself: leave it alone), -1 (refused; verdict written).
 */
static int map_name(struct extract *x, const char *name, char *out, size_t out_len)
{
    if (name[0] == '/')
        return fail(ERR_UNSAFE_PATH, "refusing the absolute path %s in the archive", name);
    char tmp[TAR_NAME_MAX + 1];
    snprintf(tmp, sizeof tmp, "%s", name);
    char *save = NULL;
    size_t len = 0;
    out[0] = '\0';
    int first = 1;
    for (char *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, "..") == 0)
            return fail(ERR_UNSAFE_PATH, "refusing %s: it climbs out of the destination with ..", name);
        const char *comp = c;
        if (first) {
            first = 0;
            if (x->leaf) {
                if (!x->root_seen) {
                    snprintf(x->root, sizeof x->root, "%s", c);
                    x->root_seen = 1;
                } else if (strcmp(x->root, c) != 0) {
                    return fail(ERR_UNSAFE_PATH, "the archive has more than one top-level entry (%s and %s); copy "
                                "into an existing directory instead", x->root, c);
                }
                comp = x->leaf;
            }
        }
        if (strcmp(comp, ".") == 0)
            continue;
        size_t c_len = strlen(comp);
        if (len + (len ? 1 : 0) + c_len >= out_len)
            return fail(ERR_BAD_ARCHIVE, "name %s is too long", name);
        if (len)
            out[len++] = '/';
        memcpy(out + len, comp, c_len + 1);
        len += c_len;
    }
    if (first)
        return fail(ERR_BAD_ARCHIVE, "an entry has an empty name");
    return len > 0 ? 1 : 0;
}

/*
 * Opens the directory that will hold rel's last component, creating missing parents, never following a symlink.
 * *leaf points at the last component inside rel. Returns the fd, or -1 (verdict written).
 */
static int open_parent(struct extract *x, char *rel, const char **leaf, const char *entry)
{
    char *last = strrchr(rel, '/');
    size_t plen = last ? (size_t)(last - rel) : 0;
    if (x->parent_fd >= 0 && strlen(x->parent) == plen && memcmp(x->parent, rel, plen) == 0) {
        int fd = dup(x->parent_fd);
        if (fd < 0)
            return fail(ERR_IO, "dup: %s", strerror(errno));
        *leaf = last ? last + 1 : rel;
        return fd;
    }
    int fd = dup(x->base_fd);
    if (fd < 0)
        return fail(ERR_IO, "dup: %s", strerror(errno));
    char *p = rel;
    for (char *slash; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
        *slash = '\0';
        int next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT) {
            if (mkdirat(fd, p, 0755) < 0 && errno != EEXIST) {
                fail(ERR_IO, "%s: cannot create directory %s: %s", entry, rel, strerror(errno));
                *slash = '/';
                close(fd);
                return -1;
            }
            next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            int e = errno;
            if (e == ELOOP || e == ENOTDIR)
                fail(ERR_UNSAFE_PATH, "refusing %s: %s is a symlink or not a directory", entry, rel);
            else
                fail(ERR_IO, "%s: %s: %s", entry, rel, strerror(e));
            *slash = '/';
            close(fd);
            return -1;
        }
        *slash = '/';
        close(fd);
        fd = next;
    }
    *leaf = p;
    int keep = dup(fd);
    if (keep >= 0) {
        if (x->parent_fd >= 0)
            close(x->parent_fd);
        x->parent_fd = keep;
        memcpy(x->parent, rel, plen);
        x->parent[plen] = '\0';
    }
    return fd;
}

/* Clears what stands where a non-directory goes; a directory there is an error. 0, or -1 (verdict written). */
static int clear_spot(int dirfd, const char *leaf, const char *entry)
{
    struct create_error ce;
    return clear_spot_quietly(dirfd, leaf, &ce) < 0 ? fail_created(entry, &ce) : 0;
}

static void apply_times(int dirfd, const char *leaf, int fd, int64_t mtime)
{
    struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = (time_t)mtime } };
    if (fd >= 0)
        futimens(fd, ts);
    else
        utimensat(dirfd, leaf, ts, AT_SYMLINK_NOFOLLOW);
}

/* Ownership as recorded: applied when we may (root), silently kept as ours when we may not. */
static void apply_owner(int dirfd, const char *leaf, int fd, const struct tar_entry *e)
{
    if (fd >= 0)
        (void)!fchown(fd, e->uid, e->gid);
    else
        (void)!fchownat(dirfd, leaf, e->uid, e->gid, AT_SYMLINK_NOFOLLOW);
}

/*
 * Writes n bytes of buf (WRITE_CHUNK-aligned) to fd. With *direct, a piece that O_DIRECT cannot take (a length
 * off the alignment, a file system without it) turns it off for the rest of the file. 0, or -1 with errno.
 */
static int write_chunk(int fd, const uint8_t *buf, size_t n, int *direct)
{
    if (*direct && n % DIRECT_ALIGN != 0) {
        set_direct(fd, 0);
        *direct = 0;
    }
    off_t start = *direct ? lseek(fd, 0, SEEK_CUR) : 0;
    if (write_full(fd, buf, n) == 0)
        return 0;
    if (!*direct || errno != EINVAL || start < 0)
        return -1;
    set_direct(fd, 0);
    *direct = 0;
    /* The rest through the page cache, from where the direct writes stopped. */
    off_t at = lseek(fd, 0, SEEK_CUR);
    if (at < start || (size_t)(at - start) > n)
        return -1;
    return write_full(fd, buf + (at - start), n - (size_t)(at - start));
}

static struct file_meta meta_of(const struct tar_entry *e)
{
    return (struct file_meta){ .mode = e->mode, .uid = e->uid, .gid = e->gid, .mtime = e->mtime };
}

static int extract_file(struct extract *x, struct tar_reader *r, int dirfd, const char *leaf,
                        const struct tar_entry *e)
{
    struct create_error ce;
    int fd = create_exclusively(dirfd, leaf, e->mode, &ce);
    if (fd < 0)
        return fail_created(e->name, &ce);
    /* One aligned buffer for every file, so large ones can bypass the page cache (below). */
    uint8_t *chunk = chunk_buffer();
    if (!chunk) {
        close(fd);
        return out_oom();
    }
    /* Large files are written with O_DIRECT where the file system takes it: under TCG the page cache's work per
     * page makes buffered writes about four times slower. The data is on disk either way; the tail that is not
     * block-aligned is written through the page cache. */
    int direct = e->size >= DIRECT_MIN && set_direct(fd, 1) == 0;
    ssize_t n = 0;
    size_t used = 0;
    for (;;) {
        n = used < WRITE_CHUNK ? tar_read_data(r, chunk + used, WRITE_CHUNK - used) : 0;
        if (n > 0) {
            used += (size_t)n;
            continue;
        }
        if (used > 0 && write_chunk(fd, chunk, used, &direct) < 0) {
            int err = errno;
            close(fd);
            return fail(ERR_IO, "%s: write: %s", e->name, strerror(err));
        }
        used = 0;
        if (n < 0 || r->data_left == 0)
            break;
    }
    if (n < 0) {
        close(fd);
        return fail(ERR_BAD_ARCHIVE, "archive ends inside %s", e->name);
    }
    struct file_meta meta = meta_of(e);
    finish_created(fd, &meta);
    close(fd);
    x->st.files++;
    x->st.bytes += (long long)e->size;
    return 0;
}

static int remember_dir(struct extract *x, const char *rel, const struct tar_entry *e)
{
    if (x->n_dirs == x->cap_dirs) {
        size_t cap = x->cap_dirs ? x->cap_dirs * 2 : 64;
        struct dir_attr *grown = realloc(x->dirs, cap * sizeof *grown);
        if (!grown)
            return out_oom();
        x->dirs = grown;
        x->cap_dirs = cap;
    }
    struct dir_attr *d = &x->dirs[x->n_dirs];
    if (!(d->path = strdup(rel)))
        return out_oom();
    d->meta = *e;
    x->n_dirs++;
    return 0;
}

/* Waits for the pool's files; 0, or -1 with the verdict of the first that failed written. */
static int settle_pool(struct extract *x)
{
    struct create_error ce;
    const char *name;
    if (!x->pool || extract_pool_drain(x->pool, &ce, &name) == 0)
        return 0;
    return fail_created(name, &ce);
}

/* The pool for small files, started at the first: as many workers as CPUs (up to 4), none on one CPU. */
static struct extract_pool *small_file_pool(struct extract *x)
{
    if (!x->pool_tried) {
        x->pool_tried = 1;
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        if (cpus >= 2 && (x->pool = extract_pool_start(cpus < 4 ? (int)cpus : 4)) != NULL)
            pending_files = x->pool;
    }
    return x->pool;
}

static long read_entry_data(void *r, void *buf, size_t len)
{
    return (long)tar_read_data(r, buf, len);
}

static int extract_entry(struct extract *x, struct tar_reader *r, struct tar_entry *e)
{
    char rel[TAR_NAME_MAX + 1];
    int m = map_name(x, e->name, rel, sizeof rel);
    if (m < 0)
        return -1;
    if (m == 0) {
        if (e->type != TAR_DIR)
            return fail(ERR_BAD_ARCHIVE, "entry %s names the destination directory but is not a directory", e->name);
        return 0;
    }
    /* What the pool is writing stays in archive order with this entry: a hard link may name any of its files,
     * and an entry at (or below) a queued file's path waits for it. */
    if (x->pool && (e->type == TAR_HARDLINK || extract_pool_conflicts(x->pool, rel)) && settle_pool(x) < 0)
        return -1;
    const char *leaf;
    int dirfd = open_parent(x, rel, &leaf, e->name);
    if (dirfd < 0)
        return -1;
    int rc = 0;
    switch (e->type) {
    case TAR_FILE:
        if (e->size <= POOL_FILE_MAX && small_file_pool(x)) {
            struct file_meta meta = meta_of(e);
            int oom;
            /* The pool owns dirfd from here. */
            if (extract_pool_submit(x->pool, dirfd, leaf, rel, e->name, &meta, e->size, read_entry_data, r, &oom) < 0)
                return oom ? out_oom() : fail(ERR_BAD_ARCHIVE, "archive ends inside %s", e->name);
            return extract_pool_failed(x->pool) ? settle_pool(x) : 0;
        }
        rc = extract_file(x, r, dirfd, leaf, e);
        break;
    case TAR_DIR: {
        struct stat sb;
        if (fstatat(dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(sb.st_mode) && unlinkat(dirfd, leaf, 0) < 0) {
            rc = fail(ERR_IO, "%s: cannot replace the existing file: %s", e->name, strerror(errno));
            break;
        }
        if (mkdirat(dirfd, leaf, 0700) < 0 && errno != EEXIST) {
            rc = fail(ERR_IO, "%s: mkdir: %s", e->name, strerror(errno));
            break;
        }
        rc = remember_dir(x, rel, e);
        x->st.dirs++;
        break;
    }
    case TAR_SYMLINK:
        if ((rc = clear_spot(dirfd, leaf, e->name)) < 0)
            break;
        if (symlinkat(e->link, dirfd, leaf) < 0) {
            rc = fail(ERR_IO, "%s: symlink: %s", e->name, strerror(errno));
            break;
        }
        apply_owner(dirfd, leaf, -1, e);
        apply_times(dirfd, leaf, -1, e->mtime);
        x->st.symlinks++;
        break;
    case TAR_HARDLINK: {
        char target[TAR_NAME_MAX + 1];
        const char *tleaf;
        int tm = map_name(x, e->link, target, sizeof target);
        if (tm <= 0) {
            rc = tm < 0 ? -1 : (fail(ERR_UNSAFE_PATH, "%s: hard link to the destination itself", e->name));
            break;
        }
        int tfd = open_parent(x, target, &tleaf, e->name);
        if (tfd < 0) {
            rc = -1;
            break;
        }
        if ((rc = clear_spot(dirfd, leaf, e->name)) == 0 && linkat(tfd, tleaf, dirfd, leaf, 0) < 0)
            rc = fail(ERR_IO, "%s: hard link to %s: %s", e->name, e->link, strerror(errno));
        close(tfd);
        if (rc == 0)
            x->st.files++;
        break;
    }
    case TAR_FIFO:
        if ((rc = clear_spot(dirfd, leaf, e->name)) < 0)
            break;
        if (mkfifoat(dirfd, leaf, 0600) < 0) {
            rc = fail(ERR_IO, "%s: mkfifo: %s", e->name, strerror(errno));
            break;
        }
        apply_owner(dirfd, leaf, -1, e);
        fchmodat(dirfd, leaf, e->mode, 0);
        apply_times(dirfd, leaf, -1, e->mtime);
        x->st.others++;
        break;
    default:
        /* Devices and types we do not create (sparse, volume labels, ...) are counted and skipped. */
        warnf(&x->st, "%s: entry type '%c' skipped", e->name, e->type);
        x->st.skipped++;
        break;
    }
    close(dirfd);
    return rc;
}

/* Directory modes and times last, deepest first: entries written into a directory would change its mtime, and
 * a read-only mode would stop them. */
static void finish_dirs(struct extract *x)
{
    for (size_t i = x->n_dirs; i-- > 0;) {
        struct dir_attr *d = &x->dirs[i];
        const char *leaf;
        char rel[TAR_NAME_MAX + 1];
        snprintf(rel, sizeof rel, "%s", d->path);
        int dirfd = open_parent(x, rel, &leaf, d->meta.name);
        if (dirfd >= 0) {
            int fd = openat(dirfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0) {
                apply_owner(dirfd, leaf, fd, &d->meta);
                fchmod(fd, d->meta.mode);
                apply_times(dirfd, leaf, fd, d->meta.mtime);
                close(fd);
            }
            close(dirfd);
        }
        free(d->path);
    }
    free(x->dirs);
}

int file_write_main(const void *arg)
{
    const struct file_copy_job *job = arg;
    const char *path = job->path;
    int routed = take_route(job, STDIN_FILENO);
    if (routed)
        return routed;
    struct extract x = { .base_fd = -1, .parent_fd = -1 };
    umask(0); /* files are created with their own permission bits (extract_file) */
    char parent[TAR_NAME_MAX + 1];
    size_t len = strlen(path);
    if (len > TAR_NAME_MAX)
        return exit_code(fail(ERR_BAD_REQUEST, "path of %zu bytes is longer than %d", len, TAR_NAME_MAX));
    memcpy(parent, path, len + 1);
    while (len > 1 && parent[len - 1] == '/')
        parent[--len] = '\0';
    struct stat sb;
    if (stat(parent, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        /* An existing directory: the archive lands inside it, keeping its top-level name. */
        x.base_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } else {
        /* Otherwise the archive's top-level entry becomes the path itself, in its (existing) parent. */
        char *slash = strrchr(parent, '/');
        x.leaf = slash ? slash + 1 : parent;
        if (strcmp(x.leaf, ".") == 0 || strcmp(x.leaf, "..") == 0 || !*x.leaf)
            return exit_code(fail(ERR_BAD_REQUEST, "%s does not name a file or directory", path));
        static char leafbuf[TAR_NAME_MAX + 1];
        snprintf(leafbuf, sizeof leafbuf, "%s", x.leaf);
        x.leaf = leafbuf;
        if (slash == parent)
            parent[1] = '\0';
        else if (slash)
            *slash = '\0';
        else
            strcpy(parent, ".");
        x.base_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (x.base_fd < 0)
            return exit_code(fail(errno == ENOENT || errno == ENOTDIR ? ERR_NOT_FOUND : ERR_IO,
                        "directory %s: %s", parent, strerror(errno)));
    }
    if (x.base_fd < 0)
        return exit_code(fail(ERR_IO, "%s: %s", path, strerror(errno)));

    struct tar_reader r = { .fd = STDIN_FILENO };
    struct tar_entry *e = malloc(sizeof *e);
    if (!e)
        return exit_code(out_oom());
    char err[512];
    int rc;
    while ((rc = tar_next(&r, e, err, sizeof err)) == 1) {
        if (extract_entry(&x, &r, e) < 0) {
            finish_dirs(&x);
            return 1;
        }
    }
    if (rc < 0) {
        fail(ERR_BAD_ARCHIVE, "%s", err);
        finish_dirs(&x);
        return 1;
    }
    /* Directories get their modes and times after everything in them. */
    if (settle_pool(&x) < 0) {
        finish_dirs(&x);
        return 1;
    }
    finish_dirs(&x);
    if (x.pool) {
        long long files, bytes;
        extract_pool_counts(x.pool, &files, &bytes);
        x.st.files += files;
        x.st.bytes += bytes;
    }
    /* Drain what follows the end marker so the host's writes do not fail. */
    uint8_t sink[4096];
    while (read(STDIN_FILENO, sink, sizeof sink) > 0)
        ;
    return exit_code(succeed(&x.st));
}
