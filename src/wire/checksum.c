/* The Internet checksum (RFC 1071).
 *
 * The one's-complement sum of 16-bit words is commutative and associative
 * and its carries may be deferred (RFC 1071 §2): only the value of the sum
 * modulo 0xffff counts. As 2^16 ≡ 1 modulo 0xffff, a 64-bit word adds the
 * same as its four 16-bit parts, and a carry out of 64 bits adds 1.
 *
 * The sum is also independent of byte order (RFC 1071 §2(B)): summing the
 * words as the machine loads them gives the byte-swapped sum. So the bulk
 * of a buffer is added as native 64-bit words, four independent chains of
 * add-with-carry (about 2.5 times the speed of big-endian 32-bit words,
 * which cost a byte swap each; the checksum is on every segment's whole
 * payload, twice per trip), folded to 16 bits and turned into the
 * big-endian sum once at the end. The last few bytes are added as
 * big-endian words, as RFC 1071 states them.
 *
 * On x86-64 with AVX-512 or AVX2 (checked at run time), runs of 64 bytes
 * are summed with vector instructions first: each 32-bit lane is split into
 * its two native 16-bit words, added into 32-bit lanes that cannot
 * overflow within a chunk (below), so no carry needs tracking at all. On
 * this project's machine that is 3.5 times the scalar loop's speed with
 * AVX-512 (156 against 45 GB/s over 1,448 bytes). The scalar loop stays
 * for the rest of the buffer, for other machines, and for builds with
 * USTK_NO_SIMD defined. The intrinsics are the compiler's own; the core
 * still needs nothing but the C standard library. */
#include "wire/checksum.h"

#include <stdbool.h>
#include <string.h>

#include "util/bytes.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) &&      \
    !defined(USTK_NO_SIMD)
#define CSUM_X86 1
#include <immintrin.h>
#endif

static uint64_t load_native64(const uint8_t *p)
{
    uint64_t w;

    memcpy(&w, p, sizeof w);
    return w;
}

/* Add w to the chain (s, c): c counts the carries out of s. */
#define ADD_CARRY(s, c, w)                                                    \
    do {                                                                      \
        uint64_t w_ = (w);                                                    \
        (s) += w_;                                                            \
        (c) += (s) < w_;                                                      \
    } while (0)

#ifdef CSUM_X86
/* 64-byte blocks per vector chunk: every 32-bit lane of every accumulator
 * takes at most one 16-bit word per block, so 2^16 - 1 blocks (4 MB) of
 * 0xffff words cannot overflow it. */
#define CSUM_CHUNK_BLOCKS 65535u

/* The sum of the sixteen 32-bit lanes of a (below 2^36). */
__attribute__((target("avx512f"))) static uint64_t lanes512(__m512i a)
{
    uint32_t lane[16];
    uint64_t s = 0;

    _mm512_storeu_si512((void *)lane, a);
    for (int i = 0; i < 16; i++)
        s += lane[i];
    return s;
}

/* The sum of the native 16-bit words of n 64-byte blocks, folded below
 * 2^32 (a non-zero sum stays non-zero). */
__attribute__((target("avx512f"))) static uint64_t
sum_blocks_avx512(const uint8_t *p, size_t n)
{
    const __m512i lo16 = _mm512_set1_epi32(0xffff);
    uint64_t s = 0;

    while (n) {
        size_t k = n < CSUM_CHUNK_BLOCKS ? n : CSUM_CHUNK_BLOCKS;
        __m512i a = _mm512_setzero_si512(), b = _mm512_setzero_si512();

        for (n -= k; k; k--, p += 64) {
            __m512i x = _mm512_loadu_si512((const void *)p);
            a = _mm512_add_epi32(a, _mm512_and_si512(x, lo16));
            b = _mm512_add_epi32(b, _mm512_srli_epi32(x, 16));
        }
        s = ustk_csum_fold64(s + lanes512(a) + lanes512(b));
    }
    return s;
}

__attribute__((target("avx2"))) static uint64_t
sum_blocks_avx2(const uint8_t *p, size_t n)
{
    const __m256i lo16 = _mm256_set1_epi32(0xffff);
    uint64_t s = 0;

    while (n) {
        size_t k = n < CSUM_CHUNK_BLOCKS ? n : CSUM_CHUNK_BLOCKS;
        __m256i a = _mm256_setzero_si256(), b = _mm256_setzero_si256();
        __m256i c = _mm256_setzero_si256(), d = _mm256_setzero_si256();
        uint32_t lane[8];

        for (n -= k; k; k--, p += 64) {
            __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);
            __m256i y =
                _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
            a = _mm256_add_epi32(a, _mm256_and_si256(x, lo16));
            b = _mm256_add_epi32(b, _mm256_srli_epi32(x, 16));
            c = _mm256_add_epi32(c, _mm256_and_si256(y, lo16));
            d = _mm256_add_epi32(d, _mm256_srli_epi32(y, 16));
        }
        /* Two lanes of 2^32 - 1 at most add below 2^33: add in 64 bits. */
        _mm256_storeu_si256((__m256i *)(void *)lane, a);
        for (int i = 0; i < 8; i++)
            s += lane[i];
        _mm256_storeu_si256((__m256i *)(void *)lane, b);
        for (int i = 0; i < 8; i++)
            s += lane[i];
        _mm256_storeu_si256((__m256i *)(void *)lane, c);
        for (int i = 0; i < 8; i++)
            s += lane[i];
        _mm256_storeu_si256((__m256i *)(void *)lane, d);
        for (int i = 0; i < 8; i++)
            s += lane[i];
        s = ustk_csum_fold64(s);
    }
    return s;
}

/* Copy n 64-byte blocks from p to d and sum their native 16-bit words as
 * sum_blocks_avx512() does: the bytes are read once, for both. */
__attribute__((target("avx512f"))) static uint64_t
copy_blocks_avx512(uint8_t *d, const uint8_t *p, size_t n)
{
    const __m512i lo16 = _mm512_set1_epi32(0xffff);
    uint64_t s = 0;

    while (n) {
        size_t k = n < CSUM_CHUNK_BLOCKS ? n : CSUM_CHUNK_BLOCKS;
        __m512i a = _mm512_setzero_si512(), b = _mm512_setzero_si512();

        for (n -= k; k; k--, p += 64, d += 64) {
            __m512i x = _mm512_loadu_si512((const void *)p);
            _mm512_storeu_si512((void *)d, x);
            a = _mm512_add_epi32(a, _mm512_and_si512(x, lo16));
            b = _mm512_add_epi32(b, _mm512_srli_epi32(x, 16));
        }
        s = ustk_csum_fold64(s + lanes512(a) + lanes512(b));
    }
    return s;
}

/* Below this many bytes the vector set-up and the lane reduction cost
 * more than they save (TCP and IP headers stay scalar). */
#define CSUM_VEC_MIN 256u
#endif

/* The one's-complement sum of the native 16-bit words of p[0, 8 * n),
 * folded to 16 bits and given as the big-endian sum: the value RFC 1071's
 * loop over big-endian words would give for the same bytes, modulo 0xffff,
 * and zero exactly when every byte is zero. With vec, runs of 64 bytes go
 * through the widest vector unit the CPU has. */
static uint32_t sum_words64(const uint8_t *p, size_t n, bool vec)
{
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    uint64_t t, v = 0;
    uint16_t h;
    uint8_t b[2];

#ifdef CSUM_X86
    if (vec && n * 8 >= CSUM_VEC_MIN) {
        size_t blocks = n / 8;
        if (__builtin_cpu_supports("avx512f"))
            v = sum_blocks_avx512(p, blocks);
        else if (__builtin_cpu_supports("avx2"))
            v = sum_blocks_avx2(p, blocks);
        else
            blocks = 0;
        p += blocks * 64;
        n -= blocks * 8;
    }
#else
    (void)vec;
#endif
    for (; n >= 4; n -= 4, p += 32) {
        ADD_CARRY(s0, c0, load_native64(p));
        ADD_CARRY(s1, c1, load_native64(p + 8));
        ADD_CARRY(s2, c2, load_native64(p + 16));
        ADD_CARRY(s3, c3, load_native64(p + 24));
    }
    for (; n > 0; n--, p += 8)
        ADD_CARRY(s0, c0, load_native64(p));
    /* Each chain is worth s + c * 2^64, and 2^64 ≡ 1. Every term below is
     * under 2^33 and the carries under 2^61, so t cannot overflow. */
    t = (s0 & 0xffffffffu) + (s0 >> 32) + (s1 & 0xffffffffu) + (s1 >> 32) +
        (s2 & 0xffffffffu) + (s2 >> 32) + (s3 & 0xffffffffu) + (s3 >> 32) +
        c0 + c1 + c2 + c3 + v;
    while (t >> 16)
        t = (t & 0xffff) + (t >> 16);
    /* t is the sum of the words as loaded; its bytes, read big-endian, are
     * the sum of the words as RFC 1071 reads them. */
    h = (uint16_t)t;
    memcpy(b, &h, sizeof b);
    return (uint32_t)b[0] << 8 | b[1];
}

/* Headers (IP 20 bytes, TCP 20 to 60): fewer than 2^32 native 32-bit
 * words cannot overflow a 64-bit sum, so there is no carry to track, and
 * the sum is turned big-endian once. */
#define CSUM_SHORT 64u

static uint32_t csum_short(uint32_t sum, const uint8_t *p, size_t len)
{
    uint64_t t = 0;
    uint32_t w;
    uint16_t h;
    uint8_t last[2];

    for (; len >= 8; len -= 8, p += 8) {
        uint32_t a;
        memcpy(&a, p, 4);
        memcpy(&w, p + 4, 4);
        t += (uint64_t)a + w;
    }
    if (len >= 4) {
        memcpy(&w, p, 4);
        t += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        memcpy(&h, p, 2);
        t += h;
        p += 2;
        len -= 2;
    }
    if (len) {
        /* An odd last octet is the high half of a word padded with zero
         * (RFC 9293 §3.1), which is the word [octet, 0] as loaded. */
        last[0] = p[0];
        last[1] = 0;
        memcpy(&h, last, 2);
        t += h;
    }
    while (t >> 16)
        t = (t & 0xffff) + (t >> 16);
    h = (uint16_t)t;
    memcpy(last, &h, 2);
    return ustk_csum_fold64((uint64_t)sum + ((uint32_t)last[0] << 8 | last[1]));
}

static uint32_t csum_add(uint32_t sum, const void *buf, size_t len, bool vec)
{
    const uint8_t *p = buf;
    uint64_t s = sum;
    size_t words = len / 8;

    if (len < CSUM_SHORT)
        return csum_short(sum, p, len);
    if (words) {
        s += sum_words64(p, words, vec);
        p += words * 8;
        len -= words * 8;
    }
    if (len >= 4) {
        s += ustk_load_be32(p);
        p += 4;
        len -= 4;
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
    return ustk_csum_fold64(s);
}

uint32_t ustk_csum_add(uint32_t sum, const void *buf, size_t len)
{
    return csum_add(sum, buf, len, true);
}

uint32_t ustk__csum_add_scalar(uint32_t sum, const void *buf, size_t len)
{
    return csum_add(sum, buf, len, false);
}

/* A sum of native 16-bit words, folded below 2^32, as the big-endian sum
 * (see sum_words64). */
static uint32_t native_to_be(uint64_t t)
{
    uint16_t h;
    uint8_t b[2];

    while (t >> 16)
        t = (t & 0xffff) + (t >> 16);
    h = (uint16_t)t;
    memcpy(b, &h, sizeof b);
    return (uint32_t)b[0] << 8 | b[1];
}

uint32_t ustk_csum_copy(uint32_t sum, void *dst, const void *src, size_t len)
{
#ifdef CSUM_X86
    if (len >= CSUM_VEC_MIN && __builtin_cpu_supports("avx512f")) {
        size_t blocks = len / 64;
        uint64_t v = copy_blocks_avx512(dst, src, blocks);
        uint64_t s = (uint64_t)sum + native_to_be(v);

        dst = (uint8_t *)dst + blocks * 64;
        src = (const uint8_t *)src + blocks * 64;
        len -= blocks * 64;
        memcpy(dst, src, len);
        return ustk_csum_add(ustk_csum_fold64(s), dst, len);
    }
#endif
    memcpy(dst, src, len);
    return ustk_csum_add(sum, dst, len);
}

