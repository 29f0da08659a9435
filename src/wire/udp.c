/* UDP header (RFC 768). */
#include "wire/udp.h"

#include <string.h>

#include "ustack/drop.h"
#include "util/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

int ustk_udp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
                   ustk_udp_hdr *out)
{
    uint16_t ulen, csum;

    if (len < USTK_UDP_HDR_LEN)
        return USTK_DROP_UDP_SHORT;
    /* RFC 768: Length counts header and data, so at least 8. It may be less
     * than the IP payload (the rest is ignored), never more. */
    ulen = ustk_load_be16(buf + 4);
    if (ulen < USTK_UDP_HDR_LEN || ulen > len)
        return USTK_DROP_UDP_LEN;
    /* RFC 768: a zero checksum means the sender computed none. RFC 1122
     * §4.1.3.4: a non-zero, invalid checksum MUST be discarded. The sum runs
     * over the pseudo-header and the ulen bytes of the datagram. */
    csum = ustk_load_be16(buf + 6);
    if (csum != 0) {
        uint32_t s = ustk_csum_pseudo(0, src, dst, USTK_IP_PROTO_UDP, ulen);

        if (ustk_csum_finish(ustk_csum_add(s, buf, ulen)) != 0)
            return USTK_DROP_UDP_CHECKSUM;
    }
    out->sport = ustk_load_be16(buf);
    out->dport = ustk_load_be16(buf + 2);
    out->len = ulen;
    out->csum = csum;
    return 0;
}

size_t ustk_udp_emit(uint16_t sport, uint16_t dport, const uint8_t *payload,
                     size_t plen, uint32_t src, uint32_t dst, uint8_t *buf,
                     size_t cap)
{
    size_t total;

    /* The Length field is 16 bits: a larger datagram cannot be described. */
    if (plen > 0xffffu - USTK_UDP_HDR_LEN)
        return 0;
    total = USTK_UDP_HDR_LEN + plen;
    if (cap < total)
        return 0;
    if (plen && payload && payload != buf + USTK_UDP_HDR_LEN)
        memmove(buf + USTK_UDP_HDR_LEN, payload, plen);
    return ustk_udp_emit_header(sport, dport, buf + USTK_UDP_HDR_LEN, plen,
                                src, dst, buf) == 0
               ? 0
               : total;
}

size_t ustk_udp_emit_header(uint16_t sport, uint16_t dport,
                            const uint8_t *payload, size_t plen, uint32_t src,
                            uint32_t dst, uint8_t hdr[USTK_UDP_HDR_LEN])
{
    size_t total;
    uint16_t csum;
    uint32_t sum;

    if (plen > 0xffffu - USTK_UDP_HDR_LEN || (plen && !payload))
        return 0;
    total = USTK_UDP_HDR_LEN + plen;
    ustk_store_be16(hdr, sport);
    ustk_store_be16(hdr + 2, dport);
    ustk_store_be16(hdr + 4, (uint16_t)total);
    ustk_store_be16(hdr + 6, 0);
    /* The header is 8 bytes, so the payload's sum follows it as it is
     * (RFC 1071 §2). */
    sum = ustk_csum_pseudo(0, src, dst, USTK_IP_PROTO_UDP, (uint16_t)total);
    sum = ustk_csum_add(sum, hdr, USTK_UDP_HDR_LEN);
    if (plen)
        sum = ustk_csum_add(sum, payload, plen);
    csum = ustk_csum_finish(sum);
    /* RFC 768: "If the computed checksum is zero, it is transmitted as all
     * ones", since zero on the wire means "no checksum". */
    ustk_store_be16(hdr + 6, csum ? csum : 0xffff);
    return USTK_UDP_HDR_LEN;
}
