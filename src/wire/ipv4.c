/* IPv4 header (RFC 791 §3.1). */
#include "wire/ipv4.h"

#include "ustack/drop.h"
#include "util/bytes.h"
#include "wire/checksum.h"

int ustk_ipv4_parse(const uint8_t *buf, size_t len, ustk_ipv4_hdr *out)
{
    size_t ihl, total;

    if (len < USTK_IPV4_HDR_LEN)
        return USTK_DROP_IP_SHORT;
    /* RFC 1122 §3.2.1.1: a datagram whose version is not 4 MUST be silently
     * discarded. */
    if (buf[0] >> 4 != 4)
        return USTK_DROP_IP_VERSION;
    /* RFC 791 §3.1: IHL counts 32-bit words and "the minimum value for a
     * correct header is 5". Options must also lie inside what we were
     * given. */
    ihl = (size_t)(buf[0] & 0x0f) * 4;
    if (ihl < USTK_IPV4_HDR_LEN || ihl > len)
        return USTK_DROP_IP_HDR_LEN;
    /* RFC 791 §3.1: Total Length covers header and data. A frame may carry
     * more (Ethernet pads to 60 bytes), never less. */
    total = ustk_load_be16(buf + 2);
    if (total < ihl || total > len)
        return USTK_DROP_IP_TOTAL_LEN;
    /* RFC 1122 §3.2.1.2: a host MUST verify the header checksum on every
     * received datagram. A correct header, options included, sums to
     * 0xffff, which ustk_csum_finish() turns into 0. */
    if (ustk_csum_finish(ustk_csum_words(0, buf, ihl)) != 0)
        return USTK_DROP_IP_CHECKSUM;

    out->hdr_len = (uint8_t)ihl;
    out->tos = buf[1];
    out->total_len = (uint16_t)total;
    out->id = ustk_load_be16(buf + 4);
    out->frag = ustk_load_be16(buf + 6);
    out->ttl = buf[8];
    out->proto = buf[9];
    out->src = ustk_load_be32(buf + 12);
    out->dst = ustk_load_be32(buf + 16);
    return 0;
}

size_t ustk_ipv4_emit(const ustk_ipv4_hdr *h, uint8_t *buf, size_t cap)
{
    if (cap < USTK_IPV4_HDR_LEN)
        return 0;
    /* Version 4, IHL 5: we never send options. RFC 791 §3.1: "For
     * purposes of computing the checksum, the value of the checksum field
     * is zero." The words are summed as they are written. */
    ustk_csum_writer w = { buf, 0 };
    ustk_csum_put32(&w, 0x45u << 24 | (uint32_t)h->tos << 16 | h->total_len);
    ustk_csum_put32(&w, (uint32_t)h->id << 16 | h->frag);
    ustk_csum_put32(&w, (uint32_t)h->ttl << 24 | (uint32_t)h->proto << 16);
    ustk_csum_put32(&w, h->src);
    ustk_csum_put32(&w, h->dst);
    ustk_store_be16(buf + 10, ustk_csum_finish(ustk_csum_put_sum(&w)));
    return USTK_IPV4_HDR_LEN;
}

void ustk_ipv4_rewrite(uint8_t *hdr, size_t hdr_len, uint16_t total_len,
                       uint16_t frag)
{
    ustk_store_be16(hdr + 2, total_len);
    ustk_store_be16(hdr + 6, frag);
    ustk_store_be16(hdr + 10, 0);
    ustk_store_be16(hdr + 10,
                    ustk_csum_finish(ustk_csum_add(0, hdr, hdr_len)));
}
