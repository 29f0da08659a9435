/* Simulation tier: two stacks, one conversation each, every close variant
 * on both link kinds, checked byte for byte and state by state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "sim_scenario.h"

#define V(st) (1u << USTK_TCP_##st)

static void run_ok(const scen_cfg *c, scen_result *r)
{
    assert_int_equal(scen_run(c, r), 0);
    if (!r->data_ok || r->timed_out || r->client_err || r->server_err ||
        r->client_state != USTK_TCP_CLOSED || r->server_state != USTK_TCP_CLOSED)
        print_error("bytes=%zu close=%d link=%d: data_ok=%d timed_out=%d "
                    "cerr=%s serr=%s cstate=%s sstate=%s got=%zu/%zu\n",
                    c->bytes, (int)c->close, (int)c->link, r->data_ok,
                    r->timed_out, ustk_errname(r->client_err),
                    ustk_errname(r->server_err),
                    ustk_tcp_state_name(r->client_state),
                    ustk_tcp_state_name(r->server_state), r->server_got,
                    r->client_got);
    assert_true(r->data_ok);
    assert_false(r->timed_out);
    assert_int_equal(r->client_err, 0);
    assert_int_equal(r->server_err, 0);
    assert_int_equal(r->client_state, USTK_TCP_CLOSED);
    assert_int_equal(r->server_state, USTK_TCP_CLOSED);
}

static void check_variant(ustk_link_kind link, scen_close close)
{
    scen_cfg c;
    scen_cfg_default(&c);
    c.link = link;
    c.close = close;
    scen_result r;
    run_ok(&c, &r);
    uint32_t handshake_c = V(SYN_SENT) | V(ESTABLISHED);
    uint32_t handshake_s = V(SYN_RECEIVED) | V(ESTABLISHED);
    assert_int_equal(r.client_visited & handshake_c, handshake_c);
    assert_int_equal(r.server_visited & handshake_s, handshake_s);
    uint32_t active = V(FIN_WAIT_1) | V(FIN_WAIT_2) | V(TIME_WAIT);
    uint32_t passive = V(CLOSE_WAIT) | V(LAST_ACK);
    uint32_t simul = V(FIN_WAIT_1) | V(CLOSING) | V(TIME_WAIT);
    switch (close) {
    case SCEN_CLOSE_CLIENT:
        assert_int_equal(r.client_visited & (active | passive), active);
        assert_int_equal(r.server_visited & (active | passive), passive);
        break;
    case SCEN_CLOSE_SERVER:
        assert_int_equal(r.server_visited & (active | passive), active);
        assert_int_equal(r.client_visited & (active | passive), passive);
        break;
    case SCEN_CLOSE_BOTH:
        assert_int_equal(r.client_visited & (simul | passive | V(FIN_WAIT_2)), simul);
        assert_int_equal(r.server_visited & (simul | passive | V(FIN_WAIT_2)), simul);
        break;
    }
    /* TIME-WAIT lasts 2*MSL: the conversation cannot end sooner. */
    assert_true(r.end >= 2 * c.msl);
    assert_int_equal(r.retransmits, 0);
}

static void eth_client_close(void **st) { (void)st; check_variant(USTK_LINK_ETHERNET, SCEN_CLOSE_CLIENT); }
static void eth_server_close(void **st) { (void)st; check_variant(USTK_LINK_ETHERNET, SCEN_CLOSE_SERVER); }
static void eth_simultaneous_close(void **st) { (void)st; check_variant(USTK_LINK_ETHERNET, SCEN_CLOSE_BOTH); }
static void ip_client_close(void **st) { (void)st; check_variant(USTK_LINK_IP, SCEN_CLOSE_CLIENT); }
static void ip_server_close(void **st) { (void)st; check_variant(USTK_LINK_IP, SCEN_CLOSE_SERVER); }
static void ip_simultaneous_close(void **st) { (void)st; check_variant(USTK_LINK_IP, SCEN_CLOSE_BOTH); }

static void sizes(void **st)
{
    (void)st;
    static const size_t sz[] = {0, 1, 1447, 1448, 1449, 65536, 300000, 1000000};
    for (size_t i = 0; i < sizeof(sz) / sizeof(sz[0]); i++) {
        scen_cfg c;
        scen_cfg_default(&c);
        c.bytes = sz[i];
        c.seed = 100 + i;
        scen_result r;
        run_ok(&c, &r);
    }
}

static void small_buffers(void **st)
{
    (void)st;
    /* Buffers far smaller than the data: flow control has to work. */
    scen_cfg c;
    scen_cfg_default(&c);
    c.bytes = 200000;
    c.snd_buf = 3000;
    c.rcv_buf = 4000;
    scen_result r;
    run_ok(&c, &r);
}

static void no_options(void **st)
{
    (void)st;
    scen_cfg c;
    scen_cfg_default(&c);
    c.options = false;
    c.bytes = 100000;
    scen_result r;
    run_ok(&c, &r);
}

static void random_loss(void **st)
{
    (void)st;
    /* Seeded random loss, reordering, duplication and corruption: the data
     * must still arrive exactly. */
    for (uint64_t seed = 1; seed <= 12; seed++) {
        scen_cfg c;
        scen_cfg_default(&c);
        c.seed = seed;
        c.bytes = 30000;
        c.close = (scen_close)(seed % 3);
        c.link = seed % 2 ? USTK_LINK_ETHERNET : USTK_LINK_IP;
        c.sim.seed = seed;
        c.sim.loss = 0.05;
        c.sim.reorder = 0.05;
        c.sim.duplicate = 0.05;
        c.sim.corrupt = 0.02;
        scen_result r;
        run_ok(&c, &r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eth_client_close),
        cmocka_unit_test(eth_server_close),
        cmocka_unit_test(eth_simultaneous_close),
        cmocka_unit_test(ip_client_close),
        cmocka_unit_test(ip_server_close),
        cmocka_unit_test(ip_simultaneous_close),
        cmocka_unit_test(sizes),
        cmocka_unit_test(small_buffers),
        cmocka_unit_test(no_options),
        cmocka_unit_test(random_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
