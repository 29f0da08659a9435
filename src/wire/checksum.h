/* The Internet checksum (RFC 1071): one's-complement sum of 16-bit words.
 * Sums can be accumulated over several pieces; every piece but the last must
 * have an even length. */
#ifndef USTK_WIRE_CHECKSUM_H
#define USTK_WIRE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"

/* Add the bytes of buf to a running 32-bit sum (start with 0). */
uint32_t ustk_csum_add(uint32_t sum, const void *buf, size_t len);
/* The same sum without vector instructions (what machines without them
 * run), so that tests can compare the two paths on any machine. */
uint32_t ustk__csum_add_scalar(uint32_t sum, const void *buf, size_t len);
/* Copy len bytes from src to dst (which must not overlap) and add them to
 * sum, in one pass over the bytes: the same value as ustk_csum_add(sum,
 * dst, len) after a memcpy. */
uint32_t ustk_csum_copy(uint32_t sum, void *dst, const void *src, size_t len);
/* End-around carry from 64 to 32 bits. 2^32 ≡ 1 modulo 0xffff (0xffffffff is
 * 0xffff * 0x10001), so this keeps the sum's value, and a non-zero sum stays
 * non-zero, which keeps "negative zero" (0xffff) apart from zero. */
static inline uint32_t ustk_csum_fold64(uint64_t s)
{
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s;
}

/* Join the sums of two pieces. b is the sum of a piece that starts at an
 * odd offset from the start of a's piece when odd is true (its bytes sit
 * in the other halves of the 16-bit words, RFC 1071 §2(B)). */
static inline uint32_t ustk_csum_join(uint32_t a, uint32_t b, int odd)
{
    if (odd) {
        /* Fold b to 16 bits, then swap its bytes. */
        b = (b & 0xffff) + (b >> 16);
        b = (b & 0xffff) + (b >> 16);
        b = (b >> 8 | b << 8) & 0xffff;
    }
    return ustk_csum_fold64((uint64_t)a + b);
}

/* Add the IPv4 pseudo-header (RFC 9293 §3.1, RFC 768) for src, dst (host
 * order), protocol and upper-layer length. Each address adds as its two
 * 16-bit halves, since 2^16 ≡ 1 modulo 0xffff. */
static inline uint32_t ustk_csum_pseudo(uint32_t sum, uint32_t src,
                                        uint32_t dst, uint8_t proto,
                                        uint16_t len)
{
    return ustk_csum_fold64((uint64_t)sum + src + dst + proto + len);
}

/* Fold to 16 bits and complement: the value to store in a header (host
 * order). A buffer whose stored checksum is right folds to 0. RFC 1071
 * §1: the checksum is the complement of the one's-complement sum; a
 * receiver summing over a right checksum gets all ones (-0), which
 * complements to 0. */
static inline uint16_t ustk_csum_finish(uint32_t sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Add a header of len bytes, a multiple of 4 (IPv4 and TCP headers are
 * whole 32-bit words), as big-endian 32-bit words: a few adds in line,
 * where a call to ustk_csum_add() costs more than the sum. */
static inline uint32_t ustk_csum_words(uint32_t sum, const uint8_t *p,
                                       size_t len)
{
    uint64_t s = sum;
    for (size_t i = 0; i + 4 <= len; i += 4)
        s += ustk_load_be32(p + i);
    return ustk_csum_fold64(s);
}

/* A header written a 32-bit big-endian word at a time, summed as it is
 * written: the sum of the word values (host order) is the sum of their
 * 16-bit halves. Reading a header back just after writing it in smaller
 * pieces stalls the processor (a load cannot be served from several
 * pending stores), and costs more than the header's whole sum. */
typedef struct ustk_csum_writer {
    uint8_t *p;
    uint64_t sum;
} ustk_csum_writer;

static inline void ustk_csum_put32(ustk_csum_writer *w, uint32_t v)
{
    w->p[0] = (uint8_t)(v >> 24);
    w->p[1] = (uint8_t)(v >> 16);
    w->p[2] = (uint8_t)(v >> 8);
    w->p[3] = (uint8_t)v;
    w->p += 4;
    w->sum += v;
}

static inline uint32_t ustk_csum_put_sum(const ustk_csum_writer *w)
{
    return ustk_csum_fold64(w->sum);
}

#endif
