/* The Internet checksum (src/wire/checksum.c) against RFC 1071's worked
 * example, hand-computed sums, and a deliberately naive reference that adds
 * one 16-bit word at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire/checksum.h"

/* The reference: RFC 1071 §1 step by step, one big-endian word at a time, an
 * odd last byte padded on the right, carries folded at the end. */
static uint16_t ref_sum(const uint8_t *p, size_t len)
{
    uint64_t s = 0;

    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (len % 2)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static uint16_t ref_csum(const uint8_t *p, size_t len)
{
    return (uint16_t)~ref_sum(p, len);
}

/* The reference from a starting sum (non-zero here, so the folded sum is
 * never zero). */
static uint16_t ref_csum_from(uint32_t start, const uint8_t *p, size_t len)
{
    uint64_t s = start;

    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (len % 2)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static uint16_t csum(const void *p, size_t len)
{
    return ustk_csum_finish(ustk_csum_add(0, p, len));
}

/* xorshift32: deterministic test data. */
static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)rnd(&seed);
}

/* RFC 1071 §3 "Numerical Examples": the bytes 00 01 f2 03 f4 f5 f6 f7 sum to
 * 0x2ddf0, which folds to 0xddf2; the checksum is its complement. */
static const uint8_t rfc1071[8] = {0x00, 0x01, 0xf2, 0x03,
                                   0xf4, 0xf5, 0xf6, 0xf7};

static void test_rfc1071_example(void **state)
{
    (void)state;
    assert_int_equal(csum(rfc1071, 8), 0x220d);
    assert_int_equal(ref_csum(rfc1071, 8), 0x220d);
}

/* RFC 1071 §2(B): the sum can be computed over pieces in any grouping. Every
 * even split point, in two and in three pieces. */
static void test_rfc1071_example_split(void **state)
{
    (void)state;
    for (size_t a = 0; a <= 8; a += 2) {
        uint32_t s = ustk_csum_add(0, rfc1071, a);

        assert_int_equal(ustk_csum_finish(ustk_csum_add(s, rfc1071 + a, 8 - a)),
                         0x220d);
        for (size_t b = a; b <= 8; b += 2) {
            uint32_t t = ustk_csum_add(s, rfc1071 + a, b - a);

            t = ustk_csum_add(t, rfc1071 + b, 8 - b);
            assert_int_equal(ustk_csum_finish(t), 0x220d);
        }
    }
}

/* Odd lengths: the last byte is the high half of a word (RFC 9293 §3.1). */
static void test_odd_lengths_by_hand(void **state)
{
    static const uint8_t one[1] = {0xab};
    static const uint8_t three[3] = {0x00, 0x01, 0xf2};
    static const uint8_t nine[9] = {0x00, 0x01, 0xf2, 0x03, 0xf4,
                                    0xf5, 0xf6, 0xf7, 0x01};

    (void)state;
    /* 0xab00 -> ~ = 0x54ff */
    assert_int_equal(csum(one, 1), 0x54ff);
    /* 0x0001 + 0xf200 = 0xf201 -> ~ = 0x0dfe */
    assert_int_equal(csum(three, 3), 0x0dfe);
    /* 0xddf2 + 0x0100 = 0xdef2 -> ~ = 0x210d */
    assert_int_equal(csum(nine, 9), 0x210d);
    /* An even piece, then an odd last piece. */
    assert_int_equal(
        ustk_csum_finish(ustk_csum_add(ustk_csum_add(0, nine, 8), nine + 8, 1)),
        0x210d);
}

static void test_empty(void **state)
{
    (void)state;
    assert_int_equal(csum(NULL, 0), 0xffff);
    assert_int_equal(ustk_csum_finish(0), 0xffff);
    assert_int_equal(ustk_csum_finish(ustk_csum_add(0x1234, NULL, 0)), 0xedcb);
}

/* All-ones data: every word adds "negative zero", so the running sum keeps
 * wrapping. n bytes of 0xff: even n sums to 0xffff (checksum 0); odd n adds
 * 0xff00 on top (checksum 0x00ff). */
static void test_carries_all_ones(void **state)
{
    uint8_t buf[300];

    (void)state;
    memset(buf, 0xff, sizeof buf);
    for (size_t n = 1; n <= sizeof buf; n++) {
        assert_int_equal(csum(buf, n), n % 2 ? 0x00ff : 0x0000);
        assert_int_equal(ref_csum(buf, n), n % 2 ? 0x00ff : 0x0000);
    }
}

/* A large starting sum (as a caller that chains many pieces may pass) must
 * not overflow. 0xffffffff is congruent to 0 modulo 0xffff but is not zero,
 * so it acts as "negative zero": data summing to 0 then checksums to 0. */
static void test_large_start(void **state)
{
    uint8_t buf[64];

    (void)state;
    fill(buf, sizeof buf, 7);
    for (size_t n = 0; n <= sizeof buf; n++)
        assert_int_equal(ustk_csum_finish(ustk_csum_add(0xffffffffu, buf, n)),
                         ref_sum(buf, n) == 0 ? 0x0000 : ref_csum(buf, n));
    /* Start 0xfffeffff (0xfffe + 0xffff) plus all ones is still congruent
     * to 0xfffe: checksum 1. */
    memset(buf, 0xff, sizeof buf);
    assert_int_equal(ustk_csum_finish(ustk_csum_add(0xfffeffffu, buf, 64)),
                     0x0001);
}

/* Carries out of 32 bits must come back in. Start 0xffffffff plus the words
 * 0x80000000 and 0x80000000 is 0x1ffffffff: folding it once gives 2^32,
 * which does not fit 32 bits. Modulo 0xffff the sum is 0 + 0x8000 + 0x8000
 * = 0x10000 = 1, so the checksum is 0xfffe. */
static void test_carry_out_of_32_bits(void **state)
{
    static const uint8_t w[8] = {0x80, 0, 0, 0, 0x80, 0, 0, 0};
    uint8_t ph[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                      0xff, 0xff, 0x00, 0xff, 0xff, 0xff};

    (void)state;
    assert_int_equal(ustk_csum_finish(ustk_csum_add(0xffffffffu, w, 8)),
                     0xfffe);
    assert_int_equal(ustk_csum_finish(ustk_csum_add(0xffffffffu, w, 4)),
                     0x7fff);
    /* The same through the pseudo-header: 0xffffffff + 0x80000000 +
     * 0x80000000 + 0 + 0. */
    assert_int_equal(ustk_csum_finish(ustk_csum_pseudo(0xffffffffu, 0x80000000u,
                                                       0x80000000u, 0, 0)),
                     0xfffe);
    /* All ones everywhere in the pseudo-header. */
    assert_int_equal(ustk_csum_finish(ustk_csum_pseudo(
                         0xffffffffu, 0xffffffffu, 0xffffffffu, 0xff, 0xffff)),
                     ustk_csum_finish(ustk_csum_add(0xffffffffu, ph, 12)));
    assert_int_equal(ustk_csum_finish(ustk_csum_add(0xffffffffu, ph, 12)),
                     0xff00); /* sum of the words = 0x00ff mod 0xffff */
}

/* Every length and every start alignment, against the reference. */
static void test_matches_reference(void **state)
{
    static uint8_t buf[600];

    (void)state;
    fill(buf, sizeof buf, 0x9e3779b9u);
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= 520; n++)
            assert_int_equal(csum(buf + off, n), ref_csum(buf + off, n));
}

/* Sums split into even-length pieces (the last one any length) equal the sum
 * in one go. */
static void test_split_pieces(void **state)
{
    uint8_t buf[131];

    (void)state;
    fill(buf, sizeof buf, 12345);
    for (size_t n = 0; n <= sizeof buf; n++) {
        uint16_t want = ref_csum(buf, n);

        for (size_t a = 0; a <= n; a += 2) {
            uint32_t s = ustk_csum_add(0, buf, a);

            assert_int_equal(ustk_csum_finish(ustk_csum_add(s, buf + a, n - a)),
                             want);
            for (size_t b = a; b <= n; b += 6) {
                uint32_t t = ustk_csum_add(s, buf + a, b - a);

                assert_int_equal(
                    ustk_csum_finish(ustk_csum_add(t, buf + b, n - b)), want);
            }
        }
    }
}

/* A jumbo-sized buffer (past any 16-bit intermediate). */
static void test_large_buffer(void **state)
{
    size_t n = 256 * 1024 + 3;
    uint8_t *buf = malloc(n);

    (void)state;
    assert_non_null(buf);
    fill(buf, n, 99);
    assert_int_equal(csum(buf, n), ref_csum(buf, n));
    memset(buf, 0xff, n);
    assert_int_equal(csum(buf, n), 0x00ff);
    free(buf);
}

/* Long buffers go through 64-bit words in four add-with-carry chains: words
 * near 2^64 make every chain carry on almost every word, at every start
 * alignment, from a zero and a non-zero starting sum. */
static void test_long_buffers_carry(void **state)
{
    static uint8_t buf[4200];
    uint32_t seed = 2718;

    (void)state;
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(rnd(&seed) % 7 == 0 ? rnd(&seed) : 0xff);
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 24; n + off <= sizeof buf; n += 37) {
            assert_int_equal(csum(buf + off, n), ref_csum(buf + off, n));
            assert_int_equal(
                ustk_csum_finish(ustk_csum_add(0x1234u, buf + off, n)),
                ref_csum_from(0x1234u, buf + off, n));
        }
}

/* The vector path (where the CPU has one) and the scalar loop agree with
 * the reference at every length up to 2 KB past the vector threshold and
 * every start alignment, from a zero and an all-ones starting sum. */
static void test_vector_and_scalar_paths(void **state)
{
    static uint8_t buf[2200];

    (void)state;
    fill(buf, sizeof buf, 0x51ed270bu);
    for (size_t off = 0; off < 64; off += 5)
        for (size_t n = 0; n + off <= 2100; n += (n < 300 ? 1 : 13)) {
            uint16_t want = ref_csum(buf + off, n);

            assert_int_equal(csum(buf + off, n), want);
            assert_int_equal(
                ustk_csum_finish(ustk__csum_add_scalar(0, buf + off, n)),
                want);
            assert_int_equal(
                ustk_csum_finish(ustk_csum_add(0xffffffffu, buf + off, n)),
                ustk_csum_finish(
                    ustk__csum_add_scalar(0xffffffffu, buf + off, n)));
        }
}

/* Past the vector path's chunk (4 MB, where its 32-bit lanes are folded):
 * all ones, the worst case for the lanes, and random bytes. */
static void test_vector_chunks(void **state)
{
    size_t n = 9 * 1024 * 1024 + 70;
    uint8_t *buf = malloc(n);

    (void)state;
    assert_non_null(buf);
    memset(buf, 0xff, n);
    assert_int_equal(csum(buf, n), 0x0000);
    assert_int_equal(csum(buf + 1, n - 1), 0x00ff);
    fill(buf, n, 31337);
    assert_int_equal(csum(buf, n), ref_csum(buf, n));
    assert_int_equal(csum(buf + 3, n - 3),
                     ustk_csum_finish(ustk__csum_add_scalar(0, buf + 3, n - 3)));
    free(buf);
}

/* Copying while summing gives the copy and the sum of a memcpy followed
 * by ustk_csum_add, at every length around the vector threshold and every
 * alignment of either side; a buffer cut in two at any point, odd or even,
 * joins to the sum of the whole. */
static void test_copy_and_join(void **state)
{
    static uint8_t src[3000], dst[3100];

    (void)state;
    fill(src, sizeof src, 0xc0ffee);
    for (size_t so = 0; so < 8; so += 3)
        for (size_t d = 0; d < 8; d += 5)
            for (size_t n = 0; n + so <= 2900; n += (n < 400 ? 1 : 29)) {
                memset(dst, 0xa5, sizeof dst);
                uint32_t got = ustk_csum_copy(0x1234, dst + d, src + so, n);
                assert_memory_equal(dst + d, src + so, n);
                assert_int_equal(dst[d + n], 0xa5);
                assert_int_equal(ustk_csum_finish(got),
                                 ref_csum_from(0x1234, src + so, n));
            }
    for (size_t n = 1500; n <= 1501; n++)
        for (size_t cut = 0; cut <= n; cut++) {
            uint32_t a = ustk_csum_copy(0, dst, src, cut);
            uint32_t b = ustk_csum_copy(0, dst + cut, src + cut, n - cut);
            assert_int_equal(ustk_csum_finish(ustk_csum_join(a, b, cut & 1)),
                             ref_csum(src, n));
        }
}

/* Long data that sums to "negative zero" (0xffff) checksums to 0; long
 * zeros to 0xffff: the two stay apart through the 64-bit words. */
static void test_long_negative_zero(void **state)
{
    static uint8_t buf[1024];

    (void)state;
    memset(buf, 0, sizeof buf);
    assert_int_equal(csum(buf, sizeof buf), 0xffff);
    /* 0x0001 + 0xfffe = 0xffff, repeated: every sum along the way is a
     * multiple of 0xffff but never zero. */
    for (size_t i = 0; i < sizeof buf; i += 4) {
        buf[i] = 0x00;
        buf[i + 1] = 0x01;
        buf[i + 2] = 0xff;
        buf[i + 3] = 0xfe;
    }
    assert_int_equal(ref_csum(buf, sizeof buf), 0x0000);
    assert_int_equal(csum(buf, sizeof buf), 0x0000);
    assert_int_equal(csum(buf, 64), 0x0000);
}

/* A buffer that carries its own correct checksum folds to 0: the check a
 * receiver makes. An IPv4 header (UDP, 192.168.0.1 -> 192.168.0.199). */
static void test_stored_checksum_folds_to_zero(void **state)
{
    uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
                     0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
                     0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    uint16_t c;

    (void)state;
    /* By hand: 4500+0073+0000+4000+4011+0000+c0a8+0001+c0a8+00c7 = 0x2479c;
     * folded 0x479c + 2 = 0x479e; ~0x479e = 0xb861. */
    c = csum(h, 20);
    assert_int_equal(c, 0xb861);
    h[10] = (uint8_t)(c >> 8);
    h[11] = (uint8_t)c;
    assert_int_equal(csum(h, 20), 0);
    h[19] ^= 1;
    assert_int_not_equal(csum(h, 20), 0);
}

/* The pseudo-header: 10.0.0.1 -> 10.0.0.2, TCP, 40 bytes. By hand:
 * 0a00 + 0001 + 0a00 + 0002 + 0006 + 0028 = 0x1431, checksum ~ = 0xebce. */
static void test_pseudo_by_hand(void **state)
{
    (void)state;
    assert_int_equal(
        ustk_csum_finish(ustk_csum_pseudo(0, 0x0a000001u, 0x0a000002u, 6, 40)),
        0xebce);
}

/* The pseudo-header adds exactly the 12 bytes RFC 9293 §3.1 lays out. */
static void test_pseudo_matches_bytes(void **state)
{
    uint32_t seed = 4242;

    (void)state;
    for (int i = 0; i < 2000; i++) {
        uint32_t src = rnd(&seed), dst = rnd(&seed), start = rnd(&seed);
        uint8_t proto = (uint8_t)rnd(&seed);
        uint16_t len = (uint16_t)rnd(&seed);
        uint8_t ph[12] = {0};

        if (i == 0) {
            src = dst = start = 0xffffffffu;
            proto = 0xff;
            len = 0xffff;
        }
        for (int k = 0; k < 4; k++) {
            ph[k] = (uint8_t)(src >> (24 - 8 * k));
            ph[4 + k] = (uint8_t)(dst >> (24 - 8 * k));
        }
        ph[9] = proto; /* ph[8] is the zero byte */
        ph[10] = (uint8_t)(len >> 8);
        ph[11] = (uint8_t)len;
        assert_int_equal(
            ustk_csum_finish(ustk_csum_pseudo(start, src, dst, proto, len)),
            ustk_csum_finish(ustk_csum_add(start, ph, sizeof ph)));
    }
}

/* Headers summed as 32-bit words in line (ustk_csum_words), and written
 * and summed at once (ustk_csum_writer), give the reference sum of the
 * bytes they cover, from any starting sum, up to TCP's 60 bytes, with
 * every word all ones in the first round (the carries). */
static void test_header_words(void **state)
{
    uint32_t seed = 777;
    uint8_t hdr[60], out[60];

    (void)state;
    for (int i = 0; i < 3000; i++) {
        size_t len = 4 * (1 + rnd(&seed) % 15);
        uint32_t start = i == 0 ? 0xffffffffu : rnd(&seed) >> (i % 3 * 8);
        if (i == 0)
            memset(hdr, 0xff, sizeof hdr);
        else
            fill(hdr, len, rnd(&seed));
        assert_int_equal(ustk_csum_finish(ustk_csum_words(start, hdr, len)),
                         ref_csum_from(start, hdr, len));
        ustk_csum_writer w = { out, start };
        for (size_t k = 0; k < len; k += 4)
            ustk_csum_put32(&w, (uint32_t)hdr[k] << 24 |
                                    (uint32_t)hdr[k + 1] << 16 |
                                    (uint32_t)hdr[k + 2] << 8 | hdr[k + 3]);
        assert_ptr_equal(w.p, out + len);
        assert_memory_equal(out, hdr, len);
        assert_int_equal(ustk_csum_finish(ustk_csum_put_sum(&w)),
                         ref_csum_from(start, hdr, len));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1071_example),
        cmocka_unit_test(test_rfc1071_example_split),
        cmocka_unit_test(test_odd_lengths_by_hand),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_carries_all_ones),
        cmocka_unit_test(test_large_start),
        cmocka_unit_test(test_carry_out_of_32_bits),
        cmocka_unit_test(test_matches_reference),
        cmocka_unit_test(test_split_pieces),
        cmocka_unit_test(test_large_buffer),
        cmocka_unit_test(test_long_buffers_carry),
        cmocka_unit_test(test_long_negative_zero),
        cmocka_unit_test(test_vector_and_scalar_paths),
        cmocka_unit_test(test_vector_chunks),
        cmocka_unit_test(test_copy_and_join),
        cmocka_unit_test(test_stored_checksum_folds_to_zero),
        cmocka_unit_test(test_pseudo_by_hand),
        cmocka_unit_test(test_pseudo_matches_bytes),
        cmocka_unit_test(test_header_words),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
