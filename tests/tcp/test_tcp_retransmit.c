/* Retransmission and its timeouts: SYN and SYN,ACK backoff, data and FIN
 * retransmission on RTO (RFC 6298), giving up with ETIMEDOUT, and fast
 * retransmit (RFC 5681 §3.2). Every time is exact.
 *
 * The fixtures' handshake takes 500 ms with rto_initial = 1.5 s, so the RTO
 * after the handshake is 1.5 s whether or not the stack samples the
 * handshake's RTT (RFC 6298 §2.2: SRTT + 4 * RTTVAR = 500 + 1000 ms). */
#include "tcp_harness.h"

/* RFC 6298 §5.5 backoff on the SYN: retransmitted at rto_initial, doubling,
 * syn_retries times; when the timer expires once more, connect fails with
 * ETIMEDOUT (RFC 9293 §3.8.3, R2 for a SYN). Nothing is sent then. */
static void test_syn_backoff_then_timeout(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    ustk_tcp_info ti;

    t->cfg.rto_initial = USTK_SEC(1);
    t->cfg.syn_retries = 3;
    conn_in_syn_sent(t);
    t0 = t->now;
    expect_at(t, t0 + USTK_SEC(1), "<SEQ=0><CTL=SYN><MSS=1460>");
    expect_at(t, t0 + USTK_SEC(3), "<SEQ=0><CTL=SYN><MSS=1460>");
    expect_at(t, t0 + USTK_SEC(7), "<SEQ=0><CTL=SYN><MSS=1460>");
    ti = info(t);
    assert_int_equal(ti.retransmits, 3);
    assert_int_equal(ti.backoff, 3);
    assert_int_equal(th_deadline(t), t0 + USTK_SEC(15));

    expect_nothing_until(t, t0 + USTK_SEC(15) - 1);
    expect_nothing(t);
    assert_state(t, USTK_TCP_SYN_SENT);
    assert_int_equal(ustk_sock_poll(t->s, t->c.sock) & USTK_ERROR, 0);

    advance_to(t, t0 + USTK_SEC(15));
    expect_nothing(t);
    assert_state(t, USTK_TCP_CLOSED);
    assert_true(ustk_sock_poll(t->s, t->c.sock) & USTK_ERROR);
    assert_err(ustk_sock_error(t->s, t->c.sock), USTK_ETIMEDOUT);
    assert_int_equal(th_deadline(t), USTK_TIME_NEVER);
}

/* The backoff is capped at rto_max. */
static void test_syn_backoff_capped(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;

    t->cfg.rto_initial = USTK_SEC(1);
    t->cfg.rto_max = USTK_SEC(3);
    t->cfg.syn_retries = 4;
    conn_in_syn_sent(t);
    t0 = t->now;
    expect_at(t, t0 + USTK_SEC(1), "<SEQ=0><CTL=SYN>");  /* RTO 1 */
    expect_at(t, t0 + USTK_SEC(3), "<SEQ=0><CTL=SYN>");  /* RTO 2 */
    expect_at(t, t0 + USTK_SEC(6), "<SEQ=0><CTL=SYN>");  /* RTO 3 (capped) */
    expect_at(t, t0 + USTK_SEC(9), "<SEQ=0><CTL=SYN>");  /* RTO 3 */
    expect_nothing_until(t, t0 + USTK_SEC(12));
    assert_int_equal(ustk_sock_poll(t->s, t->c.sock) & USTK_ERROR, 0);
    expect_nothing(t);
    assert_err(ustk_sock_error(t->s, t->c.sock), USTK_ETIMEDOUT);
}

/* A SYN,ACK that arrives after a retransmitted SYN still completes the
 * connection. */
static void test_syn_retransmitted_then_answered(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;

    t->cfg.rto_initial = USTK_SEC(1);
    conn_in_syn_sent(t);
    t0 = t->now;
    expect_at(t, t0 + USTK_SEC(1), "<SEQ=0><CTL=SYN>");
    advance_to(t, t0 + USTK_MS(1200));
    inject(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><MSS=1460>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    assert_state(t, USTK_TCP_ESTABLISHED);
    assert_int_equal(ustk_sock_error(t->s, t->c.sock), 0);
    expect_nothing_until(t, t0 + USTK_SEC(60));
}

/* RFC 6298 §5.7: "If the timer expires awaiting the ACK of a SYN segment and
 * the TCP implementation is using an RTO less than 3 seconds, the RTO MUST
 * be re-initialized to 3 seconds when data transmission begins". The SYN,ACK
 * gives no sample (the SYN was retransmitted: Karn, RFC 6298 §3). */
static void test_rto_reinitialized_to_3s(void **state)
{
    tcp_test *t = *state;
    ustk_time t0, t1;

    t->cfg.rto_initial = USTK_SEC(1);
    conn_in_syn_sent(t);
    t0 = t->now;
    expect_at(t, t0 + USTK_SEC(1), "<SEQ=0><CTL=SYN>");
    advance_to(t, t0 + USTK_MS(1200));
    inject(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><MSS=1460>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    t1 = t->now;
    assert_int_equal(app_send(t, 100), 100);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect_at(t, t1 + USTK_SEC(3), "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
}

/* SYN,ACK retransmission: at rto_initial, doubling, synack_retries times;
 * then the half-open connection is dropped. Its late ACK reaches only the
 * listener, which answers <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.2). */
static void test_synack_backoff_then_drop(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    int traced;

    t->cfg.synack_retries = 2;
    conn_in_syn_received(t);
    t0 = t->now;
    expect_at(t, t0 + USTK_MS(1500), "<SEQ=0><ACK=1><CTL=SYN,ACK><MSS=1460>");
    expect_at(t, t0 + USTK_MS(4500), "<SEQ=0><ACK=1><CTL=SYN,ACK><MSS=1460>");
    assert_int_equal(th_deadline(t), t0 + USTK_MS(10500));
    expect_nothing_until(t, t0 + USTK_MS(10500) - 1);
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_SYN_RECEIVED);
    advance_to(t, t0 + USTK_MS(10500));
    expect_nothing(t);
    traced = th_traced_state(t);
    assert_true(traced == USTK_TCP_CLOSED || traced == USTK_TCP_LISTEN);
    expect_nothing_until(t, t0 + USTK_SEC(60));

    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect(t, "<SEQ=1><CTL=RST>");
    assert_err(ustk_accept(t->s, t->lsock, NULL), USTK_EAGAIN);
    assert_sock_state(t, t->lsock, USTK_TCP_LISTEN);
}

/* The handshake's final ACK after a retransmitted SYN,ACK still works. */
static void test_synack_retransmitted_then_acked(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;

    conn_in_syn_received(t);
    t0 = t->now;
    expect_at(t, t0 + USTK_MS(1500), "<SEQ=0><ACK=1><CTL=SYN,ACK>");
    advance_to(t, t0 + USTK_MS(1600));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect_nothing(t);
    t->c.sock = ustk_accept(t->s, t->lsock, NULL);
    assert_true(t->c.sock >= 0);
    assert_state(t, USTK_TCP_ESTABLISHED);
    expect_nothing_until(t, t0 + USTK_SEC(60));
}

/* Data: retransmitted on RTO, the RTO doubled each time (RFC 6298 §5.5) up
 * to rto_max; after data_retries retransmissions the next expiry fails the
 * connection with ETIMEDOUT. A RST (at SND.NXT) may be sent then. */
static void test_data_rto_backoff_then_timeout(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    ustk_tcp_info ti;
    th_seg g;

    t->cfg.rto_max = USTK_SEC(5);
    t->cfg.data_retries = 4;
    conn_in_established(t);
    assert_int_equal(info(t).rto_us, 1500000);
    t0 = t->now;
    assert_int_equal(app_send(t, 100), 100);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect_at(t, t0 + USTK_MS(1500), "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect_at(t, t0 + USTK_MS(4500), "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect_at(t, t0 + USTK_MS(9500), "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect_at(t, t0 + USTK_MS(14500), "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    ti = info(t);
    assert_int_equal(ti.retransmits, 4);
    assert_int_equal(ti.backoff, 4);
    assert_int_equal(ti.rto_us, 5000000);
    assert_int_equal(th_deadline(t), t0 + USTK_MS(19500));

    expect_nothing_until(t, t0 + USTK_MS(19500) - 1);
    expect_nothing(t);
    assert_state(t, USTK_TCP_ESTABLISHED);
    advance_to(t, t0 + USTK_MS(19500));
    if (th_take(t, __FILE__, __LINE__, &g)) {
        assert_true(g.h.flags & USTK_TCP_RST);
        assert_int_equal(g.h.seq, t->c.iss + 101);
    }
    expect_nothing(t);
    assert_state(t, USTK_TCP_CLOSED);
    assert_true(ustk_sock_poll(t->s, t->c.sock) & USTK_ERROR);
    assert_err(ustk_sock_error(t->s, t->c.sock), USTK_ETIMEDOUT);
    expect_nothing_until(t, t0 + USTK_SEC(120));
}

/* An ACK of the retransmitted data ends the retransmissions. */
static void test_data_rto_then_ack(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    ustk_tcp_info ti;

    conn_in_established(t);
    t0 = t->now;
    assert_int_equal(app_send(t, 100), 100);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect_at(t, t0 + USTK_MS(1500), "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    advance_to(t, t0 + USTK_MS(2000));
    inject(t, "<SEQ=1><ACK=101><CTL=ACK>");
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.snd_una, t->c.iss + 101);
    assert_int_equal(ti.snd_queued, 0);
    assert_int_equal(ti.retransmits, 1);
    assert_int_equal(ti.backoff, 0);
    assert_int_equal(ti.bytes_sent, 100);
    assert_int_equal(th_deadline(t), USTK_TIME_NEVER);
    expect_nothing_until(t, t0 + USTK_SEC(120));
}

/* RFC 6298 §2.2 and §2.3 on the first data sample, and the next
 * retransmission exactly one RTO after sending. Two RFC-conforming results
 * are possible, depending on whether the handshake (500 ms) gave the first
 * sample:
 *   not sampled: R = 100 ms: SRTT 100, RTTVAR 50, RTO 300 ms;
 *   sampled:     SRTT 7/8*500 + 1/8*100 = 450, RTTVAR 3/4*250 + 1/4*400 =
 *                287.5, RTO 450 + 4*287.5 = 1600 ms. */
static void test_rto_from_rtt_sample(void **state)
{
    tcp_test *t = *state;
    ustk_tcp_info ti;
    ustk_time t1;

    conn_in_established(t);
    assert_int_equal(app_send(t, 100), 100);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    advance_to(t, t->now + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=101><CTL=ACK>");
    expect_nothing(t);
    ti = info(t);
    if (ti.rto_us == 300000) {
        assert_int_equal(ti.srtt_us, 100000);
        assert_int_equal(ti.rttvar_us, 50000);
    } else {
        assert_int_equal(ti.rto_us, 1600000);
        assert_int_equal(ti.srtt_us, 450000);
        assert_int_equal(ti.rttvar_us, 287500);
    }

    advance_to(t, t->now + USTK_MS(10));
    t1 = t->now;
    assert_int_equal(app_send(t, 50), 50);
    expect(t, "<SEQ=101><ACK=1><CTL=ACK><LEN=50>");
    expect_at(t, t1 + ti.rto_us, "<SEQ=101><ACK=1><CTL=ACK><LEN=50>");
}

/* RFC 6298 §5.3: an ACK of new data restarts the timer for the current
 * RTO; the retransmission then covers only what is still unacknowledged. */
static void test_partial_ack_retransmits_rest(void **state)
{
    tcp_test *t = *state;
    ustk_time t1;
    uint32_t rto;

    conn_in_established(t);
    assert_int_equal(app_send(t, 2920), 2920);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1460>");
    expect(t, "<SEQ=1461><ACK=1><CTL=ACK><LEN=1460>");
    expect_nothing(t);
    advance_to(t, t->now + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=1461><CTL=ACK>");
    expect_nothing(t);
    t1 = t->now;
    rto = info(t).rto_us;
    assert_true(rto == 300000 || rto == 1600000);
    expect_at(t, t1 + rto, "<SEQ=1461><ACK=1><CTL=ACK><LEN=1460>");
    expect_nothing(t);
}

/* RFC 5681 §3.2: "After receiving 3 duplicate ACKs, TCP performs a
 * retransmission of what appears to be the missing segment, without waiting
 * for the retransmission timer to expire." */
static void test_fast_retransmit(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_int_equal(app_send(t, 5 * 1460), 5 * 1460);
    expect_segments(t, 0, 5, 1460);
    expect_nothing(t);
    advance_to(t, t->now + USTK_MS(100));
    /* The first segment was lost; segments 2..4 each cause a dup ACK. */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1460>");
    expect_nothing(t);
    assert_int_equal(info(t).retransmits, 1);
    /* The repair is acknowledged with everything else. */
    inject(t, "<SEQ=1><ACK=7301><CTL=ACK>");
    expect_nothing(t);
    assert_int_equal(info(t).snd_queued, 0);
    assert_int_equal(th_deadline(t), USTK_TIME_NEVER);
}

/* The FIN is retransmitted like data, on the same RTO backoff. */
static void test_fin_retransmit(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;

    conn_in_fin_wait_1(t);
    t0 = t->now;
    expect_at(t, t0 + USTK_MS(1500), "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    expect_at(t, t0 + USTK_MS(4500), "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    assert_state(t, USTK_TCP_FIN_WAIT_1);
    advance_to(t, t0 + USTK_MS(5000));
    inject(t, "<SEQ=1><ACK=2><CTL=ACK>");
    expect_nothing(t);
    assert_state(t, USTK_TCP_FIN_WAIT_2);
    expect_nothing_until(t, t0 + USTK_SEC(60));
}

/* The FIN of LAST-ACK too; its ACK closes the connection. */
static void test_last_ack_fin_retransmit(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;

    conn_in_last_ack(t);
    t0 = t->now;
    expect_at(t, t0 + USTK_MS(1500), "<SEQ=1><ACK=2><CTL=FIN,ACK>");
    advance_to(t, t0 + USTK_MS(2000));
    inject(t, "<SEQ=2><ACK=2><CTL=ACK>");
    expect_nothing(t);
    assert_state(t, USTK_TCP_CLOSED);
    expect_nothing_until(t, t0 + USTK_SEC(60));
}

/* A FIN that is never acknowledged times out like data. */
static void test_fin_retransmit_then_timeout(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    th_seg g;

    t->cfg.data_retries = 2;
    conn_in_fin_wait_1(t);
    t0 = t->now;
    expect_at(t, t0 + USTK_MS(1500), "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    expect_at(t, t0 + USTK_MS(4500), "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    expect_nothing_until(t, t0 + USTK_MS(10500));
    assert_state(t, USTK_TCP_FIN_WAIT_1);
    if (th_take(t, __FILE__, __LINE__, &g)) {
        assert_true(g.h.flags & USTK_TCP_RST);
        assert_int_equal(g.h.seq, t->c.iss + 2);
    }
    expect_nothing(t);
    assert_state(t, USTK_TCP_CLOSED);
    assert_err(ustk_sock_error(t->s, t->c.sock), USTK_ETIMEDOUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_syn_backoff_then_timeout),
        TH_TEST(test_syn_backoff_capped),
        TH_TEST(test_syn_retransmitted_then_answered),
        TH_TEST(test_rto_reinitialized_to_3s),
        TH_TEST(test_synack_backoff_then_drop),
        TH_TEST(test_synack_retransmitted_then_acked),
        TH_TEST(test_data_rto_backoff_then_timeout),
        TH_TEST(test_data_rto_then_ack),
        TH_TEST(test_rto_from_rtt_sample),
        TH_TEST(test_partial_ack_retransmits_rest),
        TH_TEST(test_fast_retransmit),
        TH_TEST(test_fin_retransmit),
        TH_TEST(test_last_ack_fin_retransmit),
        TH_TEST(test_fin_retransmit_then_timeout),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
