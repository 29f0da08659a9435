/* Wrap-safe TCP sequence number comparisons (RFC 9293 §3.4): sequence space
 * is modulo 2^32, so a < b means "b is ahead of a by less than 2^31". */
#ifndef USTK_UTIL_SEQ_H
#define USTK_UTIL_SEQ_H

#include <stdint.h>

static inline int ustk_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline int ustk_seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline int ustk_seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline int ustk_seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
/* lo <= x < hi, in sequence space */
static inline int ustk_seq_in(uint32_t x, uint32_t lo, uint32_t hi)
{
    return ustk_seq_leq(lo, x) && ustk_seq_lt(x, hi);
}
static inline uint32_t ustk_seq_max(uint32_t a, uint32_t b) { return ustk_seq_gt(a, b) ? a : b; }
static inline uint32_t ustk_seq_min(uint32_t a, uint32_t b) { return ustk_seq_lt(a, b) ? a : b; }

#endif
