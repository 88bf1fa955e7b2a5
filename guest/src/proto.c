#include "proto.h"

#include <string.h>

void frame_header_put(uint8_t *p, uint8_t type, uint32_t channel, uint32_t len)
{
    p[0] = FRAME_MAGIC0;
    p[1] = FRAME_MAGIC1;
    p[2] = type;
    p[3] = 0;
    put_u32(p + 4, channel);
    put_u32(p + 8, len);
}

int frame_append(struct buf *out, uint8_t type, uint32_t channel, const void *payload, uint32_t len)
{
    uint8_t *p = buf_reserve(out, FRAME_HEADER_LEN + (size_t)len);
    if (!p)
        return -1;
    frame_header_put(p, type, channel, len);
    if (len)
        memcpy(p + FRAME_HEADER_LEN, payload, len);
    buf_commit(out, FRAME_HEADER_LEN + (size_t)len);
    return 0;
}

void frame_decoder_reset(struct frame_decoder *d)
{
    buf_clear(&d->in);
    d->discard_left = 0;
    d->in_garbage = 0;
}

enum decode_result frame_next(struct frame_decoder *d, struct frame *f)
{
    struct buf *in = &d->in;
    if (d->discard_left > 0) {
        size_t n = buf_avail(in);
        if (n > d->discard_left)
            n = (size_t)d->discard_left;
        buf_consume(in, n);
        d->discard_left -= n;
        if (d->discard_left > 0)
            return DECODE_NEED_MORE;
    }
    size_t avail;
    const uint8_t *p;
again:
    avail = buf_avail(in);
    p = buf_head(in);
    if (avail >= 1 && (p[0] != FRAME_MAGIC0 || (avail >= 2 && p[1] != FRAME_MAGIC1))) {
        /* Not at a frame: drop bytes up to the next magic (or keep a trailing first magic byte). */
        size_t skip = 1;
        while (skip < avail) {
            if (p[skip] == FRAME_MAGIC0 && (skip + 1 == avail || p[skip + 1] == FRAME_MAGIC1))
                break;
            skip++;
        }
        buf_consume(in, skip);
        if (!d->in_garbage) {
            d->in_garbage = 1;
            return DECODE_BAD_MAGIC;
        }
        goto again;
    }
    if (avail < FRAME_HEADER_LEN)
        return DECODE_NEED_MORE;
    d->in_garbage = 0;
    f->type = p[2];
    f->flags = p[3];
    f->channel = get_u32(p + 4);
    f->length = get_u32(p + 8);
    f->payload = NULL;
    if (f->length > FRAME_MAX_PAYLOAD) {
        buf_consume(in, FRAME_HEADER_LEN);
        d->discard_left = f->length;
        return DECODE_TOO_LARGE;
    }
    if (avail < FRAME_HEADER_LEN + (size_t)f->length)
        return DECODE_NEED_MORE;
    f->payload = p + FRAME_HEADER_LEN;
    /* Consumed now; the bytes stay in place until the next read appends (which may move them). */
    buf_consume(in, FRAME_HEADER_LEN + (size_t)f->length);
    return DECODE_FRAME;
}
