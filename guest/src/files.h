/*
 * file.read and file.write (docs/agent-protocol.md, "File copy"). Each runs in a helper process the agent forks
 * for the channel, so the agent's loop never blocks on a disk and a hostile archive is parsed outside it: the
 * helper reads stdin / writes stdout (pipes the agent pumps with flow control, as for exec, or a TCP connection
 * from the host, copy_tcp.h) and writes its verdict to fd 3: 'R' and the RESULT JSON, or 'E' and an ERROR's {"code","message"}.
 */
#ifndef BANGER_FILES_H
#define BANGER_FILES_H

#include <stdint.h>

#include "copy_tcp.h"

#define FILES_VERDICT_FD 3

/* What a file copy helper is asked to do: its spawn_helper argument. */
struct file_copy_job {
    const char *path;
    /* The archive over TCP: the listener (HELPER_PASSED_FD in the helper) and the token its connection must
     * present; -1 to use the pipes. */
    int listen_fd;
    uint8_t token[COPY_TOKEN_LEN];
};

/* Writes a tar of job->path (a file, or a directory tree) to stdout. Returns the helper's exit code. */
int file_read_main(const void *job);
/* Extracts the tar on stdin at job->path. Returns the helper's exit code. */
int file_write_main(const void *job);

#endif
