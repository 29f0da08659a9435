/* ICMP for IPv4 (RFC 792). */
#ifndef USTK_WIRE_ICMP_H
#define USTK_WIRE_ICMP_H

#include <stddef.h>
#include <stdint.h>

#define USTK_ICMP_HDR_LEN 8
#define USTK_ICMP_ECHO_REPLY 0
#define USTK_ICMP_DEST_UNREACH 3
#define USTK_ICMP_ECHO_REQUEST 8
#define USTK_ICMP_TIME_EXCEEDED 11

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
/* Write header and data (h->data, h->data_len; data may already be in place
 * at buf + 8, or be NULL to mean so; it may overlap buf) with checksum.
 * Returns total bytes, or 0 when cap is small. */
size_t ustk_icmp_emit(const ustk_icmp_hdr *h, uint8_t *buf, size_t cap);

#endif
