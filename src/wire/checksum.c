/* The Internet checksum (RFC 1071).
 *
 * The one's-complement sum of 16-bit words is commutative and associative
 * and its carries may be deferred (RFC 1071 §2): only the value of the sum
 * modulo 0xffff counts. As 2^16 ≡ 1 modulo 0xffff, a big-endian 32-bit word
 * adds the same as its two 16-bit halves, so we add 32-bit words into a
 * 64-bit accumulator and fold the carries back in once at the end. */
#include "wire/checksum.h"

#include "util/bytes.h"

/* A 64-bit accumulator takes 2^32 additions of 32-bit words before it can
 * overflow; we fold after at most this many bytes to stay far from it. */
#define CHUNK_BYTES ((size_t)1 << 30)

/* End-around carry from 64 to 32 bits. 2^32 ≡ 1 modulo 0xffff (0xffffffff is
 * 0xffff * 0x10001), so this keeps the sum's value, and a non-zero sum stays
 * non-zero, which keeps "negative zero" (0xffff) apart from zero. */
static uint32_t fold64(uint64_t s)
{
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s;
}

/* Sum of the big-endian 32-bit words of p[0, 4 * n). Two words per step so
 * that the two additions do not wait on each other. */
static uint64_t sum_words(const uint8_t *p, size_t n)
{
    uint64_t a = 0, b = 0;

    for (; n >= 2; n -= 2, p += 8) {
        a += ustk_load_be32(p);
        b += ustk_load_be32(p + 4);
    }
    if (n)
        a += ustk_load_be32(p);
    return a + b;
}

uint32_t ustk_csum_add(uint32_t sum, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t s = sum;

    while (len >= 4) {
        size_t chunk = len < CHUNK_BYTES ? len & ~(size_t)3 : CHUNK_BYTES;

        s = fold64(s + sum_words(p, chunk / 4));
        p += chunk;
        len -= chunk;
    }
    if (len >= 2) {
        s += ustk_load_be16(p);
        p += 2;
        len -= 2;
    }
    /* RFC 9293 §3.1 (and RFC 793 before it): an odd last octet is padded on
     * the right with a zero octet, so it is the high half of a word. */
    if (len)
        s += (uint32_t)p[0] << 8;
    return fold64(s);
}

uint32_t ustk_csum_pseudo(uint32_t sum, uint32_t src, uint32_t dst,
                          uint8_t proto, uint16_t len)
{
    /* RFC 9293 §3.1 / RFC 768: source, destination, a zero byte and the
     * protocol, then the upper-layer length. Each address adds as its two
     * 16-bit halves (see the top of this file). */
    uint64_t s = (uint64_t)sum + src + dst + proto + len;

    return fold64(s);
}

uint16_t ustk_csum_finish(uint32_t sum)
{
    /* RFC 1071 §1: the checksum is the complement of the 16-bit one's-
     * complement sum; a receiver summing over a right checksum gets all ones
     * (-0), which complements to 0. */
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}
