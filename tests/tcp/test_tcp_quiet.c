/* The split connection block (tcp_priv.h): a quiet connection gives its
 * busy part back whatever it went through (a SACK, a failed call, a
 * backed-off RTO, a blind out-of-window segment), and every path works on
 * a quiet block, also when no memory for a part is left. */
#include <stdlib.h>
#include <string.h>

#include "tcp_harness.h"
#include "core/tcp_priv.h"

#define MSS 1460u

static uint64_t busy(const ustk_stack *s)
{
    ustk_stack_stats st;
    ustk_stack_stats_get(s, &st);
    return st.tcp_busy;
}

/* ---- allocator that fails on demand ---- */
static struct {
    bool fail_part;   /* fail allocations of sizeof(ustk_tcbx) */
    bool fail_all;
    size_t fail_size; /* fail allocations of this size, when not 0 */
    unsigned failed;
    long live;        /* allocations not yet freed */
} A;

static void *fail_alloc(void *ctx, size_t n)
{
    (void)ctx;
    if (A.fail_all || (A.fail_part && n == sizeof(ustk_tcbx)) ||
        (A.fail_size && n == A.fail_size)) {
        A.failed++;
        return NULL;
    }
    void *p = malloc(n);
    if (p)
        A.live++;
    return p;
}

static void fail_free(void *ctx, void *p)
{
    (void)ctx;
    if (p)
        A.live--;
    free(p);
}

/* Allocations in use, the stack's caches of freed buffers emptied. */
static long live(tcp_test *t)
{
    ustk_stack_trim(t->s);
    return A.live;
}

/* An established connection on the counting allocator, quiet (no busy
 * part) once the handshake is over. */
static void quiet_counted_conn(tcp_test *t)
{
    t->cfg.alloc = fail_alloc;
    t->cfg.free = fail_free;
    memset(&A, 0, sizeof A);
    conn_in_established(t);
    assert_int_equal(busy(t->s), 0);
}

/* A connection whose peer once SACKed: when everything is acknowledged
 * the scoreboard goes with the send buffer, and the part with them. */
static void test_sack_then_quiet_gives_part_back(void **state)
{
    tcp_test *t = *state;
    t->cfg.opt_sack = true;
    t->peer_syn_opts = "<MSS=1460><SACKOK>";
    conn_in_established(t);
    assert_int_equal(busy(t->s), 0);

    assert_int_equal(app_send(t, 3 * MSS), 3 * MSS);
    expect_segments(t, 0, 3, MSS);
    advance_to(t, t->now + USTK_MS(100));
    /* The first segment is late: the peer SACKs the others, then ACKs
     * everything. */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-4381>");
    th_drain(t);
    inject(t, "<SEQ=1><ACK=4381><CTL=ACK>");
    th_drain(t);
    ustk_tcp_info i = info(t);
    assert_int_equal(i.snd_una, i.snd_nxt);
    assert_int_equal(i.snd_queued, 0);
    assert_int_equal(i.sacked_out, 0);
    /* Walk past every timer: nothing is pending any more. */
    advance_to(t, t->now + USTK_SEC(120));
    th_drain(t);
    assert_int_equal(th_deadline(t), USTK_TIME_NEVER);
    assert_int_equal(busy(t->s), 0);
}

/* A failed connect() or listen() on a quiet connection takes the part
 * for the call and gives it back. */
static void test_failed_connect_gives_part_back(void **state)
{
    tcp_test *t = *state;
    conn_in_established(t);
    assert_int_equal(busy(t->s), 0);
    ustk_sockaddr to = {.addr = TH_PEER_IP, .port = 1234};
    assert_err(ustk_connect(t->s, t->c.sock, &to, t->now), USTK_EISCONN);
    assert_int_equal(busy(t->s), 0);
}

static void test_failed_listen_gives_part_back(void **state)
{
    tcp_test *t = *state;
    conn_in_established(t);
    assert_int_equal(busy(t->s), 0);
    assert_err(ustk_listen(t->s, t->c.sock, 4), USTK_EINVAL);
    assert_int_equal(busy(t->s), 0);
}

/* No memory for the part: every path on a quiet connection. */
static void test_no_memory_for_part(void **state)
{
    tcp_test *t = *state;
    quiet_counted_conn(t);
    ustk_stack_trim(t->s); /* no cached parts */
    A.fail_part = true;

    /* A segment: dropped with its reason, nothing sent. */
    uint64_t d0 = th_drops(t, USTK_DROP_TCP_NO_MEMORY);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=10>");
    assert_int_equal(th_drops(t, USTK_DROP_TCP_NO_MEMORY), d0 + 1);
    expect_nothing(t);
    /* A RST: dropped too (the connection survives). */
    inject(t, "<SEQ=1><CTL=RST>");
    assert_state(t, USTK_TCP_ESTABLISHED);
    /* User calls. */
    assert_err(app_send(t, 10), USTK_ENOBUFS);
    uint8_t b[16];
    assert_err(ustk_recv(t->s, t->c.sock, b, sizeof b, t->now), USTK_ENOBUFS);
    assert_err(ustk_shutdown(t->s, t->c.sock, USTK_SHUT_WR, t->now),
               USTK_ENOBUFS);
    assert_err(ustk_setsockopt(t->s, t->c.sock, USTK_SO_KEEPALIVE, 1),
               USTK_ENOBUFS);
    int v;
    assert_int_equal(ustk_getsockopt(t->s, t->c.sock, USTK_TCP_KEEPCNT, &v), 0);
    ustk_tcp_info i = info(t);
    assert_int_equal(i.state, USTK_TCP_ESTABLISHED);
    (void)ustk_sock_poll(t->s, t->c.sock);
    assert_int_equal(ustk_sock_error(t->s, t->c.sock), 0);
    /* close(): a reset, and the block is freed. */
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    expect(t, "<SEQ=1><CTL=RST>");
    ustk_stack_stats st;
    ustk_stack_stats_get(t->s, &st);
    assert_int_equal(st.tcp_connections, 0);
    assert_int_equal(st.tcp_busy, 0);
    assert_true(A.failed > 0);
    A.fail_part = false;
}

/* abort() and destroy on a quiet connection, nothing failing. */
static void test_abort_quiet(void **state)
{
    tcp_test *t = *state;
    conn_in_close_wait(t);
    th_drain(t);
    assert_int_equal(busy(t->s), 0);
    assert_int_equal(ustk_abort(t->s, t->c.sock, t->now), 0);
    expect(t, "<SEQ=1><CTL=RST>");
}

static void test_destroy_with_quiet(void **state)
{
    tcp_test *t = *state;
    conn_in_established(t);
    assert_int_equal(busy(t->s), 0);
    /* the teardown destroys the stack with a quiet block in it */
}

/* An ICMP soft error on a quiet connection is kept and reported when
 * the connection later times out. */
static void test_icmp_soft_error_on_quiet(void **state)
{
    tcp_test *t = *state;
    t->cfg.data_retries = 2;
    conn_in_established(t);
    assert_int_equal(busy(t->s), 0);
    assert_int_equal(th_icmp_error(t, USTK_ICMP_DEST_UNREACH,
                                   USTK_ICMP_HOST_UNREACH, 0, 1, 40, 0),
                     0);
    assert_int_equal(busy(t->s), 0);
    assert_int_equal(app_send(t, 10), 10);
    for (int k = 0; k < 20 && info(t).state != USTK_TCP_CLOSED; k++) {
        ustk_time d = th_deadline(t);
        if (d == USTK_TIME_NEVER)
            break;
        advance_to(t, d);
        th_drain(t);
    }
    assert_err(ustk_sock_error(t->s, t->c.sock), USTK_EHOSTUNREACH);
}

/* After a retransmission timeout, the ACK of new data puts the RTO back
 * (no sample needed), so the idle connection gives its part back. */
static void test_rto_backoff_then_quiet_gives_part_back(void **state)
{
    tcp_test *t = *state;
    conn_in_established(t);
    assert_int_equal(app_send(t, 100), 100);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    ustk_time d = th_deadline(t);
    advance_to(t, d);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    inject(t, "<SEQ=1><ACK=101><CTL=ACK>");
    advance_to(t, t->now + USTK_SEC(600));
    th_drain(t);
    assert_int_equal(th_deadline(t), USTK_TIME_NEVER);
    assert_int_equal(busy(t->s), 0);
}

/* An unacceptable segment (a blind out-of-window ACK) keeps the part for
 * the 500 ms of the ACK rate limit only: a timer then gives it back. */
static void test_oow_ack_then_quiet_gives_part_back(void **state)
{
    tcp_test *t = *state;
    conn_in_established(t);
    assert_int_equal(busy(t->s), 0);
    inject(t, "<SEQ=1><ACK=500000><CTL=ACK>");
    th_drain(t);
    advance_to(t, t->now + USTK_SEC(3600));
    th_drain(t);
    assert_int_equal(th_deadline(t), USTK_TIME_NEVER);
    assert_int_equal(busy(t->s), 0);
}

/* In-order data for a quiet connection is summed into a receive ring
 * taken for it before the checksum check (tcp_input.c, fresh_rcv). When
 * the segment is damaged, or accepted but its data is not (an ACK of
 * something never sent), the ring goes back at once and the part once
 * the connection is quiet again: nothing stays allocated. */
static void test_damaged_data_on_quiet_gives_all_back(void **state)
{
    tcp_test *t = *state;
    quiet_counted_conn(t);
    long base = live(t);

    uint64_t d0 = th_drops(t, USTK_DROP_TCP_CHECKSUM);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100><BADSUM>");
    assert_int_equal(th_drops(t, USTK_DROP_TCP_CHECKSUM), d0 + 1);
    assert_int_equal(busy(t->s), 0);
    assert_int_equal(live(t), base);
    expect_nothing(t);

    /* Right checksum, unacceptable ACK: answered, data not taken. */
    inject(t, "<SEQ=1><ACK=500000><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    assert_int_equal(info(t).rcv_queued, 0);
    advance_to(t, t->now + USTK_SEC(3600));
    th_drain(t);
    assert_int_equal(busy(t->s), 0);
    assert_int_equal(live(t), base);

    /* And the stream still continues where it was. */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    th_drain(t);
    app_recv_expect(t, 100);
    advance_to(t, t->now + USTK_SEC(3600));
    th_drain(t);
    assert_int_equal(busy(t->s), 0);
    assert_int_equal(live(t), base);
}

/* The part can be had but not the ring: a damaged segment gives the part
 * back; a good one is dropped for want of memory and acknowledged as it
 * was (so the peer sends it again), and the part goes back too. */
static void test_no_memory_for_ring_on_quiet(void **state)
{
    tcp_test *t = *state;
    quiet_counted_conn(t);
    long base = live(t);
    A.fail_size = t->cfg.rcv_buf;

    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100><BADSUM>");
    assert_int_equal(busy(t->s), 0);
    assert_int_equal(live(t), base);

    uint64_t d0 = th_drops(t, USTK_DROP_TCP_NO_MEMORY);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    assert_int_equal(th_drops(t, USTK_DROP_TCP_NO_MEMORY), d0 + 1);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    advance_to(t, t->now + USTK_SEC(3600));
    th_drain(t);
    assert_int_equal(busy(t->s), 0);
    assert_int_equal(live(t), base);
    assert_true(A.failed > 0);
    A.fail_size = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_sack_then_quiet_gives_part_back),
        TH_TEST(test_failed_connect_gives_part_back),
        TH_TEST(test_failed_listen_gives_part_back),
        TH_TEST(test_no_memory_for_part),
        TH_TEST(test_abort_quiet),
        TH_TEST(test_destroy_with_quiet),
        TH_TEST(test_icmp_soft_error_on_quiet),
        TH_TEST(test_rto_backoff_then_quiet_gives_part_back),
        TH_TEST(test_oow_ack_then_quiet_gives_part_back),
        TH_TEST(test_damaged_data_on_quiet_gives_all_back),
        TH_TEST(test_no_memory_for_ring_on_quiet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
