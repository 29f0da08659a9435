/* ustack — seeded impairments (see impair.h for the model).
 *
 * Each direction holds its delayed frames in two FIFO rings: one for frames
 * held by `delay` alone, one for reordered frames (delay + reorder_delay).
 * The clock never goes backwards and each ring adds the same hold to every
 * frame, so each ring is already in order of due time; the next frame out
 * is the earlier of the two heads (ties go to the frame queued first). Frame
 * buffers are allocated on first use and kept for reuse.
 */
#include "impair.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* src/util is private to libustack; link/ reaches it from the project root,
 * which is on its include path. */
#include "util/rng.h"

#define IMPAIR_QUEUE_DEFAULT 1024u
/* The same mix as the simulated pair's second direction. */
#define IMPAIR_DIR_SEED_MIX UINT64_C(0x9e3779b97f4a7c15)
/* Frames taken from the inner link in one recv() while all of them are
 * being held, before the caller gets control back. */
#define IMPAIR_RECV_BURST 256u
/* Holds longer than an hour are surely a mistake (and could overflow). */
#define IMPAIR_HOLD_MAX USTK_SEC(3600)

void ustk_impair_draw(struct ustk_rng *rng, const ustk_impair_probs *p,
                      size_t len, ustk_impair_fate *out)
{
    double u_loss = ustk_rng_unit(rng);
    double u_corrupt = ustk_rng_unit(rng);
    double u_bit = ustk_rng_unit(rng);
    double u_dup = ustk_rng_unit(rng);
    double u_reorder = ustk_rng_unit(rng);
    uint64_t nbits = (uint64_t)len * 8u;

    out->lost = u_loss < p->loss;
    out->corrupt = u_corrupt < p->corrupt && nbits > 0;
    out->bit = (uint64_t)(u_bit * (double)nbits);
    if (nbits && out->bit >= nbits) /* u_bit < 1, but rounding may reach it */
        out->bit = nbits - 1;
    out->duplicate = u_dup < p->duplicate;
    out->reorder = u_reorder < p->reorder;
}

/* ---- held frames ------------------------------------------------------- */

typedef struct held {
    uint8_t *buf;
    size_t cap, len;
    ustk_time due;
    uint64_t order;
} held;

typedef struct ring {
    held *v;
    uint32_t head, n;
} ring;

enum { DIR_SEND = 0, DIR_RECV = 1 };

typedef struct idir {
    ring q[2]; /* [0] delayed, [1] reordered */
    uint32_t nheld;
    uint64_t next_order;
    ustk_rng rng;
    bool on;
    ustk_impair_stats st;
} idir;

typedef struct impair_link {
    ustk_link link; /* first, so a ustk_link * is an impair_link * */
    ustk_link *inner;
    ustk_impair_params p; /* defaults resolved */
    ustk_impair_probs probs;
    idir dir[2];
    uint8_t *scratch; /* a corrupted copy of a frame sent straight through */
} impair_link;

static int impair_send(ustk_link *l, ustk_time now, const uint8_t *frame, size_t len);
static int impair_recv(ustk_link *l, ustk_time now, uint8_t *buf, size_t cap, size_t *len);
static ustk_time impair_next_arrival(const ustk_link *l, ustk_time now);
static int impair_fd(const ustk_link *l);
static void impair_destroy(ustk_link *l);
static int impair_flush(ustk_link *l, ustk_time now);

static const ustk_link_ops impair_ops = {
    .send = impair_send,
    .recv = impair_recv,
    .next_arrival = impair_next_arrival,
    .fd = impair_fd,
    .destroy = impair_destroy,
    .flush = impair_flush,
};

void ustk_impair_params_default(ustk_impair_params *p)
{
    memset(p, 0, sizeof *p);
    p->seed = 1;
    p->dirs = USTK_IMPAIR_BOTH;
    p->queue_limit = IMPAIR_QUEUE_DEFAULT;
}

static held *ring_at(const impair_link *il, const ring *r, uint32_t i)
{
    return &r->v[(r->head + i) % il->p.queue_limit];
}

/* The held frame of a direction that is due first, or NULL. */
static held *dir_first(const impair_link *il, const idir *d, int *which)
{
    held *a = d->q[0].n ? ring_at(il, &d->q[0], 0) : NULL;
    held *b = d->q[1].n ? ring_at(il, &d->q[1], 0) : NULL;

    if (a && (!b || a->due < b->due || (a->due == b->due && a->order < b->order))) {
        *which = 0;
        return a;
    }
    *which = 1;
    return b;
}

static void dir_pop(const impair_link *il, idir *d, int which)
{
    ring *r = &d->q[which];

    r->head = (r->head + 1) % il->p.queue_limit;
    r->n--;
    d->nheld--;
}

/* Hold a copy of the frame until `due`. Returns 0, or USTK_ENOBUFS when the
 * direction is full / USTK_ENOMEM (the frame is then dropped). */
static int dir_hold(impair_link *il, idir *d, int which, const uint8_t *f,
                    size_t len, ustk_time due)
{
    ring *r = &d->q[which];
    held *h;

    if (d->nheld >= il->p.queue_limit) {
        d->st.queue_drops++;
        return USTK_ENOBUFS;
    }
    h = ring_at(il, r, r->n);
    if (h->cap < len) {
        uint8_t *nb = realloc(h->buf, len);
        if (!nb) {
            d->st.queue_drops++;
            return USTK_ENOMEM;
        }
        h->buf = nb;
        h->cap = len;
    }
    memcpy(h->buf, f, len);
    h->len = len;
    h->due = due;
    h->order = d->next_order++;
    r->n++;
    d->nheld++;
    return 0;
}

/* Hand the inner link every sent frame whose time has come. A frame the
 * inner link refuses is lost, as on a wire. */
static void flush_sends(impair_link *il, ustk_time now)
{
    idir *d = &il->dir[DIR_SEND];
    int which;
    held *h;

    while ((h = dir_first(il, d, &which)) && h->due <= now) {
        (void)ustk_link_send(il->inner, now, h->buf, h->len);
        dir_pop(il, d, which);
    }
}

static ustk_time hold_of(const impair_link *il, const ustk_impair_fate *f)
{
    return il->p.delay + (f->reorder ? il->p.reorder_delay : 0);
}

static void flip(uint8_t *f, uint64_t bit)
{
    f[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

/* ---- the decorator ----------------------------------------------------- */

static bool prob_ok(double x)
{
    return isfinite(x) && x >= 0.0 && x <= 1.0;
}

static void impair_free(impair_link *il)
{
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++) {
            ring *r = &il->dir[i].q[k];
            if (!r->v)
                continue;
            for (uint32_t j = 0; j < il->p.queue_limit; j++)
                free(r->v[j].buf);
            free(r->v);
        }
    free(il->scratch);
    free(il);
}

int ustk_impair_link_create(ustk_link **out, ustk_link *inner,
                            const ustk_impair_params *p)
{
    impair_link *il;

    if (!out || !inner || !p)
        return USTK_EINVAL;
    *out = NULL;
    if (!prob_ok(p->loss) || !prob_ok(p->reorder) || !prob_ok(p->duplicate) ||
        !prob_ok(p->corrupt) || p->dirs > USTK_IMPAIR_BOTH ||
        p->queue_limit > USTK_IMPAIR_QUEUE_MAX || p->delay > IMPAIR_HOLD_MAX ||
        p->reorder_delay > IMPAIR_HOLD_MAX)
        return USTK_EINVAL;
    il = calloc(1, sizeof *il);
    if (!il)
        return USTK_ENOMEM;
    il->p = *p;
    if (il->p.dirs == 0)
        il->p.dirs = USTK_IMPAIR_BOTH;
    if (il->p.queue_limit == 0)
        il->p.queue_limit = IMPAIR_QUEUE_DEFAULT;
    if (il->p.reorder_delay == 0)
        il->p.reorder_delay = 2 * il->p.delay + USTK_MS(1);
    il->probs = (ustk_impair_probs){ p->loss, p->corrupt, p->duplicate, p->reorder };
    for (int i = 0; i < 2; i++) {
        idir *d = &il->dir[i];
        d->on = (il->p.dirs & (i == DIR_SEND ? USTK_IMPAIR_SEND : USTK_IMPAIR_RECV)) != 0;
        ustk_rng_seed(&d->rng, i == DIR_SEND ? p->seed : p->seed ^ IMPAIR_DIR_SEED_MIX);
        for (int k = 0; k < 2; k++) {
            d->q[k].v = calloc(il->p.queue_limit, sizeof *d->q[k].v);
            if (!d->q[k].v) {
                impair_free(il);
                return USTK_ENOMEM;
            }
        }
    }
    il->link.ops = &impair_ops;
    il->link.kind = inner->kind;
    il->inner = inner;
    *out = &il->link;
    return 0;
}

void ustk_impair_stats_get(const ustk_link *l, ustk_impair_stats out[2])
{
    if (l && l->ops == &impair_ops) {
        const impair_link *il = (const impair_link *)l;
        out[0] = il->dir[DIR_SEND].st;
        out[1] = il->dir[DIR_RECV].st;
    } else {
        memset(out, 0, 2 * sizeof out[0]);
    }
}

static int impair_send(ustk_link *l, ustk_time now, const uint8_t *frame, size_t len)
{
    impair_link *il = (impair_link *)l;
    idir *d = &il->dir[DIR_SEND];
    ustk_impair_fate f;
    const uint8_t *fr = frame;
    ustk_time hold;
    int rc;

    if (!frame || len == 0)
        return USTK_EINVAL;
    if (len > USTK_LINK_FRAME_MAX)
        return USTK_EMSGSIZE;
    /* Frames held before this one and due by now leave first. */
    flush_sends(il, now);
    if (!d->on)
        return ustk_link_send(il->inner, now, frame, len);

    ustk_impair_draw(&d->rng, &il->probs, len, &f);
    d->st.frames++;
    if (f.lost) {
        d->st.lost++;
        return 0;
    }
    if (f.corrupt) {
        /* The caller's frame is const: flip a bit of a copy. */
        if (!il->scratch && !(il->scratch = malloc(USTK_LINK_FRAME_MAX)))
            return USTK_ENOMEM;
        memcpy(il->scratch, frame, len);
        flip(il->scratch, f.bit);
        fr = il->scratch;
        d->st.corrupted++;
    }
    if (f.reorder)
        d->st.reordered++;
    hold = hold_of(il, &f);
    if (hold == 0) {
        rc = ustk_link_send(il->inner, now, fr, len);
        if (f.duplicate) {
            d->st.duplicated++;
            (void)ustk_link_send(il->inner, now, fr, len);
        }
        return rc;
    }
    if (dir_hold(il, d, f.reorder, fr, len, now + hold) != 0)
        return 0; /* a full queue drops the frame, as a router would */
    if (f.duplicate && dir_hold(il, d, f.reorder, fr, len, now + hold) == 0)
        d->st.duplicated++;
    return 0;
}

static int impair_recv(ustk_link *l, ustk_time now, uint8_t *buf, size_t cap, size_t *len)
{
    impair_link *il = (impair_link *)l;
    idir *d = &il->dir[DIR_RECV];
    unsigned burst = 0;

    flush_sends(il, now);
    if (!d->on)
        return ustk_link_recv(il->inner, now, buf, cap, len);

    for (;;) {
        ustk_impair_fate f;
        ustk_time hold;
        size_t n = 0;
        int which, rc;
        held *h = dir_first(il, d, &which);

        if (h && h->due <= now) {
            if (h->len > cap)
                return USTK_EMSGSIZE;
            memcpy(buf, h->buf, h->len);
            *len = h->len;
            dir_pop(il, d, which);
            return 0;
        }
        if (burst++ == IMPAIR_RECV_BURST)
            return USTK_EAGAIN; /* the inner link still has frames: its fd
                                   stays readable, so the caller comes back */
        rc = ustk_link_recv(il->inner, now, buf, cap, &n);
        if (rc != 0)
            return rc;
        if (n == 0)
            continue;
        ustk_impair_draw(&d->rng, &il->probs, n, &f);
        d->st.frames++;
        if (f.lost) {
            d->st.lost++;
            continue;
        }
        if (f.corrupt) {
            flip(buf, f.bit);
            d->st.corrupted++;
        }
        if (f.reorder)
            d->st.reordered++;
        hold = hold_of(il, &f);
        if (hold == 0) {
            /* The copy follows at once: it is due now, so the next call
             * hands it out before reading anything new. */
            if (f.duplicate && dir_hold(il, d, 0, buf, n, now) == 0)
                d->st.duplicated++;
            *len = n;
            return 0;
        }
        if (dir_hold(il, d, f.reorder, buf, n, now + hold) == 0 && f.duplicate &&
            dir_hold(il, d, f.reorder, buf, n, now + hold) == 0)
            d->st.duplicated++;
    }
}

static ustk_time impair_next_arrival(const ustk_link *l, ustk_time now)
{
    const impair_link *il = (const impair_link *)l;
    ustk_time t = ustk_link_next_arrival(il->inner, now);
    int which;

    for (int i = 0; i < 2; i++) {
        const held *h = dir_first(il, &il->dir[i], &which);
        if (h && h->due < t)
            t = h->due;
    }
    return t;
}

static int impair_fd(const ustk_link *l)
{
    const ustk_link *in = ((const impair_link *)l)->inner;

    return in->ops->fd ? in->ops->fd(in) : -1;
}

/* Frames held here and due by now go to the inner link first, then the
 * inner link writes what it queued. */
static int impair_flush(ustk_link *l, ustk_time now)
{
    impair_link *il = (impair_link *)l;

    flush_sends(il, now);
    return ustk_link_flush(il->inner, now);
}

static void impair_destroy(ustk_link *l)
{
    impair_link *il = (impair_link *)l;

    ustk_link_destroy(il->inner);
    impair_free(il);
}
