/* Fuzz target: the wire parsers (src/wire/).
 *
 * The input is read in every way the stack reads bytes: as an Ethernet
 * frame (then ARP or IPv4 by its type), as a bare IPv4 packet (a TUN
 * link), and as a TCP segment, a UDP datagram and an ICMP message on their
 * own, so that the fuzzer reaches the option parser without first having
 * to make an IPv4 header whose checksum holds. For every parse that
 * succeeds the harness checks what the rest of the stack relies on: every
 * length and pointer it reports lies inside the buffer, the fields are the
 * bytes where RFC 791, 793, 768, 792 and 826 put them, the checksums it
 * accepted are right by an independent sum, and emitting the parsed values
 * and parsing the result again gives the same values. The Internet
 * checksum itself is checked against a plain reference sum, in each of the
 * library's forms (vector and scalar, copy-and-sum, split sums).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "ustack/drop.h"
#include "wire/arp.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/udp.h"

/* Addresses for the pseudo-header of segments parsed on their own. */
#define SRC_ADDR 0x0a000001u
#define DST_ADDR 0x0a000002u

/* Room for anything an emitter may write: a TCP segment of the largest
 * input with the largest option block. */
#define OUT_CAP (FUZZ_MAX_INPUT + 128)

static uint8_t out_buf[OUT_CAP];
static uint8_t copy_buf[OUT_CAP];

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* RFC 1071 the slow way: 16-bit big-endian words, an odd last byte padded
 * with zero, the carries folded at the end. Returns the 16-bit sum. */
static uint16_t ref_sum(uint32_t start, const uint8_t *p, size_t n)
{
    uint64_t s = start;

    for (size_t i = 0; i + 1 < n; i += 2)
        s += be16(p + i);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static uint32_t ref_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
                           size_t len)
{
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
           proto + (uint32_t)len;
}

/* A right checksum makes the sum all ones (RFC 1071 §1). */
static bool ref_ok(uint32_t start, const uint8_t *p, size_t n)
{
    return ref_sum(start, p, n) == 0xffff;
}

/* Sums of the same bytes, however they were made, finish to the same
 * checksum. */
static void check_checksum(const uint8_t *data, size_t size)
{
    uint16_t ref = ref_sum(0, data, size);
    uint32_t v = ustk_csum_add(0, data, size);
    uint32_t sc = ustk__csum_add_scalar(0, data, size);

    FUZZ_CHECK(ustk_csum_finish(v) == ustk_csum_finish(sc));
    uint16_t want = (uint16_t)(0xffffu - ref);
    FUZZ_CHECK(ustk_csum_finish(v) == want);
    if (size == 0)
        return;

    /* Copy and sum in one pass: the same bytes, the same sum. */
    uint32_t cp = ustk_csum_copy(0, copy_buf, data, size);
    FUZZ_CHECK(memcmp(copy_buf, data, size) == 0);
    FUZZ_CHECK(ustk_csum_finish(cp) == ustk_csum_finish(v));

    /* Split at a point the first byte chooses: an even split adds the
     * second piece to the first's sum; an odd one joins the two sums
     * (RFC 1071 §2(B)). */
    size_t cut = data[0] % size;
    uint32_t a = ustk_csum_add(0, data, cut);
    uint32_t b = ustk_csum_add(0, data + cut, size - cut);
    FUZZ_CHECK(ustk_csum_finish(ustk_csum_join(a, b, (int)(cut & 1))) ==
               ustk_csum_finish(v));
    if ((cut & 1) == 0)
        FUZZ_CHECK(ustk_csum_finish(ustk_csum_add(a, data + cut,
                                                  size - cut)) ==
                   ustk_csum_finish(v));
    /* The header form: whole 32-bit words. */
    size_t words = size & ~(size_t)3;
    FUZZ_CHECK(ustk_csum_finish(ustk_csum_words(0, data, words)) ==
               ustk_csum_finish(ustk_csum_add(0, data, words)));
}

static void check_eth(const uint8_t *data, size_t size, ustk_eth_hdr *h)
{
    FUZZ_CHECK(size >= USTK_ETH_HDR_LEN);
    FUZZ_CHECK(memcmp(h->dst, data, 6) == 0);
    FUZZ_CHECK(memcmp(h->src, data + 6, 6) == 0);
    FUZZ_CHECK(h->type == be16(data + 12));
    FUZZ_CHECK(ustk_eth_emit(h, out_buf, 13) == 0);
    FUZZ_CHECK(ustk_eth_emit(h, out_buf, OUT_CAP) == USTK_ETH_HDR_LEN);
    FUZZ_CHECK(memcmp(out_buf, data, USTK_ETH_HDR_LEN) == 0);
}

static void fuzz_arp(const uint8_t *data, size_t size)
{
    ustk_arp_pkt p;
    int rc = ustk_arp_parse(data, size, &p);

    if (size < USTK_ARP_LEN)
        FUZZ_CHECK(rc == USTK_DROP_ARP_SHORT);
    if (rc != 0)
        return;
    FUZZ_CHECK(size >= USTK_ARP_LEN);
    FUZZ_CHECK(p.op == USTK_ARP_REQUEST || p.op == USTK_ARP_REPLY);
    FUZZ_CHECK(be16(data) == 1 && be16(data + 2) == 0x0800);
    FUZZ_CHECK(data[4] == 6 && data[5] == 4);
    FUZZ_CHECK(p.op == be16(data + 6));
    FUZZ_CHECK(memcmp(p.sha, data + 8, 6) == 0 && p.spa == be32(data + 14));
    FUZZ_CHECK(memcmp(p.tha, data + 18, 6) == 0 && p.tpa == be32(data + 24));
    FUZZ_CHECK(ustk_arp_emit(&p, out_buf, USTK_ARP_LEN - 1) == 0);
    FUZZ_CHECK(ustk_arp_emit(&p, out_buf, OUT_CAP) == USTK_ARP_LEN);
    FUZZ_CHECK(memcmp(out_buf, data, USTK_ARP_LEN) == 0);
}

static bool same_opts(const ustk_tcp_opts *a, const ustk_tcp_opts *b)
{
    if (a->has != b->has)
        return false;
    if ((a->has & USTK_OPT_MSS) && a->mss != b->mss)
        return false;
    if ((a->has & USTK_OPT_WSCALE) && a->wscale != b->wscale)
        return false;
    if ((a->has & USTK_OPT_TS) &&
        (a->ts_val != b->ts_val || a->ts_ecr != b->ts_ecr))
        return false;
    if (a->has & USTK_OPT_SACK) {
        if (a->nsack != b->nsack)
            return false;
        for (unsigned i = 0; i < a->nsack; i++)
            if (a->sack[i][0] != b->sack[i][0] ||
                a->sack[i][1] != b->sack[i][1])
                return false;
    }
    return true;
}

/* What the TCP parser said about seg[0, len) holds, and so does what it
 * says about the segment emitted from its result. */
static void check_tcp(const uint8_t *seg, size_t len, uint32_t src,
                      uint32_t dst, const ustk_tcp_hdr *h)
{
    FUZZ_CHECK(len >= USTK_TCP_HDR_LEN);
    FUZZ_CHECK(h->hdr_len >= USTK_TCP_HDR_LEN && h->hdr_len <= 60);
    FUZZ_CHECK(h->hdr_len % 4 == 0 && h->hdr_len <= len);
    FUZZ_CHECK(h->hdr_len == (seg[12] >> 4) * 4);
    FUZZ_CHECK(h->sport == be16(seg) && h->dport == be16(seg + 2));
    FUZZ_CHECK(h->seq == be32(seg + 4) && h->ack == be32(seg + 8));
    FUZZ_CHECK(h->flags == seg[13] && h->wnd == be16(seg + 14));
    FUZZ_CHECK(h->urp == be16(seg + 18));
    FUZZ_CHECK(h->opts.nsack <= USTK_TCP_MAX_SACK);
    FUZZ_CHECK(((h->opts.has & USTK_OPT_SACK) != 0) == (h->opts.nsack > 0));
    FUZZ_CHECK((h->opts.has & ~(USTK_OPT_MSS | USTK_OPT_WSCALE |
                                USTK_OPT_SACK_PERM | USTK_OPT_SACK |
                                USTK_OPT_TS)) == 0);
    /* An option the header has no room for was never there. */
    if (h->hdr_len == USTK_TCP_HDR_LEN)
        FUZZ_CHECK(h->opts.has == 0);

    /* Emit what was parsed, with the same payload, and parse it again. */
    size_t plen = len - h->hdr_len;
    size_t n = ustk_tcp_emit(h, seg + h->hdr_len, plen, src, dst, out_buf,
                             OUT_CAP);
    size_t olen = ustk_tcp_opts_len(&h->opts);
    FUZZ_CHECK(olen <= USTK_TCP_MAX_OPT_LEN && olen % 4 == 0);
    if (USTK_TCP_HDR_LEN + olen + plen > 0xffff) {
        FUZZ_CHECK(n == 0);
        return;
    }
    FUZZ_CHECK(n == USTK_TCP_HDR_LEN + olen + plen);
    FUZZ_CHECK(ustk_tcp_emit(h, seg + h->hdr_len, plen, src, dst, copy_buf,
                             n - 1) == 0);
    FUZZ_CHECK(ref_ok(ref_pseudo(src, dst, USTK_IP_PROTO_TCP, n), out_buf, n));
    ustk_tcp_hdr h2;
    FUZZ_CHECK(ustk_tcp_parse(out_buf, n, src, dst, true, &h2) == 0);
    FUZZ_CHECK(h2.hdr_len == USTK_TCP_HDR_LEN + olen);
    FUZZ_CHECK(h2.sport == h->sport && h2.dport == h->dport);
    FUZZ_CHECK(h2.seq == h->seq && h2.ack == h->ack);
    FUZZ_CHECK(h2.flags == h->flags && h2.wnd == h->wnd && h2.urp == h->urp);
    FUZZ_CHECK(memcmp(out_buf + h2.hdr_len, seg + h->hdr_len, plen) == 0);
    /* SACK blocks beyond what fits beside the other options are left out
     * (RFC 2018 §3); everything else comes back as it was. */
    ustk_tcp_opts want = h->opts;
    FUZZ_CHECK(h2.opts.nsack <= want.nsack);
    want.nsack = h2.opts.nsack;
    FUZZ_CHECK(same_opts(&want, &h2.opts));

    /* The partial form holds the pseudo-header sum: adding the segment
     * completes it. */
    n = ustk_tcp_emit_partial(h, seg + h->hdr_len, plen, src, dst, copy_buf,
                              OUT_CAP);
    FUZZ_CHECK(n == h2.hdr_len + plen);
    FUZZ_CHECK(memcmp(copy_buf, out_buf, 16) == 0);
    FUZZ_CHECK(memcmp(copy_buf + 18, out_buf + 18, n - 18) == 0);
    uint16_t part = be16(copy_buf + 16);
    copy_buf[16] = copy_buf[17] = 0;
    uint16_t full = (uint16_t)~ref_sum(part, copy_buf, n);
    FUZZ_CHECK(full == be16(out_buf + 16) ||
               (full == 0 && be16(out_buf + 16) == 0xffff) ||
               (full == 0xffff && be16(out_buf + 16) == 0));
}

/* The two parses of a TCP segment agree: with the checksum checked or not,
 * and the fast path for NOP NOP TS against the general option list (the
 * same options written as TS NOP NOP). */
static void fuzz_tcp(const uint8_t *seg, size_t len, uint32_t src,
                     uint32_t dst)
{
    ustk_tcp_hdr h, hv;
    int rc, rcv;

    memset(&h, 0xa5, sizeof h);
    memset(&hv, 0x5a, sizeof hv);
    rc = ustk_tcp_parse(seg, len, src, dst, false, &h);
    rcv = ustk_tcp_parse(seg, len, src, dst, true, &hv);
    if (len < USTK_TCP_HDR_LEN)
        FUZZ_CHECK(rc == USTK_DROP_TCP_SHORT && rcv == rc);
    if (rc != 0) {
        /* A failed parse leaves *out untouched. */
        uint8_t pat[sizeof h];
        memset(pat, 0xa5, sizeof pat);
        FUZZ_CHECK(memcmp(&h, pat, sizeof h) == 0);
        FUZZ_CHECK(rcv != 0);
        return;
    }
    check_tcp(seg, len, src, dst, &h);
    if (rcv == 0) {
        FUZZ_CHECK(len <= 0xffff);
        FUZZ_CHECK(ref_ok(ref_pseudo(src, dst, USTK_IP_PROTO_TCP, len), seg,
                          len));
        FUZZ_CHECK(memcmp(&h.opts, &hv.opts, sizeof h.opts) == 0);
        FUZZ_CHECK(h.seq == hv.seq && h.ack == hv.ack &&
                   h.hdr_len == hv.hdr_len && h.flags == hv.flags);
    } else {
        FUZZ_CHECK(rcv == USTK_DROP_TCP_CHECKSUM);
        FUZZ_CHECK(len > 0xffff ||
                   !ref_ok(ref_pseudo(src, dst, USTK_IP_PROTO_TCP, len), seg,
                           len));
    }

    if (h.hdr_len == 32 && be32(seg + 20) == 0x0101080au) {
        ustk_tcp_hdr g;
        memcpy(copy_buf, seg, len);
        memcpy(copy_buf + 20, seg + 22, 10);
        copy_buf[30] = copy_buf[31] = 1;
        FUZZ_CHECK(ustk_tcp_parse(copy_buf, len, src, dst, false, &g) == 0);
        FUZZ_CHECK(same_opts(&g.opts, &h.opts));
        FUZZ_CHECK(g.opts.has == USTK_OPT_TS);
    }
}

static void fuzz_udp(const uint8_t *d, size_t len, uint32_t src, uint32_t dst)
{
    ustk_udp_hdr u;
    int rc = ustk_udp_parse(d, len, src, dst, &u);

    if (len < USTK_UDP_HDR_LEN)
        FUZZ_CHECK(rc == USTK_DROP_UDP_SHORT);
    if (rc != 0)
        return;
    FUZZ_CHECK(u.len >= USTK_UDP_HDR_LEN && u.len <= len);
    FUZZ_CHECK(u.sport == be16(d) && u.dport == be16(d + 2));
    FUZZ_CHECK(u.len == be16(d + 4) && u.csum == be16(d + 6));
    if (u.csum != 0)
        FUZZ_CHECK(ref_ok(ref_pseudo(src, dst, USTK_IP_PROTO_UDP, u.len), d,
                          u.len));

    size_t plen = u.len - USTK_UDP_HDR_LEN;
    size_t n = ustk_udp_emit(u.sport, u.dport, d + USTK_UDP_HDR_LEN, plen,
                             src, dst, out_buf, OUT_CAP);
    FUZZ_CHECK(n == u.len);
    FUZZ_CHECK(be16(out_buf + 6) != 0);
    FUZZ_CHECK(ustk_udp_emit(u.sport, u.dport, d + USTK_UDP_HDR_LEN, plen,
                             src, dst, copy_buf, n - 1) == 0);
    ustk_udp_hdr u2;
    FUZZ_CHECK(ustk_udp_parse(out_buf, n, src, dst, &u2) == 0);
    FUZZ_CHECK(u2.sport == u.sport && u2.dport == u.dport && u2.len == u.len);
    FUZZ_CHECK(memcmp(out_buf + 8, d + 8, plen) == 0);
    /* The header alone sums the same. */
    uint8_t hdr[USTK_UDP_HDR_LEN];
    FUZZ_CHECK(ustk_udp_emit_header(u.sport, u.dport, d + 8, plen, src, dst,
                                    hdr) == USTK_UDP_HDR_LEN);
    FUZZ_CHECK(memcmp(hdr, out_buf, USTK_UDP_HDR_LEN) == 0);
}

static void fuzz_icmp(const uint8_t *d, size_t len)
{
    ustk_icmp_hdr m, mh;
    int rc = ustk_icmp_parse(d, len, &m);
    int rch = ustk_icmp_parse_header(d, len, &mh);

    if (len < USTK_ICMP_HDR_LEN)
        FUZZ_CHECK(rc == USTK_DROP_ICMP_SHORT && rch == rc);
    if (rch == 0) {
        FUZZ_CHECK(mh.data == d + USTK_ICMP_HDR_LEN);
        FUZZ_CHECK(mh.data_len == len - USTK_ICMP_HDR_LEN);
        FUZZ_CHECK(mh.type == d[0] && mh.code == d[1]);
        FUZZ_CHECK(mh.rest == be32(d + 4));
    }
    if (rc != 0)
        return;
    FUZZ_CHECK(rch == 0);
    FUZZ_CHECK(ref_ok(0, d, len));
    FUZZ_CHECK(m.data == d + USTK_ICMP_HDR_LEN);
    FUZZ_CHECK(m.data_len == len - USTK_ICMP_HDR_LEN);
    FUZZ_CHECK(m.type == d[0] && m.code == d[1] && m.rest == be32(d + 4));

    size_t n = ustk_icmp_emit(&m, out_buf, OUT_CAP);
    FUZZ_CHECK(n == len);
    FUZZ_CHECK(memcmp(out_buf + 8, d + 8, len - 8) == 0);
    ustk_icmp_hdr m2;
    FUZZ_CHECK(ustk_icmp_parse(out_buf, n, &m2) == 0);
    FUZZ_CHECK(m2.type == m.type && m2.code == m.code && m2.rest == m.rest);
    uint8_t hdr[USTK_ICMP_HDR_LEN];
    FUZZ_CHECK(ustk_icmp_emit_header(&m, hdr) == USTK_ICMP_HDR_LEN);
    FUZZ_CHECK(memcmp(hdr, out_buf, USTK_ICMP_HDR_LEN) == 0);

    ustk_icmp_quote q;
    if (ustk_icmp_quote_parse(&m, &q) != 0)
        return;
    const uint8_t *qh = m.data;
    FUZZ_CHECK(q.hdr_len >= 20 && q.hdr_len <= 60 && q.hdr_len % 4 == 0);
    FUZZ_CHECK((size_t)q.hdr_len + USTK_ICMP_QUOTE_DATA <= m.data_len);
    FUZZ_CHECK(q.total_len >= q.hdr_len + USTK_ICMP_QUOTE_DATA);
    FUZZ_CHECK((q.frag & USTK_IPV4_OFFMASK) == 0);
    FUZZ_CHECK(q.proto == qh[9] && q.src == be32(qh + 12) &&
               q.dst == be32(qh + 16));
    FUZZ_CHECK(q.total_len == be16(qh + 2) && q.id == be16(qh + 4));
    FUZZ_CHECK(q.sport == be16(qh + q.hdr_len));
    FUZZ_CHECK(q.tcp_seq == be32(qh + q.hdr_len + 4));
}

/* A bare IPv4 packet and what it carries. */
static void fuzz_ipv4(const uint8_t *d, size_t len)
{
    ustk_ipv4_hdr ip;
    int rc = ustk_ipv4_parse(d, len, &ip);

    if (len < USTK_IPV4_HDR_LEN)
        FUZZ_CHECK(rc == USTK_DROP_IP_SHORT);
    if (rc != 0)
        return;
    FUZZ_CHECK(d[0] >> 4 == 4);
    FUZZ_CHECK(ip.hdr_len >= USTK_IPV4_HDR_LEN && ip.hdr_len % 4 == 0);
    FUZZ_CHECK(ip.hdr_len == (d[0] & 15) * 4);
    FUZZ_CHECK(ip.hdr_len <= ip.total_len && ip.total_len <= len);
    FUZZ_CHECK(ip.total_len == be16(d + 2));
    FUZZ_CHECK(ref_ok(0, d, ip.hdr_len));
    FUZZ_CHECK(ip.tos == d[1] && ip.id == be16(d + 4));
    FUZZ_CHECK(ip.frag == be16(d + 6) && ip.ttl == d[8]);
    FUZZ_CHECK(ip.proto == d[9]);
    FUZZ_CHECK(ip.src == be32(d + 12) && ip.dst == be32(d + 16));
    FUZZ_CHECK(ustk_ipv4_frag_offset(&ip) == (be16(d + 6) & 0x1fffu) * 8u);
    FUZZ_CHECK(ustk_ipv4_is_fragment(&ip) ==
               ((be16(d + 6) & 0x3fff) != 0));

    /* Emitting the parsed header gives the same 20 bytes (the checksum may
     * be either form of zero), and the result parses to the same values. */
    FUZZ_CHECK(ustk_ipv4_emit(&ip, out_buf, 19) == 0);
    FUZZ_CHECK(ustk_ipv4_emit(&ip, out_buf, OUT_CAP) == USTK_IPV4_HDR_LEN);
    FUZZ_CHECK(ref_ok(0, out_buf, USTK_IPV4_HDR_LEN));
    if (ip.hdr_len == USTK_IPV4_HDR_LEN) {
        FUZZ_CHECK(memcmp(out_buf, d, 10) == 0);
        FUZZ_CHECK(memcmp(out_buf + 12, d + 12, 8) == 0);
    }
    memcpy(out_buf + USTK_IPV4_HDR_LEN, d + ip.hdr_len,
           ip.total_len - ip.hdr_len);
    ustk_ipv4_hdr ip2;
    uint16_t tl2 = (uint16_t)(ip.total_len - ip.hdr_len + USTK_IPV4_HDR_LEN);
    ip.total_len = tl2;
    FUZZ_CHECK(ustk_ipv4_emit(&ip, out_buf, OUT_CAP) == USTK_IPV4_HDR_LEN);
    FUZZ_CHECK(ustk_ipv4_parse(out_buf, tl2, &ip2) == 0);
    FUZZ_CHECK(ip2.hdr_len == USTK_IPV4_HDR_LEN && ip2.total_len == tl2);
    FUZZ_CHECK(ip2.id == ip.id && ip2.frag == ip.frag && ip2.ttl == ip.ttl);
    FUZZ_CHECK(ip2.proto == ip.proto && ip2.src == ip.src &&
               ip2.dst == ip.dst && ip2.tos == ip.tos);

    /* Rewriting length and fragment field keeps the header valid. */
    memcpy(copy_buf, d, ip.hdr_len);
    uint16_t tl = (uint16_t)(ip.frag ^ 0x1234), fr = (uint16_t)(ip.id + 1);
    ustk_ipv4_rewrite(copy_buf, ip.hdr_len, tl, fr);
    FUZZ_CHECK(ref_ok(0, copy_buf, ip.hdr_len));
    FUZZ_CHECK(be16(copy_buf + 2) == tl && be16(copy_buf + 6) == fr);
    FUZZ_CHECK(memcmp(copy_buf + 12, d + 12, ip.hdr_len - 12) == 0);

    /* Later fragments carry no transport header. */
    if (ustk_ipv4_frag_offset(&ip) != 0)
        return;
    const uint8_t *p = d + ip.hdr_len;
    size_t plen = (size_t)be16(d + 2) - ip.hdr_len;
    switch (ip.proto) {
    case USTK_IP_PROTO_TCP:
        fuzz_tcp(p, plen, ip.src, ip.dst);
        break;
    case USTK_IP_PROTO_UDP:
        fuzz_udp(p, plen, ip.src, ip.dst);
        break;
    case USTK_IP_PROTO_ICMP:
        fuzz_icmp(p, plen);
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ustk_eth_hdr eth;

    if (size > FUZZ_MAX_INPUT)
        return 0;
    check_checksum(data, size);

    /* An Ethernet frame. */
    int rc = ustk_eth_parse(data, size, &eth);
    FUZZ_CHECK((rc == 0) == (size >= USTK_ETH_HDR_LEN));
    if (rc == 0) {
        check_eth(data, size, &eth);
        if (eth.type == USTK_ETHERTYPE_ARP)
            fuzz_arp(data + USTK_ETH_HDR_LEN, size - USTK_ETH_HDR_LEN);
        else if (eth.type == USTK_ETHERTYPE_IPV4)
            fuzz_ipv4(data + USTK_ETH_HDR_LEN, size - USTK_ETH_HDR_LEN);
    }
    /* The same bytes as a TUN link's packet, and as each payload alone. */
    fuzz_ipv4(data, size);
    fuzz_arp(data, size);
    fuzz_tcp(data, size, SRC_ADDR, DST_ADDR);
    fuzz_udp(data, size, SRC_ADDR, DST_ADDR);
    fuzz_icmp(data, size);
    return 0;
}
