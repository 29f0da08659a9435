/* A compact TIME-WAIT record (tcp_tw.c) whose connection cannot be made a
 * block again, because the connection table is full: a retransmitted FIN
 * is still acknowledged and restarts 2 MSL (RFC 9293 §3.10.7.4), from the
 * record, with the very segment the block would have sent; otherwise the
 * peer would stay in LAST-ACK until its retries ran out. */
#include "core/tcp_priv.h"
#include "tcp_harness.h"

static uint32_t records(const tcp_test *t)
{
    return ustk__tw_count(t->s);
}

/* TIME-WAIT, the handle closed: a record. Then, when fill, another socket
 * takes the last connection block. Returns when TIME-WAIT began. */
static ustk_time record_present(tcp_test *t, bool fill)
{
    /* Timestamps and window scaling: the record must keep both. */
    t->cfg.opt_timestamps = true;
    t->cfg.opt_wscale = true;
    t->cfg.opt_sack = true;
    t->cfg.wscale = 7;
    t->peer_syn_opts = "<MSS=1460><SACKOK><TS><WS=2>";
    conn_in_time_wait(t);
    ustk_time tw = t->now;
    assert_int_equal(ustk_close(t->s, t->c.sock, t->now), 0);
    t->c.sock = -1;
    expect_nothing(t);
    assert_int_equal(records(t), 1);
    assert_int_equal(t->s->ntcb, 0);
    if (fill) {
        assert_true(ustk_open(t->s, USTK_PROTO_TCP) >= 0);
        assert_int_equal(t->s->ntcb, t->cfg.max_sockets);
        assert_int_equal(ustk_open(t->s, USTK_PROTO_TCP), USTK_EMFILE);
    }
    return tw;
}

static tcp_test *twin_setup(void)
{
    void *st = NULL;
    assert_int_equal(th_setup(&st), 0);
    return st;
}

static void twin_teardown(tcp_test *t)
{
    void *st = t;
    th_teardown(&st);
}

/* The peer's FIN again, 1 s into TIME-WAIT: what the stack answers. */
static ustk_tcp_hdr refin(tcp_test *t)
{
    advance_to(t, t->now + USTK_SEC(1));
    inject(t, "<SEQ=1><ACK=2><CTL=FIN,ACK>");
    const th_seg *g = expect(t, "<SEQ=2><ACK=2><CTL=ACK><TS>");
    ustk_tcp_hdr h = g->h;
    expect_nothing(t);
    return h;
}

static void test_full_table_refin_acked(void **state)
{
    tcp_test *t = *state;
    t->cfg.max_sockets = 1;
    (void)record_present(t, true);
    uint32_t fin_tsval = t->c.peer_tsval;
    ustk_tcp_hdr got = refin(t);
    ustk_time again = t->now;
    /* Answered from the record: no block was made, nothing dropped for
     * want of one; the FIN counts as the block counts it. */
    assert_int_equal(records(t), 1);
    assert_int_equal(t->s->ntcb, 1);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_NO_MEMORY), 0);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_UNACCEPTABLE), 1);

    /* The same conversation with room for the block: the same ACK, to
     * the bit (timestamps included). */
    tcp_test *u = twin_setup();
    (void)record_present(u, false);
    ustk_tcp_hdr want = refin(u);
    assert_int_equal(u->now, again);
    twin_teardown(u);
    assert_true(got.opts.has & USTK_OPT_TS);
    /* TS.Recent is the first FIN's: the copy is not in the window
     * (RFC 7323 §4.3), so it does not move it. */
    assert_int_equal(got.opts.ts_ecr, fin_tsval);
    /* An empty 30,000-byte buffer under the scale we offered (4). */
    assert_int_equal(got.wnd, 30000 >> 4);
    assert_int_equal(got.seq, want.seq);
    assert_int_equal(got.ack, want.ack);
    assert_int_equal(got.flags, want.flags);
    assert_int_equal(got.wnd, want.wnd);
    assert_int_equal(got.opts.has, want.opts.has);
    assert_int_equal(got.opts.ts_val, want.opts.ts_val);
    assert_int_equal(got.opts.ts_ecr, want.opts.ts_ecr);

    /* 2 MSL restarted from the FIN (the stack may wake once at the old
     * expiry to find nothing due). */
    expect_nothing_until(t, again + 2 * t->cfg.msl - 1);
    assert_int_equal(records(t), 1);
    advance_to(t, again + 2 * t->cfg.msl);
    expect_nothing(t);
    assert_int_equal(records(t), 0);
    /* Gone: the tuple finds nobody. */
    assert_drop(inject(t, "<SEQ=2><ACK=2><CTL=ACK>"), USTK_DROP_TCP_NO_SOCKET);
    expect(t, "<SEQ=2><CTL=RST>");
}

/* The FIN may come more than once; each is acknowledged and restarts the
 * timer, while records made before and after keep their own order. */
static void test_full_table_refin_twice(void **state)
{
    tcp_test *t = *state;
    t->cfg.max_sockets = 1;
    (void)record_present(t, true);
    (void)refin(t);
    (void)refin(t);
    ustk_time again = t->now;
    assert_int_equal(records(t), 1);
    assert_int_equal(th_drops(t, USTK_DROP_TCP_UNACCEPTABLE), 2);
    expect_nothing_until(t, again + 2 * t->cfg.msl - 1);
    assert_int_equal(records(t), 1);
    advance_to(t, again + 2 * t->cfg.msl);
    expect_nothing(t);
    assert_int_equal(records(t), 0);
}

/* RFC 7323 as for the block: an old timestamp fails PAWS and is
 * acknowledged without restarting anything; no timestamp, no answer. */
static void test_full_table_paws(void **state)
{
    tcp_test *t = *state;
    t->cfg.max_sockets = 1;
    ustk_time tw = record_present(t, true);
    advance_to(t, t->now + USTK_SEC(1));
    inject(t, "<SEQ=1><ACK=2><CTL=FIN,ACK><TS=1,%u>", t->c.stack_tsval);
    expect(t, "<SEQ=2><ACK=2><CTL=ACK>");
    assert_int_equal(th_drops(t, USTK_DROP_TCP_PAWS), 1);
    assert_drop(inject(t, "<SEQ=1><ACK=2><CTL=FIN,ACK><NOTS>"),
                USTK_DROP_TCP_NO_TIMESTAMP);
    expect_nothing(t);
    /* Neither restarted the timer. */
    advance_to(t, tw + 2 * t->cfg.msl);
    expect_nothing(t);
    assert_int_equal(records(t), 0);
}

/* What only a block can handle is still dropped for want of one, and
 * nothing is sent: a bare ACK, a RST (which RFC 1337 ignores anyway), a
 * new SYN. */
static void test_full_table_other_segments(void **state)
{
    tcp_test *t = *state;
    t->cfg.max_sockets = 1;
    (void)record_present(t, true);
    assert_drop(inject(t, "<SEQ=2><ACK=2><CTL=ACK>"), USTK_DROP_TCP_NO_MEMORY);
    assert_drop(inject(t, "<SEQ=2><CTL=RST>"), USTK_DROP_TCP_NO_MEMORY);
    assert_drop(inject(t, "<SEQ=@%u><CTL=SYN>", TH_PEER_ISS + 100000u),
                USTK_DROP_TCP_NO_MEMORY);
    expect_nothing(t);
    assert_int_equal(records(t), 1);
}

/* A record made a block again announces the window of its empty
 * buffer, wherever RCV.NXT lies: also just below 2^32, where the block's
 * RCV.ADV, still zero while the window was computed, looked "ahead" of
 * RCV.NXT and made the window up to 64 KiB << scale. */
static void test_expanded_window_near_wrap(void **state)
{
    tcp_test *t = *state;
    t->c.irs = 0xfff80000u; /* RCV.NXT ends 2^32 - 524286 */
    (void)record_present(t, false);
    ustk_tcp_hdr got = refin(t);
    assert_int_equal(got.ack, 0xfff80002u);
    assert_int_equal(got.wnd, 30000 >> 4);
}

/* Once its last record has expired, the TIME-WAIT table is given back
 * by ustk_stack_trim() (not before: a record keeps it), its timer node
 * out of the heap; the next compact record makes a new table, as the
 * first did. */
static void test_trim_frees_empty_table(void **state)
{
    tcp_test *t = *state;

    ustk_time tw = record_present(t, false);
    ustk_stack_trim(t->s);
    assert_non_null(t->s->tw);
    assert_int_equal(records(t), 1);
    advance_to(t, tw + 2 * t->cfg.msl);
    expect_nothing(t);
    assert_int_equal(records(t), 0);
    assert_non_null(t->s->tw);
    ustk_stack_trim(t->s);
    assert_null(t->s->tw);
    assert_null(ustk_heap_top(&t->s->timers));
}

/* A segment turns the record back into a block (here a RST, which
 * TIME-WAIT ignores, RFC 1337), and the block becomes a record again: the
 * FIFO then holds the old record, dead, ahead of the new one, both due at
 * the end of the same 2*MSL. Trim keeps the table while the live one is
 * there, and gives it back, dead record and all, once both are gone. */
static void test_trim_with_dead_record(void **state)
{
    tcp_test *t = *state;

    ustk_time tw = record_present(t, false);
    advance_to(t, t->now + USTK_SEC(1));
    inject(t, "<SEQ=2><CTL=RST>");
    expect_nothing(t);
    assert_int_equal(records(t), 1);
    assert_int_equal(t->s->ntcb, 0);
    assert_true(t->s->tw->head != t->s->tw->tail); /* dead, then live */
    ustk_stack_trim(t->s);
    assert_non_null(t->s->tw);
    assert_int_equal(th_deadline(t), tw + 2 * t->cfg.msl);
    advance_to(t, tw + 2 * t->cfg.msl);
    expect_nothing(t);
    assert_int_equal(records(t), 0);
    ustk_stack_trim(t->s);
    assert_null(t->s->tw);
    assert_null(ustk_heap_top(&t->s->timers));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_full_table_refin_acked),
        TH_TEST(test_full_table_refin_twice),
        TH_TEST(test_full_table_paws),
        TH_TEST(test_full_table_other_segments),
        TH_TEST(test_expanded_window_near_wrap),
        TH_TEST(test_trim_frees_empty_table),
        TH_TEST(test_trim_with_dead_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
