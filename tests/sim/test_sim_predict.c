/* Simulation tier: header prediction (tcp_input.c, predicted_data) changes
 * nothing but the path a segment takes. Each conversation runs twice, with
 * prediction on and off in both stacks, and the two runs must be the same
 * event for event: every segment in and out with all its fields, every
 * state, timer, window change and drop, at the same virtual times (a hash
 * of each stack's trace), and the same bytes delivered. The conversations
 * cover what the short path must step aside for: loss, reordering,
 * duplicates and damaged frames (holes, SACK, recovery, timeouts), a small
 * receive buffer (windows that close and open), both directions at once
 * (data in flight on each side), no options (no timestamps) and each way
 * of closing. With prediction on, segments must have taken the short path
 * where a receiver gets in-order data; with it off, none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "sim_scenario.h"

static void run_ok(const scen_cfg *c, scen_result *r)
{
    assert_int_equal(scen_run(c, r), 0);
    if (!r->data_ok || r->timed_out || r->client_err || r->server_err ||
        r->client_state != USTK_TCP_CLOSED ||
        r->server_state != USTK_TCP_CLOSED)
        fail_msg("seed %llu: data_ok=%d timed_out=%d cerr=%s serr=%s",
                 (unsigned long long)c->seed, r->data_ok, r->timed_out,
                 ustk_errname(r->client_err), ustk_errname(r->server_err));
}

/* Both runs of c; returns the segments predicted in the first. */
static uint64_t same_both_ways(const scen_cfg *base)
{
    scen_cfg c = *base;
    scen_result on, off;

    c.no_predict = false;
    run_ok(&c, &on);
    c.no_predict = true;
    run_ok(&c, &off);
    assert_int_equal(off.predicted, 0);
    if (on.client_events != off.client_events ||
        on.server_events != off.server_events || on.frames != off.frames ||
        on.end != off.end || on.retransmits != off.retransmits)
        fail_msg("seed %llu: the runs differ (frames %u/%u, end %llu/%llu, "
                 "retransmits %llu/%llu, events %s %s)",
                 (unsigned long long)c.seed, on.frames, off.frames,
                 (unsigned long long)on.end, (unsigned long long)off.end,
                 (unsigned long long)on.retransmits,
                 (unsigned long long)off.retransmits,
                 on.client_events == off.client_events ? "client same"
                                                       : "client differ",
                 on.server_events == off.server_events ? "server same"
                                                       : "server differ");
    return on.predicted;
}

/* A clean one-way transfer: a pure receiver takes nearly every data
 * segment the short way; an echo, where data is in flight both ways, much
 * less (and it must still be the same). */
static void test_clean(void **state)
{
    scen_cfg c;
    (void)state;
    scen_cfg_default(&c);
    c.mode = SCEN_DUPLEX;
    c.bytes = 1 << 20;
    uint64_t n = same_both_ways(&c);
    /* 1 MB in 1448-byte segments: 725, the first few quick-ACKed. */
    if (n < 700)
        fail_msg("only %llu segments predicted", (unsigned long long)n);
    scen_cfg_default(&c);
    c.bytes = 1 << 20;
    same_both_ways(&c);
}

/* Every impairment the link has, over many seeds and each way of
 * closing, with SACK (and so RACK) and without. */
static void test_impaired(void **state)
{
    scen_cfg c;
    uint64_t total = 0;
    (void)state;
    for (uint64_t seed = 1; seed <= 24; seed++) {
        scen_cfg_default(&c);
        c.seed = seed;
        c.bytes = 200000;
        c.mode = seed % 2 ? SCEN_DUPLEX : SCEN_ECHO;
        c.close = (scen_close)(seed % 3);
        c.sack = seed % 4 == 0 ? 0 : -1;
        c.sim.seed = seed;
        c.sim.loss = 0.02;
        c.sim.reorder = 0.02;
        c.sim.duplicate = 0.01;
        c.sim.corrupt = 0.01;
        total += same_both_ways(&c);
    }
    assert_true(total > 0);
}

/* A receive buffer of a few segments: the window closes, the sender
 * probes, the window opens; in both directions at once. */
static void test_small_window_duplex(void **state)
{
    scen_cfg c;
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        scen_cfg_default(&c);
        c.seed = seed;
        c.mode = SCEN_DUPLEX;
        c.bytes = 300000;
        c.back_bytes = 150000;
        c.rcv_buf = 4096;
        c.snd_buf = 8192;
        c.close = (scen_close)(seed % 3);
        c.sim.seed = seed;
        c.sim.loss = seed > 3 ? 0.01 : 0;
        same_both_ways(&c);
    }
}

/* No options: no timestamps to check, no SACK. */
static void test_no_options(void **state)
{
    scen_cfg c;
    (void)state;
    scen_cfg_default(&c);
    c.options = false;
    c.mode = SCEN_DUPLEX;
    c.bytes = 300000;
    assert_true(same_both_ways(&c) > 0);
    c.sim.loss = 0.02;
    c.sim.reorder = 0.02;
    same_both_ways(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean),
        cmocka_unit_test(test_impaired),
        cmocka_unit_test(test_small_window_duplex),
        cmocka_unit_test(test_no_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
