/* The agent's wire format (docs/agent-protocol.md): 12-byte frame headers, frame types, limits, error codes. */
#ifndef BANGER_PROTO_H
#define BANGER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define PROTOCOL_VERSION 1
#define FRAME_MAGIC0 0xB4
#define FRAME_MAGIC1 0x6E
#define FRAME_HEADER_LEN 12
#define FRAME_MAX_PAYLOAD (1u << 20)
#define DATA_MAX_PAYLOAD 65536u
#define INITIAL_WINDOW 262144u
/* The window of file.read (output) and file.write (stdin) channels: each side grants the rest at OPEN. */
#define FILE_COPY_WINDOW (2u << 20)

enum frame_type {
    FRAME_HELLO = 0x01,
    FRAME_OPEN = 0x02,
    FRAME_STDIN = 0x10,
    FRAME_STDOUT = 0x11,
    FRAME_STDERR = 0x12,
    FRAME_EOF = 0x13,
    FRAME_SIGNAL = 0x20,
    FRAME_RESIZE = 0x21,
    FRAME_WINDOW = 0x22,
    FRAME_RESULT = 0x30,
    FRAME_ERROR = 0x31,
    FRAME_CLOSE = 0x32,
    FRAME_TRANSPORT = 0x33,
};

#define STREAM_STDIN 0
#define STREAM_STDOUT 1
#define STREAM_STDERR 2

#define ERR_BAD_FRAME "bad_frame"
#define ERR_FRAME_TOO_LARGE "frame_too_large"
#define ERR_BAD_REQUEST "bad_request"
#define ERR_CHANNEL_IN_USE "channel_in_use"
#define ERR_EXEC_FAILED "exec_failed"
#define ERR_INTERNAL "internal"
#define ERR_NOT_FOUND "not_found"
#define ERR_ALREADY_EXISTS "already_exists"
#define ERR_NOT_RUNNING "not_running"
#define ERR_STILL_RUNNING "still_running"
#define ERR_LIMIT "limit_reached"
#define ERR_UNSAFE_PATH "unsafe_path"
#define ERR_BAD_ARCHIVE "bad_archive"
#define ERR_IO "io_error"

struct frame {
    uint8_t type;
    uint8_t flags;
    uint32_t channel;
    uint32_t length;
    const uint8_t *payload;
};

static inline uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static inline void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Writes a frame header at p (FRAME_HEADER_LEN bytes). */
void frame_header_put(uint8_t *p, uint8_t type, uint32_t channel, uint32_t len);

/* Appends one frame to out. Returns 0 or -1 (no memory). */
int frame_append(struct buf *out, uint8_t type, uint32_t channel, const void *payload, uint32_t len);

/*
 * Incremental frame decoder for one stream. Raw bytes go into `in`; frame_next takes them apart: it skips bytes
 * up to the next magic (reporting each run once), reports oversized frames and then drops their payloads as
 * they arrive, and returns complete frames whose payload points into `in` until the next call.
 */
struct frame_decoder {
    struct buf in;
    uint64_t discard_left; /* payload bytes of an oversized frame still to drop */
    int in_garbage;        /* inside a run of bytes that are not a frame */
};

enum decode_result {
    DECODE_NEED_MORE,  /* nothing complete; read more bytes */
    DECODE_FRAME,      /* *f is a frame */
    DECODE_BAD_MAGIC,  /* a run of non-frame bytes started (reported once per run) */
    DECODE_TOO_LARGE,  /* *f holds the oversized frame's header (payload NULL); its payload will be dropped */
};

enum decode_result frame_next(struct frame_decoder *d, struct frame *f);
void frame_decoder_reset(struct frame_decoder *d);

#endif
