/* ARP over the simulated Ethernet link: entries refreshed while in use, an
 * unanswered neighbour ending in EHOSTUNREACH, and requests answered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim_scenario.h"

static void refresh_while_in_use(void **st)
{
    (void)st;
    /* The cache entry goes stale many times during the transfer; traffic
     * must keep flowing while it is refreshed, so nothing is held back,
     * lost or retransmitted. */
    scen_cfg c;
    scen_cfg_default(&c);
    c.bytes = 400000;
    c.sim.rate_bps = 10000000; /* about 0.7 s of data each way */
    c.arp_ttl = USTK_MS(100);
    scen_result r;
    assert_int_equal(scen_run(&c, &r), 0);
    assert_true(r.data_ok);
    assert_int_equal(r.retransmits, 0);
    /* The entries did go stale and were asked for again: more requests
     * than the two announcements and the first resolution. Zero
     * retransmissions above show traffic never waited for the answers. */
    assert_true(r.arp_requests >= 5);
}

static void unresolved_neighbour(void **st)
{
    (void)st;
    ustk_config cfg;
    ustk_config_default(&cfg);
    cfg.ip = USTK_IP4(10, 0, 0, 1);
    cfg.mac[0] = 2;
    cfg.arp_retry = USTK_MS(500);
    cfg.arp_max_retries = 3;
    ustk_stack *s;
    assert_int_equal(ustk_stack_create(&s, &cfg, 0), 0);
    int h = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr to = {USTK_IP4(10, 0, 0, 99), 80};
    assert_int_equal(ustk_connect(s, h, &to, 0), USTK_EINPROGRESS);
    uint8_t buf[1600];
    size_t len;
    unsigned requests = 0;
    ustk_time now = 0;
    while (now < USTK_SEC(10)) {
        while (ustk_poll_output(s, now, buf, sizeof buf, &len) == 0) {
            /* Only ARP goes out: the SYN waits for an answer that never
             * comes. ethertype 0x0806, operation 1, target 10.0.0.99. */
            assert_int_equal(buf[12], 0x08);
            assert_int_equal(buf[13], 0x06);
            assert_int_equal(buf[21], 1);
            if (buf[38] == 10 && buf[41] == 99)
                requests++;
        }
        if (ustk_sock_poll(s, h) & USTK_ERROR)
            break;
        now = ustk_next_deadline(s, now);
        assert_true(now != USTK_TIME_NEVER);
    }
    assert_int_equal(ustk_sock_error(s, h), USTK_EHOSTUNREACH);
    assert_int_equal(requests, 3);
    assert_int_equal(now, USTK_MS(1500));
    /* Held and then lost: the SYN and its retransmission at 1 s. */
    assert_int_equal(ustk_stack_drops(s, USTK_DROP_ARP_UNRESOLVED), 2);
    ustk_stack_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refresh_while_in_use),
        cmocka_unit_test(unresolved_neighbour),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
