/* Big-endian loads and stores on byte pointers. Wire code uses these instead
 * of casting buffers to structs, so alignment and byte order never matter.
 * And two helpers for hot paths: ustk_zero() and USTK_PREFETCH(). */
#ifndef USTK_UTIL_BYTES_H
#define USTK_UTIL_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t ustk_load_be16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t ustk_load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static inline void ustk_store_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void ustk_store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Clears n bytes in 64-byte pieces. For a few hundred bytes of known
 * size, compilers turn one memset into `rep stos`, whose start-up costs
 * more than the stores; each 64-byte piece becomes four vector stores. */
static inline void ustk_zero(void *p, size_t n)
{
    unsigned char *b = p;
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        memset(b + i, 0, 64);
    memset(b + i, 0, n - i);
}

/* Starts loading the cache line of p, where the compiler can (a hint:
 * nothing else where it cannot). */
#if defined(__GNUC__) || defined(__clang__)
#define USTK_PREFETCH(p) __builtin_prefetch(p)
#else
#define USTK_PREFETCH(p) ((void)(p))
#endif

#endif
