/* ICMP and UDP (src/wire/icmp.c, src/wire/udp.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ustack/drop.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"
#include "wire_ref.h"

/* `ping -c1 8.8.8.8` from 192.168.1.10 on Linux (iputils): a 98-byte frame.
 *
 *   Ethernet  52:54:00:12:35:02 <- 08:00:27:4e:1f:3c, type 0800
 *   IPv4      45 00 0054 5c3a 4000(DF) 40(TTL) 01(ICMP) 0cad c0a8010a 08080808
 *   ICMP      08 00 a7a0   type echo request, code 0, checksum
 *             04 d2 00 01  identifier 1234, sequence 1
 *   data      56 bytes: the send time as a struct timeval in host (little-
 *             endian) order, tv_sec 0x65a1b2c3 and tv_usec 500000, each
 *             8 bytes, then the bytes 0x10, 0x11, ... 0x37.
 *
 * ICMP checksum by hand: the 32 words 0800 0000 04d2 0001 c3b2 a165 0000
 * 0000 20a1 0700 0000 0000 1011 1213 ... 3637 sum to 0x4585b; 0x585b + 4 =
 * 0x585f; ~ = 0xa7a0. IPv4: 0x1f351 -> 0xf352 -> ~ = 0x0cad. */
static const uint8_t ping_frame[98] = {
    0x52, 0x54, 0x00, 0x12, 0x35, 0x02, 0x08, 0x00, 0x27, 0x4e, 0x1f, 0x3c,
    0x08, 0x00,
    /* IPv4 */
    0x45, 0x00, 0x00, 0x54, 0x5c, 0x3a, 0x40, 0x00, 0x40, 0x01, 0x0c, 0xad,
    0xc0, 0xa8, 0x01, 0x0a, 0x08, 0x08, 0x08, 0x08,
    /* ICMP */
    0x08, 0x00, 0xa7, 0xa0, 0x04, 0xd2, 0x00, 0x01,
    /* data */
    0xc3, 0xb2, 0xa1, 0x65, 0x00, 0x00, 0x00, 0x00, 0x20, 0xa1, 0x07, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23,
    0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37};

#define PING_ICMP (ping_frame + 34)
#define PING_ICMP_LEN 64

static void test_icmp_known_checksum(void **state)
{
    (void)state;
    assert_int_equal(wire_ref_csum(0, PING_ICMP, PING_ICMP_LEN), 0);
    assert_int_equal(wire_ref_csum(0, ping_frame + 14, 20), 0);
}

static void test_icmp_parse_ping(void **state)
{
    uint8_t *b = wire_exact(PING_ICMP, PING_ICMP_LEN);
    ustk_icmp_hdr h;

    (void)state;
    assert_int_equal(ustk_icmp_parse(b, PING_ICMP_LEN, &h), 0);
    assert_int_equal(h.type, USTK_ICMP_ECHO_REQUEST);
    assert_int_equal(h.code, 0);
    assert_int_equal(h.rest, 0x04d20001);
    assert_ptr_equal(h.data, b + 8);
    assert_int_equal(h.data_len, 56);
    free(b);
}

/* The whole frame, layer by layer, comes out byte for byte. */
static void test_icmp_emit_ping_frame(void **state)
{
    uint8_t buf[98];
    ustk_eth_hdr e = {.dst = {0x52, 0x54, 0x00, 0x12, 0x35, 0x02},
                      .src = {0x08, 0x00, 0x27, 0x4e, 0x1f, 0x3c},
                      .type = USTK_ETHERTYPE_IPV4};
    ustk_ipv4_hdr ip = {.tos = 0,
                        .total_len = 84,
                        .id = 0x5c3a,
                        .frag = USTK_IPV4_DF,
                        .ttl = 64,
                        .proto = USTK_IP_PROTO_ICMP,
                        .src = 0xc0a8010a,
                        .dst = 0x08080808};
    ustk_icmp_hdr ic = {.type = USTK_ICMP_ECHO_REQUEST,
                        .code = 0,
                        .rest = 1234u << 16 | 1,
                        .data = PING_ICMP + 8,
                        .data_len = 56};

    (void)state;
    memset(buf, 0, sizeof buf);
    assert_int_equal(ustk_eth_emit(&e, buf, sizeof buf), 14);
    assert_int_equal(ustk_ipv4_emit(&ip, buf + 14, sizeof buf - 14), 20);
    assert_int_equal(ustk_icmp_emit(&ic, buf + 34, sizeof buf - 34), 64);
    assert_memory_equal(buf, ping_frame, sizeof ping_frame);
}

/* An echo reply built in place over the request (data already at buf + 8).
 * Only the type changes, 8 -> 0, so by RFC 1624 the checksum grows by
 * 0x0800: 0xa7a0 + 0x0800 = 0xafa0. */
static void test_icmp_echo_reply_in_place(void **state)
{
    uint8_t b[PING_ICMP_LEN];
    ustk_icmp_hdr h;

    (void)state;
    memcpy(b, PING_ICMP, sizeof b);
    assert_int_equal(ustk_icmp_parse(b, sizeof b, &h), 0);
    h.type = USTK_ICMP_ECHO_REPLY;
    assert_int_equal(ustk_icmp_emit(&h, b, sizeof b), 64);
    assert_int_equal(b[0], 0);
    assert_int_equal(b[2], 0xaf);
    assert_int_equal(b[3], 0xa0);
    assert_memory_equal(b + 4, PING_ICMP + 4, 60);
    assert_int_equal(ustk_icmp_parse(b, sizeof b, &h), 0);
}

/* Data that overlaps the header being written (at buf + 4). */
static void test_icmp_emit_overlapping_data(void **state)
{
    uint8_t b[80];
    ustk_icmp_hdr h = {.type = USTK_ICMP_ECHO_REPLY, .rest = 7};
    ustk_icmp_hdr out;

    (void)state;
    for (size_t i = 0; i < sizeof b; i++)
        b[i] = (uint8_t)i;
    h.data = b + 4;
    h.data_len = 20;
    assert_int_equal(ustk_icmp_emit(&h, b, sizeof b), 28);
    for (size_t i = 0; i < 20; i++)
        assert_int_equal(b[8 + i], 4 + i);
    assert_int_equal(ustk_icmp_parse(b, 28, &out), 0);
    assert_int_equal(out.rest, 7);
    assert_int_equal(out.data_len, 20);
}

/* "Fragmentation needed" (RFC 1191 §4: next-hop MTU in the low 16 bits),
 * carrying the offending IP header and 8 bytes of its payload. */
static void test_icmp_round_trip_frag_needed(void **state)
{
    uint8_t b[64];
    ustk_icmp_hdr in = {.type = USTK_ICMP_DEST_UNREACH,
                        .code = 4,
                        .rest = 1400,
                        .data = ping_frame + 14,
                        .data_len = 28};
    ustk_icmp_hdr out;

    (void)state;
    memset(b, 0, sizeof b);
    assert_int_equal(ustk_icmp_emit(&in, b, sizeof b), 36);
    assert_int_equal(wire_ref_csum(0, b, 36), 0);
    assert_int_equal(ustk_icmp_parse(b, 36, &out), 0);
    assert_int_equal(out.type, USTK_ICMP_DEST_UNREACH);
    assert_int_equal(out.code, 4);
    assert_int_equal(out.rest & 0xffff, 1400);
    assert_int_equal(out.data_len, 28);
    assert_memory_equal(out.data, ping_frame + 14, 28);
    /* Header only, no data (data NULL). */
    in.type = USTK_ICMP_TIME_EXCEEDED;
    in.data = NULL;
    in.data_len = 0;
    assert_int_equal(ustk_icmp_emit(&in, b, 8), 8);
    assert_int_equal(ustk_icmp_parse(b, 8, &out), 0);
    assert_int_equal(out.type, USTK_ICMP_TIME_EXCEEDED);
    assert_int_equal(out.data_len, 0);
}

/* Every truncation of the echo request: below 8 bytes too short, from 8 on
 * the checksum no longer matches (the removed tail never sums to 0 here:
 * the reference confirms it for each length). */
static void test_icmp_truncated(void **state)
{
    (void)state;
    for (size_t n = 0; n <= PING_ICMP_LEN; n++) {
        uint8_t *b = wire_exact(PING_ICMP, n);
        ustk_icmp_hdr h;
        int want = n < 8               ? USTK_DROP_ICMP_SHORT
                   : n < PING_ICMP_LEN ? USTK_DROP_ICMP_CHECKSUM
                                       : 0;

        if (n >= 8 && n < PING_ICMP_LEN)
            assert_int_not_equal(wire_ref_csum(0, b, n), 0);
        assert_int_equal(ustk_icmp_parse(b, n, &h), want);
        free(b);
    }
}

static void test_icmp_bad_checksum(void **state)
{
    (void)state;
    for (size_t off = 0; off < PING_ICMP_LEN; off++) {
        uint8_t b[PING_ICMP_LEN];
        ustk_icmp_hdr h;

        memcpy(b, PING_ICMP, sizeof b);
        b[off] ^= 0x40;
        assert_int_equal(ustk_icmp_parse(b, sizeof b, &h),
                         USTK_DROP_ICMP_CHECKSUM);
    }
}

static void test_icmp_emit_small_cap(void **state)
{
    ustk_icmp_hdr h = {
        .type = 8, .rest = 1, .data = PING_ICMP + 8, .data_len = 56};
    uint8_t buf[80], want[80];

    (void)state;
    memset(want, 0x3c, sizeof want);
    for (size_t cap = 0; cap < 64; cap++) {
        memset(buf, 0x3c, sizeof buf);
        assert_int_equal(ustk_icmp_emit(&h, buf, cap), 0);
        assert_memory_equal(buf, want, sizeof buf);
    }
    memset(buf, 0x3c, sizeof buf);
    assert_int_equal(ustk_icmp_emit(&h, buf, 64), 64);
    assert_memory_equal(buf + 64, want, sizeof buf - 64);
    /* A data length that would overflow size_t arithmetic. */
    h.data_len = SIZE_MAX - 4;
    assert_int_equal(ustk_icmp_emit(&h, buf, sizeof buf), 0);
}

/* ---- UDP --------------------------------------------------------------- */

#define UDP_SRC 0xc0a8010au /* 192.168.1.10 */
#define UDP_DST 0x08080808u /* 8.8.8.8 */

/* 192.168.1.10:40000 -> 8.8.8.8:53, payload "hello". Checksum by hand: the
 * pseudo-header c0a8 010a 0808 0808 0011 000d, then 9c40 0035 000d 0000
 * 6865 6c6c 6f00 (the odd last byte padded) sum to 0x2b233; 0xb233 + 2 =
 * 0xb235; ~ = 0x4dca. */
static const uint8_t udp_hello[13] = {0x9c, 0x40, 0x00, 0x35, 0x00, 0x0d, 0x4d,
                                      0xca, 0x68, 0x65, 0x6c, 0x6c, 0x6f};

static void test_udp_parse_known(void **state)
{
    uint8_t *b = wire_exact(udp_hello, sizeof udp_hello);
    ustk_udp_hdr h;

    (void)state;
    assert_int_equal(ustk_udp_parse(b, sizeof udp_hello, UDP_SRC, UDP_DST, &h),
                     0);
    assert_int_equal(h.sport, 40000);
    assert_int_equal(h.dport, 53);
    assert_int_equal(h.len, 13);
    assert_int_equal(h.csum, 0x4dca);
    free(b);
}

static void test_udp_emit_known(void **state)
{
    uint8_t buf[13];

    (void)state;
    memset(buf, 0, sizeof buf);
    assert_int_equal(ustk_udp_emit(40000, 53, (const uint8_t *)"hello", 5,
                                   UDP_SRC, UDP_DST, buf, sizeof buf),
                     13);
    assert_memory_equal(buf, udp_hello, sizeof udp_hello);
    /* Payload already in place, given as buf + 8 or as NULL. */
    memset(buf, 0, 8);
    assert_int_equal(
        ustk_udp_emit(40000, 53, buf + 8, 5, UDP_SRC, UDP_DST, buf, sizeof buf),
        13);
    assert_memory_equal(buf, udp_hello, sizeof udp_hello);
    memset(buf, 0, 8);
    assert_int_equal(
        ustk_udp_emit(40000, 53, NULL, 5, UDP_SRC, UDP_DST, buf, sizeof buf),
        13);
    assert_memory_equal(buf, udp_hello, sizeof udp_hello);
}

static void test_udp_round_trip(void **state)
{
    uint8_t payload[300], buf[400];

    (void)state;
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    for (size_t plen = 0; plen <= sizeof payload; plen += 13) {
        ustk_udp_hdr h;
        size_t n = ustk_udp_emit((uint16_t)(plen + 1), 65535, payload, plen,
                                 0x0a000001, 0x0a000002, buf, sizeof buf);

        assert_int_equal(n, 8 + plen);
        assert_int_equal(ustk_udp_parse(buf, n, 0x0a000001, 0x0a000002, &h), 0);
        assert_int_equal(h.sport, plen + 1);
        assert_int_equal(h.dport, 65535);
        assert_int_equal(h.len, n);
        assert_int_not_equal(h.csum, 0);
        assert_memory_equal(buf + 8, payload, plen);
    }
}

/* RFC 768: a computed checksum of 0 goes out as 0xffff. 10.0.0.1:1 ->
 * 10.0.0.2:2 with the 2-byte payload w: 0a00 + 0001 + 0a00 + 0002 + 0011 +
 * 000a + 0001 + 0002 + 000a + 0000 = 0x142b, so w = 0xffff - 0x142b = 0xebd4
 * makes the sum 0xffff and the checksum 0. */
static void test_udp_zero_checksum_sent_as_ones(void **state)
{
    static const uint8_t w[2] = {0xeb, 0xd4};
    uint8_t buf[10];
    ustk_udp_hdr h;

    (void)state;
    assert_int_equal(
        ustk_udp_emit(1, 2, w, 2, 0x0a000001, 0x0a000002, buf, sizeof buf), 10);
    assert_int_equal(buf[6], 0xff);
    assert_int_equal(buf[7], 0xff);
    assert_int_equal(ustk_udp_parse(buf, 10, 0x0a000001, 0x0a000002, &h), 0);
    assert_int_equal(h.csum, 0xffff);
}

/* RFC 768: checksum 0 means none was computed; the datagram is accepted
 * whatever its content and addresses. */
static void test_udp_no_checksum(void **state)
{
    uint8_t b[13];
    ustk_udp_hdr h;

    (void)state;
    memcpy(b, udp_hello, sizeof b);
    b[6] = b[7] = 0;
    b[12] = 'O';
    assert_int_equal(ustk_udp_parse(b, sizeof b, 1, 2, &h), 0);
    assert_int_equal(h.csum, 0);
}

static void test_udp_bad_checksum(void **state)
{
    ustk_udp_hdr h;

    (void)state;
    /* Wrong addresses in the pseudo-header. */
    assert_int_equal(ustk_udp_parse(udp_hello, 13, UDP_SRC + 1, UDP_DST, &h),
                     USTK_DROP_UDP_CHECKSUM);
    assert_int_equal(
        ustk_udp_parse(udp_hello, 13, UDP_SRC, UDP_DST ^ 0x100, &h),
        USTK_DROP_UDP_CHECKSUM);
    /* Any flipped bit outside the length field. */
    for (size_t off = 0; off < 13; off++) {
        if (off == 4 || off == 5)
            continue;
        for (int bit = 0; bit < 8; bit++) {
            uint8_t b[13];

            memcpy(b, udp_hello, sizeof b);
            b[off] ^= (uint8_t)(1u << bit);
            if (b[6] == 0 && b[7] == 0)
                continue; /* became "no checksum" */
            assert_int_equal(ustk_udp_parse(b, sizeof b, UDP_SRC, UDP_DST, &h),
                             USTK_DROP_UDP_CHECKSUM);
        }
    }
}

static void test_udp_truncated(void **state)
{
    (void)state;
    for (size_t n = 0; n <= sizeof udp_hello; n++) {
        uint8_t *b = wire_exact(udp_hello, n);
        ustk_udp_hdr h;
        int want = n < 8                  ? USTK_DROP_UDP_SHORT
                   : n < sizeof udp_hello ? USTK_DROP_UDP_LEN
                                          : 0;

        assert_int_equal(ustk_udp_parse(b, n, UDP_SRC, UDP_DST, &h), want);
        free(b);
    }
}

static void test_udp_bad_len_field(void **state)
{
    uint8_t b[20];
    ustk_udp_hdr h;

    (void)state;
    memset(b, 0, sizeof b);
    memcpy(b, udp_hello, sizeof udp_hello);
    /* Below the header size. */
    for (uint8_t l = 0; l < 8; l++) {
        b[4] = 0;
        b[5] = l;
        assert_int_equal(ustk_udp_parse(b, 13, UDP_SRC, UDP_DST, &h),
                         USTK_DROP_UDP_LEN);
    }
    /* Beyond the packet. */
    b[5] = 14;
    assert_int_equal(ustk_udp_parse(b, 13, UDP_SRC, UDP_DST, &h),
                     USTK_DROP_UDP_LEN);
    b[4] = 0xff;
    b[5] = 0xff;
    assert_int_equal(ustk_udp_parse(b, 20, UDP_SRC, UDP_DST, &h),
                     USTK_DROP_UDP_LEN);
    /* Shorter than the packet: the rest is ignored, checksum included. */
    b[4] = 0;
    b[5] = 13;
    memset(b + 13, 0xab, 7);
    assert_int_equal(ustk_udp_parse(b, 20, UDP_SRC, UDP_DST, &h), 0);
    assert_int_equal(h.len, 13);
}

static void test_udp_emit_small_cap(void **state)
{
    uint8_t buf[32], want[32];

    (void)state;
    memset(want, 0x96, sizeof want);
    for (size_t cap = 0; cap < 13; cap++) {
        memset(buf, 0x96, sizeof buf);
        assert_int_equal(
            ustk_udp_emit(1, 2, (const uint8_t *)"hello", 5, 3, 4, buf, cap),
            0);
        assert_memory_equal(buf, want, sizeof buf);
    }
    /* A payload the 16-bit length cannot describe. */
    {
        size_t big = 65536;
        uint8_t *p = calloc(1, big + 8);

        assert_non_null(p);
        assert_int_equal(ustk_udp_emit(1, 2, NULL, 65528, 3, 4, p, big + 8), 0);
        assert_int_equal(ustk_udp_emit(1, 2, NULL, 65527, 3, 4, p, big + 8),
                         65535);
        free(p);
    }
}

static void test_udp_random_bytes(void **state)
{
    uint32_t s = 521288629u;
    int accepted = 0;

    (void)state;
    for (int i = 0; i < 50000; i++) {
        uint8_t raw[40];
        size_t n;
        uint8_t *b;
        ustk_udp_hdr h;

        for (size_t j = 0; j < sizeof raw; j++) {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            raw[j] = (uint8_t)s;
        }
        n = s % (sizeof raw + 1);
        if (i % 2 && n >= 8) {
            raw[4] = 0;
            raw[5] = (uint8_t)(8 + raw[5] % (n - 7));
            if (i % 4 == 1)
                raw[6] = raw[7] = 0;
        }
        b = wire_exact(raw, n);
        if (ustk_udp_parse(b, n, 1, 2, &h) == 0) {
            assert_true(h.len >= 8 && h.len <= n);
            accepted++;
        }
        free(b);
    }
    assert_true(accepted > 5000);
}

static void test_icmp_random_bytes(void **state)
{
    uint32_t s = 1013904223u;

    (void)state;
    for (int i = 0; i < 50000; i++) {
        uint8_t raw[40];
        size_t n;
        uint8_t *b;
        ustk_icmp_hdr h;

        for (size_t j = 0; j < sizeof raw; j++) {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            raw[j] = (uint8_t)s;
        }
        n = s % (sizeof raw + 1);
        b = wire_exact(raw, n);
        if (ustk_icmp_parse(b, n, &h) == 0) {
            assert_true(n >= 8);
            assert_ptr_equal(h.data, b + 8);
            assert_int_equal(h.data_len, n - 8);
        }
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_icmp_known_checksum),
        cmocka_unit_test(test_icmp_parse_ping),
        cmocka_unit_test(test_icmp_emit_ping_frame),
        cmocka_unit_test(test_icmp_echo_reply_in_place),
        cmocka_unit_test(test_icmp_emit_overlapping_data),
        cmocka_unit_test(test_icmp_round_trip_frag_needed),
        cmocka_unit_test(test_icmp_truncated),
        cmocka_unit_test(test_icmp_bad_checksum),
        cmocka_unit_test(test_icmp_emit_small_cap),
        cmocka_unit_test(test_icmp_random_bytes),
        cmocka_unit_test(test_udp_parse_known),
        cmocka_unit_test(test_udp_emit_known),
        cmocka_unit_test(test_udp_round_trip),
        cmocka_unit_test(test_udp_zero_checksum_sent_as_ones),
        cmocka_unit_test(test_udp_no_checksum),
        cmocka_unit_test(test_udp_bad_checksum),
        cmocka_unit_test(test_udp_truncated),
        cmocka_unit_test(test_udp_bad_len_field),
        cmocka_unit_test(test_udp_emit_small_cap),
        cmocka_unit_test(test_udp_random_bytes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
