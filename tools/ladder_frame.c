/* Feeding the ladder from frames on the wire: a link decorator that watches
 * a simulated link, or (later) a pcap reader. Parsing goes through the same
 * wire/ parsers as the stack, without checksum verification: a frame that
 * cannot be parsed is simply not drawn. */
#include <string.h>

#include "ladder.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

static int side_of(const ladder *l, int from, ustk_ip4 src)
{
    if (from == LADDER_LEFT || from == LADDER_RIGHT)
        return from;
    return ladder_side_of(l, src);
}

void ladder_frame(ladder *l, ustk_time now, int from, ustk_link_kind kind,
                  const uint8_t *f, size_t n, unsigned fate)
{
    ustk_ipv4_hdr ip;
    ustk_tcp_hdr tcp;
    ustk_trace_seg seg;

    if (kind == USTK_LINK_ETHERNET) {
        ustk_eth_hdr eth;
        ustk_arp_pkt arp;
        if (ustk_eth_parse(f, n, &eth) != 0)
            return;
        if (eth.type == USTK_ETHERTYPE_ARP) {
            if (ustk_arp_parse(f + USTK_ETH_HDR_LEN, n - USTK_ETH_HDR_LEN,
                               &arp) == 0)
                ladder_arp(l, now, side_of(l, from, arp.spa), arp.op, arp.sha,
                           arp.spa, arp.tpa, fate);
            return;
        }
        if (eth.type != USTK_ETHERTYPE_IPV4)
            return;
        f += USTK_ETH_HDR_LEN;
        n -= USTK_ETH_HDR_LEN;
    }
    if (ustk_ipv4_parse(f, n, &ip) != 0 || ip.proto != USTK_IP_PROTO_TCP ||
        ustk_ipv4_is_fragment(&ip) ||
        ustk_tcp_parse(f + ip.hdr_len, ip.total_len - ip.hdr_len, ip.src,
                       ip.dst, false, &tcp) != 0)
        return;
    memset(&seg, 0, sizeof seg);
    seg.seq = tcp.seq;
    seg.ack = tcp.ack;
    seg.wnd = tcp.wnd;
    seg.flags = tcp.flags;
    seg.opts = tcp.opts.has;
    seg.len = (uint32_t)(ip.total_len - ip.hdr_len - tcp.hdr_len);
    seg.mss = tcp.opts.mss;
    seg.wscale = tcp.opts.wscale;
    seg.nsack = tcp.opts.nsack;
    memcpy(seg.sack, tcp.opts.sack, sizeof seg.sack);
    seg.ts_val = tcp.opts.ts_val;
    seg.ts_ecr = tcp.opts.ts_ecr;
    ladder_wire_tcp(l, now, side_of(l, from, ip.src), tcp.sport, tcp.dport,
                    &seg, fate);
}
