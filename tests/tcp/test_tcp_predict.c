/* Header prediction (tcp_input.c, predicted_data) must change nothing but
 * the path a segment takes: each script here runs twice, with prediction
 * on and off, and the connection must come out the same. The scripts put
 * the connection in states the short path's checks let through but where
 * the long path still has something to do. */
#include <stdlib.h>

#include "tcp_harness.h"

#define MSS 1460u

typedef struct outcome {
    ustk_tcp_info ti;
    uint64_t predicted; /* segments the short path took */
} outcome;

/* A resent tail loss probe (RFC 8985 §7.4) that the peer's ACK reaches
 * exactly is still undecided when everything is acknowledged; data the
 * application wrote meanwhile (held by Nagle behind the probe's short
 * segment) keeps the RACK log. The peer's next segment is in-order data
 * that acknowledges nothing new: the short path takes it, but the long
 * path hands it to RACK, which ends the probe's episode (tlp_on_ack). */
static void tlp_then_data(tcp_test *t, bool predict, outcome *o)
{
    t->cfg.opt_sack = true;
    t->cfg.tcp_predict = predict;
    t->peer_syn_opts = "<MSS=1460><SACKOK>";
    conn_in_established(t);
    assert_int_equal(app_send(t, 100), 100);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    /* No ACK: the probe resends the last (only) segment. */
    advance_to(t, th_deadline(t));
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    assert_int_equal(info(t).rtx_tlp, 1);
    /* Nagle (Minshall): a short segment is unacknowledged, so this waits. */
    assert_int_equal(app_send(t, 50), 50);
    expect_nothing(t);
    /* Two segments from the peer back to back, before the stack's output
     * is polled: the first acknowledges everything (the probe's end
     * exactly), the second carries only data. */
    inject(t, "<SEQ=1><ACK=101><CTL=ACK><LEN=10>");
    inject(t, "<SEQ=11><ACK=101><CTL=ACK><LEN=10>");
    o->ti = info(t);
    ustk_stack_stats st;
    ustk_stack_stats_get(t->s, &st);
    o->predicted = st.tcp_predicted;
    th_drain(t);
}

static void test_tlp_episode_same_both_ways(void **state)
{
    tcp_test *on = *state;
    void *p = NULL;
    outcome a, b;

    tlp_then_data(on, true, &a);
    assert_int_equal(th_setup(&p), 0);
    tlp_then_data(p, false, &b);
    th_teardown(&p);
    assert_int_equal(b.predicted, 0);
    assert_int_equal(a.ti.cwnd, b.ti.cwnd);
    assert_int_equal(a.ti.ssthresh, b.ti.ssthresh);
    assert_int_equal(a.ti.rcv_nxt, b.ti.rcv_nxt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_tlp_episode_same_both_ways),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
