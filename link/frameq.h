/* ustack — frames queued for one file descriptor and written by one
 * system call (io_uring).
 *
 * A device that takes one frame per write() (a TAP or TUN device; tun has
 * no sendmmsg and no writev of several frames) costs a system call per
 * frame. The queue gathers frames in slots of its own, one io_uring write
 * per frame, and flush() hands them all to the kernel with one
 * io_uring_enter(), which runs each write in that call, on this core, in
 * the order queued. The descriptor is registered with the ring where the
 * kernel allows it.
 *
 * A frame is queued by copying it into the slot that ustk__frameq_slot()
 * gives (or building it there) and calling ustk__frameq_push(). Internal
 * to link/.
 */
#ifndef USTK_LINK_FRAMEQ_H
#define USTK_LINK_FRAMEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uring.h"

typedef struct ustk__frameq {
    ustk__uring ring;
    int fd;
    bool fixed_file; /* registered with the ring */
    uint8_t *slots;
    size_t slot_size;
    unsigned nslots, queued;
} ustk__frameq;

/* What a flush did: frames the kernel took whole, their bytes, and frames
 * it refused or cut short (lost), with the last such error (a negated
 * errno, -EIO for a short write). */
typedef struct ustk__frameq_result {
    uint64_t frames, bytes, errors;
    int last_error;
} ustk__frameq_result;

/* Up to nslots frames (a power of two, 1..4096) of up to slot_size bytes
 * each, for fd (not closed by the queue). Returns 0 or a negated errno
 * (ustk__uring_init()'s, or -ENOMEM). */
int ustk__frameq_init(ustk__frameq *q, int fd, unsigned nslots,
                      size_t slot_size);
/* Frames still queued are dropped: flush first. */
void ustk__frameq_exit(ustk__frameq *q);

/* The slot for the next frame (slot_size bytes), or NULL when every slot
 * is queued (flush first). */
uint8_t *ustk__frameq_slot(ustk__frameq *q);
/* Queue the frame of len bytes (1..slot_size) written into the slot that
 * ustk__frameq_slot() gave last. */
void ustk__frameq_push(ustk__frameq *q, size_t len);

/* Write every queued frame, in order, with one io_uring_enter(), and wait
 * for all of them; adds what happened to *res. Returns 0, or a negated
 * errno when the ring itself failed (the queued frames are then lost and
 * the queue is unusable: ustk__frameq_exit() it). */
int ustk__frameq_flush(ustk__frameq *q, ustk__frameq_result *res);

#endif
