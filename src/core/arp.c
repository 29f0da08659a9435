/* ARP (RFC 826): a small cache, requests with retries, replies, and a
 * bounded queue of packets per neighbour waiting for resolution. The cache
 * is a short array (cfg.arp_entries): neighbours on one link are few, and
 * this is never scanned per connection. */
#include <string.h>

#include "stack_priv.h"
#include "tcp_priv.h"
#include "wire/arp.h"
#include "wire/eth.h"

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

int ustk__arp_init(ustk_stack *s)
{
    size_t n = s->cfg.arp_entries;
    s->arp = ustk__alloc(s, sizeof(*s->arp) * n);
    if (!s->arp)
        return USTK_ENOMEM;
    memset(s->arp, 0, sizeof(*s->arp) * n);
    s->arp_next = USTK_TIME_NEVER;
    return 0;
}

void ustk__arp_fini(ustk_stack *s)
{
    if (!s->arp)
        return;
    for (uint32_t i = 0; i < s->cfg.arp_entries; i++)
        ustk__pktq_fini(s, &s->arp[i].waiting);
    ustk__free(s, s->arp);
    s->arp = NULL;
}

static void trace_arp(ustk_stack *s, uint16_t op, bool sent, uint32_t ip,
                      const uint8_t *mac)
{
    if (!s->cfg.trace)
        return;
    ustk_trace_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = USTK_TRACE_ARP;
    ev.now = s->now;
    ev.sock = -1;
    ev.laddr = s->cfg.ip;
    ev.raddr = ip;
    ev.arp_op = op;
    ev.arp_sent = sent;
    if (mac)
        memcpy(ev.arp_mac, mac, 6);
    s->cfg.trace(s->cfg.trace_ctx, &ev);
}

/* Queue an ARP packet as a complete frame on the control queue. */
static bool arp_send(ustk_stack *s, uint16_t op, const uint8_t *dst_mac,
                     const uint8_t *tha, uint32_t tpa)
{
    ustk_pkt *p = ustk__pktq_tail(&s->ctl);
    if (!p) {
        ustk__drop(s, USTK_DROP_TX_QUEUE_FULL, NULL, NULL, 0);
        return false;
    }
    if (!p->data && !(p->data = ustk__alloc(s, s->frame_max))) {
        ustk__drop(s, USTK_DROP_TX_QUEUE_FULL, NULL, NULL, 0);
        return false;
    }
    ustk_eth_hdr eh;
    memcpy(eh.dst, dst_mac, 6);
    memcpy(eh.src, s->cfg.mac, 6);
    eh.type = USTK_ETHERTYPE_ARP;
    ustk_eth_emit(&eh, p->data, USTK_ETH_HDR_LEN);
    ustk_arp_pkt a;
    a.op = op;
    memcpy(a.sha, s->cfg.mac, 6);
    a.spa = s->cfg.ip;
    memcpy(a.tha, tha, 6);
    a.tpa = tpa;
    ustk_arp_emit(&a, p->data + USTK_ETH_HDR_LEN, USTK_ARP_LEN);
    p->len = USTK_ETH_HDR_LEN + USTK_ARP_LEN;
    p->is_frame = true;
    ustk__pktq_push(&s->ctl);
    if (op == USTK_ARP_REQUEST)
        s->stats.arp_requests_sent++;
    else
        s->stats.arp_replies_sent++;
    trace_arp(s, op, true, tpa, op == USTK_ARP_REPLY ? s->cfg.mac : NULL);
    return true;
}

/* A gratuitous ARP request at start-up (RFC 5227 §3 announcement) tells
 * neighbours our address and shows a conflict early. */
void ustk__arp_announce(ustk_stack *s)
{
    static const uint8_t zero[6] = {0};
    arp_send(s, USTK_ARP_REQUEST, bcast, zero, s->cfg.ip);
}

static ustk_arp_entry *arp_find(ustk_stack *s, uint32_t ip)
{
    for (uint32_t i = 0; i < s->cfg.arp_entries; i++)
        if (s->arp[i].state != ARP_FREE && s->arp[i].ip == ip)
            return &s->arp[i];
    return NULL;
}

/* A free entry, else the resolved entry that expires first. Pending
 * entries are never evicted: they hold packets. */
static ustk_arp_entry *arp_victim(ustk_stack *s)
{
    ustk_arp_entry *best = NULL;
    for (uint32_t i = 0; i < s->cfg.arp_entries; i++) {
        ustk_arp_entry *e = &s->arp[i];
        if (e->state == ARP_FREE)
            return e;
        if (e->state == ARP_RESOLVED && (!best || e->expires < best->expires))
            best = e;
    }
    return best;
}

static void arp_recompute_next(ustk_stack *s)
{
    ustk_time t = USTK_TIME_NEVER;
    for (uint32_t i = 0; i < s->cfg.arp_entries; i++)
        if (s->arp[i].state == ARP_PENDING && s->arp[i].expires < t)
            t = s->arp[i].expires;
    s->arp_next = t;
}

static void arp_release(ustk_stack *s, ustk_arp_entry *e)
{
    /* Hand the waiting packets to the control queue, which frames them now
     * that the address is known. */
    for (ustk_pkt *w; (w = ustk__pktq_head(&e->waiting)) != NULL;) {
        uint8_t *out = ustk__ctl_ip_begin(s);
        if (out) {
            memcpy(out, w->data, w->len);
            ustk_pkt *c = ustk__pktq_tail(&s->ctl);
            c->len = w->len;
            c->is_frame = false;
            c->next_hop = e->ip;
            ustk__pktq_push(&s->ctl);
        } else {
            ustk__drop(s, USTK_DROP_TX_QUEUE_FULL, NULL, NULL, 0);
        }
        ustk__pktq_pop(&e->waiting);
    }
}

static void arp_update(ustk_stack *s, ustk_time now, ustk_arp_entry *e,
                       const uint8_t *mac)
{
    bool was_pending = e->state == ARP_PENDING;
    memcpy(e->mac, mac, 6);
    e->state = ARP_RESOLVED;
    e->tries = 0;
    e->expires = now + s->cfg.arp_ttl;
    e->refresh_at = e->expires;
    if (was_pending) {
        arp_release(s, e);
        /* A resolved neighbour holds no buffers: the queue is made again
         * if it is ever needed. */
        ustk__pktq_fini(s, &e->waiting);
        arp_recompute_next(s);
    }
}

void ustk__arp_input(ustk_stack *s, ustk_time now, const uint8_t *p,
                     size_t len)
{
    ustk_arp_pkt a;
    int r = ustk_arp_parse(p, len, &a);
    if (r) {
        ustk__drop(s, r, NULL, NULL, 0);
        return;
    }
    trace_arp(s, a.op, false, a.spa, a.op == USTK_ARP_REPLY ? a.sha : NULL);
    /* RFC 1122 §3.2.1.3: a loopback address never belongs to a
     * neighbour. Learning one would be harmless (127/8 is never looked
     * up here), but a reply would put it on the link, as Linux's route
     * check before replying keeps it off. */
    if (ustk__ip_is_loopback(a.spa) || ustk__ip_is_loopback(a.tpa)) {
        ustk__drop(s, USTK_DROP_ARP_LOOPBACK, NULL, NULL, 0);
        return;
    }
    /* RFC 826 "Packet reception": update the sender if we know it, and
     * add it if the packet is for us. */
    bool for_us = a.tpa == s->cfg.ip;
    ustk_arp_entry *e = a.spa ? arp_find(s, a.spa) : NULL;
    if (e) {
        arp_update(s, now, e, a.sha);
    } else if (for_us && a.spa && a.spa != s->cfg.ip) {
        e = arp_victim(s);
        if (e) {
            ustk__pktq_fini(s, &e->waiting);
            e->ip = a.spa;
            e->state = ARP_FREE;
            arp_update(s, now, e, a.sha);
        }
    }
    if (!for_us) {
        /* A packet that refreshed an entry was useful (a gratuitous
         * announcement, say); anything else was for another host. */
        if (!e)
            ustk__drop(s, a.spa == a.tpa ? USTK_DROP_ARP_ANNOUNCE
                                         : USTK_DROP_ARP_NOT_FOR_US,
                       NULL, NULL, 0);
        return;
    }
    if (a.op == USTK_ARP_REQUEST)
        arp_send(s, USTK_ARP_REPLY, a.sha, a.sha, a.spa);
}

bool ustk__arp_known(const ustk_stack *s, ustk_time now, uint32_t ip)
{
    /* What ustk__arp_lookup() would hand out at once: resolved, and not
     * past the grace of a refresh. */
    ustk_time grace = s->cfg.arp_retry * (s->cfg.arp_max_retries + 1);
    for (uint32_t i = 0; i < s->cfg.arp_entries; i++) {
        const ustk_arp_entry *e = &s->arp[i];
        if (e->state == ARP_RESOLVED && e->ip == ip)
            return now < e->expires + grace;
    }
    return false;
}

const uint8_t *ustk__arp_lookup(ustk_stack *s, ustk_time now, uint32_t ip,
                                const uint8_t *hold, uint32_t hold_len)
{
    ustk_arp_entry *e = arp_find(s, ip);
    if (e && e->state == ARP_RESOLVED) {
        if (now < e->expires)
            return e->mac;
        /* Stale but in use: keep sending to the address we know while
         * asking again (RFC 1122 §2.3.2.1 prefers refreshing to flushing);
         * only when the refresh goes unanswered do packets wait. */
        ustk_time grace = s->cfg.arp_retry * (s->cfg.arp_max_retries + 1);
        if (now < e->expires + grace) {
            if (now >= e->refresh_at) {
                static const uint8_t zero[6] = {0};
                arp_send(s, USTK_ARP_REQUEST, bcast, zero, e->ip);
                e->refresh_at = now + s->cfg.arp_retry;
            }
            return e->mac;
        }
        e->state = ARP_PENDING;
        e->tries = 0;
        e->expires = now;
    }
    if (!e) {
        e = arp_victim(s);
        if (!e) {
            ustk__drop(s, USTK_DROP_ARP_QUEUE_FULL, NULL, NULL, 0);
            return NULL;
        }
        ustk__pktq_fini(s, &e->waiting);
        memset(e, 0, sizeof(*e));
        e->ip = ip;
        e->state = ARP_PENDING;
        e->expires = now;
    }
    if (hold) {
        if (!e->waiting.v &&
            ustk__pktq_init(s, &e->waiting, s->cfg.arp_queue) != 0) {
            ustk__drop(s, USTK_DROP_ARP_QUEUE_FULL, NULL, NULL, 0);
        } else {
            ustk_pkt *w = ustk__pktq_tail(&e->waiting);
            if (w && !w->data)
                w->data = ustk__alloc(s, s->frame_max);
            if (w && w->data) {
                memcpy(w->data, hold, hold_len);
                w->len = hold_len;
                w->next_hop = ip;
                ustk__pktq_push(&e->waiting);
            } else {
                ustk__drop(s, USTK_DROP_ARP_QUEUE_FULL, NULL, NULL, 0);
            }
        }
    }
    if (e->expires <= now)
        ustk__arp_timers(s, now);
    return NULL;
}

void ustk__arp_timers(ustk_stack *s, ustk_time now)
{
    static const uint8_t zero[6] = {0};
    for (uint32_t i = 0; i < s->cfg.arp_entries; i++) {
        ustk_arp_entry *e = &s->arp[i];
        if (e->state != ARP_PENDING || e->expires > now)
            continue;
        if (e->tries >= s->cfg.arp_max_retries) {
            /* RFC 1122 §2.3.2.1: give up; the packets are lost and the
             * connections waiting on them learn the host is unreachable. */
            uint32_t ip = e->ip;
            for (ustk_pkt *w; (w = ustk__pktq_head(&e->waiting)) != NULL;) {
                ustk__icmp_local_unreachable(s, w->data, w->len);
                ustk__drop(s, USTK_DROP_ARP_UNRESOLVED, NULL, NULL, 0);
                ustk__pktq_pop(&e->waiting);
            }
            ustk__pktq_fini(s, &e->waiting);
            e->state = ARP_FREE;
            ustk__tcp_unreachable(s, now, ip, USTK_EHOSTUNREACH);
            continue;
        }
        if (arp_send(s, USTK_ARP_REQUEST, bcast, zero, e->ip)) {
            e->tries++;
            e->expires = now + s->cfg.arp_retry;
        } else {
            e->expires = now + s->cfg.arp_retry;
        }
    }
    arp_recompute_next(s);
}
