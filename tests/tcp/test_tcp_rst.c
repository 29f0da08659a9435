/* Resets and unacceptable segments: RFC 9293 §3.10.7.1 (no connection),
 * §3.10.7.3 (SYN-SENT), §3.10.7.4 (acceptability, RST, SYN, ACK checks) with
 * the mitigations of RFC 5961 (§3 RST, §4 SYN, §5 ACK). */
#include "tcp_harness.h"

/* CLOSED, ACK bit on: <SEQ=SEG.ACK><CTL=RST>. */
static void test_no_socket_ack(void **state)
{
    tcp_test *t = *state;

    th_start(t);
    t->c.lport = TH_CLOSED_PORT;
    assert_drop(inject(t, "<SEQ=5><ACK=@5000><CTL=ACK><LEN=10>"),
                     USTK_DROP_TCP_NO_SOCKET);
    expect(t, "<SEQ=@5000><CTL=RST><NOOPTS>");
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_NO_SOCKET), 1);
}

/* CLOSED, ACK bit off: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, where
 * SEG.LEN counts SYN and FIN. */
static void test_no_socket_syn(void **state)
{
    tcp_test *t = *state;

    th_start(t);
    t->c.lport = TH_CLOSED_PORT;
    assert_drop(inject(t, "<SEQ=0><CTL=SYN><MSS=1460>"),
                     USTK_DROP_TCP_NO_SOCKET);
    expect(t, "<SEQ=@0><ACK=1><CTL=RST,ACK><NOOPTS>");
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_NO_SOCKET), 1);
}

static void test_no_socket_fin_with_data(void **state)
{
    tcp_test *t = *state;

    th_start(t);
    t->c.lport = TH_CLOSED_PORT;
    assert_drop(inject(t, "<SEQ=5><CTL=FIN><LEN=10>"),
                     USTK_DROP_TCP_NO_SOCKET);
    expect(t, "<SEQ=@0><ACK=16><CTL=RST,ACK>");
    assert_drop(inject(t, "<SEQ=0><CTL=SYN><LEN=20>"),
                     USTK_DROP_TCP_NO_SOCKET);
    expect(t, "<SEQ=@0><ACK=21><CTL=RST,ACK>");
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_NO_SOCKET), 2);
}

/* CLOSED: "An incoming segment containing a RST is discarded" — never a RST
 * for a RST. */
static void test_no_socket_rst(void **state)
{
    tcp_test *t = *state;

    th_start(t);
    t->c.lport = TH_CLOSED_PORT;
    assert_drop(inject(t, "<SEQ=5><CTL=RST>"), USTK_DROP_TCP_RST_NO_SOCKET);
    expect_nothing(t);
    assert_drop(inject(t, "<SEQ=5><ACK=@9><CTL=RST,ACK>"),
                     USTK_DROP_TCP_RST_NO_SOCKET);
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_RST_NO_SOCKET), 2);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_NO_SOCKET), 0);
}

/* A segment for an open port but another peer port is for no connection. */
static void test_no_socket_wrong_tuple(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    th_new_peer(t, TH_PEER_PORT + 7);
    assert_drop(inject(t, "<SEQ=1><ACK=@1234><CTL=ACK>"),
                     USTK_DROP_TCP_NO_SOCKET);
    expect(t, "<SEQ=@1234><CTL=RST>");
}

/* RFC 5961 §3.2 / RFC 9293 §3.10.7.4: a RST whose sequence number is
 * exactly RCV.NXT resets the connection; the user gets "connection reset". */
static void test_rst_exact_resets(void **state)
{
    tcp_test *t = *state;
    int flags;

    conn_in_established(t);
    assert_drop(inject(t, "<SEQ=1><CTL=RST>"), 0);
    expect_nothing(t);
    assert_state(t, USTK_TCP_CLOSED);
    flags = ustk_sock_poll(t->s, t->c.sock);
    assert_true(flags & USTK_ERROR);
    assert_err(ustk_sock_error(t->s, t->c.sock), USTK_ECONNRESET);
    /* Nothing remains of the connection. */
    expect_nothing_until(t, t->now + USTK_SEC(30));
    assert_drop(inject(t, "<SEQ=1><ACK=1><CTL=ACK>"), USTK_DROP_TCP_NO_SOCKET);
    expect(t, "<SEQ=1><CTL=RST>");
}

/* The same with data received and unread, and with the ACK bit on the RST. */
static void test_rst_exact_after_data(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=101><CTL=ACK>");
    assert_drop(inject(t, "<SEQ=101><ACK=1><CTL=RST,ACK>"), 0);
    expect_nothing(t);
    assert_state(t, USTK_TCP_CLOSED);
    assert_err(ustk_sock_error(t->s, t->c.sock), USTK_ECONNRESET);
}

/* RFC 5961 §3.2: in the window but not exactly RCV.NXT: "TCP MUST send an
 * acknowledgment (challenge ACK): <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>"; the
 * connection is unchanged. The peer's answer, a RST at RCV.NXT, resets. */
static void test_rst_in_window_challenged(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_drop(inject(t, "<SEQ=1000><CTL=RST>"), USTK_DROP_TCP_RST_CHALLENGED);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect_nothing(t);
    assert_state(t, USTK_TCP_ESTABLISHED);
    assert_int_equal(ustk_sock_error(t->s, t->c.sock), 0);
    /* The last sequence number inside the window (RCV.NXT + RCV.WND - 1). */
    assert_drop(inject(t, "<SEQ=30000><CTL=RST>"), USTK_DROP_TCP_RST_CHALLENGED);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    assert_int_equal(th_drops(t, USTK_DROP_TCP_RST_CHALLENGED), 2);
    assert_state(t, USTK_TCP_ESTABLISHED);

    assert_drop(inject(t, "<SEQ=1><CTL=RST>"), 0);
    assert_state(t, USTK_TCP_CLOSED);
    assert_err(ustk_sock_error(t->s, t->c.sock), USTK_ECONNRESET);
}

/* RFC 5961 §3.2: "If the RST bit is set and the sequence number is outside
 * the current receive window, silently drop the segment." */
static void test_rst_out_of_window_dropped(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    /* RCV.NXT + RCV.WND: just past the window. */
    assert_drop(inject(t, "<SEQ=30001><CTL=RST>"), USTK_DROP_TCP_RST_OUT_OF_WINDOW);
    expect_nothing(t);
    /* RCV.NXT - 1: just before it. */
    assert_drop(inject(t, "<SEQ=0><CTL=RST>"), USTK_DROP_TCP_RST_OUT_OF_WINDOW);
    expect_nothing(t);
    assert_drop(inject(t, "<SEQ=0x40000000><ACK=1><CTL=RST,ACK>"),
                     USTK_DROP_TCP_RST_OUT_OF_WINDOW);
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_RST_OUT_OF_WINDOW), 3);
    assert_state(t, USTK_TCP_ESTABLISHED);
    assert_int_equal(ustk_sock_error(t->s, t->c.sock), 0);
}

/* RFC 5961 §3.2 applies in every synchronized state; here FIN-WAIT-2 and
 * CLOSE-WAIT. */
static void test_rst_rules_fin_wait_2(void **state)
{
    tcp_test *t = *state;

    conn_in_fin_wait_2(t);
    assert_drop(inject(t, "<SEQ=50><CTL=RST>"), USTK_DROP_TCP_RST_CHALLENGED);
    expect(t, "<SEQ=2><ACK=1><CTL=ACK>");
    assert_state(t, USTK_TCP_FIN_WAIT_2);
    assert_drop(inject(t, "<SEQ=1><CTL=RST>"), 0);
    expect_nothing(t);
    assert_state(t, USTK_TCP_CLOSED);
}

static void test_rst_rules_close_wait(void **state)
{
    tcp_test *t = *state;

    conn_in_close_wait(t);
    /* After the peer's FIN, RCV.NXT is 2. */
    assert_drop(inject(t, "<SEQ=1><CTL=RST>"), USTK_DROP_TCP_RST_OUT_OF_WINDOW);
    expect_nothing(t);
    assert_drop(inject(t, "<SEQ=2><CTL=RST>"), 0);
    expect_nothing(t);
    assert_state(t, USTK_TCP_CLOSED);
    assert_err(ustk_sock_error(t->s, t->c.sock), USTK_ECONNRESET);
}

/* SYN-SENT: "If the RST bit is set, If the ACK was acceptable, then signal
 * to the user 'error: connection reset', drop the segment, enter CLOSED" —
 * for connect() that is "connection refused". The peer's RST answers a SYN,
 * so it has <SEQ=0><ACK=ISS+1>. */
static void test_syn_sent_rst_refused(void **state)
{
    tcp_test *t = *state;
    int flags;

    conn_in_syn_sent(t);
    assert_drop(inject(t, "<SEQ=@0><ACK=1><CTL=RST,ACK>"), 0);
    expect_nothing(t);
    assert_state(t, USTK_TCP_CLOSED);
    flags = ustk_sock_poll(t->s, t->c.sock);
    assert_true(flags & USTK_ERROR);
    assert_err(ustk_sock_error(t->s, t->c.sock), USTK_ECONNREFUSED);
    /* No SYN retransmission afterwards. */
    expect_nothing_until(t, t->now + USTK_SEC(30));
}

/* SYN-SENT, RST without ACK: "Otherwise (no ACK), drop the segment and
 * return." The SYN timer runs on unchanged. */
static void test_syn_sent_rst_without_ack(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;

    conn_in_syn_sent(t);
    t0 = t->now;
    assert_int_not_equal(inject(t, "<SEQ=0><CTL=RST>"), 0);
    expect_nothing(t);
    assert_state(t, USTK_TCP_SYN_SENT);
    assert_int_equal(ustk_sock_error(t->s, t->c.sock), 0);
    expect_at(t, t0 + t->cfg.rto_initial, "<SEQ=0><CTL=SYN>");
}

/* SYN-SENT, RST with an unacceptable ACK: "send a reset (unless the RST bit
 * is set, if so drop the segment and return)". */
static void test_syn_sent_rst_bad_ack(void **state)
{
    tcp_test *t = *state;

    conn_in_syn_sent(t);
    assert_drop(inject(t, "<SEQ=@0><ACK=5><CTL=RST,ACK>"),
                     USTK_DROP_TCP_SYN_SENT_BAD);
    expect_nothing(t);
    assert_drop(inject(t, "<SEQ=@0><ACK=0><CTL=RST,ACK>"),
                     USTK_DROP_TCP_SYN_SENT_BAD);
    expect_nothing(t);
    assert_state(t, USTK_TCP_SYN_SENT);
    assert_int_equal(ustk_sock_error(t->s, t->c.sock), 0);
}

/* RFC 5961 §4.2 / RFC 9293 §3.10.7.4 fourth: a SYN on a synchronized
 * connection, "irrespective of the sequence number", gets a challenge ACK;
 * the connection is unchanged. */
static void test_syn_on_established_challenged(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_drop(inject(t, "<SEQ=1000><CTL=SYN><MSS=1460>"),
                     USTK_DROP_TCP_SYN_CHALLENGED);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect_nothing(t);
    assert_state(t, USTK_TCP_ESTABLISHED);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_SYN_CHALLENGED), 1);
    assert_int_equal(ustk_sock_error(t->s, t->c.sock), 0);
    /* And a SYN at RCV.NXT is challenged the same way. */
    assert_drop(inject(t, "<SEQ=1><CTL=SYN><MSS=1460>"),
                     USTK_DROP_TCP_SYN_CHALLENGED);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    assert_state(t, USTK_TCP_ESTABLISHED);
    /* The connection still carries data. */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=10>");
    expect(t, "<SEQ=1><ACK=11><CTL=ACK>");
    app_recv_expect(t, 10);
}

/* RFC 9293 §3.10.7.4 first: "If an incoming segment is not acceptable, an
 * acknowledgment should be sent in reply (unless the RST bit is set ...)
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. After sending the acknowledgment,
 * drop the unacceptable segment and return." */
static void test_unacceptable_segment_acked(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    /* Beyond the window. */
    assert_drop(inject(t, "<SEQ=40000><ACK=1><CTL=ACK><LEN=10>"),
                     USTK_DROP_TCP_UNACCEPTABLE);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><WND=30000>");
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_UNACCEPTABLE), 1);
    assert_err(ustk_recv(t->s, t->c.sock, (uint8_t[16]){0}, 16, t->now), USTK_EAGAIN);
    assert_state(t, USTK_TCP_ESTABLISHED);
}

/* An old duplicate (all before RCV.NXT) is unacceptable too: it is ACKed so
 * that the peer learns RCV.NXT, and never delivered twice. */
static void test_old_duplicate_acked(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=101><CTL=ACK>");
    assert_drop(inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>"),
                     USTK_DROP_TCP_UNACCEPTABLE);
    expect(t, "<SEQ=1><ACK=101><CTL=ACK>");
    expect_nothing(t);
    app_recv_expect(t, 100);
    assert_err(ustk_recv(t->s, t->c.sock, (uint8_t[16]){0}, 16, t->now), USTK_EAGAIN);
    /* A duplicate FIN in CLOSE-WAIT is ACKed the same way. */
    inject(t, "<SEQ=101><ACK=1><CTL=FIN,ACK>");
    expect(t, "<SEQ=1><ACK=102><CTL=ACK>");
    assert_drop(inject(t, "<SEQ=101><ACK=1><CTL=FIN,ACK>"),
                     USTK_DROP_TCP_UNACCEPTABLE);
    expect(t, "<SEQ=1><ACK=102><CTL=ACK>");
    assert_state(t, USTK_TCP_CLOSE_WAIT);
}

/* A segment partly before RCV.NXT is acceptable: the new part is kept. */
static void test_overlapping_segment_trimmed(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=101><CTL=ACK>");
    assert_drop(inject(t, "<SEQ=51><ACK=1><CTL=ACK><LEN=100>"), 0);
    expect(t, "<SEQ=1><ACK=151><CTL=ACK>");
    app_recv_expect(t, 150);
}

/* RFC 9293 §3.10.7.4, ESTABLISHED, fifth: "If the ACK acks something not
 * yet sent (SEG.ACK > SND.NXT), then send an ACK, drop the segment, and
 * return." The segment's data is dropped with it. */
static void test_ack_of_unsent_data(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_drop(inject(t, "<SEQ=1><ACK=1000><CTL=ACK><LEN=10>"),
                     USTK_DROP_TCP_ACK_UNACCEPTABLE);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_ACK_UNACCEPTABLE), 1);
    assert_err(ustk_recv(t->s, t->c.sock, (uint8_t[16]){0}, 16, t->now), USTK_EAGAIN);
    assert_int_equal(info(t).snd_una, t->c.iss + 1);
    assert_state(t, USTK_TCP_ESTABLISHED);
    /* The same data with a sane ACK is taken. */
    assert_drop(inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=10>"), 0);
    expect(t, "<SEQ=1><ACK=11><CTL=ACK>");
    app_recv_expect(t, 10);
}

/* RFC 9293 §3.10.7.4 fifth: "if the ACK bit is off, drop the segment and
 * return". */
static void test_segment_without_ack_dropped(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_drop(inject(t, "<SEQ=1><CTL=PSH><LEN=10>"), USTK_DROP_TCP_NO_ACK);
    expect_nothing(t);
    assert_err(ustk_recv(t->s, t->c.sock, (uint8_t[16]){0}, 16, t->now), USTK_EAGAIN);
    assert_state(t, USTK_TCP_ESTABLISHED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_no_socket_ack),
        TH_TEST(test_no_socket_syn),
        TH_TEST(test_no_socket_fin_with_data),
        TH_TEST(test_no_socket_rst),
        TH_TEST(test_no_socket_wrong_tuple),
        TH_TEST(test_rst_exact_resets),
        TH_TEST(test_rst_exact_after_data),
        TH_TEST(test_rst_in_window_challenged),
        TH_TEST(test_rst_out_of_window_dropped),
        TH_TEST(test_rst_rules_fin_wait_2),
        TH_TEST(test_rst_rules_close_wait),
        TH_TEST(test_syn_sent_rst_refused),
        TH_TEST(test_syn_sent_rst_without_ack),
        TH_TEST(test_syn_sent_rst_bad_ack),
        TH_TEST(test_syn_on_established_challenged),
        TH_TEST(test_unacceptable_segment_acked),
        TH_TEST(test_old_duplicate_acked),
        TH_TEST(test_overlapping_segment_trimmed),
        TH_TEST(test_ack_of_unsent_data),
        TH_TEST(test_segment_without_ack_dropped),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
