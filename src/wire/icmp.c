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
