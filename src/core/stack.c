/* The stack object: creation, the frame entry points and the scheduler that
 * decides what goes out next and when the stack next needs the caller. */
#include <stdlib.h>
#include <string.h>

#include "stack_priv.h"
#include "tcp_priv.h"
#include "udp_priv.h"
#include "util/hot.h"
#include "util/siphash.h"
#include "wire/arp.h"
#include "wire/eth.h"

static void *default_alloc(void *ctx, size_t n)
{
    (void)ctx;
    return malloc(n);
}

static void default_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

void *ustk__alloc(ustk_stack *s, size_t n)
{
    return s->cfg.alloc(s->cfg.alloc_ctx, n);
}

void ustk__free(ustk_stack *s, void *p)
{
    if (p)
        s->cfg.free(s->cfg.alloc_ctx, p);
}

void *ustk__alloc_zero(ustk_stack *s, size_t n)
{
    void *p = ustk__alloc(s, n);
    if (p)
        memset(p, 0, n);
    return p;
}

/* ---- packet queues ---- */

int ustk__pktq_init(ustk_stack *s, ustk_pktq *q, uint32_t cap)
{
    memset(q, 0, sizeof(*q));
    if (cap == 0)
        return 0;
    q->v = ustk__alloc_zero(s, sizeof(*q->v) * cap);
    if (!q->v)
        return USTK_ENOMEM;
    q->cap = cap;
    return 0;
}

void ustk__pktq_fini(ustk_stack *s, ustk_pktq *q)
{
    for (uint32_t i = 0; i < q->cap; i++)
        ustk__free(s, q->v[i].data);
    ustk__free(s, q->v);
    memset(q, 0, sizeof(*q));
}

ustk_pkt *ustk__pktq_tail(ustk_pktq *q)
{
    if (q->len == q->cap)
        return NULL;
    return &q->v[(q->head + q->len) % q->cap];
}

void ustk__pktq_push(ustk_pktq *q)
{
    q->len++;
}

ustk_pkt *ustk__pktq_head(ustk_pktq *q)
{
    return q->len ? &q->v[q->head] : NULL;
}

void ustk__pktq_pop(ustk_pktq *q)
{
    q->head = (q->head + 1) % q->cap;
    q->len--;
}

/* ---- creation ---- */

static int config_check(const ustk_config *c)
{
    if (c->link != USTK_LINK_ETHERNET && c->link != USTK_LINK_IP)
        return USTK_EINVAL;
    /* 68 is IPv4's minimum MTU (RFC 791); TCP with its options needs
     * room for a segment header, 40 option bytes and some data. */
    if (c->prefix_len > 32 || c->mtu < 128 || c->ip == 0)
        return USTK_EINVAL;
    /* 127/8 is this host's loopback network, never an interface's
     * address or a neighbour on a link (RFC 1122 §3.2.1.3). */
    if (ustk__ip_is_loopback(c->ip) || ustk__ip_is_loopback(c->gateway))
        return USTK_EINVAL;
    if (c->max_sockets == 0 || c->max_sockets > (1u << 20))
        return USTK_EINVAL;
    if (c->snd_buf < 1 || c->rcv_buf < 1 || c->snd_buf > (1u << 30) ||
        c->rcv_buf > (1u << 30))
        return USTK_EINVAL;
    if (c->ephemeral_lo == 0 || c->ephemeral_lo > c->ephemeral_hi)
        return USTK_EINVAL;
    if (c->wscale > 14 || c->rto_min == 0 || c->rto_min > c->rto_max ||
        c->rto_initial == 0)
        return USTK_EINVAL;
    if (c->link == USTK_LINK_ETHERNET && (c->arp_entries == 0 ||
                                          c->arp_retry == 0))
        return USTK_EINVAL;
    if ((!c->alloc) != (!c->free))
        return USTK_EINVAL;
    if (c->cc > USTK_CC_CUBIC || c->init_cwnd == 0 || c->init_cwnd > 1000)
        return USTK_EINVAL;
    if (c->keepalive_idle == 0 || c->keepalive_intvl == 0 ||
        c->keepalive_count == 0)
        return USTK_EINVAL;
    /* RFC 1122 §3.2.1.7: a host MUST NOT send a datagram with TTL 0. */
    if (c->ttl == 0 || c->max_routes < 2 || c->max_routes > 65536 ||
        c->frag_timeout == 0 || c->frag_max > 65536 || c->dgram_queue == 0 ||
        c->dgram_queue > 65536 || c->udp_rcv_max == 0 || c->udp_rcv_buf == 0)
        return USTK_EINVAL;
    if (c->pmtu_entries > 65536 || c->pmtu_expire == 0)
        return USTK_EINVAL;
    return 0;
}

int ustk_stack_create(ustk_stack **out, const ustk_config *cfg, ustk_time now)
{
    if (!out || !cfg)
        return USTK_EINVAL;
    *out = NULL;
    int err = config_check(cfg);
    if (err)
        return err;
    ustk_alloc_fn af = cfg->alloc ? cfg->alloc : default_alloc;
    ustk_free_fn ff = cfg->free ? cfg->free : default_free;
    ustk_stack *s = af(cfg->alloc_ctx, sizeof(*s));
    if (!s)
        return USTK_ENOMEM;
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    s->cfg.alloc = af;
    s->cfg.free = ff;
    s->now = now;
    s->netmask = cfg->prefix_len ? ~0u << (32 - cfg->prefix_len) : 0;
    s->link_hdr = cfg->link == USTK_LINK_ETHERNET ? USTK_ETH_HDR_LEN : 0;
    s->frame_max = s->link_hdr + cfg->mtu;

    /* Derive the secrets from the seed. A deployment seeds from a real
     * entropy source; simulations seed from a number to be repeatable. */
    ustk_rng_seed(&s->rng, cfg->seed);
    for (int i = 0; i < 16; i++) {
        s->isn_key[i] = (uint8_t)ustk_rng_next(&s->rng);
        s->hash_key[i] = (uint8_t)ustk_rng_next(&s->rng);
    }
    s->ip_id = (uint16_t)ustk_rng_next(&s->rng);
    uint32_t span = (uint32_t)cfg->ephemeral_hi - cfg->ephemeral_lo + 1;
    s->next_ephemeral =
        (uint16_t)(cfg->ephemeral_lo + ustk_rng_below(&s->rng, span));

    uint32_t n = cfg->max_sockets;
    s->slots = ustk__alloc_zero(s, sizeof(*s->slots) * n);
    /* Up to two connections per bucket when every socket is one: chains
     * stay short, and the table costs 4 rather than 8 bytes or more per
     * connection (the next power of two above n can be nearly 2n). */
    s->conn_mask = ustk__pow2_at_least(n / 2 + 1, 16) - 1;
    s->conn_tab =
        ustk__alloc_zero(s, sizeof(*s->conn_tab) * (s->conn_mask + 1));
    s->port_mask = ustk__pow2_at_least(n / 4 + 1, 16) - 1;
    s->port_tab =
        ustk__alloc_zero(s, sizeof(*s->port_tab) * (s->port_mask + 1));
    s->timer_slots = ustk__alloc_zero(s, sizeof(*s->timer_slots) * 16);
    if (!s->slots || !s->conn_tab || !s->port_tab || !s->timer_slots)
        goto fail;
    for (uint32_t i = 0; i < n; i++)
        s->slots[i].next = i + 1 < n ? i + 1 : USTK_SLOT_NONE;
    s->free_slot = 0;
    s->free_tail = n - 1;
    /* Handles are non-negative ints: the index takes the bits it needs,
     * the generation the rest (up to the slot's 16). */
    s->idx_bits = 1;
    while ((1u << s->idx_bits) < n)
        s->idx_bits++;
    s->idx_mask = (1u << s->idx_bits) - 1;
    s->gen_max = 31 - s->idx_bits >= 16 ? 0xffffu
                                          : (1u << (31 - s->idx_bits)) - 1;
    s->ev_head = s->ev_tail = USTK_SLOT_NONE;
    ustk_heap_init(&s->timers, s->timer_slots, 16);
    if (ustk__pktq_init(s, &s->ctl, cfg->ctl_queue ? cfg->ctl_queue : 1))
        goto fail;
    if (ustk__pktq_init(s, &s->dgq, cfg->dgram_queue) ||
        ustk__route_init(s) || ustk__pmtu_init(s) || ustk__frag_init(s) ||
        ustk__dgram_init(s))
        goto fail;
    /* The ICMP error bucket starts full. */
    s->icmp_tokens = (uint64_t)cfg->icmp_burst * 1000000u;
    s->icmp_last = now;
    if (cfg->link == USTK_LINK_ETHERNET) {
        if (ustk__arp_init(s))
            goto fail;
        ustk__arp_announce(s);
    }
    *out = s;
    return 0;
fail:
    ustk_stack_destroy(s);
    return USTK_ENOMEM;
}

void ustk_stack_trim(ustk_stack *s)
{
    if (!s)
        return;
    ustk__tcb_buf_cache_fini(s);
    /* The loopback queue keeps a buffer in every slot it has used (up to
     * USTK_LOOP_QUEUE frames) for the next conversation with ourselves;
     * once it is empty nothing is in them, and the next packet to
     * ourselves takes the array again (ip.c). */
    if (s->loop.len == 0)
        ustk__pktq_fini(s, &s->loop);
    /* The TIME-WAIT table (its buckets and record chunks, tens of KB and
     * more) once its last record has expired; the next compact record
     * makes it again. */
    if (ustk__tw_count(s) == 0)
        ustk__tw_fini(s);
}

void ustk_stack_destroy(ustk_stack *s)
{
    if (!s)
        return;
    /* Tearing down is not protocol activity: tell the trace nothing. */
    s->cfg.trace = NULL;
    if (s->conn_tab || s->port_tab) {
        /* Every connection is in exactly one place we can find it from: a
         * handle, the connection table, or the port table. Collect them
         * through those, then free each once. */
        for (uint32_t i = 0; s->slots && i < s->cfg.max_sockets; i++) {
            ustk_tcb *t =
                s->slots[i].proto == USTK_PROTO_TCP ? s->slots[i].tcb : NULL;
            if (t) {
                t->sock = -1;
                if (t->flags & TF_DEAD)
                    ustk__tcb_free(s, t);
                else
                    ustk__tcb_close(s, t, 0); /* frees an orphan */
            }
        }
        for (uint32_t i = 0; s->conn_tab && i <= s->conn_mask; i++)
            while (s->conn_tab[i]) {
                ustk_tcb *t = s->conn_tab[i];
                t->sock = -1;
                ustk__tcb_close(s, t, 0);
            }
        for (uint32_t i = 0; s->port_tab && i <= s->port_mask; i++)
            while (s->port_tab[i]) {
                ustk_tcb *t = s->port_tab[i];
                t->sock = -1;
                ustk__tcb_close(s, t, 0);
            }
    }
    for (uint32_t i = 0; s->slots && i < s->cfg.max_sockets; i++)
        if (s->slots[i].proto == USTK_PROTO_UDP ||
            s->slots[i].proto == USTK_PROTO_ICMP)
            ustk__dgram_free(s, s->slots[i].dg);
    ustk__dgram_fini(s);
    ustk__frag_fini(s);
    ustk__route_fini(s);
    ustk__pmtu_fini(s);
    ustk__arp_fini(s);
    ustk__pktq_fini(s, &s->dgq);
    ustk__pktq_fini(s, &s->ctl);
    ustk__pktq_fini(s, &s->loop);
    ustk__tw_fini(s);
    ustk__tcb_buf_cache_fini(s);
    ustk__free(s, s->timer_slots);
    ustk__free(s, s->port_tab);
    ustk__free(s, s->conn_tab);
    ustk__free(s, s->slots);
    s->cfg.free(s->cfg.alloc_ctx, s);
}

/* ---- input ---- */

int ustk__drop(ustk_stack *s, int reason, const ustk_tcb *t,
               const ustk_tcp_hdr *h, uint32_t len)
{
    s->drops[reason]++;
    s->last_drop = reason;
    s->stats.drops_total++;
    if (s->cfg.trace) {
        ustk_trace_event ev;
        if (t) {
            ustk__trace_fill(s, t, &ev, USTK_TRACE_DROP);
        } else {
            memset(&ev, 0, sizeof(ev));
            ev.kind = USTK_TRACE_DROP;
            ev.now = s->now;
            ev.sock = -1;
            ev.state = USTK_TCP_CLOSED;
        }
        ev.reason = reason;
        if (h) {
            ev.seg.seq = h->seq;
            ev.seg.ack = h->ack;
            ev.seg.wnd = h->wnd;
            ev.seg.flags = h->flags;
            ev.seg.len = len;
            ev.seg.opts = h->opts.has;
        }
        s->cfg.trace(s->cfg.trace_ctx, &ev);
    }
    return reason;
}

static const uint8_t mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static bool mac_is_ours(const ustk_stack *s, const uint8_t *mac)
{
    return memcmp(mac, s->cfg.mac, 6) == 0 || memcmp(mac, mac_bcast, 6) == 0;
}

int ustk_input_meta(ustk_stack *s, ustk_time now, const uint8_t *frame,
                    size_t len, const ustk_frame_meta *meta)
{
    if (!s || !meta)
        return ustk_input(s, now, frame, len);
    /* The link's word holds for this frame only. */
    s->rx_csum_ok = (meta->flags &
                     (USTK_META_DATA_VALID | USTK_META_NEEDS_CSUM)) != 0;
    s->rx_gro = meta->gso_type == USTK_GSO_TCPV4;
    int r = ustk_input(s, now, frame, len);
    s->rx_gro = false;
    s->rx_csum_ok = false;
    return r;
}

int ustk_input(ustk_stack *s, ustk_time now, const uint8_t *frame, size_t len)
{
    if (!s || (!frame && len))
        return USTK_DROP_ETH_SHORT;
    if (now > s->now)
        s->now = now;
    s->stats.frames_in++;
    uint64_t dropped_before = s->stats.drops_total;
    if (s->cfg.link == USTK_LINK_IP) {
        ustk__ip_input(s, now, frame, len, false);
    } else {
        ustk_eth_hdr eh;
        int r = ustk_eth_parse(frame, len, &eh);
        if (r)
            return ustk__drop(s, r, NULL, NULL, 0);
        if (!mac_is_ours(s, eh.dst))
            return ustk__drop(s, USTK_DROP_ETH_NOT_FOR_US, NULL, NULL, 0);
        const uint8_t *p = frame + USTK_ETH_HDR_LEN;
        size_t plen = len - USTK_ETH_HDR_LEN;
        if (eh.type == USTK_ETHERTYPE_ARP)
            ustk__arp_input(s, now, p, plen);
        else if (eh.type == USTK_ETHERTYPE_IPV4)
            ustk__ip_input(s, now, p, plen,
                           memcmp(eh.dst, mac_bcast, 6) == 0);
        else
            return ustk__drop(s, USTK_DROP_ETH_TYPE, NULL, NULL, 0);
    }
    /* Report the reason of a drop that happened deeper down. */
    return s->stats.drops_total != dropped_before ? s->last_drop : 0;
}

/* ---- output ---- */

/* When the stack next needs a call: now, with anything queued or a
 * connection on the pending list; else the earliest deadline. The one
 * place that says it, for ustk_next_deadline() and for the short answer
 * of ustk_poll_output(), which most calls get: inline there, with the
 * reassembly queue's deadline asked only when datagrams wait in it. */
static inline ustk_time next_deadline(const ustk_stack *s, ustk_time now)
{
    if (s->ctl.len || s->dgq.len || s->pend_head || s->loop.len)
        return now;
    ustk_time t = USTK_TIME_NEVER;
    const ustk_heap_node *top = ustk_heap_top(&s->timers);
    if (top)
        t = top->key;
    if (s->cfg.link == USTK_LINK_ETHERNET && s->arp_next < t)
        t = s->arp_next;
    if (s->frag_oldest) {
        ustk_time f = ustk__frag_deadline(s);
        if (f < t)
            t = f;
    }
    return t;
}

static void run_timers(ustk_stack *s, ustk_time now)
{
    if (s->cfg.link == USTK_LINK_ETHERNET && s->arp_next <= now)
        ustk__arp_timers(s, now);
    if (ustk__frag_deadline(s) <= now)
        ustk__frag_timers(s, now);
    ustk__tcp_timers(s, now);
}

/* Hand out the oldest packet of a queue of IPv4 packets (or frames):
 * the frame length, or 0 when it went to wait for ARP instead. */
static size_t pktq_emit(ustk_stack *s, ustk_pktq *q, ustk_time now,
                        uint8_t *buf)
{
    ustk_pkt *p = ustk__pktq_head(q);
    if (p->is_frame) {
        memcpy(buf, p->data, p->len);
        size_t n = p->len;
        ustk__pktq_pop(q);
        return n;
    }
    memcpy(buf + s->link_hdr, p->data, p->len);
    uint32_t ip_len = p->len, hop = p->next_hop;
    ustk__pktq_pop(q);
    return ustk__frame_ip(s, now, buf, ip_len, hop);
}

/* The largest TCP payload a TSO segment may carry into a buffer of cap
 * bytes: an IPv4 packet is at most 65,535 bytes (RFC 791 §3.1), and the
 * TCP header may take 60 of them. */
static uint32_t tso_room(const ustk_stack *s, size_t cap)
{
    size_t room = 65535u - USTK_IPV4_HDR_LEN - 60u;
    size_t hdrs = s->link_hdr + USTK_IPV4_HDR_LEN + 60u;
    size_t fit = cap > hdrs ? cap - hdrs : 0;
    if (fit < room)
        room = fit;
    if (s->cfg.tso_max < room)
        room = s->cfg.tso_max;
    return (uint32_t)room;
}

int ustk_poll_output_meta(ustk_stack *s, ustk_time now, uint8_t *buf,
                          size_t cap, size_t *len, ustk_frame_meta *meta)
{
    if (!meta)
        return ustk_poll_output(s, now, buf, cap, len);
    memset(meta, 0, sizeof(*meta));
    if (!s || !buf || !len || cap < s->frame_max)
        return ustk_poll_output(s, now, buf, cap, len);
    if (s->cfg.tso_max || s->cfg.tx_csum_offload) {
        s->tx_meta = meta;
        s->tso_room = s->cfg.tso_max ? tso_room(s, cap) : 0;
    }
    int r = ustk_poll_output(s, now, buf, cap, len);
    s->tx_meta = NULL;
    s->tso_room = 0;
    return r;
}

/* Timers due or something queued: the walk, kept out of
 * ustk_poll_output() so that its common answer ("nothing") costs no more
 * than the check. */
static USTK_NOINLINE int poll_output_walk(ustk_stack *s, ustk_time now,
                                          uint8_t *buf, size_t *len)
{
    run_timers(s, now);
    if (s->loop.len)
        ustk__loop_input(s, now);

    for (;;) {
        /* Control packets first: they are few and often answer something. */
        if (s->ctl.len) {
            size_t n = pktq_emit(s, &s->ctl, now, buf);
            if (n) {
                *len = n;
                s->stats.frames_out++;
                return 0;
            }
            continue;
        }
        /* Datagrams and TCP segments take turns when both are waiting. */
        if (s->dgq.len && (s->dg_turn || !s->pend_head)) {
            s->dg_turn = false;
            size_t n = pktq_emit(s, &s->dgq, now, buf);
            ustk__dgram_room(s);
            if (n) {
                *len = n;
                s->stats.frames_out++;
                return 0;
            }
            continue;
        }
        long n = ustk__tcp_output(s, now, buf);
        s->dg_turn = true;
        if (n > 0) {
            *len = (size_t)n;
            s->stats.frames_out++;
            return 0;
        }
        if (n == 0 && !s->dgq.len)
            return USTK_EAGAIN;
        /* A segment went to the ARP queue, or datagrams wait; look
         * again. */
    }
}

int ustk_poll_output(ustk_stack *s, ustk_time now, uint8_t *buf, size_t cap,
                     size_t *len)
{
    if (!s || !buf || !len)
        return USTK_EINVAL;
    *len = 0;
    if (cap < s->frame_max)
        return USTK_EINVAL;
    if (now > s->now)
        s->now = now;
    /* Nothing queued and no deadline reached: the answer to most calls
     * (an event loop asks until it hears "nothing"), given without the
     * walk, and leaving the turn where the walk would. */
    if (next_deadline(s, now) > now) {
        s->dg_turn = true;
        return USTK_EAGAIN;
    }
    return poll_output_walk(s, now, buf, len);
}

ustk_time ustk_next_deadline(const ustk_stack *s, ustk_time now)
{
    return s ? next_deadline(s, now) : USTK_TIME_NEVER;
}

size_t ustk_stack_frame_max(const ustk_stack *s)
{
    return s ? s->frame_max : 0;
}

void ustk_stack_set_trace(ustk_stack *s, ustk_trace_fn fn, void *ctx)
{
    if (!s)
        return;
    s->cfg.trace = fn;
    s->cfg.trace_ctx = ctx;
}

void ustk_stack_set_loop_capture(ustk_stack *s, ustk_loop_capture_fn fn,
                                 void *ctx)
{
    if (!s)
        return;
    s->loop_cap = fn;
    s->loop_cap_ctx = fn ? ctx : NULL;
}

uint64_t ustk_stack_drops(const ustk_stack *s, int reason)
{
    if (!s || reason < 0 || reason >= USTK_DROP__COUNT)
        return 0;
    return s->drops[reason];
}

void ustk_stack_stats_get(const ustk_stack *s, ustk_stack_stats *out)
{
    if (!s || !out)
        return;
    *out = s->stats;
    out->tcp_connections = s->ntcb;
    out->tcp_busy = s->nbusy;
    out->tcp_time_wait = ustk__tw_count(s);
}

const ustk_config *ustk_stack_config(const ustk_stack *s)
{
    return s ? &s->cfg : NULL;
}
