/* TCP segment arrival, in the order of RFC 9293 §3.10.7: a connection is
 * found (or a listener, or nobody), then the segment goes through the
 * phases for the connection's state: acceptability, RST, SYN, ACK, data,
 * FIN. Each phase is its own function. */
#include <string.h>

#include "tcp_priv.h"
#include "wire/checksum.h"

typedef struct seg {
    ustk_tcp_hdr h;
    const uint8_t *data;
    uint32_t len;     /* payload bytes (after trimming) */
    uint32_t wire_len; /* payload bytes as they came */
    uint32_t seq;     /* sequence number of data[0] (after trimming) */
    bool fin;
    bool syn;
    /* The payload from placed_at on, placed bytes of it, is already in
     * the receive ring's free space at RCV.NXT (see checksum_ok). */
    const uint8_t *placed_at;
    uint32_t placed;
} seg;

/* What a phase tells the next one. */
typedef enum { GO_ON, STOP, GONE } phase;

static uint32_t seg_len(const seg *g)
{
    return g->len + (g->syn ? 1u : 0u) + (g->fin ? 1u : 0u);
}

/* ---- no connection ---- */

/* RFC 9293 §3.10.7.1: a segment for no connection is answered by a reset,
 * unless it is one. */
static void reply_rst(ustk_stack *s, ustk_ip4 laddr, ustk_ip4 raddr,
                      const seg *g)
{
    if (g->h.flags & USTK_TCP_RST)
        return;
    if (g->h.flags & USTK_TCP_ACK)
        ustk__tcp_send_rst(s, laddr, g->h.dport, raddr, g->h.sport, g->h.ack,
                           0, false);
    else
        ustk__tcp_send_rst(s, laddr, g->h.dport, raddr, g->h.sport, 0,
                           g->h.seq + seg_len(g), true);
}

/* Record what the peer's SYN offered and what we agree to use. */
static void negotiate(ustk_stack *s, ustk_tcb *t, const ustk_tcp_opts *o)
{
    /* RFC 9293 §3.7.1: without the option, assume 536. */
    uint32_t peer = (o->has & USTK_OPT_MSS) ? o->mss : 536;
    t->peer_mss = (uint16_t)peer;
    /* RFC 1191 §3: no larger than the path MTU we know of. */
    bool no_df;
    uint32_t mss = ustk__pmtu_get(s, s->now, t->raddr, &no_df) - 40u;
    if (no_df)
        t->flags |= TF_NO_DF;
    if (peer < mss)
        mss = peer;
    /* A tiny MSS would make every segment mostly header; Linux clamps the
     * same way. Options must still fit. */
    if (mss < 64)
        mss = 64;
    if (mss > s->cfg.mtu - 40u)
        mss = s->cfg.mtu - 40u; /* our own limit wins (MTU 128 gives 88) */
    t->mss = (uint16_t)mss;
    if (s->cfg.opt_wscale && (o->has & USTK_OPT_WSCALE)) {
        t->flags |= TF_WSCALE;
        /* RFC 7323 §2.3: a shift over 14 is used as 14. */
        t->snd_wscale = o->wscale > 14 ? 14 : o->wscale;
        t->rcv_wscale = ustk__tcp_wscale_offer(s);
    } else {
        t->snd_wscale = t->rcv_wscale = 0;
    }
    if (s->cfg.opt_sack && (o->has & USTK_OPT_SACK_PERM)) {
        t->flags |= TF_SACK;
        if (t->rack_on)
            t->flags |= TF_RACK;
    }
    if (s->cfg.opt_timestamps && (o->has & USTK_OPT_TS)) {
        t->flags |= TF_TS;
        t->ts_recent = o->ts_val;
        t->ts_recent_at_s = (uint32_t)(s->now / USTK_SEC(1));
    }
}

/* RFC 9293 §3.10.7.2: a listener takes only a SYN. */
static void listen_input(ustk_stack *s, ustk_time now, ustk_tcb *l,
                         ustk_ip4 src, ustk_ip4 dst, const seg *g,
                         uint32_t hash)
{
    const ustk_tcp_hdr *h = &g->h;
    if (h->flags & USTK_TCP_RST) {
        ustk__drop(s, USTK_DROP_TCP_LISTEN_BAD, l, h, g->len);
        return;
    }
    if (h->flags & USTK_TCP_ACK) {
        ustk__drop(s, USTK_DROP_TCP_LISTEN_BAD, l, h, g->len);
        ustk__tcp_send_rst(s, dst, h->dport, src, h->sport, h->ack, 0, false);
        return;
    }
    if (!(h->flags & USTK_TCP_SYN)) {
        ustk__drop(s, USTK_DROP_TCP_LISTEN_BAD, l, h, g->len);
        return;
    }
    if (l->x->aq_len >= l->x->backlog) {
        ustk__drop(s, USTK_DROP_TCP_ACCEPT_QUEUE_FULL, l, h, g->len);
        return;
    }
    if (l->x->half_open >= s->cfg.max_half_open) {
        ustk__drop(s, USTK_DROP_TCP_SYN_BACKLOG_FULL, l, h, g->len);
        return;
    }
    if (ustk__route(s, src) == 0) {
        ustk__drop(s, USTK_DROP_IP_NO_ROUTE, l, h, g->len);
        return;
    }
    ustk_tcb *t = ustk__tcb_new(s);
    if (!t) {
        ustk__drop(s, USTK_DROP_TCP_NO_MEMORY, l, h, g->len);
        return;
    }
    t->laddr = dst;
    t->lport = h->dport;
    t->raddr = src;
    t->rport = h->sport;
    t->state = USTK_TCP_LISTEN;
    t->flags |= TF_PASSIVE;
    ustk__tcb_init_seq(s, now, t);
    t->irs = h->seq;
    t->rcv_nxt = t->rcv_adv = h->seq + 1;
    negotiate(s, t, &h->opts);
    /* RFC 7323 §2.2: the window of a SYN is not scaled. */
    t->snd_wnd = t->max_snd_wnd = h->wnd;
    t->snd_wl1 = h->seq;
    t->snd_wl2 = t->iss;
    ustk__tcb_hash(s, t, hash);
    ustk__tcb_child_add(l, t);
    ustk__trace_seg(s, t, USTK_TRACE_SEG_IN, h, g->len, false);
    ustk__tcb_set_state(s, t, USTK_TCP_SYN_RECEIVED);
    s->stats.tcp_passive_opens++;
    ustk__tcp_reschedule(s, t);
}

/* RFC 6298 §5.7: "If the timer expires awaiting the ACK of a SYN segment
 * and the TCP implementation is using an RTO less than 3 seconds, the RTO
 * MUST be re-initialized to 3 seconds when data transmission begins". */
static void syn_rto_reinit(ustk_stack *s, ustk_tcb *t)
{
    (void)s;
    if ((t->flags & TF_SYN_RTO) && t->x->rto < USTK_SEC(3))
        t->x->rto = (uint32_t)USTK_SEC(3);
    t->flags &= ~(uint32_t)TF_SYN_RTO;
}

static phase on_data(ustk_stack *s, ustk_time now, ustk_tcb *t, seg *g);
static void on_fin(ustk_stack *s, ustk_time now, ustk_tcb *t, const seg *g);

/* ---- SYN-SENT, RFC 9293 §3.10.7.3 ---- */

static bool syn_sent_input(ustk_stack *s, ustk_time now, ustk_tcb *t,
                           seg *g)
{
    const ustk_tcp_hdr *h = &g->h;
    bool ack = (h->flags & USTK_TCP_ACK) != 0;
    if (ack && (ustk_seq_leq(h->ack, t->iss) ||
                ustk_seq_gt(h->ack, t->x->snd_max))) {
        ustk__drop(s, USTK_DROP_TCP_SYN_SENT_BAD, t, h, g->len);
        if (!(h->flags & USTK_TCP_RST))
            ustk__tcp_send_rst(s, t->laddr, t->lport, t->raddr, t->rport,
                               h->ack, 0, false);
        return true;
    }
    if (h->flags & USTK_TCP_RST) {
        if (!ack) {
            ustk__drop(s, USTK_DROP_TCP_SYN_SENT_BAD, t, h, g->len);
            return true;
        }
        ustk__tcb_close(s, t, USTK_ECONNREFUSED);
        return false;
    }
    if (!(h->flags & USTK_TCP_SYN)) {
        ustk__drop(s, USTK_DROP_TCP_SYN_SENT_BAD, t, h, g->len);
        return true;
    }
    t->irs = h->seq;
    t->rcv_nxt = t->rcv_adv = h->seq + 1;
    negotiate(s, t, &h->opts);
    t->snd_wnd = t->max_snd_wnd = h->wnd; /* unscaled in a SYN */
    t->snd_wl1 = h->seq;
    t->snd_wl2 = ack ? h->ack : t->iss;
    if (ack) {
        t->snd_una = h->ack;
        /* A timeout may have pulled SND.NXT back to ISS just before this
         * SYN-ACK of the first SYN came: nothing is left to resend. */
        if (ustk_seq_lt(t->x->snd_nxt, t->snd_una))
            t->x->snd_nxt = t->snd_una;
        t->flags |= TF_SYN_ACKED;
        /* With RACK the log times every segment and samples on each
         * ACK (tcp_rack.c); otherwise one segment at a time. */
        if ((t->flags & TF_RTT_TIMING) && ustk_seq_gt(h->ack, t->x->rtt_seq) &&
            !t->x->rack) {
            ustk__tcp_rtt_sample(s, t, now - t->x->rtt_start);
            t->flags &= ~(uint32_t)TF_RTT_TIMING;
        }
        /* New data acknowledged: the backoff ends and the RTO comes back
         * to what the estimator says, as Linux does (RFC 6298 §5.7 would
         * wait for the next sample, which Karn may hold off for long). */
        if (t->x->backoff)
            ustk__tcp_rto_restore(s, t);
        t->x->backoff = 0;
        ustk__cc_established(s, t);
        syn_rto_reinit(s, t);
        t->x->rtx_at = t->snd_una == t->x->snd_max ? USTK_TIME_NEVER
                                             : now + t->x->rto;
        t->flags |= TF_ACK_NOW;
        ustk__tcb_set_state(s, t, USTK_TCP_ESTABLISHED);
        /* RFC 9293 §3.10.7.3: "If there are other controls or text in the
         * segment, then continue processing at the sixth step". */
        if (g->len || g->fin) {
            seg d = *g;
            d.syn = false;
            d.seq = h->seq + 1;
            if (on_data(s, now, t, &d) == GONE)
                return false;
            on_fin(s, now, t, &d);
        }
    } else {
        /* Simultaneous open (RFC 9293 Figure 8): answer with SYN,ACK. */
        t->x->snd_nxt = t->iss;
        ustk__tcb_set_state(s, t, USTK_TCP_SYN_RECEIVED);
    }
    return true;
}

/* ---- synchronized states, RFC 9293 §3.10.7.4 ---- */

/* Answer an unacceptable segment with an ACK (RFC 9293 §3.10.7.4, RFC 7323
 * §5.3). A segment that occupies sequence space always gets one; a bare
 * ACK at most one per 500 ms, or two ends that each find the other's ACKs
 * unacceptable would answer each other forever (the mitigation of RFC 5961
 * §7, which Linux applies the same way). */
static void ack_unacceptable(ustk_tcb *t, const seg *g, ustk_time now)
{
    if (seg_len(g) == 0 && t->x->oow_ack_at != 0 &&
        now - t->x->oow_ack_at < USTK_MS(500))
        return;
    t->x->oow_ack_at = now ? now : 1;
    t->flags |= TF_ACK_NOW;
}

/* First: is the segment acceptable? Trims it to the window. */
static bool check_acceptable(ustk_stack *s, ustk_time now, ustk_tcb *t, seg *g)
{
    uint32_t wnd = ustk__tcp_rcv_window(s, t);
    uint32_t len = seg_len(g);
    uint32_t nxt = t->rcv_nxt;
    bool ok;
    /* A bare segment may sit anywhere up to the right edge we last
     * offered, even when the window has since closed: that is the
     * "special allowance ... to accept valid ACKs" of a zero window. A
     * sender whose data beyond our buffer was dropped sends its ACKs at
     * that edge. */
    uint32_t edge = nxt + wnd;
    if (ustk_seq_gt(t->rcv_adv, edge))
        edge = t->rcv_adv;
    if (g->h.flags & USTK_TCP_RST)
        ok = wnd == 0 ? g->seq == nxt : ustk_seq_in(g->seq, nxt, nxt + wnd);
    else if (len == 0)
        ok = ustk_seq_leq(nxt, g->seq) && ustk_seq_leq(g->seq, edge);
    else if (wnd == 0)
        /* "special allowance should be made to accept valid ACKs, URGs
         * and RSTs": the data is dropped below, the ACK still counts. */
        ok = g->seq == nxt;
    else
        ok = ustk_seq_in(g->seq, nxt, nxt + wnd) ||
             ustk_seq_in(g->seq + len - 1, nxt, nxt + wnd);
    if (!ok) {
        if (g->h.flags & USTK_TCP_RST) {
            ustk__drop(s, USTK_DROP_TCP_RST_OUT_OF_WINDOW, t, &g->h, g->len);
            return false;
        }
        /* RFC 9293 §3.10.7.4: TIME-WAIT "The only thing that can arrive in
         * this state is a retransmission of the remote FIN. Acknowledge it,
         * and restart the 2 MSL timeout." */
        if (t->state == USTK_TCP_TIME_WAIT && g->fin)
            t->x->tw_at = now + 2 * s->cfg.msl;
        /* RFC 2883: report data that arrived twice as the first SACK
         * block, so the sender can tell a needless retransmission. */
        if ((t->flags & TF_SACK) && g->len &&
            ustk_seq_leq(g->seq + g->len, nxt)) {
            t->x->dsack[0] = g->seq;
            t->x->dsack[1] = g->seq + g->len;
            t->flags |= TF_DSACK;
        }
        ack_unacceptable(t, g, now);
        ustk__drop(s, USTK_DROP_TCP_UNACCEPTABLE, t, &g->h, g->len);
        return false;
    }
    /* Trim what lies before RCV.NXT: a SYN first, then old data. */
    if (ustk_seq_lt(g->seq, nxt)) {
        uint32_t skip = nxt - g->seq;
        if (g->syn) {
            g->syn = false;
            skip--;
            g->seq++;
        }
        if (skip > g->len) {
            skip = g->len;
        }
        g->data += skip;
        g->len -= skip;
        g->seq += skip;
    }
    /* Trim what lies beyond the window; a FIN beyond it goes too. What
     * did not fit is unacceptable, and "an acknowledgment should be sent
     * in reply" (RFC 9293 §3.10.7.4). */
    if (g->len > wnd) {
        ustk__drop(s, USTK_DROP_TCP_RCV_BUF_FULL, t, &g->h, g->len - wnd);
        g->len = wnd;
        g->fin = false;
        t->flags |= TF_ACK_NOW;
    }
    return true;
}

/* A duplicate ACK overtaken on the way by a later segment of the peer's:
 * no data, nothing new acknowledged, no window update, the sequence number
 * expected, and a TSval older than TS.Recent by no more than an RTO's
 * worth of the peer's ticks (taken as milliseconds). PAWS guards against
 * old data; this segment carries none, and it is one of the duplicate
 * ACKs a fast retransmission counts (and may carry SACK blocks).
 * Rejecting it would lose it and answer it with an ACK of our own. Linux
 * lets it through as well (tcp_disordered_ack); TS.Recent stays
 * (synced_input updates it only forward). */
static bool disordered_ack(const ustk_tcb *t, const seg *g)
{
    const ustk_tcp_hdr *h = &g->h;
    return g->len == 0 && !g->syn && !g->fin && (h->flags & USTK_TCP_ACK) &&
           h->seq == t->rcv_nxt && h->ack == t->snd_una &&
           ((uint32_t)h->wnd << t->snd_wscale) == t->snd_wnd &&
           t->ts_recent - h->opts.ts_val <= (uint32_t)(t->x->rto / 1000u);
}

/* RFC 7323: once timestamps are agreed every segment but a RST carries one
 * (§3.2: otherwise it "SHOULD be silently dropped"), and PAWS (§5.3 R1)
 * rejects a segment whose TSval is older than TS.Recent, with an ACK,
 * unless it is a duplicate ACK that was merely reordered (above). */
static bool check_timestamp(ustk_stack *s, ustk_tcb *t, const seg *g,
                            ustk_time now)
{
    const ustk_tcp_hdr *h = &g->h;
    if (!(t->flags & TF_TS) || (h->flags & USTK_TCP_RST))
        return true;
    if (!(h->opts.has & USTK_OPT_TS)) {
        ustk__drop(s, USTK_DROP_TCP_NO_TIMESTAMP, t, h, g->len);
        return false;
    }
    /* RFC 7323 §5.5: after 24 days idle the peer's 1 ms clock may have
     * gone half way round, so TS.Recent is no longer a valid reference. */
    uint32_t now_s = (uint32_t)(now / USTK_SEC(1));
    if (now_s - t->ts_recent_at_s > 24u * 24 * 3600) {
        t->ts_recent = h->opts.ts_val;
        t->ts_recent_at_s = now_s;
    }
    if (ustk_seq_lt(h->opts.ts_val, t->ts_recent) && !disordered_ack(t, g)) {
        ack_unacceptable(t, g, now);
        ustk__drop(s, USTK_DROP_TCP_PAWS, t, h, g->len);
        return false;
    }
    return true;
}

static phase on_rst(ustk_stack *s, ustk_tcb *t, const seg *g, uint32_t seq0)
{
    /* RFC 5961 §3.2: reset only when the sequence number is exactly
     * RCV.NXT; anything else in the window gets a challenge ACK. */
    if (seq0 != t->rcv_nxt) {
        t->flags |= TF_ACK_NOW;
        ustk__drop(s, USTK_DROP_TCP_RST_CHALLENGED, t, &g->h, g->len);
        return STOP;
    }
    int err = 0;
    switch (t->state) {
    case USTK_TCP_SYN_RECEIVED:
        /* A passive half-open connection returns to LISTEN: the listener
         * is still there, this child just goes. */
        err = (t->flags & TF_PASSIVE) ? 0 : USTK_ECONNREFUSED;
        break;
    case USTK_TCP_ESTABLISHED:
    case USTK_TCP_FIN_WAIT_1:
    case USTK_TCP_FIN_WAIT_2:
    case USTK_TCP_CLOSE_WAIT:
        err = USTK_ECONNRESET;
        break;
    default: /* CLOSING, LAST-ACK, TIME-WAIT */
        break;
    }
    ustk__tcb_close(s, t, err);
    return GONE;
}

/* Apply an acceptable ACK. */
static phase on_ack(ustk_stack *s, ustk_time now, ustk_tcb *t, const seg *g)
{
    const ustk_tcp_hdr *h = &g->h;
    if (t->state == USTK_TCP_SYN_RECEIVED) {
        if (!ustk_seq_gt(h->ack, t->snd_una) ||
            ustk_seq_gt(h->ack, t->x->snd_max)) {
            ustk__drop(s, USTK_DROP_TCP_ACK_UNACCEPTABLE, t, h, g->len);
            ustk__tcp_send_rst(s, t->laddr, t->lport, t->raddr, t->rport,
                               h->ack, 0, false);
            return STOP;
        }
        if (t->x->listener && t->x->listener->x->aq_len >= t->x->listener->x->backlog) {
            /* No room to hand it over: ignore the ACK; the SYN,ACK will be
             * retransmitted and the peer's ACK will come again. */
            ustk__drop(s, USTK_DROP_TCP_ACCEPT_QUEUE_FULL, t, h, g->len);
            return STOP;
        }
        t->snd_wnd = (uint32_t)h->wnd << t->snd_wscale;
        t->snd_wl1 = g->h.seq;
        t->snd_wl2 = h->ack;
        ustk__cc_established(s, t);
        syn_rto_reinit(s, t);
        if (t->x->listener)
            ustk__tcb_child_established(t);
        ustk__tcb_set_state(s, t, USTK_TCP_ESTABLISHED);
    }
    /* RFC 5961 §5.2 (RFC 9293 §3.10.7.4): the ACK must lie in
     * [SND.UNA - MAX.SND.WND, SND.NXT]; anything else is answered with a
     * (rate-limited) ACK and dropped, so a blind injection cannot land. */
    uint32_t oldest = t->snd_una - (t->max_snd_wnd ? t->max_snd_wnd : 65535);
    if (ustk_seq_gt(h->ack, t->x->snd_max) || ustk_seq_lt(h->ack, oldest)) {
        ack_unacceptable(t, g, now);
        ustk__drop(s, USTK_DROP_TCP_ACK_UNACCEPTABLE, t, h, g->len);
        return STOP;
    }
    uint32_t prior_una = t->snd_una;
    /* RFC 2883 §4: the first SACK block is a D-SACK when it lies below
     * the cumulative ACK or inside the second block. */
    bool dsack = false;
    uint32_t dsack_l = 0, dsack_r = 0;
    if ((t->flags & TF_SACK) && (h->opts.has & USTK_OPT_SACK) &&
        h->opts.nsack > 0) {
        dsack_l = h->opts.sack[0][0];
        dsack_r = h->opts.sack[0][1];
        dsack = ustk_seq_lt(dsack_l, dsack_r) &&
                (ustk_seq_leq(dsack_r, h->ack) ||
                 (h->opts.nsack > 1 &&
                  ustk_seq_geq(dsack_l, h->opts.sack[1][0]) &&
                  ustk_seq_leq(dsack_r, h->opts.sack[1][1])));
    }
    /* What this ACK delivered, for PRR: SND.UNA's advance and the
     * change in what the peer holds SACKed. */
    uint32_t sacked0 = ustk__sb_sacked_bytes(t);
    bool sack_rec0 = (t->flags & TF_SACK_RECOVERY) != 0;
    /* Without RACK, a new loss is the scoreboard's IsLost edge moving
     * past bytes the peer does not hold (RFC 6675 §4). PRR asks only
     * about an ACK that advances SND.UNA (SafeACK, below). */
    bool edge_check = sack_rec0 && !(t->flags & TF_RACK) &&
                      ustk_seq_gt(h->ack, t->snd_una);
    uint32_t loss_edge0 = edge_check ? ustk__sb_loss_edge(t) : 0;
    if (ustk_seq_geq(h->ack, t->snd_una))
        ustk__sb_update(s, t, &h->opts);
    /* RFC 5681 §2 "DUPLICATE ACKNOWLEDGMENT": outstanding data, no data or
     * SYN/FIN on the segment, the same ACK number and the same window.
     * The third one retransmits at once (§3.2). The segment as it came:
     * data trimmed away by a full receive window (a 1-byte zero-window
     * probe) was data all the same. */
    bool dup = h->ack == t->snd_una && g->wire_len == 0 &&
               !(h->flags & USTK_TCP_FIN) &&
               ((uint32_t)h->wnd << t->snd_wscale) == t->snd_wnd;
    if (dup && t->x->snd_max != t->snd_una && t->snd_wnd != 0) {
        t->x->dupacks++;
        if (t->cwnd)
            ustk__cc_on_dupack(s, t, now);
        else if (t->x->dupacks == 3)
            t->flags |= TF_FAST_RTX;
    } else if (ustk_seq_gt(h->ack, t->snd_una)) {
        t->x->dupacks = 0;
    }
    if (ustk_seq_gt(h->ack, t->snd_una)) {
        uint32_t acked = h->ack - t->snd_una;
        if (!(t->flags & TF_SYN_ACKED)) {
            acked--; /* our SYN */
            t->flags |= TF_SYN_ACKED;
        }
        uint32_t buffered = ustk_ring_len(&t->x->snd);
        bool fin_acked = false;
        if (acked > buffered) {
            /* Everything and one more: that one is our FIN. */
            fin_acked = (t->flags & TF_FIN_QUEUED) != 0;
            acked = buffered;
        }
        ustk_ring_discard(&t->x->snd, acked);
        /* Everything sent is acknowledged and nothing waits: the buffer
         * (and RACK's log) go back until the next write. */
        if (ustk_ring_len(&t->x->snd) == 0 && ustk_seq_geq(h->ack, t->x->snd_max))
            ustk__tcb_snd_release(s, t);
        t->bytes_acked += acked;
        t->snd_una = h->ack;
        /* SND.SML moves only with short segments: keep it from falling so
         * far behind that, 2^31 bytes of full segments later, it would
         * seem to be in flight again (should_hold in tcp_output.c). */
        if (ustk_seq_lt(t->x->snd_sml, t->snd_una))
            t->x->snd_sml = t->snd_una;
        t->x->una_since = t->snd_una == t->x->snd_max ? 0 : now;
        ustk__sb_prune(t);
        if (t->cwnd && acked)
            ustk__cc_on_new_ack(s, t, acked, now);
        if (ustk_seq_lt(t->x->snd_nxt, t->snd_una))
            t->x->snd_nxt = t->snd_una;
        /* With RACK the log times every segment and samples on each
         * ACK (tcp_rack.c); otherwise one segment at a time. */
        if ((t->flags & TF_RTT_TIMING) && ustk_seq_gt(h->ack, t->x->rtt_seq) &&
            !t->x->rack) {
            ustk__tcp_rtt_sample(s, t, now - t->x->rtt_start);
            t->flags &= ~(uint32_t)TF_RTT_TIMING;
        }
        /* New data acknowledged: the backoff ends and the RTO comes back
         * to what the estimator says, as in SYN-SENT above. */
        if (t->x->backoff)
            ustk__tcp_rto_restore(s, t);
        t->x->backoff = 0;
        /* RFC 6298 §5.2-5.3. */
        t->x->rtx_at = t->snd_una == t->x->snd_max ? USTK_TIME_NEVER
                                             : now + t->x->rto;
        if (acked)
            ustk__tcb_notify(s, t);
        if (fin_acked) {
            switch (t->state) {
            case USTK_TCP_FIN_WAIT_1:
                ustk__tcb_set_state(s, t, USTK_TCP_FIN_WAIT_2);
                if (t->flags & TF_ORPHAN)
                    t->x->tw_at = now + s->cfg.fin_wait2_timeout;
                break;
            case USTK_TCP_CLOSING:
                ustk__tcp_enter_time_wait(s, t, now);
                break;
            case USTK_TCP_LAST_ACK:
                ustk__tcb_close(s, t, 0);
                return GONE;
            default:
                break;
            }
        }
    }
    bool new_loss = false;
    if (t->flags & TF_RACK) {
        /* RFC 8985 §6.2: RACK decides what is lost, from send times; a
         * newly marked loss starts recovery. */
        new_loss = ustk__rack_on_ack(s, t, prior_una, dup, &h->opts, dsack,
                                     dsack_l, dsack_r, now);
        if (new_loss && t->cwnd && !(t->flags & TF_IN_RECOVERY))
            ustk__cc_enter_recovery(s, t, now);
        if (ustk_seq_gt(t->snd_una, prior_una))
            ustk__rack_arm_pto(s, t, now);
    } else if (t->cwnd && !(t->flags & TF_IN_RECOVERY) &&
               !ustk__sb_empty(t) && ustk__sb_is_lost(t, t->snd_una)) {
        /* RFC 6675 §5: the scoreboard alone may show SND.UNA lost,
         * before three duplicate ACKs arrive. That is a new loss (also
         * when this ACK ended the recovery before). */
        ustk__cc_enter_recovery(s, t, now);
        new_loss = true;
    } else if (edge_check) {
        uint32_t from = ustk_seq_max(loss_edge0, t->snd_una);
        new_loss = ustk__sb_unsacked(t, from, ustk__sb_loss_edge(t)) > 0;
    }
    if (t->flags & TF_SACK_RECOVERY) {
        uint32_t got = (t->snd_una - prior_una) + ustk__sb_sacked_bytes(t);
        bool progress = ustk_seq_gt(t->snd_una, prior_una) && !new_loss;
        uint32_t delivered = got > sacked0 ? got - sacked0 : 0;
        /* RFC 9937: RecoverFS leaves out only what the peer held SACKed
         * before this ACK. ustk__cc_enter_recovery() counted what was
         * outstanding after it; what this ACK delivered goes back in, as
         * it goes into prr_delivered. */
        if (!sack_rec0)
            t->x->prr_recover_fs += delivered;
        ustk__cc_prr_on_ack(s, t, delivered, progress);
    }
    /* RFC 9293 §3.10.7.4: update the send window from the newest
     * segment only. */
    if (ustk_seq_geq(h->ack, t->snd_una) &&
        (ustk_seq_lt(t->snd_wl1, h->seq) ||
         (t->snd_wl1 == h->seq && ustk_seq_leq(t->snd_wl2, h->ack)))) {
        uint32_t w = (uint32_t)h->wnd << t->snd_wscale;
        if (w > t->snd_wnd)
            ustk__tcb_notify(s, t);
        t->snd_wnd = w;
        if (w > t->max_snd_wnd)
            t->max_snd_wnd = w;
        t->snd_wl1 = h->seq;
        t->snd_wl2 = h->ack;
        t->x->probes_unanswered = 0;
        if (w > 0 && t->x->persist_at != USTK_TIME_NEVER) {
            /* The window opened while we were probing: resend from the
             * first unacknowledged byte, the probe's byte included. */
            t->x->persist_at = USTK_TIME_NEVER;
            t->x->persist_backoff = 0;
            t->x->snd_nxt = t->snd_una;
        }
    }
    return GO_ON;
}

static void schedule_ack(ustk_stack *s, ustk_time now, ustk_tcb *t,
                         uint32_t len, bool fin)
{
    if (s->cfg.delack == 0) {
        t->flags |= TF_ACK_NOW;
        return;
    }
    /* Quick ACKs at the start of a connection: the sender is in slow
     * start and every ACK grows its window, so the first segments are
     * acknowledged at once, as Linux does. Not the last segment of the
     * stream: nothing follows for the ACK to let out, and the FIN is
     * acknowledged as on_fin says. */
    if (t->quickacks < USTK_TCP_QUICKACKS && !fin) {
        t->quickacks++;
        t->flags |= TF_ACK_NOW;
        return;
    }
    /* RFC 9293 §3.8.6.3 / RFC 1122 §4.2.3.2: ACK at least every second
     * full-sized segment, and within the delayed-ACK time. */
    /* A segment the link coalesced (GRO) counts as the segments in it. */
    uint32_t max = ustk__tcp_seg_payload_max(t);
    if (len >= max)
        t->x->unacked_segs += len / max;
    if (t->x->unacked_segs >= 2)
        t->flags |= TF_ACK_NOW;
    else if (t->x->delack_at == USTK_TIME_NEVER)
        t->x->delack_at = now + s->cfg.delack;
}

/* Data beyond a hole: keep it in place in the receive ring and remember
 * the range; an immediate duplicate ACK (with SACK blocks) tells the sender
 * (RFC 5681 §4.2). The acceptability check has already trimmed it to the
 * window, which is the free space of the ring, so it fits. */
static phase on_data_ahead(ustk_stack *s, ustk_tcb *t, seg *g)
{
    t->flags |= TF_ACK_NOW;
    if (t->x->ooo_acks < 255)
        t->x->ooo_acks++;
    if ((t->flags & (TF_ORPHAN | TF_RD_SHUT)) || !ustk__tcb_rcv_alloc(s, t)) {
        ustk__drop(s, USTK_DROP_TCP_OUT_OF_ORDER, t, &g->h, g->len);
        g->fin = false;
        return GO_ON;
    }
    uint32_t off = g->seq - t->rcv_nxt;
    uint32_t n = ustk_ring_write_at(&t->x->rcv, off, g->data, g->len);
    if (n == 0 || !ustk__ooo_add(s, t, g->seq, g->seq + n)) {
        ustk__drop(s, USTK_DROP_TCP_OUT_OF_ORDER, t, &g->h, g->len);
        g->fin = false;
        return GO_ON;
    }
    if (g->fin && n == g->len) {
        t->flags |= TF_FIN_OOO;
        t->x->fin_seq = g->seq + n;
    }
    g->fin = false;
    g->len = 0;
    return GO_ON;
}

/* Take in-order data. */
static phase on_data(ustk_stack *s, ustk_time now, ustk_tcb *t, seg *g)
{
    if (g->len == 0)
        return GO_ON;
    switch (t->state) {
    case USTK_TCP_ESTABLISHED:
    case USTK_TCP_FIN_WAIT_1:
    case USTK_TCP_FIN_WAIT_2:
        break;
    default:
        /* The peer's FIN came already; nothing can follow it. */
        ustk__drop(s, USTK_DROP_TCP_DATA_AFTER_FIN, t, &g->h, g->len);
        g->fin = false;
        return GO_ON;
    }
    if (g->seq != t->rcv_nxt)
        return on_data_ahead(s, t, g);
    if (t->flags & TF_ORPHAN) {
        /* Nobody will ever read this: the application closed. Reset, as
         * RFC 9293 §3.10.4 allows and Linux does. */
        ustk__tcp_send_rst(s, t->laddr, t->lport, t->raddr, t->rport,
                           t->x->snd_max, 0, false);
        ustk__tcb_close(s, t, 0);
        return GONE;
    }
    uint32_t n = 0;
    if (t->flags & TF_RD_SHUT) {
        n = g->len; /* read side shut: acknowledge and discard */
    } else if (g->placed && g->data == g->placed_at && g->len <= g->placed) {
        /* Copied into place as its checksum was checked. */
        ustk_ring_commit(&t->x->rcv, g->len);
        n = g->len;
    } else if (ustk__tcb_rcv_alloc(s, t)) {
        n = ustk_ring_write(&t->x->rcv, g->data, g->len);
    }
    if (n < g->len) {
        ustk__drop(s, n ? USTK_DROP_TCP_RCV_BUF_FULL : USTK_DROP_TCP_NO_MEMORY,
                   t, &g->h, g->len - n);
        g->fin = false;
        t->flags |= TF_ACK_NOW;
    }
    t->rcv_nxt += n;
    /* Duplicate ACKs owed for data ahead of RCV.NXT would now acknowledge
     * the new RCV.NXT over and over, which a sender takes for a loss:
     * the next ACK speaks for them all. */
    if (n)
        t->x->ooo_acks = 0;
    bool hole = !ustk__ooo_empty(t);
    uint32_t joined = hole ? ustk__ooo_advance(t) : 0;
    t->bytes_rcvd += n + joined;
    if (n) {
        ustk__tcb_notify(s, t);
        schedule_ack(s, now, t, n, g->fin && n == g->len);
        /* RFC 5681 §4.2: ACK at once a segment that fills a gap. */
        if (hole)
            t->flags |= TF_ACK_NOW;
    }
    /* The peer's FIN, received ahead of the hole, is next in line. */
    if ((t->flags & TF_FIN_OOO) && t->rcv_nxt == t->x->fin_seq) {
        t->flags &= ~(uint32_t)TF_FIN_OOO;
        g->fin = true;
        g->seq = t->rcv_nxt;
        g->len = 0;
        return GO_ON;
    }
    g->len = n;
    return GO_ON;
}

static void on_fin(ustk_stack *s, ustk_time now, ustk_tcb *t, const seg *g)
{
    if (!g->fin || g->seq + g->len != t->rcv_nxt)
        return;
    if (t->flags & TF_FIN_RCVD)
        return;
    t->rcv_nxt++;
    t->flags |= TF_FIN_RCVD;
    ustk__tcb_notify(s, t);
    switch (t->state) {
    case USTK_TCP_ESTABLISHED:
        ustk__tcb_set_state(s, t, USTK_TCP_CLOSE_WAIT);
        /* The FIN is acknowledged like data, within the delayed-ACK time
         * (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2): an application that
         * sees the end of the stream usually closes at once, and our FIN
         * then carries the ACK, one segment fewer (Linux does the same:
         * it leaves quick-ACK mode on a FIN). The peer's retransmission
         * timeout is longer than the delay, so it does not resend. */
        if (s->cfg.delack) {
            if (t->x->delack_at == USTK_TIME_NEVER)
                t->x->delack_at = now + s->cfg.delack;
            break;
        }
        t->flags |= TF_ACK_NOW;
        break;
    case USTK_TCP_SYN_RECEIVED:
        t->flags |= TF_ACK_NOW;
        ustk__tcb_set_state(s, t, USTK_TCP_CLOSE_WAIT);
        break;
    case USTK_TCP_FIN_WAIT_1:
        /* Our FIN not yet acknowledged: both closed at once. */
        t->flags |= TF_ACK_NOW;
        ustk__tcb_set_state(s, t, USTK_TCP_CLOSING);
        break;
    case USTK_TCP_FIN_WAIT_2:
        /* We have nothing more to send: the ACK goes at once. */
        t->flags |= TF_ACK_NOW;
        ustk__tcp_enter_time_wait(s, t, now);
        break;
    default:
        t->flags |= TF_ACK_NOW;
        break;
    }
}

/* Header prediction (after Van Jacobson's, as BSD and Linux have it):
 * the segment a pure receiver gets nearly every time, in-order data that
 * the checksum check already copied into place, acknowledging nothing
 * new, with the window unchanged. Every check of synced_input() then comes
 * to "accept it", and this does what they would, in a few lines. Anything
 * else (a flag, an option but timestamps, data in flight, a hole, a
 * timer's state, a window we did not offer) takes the long way. Returns
 * false, having changed nothing, when the segment is not the predicted
 * one. */
static bool predicted_data(ustk_stack *s, ustk_time now, ustk_tcb *t, seg *g)
{
    const ustk_tcp_hdr *h = &g->h;
    const uint32_t off = TF_FIN_RCVD | TF_FIN_OOO | TF_ORPHAN | TF_RD_SHUT |
                         TF_FAST_RTX | TF_IN_RECOVERY | TF_PROBE | TF_TLP;
    /* A RACK log with no records is left when data waits unsent as the
     * last ACK comes; ustk__rack_on_ack() still has work for every ACK
     * while a resent tail loss probe is undecided (§7.4) or the D-SACK
     * undo window of an episode is open. */
    const ustk_rack *r = t->x->rack;
    if (!s->cfg.tcp_predict || t->state != USTK_TCP_ESTABLISHED ||
        (h->flags & ~USTK_TCP_PSH) != USTK_TCP_ACK || (t->flags & off) ||
        !(t->flags & TF_SYN_ACKED) || !g->placed || g->data != g->placed_at ||
        g->len > g->placed || g->seq != t->rcv_nxt ||
        ustk_seq_gt(g->seq + g->len, t->rcv_adv) || h->ack != t->snd_una ||
        t->snd_una != t->x->snd_max ||
        ((uint32_t)h->wnd << t->snd_wscale) != t->snd_wnd ||
        t->x->persist_at != USTK_TIME_NEVER ||
        (h->opts.has & ~USTK_OPT_TS) ||
        (r && (r->n || r->reo_at != USTK_TIME_NEVER ||
               r->pto_at != USTK_TIME_NEVER || r->tlp_active ||
               r->undo_valid)))
        return false;
    /* RFC 7323: the timestamp is there and passes PAWS. */
    if (t->flags & TF_TS) {
        uint32_t now_s = (uint32_t)(now / USTK_SEC(1));
        if (!(h->opts.has & USTK_OPT_TS) ||
            ustk_seq_lt(h->opts.ts_val, t->ts_recent) ||
            now_s - t->ts_recent_at_s > 24u * 24 * 3600)
            return false;
        if (ustk_seq_leq(g->seq, t->x->last_ack_sent)) {
            t->ts_recent = h->opts.ts_val;
            t->ts_recent_at_s = now_s;
        }
    }
    /* As in synced_input() and on_ack(): the peer is alive, and the
     * window update rule (RFC 9293 §3.10.7.4) records this segment. */
    t->x->keep_at = USTK_TIME_NEVER;
    t->x->keep_probes = 0;
    if (ustk_seq_lt(t->snd_wl1, h->seq) ||
        (t->snd_wl1 == h->seq && ustk_seq_leq(t->snd_wl2, h->ack))) {
        t->snd_wl1 = h->seq;
        t->snd_wl2 = h->ack;
        t->x->probes_unanswered = 0;
    }
    /* As in on_data(): the payload is already in the ring. */
    ustk_ring_commit(&t->x->rcv, g->len);
    t->rcv_nxt += g->len;
    t->bytes_rcvd += g->len;
    ustk__tcb_notify(s, t);
    schedule_ack(s, now, t, g->len, false);
    s->stats.tcp_predicted++;
    return true;
}

/* Returns false when the connection is gone. */
static bool synced_input(ustk_stack *s, ustk_time now, ustk_tcb *t, seg *g)
{
    const ustk_tcp_hdr *h = &g->h;
    uint32_t seq0 = g->seq;
    bool syn = g->syn; /* before trimming can take it away */

    /* A retransmitted SYN while we are in SYN-RECEIVED means our SYN,ACK
     * was lost: send it again now rather than at the next timeout. */
    if (t->state == USTK_TCP_SYN_RECEIVED && g->syn &&
        !(h->flags & (USTK_TCP_ACK | USTK_TCP_RST)) && h->seq == t->irs) {
        t->x->snd_nxt = t->iss;
        return true;
    }
    /* Simultaneous open (RFC 9293 Figure 8, line 6): the peer's SYN,ACK
     * repeats the SYN we already took; only its ACK is news. */
    if (t->state == USTK_TCP_SYN_RECEIVED && g->syn &&
        (h->flags & USTK_TCP_ACK) && !(h->flags & USTK_TCP_RST) &&
        h->seq == t->irs) {
        g->syn = syn = false;
        g->seq++;
        seq0 = g->seq;
        if (g->len) {
            /* Data on a SYN is not taken (no TCP Fast Open). */
            g->len = 0;
            g->fin = false;
        }
    }
    if (!check_timestamp(s, t, g, now))
        return true;
    if (!check_acceptable(s, now, t, g))
        return true;
    /* An acceptable segment shows the peer is alive: restart the
     * keepalive idle time (re-armed when the connection is rescheduled).
     * Spoofed or stale segments, rejected above, do not count. */
    t->x->keep_at = USTK_TIME_NEVER;
    t->x->keep_probes = 0;
    if (h->flags & USTK_TCP_RST) {
        /* RFC 1337 §3 (fix F1): a RST must not cut TIME-WAIT short, or an
         * old duplicate could meet a new incarnation of the connection. */
        if (t->state == USTK_TCP_TIME_WAIT) {
            ustk__drop(s, USTK_DROP_TCP_RST_TIME_WAIT, t, h, g->len);
            return true;
        }
        return on_rst(s, t, g, seq0) != GONE;
    }
    if (syn) {
        /* RFC 5961 §4.2: a SYN in a synchronized state gets a challenge
         * ACK, whatever its sequence number (even one trimmed as old). */
        t->flags |= TF_ACK_NOW;
        ustk__drop(s, USTK_DROP_TCP_SYN_CHALLENGED, t, h, g->len);
        return true;
    }
    if (!(h->flags & USTK_TCP_ACK)) {
        ustk__drop(s, USTK_DROP_TCP_NO_ACK, t, h, g->len);
        return true;
    }
    /* RFC 7323 §4.3: remember the newest timestamp of in-order segments. */
    if ((t->flags & TF_TS) && (h->opts.has & USTK_OPT_TS) &&
        ustk_seq_leq(g->seq, t->x->last_ack_sent) &&
        ustk_seq_geq(h->opts.ts_val, t->ts_recent)) {
        t->ts_recent = h->opts.ts_val;
        t->ts_recent_at_s = (uint32_t)(now / USTK_SEC(1));
    }
    phase p = on_ack(s, now, t, g);
    if (p != GO_ON)
        return p != GONE;
    p = on_data(s, now, t, g);
    if (p != GO_ON)
        return p != GONE;
    on_fin(s, now, t, g);
    return true;
}

/* RFC 1122 §4.2.2.13: a connection reopened from TIME-WAIT must start
 * above the sequence numbers of the old one, whatever the ISN clock says.
 * The SYN,ACK has not gone out yet, so the ISS can still move. */
static void reopen_iss_floor(ustk_stack *s, ustk_ip4 laddr, ustk_ip4 raddr,
                             const seg *g, uint32_t old_max)
{
    ustk_tcb *c = ustk__tcb_lookup(s, laddr, g->h.dport, raddr, g->h.sport);
    if (!c || c->state != USTK_TCP_SYN_RECEIVED ||
        ustk_seq_gt(c->iss, old_max))
        return;
    c->iss = old_max + 65536u; /* clear of the old incarnation's window */
    c->snd_una = c->x->snd_nxt = c->x->snd_max = c->x->snd_sml = c->iss;
    c->snd_wl2 = c->iss;
}

/* A SYN to a TIME-WAIT connection may start a new incarnation when its
 * sequence number is beyond the old one's (RFC 9293 §3.6.1, RFC 6191). */
static bool time_wait_reopen(ustk_stack *s, ustk_tcb *t, const seg *g)
{
    const ustk_tcp_hdr *h = &g->h;
    if (t->state != USTK_TCP_TIME_WAIT || h->flags != USTK_TCP_SYN ||
        !ustk_seq_gt(h->seq, t->rcv_nxt))
        return false;
    if (!ustk__tcb_listener(s, t->laddr, t->lport))
        return false;
    ustk__tcb_close(s, t, 0);
    return true;
}

/* Payload at RCV.NXT that the connection would take into its receive
 * ring: not a SYN, the read side open, in a state that takes data. */
static bool continues_stream(const ustk_tcb *t, const seg *g)
{
    return g->len && !g->syn && g->seq == t->rcv_nxt &&
           !(t->flags & (TF_RD_SHUT | TF_ORPHAN)) &&
           (t->state == USTK_TCP_ESTABLISHED ||
            t->state == USTK_TCP_FIN_WAIT_1 ||
            t->state == USTK_TCP_FIN_WAIT_2);
}

/* RFC 9293 §3.1: the checksum covers the pseudo-header, the header and the
 * data. A payload that continues the stream of a connection with room for
 * it in its receive ring is summed as it is copied into the ring's free
 * space at RCV.NXT, so its bytes are read once, not twice (once to check,
 * once to copy). It becomes part of the stream only if on_data() accepts
 * it (ustk_ring_commit); a segment that fails the check, or is refused,
 * has written only free space. Not with bytes held out of order, which
 * the free space holds and a corrupt segment must not overwrite. */
static bool checksum_ok(const ustk_stack *s, ustk_tcb *t, uint32_t src,
                        uint32_t dst, const uint8_t *buf, size_t len, seg *g)
{
    /* The link may vouch for the checksum (ustk_input_meta()). */
    if (s->rx_csum_ok)
        return true;
    /* The pseudo-header's TCP Length is 16 bits: a longer "segment"
     * cannot carry a right checksum. */
    if (len > 0xffff)
        return false;
    uint32_t sum =
        ustk_csum_pseudo(0, src, dst, USTK_IP_PROTO_TCP, (uint16_t)len);
    bool in_order = t && t->x && continues_stream(t, g) && t->x->rcv.buf &&
                    g->len <= ustk_ring_space(&t->x->rcv) &&
                    ustk__ooo_empty(t);
    /* The header is a whole number of 32-bit words, summed in line. */
    sum = ustk_csum_words(sum, buf, g->h.hdr_len);
    if (!in_order) {
        if (len > g->h.hdr_len)
            sum = ustk_csum_add(sum, buf + g->h.hdr_len, len - g->h.hdr_len);
        return ustk_csum_finish(sum) == 0;
    }
    uint8_t *p[2];
    uint32_t n[2];
    ustk_ring_free_spans(&t->x->rcv, 0, g->len, p, n);
    uint32_t psum = ustk_csum_copy(0, p[0], g->data, n[0]);
    if (n[1])
        psum = ustk_csum_join(psum,
                              ustk_csum_copy(0, p[1], g->data + n[0], n[1]),
                              n[0] & 1);
    sum = ustk_csum_join(sum, psum, 0);
    if (ustk_csum_finish(sum) != 0)
        return false;
    g->placed_at = g->data;
    g->placed = g->len;
    return true;
}

void ustk__tcp_input(ustk_stack *s, ustk_time now, uint32_t src, uint32_t dst,
                     const uint8_t *buf, size_t len)
{
    seg g;
    /* The header first; the checksum once the connection is known (see
     * checksum_ok), before anything is done with the segment. */
    int r = ustk_tcp_parse(buf, len, src, dst, false, &g.h);
    if (r) {
        ustk__drop(s, r, NULL, NULL, 0);
        return;
    }
    g.data = buf + g.h.hdr_len;
    g.len = g.wire_len = (uint32_t)(len - g.h.hdr_len);
    g.seq = g.h.seq;
    g.syn = (g.h.flags & USTK_TCP_SYN) != 0;
    g.fin = (g.h.flags & USTK_TCP_FIN) != 0;
    g.placed_at = NULL;
    g.placed = 0;
    /* The 4-tuple's hash, computed when the lookup misses, serves the
     * TIME-WAIT table and the new connection a SYN may make. */
    uint32_t hash = 0;
    ustk_tcb *t = ustk__tcb_find(s, dst, g.h.dport, src, g.h.sport, &hash);
    /* An in-order payload is copied into the receive ring as its checksum
     * is checked (checksum_ok). A quiet connection has neither the busy
     * part nor the ring for it: both are taken now, as accepting the
     * payload would take them anyway, and the ring goes back below if
     * the segment leaves it empty. */
    bool fresh_rcv = false;
    if (t && continues_stream(t, &g) && ustk__tcb_busy(s, t) &&
        !t->x->rcv.buf)
        fresh_rcv = ustk__tcb_rcv_alloc(s, t);
    if (!checksum_ok(s, t, src, dst, buf, len, &g)) {
        ustk__drop(s, USTK_DROP_TCP_CHECKSUM, NULL, NULL, 0);
        if (fresh_rcv)
            ustk__tcb_rcv_release(s, t);
        if (t)
            ustk__tcb_settle(s, t);
        return;
    }
    s->stats.tcp_segs_in++;
    if (s->rx_gro)
        s->stats.tcp_gro_frames++;
    if ((g.syn && (g.h.flags & (USTK_TCP_FIN | USTK_TCP_RST))) ||
        g.h.sport == 0 || g.h.dport == 0) {
        ustk__drop(s, USTK_DROP_TCP_FLAGS, NULL, &g.h, g.len);
        return;
    }

    if (!t) {
        /* A compact TIME-WAIT record becomes a block again for the
         * segment, and goes through the path below like any other. */
        ustk_tw *tw =
            ustk__tw_lookup(s, hash, dst, g.h.dport, src, g.h.sport);
        if (tw && !(t = ustk__tw_expand(s, tw, hash, now))) {
            /* No block to be had: the record answers what it can. */
            ustk__tw_no_block(s, tw, hash, &g.h, g.len, now);
            return;
        }
    }
    if (t && !ustk__tcb_busy(s, t)) {
        ustk__drop(s, USTK_DROP_TCP_NO_MEMORY, t, &g.h, g.len);
        return;
    }
    bool reopened = false;
    uint32_t old_max = 0;
    if (t) {
        old_max = t->x->snd_max;
        if (time_wait_reopen(s, t, &g)) {
            /* Found without a hash (it was the last connection). */
            reopened = true;
            t = NULL;
            hash = ustk__conn_hash(s, dst, g.h.dport, src, g.h.sport);
        }
    }
    if (!t) {
        ustk_tcb *l = ustk__tcb_listener(s, dst, g.h.dport);
        if (l) {
            listen_input(s, now, l, src, dst, &g, hash);
            if (reopened)
                reopen_iss_floor(s, dst, src, &g, old_max);
            return;
        }
        if (g.h.flags & USTK_TCP_RST) {
            ustk__drop(s, USTK_DROP_TCP_RST_NO_SOCKET, NULL, &g.h, g.len);
            return;
        }
        ustk__drop(s, USTK_DROP_TCP_NO_SOCKET, NULL, &g.h, g.len);
        reply_rst(s, dst, src, &g);
        return;
    }
    t->segs_in++;
    ustk__trace_seg(s, t, USTK_TRACE_SEG_IN, &g.h, g.len, false);

    bool alive = t->state == USTK_TCP_SYN_SENT
                     ? syn_sent_input(s, now, t, &g)
                     : predicted_data(s, now, t, &g) ||
                           synced_input(s, now, t, &g);
    /* A connection that closed may have been freed with it; one that is
     * now in TIME-WAIT with nobody holding it shrinks to a record. */
    if (alive && fresh_rcv && t->x && t->x->rcv.buf &&
        ustk_ring_len(&t->x->rcv) == 0 && ustk__ooo_empty(t))
        ustk__tcb_rcv_release(s, t); /* nothing was taken in */
    if (alive && !ustk__tw_compact(s, t)) {
        ustk__tcp_reschedule(s, t);
        ustk__tcb_settle(s, t);
    }
}

/* An ICMP or ARP failure for dst. Rare, so a walk of the table is
 * acceptable here; it never runs per segment or per timer tick. */
void ustk__tcp_unreachable(ustk_stack *s, ustk_time now, uint32_t dst, int err)
{
    (void)now;
    for (uint32_t i = 0; i <= s->conn_mask; i++) {
        for (ustk_tcb *t = s->conn_tab[i], *n; t; t = n) {
            n = t->hnext;
            if (t->raddr != dst && ustk__route(s, t->raddr) != dst)
                continue;
            /* Hard only in SYN-SENT (RFC 5927 §4, RFC 1122 §4.2.3.9);
             * established connections keep trying. */
            if (t->state == USTK_TCP_SYN_SENT)
                ustk__tcb_close(s, t, err);
        }
    }
}

/* RFC 1191 §6.4 and RFC 9293 §3.7.3: a hop on the path takes less than we
 * sent. The connection's segments shrink to the path MTU; what is in
 * flight was larger (or had DF, which the path now needs clear) and is
 * lost, so the sender leaves any recovery and goes back to SND.UNA at
 * once, with the retransmission timer started afresh. §6.4 asks not to
 * change the congestion window for it: it stays, in bytes, and what goes
 * out again is what was in flight a moment ago, in smaller packets
 * (Linux counts its window in segments, so there its bytes shrink). */
static void pmtu_shrink(ustk_stack *s, ustk_tcb *t, ustk_time now,
                        uint32_t mtu, bool no_df)
{
    uint32_t mss = mtu - 40u;
    if (no_df)
        t->flags |= TF_NO_DF;
    if (mss < t->mss)
        t->mss = (uint16_t)mss;
    s->stats.tcp_pmtu_shrunk++;
    if (!t->x)
        return; /* quiet: nothing in flight, nothing to decide */
    if ((t->flags & TF_SYN_ACKED) && t->x->snd_nxt != t->snd_una) {
        t->x->snd_nxt = t->snd_una;
        /* Karn: no RTT sample from what is sent again. */
        t->flags &= ~(uint32_t)TF_RTT_TIMING;
        /* A SACK recovery's cwnd is PRR's, relative to a pipe the
         * go-back empties: end it as a recovery ends, at ssthresh. */
        if (t->flags & TF_SACK_RECOVERY)
            t->cwnd = t->ssthresh;
        ustk__cc_end_recovery(t, false);
        if (t->x->rtx_at != USTK_TIME_NEVER)
            ustk__tcp_rearm_rtx(s, t, now);
    }
    ustk__tcp_reschedule(s, t);
    ustk__tcb_settle(s, t);
}

/* RFC 5927 §4.1 and RFC 1122 §4.2.3.9: an ICMP error is believed only when
 * the sequence number it quotes is one we have sent and not yet seen
 * acknowledged (SND.UNA <= seq < SND.MAX). Hard errors abort a connection
 * that is still opening (§4.2 of RFC 5927 keeps them soft once
 * established); "fragmentation needed" is path MTU news (RFC 1191);
 * everything else is recorded and reported if the connection later times
 * out. */
void ustk__tcp_icmp_error(ustk_stack *s, ustk_time now,
                          const ustk_icmp_quote *q, int err, bool hard,
                          bool frag_needed, uint16_t next_mtu)
{
    ustk_tcb *t = ustk__tcb_lookup(s, q->src, q->sport, q->dst, q->dport);
    if (!t || t->state == USTK_TCP_LISTEN ||
        t->state == USTK_TCP_TIME_WAIT) {
        ustk__drop(s, USTK_DROP_ICMP_NO_MATCH, NULL, NULL, 0);
        return;
    }
    uint32_t seq = q->tcp_seq;
    uint32_t snd_max = ustk__tcb_snd_max(t);
    bool in_flight = t->snd_una == snd_max
                         ? seq == t->snd_una
                         : ustk_seq_geq(seq, t->snd_una) &&
                               ustk_seq_lt(seq, snd_max);
    if (!in_flight) {
        ustk__drop(s, USTK_DROP_ICMP_BAD_SEQ, t, NULL, 0);
        return;
    }
    if (frag_needed) {
        /* Only a datagram sent with DF can have needed fragmenting. What
         * the path takes may be news to the connection even when the
         * error brings the cache nothing new (it learnt it from another
         * connection after this one started). */
        bool no_df = false;
        uint32_t mtu = (q->frag & USTK_IPV4_DF)
                           ? ustk__pmtu_learn(s, now, t->raddr, next_mtu,
                                              q->total_len, &no_df)
                           : 0;
        bool news = mtu && (mtu - 40u < t->mss ||
                            (no_df && !(t->flags & TF_NO_DF)));
        if (!news) {
            ustk__drop(s, USTK_DROP_ICMP_PMTU, t, NULL, 0);
            return;
        }
        pmtu_shrink(s, t, now, mtu, no_df);
        return;
    }
    if (hard && (t->state == USTK_TCP_SYN_SENT ||
                 t->state == USTK_TCP_SYN_RECEIVED)) {
        ustk__tcb_close(s, t, err);
        return;
    }
    t->soft_err = (int16_t)err;
}
