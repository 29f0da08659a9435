/* A link decorator that reports every frame sent through it. */
#include "watch.h"

#include <stdlib.h>
#include <string.h>

#include "link/sim.h"

typedef struct watch {
    ustk_link base; /* first, so that a ustk_link * is a watch * */
    ustk_link *inner;
    const ustk_link *sim;
    watch_fn fn;
    void *ctx;
} watch;

static void sim_stats(const ustk_link *sim, ustk_sim_stats *st)
{
    if (sim)
        ustk_sim_stats_get(sim, st);
    else
        memset(st, 0, sizeof *st);
}

static int watch_send(ustk_link *l, ustk_time now, const uint8_t *f, size_t n)
{
    watch *w = (watch *)l;
    ustk_sim_stats a, b;
    unsigned fate = 0;
    int rc;

    sim_stats(w->sim, &a);
    rc = ustk_link_send(w->inner, now, f, n);
    sim_stats(w->sim, &b);
    if (rc != 0 || b.lost + b.masked + b.queue_drops !=
                       a.lost + a.masked + a.queue_drops)
        fate |= WATCH_LOST;
    if (b.too_big != a.too_big)
        fate |= WATCH_LOST | WATCH_TOO_BIG;
    if (b.duplicated != a.duplicated)
        fate |= WATCH_DUPLICATED;
    if (b.reordered != a.reordered)
        fate |= WATCH_DELAYED;
    if (b.corrupted != a.corrupted)
        fate |= WATCH_CORRUPTED;
    w->fn(w->ctx, now, f, n, fate);
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

static int watch_flush(ustk_link *l, ustk_time now)
{
    return ustk_link_flush(((watch *)l)->inner, now);
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
    .flush = watch_flush,
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
