/* ARP for IPv4 over Ethernet (RFC 826). */
#include "wire/arp.h"

#include <string.h>

#include "ustack/drop.h"
#include "util/bytes.h"

/* RFC 826 "Packet format": ar$hrd 1 is Ethernet (10Mb), ar$pro is the
 * ethertype of the protocol being resolved. */
#define ARP_HRD_ETHER 1
#define ARP_PRO_IPV4 0x0800
#define ARP_HLN_ETHER 6
#define ARP_PLN_IPV4 4

int ustk_arp_parse(const uint8_t *buf, size_t len, ustk_arp_pkt *out)
{
    uint16_t op;

    if (len < USTK_ARP_LEN)
        return USTK_DROP_ARP_SHORT;
    /* RFC 826 "Packet Reception": the packet is only for us when hardware
     * type, protocol type and both address lengths are the ones we speak;
     * with other lengths the fixed offsets below would be wrong. */
    if (ustk_load_be16(buf) != ARP_HRD_ETHER ||
        ustk_load_be16(buf + 2) != ARP_PRO_IPV4 || buf[4] != ARP_HLN_ETHER ||
        buf[5] != ARP_PLN_IPV4)
        return USTK_DROP_ARP_FORMAT;
    op = ustk_load_be16(buf + 6);
    if (op != USTK_ARP_REQUEST && op != USTK_ARP_REPLY)
        return USTK_DROP_ARP_OP;
    out->op = op;
    memcpy(out->sha, buf + 8, 6);
    out->spa = ustk_load_be32(buf + 14);
    memcpy(out->tha, buf + 18, 6);
    out->tpa = ustk_load_be32(buf + 24);
    return 0;
}

size_t ustk_arp_emit(const ustk_arp_pkt *p, uint8_t *buf, size_t cap)
{
    if (cap < USTK_ARP_LEN)
        return 0;
    ustk_store_be16(buf, ARP_HRD_ETHER);
    ustk_store_be16(buf + 2, ARP_PRO_IPV4);
    buf[4] = ARP_HLN_ETHER;
    buf[5] = ARP_PLN_IPV4;
    ustk_store_be16(buf + 6, p->op);
    memcpy(buf + 8, p->sha, 6);
    ustk_store_be32(buf + 14, p->spa);
    memcpy(buf + 18, p->tha, 6);
    ustk_store_be32(buf + 24, p->tpa);
    return USTK_ARP_LEN;
}
