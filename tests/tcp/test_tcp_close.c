/* Closing a connection: the arcs of RFC 9293 §3.3.2 (Figure 5) from
 * ESTABLISHED to CLOSED (§3.5, Figures 12 and 13), half-close, TIME-WAIT,
 * the orphaned FIN-WAIT-2 timeout, and reset on close (§3.10.4, RFC 2525). */
#include "tcp_harness.h"

/* ESTABLISHED -> FIN-WAIT-1: "CLOSE / snd FIN" (shutdown is the RFC's CLOSE;
 * the handle stays). */
static void test_established_shutdown(void **state)
{
    tcp_test *t = *state;

    conn_in_fin_wait_1(t);
    assert_int_equal(t->last.h.wnd, 30000);
    expect_nothing(t);
    /* RFC 9293 §3.10.4: after CLOSE, SEND is an error. */
    assert_err(app_send(t, 10), USTK_EPIPE);
    expect_nothing(t);
    assert_true(ustk_sock_poll(t->s, t->c.sock) >= 0);
}

/* The same arc through ustk_close(): the handle is gone at once, the
 * connection carries on in the background. */
static void test_established_close(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_FIN_WAIT_1);
    assert_err(ustk_sock_poll(t->s, t->c.sock), USTK_EBADF);

    /* The four-way close completes without the handle (Figure 12). */
    inject(t, "<SEQ=1><ACK=2><CTL=ACK>");
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_FIN_WAIT_2);
    inject(t, "<SEQ=1><ACK=2><CTL=FIN,ACK>");
    expect(t, "<SEQ=2><ACK=2><CTL=ACK>");
    assert_int_equal(th_traced_state(t), USTK_TCP_TIME_WAIT);
}

/* ESTABLISHED -> CLOSE-WAIT: "rcv FIN / snd ACK". The application sees end
 * of stream, and can still send (half-close, §3.6). */
static void test_established_rcv_fin(void **state)
{
    tcp_test *t = *state;
    int flags;

    conn_in_close_wait(t);
    flags = ustk_sock_poll(t->s, t->c.sock);
    assert_true(flags & USTK_READABLE);
    assert_true(flags & USTK_HUP);
    assert_true(flags & USTK_WRITABLE);
    assert_int_equal(ustk_recv(t->s, t->c.sock, (uint8_t[8]){0}, 8, t->now), 0);
    assert_int_equal(ustk_recv(t->s, t->c.sock, (uint8_t[8]){0}, 8, t->now), 0);

    assert_int_equal(app_send(t, 100), 100);
    expect(t, "<SEQ=1><ACK=2><CTL=ACK><LEN=100>");
    inject(t, "<SEQ=2><ACK=101><CTL=ACK>");
    expect_nothing(t);
    assert_state(t, USTK_TCP_CLOSE_WAIT);
}

/* Data, then FIN, from the peer: all data is read before end of stream. */
static void test_data_then_fin(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=50>");
    expect(t, "<SEQ=1><ACK=51><CTL=ACK>");
    inject(t, "<SEQ=51><ACK=1><CTL=FIN,ACK><LEN=50>");
    expect(t, "<SEQ=1><ACK=102><CTL=ACK><WND=29900>");
    assert_state(t, USTK_TCP_CLOSE_WAIT);
    app_recv_expect(t, 100);
    assert_int_equal(ustk_recv(t->s, t->c.sock, (uint8_t[8]){0}, 8, t->now), 0);
}

/* FIN-WAIT-1 -> FIN-WAIT-2: "rcv ACK of FIN / x". A connection whose
 * handle is held stays in FIN-WAIT-2 as long as the peer wants to send:
 * RFC 9293 has no timer here (the orphan timeout is a separate test). */
static void test_fin_wait_1_rcv_ack(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;

    conn_in_fin_wait_2(t);
    t0 = t->now;
    expect_nothing_until(t, t0 + 3 * t->cfg.fin_wait2_timeout);
    expect_nothing(t);
    assert_state(t, USTK_TCP_FIN_WAIT_2);
    inject(t, "<SEQ=1><ACK=2><CTL=ACK><LEN=10>");
    expect(t, "<SEQ=2><ACK=11><CTL=ACK>");
    app_recv_expect(t, 10);
}

/* FIN-WAIT-1 -> CLOSING: "rcv FIN / snd ACK" (simultaneous close,
 * Figure 13). */
static void test_fin_wait_1_rcv_fin(void **state)
{
    tcp_test *t = *state;

    conn_in_closing(t);
    expect_nothing(t);
    assert_int_equal(ustk_recv(t->s, t->c.sock, (uint8_t[8]){0}, 8, t->now), 0);
}

/* FIN-WAIT-1 -> TIME-WAIT: FIN and the ACK of our FIN in one segment. */
static void test_fin_wait_1_rcv_fin_ack(void **state)
{
    tcp_test *t = *state;

    conn_in_fin_wait_1(t);
    assert_drop(inject(t, "<SEQ=1><ACK=2><CTL=FIN,ACK>"), 0);
    expect(t, "<SEQ=2><ACK=2><CTL=ACK>");
    expect_nothing(t);
    assert_state(t, USTK_TCP_TIME_WAIT);
    /* RFC 9293 §3.10.7.4 processes the ACK (fifth: "if the FIN segment is
     * now acknowledged, then enter FIN-WAIT-2 and continue processing in
     * that state") before the FIN (eighth), so passing through FIN-WAIT-2
     * within the segment is as right as the direct arc. */
    assert_true(th_traced_change(t, USTK_TCP_FIN_WAIT_1, USTK_TCP_TIME_WAIT) ||
                (th_traced_change(t, USTK_TCP_FIN_WAIT_1, USTK_TCP_FIN_WAIT_2) &&
                 th_traced_change(t, USTK_TCP_FIN_WAIT_2, USTK_TCP_TIME_WAIT)));
    assert_false(th_traced_change(t, USTK_TCP_FIN_WAIT_1, USTK_TCP_CLOSING));
}

/* FIN-WAIT-2 -> TIME-WAIT: "rcv FIN / snd ACK". */
static void test_fin_wait_2_rcv_fin(void **state)
{
    tcp_test *t = *state;

    conn_in_time_wait(t);
    expect_nothing(t);
    assert_true(th_traced_change(t, USTK_TCP_FIN_WAIT_2, USTK_TCP_TIME_WAIT));
    assert_int_equal(ustk_recv(t->s, t->c.sock, (uint8_t[8]){0}, 8, t->now), 0);
}

/* CLOSING -> TIME-WAIT: "rcv ACK of FIN / x". */
static void test_closing_rcv_ack(void **state)
{
    tcp_test *t = *state;

    conn_in_closing(t);
    assert_drop(inject(t, "<SEQ=2><ACK=2><CTL=ACK>"), 0);
    expect_nothing(t);
    assert_state(t, USTK_TCP_TIME_WAIT);
}

/* CLOSE-WAIT -> LAST-ACK: "CLOSE / snd FIN". */
static void test_close_wait_close(void **state)
{
    tcp_test *t = *state;

    conn_in_last_ack(t);
    expect_nothing(t);
    assert_true(th_traced_change(t, USTK_TCP_CLOSE_WAIT, USTK_TCP_LAST_ACK));
}

/* LAST-ACK -> CLOSED: "rcv ACK of FIN / x". No TIME-WAIT on this side. */
static void test_last_ack_rcv_ack(void **state)
{
    tcp_test *t = *state;

    conn_in_last_ack(t);
    assert_drop(inject(t, "<SEQ=2><ACK=2><CTL=ACK>"), 0);
    expect_nothing(t);
    assert_state(t, USTK_TCP_CLOSED);
    assert_int_equal(th_deadline(t), USTK_TIME_NEVER);
}

/* Passive close through ustk_close(): after the last ACK nothing is left,
 * and a further segment finds no connection (§3.10.7.1). */
static void test_last_ack_orphan_gone(void **state)
{
    tcp_test *t = *state;

    conn_in_close_wait(t);
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    expect(t, "<SEQ=1><ACK=2><CTL=FIN,ACK>");
    assert_int_equal(th_traced_state(t), USTK_TCP_LAST_ACK);
    inject(t, "<SEQ=2><ACK=2><CTL=ACK>");
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_CLOSED);
    assert_drop(inject(t, "<SEQ=2><ACK=2><CTL=ACK><LEN=5>"),
                     USTK_DROP_TCP_NO_SOCKET);
    expect(t, "<SEQ=2><CTL=RST>");
}

/* TIME-WAIT -> CLOSED: "Timeout=2MSL / delete TCB", exactly 2 * msl after
 * entering TIME-WAIT. */
static void test_time_wait_2msl(void **state)
{
    tcp_test *t = *state;
    ustk_time tw;

    conn_in_time_wait(t);
    tw = t->now;
    assert_int_equal(th_deadline(t), tw + 2 * t->cfg.msl);
    expect_nothing_until(t, tw + 2 * t->cfg.msl - 1);
    expect_nothing(t);
    assert_state(t, USTK_TCP_TIME_WAIT);
    advance_to(t, tw + 2 * t->cfg.msl);
    expect_nothing(t);
    assert_state(t, USTK_TCP_CLOSED);
    assert_int_equal(th_deadline(t), USTK_TIME_NEVER);
}

/* TIME-WAIT of an orphan: the connection holds its 4-tuple for 2 MSL, then
 * a segment for it finds nothing and is reset. */
static void test_time_wait_orphan_2msl(void **state)
{
    tcp_test *t = *state;
    ustk_time tw;

    conn_in_time_wait(t);
    tw = t->now;
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_TIME_WAIT);
    expect_nothing_until(t, tw + 2 * t->cfg.msl);
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_CLOSED);
    assert_drop(inject(t, "<SEQ=2><ACK=2><CTL=ACK>"), USTK_DROP_TCP_NO_SOCKET);
    expect(t, "<SEQ=2><CTL=RST>");
}

/* TIME-WAIT: "The only thing that can arrive in this state is a
 * retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL
 * timeout" (RFC 9293 §3.10.7.4, eighth). */
static void test_time_wait_refin(void **state)
{
    tcp_test *t = *state;
    ustk_time tw, again;

    conn_in_time_wait(t);
    tw = t->now;
    advance_to(t, tw + USTK_SEC(1));
    again = t->now;
    inject(t, "<SEQ=1><ACK=2><CTL=FIN,ACK>");
    expect(t, "<SEQ=2><ACK=2><CTL=ACK>");
    assert_int_equal(th_deadline(t), again + 2 * t->cfg.msl);
    expect_nothing_until(t, again + 2 * t->cfg.msl - 1);
    expect_nothing(t);
    assert_state(t, USTK_TCP_TIME_WAIT);
    advance_to(t, again + 2 * t->cfg.msl);
    expect_nothing(t);
    assert_state(t, USTK_TCP_CLOSED);
}

/* A connection closed by the application in FIN-WAIT-2 (an orphan) cannot
 * wait forever for a peer that never sends its FIN: it ends
 * cfg.fin_wait2_timeout after entering FIN-WAIT-2. RFC 9293 has no such
 * timer; whether the stack says goodbye with a RST is its choice, so one is
 * allowed (with SEQ=SND.NXT) but not required. */
static void test_fin_wait_2_orphan_timeout(void **state)
{
    tcp_test *t = *state;
    ustk_time f2;
    th_seg g;

    conn_in_established(t);
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    advance_to(t, t->now + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=2><CTL=ACK>");
    f2 = t->now;
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_FIN_WAIT_2);
    assert_int_equal(th_deadline(t), f2 + t->cfg.fin_wait2_timeout);
    expect_nothing_until(t, f2 + t->cfg.fin_wait2_timeout - 1);
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_FIN_WAIT_2);
    advance_to(t, f2 + t->cfg.fin_wait2_timeout);
    if (th_take(t, __FILE__, __LINE__, &g)) {
        assert_true(g.h.flags & USTK_TCP_RST);
        assert_int_equal(g.h.seq, t->c.iss + 2);
    }
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_CLOSED);
    /* The peer's late FIN now finds no connection. */
    assert_drop(inject(t, "<SEQ=1><ACK=2><CTL=FIN,ACK>"),
                     USTK_DROP_TCP_NO_SOCKET);
    expect(t, "<SEQ=2><CTL=RST>");
}

/* Half-close: after shutdown(WR) the connection keeps receiving; recv
 * returns 0 only after the peer's FIN. */
static void test_half_close_keeps_receiving(void **state)
{
    tcp_test *t = *state;

    conn_in_fin_wait_2(t);
    assert_drop(inject(t, "<SEQ=1><ACK=2><CTL=ACK><LEN=100>"), 0);
    expect(t, "<SEQ=2><ACK=101><CTL=ACK><WND=29900>");
    assert_drop(inject(t, "<SEQ=101><ACK=2><CTL=ACK><LEN=200>"), 0);
    expect(t, "<SEQ=2><ACK=301><CTL=ACK><WND=29700>");
    assert_true(ustk_sock_poll(t->s, t->c.sock) & USTK_READABLE);
    assert_int_equal(ustk_sock_poll(t->s, t->c.sock) & USTK_HUP, 0);
    app_recv_expect(t, 300);
    assert_err(ustk_recv(t->s, t->c.sock, (uint8_t[8]){0}, 8, t->now), USTK_EAGAIN);

    assert_drop(inject(t, "<SEQ=301><ACK=2><CTL=FIN,ACK>"), 0);
    expect(t, "<SEQ=2><ACK=302><CTL=ACK>");
    assert_state(t, USTK_TCP_TIME_WAIT);
    assert_true(ustk_sock_poll(t->s, t->c.sock) & USTK_HUP);
    assert_int_equal(ustk_recv(t->s, t->c.sock, (uint8_t[8]){0}, 8, t->now), 0);
}

/* Data queued before shutdown(WR) is all sent before the FIN, and the FIN
 * follows the last byte in sequence space. */
static void test_shutdown_after_data(void **state)
{
    tcp_test *t = *state;
    th_seg g;

    conn_in_established(t);
    assert_int_equal(app_send(t, 300), 300);
    assert_int_equal(ustk_shutdown(t->s, t->c.sock, USTK_SHUT_WR, t->now), 0);
    /* The FIN may ride on the data segment or follow it. */
    assert_true(th_take(t, __FILE__, __LINE__, &g));
    assert_int_equal(g.rseq, 1);
    assert_int_equal(g.len, 300);
    for (size_t i = 0; i < g.len; i++)
        assert_int_equal(g.data[i], th_stack_byte((uint32_t)(1 + i)));
    if (!(g.h.flags & USTK_TCP_FIN))
        expect(t, "<SEQ=301><ACK=1><CTL=FIN,ACK>");
    expect_nothing(t);
    assert_state(t, USTK_TCP_FIN_WAIT_1);
    /* An ACK of the data alone leaves the FIN outstanding. */
    inject(t, "<SEQ=1><ACK=301><CTL=ACK>");
    expect_nothing(t);
    assert_state(t, USTK_TCP_FIN_WAIT_1);
    inject(t, "<SEQ=1><ACK=302><CTL=ACK>");
    expect_nothing(t);
    assert_state(t, USTK_TCP_FIN_WAIT_2);
}

/* Connections holding a busy part (buffers, timers: tcp_priv.h). */
static uint64_t busy_parts(tcp_test *t)
{
    ustk_stack_stats st;
    ustk_stack_stats_get(t->s, &st);
    return st.tcp_busy;
}

/* shutdown(SHUT_RD): what has arrived in order is still read, then the
 * end of the stream, as on Linux. What arrives afterwards is acknowledged
 * and discarded, and out-of-order data held at the time is forgotten (it
 * is no longer reported, and none of it can reach the reader); the peer
 * fills the hole and is acknowledged past it. */
static void test_shutdown_read(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=101><CTL=ACK><WND=29900>");
    inject(t, "<SEQ=201><ACK=1><CTL=ACK><LEN=50>");
    expect(t, "<SEQ=1><ACK=101><CTL=ACK><WND=29900>");
    assert_int_equal(ustk_shutdown(t->s, t->c.sock, USTK_SHUT_RD, t->now), 0);
    expect_nothing(t);
    assert_state(t, USTK_TCP_ESTABLISHED);
    assert_int_equal(ustk_sock_poll(t->s, t->c.sock),
                     USTK_READABLE | USTK_WRITABLE);
    app_recv_expect(t, 100);
    assert_int_equal(ustk_recv(t->s, t->c.sock, (uint8_t[8]){0}, 8, t->now), 0);
    /* The hole filled: acknowledged up to its end, not past the 50 bytes
     * forgotten; those again, then, discarded too. */
    inject(t, "<SEQ=101><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=201><CTL=ACK>");
    inject(t, "<SEQ=201><ACK=1><CTL=ACK><LEN=50>");
    expect(t, "<SEQ=1><ACK=251><CTL=ACK>");
    expect_nothing(t);
    assert_int_equal(ustk_recv(t->s, t->c.sock, (uint8_t[8]){0}, 8, t->now), 0);
    assert_int_equal(info(t).rcv_queued, 0);
    /* The sending side is untouched. */
    assert_int_equal(app_send(t, 10), 10);
    expect(t, "<SEQ=1><ACK=251><CTL=ACK><LEN=10>");
}

/* shutdown(SHUT_RD) with everything in order read and data held out of
 * order: nothing is left to read, so the receive buffer goes back at
 * once, and the connection is quiet again once its data is acked. */
static void test_shutdown_read_gives_back_buffer(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=101><CTL=ACK><WND=29900>");
    app_recv_expect(t, 100);
    inject(t, "<SEQ=201><ACK=1><CTL=ACK><LEN=50>");
    expect(t, "<SEQ=1><ACK=101><CTL=ACK>");
    assert_int_equal(busy_parts(t), 1); /* the buffer and the range */
    assert_int_equal(ustk_shutdown(t->s, t->c.sock, USTK_SHUT_RD, t->now), 0);
    expect_nothing(t);
    assert_int_equal(busy_parts(t), 0);
    assert_int_equal(ustk_recv(t->s, t->c.sock, (uint8_t[8]){0}, 8, t->now), 0);
}

/* RFC 2525 §2.17 / RFC 1122 §4.2.2.13: closing with received data still
 * unread loses that data, so the TCP sends RST rather than FIN
 * (<SEQ=SND.NXT>; an ACK on the RST is allowed). */
static void test_close_with_unread_data_resets(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=101><CTL=ACK>");
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    expect(t, "<SEQ=1><ACK=101><CTL=RST,ACK?>");
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_CLOSED);
    expect_nothing_until(t, t->now + USTK_SEC(30));
    assert_drop(inject(t, "<SEQ=101><ACK=1><CTL=ACK><LEN=5>"),
                     USTK_DROP_TCP_NO_SOCKET);
    expect(t, "<SEQ=1><CTL=RST>");
}

/* RFC 1122 §4.2.2.13: "if new data is received after CLOSE is called, its
 * TCP SHOULD send a RST to show that data was lost". */
static void test_data_after_close_resets(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    inject(t, "<SEQ=1><ACK=2><CTL=ACK>");
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_FIN_WAIT_2);
    inject(t, "<SEQ=1><ACK=2><CTL=ACK><LEN=10>");
    expect(t, "<SEQ=2><CTL=RST,ACK?>");
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_CLOSED);
}

/* ABORT in a synchronized state: <SEQ=SND.NXT><CTL=RST> (RFC 9293 §3.10.4),
 * and the connection is gone. */
static void test_abort_established(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_int_equal(app_send(t, 100), 100);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    assert_int_equal(ustk_abort(t->s, t->c.sock, t->now), 0);
    expect(t, "<SEQ=101><ACK=1><CTL=RST,ACK?>");
    expect_nothing(t);
    assert_err(ustk_sock_poll(t->s, t->c.sock), USTK_EBADF);
    /* No retransmission of the aborted data. */
    expect_nothing_until(t, t->now + USTK_SEC(30));
    assert_drop(inject(t, "<SEQ=1><ACK=101><CTL=ACK>"),
                     USTK_DROP_TCP_NO_SOCKET);
    expect(t, "<SEQ=101><CTL=RST>");
}

/* ABORT in SYN-SENT: nothing to reset, nothing is sent. */
static void test_abort_syn_sent(void **state)
{
    tcp_test *t = *state;

    conn_in_syn_sent(t);
    assert_int_equal(ustk_abort(t->s, t->c.sock, t->now), 0);
    expect_nothing(t);
    expect_nothing_until(t, t->now + USTK_SEC(30));
}

/* RFC 1122 §4.2.2.13: a SYN may reopen a connection in TIME-WAIT when a
 * listener is there, and the new connection's ISS must lie above every
 * sequence number the old one used, even when the old one sent faster than
 * the ISN clock (4 us per number) advanced. */
static void test_time_wait_reopen_iss_above_old(void **state)
{
    tcp_test *t = *state;
    th_seg g;
    uint32_t old_max;

    t->c.peer_wnd = 65535;
    conn_in_established_passive(t);
    /* About 1 MB at no cost in virtual time: far ahead of the ISN clock. */
    for (int i = 0; i < 70; i++) {
        assert_int_equal(app_send(t, 14600), 14600);
        th_drain(t);
        inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", info(t).snd_nxt - t->c.iss);
    }
    old_max = info(t).snd_nxt;
    assert_true(old_max - t->c.iss > 1000000);
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    th_drain(t); /* our FIN */
    inject(t, "<SEQ=1><ACK=%u><CTL=FIN,ACK>", old_max + 1 - t->c.iss);
    th_drain(t); /* the ACK of the peer's FIN: TIME-WAIT */
    inject(t, "<SEQ=100000><CTL=SYN>");
    assert_true(th_take(t, __FILE__, __LINE__, &g));
    assert_int_equal(g.h.flags, USTK_TCP_SYN | USTK_TCP_ACK);
    assert_true((int32_t)(g.h.seq - (old_max + 1)) > 0);
    assert_int_equal(g.h.ack, t->c.irs + 100001);
}

/* With delayed ACKs on, the peer's FIN in ESTABLISHED is acknowledged
 * like data, within the delayed-ACK time (RFC 9293 §3.8.6.3): an
 * application that closes at once sends one segment, its FIN carrying the
 * ACK; one that does not gets the ACK when the timer fires. */
static void test_fin_ack_delayed_until_close(void **state)
{
    tcp_test *t = *state;

    t->cfg.delack = USTK_MS(40);
    conn_in_established(t);
    inject(t, "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    expect_nothing(t);
    assert_state(t, USTK_TCP_CLOSE_WAIT);
    assert_int_equal(ustk_recv(t->s, t->c.sock, (uint8_t[8]){0}, 8, t->now), 0);
    advance_to(t, t->now + USTK_MS(10));
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    t->c.sock = -1;
    expect(t, "<SEQ=1><ACK=2><CTL=FIN,ACK>");
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_LAST_ACK);
    inject(t, "<SEQ=2><ACK=2><CTL=ACK>");
    expect_nothing_until(t, t->now + USTK_SEC(10));
    assert_int_equal(th_traced_state(t), USTK_TCP_CLOSED);
}

static void test_fin_ack_delayed_timer(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;

    t->cfg.delack = USTK_MS(40);
    conn_in_established(t);
    t0 = t->now;
    /* Data with the FIN: not a quick ACK (nothing follows it). */
    inject(t, "<SEQ=1><ACK=1><CTL=FIN,ACK><LEN=10>");
    expect_at(t, t0 + USTK_MS(40), "<SEQ=1><ACK=12><CTL=ACK>");
    expect_nothing(t);
    assert_state(t, USTK_TCP_CLOSE_WAIT);
    app_recv_expect(t, 10);
}

/* The FIN that ends FIN-WAIT-2, or crosses ours in FIN-WAIT-1, is
 * acknowledged at once even with delayed ACKs on: nothing else of ours
 * will carry the ACK. */
static void test_fin_ack_at_once_after_our_fin(void **state)
{
    tcp_test *t = *state;

    t->cfg.delack = USTK_MS(40);
    conn_in_fin_wait_2(t);
    inject(t, "<SEQ=1><ACK=2><CTL=FIN,ACK>");
    expect(t, "<SEQ=2><ACK=2><CTL=ACK>");
    assert_state(t, USTK_TCP_TIME_WAIT);
}

static void test_fin_ack_at_once_in_closing(void **state)
{
    tcp_test *t = *state;

    t->cfg.delack = USTK_MS(40);
    conn_in_fin_wait_1(t);
    inject(t, "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    expect(t, "<SEQ=2><ACK=2><CTL=ACK>");
    assert_state(t, USTK_TCP_CLOSING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_time_wait_reopen_iss_above_old),
        TH_TEST(test_established_shutdown),
        TH_TEST(test_established_close),
        TH_TEST(test_established_rcv_fin),
        TH_TEST(test_fin_ack_delayed_until_close),
        TH_TEST(test_fin_ack_delayed_timer),
        TH_TEST(test_fin_ack_at_once_after_our_fin),
        TH_TEST(test_fin_ack_at_once_in_closing),
        TH_TEST(test_data_then_fin),
        TH_TEST(test_fin_wait_1_rcv_ack),
        TH_TEST(test_fin_wait_1_rcv_fin),
        TH_TEST(test_fin_wait_1_rcv_fin_ack),
        TH_TEST(test_fin_wait_2_rcv_fin),
        TH_TEST(test_closing_rcv_ack),
        TH_TEST(test_close_wait_close),
        TH_TEST(test_last_ack_rcv_ack),
        TH_TEST(test_last_ack_orphan_gone),
        TH_TEST(test_time_wait_2msl),
        TH_TEST(test_time_wait_orphan_2msl),
        TH_TEST(test_time_wait_refin),
        TH_TEST(test_fin_wait_2_orphan_timeout),
        TH_TEST(test_half_close_keeps_receiving),
        TH_TEST(test_shutdown_after_data),
        TH_TEST(test_shutdown_read),
        TH_TEST(test_shutdown_read_gives_back_buffer),
        TH_TEST(test_close_with_unread_data_resets),
        TH_TEST(test_data_after_close_resets),
        TH_TEST(test_abort_established),
        TH_TEST(test_abort_syn_sent),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
