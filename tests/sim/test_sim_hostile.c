/* Hostile and malformed input: garbage frames, mutated real frames and a
 * SYN flood. Nothing may crash (the suite also runs under ASan/UBSan),
 * every rejected frame must be counted, and the limits of the config must
 * hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim_scenario.h"
#include "util/rng.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

static uint64_t total_drops(const ustk_stack *s)
{
    uint64_t n = 0;
    for (int r = 0; r < USTK_DROP__COUNT; r++)
        n += ustk_stack_drops(s, r);
    return n;
}

static ustk_stack *server(ustk_link_kind link, uint32_t max_sockets,
                          uint32_t half_open, int *listener)
{
    ustk_config c;
    ustk_config_default(&c);
    c.link = link;
    c.ip = USTK_IP4(10, 0, 0, 2);
    c.mac[0] = 2;
    c.mac[5] = 2;
    c.max_sockets = max_sockets;
    c.max_half_open = half_open;
    ustk_stack *s;
    assert_int_equal(ustk_stack_create(&s, &c, 0), 0);
    int l = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr a = {0, 80};
    assert_int_equal(ustk_bind(s, l, &a), 0);
    assert_int_equal(ustk_listen(s, l, 16), 0);
    *listener = l;
    return s;
}

static void drain(ustk_stack *s, ustk_time now)
{
    uint8_t buf[2048];
    size_t len;
    for (int i = 0; i < 100000; i++)
        if (ustk_poll_output(s, now, buf, sizeof buf, &len) != 0)
            return;
    fail_msg("output never ran dry");
}

static void garbage(void **st)
{
    (void)st;
    ustk_rng rng;
    ustk_rng_seed(&rng, 42);
    for (int k = 0; k < 2; k++) {
        int l;
        ustk_stack *s = server(k ? USTK_LINK_IP : USTK_LINK_ETHERNET, 64, 8, &l);
        uint64_t rejected = 0;
        uint8_t frame[1600];
        for (int i = 0; i < 20000; i++) {
            size_t len = (size_t)ustk_rng_below(&rng, sizeof frame + 1);
            for (size_t j = 0; j < len; j++)
                frame[j] = (uint8_t)ustk_rng_next(&rng);
            if (k == 1 && len && i % 2) {
                frame[0] = 0x45; /* look like IPv4 to get further in */
            }
            if (ustk_input(s, (ustk_time)i, frame, len) != 0)
                rejected++;
            if (i % 64 == 0)
                drain(s, (ustk_time)i);
        }
        assert_int_equal(total_drops(s), rejected);
        assert_true(rejected > 19000);
        ustk_stack_destroy(s);
    }
}

/* Build an IPv4 TCP segment from 10.0.0.9:sport to 10.0.0.2:80. */
static size_t tcp_frame(uint8_t *buf, uint32_t src, uint16_t sport,
                        uint8_t flags, uint32_t seq, uint32_t ack)
{
    ustk_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.sport = sport;
    h.dport = 80;
    h.seq = seq;
    h.ack = ack;
    h.flags = flags;
    h.wnd = 65535;
    h.opts.has = USTK_OPT_MSS;
    h.opts.mss = 1460;
    uint32_t dst = USTK_IP4(10, 0, 0, 2);
    size_t n = ustk_tcp_emit(&h, NULL, 0, src, dst, buf + 20, 1480);
    ustk_ipv4_hdr ip;
    memset(&ip, 0, sizeof(ip));
    ip.total_len = (uint16_t)(20 + n);
    ip.ttl = 64;
    ip.proto = USTK_IP_PROTO_TCP;
    ip.src = src;
    ip.dst = dst;
    ustk_ipv4_emit(&ip, buf, 20);
    return 20 + n;
}

static void syn_flood(void **st)
{
    (void)st;
    int l;
    ustk_stack *s = server(USTK_LINK_IP, 128, 32, &l);
    uint8_t buf[128];
    const int n = 10000;
    for (int i = 0; i < n; i++) {
        size_t len = tcp_frame(buf, USTK_IP4(10, 0, 0, 9),
                               (uint16_t)(1024 + i), USTK_TCP_SYN,
                               (uint32_t)i * 7919u, 0);
        ustk_input(s, USTK_MS(i), buf, len);
        drain(s, USTK_MS(i));
    }
    /* At most max_half_open are kept at once; the rest are counted. SYN-ACK
     * retries time out and free their places as the flood goes on. */
    uint64_t full = ustk_stack_drops(s, USTK_DROP_TCP_SYN_BACKLOG_FULL);
    ustk_stack_stats stats;
    ustk_stack_stats_get(s, &stats);
    assert_int_equal(stats.tcp_passive_opens + full, (uint64_t)n);
    assert_true(full > 0);
    assert_true(stats.tcp_passive_opens < (uint64_t)n);
    /* The listener still works for a real client afterwards. */
    assert_int_equal(ustk_accept(s, l, NULL), USTK_EAGAIN);
    ustk_stack_destroy(s);
}

static void mutated_segments(void **st)
{
    (void)st;
    /* Valid checksums, random header fields: every path of segment
     * arrival gets exercised against live connections. */
    ustk_rng rng;
    ustk_rng_seed(&rng, 7);
    int l;
    ustk_stack *s = server(USTK_LINK_IP, 256, 64, &l);
    uint8_t buf[128];
    uint64_t rejected = 0;
    for (int i = 0; i < 50000; i++) {
        uint16_t sport = (uint16_t)(1000 + ustk_rng_below(&rng, 8));
        uint8_t flags = (uint8_t)ustk_rng_next(&rng);
        uint32_t seq = (uint32_t)ustk_rng_next(&rng);
        uint32_t ack = (uint32_t)ustk_rng_next(&rng);
        size_t len = tcp_frame(buf, USTK_IP4(10, 0, 0, 9), sport, flags, seq, ack);
        if (ustk_input(s, USTK_MS(i), buf, len) != 0)
            rejected++;
        if (i % 16 == 0) {
            drain(s, USTK_MS(i));
            int c = ustk_accept(s, l, NULL);
            if (c >= 0)
                ustk_close(s, c, USTK_MS(i));
        }
    }
    drain(s, USTK_SEC(100000));
    /* Every rejected segment was counted (output can add drops of its own,
     * so the count may be higher), and most random segments are rejected. */
    assert_true(total_drops(s) >= rejected);
    assert_true(rejected > 25000);
    ustk_stack_destroy(s);
}

/* RFC 1122 §3.2.1.3: a datagram from a broadcast address (limited or the
 * subnet's) is discarded. */
static void broadcast_source(void **st)
{
    (void)st;
    int l;
    ustk_stack *s = server(USTK_LINK_IP, 16, 8, &l);
    uint8_t buf[128];
    size_t len = tcp_frame(buf, USTK_IP4(10, 0, 0, 255), 1000, USTK_TCP_SYN, 1, 0);
    assert_int_equal(ustk_input(s, 0, buf, len), USTK_DROP_IP_SRC);
    len = tcp_frame(buf, 0xffffffffu, 1000, USTK_TCP_SYN, 1, 0);
    assert_int_equal(ustk_input(s, 0, buf, len), USTK_DROP_IP_SRC);
    len = tcp_frame(buf, USTK_IP4(10, 0, 0, 254), 1000, USTK_TCP_SYN, 1, 0);
    assert_int_equal(ustk_input(s, 0, buf, len), 0);
    ustk_stack_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(broadcast_source),
        cmocka_unit_test(garbage),
        cmocka_unit_test(syn_flood),
        cmocka_unit_test(mutated_segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
