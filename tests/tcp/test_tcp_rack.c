/* RACK-TLP (RFC 8985) and the undo of spurious reductions (RFC 2883 §4),
 * scripted: loss found from send times, the reordering timer, tail loss
 * probes, lost retransmissions, and D-SACK undo. */
#include <stdlib.h>

#include "tcp_harness.h"

#define MSS 1460u

static void rack_conn(tcp_test *t)
{
    t->cfg.opt_sack = true;
    t->peer_syn_opts = "<MSS=1460><SACKOK>";
    conn_in_established(t);
    assert_int_equal(info(t).sack_ok, 1);
}

/* A RACK connection sends n full segments at once; returns when. */
static ustk_time rack_burst(tcp_test *t, uint32_t n)
{
    ustk_time t0;

    rack_conn(t);
    t0 = t->now;
    assert_int_equal(app_send(t, n * MSS), n * MSS);
    expect_segments(t, 0, n, MSS);
    return t0;
}

/* Ten segments, and 100 ms later a SACK of segments 2-4: with three
 * SACKed, RACK finds the first lost at once and recovery resends it.
 * Returns when the ten were sent. */
static ustk_time rack_recovery(tcp_test *t)
{
    ustk_time t0 = rack_burst(t, 10);

    advance_to(t, t0 + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-5841>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    return t0;
}

/* Ten segments go out at once; the first is lost. The first SACK (for
 * the second segment) makes RACK's reference the second segment, sent
 * at the same moment as the first but after it: the first is lost once
 * RACK.rtt + reo_wnd has passed since it was sent. No reordering has
 * been seen and fewer than DupThresh segments are SACKed, so reo_wnd is
 * min_RTT / 4 = 25 ms: the reordering timer fires 25 ms after the SACK,
 * and the first segment goes again at once. */
static void test_rack_reordering_timer(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    ustk_tcp_info ti;

    t0 = rack_burst(t, 10);
    advance_to(t, t0 + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-2921>");
    expect_nothing(t);
    expect_at(t, t0 + USTK_MS(125), "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.ssthresh, 5 * MSS);
    /* PRR: the retransmission on top of pipe (10 - 1 SACKed - 1 lost). */
    assert_int_equal(ti.cwnd, 9 * MSS);
    assert_int_equal(ti.rtx_sack, 1);
    assert_int_equal(ti.rtx_fast, 0);
    assert_int_equal(ti.rtx_timeout, 0);
}

/* A recovery the reordering timer starts is paced by PRR too. Only the
 * last of ten segments is SACKed; 25 ms later the nine before it are
 * lost, and pipe is 0. RFC 6675 alone would set cwnd = ssthresh and send
 * five retransmissions at once; no ACK delivered anything, so PRR lets
 * the first alone out, and the ACKs that follow clock the rest. */
static void test_rack_timer_recovery_paced(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    ustk_tcp_info ti;

    t0 = rack_burst(t, 10);
    advance_to(t, t0 + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=13141-14601>");
    expect_nothing(t);
    expect_at(t, t0 + USTK_MS(125), "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.ssthresh, 5 * MSS);
    assert_int_equal(ti.cwnd, MSS);
    assert_int_equal(ti.lost_out, 8 * MSS);
    /* Its ACK delivers one segment, and shows progress: one segment for
     * it and one more (PRR-SSRB), pipe being far below ssthresh. */
    inject(t, "<SEQ=1><ACK=1461><CTL=ACK><SACK=13141-14601>");
    expect(t, "<SEQ=1461><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect(t, "<SEQ=2921><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect_nothing(t);
}

/* DupThresh within RACK (RFC 8985 §6.2 step 4): once three segments are
 * SACKed and no reordering was ever seen, reo_wnd is zero and the hole
 * is lost at once. In recovery reo_wnd stays zero, so the fourth
 * segment is lost as soon as a segment sent after it is SACKed; it goes
 * when cwnd - pipe allows a segment (pipe = in flight - SACKed - lost). */
static void test_rack_dupthresh_and_recovery(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    ustk_tcp_info ti;

    t0 = rack_burst(t, 10);
    advance_to(t, t0 + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-2921>");
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-4381>");
    expect_nothing(t);
    /* Third SACKed segment: segment 1 lost now, not 25 ms later. */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=5841-7301,1461-4381>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    /* Segment 4 was sent before segment 5, which is delivered: lost
     * too. Before the retransmission pipe = 10 - 3 SACKed - 2 lost = 5,
     * ssthresh already: PRR (RFC 9937) allows only the retransmission,
     * cwnd = pipe + 1 segment, and after it pipe is 6. */
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.lost_out, MSS);
    assert_int_equal(ti.cwnd, 6 * MSS);
    /* Two more SACKed: pipe 4, segment 4 goes. */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=5841-10221,1461-4381>");
    expect(t, "<SEQ=4381><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.lost_out, 0);
    assert_int_equal(ti.rtx_sack, 2);
    inject(t, "<SEQ=1><ACK=14601><CTL=ACK>");
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.snd_queued, 0);
    assert_int_equal(ti.retransmits, 2);
    assert_int_equal(ti.rtx_timeout, 0);
}

/* A lost retransmission: DupThresh-style recovery cannot see it and
 * waits for the RTO; RACK sees that segments sent after the
 * retransmission were delivered and resends it again. */
static void test_rack_lost_retransmission(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    ustk_tcp_info ti;

    t0 = rack_recovery(t); /* segment 1 resent at 100 ms */
    /* More SACKs let new segments out, sent after the retransmission. */
    advance_to(t, t0 + USTK_MS(110));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-14601>");
    /* Everything but segment 1 is held by the peer. 100 ms after the
     * retransmission, the ACK for new data proves it lost. */
    assert_int_equal(app_send(t, 2 * MSS), 2 * MSS);
    expect(t, "<SEQ=14601><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect(t, "<SEQ=16061><ACK=1><CTL=ACK><LEN=%u>", MSS);
    advance_to(t, t0 + USTK_MS(215));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-17521>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    ti = info(t);
    assert_int_equal(ti.rtx_timeout, 0);
    assert_int_equal(ti.retransmits, 2);
    inject(t, "<SEQ=1><ACK=17521><CTL=ACK>");
    expect_nothing(t);
}

/* Tail loss probe (RFC 8985 §7): the last two segments of a burst are
 * lost and no ACK will ever come for them. Two SRTTs after the last
 * ACK the probe resends the last segment; its SACK shows the one
 * before it lost, and RACK repairs it, long before the RTO. */
static void test_tlp_repairs_tail(void **state)
{
    tcp_test *t = *state;
    ustk_time t0, t1;
    ustk_tcp_info ti;

    t0 = rack_burst(t, 4);
    advance_to(t, t0 + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=2921><CTL=ACK>");
    t1 = t->now;
    ti = info(t);
    /* PTO = 2 * SRTT after that ACK, ahead of the RTO. */
    assert_true(2 * ti.srtt_us < ti.rto_us);
    expect_at(t, t1 + 2 * (ustk_time)ti.srtt_us,
              "<SEQ=4381><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect_nothing(t);
    advance_to(t, t->now + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=2921><CTL=ACK><SACK=4381-5841>");
    expect(t, "<SEQ=2921><ACK=1><CTL=ACK><LEN=%u>", MSS);
    ti = info(t);
    assert_int_equal(ti.rtx_tlp, 1);
    assert_int_equal(ti.rtx_sack, 1);
    assert_int_equal(ti.rtx_timeout, 0);
    inject(t, "<SEQ=1><ACK=5841><CTL=ACK>");
    expect_nothing(t);
    assert_int_equal(info(t).snd_queued, 0);
}

/* A probe of the last segment whose original had arrived: the peer
 * reports the probe as a D-SACK, and nothing is reduced. */
static void test_tlp_spurious_no_reduction(void **state)
{
    tcp_test *t = *state;
    ustk_time t0, t1;
    ustk_tcp_info ti;
    uint32_t cwnd, ss;

    rack_conn(t);
    t0 = t->now;
    assert_int_equal(app_send(t, 2 * MSS), 2 * MSS);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect(t, "<SEQ=1461><ACK=1><CTL=ACK><LEN=%u>", MSS);
    advance_to(t, t0 + USTK_MS(50));
    inject(t, "<SEQ=1><ACK=1461><CTL=ACK>");
    t1 = t->now;
    ti = info(t);
    cwnd = ti.cwnd;
    ss = ti.ssthresh;
    /* One segment in flight: PTO = 2 * SRTT + 200 ms (the worst-case
     * delayed ACK), but no later than the RTO, which it replaces. */
    ustk_time pto = 2 * (ustk_time)ti.srtt_us + USTK_MS(200);
    if (pto > ti.rto_us)
        pto = ti.rto_us;
    expect_at(t, t1 + pto, "<SEQ=1461><ACK=1><CTL=ACK><LEN=%u>", MSS);
    inject(t, "<SEQ=1><ACK=2921><CTL=ACK><SACK=1461-2921>");
    expect_nothing(t);
    /* The ACK of new data grows cwnd in slow start as always; nothing
     * was cut. */
    ti = info(t);
    assert_int_equal(ti.cwnd, cwnd + MSS);
    assert_int_equal(ti.ssthresh, ss);
    assert_int_equal(ti.rtx_tlp, 1);
    assert_int_equal(ti.undos, 0);
}

/* D-SACK undo: reordering makes RACK declare segment 1 lost (three
 * segments SACKed, no reordering seen yet); the original arrives after
 * all, and the peer reports the retransmission as a D-SACK. Every
 * retransmission of the episode came back twice, so the cut was
 * spurious: cwnd returns to its value before it, and ssthresh too, but
 * no higher than that window (the connection was still in slow start,
 * with no ssthresh to return to). */
static void test_dsack_undo(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    ustk_tcp_info ti;
    uint32_t cwnd0, ss0;

    rack_conn(t);
    t0 = t->now;
    ti = info(t);
    cwnd0 = ti.cwnd;
    ss0 = ti.ssthresh;
    assert_int_equal(app_send(t, 10 * MSS), 10 * MSS);
    expect_segments(t, 0, 10, MSS);
    advance_to(t, t0 + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-5841>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    /* PRR (RFC 9937): pipe 6 > ssthresh 5, so 5/10 of the three
     * segments delivered may go (RecoverFS is the 10 outstanding: none
     * was SACKed before this ACK): the retransmission, and half a
     * segment more that waits for the next ACK. */
    ti = info(t);
    assert_int_equal(ti.ssthresh, 5 * MSS);
    assert_int_equal(ti.cwnd, 6 * MSS + 3 * MSS / 2);
    /* The original segment 1 arrives, then the retransmission. */
    inject(t, "<SEQ=1><ACK=5841><CTL=ACK>");
    inject(t, "<SEQ=1><ACK=5841><CTL=ACK><SACK=1-1461>");
    ti = info(t);
    assert_int_equal(ti.undos, 1);
    assert_true(ti.cwnd >= cwnd0);
    assert_int_equal(ss0, UINT32_MAX);
    assert_int_equal(ti.ssthresh, cwnd0);
}

/* RFC 8985 §7.4.2: an ACK that only reaches the end of a resent probe is
 * undecided; here it was the original's, and the probe's D-SACK follows:
 * nothing was lost and nothing is cut. */
static void test_tlp_late_ack_no_cut(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    ustk_tcp_info ti;
    uint32_t cwnd;

    t0 = rack_burst(t, 4);
    cwnd = info(t).cwnd;
    /* No ACK at all: the probe resends the last segment (PTO = 2 SRTT =
     * 1 s after the handshake's 500 ms sample). */
    expect_at(t, t0 + USTK_MS(1000), "<SEQ=4381><ACK=1><CTL=ACK><LEN=%u>",
              MSS);
    advance_to(t, t0 + USTK_MS(1050));
    inject(t, "<SEQ=1><ACK=5841><CTL=ACK>");
    inject(t, "<SEQ=1><ACK=5841><CTL=ACK><SACK=4381-5841>");
    expect_nothing(t);
    ti = info(t);
    assert_true(ti.cwnd >= cwnd);
    assert_int_equal(ti.ssthresh, UINT32_MAX);
    assert_int_equal(ti.undos, 0);
}

/* A probe of the fourth segment, then two segments of new data, so that
 * the episode and RACK's log outlive the ACK of the probe's end. */
static ustk_time tlp_then_more(tcp_test *t)
{
    ustk_time t0 = rack_burst(t, 4);

    expect_at(t, t0 + USTK_MS(1000), "<SEQ=4381><ACK=1><CTL=ACK><LEN=%u>",
              MSS);
    assert_int_equal(app_send(t, 2 * MSS), 2 * MSS);
    expect(t, "<SEQ=5841><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect(t, "<SEQ=7301><ACK=1><CTL=ACK><LEN=%u>", MSS);
    advance_to(t, t0 + USTK_MS(1050));
    /* Undecided: the original's ACK or the probe's. */
    inject(t, "<SEQ=1><ACK=5841><CTL=ACK>");
    assert_int_equal(info(t).ssthresh, UINT32_MAX);
    return t0;
}

/* §7.4.2: a duplicate ACK without a SACK option at the probe's end
 * answers the probe's copy: both copies arrived, nothing was lost, the
 * episode ends, and the ACK beyond the probe that follows cuts
 * nothing. */
static void test_tlp_dupack_no_cut(void **state)
{
    tcp_test *t = *state;

    tlp_then_more(t);
    inject(t, "<SEQ=1><ACK=5841><CTL=ACK>");
    inject(t, "<SEQ=1><ACK=7301><CTL=ACK>");
    expect_nothing(t);
    assert_int_equal(info(t).ssthresh, UINT32_MAX);
    assert_int_equal(info(t).undos, 0);
}

/* The peer's data with the same ACK is no duplicate ACK (RFC 5681 §2):
 * the episode stays undecided, and the ACK beyond the probe then says
 * the probe repaired a loss: the window is cut. */
static void test_tlp_data_is_no_dupack(void **state)
{
    tcp_test *t = *state;
    ustk_tcp_info ti;

    tlp_then_more(t);
    inject(t, "<SEQ=1><ACK=5841><CTL=ACK><LEN=100>");
    assert_int_equal(info(t).ssthresh, UINT32_MAX);
    inject(t, "<SEQ=101><ACK=7301><CTL=ACK>");
    ti = info(t);
    assert_true(ti.ssthresh < UINT32_MAX);
    assert_int_equal(ti.cwnd, ti.ssthresh);
}

/* Nagle's SND.SML (Minshall) follows new data only. A short segment A
 * is lost, three full ones after it arrive, a short one B is still out;
 * RACK resends A. Its short copy must not pull SND.SML back from B's
 * end: once A is acknowledged, B is still a short segment in flight, and
 * a third short write waits for it (Linux moves SND.SML the same way). */
static void test_rack_rtx_keeps_snd_sml(void **state)
{
    tcp_test *t = *state;
    uint32_t b = 101 + 3 * MSS; /* where B starts */

    rack_conn(t);
    assert_int_equal(ustk_setsockopt(t->s, t->c.sock, USTK_TCP_NODELAY, 1),
                     0);
    assert_int_equal(app_send(t, 100), 100);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK,PSH><LEN=100>");
    assert_int_equal(app_send(t, 3 * MSS + 50), 3 * MSS + 50);
    for (uint32_t i = 0; i < 3; i++)
        expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 101 + i * MSS, MSS);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK,PSH><LEN=50>", b);
    assert_int_equal(ustk_setsockopt(t->s, t->c.sock, USTK_TCP_NODELAY, 0),
                     0);
    advance_to(t, t->now + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=101-%u>", b);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", b);
    assert_int_equal(app_send(t, 30), 30);
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", b + 50);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK,PSH><LEN=30>", b + 50);
}

/* RFC 8985 §7.2: no tail loss probe during a recovery; the RTO armed
 * before it is what fires next. */
static void test_no_tlp_in_recovery(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;

    t0 = rack_recovery(t);
    expect_at(t, t0 + USTK_MS(1500), "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    assert_int_equal(info(t).rtx_tlp, 0);
    assert_int_equal(info(t).rtx_timeout, 1);
}

/* A timeout in the middle of a PRR recovery ends it: cwnd falls to one
 * segment, ssthresh stays what the recovery set (the same episode), and
 * what follows is slow start from SND.UNA, skipping what the peer holds,
 * not PRR's count. */
static void test_rto_during_prr(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    ustk_tcp_info ti;

    t0 = rack_recovery(t);
    ti = info(t);
    assert_int_equal(ti.ssthresh, 5 * MSS);
    assert_int_equal(ti.cwnd, 6 * MSS + 3 * MSS / 2);
    /* No ACK comes back: the RTO resends the first segment. */
    expect_at(t, t0 + USTK_MS(1500), "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.cwnd, MSS);
    assert_int_equal(ti.ssthresh, 5 * MSS);
    assert_int_equal(ti.rtx_timeout, 1);
    /* The repair: everything up to segment 5. Slow start (RFC 5681:
     * one segment per ACK) makes cwnd two segments, and the two go from
     * SND.UNA on; with PRR still counting, cwnd would be pipe plus its
     * allowance instead. */
    inject(t, "<SEQ=1><ACK=5841><CTL=ACK>");
    expect(t, "<SEQ=5841><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect(t, "<SEQ=7301><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect_nothing(t);
    assert_int_equal(info(t).cwnd, 2 * MSS);
}

/* PRR with CUBIC: ssthresh is 0.7 of the flight (RFC 9438 §4.6), 7 of
 * 10 segments, above the pipe of 6 (3 SACKed, 1 lost) from the start, so
 * PRR's slow-start reduction bound applies at once: cwnd = pipe + at most
 * ssthresh - pipe. The retransmission goes; the next ACK, which SACKs one
 * more segment, lets one new segment out, and no ACK lets the flight
 * above ssthresh. */
static void test_prr_cubic(void **state)
{
    tcp_test *t = *state;
    ustk_tcp_info ti;

    t->cfg.cc = USTK_CC_CUBIC;
    t->cfg.snd_buf = 20 * MSS;
    rack_conn(t);
    assert_int_equal(info(t).cc, USTK_CC_CUBIC);
    assert_int_equal(app_send(t, 12 * MSS), 12 * MSS);
    expect_segments(t, 0, 10, MSS);
    expect_nothing(t);
    advance_to(t, t->now + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-5841>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.ssthresh, 7 * MSS);
    assert_int_equal(ti.cwnd, 7 * MSS);
    /* pipe 6 again (one more SACKed, the retransmission in flight): one
     * segment of room, and segment 11 takes it. */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-7301>");
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 10 * MSS + 1, MSS);
    expect_nothing(t);
    assert_int_equal(info(t).cwnd, 7 * MSS);
    /* The repair arrives with everything sent before the recovery:
     * cwnd = ssthresh, and segment 12 goes. */
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", 10 * MSS + 1);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK,PSH><LEN=%u>", 11 * MSS + 1, MSS);
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.cwnd, 7 * MSS);
    assert_int_equal(ti.ssthresh, 7 * MSS);
}

/* A D-SACK for a segment that was never resent (the network duplicated
 * it) says nothing about the episode's retransmission: no undo. */
static void test_network_dup_no_undo(void **state)
{
    tcp_test *t = *state;

    rack_recovery(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=2921-4381,1461-5841>");
    assert_int_equal(info(t).undos, 0);
    assert_int_equal(info(t).ssthresh, 5 * MSS);
    /* It delivered nothing new: PRR's allowance stays the half segment
     * left (pipe 7: 5-10 and the resent 1). */
    assert_int_equal(info(t).cwnd, 7 * MSS + MSS / 2);
}

/* Karn (RFC 6298 §3): every ACK is lost, the RTO resends the first
 * segment and its ACK covers everything. That ACK may answer the
 * retransmission, so it gives no RTT sample, though it also covers
 * segments sent only once. */
static void test_karn_after_rto(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    uint32_t srtt;
    th_seg g;

    rack_conn(t);
    t0 = t->now;
    srtt = info(t).srtt_us;
    assert_int_equal(app_send(t, 10 * MSS), 10 * MSS);
    expect_segments(t, 0, 10, MSS);
    /* The probe (last segment), then the RTO (first segment). */
    expect_at(t, t0 + USTK_MS(1000), "<SEQ=13141><ACK=1><CTL=ACK><LEN=%u>",
              MSS);
    do {
        advance_to(t, th_deadline(t));
    } while (!th_take(t, __FILE__, __LINE__, &g));
    assert_int_equal(g.rseq, 1);
    assert_int_equal(info(t).rtx_timeout, 1);
    advance_to(t, t->now + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=14601><CTL=ACK>");
    assert_int_equal(info(t).srtt_us, srtt);
}

/* The last segment carries the FIN and is lost with the first: when RACK
 * finds it lost, its retransmission carries the FIN again. */
static void test_lost_fin_resent_with_data(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;

    rack_conn(t);
    t0 = t->now;
    assert_int_equal(app_send(t, 10 * MSS), 10 * MSS);
    assert_int_equal(ustk_shutdown(t->s, t->c.sock, USTK_SHUT_WR, t->now), 0);
    expect_segments(t, 0, 9, MSS);
    expect(t, "<SEQ=%u><ACK=1><CTL=FIN,ACK><LEN=%u>", 1 + 9 * MSS, MSS);
    advance_to(t, t0 + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-13141>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    advance_to(t, t0 + USTK_MS(200));
    inject(t, "<SEQ=1><ACK=13141><CTL=ACK>");
    expect(t, "<SEQ=13141><ACK=1><CTL=FIN,ACK><LEN=%u>", MSS);
    inject(t, "<SEQ=1><ACK=14602><CTL=ACK>");
    assert_state(t, USTK_TCP_FIN_WAIT_2);
}

/* The socket options: RACK off for one socket brings back RFC 6675's own
 * loss detection (three SACKed segments above the hole make it lost), and
 * no reordering timer runs. */
static void test_rack_socket_option(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;
    int v = -1;

    rack_conn(t);
    assert_int_equal(ustk_getsockopt(t->s, t->c.sock, USTK_TCP_RACK, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(ustk_setsockopt(t->s, t->c.sock, USTK_TCP_RACK, 0), 0);
    assert_int_equal(ustk_setsockopt(t->s, t->c.sock, USTK_TCP_TLP, 0), 0);
    assert_int_equal(ustk_getsockopt(t->s, t->c.sock, USTK_TCP_RACK, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(ustk_getsockopt(t->s, t->c.sock, USTK_TCP_TLP, &v), 0);
    assert_int_equal(v, 0);
    t0 = t->now;
    assert_int_equal(app_send(t, 10 * MSS), 10 * MSS);
    expect_segments(t, 0, 10, MSS);
    advance_to(t, t0 + USTK_MS(100));
    /* With RACK the reordering timer would resend segment 1 at 125 ms. */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-2921>");
    expect_nothing_until(t, t0 + USTK_MS(200));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-4381>");
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=5841-7301,1461-4381>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    assert_int_equal(info(t).rtx_fast, 1);
}

/* An allocator that counts its calls. */
typedef struct counting {
    unsigned long allocs, frees;
} counting;

static void *count_alloc(void *ctx, size_t n)
{
    ((counting *)ctx)->allocs++;
    return malloc(n);
}

static void count_free(void *ctx, void *p)
{
    ((counting *)ctx)->frees++;
    free(p);
}

/* One exchange: data out, all of it acknowledged, so the send ring and
 * RACK's log are given back. */
static void send_and_ack(tcp_test *t, uint32_t n)
{
    uint32_t at = (uint32_t)info(t).bytes_sent + 1;
    assert_int_equal(app_send(t, n), n);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", at, n);
    advance_to(t, t->now + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", at + n);
    expect_nothing(t);
}

/* RACK's log is given back with the send ring when everything is
 * acknowledged, and kept in the stack's cache like the ring: the next
 * exchange takes it from there, and the allocator is not called at all.
 * ustk_stack_trim gives it back to the allocator. */
static void test_rack_log_cached(void **state)
{
    tcp_test *t = *state;
    /* Static: the harness destroys the stack after the test returns. */
    static counting c;

    c.allocs = c.frees = 0;
    t->cfg.alloc = count_alloc;
    t->cfg.free = count_free;
    t->cfg.alloc_ctx = &c;
    rack_conn(t);
    send_and_ack(t, 100);
    ustk_stack_stats st;
    ustk_stack_stats_get(t->s, &st);
    assert_int_equal(st.tcp_busy, 0); /* the part went back too */
    unsigned long allocs = c.allocs, frees = c.frees;
    send_and_ack(t, 200);
    send_and_ack(t, 300);
    assert_int_equal(c.allocs, allocs);
    assert_int_equal(c.frees, frees);
    /* The cache holds the ring, the busy part and the log (at least). */
    ustk_stack_trim(t->s);
    assert_true(c.frees >= frees + 3);
    /* And they are taken afresh after a trim. */
    allocs = c.allocs;
    send_and_ack(t, 100);
    assert_true(c.allocs >= allocs + 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_rack_reordering_timer),
        TH_TEST(test_rack_timer_recovery_paced),
        TH_TEST(test_rack_dupthresh_and_recovery),
        TH_TEST(test_rack_lost_retransmission),
        TH_TEST(test_tlp_repairs_tail),
        TH_TEST(test_tlp_spurious_no_reduction),
        TH_TEST(test_dsack_undo),
        TH_TEST(test_tlp_late_ack_no_cut),
        TH_TEST(test_tlp_dupack_no_cut),
        TH_TEST(test_tlp_data_is_no_dupack),
        TH_TEST(test_rack_rtx_keeps_snd_sml),
        TH_TEST(test_no_tlp_in_recovery),
        TH_TEST(test_network_dup_no_undo),
        TH_TEST(test_rto_during_prr),
        TH_TEST(test_prr_cubic),
        TH_TEST(test_karn_after_rto),
        TH_TEST(test_lost_fin_resent_with_data),
        TH_TEST(test_rack_socket_option),
        TH_TEST(test_rack_log_cached),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
