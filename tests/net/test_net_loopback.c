/* Packets to our own address (ip.c): they never reach the link, where
 * nobody would answer ARP for them, but are fed back into our input by the
 * next ustk_poll_output(), as Linux does through lo. A TCP connection to
 * ourselves completes and carries data both ways intact, ping answers,
 * UDP delivers, and the queue is bounded with counted drops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/stack_priv.h"
#include "net_util.h"

static uint8_t frame[NET_FRAME];
static uint8_t out_a[400000], out_b[400000], in_a[400000], in_b[400000];

/* Offloads on: output goes through ustk_poll_output_meta(). */
static bool offload;

static ustk_stack *stack_on(ustk_link_kind link)
{
    ustk_config c;
    net_cfg(&c, NET_A, link);
    c.prefix_len = 24;
    c.gateway = USTK_IP4(10, 0, 0, 254);
    if (offload) {
        c.tso_max = 65000;
        c.tx_csum_offload = true;
    }
    ustk_stack *s = net_stack(&c);
    net_drain(s, 0); /* the gratuitous ARP of a new stack */
    return s;
}

static void run(ustk_stack *s, ustk_time *now, ustk_time until)
{
    net_run_alone(s, now, until, offload);
}

/* Move what each side can: send the rest of its data, read what came. */
static void pump_pair(ustk_stack *s, ustk_time now, int a, int b,
                      size_t total, size_t *sent_a, size_t *sent_b,
                      size_t *got_a, size_t *got_b)
{
    ptrdiff_t n;
    if (*sent_a < total &&
        (n = ustk_send(s, a, out_a + *sent_a, total - *sent_a, now)) > 0)
        *sent_a += (size_t)n;
    if (*sent_b < total &&
        (n = ustk_send(s, b, out_b + *sent_b, total - *sent_b, now)) > 0)
        *sent_b += (size_t)n;
    while ((n = ustk_recv(s, a, in_a + *got_a, sizeof in_a - *got_a, now)) > 0)
        *got_a += (size_t)n;
    while ((n = ustk_recv(s, b, in_b + *got_b, sizeof in_b - *got_b, now)) > 0)
        *got_b += (size_t)n;
}

static void tcp_to_self(ustk_link_kind link)
{
    ustk_stack *s = stack_on(link);
    ustk_time now = 0;
    int l = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr me = {0, 80};
    assert_int_equal(ustk_bind(s, l, &me), 0);
    assert_int_equal(ustk_listen(s, l, 4), 0);
    int c = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr to = {NET_A, 80};
    assert_int_equal(ustk_connect(s, c, &to, now), USTK_EINPROGRESS);
    run(s, &now, now);
    /* The whole handshake at once: no ARP, no timer waited for. */
    assert_int_equal(now, 0);
    assert_true(ustk_sock_poll(s, c) & USTK_WRITABLE);
    ustk_sockaddr peer;
    int a = ustk_accept(s, l, &peer);
    assert_true(a >= 0);
    assert_int_equal(peer.addr, NET_A);
    ustk_sockaddr name;
    assert_int_equal(ustk_getsockname(s, c, &name), 0);
    assert_int_equal(peer.port, name.port);

    /* 300,000 bytes each way at once, checked byte for byte. */
    size_t total = 300000, sent_a = 0, sent_b = 0, got_a = 0, got_b = 0;
    net_fill(out_a, total, 1);
    net_fill(out_b, total, 2);
    for (int i = 0; i < 100000 && (got_a < total || got_b < total); i++) {
        pump_pair(s, now, c, a, total, &sent_a, &sent_b, &got_a, &got_b);
        run(s, &now, now);
    }
    assert_int_equal(got_a, total);
    assert_int_equal(got_b, total);
    assert_true(net_fnv(in_b, total) == net_fnv(out_a, total));
    assert_true(net_fnv(in_a, total) == net_fnv(out_b, total));
    assert_memory_equal(in_b, out_a, total);
    assert_memory_equal(in_a, out_b, total);
    /* Nothing lost on the way: no drop at all, no retransmission. */
    assert_int_equal(net_all_drops(s), 0);
    ustk_tcp_info ti;
    assert_int_equal(ustk_tcp_info_get(s, c, &ti), 0);
    assert_int_equal(ti.retransmits, 0);
    assert_int_equal(ustk_sock_nread(s, a), 0);

    /* Both close; the closer's TIME-WAIT ends and nothing remains. */
    assert_int_equal(ustk_close(s, c, now), 0);
    run(s, &now, now);
    assert_int_equal(ustk_recv(s, a, in_a, 1, now), 0);
    assert_int_equal(ustk_close(s, a, now), 0);
    assert_int_equal(ustk_close(s, l, now), 0);
    run(s, &now, USTK_TIME_NEVER - 1);
    assert_int_equal(net_stats(s).tcp_connections, 0);
    assert_int_equal(net_stats(s).tcp_time_wait, 0);
    assert_int_equal(ustk_next_deadline(s, now), USTK_TIME_NEVER);
    ustk_stack_destroy(s);
}

static void tcp_to_self_eth(void **st)
{
    (void)st;
    tcp_to_self(USTK_LINK_ETHERNET);
}

static void tcp_to_self_ip(void **st)
{
    (void)st;
    tcp_to_self(USTK_LINK_IP);
}

/* With checksum and segmentation offloads on, a segment to ourselves is
 * still complete: no link is there to finish it. */
static void tcp_to_self_offload(void **st)
{
    (void)st;
    offload = true;
    tcp_to_self(USTK_LINK_IP); /* where every neighbour is "known" */
    offload = false;
}

/* A socket bound to port P that connects to our address and P meets its
 * own SYN: a simultaneous open with itself (RFC 9293 §3.5), as on Linux,
 * and what it sends it reads. */
static void tcp_self_connect(void **st)
{
    (void)st;
    ustk_stack *s = stack_on(USTK_LINK_ETHERNET);
    ustk_time now = 0;
    int c = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr me = {0, 5000};
    assert_int_equal(ustk_bind(s, c, &me), 0);
    ustk_sockaddr to = {NET_A, 5000};
    assert_int_equal(ustk_connect(s, c, &to, now), USTK_EINPROGRESS);
    run(s, &now, now);
    assert_true(ustk_sock_poll(s, c) & USTK_WRITABLE);
    ustk_tcp_info ti;
    assert_int_equal(ustk_tcp_info_get(s, c, &ti), 0);
    assert_int_equal(ti.state, USTK_TCP_ESTABLISHED);
    assert_int_equal(ustk_send(s, c, "self", 4, now), 4);
    run(s, &now, now);
    uint8_t got[8];
    assert_int_equal(ustk_recv(s, c, got, sizeof got, now), 4);
    assert_memory_equal(got, "self", 4);
    ustk_stack_destroy(s);
}

/* Nobody listens: the RST comes back through the loop, and connect()
 * fails with ECONNREFUSED at once. */
static void tcp_to_self_refused(void **st)
{
    (void)st;
    ustk_stack *s = stack_on(USTK_LINK_ETHERNET);
    ustk_time now = 0;
    int c = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr to = {NET_A, 81};
    assert_int_equal(ustk_connect(s, c, &to, now), USTK_EINPROGRESS);
    run(s, &now, now);
    assert_true(ustk_sock_poll(s, c) & USTK_ERROR);
    assert_int_equal(ustk_sock_error(s, c), USTK_ECONNREFUSED);
    assert_int_equal(net_drops(s, USTK_DROP_TCP_NO_SOCKET), 1);
    ustk_stack_destroy(s);
}

/* An echo request to ourselves is answered by ourselves. */
static void ping_self(void **st)
{
    (void)st;
    ustk_stack *s = stack_on(USTK_LINK_ETHERNET);
    ustk_time now = 0;
    int p = ustk_open(s, USTK_PROTO_ICMP);
    uint8_t req[8 + 56] = {8, 0, 0, 0, 0, 0, 0, 1};
    net_fill(req + 8, 56, 7);
    ustk_sockaddr to = {NET_A, 0};
    assert_int_equal(ustk_sendto(s, p, req, sizeof req, &to, now),
                     (ptrdiff_t)sizeof req);
    run(s, &now, now);
    uint8_t got[128];
    ustk_sockaddr from;
    assert_int_equal(ustk_recvfrom(s, p, got, sizeof got, &from, now),
                     (ptrdiff_t)sizeof req);
    assert_int_equal(from.addr, NET_A);
    assert_int_equal(got[0], 0); /* echo reply */
    assert_int_equal(got[7], 1); /* sequence 1 */
    assert_memory_equal(got + 8, req + 8, 56);
    assert_int_equal(net_stats(s).icmp_echo_replies_in, 1);
    assert_int_equal(net_all_drops(s), 0);
    ustk_stack_destroy(s);
}

/* UDP between two sockets of one stack, connected and not; a datagram
 * larger than the MTU goes in fragments and is reassembled; one to a
 * closed port comes back as port unreachable (ECONNREFUSED). */
static void udp_to_self(void **st)
{
    (void)st;
    ustk_stack *s = stack_on(USTK_LINK_ETHERNET);
    ustk_time now = 0;
    int srv = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr me = {0, 7};
    assert_int_equal(ustk_bind(s, srv, &me), 0);
    int cli = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr to = {NET_A, 7};
    assert_int_equal(ustk_connect(s, cli, &to, now), 0);
    net_fill(out_a, 4000, 3);
    assert_int_equal(ustk_send(s, cli, out_a, 4000, now), 4000);
    assert_int_equal(ustk_send(s, cli, "hi", 2, now), 2);
    run(s, &now, now);
    ustk_sockaddr from, name;
    assert_int_equal(ustk_recvfrom(s, srv, in_a, sizeof in_a, &from, now),
                     4000);
    assert_memory_equal(in_a, out_a, 4000);
    assert_int_equal(ustk_getsockname(s, cli, &name), 0);
    assert_int_equal(from.addr, NET_A);
    assert_int_equal(from.port, name.port);
    assert_int_equal(ustk_recv(s, srv, in_a, sizeof in_a, now), 2);
    /* The answer goes back the same way. */
    assert_int_equal(ustk_sendto(s, srv, "ok", 2, &from, now), 2);
    run(s, &now, now);
    assert_int_equal(ustk_recv(s, cli, in_a, sizeof in_a, now), 2);
    assert_memory_equal(in_a, "ok", 2);
    assert_int_equal(net_stats(s).ip_reassembled, 1);
    /* A closed port. */
    int lone = ustk_open(s, USTK_PROTO_UDP);
    to.port = 9;
    assert_int_equal(ustk_connect(s, lone, &to, now), 0);
    assert_int_equal(ustk_send(s, lone, "x", 1, now), 1);
    run(s, &now, now);
    assert_int_equal(ustk_sock_error(s, lone), USTK_ECONNREFUSED);
    ustk_stack_destroy(s);
}

/* More packets to ourselves in one output call than the queue holds: the
 * rest are dropped and counted, the queue delivers what it took, and
 * memory stays bounded. */
static void loop_queue_bounded(void **st)
{
    (void)st;
    ustk_config c;
    net_cfg(&c, NET_A, USTK_LINK_IP);
    c.dgram_queue = USTK_LOOP_QUEUE + 10;
    c.udp_rcv_max = USTK_LOOP_QUEUE + 10;
    ustk_stack *s = net_stack(&c);
    ustk_time now = 0;
    int srv = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr me = {0, 7};
    assert_int_equal(ustk_bind(s, srv, &me), 0);
    int cli = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr to = {NET_A, 7};
    assert_int_equal(ustk_connect(s, cli, &to, now), 0);
    for (int i = 0; i < USTK_LOOP_QUEUE + 10; i++)
        assert_int_equal(ustk_send(s, cli, "d", 1, now), 1);
    run(s, &now, now);
    assert_int_equal(net_drops(s, USTK_DROP_LOOP_QUEUE_FULL), 10);
    int n = 0;
    while (ustk_recv(s, srv, in_a, 8, now) == 1)
        n++;
    assert_int_equal(n, USTK_LOOP_QUEUE);
    ustk_stack_destroy(s);
}

/* Send n one-byte datagrams from cli to srv (both on our address) and
 * read them all: the loopback queue has used n slots. */
static void udp_burst(ustk_stack *s, int cli, int srv, int n)
{
    ustk_time now = 0;
    for (int i = 0; i < n; i++)
        assert_int_equal(ustk_send(s, cli, "d", 1, now), 1);
    run(s, &now, now);
    int got = 0;
    while (ustk_recv(s, srv, in_a, 8, now) == 1)
        got++;
    assert_int_equal(got, n);
}

/* ustk_stack_trim() gives back the loopback queue, its array and the
 * buffer of every slot it used, measured through the allocation hooks:
 * exactly those bytes, only when no packet waits in it, and the queue
 * works again afterwards from scratch. */
static void trim_gives_back_loop_queue(void **st)
{
    (void)st;
    net_meter m = {0};
    ustk_config c;
    net_cfg(&c, NET_A, USTK_LINK_IP);
    /* One burst then has a buffer in every slot of the datagram queue,
     * which keeps them: the next burst takes no more. */
    c.dgram_queue = 100;
    c.alloc = net_meter_alloc;
    c.free = net_meter_free;
    c.alloc_ctx = &m;
    ustk_stack *s = net_stack(&c);
    int srv = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr me = {0, 7};
    assert_int_equal(ustk_bind(s, srv, &me), 0);
    int cli = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr to = {NET_A, 7};
    assert_int_equal(ustk_connect(s, cli, &to, 0), 0);
    size_t before = m.live;

    const int n = 100;
    const size_t queue = USTK_LOOP_QUEUE * sizeof(ustk_pkt) +
                         (size_t)n * ustk_stack_frame_max(s);
    udp_burst(s, cli, srv, n);
    size_t used = m.live;
    /* The datagram queue keeps its buffers too; trim leaves those. */
    assert_true(used >= before + queue);
    ustk_stack_trim(s);
    assert_int_equal(m.live, used - queue);
    size_t trimmed = m.live;

    /* Taken again on the next packet to ourselves, and given back again. */
    udp_burst(s, cli, srv, n);
    assert_int_equal(m.live, used);
    ustk_stack_trim(s);
    assert_int_equal(m.live, trimmed);

    /* Packets waiting in the queue keep it whole, and arrive. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(ustk_send(s, cli, "w", 1, 0), 1);
    uint8_t buf[NET_FRAME];
    size_t len;
    assert_int_equal(ustk_poll_output(s, 0, buf, sizeof buf, &len),
                     USTK_EAGAIN); /* the datagrams are on the queue now */
    size_t waiting = m.live;
    assert_int_equal(waiting, trimmed + USTK_LOOP_QUEUE * sizeof(ustk_pkt) +
                                  3 * ustk_stack_frame_max(s));
    ustk_stack_trim(s);
    assert_int_equal(m.live, waiting);
    ustk_time now = 0;
    run(s, &now, now);
    int got = 0;
    while (ustk_recv(s, srv, in_a, 8, now) == 1)
        got++;
    assert_int_equal(got, 3);
    ustk_stack_trim(s);
    assert_int_equal(m.live, trimmed);
    assert_int_equal(net_all_drops(s), 0);
    ustk_stack_destroy(s);
    assert_int_equal(m.live, 0);
}

/* From the wire, our own address as a source is still a "land" packet. */
static void own_source_from_wire_dropped(void **st)
{
    (void)st;
    ustk_stack *s = net_ip_stack(NET_A);
    int srv = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr me = {0, 7};
    assert_int_equal(ustk_bind(s, srv, &me), 0);
    size_t n = net_udp(frame, NET_A, NET_A, 9, 7, "x", 1);
    assert_int_equal(ustk_input(s, 0, frame, n), USTK_DROP_IP_SRC);
    assert_int_equal(ustk_recv(s, srv, in_a, 8, 0), USTK_EAGAIN);
    ustk_stack_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tcp_to_self_eth),
        cmocka_unit_test(tcp_to_self_ip),
        cmocka_unit_test(tcp_to_self_offload),
        cmocka_unit_test(tcp_self_connect),
        cmocka_unit_test(tcp_to_self_refused),
        cmocka_unit_test(ping_self),
        cmocka_unit_test(udp_to_self),
        cmocka_unit_test(loop_queue_bounded),
        cmocka_unit_test(own_source_from_wire_dropped),
        cmocka_unit_test(trim_gives_back_loop_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
