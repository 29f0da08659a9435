/* Data transfer: in-order delivery of the exact bytes, reassembly, ACK
 * generation (RFC 9293 §3.8.6.3, RFC 5681 §4.2), segmentation at the MSS
 * (§3.7.1), cumulative ACKs, flow control (§3.8.6), sequence wrap. */
#include "tcp_harness.h"

/* Each in-order segment is ACKed at once (delack off); the window shrinks
 * by the unread bytes; the application reads exactly the peer's bytes. */
static void test_in_order_delivery(void **state)
{
    tcp_test *t = *state;
    ustk_tcp_info ti;

    conn_in_established(t);
    assert_drop(inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>"), 0);
    expect(t, "<SEQ=1><ACK=101><CTL=ACK><WND=29900>");
    assert_true(ustk_sock_poll(t->s, t->c.sock) & USTK_READABLE);
    assert_drop(inject(t, "<SEQ=101><ACK=1><CTL=ACK><LEN=100>"), 0);
    expect(t, "<SEQ=1><ACK=201><CTL=ACK><WND=29800>");
    assert_drop(inject(t, "<SEQ=201><ACK=1><CTL=PSH,ACK><LEN=100>"), 0);
    expect(t, "<SEQ=1><ACK=301><CTL=ACK><WND=29700>");
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.rcv_nxt, t->c.irs + 301);
    assert_int_equal(ti.rcv_queued, 300);
    assert_int_equal(ti.bytes_received, 300);

    app_recv_expect(t, 300);
    assert_int_equal(ustk_sock_poll(t->s, t->c.sock) & USTK_READABLE, 0);
    assert_err(ustk_recv(t->s, t->c.sock, (uint8_t[8]){0}, 8, t->now), USTK_EAGAIN);
    /* The window is free space again: the next ACK shows it. */
    assert_drop(inject(t, "<SEQ=301><ACK=1><CTL=ACK><LEN=10>"), 0);
    expect(t, "<SEQ=1><ACK=311><CTL=ACK><WND=29990>");
}

/* A damaged segment is dropped before anything is done with it, also when
 * it continues the stream and its payload is copied into the receive ring
 * as its checksum is computed (tcp_input.c, checksum_ok): the stream, the
 * window and RCV.NXT stay as they were, and the good copy that follows is
 * what the application reads. Also when the damage lands in a ring that
 * wraps, and next to bytes held out of order. */
static void test_damaged_segment_leaves_stream(void **state)
{
    tcp_test *t = *state;
    ustk_tcp_info ti;

    conn_in_established(t);
    /* Before the receive ring exists, and once it holds bytes. */
    assert_drop(inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1000><BADSUM>"),
                USTK_DROP_TCP_CHECKSUM);
    expect_nothing(t);
    assert_drop(inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1000>"), 0);
    expect(t, "<SEQ=1><ACK=1001><CTL=ACK>");
    assert_drop(inject(t, "<SEQ=1001><ACK=1><CTL=ACK><LEN=1000><BADSUM>"),
                USTK_DROP_TCP_CHECKSUM);
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.rcv_nxt, t->c.irs + 1001);
    assert_int_equal(ti.rcv_queued, 1000);
    /* Fill most of the 30,000-byte ring and read all but 1,000 bytes (so
     * that it stays), so that the next segment wraps around its end. */
    for (uint32_t k = 0; k < 28; k++) {
        assert_drop(
            inject(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=1000>", 1001 + 1000 * k),
            0);
        expect(t, "<SEQ=1><ACK=%u><CTL=ACK>", 2001 + 1000 * k);
    }
    app_recv_expect(t, 28000);
    assert_drop(inject(t, "<SEQ=29001><ACK=1><CTL=ACK><LEN=1400><BADSUM>"),
                USTK_DROP_TCP_CHECKSUM);
    /* Out of order beyond it, then a damaged segment over both the hole
     * and those bytes (its damaged last byte among them): the bytes held
     * ahead must survive it. */
    assert_drop(inject(t, "<SEQ=30401><ACK=1><CTL=ACK><LEN=600>"), 0);
    expect(t, "<SEQ=1><ACK=29001><CTL=ACK>");
    assert_drop(inject(t, "<SEQ=29001><ACK=1><CTL=ACK><LEN=2000><BADSUM>"),
                USTK_DROP_TCP_CHECKSUM);
    assert_drop(inject(t, "<SEQ=29001><ACK=1><CTL=ACK><LEN=1400>"), 0);
    expect(t, "<SEQ=1><ACK=31001><CTL=ACK>");
    /* And a damaged copy across the wrap with nothing held ahead. */
    assert_drop(inject(t, "<SEQ=31001><ACK=1><CTL=ACK><LEN=900><BADSUM>"),
                USTK_DROP_TCP_CHECKSUM);
    assert_drop(inject(t, "<SEQ=31001><ACK=1><CTL=ACK><LEN=900>"), 0);
    expect(t, "<SEQ=1><ACK=31901><CTL=ACK>");
    app_recv_expect(t, 3900);
    ti = info(t);
    assert_int_equal(ti.bytes_received, 31900);
    assert_int_equal(ti.rcv_queued, 0);
}

/* recv in small pieces returns the stream in order. */
static void test_partial_reads(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1000>");
    expect(t, "<SEQ=1><ACK=1001><CTL=ACK>");
    for (int i = 0; i < 10; i++)
        app_recv_expect(t, 100);
    assert_int_equal(info(t).rcv_queued, 0);
}

/* RFC 5681 §4.2: an out-of-order segment gets an immediate duplicate ACK;
 * the gap's filling gets an ACK of everything now in order; the application
 * sees the bytes in order, once. */
static void test_out_of_order_reassembly(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    inject(t, "<SEQ=101><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    assert_err(ustk_recv(t->s, t->c.sock, (uint8_t[8]){0}, 8, t->now), USTK_EAGAIN);
    inject(t, "<SEQ=301><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=201><CTL=ACK>");
    inject(t, "<SEQ=201><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=401><CTL=ACK><WND=29600>");
    expect_nothing(t);
    app_recv_expect(t, 400);
}

/* Out-of-order data that overlaps itself and the in-order edge. */
static void test_out_of_order_overlaps(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    inject(t, "<SEQ=51><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    inject(t, "<SEQ=101><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=60>");
    expect(t, "<SEQ=1><ACK=201><CTL=ACK>");
    app_recv_expect(t, 200);
}

/* RFC 2018 §4: with SACK negotiated, a duplicate ACK reports the received
 * blocks, "the first SACK block ... MUST specify the contiguous block of
 * data containing the segment which triggered this ACK", then the most
 * recently reported others. */
static void test_sack_blocks(void **state)
{
    tcp_test *t = *state;

    t->cfg.opt_sack = true;
    t->peer_syn_opts = "<MSS=1460><SACKOK>";
    conn_in_established(t);
    assert_int_equal(info(t).sack_ok, 1);

    inject(t, "<SEQ=101><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=101-201>");
    inject(t, "<SEQ=301><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=301-401,101-201>");
    inject(t, "<SEQ=201><ACK=1><CTL=ACK><LEN=50>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=101-251,301-401>");
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=251><CTL=ACK><SACK=301-401>");
    inject(t, "<SEQ=251><ACK=1><CTL=ACK><LEN=50>");
    expect(t, "<SEQ=1><ACK=401><CTL=ACK><NOOPTS>");
    app_recv_expect(t, 400);
}

/* RFC 9293 §3.7.1: segments carry at most the effective send MSS; a send of
 * three MSS worth goes out as three full segments, the exact bytes. */
static void test_segmentation_at_mss(void **state)
{
    tcp_test *t = *state;
    ustk_tcp_info ti;

    conn_in_established(t);
    assert_int_equal(app_send(t, 3 * 1460), 3 * 1460);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1460>");
    expect(t, "<SEQ=1461><ACK=1><CTL=ACK><LEN=1460>");
    expect(t, "<SEQ=2921><ACK=1><CTL=ACK><LEN=1460>");
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.snd_nxt, t->c.iss + 4381);
    assert_int_equal(ti.snd_una, t->c.iss + 1);
    assert_int_equal(ti.snd_queued, 4380);
}

/* A small send on an idle connection goes out at once. */
static void test_small_send(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    assert_int_equal(app_send(t, 10), 10);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=10>");
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=11><CTL=ACK>");
    assert_int_equal(app_send(t, 5), 5);
    expect(t, "<SEQ=11><ACK=1><CTL=ACK><LEN=5>");
}

/* The peer announces MSS 536: no segment carries more (RFC 9293 §3.7.1). */
static void test_mss_536_honoured(void **state)
{
    tcp_test *t = *state;
    ustk_tcp_info ti;

    t->peer_syn_opts = "<MSS=536>";
    conn_in_established(t);
    ti = info(t);
    assert_int_equal(ti.mss, 536);
    assert_int_equal(ti.peer_mss, 536);
    assert_int_equal(app_send(t, 5 * 536), 5 * 536);
    expect_segments(t, 0, 5, 536);
    expect_nothing(t);
}

/* With timestamps on every segment, the data shrinks by the 12 option bytes
 * so that data + options stay within the MSS (RFC 9293 §3.7.1: "the sender
 * must decrease the size of the TCP data accordingly"; RFC 6691). */
static void test_mss_536_with_timestamps(void **state)
{
    tcp_test *t = *state;

    t->cfg.opt_timestamps = true;
    t->peer_syn_opts = "<MSS=536><TS>";
    conn_in_established(t);
    assert_int_equal(info(t).ts_ok, 1);
    assert_int_equal(app_send(t, 3 * 524), 3 * 524);
    expect_segments(t, 0, 3, 524);
    expect_nothing(t);
}

/* One ACK for several segments acknowledges them all. */
static void test_cumulative_ack(void **state)
{
    tcp_test *t = *state;
    ustk_tcp_info ti;

    conn_in_established(t);
    assert_int_equal(app_send(t, 4 * 1460), 4 * 1460);
    expect_segments(t, 0, 4, 1460);
    advance_to(t, t->now + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=2921><CTL=ACK>");
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.snd_una, t->c.iss + 2921);
    assert_int_equal(ti.snd_queued, 2920);
    inject(t, "<SEQ=1><ACK=5841><CTL=ACK>");
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.snd_una, t->c.iss + 5841);
    assert_int_equal(ti.snd_queued, 0);
    assert_int_equal(ti.bytes_sent, 5840);
    assert_int_equal(ti.retransmits, 0);
    assert_true(ustk_sock_poll(t->s, t->c.sock) & USTK_WRITABLE);
    assert_int_equal(th_deadline(t), USTK_TIME_NEVER);
    expect_nothing_until(t, t->now + USTK_SEC(60));
}

/* The sender never exceeds the peer's window (RFC 9293 §3.8.6); each ACK
 * that opens it lets the next part go. */
static void test_peer_window_limits_sending(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;

    t->c.peer_wnd = 1000;
    conn_in_established(t);
    assert_int_equal(info(t).snd_wnd, 1000);
    t0 = t->now;
    assert_int_equal(app_send(t, 2500), 2500);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1000>");
    expect_nothing_until(t, t0 + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=1001><CTL=ACK><WND=1000>");
    expect(t, "<SEQ=1001><ACK=1><CTL=ACK><LEN=1000>");
    expect_nothing(t);
    advance_to(t, t0 + USTK_MS(200));
    inject(t, "<SEQ=1><ACK=2001><CTL=ACK><WND=1000>");
    expect(t, "<SEQ=2001><ACK=1><CTL=ACK><LEN=500>");
    expect_nothing(t);
}

/* A window update alone (no new ACK) also releases data. */
static void test_window_update_releases_data(void **state)
{
    tcp_test *t = *state;

    t->c.peer_wnd = 500;
    conn_in_established(t);
    assert_int_equal(app_send(t, 1500), 1500);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=500>");
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=501><CTL=ACK><WND=0>");
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=501><CTL=ACK><WND=2000>");
    expect(t, "<SEQ=501><ACK=1><CTL=ACK><LEN=1000>");
    expect_nothing(t);
}

/* Filling our receive buffer closes the window; a byte beyond it is not
 * acceptable (RFC 9293 §3.10.7.4: with RCV.WND = 0 "no segments will be
 * acceptable, but special allowance should be made to accept valid ACKs")
 * and is answered with an ACK that still shows the zero window. */
static void test_receive_window_closes(void **state)
{
    tcp_test *t = *state;

    t->cfg.rcv_buf = 1000;
    conn_in_established(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=600>");
    expect(t, "<SEQ=1><ACK=601><CTL=ACK><WND=400>");
    inject(t, "<SEQ=601><ACK=1><CTL=ACK><LEN=400>");
    expect(t, "<SEQ=1><ACK=1001><CTL=ACK><WND=0>");
    inject(t, "<SEQ=1001><ACK=1><CTL=ACK><LEN=1>");
    expect(t, "<SEQ=1><ACK=1001><CTL=ACK><WND=0>");
    expect_nothing(t);
    /* A pure ACK is still processed with the window closed. */
    assert_int_equal(app_send(t, 10), 10);
    expect(t, "<SEQ=1><ACK=1001><CTL=ACK><WND=0><LEN=10>");
    assert_drop(inject(t, "<SEQ=1001><ACK=11><CTL=ACK>"), 0);
    assert_int_equal(info(t).snd_una, t->c.iss + 11);
    app_recv_expect(t, 1000);
}

/* RFC 5681 §2: a duplicate ACK carries no data and the same window. The
 * peer's 1-byte probes of our closed window carry data, trimmed away here
 * as beyond the window, and three window updates move the window: none
 * of them is a duplicate ACK, and nothing is resent. */
static void test_probes_and_updates_are_no_dupacks(void **state)
{
    tcp_test *t = *state;
    uint32_t edge = 1 + 4 * 1460;

    t->cfg.rcv_buf = 1000;
    conn_in_established(t);
    assert_int_equal(app_send(t, 4 * 1460), 4 * 1460);
    expect_segments(t, 0, 4, 1460);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1000>");
    expect(t, "<SEQ=%u><ACK=1001><CTL=ACK><WND=0>", edge);
    for (int i = 0; i < 3; i++) {
        inject(t, "<SEQ=1001><ACK=1><CTL=ACK><LEN=1>");
        expect(t, "<SEQ=%u><ACK=1001><CTL=ACK><WND=0>", edge);
    }
    expect_nothing(t);
    for (int i = 0; i < 3; i++)
        inject(t, "<SEQ=1001><ACK=1><CTL=ACK><WND=%d>", 20000 + 1000 * i);
    expect_nothing(t);
    assert_int_equal(info(t).rtx_fast, 0);
    assert_int_equal(info(t).retransmits, 0);
}

/* The peer's sequence numbers wrap past 2^32 in the middle of the data. */
static void test_receive_across_wrap(void **state)
{
    tcp_test *t = *state;

    t->c.irs = 0xffffff00u;
    conn_in_established(t);
    assert_int_equal(info(t).irs, 0xffffff00u);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=200>");
    expect(t, "<SEQ=1><ACK=201><CTL=ACK>");
    inject(t, "<SEQ=201><ACK=1><CTL=ACK><LEN=200>");
    expect(t, "<SEQ=1><ACK=401><CTL=ACK>");
    inject(t, "<SEQ=401><ACK=1><CTL=ACK><LEN=200>");
    expect(t, "<SEQ=1><ACK=601><CTL=ACK>");
    assert_int_equal(info(t).rcv_nxt, 0xffffff00u + 601);
    app_recv_expect(t, 600);
}

/* Out-of-order data held across the wrap point (the interval set must
 * compare sequence numbers modulo 2^32). */
static void test_out_of_order_across_wrap(void **state)
{
    tcp_test *t = *state;

    t->c.irs = 0xffffff00u;
    conn_in_established(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=200>");
    expect(t, "<SEQ=1><ACK=201><CTL=ACK>");
    inject(t, "<SEQ=401><ACK=1><CTL=ACK><LEN=200>");
    expect(t, "<SEQ=1><ACK=201><CTL=ACK>");
    inject(t, "<SEQ=201><ACK=1><CTL=ACK><LEN=200>");
    expect(t, "<SEQ=1><ACK=601><CTL=ACK>");
    app_recv_expect(t, 600);
}

/* Delayed ACK (cfg.delack > 0, RFC 9293 §3.8.6.3, RFC 5681 §4.2): a lone
 * segment is ACKed after delack; "an ACK SHOULD be generated for at least
 * every second full-sized segment"; an out-of-order segment and a segment
 * that fills a gap are ACKed at once. */
static void test_delayed_ack(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;

    t->cfg.delack = USTK_MS(40);
    conn_in_established(t);
    /* The first eight data segments are ACKed at once (quick ACKs while
     * the peer is in slow start). */
    for (uint32_t i = 0; i < 8; i++) {
        inject(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=1>", 1 + i);
        expect(t, "<SEQ=1><ACK=%u><CTL=ACK>", 2 + i);
    }
    app_recv_expect(t, 8);
    t0 = t->now;
    inject(t, "<SEQ=9><ACK=1><CTL=ACK><LEN=92>");
    expect_at(t, t0 + USTK_MS(40), "<SEQ=1><ACK=101><CTL=ACK>");
    expect_nothing(t);

    advance_to(t, t0 + USTK_MS(100));
    inject(t, "<SEQ=101><ACK=1><CTL=ACK><LEN=1460>");
    expect_nothing(t);
    inject(t, "<SEQ=1561><ACK=1><CTL=ACK><LEN=1460>");
    expect(t, "<SEQ=1><ACK=3021><CTL=ACK>");
    expect_nothing(t);

    /* A third full-sized segment alone waits for the timer again. */
    advance_to(t, t0 + USTK_MS(200));
    inject(t, "<SEQ=3021><ACK=1><CTL=ACK><LEN=1460>");
    expect_at(t, t0 + USTK_MS(240), "<SEQ=1><ACK=4481><CTL=ACK>");
    expect_nothing_until(t, t0 + USTK_SEC(10));
    app_recv_expect(t, 4472);
}

/* RFC 5681 §4.2: "A TCP receiver SHOULD send an immediate duplicate ACK
 * when an out-of-order segment arrives" and "an immediate ACK SHOULD be
 * generated when a segment arrives that fills in all or part of a gap". */
static void test_delayed_ack_out_of_order(void **state)
{
    tcp_test *t = *state;

    t->cfg.delack = USTK_MS(40);
    conn_in_established(t);
    inject(t, "<SEQ=101><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK>");
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=201><CTL=ACK>");
    expect_nothing_until(t, t->now + USTK_SEC(10));
    app_recv_expect(t, 200);
}

/* Out-of-order segments that arrive together, before the stack is polled
 * (a link that hands over a batch of frames), still get one duplicate ACK
 * each: a sender without SACK needs three to retransmit (RFC 5681 §3.2,
 * §4.2). Data going out meanwhile does not count as one. The segment
 * that fills the gap then needs a single ACK, not one per segment owed:
 * repeats of the new ACK would look like losses to the sender. */
static void test_batched_out_of_order_dupacks(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    inject(t, "<SEQ=101><ACK=1><CTL=ACK><LEN=100>");
    inject(t, "<SEQ=201><ACK=1><CTL=ACK><LEN=100>");
    inject(t, "<SEQ=301><ACK=1><CTL=ACK><LEN=100>");
    assert_int_equal(app_send(t, 10), 10);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=10>");
    expect(t, "<SEQ=11><ACK=1><CTL=ACK>");
    expect(t, "<SEQ=11><ACK=1><CTL=ACK>");
    expect(t, "<SEQ=11><ACK=1><CTL=ACK>");
    expect_nothing(t);
    inject(t, "<SEQ=401><ACK=11><CTL=ACK><LEN=100>");
    inject(t, "<SEQ=501><ACK=11><CTL=ACK><LEN=100>");
    inject(t, "<SEQ=1><ACK=11><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=11><ACK=601><CTL=ACK>");
    expect_nothing(t);
    app_recv_expect(t, 600);
}

/* Data piggybacks the ACK of received data when both are due. */
static void test_send_carries_ack(void **state)
{
    tcp_test *t = *state;

    conn_in_established(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=30>");
    expect(t, "<SEQ=1><ACK=31><CTL=ACK>");
    assert_int_equal(app_send(t, 40), 40);
    expect(t, "<SEQ=1><ACK=31><CTL=ACK><LEN=40>");
    inject(t, "<SEQ=31><ACK=41><CTL=ACK><LEN=30>");
    expect(t, "<SEQ=41><ACK=61><CTL=ACK>");
    app_recv_expect(t, 60);
    assert_int_equal(info(t).snd_una, t->c.iss + 41);
}

/* The send buffer bounds what ustk_send takes; the rest is refused with
 * EAGAIN until ACKs free space. */
static void test_send_buffer_full(void **state)
{
    tcp_test *t = *state;
    ptrdiff_t n;

    t->cfg.snd_buf = 4000;
    t->c.peer_wnd = 1000;
    conn_in_established(t);
    n = app_send(t, 6000);
    assert_int_equal(n, 4000);
    assert_err(app_send(t, 10), USTK_EAGAIN);
    assert_int_equal(ustk_sock_poll(t->s, t->c.sock) & USTK_WRITABLE, 0);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1000>");
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=1001><CTL=ACK><WND=1000>");
    expect(t, "<SEQ=1001><ACK=1><CTL=ACK><LEN=1000>");
    assert_true(ustk_sock_poll(t->s, t->c.sock) & USTK_WRITABLE);
    assert_int_equal(app_send(t, 2000), 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_in_order_delivery),
        TH_TEST(test_partial_reads),
        TH_TEST(test_damaged_segment_leaves_stream),
        TH_TEST(test_out_of_order_reassembly),
        TH_TEST(test_out_of_order_overlaps),
        TH_TEST(test_sack_blocks),
        TH_TEST(test_segmentation_at_mss),
        TH_TEST(test_small_send),
        TH_TEST(test_mss_536_honoured),
        TH_TEST(test_mss_536_with_timestamps),
        TH_TEST(test_cumulative_ack),
        TH_TEST(test_peer_window_limits_sending),
        TH_TEST(test_window_update_releases_data),
        TH_TEST(test_receive_window_closes),
        TH_TEST(test_probes_and_updates_are_no_dupacks),
        TH_TEST(test_batched_out_of_order_dupacks),
        TH_TEST(test_receive_across_wrap),
        TH_TEST(test_out_of_order_across_wrap),
        TH_TEST(test_delayed_ack),
        TH_TEST(test_delayed_ack_out_of_order),
        TH_TEST(test_send_carries_ack),
        TH_TEST(test_send_buffer_full),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
