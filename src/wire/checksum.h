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
/* Copy len bytes from src to dst (which must not overlap) and add them to
 * sum, in one pass over the bytes: the same value as ustk_csum_add(sum,
 * dst, len) after a memcpy. */
uint32_t ustk_csum_copy(uint32_t sum, void *dst, const void *src, size_t len);
/* Join the sums of two pieces. b is the sum of a piece that starts at an
 * odd offset from the start of a's piece when odd is true (its bytes sit
 * in the other halves of the 16-bit words, RFC 1071 §2(B)). */
uint32_t ustk_csum_join(uint32_t a, uint32_t b, int odd);
/* Add the IPv4 pseudo-header (RFC 9293 §3.1, RFC 768) for src, dst (host
 * order), protocol and upper-layer length. */
uint32_t ustk_csum_pseudo(uint32_t sum, uint32_t src, uint32_t dst,
                          uint8_t proto, uint16_t len);
/* Fold to 16 bits and complement: the value to store in a header (host
 * order). A buffer whose stored checksum is right folds to 0. */
uint16_t ustk_csum_finish(uint32_t sum);

#endif
