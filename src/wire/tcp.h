/* TCP header and options (RFC 9293 §3.1, RFC 7323, RFC 2018). */
#ifndef USTK_WIRE_TCP_H
#define USTK_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ustack/trace.h" /* USTK_TCP_* flags, USTK_OPT_* bits */

#define USTK_TCP_HDR_LEN 20
#define USTK_TCP_MAX_SACK 4
/* Largest option block we emit: MSS 4 + SACK-perm/TS 12 + NOP/WS 4 = 20 on a
 * SYN; TS 12 + NOP NOP SACK (4 + 8*3) = 40 otherwise (3 blocks with
 * timestamps). */
#define USTK_TCP_MAX_OPT_LEN 40

typedef struct ustk_tcp_opts {
    uint8_t has; /* USTK_OPT_* present */
    uint16_t mss;
    uint8_t wscale; /* as sent; the receiver clamps to 14 (RFC 7323 §2.3) */
    uint8_t nsack;
    uint32_t sack[USTK_TCP_MAX_SACK][2]; /* [left, right) */
    uint32_t ts_val, ts_ecr;
} ustk_tcp_opts;

typedef struct ustk_tcp_hdr {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t hdr_len; /* data offset in bytes, 20..60 */
    uint8_t flags;   /* USTK_TCP_* */
    uint16_t wnd;    /* raw, unscaled */
    uint16_t urp;
    ustk_tcp_opts opts;
} ustk_tcp_hdr;

/* Validate and parse a segment of len bytes (from the IP payload). Checks
 * TCP_SHORT, TCP_HDR_LEN (20 <= offset <= len), the checksum with the
 * pseudo-header of src/dst when verify is true (TCP_CHECKSUM), and options
 * (TCP_OPTION: an option whose length byte is < 2 or runs past the header,
 * or a known option with the wrong length). EOL ends the list; NOPs are
 * skipped; unknown options are skipped by their length. With verify, a len
 * above 65535 (more than an IPv4 payload can be) is TCP_CHECKSUM. On failure
 * *out is left untouched. The payload is seg[hdr_len, len). */
int ustk_tcp_parse(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst,
                   bool verify, ustk_tcp_hdr *out);

/* Bytes the options in o take on the wire, padded to a multiple of 4. */
size_t ustk_tcp_opts_len(const ustk_tcp_opts *o);

/* Write the header with h's fields and options (hdr_len is computed and
 * ignored on input), then the payload, then the checksum over the
 * pseudo-header of src/dst. payload may be NULL when the plen bytes are
 * already in place at buf + 20 + ustk_tcp_opts_len(&h->opts). Option order
 * matches Linux: MSS, SACK-permitted + timestamps (or NOP NOP + either),
 * NOP + window scale, NOP NOP + SACK blocks (when has USTK_OPT_SACK and nsack
 * > 0; as many as fit in 40 bytes). Returns the total length, or 0 when cap
 * is too small or the segment would be longer than 65535 bytes. */
size_t ustk_tcp_emit(const ustk_tcp_hdr *h, const uint8_t *payload, size_t plen,
                     uint32_t src, uint32_t dst, uint8_t *buf, size_t cap);
/* The same, with the plen bytes of payload already in place and psum their
 * sum (ustk_csum_add() from 0, or ustk_csum_copy() as they were put
 * there): the payload is not read again. */
size_t ustk_tcp_emit_summed(const ustk_tcp_hdr *h, size_t plen, uint32_t psum,
                            uint32_t src, uint32_t dst, uint8_t *buf,
                            size_t cap);

/* The same with a partial checksum, for a link that completes it (Linux's
 * CHECKSUM_PARTIAL, virtio-net's NEEDS_CSUM): the checksum field holds the
 * folded pseudo-header sum for the segment's length, not complemented, so
 * that the one's complement sum of the segment, stored in the field, is the
 * checksum. */
size_t ustk_tcp_emit_partial(const ustk_tcp_hdr *h, const uint8_t *payload,
                             size_t plen, uint32_t src, uint32_t dst,
                             uint8_t *buf, size_t cap);

#endif
