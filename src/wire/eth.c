/* Ethernet II framing (RFC 894 for IPv4 over Ethernet). */
#include "wire/eth.h"

#include <string.h>

#include "ustack/drop.h"
#include "util/bytes.h"

int ustk_eth_parse(const uint8_t *frame, size_t len, ustk_eth_hdr *out)
{
    /* The frame check sequence is gone by the time a frame reaches us, and a
     * frame shorter than 60 bytes is legal on a virtual link, so the only
     * length rule here is that the header itself is present. */
    if (len < USTK_ETH_HDR_LEN)
        return USTK_DROP_ETH_SHORT;
    memcpy(out->dst, frame, 6);
    memcpy(out->src, frame + 6, 6);
    out->type = ustk_load_be16(frame + 12);
    return 0;
}

size_t ustk_eth_emit(const ustk_eth_hdr *h, uint8_t *buf, size_t cap)
{
    if (cap < USTK_ETH_HDR_LEN)
        return 0;
    memcpy(buf, h->dst, 6);
    memcpy(buf + 6, h->src, 6);
    ustk_store_be16(buf + 12, h->type);
    return USTK_ETH_HDR_LEN;
}
