/* 127.0.0.0/8 is this host (RFC 1122 §3.2.1.3: loopback addresses "MUST
 * NOT appear outside a host"), as on Linux: TCP, UDP and ping to any
 * 127.x.y.z go through the loopback queue and never reach the link, from
 * the destination's own address when the socket is bound to none; a
 * listener bound to "any" takes such connections, one bound to our
 * configured address does not; sockets can be bound to a 127/8 address
 * and then reach only this host; 127.255.255.255 is a broadcast. From a
 * link, a loopback source or destination is dropped and counted, ARP
 * included, and the last check before the link drops whatever a bug
 * might send there with one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/stack_priv.h"
#include "net_util.h"
#include "wire/arp.h"
#include "wire/tcp.h"

#define LO_1 USTK_IP4(127, 0, 0, 1)
#define LO_X USTK_IP4(127, 1, 2, 3)
#define GW USTK_IP4(10, 0, 0, 254)

static uint8_t frame[NET_FRAME];
static uint8_t out_a[300000], out_b[300000], in_a[300000], in_b[300000];

/* A stack at 10.0.0.1/24 with a default route: before 127/8 meant this
 * host, a packet to it went to the gateway (an ARP request for it on
 * Ethernet, the packet itself on raw IP). */
static ustk_stack *stack_on(ustk_link_kind link)
{
    ustk_config c;
    net_cfg(&c, NET_A, link);
    c.prefix_len = 24;
    c.gateway = GW;
    ustk_stack *s = net_stack(&c);
    net_drain(s, 0); /* the gratuitous ARP of a new stack */
    return s;
}

static void run(ustk_stack *s, ustk_time *now, ustk_time until)
{
    net_run_alone(s, now, until, false);
}

/* Accept a connection on listener l, whose peer is from, and send two
 * bytes from the accepted end to client c. Returns the accepted handle. */
static int accept_and_reply(ustk_stack *s, ustk_time *now, int l, int c,
                            ustk_ip4 from)
{
    ustk_sockaddr peer;
    int a = ustk_accept(s, l, &peer);
    assert_true(a >= 0);
    assert_int_equal(peer.addr, from);
    assert_int_equal(ustk_send(s, a, "hi", 2, *now), 2);
    run(s, now, *now);
    uint8_t got[4];
    assert_int_equal(ustk_recv(s, c, got, sizeof got, *now), 2);
    assert_memory_equal(got, "hi", 2);
    return a;
}

/* A TCP connection to dst (in 127/8) through a listener bound to "any":
 * 250,000 bytes each way at once, checked by hash; the addresses both
 * ends see are dst's; then both close and nothing remains. */
static void tcp_exchange(ustk_link_kind link, ustk_ip4 dst)
{
    ustk_stack *s = stack_on(link);
    uint64_t frames0 = net_stats(s).frames_out;
    ustk_time now = 0;
    int l = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr any = {0, 80};
    assert_int_equal(ustk_bind(s, l, &any), 0);
    assert_int_equal(ustk_listen(s, l, 4), 0);
    int c = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr to = {dst, 80};
    assert_int_equal(ustk_connect(s, c, &to, now), USTK_EINPROGRESS);
    run(s, &now, now);
    assert_int_equal(now, 0); /* no ARP, no timer waited for */
    assert_true(ustk_sock_poll(s, c) & USTK_WRITABLE);
    ustk_sockaddr peer, name;
    int a = ustk_accept(s, l, &peer);
    assert_true(a >= 0);
    /* The source is the destination's own address (ustk__ip_src). */
    assert_int_equal(ustk_getsockname(s, c, &name), 0);
    assert_int_equal(name.addr, dst);
    assert_int_equal(peer.addr, dst);
    assert_int_equal(peer.port, name.port);
    assert_int_equal(ustk_getsockname(s, a, &name), 0);
    assert_int_equal(name.addr, dst);
    assert_int_equal(name.port, 80);

    size_t total = 250000, sent_a = 0, sent_b = 0, got_a = 0, got_b = 0;
    net_fill(out_a, total, dst);
    net_fill(out_b, total, dst + 1);
    for (int i = 0; i < 100000 && (got_a < total || got_b < total); i++) {
        ptrdiff_t n;
        if (sent_a < total &&
            (n = ustk_send(s, c, out_a + sent_a, total - sent_a, now)) > 0)
            sent_a += (size_t)n;
        if (sent_b < total &&
            (n = ustk_send(s, a, out_b + sent_b, total - sent_b, now)) > 0)
            sent_b += (size_t)n;
        while ((n = ustk_recv(s, c, in_a + got_a, total - got_a, now)) > 0)
            got_a += (size_t)n;
        while ((n = ustk_recv(s, a, in_b + got_b, total - got_b, now)) > 0)
            got_b += (size_t)n;
        run(s, &now, now);
    }
    assert_int_equal(got_a, total);
    assert_int_equal(got_b, total);
    assert_true(net_fnv(in_b, total) == net_fnv(out_a, total));
    assert_true(net_fnv(in_a, total) == net_fnv(out_b, total));
    assert_int_equal(net_all_drops(s), 0);
    ustk_tcp_info ti;
    assert_int_equal(ustk_tcp_info_get(s, c, &ti), 0);
    assert_int_equal(ti.retransmits, 0);

    assert_int_equal(ustk_close(s, c, now), 0);
    run(s, &now, now);
    assert_int_equal(ustk_recv(s, a, in_a, 1, now), 0);
    assert_int_equal(ustk_close(s, a, now), 0);
    assert_int_equal(ustk_close(s, l, now), 0);
    run(s, &now, USTK_TIME_NEVER - 1);
    assert_int_equal(net_stats(s).tcp_connections, 0);
    assert_int_equal(net_stats(s).tcp_time_wait, 0);
    /* Not one frame on the link, and no ARP entry made for anything. */
    assert_int_equal(net_stats(s).frames_out, frames0);
    assert_int_equal(net_stats(s).arp_requests_sent,
                     link == USTK_LINK_ETHERNET);
    ustk_stack_destroy(s);
}

static void tcp_127_0_0_1_eth(void **st)
{
    (void)st;
    tcp_exchange(USTK_LINK_ETHERNET, LO_1);
}

static void tcp_127_1_2_3_eth(void **st)
{
    (void)st;
    tcp_exchange(USTK_LINK_ETHERNET, LO_X);
}

static void tcp_127_0_0_1_ip(void **st)
{
    (void)st;
    tcp_exchange(USTK_LINK_IP, LO_1);
}

static void tcp_127_1_2_3_ip(void **st)
{
    (void)st;
    tcp_exchange(USTK_LINK_IP, LO_X);
}

/* A listener bound to our configured address does not take a connection
 * to 127/8 (Linux: the local address must match): the SYN is answered by
 * a RST, through the loopback queue, and connect() fails. The same
 * listener takes a connection to its own address. A client bound to our
 * address keeps it as its source when it connects to 127/8, as on
 * Linux. */
static void bound_listener_and_source(void **st)
{
    (void)st;
    ustk_stack *s = stack_on(USTK_LINK_ETHERNET);
    ustk_time now = 0;
    int l = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr mine = {NET_A, 80};
    assert_int_equal(ustk_bind(s, l, &mine), 0);
    assert_int_equal(ustk_listen(s, l, 4), 0);
    int c = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr to = {LO_1, 80};
    assert_int_equal(ustk_connect(s, c, &to, now), USTK_EINPROGRESS);
    run(s, &now, now);
    assert_int_equal(ustk_sock_error(s, c), USTK_ECONNREFUSED);
    assert_int_equal(net_drops(s, USTK_DROP_TCP_NO_SOCKET), 1);
    assert_int_equal(net_stats(s).tcp_resets_sent, 1);
    assert_int_equal(ustk_accept(s, l, NULL), USTK_EAGAIN);

    /* A listener on "any" at another port; a client bound to NET_A. */
    int w = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr any = {0, 81};
    assert_int_equal(ustk_bind(s, w, &any), 0);
    assert_int_equal(ustk_listen(s, w, 4), 0);
    int b = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr from = {NET_A, 0};
    assert_int_equal(ustk_bind(s, b, &from), 0);
    to.port = 81;
    assert_int_equal(ustk_connect(s, b, &to, now), USTK_EINPROGRESS);
    run(s, &now, now);
    assert_true(ustk_sock_poll(s, b) & USTK_WRITABLE);
    ustk_sockaddr name;
    int a = accept_and_reply(s, &now, w, b, NET_A);
    assert_int_equal(ustk_getsockname(s, a, &name), 0);
    assert_int_equal(name.addr, LO_1);

    /* The bound listener still takes connections to its own address. */
    int d = ustk_open(s, USTK_PROTO_TCP);
    to.addr = NET_A;
    to.port = 80;
    assert_int_equal(ustk_connect(s, d, &to, now), USTK_EINPROGRESS);
    run(s, &now, now);
    assert_true(ustk_sock_poll(s, d) & USTK_WRITABLE);
    assert_true(ustk_accept(s, l, NULL) >= 0);
    assert_int_equal(net_stats(s).frames_out, 1); /* the gratuitous ARP */
    ustk_stack_destroy(s);
}

/* Sockets bound to a 127/8 address (as on Linux): a listener there takes
 * connections to that address only, beside one on our own address and
 * the same port; a client bound there reaches this host's addresses, and
 * for anything else connect() and sendto() fail at once with EINVAL
 * (Linux: a loopback source on a route that is not lo's), since such a
 * packet could never leave the host. A UDP socket bound there hears what
 * is sent to that address, and not what is sent to ours. The loopback
 * network's broadcast cannot be bound. Not one frame reaches the link. */
static void bound_to_127(void **st)
{
    (void)st;
    ustk_stack *s = stack_on(USTK_LINK_ETHERNET);
    ustk_time now = 0;
    ustk_sockaddr lo80 = {LO_1, 80}, mine80 = {NET_A, 80}, name, peer;
    int l = ustk_open(s, USTK_PROTO_TCP), m = ustk_open(s, USTK_PROTO_TCP);
    assert_int_equal(ustk_bind(s, l, &lo80), 0);
    assert_int_equal(ustk_listen(s, l, 4), 0);
    /* Alone, it does not take a connection to our address. */
    int r = ustk_open(s, USTK_PROTO_TCP);
    assert_int_equal(ustk_connect(s, r, &mine80, now), USTK_EINPROGRESS);
    run(s, &now, now);
    assert_int_equal(ustk_sock_error(s, r), USTK_ECONNREFUSED);
    assert_int_equal(ustk_bind(s, m, &mine80), 0);
    assert_int_equal(ustk_listen(s, m, 4), 0);
    /* The address or "any" on a port taken, in either order. */
    int dup = ustk_open(s, USTK_PROTO_TCP), dup2 = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr any80 = {0, 80}, any81 = {0, 81}, lo81 = {LO_1, 81};
    assert_int_equal(ustk_bind(s, dup, &lo80), USTK_EADDRINUSE);
    assert_int_equal(ustk_bind(s, dup, &any80), USTK_EADDRINUSE);
    assert_int_equal(ustk_bind(s, dup, &any81), 0);
    assert_int_equal(ustk_bind(s, dup2, &lo81), USTK_EADDRINUSE);
    ustk_sockaddr bc = {USTK_IP4(127, 255, 255, 255), 80};
    assert_int_equal(ustk_bind(s, dup2, &bc), USTK_EADDRNOTAVAIL);

    /* To 127.0.0.1: the listener bound there. To our address: the
     * other. */
    int c = ustk_open(s, USTK_PROTO_TCP), d = ustk_open(s, USTK_PROTO_TCP);
    assert_int_equal(ustk_connect(s, c, &lo80, now), USTK_EINPROGRESS);
    assert_int_equal(ustk_connect(s, d, &mine80, now), USTK_EINPROGRESS);
    run(s, &now, now);
    assert_true(ustk_sock_poll(s, c) & USTK_WRITABLE);
    assert_true(ustk_sock_poll(s, d) & USTK_WRITABLE);
    int a = ustk_accept(s, l, &peer);
    assert_true(a >= 0);
    assert_int_equal(peer.addr, LO_1);
    assert_int_equal(ustk_getsockname(s, a, &name), 0);
    assert_int_equal(name.addr, LO_1);
    assert_int_equal(ustk_accept(s, l, NULL), USTK_EAGAIN);
    int am = ustk_accept(s, m, &peer);
    assert_true(am >= 0);
    assert_int_equal(peer.addr, NET_A);

    /* Another loopback address finds no listener: RST, ECONNREFUSED. */
    int e = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr lo2 = {USTK_IP4(127, 0, 0, 2), 80};
    assert_int_equal(ustk_connect(s, e, &lo2, now), USTK_EINPROGRESS);
    run(s, &now, now);
    assert_int_equal(ustk_sock_error(s, e), USTK_ECONNREFUSED);

    /* A client bound to 127.0.0.1 reaches our own address; a host on
     * the link, never. */
    int f = ustk_open(s, USTK_PROTO_TCP), g = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr lo_any = {LO_1, 0}, there = {NET_B, 80};
    assert_int_equal(ustk_bind(s, f, &lo_any), 0);
    assert_int_equal(ustk_bind(s, g, &lo_any), 0);
    assert_int_equal(ustk_connect(s, g, &there, now), USTK_EINVAL);
    assert_int_equal(ustk_connect(s, f, &mine80, now), USTK_EINPROGRESS);
    run(s, &now, now);
    assert_true(ustk_sock_poll(s, f) & USTK_WRITABLE);
    accept_and_reply(s, &now, m, f, LO_1);

    /* UDP bound to 127.0.0.1:53. */
    int u = ustk_open(s, USTK_PROTO_UDP), q = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr lo53 = {LO_1, 53}, mine53 = {NET_A, 53}, from;
    uint8_t got[4];
    assert_int_equal(ustk_bind(s, u, &lo53), 0);
    assert_int_equal(ustk_sendto(s, q, "a", 1, &lo53, now), 1);
    assert_int_equal(ustk_sendto(s, q, "b", 1, &mine53, now), 1);
    run(s, &now, now);
    assert_int_equal(ustk_recvfrom(s, u, got, sizeof got, &from, now), 1);
    assert_int_equal(got[0], 'a');
    assert_int_equal(from.addr, LO_1);
    assert_int_equal(ustk_recv(s, u, got, sizeof got, now), USTK_EAGAIN);
    assert_int_equal(net_drops(s, USTK_DROP_UDP_NO_SOCKET), 1);
    ustk_sockaddr there53 = {NET_B, 53};
    assert_int_equal(ustk_sendto(s, u, "c", 1, &there53, now), USTK_EINVAL);
    assert_int_equal(ustk_connect(s, u, &there53, now), USTK_EINVAL);
    /* It answers a socket on our address, from its own. */
    int w = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr mine54 = {NET_A, 54};
    assert_int_equal(ustk_bind(s, w, &mine54), 0);
    assert_int_equal(ustk_sendto(s, u, "d", 1, &mine54, now), 1);
    run(s, &now, now);
    assert_int_equal(ustk_recvfrom(s, w, got, sizeof got, &from, now), 1);
    assert_int_equal(got[0], 'd');
    assert_int_equal(from.addr, LO_1);
    assert_int_equal(from.port, 53);

    assert_int_equal(net_drops(s, USTK_DROP_TX_LOOPBACK), 0);
    assert_int_equal(net_stats(s).frames_out, 1); /* the gratuitous ARP */
    ustk_stack_destroy(s);
}

/* A ping socket bound to 127.0.0.1: its echoes to 127.0.0.1 are answered;
 * to a host on the link it cannot send (EINVAL). An ICMP error from the
 * link that quotes an echo request with its identifier from our address
 * is about no datagram of its (a forgery, or another socket's): dropped,
 * and the socket has no error. The same for a UDP socket bound there,
 * connected to our address. */
static void bound_to_127_errors(void **st)
{
    (void)st;
    ustk_stack *s = stack_on(USTK_LINK_IP);
    ustk_time now = 0;
    int p = ustk_open(s, USTK_PROTO_ICMP), u = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr lo_id = {LO_1, 0x77}, lo53 = {LO_1, 53}, there = {NET_B, 0};
    ustk_sockaddr mine54 = {NET_A, 54}, from;
    assert_int_equal(ustk_bind(s, p, &lo_id), 0);
    assert_int_equal(ustk_bind(s, u, &lo53), 0);
    assert_int_equal(ustk_connect(s, u, &mine54, now), 0);
    uint8_t req[8 + 8] = {8, 0, 0, 0, 0, 0, 0, 1, 'p', 'i', 'n', 'g'}, got[32];
    ustk_sockaddr to = {LO_1, 0};
    assert_int_equal(ustk_sendto(s, p, req, sizeof req, &there, now),
                     USTK_EINVAL);
    assert_int_equal(ustk_sendto(s, p, req, sizeof req, &to, now),
                     (ptrdiff_t)sizeof req);
    run(s, &now, now);
    assert_int_equal(ustk_recvfrom(s, p, got, sizeof got, &from, now),
                     (ptrdiff_t)sizeof req);
    assert_int_equal(got[0], 0); /* echo reply */
    assert_int_equal(from.addr, LO_1);

    uint8_t inner[64];
    const uint8_t echo[8] = {8, 0, 0, 0, 0, 0x77, 0, 1};
    size_t in = net_ip(inner, NET_A, NET_B, USTK_IP_PROTO_ICMP, 1, 0, echo, 8);
    size_t n = net_icmp(frame, NET_B, NET_A, USTK_ICMP_DEST_UNREACH,
                        USTK_ICMP_HOST_UNREACH, 0, inner, in);
    assert_int_equal(ustk_input(s, now, frame, n), USTK_DROP_ICMP_NO_MATCH);
    const uint8_t udp[8] = {0, 53, 0, 54, 0, 8, 0, 0};
    in = net_ip(inner, NET_A, NET_A, USTK_IP_PROTO_UDP, 2, 0, udp, 8);
    n = net_icmp(frame, NET_B, NET_A, USTK_ICMP_DEST_UNREACH,
                 USTK_ICMP_PORT_UNREACH, 0, inner, in);
    assert_int_equal(ustk_input(s, now, frame, n), USTK_DROP_ICMP_NO_MATCH);
    assert_int_equal(ustk_sock_error(s, p), 0);
    assert_int_equal(ustk_sock_error(s, u), 0);
    assert_int_equal(net_stats(s).frames_out, 0);
    ustk_stack_destroy(s);
}

/* UDP to 127/8: unconnected and connected sockets, the answer from the
 * address the datagram went to, fragments reassembled, a closed port
 * answered by port unreachable (an ICMP error through the loopback queue:
 * ECONNREFUSED), 127.0.0.0 an address like the others (as on Linux), and
 * 127.255.255.255 a broadcast (EACCES without SO_BROADCAST). */
static void udp_to_127(void **st)
{
    (void)st;
    ustk_stack *s = stack_on(USTK_LINK_ETHERNET);
    ustk_time now = 0;
    int srv = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr any = {0, 7};
    assert_int_equal(ustk_bind(s, srv, &any), 0);
    int cli = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr to = {LO_X, 7}, from, name;
    net_fill(out_a, 4000, 9);
    assert_int_equal(ustk_sendto(s, cli, out_a, 4000, &to, now), 4000);
    run(s, &now, now);
    assert_int_equal(ustk_recvfrom(s, srv, in_a, sizeof in_a, &from, now),
                     4000);
    assert_true(net_fnv(in_a, 4000) == net_fnv(out_a, 4000));
    assert_int_equal(net_stats(s).ip_reassembled, 1);
    assert_int_equal(from.addr, LO_X);
    assert_int_equal(ustk_getsockname(s, cli, &name), 0);
    assert_int_equal(from.port, name.port);
    assert_int_equal(ustk_sendto(s, srv, "back", 4, &from, now), 4);
    run(s, &now, now);
    assert_int_equal(ustk_recvfrom(s, cli, in_a, sizeof in_a, &from, now), 4);
    assert_memory_equal(in_a, "back", 4);
    assert_int_equal(from.addr, LO_X);
    assert_int_equal(from.port, 7);

    /* Connected to 127.0.0.1: the source is 127.0.0.1, and the answer
     * passes the connected socket's filter. */
    int con = ustk_open(s, USTK_PROTO_UDP);
    to.addr = LO_1;
    assert_int_equal(ustk_connect(s, con, &to, now), 0);
    assert_int_equal(ustk_getsockname(s, con, &name), 0);
    assert_int_equal(name.addr, LO_1);
    assert_int_equal(ustk_send(s, con, "q", 1, now), 1);
    run(s, &now, now);
    assert_int_equal(ustk_recvfrom(s, srv, in_a, sizeof in_a, &from, now), 1);
    assert_int_equal(from.addr, LO_1);
    assert_int_equal(ustk_sendto(s, srv, "a", 1, &from, now), 1);
    run(s, &now, now);
    assert_int_equal(ustk_recv(s, con, in_a, sizeof in_a, now), 1);

    /* 127.0.0.0 is this host too. */
    to.addr = USTK_IP4(127, 0, 0, 0);
    assert_int_equal(ustk_sendto(s, cli, "z", 1, &to, now), 1);
    run(s, &now, now);
    assert_int_equal(ustk_recvfrom(s, srv, in_a, sizeof in_a, &from, now), 1);
    assert_int_equal(from.addr, USTK_IP4(127, 0, 0, 0));

    /* A closed port. */
    int lone = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr closed = {LO_X, 9};
    assert_int_equal(ustk_connect(s, lone, &closed, now), 0);
    assert_int_equal(ustk_send(s, lone, "x", 1, now), 1);
    run(s, &now, now);
    assert_int_equal(ustk_sock_error(s, lone), USTK_ECONNREFUSED);
    assert_int_equal(net_stats(s).icmp_errors_sent, 1);
    assert_int_equal(net_drops(s, USTK_DROP_UDP_NO_SOCKET), 1);

    /* The loopback network's broadcast. */
    ustk_sockaddr bc = {USTK_IP4(127, 255, 255, 255), 7};
    assert_int_equal(ustk_sendto(s, cli, "b", 1, &bc, now), USTK_EACCES);
    assert_int_equal(ustk_connect(s, lone, &bc, now), USTK_EACCES);
    int t = ustk_open(s, USTK_PROTO_TCP);
    assert_int_equal(ustk_connect(s, t, &bc, now), USTK_ENETUNREACH);

    assert_int_equal(net_all_drops(s), 1);
    assert_int_equal(net_stats(s).frames_out, 1); /* the gratuitous ARP */
    ustk_stack_destroy(s);
}

/* Echo requests to 127/8 are answered from the address they went to. */
static void ping_127(void **st)
{
    (void)st;
    const ustk_ip4 dsts[] = {LO_1, USTK_IP4(127, 9, 8, 7)};
    ustk_stack *s = stack_on(USTK_LINK_IP);
    ustk_time now = 0;
    int p = ustk_open(s, USTK_PROTO_ICMP);
    for (size_t i = 0; i < 2; i++) {
        uint8_t req[8 + 56] = {8, 0, 0, 0, 0, 0, 0, (uint8_t)(i + 1)};
        net_fill(req + 8, 56, (uint32_t)i);
        ustk_sockaddr to = {dsts[i], 0}, from;
        assert_int_equal(ustk_sendto(s, p, req, sizeof req, &to, now),
                         (ptrdiff_t)sizeof req);
        run(s, &now, now);
        uint8_t got[128];
        assert_int_equal(ustk_recvfrom(s, p, got, sizeof got, &from, now),
                         (ptrdiff_t)sizeof req);
        assert_int_equal(from.addr, dsts[i]);
        assert_int_equal(got[0], 0); /* echo reply */
        assert_int_equal(got[7], i + 1);
        assert_memory_equal(got + 8, req + 8, 56);
    }
    assert_int_equal(net_stats(s).icmp_echo_requests, 2);
    assert_int_equal(net_stats(s).icmp_echo_replies_in, 2);
    assert_int_equal(net_stats(s).frames_out, 0);
    assert_int_equal(net_all_drops(s), 0);
    ustk_stack_destroy(s);
}

/* A SYN to dst:80 from src:1000, as a raw IP packet. */
static size_t syn(uint8_t *buf, ustk_ip4 src, ustk_ip4 dst)
{
    ustk_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.sport = 1000;
    h.dport = 80;
    h.seq = 12345;
    h.flags = USTK_TCP_SYN;
    h.wnd = 65535;
    size_t n = ustk_tcp_emit(&h, NULL, 0, src, dst, buf + 20, NET_FRAME - 20);
    assert_int_equal(n, 20);
    return net_ip(buf, src, dst, USTK_IP_PROTO_TCP, 1, USTK_IPV4_DF, buf + 20,
                  n);
}

/* From a link, a loopback destination or source is dropped and counted,
 * whatever socket would take it, and nothing answers it. */
static void from_link_dropped(void **st)
{
    (void)st;
    static const uint8_t msg[4] = {1, 2, 3, 4};
    ustk_stack *s = stack_on(USTK_LINK_IP);
    int u = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr any = {0, 7};
    assert_int_equal(ustk_bind(s, u, &any), 0);
    int l = ustk_open(s, USTK_PROTO_TCP);
    any.port = 80;
    assert_int_equal(ustk_bind(s, l, &any), 0);
    assert_int_equal(ustk_listen(s, l, 4), 0);

    const ustk_ip4 dsts[] = {LO_1, LO_X};
    for (size_t i = 0; i < 2; i++) {
        size_t n = net_udp(frame, NET_B, dsts[i], 53, 7, msg, sizeof msg);
        assert_int_equal(ustk_input(s, 1, frame, n),
                         USTK_DROP_IP_DST_LOOPBACK);
        n = net_icmp(frame, NET_B, dsts[i], USTK_ICMP_ECHO_REQUEST, 0,
                     0x00010001, msg, sizeof msg);
        assert_int_equal(ustk_input(s, 1, frame, n),
                         USTK_DROP_IP_DST_LOOPBACK);
        n = syn(frame, NET_B, dsts[i]);
        assert_int_equal(ustk_input(s, 1, frame, n),
                         USTK_DROP_IP_DST_LOOPBACK);
    }
    /* A loopback source, to us or to another loopback address. */
    size_t n = syn(frame, LO_1, NET_A);
    assert_int_equal(ustk_input(s, 1, frame, n), USTK_DROP_IP_SRC);
    n = syn(frame, LO_X, LO_X);
    assert_int_equal(ustk_input(s, 1, frame, n), USTK_DROP_IP_SRC);
    n = net_udp(frame, LO_1, LO_1, 53, 7, msg, sizeof msg);
    assert_int_equal(ustk_input(s, 1, frame, n), USTK_DROP_IP_SRC);

    assert_int_equal(net_drops(s, USTK_DROP_IP_DST_LOOPBACK), 6);
    assert_int_equal(net_drops(s, USTK_DROP_IP_SRC), 3);
    assert_int_equal(net_all_drops(s), 9);
    assert_int_equal(net_take(s, 1, frame), 0);
    assert_int_equal(ustk_recv(s, u, frame, 8, 1), USTK_EAGAIN);
    assert_int_equal(ustk_accept(s, l, NULL), USTK_EAGAIN);
    assert_int_equal(net_stats(s).tcp_connections, 1); /* the listener */
    assert_int_equal(net_stats(s).frames_out, 0);
    ustk_stack_destroy(s);
}

/* An Ethernet frame to our MAC with an ARP packet from spa for tpa. */
static size_t arp_frame(uint8_t *buf, uint16_t op, ustk_ip4 spa, ustk_ip4 tpa)
{
    ustk_eth_hdr eh;
    memset(&eh, 0, sizeof(eh));
    memset(eh.dst, 0xff, 6);
    eh.src[0] = 0x02;
    eh.src[5] = 0x77;
    eh.type = USTK_ETHERTYPE_ARP;
    assert_int_equal(ustk_eth_emit(&eh, buf, USTK_ETH_HDR_LEN),
                     USTK_ETH_HDR_LEN);
    ustk_arp_pkt a;
    memset(&a, 0, sizeof(a));
    a.op = op;
    memcpy(a.sha, eh.src, 6);
    a.spa = spa;
    a.tpa = tpa;
    assert_int_equal(ustk_arp_emit(&a, buf + USTK_ETH_HDR_LEN, USTK_ARP_LEN),
                     USTK_ARP_LEN);
    return USTK_ETH_HDR_LEN + USTK_ARP_LEN;
}

/* ARP with a loopback sender or target is dropped and never answered (a
 * reply would carry the address onto the link); an IPv4 packet to 127/8
 * in an Ethernet frame to our MAC is dropped as on raw IP. */
static void arp_and_eth_dropped(void **st)
{
    (void)st;
    ustk_stack *s = stack_on(USTK_LINK_ETHERNET);
    uint64_t frames0 = net_stats(s).frames_out;
    size_t n = arp_frame(frame, USTK_ARP_REQUEST, LO_1, NET_A);
    assert_int_equal(ustk_input(s, 1, frame, n), USTK_DROP_ARP_LOOPBACK);
    n = arp_frame(frame, USTK_ARP_REPLY, LO_X, NET_A);
    assert_int_equal(ustk_input(s, 1, frame, n), USTK_DROP_ARP_LOOPBACK);
    n = arp_frame(frame, USTK_ARP_REQUEST, NET_B, LO_1);
    assert_int_equal(ustk_input(s, 1, frame, n), USTK_DROP_ARP_LOOPBACK);
    assert_int_equal(net_take(s, 1, frame), 0);
    assert_int_equal(net_stats(s).arp_replies_sent, 0);

    /* The same request from a real neighbour is answered. */
    n = arp_frame(frame, USTK_ARP_REQUEST, NET_B, NET_A);
    assert_int_equal(ustk_input(s, 1, frame, n), 0);
    assert_int_equal(net_stats(s).arp_replies_sent, 1);
    assert_true(net_take(s, 1, frame) > 0);

    static const uint8_t msg[4] = {1, 2, 3, 4};
    uint8_t *ip = frame + USTK_ETH_HDR_LEN;
    n = net_udp(ip, NET_B, LO_1, 53, 7, msg, sizeof msg);
    ustk_eth_hdr eh;
    memcpy(eh.dst, ustk_stack_config(s)->mac, 6);
    memset(eh.src, 0x02, 6);
    eh.type = USTK_ETHERTYPE_IPV4;
    ustk_eth_emit(&eh, frame, USTK_ETH_HDR_LEN);
    assert_int_equal(ustk_input(s, 1, frame, USTK_ETH_HDR_LEN + n),
                     USTK_DROP_IP_DST_LOOPBACK);
    assert_int_equal(net_drops(s, USTK_DROP_ARP_LOOPBACK), 3);
    assert_int_equal(net_all_drops(s), 4);
    assert_int_equal(net_take(s, 1, frame), 0);
    assert_int_equal(net_stats(s).frames_out, frames0 + 1);
    ustk_stack_destroy(s);
}

/* The last check before the link: a packet with a loopback source or
 * destination that something put on the way to a neighbour is dropped
 * and counted (TX_LOOPBACK), on raw IP before it is handed out and on
 * Ethernet before ARP is asked. Nothing in the stack builds one; the test
 * puts them on the control queue by hand. */
static void last_check_before_link(ustk_link_kind link)
{
    ustk_stack *s = stack_on(link);
    uint64_t frames0 = net_stats(s).frames_out;
    static const uint8_t msg[4] = {1, 2, 3, 4};
    /* A loopback source, routed to NET_B on the link. */
    uint8_t *p = ustk__ctl_ip_begin(s);
    assert_non_null(p);
    size_t n = net_udp(p, LO_1, NET_B, 7, 7, msg, sizeof msg);
    ustk__ctl_ip_commit(s, (uint32_t)n, NET_B);
    /* A loopback destination with a neighbour as the next hop. */
    p = ustk__ctl_ip_begin(s);
    assert_non_null(p);
    n = net_udp(p, NET_A, LO_X, 7, 7, msg, sizeof msg);
    ustk__ctl_ip_commit(s, (uint32_t)n, LO_X);
    s->ctl.v[(s->ctl.head + 1) % s->ctl.cap].next_hop = GW;
    assert_int_equal(net_take(s, 1, frame), 0);
    assert_int_equal(net_drops(s, USTK_DROP_TX_LOOPBACK), 2);
    assert_int_equal(net_all_drops(s), 2);
    assert_int_equal(net_stats(s).frames_out, frames0);
    assert_int_equal(net_stats(s).arp_requests_sent,
                     link == USTK_LINK_ETHERNET);
    assert_int_equal(ustk_next_deadline(s, 1), USTK_TIME_NEVER);
    ustk_stack_destroy(s);
}

static void last_check_eth(void **st)
{
    (void)st;
    last_check_before_link(USTK_LINK_ETHERNET);
}

static void last_check_ip(void **st)
{
    (void)st;
    last_check_before_link(USTK_LINK_IP);
}

/* Routing: 127/8 is this host whatever the table says; a route into it
 * or through a gateway in it is refused, and so is a config that puts
 * the interface or its gateway there. */
static void routes_and_config(void **st)
{
    (void)st;
    ustk_stack *s = stack_on(USTK_LINK_ETHERNET);
    ustk_ip4 hop = 0;
    assert_int_equal(ustk_route_lookup(s, LO_1, &hop), 0);
    assert_int_equal(hop, LO_1);
    assert_int_equal(ustk_route_lookup(s, LO_X, &hop), 0);
    assert_int_equal(hop, LO_X);
    assert_int_equal(ustk_route_lookup(s, NET_B, &hop), 0);
    assert_int_equal(hop, NET_B);
    assert_int_equal(ustk_route_add(s, USTK_IP4(127, 0, 0, 0), 8, 0),
                     USTK_EINVAL);
    assert_int_equal(ustk_route_add(s, USTK_IP4(127, 1, 0, 0), 16, GW),
                     USTK_EINVAL);
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 9, 0, 0), 16, LO_1),
                     USTK_EINVAL);
    assert_int_equal(ustk_route_add(s, USTK_IP4(10, 9, 0, 0), 16, GW), 0);
    ustk_stack_destroy(s);

    ustk_config c;
    net_cfg(&c, LO_1, USTK_LINK_IP);
    ustk_stack *bad = NULL;
    assert_int_equal(ustk_stack_create(&bad, &c, 0), USTK_EINVAL);
    assert_null(bad);
    net_cfg(&c, NET_A, USTK_LINK_IP);
    c.prefix_len = 24;
    c.gateway = LO_1;
    assert_int_equal(ustk_stack_create(&bad, &c, 0), USTK_EINVAL);
    assert_null(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tcp_127_0_0_1_eth),
        cmocka_unit_test(tcp_127_1_2_3_eth),
        cmocka_unit_test(tcp_127_0_0_1_ip),
        cmocka_unit_test(tcp_127_1_2_3_ip),
        cmocka_unit_test(bound_listener_and_source),
        cmocka_unit_test(bound_to_127),
        cmocka_unit_test(bound_to_127_errors),
        cmocka_unit_test(udp_to_127),
        cmocka_unit_test(ping_127),
        cmocka_unit_test(from_link_dropped),
        cmocka_unit_test(arp_and_eth_dropped),
        cmocka_unit_test(last_check_eth),
        cmocka_unit_test(last_check_ip),
        cmocka_unit_test(routes_and_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
