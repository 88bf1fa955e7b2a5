/*
 * file.read and file.write (docs/agent-protocol.md, "File copy"). Each runs in a helper process the agent forks
 * for the channel, so the agent's loop never blocks on a disk and a hostile archive is parsed outside it: the
 * helper reads stdin / writes stdout (pipes the agent pumps with flow control, as for exec) and writes its
 * verdict to fd 3: 'R' and the RESULT JSON, or 'E' and an ERROR's {"code","message"}.
 */
#ifndef BANGER_FILES_H
#define BANGER_FILES_H

#define FILES_VERDICT_FD 3

/* Writes a tar of path (a file, or a directory tree) to stdout. Returns the helper's exit code. */
int file_read_main(const char *path);
/* Extracts the tar on stdin at path. Returns the helper's exit code. */
int file_write_main(const char *path);

#endif
