/* Ethernet II and ARP (src/wire/eth.c, src/wire/arp.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ustack/drop.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire_ref.h"

/* An ARP request as Linux sends it ("who-has 192.168.1.1 tell
 * 192.168.1.10"), as the peer receives it: the 42-byte frame padded with 18
 * zero bytes to Ethernet's 60-byte minimum.
 *
 *   0  ff ff ff ff ff ff            destination: broadcast
 *   6  08 00 27 4e 1f 3c            source
 *  12  08 06                        ethertype ARP
 *  14  00 01                        hardware type: Ethernet
 *  16  08 00                        protocol type: IPv4
 *  18  06 04                        address lengths
 *  20  00 01                        operation: request
 *  22  08 00 27 4e 1f 3c            sender MAC
 *  28  c0 a8 01 0a                  sender IP 192.168.1.10
 *  32  00 00 00 00 00 00            target MAC: unknown
 *  38  c0 a8 01 01                  target IP 192.168.1.1
 *  42  00 x 18                      padding
 */
static const uint8_t arp_request_frame[60] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x08, 0x00, 0x27, 0x4e, 0x1f, 0x3c,
    0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x08, 0x00,
    0x27, 0x4e, 0x1f, 0x3c, 0xc0, 0xa8, 0x01, 0x0a, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xc0, 0xa8, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

static const uint8_t mac_a[6] = {0x08, 0x00, 0x27, 0x4e, 0x1f, 0x3c};
static const uint8_t mac_b[6] = {0x52, 0x54, 0x00, 0x12, 0x35, 0x02};
static const uint8_t mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mac_zero[6] = {0};

/* ---- Ethernet ---------------------------------------------------------- */

static void test_eth_parse_arp_frame(void **state)
{
    ustk_eth_hdr h;
    uint8_t *f = wire_exact(arp_request_frame, sizeof arp_request_frame);

    (void)state;
    assert_int_equal(ustk_eth_parse(f, sizeof arp_request_frame, &h), 0);
    assert_memory_equal(h.dst, mac_bcast, 6);
    assert_memory_equal(h.src, mac_a, 6);
    assert_int_equal(h.type, USTK_ETHERTYPE_ARP);
    free(f);
}

static void test_eth_round_trip(void **state)
{
    static const uint16_t types[] = {USTK_ETHERTYPE_IPV4,
                                     USTK_ETHERTYPE_ARP,
                                     0x8100,
                                     0x86dd,
                                     0x0000,
                                     0xffff};
    uint8_t buf[USTK_ETH_HDR_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        ustk_eth_hdr in, out;

        memcpy(in.dst, mac_b, 6);
        memcpy(in.src, mac_a, 6);
        in.type = types[i];
        assert_int_equal(ustk_eth_emit(&in, buf, sizeof buf), USTK_ETH_HDR_LEN);
        assert_memory_equal(buf, mac_b, 6);
        assert_memory_equal(buf + 6, mac_a, 6);
        assert_int_equal(buf[12], types[i] >> 8);
        assert_int_equal(buf[13], types[i] & 0xff);
        assert_int_equal(ustk_eth_parse(buf, sizeof buf, &out), 0);
        assert_memory_equal(out.dst, in.dst, 6);
        assert_memory_equal(out.src, in.src, 6);
        assert_int_equal(out.type, in.type);
    }
}

/* 802.1Q: the tag's TPID is reported as the type; the caller drops it. */
static void test_eth_vlan_reported(void **state)
{
    uint8_t f[18];
    ustk_eth_hdr h;

    (void)state;
    memcpy(f, mac_b, 6);
    memcpy(f + 6, mac_a, 6);
    f[12] = 0x81;
    f[13] = 0x00;
    f[14] = 0x00;
    f[15] = 0x05; /* VLAN 5 */
    f[16] = 0x08;
    f[17] = 0x00;
    assert_int_equal(ustk_eth_parse(f, sizeof f, &h), 0);
    assert_int_equal(h.type, 0x8100);
}

static void test_eth_truncated(void **state)
{
    (void)state;
    for (size_t n = 0; n <= USTK_ETH_HDR_LEN; n++) {
        uint8_t *f = wire_exact(arp_request_frame, n);
        ustk_eth_hdr h;

        assert_int_equal(ustk_eth_parse(f, n, &h),
                         n < USTK_ETH_HDR_LEN ? USTK_DROP_ETH_SHORT : 0);
        free(f);
    }
}

static void test_eth_emit_small_cap(void **state)
{
    ustk_eth_hdr h;
    uint8_t buf[32];

    (void)state;
    memcpy(h.dst, mac_b, 6);
    memcpy(h.src, mac_a, 6);
    h.type = USTK_ETHERTYPE_IPV4;
    for (size_t cap = 0; cap < USTK_ETH_HDR_LEN; cap++) {
        uint8_t want[32];

        memset(buf, 0xa5, sizeof buf);
        memset(want, 0xa5, sizeof want);
        assert_int_equal(ustk_eth_emit(&h, buf, cap), 0);
        assert_memory_equal(buf, want, sizeof buf);
    }
}

/* ---- ARP --------------------------------------------------------------- */

static void test_arp_parse_linux_request(void **state)
{
    ustk_arp_pkt p;
    /* Everything after the Ethernet header, padding included. */
    size_t n = sizeof arp_request_frame - USTK_ETH_HDR_LEN;
    uint8_t *b = wire_exact(arp_request_frame + USTK_ETH_HDR_LEN, n);

    (void)state;
    assert_int_equal(ustk_arp_parse(b, n, &p), 0);
    assert_int_equal(p.op, USTK_ARP_REQUEST);
    assert_memory_equal(p.sha, mac_a, 6);
    assert_int_equal(p.spa, 0xc0a8010a);
    assert_memory_equal(p.tha, mac_zero, 6);
    assert_int_equal(p.tpa, 0xc0a80101);
    /* Without the padding too. */
    assert_int_equal(ustk_arp_parse(b, USTK_ARP_LEN, &p), 0);
    free(b);
}

/* Emitting the same request gives the frame's bytes, byte for byte. */
static void test_arp_emit_linux_request(void **state)
{
    uint8_t buf[64];
    ustk_eth_hdr e;
    ustk_arp_pkt p;

    (void)state;
    memset(buf, 0, sizeof buf);
    memcpy(e.dst, mac_bcast, 6);
    memcpy(e.src, mac_a, 6);
    e.type = USTK_ETHERTYPE_ARP;
    p.op = USTK_ARP_REQUEST;
    memcpy(p.sha, mac_a, 6);
    p.spa = 0xc0a8010a;
    memcpy(p.tha, mac_zero, 6);
    p.tpa = 0xc0a80101;
    assert_int_equal(ustk_eth_emit(&e, buf, sizeof buf), 14);
    assert_int_equal(ustk_arp_emit(&p, buf + 14, sizeof buf - 14),
                     USTK_ARP_LEN);
    assert_memory_equal(buf, arp_request_frame, 42);
}

static void test_arp_round_trip(void **state)
{
    static const uint16_t ops[] = {USTK_ARP_REQUEST, USTK_ARP_REPLY};
    uint8_t buf[USTK_ARP_LEN];

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        ustk_arp_pkt in, out;

        in.op = ops[i];
        memcpy(in.sha, mac_b, 6);
        in.spa = 0x0a000002;
        memcpy(in.tha, mac_a, 6);
        in.tpa = 0xfffffffe;
        memset(&out, 0, sizeof out);
        assert_int_equal(ustk_arp_emit(&in, buf, sizeof buf), USTK_ARP_LEN);
        assert_int_equal(ustk_arp_parse(buf, sizeof buf, &out), 0);
        assert_int_equal(out.op, in.op);
        assert_memory_equal(out.sha, in.sha, 6);
        assert_int_equal(out.spa, in.spa);
        assert_memory_equal(out.tha, in.tha, 6);
        assert_int_equal(out.tpa, in.tpa);
    }
}

static void test_arp_truncated(void **state)
{
    (void)state;
    for (size_t n = 0; n <= USTK_ARP_LEN; n++) {
        uint8_t *b = wire_exact(arp_request_frame + USTK_ETH_HDR_LEN, n);
        ustk_arp_pkt p;

        assert_int_equal(ustk_arp_parse(b, n, &p),
                         n < USTK_ARP_LEN ? USTK_DROP_ARP_SHORT : 0);
        free(b);
    }
}

/* Change one byte of the request and expect the reason. */
static int parse_patched(size_t off, uint8_t v)
{
    uint8_t b[USTK_ARP_LEN];
    ustk_arp_pkt p;

    memcpy(b, arp_request_frame + USTK_ETH_HDR_LEN, sizeof b);
    b[off] = v;
    return ustk_arp_parse(b, sizeof b, &p);
}

static void test_arp_format(void **state)
{
    (void)state;
    assert_int_equal(parse_patched(1, 6), USTK_DROP_ARP_FORMAT); /* IEEE 802 */
    assert_int_equal(parse_patched(0, 1), USTK_DROP_ARP_FORMAT); /* 0x0101 */
    assert_int_equal(parse_patched(2, 0x86), USTK_DROP_ARP_FORMAT); /* 0x8600 */
    assert_int_equal(parse_patched(3, 0xdd), USTK_DROP_ARP_FORMAT); /* 0x08dd */
    assert_int_equal(parse_patched(4, 8), USTK_DROP_ARP_FORMAT);    /* hlen 8 */
    assert_int_equal(parse_patched(4, 0), USTK_DROP_ARP_FORMAT);    /* hlen 0 */
    assert_int_equal(parse_patched(5, 16), USTK_DROP_ARP_FORMAT); /* plen 16 */
    assert_int_equal(parse_patched(5, 0), USTK_DROP_ARP_FORMAT);  /* plen 0 */
}

static void test_arp_op(void **state)
{
    (void)state;
    assert_int_equal(parse_patched(7, 0), USTK_DROP_ARP_OP);
    assert_int_equal(parse_patched(7, 3), USTK_DROP_ARP_OP); /* RARP request */
    assert_int_equal(parse_patched(7, 4), USTK_DROP_ARP_OP); /* RARP reply */
    assert_int_equal(parse_patched(6, 1), USTK_DROP_ARP_OP); /* 0x0101 */
    assert_int_equal(parse_patched(7, 2), 0);
}

/* Short beats format beats operation. */
static void test_arp_check_order(void **state)
{
    uint8_t b[USTK_ARP_LEN];
    ustk_arp_pkt p;

    (void)state;
    memcpy(b, arp_request_frame + USTK_ETH_HDR_LEN, sizeof b);
    b[0] = 0xff; /* bad hardware type */
    b[7] = 9;    /* bad operation */
    assert_int_equal(ustk_arp_parse(b, sizeof b - 1, &p), USTK_DROP_ARP_SHORT);
    assert_int_equal(ustk_arp_parse(b, sizeof b, &p), USTK_DROP_ARP_FORMAT);
    b[0] = 0;
    assert_int_equal(ustk_arp_parse(b, sizeof b, &p), USTK_DROP_ARP_OP);
}

static void test_arp_emit_small_cap(void **state)
{
    ustk_arp_pkt p;
    uint8_t buf[40], want[40];

    (void)state;
    memset(&p, 0, sizeof p);
    p.op = USTK_ARP_REPLY;
    memset(want, 0x5a, sizeof want);
    for (size_t cap = 0; cap < USTK_ARP_LEN; cap++) {
        memset(buf, 0x5a, sizeof buf);
        assert_int_equal(ustk_arp_emit(&p, buf, cap), 0);
        assert_memory_equal(buf, want, sizeof buf);
    }
    assert_int_equal(ustk_arp_emit(&p, buf, USTK_ARP_LEN), USTK_ARP_LEN);
    assert_memory_equal(buf + USTK_ARP_LEN, want, sizeof buf - USTK_ARP_LEN);
}

/* Any bytes: never a crash, never a read past len (ASan), and an accepted
 * packet is one we could have emitted. */
static void test_arp_random_bytes(void **state)
{
    uint32_t s = 2463534242u;
    int accepted = 0;

    (void)state;
    for (int i = 0; i < 20000; i++) {
        uint8_t raw[40];
        size_t n;
        uint8_t *b;
        ustk_arp_pkt p;

        for (size_t j = 0; j < sizeof raw; j++) {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            raw[j] = (uint8_t)s;
        }
        if (i % 2) { /* half of them with a valid fixed part and op */
            memcpy(raw, arp_request_frame + USTK_ETH_HDR_LEN, 8);
            raw[7] = (uint8_t)(1 + i / 2 % 2);
        }
        n = s % (sizeof raw + 1);
        b = wire_exact(raw, n);
        if (ustk_arp_parse(b, n, &p) == 0) {
            uint8_t again[USTK_ARP_LEN];

            assert_int_equal(ustk_arp_emit(&p, again, sizeof again),
                             USTK_ARP_LEN);
            assert_memory_equal(again, b, USTK_ARP_LEN);
            accepted++;
        }
        free(b);
    }
    assert_true(accepted > 1000); /* the property above was exercised */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eth_parse_arp_frame),
        cmocka_unit_test(test_eth_round_trip),
        cmocka_unit_test(test_eth_vlan_reported),
        cmocka_unit_test(test_eth_truncated),
        cmocka_unit_test(test_eth_emit_small_cap),
        cmocka_unit_test(test_arp_parse_linux_request),
        cmocka_unit_test(test_arp_emit_linux_request),
        cmocka_unit_test(test_arp_round_trip),
        cmocka_unit_test(test_arp_truncated),
        cmocka_unit_test(test_arp_format),
        cmocka_unit_test(test_arp_op),
        cmocka_unit_test(test_arp_check_order),
        cmocka_unit_test(test_arp_emit_small_cap),
        cmocka_unit_test(test_arp_random_bytes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
