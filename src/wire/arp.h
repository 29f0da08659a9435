/* ARP for IPv4 over Ethernet (RFC 826). */
#ifndef USTK_WIRE_ARP_H
#define USTK_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>

#define USTK_ARP_LEN 28
#define USTK_ARP_REQUEST 1
#define USTK_ARP_REPLY 2

typedef struct ustk_arp_pkt {
    uint16_t op;
    uint8_t sha[6]; /* sender hardware address */
    uint32_t spa;   /* sender protocol address, host order */
    uint8_t tha[6];
    uint32_t tpa;
} ustk_arp_pkt;

/* Returns 0, USTK_DROP_ARP_SHORT, USTK_DROP_ARP_FORMAT (hardware type not
 * Ethernet, protocol not IPv4, or address lengths not 6 and 4) or
 * USTK_DROP_ARP_OP (operation other than request or reply). Trailing bytes
 * (Ethernet padding) are ignored. */
int ustk_arp_parse(const uint8_t *buf, size_t len, ustk_arp_pkt *out);
/* Writes 28 bytes; returns 28, or 0 when cap is too small. */
size_t ustk_arp_emit(const ustk_arp_pkt *p, uint8_t *buf, size_t cap);

#endif
