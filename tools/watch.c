/* A link decorator that reports every frame sent through it. */
#include "watch.h"

#include <stdlib.h>

#include "link/sim.h"

typedef struct watch {
    ustk_link base; /* first, so that a ustk_link * is a watch * */
    ustk_link *inner;
    const ustk_link *sim;
    watch_fn fn;
    void *ctx;
} watch;

static uint64_t sim_losses(const ustk_link *sim)
{
    ustk_sim_stats st;

    if (!sim)
        return 0;
    ustk_sim_stats_get(sim, &st);
    return st.lost + st.masked + st.queue_drops;
}

static int watch_send(ustk_link *l, ustk_time now, const uint8_t *f, size_t n)
{
    watch *w = (watch *)l;
    uint64_t before = sim_losses(w->sim);
    int rc = ustk_link_send(w->inner, now, f, n);

    w->fn(w->ctx, now, f, n, rc != 0 || sim_losses(w->sim) != before);
    return rc;
}

static int watch_recv(ustk_link *l, ustk_time now, uint8_t *buf, size_t cap,
                      size_t *len)
{
    return ustk_link_recv(((watch *)l)->inner, now, buf, cap, len);
}

static ustk_time watch_next_arrival(const ustk_link *l, ustk_time now)
{
    return ustk_link_next_arrival(((const watch *)l)->inner, now);
}

static int watch_fd(const ustk_link *l)
{
    const ustk_link *in = ((const watch *)l)->inner;

    return in->ops->fd ? in->ops->fd(in) : -1;
}

static void watch_destroy(ustk_link *l)
{
    watch *w = (watch *)l;

    ustk_link_destroy(w->inner);
    free(w);
}

static const ustk_link_ops watch_ops = {
    .send = watch_send,
    .recv = watch_recv,
    .next_arrival = watch_next_arrival,
    .fd = watch_fd,
    .destroy = watch_destroy,
};

int watch_link_create(ustk_link **out, ustk_link *inner, const ustk_link *sim,
                      watch_fn fn, void *ctx)
{
    watch *w = calloc(1, sizeof *w);

    if (!w)
        return USTK_ENOMEM;
    w->base.ops = &watch_ops;
    w->base.kind = inner->kind;
    w->inner = inner;
    w->sim = sim;
    w->fn = fn;
    w->ctx = ctx;
    *out = &w->base;
    return 0;
}
