/* ICMP for IPv4 (RFC 792). */
#include "wire/icmp.h"

#include <string.h>

#include "ustack/drop.h"
#include "util/bytes.h"
#include "wire/checksum.h"

int ustk_icmp_parse(const uint8_t *buf, size_t len, ustk_icmp_hdr *out)
{
    /* RFC 792: every message has type, code, checksum and four more bytes
     * (identifier and sequence number, or unused, or the next-hop MTU). */
    if (len < USTK_ICMP_HDR_LEN)
        return USTK_DROP_ICMP_SHORT;
    /* RFC 792: the checksum covers "the ICMP message starting with the ICMP
     * Type", which is the whole IP payload. */
    if (ustk_csum_finish(ustk_csum_add(0, buf, len)) != 0)
        return USTK_DROP_ICMP_CHECKSUM;
    return ustk_icmp_parse_header(buf, len, out);
}

int ustk_icmp_parse_header(const uint8_t *buf, size_t len, ustk_icmp_hdr *out)
{
    if (len < USTK_ICMP_HDR_LEN)
        return USTK_DROP_ICMP_SHORT;
    out->type = buf[0];
    out->code = buf[1];
    out->rest = ustk_load_be32(buf + 4);
    out->data = buf + USTK_ICMP_HDR_LEN;
    out->data_len = len - USTK_ICMP_HDR_LEN;
    return 0;
}

size_t ustk_icmp_emit(const ustk_icmp_hdr *h, uint8_t *buf, size_t cap)
{
    size_t total;

    if (cap < USTK_ICMP_HDR_LEN || h->data_len > cap - USTK_ICMP_HDR_LEN)
        return 0;
    total = USTK_ICMP_HDR_LEN + h->data_len;
    /* Move the data before writing the header: an echo reply is often built
     * from the request's data, which may overlap the header we write. */
    if (h->data_len && h->data && h->data != buf + USTK_ICMP_HDR_LEN)
        memmove(buf + USTK_ICMP_HDR_LEN, h->data, h->data_len);
    buf[0] = h->type;
    buf[1] = h->code;
    ustk_store_be16(buf + 2, 0);
    ustk_store_be32(buf + 4, h->rest);
    ustk_store_be16(buf + 2, ustk_csum_finish(ustk_csum_add(0, buf, total)));
    return total;
}

size_t ustk_icmp_emit_header(const ustk_icmp_hdr *h,
                             uint8_t hdr[USTK_ICMP_HDR_LEN])
{
    /* The largest IPv4 payload is 65535 - 20 bytes. */
    if (h->data_len > 0xffffu - 20u - USTK_ICMP_HDR_LEN ||
        (h->data_len && !h->data))
        return 0;
    hdr[0] = h->type;
    hdr[1] = h->code;
    ustk_store_be16(hdr + 2, 0);
    ustk_store_be32(hdr + 4, h->rest);
    /* The header is 8 bytes, an even length, so the data's sum simply
     * follows it (RFC 1071 §2: the sum may be taken in pieces). */
    uint32_t sum = ustk_csum_add(0, hdr, USTK_ICMP_HDR_LEN);
    if (h->data_len)
        sum = ustk_csum_add(sum, h->data, h->data_len);
    ustk_store_be16(hdr + 2, ustk_csum_finish(sum));
    return USTK_ICMP_HDR_LEN;
}

int ustk_icmp_type_is_error(uint8_t type)
{
    switch (type) {
    case 0:  /* echo reply */
    case 8:  /* echo request */
    case 13: /* timestamp */
    case 14: /* timestamp reply */
    case 15: /* information request */
    case 16: /* information reply */
    case 17: /* address mask request (RFC 950) */
    case 18: /* address mask reply */
        return 0;
    default:
        return 1;
    }
}

int ustk_icmp_quote_parse(const ustk_icmp_hdr *h, ustk_icmp_quote *out)
{
    const uint8_t *q = h->data;
    size_t len = h->data_len;
    size_t ihl;

    /* RFC 792: the data of an error is "Internet Header + 64 bits of
     * Original Data Datagram"; RFC 1122 §3.2.2 lets it carry more. */
    if (len < 20 + USTK_ICMP_QUOTE_DATA)
        return USTK_DROP_ICMP_ERR_SHORT;
    ihl = (size_t)(q[0] & 0x0f) * 4;
    if (q[0] >> 4 != 4 || ihl < 20)
        return USTK_DROP_ICMP_ERR_QUOTE;
    if (len < ihl + USTK_ICMP_QUOTE_DATA)
        return USTK_DROP_ICMP_ERR_SHORT;
    out->hdr_len = (uint8_t)ihl;
    out->total_len = ustk_load_be16(q + 2);
    out->id = ustk_load_be16(q + 4);
    out->frag = ustk_load_be16(q + 6);
    out->proto = q[9];
    out->src = ustk_load_be32(q + 12);
    out->dst = ustk_load_be32(q + 16);
    /* A datagram shorter than what is quoted of it did not exist, and the
     * bytes after the header of a later fragment are not a transport
     * header. */
    if (out->total_len < ihl + USTK_ICMP_QUOTE_DATA ||
        (out->frag & 0x1fff) != 0)
        return USTK_DROP_ICMP_ERR_QUOTE;
    q += ihl;
    out->sport = ustk_load_be16(q);
    out->dport = ustk_load_be16(q + 2);
    out->tcp_seq = ustk_load_be32(q + 4);
    out->icmp_type = q[0];
    out->icmp_code = q[1];
    out->echo_id = ustk_load_be16(q + 4);
    out->echo_seq = ustk_load_be16(q + 6);
    return 0;
}
