/* UDP header (RFC 768). */
#ifndef USTK_WIRE_UDP_H
#define USTK_WIRE_UDP_H

#include <stddef.h>
#include <stdint.h>

#define USTK_UDP_HDR_LEN 8

typedef struct ustk_udp_hdr {
    uint16_t sport, dport;
    uint16_t len; /* header + payload */
    uint16_t csum;
} ustk_udp_hdr;

/* Checks UDP_SHORT, UDP_LEN (8 <= len field <= len; bytes beyond the field
 * are ignored) and, when the checksum field is not zero, UDP_CHECKSUM with
 * the pseudo-header of src and dst (host order). */
int ustk_udp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
                   ustk_udp_hdr *out);
/* Write header + payload (payload may already be in place at buf + 8, or be
 * NULL to mean so) with checksum (0 is sent as 0xffff). Returns total bytes,
 * or 0 when cap is too small or plen > 65527 (the length field is 16 bits). */
size_t ustk_udp_emit(uint16_t sport, uint16_t dport, const uint8_t *payload,
                     size_t plen, uint32_t src, uint32_t dst, uint8_t *buf,
                     size_t cap);
/* Write only the 8-byte header, its checksum covering the pseudo-header,
 * the header and the plen bytes at payload (not NULL when plen > 0), for a
 * datagram whose payload is copied elsewhere later (fragments). Returns 8,
 * or 0 when plen > 65527. */
size_t ustk_udp_emit_header(uint16_t sport, uint16_t dport,
                            const uint8_t *payload, size_t plen, uint32_t src,
                            uint32_t dst, uint8_t hdr[USTK_UDP_HDR_LEN]);

#endif
