/* ustack — the event loop for a stack on a real device.
 *
 * One round (ustk_loop_step) goes:
 *   1. send everything the stack has to send now (what the application
 *      queued since the last round, timers that are due);
 *   2. wait with ppoll() on the link's file descriptor and the
 *      application's own descriptors, until a frame arrives, the stack's
 *      next deadline, the link's next arrival (a decorator holding frames),
 *      the caller's bound, or a signal;
 *   3. read frames until the device has no more or `batch` of them were
 *      read, handing each to the stack;
 *   4. send what they caused,
 * and returns, so that the application does its socket work between
 * rounds. Time is CLOCK_MONOTONIC in microseconds, less `origin`, so a
 * tool can start its clock near zero (and its ladder diagrams with it).
 *
 * A signal handler stops the loop by setting *stop. With `sigmask`, the
 * wait runs under that mask: block the stopping signals everywhere else
 * and give here the mask that lets them in, and a signal can only arrive
 * during the wait, so none is missed between the check of *stop and the
 * wait (the ppoll() idiom). EINTR ends the round early; it is not an
 * error.
 */
#ifndef USTK_LINK_LOOP_H
#define USTK_LINK_LOOP_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"

#define USTK_LOOP_BATCH_DEFAULT 64u

typedef struct ustk_loop {
    ustk_stack *stack;
    ustk_link *link;
    ustk_time origin;       /* subtracted from the clock (ustk_loop_now) */
    unsigned batch;         /* frames read per round; 0 = the default */
    volatile sig_atomic_t *stop; /* set by a signal handler; may be NULL */
    const sigset_t *sigmask;     /* the mask during the wait; NULL = as is */
    /* The application's descriptors, waited on with the link's: set
     * events before a round, read revents after it (cleared when the
     * round did not wait on them). */
    struct pollfd *extra;
    unsigned nextra;

    /* Counters. */
    uint64_t rounds, frames_in;
    uint64_t frames_out;  /* frames the link took (a batching link may
                           * still refuse them when it flushes) */
    uint64_t send_errors; /* sends, and flushes, the link refused: a
                           * refused flush counts once however many
                           * frames it held; the link's own counters
                           * (ustk_tundev_stats_get) count them one by
                           * one */
    int last_send_error;
    uint64_t recv_errors;
    int last_recv_error;

    /* Internal. */
    uint8_t *buf;
    struct pollfd *fds;
    unsigned nfds_cap;
} ustk_loop;

/* CLOCK_MONOTONIC in microseconds. */
ustk_time ustk_clock_us(void);

/* Prepare a loop for a stack on a link: origin 0, the default batch, no
 * stop flag, no extra descriptors. Returns 0 or USTK_ENOMEM. The stack and
 * link stay the caller's. */
int ustk_loop_init(ustk_loop *lp, ustk_stack *s, ustk_link *l);
void ustk_loop_fini(ustk_loop *lp);

/* The loop's clock: ustk_clock_us() - origin. */
ustk_time ustk_loop_now(const ustk_loop *lp);

/* One round (see above). The wait lasts at most max_wait microseconds
 * (USTK_TIME_NEVER: no bound of the caller's). Returns 1 after a round, 0
 * when *stop was set (before or during the wait), or a negated errno when
 * waiting failed. */
int ustk_loop_step(ustk_loop *lp, ustk_time max_wait);

/* Send what the stack has to send now, without waiting. Returns the number
 * of frames sent. */
size_t ustk_loop_flush(ustk_loop *lp);

/* Rounds until fn returns non-zero (that value is returned) or *stop is set
 * (0). fn runs after every round, with the loop's time. A negated errno
 * when waiting failed. */
typedef int (*ustk_loop_fn)(void *ctx, ustk_time now);
int ustk_loop_run(ustk_loop *lp, ustk_loop_fn fn, void *ctx);

#endif
