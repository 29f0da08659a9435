/* ustack — the simulated link pair (see sim.h for the model).
 *
 * Each direction keeps its frames in a table of queue_limit slots, and a
 * binary min-heap of slot numbers ordered by (arrival, order) picks the next
 * frame to hand out. `order` is a per-direction counter taken when a frame
 * is queued, so frames arriving in the same microsecond come out in the
 * order they went in, on every run. Slot buffers are allocated on first use
 * and kept for reuse, so a busy link stops calling malloc once it has warmed
 * up and never holds more than queue_limit frames per direction.
 */
#include "sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "impair.h"
/* src/util is private to libustack; link/ reaches it from the project root,
 * which is on its include path. */
#include "util/rng.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define SIM_QUEUE_DEFAULT 1024u
/* Second seed for the b-to-a direction, so the two directions draw from
 * unrelated streams (any odd constant would do; this is 2^64 / phi). */
#define SIM_DIR_SEED_MIX UINT64_C(0x9e3779b97f4a7c15)

typedef struct sim_slot {
    uint8_t *buf;
    size_t cap, len;
    ustk_time arrival;
    uint64_t order;
} sim_slot;

/* Frames travelling one way: sent on end `from`, received on the other. */
typedef struct sim_dir {
    sim_slot *slots;
    uint32_t *heap;  /* slot numbers, a min-heap on (arrival, order) */
    uint32_t *free;  /* stack of unused slot numbers */
    uint32_t nheap, nfree;
    uint64_t next_order;
    /* The line is busy until busy_us + busy_rem / rate_bps microseconds;
     * the remainder keeps serialization exact over many frames whose
     * individual times are not whole microseconds. */
    ustk_time busy_us;
    uint64_t busy_rem;
    ustk_rng rng;
} sim_dir;

typedef struct sim_pair sim_pair;

typedef struct sim_end {
    ustk_link link; /* first, so a ustk_link * is a sim_end * */
    sim_pair *pair;
    unsigned idx;   /* 0 for a, 1 for b; sends go into dir[idx] */
} sim_end;

struct sim_pair {
    sim_end end[2];
    sim_dir dir[2];
    ustk_sim_params p; /* with the 0-means-default fields resolved */
    ustk_sim_stats stats;
    uint32_t frame_count;
    unsigned refs;
};

static int sim_send(ustk_link *l, ustk_time now, const uint8_t *frame, size_t len);
static int sim_recv(ustk_link *l, ustk_time now, uint8_t *buf, size_t cap, size_t *len);
static ustk_time sim_next_arrival(const ustk_link *l, ustk_time now);
static int sim_fd(const ustk_link *l);
static void sim_destroy(ustk_link *l);

static const ustk_link_ops sim_ops = {
    .send = sim_send,
    .recv = sim_recv,
    .next_arrival = sim_next_arrival,
    .fd = sim_fd,
    .destroy = sim_destroy,
};

void ustk_sim_params_default(ustk_sim_params *p)
{
    memset(p, 0, sizeof *p);
    p->kind = USTK_LINK_ETHERNET;
    p->latency = USTK_MS(1);
    p->rate_bps = 0;
    p->queue_limit = SIM_QUEUE_DEFAULT;
    p->seed = 1;
}

/* ---- the arrival heap ------------------------------------------------ */

static bool slot_before(const sim_dir *d, uint32_t x, uint32_t y)
{
    const sim_slot *a = &d->slots[x], *b = &d->slots[y];
    if (a->arrival != b->arrival)
        return a->arrival < b->arrival;
    return a->order < b->order;
}

static void heap_push(sim_dir *d, uint32_t slot)
{
    uint32_t i = d->nheap++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!slot_before(d, slot, d->heap[parent]))
            break;
        d->heap[i] = d->heap[parent];
        i = parent;
    }
    d->heap[i] = slot;
}

static void heap_pop(sim_dir *d)
{
    uint32_t last = d->heap[--d->nheap];
    uint32_t i = 0, n = d->nheap;
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && slot_before(d, d->heap[child + 1], d->heap[child]))
            child++;
        if (!slot_before(d, d->heap[child], last))
            break;
        d->heap[i] = d->heap[child];
        i = child;
    }
    if (n > 0)
        d->heap[i] = last;
}

/* ---- one direction --------------------------------------------------- */

static int dir_init(sim_dir *d, uint32_t limit, uint64_t seed)
{
    d->slots = calloc(limit, sizeof *d->slots);
    d->heap = calloc(limit, sizeof *d->heap);
    d->free = calloc(limit, sizeof *d->free);
    if (!d->slots || !d->heap || !d->free)
        return USTK_ENOMEM;
    /* Hand out low slot numbers first: purely cosmetic, but it keeps the
     * memory a lightly loaded link touches small. */
    for (uint32_t i = 0; i < limit; i++)
        d->free[i] = limit - 1 - i;
    d->nfree = limit;
    ustk_rng_seed(&d->rng, seed);
    return 0;
}

static void dir_fini(sim_dir *d, uint32_t limit)
{
    if (d->slots)
        for (uint32_t i = 0; i < limit; i++)
            free(d->slots[i].buf);
    free(d->slots);
    free(d->heap);
    free(d->free);
}

/* Take a free slot and copy the frame into it; returns the slot number or
 * UINT32_MAX when none is free or memory ran out (*err says which). */
static uint32_t dir_store(sim_dir *d, const uint8_t *frame, size_t len, int *err)
{
    if (d->nfree == 0) {
        *err = USTK_ENOBUFS;
        return UINT32_MAX;
    }
    uint32_t s = d->free[d->nfree - 1];
    sim_slot *slot = &d->slots[s];
    if (slot->cap < len) {
        uint8_t *nb = realloc(slot->buf, len);
        if (!nb) {
            *err = USTK_ENOMEM;
            return UINT32_MAX;
        }
        slot->buf = nb;
        slot->cap = len;
    }
    d->nfree--;
    memcpy(slot->buf, frame, len);
    slot->len = len;
    return s;
}

static void dir_enqueue(sim_dir *d, uint32_t s, ustk_time arrival)
{
    d->slots[s].arrival = arrival;
    d->slots[s].order = d->next_order++;
    heap_push(d, s);
}

/* Serialize a frame of len bytes sent at now; returns when its last bit
 * leaves the line, rounded up to a microsecond. */
static ustk_time dir_serialize(sim_dir *d, uint64_t rate_bps, ustk_time now, size_t len)
{
    if (rate_bps == 0)
        return now;
    if (now > d->busy_us || (now == d->busy_us && d->busy_rem == 0)) {
        d->busy_us = now; /* the line is idle: start right away */
        d->busy_rem = 0;
    }
    /* len * 8 bits take len * 8 * 10^6 / rate microseconds. The numerator is
     * at most about 5.3e11 and busy_rem < rate, so nothing overflows for any
     * rate below 2^63. */
    uint64_t num = d->busy_rem + (uint64_t)len * 8u * 1000000u;
    d->busy_us += num / rate_bps;
    d->busy_rem = num % rate_bps;
    return d->busy_us + (d->busy_rem ? 1 : 0);
}

/* ---- the pair -------------------------------------------------------- */

static bool prob_ok(double x)
{
    return isfinite(x) && x >= 0.0 && x <= 1.0;
}

static void pair_free(sim_pair *p)
{
    dir_fini(&p->dir[0], p->p.queue_limit);
    dir_fini(&p->dir[1], p->p.queue_limit);
    free(p);
}

int ustk_sim_pair_create(ustk_link **a, ustk_link **b, const ustk_sim_params *params)
{
    if (!a || !b || !params)
        return USTK_EINVAL;
    *a = *b = NULL;
    if (params->kind != USTK_LINK_ETHERNET && params->kind != USTK_LINK_IP)
        return USTK_EINVAL;
    if (!prob_ok(params->loss) || !prob_ok(params->reorder) ||
        !prob_ok(params->duplicate) || !prob_ok(params->corrupt))
        return USTK_EINVAL;
    if (params->drop_mask_len > USTK_SIM_MASK_MAX ||
        params->queue_limit > USTK_SIM_QUEUE_MAX ||
        (params->path_mtu && params->path_mtu < 68))
        return USTK_EINVAL;

    sim_pair *p = calloc(1, sizeof *p);
    if (!p)
        return USTK_ENOMEM;
    p->p = *params;
    if (p->p.queue_limit == 0)
        p->p.queue_limit = SIM_QUEUE_DEFAULT;
    if (p->p.reorder_delay == 0)
        p->p.reorder_delay = 2 * p->p.latency + USTK_MS(1);
    if (dir_init(&p->dir[0], p->p.queue_limit, p->p.seed) != 0 ||
        dir_init(&p->dir[1], p->p.queue_limit, p->p.seed ^ SIM_DIR_SEED_MIX) != 0) {
        pair_free(p);
        return USTK_ENOMEM;
    }
    for (unsigned i = 0; i < 2; i++) {
        p->end[i].link.ops = &sim_ops;
        p->end[i].link.kind = p->p.kind;
        p->end[i].pair = p;
        p->end[i].idx = i;
    }
    p->refs = 2;
    *a = &p->end[0].link;
    *b = &p->end[1].link;
    return 0;
}

/* The link is the first member of its end, so these are plain casts once
 * the ops pointer says the link is one of ours. */
static sim_end *end_of(ustk_link *l)
{
    return (sim_end *)l;
}

static const sim_end *cend_of(const ustk_link *l)
{
    return (l && l->ops == &sim_ops) ? (const sim_end *)l : NULL;
}

void ustk_sim_stats_get(const ustk_link *l, ustk_sim_stats *out)
{
    const sim_end *e = cend_of(l);
    if (e)
        *out = e->pair->stats;
    else
        memset(out, 0, sizeof *out);
}

uint32_t ustk_sim_frame_count(const ustk_link *l)
{
    const sim_end *e = cend_of(l);
    return e ? e->pair->frame_count : 0;
}

static bool in_mask(const ustk_sim_params *p, uint32_t idx)
{
    for (uint32_t i = 0; i < p->drop_mask_len; i++)
        if (p->drop_mask[i] == idx)
            return true;
    return false;
}

/* The router of sim.h: false when the frame fits the next hop (or is no
 * IPv4 packet), true when it was dropped there, answered when it had DF. */
static bool too_big(sim_pair *p, unsigned from, ustk_time now,
                    const uint8_t *frame, size_t len)
{
    size_t l2 = p->p.kind == USTK_LINK_ETHERNET ? USTK_ETH_HDR_LEN : 0;
    ustk_eth_hdr eh;
    if (l2 && (ustk_eth_parse(frame, len, &eh) != 0 ||
               eh.type != USTK_ETHERTYPE_IPV4))
        return false;
    ustk_ipv4_hdr h;
    if (ustk_ipv4_parse(frame + l2, len - l2, &h) != 0 ||
        h.total_len <= p->p.path_mtu)
        return false;
    p->stats.too_big++;
    if (!(h.frag & USTK_IPV4_DF))
        return true;
    /* The answer: the header and 8 bytes of the packet (RFC 792), the
     * next hop's MTU in the low half of the unused word (RFC 1191 §4). */
    uint8_t reply[USTK_ETH_HDR_LEN + 20 + 8 + 60 + 8];
    if (l2) {
        ustk_eth_hdr back = eh;
        memcpy(back.dst, eh.src, 6);
        memcpy(back.src, eh.dst, 6);
        ustk_eth_emit(&back, reply, sizeof reply);
    }
    ustk_icmp_hdr ic;
    memset(&ic, 0, sizeof ic);
    ic.type = USTK_ICMP_DEST_UNREACH;
    ic.code = USTK_ICMP_FRAG_NEEDED;
    ic.rest = p->p.path_mtu;
    ic.data = frame + l2;
    ic.data_len = (size_t)h.hdr_len + 8 < h.total_len ? (size_t)h.hdr_len + 8
                                                     : h.total_len;
    size_t n = ustk_icmp_emit(&ic, reply + l2 + 20, sizeof reply - l2 - 20);
    ustk_ipv4_hdr r;
    memset(&r, 0, sizeof r);
    r.total_len = (uint16_t)(20 + n);
    r.ttl = 64;
    r.proto = USTK_IP_PROTO_ICMP;
    r.src = h.dst;
    r.dst = h.src;
    ustk_ipv4_emit(&r, reply + l2, 20);
    sim_dir *back = &p->dir[1 - from];
    int err = 0;
    uint32_t s = dir_store(back, reply, l2 + 20 + n, &err);
    if (s == UINT32_MAX)
        return true; /* no room on the way back: the answer is lost */
    dir_enqueue(back, s, now + p->p.latency);
    p->stats.icmp_sent++;
    return true;
}

static int sim_send(ustk_link *l, ustk_time now, const uint8_t *frame, size_t len)
{
    sim_end *e = end_of(l);
    sim_pair *p = e->pair;
    sim_dir *d = &p->dir[e->idx];

    if (len == 0 || !frame)
        return USTK_EINVAL;
    if (len > USTK_LINK_FRAME_MAX)
        return USTK_EMSGSIZE;

    uint32_t idx = p->frame_count++;
    p->stats.sent++;

    /* Every frame draws the same values in the same order, used or not, so
     * that the seed alone decides each frame's fate (see sim.h). */
    const ustk_impair_probs probs = { p->p.loss, p->p.corrupt, p->p.duplicate,
                                      p->p.reorder };
    ustk_impair_fate fate;
    ustk_impair_draw(&d->rng, &probs, len, &fate);

    if (in_mask(&p->p, idx)) {
        p->stats.masked++;
        return 0;
    }
    if (fate.lost) {
        p->stats.lost++;
        return 0;
    }
    if (p->p.path_mtu && too_big(p, e->idx, now, frame, len))
        return 0;
    int err = 0;
    uint32_t s = dir_store(d, frame, len, &err);
    if (s == UINT32_MAX) {
        /* A full queue is a silent drop, as at a router. Running out of
         * memory is the host's problem and is reported, but the frame is
         * counted like any other that found no room. */
        p->stats.queue_drops++;
        return err == USTK_ENOBUFS ? 0 : err;
    }

    ustk_time arrival = dir_serialize(d, p->p.rate_bps, now, len) + p->p.latency;

    if (fate.corrupt) {
        d->slots[s].buf[fate.bit / 8] ^= (uint8_t)(1u << (fate.bit % 8));
        p->stats.corrupted++;
    }
    if (fate.reorder) {
        arrival += p->p.reorder_delay;
        p->stats.reordered++;
    }
    dir_enqueue(d, s, arrival);
    if (fate.duplicate) {
        int derr = 0;
        uint32_t s2 = dir_store(d, d->slots[s].buf, len, &derr);
        if (s2 != UINT32_MAX) {
            dir_enqueue(d, s2, arrival); /* queued later, so it comes out after */
            p->stats.duplicated++;
        }
    }
    return 0;
}

static int sim_recv(ustk_link *l, ustk_time now, uint8_t *buf, size_t cap, size_t *len)
{
    sim_end *e = end_of(l);
    sim_pair *p = e->pair;
    sim_dir *d = &p->dir[1 - e->idx];

    if (d->nheap == 0 || d->slots[d->heap[0]].arrival > now)
        return USTK_EAGAIN;
    uint32_t s = d->heap[0];
    sim_slot *slot = &d->slots[s];
    if (slot->len > cap)
        return USTK_EMSGSIZE;
    memcpy(buf, slot->buf, slot->len);
    *len = slot->len;
    heap_pop(d);
    d->free[d->nfree++] = s;
    p->stats.delivered++;
    return 0;
}

static ustk_time sim_next_arrival(const ustk_link *l, ustk_time now)
{
    const sim_end *e = (const sim_end *)l;
    const sim_dir *d = &e->pair->dir[1 - e->idx];
    (void)now;
    return d->nheap ? d->slots[d->heap[0]].arrival : USTK_TIME_NEVER;
}

static int sim_fd(const ustk_link *l)
{
    (void)l;
    return -1;
}

static void sim_destroy(ustk_link *l)
{
    sim_end *e = end_of(l);
    sim_pair *p = e->pair;
    if (--p->refs == 0)
        pair_free(p);
}
