/* The details of the errors a datagram socket takes
 * (ustk_sock_error_info): who sent the ICMP error, its type and code,
 * the quoted destination, the quoted echo identifier and sequence number,
 * the next hop's MTU and the parameter problem's pointer, and ARP giving
 * up, also when the error comes from this host through the loopback
 * queue. Each goes to the socket whose datagram it quotes and to no other;
 * a socket keeps a bounded number, counts what it could not keep and
 * gives the memory back once they are read; the pending error
 * (ustk_sock_error) works as before beside them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net_util.h"
#include "util/rng.h"

/* A host beyond the router NET_C, A's gateway. */
#define FAR USTK_IP4(192, 0, 2, 7)
#define ROUTER NET_C
#define ERRQ 8 /* what a socket keeps by default (USTK_DGRAM_ERRQ) */

static uint8_t frame[NET_FRAME], got[70000];

/* Allocation hooks that count the blocks in use, and can be told to
 * refuse. */
typedef struct counter {
    long live;
    bool refuse;
} counter;

static void *count_alloc(void *ctx, size_t n)
{
    counter *c = ctx;
    if (c->refuse)
        return NULL;
    void *p = malloc(n);
    if (p)
        c->live++;
    return p;
}

static void count_free(void *ctx, void *p)
{
    counter *c = ctx;
    if (p)
        c->live--;
    free(p);
}

/* A raw-IP stack at NET_A whose default route goes through ROUTER,
 * allocating through c when it is not NULL. */
static ustk_stack *routed_stack(counter *c)
{
    ustk_config cfg;
    net_cfg(&cfg, NET_A, USTK_LINK_IP);
    cfg.gateway = ROUTER;
    if (c) {
        cfg.alloc = count_alloc;
        cfg.free = count_free;
        cfg.alloc_ctx = c;
    }
    return net_stack(&cfg);
}

static int ping_socket(ustk_stack *s, uint16_t id)
{
    int h = ustk_open(s, USTK_PROTO_ICMP);
    assert_true(h >= 0);
    ustk_sockaddr a = {0, id};
    assert_int_equal(ustk_bind(s, h, &a), 0);
    return h;
}

static int udp_connected(ustk_stack *s, uint16_t lport, ustk_ip4 to,
                         uint16_t port)
{
    int h = ustk_open(s, USTK_PROTO_UDP);
    assert_true(h >= 0);
    ustk_sockaddr me = {0, lport}, peer = {to, port};
    assert_int_equal(ustk_bind(s, h, &me), 0);
    assert_int_equal(ustk_connect(s, h, &peer, 0), 0);
    return h;
}

/* Send echo request seq (56 bytes of data) to dst on ping socket h, and
 * keep the packet as it went out: its first *qlen bytes (all of it when
 * it is shorter) into q. */
static void ping_out(ustk_stack *s, int h, ustk_ip4 dst, uint16_t seq,
                     uint8_t *q, size_t *qlen)
{
    uint8_t req[64];
    memset(req, 0, 8);
    req[0] = USTK_ICMP_ECHO_REQUEST;
    ustk_store_be16(req + 6, seq);
    net_fill(req + 8, 56, seq);
    ustk_sockaddr to = {dst, 0};
    assert_int_equal(ustk_sendto(s, h, req, sizeof req, &to, 0),
                     (ptrdiff_t)sizeof req);
    size_t n = net_take(s, 0, frame);
    assert_int_equal(n, 20 + sizeof req);
    if (*qlen > n)
        *qlen = n;
    memcpy(q, frame, *qlen);
}

/* Send one byte on connected UDP socket h, and keep the first 28 bytes
 * of the packet as it went out. */
static void udp_out(ustk_stack *s, int h, uint8_t q[28])
{
    assert_int_equal(ustk_send(s, h, "?", 1, 0), 1);
    assert_int_equal(net_take(s, 0, frame), 29);
    memcpy(q, frame, 28);
}

/* An ICMP error from `from` to us quoting qlen bytes of q; what
 * ustk_input says of it. */
static int error_in(ustk_stack *s, ustk_ip4 from, uint8_t type, uint8_t code,
                    uint32_t rest, const uint8_t *q, size_t qlen)
{
    size_t n = net_icmp(frame, from, NET_A, type, code, rest, q, qlen);
    return ustk_input(s, 0, frame, n);
}

static void assert_info(const ustk_sock_err_info *e, int err, uint8_t origin,
                        uint8_t type, uint8_t code, ustk_ip4 offender,
                        ustk_ip4 dst, uint16_t dport, uint16_t id, uint16_t seq)
{
    assert_int_equal(e->err, err);
    assert_int_equal(e->origin, origin);
    assert_int_equal(e->type, type);
    assert_int_equal(e->code, code);
    assert_int_equal(e->offender, offender);
    assert_int_equal(e->dst.addr, dst);
    assert_int_equal(e->dst.port, dport);
    assert_int_equal(e->echo_id, id);
    assert_int_equal(e->echo_seq, seq);
}

static void assert_none(ustk_stack *s, int h)
{
    ustk_sock_err_info e;
    assert_int_equal(ustk_sock_error_info(s, h, &e), USTK_EAGAIN);
}

/* ---- ping sockets -------------------------------------------------- */

/* A router on the way answers one request of three with each kind of
 * error: the details name the router, the request's identifier and
 * sequence number and the far host it was for; the MTU and the pointer
 * come from the rest of the header; the other requests' replies still
 * arrive. Linux's routers quote the whole request (up to 576 bytes), ours
 * 8 bytes of it: both are read. */
static void ping_errors_from_a_router(void **st)
{
    (void)st;
    static const struct {
        uint8_t type, code;
        uint32_t rest;
        int err;
        uint16_t mtu;
        uint8_t pointer;
        size_t quote; /* bytes of the request quoted */
    } cases[] = {
        {11, 0, 0, USTK_EHOSTUNREACH, 0, 0, 84}, /* TTL exceeded */
        {11, 1, 0, USTK_EHOSTUNREACH, 0, 0, 28}, /* reassembly */
        {3, 0, 0, USTK_ENETUNREACH, 0, 0, 28},   /* net */
        {3, 1, 0, USTK_EHOSTUNREACH, 0, 0, 84},  /* host */
        {3, 4, 0x1234u << 16 | 1280, USTK_EMSGSIZE, 1280, 0, 28},
        {3, 13, 0, USTK_EHOSTUNREACH, 0, 0, 28},      /* prohibited */
        {12, 0, 0x14000000u, USTK_EPROTO, 0, 20, 28}, /* pointer 20 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ustk_stack *s = routed_stack(NULL);
        int h = ping_socket(s, 0x0a0b);
        uint8_t q[3][84];
        for (uint16_t seq = 1; seq <= 3; seq++) {
            size_t qlen = sizeof q[0];
            ping_out(s, h, FAR, seq, q[seq - 1], &qlen);
        }
        assert_int_equal(error_in(s, ROUTER, cases[i].type, cases[i].code,
                                  cases[i].rest, q[1], cases[i].quote),
                         0);
        assert_true(ustk_sock_poll(s, h) & USTK_ERROR);
        ustk_sock_err_info e;
        memset(&e, 0xee, sizeof e);
        assert_int_equal(ustk_sock_error_info(s, h, &e), 0);
        assert_info(&e, cases[i].err, USTK_ERR_ORIGIN_ICMP, cases[i].type,
                    cases[i].code, ROUTER, FAR, 0, 0x0a0b, 2);
        assert_int_equal(e.mtu, cases[i].mtu);
        assert_int_equal(e.pointer, cases[i].pointer);
        assert_int_equal(e.lost, 0);
        /* Read, it is gone, and so is the pending error it set. */
        assert_none(s, h);
        assert_false(ustk_sock_poll(s, h) & USTK_ERROR);
        assert_int_equal(ustk_sock_error(s, h), 0);
        /* The far host answers 1 and 3. */
        for (uint16_t seq = 1; seq <= 3; seq += 2) {
            size_t n = net_icmp(frame, FAR, NET_A, USTK_ICMP_ECHO_REPLY, 0,
                                0x0a0bu << 16 | seq, q[seq - 1] + 28, 56);
            assert_int_equal(ustk_input(s, 0, frame, n), 0);
            assert_int_equal(ustk_recv(s, h, got, sizeof got, 0), 64);
            assert_int_equal(ustk_load_be16(got + 6), seq);
        }
        assert_int_equal(net_stats(s).icmp_errors_in, 1);
        assert_int_equal(net_stats(s).dgram_err_lost, 0);
        assert_int_equal(net_all_drops(s), 0);
        ustk_stack_destroy(s);
    }
}

/* The pending error and the details side by side: the error is the
 * newest one's; ustk_sock_error (or recv) takes it and leaves the
 * details; reading the details does not bring it back, and reading the
 * last of them clears an error still pending. */
static void pending_error_beside_details(void **st)
{
    (void)st;
    ustk_stack *s = routed_stack(NULL);
    int h = ping_socket(s, 9);
    uint8_t q[2][28];
    for (uint16_t seq = 1; seq <= 2; seq++) {
        size_t qlen = 28;
        ping_out(s, h, FAR, seq, q[seq - 1], &qlen);
    }
    ustk_sock_err_info e;
    /* Two errors: the pending error is the second's. */
    assert_int_equal(error_in(s, ROUTER, 11, 0, 0, q[0], 28), 0);
    assert_int_equal(error_in(s, ROUTER, 3, 0, 0, q[1], 28), 0);
    assert_int_equal(ustk_sock_error(s, h), USTK_ENETUNREACH);
    assert_false(ustk_sock_poll(s, h) & USTK_ERROR);
    assert_int_equal(ustk_sock_error_info(s, h, &e), 0);
    assert_int_equal(e.echo_seq, 1);
    assert_int_equal(ustk_sock_error(s, h), 0);
    assert_int_equal(ustk_sock_error_info(s, h, &e), 0);
    assert_int_equal(e.echo_seq, 2);
    assert_int_equal(e.err, USTK_ENETUNREACH);
    assert_none(s, h);
    assert_int_equal(ustk_sock_error(s, h), 0);
    /* Two errors, details read: the first leaves the error pending (one
     * more is there to read), the second clears it. */
    assert_int_equal(error_in(s, ROUTER, 11, 0, 0, q[0], 28), 0);
    assert_int_equal(error_in(s, ROUTER, 11, 0, 0, q[1], 28), 0);
    assert_int_equal(ustk_sock_error_info(s, h, &e), 0);
    assert_true(ustk_sock_poll(s, h) & USTK_ERROR);
    assert_int_equal(ustk_sock_error_info(s, h, &e), 0);
    assert_false(ustk_sock_poll(s, h) & USTK_ERROR);
    assert_int_equal(ustk_recv(s, h, got, sizeof got, 0), USTK_EAGAIN);
    /* recv takes the pending error, as before, and the details stay. */
    assert_int_equal(error_in(s, ROUTER, 11, 0, 0, q[1], 28), 0);
    assert_int_equal(ustk_recv(s, h, got, sizeof got, 0), USTK_EHOSTUNREACH);
    assert_int_equal(ustk_sock_error_info(s, h, &e), 0);
    assert_info(&e, USTK_EHOSTUNREACH, USTK_ERR_ORIGIN_ICMP, 11, 0, ROUTER, FAR,
                0, 9, 2);
    assert_none(s, h);
    ustk_stack_destroy(s);
}

/* ---- UDP sockets ------------------------------------------------------ */

/* An administrative prohibition from a router about a connected UDP
 * socket's datagram: the details name the router and the peer's address
 * and port; no echo fields. (Port unreachable from the peer itself, as a
 * stack puts it on the wire: test_net_udp.) */
static void udp_errors(void **st)
{
    (void)st;
    ustk_stack *s = routed_stack(NULL);
    int u = udp_connected(s, 5000, FAR, 53);
    uint8_t q[28];
    udp_out(s, u, q);
    assert_int_equal(error_in(s, ROUTER, 3, 13, 0, q, 28), 0);
    ustk_sock_err_info e;
    memset(&e, 0xee, sizeof e);
    assert_int_equal(ustk_sock_error_info(s, u, &e), 0);
    assert_info(&e, USTK_EHOSTUNREACH, USTK_ERR_ORIGIN_ICMP, 3, 13, ROUTER, FAR,
                53, 0, 0);
    assert_int_equal(e.mtu, 0);
    assert_int_equal(e.pointer, 0);
    assert_int_equal(e.lost, 0);
    assert_none(s, u);
    assert_int_equal(ustk_sock_error(s, u), 0);
    ustk_stack_destroy(s);
}

/* A closed port on this host, reached through the loopback queue (as
 * 127.0.0.1 and as our own address): port unreachable, from the address
 * the datagram went to, with the details as from a router. */
static void loopback_errors(void **st)
{
    (void)st;
    static const ustk_ip4 dsts[] = {USTK_IP4(127, 0, 0, 1), NET_A};
    ustk_stack *s = net_ip_stack(NET_A);
    ustk_time now = 0;
    for (size_t i = 0; i < 2; i++) {
        int u = udp_connected(s, (uint16_t)(5000 + i), dsts[i], 9);
        assert_int_equal(ustk_send(s, u, "x", 1, now), 1);
        net_run_alone(s, &now, now, false);
        assert_true(ustk_sock_poll(s, u) & USTK_ERROR);
        ustk_sock_err_info e;
        memset(&e, 0xee, sizeof e);
        assert_int_equal(ustk_sock_error_info(s, u, &e), 0);
        assert_info(&e, USTK_ECONNREFUSED, USTK_ERR_ORIGIN_ICMP, 3, 3,
                    dsts[i], dsts[i], 9, 0, 0);
        assert_int_equal(e.lost, 0);
        assert_none(s, u);
        /* Told with its details: no longer pending. */
        assert_false(ustk_sock_poll(s, u) & USTK_ERROR);
    }
    assert_int_equal(net_stats(s).frames_out, 0);
    ustk_stack_destroy(s);
}

/* ---- to the right socket only ---------------------------------------- */

/* An error reaches the socket whose datagram it quotes and no other: a
 * ping socket by the quoted identifier (and its peer, when connected), a
 * UDP socket by the quoted source port and its peer's address and port.
 * Errors about no socket, about another peer, soft ones for UDP and
 * errors about an unconnected UDP socket's datagrams are counted and kept
 * by nobody; the calls refuse what is not a datagram socket. */
static void errors_reach_their_socket_only(void **st)
{
    (void)st;
    ustk_stack *s = routed_stack(NULL);
    int p1 = ping_socket(s, 500), p2 = ping_socket(s, 501);
    uint8_t q1[28], q2[28], q[28];
    size_t qlen = 28;
    ping_out(s, p1, FAR, 1, q1, &qlen);
    ping_out(s, p2, FAR, 7, q2, &qlen);
    assert_int_equal(error_in(s, ROUTER, 11, 0, 0, q2, 28), 0);
    assert_none(s, p1);
    assert_int_equal(ustk_sock_error(s, p1), 0);
    ustk_sock_err_info e;
    assert_int_equal(ustk_sock_error_info(s, p2, &e), 0);
    assert_info(&e, USTK_EHOSTUNREACH, USTK_ERR_ORIGIN_ICMP, 11, 0, ROUTER, FAR,
                0, 501, 7);
    /* An identifier no socket has. */
    memcpy(q, q2, 28);
    ustk_store_be16(q + 24, 502);
    assert_int_equal(error_in(s, ROUTER, 11, 0, 0, q, 28),
                     USTK_DROP_ICMP_NO_MATCH);
    /* Connected to FAR, p1 takes nothing about a request to NET_B. */
    ustk_sockaddr far = {FAR, 0};
    assert_int_equal(ustk_connect(s, p1, &far, 0), 0);
    memcpy(q, q1, 28);
    ustk_store_be32(q + 16, NET_B);
    assert_int_equal(error_in(s, ROUTER, 3, 1, 0, q, 28),
                     USTK_DROP_ICMP_NO_MATCH);
    /* Not an echo request: our echo replies are nobody's. */
    memcpy(q, q1, 28);
    q[20] = USTK_ICMP_ECHO_REPLY;
    assert_int_equal(error_in(s, ROUTER, 3, 1, 0, q, 28),
                     USTK_DROP_ICMP_NO_MATCH);
    assert_none(s, p1);
    assert_none(s, p2);

    /* UDP: u1 (port 5001) to FAR:53, u2 (5002) to FAR:54. */
    int u1 = udp_connected(s, 5001, FAR, 53);
    int u2 = udp_connected(s, 5002, FAR, 54);
    uint8_t qu1[28];
    udp_out(s, u1, qu1);
    /* From u1's port to u2's peer: u1's, about another peer; u2 sent
     * nothing like it. */
    memcpy(q, qu1, 28);
    ustk_store_be16(q + 22, 54);
    assert_int_equal(error_in(s, FAR, 3, 3, 0, q, 28), USTK_DROP_ICMP_NO_MATCH);
    /* Another host on u1's peer port. */
    memcpy(q, qu1, 28);
    ustk_store_be32(q + 16, NET_B);
    assert_int_equal(error_in(s, NET_B, 3, 3, 0, q, 28),
                     USTK_DROP_ICMP_NO_MATCH);
    /* A port no socket has. */
    memcpy(q, qu1, 28);
    ustk_store_be16(q + 20, 5003);
    assert_int_equal(error_in(s, FAR, 3, 3, 0, q, 28), USTK_DROP_ICMP_NO_MATCH);
    /* Soft: not reported to UDP (the pending error would fail the next
     * send). */
    assert_int_equal(error_in(s, ROUTER, 11, 0, 0, qu1, 28),
                     USTK_DROP_ICMP_UNREPORTED);
    assert_none(s, u1);
    assert_none(s, u2);
    assert_int_equal(ustk_sock_error(s, u1), 0);
    assert_int_equal(ustk_sock_error(s, u2), 0);
    /* The real one: u1's only. */
    assert_int_equal(error_in(s, FAR, 3, 3, 0, qu1, 28), 0);
    assert_none(s, u2);
    assert_int_equal(ustk_sock_error_info(s, u1, &e), 0);
    assert_info(&e, USTK_ECONNREFUSED, USTK_ERR_ORIGIN_ICMP, 3, 3, FAR, FAR, 53,
                0, 0);
    /* Unconnected: it could not tell which datagram, so it is not told. */
    int u3 = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr far53 = {FAR, 53};
    assert_int_equal(ustk_sendto(s, u3, "?", 1, &far53, 0), 1);
    assert_int_equal(net_take(s, 0, frame), 29);
    assert_int_equal(error_in(s, FAR, 3, 3, 0, frame, 28),
                     USTK_DROP_ICMP_UNREPORTED);
    assert_none(s, u3);
    assert_none(s, p1);
    assert_none(s, p2);
    /* Not a datagram socket, not a socket, nowhere to write. */
    int t = ustk_open(s, USTK_PROTO_TCP);
    assert_int_equal(ustk_sock_error_info(s, t, &e), USTK_EOPNOTSUPP);
    assert_int_equal(ustk_sock_error_info(s, 12345, &e), USTK_EBADF);
    assert_int_equal(ustk_sock_error_info(NULL, p1, &e), USTK_EBADF);
    assert_int_equal(ustk_sock_error_info(s, p1, NULL), USTK_EINVAL);
    assert_int_equal(net_drops(s, USTK_DROP_ICMP_NO_MATCH), 6);
    assert_int_equal(net_drops(s, USTK_DROP_ICMP_UNREPORTED), 2);
    ustk_stack_destroy(s);
}

/* ---- bounds ----------------------------------------------------------- */

/* A socket that does not read keeps the newest ERRQ errors: the oldest
 * go, the first one read counts them, and so does the stack. Memory: one
 * block for them, taken with the first error, given back when the last
 * is read; none when the socket is closed unread. Without memory the
 * pending error still tells, and the loss is counted. */
static void bounded_and_counted(void **st)
{
    (void)st;
    counter c = {0, false};
    ustk_stack *s = routed_stack(&c);
    int h = ping_socket(s, 42);
    uint8_t q[30][28];
    for (uint16_t seq = 1; seq <= 30; seq++) {
        size_t qlen = 28;
        ping_out(s, h, FAR, seq, q[seq - 1], &qlen);
    }
    long base = c.live;
    assert_int_equal(error_in(s, ROUTER, 11, 0, 0, q[0], 28), 0);
    assert_int_equal(c.live, base + 1);
    for (int i = 1; i < 30; i++)
        assert_int_equal(error_in(s, ROUTER, 11, 0, 0, q[i], 28), 0);
    assert_int_equal(c.live, base + 1);
    assert_int_equal(net_stats(s).dgram_err_lost, 30 - ERRQ);
    ustk_sock_err_info e;
    for (uint16_t seq = 30 - ERRQ + 1; seq <= 30; seq++) {
        assert_int_equal(ustk_sock_error_info(s, h, &e), 0);
        assert_int_equal(e.echo_seq, seq);
        assert_int_equal(e.lost, seq == 30 - ERRQ + 1 ? 30 - ERRQ : 0);
    }
    assert_none(s, h);
    assert_int_equal(c.live, base);
    assert_int_equal(ustk_sock_error(s, h), 0);
    /* Afresh: nothing lost. */
    assert_int_equal(error_in(s, ROUTER, 11, 0, 0, q[4], 28), 0);
    assert_int_equal(ustk_sock_error_info(s, h, &e), 0);
    assert_int_equal(e.echo_seq, 5);
    assert_int_equal(e.lost, 0);
    /* Closed unread: given back with the socket (one block for the
     * socket itself, one for the details). */
    int g = ping_socket(s, 43);
    uint8_t qg[28];
    size_t qlen = 28;
    ping_out(s, g, FAR, 1, qg, &qlen);
    long with_g = c.live;
    assert_int_equal(error_in(s, ROUTER, 3, 1, 0, qg, 28), 0);
    assert_int_equal(c.live, with_g + 1);
    assert_int_equal(ustk_close(s, g, 0), 0);
    assert_int_equal(c.live, with_g - 1);
    base = c.live;
    /* No memory: the pending error, no details, one more loss. */
    c.refuse = true;
    assert_int_equal(error_in(s, ROUTER, 3, 1, 0, q[6], 28), 0);
    c.refuse = false;
    assert_int_equal(c.live, base);
    assert_none(s, h);
    assert_int_equal(ustk_sock_error(s, h), USTK_EHOSTUNREACH);
    assert_int_equal(net_stats(s).dgram_err_lost, 30 - ERRQ + 1);
    ustk_stack_destroy(s);
    assert_int_equal(c.live, 0);
}

/* Thousands of errors of every type and code, quoting the requests of
 * two ping sockets and the datagrams of a UDP socket, some with a field
 * of the quote changed: each socket keeps at most ERRQ, each detail read
 * names that socket's own identifier or port and peer, and the count of
 * what was taken equals what was read plus what was lost. */
static void error_storm(void **st)
{
    (void)st;
    counter c = {0, false};
    ustk_stack *s = routed_stack(&c);
    int socks[3] = {ping_socket(s, 100), ping_socket(s, 200),
                    udp_connected(s, 7000, FAR, 53)};
    uint8_t quotes[3][28];
    size_t qlen = 28;
    ping_out(s, socks[0], FAR, 1, quotes[0], &qlen);
    ping_out(s, socks[1], NET_B, 1, quotes[1], &qlen);
    udp_out(s, socks[2], quotes[2]);
    long base = c.live;
    ustk_rng rng;
    ustk_rng_seed(&rng, 11);
    uint64_t taken = 0;
    for (int i = 0; i < 5000; i++) {
        uint8_t q[28];
        memcpy(q, quotes[ustk_rng_below(&rng, 3)], 28);
        /* Now and then another identifier, port, peer or sequence. */
        if (ustk_rng_below(&rng, 4) == 0)
            q[16 + ustk_rng_below(&rng, 12)] = (uint8_t)ustk_rng_next(&rng);
        uint8_t type = ustk_rng_below(&rng, 2) ? 3 : 11;
        int r = error_in(s, ROUTER, type, (uint8_t)ustk_rng_below(&rng, 16),
                         (uint32_t)ustk_rng_next(&rng), q, 28);
        if (r == 0)
            taken++;
        assert_true(c.live <= base + 3);
    }
    assert_true(taken > 1000);
    uint64_t read = 0, lost = 0;
    for (int k = 0; k < 3; k++) {
        ustk_sock_err_info e;
        int n = 0;
        while (ustk_sock_error_info(s, socks[k], &e) == 0) {
            n++;
            read++;
            lost += e.lost;
            assert_int_equal(e.origin, USTK_ERR_ORIGIN_ICMP);
            assert_int_equal(e.offender, ROUTER);
            if (k < 2) {
                assert_int_equal(e.echo_id, k == 0 ? 100 : 200);
                assert_int_equal(e.dst.port, 0);
            } else {
                assert_int_equal(e.dst.addr, FAR);
                assert_int_equal(e.dst.port, 53);
                assert_int_equal(e.echo_id, 0);
                assert_int_equal(e.echo_seq, 0);
            }
        }
        assert_int_equal(n, ERRQ);
    }
    assert_int_equal(read + lost, taken);
    assert_int_equal(net_stats(s).dgram_err_lost, lost);
    assert_int_equal(c.live, base);
    ustk_stack_destroy(s);
    assert_int_equal(c.live, 0);
}

/* ---- ARP gives up ------------------------------------------------------ */

/* A neighbour that never answers ARP: each datagram that waited for it
 * is told to its socket, as an error of our own (origin LOCAL, from our
 * address, host unreachable), naming the request's sequence number or the
 * UDP peer. */
static void arp_failure_details(void **st)
{
    (void)st;
    ustk_stack *s = net_eth_stack_arp_gives_up(NET_A);
    const ustk_ip4 nobody = USTK_IP4(10, 0, 0, 99);
    int h = ping_socket(s, 77);
    int u = udp_connected(s, 6000, nobody, 7);
    uint8_t req[8] = {USTK_ICMP_ECHO_REQUEST};
    ustk_sockaddr to = {nobody, 0};
    for (uint16_t seq = 1; seq <= 3; seq++) {
        ustk_store_be16(req + 6, seq);
        assert_int_equal(ustk_sendto(s, h, req, 8, &to, 0), 8);
    }
    assert_int_equal(ustk_send(s, u, "a", 1, 0), 1);
    ustk_time now = 0;
    for (;;) {
        net_drain(s, now); /* ARP requests */
        if (ustk_sock_poll(s, h) & USTK_ERROR)
            break;
        now = ustk_next_deadline(s, now);
        assert_true(now <= USTK_SEC(5));
    }
    assert_int_equal(now, USTK_MS(1500));
    ustk_sock_err_info e;
    for (uint16_t seq = 1; seq <= 3; seq++) {
        memset(&e, 0xee, sizeof e);
        assert_int_equal(ustk_sock_error_info(s, h, &e), 0);
        assert_info(&e, USTK_EHOSTUNREACH, USTK_ERR_ORIGIN_LOCAL, 3, 1, NET_A,
                    nobody, 0, 77, seq);
        assert_int_equal(e.mtu, 0);
        assert_int_equal(e.pointer, 0);
        assert_int_equal(e.lost, 0);
    }
    assert_none(s, h);
    assert_int_equal(ustk_sock_error_info(s, u, &e), 0);
    assert_info(&e, USTK_EHOSTUNREACH, USTK_ERR_ORIGIN_LOCAL, 3, 1, NET_A,
                nobody, 7, 0, 0);
    assert_none(s, u);
    assert_int_equal(ustk_sock_error(s, h), 0);
    assert_int_equal(ustk_sock_error(s, u), 0);
    assert_int_equal(net_drops(s, USTK_DROP_ARP_UNRESOLVED), 4);
    ustk_stack_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ping_errors_from_a_router),
        cmocka_unit_test(pending_error_beside_details),
        cmocka_unit_test(udp_errors),
        cmocka_unit_test(loopback_errors),
        cmocka_unit_test(errors_reach_their_socket_only),
        cmocka_unit_test(bounded_and_counted),
        cmocka_unit_test(error_storm),
        cmocka_unit_test(arp_failure_details),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
