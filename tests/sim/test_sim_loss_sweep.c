/* Simulation tier: drop each single frame of a whole conversation in turn
 * (ARP, handshake, data, ACKs, teardown) with the link's loss mask. Every
 * run must end with the data intact and both sides CLOSED. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "sim_scenario.h"

static void sweep(ustk_link_kind link, scen_close close)
{
    scen_cfg c;
    scen_cfg_default(&c);
    c.link = link;
    c.close = close;
    c.bytes = 12000;
    scen_result base;
    assert_int_equal(scen_run(&c, &base), 0);
    assert_true(base.data_ok);
    uint32_t frames = base.frames;
    assert_true(frames > 20);
    uint32_t failures = 0;
    for (uint32_t i = 0; i < frames; i++) {
        scen_cfg d = c;
        d.sim.drop_mask[0] = i;
        d.sim.drop_mask_len = 1;
        scen_result r;
        assert_int_equal(scen_run(&d, &r), 0);
        bool ok = r.data_ok && !r.timed_out && r.client_err == 0 &&
                  r.server_err == 0 && r.client_state == USTK_TCP_CLOSED &&
                  r.server_state == USTK_TCP_CLOSED;
        if (!ok) {
            failures++;
            print_error("drop frame %u/%u (link=%d close=%d): data_ok=%d "
                        "timed_out=%d cerr=%s serr=%s cstate=%s sstate=%s\n",
                        i, frames, (int)link, (int)close, r.data_ok,
                        r.timed_out, ustk_errname(r.client_err),
                        ustk_errname(r.server_err),
                        ustk_tcp_state_name(r.client_state),
                        ustk_tcp_state_name(r.server_state));
        }
    }
    printf("# link=%s close=%d: dropped each of %u frames in turn, %u failures\n",
           link == USTK_LINK_IP ? "ip" : "ethernet", (int)close, frames,
           failures);
    assert_int_equal(failures, 0);
}

static void eth_client(void **st) { (void)st; sweep(USTK_LINK_ETHERNET, SCEN_CLOSE_CLIENT); }
static void eth_server(void **st) { (void)st; sweep(USTK_LINK_ETHERNET, SCEN_CLOSE_SERVER); }
static void eth_both(void **st) { (void)st; sweep(USTK_LINK_ETHERNET, SCEN_CLOSE_BOTH); }
static void ip_client(void **st) { (void)st; sweep(USTK_LINK_IP, SCEN_CLOSE_CLIENT); }
static void ip_server(void **st) { (void)st; sweep(USTK_LINK_IP, SCEN_CLOSE_SERVER); }
static void ip_both(void **st) { (void)st; sweep(USTK_LINK_IP, SCEN_CLOSE_BOTH); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eth_client), cmocka_unit_test(eth_server),
        cmocka_unit_test(eth_both),   cmocka_unit_test(ip_client),
        cmocka_unit_test(ip_server),  cmocka_unit_test(ip_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
