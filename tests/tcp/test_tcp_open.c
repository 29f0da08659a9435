/* Opening a connection: the arcs of RFC 9293 §3.3.2 (Figure 5) that leave
 * CLOSED and SYN-SENT, simultaneous open (§3.5, Figure 8), and the SYN-SENT
 * processing of §3.10.7.3. */
#include "tcp_harness.h"

/* CLOSED -> SYN-SENT: "active OPEN / create TCB, snd SYN". */
static void test_closed_to_syn_sent(void **state)
{
    tcp_test *t = *state;
    ustk_sockaddr me;
    ustk_tcp_info ti;

    conn_in_syn_sent(t);
    /* Nothing negotiable is offered in this config: MSS only, = MTU - 40.
     * The SYN's window is never scaled (RFC 7323 §2.2). */
    assert_int_equal(t->last.h.wnd, 30000);
    assert_int_equal(t->last.h.opts.has, USTK_OPT_MSS);
    assert_int_equal(t->last.h.opts.mss, 1460);
    assert_int_equal(t->last.len, 0);

    assert_int_equal(ustk_getsockname(t->s, t->c.sock, &me), 0);
    assert_int_equal(me.addr, TH_LOCAL_IP);
    assert_int_equal(me.port, t->last.h.sport);
    assert_true(me.port >= t->cfg.ephemeral_lo && me.port <= t->cfg.ephemeral_hi);

    ti = info(t);
    assert_int_equal(ti.iss, t->c.iss);
    assert_int_equal(ti.snd_una, t->c.iss);
    assert_int_equal(ti.snd_nxt, t->c.iss + 1);
    /* Not connected yet: not writable, no error. */
    assert_int_equal(ustk_sock_poll(t->s, t->c.sock) & (USTK_WRITABLE | USTK_ERROR), 0);
    assert_int_equal(ustk_sock_error(t->s, t->c.sock), 0);
    expect_nothing(t);
}

/* SYN-SENT -> ESTABLISHED: "rcv SYN,ACK / snd ACK" (Figure 7, line 3-4). */
static void test_syn_sent_rcv_synack(void **state)
{
    tcp_test *t = *state;
    ustk_sockaddr peer;
    ustk_tcp_info ti;
    ustk_event ev[8];
    int n, found = 0;

    conn_in_syn_sent(t);
    advance_to(t, t->now + USTK_MS(500));
    assert_drop(inject(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><WND=20000><MSS=1460>"), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><WND=30000>");
    expect_nothing(t);
    assert_state(t, USTK_TCP_ESTABLISHED);

    ti = info(t);
    assert_int_equal(ti.irs, t->c.irs);
    assert_int_equal(ti.snd_una, t->c.iss + 1);
    assert_int_equal(ti.snd_nxt, t->c.iss + 1);
    assert_int_equal(ti.rcv_nxt, t->c.irs + 1);
    assert_int_equal(ti.snd_wnd, 20000);
    assert_int_equal(ti.mss, 1460);
    assert_int_equal(ti.peer_mss, 1460);

    assert_int_equal(ustk_getpeername(t->s, t->c.sock, &peer), 0);
    assert_int_equal(peer.addr, TH_PEER_IP);
    assert_int_equal(peer.port, TH_PEER_PORT);
    assert_true(ustk_sock_poll(t->s, t->c.sock) & USTK_WRITABLE);
    assert_int_equal(ustk_sock_error(t->s, t->c.sock), 0);

    /* The application learns of it through the event list. */
    n = ustk_events(t->s, ev, 8);
    for (int i = 0; i < n; i++)
        if (ev[i].sock == t->c.sock && (ev[i].flags & USTK_WRITABLE))
            found = 1;
    assert_true(found);
}

/* The SYN's timer runs out and pulls SND.NXT back to ISS, and the SYN-ACK
 * of the first SYN comes before the SYN went again (the poll that ran the
 * timer gave out a RST waiting in the control queue): the connection is
 * established with SND.NXT = SND.UNA = ISS + 1, and data starts at ISS + 1
 * (not at ISS, with the SYN's sequence number). */
static void test_synack_after_syn_timeout(void **state)
{
    tcp_test *t = *state;
    th_seg rst;

    conn_in_syn_sent(t);
    advance_to(t, t->now + t->cfg.rto_initial);
    th_conn c = t->c;
    t->c.lport = TH_CLOSED_PORT;
    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    t->c = c;
    assert_true(th_take(t, __FILE__, __LINE__, &rst));
    assert_true(rst.h.flags & USTK_TCP_RST);
    assert_drop(inject(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><MSS=1460>"), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect_nothing(t);
    assert_state(t, USTK_TCP_ESTABLISHED);
    assert_int_equal(info(t).snd_nxt, t->c.iss + 1);
    assert_int_equal(app_send(t, 10), 10);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=10>");
    inject(t, "<SEQ=1><ACK=11><CTL=ACK>");
    expect_nothing(t);
    assert_int_equal(info(t).snd_una, t->c.iss + 11);
}

/* SYN-SENT -> SYN-RECEIVED: "rcv SYN / snd SYN,ACK" (simultaneous open,
 * Figure 8), then SYN-RECEIVED -> ESTABLISHED on the ACK of our SYN. */
static void test_simultaneous_open(void **state)
{
    tcp_test *t = *state;

    conn_in_syn_received_simopen(t);
    /* RFC 9293 §3.10.7.3: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. */
    assert_int_equal(t->last.h.seq, t->c.iss);
    assert_int_equal(ustk_sock_poll(t->s, t->c.sock) & USTK_WRITABLE, 0);
    expect_nothing(t);

    advance_to(t, t->now + USTK_MS(250));
    assert_drop(inject(t, "<SEQ=1><ACK=1><CTL=ACK>"), 0);
    expect_nothing(t);
    assert_state(t, USTK_TCP_ESTABLISHED);
    assert_true(ustk_sock_poll(t->s, t->c.sock) & USTK_WRITABLE);

    /* And it carries data both ways. */
    assert_drop(inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=10>"), 0);
    expect(t, "<SEQ=1><ACK=11><CTL=ACK>");
    app_recv_expect(t, 10);
    assert_int_equal(app_send(t, 20), 20);
    expect(t, "<SEQ=1><ACK=11><CTL=ACK><LEN=20>");
}

/* SYN-RECEIVED -> FIN-WAIT-1: "CLOSE / snd FIN" before the handshake is
 * complete (RFC 9293 §3.10.4, CLOSE in SYN-RECEIVED: "If no SENDs have been
 * issued and there is no pending data to send, then form a FIN segment and
 * send it, and enter FIN-WAIT-1 state"). */
static void test_syn_received_close(void **state)
{
    tcp_test *t = *state;

    conn_in_syn_received_simopen(t);
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_FIN_WAIT_1);
    assert_true(th_traced_change(t, USTK_TCP_SYN_RECEIVED, USTK_TCP_FIN_WAIT_1));

    /* The peer acknowledges our SYN and FIN together: FIN-WAIT-2. */
    advance_to(t, t->now + USTK_MS(250));
    assert_drop(inject(t, "<SEQ=1><ACK=2><CTL=ACK>"), 0);
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_FIN_WAIT_2);
}

/* The same arc with the handle kept (shutdown is the RFC's CLOSE). */
static void test_syn_received_shutdown(void **state)
{
    tcp_test *t = *state;

    conn_in_syn_received_simopen(t);
    assert_int_equal(ustk_shutdown(t->s, t->c.sock, USTK_SHUT_WR, t->now), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    assert_state(t, USTK_TCP_FIN_WAIT_1);
    inject(t, "<SEQ=1><ACK=2><CTL=ACK>");
    expect_nothing(t);
    assert_state(t, USTK_TCP_FIN_WAIT_2);
}

/* SYN-SENT -> CLOSED: "CLOSE / delete TCB". No segment is sent (RFC 9293
 * §3.10.4), the SYN is never retransmitted, and a late SYN,ACK finds no
 * connection: <SEQ=SEG.ACK><CTL=RST> (§3.10.7.1). */
static void test_syn_sent_close(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    uint64_t before;

    conn_in_syn_sent(t);
    t0 = t->now;
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_CLOSED);
    assert_err(ustk_sock_poll(t->s, t->c.sock), USTK_EBADF);
    expect_nothing_until(t, t0 + USTK_SEC(30));

    before = th_drops(t, USTK_DROP_TCP_NO_SOCKET);
    assert_drop(inject(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><MSS=1460>"),
                     USTK_DROP_TCP_NO_SOCKET);
    expect(t, "<SEQ=1><CTL=RST>");
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_NO_SOCKET), before + 1);
}

/* RFC 9293 §3.10.7.3, SYN-SENT, first check the ACK bit: "If SEG.ACK =< ISS
 * or SEG.ACK > SND.NXT, send a reset (unless the RST bit is set ...)
 * <SEQ=SEG.ACK><CTL=RST> and discard the segment." The connection stays in
 * SYN-SENT and completes with the right SYN,ACK. */
static void test_syn_sent_unacceptable_ack(void **state)
{
    tcp_test *t = *state;

    conn_in_syn_sent(t);
    /* SEG.ACK > SND.NXT */
    assert_drop(inject(t, "<SEQ=0><ACK=1000><CTL=SYN,ACK><MSS=1460>"),
                     USTK_DROP_TCP_SYN_SENT_BAD);
    expect(t, "<SEQ=1000><CTL=RST>");
    expect_nothing(t);
    assert_state(t, USTK_TCP_SYN_SENT);
    /* SEG.ACK =< ISS */
    assert_drop(inject(t, "<SEQ=0><ACK=0><CTL=ACK>"),
                     USTK_DROP_TCP_SYN_SENT_BAD);
    expect(t, "<SEQ=0><CTL=RST>");
    assert_state(t, USTK_TCP_SYN_SENT);

    assert_drop(inject(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><MSS=1460>"), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    assert_state(t, USTK_TCP_ESTABLISHED);
}

/* RFC 9293 §3.10.7.3, fifth: "If neither of the SYN or RST bits is set, then
 * drop the segment and return." An acceptable bare ACK changes nothing. */
static void test_syn_sent_bare_ack_dropped(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;

    conn_in_syn_sent(t);
    t0 = t->now;
    assert_int_not_equal(inject(t, "<SEQ=0><ACK=1><CTL=ACK>"), 0);
    expect_nothing(t);
    assert_state(t, USTK_TCP_SYN_SENT);
    /* The SYN timer still runs as before. */
    expect_at(t, t0 + t->cfg.rto_initial, "<SEQ=0><CTL=SYN>");
}

/* A SYN,ACK carrying data: the data is queued and acknowledged together
 * with the SYN (RFC 9293 §3.10.7.3: "Data or controls that were queued for
 * transmission may be included" / "If there are other controls or text in
 * the segment, then continue processing at the sixth step"). */
static void test_syn_sent_synack_with_data(void **state)
{
    tcp_test *t = *state;

    conn_in_syn_sent(t);
    inject(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><MSS=1460><LEN=5>");
    expect(t, "<SEQ=1><ACK=6><CTL=ACK><WND=29995>");
    assert_drop(t->last_input, 0);
    assert_state(t, USTK_TCP_ESTABLISHED);
    app_recv_expect(t, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_closed_to_syn_sent),
        TH_TEST(test_syn_sent_rcv_synack),
        TH_TEST(test_synack_after_syn_timeout),
        TH_TEST(test_simultaneous_open),
        TH_TEST(test_syn_received_close),
        TH_TEST(test_syn_received_shutdown),
        TH_TEST(test_syn_sent_close),
        TH_TEST(test_syn_sent_unacceptable_ack),
        TH_TEST(test_syn_sent_bare_ack_dropped),
        TH_TEST(test_syn_sent_synack_with_data),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
