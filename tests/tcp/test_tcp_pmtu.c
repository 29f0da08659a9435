/* Path MTU discovery (RFC 1191): segments go with DF; an ICMP
 * "fragmentation needed" about a segment in flight makes the connection's
 * segments smaller, what was in flight is sent again at once in the new
 * size, and later connections to the same destination start with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tcp_harness.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

/* "Fragmentation needed" from a router on the way to the peer, quoting a
 * segment the stack sent (total_len bytes, DF as given). */
static int frag_needed(tcp_test *t, uint32_t rseq, uint16_t total_len,
                       bool df, uint16_t next_mtu)
{
    return th_icmp_error(t, USTK_ICMP_DEST_UNREACH, USTK_ICMP_FRAG_NEEDED,
                         next_mtu, rseq, total_len, df ? USTK_IPV4_DF : 0);
}

static ustk_stack_stats stats(const tcp_test *t)
{
    ustk_stack_stats st;
    ustk_stack_stats_get(t->s, &st);
    return st;
}

static bool df(const tcp_test *t)
{
    return (t->last.ip_frag & USTK_IPV4_DF) != 0;
}

/* Three full segments are out when a router says its next hop takes 1280
 * bytes: all three come again at once as 1240-byte segments (no new
 * timeout, no window cut), and new data follows in that size. */
static void test_frag_needed_resends_smaller(void **state)
{
    tcp_test *t = *state;
    conn_in_established(t);
    assert_int_equal(info(t).mss, 1460);
    assert_int_equal(app_send(t, 3 * 1460), 3 * 1460);
    expect_segments(t, 0, 3, 1460);
    assert_true(df(t));
    uint32_t cwnd = info(t).cwnd;
    advance_to(t, t->now + USTK_MS(10));
    assert_drop(frag_needed(t, 1 + 1460, 1500, true, 1280), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1240>");
    assert_true(df(t));
    expect(t, "<SEQ=1241><ACK=1><CTL=ACK><LEN=1240>");
    expect(t, "<SEQ=2481><ACK=1><CTL=ACK><LEN=1240>");
    expect(t, "<SEQ=3721><ACK=1><CTL=ACK><LEN=660>");
    expect_nothing(t);
    assert_int_equal(info(t).mss, 1240);
    assert_int_equal(info(t).cwnd, cwnd);
    assert_int_equal(stats(t).pmtu_learned, 1);
    assert_int_equal(stats(t).tcp_pmtu_shrunk, 1);
    advance_to(t, t->now + USTK_MS(50));
    inject(t, "<SEQ=1><ACK=4381><CTL=ACK>");
    assert_int_equal(app_send(t, 2000), 2000);
    expect(t, "<SEQ=4381><ACK=1><CTL=ACK><LEN=1240>");
    expect(t, "<SEQ=5621><ACK=1><CTL=ACK><LEN=760>");
    /* The same news again changes nothing, and is counted as such. */
    assert_drop(frag_needed(t, 4381, 1500, true, 1280), USTK_DROP_ICMP_PMTU);
    expect_nothing(t);
    assert_int_equal(stats(t).pmtu_learned, 1);
}

/* The next connection to the peer starts with the path MTU learned, and
 * after pmtu_expire the one after it starts afresh (RFC 1191 §6.3). */
static void test_learned_mtu_is_remembered_then_expires(void **state)
{
    tcp_test *t = *state;
    conn_in_established(t);
    assert_int_equal(app_send(t, 1460), 1460);
    expect_segments(t, 0, 1, 1460);
    assert_drop(frag_needed(t, 1, 1500, true, 1400), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1360>");
    expect(t, "<SEQ=1361><ACK=1><CTL=ACK><LEN=100>");

    th_new_peer(t, TH_PEER_PORT + 1);
    conn_in_established(t);
    assert_int_equal(info(t).mss, 1360);
    assert_int_equal(app_send(t, 1460), 1460);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1360>");
    expect(t, "<SEQ=1361><ACK=1><CTL=ACK><LEN=100>");

    advance_to(t, t->now + t->cfg.pmtu_expire);
    th_drain(t);
    th_new_peer(t, TH_PEER_PORT + 2);
    conn_in_established(t);
    assert_int_equal(info(t).mss, 1460);
}

/* Errors that must change nothing: a sequence number not in flight (a
 * blind forgery, RFC 5927 §4.1), a datagram sent without DF, and a hop
 * that says it takes the datagram it refused. */
static void test_frag_needed_that_is_not_believed(void **state)
{
    tcp_test *t = *state;
    t->cfg.data_retries = 2;
    conn_in_established(t);
    assert_int_equal(app_send(t, 1460), 1460);
    expect_segments(t, 0, 1, 1460);
    assert_drop(frag_needed(t, 5000, 1500, true, 1280),
                USTK_DROP_ICMP_BAD_SEQ);
    assert_drop(frag_needed(t, 1, 1500, false, 1280), USTK_DROP_ICMP_PMTU);
    assert_drop(frag_needed(t, 1, 1500, true, 1500), USTK_DROP_ICMP_PMTU);
    expect_nothing(t);
    assert_int_equal(info(t).mss, 1460);
    assert_int_equal(stats(t).pmtu_learned, 0);
    /* Not kept as a soft error either: when the connection times out
     * it reports ETIMEDOUT, not EMSGSIZE. */
    for (int k = 0; k < 20 && info(t).state != USTK_TCP_CLOSED; k++) {
        ustk_time d = th_deadline(t);
        if (d == USTK_TIME_NEVER)
            break;
        advance_to(t, d);
        th_drain(t);
    }
    assert_err(ustk_sock_error(t->s, t->c.sock), USTK_ETIMEDOUT);
}

/* A hop below 552 bytes is not believed as such (a forged error could
 * make every segment mostly header): the path is used at 552 with DF
 * clear, so that the hop fragments. */
static void test_tiny_mtu_clears_df(void **state)
{
    tcp_test *t = *state;
    conn_in_established(t);
    assert_int_equal(app_send(t, 1460), 1460);
    expect_segments(t, 0, 1, 1460);
    assert_drop(frag_needed(t, 1, 1500, true, 296), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=512>");
    assert_false(df(t));
    expect(t, "<SEQ=513><ACK=1><CTL=ACK><LEN=512>");
    expect(t, "<SEQ=1025><ACK=1><CTL=ACK><LEN=436>");
    assert_false(df(t));
    assert_int_equal(info(t).mss, 512);
}

/* A router older than RFC 1191 names no MTU: the next plateau below the
 * refused datagram's size is tried (§7: 1492 below 1500), then the next
 * one when that fails too. */
static void test_no_next_hop_mtu_uses_plateaus(void **state)
{
    tcp_test *t = *state;
    conn_in_established(t);
    assert_int_equal(app_send(t, 1460), 1460);
    expect_segments(t, 0, 1, 1460);
    assert_drop(frag_needed(t, 1, 1500, true, 0), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1452>");
    expect(t, "<SEQ=1453><ACK=1><CTL=ACK><LEN=8>");
    assert_drop(frag_needed(t, 1, 1492, true, 0), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=966>");
    expect(t, "<SEQ=967><ACK=1><CTL=ACK><LEN=494>");
    assert_int_equal(stats(t).pmtu_learned, 2);
}

/* With timestamps the option comes out of the MSS: a 1280-byte path
 * carries 1228 bytes of data, 12 of options and 40 of headers. */
static void test_frag_needed_with_timestamps(void **state)
{
    tcp_test *t = *state;
    t->cfg.opt_timestamps = true;
    t->peer_syn_opts = "<MSS=1460><TS>";
    conn_in_established(t);
    assert_int_equal(info(t).ts_ok, 1);
    assert_int_equal(app_send(t, 1448), 1448);
    expect_segments(t, 0, 1, 1448);
    assert_drop(frag_needed(t, 1, 1500, true, 1280), 0);
    const th_seg *g = expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1228>");
    assert_int_equal(g->h.hdr_len, 32);
    expect(t, "<SEQ=1229><ACK=1><CTL=ACK><LEN=220>");
}

/* The resend restarts the retransmission timer: an error that comes late
 * (here 1.4 s after the send, with an RTO of 1.5 s) must not be followed
 * by a timeout before the resent data can be acknowledged. */
static void test_resend_restarts_the_timer(void **state)
{
    tcp_test *t = *state;
    conn_in_established(t);
    assert_int_equal(app_send(t, 2 * 1460), 2 * 1460);
    expect_segments(t, 0, 2, 1460);
    ustk_time sent = t->now;
    uint32_t cwnd = info(t).cwnd, ssthresh = info(t).ssthresh;
    advance_to(t, sent + USTK_MS(1400));
    assert_drop(frag_needed(t, 1, 1500, true, 1280), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1240>");
    expect(t, "<SEQ=1241><ACK=1><CTL=ACK><LEN=1240>");
    expect(t, "<SEQ=2481><ACK=1><CTL=ACK><LEN=440>");
    expect_nothing_until(t, sent + USTK_MS(1900));
    inject(t, "<SEQ=1><ACK=2921><CTL=ACK>");
    expect_nothing(t);
    /* No timeout came between: no backoff, no cut, the window grew. */
    assert_int_equal(info(t).backoff, 0);
    assert_int_equal(info(t).ssthresh, ssthresh);
    assert_true(info(t).cwnd > cwnd);
}

/* An error during a SACK recovery ends it and resends at once: the
 * refused segments must not keep counting as in flight until a timeout. */
static void test_frag_needed_during_sack_recovery(void **state)
{
    tcp_test *t = *state;
    t->cfg.opt_sack = true;
    t->peer_syn_opts = "<MSS=1460><SACKOK>";
    conn_in_established(t);
    assert_int_equal(app_send(t, 6 * 1460), 6 * 1460);
    expect_segments(t, 0, 6, 1460);
    advance_to(t, t->now + USTK_MS(500));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=1461-5841>");
    /* Three segments SACKed above a hole: the first is resent. */
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1460>");
    assert_int_equal(info(t).sacked_out, 3 * 1460);
    advance_to(t, t->now + USTK_MS(100));
    assert_drop(frag_needed(t, 1, 1500, true, 1280), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1240>");
    expect(t, "<SEQ=1241><ACK=1><CTL=ACK><LEN=220>");
    /* The recovery ended as recoveries end, with the window cut to
     * ssthresh, not at what PRR allowed for the old pipe. */
    assert_int_equal(info(t).ssthresh, 3 * 1460);
    assert_int_equal(info(t).cwnd, 3 * 1460);
}

/* A peer's MSS of 500 is below the floor of 552, so a hop of 296 bytes
 * changes no segment size, only DF: what went with DF is resent at once
 * without it. */
static void test_df_cleared_resends(void **state)
{
    tcp_test *t = *state;
    t->peer_syn_opts = "<MSS=500>";
    conn_in_established(t);
    assert_int_equal(app_send(t, 1000), 1000);
    expect_segments(t, 0, 2, 500);
    assert_true(df(t));
    assert_drop(frag_needed(t, 1, 540, true, 296), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=500>");
    assert_false(df(t));
    expect(t, "<SEQ=501><ACK=1><CTL=ACK><LEN=500>");
    assert_false(df(t));
    assert_int_equal(stats(t).tcp_pmtu_shrunk, 1);
}

/* Without a cache each connection learns for itself; the same news
 * twice counts once, and the next connection starts from the MTU. */
static void test_no_cache(void **state)
{
    tcp_test *t = *state;
    t->cfg.pmtu_entries = 0;
    conn_in_established(t);
    assert_int_equal(app_send(t, 1460), 1460);
    expect_segments(t, 0, 1, 1460);
    assert_drop(frag_needed(t, 1, 1500, true, 1280), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1240>");
    expect(t, "<SEQ=1241><ACK=1><CTL=ACK><LEN=220>");
    assert_drop(frag_needed(t, 1, 1500, true, 1280), USTK_DROP_ICMP_PMTU);
    assert_drop(frag_needed(t, 1, 1280, true, 1000), 0);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=960>");
    expect(t, "<SEQ=961><ACK=1><CTL=ACK><LEN=500>");
    assert_int_equal(stats(t).pmtu_learned, 0);
    assert_int_equal(stats(t).tcp_pmtu_shrunk, 2);
    th_new_peer(t, TH_PEER_PORT + 1);
    conn_in_established(t);
    assert_int_equal(info(t).mss, 1460);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_frag_needed_resends_smaller),
        TH_TEST(test_learned_mtu_is_remembered_then_expires),
        TH_TEST(test_frag_needed_that_is_not_believed),
        TH_TEST(test_tiny_mtu_clears_df),
        TH_TEST(test_no_next_hop_mtu_uses_plateaus),
        TH_TEST(test_frag_needed_with_timestamps),
        TH_TEST(test_resend_restarts_the_timer),
        TH_TEST(test_frag_needed_during_sack_recovery),
        TH_TEST(test_df_cleared_resends),
        TH_TEST(test_no_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
