/* API misuse: each call returns the right error and changes nothing — no
 * segment is sent, no state moves, no error is left pending. */
#include "tcp_harness.h"

/* Every call on a handle that was never opened, or was closed. */
static void check_ebadf(tcp_test *t, int h)
{
    ustk_sockaddr a = {TH_PEER_IP, 80};
    ustk_tcp_info ti;
    uint8_t buf[4] = {0};

    assert_err(ustk_bind(t->s, h, &a), USTK_EBADF);
    assert_err(ustk_listen(t->s, h, 1), USTK_EBADF);
    assert_err(ustk_accept(t->s, h, NULL), USTK_EBADF);
    assert_err(ustk_connect(t->s, h, &a, t->now), USTK_EBADF);
    assert_err(ustk_send(t->s, h, buf, sizeof buf, t->now), USTK_EBADF);
    assert_err(ustk_recv(t->s, h, buf, sizeof buf, t->now), USTK_EBADF);
    assert_err(ustk_shutdown(t->s, h, USTK_SHUT_WR, t->now), USTK_EBADF);
    assert_err(ustk_sock_poll(t->s, h), USTK_EBADF);
    assert_err(ustk_sock_error(t->s, h), USTK_EBADF);
    assert_err(ustk_getsockname(t->s, h, &a), USTK_EBADF);
    assert_err(ustk_getpeername(t->s, h, &a), USTK_EBADF);
    assert_err(ustk_tcp_info_get(t->s, h, &ti), USTK_EBADF);
    assert_err(ustk_close(t->s, h, t->now), USTK_EBADF);
    assert_err(ustk_abort(t->s, h, t->now), USTK_EBADF);
}

static void test_bad_handles(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    check_ebadf(t, -1);
    check_ebadf(t, 63);
    check_ebadf(t, 1000000);
    check_ebadf(t, t->c.sock + 1);
    expect_nothing(t);
    assert_state(t, USTK_TCP_ESTABLISHED);

    /* A closed handle is bad too, and stays bad. */
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=FIN,ACK>");
    check_ebadf(t, t->c.sock);
    expect_nothing(t);
    assert_int_equal(th_traced_state(t), USTK_TCP_FIN_WAIT_1);
}

/* Open and close `rounds` times on a table of max_sockets, the first
 * handle kept; returns the round in which it was handed out again, or 0
 * if it stayed bad (USTK_EBADF) throughout. */
static int stale_comes_back(tcp_test *t, uint32_t max_sockets, int rounds)
{
    t->cfg.max_sockets = max_sockets;
    th_start(t);
    int first = ustk_open(t->s, USTK_PROTO_UDP);
    assert_true(first >= 0);
    assert_int_equal(ustk_close(t->s, first, t->now), 0);
    for (int i = 1; i <= rounds; i++) {
        int h = ustk_open(t->s, USTK_PROTO_UDP);
        assert_true(h >= 0);
        if (h == first)
            return i;
        assert_err(ustk_sock_poll(t->s, first), USTK_EBADF);
        assert_int_equal(ustk_close(t->s, h, t->now), 0);
    }
    return 0;
}

/* A closed handle stays bad however often its slot is used again, up to
 * a bound. A slot's generation takes 65,535 values (up to 32,768 sockets):
 * with one slot the first handle comes back in round 65,535 exactly.
 * Slots are taken oldest-freed first, so with two, each comes back every
 * other round and it takes twice as many (taking the last freed first, as
 * before, it came back in round 65,535 whatever the table's size; with 11
 * bits of generation, in round 2,046). */
static void test_stale_handle_stays_bad(void **state)
{
    tcp_test *t = *state;

    assert_int_equal(stale_comes_back(t, 1, 70000), 65535);
}

static void test_stale_handle_oldest_slot_first(void **state)
{
    tcp_test *t = *state;

    assert_int_equal(stale_comes_back(t, 2, 70000), 0);
}

/* Sending on a listener: a listener has no peer (POSIX send(): ENOTCONN).
 * This is also why RFC 9293's LISTEN -> SYN-SENT arc ("SEND / snd SYN")
 * does not exist in this API: the listener stays a listener and no SYN is
 * sent. */
static void test_send_on_listener(void **state)
{
    tcp_test *t = *state;

    conn_in_listen(t);
    assert_err(ustk_send(t->s, t->lsock, "x", 1, t->now), USTK_ENOTCONN);
    assert_err(ustk_recv(t->s, t->lsock, (uint8_t[4]){0}, 4, t->now), USTK_ENOTCONN);
    expect_nothing(t);
    assert_sock_state(t, t->lsock, USTK_TCP_LISTEN);
    assert_int_equal(ustk_sock_error(t->s, t->lsock), 0);
    /* It still accepts. */
    inject(t, "<SEQ=0><CTL=SYN><MSS=1460>");
    expect(t, "<SEQ=0><ACK=1><CTL=SYN,ACK>");
}

/* connect while connecting: EALREADY; while connected: EISCONN. Neither
 * sends anything or disturbs the timers. */
static void test_connect_twice(void **state)
{
    tcp_test *t = *state;
    ustk_sockaddr to = {TH_PEER_IP, TH_PEER_PORT};
    ustk_sockaddr other = {TH_PEER_IP, 1234};
    ustk_time t0;

    conn_in_syn_sent(t);
    t0 = t->now;
    assert_err(ustk_connect(t->s, t->c.sock, &to, t->now), USTK_EALREADY);
    assert_err(ustk_connect(t->s, t->c.sock, &other, t->now), USTK_EALREADY);
    expect_nothing(t);
    assert_state(t, USTK_TCP_SYN_SENT);
    assert_int_equal(ustk_sock_error(t->s, t->c.sock), 0);
    expect_at(t, t0 + t->cfg.rto_initial, "<SEQ=0><CTL=SYN>");

    inject(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><MSS=1460>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    assert_err(ustk_connect(t->s, t->c.sock, &to, t->now), USTK_EISCONN);
    assert_err(ustk_connect(t->s, t->c.sock, &other, t->now), USTK_EISCONN);
    expect_nothing(t);
    assert_state(t, USTK_TCP_ESTABLISHED);
    assert_int_equal(ustk_sock_error(t->s, t->c.sock), 0);
    ustk_sockaddr peer;
    assert_int_equal(ustk_getpeername(t->s, t->c.sock, &peer), 0);
    assert_int_equal(peer.port, TH_PEER_PORT);
}

/* recv (and send) on a socket that is not connected: ENOTCONN. */
static void test_unconnected(void **state)
{
    tcp_test *t = *state;
    int s;

    th_start(t);
    s = ustk_open(t->s, USTK_PROTO_TCP);
    assert_true(s >= 0);
    assert_err(ustk_recv(t->s, s, (uint8_t[4]){0}, 4, t->now), USTK_ENOTCONN);
    assert_err(ustk_send(t->s, s, "x", 1, t->now), USTK_ENOTCONN);
    assert_err(ustk_shutdown(t->s, s, USTK_SHUT_WR, t->now), USTK_ENOTCONN);
    assert_err(ustk_accept(t->s, s, NULL), USTK_EINVAL);
    expect_nothing(t);
    assert_int_equal(ustk_sock_error(t->s, s), 0);
    /* Still usable for a connect. */
    t->c.sock = s;
    ustk_sockaddr to = {TH_PEER_IP, TH_PEER_PORT};
    assert_err(ustk_connect(t->s, s, &to, t->now), USTK_EINPROGRESS);
    assert_int_equal(ustk_getsockname(t->s, s, &to), 0);
    t->c.lport = to.port;
    expect(t, "<SEQ=0><CTL=SYN>");
}

/* Binding a port in use: EADDRINUSE; the loser keeps working. */
static void test_bind_in_use(void **state)
{
    tcp_test *t = *state;
    ustk_sockaddr a = {TH_LOCAL_IP, TH_LISTEN_PORT};
    ustk_sockaddr any = {0, TH_LISTEN_PORT};
    ustk_sockaddr b = {TH_LOCAL_IP, TH_LISTEN_PORT + 1};
    ustk_sockaddr me;
    int s2;

    conn_in_listen(t);
    s2 = ustk_open(t->s, USTK_PROTO_TCP);
    assert_true(s2 >= 0);
    assert_err(ustk_bind(t->s, s2, &a), USTK_EADDRINUSE);
    assert_err(ustk_bind(t->s, s2, &any), USTK_EADDRINUSE);
    assert_int_equal(ustk_getsockname(t->s, s2, &me), 0);
    assert_int_equal(me.port, 0);
    assert_int_equal(ustk_bind(t->s, s2, &b), 0);
    assert_int_equal(ustk_listen(t->s, s2, 1), 0);
    /* The first listener still owns its port. */
    inject(t, "<SEQ=0><CTL=SYN><MSS=1460>");
    expect(t, "<SEQ=0><ACK=1><CTL=SYN,ACK>");
    assert_sock_state(t, t->lsock, USTK_TCP_LISTEN);
}

/* Binding twice: EINVAL (POSIX bind: "The socket is already bound"). A
 * foreign address: EADDRNOTAVAIL. */
static void test_bind_errors(void **state)
{
    tcp_test *t = *state;
    ustk_sockaddr a = {TH_LOCAL_IP, 5000};
    ustk_sockaddr b = {TH_LOCAL_IP, 5001};
    ustk_sockaddr foreign = {USTK_IP4(10, 0, 0, 9), 5002};
    ustk_sockaddr me;
    int s;

    th_start(t);
    s = ustk_open(t->s, USTK_PROTO_TCP);
    assert_true(s >= 0);
    assert_err(ustk_bind(t->s, s, &foreign), USTK_EADDRNOTAVAIL);
    assert_int_equal(ustk_bind(t->s, s, &a), 0);
    assert_err(ustk_bind(t->s, s, &b), USTK_EINVAL);
    assert_int_equal(ustk_getsockname(t->s, s, &me), 0);
    assert_int_equal(me.port, 5000);
    expect_nothing(t);
}

/* Port 0 binds an ephemeral port from the configured range. */
static void test_bind_ephemeral(void **state)
{
    tcp_test *t = *state;
    ustk_sockaddr a = {0, 0};
    ustk_sockaddr me;
    int s;

    th_start(t);
    s = ustk_open(t->s, USTK_PROTO_TCP);
    assert_int_equal(ustk_bind(t->s, s, &a), 0);
    assert_int_equal(ustk_getsockname(t->s, s, &me), 0);
    assert_true(me.port >= t->cfg.ephemeral_lo && me.port <= t->cfg.ephemeral_hi);
}

/* listen on a connected socket: EINVAL; accept on a non-listener: EINVAL.
 * The connection is untouched. */
static void test_listen_on_connected(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_err(ustk_listen(t->s, t->c.sock, 4), USTK_EINVAL);
    assert_err(ustk_accept(t->s, t->c.sock, NULL), USTK_EINVAL);
    expect_nothing(t);
    assert_state(t, USTK_TCP_ESTABLISHED);
    assert_int_equal(ustk_sock_error(t->s, t->c.sock), 0);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=10>");
    expect(t, "<SEQ=1><ACK=11><CTL=ACK>");
    app_recv_expect(t, 10);
}

/* After shutdown(WR), send is EPIPE and nothing is sent; the connection
 * still receives. */
static void test_send_after_shutdown(void **state)
{
    tcp_test *t = *state;

    conn_in_fin_wait_1(t);
    assert_err(app_send(t, 10), USTK_EPIPE);
    assert_int_equal(ustk_shutdown(t->s, t->c.sock, USTK_SHUT_WR, t->now), 0);
    expect_nothing(t);
    assert_state(t, USTK_TCP_FIN_WAIT_1);
    inject(t, "<SEQ=1><ACK=2><CTL=ACK><LEN=10>");
    expect(t, "<SEQ=2><ACK=11><CTL=ACK>");
    app_recv_expect(t, 10);
}

/* The socket table is bounded by max_sockets. */
static void test_socket_table_full(void **state)
{
    tcp_test *t = *state;
    int s[3];

    t->cfg.max_sockets = 3;
    th_start(t);
    for (int i = 0; i < 3; i++) {
        s[i] = ustk_open(t->s, USTK_PROTO_TCP);
        assert_true(s[i] >= 0);
    }
    assert_err(ustk_open(t->s, USTK_PROTO_TCP), USTK_EMFILE);
    assert_int_equal(ustk_close(t->s, s[1], t->now), 0);
    assert_true(ustk_open(t->s, USTK_PROTO_TCP) >= 0);
    assert_err(ustk_open(t->s, USTK_PROTO_TCP), USTK_EMFILE);
}

/* An unknown protocol is refused with EPROTONOSUPPORT (POSIX socket()). */
static void test_open_bad_protocol(void **state)
{
    tcp_test *t = *state;
    int rc;

    th_start(t);
    rc = ustk_open(t->s, (ustk_proto)99);
    assert_err(rc, USTK_EPROTONOSUPPORT);
}

/* shutdown with a bad `how`: EINVAL, no FIN. */
static void test_shutdown_bad_how(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_err(ustk_shutdown(t->s, t->c.sock, 7, t->now), USTK_EINVAL);
    expect_nothing(t);
    assert_state(t, USTK_TCP_ESTABLISHED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_bad_handles),
        TH_TEST(test_stale_handle_stays_bad),
        TH_TEST(test_stale_handle_oldest_slot_first),
        TH_TEST(test_send_on_listener),
        TH_TEST(test_connect_twice),
        TH_TEST(test_unconnected),
        TH_TEST(test_bind_in_use),
        TH_TEST(test_bind_errors),
        TH_TEST(test_bind_ephemeral),
        TH_TEST(test_listen_on_connected),
        TH_TEST(test_send_after_shutdown),
        TH_TEST(test_socket_table_full),
        TH_TEST(test_open_bad_protocol),
        TH_TEST(test_shutdown_bad_how),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
