/* ICMP for IPv4 (RFC 792). */
#ifndef USTK_WIRE_ICMP_H
#define USTK_WIRE_ICMP_H

#include <stddef.h>
#include <stdint.h>

#define USTK_ICMP_HDR_LEN 8
#define USTK_ICMP_ECHO_REPLY 0
#define USTK_ICMP_DEST_UNREACH 3
#define USTK_ICMP_SOURCE_QUENCH 4
#define USTK_ICMP_REDIRECT 5
#define USTK_ICMP_ECHO_REQUEST 8
#define USTK_ICMP_TIME_EXCEEDED 11
#define USTK_ICMP_PARAM_PROBLEM 12

/* Destination unreachable codes (RFC 792; 6-12 RFC 1122 §3.2.2.1; 13-15
 * RFC 1812 §5.2.7.1). */
#define USTK_ICMP_NET_UNREACH 0
#define USTK_ICMP_HOST_UNREACH 1
#define USTK_ICMP_PROTO_UNREACH 2
#define USTK_ICMP_PORT_UNREACH 3
#define USTK_ICMP_FRAG_NEEDED 4
#define USTK_ICMP_SRCRT_FAILED 5
#define USTK_ICMP_NET_UNKNOWN 6
#define USTK_ICMP_HOST_UNKNOWN 7
#define USTK_ICMP_HOST_ISOLATED 8
#define USTK_ICMP_NET_PROHIBITED 9
#define USTK_ICMP_HOST_PROHIBITED 10
#define USTK_ICMP_NET_UNREACH_TOS 11
#define USTK_ICMP_HOST_UNREACH_TOS 12
#define USTK_ICMP_COMM_PROHIBITED 13
#define USTK_ICMP_PREC_VIOLATION 14
#define USTK_ICMP_PREC_CUTOFF 15

/* Time exceeded codes (RFC 792). */
#define USTK_ICMP_TTL_EXCEEDED 0
#define USTK_ICMP_REASM_EXCEEDED 1

/* Bytes of the offending datagram's payload an error quotes after its IP
 * header (RFC 792: "the first 64 bits of the original data datagram"). */
#define USTK_ICMP_QUOTE_DATA 8

typedef struct ustk_icmp_hdr {
    uint8_t type;
    uint8_t code;
    uint32_t rest; /* the 4 bytes after the checksum: id<<16|seq for echo,
                      next-hop MTU in the low 16 bits for "frag needed" */
    const uint8_t *data; /* points into the parsed buffer */
    size_t data_len;
} ustk_icmp_hdr;

/* Checks length (ICMP_SHORT) and checksum over the whole message
 * (ICMP_CHECKSUM). Returns 0 or the reason. */
int ustk_icmp_parse(const uint8_t *buf, size_t len, ustk_icmp_hdr *out);
/* The same without the checksum: for a message an application hands us
 * to send (its checksum is ours to compute). ICMP_SHORT or 0. */
int ustk_icmp_parse_header(const uint8_t *buf, size_t len, ustk_icmp_hdr *out);
/* Write header and data (h->data, h->data_len; data may already be in place
 * at buf + 8, or be NULL to mean so; it may overlap buf) with checksum.
 * Returns total bytes, or 0 when cap is small. */
size_t ustk_icmp_emit(const ustk_icmp_hdr *h, uint8_t *buf, size_t cap);
/* Write only the 8-byte header, its checksum covering the header and the
 * h->data_len bytes at h->data (which must not be NULL when data_len > 0),
 * for a message whose data is copied elsewhere later (fragments). Returns 8,
 * or 0 when data_len is beyond what an IPv4 datagram can carry. */
size_t ustk_icmp_emit_header(const ustk_icmp_hdr *h,
                             uint8_t hdr[USTK_ICMP_HDR_LEN]);

/* RFC 1122 §3.2.2: no ICMP error is ever sent about an ICMP error. The
 * query types (echo, timestamp, information, address mask and their
 * replies) are not errors; every other type, unknown ones included, is
 * treated as one. */
int ustk_icmp_type_is_error(uint8_t type);

/* What an ICMP error (destination unreachable, source quench, redirect,
 * time exceeded, parameter problem) quotes of the datagram it is about: its
 * IPv4 header and the first 8 bytes of its payload, in host order. */
typedef struct ustk_icmp_quote {
    uint8_t hdr_len;    /* the quoted header's length, 20..60 */
    uint8_t proto;
    uint16_t total_len; /* of the original datagram (may exceed the quote) */
    uint16_t id;
    uint16_t frag;
    uint32_t src, dst;
    /* The first 8 payload bytes, by the quoted protocol: */
    uint16_t sport, dport; /* TCP and UDP ports */
    uint32_t tcp_seq;      /* TCP sequence number */
    uint8_t icmp_type, icmp_code; /* ICMP */
    uint16_t echo_id, echo_seq;   /* ICMP echo identifier and sequence */
} ustk_icmp_quote;

/* Parse the quote in the data of an error message (h->data, h->data_len of
 * a parsed message). Checks, in order: at least 20 + 8 bytes
 * (ICMP_ERR_SHORT); version 4 and IHL >= 5 (ICMP_ERR_QUOTE); the header and
 * 8 bytes after it are all there (ICMP_ERR_SHORT); the quoted total length
 * covers them, and the quoted datagram is a first fragment, since only
 * there do the 8 bytes hold a transport header (ICMP_ERR_QUOTE). The quoted
 * header checksum is not checked: RFC 1812 §4.3.2.3 lets a router quote the
 * header as it was changed on the way (TTL), and the match on addresses,
 * ports and sequence numbers is the real test. Returns 0 or the reason. */
int ustk_icmp_quote_parse(const ustk_icmp_hdr *h, ustk_icmp_quote *out);

#endif
