/* The output path's self-check: a segment is only ever built from bytes
 * the send ring holds. This test breaks a connection's sequence state by
 * hand (white box), as the SYN-SENT bug fixed in test_tcp_open.c once
 * did, and requires a reset and a count, not stale memory on the wire. */
#include "tcp_harness.h"
#include "core/tcp_priv.h"

static ustk_tcb *the_tcb(tcp_test *t)
{
    ustk_tcb *tcb = ustk__tcb_lookup(t->s, TH_LOCAL_IP, t->c.lport,
                                     TH_PEER_IP, t->c.pport);
    assert_non_null(tcb);
    assert_non_null(tcb->x);
    return tcb;
}

static uint64_t self_checks(tcp_test *t)
{
    ustk_stack_stats st;
    ustk_stack_stats_get(t->s, &st);
    return st.tcp_self_check;
}

/* SND.NXT behind SND.UNA: the plan's first byte lies before the ring. */
static void test_plan_before_ring_resets(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_int_equal(app_send(t, 100), 100);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK,PSH><LEN=100>");
    inject(t, "<SEQ=1><ACK=101><CTL=ACK>");
    expect_nothing(t);
    assert_int_equal(app_send(t, 50), 50);
    ustk_tcb *tcb = the_tcb(t);
    tcb->x->snd_nxt = tcb->snd_una - 1;
    /* Without the check this segment would carry a byte before the ring
     * and the ring's bytes shifted by one. */
    expect(t, "<SEQ=101><CTL=RST>");
    expect_nothing(t);
    assert_int_equal(self_checks(t), 1);
    assert_err(ustk_send(t->s, t->c.sock, "x", 1, t->now),
               USTK_ECONNABORTED);
}

/* The check costs nothing visible on a sound connection. */
static void test_sound_connection_unaffected(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_int_equal(app_send(t, 3000), 3000);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1460>");
    expect(t, "<SEQ=1461><ACK=1><CTL=ACK><LEN=1460>");
    expect(t, "<SEQ=2921><ACK=1><CTL=ACK,PSH><LEN=80>");
    expect_nothing(t);
    assert_int_equal(self_checks(t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_plan_before_ring_resets),
        TH_TEST(test_sound_connection_unaffected),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
