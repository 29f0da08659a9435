/* IPv4 header (RFC 791). */
#ifndef USTK_WIRE_IPV4_H
#define USTK_WIRE_IPV4_H

#include <stddef.h>
#include <stdint.h>

#define USTK_IPV4_HDR_LEN 20 /* without options; we never emit options */
#define USTK_IP_PROTO_ICMP 1
#define USTK_IP_PROTO_TCP 6
#define USTK_IP_PROTO_UDP 17
#define USTK_IPV4_DF 0x4000
#define USTK_IPV4_MF 0x2000
#define USTK_IPV4_OFFMASK 0x1fff

typedef struct ustk_ipv4_hdr {
    uint8_t hdr_len;    /* bytes, 20..60; options (if any) are skipped */
    uint8_t tos;
    uint16_t total_len; /* header + payload */
    uint16_t id;
    uint16_t frag;      /* flags (DF, MF) and offset in 8-byte units */
    uint8_t ttl;
    uint8_t proto;
    uint32_t src, dst;  /* host order */
} ustk_ipv4_hdr;

/* Validate and parse. Checks, in order: at least 20 bytes (IP_SHORT),
 * version 4 (IP_VERSION), 20 <= IHL*4 <= len (IP_HDR_LEN), IHL*4 <=
 * total_len <= len (IP_TOTAL_LEN; bytes beyond total_len are link padding
 * and ignored), header checksum (IP_CHECKSUM). The payload is
 * buf[hdr_len, total_len). Returns 0 or the USTK_DROP_* reason. */
int ustk_ipv4_parse(const uint8_t *buf, size_t len, ustk_ipv4_hdr *out);
/* Write a 20-byte header (hdr_len is taken as 20, checksum computed) with
 * total_len as given. Returns 20, or 0 when cap is too small. */
size_t ustk_ipv4_emit(const ustk_ipv4_hdr *h, uint8_t *buf, size_t cap);

/* Rewrite Total Length and the flags/offset field of a header of hdr_len
 * bytes (options kept as they are) and compute its checksum again: the
 * header of a reassembled datagram is its first fragment's with these two
 * fields changed (RFC 791 §3.2, reassembly). */
void ustk_ipv4_rewrite(uint8_t *hdr, size_t hdr_len, uint16_t total_len,
                       uint16_t frag);

static inline int ustk_ipv4_is_fragment(const ustk_ipv4_hdr *h)
{
    return (h->frag & (USTK_IPV4_MF | USTK_IPV4_OFFMASK)) != 0;
}

/* Where a fragment's data goes in the datagram, in bytes. */
static inline uint32_t ustk_ipv4_frag_offset(const ustk_ipv4_hdr *h)
{
    return (uint32_t)(h->frag & USTK_IPV4_OFFMASK) * 8u;
}

#endif
