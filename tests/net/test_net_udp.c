/* UDP sockets (RFC 768): echo between two stacks, the exact datagram on the
 * wire and its checksum, binding, the connected-socket filter, the bounded
 * receive and output queues, readiness, port unreachable turned into
 * ECONNREFUSED (and its details), and an unanswered ARP turned into
 * EHOSTUNREACH. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net_util.h"

static uint8_t frame[NET_FRAME], want[NET_FRAME], data[70000], got[70000];

static int udp_bound(ustk_stack *s, ustk_ip4 addr, uint16_t port)
{
    int h = ustk_open(s, USTK_PROTO_UDP);
    assert_true(h >= 0);
    ustk_sockaddr a = {addr, port};
    assert_int_equal(ustk_bind(s, h, &a), 0);
    return h;
}

/* Echo between two stacks: B echoes what A sends, for datagram sizes up to
 * the largest that needs no fragment, over both link kinds. */
static void echo_over(ustk_link_kind link)
{
    net_pair p;
    net_pair_init(&p, link, NULL);
    int srv = udp_bound(p.b, 0, 7);
    int cli = ustk_open(p.a, USTK_PROTO_UDP);
    ustk_sockaddr to = {NET_B, 7};
    assert_int_equal(ustk_connect(p.a, cli, &to, p.now), 0);
    assert_true(ustk_sock_poll(p.a, cli) & USTK_WRITABLE);
    static const size_t sizes[] = {0, 1, 100, 1472};
    for (size_t i = 0; i < 4; i++) {
        net_fill(data, sizes[i], (uint32_t)i);
        assert_int_equal(ustk_send(p.a, cli, data, sizes[i], p.now),
                         (ptrdiff_t)sizes[i]);
        net_pair_run(&p, USTK_MS(100));
        ustk_sockaddr from;
        ptrdiff_t n = ustk_recvfrom(p.b, srv, got, sizeof got, &from, p.now);
        assert_int_equal(n, (ptrdiff_t)sizes[i]);
        assert_memory_equal(got, data, sizes[i]);
        assert_int_equal(from.addr, NET_A);
        ustk_sockaddr name;
        assert_int_equal(ustk_getsockname(p.a, cli, &name), 0);
        assert_int_equal(from.port, name.port);
        assert_true(name.port >= 49152);
        assert_int_equal(ustk_sendto(p.b, srv, got, (size_t)n, &from, p.now),
                         n);
        net_pair_run(&p, USTK_MS(100));
        memset(got, 0, sizeof got);
        assert_int_equal(ustk_recv(p.a, cli, got, sizeof got, p.now), n);
        assert_memory_equal(got, data, sizes[i]);
        assert_int_equal(ustk_recv(p.a, cli, got, sizeof got, p.now),
                         USTK_EAGAIN);
    }
    ustk_stack_stats sa = net_stats(p.a), sb = net_stats(p.b);
    assert_int_equal(sa.udp_datagrams_out, 4);
    assert_int_equal(sa.udp_datagrams_in, 4);
    assert_int_equal(sb.udp_datagrams_in, 4);
    assert_int_equal(sb.udp_datagrams_out, 4);
    assert_int_equal(sa.ip_frags_out + sb.ip_frags_out, 0);
    net_pair_fini(&p);
}

static void udp_echo_ethernet(void **st)
{
    (void)st;
    echo_over(USTK_LINK_ETHERNET);
}

static void udp_echo_ip(void **st)
{
    (void)st;
    echo_over(USTK_LINK_IP);
}

/* The datagram on the wire, byte for byte: IPv4 header with DF clear, the
 * config's TTL and protocol 17, then the UDP header and payload. */
static void udp_exact_bytes(void **st)
{
    (void)st;
    ustk_config c;
    net_cfg(&c, NET_A, USTK_LINK_IP);
    c.ttl = 17;
    ustk_stack *s = net_stack(&c);
    int h = udp_bound(s, 0, 5000);
    ustk_sockaddr to = {NET_B, 53};
    assert_int_equal(ustk_sendto(s, h, "hello", 5, &to, 0), 5);
    size_t n = net_take(s, 0, frame);
    assert_int_equal(n, 33);
    /* 45 00 0021 id 0000 11(TTL 17) 11(UDP) csum 0a000001 0a000002,
     * then 1388 0035 000d csum "hello". */
    static const uint8_t head[] = {0x45, 0x00, 0x00, 0x21};
    assert_memory_equal(frame, head, 4);
    assert_int_equal(ustk_load_be16(frame + 6), 0); /* no DF, no MF */
    assert_int_equal(frame[8], 17);
    assert_int_equal(frame[9], 17);
    uint16_t id = ustk_load_be16(frame + 4);
    size_t m = net_udp(want, NET_A, NET_B, 5000, 53, "hello", 5);
    want[4] = (uint8_t)(id >> 8);
    want[5] = (uint8_t)id;
    want[8] = 17;
    ustk_ipv4_rewrite(want, 20, (uint16_t)m, 0);
    assert_int_equal(m, n);
    assert_memory_equal(frame, want, n);
    /* The UDP checksum by an independent sum: pseudo-header and datagram
     * add up to 0xffff. */
    uint32_t sum = ustk_csum_pseudo(0, NET_A, NET_B, 17, 13);
    assert_int_equal(ustk_csum_finish(ustk_csum_add(sum, frame + 20, 13)), 0);
    assert_int_equal(net_take(s, 0, frame), 0);
    ustk_stack_destroy(s);
}

/* RFC 768: a checksum that computes to 0 is sent as 0xffff. The payload is
 * chosen to make the sum come out so: the checksum c0 of the datagram with
 * payload 00 00, used as the payload, completes the sum to all ones. */
static void udp_zero_checksum_sent_as_ones(void **st)
{
    (void)st;
    ustk_stack *s = net_ip_stack(NET_A);
    int h = udp_bound(s, 0, 1111);
    uint8_t tmp[10], w[2] = {0, 0};
    assert_int_equal(ustk_udp_emit(1111, 2222, w, 2, NET_A, NET_B, tmp, 10),
                     10);
    uint16_t c0 = ustk_load_be16(tmp + 6);
    assert_int_not_equal(c0, 0xffff);
    w[0] = (uint8_t)(c0 >> 8);
    w[1] = (uint8_t)c0;
    ustk_sockaddr to = {NET_B, 2222};
    assert_int_equal(ustk_sendto(s, h, w, 2, &to, 0), 2);
    assert_int_equal(net_take(s, 0, frame), 30);
    assert_int_equal(frame[26], 0xff);
    assert_int_equal(frame[27], 0xff);
    ustk_stack_destroy(s);
}

/* Zero checksum on receive: none was computed, accepted. A wrong one is
 * dropped and counted; so is a length field beyond the packet. */
static void udp_receive_checks(void **st)
{
    (void)st;
    ustk_stack *s = net_ip_stack(NET_A);
    int h = udp_bound(s, 0, 7);
    size_t n = net_udp(frame, NET_B, NET_A, 9, 7, "abc", 3);
    frame[26] = frame[27] = 0;
    assert_int_equal(ustk_input(s, 0, frame, n), 0);
    assert_int_equal(ustk_recv(s, h, got, sizeof got, 0), 3);
    assert_memory_equal(got, "abc", 3);
    n = net_udp(frame, NET_B, NET_A, 9, 7, "abc", 3);
    frame[28] ^= 1;
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_UDP_CHECKSUM);
    n = net_udp(frame, NET_B, NET_A, 9, 7, "abc", 3);
    frame[25] = 12; /* UDP length 12 > 11 bytes there */
    ustk_ipv4_rewrite(frame, 20, (uint16_t)n, 0);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_UDP_LEN);
    assert_int_equal(ustk_recv(s, h, got, sizeof got, 0), USTK_EAGAIN);
    assert_int_equal(net_stats(s).udp_datagrams_in, 1);
    /* Nothing answers a dropped datagram. */
    assert_int_equal(net_take(s, 0, frame), 0);
    ustk_stack_destroy(s);
}

static void udp_bind_rules(void **st)
{
    (void)st;
    ustk_stack *s = net_ip_stack(NET_A);
    int a = udp_bound(s, 0, 4000);
    int b = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr same = {NET_A, 4000}, other = {NET_B, 4001};
    assert_int_equal(ustk_bind(s, b, &same), USTK_EADDRINUSE);
    assert_int_equal(ustk_bind(s, b, &other), USTK_EADDRNOTAVAIL);
    assert_int_equal(ustk_bind(s, b, NULL), USTK_EINVAL);
    ustk_sockaddr eph = {0, 0};
    assert_int_equal(ustk_bind(s, b, &eph), 0);
    assert_int_equal(ustk_bind(s, b, &eph), USTK_EINVAL); /* bound already */
    ustk_sockaddr name;
    assert_int_equal(ustk_getsockname(s, b, &name), 0);
    assert_int_equal(name.addr, 0);
    assert_true(name.port >= 49152);
    assert_int_equal(ustk_getpeername(s, b, &name), USTK_ENOTCONN);
    /* TCP and ping identifiers are other spaces. */
    int t = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr p4000 = {0, 4000};
    assert_int_equal(ustk_bind(s, t, &p4000), 0);
    int i = ustk_open(s, USTK_PROTO_ICMP);
    assert_int_equal(ustk_bind(s, i, &p4000), 0);
    /* Closing frees the port. */
    assert_int_equal(ustk_close(s, a, 0), 0);
    assert_int_equal(ustk_close(s, a, 0), USTK_EBADF);
    int c = ustk_open(s, USTK_PROTO_UDP);
    assert_int_equal(ustk_bind(s, c, &same), 0);
    assert_int_equal(ustk_getsockname(s, c, &name), 0);
    assert_int_equal(name.addr, NET_A);
    assert_int_equal(name.port, 4000);
    ustk_stack_destroy(s);
}

static void udp_misuse(void **st)
{
    (void)st;
    ustk_stack *s = net_ip_stack(NET_A);
    int h = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr to = {NET_B, 7};
    assert_int_equal(ustk_send(s, h, "x", 1, 0), USTK_EDESTADDRREQ);
    ustk_sockaddr port0 = {NET_B, 0};
    assert_int_equal(ustk_sendto(s, h, "x", 1, &port0, 0), USTK_EINVAL);
    assert_int_equal(ustk_connect(s, h, &port0, 0), USTK_EINVAL);
    ustk_sockaddr bc = {USTK_IP4(10, 0, 0, 255), 7};
    assert_int_equal(ustk_sendto(s, h, "x", 1, &bc, 0), USTK_EACCES);
    bc.addr = 0xffffffffu;
    assert_int_equal(ustk_sendto(s, h, "x", 1, &bc, 0), USTK_EACCES);
    bc.addr = USTK_IP4(224, 0, 0, 1);
    assert_int_equal(ustk_connect(s, h, &bc, 0), USTK_EACCES);
    ustk_sockaddr far = {USTK_IP4(192, 168, 9, 9), 7}; /* no gateway */
    assert_int_equal(ustk_sendto(s, h, "x", 1, &far, 0), USTK_ENETUNREACH);
    assert_int_equal(ustk_connect(s, h, &far, 0), USTK_ENETUNREACH);
    /* RFC 768: 65535 - 20 - 8 bytes at most. */
    assert_int_equal(ustk_sendto(s, h, data, 65508, &to, 0), USTK_EMSGSIZE);
    assert_int_equal(ustk_sendto(s, h, NULL, 1, &to, 0), USTK_EINVAL);
    assert_int_equal(ustk_listen(s, h, 1), USTK_EOPNOTSUPP);
    assert_int_equal(ustk_accept(s, h, NULL), USTK_EOPNOTSUPP);
    ustk_tcp_info ti;
    assert_int_equal(ustk_tcp_info_get(s, h, &ti), USTK_EOPNOTSUPP);
    assert_int_equal(ustk_setsockopt(s, h, USTK_TCP_NODELAY, 1),
                     USTK_EOPNOTSUPP);
    assert_int_equal(ustk_shutdown(s, h, USTK_SHUT_WR, 0), USTK_ENOTCONN);
    /* None of that sent anything. */
    assert_int_equal(net_take(s, 0, frame), 0);
    /* A TCP socket refuses an address on sendto. */
    int t = ustk_open(s, USTK_PROTO_TCP);
    assert_int_equal(ustk_sendto(s, t, "x", 1, &to, 0), USTK_EISCONN);
    assert_int_equal(ustk_open(s, (ustk_proto)99), USTK_EPROTONOSUPPORT);
    ustk_stack_destroy(s);
}

/* A connected socket takes datagrams from its peer only; others are
 * dropped and answered with port unreachable, as Linux does. Connecting to
 * address and port 0 dissolves the association. */
static void udp_connected_filter(void **st)
{
    (void)st;
    ustk_stack *s = net_ip_stack(NET_A);
    int h = udp_bound(s, 0, 6000);
    ustk_sockaddr to = {NET_B, 7};
    assert_int_equal(ustk_connect(s, h, &to, 0), 0);
    ustk_sockaddr peer;
    assert_int_equal(ustk_getpeername(s, h, &peer), 0);
    assert_int_equal(peer.addr, NET_B);
    assert_int_equal(peer.port, 7);
    size_t n = net_udp(frame, NET_C, NET_A, 7, 6000, "no", 2);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_UDP_NOT_PEER);
    n = net_udp(frame, NET_B, NET_A, 8, 6000, "no", 2);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_UDP_NOT_PEER);
    assert_int_equal(net_stats(s).icmp_errors_sent, 2);
    assert_int_equal(net_drain(s, 0), 2);
    n = net_udp(frame, NET_B, NET_A, 7, 6000, "yes", 3);
    assert_int_equal(ustk_input(s, 0, frame, n), 0);
    ustk_sockaddr from;
    assert_int_equal(ustk_recvfrom(s, h, got, sizeof got, &from, 0), 3);
    assert_int_equal(from.addr, NET_B);
    assert_int_equal(from.port, 7);
    ustk_sockaddr none = {0, 0};
    assert_int_equal(ustk_connect(s, h, &none, 0), 0);
    assert_int_equal(ustk_getpeername(s, h, &peer), USTK_ENOTCONN);
    n = net_udp(frame, NET_C, NET_A, 7, 6000, "any", 3);
    assert_int_equal(ustk_input(s, 0, frame, n), 0);
    assert_int_equal(ustk_recv(s, h, got, sizeof got, 0), 3);
    ustk_stack_destroy(s);
}

/* The receive queue is bounded by datagrams and by bytes; what does not
 * fit is dropped and counted, and reading makes room again. */
static void udp_receive_queue_bounds(void **st)
{
    (void)st;
    ustk_config c;
    net_cfg(&c, NET_A, USTK_LINK_IP);
    c.udp_rcv_max = 3;
    c.udp_rcv_buf = 250;
    ustk_stack *s = net_stack(&c);
    int h = udp_bound(s, 0, 7);
    size_t n = net_udp(frame, NET_B, NET_A, 9, 7, data, 10);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ustk_input(s, 0, frame, n), 0);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_UDP_QUEUE_FULL);
    assert_int_equal(ustk_recv(s, h, got, sizeof got, 0), 10);
    assert_int_equal(ustk_input(s, 0, frame, n), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ustk_recv(s, h, got, sizeof got, 0), 10);
    /* Bytes: 100 + 100 fit in 250, a third 100 does not; 50 does. */
    n = net_udp(frame, NET_B, NET_A, 9, 7, data, 100);
    assert_int_equal(ustk_input(s, 0, frame, n), 0);
    assert_int_equal(ustk_input(s, 0, frame, n), 0);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_UDP_QUEUE_FULL);
    n = net_udp(frame, NET_B, NET_A, 9, 7, data, 50);
    assert_int_equal(ustk_input(s, 0, frame, n), 0);
    assert_int_equal(net_drops(s, USTK_DROP_UDP_QUEUE_FULL), 2);
    assert_int_equal(net_stats(s).udp_datagrams_in, 7);
    /* A full queue is not a closed port: no ICMP. */
    assert_int_equal(net_take(s, 0, frame), 0);
    /* Closing with datagrams queued frees them (ASan watches). */
    assert_int_equal(ustk_close(s, h, 0), 0);
    ustk_stack_destroy(s);
}

/* recvfrom with a short buffer: the start is copied, the rest discarded,
 * the count copied returned (BSD and Linux without MSG_TRUNC);
 * ustk_sock_nread() tells the datagram's length beforehand. The socket is
 * not connected: ustk_recv reads from anyone, as on Linux. */
static void udp_truncation(void **st)
{
    (void)st;
    ustk_stack *s = net_ip_stack(NET_A);
    int h = udp_bound(s, 0, 7);
    assert_int_equal(ustk_sock_nread(s, h), 0);
    size_t n = net_udp(frame, NET_B, NET_A, 9, 7, "0123456789", 10);
    assert_int_equal(ustk_input(s, 0, frame, n), 0);
    n = net_udp(frame, NET_C, NET_A, 11, 7, "abc", 3);
    assert_int_equal(ustk_input(s, 0, frame, n), 0);
    assert_int_equal(ustk_sock_nread(s, h), 10);
    memset(got, 0, 8);
    assert_int_equal(ustk_recv(s, h, got, 4, 0), 4);
    assert_memory_equal(got, "0123\0\0\0\0", 8);
    /* The rest of the first datagram is gone; the next comes whole. */
    assert_int_equal(ustk_sock_nread(s, h), 3);
    ustk_sockaddr from;
    memset(got, 0, 8);
    assert_int_equal(ustk_recvfrom(s, h, got, 8, &from, 0), 3);
    assert_memory_equal(got, "abc\0", 4);
    assert_int_equal(from.addr, NET_C);
    assert_int_equal(from.port, 11);
    /* A zero-length read takes a datagram too, and returns 0. */
    n = net_udp(frame, NET_B, NET_A, 9, 7, "xyz", 3);
    assert_int_equal(ustk_input(s, 0, frame, n), 0);
    assert_int_equal(ustk_recv(s, h, got, 0, 0), 0);
    assert_int_equal(ustk_sock_nread(s, h), 0);
    assert_int_equal(ustk_recv(s, h, got, 4, 0), USTK_EAGAIN);
    /* An unconnected socket has no peer to send to. */
    assert_int_equal(ustk_send(s, h, "x", 1, 0), USTK_EDESTADDRREQ);
    ustk_stack_destroy(s);
}

/* The datagram output queue is bounded: EAGAIN when full (all or nothing
 * for a fragmented datagram), EMSGSIZE when a datagram has more fragments
 * than the queue can ever hold; the socket is told when room comes back. */
static void udp_output_queue(void **st)
{
    (void)st;
    ustk_config c;
    net_cfg(&c, NET_A, USTK_LINK_IP);
    c.dgram_queue = 4;
    ustk_stack *s = net_stack(&c);
    int h = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr to = {NET_B, 7};
    assert_int_equal(ustk_connect(s, h, &to, 0), 0);
    ustk_event ev[4];
    while (ustk_events(s, ev, 4) > 0)
        ;
    /* 4 fragments fit; 5 never will. */
    assert_int_equal(ustk_send(s, h, data, 4 * 1480 - 8 + 1, 0),
                     USTK_EMSGSIZE);
    assert_int_equal(ustk_send(s, h, data, 3000, 0), 3000); /* 3 fragments */
    assert_int_equal(ustk_send(s, h, data, 2000, 0), USTK_EAGAIN);
    assert_int_equal(ustk_send(s, h, data, 10, 0), 10);
    assert_int_equal(ustk_send(s, h, data, 10, 0), USTK_EAGAIN);
    assert_int_equal(ustk_sock_poll(s, h) & USTK_WRITABLE, 0);
    assert_int_equal(ustk_next_deadline(s, 5), 5);
    /* Room for one: writable again; the refused sender hears of it once
     * half the queue is free. */
    assert_true(net_take(s, 0, frame) > 0);
    assert_true(ustk_sock_poll(s, h) & USTK_WRITABLE);
    assert_int_equal(ustk_events(s, ev, 4), 0);
    assert_true(net_take(s, 0, frame) > 0);
    assert_int_equal(ustk_events(s, ev, 4), 1);
    assert_int_equal(ev[0].sock, h);
    assert_true(ev[0].flags & USTK_WRITABLE);
    assert_int_equal(net_drain(s, 0), 2);
    assert_int_equal(ustk_next_deadline(s, 5), USTK_TIME_NEVER);
    ustk_stack_destroy(s);
}

/* Readiness: READABLE with a datagram queued, reported through events. */
static void udp_readiness(void **st)
{
    (void)st;
    ustk_stack *s = net_ip_stack(NET_A);
    int h = udp_bound(s, 0, 7);
    ustk_event ev[4];
    while (ustk_events(s, ev, 4) > 0)
        ;
    assert_int_equal(ustk_sock_poll(s, h), USTK_WRITABLE);
    size_t n = net_udp(frame, NET_B, NET_A, 9, 7, "a", 1);
    assert_int_equal(ustk_input(s, 0, frame, n), 0);
    assert_int_equal(ustk_events(s, ev, 4), 1);
    assert_int_equal(ev[0].sock, h);
    assert_int_equal(ev[0].flags, USTK_READABLE | USTK_WRITABLE);
    assert_int_equal(ustk_recv(s, h, got, 1, 0), 1);
    assert_int_equal(ustk_sock_poll(s, h), USTK_WRITABLE);
    ustk_stack_destroy(s);
}

/* The port unreachable a stack sends for a closed port, byte for byte:
 * type 3 code 3, unused word zero, the offending header and the first 8
 * bytes of its payload (RFC 792). */
static void udp_port_unreachable_bytes(void **st)
{
    (void)st;
    ustk_stack *s = net_ip_stack(NET_A);
    size_t n = net_udp(frame, NET_B, NET_A, 4000, 9, "payload!!", 9);
    uint8_t offending[64];
    memcpy(offending, frame, n);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_UDP_NO_SOCKET);
    size_t m = net_take(s, 0, frame);
    assert_int_equal(m, 20 + 8 + 28);
    size_t k = net_icmp(want, NET_A, NET_B, 3, 3, 0, offending, 28);
    want[4] = frame[4];
    want[5] = frame[5];
    ustk_ipv4_rewrite(want, 20, (uint16_t)k, 0);
    assert_int_equal(k, m);
    assert_memory_equal(frame, want, m);
    ustk_stack_stats stt = net_stats(s);
    assert_int_equal(stt.icmp_errors_sent, 1);
    assert_int_equal(stt.icmp_out, 1);
    ustk_stack_destroy(s);
}

/* Port unreachable from the peer ends up as ECONNREFUSED on the connected
 * socket: ERROR readiness, ustk_sock_error, and the next send. */
static void udp_econnrefused(void **st)
{
    (void)st;
    net_pair p;
    net_pair_init(&p, USTK_LINK_ETHERNET, NULL);
    int h = ustk_open(p.a, USTK_PROTO_UDP);
    ustk_sockaddr to = {NET_B, 9};
    assert_int_equal(ustk_connect(p.a, h, &to, p.now), 0);
    assert_int_equal(ustk_send(p.a, h, "knock", 5, p.now), 5);
    net_pair_run(&p, USTK_MS(100));
    assert_true(ustk_sock_poll(p.a, h) & USTK_ERROR);
    assert_int_equal(ustk_sock_error(p.a, h), USTK_ECONNREFUSED);
    assert_int_equal(ustk_sock_error(p.a, h), 0);
    assert_false(ustk_sock_poll(p.a, h) & USTK_ERROR);
    /* Taking the error left its details: B's own port unreachable about
     * the datagram to port 9. */
    ustk_sock_err_info e;
    memset(&e, 0xee, sizeof e);
    assert_int_equal(ustk_sock_error_info(p.a, h, &e), 0);
    assert_int_equal(e.err, USTK_ECONNREFUSED);
    assert_int_equal(e.origin, USTK_ERR_ORIGIN_ICMP);
    assert_int_equal(e.type, USTK_ICMP_DEST_UNREACH);
    assert_int_equal(e.code, USTK_ICMP_PORT_UNREACH);
    assert_int_equal(e.pointer, 0);
    assert_int_equal(e.mtu, 0);
    assert_int_equal(e.offender, NET_B);
    assert_int_equal(e.dst.addr, NET_B);
    assert_int_equal(e.dst.port, 9);
    assert_int_equal(e.echo_id, 0);
    assert_int_equal(e.echo_seq, 0);
    assert_int_equal(e.lost, 0);
    assert_int_equal(ustk_sock_error_info(p.a, h, &e), USTK_EAGAIN);
    /* Again, and this time the next send reports it (Linux does). */
    assert_int_equal(ustk_send(p.a, h, "knock", 5, p.now), 5);
    net_pair_run(&p, USTK_MS(100));
    assert_int_equal(ustk_send(p.a, h, "knock", 5, p.now), USTK_ECONNREFUSED);
    assert_int_equal(ustk_send(p.a, h, "knock", 5, p.now), 5);
    net_pair_run(&p, USTK_MS(100));
    assert_int_equal(ustk_recv(p.a, h, got, 10, p.now), USTK_ECONNREFUSED);
    assert_int_equal(ustk_recv(p.a, h, got, 10, p.now), USTK_EAGAIN);
    assert_int_equal(net_drops(p.b, USTK_DROP_UDP_NO_SOCKET), 3);
    assert_int_equal(net_stats(p.b).icmp_errors_sent, 3);
    assert_int_equal(net_stats(p.a).icmp_errors_in, 3);
    /* An unconnected socket is not told (it could not tell which
     * datagram it was about); the error is counted as unreported. */
    int u = ustk_open(p.a, USTK_PROTO_UDP);
    assert_int_equal(ustk_sendto(p.a, u, "x", 1, &to, p.now), 1);
    net_pair_run(&p, USTK_MS(100));
    assert_int_equal(ustk_sock_error(p.a, u), 0);
    assert_int_equal(net_drops(p.a, USTK_DROP_ICMP_UNREPORTED), 1);
    net_pair_fini(&p);
}

/* RFC 1122 §3.2.2: no error about a datagram to a broadcast address, or
 * one that came in a link-layer broadcast. A socket bound to "any" takes
 * broadcasts; a unicast datagram in a broadcast frame is dropped (RFC 1122
 * §3.3.6). */
static void udp_broadcast(void **st)
{
    (void)st;
    ustk_config c;
    net_cfg(&c, NET_A, USTK_LINK_ETHERNET);
    ustk_stack *s = net_stack(&c);
    net_drain(s, 0); /* the announcement */
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ustk_eth_hdr eh;
    memcpy(eh.dst, bcast, 6);
    memset(eh.src, 0x22, 6);
    eh.type = USTK_ETHERTYPE_IPV4;
    ustk_eth_emit(&eh, frame, 14);
    size_t n = net_udp(frame + 14, NET_B, USTK_IP4(10, 0, 0, 255), 68, 67,
                       "dhcp?", 5);
    assert_int_equal(ustk_input(s, 0, frame, n + 14), USTK_DROP_UDP_NO_SOCKET);
    assert_int_equal(net_take(s, 0, frame), 0);
    int h = udp_bound(s, 0, 67);
    n = net_udp(frame + 14, NET_B, USTK_IP4(10, 0, 0, 255), 68, 67, "dhcp?", 5);
    assert_int_equal(ustk_input(s, 0, frame, n + 14), 0);
    n = net_udp(frame + 14, NET_B, 0xffffffffu, 68, 67, "dhcp!", 5);
    assert_int_equal(ustk_input(s, 0, frame, n + 14), 0);
    assert_int_equal(ustk_recv(s, h, got, 10, 0), 5);
    assert_int_equal(ustk_recv(s, h, got, 10, 0), 5);
    assert_memory_equal(got, "dhcp!", 5);
    n = net_udp(frame + 14, NET_B, NET_A, 68, 67, "uni", 3);
    assert_int_equal(ustk_input(s, 0, frame, n + 14), USTK_DROP_IP_LINK_BCAST);
    /* Another host's address: not for us. */
    n = net_udp(frame + 14, NET_B, NET_C, 68, 67, "uni", 3);
    assert_int_equal(ustk_input(s, 0, frame, n + 14), USTK_DROP_IP_NOT_FOR_US);
    /* Bound to our address: no broadcasts. */
    int b = udp_bound(s, NET_A, 68);
    n = net_udp(frame + 14, NET_B, USTK_IP4(10, 0, 0, 255), 67, 68, "x", 1);
    assert_int_equal(ustk_input(s, 0, frame, n + 14), USTK_DROP_UDP_NO_SOCKET);
    assert_int_equal(ustk_recv(s, b, got, 10, 0), USTK_EAGAIN);
    assert_int_equal(net_take(s, 0, frame), 0);
    assert_int_equal(net_stats(s).icmp_errors_sent, 0);
    ustk_stack_destroy(s);
}

/* A neighbour that never answers ARP: the datagrams waiting for it are
 * lost and a socket connected to it sees EHOSTUNREACH. */
static void udp_arp_failure(void **st)
{
    (void)st;
    ustk_stack *s = net_eth_stack_arp_gives_up(NET_A);
    int h = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr to = {USTK_IP4(10, 0, 0, 99), 7};
    assert_int_equal(ustk_connect(s, h, &to, 0), 0);
    int u = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr other = {USTK_IP4(10, 0, 0, 98), 7};
    assert_int_equal(ustk_send(s, h, "a", 1, 0), 1);
    assert_int_equal(ustk_send(s, h, "b", 1, 0), 1);
    assert_int_equal(ustk_sendto(s, u, "c", 1, &other, 0), 1);
    ustk_time now = 0;
    for (;;) {
        while (net_take(s, now, frame)) {
            /* Only ARP: ethertype 0806. */
            assert_int_equal(ustk_load_be16(frame + 12), 0x0806);
        }
        if (ustk_sock_poll(s, h) & USTK_ERROR)
            break;
        ustk_time next = ustk_next_deadline(s, now);
        assert_true(next != USTK_TIME_NEVER);
        now = next;
        assert_true(now <= USTK_SEC(5));
    }
    assert_int_equal(now, USTK_MS(1500));
    assert_int_equal(ustk_sock_error(s, h), USTK_EHOSTUNREACH);
    /* Both neighbours gave up at the same time: three datagrams lost, and
     * the unconnected socket is not told. */
    assert_int_equal(net_drops(s, USTK_DROP_ARP_UNRESOLVED), 3);
    assert_int_equal(ustk_sock_error(s, u), 0);
    assert_int_equal(ustk_send(s, h, "d", 1, now), 1);
    ustk_stack_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(udp_echo_ethernet),
        cmocka_unit_test(udp_echo_ip),
        cmocka_unit_test(udp_exact_bytes),
        cmocka_unit_test(udp_zero_checksum_sent_as_ones),
        cmocka_unit_test(udp_receive_checks),
        cmocka_unit_test(udp_bind_rules),
        cmocka_unit_test(udp_misuse),
        cmocka_unit_test(udp_connected_filter),
        cmocka_unit_test(udp_receive_queue_bounds),
        cmocka_unit_test(udp_truncation),
        cmocka_unit_test(udp_output_queue),
        cmocka_unit_test(udp_readiness),
        cmocka_unit_test(udp_port_unreachable_bytes),
        cmocka_unit_test(udp_econnrefused),
        cmocka_unit_test(udp_broadcast),
        cmocka_unit_test(udp_arp_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
