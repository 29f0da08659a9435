/* ustack — pcap recording decorator.
 *
 * Wraps any link and writes every frame that crosses it, in either
 * direction, to a classic pcap file (microsecond timestamps from the
 * caller's clock; link type Ethernet or raw IPv4 after the inner link's
 * kind) that Wireshark and tshark open.
 */
#ifndef USTK_LINK_PCAP_H
#define USTK_LINK_PCAP_H

#include "link.h"

/* Wrap inner; the decorator owns inner and destroys it with itself.
 * Returns 0, or USTK_EINVAL / USTK_ENOMEM / a negated errno from opening
 * the file. */
int ustk_pcap_link_create(ustk_link **out, ustk_link *inner, const char *path);

#endif
