/* ICMP (RFC 792, RFC 1122 §3.2.2): ping sockets and echo replies, the
 * errors a stack sends (protocol unreachable) and when it must not, the
 * rate limit, and the errors it receives: turned into socket errors when
 * they match, counted and ignored when they are malformed or about someone
 * else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net_util.h"

static uint8_t frame[NET_FRAME], want[NET_FRAME], data[70000], got[70000];

/* An echo request as an application writes it: type 8, code 0, checksum
 * and identifier left to the stack, a sequence number, then len data
 * bytes. */
static size_t echo_request(uint8_t *buf, uint16_t seq, size_t len)
{
    memset(buf, 0, 8);
    buf[0] = 8;
    ustk_store_be16(buf + 6, seq);
    net_fill(buf + 8, len, seq);
    return 8 + len;
}

static int ping_socket(ustk_stack *s, uint16_t id)
{
    int h = ustk_open(s, USTK_PROTO_ICMP);
    assert_true(h >= 0);
    if (id) {
        ustk_sockaddr a = {0, id};
        assert_int_equal(ustk_bind(s, h, &a), 0);
    }
    return h;
}

/* A ping socket's echo round trip between two stacks. */
static void ping_round_trip(void **st)
{
    (void)st;
    net_pair p;
    net_pair_init(&p, USTK_LINK_ETHERNET, NULL);
    int h = ping_socket(p.a, 0);
    ustk_sockaddr to = {NET_B, 0};
    for (uint16_t seq = 1; seq <= 3; seq++) {
        size_t n = echo_request(data, seq, 56);
        assert_int_equal(ustk_sendto(p.a, h, data, n, &to, p.now),
                         (ptrdiff_t)n);
        net_pair_run(&p, USTK_MS(100));
        assert_true(ustk_sock_poll(p.a, h) & USTK_READABLE);
        ustk_sockaddr from;
        assert_int_equal(ustk_recvfrom(p.a, h, got, sizeof got, &from, p.now),
                         (ptrdiff_t)n);
        assert_int_equal(from.addr, NET_B);
        ustk_sockaddr name;
        assert_int_equal(ustk_getsockname(p.a, h, &name), 0);
        assert_true(name.port != 0);
        ustk_icmp_hdr r;
        assert_int_equal(ustk_icmp_parse(got, n, &r), 0);
        assert_int_equal(r.type, USTK_ICMP_ECHO_REPLY);
        assert_int_equal(r.code, 0);
        assert_int_equal(r.rest, (uint32_t)name.port << 16 | seq);
        assert_memory_equal(got + 8, data + 8, 56);
    }
    ustk_stack_stats sa = net_stats(p.a), sb = net_stats(p.b);
    assert_int_equal(sa.icmp_echo_requests_out, 3);
    assert_int_equal(sa.icmp_echo_replies_in, 3);
    assert_int_equal(sb.icmp_echo_requests, 3);
    assert_int_equal(sb.icmp_echo_replies, 3);
    assert_int_equal(sb.icmp_in, 3);
    assert_int_equal(sb.icmp_out, 3);
    net_pair_fini(&p);
}

/* What a ping socket sends, byte for byte: the application's request with
 * the socket's identifier and the checksum filled in, DF clear. */
static void ping_exact_bytes(void **st)
{
    (void)st;
    ustk_stack *s = net_ip_stack(NET_A);
    int h = ping_socket(s, 0x1234);
    ustk_sockaddr to = {NET_B, 0};
    size_t n = echo_request(data, 7, 20);
    data[4] = 0xaa; /* the identifier given is replaced */
    assert_int_equal(ustk_sendto(s, h, data, n, &to, 0), (ptrdiff_t)n);
    size_t m = net_take(s, 0, frame);
    assert_int_equal(m, 20 + n);
    size_t k = net_icmp(want, NET_A, NET_B, 8, 0, 0x12340007u, data + 8, 20);
    want[4] = frame[4];
    want[5] = frame[5];
    ustk_ipv4_rewrite(want, 20, (uint16_t)k, 0);
    assert_memory_equal(frame, want, m);
    /* Only echo requests, whole headers, IPv4-sized. */
    data[0] = 0;
    assert_int_equal(ustk_sendto(s, h, data, n, &to, 0), USTK_EINVAL);
    data[0] = 8;
    data[1] = 1;
    assert_int_equal(ustk_sendto(s, h, data, n, &to, 0), USTK_EINVAL);
    data[1] = 0;
    assert_int_equal(ustk_sendto(s, h, data, 7, &to, 0), USTK_EINVAL);
    assert_int_equal(ustk_sendto(s, h, data, 65516, &to, 0), USTK_EMSGSIZE);
    assert_int_equal(ustk_send(s, h, data, n, 0), USTK_EDESTADDRREQ);
    /* Identifiers are bound like ports. */
    int g = ustk_open(s, USTK_PROTO_ICMP);
    ustk_sockaddr same = {0, 0x1234};
    assert_int_equal(ustk_bind(s, g, &same), USTK_EADDRINUSE);
    assert_int_equal(net_take(s, 0, frame), 0);
    ustk_stack_destroy(s);
}

/* The reply to an echo request, byte for byte (RFC 1122 §3.2.2.6: same
 * identifier, sequence number and data, from the address it was sent to). */
static void echo_reply_bytes(void **st)
{
    (void)st;
    ustk_stack *s = net_ip_stack(NET_A);
    net_fill(data, 40, 3);
    size_t n = net_icmp(frame, NET_B, NET_A, 8, 0, 0xbeef0002u, data, 40);
    assert_int_equal(ustk_input(s, 0, frame, n), 0);
    size_t m = net_take(s, 0, frame);
    assert_int_equal(m, n);
    size_t k = net_icmp(want, NET_A, NET_B, 0, 0, 0xbeef0002u, data, 40);
    want[4] = frame[4];
    want[5] = frame[5];
    ustk_ipv4_rewrite(want, 20, (uint16_t)k, 0);
    assert_memory_equal(frame, want, m);
    /* Echo requests to a broadcast address are not answered. */
    n = net_icmp(frame, NET_B, USTK_IP4(10, 0, 0, 255), 8, 0, 1, data, 4);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_IP_NOT_FOR_US);
    assert_int_equal(net_take(s, 0, frame), 0);
    ustk_stack_destroy(s);
}

/* Echo replies go to the ping socket with their identifier (from the peer
 * it is connected to, when it is); others are counted. */
static void echo_reply_matching(void **st)
{
    (void)st;
    ustk_stack *s = net_ip_stack(NET_A);
    int h = ping_socket(s, 77);
    size_t n = net_icmp(frame, NET_B, NET_A, 0, 0, 78u << 16 | 1, "x", 1);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_ICMP_ECHO_NO_SOCKET);
    ustk_sockaddr to = {NET_B, 0};
    assert_int_equal(ustk_connect(s, h, &to, 0), 0);
    n = net_icmp(frame, NET_C, NET_A, 0, 0, 77u << 16 | 1, "x", 1);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_ICMP_ECHO_NO_SOCKET);
    n = net_icmp(frame, NET_B, NET_A, 0, 0, 77u << 16 | 1, "x", 1);
    assert_int_equal(ustk_input(s, 0, frame, n), 0);
    assert_int_equal(ustk_recv(s, h, got, sizeof got, 0), 9);
    assert_int_equal(got[0], 0);
    assert_int_equal(got[8], 'x');
    /* Connected: send goes to the peer. */
    size_t q = echo_request(data, 2, 4);
    assert_int_equal(ustk_send(s, h, data, q, 0), (ptrdiff_t)q);
    assert_int_equal(net_take(s, 0, frame), 20 + q);
    assert_int_equal(net_parse_ip(frame, 20 + q).dst, NET_B);
    ustk_stack_destroy(s);
}

/* RFC 1122 §3.2.2.1: protocol unreachable for a protocol we do not have,
 * quoting the header and what there is of the first 8 bytes. */
static void protocol_unreachable(void **st)
{
    (void)st;
    ustk_stack *s = net_ip_stack(NET_A);
    net_fill(data, 100, 9);
    size_t n = net_ip(frame, NET_B, NET_A, 99, 0x0101, 0, data, 100);
    uint8_t offending[28];
    memcpy(offending, frame, 28);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_IP_PROTO);
    size_t m = net_take(s, 0, frame);
    size_t k = net_icmp(want, NET_A, NET_B, 3, 2, 0, offending, 28);
    want[4] = frame[4];
    want[5] = frame[5];
    ustk_ipv4_rewrite(want, 20, (uint16_t)k, 0);
    assert_int_equal(m, k);
    assert_memory_equal(frame, want, m);
    /* Three bytes of payload: three are quoted. */
    n = net_ip(frame, NET_B, NET_A, 99, 0x0102, 0, data, 3);
    memcpy(offending, frame, 23);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_IP_PROTO);
    m = net_take(s, 0, frame);
    assert_int_equal(m, 20 + 8 + 23);
    assert_memory_equal(frame + 28, offending, 23);
    /* Not to a broadcast, not from "this host" (RFC 1122 §3.2.2). */
    n = net_ip(frame, NET_B, USTK_IP4(10, 0, 0, 255), 99, 1, 0, data, 10);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_IP_PROTO);
    n = net_ip(frame, 0, NET_A, 99, 1, 0, data, 10);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_IP_PROTO);
    assert_int_equal(net_take(s, 0, frame), 0);
    assert_int_equal(net_stats(s).icmp_errors_sent, 2);
    ustk_stack_destroy(s);
}

/* The token bucket: icmp_burst errors at once, then icmp_rate a second;
 * every error not sent is counted. */
static void rate_limit(void **st)
{
    (void)st;
    ustk_config c;
    net_cfg(&c, NET_A, USTK_LINK_IP);
    c.icmp_burst = 5;
    c.icmp_rate = 10;
    ustk_stack *s = net_stack(&c);
    size_t n = net_udp(frame, NET_B, NET_A, 1000, 9, "?", 1);
    ustk_time t = USTK_SEC(1);
    for (int i = 0; i < 20; i++)
        assert_int_equal(ustk_input(s, t, frame, n), USTK_DROP_UDP_NO_SOCKET);
    assert_int_equal(net_drain(s, t), 5);
    assert_int_equal(net_drops(s, USTK_DROP_ICMP_RATE_LIMITED), 15);
    assert_int_equal(net_drops(s, USTK_DROP_UDP_NO_SOCKET), 20);
    /* 100 ms later: one token. */
    t += USTK_MS(100);
    for (int i = 0; i < 3; i++)
        ustk_input(s, t, frame, n);
    assert_int_equal(net_drain(s, t), 1);
    assert_int_equal(net_drops(s, USTK_DROP_ICMP_RATE_LIMITED), 17);
    /* 99 ms: still under one token. */
    t += USTK_MS(99);
    ustk_input(s, t, frame, n);
    assert_int_equal(net_drain(s, t), 0);
    /* Long idle: the bucket is full again, no more than the burst. */
    t += USTK_SEC(3600);
    for (int i = 0; i < 8; i++)
        ustk_input(s, t, frame, n);
    assert_int_equal(net_drain(s, t), 5);
    assert_int_equal(net_stats(s).icmp_errors_sent, 11);
    ustk_stack_destroy(s);
    /* icmp_rate 0: never. */
    c.icmp_rate = 0;
    s = net_stack(&c);
    ustk_input(s, 0, frame, n);
    assert_int_equal(net_drain(s, 0), 0);
    assert_int_equal(net_drops(s, USTK_DROP_ICMP_RATE_LIMITED), 1);
    ustk_stack_destroy(s);
}

/* ---- errors received, about a TCP connection ------------------------- */

typedef struct syn_sent {
    ustk_stack *s;
    int sock;
    uint8_t syn[64]; /* the SYN's IPv4 packet, first 64 bytes */
    size_t syn_len;
} syn_sent;

static void syn_sent_open(syn_sent *x)
{
    x->s = net_ip_stack(NET_A);
    x->sock = ustk_open(x->s, USTK_PROTO_TCP);
    ustk_sockaddr to = {NET_B, 80};
    assert_int_equal(ustk_connect(x->s, x->sock, &to, 0), USTK_EINPROGRESS);
    size_t n = net_take(x->s, 0, frame);
    assert_true(n >= 40);
    x->syn_len = n < sizeof x->syn ? n : sizeof x->syn;
    memcpy(x->syn, frame, x->syn_len);
}

/* An error from B about the SYN, quoting qlen bytes of quote. */
static int icmp_about(syn_sent *x, uint8_t type, uint8_t code,
                      const uint8_t *quote, size_t qlen)
{
    size_t n = net_icmp(frame, NET_B, NET_A, type, code, 0, quote, qlen);
    return ustk_input(x->s, USTK_MS(10), frame, n);
}

static int tcp_state(syn_sent *x)
{
    ustk_tcp_info ti;
    assert_int_equal(ustk_tcp_info_get(x->s, x->sock, &ti), 0);
    return ti.state;
}

/* RFC 1122 §4.2.3.9: port and protocol unreachable are hard errors; a
 * connection still opening gives up with them. */
static void tcp_syn_refused(void **st)
{
    (void)st;
    static const struct {
        uint8_t code;
        int err;
    } cases[] = {{3, USTK_ECONNREFUSED}, {2, USTK_ENOPROTOOPT},
                 {10, USTK_EHOSTUNREACH}, {9, USTK_ENETUNREACH}};
    for (size_t i = 0; i < 4; i++) {
        syn_sent x;
        syn_sent_open(&x);
        assert_int_equal(icmp_about(&x, 3, cases[i].code, x.syn, 28), 0);
        assert_true(ustk_sock_poll(x.s, x.sock) & USTK_ERROR);
        assert_int_equal(ustk_sock_error(x.s, x.sock), cases[i].err);
        assert_int_equal(tcp_state(&x), USTK_TCP_CLOSED);
        assert_int_equal(net_stats(x.s).icmp_errors_in, 1);
        ustk_stack_destroy(x.s);
    }
}

/* Soft errors (RFC 1122 §4.2.3.9: net, host unreachable, frag needed, time
 * exceeded, parameter problem) do not abort; the connection goes on. */
static void tcp_syn_soft(void **st)
{
    (void)st;
    syn_sent x;
    syn_sent_open(&x);
    assert_int_equal(icmp_about(&x, 3, 1, x.syn, 28), 0);
    assert_int_equal(icmp_about(&x, 3, 0, x.syn, 28), 0);
    assert_int_equal(icmp_about(&x, 3, 4, x.syn, 28), 0);
    assert_int_equal(icmp_about(&x, 11, 0, x.syn, 28), 0);
    assert_int_equal(icmp_about(&x, 12, 0, x.syn, 28), 0);
    assert_int_equal(tcp_state(&x), USTK_TCP_SYN_SENT);
    assert_false(ustk_sock_poll(x.s, x.sock) & USTK_ERROR);
    assert_int_equal(net_stats(x.s).icmp_errors_in, 5);
    ustk_stack_destroy(x.s);
}

/* Malformed errors, and errors about someone else's connection, are
 * counted and change nothing. */
static void tcp_hostile_errors(void **st)
{
    (void)st;
    syn_sent x;
    syn_sent_open(&x);
    uint8_t q[64];
    /* Too short to hold a header and 8 bytes. */
    assert_int_equal(icmp_about(&x, 3, 3, x.syn, 20),
                     USTK_DROP_ICMP_ERR_SHORT);
    assert_int_equal(icmp_about(&x, 3, 3, x.syn, 27),
                     USTK_DROP_ICMP_ERR_SHORT);
    /* Not IPv4, or an IHL under 5. */
    memcpy(q, x.syn, 28);
    q[0] = 0x65;
    assert_int_equal(icmp_about(&x, 3, 3, q, 28), USTK_DROP_ICMP_ERR_QUOTE);
    q[0] = 0x44;
    assert_int_equal(icmp_about(&x, 3, 3, q, 28), USTK_DROP_ICMP_ERR_QUOTE);
    /* IHL 6 with only 28 bytes: the 8 bytes after the header are not all
     * there. */
    q[0] = 0x46;
    assert_int_equal(icmp_about(&x, 3, 3, q, 28), USTK_DROP_ICMP_ERR_SHORT);
    /* A later fragment: the 8 bytes are not a TCP header. */
    memcpy(q, x.syn, 28);
    q[7] = 1;
    assert_int_equal(icmp_about(&x, 3, 3, q, 28), USTK_DROP_ICMP_ERR_QUOTE);
    /* A total length shorter than what is quoted. */
    memcpy(q, x.syn, 28);
    q[2] = 0;
    q[3] = 27;
    assert_int_equal(icmp_about(&x, 3, 3, q, 28), USTK_DROP_ICMP_ERR_QUOTE);
    /* Not from us. */
    memcpy(q, x.syn, 28);
    q[15] = 9;
    assert_int_equal(icmp_about(&x, 3, 3, q, 28),
                     USTK_DROP_ICMP_ERR_NOT_OURS);
    /* Someone else's connection: another port of B, another host. */
    memcpy(q, x.syn, 28);
    q[23] = 81;
    assert_int_equal(icmp_about(&x, 3, 3, q, 28), USTK_DROP_ICMP_NO_MATCH);
    memcpy(q, x.syn, 28);
    q[19] = 3;
    assert_int_equal(icmp_about(&x, 3, 3, q, 28), USTK_DROP_ICMP_NO_MATCH);
    /* Our connection, but a sequence number we never sent (RFC 5927). */
    memcpy(q, x.syn, 28);
    q[24] ^= 0x80;
    assert_int_equal(icmp_about(&x, 3, 3, q, 28), USTK_DROP_ICMP_BAD_SEQ);
    /* Another protocol, for which no socket exists. */
    memcpy(q, x.syn, 28);
    q[9] = 17;
    assert_int_equal(icmp_about(&x, 3, 3, q, 28), USTK_DROP_ICMP_NO_MATCH);
    q[9] = 99;
    assert_int_equal(icmp_about(&x, 3, 3, q, 28), USTK_DROP_ICMP_NO_MATCH);
    /* Source quench (RFC 6633), a redirect, an unknown type, a bad
     * checksum. */
    assert_int_equal(icmp_about(&x, 4, 0, x.syn, 28),
                     USTK_DROP_ICMP_SOURCE_QUENCH);
    assert_int_equal(icmp_about(&x, 5, 1, x.syn, 28), USTK_DROP_ICMP_TYPE);
    assert_int_equal(icmp_about(&x, 42, 0, x.syn, 28), USTK_DROP_ICMP_TYPE);
    size_t n = net_icmp(frame, NET_B, NET_A, 3, 3, 0, x.syn, 28);
    frame[30] ^= 1;
    assert_int_equal(ustk_input(x.s, USTK_MS(10), frame, n),
                     USTK_DROP_ICMP_CHECKSUM);
    /* Too short to be ICMP. */
    n = net_ip(frame, NET_B, NET_A, 1, 1, 0, "abc", 3);
    assert_int_equal(ustk_input(x.s, USTK_MS(10), frame, n),
                     USTK_DROP_ICMP_SHORT);
    /* Through all that the connection is untouched and nothing was sent. */
    assert_int_equal(tcp_state(&x), USTK_TCP_SYN_SENT);
    assert_false(ustk_sock_poll(x.s, x.sock) & USTK_ERROR);
    assert_int_equal(net_take(x.s, USTK_MS(10), frame), 0);
    assert_int_equal(net_stats(x.s).icmp_errors_sent, 0);
    /* And the real one still works. */
    assert_int_equal(icmp_about(&x, 3, 3, x.syn, 28), 0);
    assert_int_equal(ustk_sock_error(x.s, x.sock), USTK_ECONNREFUSED);
    ustk_stack_destroy(x.s);
}

/* ---- errors received, about datagram sockets -------------------------- */

/* A ping socket takes every error about its echoes (here from a router on
 * the way, quoting the request); a connected UDP socket the hard ones about
 * its peer, and not the soft ones. */
static void errors_for_datagram_sockets(void **st)
{
    (void)st;
    ustk_stack *s = net_ip_stack(NET_A);
    int h = ping_socket(s, 500);
    ustk_sockaddr to = {NET_B, 0};
    size_t n = echo_request(data, 1, 8);
    assert_int_equal(ustk_sendto(s, h, data, n, &to, 0), (ptrdiff_t)n);
    size_t m = net_take(s, 0, frame);
    uint8_t quote[28];
    memcpy(quote, frame, 28);
    (void)m;
    n = net_icmp(frame, NET_C, NET_A, 11, 0, 0, quote, 28);
    assert_int_equal(ustk_input(s, 0, frame, n), 0);
    assert_true(ustk_sock_poll(s, h) & USTK_ERROR);
    assert_int_equal(ustk_recv(s, h, got, sizeof got, 0), USTK_EHOSTUNREACH);
    assert_int_equal(ustk_recv(s, h, got, sizeof got, 0), USTK_EAGAIN);
    /* About another identifier: no match. */
    quote[24] = 0x01;
    quote[25] = 0xf5;
    n = net_icmp(frame, NET_C, NET_A, 3, 1, 0, quote, 28);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_ICMP_NO_MATCH);

    int u = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr peer = {NET_B, 53};
    assert_int_equal(ustk_connect(s, u, &peer, 0), 0);
    assert_int_equal(ustk_send(s, u, "q", 1, 0), 1);
    net_take(s, 0, frame);
    memcpy(quote, frame, 28);
    n = net_icmp(frame, NET_B, NET_A, 3, 1, 0, quote, 28);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_ICMP_UNREPORTED);
    assert_int_equal(ustk_sock_error(s, u), 0);
    quote[23] = 54; /* about another peer port */
    n = net_icmp(frame, NET_B, NET_A, 3, 3, 0, quote, 28);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_ICMP_NO_MATCH);
    quote[23] = 53;
    n = net_icmp(frame, NET_B, NET_A, 3, 3, 0, quote, 28);
    assert_int_equal(ustk_input(s, 0, frame, n), 0);
    assert_int_equal(ustk_sock_error(s, u), USTK_ECONNREFUSED);
    ustk_stack_destroy(s);
}

/* RFC 1122 §3.2.1.3: packets from a loopback, class E or our own source
 * address are martians: dropped and counted, never answered (an echo
 * reply to them would reflect traffic) nor delivered to a socket. */
static void martian_sources_dropped(void **state)
{
    (void)state;
    static uint8_t buf[NET_FRAME];
    static const uint8_t msg[4] = {1, 2, 3, 4};
    const ustk_ip4 martians[] = {USTK_IP4(127, 0, 0, 1),
                                 USTK_IP4(240, 0, 0, 1), NET_A};
    ustk_stack *s = net_ip_stack(NET_A);
    int u = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr me = {0, 7};
    assert_true(u >= 0);
    assert_int_equal(ustk_bind(s, u, &me), 0);
    for (size_t i = 0; i < sizeof martians / sizeof martians[0]; i++) {
        size_t n = net_icmp(buf, martians[i], NET_A, USTK_ICMP_ECHO_REQUEST,
                            0, 0x00010001, msg, sizeof msg);
        assert_int_equal(ustk_input(s, 1, buf, n), USTK_DROP_IP_SRC);
        assert_int_equal(net_take(s, 1, buf), 0);
        n = net_udp(buf, martians[i], NET_A, 53, 7, msg, sizeof msg);
        assert_int_equal(ustk_input(s, 1, buf, n), USTK_DROP_IP_SRC);
    }
    assert_int_equal(net_drops(s, USTK_DROP_IP_SRC), 6);
    assert_int_equal(ustk_recvfrom(s, u, buf, sizeof buf, NULL, 1),
                     USTK_EAGAIN);
    ustk_stack_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ping_round_trip),
        cmocka_unit_test(martian_sources_dropped),
        cmocka_unit_test(ping_exact_bytes),
        cmocka_unit_test(echo_reply_bytes),
        cmocka_unit_test(echo_reply_matching),
        cmocka_unit_test(protocol_unreachable),
        cmocka_unit_test(rate_limit),
        cmocka_unit_test(tcp_syn_refused),
        cmocka_unit_test(tcp_syn_soft),
        cmocka_unit_test(tcp_hostile_errors),
        cmocka_unit_test(errors_for_datagram_sockets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
