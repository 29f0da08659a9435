/* ustack — frames written in batches through io_uring (see frameq.h). */
#include "frameq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

int ustk__frameq_init(ustk__frameq *q, int fd, unsigned nslots,
                      size_t slot_size)
{
    int rc;

    memset(q, 0, sizeof *q);
    q->fd = fd;
    if (fd < 0 || slot_size == 0 || nslots == 0 || nslots > 4096 ||
        (nslots & (nslots - 1)))
        return -EINVAL;
    /* Slots on cache-line boundaries, so that no two frames share one. */
    q->slot_size = (slot_size + 63) & ~(size_t)63;
    q->nslots = nslots;
    if (posix_memalign((void **)&q->slots, 4096, q->slot_size * nslots) != 0) {
        q->slots = NULL;
        return -ENOMEM;
    }
    rc = ustk__uring_init(&q->ring, nslots);
    if (rc < 0) {
        free(q->slots);
        q->slots = NULL;
        return rc;
    }
    /* A registered file spares each write looking the descriptor up and
     * taking a reference (about 3% of the CPU of a TAP stream here); a
     * kernel that refuses it gets the plain descriptor. Registered
     * buffers were measured too and made no difference: the slots are
     * plain memory. */
    q->fixed_file = ustk__uring_register_files(&q->ring, &fd, 1) == 0;
    return 0;
}

void ustk__frameq_exit(ustk__frameq *q)
{
    if (q->slots)
        ustk__uring_exit(&q->ring);
    free(q->slots);
    memset(q, 0, sizeof *q);
    q->fd = -1;
}

uint8_t *ustk__frameq_slot(ustk__frameq *q)
{
    return q->queued < q->nslots ? q->slots + q->queued * q->slot_size : NULL;
}

void ustk__frameq_push(ustk__frameq *q, size_t len)
{
    uint8_t *slot = q->slots + q->queued * q->slot_size;
    /* There is always an entry: the ring has one per slot, and every
     * flush empties both. */
    struct io_uring_sqe *sqe = ustk__uring_sqe(&q->ring);

    sqe->opcode = IORING_OP_WRITE;
    sqe->fd = q->fixed_file ? 0 : q->fd;
    if (q->fixed_file)
        sqe->flags |= IOSQE_FIXED_FILE;
    sqe->addr = (uint64_t)(uintptr_t)slot;
    sqe->len = (uint32_t)len;
    sqe->off = 0; /* a device: no file position */
    sqe->user_data = len;
    q->queued++;
}

int ustk__frameq_flush(ustk__frameq *q, ustk__frameq_result *res)
{
    unsigned done = 0, want = q->queued;
    int rc;

    if (want == 0)
        return 0;
    rc = ustk__uring_submit(&q->ring, want);
    if (rc < 0)
        return rc;
    while (done < want) {
        struct io_uring_cqe *cqe = ustk__uring_cqe(&q->ring);
        if (!cqe) {
            /* Not all finished in the call (a write the kernel handed to
             * a worker): wait for the rest. */
            rc = ustk__uring_submit(&q->ring, want - done);
            if (rc < 0)
                return rc;
            continue;
        }
        if (cqe->res >= 0 && (uint64_t)cqe->res == cqe->user_data) {
            res->frames++;
            res->bytes += (uint64_t)cqe->res;
        } else {
            res->errors++;
            res->last_error = cqe->res < 0 ? cqe->res : -EIO;
        }
        ustk__uring_cqe_seen(&q->ring);
        done++;
    }
    q->queued = 0;
    return 0;
}
