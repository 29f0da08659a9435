/* IPv4 in and out, and the ICMP echo responder. Routing is the interface's
 * connected subnet plus an optional default gateway. */
#include <string.h>

#include "stack_priv.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

uint32_t ustk__route(const ustk_stack *s, uint32_t dst)
{
    if (dst == 0 || dst == 0xffffffffu)
        return 0;
    if ((dst & s->netmask) == (s->cfg.ip & s->netmask))
        return dst;
    return s->cfg.gateway; /* 0 when there is no default route */
}

void ustk__ip_header(ustk_stack *s, uint8_t *pkt, uint8_t proto, uint32_t dst,
                     uint16_t plen)
{
    ustk_ipv4_hdr h;
    memset(&h, 0, sizeof(h));
    h.total_len = (uint16_t)(USTK_IPV4_HDR_LEN + plen);
    /* RFC 6864 §4.1: atomic datagrams (DF set) may carry any ID; a counter
     * keeps captures readable. */
    h.id = s->ip_id++;
    h.frag = USTK_IPV4_DF;
    h.ttl = 64;
    h.proto = proto;
    h.src = s->cfg.ip;
    h.dst = dst;
    ustk_ipv4_emit(&h, pkt, USTK_IPV4_HDR_LEN);
}

size_t ustk__frame_ip(ustk_stack *s, ustk_time now, uint8_t *buf,
                      uint32_t ip_len, uint32_t next_hop)
{
    if (s->cfg.link == USTK_LINK_IP)
        return ip_len;
    const uint8_t *mac =
        ustk__arp_lookup(s, now, next_hop, buf + s->link_hdr, ip_len);
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

/* RFC 1122 §3.2.2.6: answer an echo request with the same data. */
static void icmp_input(ustk_stack *s, const ustk_ipv4_hdr *ih,
                       const uint8_t *p, size_t len)
{
    ustk_icmp_hdr h;
    int r = ustk_icmp_parse(p, len, &h);
    if (r) {
        ustk__drop(s, r, NULL, NULL, 0);
        return;
    }
    if (h.type != USTK_ICMP_ECHO_REQUEST) {
        ustk__drop(s, USTK_DROP_ICMP_TYPE, NULL, NULL, 0);
        return;
    }
    if (ustk__route(s, ih->src) == 0) {
        ustk__drop(s, USTK_DROP_IP_NO_ROUTE, NULL, NULL, 0);
        return;
    }
    uint8_t *out = ustk__ctl_ip_begin(s);
    if (!out) {
        ustk__drop(s, USTK_DROP_TX_QUEUE_FULL, NULL, NULL, 0);
        return;
    }
    ustk_icmp_hdr rep = h;
    rep.type = USTK_ICMP_ECHO_REPLY;
    rep.code = 0;
    size_t n = ustk_icmp_emit(&rep, out + USTK_IPV4_HDR_LEN,
                              s->cfg.mtu - USTK_IPV4_HDR_LEN);
    if (!n) {
        /* An echo request larger than our MTU can only have come in
         * fragments, which we do not reassemble yet. */
        ustk__drop(s, USTK_DROP_IP_TOO_BIG, NULL, NULL, 0);
        return;
    }
    ustk__ip_header(s, out, USTK_IP_PROTO_ICMP, ih->src, (uint16_t)n);
    ustk__ctl_ip_commit(s, (uint32_t)(n + USTK_IPV4_HDR_LEN), ih->src);
    s->stats.icmp_echo_replies++;
}

void ustk__ip_input(ustk_stack *s, ustk_time now, const uint8_t *pkt,
                    size_t len)
{
    ustk_ipv4_hdr h;
    int r = ustk_ipv4_parse(pkt, len, &h);
    if (r) {
        ustk__drop(s, r, NULL, NULL, 0);
        return;
    }
    /* RFC 1122 §3.2.1.3: a source that is broadcast or multicast is
     * discarded. */
    uint32_t bcast = s->cfg.ip | ~s->netmask;
    if (h.src == 0xffffffffu || (h.src >> 28) == 0xe ||
        (s->cfg.prefix_len < 31 && h.src == bcast)) {
        ustk__drop(s, USTK_DROP_IP_SRC, NULL, NULL, 0);
        return;
    }
    if (h.dst != s->cfg.ip) {
        ustk__drop(s, USTK_DROP_IP_NOT_FOR_US, NULL, NULL, 0);
        return;
    }
    if (ustk_ipv4_is_fragment(&h)) {
        ustk__drop(s, USTK_DROP_IP_FRAGMENT, NULL, NULL, 0);
        return;
    }
    const uint8_t *p = pkt + h.hdr_len;
    size_t plen = (size_t)h.total_len - h.hdr_len;
    switch (h.proto) {
    case USTK_IP_PROTO_TCP:
        ustk__tcp_input(s, now, h.src, h.dst, p, plen);
        break;
    case USTK_IP_PROTO_ICMP:
        icmp_input(s, &h, p, plen);
        break;
    case USTK_IP_PROTO_UDP:
        ustk__drop(s, USTK_DROP_UDP_NO_SOCKET, NULL, NULL, 0);
        break;
    default:
        ustk__drop(s, USTK_DROP_IP_PROTO, NULL, NULL, 0);
        break;
    }
}
