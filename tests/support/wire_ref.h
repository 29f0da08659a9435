/* Helpers shared by the wire tests: an exact-size copy of a packet (so that
 * ASan catches a parser reading past its end) and a reference Internet
 * checksum written independently of src/wire/checksum.c. */
#ifndef USTK_TEST_WIRE_REF_H
#define USTK_TEST_WIRE_REF_H

#include <stddef.h>
#include <stdint.h>

/* A heap copy of exactly len bytes; free() it. */
uint8_t *wire_exact(const uint8_t *src, size_t len);
/* RFC 1071 one 16-bit word at a time, starting from the 32-bit sum s;
 * returns the complemented 16-bit checksum. */
uint16_t wire_ref_csum(uint32_t s, const uint8_t *p, size_t len);

#endif
