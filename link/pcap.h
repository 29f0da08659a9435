/* ustack — pcap recording decorator.
 *
 * Wraps any link and writes every frame that crosses it, in either
 * direction, to a classic pcap file (microsecond timestamps from the
 * caller's clock; link type Ethernet or raw IPv4 after the inner link's
 * kind) that Wireshark and tshark open. On request it also writes what the
 * stack sends to itself, which crosses no link (loopback, below), so that
 * the file holds everything the stack sent.
 */
#ifndef USTK_LINK_PCAP_H
#define USTK_LINK_PCAP_H

#include "link.h"

/* Wrap inner; the decorator owns inner and destroys it with itself, and
 * the file is flushed and closed then. Returns 0, or USTK_EINVAL /
 * USTK_ENOMEM / a negated errno from creating or writing the file (an
 * existing file is replaced; the header is written through at once, so an
 * unwritable file fails here). On failure inner still belongs to the
 * caller.
 *
 * A frame is recorded when the inner link accepted it (send returned 0;
 * frames the inner link then loses on purpose are recorded, as a capture on
 * the sending host would show them) and when the inner link delivered it,
 * each with the `now` of that call. */
int ustk_pcap_link_create(ustk_link **out, ustk_link *inner, const char *path);

/* Record also the packets stack s sends to itself (to its own address or
 * to 127/8), which cross no link, so that the file holds everything the
 * stack sent (ustk_stack_set_loop_capture(), which this installs on s):
 * each such packet once, when the stack's loopback queue takes it, with
 * the `now` of the call that sent it. They take the file's link type, as
 * Linux's lo shows them: raw IPv4 as they are; on Ethernet behind a
 * header whose two addresses are all zeros (00:00:00:00:00:00, which no
 * device has: that is how Wireshark and tcpdump show lo) and whose type is
 * IPv4. s NULL stops it; another stack takes over from the first. Returns
 * 0, or USTK_EINVAL when l is not a pcap decorator.
 *
 * The stack keeps a pointer to the decorator: destroy the stack first, or
 * stop this (s NULL) before destroying the decorator, which does not touch
 * the stack when it goes (the stack may be gone by then). */
int ustk_pcap_link_capture_loopback(ustk_link *l, ustk_stack *s);

/* Push buffered records to the file, so that it can be read while the link
 * lives. Returns 0, the first write error (a negated errno; recording stops
 * at the first one and the link keeps moving frames), or USTK_EINVAL when l
 * is not a pcap decorator. */
int ustk_pcap_link_flush(ustk_link *l);

#endif
