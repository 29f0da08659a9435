/* Zero-window probing (RFC 9293 §3.8.6.1): "A TCP implementation MUST
 * include zero-window probing ... The transmitting host SHOULD send the
 * first zero-window probe when a zero window has existed for the
 * retransmission timeout period, and SHOULD increase exponentially the
 * interval between successive probes." And RFC 1122 §4.2.2.17: "As long as
 * the receiving TCP continues to send acknowledgments in response to the
 * probe segments, the sending TCP MUST allow the connection to stay open."
 *
 * A probe may carry the next byte (<SEQ=SND.NXT><LEN=1>) or no data with
 * an old sequence number (<SEQ=SND.UNA-1>, as Linux does); both make the
 * receiver answer with its window, so both are accepted here. */
#include "tcp_harness.h"

/* Take the probe due at `at` and check its form; una is SND.UNA, relative. */
static void expect_probe(tcp_test *t, ustk_time at, uint32_t una,
                         const char *file, int line)
{
    th_seg g;

    th_expect_nothing_until(t, at, file, line);
    if (!th_take(t, file, line, &g))
        th_fail(file, line, "expected a zero-window probe at %.6f s, got "
                "nothing", (double)(at - TH_T0) / 1e6);
    if (!(g.h.flags & USTK_TCP_ACK) || (g.h.flags & (USTK_TCP_SYN | USTK_TCP_FIN | USTK_TCP_RST)))
        th_fail(file, line, "probe has flags 0x%02x", g.h.flags);
    if (!((g.rseq == una && g.len == 1 && g.data[0] == th_stack_byte(una)) ||
          (g.rseq == una - 1 && g.len == 0)))
        th_fail(file, line, "probe is <SEQ=%u><LEN=%zu>, want <SEQ=%u><LEN=1> "
                "or <SEQ=%u><LEN=0>", g.rseq, g.len, una, una - 1);
    if (g.h.ack != t->c.irs + 1)
        th_fail(file, line, "probe acks %u, want 1", g.rack);
}

/* The peer's window is closed from the start: the queued data waits, the
 * probes come at RTO, 2 RTO, 4 RTO ... (capped at rto_max), the connection
 * lives on past data_retries probes while they are answered, and the data
 * flows when the window opens. */
static void test_zero_window_probes(void **state)
{
    tcp_test *t = *state;
    ustk_time at, gap;
    uint32_t rto;

    t->c.peer_wnd = 0;
    t->cfg.rto_max = USTK_SEC(10);
    conn_in_established(t);
    assert_int_equal(info(t).snd_wnd, 0);
    rto = info(t).rto_us;
    assert_int_equal(rto, 1500000);
    assert_int_equal(app_send(t, 100), 100);
    expect_nothing(t);

    at = t->now;
    gap = rto;
    for (int i = 0; i < 8; i++) {
        at += gap;
        expect_probe(t, at, 1, __FILE__, __LINE__);
        expect_nothing(t);
        /* The receiver's window is still closed. */
        inject(t, "<SEQ=1><ACK=1><CTL=ACK><WND=0>");
        expect_nothing(t);
        assert_state(t, USTK_TCP_ESTABLISHED);
        gap = gap * 2 > t->cfg.rto_max ? t->cfg.rto_max : gap * 2;
    }
    assert_int_equal(ustk_sock_error(t->s, t->c.sock), 0);

    /* The window opens: the data goes at once. */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><WND=1000>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=101><CTL=ACK><WND=1000>");
    expect_nothing(t);
    assert_int_equal(info(t).snd_queued, 0);
    assert_int_equal(th_deadline(t), USTK_TIME_NEVER);
}

/* The window closes after data was sent and acknowledged. The probe timer
 * starts when the zero window is seen, for the RTO in force then. */
static void test_window_closes_then_probe(void **state)
{
    tcp_test *t = *state;
    uint32_t rto;
    ustk_time tz;

    t->c.peer_wnd = 1000;
    conn_in_established(t);
    assert_int_equal(app_send(t, 1500), 1500);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1000>");
    expect_nothing(t);
    advance_to(t, t->now + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=1001><CTL=ACK><WND=0>");
    expect_nothing(t);
    tz = t->now;
    rto = info(t).rto_us;
    expect_probe(t, tz + rto, 1001, __FILE__, __LINE__);
    expect_nothing(t);
    /* The window opens (the probe's byte, if any, was not taken). The rest
     * goes now: from SND.UNA, or after the probe byte, which then waits for
     * the retransmission timer. */
    inject(t, "<SEQ=1><ACK=1001><CTL=ACK><WND=600>");
    {
        th_seg g;

        assert_true(th_take(t, __FILE__, __LINE__, &g));
        assert_true((g.rseq == 1001 && g.len == 500) ||
                    (g.rseq == 1002 && g.len == 499));
        for (size_t i = 0; i < g.len; i++)
            assert_int_equal(g.data[i], th_stack_byte(g.rseq + (uint32_t)i));
    }
    expect_nothing(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_zero_window_probes),
        TH_TEST(test_window_closes_then_probe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
