/* A byte ring buffer over caller-provided storage. TCP's send buffer keeps
 * unacknowledged and unsent bytes in one ring (peek at an offset to
 * retransmit, discard when acknowledged); the receive buffer keeps bytes the
 * application has not read. No allocation happens here.
 *
 * Every call clamps to what fits and reports how much it did; nothing ever
 * touches memory outside the storage. The head is never moved back to the
 * start when the ring empties, because bytes placed ahead of the stream by
 * ustk_ring_write_at() must stay where they are until they are committed. */
#ifndef USTK_UTIL_RING_H
#define USTK_UTIL_RING_H

#include <stddef.h>
#include <stdint.h>

typedef struct ustk_ring {
    uint8_t *buf;
    uint32_t cap;  /* any size > 0; need not be a power of two */
    uint32_t head; /* index of the oldest byte */
    uint32_t len;  /* bytes stored */
} ustk_ring;

/* storage must hold at least cap bytes and outlive the ring. */
void ustk_ring_init(ustk_ring *r, uint8_t *storage, uint32_t cap);
static inline uint32_t ustk_ring_len(const ustk_ring *r) { return r->len; }
static inline uint32_t ustk_ring_space(const ustk_ring *r) { return r->cap - r->len; }
/* Append up to n bytes; returns how many were taken. */
uint32_t ustk_ring_write(ustk_ring *r, const void *src, uint32_t n);
/* Write n bytes at offset off past the end of the stored bytes, without
 * changing len (for out-of-order data placed ahead of the stream).
 * Returns how many fit inside the free space, which is 0 when off is at or
 * beyond ustk_ring_space(). */
uint32_t ustk_ring_write_at(ustk_ring *r, uint32_t off, const void *src, uint32_t n);
/* Make n bytes already placed by ustk_ring_write_at() part of the stream.
 * n is clamped to the free space. */
void ustk_ring_commit(ustk_ring *r, uint32_t n);
/* Copy up to n bytes starting off bytes after head, without removing them.
 * Returns how many were copied: 0 when off is at or beyond the length. */
uint32_t ustk_ring_peek(const ustk_ring *r, uint32_t off, void *dst, uint32_t n);
/* Where the stored bytes [off, off + n) are: up to two contiguous pieces
 * (the second when they wrap around the end of the storage), for a caller
 * that copies them itself. Returns how many bytes the pieces hold,
 * clamped as ustk_ring_peek() clamps; len[1] is 0 when there is one. */
uint32_t ustk_ring_spans(const ustk_ring *r, uint32_t off, uint32_t n,
                         const uint8_t *p[2], uint32_t len[2]);
/* Where [off, off + n) of the free space past the stored bytes is (the
 * bytes ustk_ring_write_at() would write), clamped to the free space, as
 * up to two pieces. Returns how many bytes the pieces hold. */
uint32_t ustk_ring_free_spans(ustk_ring *r, uint32_t off, uint32_t n,
                              uint8_t *p[2], uint32_t len[2]);
/* Remove up to n bytes from the head; returns how many were removed. */
uint32_t ustk_ring_discard(ustk_ring *r, uint32_t n);
/* Copy out and remove up to n bytes. */
uint32_t ustk_ring_read(ustk_ring *r, void *dst, uint32_t n);

#endif
