/* IPv4 header (src/wire/ipv4.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ustack/drop.h"
#include "wire/ipv4.h"
#include "wire_ref.h"

/* The IPv4 packet of a Linux SYN (connect() from 192.168.1.10:54321 to
 * 93.184.216.34:80; the TCP part is checked in test_wire_tcp.c).
 *
 *   45        version 4, IHL 5
 *   00        TOS
 *   00 3c     total length 60
 *   1c 46     identification
 *   40 00     DF, offset 0
 *   40        TTL 64
 *   06        TCP
 *   26 e9     header checksum
 *   c0 a8 01 0a / 5d b8 d8 22
 *
 * Checksum by hand: 4500 + 003c + 1c46 + 4000 + 4006 + 0000 + c0a8 + 010a +
 * 5db8 + d822 = 0x2d914; folded 0xd914 + 2 = 0xd916; ~ = 0x26e9. */
static const uint8_t syn_packet[60] = {
    0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x26, 0xe9,
    0xc0, 0xa8, 0x01, 0x0a, 0x5d, 0xb8, 0xd8, 0x22,
    /* TCP */
    0xd4, 0x31, 0x00, 0x50, 0x9a, 0x3c, 0x12, 0xf5, 0x00, 0x00, 0x00, 0x00,
    0xa0, 0x02, 0xfa, 0xf0, 0x9d, 0x76, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
    0x04, 0x02, 0x08, 0x0a, 0x0a, 0x1b, 0x2c, 0x3d, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x03, 0x03, 0x07};

/* The header of `ping -c1 8.8.8.8` from 192.168.1.10 (84 bytes: 20 + 8 +
 * 56). By hand: 4500 + 0054 + 5c3a + 4000 + 4001 + 0000 + c0a8 + 010a +
 * 0808 + 0808 = 0x1f351; 0xf351 + 1 = 0xf352; ~ = 0x0cad. */
static const uint8_t ping_hdr[20] = {0x45, 0x00, 0x00, 0x54, 0x5c, 0x3a, 0x40,
                                     0x00, 0x40, 0x01, 0x0c, 0xad, 0xc0, 0xa8,
                                     0x01, 0x0a, 0x08, 0x08, 0x08, 0x08};

/* An IGMPv3 report as Linux sends it: TOS 0xc0, TTL 1, and the Router Alert
 * option (RFC 2113: 94 04 00 00), so IHL is 6. Total length 32 (24 + an
 * 8-byte stand-in for the IGMP message). By hand: 46c0 + 0020 + 0000 + 4000
 * + 0102 + 0000 + c0a8 + 010a + e000 + 0016 + 9404 + 0000 = 0x2bdae; 0xbdae
 * + 2 = 0xbdb0; ~ = 0x424f. */
static const uint8_t igmp_packet[32] = {
    0x46, 0xc0, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0x42,
    0x4f, 0xc0, 0xa8, 0x01, 0x0a, 0xe0, 0x00, 0x00, 0x16, 0x94, 0x04,
    0x00, 0x00, 0x22, 0x00, 0xf9, 0x02, 0x00, 0x00, 0x00, 0x01};

static void test_known_checksums(void **state)
{
    (void)state;
    /* The hand computations above, checked by the reference. */
    assert_int_equal(wire_ref_csum(0, syn_packet, 20), 0);
    assert_int_equal(wire_ref_csum(0, ping_hdr, 20), 0);
    assert_int_equal(wire_ref_csum(0, igmp_packet, 24), 0);
}

static void test_parse_linux_syn(void **state)
{
    uint8_t *b = wire_exact(syn_packet, sizeof syn_packet);
    ustk_ipv4_hdr h;

    (void)state;
    assert_int_equal(ustk_ipv4_parse(b, sizeof syn_packet, &h), 0);
    assert_int_equal(h.hdr_len, 20);
    assert_int_equal(h.tos, 0);
    assert_int_equal(h.total_len, 60);
    assert_int_equal(h.id, 0x1c46);
    assert_int_equal(h.frag, USTK_IPV4_DF);
    assert_int_equal(h.ttl, 64);
    assert_int_equal(h.proto, USTK_IP_PROTO_TCP);
    assert_int_equal(h.src, 0xc0a8010a);
    assert_int_equal(h.dst, 0x5db8d822);
    assert_false(ustk_ipv4_is_fragment(&h));
    free(b);
}

/* Emitting the parsed fields gives the same 20 bytes, checksum included. */
static void test_emit_known_headers(void **state)
{
    static const struct {
        const uint8_t *hdr;
        size_t total;
    } known[] = {{syn_packet, 60}, {ping_hdr, 84}};

    (void)state;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        uint8_t pkt[84] = {0}, out[20];
        ustk_ipv4_hdr h;

        memcpy(pkt, known[i].hdr, 20);
        assert_int_equal(ustk_ipv4_parse(pkt, known[i].total, &h), 0);
        assert_int_equal(h.total_len, known[i].total);
        memset(out, 0xee, sizeof out);
        assert_int_equal(ustk_ipv4_emit(&h, out, sizeof out), 20);
        assert_memory_equal(out, known[i].hdr, 20);
    }
}

static void test_parse_options_skipped(void **state)
{
    uint8_t *b = wire_exact(igmp_packet, sizeof igmp_packet);
    ustk_ipv4_hdr h;

    (void)state;
    assert_int_equal(ustk_ipv4_parse(b, sizeof igmp_packet, &h), 0);
    assert_int_equal(h.hdr_len, 24);
    assert_int_equal(h.total_len, 32);
    assert_int_equal(h.tos, 0xc0);
    assert_int_equal(h.ttl, 1);
    assert_int_equal(h.proto, 2);
    assert_int_equal(h.dst, 0xe0000016);
    /* The checksum covers the options too. */
    b[21] ^= 0x01;
    assert_int_equal(ustk_ipv4_parse(b, sizeof igmp_packet, &h),
                     USTK_DROP_IP_CHECKSUM);
    free(b);
}

/* A header we emit, with every field set, parses back to the same struct. */
static void test_round_trip(void **state)
{
    static const uint16_t frags[] = {
        0, USTK_IPV4_DF, USTK_IPV4_MF, USTK_IPV4_MF | 0x00b9, 0x1fff, 0x0001};
    uint8_t buf[100];

    (void)state;
    for (size_t i = 0; i < sizeof frags / sizeof frags[0]; i++) {
        ustk_ipv4_hdr in = {.hdr_len = 60, /* ignored: we emit 20 */
                            .tos = (uint8_t)(0x10 * i),
                            .total_len = (uint16_t)(20 + 13 * i),
                            .id = (uint16_t)(0xfff0 + i),
                            .frag = frags[i],
                            .ttl = (uint8_t)(i ? 255 : 1),
                            .proto = USTK_IP_PROTO_UDP,
                            .src = 0x0a000001u + (uint32_t)i,
                            .dst = 0xfffffff0u + (uint32_t)i};
        ustk_ipv4_hdr out;

        memset(buf, 0, sizeof buf);
        assert_int_equal(ustk_ipv4_emit(&in, buf, sizeof buf), 20);
        assert_int_equal(buf[0], 0x45);
        assert_int_equal(wire_ref_csum(0, buf, 20), 0);
        assert_int_equal(ustk_ipv4_parse(buf, in.total_len, &out), 0);
        assert_int_equal(out.hdr_len, 20);
        assert_int_equal(out.tos, in.tos);
        assert_int_equal(out.total_len, in.total_len);
        assert_int_equal(out.id, in.id);
        assert_int_equal(out.frag, in.frag);
        assert_int_equal(out.ttl, in.ttl);
        assert_int_equal(out.proto, in.proto);
        assert_int_equal(out.src, in.src);
        assert_int_equal(out.dst, in.dst);
        assert_int_equal(ustk_ipv4_is_fragment(&out),
                         (frags[i] & (USTK_IPV4_MF | USTK_IPV4_OFFMASK)) != 0);
    }
}

/* Bytes after total_len are link padding (a 60-byte Ethernet minimum). */
static void test_link_padding_ignored(void **state)
{
    uint8_t b[46];
    ustk_ipv4_hdr in = {.tos = 0,
                        .total_len = 28,
                        .id = 1,
                        .frag = 0,
                        .ttl = 64,
                        .proto = USTK_IP_PROTO_ICMP,
                        .src = 0x0a000001,
                        .dst = 0x0a000002};
    ustk_ipv4_hdr out;

    (void)state;
    memset(b, 0x77, sizeof b);
    assert_int_equal(ustk_ipv4_emit(&in, b, sizeof b), 20);
    assert_int_equal(ustk_ipv4_parse(b, sizeof b, &out), 0);
    assert_int_equal(out.total_len, 28);
}

/* Every truncation of the SYN: below 20 bytes the header is missing, from 20
 * on the header is there but Total Length says 60. */
static void test_truncated(void **state)
{
    (void)state;
    for (size_t n = 0; n <= sizeof syn_packet; n++) {
        uint8_t *b = wire_exact(syn_packet, n);
        ustk_ipv4_hdr h;
        int want = n < 20                  ? USTK_DROP_IP_SHORT
                   : n < sizeof syn_packet ? USTK_DROP_IP_TOTAL_LEN
                                           : 0;

        assert_int_equal(ustk_ipv4_parse(b, n, &h), want);
        free(b);
    }
    /* And the header with options: 20..23 bytes lack the option word. */
    for (size_t n = 0; n <= sizeof igmp_packet; n++) {
        uint8_t *b = wire_exact(igmp_packet, n);
        ustk_ipv4_hdr h;
        int want = n < 20                   ? USTK_DROP_IP_SHORT
                   : n < 24                 ? USTK_DROP_IP_HDR_LEN
                   : n < sizeof igmp_packet ? USTK_DROP_IP_TOTAL_LEN
                                            : 0;

        assert_int_equal(ustk_ipv4_parse(b, n, &h), want);
        free(b);
    }
}

static int parse_patched(size_t off, uint8_t v, size_t len)
{
    uint8_t b[60];
    ustk_ipv4_hdr h;

    memcpy(b, syn_packet, sizeof b);
    b[off] = v;
    return ustk_ipv4_parse(b, len, &h);
}

/* RFC 1122 §3.2.1.1: only version 4. Checked before the header length. */
static void test_bad_version(void **state)
{
    (void)state;
    for (unsigned v = 0; v < 16; v++) {
        if (v == 4)
            continue;
        assert_int_equal(parse_patched(0, (uint8_t)(v << 4 | 5), 60),
                         USTK_DROP_IP_VERSION);
        assert_int_equal(parse_patched(0, (uint8_t)(v << 4 | 0), 60),
                         USTK_DROP_IP_VERSION);
    }
    /* IPv6's first byte. */
    assert_int_equal(parse_patched(0, 0x60, 60), USTK_DROP_IP_VERSION);
}

static void test_bad_ihl(void **state)
{
    (void)state;
    /* RFC 791: IHL below 5 is not a header. */
    for (uint8_t ihl = 0; ihl < 5; ihl++)
        assert_int_equal(parse_patched(0, (uint8_t)(0x40 | ihl), 60),
                         USTK_DROP_IP_HDR_LEN);
    /* IHL 15 is 60 bytes: more than a 59-byte buffer holds. */
    assert_int_equal(parse_patched(0, 0x4f, 59), USTK_DROP_IP_HDR_LEN);
    /* IHL 6 in a 23-byte buffer. */
    assert_int_equal(parse_patched(0, 0x46, 23), USTK_DROP_IP_HDR_LEN);
}

static void test_bad_total_len(void **state)
{
    uint8_t b[60];
    ustk_ipv4_hdr h;

    (void)state;
    memcpy(b, syn_packet, sizeof b);
    /* Smaller than the header. */
    for (uint16_t t = 0; t < 20; t++) {
        b[2] = 0;
        b[3] = (uint8_t)t;
        assert_int_equal(ustk_ipv4_parse(b, sizeof b, &h),
                         USTK_DROP_IP_TOTAL_LEN);
    }
    /* Smaller than a header with options. */
    memcpy(b, igmp_packet, sizeof igmp_packet);
    for (uint16_t t = 20; t < 24; t++) {
        b[3] = (uint8_t)t;
        assert_int_equal(ustk_ipv4_parse(b, sizeof igmp_packet, &h),
                         USTK_DROP_IP_TOTAL_LEN);
    }
    /* Larger than the buffer. */
    memcpy(b, syn_packet, sizeof b);
    b[2] = 0xff;
    b[3] = 0xff;
    assert_int_equal(ustk_ipv4_parse(b, sizeof b, &h), USTK_DROP_IP_TOTAL_LEN);
    b[2] = 0;
    b[3] = 61;
    assert_int_equal(ustk_ipv4_parse(b, sizeof b, &h), USTK_DROP_IP_TOTAL_LEN);
}

/* Any single-bit error outside version/IHL/total length is caught by the
 * checksum: one bit changes the one's-complement sum by a power of two,
 * never by a multiple of 0xffff. */
static void test_bad_checksum_every_bit(void **state)
{
    (void)state;
    for (size_t off = 1; off < 20; off++) {
        if (off == 2 || off == 3)
            continue;
        for (int bit = 0; bit < 8; bit++)
            assert_int_equal(
                parse_patched(off, (uint8_t)(syn_packet[off] ^ 1u << bit), 60),
                USTK_DROP_IP_CHECKSUM);
    }
    /* A stored checksum of zero ("not computed" in UDP) means nothing
     * special in IPv4. */
    {
        uint8_t b[60];
        ustk_ipv4_hdr h;

        memcpy(b, syn_packet, sizeof b);
        b[10] = b[11] = 0;
        assert_int_equal(ustk_ipv4_parse(b, sizeof b, &h),
                         USTK_DROP_IP_CHECKSUM);
    }
}

static void test_emit_small_cap(void **state)
{
    ustk_ipv4_hdr h = {.total_len = 20, .ttl = 64, .proto = 6};
    uint8_t buf[32], want[32];

    (void)state;
    memset(want, 0xc3, sizeof want);
    for (size_t cap = 0; cap < 20; cap++) {
        memset(buf, 0xc3, sizeof buf);
        assert_int_equal(ustk_ipv4_emit(&h, buf, cap), 0);
        assert_memory_equal(buf, want, sizeof buf);
    }
    memset(buf, 0xc3, sizeof buf);
    assert_int_equal(ustk_ipv4_emit(&h, buf, 20), 20);
    assert_memory_equal(buf + 20, want, sizeof buf - 20);
}

/* Any bytes: no crash, no read past len, and what is accepted is
 * consistent. */
static void test_random_bytes(void **state)
{
    uint32_t s = 88172645u;
    int accepted = 0;

    (void)state;
    for (int i = 0; i < 50000; i++) {
        uint8_t raw[80];
        size_t n;
        uint8_t *b;
        ustk_ipv4_hdr h;

        for (size_t j = 0; j < sizeof raw; j++) {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            raw[j] = (uint8_t)s;
        }
        n = s % (sizeof raw + 1);
        if (i % 2 && n >= 20) {
            /* Plausible: version 4, sane lengths, right checksum. */
            size_t ihl = 20 + 4 * (raw[1] % 11);
            size_t total = n - raw[5] % 8; /* some link padding */
            uint16_t c;

            if (ihl > n)
                ihl = 20;
            if (total < ihl)
                total = n;
            raw[0] = (uint8_t)(0x40 | ihl / 4);
            raw[2] = 0;
            raw[3] = (uint8_t)total;
            raw[10] = raw[11] = 0;
            c = wire_ref_csum(0, raw, ihl);
            raw[10] = (uint8_t)(c >> 8);
            raw[11] = (uint8_t)c;
        }
        b = wire_exact(raw, n);
        if (ustk_ipv4_parse(b, n, &h) == 0) {
            assert_true(h.hdr_len >= 20 && h.hdr_len <= 60);
            assert_true(h.hdr_len <= h.total_len && h.total_len <= n);
            assert_int_equal(h.hdr_len, (b[0] & 0x0f) * 4);
            accepted++;
        }
        free(b);
    }
    assert_true(accepted > 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_checksums),
        cmocka_unit_test(test_parse_linux_syn),
        cmocka_unit_test(test_emit_known_headers),
        cmocka_unit_test(test_parse_options_skipped),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_link_padding_ignored),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_bad_ihl),
        cmocka_unit_test(test_bad_total_len),
        cmocka_unit_test(test_bad_checksum_every_bit),
        cmocka_unit_test(test_emit_small_cap),
        cmocka_unit_test(test_random_bytes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
