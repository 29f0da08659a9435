/* xoshiro256** (Blackman and Vigna, "Scrambled linear pseudorandom number
 * generators", 2018), seeded through splitmix64 as its authors recommend.
 * Both are written here from the published description. Only fixed-width
 * integer arithmetic is used, so a seed yields the same sequence on every
 * platform and compiler, which the simulator's reproducible runs rely on. */
#include "util/rng.h"

static uint64_t rotl64(uint64_t x, unsigned k)
{
    return x << k | x >> (64 - k);
}

/* splitmix64 turns one 64-bit seed into well-mixed state words. Its output
 * is a bijection of an incrementing counter, so four consecutive outputs are
 * distinct and at most one can be zero: the all-zero state, the one state
 * xoshiro can never leave, is therefore unreachable from any seed. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void ustk_rng_seed(ustk_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

uint64_t ustk_rng_next(ustk_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return out;
}

/* The full 128-bit product of two 64-bit numbers, from 32-bit halves, since
 * C11 has no portable 128-bit integer type. */
static void mul_64x64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32;
    uint64_t b_lo = b & 0xffffffffu, b_hi = b >> 32;
    uint64_t ll = a_lo * b_lo;
    uint64_t lh = a_lo * b_hi;
    uint64_t hl = a_hi * b_lo;
    uint64_t hh = a_hi * b_hi;
    /* The middle sum cannot overflow: each term is below 2^32. */
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);

    *lo = (mid << 32) | (ll & 0xffffffffu);
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* Lemire, "Fast Random Integer Generation in an Interval" (2019): the high
 * word of x * n is in [0, n). Each output value owns either floor(2^64 / n)
 * or one more of the 2^64 possible x; the low word tells which x fall in the
 * surplus, and rejecting those leaves every value exactly equally likely.
 * The division that computes the threshold runs only on the rare path. */
uint64_t ustk_rng_below(ustk_rng *r, uint64_t n)
{
    uint64_t hi, lo;

    mul_64x64(ustk_rng_next(r), n, &hi, &lo);
    if (lo < n) {
        uint64_t threshold = (0 - n) % n; /* 2^64 mod n */

        while (lo < threshold)
            mul_64x64(ustk_rng_next(r), n, &hi, &lo);
    }
    /* For n == 0 (outside the contract) lo is 0, the branch is skipped and
     * the result is 0 rather than a division by zero. */
    return hi;
}

/* A double has a 53-bit significand, so the top 53 bits scaled by 2^-53 give
 * every multiple of 2^-53 in [0, 1) with equal probability and never 1.0.
 * The top bits are used because they are the strongest of xoshiro256**. */
double ustk_rng_unit(ustk_rng *r)
{
    return (double)(ustk_rng_next(r) >> 11) * 0x1.0p-53;
}
