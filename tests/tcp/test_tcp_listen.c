/* Passive open: the arcs of RFC 9293 §3.3.2 (Figure 5) that touch LISTEN
 * and SYN-RECEIVED on the passive side, LISTEN processing (§3.10.7.2) and
 * the listener's bounds (accept queue, half-open connections).
 *
 * LISTEN -> SYN-SENT ("SEND / snd SYN") is not offered by the socket API: a
 * listener cannot send. test_tcp_misuse.c checks that send on a listener
 * fails and leaves it listening. */
#include "tcp_harness.h"

/* CLOSED -> LISTEN: "passive OPEN / create TCB". Nothing is sent and the
 * stack has nothing to do. */
static void test_closed_to_listen(void **state)
{
    tcp_test *t = *state;
    ustk_sockaddr me;

    conn_in_listen(t);
    expect_nothing(t);
    assert_int_equal(th_deadline(t), USTK_TIME_NEVER);
    assert_int_equal(ustk_getsockname(t->s, t->lsock, &me), 0);
    assert_int_equal(me.port, TH_LISTEN_PORT);
    assert_int_equal(ustk_sock_poll(t->s, t->lsock) & USTK_READABLE, 0);
    assert_err(ustk_accept(t->s, t->lsock, NULL), USTK_EAGAIN);
}

/* LISTEN -> SYN-RECEIVED: "rcv SYN / snd SYN,ACK" (RFC 9293 §3.10.7.2:
 * <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>). */
static void test_listen_rcv_syn(void **state)
{
    tcp_test *t = *state;

    conn_in_listen(t);
    assert_drop(inject(t, "<SEQ=0><CTL=SYN><WND=8192><MSS=1460>"), 0);
    expect(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><WND=30000><MSS=1460>");
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_SYN_RECEIVED);
    /* Not yet acceptable. */
    assert_err(ustk_accept(t->s, t->lsock, NULL), USTK_EAGAIN);
    assert_int_equal(ustk_sock_poll(t->s, t->lsock) & USTK_READABLE, 0);
    assert_sock_state(t, t->lsock, USTK_TCP_LISTEN);
}

/* SYN-RECEIVED -> ESTABLISHED: "rcv ACK of SYN / x". */
static void test_syn_received_rcv_ack(void **state)
{
    tcp_test *t = *state;
    ustk_sockaddr peer;
    ustk_tcp_info ti;
    int sock;

    conn_in_syn_received(t);
    advance_to(t, t->now + USTK_MS(500));
    assert_drop(inject(t, "<SEQ=1><ACK=1><CTL=ACK><WND=12345>"), 0);
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_ESTABLISHED);
    assert_true(ustk_sock_poll(t->s, t->lsock) & USTK_READABLE);

    sock = ustk_accept(t->s, t->lsock, &peer);
    assert_true(sock >= 0);
    t->c.sock = sock;
    assert_int_equal(peer.addr, TH_PEER_IP);
    assert_int_equal(peer.port, TH_PEER_PORT);
    assert_state(t, USTK_TCP_ESTABLISHED);
    ti = info(t);
    assert_int_equal(ti.irs, t->c.irs);
    assert_int_equal(ti.iss, t->c.iss);
    assert_int_equal(ti.snd_una, t->c.iss + 1);
    assert_int_equal(ti.rcv_nxt, t->c.irs + 1);
    assert_int_equal(ti.snd_wnd, 12345);
    assert_true(ustk_sock_poll(t->s, sock) & USTK_WRITABLE);
    /* Only one connection was queued. */
    assert_err(ustk_accept(t->s, t->lsock, NULL), USTK_EAGAIN);
    assert_int_equal(ustk_sock_poll(t->s, t->lsock) & USTK_READABLE, 0);

    /* Data flows on the accepted socket. */
    assert_drop(inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=7>"), 0);
    expect(t, "<SEQ=1><ACK=8><CTL=ACK><WND=29993>");
    app_recv_expect(t, 7);
}

/* A handshake whose final ACK carries data: the data is delivered with the
 * connection (RFC 9293 §3.10.7.4: the ACK moves SYN-RECEIVED to ESTABLISHED
 * "and continue processing"). */
static void test_syn_received_ack_with_data(void **state)
{
    tcp_test *t = *state;

    conn_in_syn_received(t);
    assert_drop(inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>"), 0);
    expect(t, "<SEQ=1><ACK=101><CTL=ACK><WND=29900>");
    t->c.sock = ustk_accept(t->s, t->lsock, NULL);
    assert_true(t->c.sock >= 0);
    app_recv_expect(t, 100);
}

/* SYN-RECEIVED -> LISTEN: "rcv RST". The half-open connection goes away
 * (RFC 9293 §3.10.7.4: "If this connection was initiated with a passive
 * OPEN ..., then return this connection to LISTEN state"); the listener
 * stays and keeps accepting. */
static void test_syn_received_rcv_rst(void **state)
{
    tcp_test *t = *state;
    int traced;

    conn_in_syn_received(t);
    assert_drop(inject(t, "<SEQ=1><CTL=RST>"), 0);
    expect_nothing(t);
    traced = th_traced_state(t);
    assert_true(traced == USTK_TCP_CLOSED || traced == USTK_TCP_LISTEN);
    assert_err(ustk_accept(t->s, t->lsock, NULL), USTK_EAGAIN);
    assert_sock_state(t, t->lsock, USTK_TCP_LISTEN);
    /* No SYN,ACK is retransmitted for it. */
    expect_nothing_until(t, t->now + USTK_SEC(20));

    /* The old handshake's ACK now finds only the listener: <SEQ=SEG.ACK>
     * <CTL=RST> (§3.10.7.2). */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect(t, "<SEQ=1><CTL=RST>");
    assert_err(ustk_accept(t->s, t->lsock, NULL), USTK_EAGAIN);

    /* A new peer is served as before. */
    th_new_peer(t, TH_PEER_PORT + 1);
    inject(t, "<SEQ=0><CTL=SYN><MSS=1460>");
    expect(t, "<SEQ=0><ACK=1><CTL=SYN,ACK>");
    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect_nothing(t);
    assert_true(ustk_accept(t->s, t->lsock, NULL) >= 0);
}

/* LISTEN -> CLOSED: "CLOSE / delete TCB". A later SYN to the port is
 * answered as for no socket: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
 * (§3.10.7.1). */
static void test_listen_close(void **state)
{
    tcp_test *t = *state;
    uint64_t before;

    conn_in_listen(t);
    assert_int_equal(ustk_close(t->s, t->lsock, t->now), 0);
    expect_nothing(t);
    assert_err(ustk_sock_poll(t->s, t->lsock), USTK_EBADF);

    before = th_drops(t, USTK_DROP_TCP_NO_SOCKET);
    assert_drop(inject(t, "<SEQ=0><CTL=SYN><MSS=1460>"),
                     USTK_DROP_TCP_NO_SOCKET);
    expect(t, "<SEQ=@0><ACK=1><CTL=RST,ACK>");
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_NO_SOCKET), before + 1);
}

/* LISTEN, second check: "Any acknowledgment is bad if it arrives on a
 * connection still in the LISTEN state. An acceptable reset segment should
 * be formed for any arriving ACK-bearing segment ... <SEQ=SEG.ACK>
 * <CTL=RST>". */
static void test_listen_rcv_ack(void **state)
{
    tcp_test *t = *state;
    uint64_t before;

    conn_in_listen(t);
    before = th_drops(t, USTK_DROP_TCP_LISTEN_BAD);
    assert_drop(inject(t, "<SEQ=1><ACK=@5000><CTL=ACK><LEN=10>"),
                     USTK_DROP_TCP_LISTEN_BAD);
    expect(t, "<SEQ=@5000><CTL=RST>");
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_LISTEN_BAD), before + 1);
    assert_err(ustk_accept(t->s, t->lsock, NULL), USTK_EAGAIN);
    assert_sock_state(t, t->lsock, USTK_TCP_LISTEN);
}

/* LISTEN, first check: "An incoming RST segment could not be valid since it
 * could not have been sent in response to anything sent by this incarnation
 * of the connection. An incoming RST should be ignored." */
static void test_listen_rcv_rst(void **state)
{
    tcp_test *t = *state;

    conn_in_listen(t);
    assert_int_not_equal(inject(t, "<SEQ=1><CTL=RST>"), 0);
    expect_nothing(t);
    assert_int_not_equal(inject(t, "<SEQ=1><ACK=@77><CTL=RST,ACK>"), 0);
    expect_nothing(t);
    assert_sock_state(t, t->lsock, USTK_TCP_LISTEN);
}

/* LISTEN, fourth: "other text or control ... any other incoming segment ...
 * drop it and return". A segment with neither SYN, ACK nor RST. */
static void test_listen_rcv_other(void **state)
{
    tcp_test *t = *state;

    conn_in_listen(t);
    assert_int_not_equal(inject(t, "<SEQ=1><CTL=FIN><LEN=3>"), 0);
    expect_nothing(t);
    assert_sock_state(t, t->lsock, USTK_TCP_LISTEN);
}

/* Complete a handshake from peer port `pport` without accepting it. */
static void handshake(tcp_test *t, uint16_t pport)
{
    th_new_peer(t, pport);
    assert_drop(inject(t, "<SEQ=0><CTL=SYN><MSS=1460>"), 0);
    expect(t, "<SEQ=0><ACK=1><CTL=SYN,ACK>");
    assert_drop(inject(t, "<SEQ=1><ACK=1><CTL=ACK>"), 0);
    expect_nothing(t);
}

/* The accept queue holds `backlog` connections; a SYN beyond it is dropped
 * (no SYN,ACK) and counted. */
static void test_accept_queue_full(void **state)
{
    tcp_test *t = *state;
    uint64_t before;

    t->backlog = 1;
    conn_in_listen(t);
    handshake(t, TH_PEER_PORT);

    before = th_drops(t, USTK_DROP_TCP_ACCEPT_QUEUE_FULL);
    th_new_peer(t, TH_PEER_PORT + 1);
    assert_drop(inject(t, "<SEQ=0><CTL=SYN><MSS=1460>"),
                     USTK_DROP_TCP_ACCEPT_QUEUE_FULL);
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_ACCEPT_QUEUE_FULL), before + 1);

    /* Accepting makes room again. */
    assert_true(ustk_accept(t->s, t->lsock, NULL) >= 0);
    handshake(t, TH_PEER_PORT + 2);
    assert_true(ustk_accept(t->s, t->lsock, NULL) >= 0);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_ACCEPT_QUEUE_FULL), before + 1);
}

/* listen(backlog) is clamped to cfg.max_backlog. */
static void test_backlog_clamped(void **state)
{
    tcp_test *t = *state;

    t->cfg.max_backlog = 2;
    t->backlog = 100;
    conn_in_listen(t);
    handshake(t, TH_PEER_PORT);
    handshake(t, TH_PEER_PORT + 1);
    th_new_peer(t, TH_PEER_PORT + 2);
    assert_drop(inject(t, "<SEQ=0><CTL=SYN><MSS=1460>"),
                     USTK_DROP_TCP_ACCEPT_QUEUE_FULL);
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_ACCEPT_QUEUE_FULL), 1);
}

/* At most cfg.max_half_open SYN-RECEIVED connections per listener. */
static void test_half_open_limit(void **state)
{
    tcp_test *t = *state;
    th_conn first;

    t->cfg.max_half_open = 2;
    conn_in_listen(t);
    th_new_peer(t, TH_PEER_PORT);
    inject(t, "<SEQ=0><CTL=SYN><MSS=1460>");
    expect(t, "<SEQ=0><ACK=1><CTL=SYN,ACK>");
    first = t->c;
    th_new_peer(t, TH_PEER_PORT + 1);
    inject(t, "<SEQ=0><CTL=SYN><MSS=1460>");
    expect(t, "<SEQ=0><ACK=1><CTL=SYN,ACK>");

    th_new_peer(t, TH_PEER_PORT + 2);
    assert_drop(inject(t, "<SEQ=0><CTL=SYN><MSS=1460>"),
                     USTK_DROP_TCP_SYN_BACKLOG_FULL);
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_SYN_BACKLOG_FULL), 1);

    /* Completing one handshake frees a half-open slot. */
    t->c = first;
    inject(t, "<SEQ=1><ACK=1><CTL=ACK>");
    expect_nothing(t);
    th_new_peer(t, TH_PEER_PORT + 3);
    assert_drop(inject(t, "<SEQ=0><CTL=SYN><MSS=1460>"), 0);
    expect(t, "<SEQ=0><ACK=1><CTL=SYN,ACK>");
    assert_int_equal(th_drops(t, USTK_DROP_TCP_SYN_BACKLOG_FULL), 1);
}

/* A listener bound to the wildcard address accepts on ours. */
static void test_listen_any_address(void **state)
{
    tcp_test *t = *state;
    ustk_sockaddr any = {0, TH_LISTEN_PORT};

    th_start(t);
    t->lsock = ustk_open(t->s, USTK_PROTO_TCP);
    assert_true(t->lsock >= 0);
    assert_int_equal(ustk_bind(t->s, t->lsock, &any), 0);
    assert_int_equal(ustk_listen(t->s, t->lsock, 4), 0);
    t->c.lport = TH_LISTEN_PORT;
    handshake(t, TH_PEER_PORT);
    assert_true(ustk_accept(t->s, t->lsock, NULL) >= 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_closed_to_listen),
        TH_TEST(test_listen_rcv_syn),
        TH_TEST(test_syn_received_rcv_ack),
        TH_TEST(test_syn_received_ack_with_data),
        TH_TEST(test_syn_received_rcv_rst),
        TH_TEST(test_listen_close),
        TH_TEST(test_listen_rcv_ack),
        TH_TEST(test_listen_rcv_rst),
        TH_TEST(test_listen_rcv_other),
        TH_TEST(test_accept_queue_full),
        TH_TEST(test_backlog_clamped),
        TH_TEST(test_half_open_limit),
        TH_TEST(test_listen_any_address),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
