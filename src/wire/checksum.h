/* The Internet checksum (RFC 1071): one's-complement sum of 16-bit words.
 * Sums can be accumulated over several pieces; every piece but the last must
 * have an even length. */
#ifndef USTK_WIRE_CHECKSUM_H
#define USTK_WIRE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add the bytes of buf to a running 32-bit sum (start with 0). */
uint32_t ustk_csum_add(uint32_t sum, const void *buf, size_t len);
/* The same sum without vector instructions (what machines without them
 * run), so that tests can compare the two paths on any machine. */
uint32_t ustk__csum_add_scalar(uint32_t sum, const void *buf, size_t len);
/* Add the IPv4 pseudo-header (RFC 9293 §3.1, RFC 768) for src, dst (host
 * order), protocol and upper-layer length. */
uint32_t ustk_csum_pseudo(uint32_t sum, uint32_t src, uint32_t dst,
                          uint8_t proto, uint16_t len);
/* Fold to 16 bits and complement: the value to store in a header (host
 * order). A buffer whose stored checksum is right folds to 0. */
uint16_t ustk_csum_finish(uint32_t sum);

#endif
