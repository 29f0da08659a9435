/* TCP options: what the SYN offers, what the SYN,ACK echoes, what is
 * negotiated and recorded in ustk_tcp_info, and what later segments carry:
 * MSS (RFC 9293 §3.7.1), window scale and timestamps (RFC 7323), SACK
 * (RFC 2018). */
#include "tcp_harness.h"

static void all_options_on(tcp_test *t)
{
    t->cfg.opt_sack = true;
    t->cfg.opt_timestamps = true;
    t->cfg.opt_wscale = true;
    t->cfg.wscale = 7;
    t->cfg.rcv_buf = 262144;
}

/* The SYN with everything on, byte for byte, in Linux's order: MSS,
 * SACK-permitted + timestamps, NOP + window scale. The SYN's window is not
 * scaled (RFC 7323 §2.2) and caps at 65535. */
static void test_syn_options_bytes(void **state)
{
    tcp_test *t = *state;
    const uint8_t *o;
    static const uint8_t head[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10};
    static const uint8_t tail[] = {0, 0, 0, 0, 1, 3, 3, 7};

    all_options_on(t);
    conn_in_syn_sent(t);
    assert_int_equal(t->last.h.hdr_len, 40);
    assert_int_equal(t->last.h.wnd, 65535);
    o = t->last.data - 20; /* the 20 option bytes */
    assert_memory_equal(o, head, sizeof head);
    assert_memory_equal(o + 12, tail, sizeof tail);
    assert_int_equal(t->last.h.opts.has,
                     USTK_OPT_MSS | USTK_OPT_SACK_PERM | USTK_OPT_TS | USTK_OPT_WSCALE);
    assert_int_equal(t->last.h.opts.ts_ecr, 0);
}

/* Each option alone. */
static void test_syn_options_each(void **state)
{
    tcp_test *t = *state;

    t->cfg.opt_wscale = true;
    t->cfg.wscale = 3;
    conn_in_syn_sent(t);
    expect_nothing(t);
    assert_int_equal(t->last.h.opts.has, USTK_OPT_MSS | USTK_OPT_WSCALE);
    assert_int_equal(t->last.h.opts.wscale, 3);

    /* A second connection from the same stack with SACK only is not
     * possible (options are per stack), so the remaining cases use the
     * passive side: see test_synack_echoes_only_offered. */
}

/* MSS = MTU - 40. */
static void test_syn_mss_from_mtu(void **state)
{
    tcp_test *t = *state;

    t->cfg.mtu = 1400;
    conn_in_syn_sent(t);
    assert_int_equal(t->last.h.opts.mss, 1360);
}

/* Everything offered by both: negotiated, recorded, and used. */
static void test_all_negotiated(void **state)
{
    tcp_test *t = *state;
    ustk_tcp_info ti;
    uint32_t peer_ts;

    all_options_on(t);
    t->peer_syn_opts = "<MSS=1400><SACKOK><TS><WS=2>";
    conn_in_syn_sent(t);
    inject(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><WND=65535>%s", t->peer_syn_opts);
    peer_ts = t->c.peer_tsval;
    /* Our window, scaled by our shift: 262144 >> 7. TSecr echoes the
     * SYN,ACK's TSval (RFC 7323 §4.3). */
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><WND=2048><TS>");
    assert_int_equal(t->last.h.opts.ts_ecr, peer_ts);
    ti = info(t);
    assert_int_equal(ti.state, USTK_TCP_ESTABLISHED);
    assert_int_equal(ti.peer_mss, 1400);
    /* Effective send MSS: 1400, or 1388 when the implementation already
     * takes the 12 timestamp bytes off (both are common practice). */
    assert_true(ti.mss == 1400 || ti.mss == 1388);
    assert_int_equal(ti.snd_wscale, 2);
    assert_int_equal(ti.rcv_wscale, 7);
    assert_int_equal(ti.sack_ok, 1);
    assert_int_equal(ti.ts_ok, 1);
    /* The SYN,ACK's window is not scaled. */
    assert_int_equal(ti.snd_wnd, 65535);

    /* Later windows from the peer are scaled by its shift. */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><WND=1000>");
    expect_nothing(t);
    assert_int_equal(info(t).snd_wnd, 4000);

    /* Data carries timestamps and fits the MSS with them. */
    assert_int_equal(app_send(t, 1400), 1400);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=1388><TS>");
    assert_int_equal(t->last.h.opts.ts_ecr, t->c.peer_tsval);
    /* The 12-byte tail may wait for this ACK (Nagle) or not; either way it
     * is the next segment. */
    inject(t, "<SEQ=1><ACK=1389><CTL=ACK><WND=1000>");
    expect(t, "<SEQ=1389><ACK=1><CTL=ACK><LEN=12><TS>");
}

/* The stack offers everything, the peer nothing but MSS: nothing is
 * negotiated, no option appears after the handshake, and windows are not
 * scaled (RFC 7323 §1.3: both sides must send the option). */
static void test_none_negotiated(void **state)
{
    tcp_test *t = *state;
    ustk_tcp_info ti;

    all_options_on(t);
    conn_in_syn_sent(t);
    inject(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><MSS=1460>");
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><WND=65535><NOOPTS>");
    ti = info(t);
    assert_int_equal(ti.snd_wscale, 0);
    assert_int_equal(ti.rcv_wscale, 0);
    assert_int_equal(ti.sack_ok, 0);
    assert_int_equal(ti.ts_ok, 0);
    assert_int_equal(ti.mss, 1460);
    assert_int_equal(app_send(t, 100), 100);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100><NOOPTS>");
    inject(t, "<SEQ=1><ACK=101><CTL=ACK><WND=1000>");
    assert_int_equal(info(t).snd_wnd, 1000);
}

/* RFC 9293 §3.7.1: "If an MSS Option is not received at connection setup,
 * TCP implementations MUST assume a default send MSS of 536". */
static void test_no_mss_means_536(void **state)
{
    tcp_test *t = *state;

    t->peer_syn_opts = "";
    conn_in_established(t);
    assert_int_equal(info(t).mss, 536);
    assert_int_equal(app_send(t, 1000), 1000);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=536>");
    /* The short tail may wait for this ACK (Nagle) or not. */
    inject(t, "<SEQ=1><ACK=537><CTL=ACK>");
    expect(t, "<SEQ=537><ACK=1><CTL=ACK><LEN=464>");
}

/* RFC 7323 §2.3: "If a Window Scale option is received with a shift.cnt
 * value larger than 14, the TCP SHOULD log the error but MUST use 14". */
static void test_wscale_clamped_to_14(void **state)
{
    tcp_test *t = *state;

    all_options_on(t);
    t->peer_syn_opts = "<MSS=1460><WS=15>";
    conn_in_established(t);
    assert_int_equal(info(t).snd_wscale, 14);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><WND=1>");
    assert_int_equal(info(t).snd_wnd, 1u << 14);
}

/* Passive side: the SYN,ACK offers only what the SYN offered (RFC 7323
 * §1.3 and §3.2, RFC 2018 §2), always with our MSS. */
static void test_synack_echoes_only_offered(void **state)
{
    tcp_test *t = *state;

    all_options_on(t);
    conn_in_listen(t);

    th_new_peer(t, TH_PEER_PORT);
    inject(t, "<SEQ=0><CTL=SYN><MSS=1460><SACKOK>");
    expect(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><WND=65535><MSS=1460><SACKOK>");

    th_new_peer(t, TH_PEER_PORT + 1);
    inject(t, "<SEQ=0><CTL=SYN><MSS=1460><TS>");
    expect(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><MSS=1460><TS>");
    assert_int_equal(t->last.h.opts.ts_ecr, t->c.peer_tsval);

    th_new_peer(t, TH_PEER_PORT + 2);
    inject(t, "<SEQ=0><CTL=SYN><MSS=1460><WS=3>");
    expect(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><WND=65535><MSS=1460><WS=7>");

    th_new_peer(t, TH_PEER_PORT + 3);
    inject(t, "<SEQ=0><CTL=SYN><NOOPTS>");
    expect(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><MSS=1460>");

    th_new_peer(t, TH_PEER_PORT + 4);
    inject(t, "<SEQ=0><CTL=SYN><MSS=1200><SACKOK><TS><WS=2>");
    expect(t, "<SEQ=0><ACK=1><CTL=SYN,ACK><WND=65535><MSS=1460><SACKOK><TS><WS=7>");
}

/* The passive side records the negotiation too, and scales its windows. */
static void test_passive_negotiated(void **state)
{
    tcp_test *t = *state;
    ustk_tcp_info ti;

    all_options_on(t);
    t->peer_syn_opts = "<MSS=1200><SACKOK><TS><WS=5>";
    conn_in_established_passive(t);
    ti = info(t);
    assert_int_equal(ti.peer_mss, 1200);
    assert_int_equal(ti.snd_wscale, 5);
    assert_int_equal(ti.rcv_wscale, 7);
    assert_int_equal(ti.sack_ok, 1);
    assert_int_equal(ti.ts_ok, 1);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
    expect(t, "<SEQ=1><ACK=101><CTL=ACK><WND=%u><TS>", (unsigned)((262144 - 100) >> 7));
    assert_int_equal(t->last.h.opts.ts_ecr, t->c.peer_tsval);
}

/* RFC 7323 §3.2: "If a non-<RST> segment is received without a TSopt, a TCP
 * SHOULD silently drop the segment" once timestamps are negotiated. */
static void test_segment_without_timestamp_dropped(void **state)
{
    tcp_test *t = *state;

    t->cfg.opt_timestamps = true;
    t->peer_syn_opts = "<MSS=1460><TS>";
    conn_in_established(t);
    assert_int_not_equal(inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=10><NOTS>"), 0);
    expect_nothing(t);
    assert_err(ustk_recv(t->s, t->c.sock, (uint8_t[16]){0}, 16, t->now), USTK_EAGAIN);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=10>");
    expect(t, "<SEQ=1><ACK=11><CTL=ACK><TS>");
    app_recv_expect(t, 10);
}

/* RFC 7323 §5 (PAWS): a segment whose TSval is older than TS.Recent is
 * unacceptable: it is ACKed and dropped. */
static void test_paws_old_timestamp(void **state)
{
    tcp_test *t = *state;
    uint32_t recent;

    t->cfg.opt_timestamps = true;
    t->peer_syn_opts = "<MSS=1460><TS>";
    conn_in_established(t);
    advance_to(t, t->now + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=10>");
    expect(t, "<SEQ=1><ACK=11><CTL=ACK><TS>");
    recent = t->c.peer_tsval;
    assert_int_equal(t->last.h.opts.ts_ecr, recent);
    assert_int_not_equal(
        inject(t, "<SEQ=11><ACK=1><CTL=ACK><LEN=10><TS=%u,%u>", recent - 50,
               t->c.stack_tsval), 0);
    expect(t, "<SEQ=1><ACK=11><CTL=ACK><TS>");
    assert_int_equal(t->last.h.opts.ts_ecr, recent);
    app_recv_expect(t, 10);
    assert_err(ustk_recv(t->s, t->c.sock, (uint8_t[16]){0}, 16, t->now), USTK_EAGAIN);
}

/* A duplicate ACK overtaken by a later one passes PAWS (as Linux's
 * tcp_disordered_ack): its TSval is older than TS.Recent, but it carries
 * no data, and it counts: three duplicate ACKs make a fast
 * retransmission whatever order they come in. Within an RTO's worth of
 * the peer's clock only, and only a pure duplicate ACK: an older one, or
 * one that updates the window, is still answered and dropped. */
static void test_paws_reordered_dup_ack(void **state)
{
    tcp_test *t = *state;
    const uint32_t mss = 1448; /* 1460 less the timestamps */
    uint32_t recent;

    t->cfg.opt_timestamps = true;
    t->cfg.tcp_rack = false;
    t->cfg.tcp_tlp = false;
    t->peer_syn_opts = "<MSS=1460><TS>";
    conn_in_established(t);
    advance_to(t, t->now + USTK_MS(100));
    assert_int_equal(app_send(t, 5 * mss), 5 * mss);
    for (uint32_t i = 0; i < 5; i++)
        expect(t, "<SEQ=%u><ACK=1><CTL=ACK><LEN=%u>", 1 + i * mss, mss);
    expect_nothing(t);
    advance_to(t, t->now + USTK_MS(10));
    /* Segment 1 is lost; the peer's duplicate ACKs for 2, 3 and 4 come
     * in the order 3, 2, 4: the one for 2 is older than TS.Recent. */
    recent = t->c.peer_tsval + 100;
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><TS=%u,%u>", recent, t->c.stack_tsval);
    expect_nothing(t);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><TS=%u,%u>", recent - 5,
           t->c.stack_tsval);
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_PAWS), 0);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><TS=%u,%u>", recent + 5,
           t->c.stack_tsval);
    expect(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=%u>", mss);
    expect_nothing(t);
    assert_int_equal(info(t).rtx_fast, 1);
    /* The one for 5 comes older by more than an RTO (about 1 s here) of
     * the peer's milliseconds: PAWS, answered with TS.Recent as it was
     * (the reordered one did not move it back). */
    assert_true(info(t).rto_us < 3000000);
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><TS=%u,%u>", recent - 3000,
           t->c.stack_tsval);
    expect(t, "<SEQ=%u><ACK=1><CTL=ACK>", 1 + 5 * mss);
    assert_int_equal(t->last.h.opts.ts_ecr, recent + 5);
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_PAWS), 1);
    /* A window update with an old TSval is no duplicate ACK: PAWS (the
     * ACK it is owed is held back by the rate limit on such ACKs, one
     * having just gone). */
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><WND=1000><TS=%u,%u>", recent,
           t->c.stack_tsval);
    expect_nothing(t);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_PAWS), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_syn_options_bytes),
        TH_TEST(test_syn_options_each),
        TH_TEST(test_syn_mss_from_mtu),
        TH_TEST(test_all_negotiated),
        TH_TEST(test_none_negotiated),
        TH_TEST(test_no_mss_means_536),
        TH_TEST(test_wscale_clamped_to_14),
        TH_TEST(test_synack_echoes_only_offered),
        TH_TEST(test_passive_negotiated),
        TH_TEST(test_segment_without_timestamp_dropped),
        TH_TEST(test_paws_old_timestamp),
        TH_TEST(test_paws_reordered_dup_ack),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
