/* SipHash-2-4 (src/util/siphash.c) against the reference test vectors of
 * the SipHash paper (Aumasson and Bernstein, 2012, Appendix A) and the
 * authors' reference repository (vectors.h, vectors_sip64): key 00 01 .. 0f,
 * message 00 01 .. (len - 1) for len = 0 .. 63. The reference lists each
 * output as its 8 bytes in little-endian order; they are written here as the
 * 64-bit numbers those bytes encode. Spot checks of the conversion against
 * the byte lists: len 0 is 31 0e 0e dd 47 db 6f 72, len 15 is
 * e5 45 be 49 61 ca 29 a1, len 63 is 72 45 06 eb 4c 32 8a 95. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/siphash.h"

static const uint64_t vectors[64] = {
    0x726fdb47dd0e0e31u, 0x74f839c593dc67fdu, 0x0d6c8009d9a94f5au, 0x85676696d7fb7e2du,
    0xcf2794e0277187b7u, 0x18765564cd99a68du, 0xcbc9466e58fee3ceu, 0xab0200f58b01d137u,
    0x93f5f5799a932462u, 0x9e0082df0ba9e4b0u, 0x7a5dbbc594ddb9f3u, 0xf4b32f46226bada7u,
    0x751e8fbc860ee5fbu, 0x14ea5627c0843d90u, 0xf723ca908e7af2eeu, 0xa129ca6149be45e5u,
    0x3f2acc7f57c29bdbu, 0x699ae9f52cbe4794u, 0x4bc1b3f0968dd39cu, 0xbb6dc91da77961bdu,
    0xbed65cf21aa2ee98u, 0xd0f2cbb02e3b67c7u, 0x93536795e3a33e88u, 0xa80c038ccd5ccec8u,
    0xb8ad50c6f649af94u, 0xbce192de8a85b8eau, 0x17d835b85bbb15f3u, 0x2f2e6163076bcfadu,
    0xde4daaaca71dc9a5u, 0xa6a2506687956571u, 0xad87a3535c49ef28u, 0x32d892fad841c342u,
    0x7127512f72f27cceu, 0xa7f32346f95978e3u, 0x12e0b01abb051238u, 0x15e034d40fa197aeu,
    0x314dffbe0815a3b4u, 0x027990f029623981u, 0xcadcd4e59ef40c4du, 0x9abfd8766a33735cu,
    0x0e3ea96b5304a7d0u, 0xad0c42d6fc585992u, 0x187306c89bc215a9u, 0xd4a60abcf3792b95u,
    0xf935451de4f21df2u, 0xa9538f0419755787u, 0xdb9acddff56ca510u, 0xd06c98cd5c0975ebu,
    0xe612a3cb9ecba951u, 0xc766e62cfcadaf96u, 0xee64435a9752fe72u, 0xa192d576b245165au,
    0x0a8787bf8ecb74b2u, 0x81b3e73d20b49b6fu, 0x7fa8220ba3b2eceau, 0x245731c13ca42499u,
    0xb78dbfaf3a8d83bdu, 0xea1ad565322a1a0bu, 0x60e61c23a3795013u, 0x6606d7e446282b93u,
    0x6ca4ecb15c5f91e1u, 0x9f626da15c9625f3u, 0xe51b38608ef25f57u, 0x958a324ceb064572u,
};

static void reference_inputs(uint8_t key[16], uint8_t msg[64])
{
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
}

static void test_reference_vectors(void **state)
{
    uint8_t key[16], msg[64];

    (void)state;
    reference_inputs(key, msg);
    for (size_t len = 0; len < 64; len++) {
        uint64_t h = ustk_siphash24(key, msg, len);

        if (h != vectors[len])
            fail_msg("len %zu: got %016llx, want %016llx", len, (unsigned long long)h,
                     (unsigned long long)vectors[len]);
    }
}

/* The empty message may come with a NULL pointer. */
static void test_empty_null(void **state)
{
    uint8_t key[16], msg[64];

    (void)state;
    reference_inputs(key, msg);
    assert_true(ustk_siphash24(key, NULL, 0) == vectors[0]);
}

/* The hash must not depend on the alignment of the key or the message: every
 * misalignment of both gives the reference results. */
static void test_alignment(void **state)
{
    uint8_t key[16], msg[64];
    uint8_t kbuf[16 + 8], mbuf[64 + 8];

    (void)state;
    reference_inputs(key, msg);
    for (size_t ka = 0; ka < 8; ka++) {
        memcpy(kbuf + ka, key, 16);
        for (size_t ma = 0; ma < 8; ma++) {
            memcpy(mbuf + ma, msg, 64);
            for (size_t len = 0; len < 64; len += 7)
                assert_true(ustk_siphash24(kbuf + ka, mbuf + ma, len) == vectors[len]);
            assert_true(ustk_siphash24(kbuf + ka, mbuf + ma, 63) == vectors[63]);
        }
    }
}

/* Flipping any single bit of the key or of the message changes the hash: a
 * slip such as ignoring a trailing byte or half of the key is caught. */
static void test_every_bit_matters(void **state)
{
    uint8_t key[16], msg[64];
    const size_t len = 37;
    uint64_t base;

    (void)state;
    reference_inputs(key, msg);
    base = ustk_siphash24(key, msg, len);
    for (size_t bit = 0; bit < 16 * 8; bit++) {
        key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_true(ustk_siphash24(key, msg, len) != base);
        key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < len * 8; bit++) {
        msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_true(ustk_siphash24(key, msg, len) != base);
        msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* Bytes past the length must not be read into the result. */
    msg[len] ^= 0xff;
    assert_true(ustk_siphash24(key, msg, len) == base);
}

/* A message longer than 255 bytes: only the low byte of the length enters
 * the final block, so lengths 256 apart differ only through their content. */
static void test_long_message(void **state)
{
    uint8_t key[16], msg[64], big[600];

    (void)state;
    reference_inputs(key, msg);
    memset(big, 0, sizeof(big));
    /* A run of zero words followed by the same tail must still depend on
     * the number of zero words. */
    assert_true(ustk_siphash24(key, big, 8) != ustk_siphash24(key, big, 264));
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 31u);
    assert_true(ustk_siphash24(key, big, sizeof(big)) ==
                ustk_siphash24(key, big, sizeof(big)));
    assert_true(ustk_siphash24(key, big, sizeof(big)) !=
                ustk_siphash24(key, big, sizeof(big) - 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_vectors),
        cmocka_unit_test(test_empty_null),
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_every_bit_matters),
        cmocka_unit_test(test_long_message),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
