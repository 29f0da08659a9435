/* Compact TIME-WAIT (tcp_tw.c): an orphaned connection in TIME-WAIT is kept
 * as a 56-byte record, and behaves to the peer exactly as the full block
 * did: a retransmitted FIN is acknowledged and restarts 2 MSL, a RST is
 * ignored (RFC 1337), the 4-tuple stays taken, and the record goes after
 * 2 MSL. */
#include "core/tcp_priv.h"
#include "tcp_harness.h"

static uint32_t records(const tcp_test *t)
{
    return ustk__tw_count(t->s);
}

static uint32_t blocks(const tcp_test *t)
{
    return t->s->ntcb;
}

/* TIME-WAIT, then the handle closed: the block becomes a record. Returns
 * when TIME-WAIT began. */
static ustk_time orphan_time_wait(tcp_test *t)
{
    conn_in_time_wait(t);
    ustk_time tw = t->now;
    assert_int_equal(records(t), 0);
    assert_int_equal(blocks(t), 1);
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    t->c.sock = -1;
    expect_nothing(t);
    assert_int_equal(records(t), 1);
    assert_int_equal(blocks(t), 0);
    return tw;
}

static void test_record_replaces_block(void **state)
{
    tcp_test *t = *state;
    ustk_time tw;

    tw = orphan_time_wait(t);
    /* Nothing changes for the peer or the trace: still TIME-WAIT, and
     * the 2 MSL deadline is where it was. */
    assert_int_equal(th_traced_state(t), USTK_TCP_TIME_WAIT);
    assert_int_equal(th_deadline(t), tw + 2 * t->cfg.msl);
    expect_nothing_until(t, tw + 2 * t->cfg.msl - 1);
    assert_int_equal(records(t), 1);
    advance_to(t, tw + 2 * t->cfg.msl);
    expect_nothing(t);
    assert_int_equal(records(t), 0);
    assert_int_equal(th_traced_state(t), USTK_TCP_CLOSED);
    assert_true(th_traced_change(t, USTK_TCP_TIME_WAIT, USTK_TCP_CLOSED));
    assert_int_equal(th_deadline(t), USTK_TIME_NEVER);
    /* The tuple is free: a segment for it finds nobody. */
    assert_drop(inject(t, "<SEQ=2><ACK=2><CTL=ACK>"), USTK_DROP_TCP_NO_SOCKET);
    expect(t, "<SEQ=2><CTL=RST>");
}

/* RFC 9293 §3.10.7.4: a retransmitted FIN is acknowledged and restarts
 * the 2 MSL timer, for the record as for the block. */
static void test_record_refin(void **state)
{
    tcp_test *t = *state;
    ustk_time again;

    (void)orphan_time_wait(t);
    advance_to(t, t->now + USTK_SEC(1));
    again = t->now;
    inject(t, "<SEQ=1><ACK=2><CTL=FIN,ACK>");
    expect(t, "<SEQ=2><ACK=2><CTL=ACK>");
    expect_nothing(t);
    assert_int_equal(records(t), 1);
    assert_int_equal(blocks(t), 0);
    /* (The stack may wake once at the old expiry, to find nothing due.) */
    expect_nothing_until(t, again + 2 * t->cfg.msl - 1);
    assert_int_equal(records(t), 1);
    advance_to(t, again + 2 * t->cfg.msl);
    expect_nothing(t);
    assert_int_equal(records(t), 0);
    assert_int_equal(th_traced_state(t), USTK_TCP_CLOSED);
}

/* RFC 1337: a RST does not end TIME-WAIT, nor does a stray ACK. */
static void test_record_ignores_rst(void **state)
{
    tcp_test *t = *state;

    (void)orphan_time_wait(t);
    assert_drop(inject(t, "<SEQ=2><CTL=RST>"), USTK_DROP_TCP_RST_TIME_WAIT);
    expect_nothing(t);
    assert_int_equal(records(t), 1);
    assert_int_equal(blocks(t), 0);
    assert_int_equal(th_traced_state(t), USTK_TCP_TIME_WAIT);
}

/* The 4-tuple stays taken: a socket bound to the same port cannot connect
 * to the same peer while the record lives. */
static void test_record_holds_tuple(void **state)
{
    tcp_test *t = *state;
    ustk_sockaddr me, peer;
    int s2;

    (void)orphan_time_wait(t);
    s2 = ustk_open(t->s, USTK_PROTO_TCP);
    assert_true(s2 >= 0);
    me.addr = 0;
    me.port = t->c.lport;
    assert_int_equal(ustk_bind(t->s, s2, &me), 0);
    peer.addr = TH_PEER_IP;
    peer.port = t->c.pport;
    assert_int_equal(ustk_connect(t->s, s2, &peer, t->now),
                     USTK_EADDRINUSE);
    assert_int_equal(ustk_close(t->s, s2, t->now), 0);
}

/* With no room for records the block stays, and still works. */
static void test_no_records_keeps_block(void **state)
{
    tcp_test *t = *state;
    ustk_time tw;

    t->cfg.max_time_wait = 0;
    conn_in_time_wait(t);
    tw = t->now;
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    t->c.sock = -1;
    expect_nothing(t);
    assert_int_equal(records(t), 0);
    assert_int_equal(blocks(t), 1);
    inject(t, "<SEQ=1><ACK=2><CTL=FIN,ACK>");
    expect(t, "<SEQ=2><ACK=2><CTL=ACK>");
    advance_to(t, t->now + 2 * t->cfg.msl);
    expect_nothing(t);
    assert_true(t->now > tw);
    assert_int_equal(blocks(t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_record_replaces_block),
        TH_TEST(test_record_refin),
        TH_TEST(test_record_ignores_rst),
        TH_TEST(test_record_holds_tuple),
        TH_TEST(test_no_records_keeps_block),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
