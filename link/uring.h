/* ustack — a minimal io_uring of our own, for the links.
 *
 * Raw io_uring_setup() and io_uring_enter() system calls and the rings
 * mapped into memory, so that the link library needs no liburing. The
 * links use it to hand the kernel many frames in one system call: one
 * submission queue entry per frame, all submitted by one
 * io_uring_enter(). No SQPOLL: the kernel does the work in the caller's
 * system call, on the caller's core, where it is counted.
 *
 * One thread uses a ring (IORING_SETUP_SINGLE_ISSUER where the kernel has
 * it). Internal to link/ (ustk__ names).
 */
#ifndef USTK_LINK_URING_H
#define USTK_LINK_URING_H

#include <linux/io_uring.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ustk__uring {
    int fd;
    unsigned entries;      /* submission queue size */
    /* Submission ring: the kernel's head, our tail, and the tail we have
     * filled up to but not yet published (entries prepared, not given). */
    unsigned *sq_head, *sq_tail, *sq_array, sq_mask;
    unsigned sq_local;
    struct io_uring_sqe *sqes;
    /* Completion ring: our head, the kernel's tail. */
    unsigned *cq_head, *cq_tail, cq_mask;
    struct io_uring_cqe *cqes;
    void *sq_map, *cq_map;
    size_t sq_map_len, cq_map_len, sqes_len;
} ustk__uring;

/* Make a ring of `entries` submission entries (a power of two, at most
 * 4096; the completion queue is twice that). Returns 0 or a negated
 * errno (-ENOSYS: no io_uring in this kernel; -EPERM: switched off by
 * kernel.io_uring_disabled or a seccomp filter). */
int ustk__uring_init(ustk__uring *r, unsigned entries);
void ustk__uring_exit(ustk__uring *r);

/* The next free submission entry, zeroed, or NULL when all are prepared
 * and not yet submitted. */
struct io_uring_sqe *ustk__uring_sqe(ustk__uring *r);

/* How many entries are prepared and not yet submitted. */
unsigned ustk__uring_pending(const ustk__uring *r);

/* Submit the prepared entries and wait until at least wait_nr
 * completions are there. Returns the number submitted or a negated
 * errno. */
int ustk__uring_submit(ustk__uring *r, unsigned wait_nr);

/* The oldest completion not yet consumed, or NULL; then mark it consumed
 * with ustk__uring_cqe_seen(). */
struct io_uring_cqe *ustk__uring_cqe(ustk__uring *r);
void ustk__uring_cqe_seen(ustk__uring *r);

/* Register files (IORING_REGISTER_FILES): entry i of fds is then file i
 * for IOSQE_FIXED_FILE. Returns 0 or a negated errno. */
int ustk__uring_register_files(ustk__uring *r, const int *fds, unsigned n);

#endif
