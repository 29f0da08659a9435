/* Hostile input to the network layer: storms of random fragments, random
 * ICMP errors and datagram floods. Nothing may crash (the suite runs under
 * ASan/UBSan too), every fragment that is not delivered is counted, and
 * memory stays within what the config allows, measured through the
 * allocation hooks. And the harmless noise a real device carries, told
 * apart from damage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net_util.h"
#include "util/rng.h"

static uint8_t frame[NET_FRAME], payload[2048];

static ustk_stack *metered(ustk_config *c, net_meter *m)
{
    c->alloc = net_meter_alloc;
    c->free = net_meter_free;
    c->alloc_ctx = m;
    return net_stack(c);
}

static uint64_t frag_drops(const ustk_stack *s)
{
    return net_drops(s, USTK_DROP_IP_FRAG_BAD) +
           net_drops(s, USTK_DROP_IP_FRAG_DUP) +
           net_drops(s, USTK_DROP_IP_FRAG_OVERLAP) +
           net_drops(s, USTK_DROP_IP_FRAG_TOO_BIG) +
           net_drops(s, USTK_DROP_IP_FRAG_NO_MEMORY) +
           net_drops(s, USTK_DROP_IP_FRAG_TABLE_FULL) +
           net_drops(s, USTK_DROP_IP_FRAG_TIMEOUT);
}

/* Random fragments of a few dozen datagrams from a few sources: offsets
 * anywhere up to 64 KiB, lengths up to the MTU, MF at random. The memory
 * the stack holds beyond its fixed tables never exceeds frag_mem plus the
 * output queues' buffers; once every datagram has timed out, every
 * fragment that came in is accounted for as a drop. */
static void fragment_storm(void **st)
{
    (void)st;
    net_meter m = {0, 0};
    ustk_config c;
    net_cfg(&c, NET_B, USTK_LINK_IP);
    c.frag_mem = 64 * 1024;
    c.frag_max = 16;
    c.frag_timeout = USTK_SEC(2);
    ustk_stack *s = metered(&c, &m);
    int h = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr me = {0, 6000};
    assert_int_equal(ustk_bind(s, h, &me), 0);
    /* Beyond what the stack holds now, reassembly may hold frag_mem; the
     * output queues make their buffers on first use and keep them. */
    size_t base = m.live;
    size_t outq = ((size_t)c.ctl_queue + c.dgram_queue) *
                  ustk_stack_frame_max(s);
    ustk_rng rng;
    ustk_rng_seed(&rng, 99);
    const int n = 30000;
    uint64_t rejected = 0;
    ustk_time now = 0;
    for (int i = 0; i < n; i++) {
        now += USTK_MS(1);
        uint32_t src = USTK_IP4(10, 0, 0, 10 + ustk_rng_below(&rng, 4));
        uint16_t id = (uint16_t)ustk_rng_below(&rng, 40);
        bool more = ustk_rng_below(&rng, 4) != 0;
        uint32_t off = (uint32_t)ustk_rng_below(&rng, 8192) * 8;
        if (ustk_rng_below(&rng, 4) == 0)
            off = (uint32_t)ustk_rng_below(&rng, 8) * 1480; /* plausible */
        size_t len = 1 + ustk_rng_below(&rng, 1480);
        if (more && ustk_rng_below(&rng, 8) != 0)
            len = (len + 7) & ~(size_t)7;
        if (!more && off == 0)
            off = 8; /* a whole datagram is not what this test is about */
        for (size_t k = 0; k < len; k++)
            payload[k] = (uint8_t)ustk_rng_next(&rng);
        size_t fl = net_ip(frame, src, NET_B, 17, id,
                           (uint16_t)(off / 8 | (more ? USTK_IPV4_MF : 0)),
                           payload, len);
        if (ustk_input(s, now, frame, fl) != 0)
            rejected++;
        if (i % 32 == 0)
            net_drain(s, now);
        assert_true(m.live <= base + c.frag_mem + outq);
    }
    /* All time out. */
    now += USTK_SEC(3);
    net_drain(s, now);
    assert_int_equal(ustk_next_deadline(s, now), USTK_TIME_NEVER);
    ustk_stack_stats stt = net_stats(s);
    assert_int_equal(stt.ip_frags_in, (uint64_t)n);
    assert_true(frag_drops(s) >= rejected);
    /* Nothing random ever made a whole datagram here, so every fragment
     * is a drop, counted once. */
    assert_int_equal(stt.ip_reassembled, 0);
    assert_int_equal(frag_drops(s), (uint64_t)n);
    assert_true(net_drops(s, USTK_DROP_IP_FRAG_OVERLAP) > 0);
    assert_true(net_drops(s, USTK_DROP_IP_FRAG_TIMEOUT) > 0);
    assert_true(net_drops(s, USTK_DROP_IP_FRAG_TABLE_FULL) +
                    net_drops(s, USTK_DROP_IP_FRAG_NO_MEMORY) >
                0);
    assert_true(m.peak <= base + c.frag_mem + outq);
    /* Everything reassembly held is given back. */
    assert_int_equal(ustk_recv(s, h, payload, sizeof payload, now),
                     USTK_EAGAIN);
    ustk_stack_destroy(s);
    assert_int_equal(m.live, 0);
}

/* Random ICMP messages, many of them errors with plausible quotes of our
 * own connections' packets with random fields, against a stack with a TCP
 * connection opening, a connected UDP socket and a ping socket. Nothing
 * crashes, every rejected message is counted, nothing is sent in answer
 * to an error. */
static void icmp_error_storm(void **st)
{
    (void)st;
    ustk_stack *s = net_ip_stack(NET_A);
    int t = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr to = {NET_B, 80};
    assert_int_equal(ustk_connect(s, t, &to, 0), USTK_EINPROGRESS);
    uint8_t syn[28];
    assert_true(net_take(s, 0, frame) >= 40);
    memcpy(syn, frame, 28);
    int u = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr peer = {NET_B, 53};
    assert_int_equal(ustk_connect(s, u, &peer, 0), 0);
    int p = ustk_open(s, USTK_PROTO_ICMP);
    assert_true(p >= 0);
    ustk_rng rng;
    ustk_rng_seed(&rng, 5);
    uint64_t rejected = 0;
    static const uint8_t types[] = {3, 4, 5, 11, 12, 0, 8, 13, 42};
    for (int i = 0; i < 20000; i++) {
        uint8_t q[64];
        size_t qlen = ustk_rng_below(&rng, sizeof q + 1);
        memcpy(q, syn, 28);
        /* Mutate a few bytes of the quote, sometimes none. */
        int flips = (int)ustk_rng_below(&rng, 4);
        for (int k = 0; k < flips; k++)
            q[ustk_rng_below(&rng, 28)] = (uint8_t)ustk_rng_next(&rng);
        for (size_t k = 28; k < qlen; k++)
            q[k] = (uint8_t)ustk_rng_next(&rng);
        uint8_t type = types[ustk_rng_below(&rng, sizeof types)];
        if (type == 8)
            type = 0; /* echo requests get replies; keep to errors */
        size_t n = net_icmp(frame, NET_B, NET_A, type,
                            (uint8_t)ustk_rng_below(&rng, 16),
                            (uint32_t)ustk_rng_next(&rng), q, qlen);
        if (ustk_input(s, USTK_MS(1), frame, n) != 0)
            rejected++;
        assert_int_equal(net_take(s, USTK_MS(1), frame), 0);
    }
    assert_true(net_all_drops(s) >= rejected);
    assert_true(rejected > 15000);
    assert_true(net_drops(s, USTK_DROP_ICMP_ERR_SHORT) > 0);
    assert_true(net_drops(s, USTK_DROP_ICMP_ERR_QUOTE) > 0);
    assert_true(net_drops(s, USTK_DROP_ICMP_NO_MATCH) > 0);
    assert_int_equal(net_stats(s).icmp_errors_sent, 0);
    ustk_stack_destroy(s);
}

/* A flood at a socket nobody reads: the queue holds what its bounds
 * allow, the rest is counted, memory stays flat. A flood at closed ports
 * gets no more ICMP than the bucket gives. */
static void udp_floods(void **st)
{
    (void)st;
    net_meter m = {0, 0};
    ustk_config c;
    net_cfg(&c, NET_A, USTK_LINK_IP);
    c.udp_rcv_max = 100;
    c.udp_rcv_buf = 64 * 1024;
    c.icmp_burst = 10;
    c.icmp_rate = 100;
    ustk_stack *s = metered(&c, &m);
    int h = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr me = {0, 7};
    assert_int_equal(ustk_bind(s, h, &me), 0);
    size_t n = net_udp(frame, NET_B, NET_A, 1000, 7, payload, 1000);
    const int flood = 5000;
    size_t after_first = 0;
    for (int i = 0; i < flood; i++) {
        ustk_input(s, USTK_MS(i), frame, n);
        if (i == 100)
            after_first = m.live;
    }
    assert_int_equal(m.live, after_first); /* full since 65 datagrams */
    uint64_t full = net_drops(s, USTK_DROP_UDP_QUEUE_FULL);
    ustk_stack_stats stt = net_stats(s);
    assert_int_equal(stt.udp_datagrams_in, 65); /* 65 * 1000 <= 65536 */
    assert_int_equal(stt.udp_datagrams_in + full, (uint64_t)flood);
    /* Closed port, 10 s of one datagram a millisecond: at most the burst
     * plus 100 a second. */
    n = net_udp(frame, NET_B, NET_A, 1000, 9, payload, 10);
    int sent = 0;
    for (int i = 0; i < 10000; i++) {
        ustk_time now = USTK_SEC(10) + USTK_MS(i);
        ustk_input(s, now, frame, n);
        sent += net_drain(s, now);
    }
    assert_true(sent <= 10 + 100 * 10 + 1);
    assert_true(sent >= 100 * 10);
    assert_int_equal(net_drops(s, USTK_DROP_ICMP_RATE_LIMITED),
                     (uint64_t)(10000 - sent));
    ustk_stack_destroy(s);
    assert_int_equal(m.live, 0);
}

/* What Linux puts on a fresh device besides traffic for us: IPv6
 * multicast (MLD reports) on TAP, IPv6 to our MAC, IPv6 on TUN. Each is
 * dropped, counted and answered by nothing, as no fault of anyone's
 * (ustk_drop_benign); a damaged IPv4 header is a fault. */
static void benign_noise(void **st)
{
    (void)st;
    ustk_config c;
    net_cfg(&c, NET_A, USTK_LINK_ETHERNET);
    ustk_stack *e = net_stack(&c), *t = net_ip_stack(NET_A);
    net_drain(e, 0);
    uint8_t f[14 + 40] = {0x33, 0x33, 0, 0, 0, 0x16, 0x02, 0, 0, 0, 0, 0x09,
                          0x86, 0xdd, 0x60};
    assert_int_equal(ustk_input(e, 0, f, sizeof f), USTK_DROP_ETH_NOT_FOR_US);
    memcpy(f, c.mac, 6);
    assert_int_equal(ustk_input(e, 0, f, sizeof f), USTK_DROP_ETH_TYPE);
    assert_int_equal(ustk_input(t, 0, f + 14, 40), USTK_DROP_IP_VERSION);
    size_t n = net_ip(frame, NET_B, NET_A, USTK_IP_PROTO_UDP, 1, 0, payload, 8);
    frame[10] ^= 0xff; /* the header checksum */
    assert_int_equal(ustk_input(t, 0, frame, n), USTK_DROP_IP_CHECKSUM);
    assert_int_equal(net_take(e, 0, frame), 0);
    assert_int_equal(net_take(t, 0, frame), 0);
    assert_int_equal(net_all_drops(e), 2);
    assert_int_equal(net_all_drops(t), 2);

    static const int benign[] = {USTK_DROP_ETH_NOT_FOR_US, USTK_DROP_ETH_TYPE,
                                 USTK_DROP_ARP_NOT_FOR_US,
                                 USTK_DROP_ARP_ANNOUNCE, USTK_DROP_IP_VERSION};
    int count = 0;
    for (int r = -1; r <= USTK_DROP__COUNT; r++)
        count += ustk_drop_benign(r) != 0;
    assert_int_equal(count, 5);
    for (size_t i = 0; i < sizeof benign / sizeof benign[0]; i++)
        assert_true(ustk_drop_benign(benign[i]));
    ustk_stack_destroy(e);
    ustk_stack_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fragment_storm),
        cmocka_unit_test(icmp_error_storm),
        cmocka_unit_test(udp_floods),
        cmocka_unit_test(benign_noise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
