/* Helpers shared by the network-layer tests (tests/net): stacks made from a
 * config, packets built by hand with the wire layer, frames taken from a
 * stack, and two stacks over a simulated link on a virtual clock. Every
 * function is static inline so that each test program takes what it uses.
 * Include after <cmocka.h>. */
#ifndef USTK_TESTS_NET_UTIL_H
#define USTK_TESTS_NET_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link/sim.h"
#include "ustack/ustack.h"
#include "util/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

#define NET_A USTK_IP4(10, 0, 0, 1)
#define NET_B USTK_IP4(10, 0, 0, 2)
#define NET_C USTK_IP4(10, 0, 0, 3)
#define NET_FRAME 65600 /* any frame of any MTU */

static inline void net_cfg(ustk_config *c, ustk_ip4 ip, ustk_link_kind link)
{
    ustk_config_default(c);
    c->link = link;
    c->ip = ip;
    c->mac[0] = 0x02;
    c->mac[5] = (uint8_t)ip;
    c->seed = ip;
}

static inline ustk_stack *net_stack(const ustk_config *c)
{
    ustk_stack *s = NULL;
    assert_int_equal(ustk_stack_create(&s, c, 0), 0);
    return s;
}

/* A raw-IP stack (no ARP) at addr, defaults otherwise. */
static inline ustk_stack *net_ip_stack(ustk_ip4 addr)
{
    ustk_config c;
    net_cfg(&c, addr, USTK_LINK_IP);
    return net_stack(&c);
}

/* An Ethernet stack at addr whose ARP gives up quickly: three requests
 * 500 ms apart, for tests of a neighbour that never answers. */
static inline ustk_stack *net_eth_stack_arp_gives_up(ustk_ip4 addr)
{
    ustk_config c;
    net_cfg(&c, addr, USTK_LINK_ETHERNET);
    c.arp_retry = USTK_MS(500);
    c.arp_max_retries = 3;
    return net_stack(&c);
}

/* An IPv4 packet of 20 + plen bytes in buf (TTL 64, no options). */
static inline size_t net_ip(uint8_t *buf, ustk_ip4 src, ustk_ip4 dst,
                            uint8_t proto, uint16_t id, uint16_t frag,
                            const void *payload, size_t plen)
{
    ustk_ipv4_hdr h;
    memset(&h, 0, sizeof(h));
    h.total_len = (uint16_t)(20 + plen);
    h.id = id;
    h.frag = frag;
    h.ttl = 64;
    h.proto = proto;
    h.src = src;
    h.dst = dst;
    if (plen && payload != buf + 20)
        memmove(buf + 20, payload, plen);
    assert_int_equal(ustk_ipv4_emit(&h, buf, 20), 20);
    return 20 + plen;
}

/* A whole UDP datagram in an IPv4 packet (DF clear). */
static inline size_t net_udp(uint8_t *buf, ustk_ip4 src, ustk_ip4 dst,
                             uint16_t sport, uint16_t dport, const void *data,
                             size_t len)
{
    size_t n = ustk_udp_emit(sport, dport, data, len, src, dst, buf + 20,
                             NET_FRAME - 20);
    assert_int_equal(n, 8 + len);
    return net_ip(buf, src, dst, USTK_IP_PROTO_UDP, 0x1234, 0, buf + 20, n);
}

/* An ICMP message (header fields, data) in an IPv4 packet. */
static inline size_t net_icmp(uint8_t *buf, ustk_ip4 src, ustk_ip4 dst,
                              uint8_t type, uint8_t code, uint32_t rest,
                              const void *data, size_t len)
{
    ustk_icmp_hdr h;
    memset(&h, 0, sizeof(h));
    h.type = type;
    h.code = code;
    h.rest = rest;
    h.data = data;
    h.data_len = len;
    size_t n = ustk_icmp_emit(&h, buf + 20, NET_FRAME - 20);
    assert_int_equal(n, 8 + len);
    return net_ip(buf, src, dst, USTK_IP_PROTO_ICMP, 0x4321, 0, buf + 20, n);
}

/* The next frame the stack sends at now: its length, or 0 when none. */
static inline size_t net_take(ustk_stack *s, ustk_time now, uint8_t *buf)
{
    size_t len = 0;
    return ustk_poll_output(s, now, buf, NET_FRAME, &len) == 0 ? len : 0;
}

/* Take and throw away everything the stack sends at now; the count. */
static inline int net_drain(ustk_stack *s, ustk_time now)
{
    static uint8_t buf[NET_FRAME];
    int n = 0;
    while (net_take(s, now, buf))
        n++;
    return n;
}

/* Parse a frame of a raw-IP stack as IPv4 (asserting it is valid). */
/* Allocation hooks (ustk_config alloc/free, ctx a net_meter) that count
 * the bytes the stack holds and remember the peak. */
typedef struct net_meter {
    size_t live, peak;
} net_meter;

#define NET_METER_HDR 16 /* keeps the block aligned for anything */

static inline void *net_meter_alloc(void *ctx, size_t n)
{
    net_meter *m = ctx;
    uint8_t *p = malloc(n + NET_METER_HDR);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    m->live += n;
    if (m->live > m->peak)
        m->peak = m->live;
    return p + NET_METER_HDR;
}

static inline void net_meter_free(void *ctx, void *ptr)
{
    net_meter *m = ctx;
    uint8_t *p = (uint8_t *)ptr - NET_METER_HDR;
    size_t n;
    memcpy(&n, p, sizeof n);
    m->live -= n;
    free(p);
}

/* FNV-1a of n bytes: what a test compares of data sent and received. */
static inline uint64_t net_fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* Run a stack that talks only to itself up to `until`, polling through
 * ustk_poll_output_meta() when meta: no frame may ever reach the link. */
static inline void net_run_alone(ustk_stack *s, ustk_time *now,
                                 ustk_time until, bool meta)
{
    static uint8_t frame[NET_FRAME];
    for (;;) {
        size_t len = 0;
        int r;
        ustk_frame_meta m;
        while ((r = meta ? ustk_poll_output_meta(s, *now, frame, NET_FRAME,
                                                 &len, &m)
                         : ustk_poll_output(s, *now, frame, NET_FRAME,
                                            &len)) == 0)
            fail_msg("a frame of %zu bytes went to the link", len);
        assert_int_equal(r, USTK_EAGAIN);
        ustk_time d = ustk_next_deadline(s, *now);
        if (d > until)
            break;
        if (d > *now)
            *now = d;
    }
}

static inline ustk_ipv4_hdr net_parse_ip(const uint8_t *pkt, size_t len)
{
    ustk_ipv4_hdr h;
    assert_int_equal(ustk_ipv4_parse(pkt, len, &h), 0);
    return h;
}

static inline uint64_t net_drops(const ustk_stack *s, int reason)
{
    return ustk_stack_drops(s, reason);
}

static inline uint64_t net_all_drops(const ustk_stack *s)
{
    uint64_t n = 0;
    for (int r = 0; r < USTK_DROP__COUNT; r++)
        n += ustk_stack_drops(s, r);
    return n;
}

static inline ustk_stack_stats net_stats(const ustk_stack *s)
{
    ustk_stack_stats st;
    ustk_stack_stats_get(s, &st);
    return st;
}

/* A byte pattern that differs with every position and seed. */
static inline void net_fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((i * 131u + seed * 7u + (i >> 8)) ^ (i >> 16));
}

/* Two stacks, A (10.0.0.1) and B (10.0.0.2), over a simulated link with
 * 1 ms latency, and the virtual clock. */
typedef struct net_pair {
    ustk_stack *a, *b;
    ustk_link *la, *lb;
    ustk_sim_node nodes[2];
    ustk_time now;
} net_pair;

typedef void (*net_tweak)(ustk_config *c);

static inline void net_pair_init(net_pair *p, ustk_link_kind link,
                                 net_tweak tweak)
{
    memset(p, 0, sizeof(*p));
    ustk_config ca, cb;
    net_cfg(&ca, NET_A, link);
    net_cfg(&cb, NET_B, link);
    if (tweak) {
        tweak(&ca);
        tweak(&cb);
    }
    p->a = net_stack(&ca);
    p->b = net_stack(&cb);
    ustk_sim_params sp;
    ustk_sim_params_default(&sp);
    sp.kind = link;
    sp.latency = USTK_MS(1);
    assert_int_equal(ustk_sim_pair_create(&p->la, &p->lb, &sp), 0);
    p->nodes[0].stack = p->a;
    p->nodes[0].link = p->la;
    p->nodes[1].stack = p->b;
    p->nodes[1].link = p->lb;
}

/* Run the simulation until nothing is pending or the clock reaches
 * now + dt. */
static inline void net_pair_run(net_pair *p, ustk_time dt)
{
    ustk_time until = p->now + dt;
    while (ustk_sim_step(p->nodes, 2, &p->now, until))
        ;
}

static inline void net_pair_fini(net_pair *p)
{
    ustk_stack_destroy(p->a);
    ustk_stack_destroy(p->b);
    ustk_link_destroy(p->la);
    ustk_link_destroy(p->lb);
}

#endif
