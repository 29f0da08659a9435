/* Congestion control and the sender's pacing rules, scripted: the initial
 * window (RFC 6928), slow start (RFC 5681 §3.1), fast retransmit and
 * NewReno fast recovery (RFC 5681 §3.2, RFC 6582), limited transmit
 * (RFC 3042), the loss window after a timeout, Nagle (RFC 9293 §3.7.4),
 * keepalive (RFC 1122 §4.2.3.6) and the user timeout (RFC 5482). */
#include "tcp_harness.h"

#define MSS 1460u

/* Ten segments go at once, then the sender waits for ACKs; each ACK in
 * slow start opens the window by one segment. */
static void test_initial_window_and_slow_start(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_int_equal(info(t).cwnd, 10 * MSS);
    assert_int_equal(info(t).ssthresh, UINT32_MAX);
    assert_int_equal(app_send(t, 30 * MSS), 30 * MSS);
    expect_segments(t, 0, 10, MSS);
    expect_nothing(t);
    advance_to(t, t->now + USTK_MS(100));
    /* One segment acknowledged: cwnd 11, in flight 9, two may go. */
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", 1 + MSS);
    assert_int_equal(info(t).cwnd, 11 * MSS);
    expect_segments(t, 10, 2, MSS);
    expect_nothing(t);
    /* An ACK of two segments still grows cwnd by one SMSS (L = 1). */
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", 1 + 3 * MSS);
    assert_int_equal(info(t).cwnd, 12 * MSS);
    expect_segments(t, 12, 3, MSS);
    expect_nothing(t);
}

/* Three duplicate ACKs: retransmit, ssthresh = FlightSize / 2, cwnd =
 * ssthresh + 3 SMSS; further duplicates inflate cwnd; a partial ACK
 * retransmits the next hole at once; the full ACK deflates and ends the
 * recovery. The first two duplicates each let one new segment out
 * (limited transmit). */
static void test_newreno_fast_recovery(void **state)
{
    tcp_test *t = *state;
    ustk_tcp_info ti;

    conn_in_established(t);
    assert_int_equal(app_send(t, 14 * MSS), 14 * MSS);
    expect_segments(t, 0, 10, MSS);
    advance_to(t, t->now + USTK_MS(100));
    /* Segments 1 and 2 are lost; 3..10 arrive and are reported. */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect_segments(t, 10, 1, MSS); /* limited transmit */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect_segments(t, 11, 1, MSS);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS); /* fast retransmit */
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.ssthresh, 6 * MSS); /* 12 segments in flight */
    assert_int_equal(ti.cwnd, 9 * MSS);
    assert_int_equal(ti.rtx_fast, 1);
    /* Four more duplicates inflate cwnd to 13: one new segment. */
    for (int i = 0; i < 4; i++)
        inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    assert_int_equal(info(t).cwnd, 13 * MSS);
    expect_segments(t, 12, 1, MSS);
    expect_nothing(t);
    /* Partial ACK (segment 1 repaired, 2 still missing). */
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", 1 + MSS);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 1 + MSS, MSS);
    ti = info(t);
    assert_int_equal(ti.cwnd, 13 * MSS); /* minus one acked, plus one */
    assert_int_equal(ti.rtx_fast, 2);
    /* Full ACK of everything sent before recovery (12 segments). */
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", 1 + 12 * MSS);
    ti = info(t);
    /* min(ssthresh, max(FlightSize, SMSS) + SMSS), one segment in flight */
    assert_int_equal(ti.cwnd, 2 * MSS);
    assert_int_equal(ti.ssthresh, 6 * MSS);
    expect_segments(t, 13, 1, MSS);
    expect_nothing(t);
}

/* A timeout: ssthresh = FlightSize / 2, cwnd = one segment (RFC 5681
 * §3.1 eq. 4 and the loss window), and the sender goes back to SND.UNA. */
static void test_timeout_loss_window(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    ustk_tcp_info ti;

    conn_in_established(t);
    t0 = t->now;
    assert_int_equal(app_send(t, 8 * MSS), 8 * MSS);
    expect_segments(t, 0, 8, MSS);
    expect_at(t, t0 + USTK_MS(1500), "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.cwnd, MSS);
    assert_int_equal(ti.ssthresh, 4 * MSS);
    assert_int_equal(ti.rtx_timeout, 1);
    /* The ACK of the resent segment opens the window to two. */
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", 1 + MSS);
    assert_int_equal(info(t).cwnd, 2 * MSS);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 1 + MSS, MSS);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 1 + 2 * MSS, MSS);
    expect_nothing(t);
}

/* Nagle: a small write goes when nothing is in flight; the next small one
 * waits for the ACK; with TCP_NODELAY it goes at once. */
static void test_nagle(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_int_equal(app_send(t, 100), 100);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    assert_int_equal(app_send(t, 50), 50);
    expect_nothing(t);
    assert_int_equal(app_send(t, 50), 50);
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=101><CTL=ACK>");
    expect(t, "<SEQ=101><ACK=1><CTL=ACK><LEN=100>");
    expect_nothing(t);

    assert_int_equal(ustk_setsockopt(t->s, t->c.sock, USTK_TCP_NODELAY, 1), 0);
    int v = 0;
    assert_int_equal(ustk_getsockopt(t->s, t->c.sock, USTK_TCP_NODELAY, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(app_send(t, 10), 10);
    expect(t, "<SEQ=201><ACK=1><CTL=ACK><LEN=10>");
}

/* Nagle in Minshall's form: a short tail behind full segments goes at
 * once (RFC 896's rule would hold it until their ACK, which a receiver
 * that delays ACKs sends 40 ms late: a stall at the end of every odd
 * stream). What waits is a short segment while another short one is
 * unacknowledged, and it goes once that one is, not before. */
static void test_nagle_minshall(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_int_equal(app_send(t, 3 * MSS + 100), 3 * MSS + 100);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 1 + MSS, MSS);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 1 + 2 * MSS, MSS);
    expect(t, "<SEQ=%u><CTL=ACK,PSH><LEN=100>", 1 + 3 * MSS);
    expect_nothing(t);
    /* A second short write: the first short segment is still out. */
    assert_int_equal(app_send(t, 50), 50);
    expect_nothing(t);
    /* The full segments acknowledged, the short one not: still held. */
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", 1 + 3 * MSS);
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", 1 + 3 * MSS + 100);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK,PSH><LEN=50>", 1 + 3 * MSS + 100);
    expect_nothing(t);
}

/* Keepalive: after the idle time a probe <SEQ=SND.UNA-1> with no data;
 * an answer restarts the idle time; keep_cnt unanswered probes end the
 * connection with ETIMEDOUT. */
static void test_keepalive(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    int sock;

    conn_in_established(t);
    sock = t->c.sock;
    assert_int_equal(ustk_setsockopt(t->s, sock, USTK_TCP_KEEPIDLE, 10), 0);
    assert_int_equal(ustk_setsockopt(t->s, sock, USTK_TCP_KEEPINTVL, 2), 0);
    assert_int_equal(ustk_setsockopt(t->s, sock, USTK_TCP_KEEPCNT, 3), 0);
    assert_err(ustk_setsockopt(t->s, sock, USTK_TCP_KEEPCNT, 0), USTK_EINVAL);
    t0 = t->now;
    assert_int_equal(ustk_setsockopt(t->s, sock, USTK_SO_KEEPALIVE, 1), 0);
    expect_at(t, t0 + USTK_SEC(10), "<SEQ=0><ACK=1><CTL=ACK>");
    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    t0 = t->now;
    expect_at(t, t0 + USTK_SEC(10), "<SEQ=0><ACK=1><CTL=ACK>");
    expect_at(t, t0 + USTK_SEC(12), "<SEQ=0><ACK=1><CTL=ACK>");
    expect_at(t, t0 + USTK_SEC(14), "<SEQ=0><ACK=1><CTL=ACK>");
    expect_nothing_until(t, t0 + USTK_SEC(16) - 1);
    assert_state(t, USTK_TCP_ESTABLISHED);
    advance_to(t, t0 + USTK_SEC(16));
    th_drain(t);
    assert_err(ustk_sock_error(t->s, sock), USTK_ETIMEDOUT);
}

/* An established connection with keepalive on after `idle_s` seconds;
 * returns when the first probe is due. */
static ustk_time keepalive_on(tcp_test *t, int idle_s)
{
    conn_in_established(t);
    assert_int_equal(ustk_setsockopt(t->s, t->c.sock, USTK_TCP_KEEPIDLE, idle_s), 0);
    assert_int_equal(ustk_setsockopt(t->s, t->c.sock, USTK_SO_KEEPALIVE, 1), 0);
    return t->now + USTK_SEC(idle_s);
}

/* close() at the very moment the keepalive time runs out: the FIN goes,
 * not a probe. The poll that sends the FIN runs the timers first, and
 * keepalive does not probe in FIN-WAIT-1. */
static void test_close_when_keepalive_due(void **state)
{
    tcp_test *t = *state;

    ustk_time due = keepalive_on(t, 10), rto = info(t).rto_us;
    assert_int_equal(th_deadline(t), due);
    t->now = due; /* no poll in between */
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_FIN_WAIT_1);
    /* Only the FIN's retransmission timer is left. */
    assert_int_equal(th_deadline(t), due + rto);
}

/* send() at the very moment the keepalive time runs out: the data goes,
 * and no probe after it. Like Linux's keepalive timer, ours does not
 * probe a connection with anything queued or in flight: the
 * retransmission timer watches over that. */
static void test_send_when_keepalive_due(void **state)
{
    tcp_test *t = *state;

    ustk_time due = keepalive_on(t, 10), rto = info(t).rto_us;
    assert_int_equal(th_deadline(t), due);
    t->now = due; /* no poll in between */
    assert_int_equal(app_send(t, 100), 100);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect_nothing(t);
    /* The data's retransmission timer comes next; once the data is
     * acknowledged, the keepalive time counts from the ACK. */
    assert_int_equal(th_deadline(t), due + rto);
    advance_to(t, due + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=101><CTL=ACK>");
    expect_nothing(t);
    assert_int_equal(th_deadline(t), due + USTK_MS(100) + USTK_SEC(10));
}

/* Data queued behind a zero window, and a peer that answers nothing: the
 * persist timer's probes go (at 1.5, 4.5, 10.5 s), and keepalive adds
 * none of its own at 10 s. */
static void test_keepalive_zero_window(void **state)
{
    tcp_test *t = *state;

    t->c.peer_wnd = 0;
    keepalive_on(t, 10);
    ustk_time t0 = t->now;
    assert_int_equal(app_send(t, 100), 100);
    expect_nothing(t);
    expect_at(t, t0 + USTK_MS(1500), "<SEQ=0><ACK=1><CTL=ACK>");
    expect_at(t, t0 + USTK_MS(4500), "<SEQ=0><ACK=1><CTL=ACK>");
    expect_at(t, t0 + USTK_MS(10500), "<SEQ=0><ACK=1><CTL=ACK>");
    expect_nothing(t);
}

/* User timeout (RFC 5482 semantics): data unacknowledged for longer than
 * the user timeout ends the connection, even before data_retries. */
static void test_user_timeout(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    int sock;

    conn_in_established(t);
    sock = t->c.sock;
    assert_int_equal(ustk_setsockopt(t->s, sock, USTK_TCP_USER_TIMEOUT, 3000), 0);
    t0 = t->now;
    assert_int_equal(app_send(t, 100), 100);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect_at(t, t0 + USTK_MS(1500), "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    /* The next timeout would be at 4.5 s; the user timeout cuts it at 3. */
    assert_int_equal(th_deadline(t), t0 + USTK_SEC(3));
    advance_to(t, t0 + USTK_SEC(3));
    th_drain(t);
    assert_err(ustk_sock_error(t->s, sock), USTK_ETIMEDOUT);
}

/* The algorithm is chosen per socket. */
static void test_congestion_option(void **state)
{
    tcp_test *t = *state;
    int v = -1;

    conn_in_established(t);
    assert_int_equal(info(t).cc, USTK_CC_NEWRENO);
    assert_int_equal(ustk_setsockopt(t->s, t->c.sock, USTK_TCP_CONGESTION,
                                     USTK_CC_CUBIC), 0);
    assert_int_equal(ustk_getsockopt(t->s, t->c.sock, USTK_TCP_CONGESTION, &v), 0);
    assert_int_equal(v, USTK_CC_CUBIC);
    assert_int_equal(info(t).cc, USTK_CC_CUBIC);
    assert_int_equal(info(t).cwnd, 10 * MSS);
    assert_err(ustk_setsockopt(t->s, t->c.sock, USTK_TCP_CONGESTION, 7), USTK_EINVAL);
    assert_err(ustk_setsockopt(t->s, t->c.sock, 999, 1), USTK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_initial_window_and_slow_start),
        TH_TEST(test_newreno_fast_recovery),
        TH_TEST(test_timeout_loss_window),
        TH_TEST(test_nagle),
        TH_TEST(test_nagle_minshall),
        TH_TEST(test_keepalive),
        TH_TEST(test_close_when_keepalive_due),
        TH_TEST(test_send_when_keepalive_due),
        TH_TEST(test_keepalive_zero_window),
        TH_TEST(test_user_timeout),
        TH_TEST(test_congestion_option),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
