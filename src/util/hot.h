/* Helpers for hot paths, where what the compiler makes of plain C costs
 * measurably more than it should. */
#ifndef USTK_UTIL_HOT_H
#define USTK_UTIL_HOT_H

#include <stddef.h>
#include <string.h>

/* Clears n bytes in 64-byte pieces. For a few hundred bytes of known
 * size GCC turns one memset into `rep stosq`, whose start-up costs more
 * than the stores; each 64-byte piece becomes four vector stores (clang
 * joins the pieces into one call of the C library's memset, as fast). */
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

/* Keeps a function out of its callers: for the rare, long path behind a
 * short common one, so that the common one does not pay the long one's
 * register saves and stack frame on every call. */
#if defined(__GNUC__) || defined(__clang__)
#define USTK_NOINLINE __attribute__((noinline))
#else
#define USTK_NOINLINE
#endif

#endif
