/* Path MTU discovery end to end: two stacks whose interfaces take 1500
 * bytes, with a router between them whose next hop takes less (the
 * simulated link's path_mtu). Each side's full-sized segments are refused
 * with ICMP "fragmentation needed"; the echo must then complete byte for
 * byte in segments that fit, with loss and with TSO too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim_scenario.h"

static void run(ustk_link_kind link, uint16_t path_mtu, double loss,
                bool tso, bool options)
{
    scen_cfg c;
    scen_result r;
    scen_cfg_default(&c);
    c.link = link;
    c.bytes = 1 << 20;
    c.sim.path_mtu = path_mtu;
    c.sim.loss = loss;
    c.sim.seed = 7;
    c.tso = tso;
    c.options = options;
    assert_int_equal(scen_run(&c, &r), 0);
    if (!r.data_ok || r.timed_out)
        print_error("link %d, path MTU %u, loss %.2f, tso %d: data_ok=%d "
                    "timed_out=%d client got %zu, server got %zu\n",
                    (int)link, path_mtu, loss, tso, r.data_ok, r.timed_out,
                    r.client_got, r.server_got);
    assert_true(r.data_ok);
    assert_false(r.timed_out);
    assert_int_equal(r.client_state, USTK_TCP_CLOSED);
    assert_int_equal(r.server_state, USTK_TCP_CLOSED);
    /* Each side hit the router at least once, and every refused packet
     * had DF and was answered. */
    assert_true(r.sim.too_big >= 2);
    assert_int_equal(r.sim.icmp_sent, r.sim.too_big);
    /* Both ends learnt the path: data plus options plus 40 bytes of
     * headers fill the path MTU exactly. */
    uint32_t opts = options ? 12 : 0;
    assert_true(r.client_info_ok && r.server_info_ok);
    assert_int_equal(r.client_info.mss, path_mtu - 40 - opts);
    assert_int_equal(r.server_info.mss, path_mtu - 40 - opts);
}

static void test_eth_1280(void **state)
{
    (void)state;
    run(USTK_LINK_ETHERNET, 1280, 0, false, true);
}

static void test_ip_1000_no_options(void **state)
{
    (void)state;
    run(USTK_LINK_IP, 1000, 0, false, false);
}

static void test_eth_1400_with_loss(void **state)
{
    (void)state;
    run(USTK_LINK_ETHERNET, 1400, 0.02, false, true);
}

static void test_eth_576_with_tso(void **state)
{
    (void)state;
    run(USTK_LINK_ETHERNET, 576, 0, true, true);
}

/* A path MTU no smaller than the interfaces' changes nothing. */
static void test_wide_path_is_never_hit(void **state)
{
    (void)state;
    scen_cfg c;
    scen_result r;
    scen_cfg_default(&c);
    c.bytes = 256 * 1024;
    c.sim.path_mtu = 1500;
    assert_int_equal(scen_run(&c, &r), 0);
    assert_true(r.data_ok);
    assert_int_equal(r.sim.too_big, 0);
    assert_int_equal(r.client_info.mss, 1448);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eth_1280),
        cmocka_unit_test(test_ip_1000_no_options),
        cmocka_unit_test(test_eth_1400_with_loss),
        cmocka_unit_test(test_eth_576_with_tso),
        cmocka_unit_test(test_wide_path_is_never_hit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
