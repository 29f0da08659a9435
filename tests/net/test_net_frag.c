/* IPv4 fragmentation and reassembly: the exact fragments a datagram larger
 * than the MTU goes out in; reassembly in order, out of order and with
 * duplicates, byte for byte; overlaps (RFC 5722) discarding the datagram;
 * the timeout on the virtual clock with its time exceeded; the memory and
 * table bounds; oversized and malformed fragments; large pings and UDP
 * datagrams between two stacks; a TCP SYN in fragments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net_util.h"
#include "wire/tcp.h"

static uint8_t frame[NET_FRAME], want[NET_FRAME], data[70000], got[70000];
static uint8_t msg[70000];

/* A set of fragments captured from a stack. */
#define FRAGS_MAX 64
typedef struct frags {
    size_t n;
    size_t len[FRAGS_MAX];
    uint8_t *pkt[FRAGS_MAX];
} frags;

static void frags_take(frags *f, ustk_stack *s, ustk_time now)
{
    memset(f, 0, sizeof(*f));
    size_t n;
    while ((n = net_take(s, now, frame)) != 0) {
        assert_true(f->n < FRAGS_MAX);
        f->pkt[f->n] = malloc(n);
        memcpy(f->pkt[f->n], frame, n);
        f->len[f->n++] = n;
    }
}

static void frags_free(frags *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->pkt[i]);
    f->n = 0;
}

/* Fragments of a UDP datagram of len bytes from A:5000 to B:6000, as A
 * sends them with the given MTU. */
static void udp_frags(frags *f, size_t len, uint16_t mtu, uint32_t seed)
{
    ustk_config c;
    net_cfg(&c, NET_A, USTK_LINK_IP);
    c.mtu = mtu;
    ustk_stack *a = net_stack(&c);
    int h = ustk_open(a, USTK_PROTO_UDP);
    ustk_sockaddr me = {0, 5000}, to = {NET_B, 6000};
    assert_int_equal(ustk_bind(a, h, &me), 0);
    net_fill(data, len, seed);
    assert_int_equal(ustk_sendto(a, h, data, len, &to, 0), (ptrdiff_t)len);
    frags_take(f, a, 0);
    ustk_stack_destroy(a);
}

/* A stack at B with a UDP socket on 6000. */
static ustk_stack *receiver(const ustk_config *cfg, int *sock)
{
    ustk_config c;
    if (cfg)
        c = *cfg;
    else
        net_cfg(&c, NET_B, USTK_LINK_IP);
    ustk_stack *b = net_stack(&c);
    *sock = ustk_open(b, USTK_PROTO_UDP);
    ustk_sockaddr me = {0, 6000};
    assert_int_equal(ustk_bind(b, *sock, &me), 0);
    return b;
}

/* The fragments, byte for byte (RFC 791 §3.2): one ID, offsets in 8-byte
 * units, MF on all but the last, every piece but the last a multiple of 8
 * as large as the MTU allows, and the UDP datagram whole across them. */
static void fragments_exact(void **st)
{
    (void)st;
    static const struct {
        uint16_t mtu;
        size_t len;
        size_t n;
    } cases[] = {{1500, 3000, 3}, {576, 3000, 6}, {1500, 65507, 45},
                 {128, 1000, 10}};
    for (size_t k = 0; k < 4; k++) {
        frags f;
        udp_frags(&f, cases[k].len, cases[k].mtu, (uint32_t)k);
        assert_int_equal(f.n, cases[k].n);
        size_t total = 8 + cases[k].len;
        assert_int_equal(ustk_udp_emit(5000, 6000, data, cases[k].len, NET_A,
                                       NET_B, msg, sizeof msg),
                         total);
        size_t piece = (size_t)(cases[k].mtu - 20) & ~(size_t)7;
        uint16_t id = ustk_load_be16(f.pkt[0] + 4);
        size_t off = 0;
        for (size_t i = 0; i < f.n; i++) {
            size_t take = total - off < piece ? total - off : piece;
            bool last = i + 1 == f.n;
            uint16_t fr = (uint16_t)(off / 8 | (last ? 0 : USTK_IPV4_MF));
            size_t m = net_ip(want, NET_A, NET_B, 17, id, fr, msg + off, take);
            assert_int_equal(f.len[i], m);
            assert_memory_equal(f.pkt[i], want, m);
            assert_true(m <= cases[k].mtu);
            off += take;
        }
        assert_int_equal(off, total);
        frags_free(&f);
    }
}

static void inject_order(const frags *f, const size_t *order, size_t n,
                         size_t len, uint32_t seed)
{
    int h;
    ustk_stack *b = receiver(NULL, &h);
    for (size_t i = 0; i < n; i++) {
        size_t j = order[i];
        int r = ustk_input(b, USTK_MS(i), f->pkt[j], f->len[j]);
        assert_true(r == 0 || r == USTK_DROP_IP_FRAG_DUP);
    }
    memset(got, 0, len);
    assert_int_equal(ustk_recv(b, h, got, sizeof got, USTK_SEC(1)),
                     (ptrdiff_t)len);
    net_fill(data, len, seed);
    assert_memory_equal(got, data, len);
    assert_int_equal(ustk_recv(b, h, got, sizeof got, USTK_SEC(1)),
                     USTK_EAGAIN);
    ustk_stack_stats stt = net_stats(b);
    assert_int_equal(stt.ip_reassembled, 1);
    assert_int_equal(stt.ip_frags_in, n);
    assert_int_equal(ustk_next_deadline(b, USTK_SEC(1)), USTK_TIME_NEVER);
    ustk_stack_destroy(b);
}

/* In order, backwards, shuffled, and with every fragment twice: the same
 * bytes come out, once. */
static void reassembly_orders(void **st)
{
    (void)st;
    frags f;
    udp_frags(&f, 10000, 1500, 5);
    assert_int_equal(f.n, 7);
    size_t fwd[7] = {0, 1, 2, 3, 4, 5, 6};
    size_t back[7] = {6, 5, 4, 3, 2, 1, 0};
    size_t mixed[7] = {3, 6, 0, 5, 1, 4, 2};
    /* Duplicates before completion: the last copy of 2 completes it. */
    size_t dup[13] = {1, 1, 3, 0, 5, 3, 6, 0, 4, 4, 6, 5, 2};
    inject_order(&f, fwd, 7, 10000, 5);
    inject_order(&f, back, 7, 10000, 5);
    inject_order(&f, mixed, 7, 10000, 5);
    inject_order(&f, dup, 13, 10000, 5);
    /* The duplicates were counted as such. */
    int h;
    ustk_stack *b = receiver(NULL, &h);
    for (size_t i = 0; i < 12; i++)
        ustk_input(b, 0, f.pkt[dup[i]], f.len[dup[i]]);
    assert_int_equal(net_drops(b, USTK_DROP_IP_FRAG_DUP), 6);
    assert_int_equal(ustk_input(b, 0, f.pkt[2], f.len[2]), 0);
    assert_int_equal(ustk_recv(b, h, got, sizeof got, 0), 10000);
    /* After completion, a late copy starts a new datagram that never
     * completes; it times out, counted. */
    assert_int_equal(ustk_input(b, 0, f.pkt[1], f.len[1]), 0);
    assert_int_equal(ustk_next_deadline(b, 0), USTK_SEC(30));
    net_drain(b, USTK_SEC(30));
    assert_int_equal(net_drops(b, USTK_DROP_IP_FRAG_TIMEOUT), 1);
    assert_int_equal(net_stats(b).ip_reasm_failed, 1);
    ustk_stack_destroy(b);
    frags_free(&f);
}

/* A fragment of the datagram (src B, id) with payload bytes [off, off+len)
 * taken from data. */
static size_t frag_of(uint8_t *buf, uint16_t id, size_t off, size_t len,
                      bool more, uint8_t proto)
{
    return net_ip(buf, NET_C, NET_B, proto, id,
                  (uint16_t)(off / 8 | (more ? USTK_IPV4_MF : 0)), data + off,
                  len);
}

/* Hand B that fragment at time 0; ustk_input's result. */
static int feed(ustk_stack *b, uint16_t id, size_t off, size_t len, bool more,
                uint8_t proto)
{
    size_t n = frag_of(frame, id, off, len, more, proto);
    return ustk_input(b, 0, frame, n);
}

/* RFC 5722: a fragment overlapping what was received discards the whole
 * datagram; later fragments of it never make a datagram. An exact copy
 * with other bytes is an overlap too. */
static void overlap_rejected(void **st)
{
    (void)st;
    int h;
    ustk_stack *b = receiver(NULL, &h);
    /* A UDP datagram of 8 + 2992 = 3000 bytes in [0,1480) [1480,2960)
     * [2960,3000). */
    net_fill(data, 3000, 1);
    assert_int_equal(ustk_udp_emit(5000, 6000, data + 8, 2992, NET_C, NET_B,
                                   data, sizeof data),
                     3000);
    size_t n = frag_of(frame, 1, 0, 1480, true, 17);
    assert_int_equal(ustk_input(b, 0, frame, n), 0);
    n = frag_of(frame, 1, 2960, 40, false, 17);
    assert_int_equal(ustk_input(b, 0, frame, n), 0);
    n = frag_of(frame, 1, 1000, 1480, true, 17);
    assert_int_equal(ustk_input(b, 0, frame, n), USTK_DROP_IP_FRAG_OVERLAP);
    assert_int_equal(net_drops(b, USTK_DROP_IP_FRAG_OVERLAP), 3);
    assert_int_equal(ustk_next_deadline(b, 0), USTK_TIME_NEVER);
    /* The missing middle now arrives: alone, it cannot complete. */
    n = frag_of(frame, 1, 1480, 1480, true, 17);
    assert_int_equal(ustk_input(b, 0, frame, n), 0);
    assert_int_equal(ustk_recv(b, h, got, sizeof got, 0), USTK_EAGAIN);
    /* Same place, other bytes: an overlap, not a duplicate. */
    data[1500] ^= 0xff;
    n = frag_of(frame, 1, 1480, 1480, true, 17);
    assert_int_equal(ustk_input(b, 0, frame, n), USTK_DROP_IP_FRAG_OVERLAP);
    data[1500] ^= 0xff;
    /* A fragment wholly inside what was received, with the same bytes, is
     * a copy (Linux too drops those alone), even across two fragments'
     * boundary; one that reaches past it, with the same bytes, still
     * overlaps. */
    assert_int_equal(feed(b, 2, 0, 1480, true, 17), 0);
    assert_int_equal(feed(b, 2, 1480, 1480, true, 17), 0);
    assert_int_equal(feed(b, 2, 1000, 1480, true, 17), USTK_DROP_IP_FRAG_DUP);
    assert_int_equal(feed(b, 2, 2000, 1000, false, 17),
                     USTK_DROP_IP_FRAG_OVERLAP);
    /* Nothing was delivered; the discarded datagrams left no timer. */
    assert_int_equal(ustk_recv(b, h, got, sizeof got, 0), USTK_EAGAIN);
    assert_int_equal(net_stats(b).ip_reassembled, 0);
    assert_int_equal(net_stats(b).ip_reasm_failed, 3);
    assert_int_equal(ustk_next_deadline(b, 0), USTK_TIME_NEVER);
    ustk_stack_destroy(b);
}

/* The timeout runs on the caller's clock: the deadline is 30 s after the
 * first fragment, the datagram is dropped then and, as fragment 0 came, a
 * time exceeded (code 1) quoting it goes to the source (RFC 1122
 * §3.3.2). */
static void timeout_time_exceeded(void **st)
{
    (void)st;
    int h;
    ustk_stack *b = receiver(NULL, &h);
    const ustk_time t0 = USTK_SEC(5);
    net_fill(data, 3000, 2);
    size_t n = frag_of(frame, 9, 0, 1480, true, 17);
    uint8_t first[28];
    memcpy(first, frame, 28);
    assert_int_equal(ustk_input(b, t0, frame, n), 0);
    n = frag_of(frame, 9, 1480, 16, true, 17);
    assert_int_equal(ustk_input(b, t0 + USTK_SEC(10), frame, n), 0);
    assert_int_equal(ustk_next_deadline(b, t0 + USTK_SEC(10)),
                     t0 + USTK_SEC(30));
    assert_int_equal(net_take(b, t0 + USTK_SEC(30) - 1, frame), 0);
    assert_int_equal(net_drops(b, USTK_DROP_IP_FRAG_TIMEOUT), 0);
    size_t m = net_take(b, t0 + USTK_SEC(30), frame);
    size_t k = net_icmp(want, NET_B, NET_C, 11, 1, 0, first, 28);
    want[4] = frame[4];
    want[5] = frame[5];
    ustk_ipv4_rewrite(want, 20, (uint16_t)k, 0);
    assert_int_equal(m, k);
    assert_memory_equal(frame, want, m);
    assert_int_equal(net_drops(b, USTK_DROP_IP_FRAG_TIMEOUT), 2);
    assert_int_equal(ustk_next_deadline(b, t0 + USTK_SEC(30)),
                     USTK_TIME_NEVER);
    /* Without fragment 0 there is nothing to quote: no message. */
    n = frag_of(frame, 10, 1480, 16, true, 17);
    assert_int_equal(ustk_input(b, USTK_SEC(100), frame, n), 0);
    assert_int_equal(net_take(b, USTK_SEC(130), frame), 0);
    assert_int_equal(net_drops(b, USTK_DROP_IP_FRAG_TIMEOUT), 3);
    /* Never about an ICMP error (RFC 1122 §3.2.2), even in fragments;
     * an echo request in fragments does get one. */
    memset(data, 0, 16);
    data[0] = 3; /* destination unreachable */
    n = frag_of(frame, 11, 0, 16, true, 1);
    assert_int_equal(ustk_input(b, USTK_SEC(200), frame, n), 0);
    data[0] = 8; /* echo request */
    n = frag_of(frame, 12, 0, 16, true, 1);
    assert_int_equal(ustk_input(b, USTK_SEC(200), frame, n), 0);
    m = net_take(b, USTK_SEC(230), frame);
    assert_int_equal(m, 20 + 8 + 28);
    assert_int_equal(frame[20], 11);
    assert_int_equal(ustk_load_be16(frame + 28 + 4), 12); /* quoted ID */
    assert_int_equal(net_take(b, USTK_SEC(230), frame), 0);
    assert_int_equal(net_stats(b).icmp_errors_sent, 2);
    ustk_stack_destroy(b);
}

/* Bounds: the number of datagrams (frag_max) and the bytes (frag_mem).
 * What does not fit is dropped and counted; a held datagram that cannot
 * grow is given up whole; memory comes back when datagrams complete. */
static void memory_and_table_bounds(void **st)
{
    (void)st;
    ustk_config c;
    net_cfg(&c, NET_B, USTK_LINK_IP);
    c.frag_max = 2;
    int h;
    ustk_stack *b = receiver(&c, &h);
    net_fill(data, 3000, 3);
    assert_int_equal(feed(b, 1, 0, 8, true, 17), 0);
    assert_int_equal(feed(b, 2, 0, 8, true, 17), 0);
    assert_int_equal(feed(b, 3, 0, 8, true, 17), USTK_DROP_IP_FRAG_TABLE_FULL);
    /* A fragment of a held datagram is still taken. */
    assert_int_equal(feed(b, 2, 8, 8, true, 17), 0);
    ustk_stack_destroy(b);

    c.frag_max = 0; /* reassembly off */
    b = receiver(&c, &h);
    assert_int_equal(feed(b, 1, 0, 8, true, 17), USTK_DROP_IP_FRAG_TABLE_FULL);
    ustk_stack_destroy(b);

    /* 8 KiB: a few datagrams of 1500 bytes fit, then no more. Each comes
     * last fragment first, which tells its size, so its buffer is made
     * once at that size. */
    c.frag_max = 64;
    c.frag_mem = 8192;
    b = receiver(&c, &h);
    net_fill(data, 3000, 4);
    assert_int_equal(ustk_udp_emit(5000, 6000, data + 8, 1492, NET_C, NET_B,
                                   data, sizeof data),
                     1500);
    uint16_t id = 1;
    while (feed(b, id, 1480, 20, false, 17) == 0)
        id++;
    uint16_t held = (uint16_t)(id - 1);
    assert_true(held >= 2 && held <= 5);
    assert_int_equal(net_drops(b, USTK_DROP_IP_FRAG_NO_MEMORY), 1);
    /* Completing one gives its memory back: another fits again. */
    assert_int_equal(feed(b, 1, 0, 1480, true, 17), 0);
    assert_int_equal(ustk_recv(b, h, got, sizeof got, 0), 1492);
    assert_memory_equal(got, data + 8, 1492);
    assert_int_equal(feed(b, id, 1480, 20, false, 17), 0);
    /* A held datagram that cannot grow within the budget is given up,
     * with what it held. Completing datagram 2 makes room for a new one;
     * its next fragment lies too far out. */
    assert_int_equal(feed(b, 2, 0, 1480, true, 17), 0);
    assert_int_equal(ustk_recv(b, h, got, sizeof got, 0), 1492);
    uint64_t before = net_drops(b, USTK_DROP_IP_FRAG_NO_MEMORY);
    assert_int_equal(feed(b, 200, 0, 1480, true, 17), 0);
    size_t n = net_ip(frame, NET_C, NET_B, 17, 200,
                      (uint16_t)(60000 / 8 | USTK_IPV4_MF), data, 1480);
    assert_int_equal(ustk_input(b, 0, frame, n), USTK_DROP_IP_FRAG_NO_MEMORY);
    assert_int_equal(net_drops(b, USTK_DROP_IP_FRAG_NO_MEMORY), before + 2);
    assert_int_equal(net_stats(b).ip_reasm_failed, 1);
    ustk_stack_destroy(b);
}

/* Fragments that reach past 65535 bytes (the "ping of death") and
 * malformed ones. */
static void oversized_and_malformed(void **st)
{
    (void)st;
    int h;
    ustk_stack *b = receiver(NULL, &h);
    net_fill(data, 3000, 6);
    size_t n = frag_of(frame, 1, 0, 1480, true, 1);
    assert_int_equal(ustk_input(b, 0, frame, n), 0);
    /* 65512 + 24 + a 20-byte header = 65556. */
    n = net_ip(frame, NET_C, NET_B, 1, 1, 65512 / 8, data, 24);
    assert_int_equal(ustk_input(b, 0, frame, n), USTK_DROP_IP_FRAG_TOO_BIG);
    assert_int_equal(net_drops(b, USTK_DROP_IP_FRAG_TOO_BIG), 2);
    /* Exactly 65535 is fine. */
    n = net_ip(frame, NET_C, NET_B, 1, 2, 65512 / 8, data, 3);
    assert_int_equal(ustk_input(b, 0, frame, n), 0);
    /* MF with a length that is not a multiple of 8, or empty. */
    n = frag_of(frame, 3, 0, 100, true, 17);
    assert_int_equal(ustk_input(b, 0, frame, n), USTK_DROP_IP_FRAG_BAD);
    n = frag_of(frame, 3, 8, 0, true, 17);
    assert_int_equal(ustk_input(b, 0, frame, n), USTK_DROP_IP_FRAG_BAD);
    /* Data beyond the last fragment's end, and two different ends: the
     * datagram is given up. */
    assert_int_equal(feed(b, 4, 800, 80, true, 17), 0);
    assert_int_equal(feed(b, 4, 8, 40, false, 17), USTK_DROP_IP_FRAG_BAD);
    assert_int_equal(feed(b, 5, 8, 40, false, 17), 0);
    assert_int_equal(feed(b, 5, 48, 8, false, 17), USTK_DROP_IP_FRAG_BAD);
    assert_int_equal(feed(b, 6, 8, 40, false, 17), 0);
    assert_int_equal(feed(b, 6, 40, 16, true, 17), USTK_DROP_IP_FRAG_BAD);
    assert_int_equal(net_drops(b, USTK_DROP_IP_FRAG_BAD), 2 + 2 * 3);
    assert_int_equal(net_stats(b).ip_reassembled, 0);
    ustk_stack_destroy(b);
}

/* A ping with 20000 bytes of data between two stacks, the first packet to
 * a neighbour not yet resolved: the request's fragments wait for ARP
 * together, go out, are reassembled and answered in fragments, which are
 * reassembled for the ping socket. */
static void big_ping(void **st)
{
    (void)st;
    net_pair p;
    net_pair_init(&p, USTK_LINK_ETHERNET, NULL);
    int h = ustk_open(p.a, USTK_PROTO_ICMP);
    memset(msg, 0, 8);
    msg[0] = 8;
    msg[7] = 2;
    net_fill(msg + 8, 20000, 8);
    ustk_sockaddr to = {NET_B, 0};
    assert_int_equal(ustk_sendto(p.a, h, msg, 20008, &to, p.now), 20008);
    net_pair_run(&p, USTK_MS(100));
    assert_int_equal(ustk_recv(p.a, h, got, sizeof got, p.now), 20008);
    assert_int_equal(got[0], 0);
    assert_int_equal(got[7], 2);
    assert_memory_equal(got + 8, msg + 8, 20000);
    ustk_stack_stats sa = net_stats(p.a), sb = net_stats(p.b);
    assert_int_equal(sa.ip_frags_out, 14);
    assert_int_equal(sb.ip_frags_in, 14);
    assert_int_equal(sb.ip_reassembled, 1);
    assert_int_equal(sb.ip_frags_out, 14);
    assert_int_equal(sa.ip_reassembled, 1);
    assert_int_equal(sb.icmp_echo_replies, 1);
    /* Nothing was lost waiting for ARP or in the queues. */
    assert_int_equal(net_drops(p.a, USTK_DROP_ARP_QUEUE_FULL), 0);
    assert_int_equal(net_drops(p.a, USTK_DROP_TX_QUEUE_FULL), 0);
    assert_int_equal(net_stats(p.a).ip_reasm_failed, 0);
    assert_int_equal(net_stats(p.b).ip_reasm_failed, 0);
    net_pair_fini(&p);
}

/* The largest UDP datagram, echoed between two stacks over both link
 * kinds. */
static void big_udp_echo(void **st)
{
    (void)st;
    for (int k = 0; k < 2; k++) {
        net_pair p;
        net_pair_init(&p, k ? USTK_LINK_IP : USTK_LINK_ETHERNET, NULL);
        int srv = ustk_open(p.b, USTK_PROTO_UDP);
        ustk_sockaddr me = {0, 7}, to = {NET_B, 7};
        assert_int_equal(ustk_bind(p.b, srv, &me), 0);
        int cli = ustk_open(p.a, USTK_PROTO_UDP);
        assert_int_equal(ustk_connect(p.a, cli, &to, p.now), 0);
        net_fill(msg, 65507, 11);
        assert_int_equal(ustk_send(p.a, cli, msg, 65507, p.now), 65507);
        net_pair_run(&p, USTK_MS(100));
        ustk_sockaddr from;
        ptrdiff_t r = ustk_recvfrom(p.b, srv, got, sizeof got, &from, p.now);
        assert_int_equal(r, 65507);
        assert_memory_equal(got, msg, 65507);
        assert_int_equal(ustk_sendto(p.b, srv, got, 65507, &from, p.now),
                         65507);
        net_pair_run(&p, USTK_MS(100));
        memset(got, 0, 65507);
        assert_int_equal(ustk_recv(p.a, cli, got, sizeof got, p.now), 65507);
        assert_memory_equal(got, msg, 65507);
        net_pair_fini(&p);
    }
}

/* A TCP SYN in two fragments reaches the listener once reassembled. */
/* A stack at NET_B listening on port 80, and in data a 24-byte SYN to it
 * from NET_C:40000 (ISS 1000, an MSS option). */
static ustk_stack *syn_listener_and_segment(void)
{
    ustk_stack *b = net_ip_stack(NET_B);
    int l = ustk_open(b, USTK_PROTO_TCP);
    ustk_sockaddr me = {0, 80};
    assert_int_equal(ustk_bind(b, l, &me), 0);
    assert_int_equal(ustk_listen(b, l, 4), 0);
    ustk_tcp_hdr th;
    memset(&th, 0, sizeof(th));
    th.sport = 40000;
    th.dport = 80;
    th.seq = 1000;
    th.flags = USTK_TCP_SYN;
    th.wnd = 65535;
    th.opts.has = USTK_OPT_MSS;
    th.opts.mss = 1460;
    assert_int_equal(
        ustk_tcp_emit(&th, NULL, 0, NET_C, NET_B, data, sizeof data), 24);
    return b;
}

static void tcp_syn_in_fragments(void **st)
{
    (void)st;
    ustk_stack *b = syn_listener_and_segment();
    assert_int_equal(feed(b, 7, 16, 8, false, 6), 0);
    assert_int_equal(net_take(b, 0, frame), 0);
    assert_int_equal(feed(b, 7, 0, 16, true, 6), 0);
    size_t m = net_take(b, 0, frame);
    assert_true(m >= 40);
    ustk_tcp_hdr out;
    assert_int_equal(
        ustk_tcp_parse(frame + 20, m - 20, NET_B, NET_C, true, &out), 0);
    assert_int_equal(out.flags, USTK_TCP_SYN | USTK_TCP_ACK);
    assert_int_equal(out.ack, 1001);
    ustk_stack_destroy(b);
}

/* A link's word about a checksum (ustk_input_meta() with DATA_VALID)
 * holds for its frame only: a datagram that frame completes is made of
 * other fragments too, and is checked. A damaged SYN whose last fragment
 * comes vouched for is dropped as TCP_CHECKSUM, and nothing answers it. */
static void vouched_last_fragment_checked(void **st)
{
    (void)st;
    ustk_stack *b = syn_listener_and_segment();
    data[14] ^= 0x01; /* the window field: the checksum no longer fits */
    assert_int_equal(feed(b, 9, 0, 16, true, 6), 0);
    size_t m = frag_of(frame, 9, 16, 8, false, 6);
    ustk_frame_meta meta;
    memset(&meta, 0, sizeof(meta));
    meta.flags = USTK_META_DATA_VALID;
    assert_int_equal(ustk_input_meta(b, 0, frame, m, &meta),
                     USTK_DROP_TCP_CHECKSUM);
    assert_int_equal(ustk_stack_drops(b, USTK_DROP_TCP_CHECKSUM), 1);
    assert_int_equal(net_take(b, 0, frame), 0);
    /* The same SYN whole, vouched for: the link's word is taken. */
    data[14] ^= 0x01;
    size_t n = net_ip(frame, NET_C, NET_B, USTK_IP_PROTO_TCP, 10, 0, data, 24);
    assert_int_equal(ustk_input_meta(b, 0, frame, n, &meta), 0);
    assert_true(net_take(b, 0, frame) >= 40);
    ustk_stack_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vouched_last_fragment_checked),
        cmocka_unit_test(fragments_exact),
        cmocka_unit_test(reassembly_orders),
        cmocka_unit_test(overlap_rejected),
        cmocka_unit_test(timeout_time_exceeded),
        cmocka_unit_test(memory_and_table_bounds),
        cmocka_unit_test(oversized_and_malformed),
        cmocka_unit_test(big_ping),
        cmocka_unit_test(big_udp_echo),
        cmocka_unit_test(tcp_syn_in_fragments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
