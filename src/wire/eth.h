/* Ethernet II framing. */
#ifndef USTK_WIRE_ETH_H
#define USTK_WIRE_ETH_H

#include <stddef.h>
#include <stdint.h>

#define USTK_ETH_HDR_LEN 14
#define USTK_ETHERTYPE_IPV4 0x0800
#define USTK_ETHERTYPE_ARP 0x0806

typedef struct ustk_eth_hdr {
    uint8_t dst[6];
    uint8_t src[6];
    uint16_t type;
} ustk_eth_hdr;

/* Parse the header; the payload starts at frame + USTK_ETH_HDR_LEN.
 * Returns 0 or USTK_DROP_ETH_SHORT. 802.1Q tags are reported as their
 * ethertype (0x8100) and left to the caller to drop. */
int ustk_eth_parse(const uint8_t *frame, size_t len, ustk_eth_hdr *out);
/* Write the 14-byte header; returns 14, or 0 when cap is too small. */
size_t ustk_eth_emit(const ustk_eth_hdr *h, uint8_t *buf, size_t cap);

#endif
