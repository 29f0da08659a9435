/* Offloads (config tso_max, tx_csum_offload): a TSO segment and its
 * metadata, its partial checksum, RACK's records after a partial SACK of
 * it, retransmissions one MSS each, and input the link vouches for
 * (ustk_input_meta()). The peer offers MSS 1460 and SACK, no timestamps,
 * so a segment carries 1460 bytes and a 20-byte header. */
#include <string.h>

#include "tcp_harness.h"

#include "core/stack_priv.h"
#include "core/tcp_priv.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

#define MSS 1460u

static void tso_conn(tcp_test *t)
{
    t->cfg.opt_sack = true;
    t->cfg.tso_max = 65535;
    t->cfg.tx_csum_offload = true;
    t->peer_syn_opts = "<MSS=1460><SACKOK>";
    conn_in_established(t);
}

typedef struct out_frame {
    ustk_frame_meta m;
    ustk_ipv4_hdr ip;
    uint8_t *tcp;
    size_t tcp_len;
    uint32_t rseq;     /* relative to the stack's ISS */
    size_t payload;
} out_frame;

/* The next frame from ustk_poll_output_meta(); false when none. */
static bool take_meta(tcp_test *t, out_frame *f)
{
    size_t len = 0;
    int rc = ustk_poll_output_meta(t->s, t->now, t->rx, sizeof t->rx, &len,
                                   &f->m);
    if (rc == USTK_EAGAIN)
        return false;
    assert_int_equal(rc, 0);
    assert_int_equal(ustk_ipv4_parse(t->rx, len, &f->ip), 0);
    assert_int_equal(f->ip.total_len, len);
    f->tcp = t->rx + f->ip.hdr_len;
    f->tcp_len = len - f->ip.hdr_len;
    f->rseq = ((uint32_t)f->tcp[4] << 24 | (uint32_t)f->tcp[5] << 16 |
               (uint32_t)f->tcp[6] << 8 | f->tcp[7]) - t->c.iss;
    f->payload = f->tcp_len - (size_t)(f->tcp[12] >> 4) * 4;
    return true;
}

/* n segments' worth written, out as one TSO segment of n pieces. */
static void send_tso(tcp_test *t, out_frame *f, uint32_t n)
{
    assert_int_equal(app_send(t, n * MSS), n * MSS);
    assert_true(take_meta(t, f));
    assert_int_equal(f->m.gso_segs, n);
}

static uint16_t csum_field(const out_frame *f)
{
    return (uint16_t)(f->tcp[16] << 8 | f->tcp[17]);
}

/* What the link does with NEEDS_CSUM: the one's complement sum from
 * csum_start (here the TCP header) to the end, stored in the field. */
static void complete_csum(out_frame *f)
{
    uint16_t c = ustk_csum_finish(ustk_csum_add(0, f->tcp, f->tcp_len));
    f->tcp[16] = (uint8_t)(c >> 8);
    f->tcp[17] = (uint8_t)c;
}

static ustk_tcb *the_tcb(tcp_test *t)
{
    return t->s->slots[(uint32_t)t->c.sock & t->s->idx_mask].tcb;
}

/* Ten segments' worth within the initial window go out as one IPv4
 * packet: DF set, 14,640 bytes, and metadata for the link to cut it into
 * ten segments of 1460 bytes with the checksum completed. */
static void test_tso_segment_metadata(void **state)
{
    tcp_test *t = *state;
    out_frame f;
    ustk_stack_stats st;
    ustk_tcp_info before, after;

    tso_conn(t);
    before = info(t);
    assert_int_equal(app_send(t, 10 * MSS), 10 * MSS);
    assert_true(take_meta(t, &f));
    assert_int_equal(f.m.gso_type, USTK_GSO_TCPV4);
    assert_int_equal(f.m.gso_size, MSS);
    assert_int_equal(f.m.gso_segs, 10);
    assert_int_equal(f.m.flags, USTK_META_NEEDS_CSUM);
    assert_int_equal(f.m.csum_start, 20);
    assert_int_equal(f.m.csum_offset, 16);
    assert_int_equal(f.m.hdr_len, 40);
    assert_int_equal(f.ip.total_len, 40 + 10 * MSS);
    assert_true(f.ip.frag & USTK_IPV4_DF);
    assert_int_equal(f.rseq, 1);
    assert_int_equal(f.payload, 10 * MSS);
    for (uint32_t i = 0; i < 10 * MSS; i++)
        if (f.tcp[20 + i] != th_stack_byte(1 + i))
            fail_msg("payload byte %u differs", i);
    /* The window is full: nothing more. */
    assert_false(take_meta(t, &f));
    after = info(t);
    assert_int_equal(after.segs_out - before.segs_out, 10);
    assert_int_equal(after.bytes_in_flight, 10 * MSS);
    ustk_stack_stats_get(t->s, &st);
    assert_int_equal(st.tcp_tso_frames, 1);
}

/* The checksum field holds the folded pseudo-header sum for the whole
 * segment, not complemented; completing it as the link does gives a
 * segment whose checksum verifies. */
static void test_tso_partial_checksum(void **state)
{
    tcp_test *t = *state;
    out_frame f;
    ustk_tcp_hdr h;

    tso_conn(t);
    send_tso(t, &f, 4);
    uint32_t pseudo = ustk_csum_pseudo(0, TH_LOCAL_IP, TH_PEER_IP,
                                       USTK_IP_PROTO_TCP,
                                       (uint16_t)f.tcp_len);
    assert_int_equal(csum_field(&f), (uint16_t)~ustk_csum_finish(pseudo));
    assert_int_not_equal(ustk_tcp_parse(f.tcp, f.tcp_len, TH_LOCAL_IP,
                                        TH_PEER_IP, true, &h), 0);
    complete_csum(&f);
    assert_int_equal(ustk_tcp_parse(f.tcp, f.tcp_len, TH_LOCAL_IP,
                                    TH_PEER_IP, true, &h), 0);
}

/* A TSO segment of ten pieces is ten records in RACK's log. The peer
 * SACKs pieces 3 to 5 (three segments: DupThresh), so pieces 1 and 2 are
 * lost at once: their records are marked, the SACKed ones counted, and
 * the first goes again alone, one MSS, with a partial checksum but
 * nothing to cut. */
static void test_tso_partial_sack_records(void **state)
{
    tcp_test *t = *state;
    out_frame f;
    ustk_tcp_info ti;

    tso_conn(t);
    send_tso(t, &f, 10);
    const ustk_rack *r = the_tcb(t)->x->rack;
    assert_non_null(r);
    assert_int_equal(r->n, 10);
    for (uint32_t i = 0; i < 10; i++) {
        const ustk_txseg *g = &r->v[r->head + i];
        assert_int_equal(g->seq - t->c.iss, 1 + i * MSS);
        assert_int_equal(g->end - g->seq, MSS);
        assert_int_equal(g->flags, 0);
    }

    advance_to(t, t->now + USTK_MS(100));
    inject(t, "<SEQ=1><ACK=1><CTL=ACK><SACK=%u-%u>", 1 + 2 * MSS,
           1 + 5 * MSS);
    r = the_tcb(t)->x->rack;
    assert_int_equal(r->n, 10);
    for (uint32_t i = 0; i < 10; i++) {
        const ustk_txseg *g = &r->v[r->head + i];
        uint32_t want = i < 2 ? TX_LOST : i < 5 ? TX_SACKED : 0;
        assert_int_equal(g->seq - t->c.iss, 1 + i * MSS);
        assert_int_equal(g->end - g->seq, MSS);
        if (g->flags != want)
            fail_msg("record %u: flags %u, want %u", i, g->flags, want);
    }
    ti = info(t);
    assert_int_equal(ti.sacked_out, 3 * MSS);
    assert_int_equal(ti.lost_out, 2 * MSS);

    assert_true(take_meta(t, &f));
    assert_int_equal(f.rseq, 1);
    assert_int_equal(f.payload, MSS);
    assert_int_equal(f.m.gso_type, USTK_GSO_NONE);
    assert_int_equal(f.m.flags, USTK_META_NEEDS_CSUM);
    r = the_tcb(t)->x->rack;
    assert_int_equal(r->v[r->head].flags, TX_RETRANS);
    assert_int_equal(info(t).rtx_sack, 1);
}

/* The tail loss probe resends the last piece alone, one MSS; after the
 * timeout the first piece goes again alone, and so do the next ones once
 * it is acknowledged (go-back-N over what was one TSO segment), never a
 * TSO segment. */
static void test_tso_retransmission_is_one_mss(void **state)
{
    tcp_test *t = *state;
    out_frame f;
    ustk_tcp_info ti;

    tso_conn(t);
    send_tso(t, &f, 10);
    advance_to(t, ustk_next_deadline(t->s, t->now));
    assert_true(take_meta(t, &f));
    assert_int_equal(f.rseq, 1 + 9 * MSS);
    assert_int_equal(f.payload, MSS);
    assert_int_equal(f.m.gso_type, USTK_GSO_NONE);
    assert_int_equal(info(t).rtx_tlp, 1);
    assert_false(take_meta(t, &f));
    advance_to(t, ustk_next_deadline(t->s, t->now));
    assert_true(take_meta(t, &f));
    assert_int_equal(f.rseq, 1);
    assert_int_equal(f.payload, MSS);
    assert_int_equal(f.m.gso_type, USTK_GSO_NONE);
    assert_false(take_meta(t, &f));
    ti = info(t);
    assert_int_equal(ti.rtx_timeout, 1);
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", 1 + MSS);
    for (uint32_t i = 1; i <= 2; i++) {
        assert_true(take_meta(t, &f));
        assert_int_equal(f.rseq, 1 + i * MSS);
        assert_int_equal(f.payload, MSS);
        assert_int_equal(f.m.gso_type, USTK_GSO_NONE);
    }
    assert_false(take_meta(t, &f));
}

/* Without offloads in the config, ustk_poll_output_meta() hands out the
 * same complete frames as ustk_poll_output(); with them, ustk_poll_output()
 * still does. */
static void test_tso_off_and_plain_poll(void **state)
{
    tcp_test *t = *state;
    out_frame f;
    ustk_tcp_hdr h;

    t->cfg.opt_sack = true;
    t->peer_syn_opts = "<MSS=1460><SACKOK>";
    conn_in_established(t);
    assert_int_equal(app_send(t, 3 * MSS), 3 * MSS);
    for (uint32_t i = 0; i < 3; i++) {
        assert_true(take_meta(t, &f));
        assert_int_equal(f.rseq, 1 + i * MSS);
        assert_int_equal(f.payload, MSS);
        assert_int_equal(f.m.flags, 0);
        assert_int_equal(f.m.gso_type, USTK_GSO_NONE);
        assert_int_equal(ustk_tcp_parse(f.tcp, f.tcp_len, TH_LOCAL_IP,
                                        TH_PEER_IP, true, &h), 0);
    }
}

static void test_tso_config_plain_poll(void **state)
{
    tcp_test *t = *state;

    tso_conn(t);
    assert_int_equal(app_send(t, 3 * MSS), 3 * MSS);
    expect_segments(t, 0, 3, MSS);
    expect_nothing(t);
}

/* Nagle in Minshall's form and TSO: with no short segment unacknowledged,
 * 2.5 segments go as one TSO segment of three pieces, the last short. The
 * next 2.5 make a TSO segment of two pieces, and their short tail waits
 * for the ACK of the first short piece, then goes alone. */
static void test_tso_tail_waits_for_nagle(void **state)
{
    tcp_test *t = *state;
    out_frame f;

    tso_conn(t);
    assert_int_equal(app_send(t, 2 * MSS + MSS / 2), 2 * MSS + MSS / 2);
    assert_true(take_meta(t, &f));
    assert_int_equal(f.payload, 2 * MSS + MSS / 2);
    assert_int_equal(f.m.gso_segs, 3);
    assert_int_equal(f.m.gso_size, MSS);
    assert_false(take_meta(t, &f));
    assert_int_equal(app_send(t, 2 * MSS + MSS / 2), 2 * MSS + MSS / 2);
    assert_true(take_meta(t, &f));
    assert_int_equal(f.rseq, 1 + 2 * MSS + MSS / 2);
    assert_int_equal(f.payload, 2 * MSS);
    assert_int_equal(f.m.gso_segs, 2);
    assert_false(take_meta(t, &f));
    /* Acknowledging the full pieces only: the short one is still out. */
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", 1 + 2 * MSS);
    assert_false(take_meta(t, &f));
    inject(t, "<SEQ=1><ACK=%u><CTL=ACK>", 1 + 2 * MSS + MSS / 2);
    assert_true(take_meta(t, &f));
    assert_int_equal(f.rseq, 1 + 4 * MSS + MSS / 2);
    assert_int_equal(f.payload, MSS / 2);
    assert_int_equal(f.m.gso_type, USTK_GSO_NONE);
}

/* Build a data segment from the peer: len bytes of its pattern from
 * relative sequence number 1 + off, checksum good or (bad) off by one.
 * Returns the packet length. */
static size_t peer_data(tcp_test *t, uint32_t off, uint32_t len, bool bad)
{
    ustk_tcp_hdr h;
    memset(&h, 0, sizeof h);
    h.sport = t->c.pport;
    h.dport = t->c.lport;
    h.seq = t->c.irs + 1 + off;
    h.ack = t->c.iss + 1;
    h.flags = USTK_TCP_ACK;
    h.wnd = 65535;
    uint8_t *tcp = t->frame + USTK_IPV4_HDR_LEN;
    for (uint32_t i = 0; i < len; i++)
        tcp[20 + i] = th_peer_byte(1 + off + i);
    size_t n = ustk_tcp_emit(&h, NULL, len, TH_PEER_IP, TH_LOCAL_IP, tcp,
                             sizeof t->frame - USTK_IPV4_HDR_LEN);
    assert_int_equal(n, 20 + len);
    if (bad)
        tcp[16] ^= 1;
    ustk_ipv4_hdr ip;
    memset(&ip, 0, sizeof ip);
    ip.total_len = (uint16_t)(USTK_IPV4_HDR_LEN + n);
    ip.frag = USTK_IPV4_DF;
    ip.ttl = 64;
    ip.proto = USTK_IP_PROTO_TCP;
    ip.src = TH_PEER_IP;
    ip.dst = TH_LOCAL_IP;
    ustk_ipv4_emit(&ip, t->frame, USTK_IPV4_HDR_LEN);
    return USTK_IPV4_HDR_LEN + n;
}

/* A bad checksum is dropped unless the link vouches for the data (the
 * caller's word counts for that frame only); a segment the link coalesced
 * from ten, larger than the MTU, is taken whole, acknowledged, and
 * counted. */
static void test_input_meta(void **state)
{
    tcp_test *t = *state;
    ustk_frame_meta m;
    ustk_stack_stats st;
    size_t n;

    tso_conn(t);
    n = peer_data(t, 0, 100, true);
    assert_int_equal(ustk_input(t->s, t->now, t->frame, n),
                     USTK_DROP_TCP_CHECKSUM);
    memset(&m, 0, sizeof m);
    m.flags = USTK_META_DATA_VALID;
    assert_int_equal(ustk_input_meta(t->s, t->now, t->frame, n, &m), 0);
    assert_int_equal(ustk_input(t->s, t->now, t->frame, n),
                     USTK_DROP_TCP_CHECKSUM);
    expect(t, "<SEQ=1><ACK=101><CTL=ACK>");
    app_recv_expect(t, 100);

    n = peer_data(t, 100, 10 * MSS, true);
    assert_true(n > 1500);
    memset(&m, 0, sizeof m);
    m.flags = USTK_META_NEEDS_CSUM;
    m.gso_type = USTK_GSO_TCPV4;
    m.gso_size = MSS;
    m.csum_start = 20;
    m.csum_offset = 16;
    assert_int_equal(ustk_input_meta(t->s, t->now, t->frame, n, &m), 0);
    expect(t, "<SEQ=1><ACK=%u><CTL=ACK>", 101 + 10 * MSS);
    app_recv_expect(t, 10 * MSS);
    ustk_stack_stats_get(t->s, &st);
    assert_int_equal(st.tcp_gro_frames, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH_TEST(test_tso_segment_metadata),
        TH_TEST(test_tso_partial_checksum),
        TH_TEST(test_tso_partial_sack_records),
        TH_TEST(test_tso_retransmission_is_one_mss),
        TH_TEST(test_tso_off_and_plain_poll),
        TH_TEST(test_tso_config_plain_poll),
        TH_TEST(test_tso_tail_waits_for_nagle),
        TH_TEST(test_input_meta),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
