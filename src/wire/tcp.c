/* TCP header and options (RFC 9293 §3.1, RFC 7323, RFC 2018). */
#include "wire/tcp.h"

#include <stdbool.h>
#include <string.h>

#include "ustack/drop.h"
#include "util/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

/* Option kinds and lengths: RFC 9293 §3.2, RFC 7323 §2.2 and §3.2, RFC 2018
 * §2 and §3. */
enum {
    OPT_EOL = 0,
    OPT_NOP = 1,
    OPT_MSS = 2,
    OPT_WS = 3,
    OPT_SACK_PERM = 4,
    OPT_SACK = 5,
    OPT_TS = 8
};
enum {
    OPTLEN_MSS = 4,
    OPTLEN_WS = 3,
    OPTLEN_SACK_PERM = 2,
    OPTLEN_SACK_BLOCK = 8,
    OPTLEN_TS = 10
};

/* The SACK option: kind, length and n blocks of two sequence numbers. RFC
 * 2018 §3: "a SACK option that specifies n blocks will have a length of 8*n+2
 * bytes". The 40-byte option area already limits n to 4; checking it here
 * keeps sack[] safe whatever the caller's bound on the area. */
static int parse_sack(const uint8_t *p, size_t olen, ustk_tcp_opts *o)
{
    size_t n = (olen - 2) / OPTLEN_SACK_BLOCK;

    if (olen < 2 + OPTLEN_SACK_BLOCK || (olen - 2) % OPTLEN_SACK_BLOCK != 0 ||
        n > USTK_TCP_MAX_SACK)
        return USTK_DROP_TCP_OPTION;
    for (size_t i = 0; i < n; i++) {
        o->sack[i][0] = ustk_load_be32(p + 2 + i * OPTLEN_SACK_BLOCK);
        o->sack[i][1] = ustk_load_be32(p + 6 + i * OPTLEN_SACK_BLOCK);
    }
    o->nsack = (uint8_t)n;
    o->has |= USTK_OPT_SACK;
    return 0;
}

/* One option with a length byte, p[0, olen) inside the header, olen >= 2.
 * Values are kept as received, whatever segment they came on: whether an MSS
 * or window scale on a non-SYN is ignored (RFC 7323 §2.2), or a shift above
 * 14 clamped (RFC 7323 §2.3), is the connection's decision, not the
 * parser's. */
static int parse_option(const uint8_t *p, size_t olen, ustk_tcp_opts *o)
{
    switch (p[0]) {
    case OPT_MSS:
        if (olen != OPTLEN_MSS)
            return USTK_DROP_TCP_OPTION;
        o->mss = ustk_load_be16(p + 2);
        o->has |= USTK_OPT_MSS;
        return 0;
    case OPT_WS:
        if (olen != OPTLEN_WS)
            return USTK_DROP_TCP_OPTION;
        o->wscale = p[2];
        o->has |= USTK_OPT_WSCALE;
        return 0;
    case OPT_SACK_PERM:
        if (olen != OPTLEN_SACK_PERM)
            return USTK_DROP_TCP_OPTION;
        o->has |= USTK_OPT_SACK_PERM;
        return 0;
    case OPT_SACK:
        return parse_sack(p, olen, o);
    case OPT_TS:
        if (olen != OPTLEN_TS)
            return USTK_DROP_TCP_OPTION;
        o->ts_val = ustk_load_be32(p + 2);
        o->ts_ecr = ustk_load_be32(p + 6);
        o->has |= USTK_OPT_TS;
        return 0;
    default:
        /* RFC 9293 §3.1 (MUST-6): an option we do not implement is ignored
         * without error; its length byte tells us how far to skip. */
        return 0;
    }
}

/* The option list p[0, n): everything between the fixed header and the data
 * offset. */
static int parse_options(const uint8_t *p, size_t n, ustk_tcp_opts *o)
{
    size_t i = 0;

    while (i < n) {
        size_t olen;
        int err;

        /* RFC 9293 §3.2: End of Option List ends the list even when the data
         * offset says there is more (the rest is padding). */
        if (p[i] == OPT_EOL)
            break;
        if (p[i] == OPT_NOP) {
            i++;
            continue;
        }
        /* RFC 9293 §3.1 (MUST-7): be prepared for an illegal option length.
         * Every other kind has a length byte that counts kind and length,
         * so it is at least 2, and the option must end inside the header. */
        if (n - i < 2)
            return USTK_DROP_TCP_OPTION;
        olen = p[i + 1];
        if (olen < 2 || olen > n - i)
            return USTK_DROP_TCP_OPTION;
        err = parse_option(p + i, olen, o);
        if (err)
            return err;
        i += olen;
    }
    return 0;
}

int ustk_tcp_parse(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst,
                   bool verify, ustk_tcp_hdr *out)
{
    size_t off;
    int err;

    if (len < USTK_TCP_HDR_LEN)
        return USTK_DROP_TCP_SHORT;
    /* RFC 9293 §3.1: Data Offset is the header length in 32-bit words; at
     * least 5, and the header cannot be longer than the segment. */
    off = (size_t)(seg[12] >> 4) * 4;
    if (off < USTK_TCP_HDR_LEN || off > len)
        return USTK_DROP_TCP_HDR_LEN;
    /* RFC 9293 §3.1: the checksum covers the pseudo-header, header and data.
     * Its TCP Length is 16 bits (an IPv4 payload cannot be longer), so a
     * longer "segment" cannot carry a right checksum. */
    if (verify) {
        if (len > 0xffff ||
            ustk_csum_finish(ustk_csum_add(
                ustk_csum_pseudo(0, src, dst, USTK_IP_PROTO_TCP, (uint16_t)len),
                seg, len)) != 0)
            return USTK_DROP_TCP_CHECKSUM;
    }

    ustk_tcp_hdr *h = out;
    if (off == USTK_TCP_HDR_LEN + 12 &&
        ustk_load_be32(seg + USTK_TCP_HDR_LEN) ==
            ((uint32_t)OPT_NOP << 24 | (uint32_t)OPT_NOP << 16 |
             (uint32_t)OPT_TS << 8 | OPTLEN_TS)) {
        /* The layout nearly every segment of a connection with timestamps
         * has (RFC 7323 Appendix A): two NOPs and the timestamps. */
        memset(h, 0, sizeof *h);
        h->opts.ts_val = ustk_load_be32(seg + USTK_TCP_HDR_LEN + 4);
        h->opts.ts_ecr = ustk_load_be32(seg + USTK_TCP_HDR_LEN + 8);
        h->opts.has = USTK_OPT_TS;
    } else {
        /* Parsed aside: a failure leaves *out as it was. */
        ustk_tcp_opts o;
        memset(&o, 0, sizeof o);
        err = parse_options(seg + USTK_TCP_HDR_LEN, off - USTK_TCP_HDR_LEN,
                            &o);
        if (err)
            return err;
        memset(h, 0, sizeof *h);
        h->opts = o;
    }
    h->sport = ustk_load_be16(seg);
    h->dport = ustk_load_be16(seg + 2);
    h->seq = ustk_load_be32(seg + 4);
    h->ack = ustk_load_be32(seg + 8);
    h->hdr_len = (uint8_t)off;
    /* The low bit of byte 12 (the former NS bit, RFC 3540, now historic) and
     * the three reserved bits are ignored. */
    h->flags = seg[13];
    h->wnd = ustk_load_be16(seg + 14);
    h->urp = ustk_load_be16(seg + 18);
    return 0;
}

/* Option bytes before any SACK blocks: MSS (4), timestamps (12, with
 * SACK-permitted folded into its two leading bytes when both are present),
 * SACK-permitted alone (4), window scale (4). */
static size_t fixed_opts_len(const ustk_tcp_opts *o)
{
    size_t n = 0;

    if (o->has & USTK_OPT_MSS)
        n += 4;
    if (o->has & USTK_OPT_TS)
        n += 12;
    else if (o->has & USTK_OPT_SACK_PERM)
        n += 4;
    if (o->has & USTK_OPT_WSCALE)
        n += 4;
    return n;
}

/* SACK blocks we will send: as many of o's as fit after the other options in
 * the 40 option bytes (RFC 2018 §3: four alone, three beside timestamps). */
static size_t sack_blocks(const ustk_tcp_opts *o)
{
    size_t room, n;

    if (!(o->has & USTK_OPT_SACK) || o->nsack == 0)
        return 0;
    room = (USTK_TCP_MAX_OPT_LEN - fixed_opts_len(o) - 4) / OPTLEN_SACK_BLOCK;
    n = o->nsack < USTK_TCP_MAX_SACK ? o->nsack : USTK_TCP_MAX_SACK;
    return n < room ? n : room;
}

size_t ustk_tcp_opts_len(const ustk_tcp_opts *o)
{
    size_t n = sack_blocks(o);

    return fixed_opts_len(o) + (n ? 4 + n * OPTLEN_SACK_BLOCK : 0);
}

static uint32_t word4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

/* Write the options in Linux's order and alignment (tcp_options_write()), so
 * that captures of either stack look alike. NOPs keep every 32-bit value
 * aligned, as RFC 7323 Appendix A suggests for timestamps; so every option
 * is written, and summed, as whole 32-bit words. */
static void put_options(const ustk_tcp_opts *o, ustk_csum_writer *w)
{
    size_t nsack = sack_blocks(o);

    if (o->has & USTK_OPT_MSS)
        ustk_csum_put32(w, word4(OPT_MSS, OPTLEN_MSS, 0, 0) | o->mss);
    if (o->has & USTK_OPT_TS) {
        if (o->has & USTK_OPT_SACK_PERM)
            ustk_csum_put32(w, word4(OPT_SACK_PERM, OPTLEN_SACK_PERM, OPT_TS,
                                     OPTLEN_TS));
        else
            ustk_csum_put32(w, word4(OPT_NOP, OPT_NOP, OPT_TS, OPTLEN_TS));
        ustk_csum_put32(w, o->ts_val);
        ustk_csum_put32(w, o->ts_ecr);
    } else if (o->has & USTK_OPT_SACK_PERM) {
        ustk_csum_put32(w, word4(OPT_NOP, OPT_NOP, OPT_SACK_PERM,
                                 OPTLEN_SACK_PERM));
    }
    if (o->has & USTK_OPT_WSCALE)
        ustk_csum_put32(w, word4(OPT_NOP, OPT_WS, OPTLEN_WS, o->wscale));
    if (nsack) {
        ustk_csum_put32(w, word4(OPT_NOP, OPT_NOP, OPT_SACK,
                                 (uint8_t)(2 + nsack * OPTLEN_SACK_BLOCK)));
        for (size_t i = 0; i < nsack; i++) {
            ustk_csum_put32(w, o->sack[i][0]);
            ustk_csum_put32(w, o->sack[i][1]);
        }
    }
}

/* Header, options and payload in place; the checksum field is 0. *hsum is
 * the sum of the header and the pseudo-header, made as they are written
 * (see ustk_csum_writer), so the header is never read back. */
static size_t put_segment(const ustk_tcp_hdr *h, const uint8_t *payload,
                          size_t plen, uint32_t src, uint32_t dst,
                          uint8_t *buf, size_t cap, uint32_t *hsum)
{
    size_t hlen = USTK_TCP_HDR_LEN + ustk_tcp_opts_len(&h->opts);
    size_t total;

    /* The pseudo-header's TCP Length is 16 bits (RFC 9293 §3.1). */
    if (plen > 0xffffu - hlen)
        return 0;
    total = hlen + plen;
    if (cap < total)
        return 0;
    /* Move the payload first: it may sit where the header goes. */
    if (plen && payload && payload != buf + hlen)
        memmove(buf + hlen, payload, plen);
    ustk_csum_writer w = { buf, 0 };
    ustk_csum_put32(&w, (uint32_t)h->sport << 16 | h->dport);
    ustk_csum_put32(&w, h->seq);
    ustk_csum_put32(&w, h->ack);
    ustk_csum_put32(&w, (uint32_t)(hlen / 4 << 12 | h->flags) << 16 | h->wnd);
    ustk_csum_put32(&w, h->urp); /* the checksum, 0 for now, and urgent */
    put_options(&h->opts, &w);
    *hsum = ustk_csum_pseudo(ustk_csum_put_sum(&w), src, dst,
                             USTK_IP_PROTO_TCP, (uint16_t)total);
    return total;
}

size_t ustk_tcp_emit(const ustk_tcp_hdr *h, const uint8_t *payload, size_t plen,
                     uint32_t src, uint32_t dst, uint8_t *buf, size_t cap)
{
    uint32_t sum;
    size_t total = put_segment(h, payload, plen, src, dst, buf, cap, &sum);
    if (total == 0)
        return 0;
    /* The header is a whole number of 32-bit words: the payload's sum
     * joins it at an even offset. */
    sum = ustk_csum_add(sum, buf + (total - plen), plen);
    ustk_store_be16(buf + 16, ustk_csum_finish(sum));
    return total;
}

size_t ustk_tcp_emit_summed(const ustk_tcp_hdr *h, size_t plen, uint32_t psum,
                            uint32_t src, uint32_t dst, uint8_t *buf,
                            size_t cap)
{
    uint32_t sum;
    size_t total = put_segment(h, NULL, plen, src, dst, buf, cap, &sum);
    if (total == 0)
        return 0;
    sum = ustk_csum_join(sum, psum, 0);
    ustk_store_be16(buf + 16, ustk_csum_finish(sum));
    return total;
}

size_t ustk_tcp_emit_partial(const ustk_tcp_hdr *h, const uint8_t *payload,
                             size_t plen, uint32_t src, uint32_t dst,
                             uint8_t *buf, size_t cap)
{
    uint32_t hsum;
    size_t total = put_segment(h, payload, plen, src, dst, buf, cap, &hsum);
    if (total == 0)
        return 0;
    /* Only the pseudo-header's sum goes in: the device adds the rest. */
    uint32_t sum = ustk_csum_pseudo(0, src, dst, USTK_IP_PROTO_TCP,
                                    (uint16_t)total);
    ustk_store_be16(buf + 16, (uint16_t)~ustk_csum_finish(sum));
    return total;
}
