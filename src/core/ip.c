/* IPv4 in and out: the checks a host makes on arrival (RFC 1122 §3.2.1),
 * hand-off to reassembly or to the protocols, the header of what we send,
 * fragmentation of datagrams larger than the MTU, and framing for the
 * link. Routing is in route.c, reassembly in ip_frag.c. */
#include <string.h>

#include "stack_priv.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

bool ustk__ip_is_bcast(const ustk_stack *s, uint32_t a)
{
    /* The limited broadcast, and 127.255.255.255: lo's, as Linux routes it. */
    if (a == 0xffffffffu || a == 0x7fffffffu)
        return true;
    /* A /31 has no broadcast address (RFC 3021), a /32 no subnet. */
    if (s->cfg.prefix_len >= 31)
        return false;
    if ((a & s->netmask) != (s->cfg.ip & s->netmask))
        return false;
    uint32_t host = a & ~s->netmask;
    return host == ~s->netmask || host == 0;
}

void ustk__ip_header(ustk_stack *s, uint8_t *pkt, uint8_t proto, uint32_t src,
                     uint32_t dst, uint16_t plen, bool df)
{
    ustk_ipv4_hdr h;
    memset(&h, 0, sizeof(h));
    h.total_len = (uint16_t)(USTK_IPV4_HDR_LEN + plen);
    /* RFC 6864 §4.1: atomic datagrams (DF set) may carry any ID; one
     * that may be fragmented (DF clear, pmtu.c) needs an ID unique while
     * it lives. A counter serves both and keeps captures readable. */
    h.id = s->ip_id++;
    h.frag = df ? USTK_IPV4_DF : 0;
    h.ttl = s->cfg.ttl;
    h.proto = proto;
    h.src = src;
    h.dst = dst;
    ustk_ipv4_emit(&h, pkt, USTK_IPV4_HDR_LEN);
}

bool ustk__tx_direct(const ustk_stack *s, uint32_t next_hop)
{
    /* A packet to ourselves never meets a link, so nothing may be left
     * for the link to do (a partial checksum, a TSO segment to cut). */
    if (ustk__ip_is_local(s, next_hop))
        return false;
    if (s->cfg.link == USTK_LINK_IP)
        return true;
    return next_hop != 0 && ustk__arp_known(s, s->now, next_hop);
}

/* ---- loopback ----
 *
 * A packet to one of this host's addresses (ours, or any of 127/8) goes
 * nowhere near the link, where nobody would answer ARP for it and where
 * a loopback address must never appear (RFC 1122 §3.2.1.3): it is queued
 * here and fed to our own input by the next ustk_poll_output(), as Linux
 * loops such packets through lo.
 * Queued, not delivered at once, because it is made in the middle of
 * output (a connection's segment, a queue being emptied): input then would
 * re-enter the state machine of the very connection that is sending. The
 * queue is bounded (USTK_LOOP_QUEUE packets, each in a buffer of
 * frame_max bytes taken on first use); a packet that finds it full is
 * dropped and counted, and TCP recovers it as a loss. */

static void loop_queue(ustk_stack *s, ustk_time now, const uint8_t *pkt,
                       uint32_t ip_len)
{
    if (!s->loop.v && ustk__pktq_init(s, &s->loop, USTK_LOOP_QUEUE)) {
        ustk__drop(s, USTK_DROP_LOOP_QUEUE_FULL, NULL, NULL, 0);
        return;
    }
    ustk_pkt *p = ustk__pktq_tail(&s->loop);
    if (!p || ip_len > s->cfg.mtu ||
        (!p->data && !(p->data = ustk__alloc(s, s->frame_max)))) {
        ustk__drop(s, USTK_DROP_LOOP_QUEUE_FULL, NULL, NULL, 0);
        return;
    }
    memcpy(p->data, pkt, ip_len);
    p->len = ip_len;
    p->is_frame = false;
    p->next_hop = s->cfg.ip;
    ustk__pktq_push(&s->loop);
    /* No link sees it, so a capture is shown it here (stack.h). */
    if (s->loop_cap)
        s->loop_cap(s->loop_cap_ctx, now, p->data, ip_len);
}

static void ip_accept(ustk_stack *s, ustk_time now, const ustk_ipv4_hdr *h,
                      const uint8_t *pkt, bool link_bcast);

void ustk__loop_input(ustk_stack *s, ustk_time now)
{
    for (uint32_t n = s->loop.len; n > 0; n--) {
        ustk_pkt *p = ustk__pktq_head(&s->loop);
        ustk_ipv4_hdr h;
        /* We made it, so it parses; our address or a loopback one as its
         * source, or a loopback destination, is what a packet to
         * ourselves has (the wire's martian checks are for packets that
         * claim them from outside). Checksums are checked as for any
         * packet: nothing was left partial for a link. */
        int r = ustk_ipv4_parse(p->data, p->len, &h);
        s->rx_csum_ok = false;
        if (r)
            ustk__drop(s, r, NULL, NULL, 0);
        else
            ip_accept(s, now, &h, p->data, false);
        ustk__pktq_pop(&s->loop);
    }
}

size_t ustk__frame_ip(ustk_stack *s, ustk_time now, uint8_t *buf,
                      uint32_t ip_len, uint32_t next_hop)
{
    if (ustk__ip_is_local(s, next_hop)) {
        loop_queue(s, now, buf + s->link_hdr, ip_len);
        return 0;
    }
    /* RFC 1122 §3.2.1.3: a loopback address "MUST NOT appear outside a
     * host". The route to 127/8 is the loopback queue, and a loopback
     * source only ever answers a packet that came through it, so nothing
     * we build should get here with one; this is the last check before
     * the link, whatever a bug upstream might make. */
    const uint8_t *ip = buf + s->link_hdr;
    if (ip[12] == 127 || ip[16] == 127) {
        ustk__drop(s, USTK_DROP_TX_LOOPBACK, NULL, NULL, 0);
        return 0;
    }
    if (s->cfg.link == USTK_LINK_IP)
        return ip_len;
    if (next_hop == 0) {
        /* The route went away after the packet was made. */
        ustk__drop(s, USTK_DROP_IP_NO_ROUTE, NULL, NULL, 0);
        return 0;
    }
    /* A TSO segment is larger than the packets the ARP queue holds; TCP
     * makes one only for a known neighbour, so this is the rare address
     * that went stale just now: it is lost, and resent as a loss. */
    bool big = ip_len > s->cfg.mtu;
    const uint8_t *mac = ustk__arp_lookup(s, now, next_hop,
                                          big ? NULL : buf + s->link_hdr,
                                          big ? 0 : ip_len);
    if (!mac && big)
        ustk__drop(s, USTK_DROP_ARP_QUEUE_FULL, NULL, NULL, 0);
    if (!mac) {
        /* The packet waits in the neighbour's queue; the request (if one is
         * due) comes out of the control queue. */
        return 0;
    }
    ustk_eth_hdr eh;
    memcpy(eh.dst, mac, 6);
    memcpy(eh.src, s->cfg.mac, 6);
    eh.type = USTK_ETHERTYPE_IPV4;
    ustk_eth_emit(&eh, buf, USTK_ETH_HDR_LEN);
    return s->link_hdr + ip_len;
}

uint8_t *ustk__ctl_ip_begin(ustk_stack *s)
{
    ustk_pkt *p = ustk__pktq_tail(&s->ctl);
    if (!p)
        return NULL;
    if (!p->data) {
        p->data = ustk__alloc(s, s->frame_max);
        if (!p->data)
            return NULL;
    }
    return p->data;
}

void ustk__ctl_ip_commit(ustk_stack *s, uint32_t ip_len, uint32_t dst)
{
    ustk_pkt *p = ustk__pktq_tail(&s->ctl);
    p->len = ip_len;
    p->is_frame = false;
    p->next_hop = ustk__route(s, dst);
    ustk__pktq_push(&s->ctl);
}

/* Copy bytes [off, off + n) of the message hdr (8 bytes) || data. */
static void copy_message(uint8_t *out, const uint8_t hdr[8],
                         const uint8_t *data, size_t off, size_t n)
{
    if (off < 8) {
        size_t h = 8 - off < n ? 8 - off : n;
        memcpy(out, hdr + off, h);
        out += h;
        off += h;
        n -= h;
    }
    if (n)
        memcpy(out, data + (off - 8), n);
}

int ustk__ip_send(ustk_stack *s, ustk_pktq *q, uint8_t proto, uint32_t src,
                  uint32_t dst, const uint8_t hdr[8], const uint8_t *data,
                  size_t dlen)
{
    /* RFC 791 §3.1: Total Length is 16 bits, header included. */
    if (dlen > 0xffffu - USTK_IPV4_HDR_LEN - 8u)
        return USTK_EMSGSIZE;
    size_t plen = 8 + dlen;
    uint32_t hop = ustk__route(s, dst);
    if (hop == 0)
        return USTK_ENETUNREACH;
    /* RFC 791 §3.2: every fragment but the last carries a multiple of 8
     * bytes, since offsets count 8-byte units. */
    size_t room = (size_t)s->cfg.mtu - USTK_IPV4_HDR_LEN;
    size_t piece = room & ~(size_t)7;
    uint32_t n = plen <= room ? 1 : (uint32_t)((plen + piece - 1) / piece);
    if (n > q->cap)
        return USTK_EMSGSIZE;
    if (q->cap - q->len < n)
        return USTK_EAGAIN;
    for (uint32_t i = 0; i < n; i++) {
        ustk_pkt *p = &q->v[(q->head + q->len + i) % q->cap];
        if (!p->data && !(p->data = ustk__alloc(s, s->frame_max)))
            return USTK_ENOMEM;
    }
    ustk_ipv4_hdr h;
    memset(&h, 0, sizeof(h));
    /* RFC 791 §3.2, RFC 6864: a datagram that may be fragmented needs an
     * ID unique for its source, destination and protocol while it can
     * live; the counter wraps after 65536 datagrams. */
    h.id = s->ip_id++;
    h.ttl = s->cfg.ttl;
    h.proto = proto;
    h.src = src;
    h.dst = dst;
    size_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t take = n == 1 ? plen : (plen - off < piece ? plen - off : piece);
        ustk_pkt *p = ustk__pktq_tail(q);
        h.total_len = (uint16_t)(USTK_IPV4_HDR_LEN + take);
        h.frag = (uint16_t)((off / 8) | (off + take < plen ? USTK_IPV4_MF : 0));
        ustk_ipv4_emit(&h, p->data, USTK_IPV4_HDR_LEN);
        copy_message(p->data + USTK_IPV4_HDR_LEN, hdr, data, off, take);
        p->len = (uint32_t)(USTK_IPV4_HDR_LEN + take);
        p->is_frame = false;
        p->next_hop = hop;
        ustk__pktq_push(q);
        off += take;
    }
    if (n > 1) {
        s->stats.ip_fragmented++;
        s->stats.ip_frags_out += n;
    }
    return 0;
}

void ustk__ip_deliver(ustk_stack *s, ustk_time now, const ustk_ipv4_hdr *h,
                      const uint8_t *pkt, bool link_bcast)
{
    /* Only UDP takes broadcasts (RFC 1122 §3.2.1.3 lets a host accept
     * them; a connection or an echo to a broadcast address makes no
     * sense, and §3.2.2.6 lets echo requests to one be ignored). */
    bool bcast = !ustk__ip_is_local(s, h->dst);
    switch (h->proto) {
    case USTK_IP_PROTO_TCP:
        if (bcast)
            break;
        ustk__tcp_input(s, now, h->src, h->dst, pkt + h->hdr_len,
                        (size_t)h->total_len - h->hdr_len);
        return;
    case USTK_IP_PROTO_ICMP:
        if (bcast)
            break;
        ustk__icmp_input(s, now, h, pkt);
        return;
    case USTK_IP_PROTO_UDP:
        ustk__udp_input(s, now, h, pkt, link_bcast);
        return;
    default:
        /* RFC 1122 §3.2.2.1: a host SHOULD generate protocol
         * unreachable for a transport protocol it does not have. */
        ustk__icmp_error(s, now, h, pkt, USTK_ICMP_DEST_UNREACH,
                         USTK_ICMP_PROTO_UNREACH, link_bcast);
        ustk__drop(s, USTK_DROP_IP_PROTO, NULL, NULL, 0);
        return;
    }
    ustk__drop(s, USTK_DROP_IP_NOT_FOR_US, NULL, NULL, 0);
}

void ustk__ip_input(ustk_stack *s, ustk_time now, const uint8_t *pkt,
                    size_t len, bool link_bcast)
{
    ustk_ipv4_hdr h;
    int r = ustk_ipv4_parse(pkt, len, &h);
    if (r) {
        ustk__drop(s, r, NULL, NULL, 0);
        return;
    }
    /* RFC 1122 §3.2.1.3: a source that is broadcast, multicast or class
     * E is discarded, and so is a loopback source ("MUST NOT appear
     * outside a host") or our own address arriving from the wire (a
     * "land" packet): answering either would reflect traffic. */
    uint32_t bcast = s->cfg.ip | ~s->netmask;
    if (h.src == 0xffffffffu || ustk__ip_is_class_de(h.src) ||
        ustk__ip_is_loopback(h.src) || h.src == s->cfg.ip ||
        (s->cfg.prefix_len < 31 && h.src == bcast)) {
        ustk__drop(s, USTK_DROP_IP_SRC, NULL, NULL, 0);
        return;
    }
    /* A loopback destination is this host's too, but only from the
     * loopback queue: from a link it can only be forged or misrouted. */
    if (ustk__ip_is_loopback(h.dst)) {
        ustk__drop(s, USTK_DROP_IP_DST_LOOPBACK, NULL, NULL, 0);
        return;
    }
    ip_accept(s, now, &h, pkt, link_bcast);
}

/* The checks on the destination, then reassembly or delivery. */
static void ip_accept(ustk_stack *s, ustk_time now, const ustk_ipv4_hdr *h,
                      const uint8_t *pkt, bool link_bcast)
{
    /* A host does not forward (RFC 1122 §3.3.1.1 leaves it optional):
     * what is not for one of our addresses or a broadcast is dropped.
     * Multicast needs group membership, which we do not have. */
    bool ours = ustk__ip_is_local(s, h->dst);
    if (!ours && !ustk__ip_is_bcast(s, h->dst)) {
        ustk__drop(s, USTK_DROP_IP_NOT_FOR_US, NULL, NULL, 0);
        return;
    }
    /* RFC 1122 §3.3.6: a datagram that came in a link-layer broadcast but
     * is not addressed to an IP broadcast SHOULD be discarded. */
    if (ours && link_bcast) {
        ustk__drop(s, USTK_DROP_IP_LINK_BCAST, NULL, NULL, 0);
        return;
    }
    if (ustk_ipv4_is_fragment(h)) {
        /* The link's word on a checksum is for this frame; a datagram it
         * completes is made of other fragments too, and is checked. */
        s->rx_csum_ok = false;
        s->stats.ip_frags_in++;
        ustk__frag_input(s, now, h, pkt);
        return;
    }
    ustk__ip_deliver(s, now, h, pkt, link_bcast);
}
