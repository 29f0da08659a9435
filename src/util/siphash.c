/* SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012), written from the paper: two compression rounds per 8-byte word,
 * four finalization rounds, 64-bit output. The key and the message are read
 * byte by byte as little-endian words, so the result does not depend on the
 * host's byte order and no unaligned load ever happens. */
#include "util/siphash.h"

static uint64_t rotl64(uint64_t x, unsigned k)
{
    return x << k | x >> (64 - k);
}

static uint64_t load_le64(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
           (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/* The state as four values the compiler keeps in registers. */
typedef struct sip_state {
    uint64_t v0, v1, v2, v3;
} sip_state;

static inline sip_state sip_round(sip_state v)
{
    v.v0 += v.v1;
    v.v1 = rotl64(v.v1, 13);
    v.v1 ^= v.v0;
    v.v0 = rotl64(v.v0, 32);
    v.v2 += v.v3;
    v.v3 = rotl64(v.v3, 16);
    v.v3 ^= v.v2;
    v.v0 += v.v3;
    v.v3 = rotl64(v.v3, 21);
    v.v3 ^= v.v0;
    v.v2 += v.v1;
    v.v1 = rotl64(v.v1, 17);
    v.v1 ^= v.v2;
    v.v2 = rotl64(v.v2, 32);
    return v;
}

static inline sip_state sip_compress(sip_state v, uint64_t m)
{
    v.v3 ^= m;
    v = sip_round(sip_round(v));
    v.v0 ^= m;
    return v;
}

uint64_t ustk_siphash24(const uint8_t key[16], const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    /* The initial constants spell "somepseudorandomlygeneratedbytes". */
    sip_state v = {
        k0 ^ 0x736f6d6570736575u,
        k1 ^ 0x646f72616e646f6du,
        k0 ^ 0x6c7967656e657261u,
        k1 ^ 0x7465646279746573u,
    };
    size_t full = len - len % 8;
    uint64_t last;

    for (size_t i = 0; i < full; i += 8)
        v = sip_compress(v, load_le64(p + i));

    /* The final word holds the 0..7 leftover bytes in its low bytes and the
     * message length modulo 256 in its top byte (paper §2.2). */
    last = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < len % 8; i++)
        last |= (uint64_t)p[full + i] << (8 * i);
    v = sip_compress(v, last);

    v.v2 ^= 0xff;
    v = sip_round(sip_round(sip_round(sip_round(v))));
    return v.v0 ^ v.v1 ^ v.v2 ^ v.v3;
}
