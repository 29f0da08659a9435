/* SACK-based loss recovery (RFC 6675) and D-SACK (RFC 2883), scripted. */
#include "tcp_harness.h"

#define MSS 1460u

static void sack_conn(tcp_test *t)
{
    t->cfg.opt_sack = true;
    /* These tests follow RFC 6675's own loss detection (DupThresh and
     * IsLost); test_tcp_rack.c covers RACK-TLP, which replaces it. */
    t->cfg.tcp_rack = false;
    t->cfg.tcp_tlp = false;
    t->peer_syn_opts = "<MSS=1460><SACKOK>";
    conn_in_established(t);
    assert_int_equal(info(t).sack_ok, 1);
}

/* Twenty segments out at once (init_cwnd 20), `queued` bytes written in
 * all; then 100 ms pass, as for an RTT sample. */
static void twenty_out(tcp_test *t, uint32_t queued)
{
    t->cfg.init_cwnd = 20;
    t->cfg.snd_buf = queued;
    sack_conn(t);
    assert_int_equal(app_send(t, queued), queued);
    expect_segments(t, 0, 20, MSS);
    advance_to(t, t->now + USTK_MS(100));
}

/* Ten segments out; the first and the fourth are lost. The third
 * duplicate ACK starts recovery: the first segment goes again at once
 * (RFC 6675 §5 step 4.3), ssthresh = FlightSize / 2. The fourth segment
 * counts as lost only once more than (DupThresh - 1) * SMSS bytes above
 * it are SACKed (IsLost), and then goes as soon as cwnd - pipe allows one
 * segment (NextSeg rule 1). cwnd follows Proportional Rate Reduction
 * (RFC 9937): pipe + what PRR allows on each ACK. */
static void test_rfc6675_retransmission_order(void **state)
{
    tcp_test *t = *state;
    ustk_tcp_info ti;

    sack_conn(t);
    assert_int_equal(app_send(t, 10 * MSS), 10 * MSS);
    expect_segments(t, 0, 10, MSS);
    advance_to(t, t->now + USTK_MS(100));

    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-2921>");
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-4381>");
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=5841-7301,1461-4381>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.ssthresh, 5 * MSS);
    /* pipe: segments 4 and 6-10, six, above ssthresh: PRR sends
     * ssthresh / RecoverFS of what arrives, RecoverFS being what was
     * outstanding less what the peer held SACKed before this ACK, 10 - 2
     * (RFC 9937): 5/8 of the one segment this ACK delivered, rounded up
     * to a byte. */
    assert_int_equal(ti.cwnd, 6 * MSS + (5 * MSS + 7) / 8);
    assert_int_equal(ti.sacked_out, 3 * MSS);

    /* 2 * SMSS SACKed above segment 4 is not yet "more than". Two
     * segments delivered in all allow 5/8 of them, and the
     * retransmission used one: cwnd = pipe (4, 7-10 and the resent 1)
     * + the quarter of a segment left, too little to send. */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=5841-8761,1461-4381>");
    expect_nothing(t);
    assert_int_equal(info(t).cwnd, 6 * MSS + (10 * MSS + 7) / 8 - MSS);
    /* Now it is: segment 4 is lost, pipe = 3 unSACKed beyond + 1
     * retransmitted = 4 segments, below ssthresh: PRR lets the flight
     * grow back towards ssthresh, here by the one segment it lacks. */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=5841-10221,1461-4381>");
    expect(t, "<SEQ=4381><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.cwnd, 5 * MSS);
    assert_int_equal(ti.rtx_fast, 1);
    assert_int_equal(ti.rtx_sack, 1);
    assert_int_equal(ti.lost_out, 0);

    /* Both repairs arrive: a partial ACK, then the rest. */
    inject(t, "<SEQ=1><ACK=10221><CTL=ACK>");
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=14601><CTL=ACK>");
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.cwnd, 5 * MSS);
    assert_int_equal(ti.sacked_out, 0);
    assert_int_equal(ti.snd_queued, 0);
    assert_int_equal(ti.retransmits, 2);
}

/* After a timeout the sender resends from SND.UNA but not what the peer
 * has SACKed. */
static void test_timeout_skips_sacked(void **state)
{
    tcp_test *t = *state;
    ustk_time t0;

    sack_conn(t);
    t0 = t->now;
    assert_int_equal(app_send(t, 4 * MSS), 4 * MSS);
    expect_segments(t, 0, 4, MSS);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-2921>");
    expect_nothing(t);
    /* RTO: segment 1 again; with cwnd at one segment that is all. */
    expect_at(t, t0 + USTK_MS(1500), "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=1461><CTL=ACK><SACK=1461-2921>");
    /* cwnd 2: the SACKed second segment is skipped. */
    expect(t, "<SEQ=2921><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect(t, "<SEQ=4381><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect_nothing(t);
}

/* RFC 2883: a segment that arrives twice is reported as the first SACK
 * block of the ACK it causes. */
static void test_dsack_reported(void **state)
{
    tcp_test *t = *state;

    sack_conn(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=101><CTL=ACK><NOOPTS>");
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=101><CTL=ACK><SACK=1-101>");
    /* A duplicate while a hole is open: D-SACK first, then the block. */
    inject(t, "<SEQ=201><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=101><CTL=ACK><SACK=201-301>");
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=101><CTL=ACK><SACK=1-101,201-301>");
    app_recv_expect(t, 100);
}

/* Limited transmit (RFC 3042) with SACK: the first two duplicate ACKs
 * each let one new segment out, not two. A SACKed segment already stops
 * counting as in flight; adding a segment per duplicate on top of that
 * would send four beyond cwnd where the RFC allows two. */
static void test_limited_transmit_with_sack(void **state)
{
    tcp_test *t = *state;

    sack_conn(t);
    assert_int_equal(app_send(t, 20 * MSS), 20 * MSS);
    expect_segments(t, 0, 10, MSS);
    expect_nothing(t);
    advance_to(t, t->now + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-2921>");
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 10 * MSS + 1, MSS);
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-4381>");
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 11 * MSS + 1, MSS);
    expect_nothing(t);
}

/* Proportional Rate Reduction (RFC 9937) paces a recovery from one lost
 * segment. Twenty segments and two more by limited transmit are out:
 * ssthresh is 11 segments, RecoverFS 20 (the 22 less the two the peer
 * had SACKed before the ACK that starts the recovery), and pipe starts
 * at 18. While pipe is above ssthresh, PRR lets out 11/20 of what the
 * peer reports, about a new segment for every two; then, at ssthresh,
 * one for one. RFC 6675
 * alone (cwnd = ssthresh at once) would send nothing until pipe fell
 * below 11, eight ACKs later, then one per ACK: as many segments, in a
 * burst at the end instead of a steady clock. The recovery ends with
 * cwnd = ssthresh. */
static void test_prr_paces_recovery(void **state)
{
    tcp_test *t = *state;
    int sent[21] = { 0 };
    th_seg g;

    twenty_out(t, 40 * MSS);
    /* Segment 1 is lost; the SACKs of 2 and 3 each let a new segment
     * out (limited transmit, RFC 3042), the SACK of 4 starts the
     * recovery. */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-2921>");
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 20 * MSS + 1, MSS);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-4381>");
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 21 * MSS + 1, MSS);
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-5841>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect_nothing(t);
    assert_int_equal(info(t).ssthresh, 11 * MSS);
    /* Segments 5 to 20 reported one by one; count what each ACK lets
     * out (all of it new data, in order from segment 23). */
    uint32_t next = 22 * MSS + 1;
    for (uint32_t k = 5; k <= 20; k++) {
        inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-%u>", k * MSS + 1);
        while (th_take(t, __FILE__, __LINE__, &g)) {
            assert_int_equal(g.rseq, next);
            assert_int_equal(g.len, MSS);
            next += MSS;
            sent[k]++;
        }
    }
    /* After ACK k the peer has reported d = k - 3 segments, and PRR
     * allows d * 11/20 segments in all, the retransmission included.
     * pipe (22 - k + the retransmission + what went out since) is above
     * ssthresh up to k = 17; at k = 18 it is ssthresh, which allows
     * nothing (none in flight left the network without being matched);
     * then each ACK that takes one segment out of the flight lets one
     * in. */
    static const int want[21] = {
        [5] = 0,  [6] = 0,  [7] = 1,  [8] = 0,  [9] = 1,  [10] = 0,
        [11] = 1, [12] = 0, [13] = 1, [14] = 1, [15] = 0, [16] = 1,
        [17] = 0, [18] = 0, [19] = 1, [20] = 1,
    };
    for (uint32_t k = 5; k <= 20; k++)
        assert_int_equal(sent[k], want[k]);
    assert_int_equal(next, 30 * MSS + 1);
    /* The repair arrives with everything up to the new segments. */
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", next);
    assert_int_equal(info(t).cwnd, 11 * MSS);
    /* The ten segments left of the 40 go at once: 11 would fit. */
    expect_segments(t, 30, 10, MSS);
    expect_nothing(t);
}

/* RFC 9937 lets PRR add a segment on an ACK that both advances SND.UNA and
 * shows no further loss (SafeACK). An ACK that advances SND.UNA while its
 * SACK blocks make another segment lost (RFC 6675 IsLost) is no SafeACK:
 * the network has just dropped more. Twenty segments out; 1-10 are lost,
 * and so is 15. */
static void test_prr_new_loss_not_safe(void **state)
{
    tcp_test *t = *state;
    ustk_tcp_info ti;

    twenty_out(t, 40 * MSS);
    /* The SACKs of 11 and 12 let 21 and 22 out (limited transmit); the
     * SACK of 13 starts the recovery with 1-10 lost, ssthresh 11
     * segments, and from then on the flight (pipe) is at most ssthresh,
     * so PRR lets out one segment per segment delivered (and one more
     * on a SafeACK). */
    for (uint32_t k = 11; k <= 12; k++) {
        inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=%u-%u>", 10 * MSS + 1,
               k * MSS + 1);
        expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", (k + 9) * MSS + 1, MSS);
    }
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=%u-%u>", 10 * MSS + 1,
           13 * MSS + 1);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", MSS);
    expect_nothing(t);
    assert_int_equal(info(t).ssthresh, 11 * MSS);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=%u-%u>", 10 * MSS + 1,
           14 * MSS + 1);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", MSS + 1, MSS);
    /* 16 and 17 arrive: two segments SACKed above 15 do not make it lost
     * yet. */
    for (uint32_t k = 16; k <= 17; k++) {
        inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=%u-%u,%u-%u>", 15 * MSS + 1,
               k * MSS + 1, 10 * MSS + 1, 14 * MSS + 1);
        expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", (k - 14) * MSS + 1, MSS);
    }
    expect_nothing(t);
    assert_int_equal(info(t).lost_out, 6 * MSS); /* 5-10 */
    /* The resent 1 arrives with 18: SND.UNA advances, two segments are
     * delivered, and 15 is lost now. Two go, 5 and 6, not three; pipe is
     * the four beyond 18 and the resent 2-4: cwnd = 7 + 2 segments. */
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK><SACK=%u-%u,%u-%u>", MSS + 1,
           15 * MSS + 1, 18 * MSS + 1, 10 * MSS + 1, 14 * MSS + 1);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 4 * MSS + 1, MSS);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 5 * MSS + 1, MSS);
    expect_nothing(t);
    ti = info(t);
    assert_int_equal(ti.cwnd, 9 * MSS);
    assert_int_equal(ti.lost_out, 5 * MSS); /* 7-10 and 15 */
    /* The resent 2 arrives, and nothing more is lost: a SafeACK, which
     * lets one segment more go than it delivered, 7 and 8. */
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK><SACK=%u-%u,%u-%u>", 2 * MSS + 1,
           15 * MSS + 1, 18 * MSS + 1, 10 * MSS + 1, 14 * MSS + 1);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 6 * MSS + 1, MSS);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 7 * MSS + 1, MSS);
    expect_nothing(t);
    assert_int_equal(info(t).cwnd, 10 * MSS);
}

/* The ACK that starts a recovery is no SafeACK either, also when it
 * advances SND.UNA: it is what shows the loss. Twenty segments out; 19
 * and 20 arrive, then 1 and 18, and the scoreboard now finds 2-17 lost
 * (RFC 6675 IsLost: three segments SACKed above them). Two segments were
 * delivered with nothing in flight (pipe 0, ssthresh 9.5 segments): two
 * go, not three. */
static void test_prr_recovery_start_not_safe(void **state)
{
    tcp_test *t = *state;

    twenty_out(t, 20 * MSS);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=%u-%u>", 18 * MSS + 1,
           20 * MSS + 1);
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK><SACK=%u-%u>", MSS + 1, 17 * MSS + 1,
           20 * MSS + 1);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", MSS + 1, MSS);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 2 * MSS + 1, MSS);
    expect_nothing(t);
    ustk_tcp_info ti = info(t);
    assert_int_equal(ti.ssthresh, 19 * MSS / 2);
    assert_int_equal(ti.cwnd, 2 * MSS);
    assert_int_equal(ti.lost_out, 14 * MSS); /* 4-17 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_rfc6675_retransmission_order),
        TH_TEST(test_timeout_skips_sacked),
        TH_TEST(test_dsack_reported),
        TH_TEST(test_limited_transmit_with_sack),
        TH_TEST(test_prr_paces_recovery),
        TH_TEST(test_prr_new_loss_not_safe),
        TH_TEST(test_prr_recovery_start_not_safe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
