/* TCP header and options (src/wire/tcp.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ustack/drop.h"
#include "wire/eth.h"
#include "wire/ipv4.h"
#include "wire/checksum.h"
#include "wire/tcp.h"
#include "wire_ref.h"

/* RFC 1071 one word at a time, with the RFC 9293 §3.1 pseudo-header laid out
 * as bytes: independent of src/wire/checksum.c. */
static uint16_t ref_sum(uint32_t s, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (len % 2)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static uint16_t ref_tcp_csum(uint32_t src, uint32_t dst, const uint8_t *seg,
                             size_t len)
{
    uint8_t ph[12] = {0};

    for (int i = 0; i < 4; i++) {
        ph[i] = (uint8_t)(src >> (24 - 8 * i));
        ph[4 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    ph[9] = 6; /* ph[8] is the zero byte */
    ph[10] = (uint8_t)(len >> 8);
    ph[11] = (uint8_t)len;

    return (uint16_t)~ref_sum(ref_sum(0, ph, 12), seg, len);
}

#define SRC 0xc0a8010au /* 192.168.1.10 */
#define DST 0x5db8d822u /* 93.184.216.34 */

/* A Linux SYN (connect() to port 80, net.ipv4 defaults: MSS 1460 on a 1500
 * MTU, SACK, timestamps, window scale 7, window 64240), laid out as tcpdump
 * -XX shows it:
 *
 * Ethernet
 *   0  52 54 00 12 35 02         destination (the router)
 *   6  08 00 27 4e 1f 3c         source
 *  12  08 00                     IPv4
 * IPv4
 *  14  45 00 00 3c               v4, IHL 5, TOS 0, total length 60
 *  18  1c 46 40 00               id, DF
 *  22  40 06 26 e9               TTL 64, TCP, header checksum
 *  26  c0 a8 01 0a               192.168.1.10
 *  30  5d b8 d8 22               93.184.216.34
 * TCP
 *  34  d4 31 00 50               port 54321 -> 80
 *  38  9a 3c 12 f5               seq
 *  42  00 00 00 00               ack (none)
 *  46  a0 02 fa f0               data offset 10 (40 bytes), SYN, window 64240
 *  50  9d 76 00 00               checksum, urgent pointer
 *  54  02 04 05 b4               MSS 1460
 *  58  04 02 08 0a               SACK-permitted, timestamps kind/len
 *  62  0a 1b 2c 3d 00 00 00 00   TSval, TSecr 0
 *  70  01 03 03 07               NOP, window scale 7
 *
 * IPv4 checksum by hand: 4500 + 003c + 1c46 + 4000 + 4006 + 0000 + c0a8 +
 * 010a + 5db8 + d822 = 0x2d914 -> 0xd914 + 2 = 0xd916 -> ~ = 0x26e9.
 * TCP checksum by hand, pseudo-header first: c0a8 + 010a + 5db8 + d822 +
 * 0006 + 0028, then d431 + 0050 + 9a3c + 12f5 + 0000 + 0000 + a002 + faf0 +
 * 0000 + 0000 + 0204 + 05b4 + 0402 + 080a + 0a1b + 2c3d + 0000 + 0000 +
 * 0103 + 0307 = 0x56284 -> 0x6284 + 5 = 0x6289 -> ~ = 0x9d76. */
static const uint8_t linux_syn[74] = {
    0x52, 0x54, 0x00, 0x12, 0x35, 0x02, 0x08, 0x00, 0x27, 0x4e, 0x1f, 0x3c,
    0x08, 0x00,
    /* IPv4 */
    0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x26, 0xe9,
    0xc0, 0xa8, 0x01, 0x0a, 0x5d, 0xb8, 0xd8, 0x22,
    /* TCP */
    0xd4, 0x31, 0x00, 0x50, 0x9a, 0x3c, 0x12, 0xf5, 0x00, 0x00, 0x00, 0x00,
    0xa0, 0x02, 0xfa, 0xf0, 0x9d, 0x76, 0x00, 0x00,
    /* options */
    0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x0a, 0x1b, 0x2c, 0x3d,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};

#define SYN_TCP (linux_syn + 34)
#define SYN_TCP_LEN 40

/* A later Linux ACK on the same connection reporting one out-of-order block
 * (ack + 3000 .. + 1448): NOP NOP timestamps, NOP NOP SACK.
 *
 *   d4 31 00 50  9a 3c 12 f6  1f 2e 3d 4c   ports, seq, ack
 *   b0 10 01 f5  8d 43 00 00                offset 11 (44), ACK, window 501
 *   01 01 08 0a  0a 1b 2c 99  5e 6f 70 81   NOP NOP TS val ecr
 *   01 01 05 0a  1f 2e 49 04  1f 2e 4e ac   NOP NOP SACK [left, right)
 *
 * Checksum by hand: c0a8 010a 5db8 d822 0006 002c d431 0050 9a3c 12f6 1f2e
 * 3d4c b010 01f5 0000 0000 0101 080a 0a1b 2c99 5e6f 7081 0101 050a 1f2e 4904
 * 1f2e 4eac sum to 0x672b6 -> 0x72b6 + 6 = 0x72bc -> ~ = 0x8d43. */
static const uint8_t linux_sack_ack[44] = {
    0xd4, 0x31, 0x00, 0x50, 0x9a, 0x3c, 0x12, 0xf6, 0x1f, 0x2e, 0x3d,
    0x4c, 0xb0, 0x10, 0x01, 0xf5, 0x8d, 0x43, 0x00, 0x00, 0x01, 0x01,
    0x08, 0x0a, 0x0a, 0x1b, 0x2c, 0x99, 0x5e, 0x6f, 0x70, 0x81, 0x01,
    0x01, 0x05, 0x0a, 0x1f, 0x2e, 0x49, 0x04, 0x1f, 0x2e, 0x4e, 0xac};

static void assert_tcp_equal(const ustk_tcp_hdr *a, const ustk_tcp_hdr *b)
{
    assert_int_equal(a->sport, b->sport);
    assert_int_equal(a->dport, b->dport);
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->ack, b->ack);
    assert_int_equal(a->hdr_len, b->hdr_len);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->wnd, b->wnd);
    assert_int_equal(a->urp, b->urp);
    assert_int_equal(a->opts.has, b->opts.has);
    assert_int_equal(a->opts.mss, b->opts.mss);
    assert_int_equal(a->opts.wscale, b->opts.wscale);
    assert_int_equal(a->opts.nsack, b->opts.nsack);
    for (size_t i = 0; i < a->opts.nsack; i++) {
        assert_int_equal(a->opts.sack[i][0], b->opts.sack[i][0]);
        assert_int_equal(a->opts.sack[i][1], b->opts.sack[i][1]);
    }
    assert_int_equal(a->opts.ts_val, b->opts.ts_val);
    assert_int_equal(a->opts.ts_ecr, b->opts.ts_ecr);
}

static ustk_tcp_hdr linux_syn_hdr(void)
{
    ustk_tcp_hdr h;

    memset(&h, 0, sizeof h);
    h.sport = 54321;
    h.dport = 80;
    h.seq = 0x9a3c12f5;
    h.ack = 0;
    h.hdr_len = 40;
    h.flags = USTK_TCP_SYN;
    h.wnd = 64240;
    h.opts.has =
        USTK_OPT_MSS | USTK_OPT_SACK_PERM | USTK_OPT_TS | USTK_OPT_WSCALE;
    h.opts.mss = 1460;
    h.opts.wscale = 7;
    h.opts.ts_val = 0x0a1b2c3d;
    h.opts.ts_ecr = 0;
    return h;
}

/* ---- known packets ----------------------------------------------------- */

static void test_linux_packets_checksums_by_reference(void **state)
{
    (void)state;
    assert_int_equal(ref_sum(0, linux_syn + 14, 20), 0xffff);
    assert_int_equal(ref_tcp_csum(SRC, DST, SYN_TCP, SYN_TCP_LEN), 0);
    assert_int_equal(ref_tcp_csum(SRC, DST, linux_sack_ack, 44), 0);
}

/* The whole frame through the three parsers, each in an exact-size buffer. */
static void test_parse_linux_syn(void **state)
{
    uint8_t *f = wire_exact(linux_syn, sizeof linux_syn);
    ustk_eth_hdr e;
    ustk_ipv4_hdr ip;
    ustk_tcp_hdr t, want = linux_syn_hdr();

    (void)state;
    assert_int_equal(ustk_eth_parse(f, sizeof linux_syn, &e), 0);
    assert_int_equal(e.type, USTK_ETHERTYPE_IPV4);
    assert_int_equal(ustk_ipv4_parse(f + 14, sizeof linux_syn - 14, &ip), 0);
    assert_int_equal(ip.proto, USTK_IP_PROTO_TCP);
    assert_int_equal(ip.src, SRC);
    assert_int_equal(ip.dst, DST);
    assert_int_equal(ip.total_len - ip.hdr_len, SYN_TCP_LEN);
    assert_int_equal(ustk_tcp_parse(f + 14 + ip.hdr_len, SYN_TCP_LEN, ip.src,
                                    ip.dst, true, &t),
                     0);
    assert_tcp_equal(&t, &want);
    free(f);
}

static void test_emit_linux_syn_frame(void **state)
{
    uint8_t buf[128];
    ustk_eth_hdr e = {.dst = {0x52, 0x54, 0x00, 0x12, 0x35, 0x02},
                      .src = {0x08, 0x00, 0x27, 0x4e, 0x1f, 0x3c},
                      .type = USTK_ETHERTYPE_IPV4};
    ustk_ipv4_hdr ip = {.tos = 0,
                        .total_len = 60,
                        .id = 0x1c46,
                        .frag = USTK_IPV4_DF,
                        .ttl = 64,
                        .proto = USTK_IP_PROTO_TCP,
                        .src = SRC,
                        .dst = DST};
    ustk_tcp_hdr t = linux_syn_hdr();

    (void)state;
    t.hdr_len = 0; /* computed by emit */
    memset(buf, 0xee, sizeof buf);
    assert_int_equal(ustk_tcp_opts_len(&t.opts), 20);
    assert_int_equal(ustk_eth_emit(&e, buf, sizeof buf), 14);
    assert_int_equal(ustk_ipv4_emit(&ip, buf + 14, sizeof buf - 14), 20);
    assert_int_equal(
        ustk_tcp_emit(&t, NULL, 0, SRC, DST, buf + 34, sizeof buf - 34), 40);
    assert_memory_equal(buf, linux_syn, sizeof linux_syn);
    assert_int_equal(buf[74], 0xee);
}

static void test_linux_sack_ack(void **state)
{
    uint8_t *b = wire_exact(linux_sack_ack, sizeof linux_sack_ack);
    uint8_t out[44];
    ustk_tcp_hdr t;

    (void)state;
    assert_int_equal(ustk_tcp_parse(b, 44, SRC, DST, true, &t), 0);
    assert_int_equal(t.seq, 0x9a3c12f6);
    assert_int_equal(t.ack, 0x1f2e3d4c);
    assert_int_equal(t.hdr_len, 44);
    assert_int_equal(t.flags, USTK_TCP_ACK);
    assert_int_equal(t.wnd, 501);
    assert_int_equal(t.opts.has, USTK_OPT_TS | USTK_OPT_SACK);
    assert_int_equal(t.opts.ts_val, 0x0a1b2c99);
    assert_int_equal(t.opts.ts_ecr, 0x5e6f7081);
    assert_int_equal(t.opts.nsack, 1);
    assert_int_equal(t.opts.sack[0][0], 0x1f2e4904);
    assert_int_equal(t.opts.sack[0][1], 0x1f2e4eac);
    assert_int_equal(ustk_tcp_emit(&t, NULL, 0, SRC, DST, out, sizeof out), 44);
    assert_memory_equal(out, linux_sack_ack, 44);
    free(b);
}

/* ---- option layout (Linux tcp_options_write() order) ------------------- */

/* Emit a bare header with options o; check the option bytes and length. */
static void check_layout(const ustk_tcp_opts *o, const uint8_t *want, size_t n)
{
    ustk_tcp_hdr h;
    uint8_t buf[80];

    memset(&h, 0, sizeof h);
    h.flags = USTK_TCP_ACK;
    h.opts = *o;
    memset(buf, 0xee, sizeof buf);
    assert_int_equal(ustk_tcp_opts_len(o), n);
    assert_int_equal(ustk_tcp_emit(&h, NULL, 0, 1, 2, buf, sizeof buf), 20 + n);
    assert_int_equal(buf[12], (20 + n) / 4 << 4);
    if (n)
        assert_memory_equal(buf + 20, want, n);
    assert_int_equal(buf[20 + n], 0xee);
}

static void test_layout_single_options(void **state)
{
    ustk_tcp_opts o;

    (void)state;
    memset(&o, 0, sizeof o);
    check_layout(&o, NULL, 0);

    o.has = USTK_OPT_MSS;
    o.mss = 536;
    check_layout(&o, (const uint8_t[]){0x02, 0x04, 0x02, 0x18}, 4);

    o.has = USTK_OPT_TS;
    o.ts_val = 0x01020304;
    o.ts_ecr = 0xa0b0c0d0;
    check_layout(&o,
                 (const uint8_t[]){0x01, 0x01, 0x08, 0x0a, 0x01, 0x02, 0x03,
                                   0x04, 0xa0, 0xb0, 0xc0, 0xd0},
                 12);

    o.has = USTK_OPT_SACK_PERM;
    check_layout(&o, (const uint8_t[]){0x01, 0x01, 0x04, 0x02}, 4);

    o.has = USTK_OPT_WSCALE;
    o.wscale = 14;
    check_layout(&o, (const uint8_t[]){0x01, 0x03, 0x03, 0x0e}, 4);

    o.has = USTK_OPT_SACK;
    o.nsack = 1;
    o.sack[0][0] = 0x11111111;
    o.sack[0][1] = 0x22222222;
    check_layout(&o,
                 (const uint8_t[]){0x01, 0x01, 0x05, 0x0a, 0x11, 0x11, 0x11,
                                   0x11, 0x22, 0x22, 0x22, 0x22},
                 12);
}

/* SYNs with the sysctls Linux has: all on; timestamps off; SACK off. */
static void test_layout_syn_variants(void **state)
{
    ustk_tcp_opts o;

    (void)state;
    memset(&o, 0, sizeof o);
    o.mss = 1460;
    o.wscale = 7;
    o.ts_val = 0x0a1b2c3d;

    o.has = USTK_OPT_MSS | USTK_OPT_SACK_PERM | USTK_OPT_TS | USTK_OPT_WSCALE;
    check_layout(&o, (const uint8_t[]){0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08,
                                       0x0a, 0x0a, 0x1b, 0x2c, 0x3d, 0x00, 0x00,
                                       0x00, 0x00, 0x01, 0x03, 0x03, 0x07},
                 20);

    o.has = USTK_OPT_MSS | USTK_OPT_SACK_PERM | USTK_OPT_WSCALE;
    check_layout(&o,
                 (const uint8_t[]){0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04,
                                   0x02, 0x01, 0x03, 0x03, 0x07},
                 12);

    o.has = USTK_OPT_MSS | USTK_OPT_TS | USTK_OPT_WSCALE;
    check_layout(&o, (const uint8_t[]){0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x08,
                                       0x0a, 0x0a, 0x1b, 0x2c, 0x3d, 0x00, 0x00,
                                       0x00, 0x00, 0x01, 0x03, 0x03, 0x07},
                 20);

    o.has = USTK_OPT_MSS;
    check_layout(&o, (const uint8_t[]){0x02, 0x04, 0x05, 0xb4}, 4);
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void set_blocks(ustk_tcp_opts *o, uint8_t n)
{
    o->nsack = n;
    for (uint32_t i = 0; i < USTK_TCP_MAX_SACK; i++) {
        o->sack[i][0] = 0x10000000u * (i + 1) + 0x0a0b0c0du;
        o->sack[i][1] = 0x10000000u * (i + 1) + 0x01020304u;
    }
}

/* With timestamps, three blocks fit (12 + 4 + 24 = 40); without, four
 * (4 + 32 = 36). The fourth block is left out, never truncated. */
static void test_layout_sack_blocks_fill(void **state)
{
    ustk_tcp_opts o;
    uint8_t want[40];

    (void)state;
    memset(&o, 0, sizeof o);
    set_blocks(&o, 4);
    o.has = USTK_OPT_SACK | USTK_OPT_TS;
    o.ts_val = 0xdeadbeef;
    o.ts_ecr = 0x01234567;
    memcpy(want,
           (const uint8_t[]){0x01, 0x01, 0x08, 0x0a, 0xde, 0xad, 0xbe, 0xef,
                             0x01, 0x23, 0x45, 0x67, 0x01, 0x01, 0x05, 0x1a},
           16);
    for (size_t i = 0; i < 3; i++) {
        be32(want + 16 + 8 * i, o.sack[i][0]);
        be32(want + 20 + 8 * i, o.sack[i][1]);
    }
    check_layout(&o, want, 40);

    o.has = USTK_OPT_SACK;
    memcpy(want, (const uint8_t[]){0x01, 0x01, 0x05, 0x22}, 4);
    for (size_t i = 0; i < 4; i++) {
        be32(want + 4 + 8 * i, o.sack[i][0]);
        be32(want + 8 + 8 * i, o.sack[i][1]);
    }
    check_layout(&o, want, 36);

    /* More than USTK_TCP_MAX_SACK claimed: still four. */
    o.nsack = 200;
    check_layout(&o, want, 36);

    /* SACK flag with no blocks, or blocks without the flag: no option. */
    o.nsack = 0;
    check_layout(&o, NULL, 0);
    o.nsack = 2;
    o.has = 0;
    check_layout(&o, NULL, 0);
}

/* Independent statement of the sizes: fixed options, then 4 + 8n for the
 * blocks that fit in what is left of 40. */
static size_t want_opts_len(uint8_t has, uint8_t nsack, size_t *blocks)
{
    size_t fixed = 0, room, n;

    if (has & USTK_OPT_MSS)
        fixed += 4; /* 02 04 mss */
    if (has & USTK_OPT_TS)
        fixed += 12; /* (04 02 | 01 01) 08 0a val ecr */
    else if (has & USTK_OPT_SACK_PERM)
        fixed += 4; /* 01 01 04 02 */
    if (has & USTK_OPT_WSCALE)
        fixed += 4; /* 01 03 03 ws */
    room = (40 - fixed - 4) / 8;
    n = (has & USTK_OPT_SACK) ? nsack : 0;
    if (n > 4)
        n = 4;
    if (n > room)
        n = room;
    *blocks = n;
    return fixed + (n ? 4 + 8 * n : 0);
}

static void test_opts_len_table(void **state)
{
    ustk_tcp_opts o;
    size_t blocks;

    (void)state;
    memset(&o, 0, sizeof o);
    /* A few by hand first. */
    o.has = USTK_OPT_MSS | USTK_OPT_WSCALE | USTK_OPT_SACK_PERM | USTK_OPT_TS |
            USTK_OPT_SACK;
    o.nsack = 4;
    assert_int_equal(ustk_tcp_opts_len(&o), 40); /* 20 + 4 + 2 blocks */
    o.has = USTK_OPT_MSS | USTK_OPT_WSCALE | USTK_OPT_SACK;
    assert_int_equal(ustk_tcp_opts_len(&o), 36); /* 8 + 4 + 3 blocks */
    o.has = USTK_OPT_TS | USTK_OPT_SACK_PERM;
    assert_int_equal(ustk_tcp_opts_len(&o), 12);
    for (unsigned has = 0; has < 32; has++)
        for (uint8_t n = 0; n <= 6; n++) {
            size_t len;

            o.has = (uint8_t)has;
            o.nsack = n;
            len = ustk_tcp_opts_len(&o);
            assert_int_equal(len, want_opts_len(o.has, n, &blocks));
            assert_int_equal(len % 4, 0);
            assert_true(len <= USTK_TCP_MAX_OPT_LEN);
        }
}

/* ---- round trips ------------------------------------------------------- */

/* Every combination of options, 0..6 SACK blocks claimed, and a few payload
 * sizes: emit, then parse with checksum verification, gives the same struct
 * (with the blocks that fit). */
static void test_round_trip_all_combinations(void **state)
{
    static const size_t plens[] = {0, 1, 7, 1460};
    static uint8_t payload[1460], buf[1600];

    (void)state;
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i ^ 0x5a);
    for (unsigned has = 0; has < 32; has++)
        for (uint8_t n = 0; n <= 6; n++)
            for (size_t k = 0; k < sizeof plens / sizeof plens[0]; k++) {
                ustk_tcp_hdr in, out, want;
                size_t blocks, olen = want_opts_len((uint8_t)has, n, &blocks);
                size_t len;

                memset(&in, 0, sizeof in);
                in.sport = (uint16_t)(1000 + has);
                in.dport = 65535;
                in.seq = 0xfffffff0u + n;
                in.ack = 0x80000000u ^ has;
                in.flags = (uint8_t)(has * 8 + n);
                in.wnd = (uint16_t)(0xffff - has);
                in.urp = (uint16_t)k;
                in.opts.has = (uint8_t)has;
                in.opts.mss = (has & USTK_OPT_MSS) ? 1460 : 0;
                in.opts.wscale = (has & USTK_OPT_WSCALE) ? (uint8_t)(n + 9) : 0;
                in.opts.ts_val = (has & USTK_OPT_TS) ? 0xfedcba98u : 0;
                in.opts.ts_ecr = (has & USTK_OPT_TS) ? 0x76543210u + n : 0;
                set_blocks(&in.opts, n);

                want = in;
                want.hdr_len = (uint8_t)(20 + olen);
                want.opts.nsack = (uint8_t)blocks;
                if (!blocks)
                    want.opts.has &= (uint8_t)~USTK_OPT_SACK;

                len = ustk_tcp_emit(&in, payload, plens[k], SRC, DST, buf,
                                    sizeof buf);
                assert_int_equal(len, 20 + olen + plens[k]);
                assert_int_equal(ref_tcp_csum(SRC, DST, buf, len), 0);
                assert_int_equal(ustk_tcp_parse(buf, len, SRC, DST, true, &out),
                                 0);
                assert_tcp_equal(&out, &want);
                assert_memory_equal(buf + out.hdr_len, payload, plens[k]);
            }
}

/* With the payload's sum given (as the stack does, summing it while it
 * copies it into the frame), the segment is byte for byte the one
 * ustk_tcp_emit() writes, for every option set and payload length. */
static void test_emit_summed_matches(void **state)
{
    static const size_t plens[] = { 0, 1, 2, 3, 63, 64, 255, 256, 257, 1448 };
    uint8_t payload[1500], a[1600], b[1600];

    (void)state;
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 131 + 7);
    for (unsigned has = 0; has < 32; has++)
        for (size_t k = 0; k < sizeof plens / sizeof plens[0]; k++) {
            ustk_tcp_hdr h = linux_syn_hdr();
            h.flags = USTK_TCP_ACK;
            h.opts.has = (uint8_t)has;
            set_blocks(&h.opts, has % 4);
            size_t hl = 20 + ustk_tcp_opts_len(&h.opts);
            size_t na = ustk_tcp_emit(&h, payload, plens[k], SRC, DST, a,
                                      sizeof a);
            uint32_t psum = ustk_csum_copy(0, b + hl, payload, plens[k]);
            size_t nb = ustk_tcp_emit_summed(&h, plens[k], psum, SRC, DST, b,
                                             sizeof b);
            assert_int_equal(na, hl + plens[k]);
            assert_int_equal(nb, na);
            assert_memory_equal(a, b, na);
        }
}

/* Payload already in place (NULL or buf + header length), or overlapping
 * the header (copied before the header is written). */
static void test_payload_placement(void **state)
{
    ustk_tcp_hdr h = linux_syn_hdr();
    uint8_t buf[200], ref[200];
    size_t hl, n;
    ustk_tcp_hdr out;

    (void)state;
    h.flags = USTK_TCP_ACK | USTK_TCP_PSH;
    hl = 20 + ustk_tcp_opts_len(&h.opts);
    for (size_t i = 0; i < 100; i++)
        ref[i] = (uint8_t)(3 * i + 1);
    memset(buf, 0, sizeof buf);
    n = ustk_tcp_emit(&h, ref, 100, SRC, DST, buf, sizeof buf);
    assert_int_equal(n, hl + 100);
    memcpy(ref, buf, n);

    /* NULL: payload already at buf + hl. */
    memset(buf, 0, hl);
    assert_int_equal(ustk_tcp_emit(&h, NULL, 100, SRC, DST, buf, sizeof buf),
                     n);
    assert_memory_equal(buf, ref, n);
    /* Pointer equal to buf + hl. */
    memset(buf, 0, hl);
    assert_int_equal(
        ustk_tcp_emit(&h, buf + hl, 100, SRC, DST, buf, sizeof buf), n);
    assert_memory_equal(buf, ref, n);
    /* At buf + 20, where a caller might have put it without options. */
    memmove(buf + 20, ref + hl, 100);
    assert_int_equal(
        ustk_tcp_emit(&h, buf + 20, 100, SRC, DST, buf, sizeof buf), n);
    assert_memory_equal(buf, ref, n);
    assert_int_equal(ustk_tcp_parse(buf, n, SRC, DST, true, &out), 0);
}

/* All eight flag bits survive; the reserved bits and the old NS bit in byte
 * 12 are ignored on input. */
static void test_flags(void **state)
{
    uint8_t buf[20];
    ustk_tcp_hdr h, out;

    (void)state;
    memset(&h, 0, sizeof h);
    for (unsigned f = 0; f < 256; f++) {
        h.flags = (uint8_t)f;
        assert_int_equal(ustk_tcp_emit(&h, NULL, 0, 1, 2, buf, sizeof buf), 20);
        assert_int_equal(buf[13], f);
        assert_int_equal(ustk_tcp_parse(buf, 20, 1, 2, true, &out), 0);
        assert_int_equal(out.flags, f);
    }
    buf[12] |= 0x0f; /* reserved + NS */
    assert_int_equal(ustk_tcp_parse(buf, 20, 1, 2, false, &out), 0);
    assert_int_equal(out.flags, 0xff);
    assert_int_equal(out.hdr_len, 20);
}

/* ---- rejections -------------------------------------------------------- */

static void test_truncated(void **state)
{
    (void)state;
    for (size_t n = 0; n <= SYN_TCP_LEN; n++) {
        int want = n < 20            ? USTK_DROP_TCP_SHORT
                   : n < SYN_TCP_LEN ? USTK_DROP_TCP_HDR_LEN
                                     : 0;

        for (int verify = 0; verify < 2; verify++) {
            uint8_t *b = wire_exact(SYN_TCP, n);
            ustk_tcp_hdr h;

            assert_int_equal(ustk_tcp_parse(b, n, SRC, DST, verify, &h), want);
            free(b);
        }
    }
    /* With payload: cut inside the payload, the header is fine and only the
     * checksum tells. */
    {
        uint8_t seg[64];
        ustk_tcp_hdr h = linux_syn_hdr(), out;
        size_t n = ustk_tcp_emit(&h, (const uint8_t *)"abcdefghij", 10, SRC,
                                 DST, seg, sizeof seg);

        assert_int_equal(n, 50);
        for (size_t cut = 40; cut < 50; cut++) {
            uint8_t *b = wire_exact(seg, cut);

            assert_int_equal(ustk_tcp_parse(b, cut, SRC, DST, true, &out),
                             USTK_DROP_TCP_CHECKSUM);
            assert_int_equal(ustk_tcp_parse(b, cut, SRC, DST, false, &out), 0);
            free(b);
        }
    }
}

static void test_bad_data_offset(void **state)
{
    uint8_t b[SYN_TCP_LEN];
    ustk_tcp_hdr h;

    (void)state;
    /* RFC 9293 §3.1: below 5 words is not a header. */
    for (uint8_t off = 0; off < 5; off++) {
        memcpy(b, SYN_TCP, sizeof b);
        b[12] = (uint8_t)(off << 4);
        assert_int_equal(ustk_tcp_parse(b, sizeof b, SRC, DST, false, &h),
                         USTK_DROP_TCP_HDR_LEN);
        assert_int_equal(ustk_tcp_parse(b, sizeof b, SRC, DST, true, &h),
                         USTK_DROP_TCP_HDR_LEN);
    }
    /* Longer than the segment. */
    for (uint8_t off = 11; off < 16; off++) {
        memcpy(b, SYN_TCP, sizeof b);
        b[12] = (uint8_t)(off << 4);
        assert_int_equal(ustk_tcp_parse(b, sizeof b, SRC, DST, true, &h),
                         USTK_DROP_TCP_HDR_LEN);
    }
}

static void test_bad_checksum(void **state)
{
    uint8_t b[SYN_TCP_LEN];
    ustk_tcp_hdr h;

    (void)state;
    /* Every single-bit error, except in the data offset nibble (which is
     * checked first). */
    for (size_t off = 0; off < SYN_TCP_LEN; off++)
        for (int bit = 0; bit < 8; bit++) {
            if (off == 12 && bit >= 4)
                continue;
            memcpy(b, SYN_TCP, sizeof b);
            b[off] ^= (uint8_t)(1u << bit);
            assert_int_equal(ustk_tcp_parse(b, sizeof b, SRC, DST, true, &h),
                             USTK_DROP_TCP_CHECKSUM);
        }
    /* The pseudo-header counts: other addresses, same bytes. */
    assert_int_equal(
        ustk_tcp_parse(SYN_TCP, SYN_TCP_LEN, SRC + 1, DST, true, &h),
        USTK_DROP_TCP_CHECKSUM);
    assert_int_equal(ustk_tcp_parse(SYN_TCP, SYN_TCP_LEN, DST, SRC, false, &h),
                     0);
    /* Without verification a wrong checksum passes. */
    memcpy(b, SYN_TCP, sizeof b);
    b[16] ^= 0xff;
    assert_int_equal(ustk_tcp_parse(b, sizeof b, SRC, DST, false, &h), 0);
    assert_int_equal(h.opts.mss, 1460);
}

/* A "segment" longer than an IPv4 payload can be has no valid checksum,
 * even one that would be right with its length cut to 16 bits (here 65536
 * becomes 0: the reference computes exactly that checksum). */
static void test_oversized_segment(void **state)
{
    size_t n = 65536;
    uint8_t *b = calloc(1, n);
    ustk_tcp_hdr h;
    uint16_t c;

    (void)state;
    assert_non_null(b);
    b[12] = 0x50;
    b[n - 1] = 0x42;
    c = ref_tcp_csum(0, 0, b, n);
    b[16] = (uint8_t)(c >> 8);
    b[17] = (uint8_t)c;
    assert_int_equal(ustk_tcp_parse(b, n, 0, 0, true, &h),
                     USTK_DROP_TCP_CHECKSUM);
    assert_int_equal(ustk_tcp_parse(b, n, 0, 0, false, &h), 0);
    free(b);
}

/* Build a segment whose option area is exactly opts[0, n) (n a multiple of 4)
 * with a right checksum, in an exact-size heap block, and parse it. */
static int parse_opts(const uint8_t *opts, size_t n, ustk_tcp_hdr *out)
{
    uint8_t seg[60];
    uint8_t *b;
    uint16_t c;
    int r;

    assert_int_equal(n % 4, 0);
    assert_true(n <= 40);
    memset(seg, 0, sizeof seg);
    seg[0] = 0x30; /* port 12345 -> 80 */
    seg[1] = 0x39;
    seg[3] = 80;
    seg[12] = (uint8_t)((20 + n) / 4 << 4);
    seg[13] = USTK_TCP_SYN;
    seg[14] = 0xff;
    seg[15] = 0xff;
    if (n)
        memcpy(seg + 20, opts, n);
    c = ref_tcp_csum(SRC, DST, seg, 20 + n);
    seg[16] = (uint8_t)(c >> 8);
    seg[17] = (uint8_t)c;
    b = wire_exact(seg, 20 + n);
    r = ustk_tcp_parse(b, 20 + n, SRC, DST, true, out);
    free(b);
    return r;
}

#define OPTS(...)                                                              \
    (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

static void expect_option_error(const uint8_t *opts, size_t n)
{
    ustk_tcp_hdr h;

    assert_int_equal(parse_opts(opts, n, &h), USTK_DROP_TCP_OPTION);
}

static void test_option_wrong_lengths(void **state)
{
    (void)state;
    /* RFC 9293 §3.2: MSS is kind 2, length 4. */
    expect_option_error(OPTS(0x02, 0x03, 0x05, 0x00));
    expect_option_error(OPTS(0x02, 0x05, 0x05, 0xb4, 0x00, 0x00, 0x00, 0x00));
    expect_option_error(OPTS(0x02, 0x06, 0x05, 0xb4, 0x00, 0x00, 0x00, 0x00));
    /* RFC 7323 §2.2: window scale is kind 3, length 3. */
    expect_option_error(OPTS(0x03, 0x02, 0x01, 0x01));
    expect_option_error(OPTS(0x03, 0x04, 0x07, 0x00));
    /* RFC 2018 §2: SACK-permitted is kind 4, length 2. */
    expect_option_error(OPTS(0x04, 0x03, 0x00, 0x00));
    expect_option_error(OPTS(0x04, 0x04, 0x00, 0x00));
    /* RFC 7323 §3.2: timestamps are kind 8, length 10. */
    expect_option_error(OPTS(0x08, 0x09, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0));
    expect_option_error(OPTS(0x08, 0x0b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0));
    expect_option_error(OPTS(0x08, 0x02, 0x00, 0x00));
    /* RFC 2018 §3: SACK is 2 + 8n with n >= 1. */
    expect_option_error(OPTS(0x05, 0x02, 0x00, 0x00));
    expect_option_error(OPTS(0x05, 0x09, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0));
    expect_option_error(OPTS(0x05, 0x0b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0));
    expect_option_error(OPTS(0x05, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
    expect_option_error(OPTS(0x05, 0x13, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                             13, 14, 15, 16, 17, 0));
}

/* RFC 2018 §3: at most four blocks fit in 40 bytes; a fifth (length 42)
 * necessarily runs past the header. */
static void test_option_sack_five_blocks(void **state)
{
    uint8_t o[40];
    ustk_tcp_hdr h;

    (void)state;
    for (size_t i = 0; i < sizeof o; i++)
        o[i] = (uint8_t)(0x40 + i);
    o[0] = 0x05;
    o[1] = 42;
    assert_int_equal(parse_opts(o, 40, &h), USTK_DROP_TCP_OPTION);
    /* Four blocks, the most there can be: accepted, all four kept. */
    o[0] = 0x01;
    o[1] = 0x01;
    o[2] = 0x05;
    o[3] = 34;
    assert_int_equal(parse_opts(o, 36, &h), 0);
    assert_int_equal(h.opts.has, USTK_OPT_SACK);
    assert_int_equal(h.opts.nsack, 4);
    assert_int_equal(h.opts.sack[0][0], 0x44454647);
    assert_int_equal(h.opts.sack[3][1], 0x60616263);
    /* Four blocks after a 4-byte option and before two NOPs: 4 + 34 + 2 =
     * 40, fine; a length of 42 there would not be. */
    o[38] = o[39] = 0x01;
    o[0] = 0x02;
    o[1] = 0x04;
    o[2] = 0x05;
    o[3] = 0xb4;
    o[4] = 0x05;
    o[5] = 34;
    assert_int_equal(parse_opts(o, 40, &h), 0);
    assert_int_equal(h.opts.nsack, 4);
    o[5] = 42;
    assert_int_equal(parse_opts(o, 40, &h), USTK_DROP_TCP_OPTION);
}

/* RFC 9293 §3.1 (MUST-7): an illegal option length, or one that runs past
 * the header, ends the parse with an error. */
static void test_option_bad_length_bytes(void **state)
{
    (void)state;
    /* Length 0 and 1, known and unknown kinds. */
    expect_option_error(OPTS(0x02, 0x00, 0x00, 0x00));
    expect_option_error(OPTS(0x02, 0x01, 0x00, 0x00));
    expect_option_error(OPTS(0x1e, 0x00, 0x00, 0x00));
    expect_option_error(OPTS(0xfe, 0x01, 0x00, 0x00));
    /* Length byte past the header: a kind in the last byte. */
    expect_option_error(OPTS(0x01, 0x01, 0x01, 0x1e));
    expect_option_error(OPTS(0x01, 0x01, 0x01, 0x02));
    /* Option running past the header. */
    expect_option_error(OPTS(0x1e, 0x08, 0x00, 0x00));
    expect_option_error(OPTS(0x01, 0x02, 0x04, 0x05));
    expect_option_error(OPTS(0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x00));
    expect_option_error(OPTS(0x1e, 0xff, 0x00, 0x00));
    /* A bad option after good ones. */
    expect_option_error(OPTS(0x02, 0x04, 0x05, 0xb4, 0x03, 0x02, 0x07, 0x00));
    /* An error after 36 bytes of NOPs. */
    {
        uint8_t o[40];

        memset(o, 0x01, sizeof o);
        o[38] = 0x02;
        o[39] = 0x04;
        expect_option_error(o, sizeof o);
    }
}

static void test_option_accepted_shapes(void **state)
{
    ustk_tcp_hdr h;
    uint8_t o[40];

    (void)state;
    /* No options at all. */
    assert_int_equal(parse_opts(NULL, 0, &h), 0);
    assert_int_equal(h.opts.has, 0);
    assert_int_equal(h.hdr_len, 20);
    /* RFC 9293 §3.2: EOL ends the list; what follows is not parsed. */
    assert_int_equal(parse_opts(OPTS(0x00, 0x02, 0x00, 0x00), &h), 0);
    assert_int_equal(h.opts.has, 0);
    assert_int_equal(
        parse_opts(OPTS(0x02, 0x04, 0x05, 0xb4, 0x00, 0xff, 0xff, 0xff), &h),
        0);
    assert_int_equal(h.opts.has, USTK_OPT_MSS);
    assert_int_equal(h.opts.mss, 1460);
    assert_int_equal(h.hdr_len, 28);
    /* A header full of NOPs. */
    memset(o, 0x01, sizeof o);
    assert_int_equal(parse_opts(o, 40, &h), 0);
    assert_int_equal(h.opts.has, 0);
    /* RFC 9293 §3.1 (MUST-6): unknown options skipped by their length. */
    assert_int_equal(
        parse_opts(OPTS(0x1e, 0x04, 0xaa, 0xbb, 0x02, 0x04, 0x05, 0xb4), &h),
        0);
    assert_int_equal(h.opts.has, USTK_OPT_MSS);
    assert_int_equal(h.opts.mss, 1460);
    assert_int_equal(
        parse_opts(OPTS(0xfe, 0x02, 0x03, 0x03, 0x0e, 0x00, 0x00, 0x00), &h),
        0);
    assert_int_equal(h.opts.has, USTK_OPT_WSCALE);
    assert_int_equal(h.opts.wscale, 14);
    /* An unknown option that fills the header exactly. */
    memset(o, 0, sizeof o);
    o[0] = 0xfd;
    o[1] = 40;
    assert_int_equal(parse_opts(o, 40, &h), 0);
    assert_int_equal(h.opts.has, 0);
    /* RFC 9293 §3.2 (MUST-64): options need not be aligned. */
    assert_int_equal(
        parse_opts(OPTS(0x01, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x01), &h),
        0);
    assert_int_equal(h.opts.has, USTK_OPT_MSS);
    assert_int_equal(h.opts.mss, 1460);
    /* RFC 7323 §2.3: shifts above 14 are the receiver's to clamp; the parser
     * keeps what was sent. */
    assert_int_equal(parse_opts(OPTS(0x01, 0x03, 0x03, 0x0f), &h), 0);
    assert_int_equal(h.opts.wscale, 15);
    assert_int_equal(parse_opts(OPTS(0x01, 0x03, 0x03, 0xff), &h), 0);
    assert_int_equal(h.opts.wscale, 255);
    /* A repeated option: the last one counts. */
    assert_int_equal(
        parse_opts(OPTS(0x02, 0x04, 0x05, 0xb4, 0x02, 0x04, 0x02, 0x18), &h),
        0);
    assert_int_equal(h.opts.mss, 536);
    /* Timestamps and SACK-permitted in Linux's combined form, and apart. */
    assert_int_equal(parse_opts(OPTS(0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x00,
                                     0x01, 0xff, 0xff, 0xff, 0xff),
                                &h),
                     0);
    assert_int_equal(h.opts.has, USTK_OPT_SACK_PERM | USTK_OPT_TS);
    assert_int_equal(h.opts.ts_val, 1);
    assert_int_equal(h.opts.ts_ecr, 0xffffffff);
}

/* Order of the checks: short, data offset, checksum, options. */
static void test_check_order(void **state)
{
    uint8_t seg[24] = {0};
    ustk_tcp_hdr h;

    (void)state;
    seg[12] = 0x60;
    seg[20] = 0x02; /* MSS with length 0: bad option */
    /* Checksum wrong as well (it was never computed). */
    assert_int_equal(ustk_tcp_parse(seg, 19, 1, 2, true, &h),
                     USTK_DROP_TCP_SHORT);
    assert_int_equal(ustk_tcp_parse(seg, 20, 1, 2, true, &h),
                     USTK_DROP_TCP_HDR_LEN);
    assert_int_equal(ustk_tcp_parse(seg, 24, 1, 2, true, &h),
                     USTK_DROP_TCP_CHECKSUM);
    assert_int_equal(ustk_tcp_parse(seg, 24, 1, 2, false, &h),
                     USTK_DROP_TCP_OPTION);
}

/* A failed parse leaves *out alone. */
static void test_failed_parse_leaves_out(void **state)
{
    ustk_tcp_hdr h, before;

    (void)state;
    memset(&h, 0x5c, sizeof h);
    memcpy(&before, &h, sizeof h);
    assert_int_equal(
        parse_opts(OPTS(0x02, 0x04, 0x05, 0xb4, 0x03, 0x02, 0x07, 0x00), &h),
        USTK_DROP_TCP_OPTION);
    assert_memory_equal(&h, &before, sizeof h);
}

/* ---- emit limits ------------------------------------------------------- */

static void test_emit_small_cap(void **state)
{
    ustk_tcp_hdr h = linux_syn_hdr();
    uint8_t buf[128], want[128];
    static const uint8_t data[30] = {1, 2, 3};

    (void)state;
    memset(want, 0x71, sizeof want);
    /* SYN with 20 option bytes: needs 40. */
    for (size_t cap = 0; cap < 40; cap++) {
        memset(buf, 0x71, sizeof buf);
        assert_int_equal(ustk_tcp_emit(&h, NULL, 0, SRC, DST, buf, cap), 0);
        assert_memory_equal(buf, want, sizeof buf);
    }
    /* Data segment: 20 + 12 (timestamps) + 30 = 62. */
    h.opts.has = USTK_OPT_TS;
    h.flags = USTK_TCP_ACK;
    for (size_t cap = 0; cap < 62; cap++) {
        memset(buf, 0x71, sizeof buf);
        assert_int_equal(
            ustk_tcp_emit(&h, data, sizeof data, SRC, DST, buf, cap), 0);
        assert_memory_equal(buf, want, sizeof buf);
    }
    memset(buf, 0x71, sizeof buf);
    assert_int_equal(ustk_tcp_emit(&h, data, sizeof data, SRC, DST, buf, 62),
                     62);
    assert_memory_equal(buf + 62, want, sizeof buf - 62);
}

/* The pseudo-header length is 16 bits: nothing longer is emitted. */
static void test_emit_too_long(void **state)
{
    size_t cap = 70000;
    uint8_t *buf = calloc(1, cap);
    ustk_tcp_hdr h, out;

    (void)state;
    assert_non_null(buf);
    memset(&h, 0, sizeof h);
    h.flags = USTK_TCP_ACK;
    assert_int_equal(ustk_tcp_emit(&h, NULL, 65536 - 20, 1, 2, buf, cap), 0);
    assert_int_equal(ustk_tcp_emit(&h, NULL, 65535 - 20, 1, 2, buf, cap),
                     65535);
    assert_int_equal(ustk_tcp_parse(buf, 65535, 1, 2, true, &out), 0);
    free(buf);
}

/* ---- any bytes --------------------------------------------------------- */

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Fill raw[20, off) with a walk of option-like pieces: mostly the right
 * kinds and lengths, sometimes a wrong length, so that the parser's option
 * walk gets exercised deep rather than failing on the first byte. */
static void random_options(uint8_t *raw, size_t off, uint32_t *s)
{
    static const struct {
        uint8_t kind, len;
    } pieces[] = {{0, 1},  {1, 1},  {2, 4},  {3, 3},  {4, 2},
                  {5, 10}, {8, 10}, {30, 4}, {254, 2}};
    size_t j = 20;

    while (j < off) {
        size_t p = rnd(s) % (sizeof pieces / sizeof pieces[0]);
        uint32_t r = rnd(s) % 16;
        uint8_t len = pieces[p].len;

        raw[j] = pieces[p].kind;
        if (len == 1 || j + 1 >= off) {
            j++;
            continue;
        }
        if (pieces[p].kind == 5)
            len = (uint8_t)(2 + 8 * (rnd(s) % 5));
        if (r >= 14)
            len = (uint8_t)r; /* a wrong length now and then */
        raw[j + 1] = len;
        j += len >= 2 ? len : 2;
    }
}

/* Random segments, half of them with a plausible data offset and options.
 * No crash, no read past len (exact-size blocks under ASan), and whatever is
 * accepted is self-consistent and survives emit + parse. */
static void test_random_bytes(void **state)
{
    uint32_t s = 0x2545f491u;
    int accepted = 0;

    (void)state;
    for (int i = 0; i < 200000; i++) {
        uint8_t raw[64];
        size_t n;
        uint8_t *b;
        ustk_tcp_hdr h;

        for (size_t j = 0; j < sizeof raw; j++)
            raw[j] = (uint8_t)rnd(&s);
        n = rnd(&s) % (sizeof raw + 1);
        if (i % 2 && n >= 20) {
            size_t off = 20 + 4 * (rnd(&s) % ((n - 20) / 4 + 1));

            if (off > 60)
                off = 60;
            raw[12] = (uint8_t)(off / 4 << 4);
            random_options(raw, off, &s);
        }
        b = wire_exact(raw, n);
        if (ustk_tcp_parse(b, n, 1, 2, false, &h) == 0) {
            uint8_t again[128];
            ustk_tcp_hdr back;
            size_t m;

            assert_true(h.hdr_len >= 20 && h.hdr_len <= n && h.hdr_len <= 60);
            assert_int_equal(h.hdr_len % 4, 0);
            assert_true(h.opts.nsack <= USTK_TCP_MAX_SACK);
            assert_int_equal(h.opts.nsack != 0,
                             (h.opts.has & USTK_OPT_SACK) != 0);
            /* Our layout is less compact than the tightest legal one, so
             * fewer SACK blocks may fit on the way back out. */
            m = ustk_tcp_emit(&h, b + h.hdr_len, n - h.hdr_len, 1, 2, again,
                              sizeof again);
            assert_true(m > 0);
            assert_int_equal(ustk_tcp_parse(again, m, 1, 2, true, &back), 0);
            assert_int_equal(back.opts.has & (uint8_t)~USTK_OPT_SACK,
                             h.opts.has & (uint8_t)~USTK_OPT_SACK);
            assert_int_equal(back.opts.mss, h.opts.mss);
            assert_int_equal(back.opts.wscale, h.opts.wscale);
            assert_int_equal(back.opts.ts_val, h.opts.ts_val);
            assert_int_equal(back.seq, h.seq);
            assert_int_equal(back.ack, h.ack);
            assert_int_equal(back.flags, h.flags);
            assert_memory_equal(again + back.hdr_len, b + h.hdr_len,
                                n - h.hdr_len);
            accepted++;
        }
        free(b);
    }
    assert_true(accepted > 20000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_packets_checksums_by_reference),
        cmocka_unit_test(test_parse_linux_syn),
        cmocka_unit_test(test_emit_linux_syn_frame),
        cmocka_unit_test(test_linux_sack_ack),
        cmocka_unit_test(test_layout_single_options),
        cmocka_unit_test(test_layout_syn_variants),
        cmocka_unit_test(test_layout_sack_blocks_fill),
        cmocka_unit_test(test_opts_len_table),
        cmocka_unit_test(test_round_trip_all_combinations),
        cmocka_unit_test(test_payload_placement),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_bad_data_offset),
        cmocka_unit_test(test_bad_checksum),
        cmocka_unit_test(test_oversized_segment),
        cmocka_unit_test(test_option_wrong_lengths),
        cmocka_unit_test(test_option_sack_five_blocks),
        cmocka_unit_test(test_option_bad_length_bytes),
        cmocka_unit_test(test_option_accepted_shapes),
        cmocka_unit_test(test_check_order),
        cmocka_unit_test(test_failed_parse_leaves_out),
        cmocka_unit_test(test_emit_small_cap),
        cmocka_unit_test(test_emit_summed_matches),
        cmocka_unit_test(test_emit_too_long),
        cmocka_unit_test(test_random_bytes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
