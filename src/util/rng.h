/* A small, fast, seeded pseudo-random generator (xoshiro256** seeded through
 * splitmix64). Deterministic for a given seed on every platform; not for
 * secrets on its own (ISNs mix it into a keyed hash, see core/tcp_isn). */
#ifndef USTK_UTIL_RNG_H
#define USTK_UTIL_RNG_H

#include <stdint.h>

typedef struct ustk_rng {
    uint64_t s[4];
} ustk_rng;

void ustk_rng_seed(ustk_rng *r, uint64_t seed);
uint64_t ustk_rng_next(ustk_rng *r);
/* Uniform in [0, n); n > 0 (n == 0 returns 0). No modulo bias: Lemire's
 * multiply-and-reject method, so the result for a seed is exact and
 * portable, not only its distribution. */
uint64_t ustk_rng_below(ustk_rng *r, uint64_t n);
/* Uniform in [0, 1): the top 53 bits of the next output times 2^-53. */
double ustk_rng_unit(ustk_rng *r);

#endif
