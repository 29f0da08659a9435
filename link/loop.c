/* ustack — the event loop for a stack on a real device (see loop.h). */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

ustk_time ustk_clock_us(void)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer; should it,
     * time stands still rather than going backwards. */
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (ustk_time)ts.tv_sec * 1000000u + (ustk_time)ts.tv_nsec / 1000u;
}

int ustk_loop_init(ustk_loop *lp, ustk_stack *s, ustk_link *l)
{
    memset(lp, 0, sizeof *lp);
    lp->stack = s;
    lp->link = l;
    lp->buf = malloc(USTK_LINK_FRAME_MAX);
    return lp->buf ? 0 : USTK_ENOMEM;
}

void ustk_loop_fini(ustk_loop *lp)
{
    free(lp->buf);
    free(lp->fds);
    lp->buf = NULL;
    lp->fds = NULL;
    lp->nfds_cap = 0;
}

ustk_time ustk_loop_now(const ustk_loop *lp)
{
    ustk_time t = ustk_clock_us();

    return t > lp->origin ? t - lp->origin : 0;
}

static size_t flush_at(ustk_loop *lp, ustk_time now)
{
    size_t n = 0, len;
    int rc;
    ustk_frame_meta m;
    /* Offloads only where the link does them. */
    ustk_frame_meta *mp = ustk_link_has_meta(lp->link) ? &m : NULL;

    while (ustk_poll_output_meta(lp->stack, now, lp->buf, USTK_LINK_FRAME_MAX,
                                 &len, mp) == 0) {
        rc = ustk_link_send_meta(lp->link, now, lp->buf, len, mp);
        if (rc < 0) {
            /* Lost, as on a wire; TCP will send it again. */
            lp->send_errors++;
            lp->last_send_error = rc;
        } else {
            lp->frames_out++;
        }
        n++;
    }
    /* A link that batches its writes holds them until now. */
    if ((rc = ustk_link_flush(lp->link, now)) < 0) {
        lp->send_errors++;
        lp->last_send_error = rc;
    }
    return n;
}

size_t ustk_loop_flush(ustk_loop *lp)
{
    return flush_at(lp, ustk_loop_now(lp));
}

static bool stopped(const ustk_loop *lp)
{
    return lp->stop && *lp->stop;
}

/* Room for the link's descriptor and the application's. */
static int fds_reserve(ustk_loop *lp, unsigned n)
{
    struct pollfd *p;

    if (n <= lp->nfds_cap)
        return 0;
    p = realloc(lp->fds, n * sizeof *p);
    if (!p)
        return USTK_ENOMEM;
    lp->fds = p;
    lp->nfds_cap = n;
    return 0;
}

/* Take up to `batch` frames from the link into the stack. Returns 0, or the
 * link's error when it failed for a reason other than having nothing. */
static int take_frames(ustk_loop *lp, ustk_time now)
{
    unsigned batch = lp->batch ? lp->batch : USTK_LOOP_BATCH_DEFAULT;
    size_t len;
    int rc;
    ustk_frame_meta m;

    for (unsigned i = 0; i < batch; i++) {
        rc = ustk_link_recv_meta(lp->link, now, lp->buf, USTK_LINK_FRAME_MAX,
                                 &len, &m);
        if (rc == USTK_EAGAIN)
            return 0;
        if (rc < 0) {
            lp->recv_errors++;
            lp->last_recv_error = rc;
            return rc;
        }
        /* drops are counted */
        (void)ustk_input_meta(lp->stack, now, lp->buf, len, &m);
        lp->frames_in++;
    }
    return 0;
}

int ustk_loop_step(ustk_loop *lp, ustk_time max_wait)
{
    ustk_time now, due, arr, wait;
    struct timespec ts;
    int fd = lp->link->ops->fd ? lp->link->ops->fd(lp->link) : -1;
    unsigned n = 0, i;
    bool readable;
    int rc;

    if (stopped(lp))
        return 0;
    /* Output the application queued since the last step goes out first;
     * timers may fire while it does. If a socket's readiness changed
     * meanwhile (a connection failed, say), the application must look
     * before anything is waited for: nothing else may ever wake it. */
    ustk_stack_stats st;
    ustk_stack_stats_get(lp->stack, &st);
    uint64_t events0 = st.sock_events;
    now = ustk_loop_now(lp);
    flush_at(lp, now);
    ustk_stack_stats_get(lp->stack, &st);
    if (st.sock_events != events0)
        max_wait = 0;

    now = ustk_loop_now(lp);
    due = ustk_next_deadline(lp->stack, now);
    arr = ustk_link_next_arrival(lp->link, now);
    if (arr < due)
        due = arr;
    wait = due <= now ? 0 : due - now;
    if (max_wait < wait)
        wait = max_wait;

    if (fds_reserve(lp, 1 + lp->nextra) < 0)
        return -ENOMEM;
    if (fd >= 0)
        lp->fds[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
    for (i = 0; i < lp->nextra; i++) {
        lp->fds[n + i] = lp->extra[i];
        lp->fds[n + i].revents = 0;
        lp->extra[i].revents = 0;
    }
    ts.tv_sec = (time_t)(wait / 1000000u);
    ts.tv_nsec = (long)(wait % 1000000u) * 1000;
    rc = ppoll(lp->fds, n + lp->nextra, wait == USTK_TIME_NEVER ? NULL : &ts,
               lp->sigmask);
    if (rc < 0) {
        if (errno != EINTR)
            return -errno;
        /* A signal: nothing is known to be ready; the caller looks at its
         * stop flag (and at its descriptors, which it may try anyway). */
        lp->rounds++;
        return stopped(lp) ? 0 : 1;
    }
    for (i = 0; i < lp->nextra; i++)
        lp->extra[i].revents = lp->fds[n + i].revents;
    if (fd >= 0 && (lp->fds[0].revents & POLLNVAL))
        return -EBADF;

    now = ustk_loop_now(lp);
    readable = fd >= 0 && (lp->fds[0].revents & (POLLIN | POLLERR | POLLHUP));
    if (readable || ustk_link_next_arrival(lp->link, now) <= now) {
        rc = take_frames(lp, now);
        flush_at(lp, now);
        if (rc < 0 && rc != USTK_EMSGSIZE)
            return rc; /* the device went away, say: do not spin on it */
    } else {
        flush_at(lp, now); /* timers that came due during the wait */
    }
    lp->rounds++;
    return stopped(lp) ? 0 : 1;
}

int ustk_loop_run(ustk_loop *lp, ustk_loop_fn fn, void *ctx)
{
    int rc;

    for (;;) {
        rc = ustk_loop_step(lp, USTK_TIME_NEVER);
        if (rc <= 0)
            return rc;
        rc = fn(ctx, ustk_loop_now(lp));
        if (rc != 0)
            return rc;
    }
}
