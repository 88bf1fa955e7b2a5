/*
 * Large file data sent to the host's TCP connection without the guest kernel copying it (MSG_ZEROCOPY): the
 * device reads the pages of the helper's buffer, and the kernel says on the socket's error queue when it is done
 * with them. Under TCG a guest's memcpy is emulated, and a copy out's large files went ~1.8x faster this way
 * (docs/agent-protocol.md). A ring of ZC_BUFFERS aligned buffers (O_DIRECT reads go straight into them); a buffer is
 * handed out again only once the kernel has released every send made from it.
 */
#ifndef BANGER_ZEROCOPY_H
#define BANGER_ZEROCOPY_H

#include <stddef.h>
#include <stdint.h>

#define ZC_BUFFERS 4

struct zc_sender;

/*
 * A sender for fd with buffers of len bytes aligned to align, or NULL when fd does not take MSG_ZEROCOPY (a pipe,
 * a kernel without it) or memory runs out: then the caller writes as usual.
 */
struct zc_sender *zc_open(int fd, size_t len, size_t align);
/* The next buffer to fill: waits until the kernel is done with what was last sent from it. NULL on error (errno). */
uint8_t *zc_buffer(struct zc_sender *z);
/*
 * Sends the first n bytes of the buffer zc_buffer last gave, all of them. Where the kernel copies anyway (it says
 * so), the rest goes with plain writes. 0, or -1 (errno: the connection failed).
 */
int zc_send(struct zc_sender *z, size_t n);

#endif
