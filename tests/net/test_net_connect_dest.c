/* Where a connection cannot go: connect() to a broadcast address, a
 * multicast group, "this host" or a class E address fails at once with the
 * error Linux gives, sends nothing (no ARP for an address nobody answers
 * for) and leaves the socket as it was. UDP keeps its own answers
 * (EACCES for a broadcast without SO_BROADCAST, as on Linux). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net_util.h"

static uint8_t frame[NET_FRAME];

/* An Ethernet stack at 10.0.0.1/24 with a gateway, so that a multicast or
 * class E address would otherwise go to the gateway's ARP entry. */
static ustk_stack *eth_stack(void)
{
    ustk_config c;
    net_cfg(&c, NET_A, USTK_LINK_ETHERNET);
    c.prefix_len = 24;
    c.gateway = USTK_IP4(10, 0, 0, 254);
    ustk_stack *s = net_stack(&c);
    net_drain(s, 0); /* the gratuitous ARP of a new stack */
    return s;
}

static void refused(ustk_stack *s, ustk_ip4 addr, int want)
{
    int h = ustk_open(s, USTK_PROTO_TCP);
    assert_true(h >= 0);
    ustk_sockaddr to = {addr, 80};
    assert_int_equal(ustk_connect(s, h, &to, 0), want);
    /* Nothing went out, nothing waits, and nothing changed. */
    assert_int_equal(net_take(s, 0, frame), 0);
    assert_int_equal(ustk_next_deadline(s, 0), USTK_TIME_NEVER);
    assert_int_equal(ustk_sock_poll(s, h), 0);
    ustk_sockaddr peer;
    assert_int_equal(ustk_getpeername(s, h, &peer), USTK_ENOTCONN);
    /* The socket can still connect where a connection can go. */
    to.addr = NET_B;
    assert_int_equal(ustk_connect(s, h, &to, 0), USTK_EINPROGRESS);
    assert_int_equal(ustk_abort(s, h, 0), 0);
    net_drain(s, 0);
    assert_int_equal(net_stats(s).tcp_connections, 0);
}

/* Linux's tcp_v4_connect(): a route that is broadcast or multicast is
 * ENETUNREACH. */
static void tcp_broadcast_and_multicast(void **st)
{
    (void)st;
    ustk_stack *s = eth_stack();
    refused(s, 0xffffffffu, USTK_ENETUNREACH);
    refused(s, USTK_IP4(10, 0, 0, 255), USTK_ENETUNREACH);
    /* RFC 1122 §3.3.6: the all-zeros host part is a broadcast too. */
    refused(s, USTK_IP4(10, 0, 0, 0), USTK_ENETUNREACH);
    refused(s, USTK_IP4(224, 0, 0, 1), USTK_ENETUNREACH);
    refused(s, USTK_IP4(239, 255, 255, 250), USTK_ENETUNREACH);
    assert_int_equal(net_stats(s).tcp_active_opens, 5);
    ustk_stack_destroy(s);
}

/* Class E is reserved and what comes from it is dropped: no answer could
 * arrive (UDP says EINVAL too). Port 0 is no port. */
static void tcp_reserved(void **st)
{
    (void)st;
    ustk_stack *s = eth_stack();
    refused(s, USTK_IP4(240, 0, 0, 1), USTK_EINVAL);
    int h = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr to = {NET_B, 0};
    assert_int_equal(ustk_connect(s, h, &to, 0), USTK_EINVAL);
    assert_int_equal(net_take(s, 0, frame), 0);
    ustk_stack_destroy(s);
}

/* A subnet without a broadcast address (/31, RFC 3021) has two hosts,
 * and both ends are addresses to connect to. */
static void tcp_slash31(void **st)
{
    (void)st;
    ustk_config c;
    net_cfg(&c, USTK_IP4(10, 0, 0, 0), USTK_LINK_IP);
    c.prefix_len = 31;
    ustk_stack *s = net_stack(&c);
    int h = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr to = {USTK_IP4(10, 0, 0, 1), 80};
    assert_int_equal(ustk_connect(s, h, &to, 0), USTK_EINPROGRESS);
    assert_true(net_take(s, 0, frame) > 0);
    ustk_stack_destroy(s);
}

/* UDP: a broadcast without SO_BROADCAST is EACCES (Linux), for connect
 * and sendto alike; nothing is sent. */
static void udp_broadcast_unchanged(void **st)
{
    (void)st;
    ustk_stack *s = eth_stack();
    int h = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr to = {USTK_IP4(10, 0, 0, 255), 9};
    assert_int_equal(ustk_connect(s, h, &to, 0), USTK_EACCES);
    assert_int_equal(ustk_sendto(s, h, "x", 1, &to, 0), USTK_EACCES);
    to.addr = 0xffffffffu;
    assert_int_equal(ustk_connect(s, h, &to, 0), USTK_EACCES);
    assert_int_equal(ustk_sendto(s, h, "x", 1, &to, 0), USTK_EACCES);
    assert_int_equal(net_take(s, 0, frame), 0);
    ustk_stack_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tcp_broadcast_and_multicast),
        cmocka_unit_test(tcp_reserved),
        cmocka_unit_test(tcp_slash31),
        cmocka_unit_test(udp_broadcast_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
