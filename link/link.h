/* ustack — link drivers.
 *
 * A link moves frames between a stack and a medium: a simulated wire, a TAP
 * or TUN device, or another link it decorates (pcap recording, impairment).
 * Links may use the operating system; the core library never does.
 */
#ifndef USTK_LINK_H
#define USTK_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ustack/ustack.h"

/* The largest frame any link carries: an IP packet of 65535 bytes behind a
 * 14-byte Ethernet header. Links reject larger frames with USTK_EMSGSIZE, so
 * a buffer of this size always holds whatever ustk_link_recv() returns. */
#define USTK_LINK_FRAME_MAX (65535u + 14u)

typedef struct ustk_link ustk_link;

typedef struct ustk_link_ops {
    /* Send one frame at time now. Returns 0, or a USTK_E* error (the frame
     * is lost; links may also drop frames silently by design, as a wire
     * does). */
    int (*send)(ustk_link *l, ustk_time now, const uint8_t *frame, size_t len);
    /* Receive the next frame that has arrived by `now`. Returns 0 with
     * *len set, USTK_EAGAIN when none has, USTK_EMSGSIZE if cap is small. */
    int (*recv)(ustk_link *l, ustk_time now, uint8_t *buf, size_t cap,
                size_t *len);
    /* When the next frame arrives (simulated links), USTK_TIME_NEVER when
     * none is in flight or the link cannot know (real devices). */
    ustk_time (*next_arrival)(const ustk_link *l, ustk_time now);
    /* A file descriptor to wait on for readability, or -1. */
    int (*fd)(const ustk_link *l);
    void (*destroy)(ustk_link *l);
    /* Optional, for links that do offloads (a TAP or TUN device with
     * virtio-net headers); NULL elsewhere. send_meta sends a frame with
     * what the link must still do to it (cut a TSO segment, complete a
     * checksum: ustk_frame_meta); recv_meta receives one with what the
     * link says of it (checksums verified or partial, coalesced). */
    int (*send_meta)(ustk_link *l, ustk_time now, const uint8_t *frame,
                     size_t len, const ustk_frame_meta *m);
    int (*recv_meta)(ustk_link *l, ustk_time now, uint8_t *buf, size_t cap,
                     size_t *len, ustk_frame_meta *m);
    /* Optional: hand the medium the frames send() has queued (a device
     * link that writes many frames with one system call); NULL where
     * send() sends at once. Returns 0, or the last error of a queued
     * frame the medium refused (it is lost, as send() says). */
    int (*flush)(ustk_link *l, ustk_time now);
    /* Optional: a place of at least *cap bytes to build the next frame
     * in, which send() then takes without copying it; NULL when the link
     * has none. Valid until the next call on the link. */
    uint8_t *(*tx_buf)(ustk_link *l, size_t *cap);
} ustk_link_ops;

struct ustk_link {
    const ustk_link_ops *ops;
    ustk_link_kind kind; /* what the frames are: Ethernet or raw IP */
};

static inline int ustk_link_send(ustk_link *l, ustk_time now, const uint8_t *f, size_t n)
{
    return l->ops->send(l, now, f, n);
}
static inline int ustk_link_recv(ustk_link *l, ustk_time now, uint8_t *b, size_t cap, size_t *n)
{
    return l->ops->recv(l, now, b, cap, n);
}
/* Whether the link takes and gives per-frame offload metadata. */
static inline bool ustk_link_has_meta(const ustk_link *l)
{
    return l->ops->send_meta && l->ops->recv_meta;
}
/* With metadata (m may be NULL: a complete frame). A link without offloads
 * takes only complete frames (USTK_EINVAL otherwise). */
static inline int ustk_link_send_meta(ustk_link *l, ustk_time now,
                                      const uint8_t *f, size_t n,
                                      const ustk_frame_meta *m)
{
    if (l->ops->send_meta)
        return l->ops->send_meta(l, now, f, n, m);
    if (m && (m->flags & USTK_META_NEEDS_CSUM || m->gso_type))
        return USTK_EINVAL;
    return l->ops->send(l, now, f, n);
}
/* *m is all zero from a link without offloads. */
static inline int ustk_link_recv_meta(ustk_link *l, ustk_time now, uint8_t *b,
                                      size_t cap, size_t *n,
                                      ustk_frame_meta *m)
{
    if (l->ops->recv_meta)
        return l->ops->recv_meta(l, now, b, cap, n, m);
    memset(m, 0, sizeof(*m));
    return l->ops->recv(l, now, b, cap, n);
}
/* Whoever sends on a link flushes it before waiting: a link may hold
 * what send() took until then. */
static inline int ustk_link_flush(ustk_link *l, ustk_time now)
{
    return l->ops->flush ? l->ops->flush(l, now) : 0;
}
/* A buffer to build the next frame in (see tx_buf), or NULL. */
static inline uint8_t *ustk_link_tx_buf(ustk_link *l, size_t *cap)
{
    return l->ops->tx_buf ? l->ops->tx_buf(l, cap) : NULL;
}
static inline ustk_time ustk_link_next_arrival(const ustk_link *l, ustk_time now)
{
    return l->ops->next_arrival(l, now);
}
static inline void ustk_link_destroy(ustk_link *l)
{
    if (l)
        l->ops->destroy(l);
}

/* Move frames both ways between a stack and its link until neither has
 * anything more at `now`: everything the link has delivered goes into the
 * stack, everything the stack wants to send goes onto the link (frames the
 * link refuses are lost, as on a wire). A link with offloads gets and gives
 * the frames' metadata (ustk_input_meta(), ustk_poll_output_meta()).
 * Returns the number of frames moved in both directions. The frame buffer
 * lives on the C stack (about 64 KiB). */
size_t ustk_pump(ustk_stack *s, ustk_link *l, ustk_time now);

#endif
