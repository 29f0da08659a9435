/* ICMP errors and the pieces of messages sent in fragments
 * (src/wire/icmp.c, src/wire/udp.c, src/wire/ipv4.c): the quote of an
 * error parsed and every rejection, headers whose checksum covers data
 * kept elsewhere, which types are errors, and the header of a reassembled
 * datagram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ustack/drop.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"
#include "wire_ref.h"

/* A port unreachable as a router (or Linux) sends it about a SYN from
 * 192.168.1.10:54321 to 93.184.216.34:80 (the SYN of test_wire_ipv4.c):
 *
 *   03 03 csum 00000000   type 3 code 3, unused
 *   45 00 003c 1c46 4000 40 06 26e9 c0a8010a 5db8d822   the SYN's header
 *   d4 31 00 50 9a 3c 12 f5                             ports, sequence
 *
 * Checksum by hand: 0303 + 4500 + 003c + 1c46 + 4000 + 4006 + 26e9 + c0a8 +
 * 010a + 5db8 + d822 + d431 + 0050 + 9a3c + 12f5 = 0x484b2; 0x84b2 + 4 =
 * 0x84b6; ~ = 0x7b49. */
static const uint8_t port_unreach[36] = {
    0x03, 0x03, 0x7b, 0x49, 0x00, 0x00, 0x00, 0x00,
    0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x26, 0xe9,
    0xc0, 0xa8, 0x01, 0x0a, 0x5d, 0xb8, 0xd8, 0x22,
    0xd4, 0x31, 0x00, 0x50, 0x9a, 0x3c, 0x12, 0xf5};

static void test_quote_known(void **state)
{
    uint8_t *b = wire_exact(port_unreach, sizeof port_unreach);
    ustk_icmp_hdr h;
    ustk_icmp_quote q;

    (void)state;
    assert_int_equal(wire_ref_csum(0, port_unreach, 36), 0);
    assert_int_equal(ustk_icmp_parse(b, 36, &h), 0);
    assert_int_equal(h.type, USTK_ICMP_DEST_UNREACH);
    assert_int_equal(h.code, USTK_ICMP_PORT_UNREACH);
    assert_int_equal(ustk_icmp_quote_parse(&h, &q), 0);
    assert_int_equal(q.hdr_len, 20);
    assert_int_equal(q.proto, 6);
    assert_int_equal(q.total_len, 60);
    assert_int_equal(q.id, 0x1c46);
    assert_int_equal(q.frag, USTK_IPV4_DF);
    assert_int_equal(q.src, 0xc0a8010a);
    assert_int_equal(q.dst, 0x5db8d822);
    assert_int_equal(q.sport, 54321);
    assert_int_equal(q.dport, 80);
    assert_int_equal(q.tcp_seq, 0x9a3c12f5);
    free(b);
}

/* Every truncation of the quote: less than a header and 8 bytes is
 * ICMP_ERR_SHORT (each copy is exact-size, so ASan sees any overread). */
static void test_quote_truncated(void **state)
{
    (void)state;
    for (size_t n = 0; n < 28; n++) {
        uint8_t *b = wire_exact(port_unreach + 8, n);
        ustk_icmp_hdr h = {.type = 3, .data = b, .data_len = n};
        ustk_icmp_quote q;

        assert_int_equal(ustk_icmp_quote_parse(&h, &q),
                         USTK_DROP_ICMP_ERR_SHORT);
        free(b);
    }
}

static int quote_of(const uint8_t *q, size_t n, ustk_icmp_quote *out)
{
    uint8_t *b = wire_exact(q, n);
    ustk_icmp_hdr h = {.type = 3, .data = b, .data_len = n};
    int r = ustk_icmp_quote_parse(&h, out);

    free(b);
    return r;
}

static void test_quote_rejections(void **state)
{
    uint8_t q[40];
    ustk_icmp_quote out;

    (void)state;
    /* Version 6; IHL 4. */
    memcpy(q, port_unreach + 8, 28);
    q[0] = 0x65;
    assert_int_equal(quote_of(q, 28, &out), USTK_DROP_ICMP_ERR_QUOTE);
    q[0] = 0x44;
    assert_int_equal(quote_of(q, 28, &out), USTK_DROP_ICMP_ERR_QUOTE);
    /* IHL 6: the header takes 24 bytes, so 28 leave only 4 after it. */
    q[0] = 0x46;
    assert_int_equal(quote_of(q, 28, &out), USTK_DROP_ICMP_ERR_SHORT);
    /* A later fragment (offset 1, DF kept). */
    memcpy(q, port_unreach + 8, 28);
    q[7] = 0x01;
    assert_int_equal(quote_of(q, 28, &out), USTK_DROP_ICMP_ERR_QUOTE);
    /* MF alone is a first fragment: fine. */
    q[6] = 0x20;
    q[7] = 0x00;
    assert_int_equal(quote_of(q, 28, &out), 0);
    assert_int_equal(out.frag, USTK_IPV4_MF);
    /* Total length below the header and 8 bytes quoted. */
    memcpy(q, port_unreach + 8, 28);
    q[2] = 0x00;
    q[3] = 27;
    assert_int_equal(quote_of(q, 28, &out), USTK_DROP_ICMP_ERR_QUOTE);
    q[3] = 28;
    assert_int_equal(quote_of(q, 28, &out), 0);
    /* The quoted header checksum is not checked (RFC 1812 §4.3.2.3). */
    memcpy(q, port_unreach + 8, 28);
    q[8] = 1; /* TTL as the router saw it */
    assert_int_equal(quote_of(q, 28, &out), 0);
}

/* A quote with options (IHL 6) and more than 8 bytes of payload, of a UDP
 * datagram; and one of an echo request. */
static void test_quote_options_and_kinds(void **state)
{
    uint8_t q[64];
    ustk_icmp_quote out;

    (void)state;
    memset(q, 0, sizeof q);
    q[0] = 0x46;
    q[3] = 60;
    q[9] = 17;
    q[15] = 1;           /* src 0.0.0.1 */
    q[19] = 2;           /* dst 0.0.0.2 */
    q[20] = 0x94;        /* router alert option */
    q[21] = 0x04;
    q[24] = 0x13;        /* sport 5000 */
    q[25] = 0x88;
    q[26] = 0x00;        /* dport 53 */
    q[27] = 0x35;
    assert_int_equal(quote_of(q, 40, &out), 0);
    assert_int_equal(out.hdr_len, 24);
    assert_int_equal(out.proto, 17);
    assert_int_equal(out.src, 1);
    assert_int_equal(out.dst, 2);
    assert_int_equal(out.sport, 5000);
    assert_int_equal(out.dport, 53);
    /* ICMP echo request: type, code, then id and sequence at 4..7. */
    memset(q, 0, sizeof q);
    q[0] = 0x45;
    q[3] = 84;
    q[9] = 1;
    q[20] = 8;
    q[24] = 0xbe;
    q[25] = 0xef;
    q[27] = 3;
    assert_int_equal(quote_of(q, 28, &out), 0);
    assert_int_equal(out.icmp_type, USTK_ICMP_ECHO_REQUEST);
    assert_int_equal(out.icmp_code, 0);
    assert_int_equal(out.echo_id, 0xbeef);
    assert_int_equal(out.echo_seq, 3);
}

/* A header written alone has the checksum the whole message would have. */
static void test_icmp_emit_header_matches(void **state)
{
    uint8_t data[301], whole[400], hdr[8];

    (void)state;
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13 + 5);
    for (size_t n = 0; n <= sizeof data; n += 25) {
        ustk_icmp_hdr h = {.type = 0, .code = 0, .rest = 0x12340000u | n,
                           .data = data, .data_len = n};

        assert_int_equal(ustk_icmp_emit(&h, whole, sizeof whole), 8 + n);
        assert_int_equal(ustk_icmp_emit_header(&h, hdr), 8);
        assert_memory_equal(hdr, whole, 8);
    }
    /* Odd lengths too (the data's last byte is padded). */
    ustk_icmp_hdr h = {.type = 8, .rest = 1, .data = data, .data_len = 7};
    assert_int_equal(ustk_icmp_emit(&h, whole, sizeof whole), 15);
    assert_int_equal(ustk_icmp_emit_header(&h, hdr), 8);
    assert_memory_equal(hdr, whole, 8);
    assert_int_equal(wire_ref_csum(0, whole, 15), 0);
    /* Beyond an IPv4 datagram, or data missing. */
    h.data_len = 65535 - 20 - 8 + 1;
    assert_int_equal(ustk_icmp_emit_header(&h, hdr), 0);
    h.data = NULL;
    h.data_len = 1;
    assert_int_equal(ustk_icmp_emit_header(&h, hdr), 0);
}

static void test_udp_emit_header_matches(void **state)
{
    static uint8_t data[65527], whole[65535];
    uint8_t hdr[8];

    (void)state;
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + (i >> 9));
    static const size_t lens[] = {0, 1, 2, 3, 1472, 1473, 65527};
    for (size_t k = 0; k < 7; k++) {
        size_t n = lens[k];

        assert_int_equal(ustk_udp_emit(40000, 53, data, n, 0x0a000001,
                                       0x0a000002, whole, sizeof whole),
                         8 + n);
        assert_int_equal(ustk_udp_emit_header(40000, 53, data, n, 0x0a000001,
                                              0x0a000002, hdr),
                         8);
        assert_memory_equal(hdr, whole, 8);
    }
    assert_int_equal(ustk_udp_emit_header(1, 2, data, 65528, 1, 2, hdr), 0);
    assert_int_equal(ustk_udp_emit_header(1, 2, NULL, 1, 1, 2, hdr), 0);
}

static void test_type_is_error(void **state)
{
    (void)state;
    static const uint8_t queries[] = {0, 8, 13, 14, 15, 16, 17, 18};
    for (int t = 0; t < 256; t++) {
        int query = 0;
        for (size_t i = 0; i < sizeof queries; i++)
            query |= queries[i] == t;
        assert_int_equal(ustk_icmp_type_is_error((uint8_t)t), !query);
    }
}

/* The message an application gives a ping socket: header without a
 * checksum check. */
static void test_parse_header_only(void **state)
{
    uint8_t b[12] = {8, 0, 0x12, 0x34, 0, 0, 0, 9, 'a', 'b', 'c', 'd'};
    ustk_icmp_hdr h;

    (void)state;
    assert_int_equal(ustk_icmp_parse(b, 12, &h), USTK_DROP_ICMP_CHECKSUM);
    assert_int_equal(ustk_icmp_parse_header(b, 12, &h), 0);
    assert_int_equal(h.type, 8);
    assert_int_equal(h.rest, 9);
    assert_int_equal(h.data_len, 4);
    assert_int_equal(ustk_icmp_parse_header(b, 7, &h), USTK_DROP_ICMP_SHORT);
}

/* The header of a reassembled datagram: Total Length and the fragment
 * field rewritten, options kept, checksum right. */
static void test_ipv4_rewrite(void **state)
{
    uint8_t h[24] = {0x46, 0x00, 0x05, 0xdc, 0xab, 0xcd, 0x20, 0x00,
                     0x40, 0x11, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01,
                     0x0a, 0x00, 0x00, 0x02, 0x94, 0x04, 0x00, 0x00};
    ustk_ipv4_hdr p;

    (void)state;
    ustk_ipv4_rewrite(h, 24, 24, USTK_IPV4_MF | 5);
    assert_int_equal(wire_ref_csum(0, h, 24), 0);
    ustk_ipv4_rewrite(h, 24, 24, 0);
    assert_int_equal(wire_ref_csum(0, h, 24), 0);
    assert_int_equal(ustk_ipv4_parse(h, 24, &p), 0);
    assert_int_equal(p.hdr_len, 24);
    assert_int_equal(p.total_len, 24);
    assert_int_equal(p.frag, 0);
    assert_int_equal(p.id, 0xabcd);
    assert_int_equal(h[20], 0x94);
    assert_int_equal(ustk_ipv4_frag_offset(&p), 0);
    p.frag = USTK_IPV4_MF | 185;
    assert_int_equal(ustk_ipv4_frag_offset(&p), 1480);
    assert_true(ustk_ipv4_is_fragment(&p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_known),
        cmocka_unit_test(test_quote_truncated),
        cmocka_unit_test(test_quote_rejections),
        cmocka_unit_test(test_quote_options_and_kinds),
        cmocka_unit_test(test_icmp_emit_header_matches),
        cmocka_unit_test(test_udp_emit_header_matches),
        cmocka_unit_test(test_type_is_error),
        cmocka_unit_test(test_parse_header_only),
        cmocka_unit_test(test_ipv4_rewrite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
