/* A byte ring over caller-provided storage. Every copy is split into at most
 * two memcpy calls, one up to the physical end of the storage and one from
 * its start, because this sits on TCP's data path and a per-byte loop would
 * cost far more than the protocol work around it.
 *
 * The head is deliberately never reset to zero when the ring empties. Bytes
 * placed ahead of the stream by ustk_ring_write_at() (out-of-order data in a
 * receive buffer) live at physical positions relative to the head; moving the
 * head would silently relocate the stream under them. */
#include "util/ring.h"

#include <string.h>

void ustk_ring_init(ustk_ring *r, uint8_t *storage, uint32_t cap)
{
    r->buf = storage;
    r->cap = cap;
    r->head = 0;
    r->len = 0;
}

/* The physical index of the byte off positions after the head. Callers keep
 * off <= cap; the subtraction form avoids the overflow that head + off could
 * reach when cap is close to 2^32. */
static uint32_t ring_index(const ustk_ring *r, uint32_t off)
{
    uint32_t to_end = r->cap - r->head;

    return off >= to_end ? off - to_end : r->head + off;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* Copy n bytes into the ring starting at physical index pos; n <= cap. */
static void copy_in(ustk_ring *r, uint32_t pos, const uint8_t *src, uint32_t n)
{
    uint32_t first = min_u32(n, r->cap - pos);

    memcpy(r->buf + pos, src, first);
    if (n > first)
        memcpy(r->buf, src + first, n - first);
}

/* Copy n bytes out of the ring starting at physical index pos; n <= cap. */
static void copy_out(const ustk_ring *r, uint32_t pos, uint8_t *dst, uint32_t n)
{
    uint32_t first = min_u32(n, r->cap - pos);

    memcpy(dst, r->buf + pos, first);
    if (n > first)
        memcpy(dst + first, r->buf, n - first);
}

uint32_t ustk_ring_write(ustk_ring *r, const void *src, uint32_t n)
{
    n = min_u32(n, ustk_ring_space(r));
    if (n == 0)
        return 0;
    copy_in(r, ring_index(r, r->len), src, n);
    r->len += n;
    return n;
}

uint32_t ustk_ring_write_at(ustk_ring *r, uint32_t off, const void *src, uint32_t n)
{
    uint32_t space = ustk_ring_space(r);

    /* Anything starting at or beyond the free space would land on stored
     * bytes after wrapping, so it does not fit at all. */
    if (off >= space)
        return 0;
    n = min_u32(n, space - off);
    if (n == 0)
        return 0;
    /* len + off < cap here, so the sum cannot overflow. */
    copy_in(r, ring_index(r, r->len + off), src, n);
    return n;
}

void ustk_ring_commit(ustk_ring *r, uint32_t n)
{
    r->len += min_u32(n, ustk_ring_space(r));
}

uint32_t ustk_ring_peek(const ustk_ring *r, uint32_t off, void *dst, uint32_t n)
{
    if (off >= r->len)
        return 0;
    n = min_u32(n, r->len - off);
    if (n == 0)
        return 0;
    copy_out(r, ring_index(r, off), dst, n);
    return n;
}

/* The n bytes from index pos on, as one piece or two around the end. */
static uint32_t spans_at(const ustk_ring *r, uint32_t pos, uint32_t n,
                         uint8_t *p[2], uint32_t len[2])
{
    uint32_t first = min_u32(n, r->cap - pos);

    p[0] = r->buf + pos;
    len[0] = first;
    if (n > first) {
        p[1] = r->buf;
        len[1] = n - first;
    }
    return n;
}

uint32_t ustk_ring_spans(const ustk_ring *r, uint32_t off, uint32_t n,
                         const uint8_t *p[2], uint32_t len[2])
{
    uint8_t *q[2] = { NULL, NULL };

    len[0] = len[1] = 0;
    if (off < r->len && (n = min_u32(n, r->len - off)) != 0)
        spans_at(r, ring_index(r, off), n, q, len);
    else
        n = 0;
    p[0] = q[0];
    p[1] = q[1];
    return n;
}

uint32_t ustk_ring_free_spans(ustk_ring *r, uint32_t off, uint32_t n,
                              uint8_t *p[2], uint32_t len[2])
{
    uint32_t space = ustk_ring_space(r);

    p[0] = p[1] = NULL;
    len[0] = len[1] = 0;
    if (off >= space || (n = min_u32(n, space - off)) == 0)
        return 0;
    return spans_at(r, ring_index(r, r->len + off), n, p, len);
}

uint32_t ustk_ring_discard(ustk_ring *r, uint32_t n)
{
    n = min_u32(n, r->len);
    r->head = ring_index(r, n);
    r->len -= n;
    return n;
}

uint32_t ustk_ring_read(ustk_ring *r, void *dst, uint32_t n)
{
    n = ustk_ring_peek(r, 0, dst, n);
    return ustk_ring_discard(r, n);
}
