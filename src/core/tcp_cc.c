/* The table of congestion-control algorithms and the events every one of
 * them shares: fast retransmit and NewReno fast recovery (RFC 5681 §3.2,
 * RFC 6582), limited transmit (RFC 3042), restart after idle (RFC 5681
 * §4.1), and the trace of cwnd and ssthresh. */
#include "tcp_priv.h"

const ustk_cc_ops *ustk__cc_ops(int kind)
{
    return kind == USTK_CC_CUBIC ? &ustk__cc_cubic : &ustk__cc_newreno;
}

void ustk__cc_trace(ustk_stack *s, const ustk_tcb *t)
{
    if (!s->cfg.trace)
        return;
    ustk_trace_event ev;
    ustk__trace_fill(s, t, &ev, USTK_TRACE_CWND);
    ev.cwnd = t->cwnd;
    ev.ssthresh = t->ssthresh;
    s->cfg.trace(s->cfg.trace_ctx, &ev);
}

void ustk__cc_established(ustk_stack *s, ustk_tcb *t)
{
    /* RFC 6928: an initial window of up to ten segments. When the SYN had
     * to be retransmitted the initial window is one segment (RFC 5681
     * §3.1). */
    uint32_t iw = s->cfg.init_cwnd * ustk__tcp_smss(t);
    if (t->flags & TF_SYN_RTO)
        iw = ustk__tcp_smss(t);
    ustk__cc_ops(t->cc_kind)->init(t, iw);
    t->x->recover = t->snd_una;
    ustk__cc_trace(s, t);
}

uint32_t ustk__cc_flight(const ustk_tcb *t)
{
    /* cwnd plus the two segments limited transmit may add (RFC 3042). */
    uint32_t out = t->x->snd_max - t->snd_una;
    uint32_t cap = t->cwnd + 2u * ustk__tcp_smss(t);
    return t->cwnd && out > cap ? cap : out;
}

void ustk__cc_on_new_ack(ustk_stack *s, ustk_tcb *t, uint32_t acked,
                         ustk_time now)
{
    uint32_t before = t->cwnd, ss = t->ssthresh;
    if (t->flags & TF_SACK_RECOVERY) {
        /* RFC 6675 §5: recovery ends when RecoveryPoint is acknowledged;
         * partial ACKs need nothing, the scoreboard picks the next hole. */
        if (ustk_seq_geq(t->snd_una, t->x->recover)) {
            t->flags &= ~(uint32_t)(TF_IN_RECOVERY | TF_SACK_RECOVERY);
            /* RFC 9937: the window the reduction was steering towards. */
            t->cwnd = t->ssthresh;
        }
    } else if (t->flags & TF_IN_RECOVERY) {
        if (ustk_seq_geq(t->snd_una, t->x->recover)) {
            /* RFC 6582 §3.2 step 3, full ACK: deflate to
             * min(ssthresh, max(FlightSize, SMSS) + SMSS), option (1),
             * which cannot burst, and leave recovery. */
            uint32_t flight = t->x->snd_max - t->snd_una;
            uint32_t w = (flight > ustk__tcp_smss(t) ? flight : ustk__tcp_smss(t)) + ustk__tcp_smss(t);
            t->cwnd = w < t->ssthresh ? w : t->ssthresh;
            t->flags &= ~(uint32_t)TF_IN_RECOVERY;
        } else {
            /* Step 3, partial ACK: retransmit the next hole at once,
             * deflate by what was acknowledged, add back one SMSS. */
            t->flags |= TF_FAST_RTX;
            t->cwnd = t->cwnd > acked ? t->cwnd - acked : 0;
            if (acked >= ustk__tcp_smss(t))
                t->cwnd += ustk__tcp_smss(t);
            if (t->cwnd < ustk__tcp_smss(t))
                t->cwnd = ustk__tcp_smss(t);
        }
    } else {
        ustk__cc_ops(t->cc_kind)->on_ack(t, acked, now);
    }
    if (t->cwnd != before || t->ssthresh != ss)
        ustk__cc_trace(s, t);
}

void ustk__cc_on_dupack(ustk_stack *s, ustk_tcb *t, ustk_time now)
{
    if (t->flags & TF_SACK_RECOVERY)
        return; /* the pipe, not inflation, lets segments out */
    /* With RACK the SACK blocks, not the count of duplicates, tell what
     * is lost (RFC 8985 §6); duplicates only count when the peer's ACKs
     * carry no SACK information. */
    if ((t->flags & TF_RACK) && !ustk__sb_empty(t) &&
        !(t->flags & TF_IN_RECOVERY))
        return;
    if (t->flags & TF_IN_RECOVERY) {
        /* RFC 6582 §3.2 step 4: each further duplicate ACK means a
         * segment left the network: inflate by one SMSS. */
        if (t->cwnd < USTK_CWND_MAX)
            t->cwnd += ustk__tcp_smss(t);
        ustk__cc_trace(s, t);
        return;
    }
    if (t->x->dupacks < 3)
        return; /* limited transmit covers the first two (RFC 3042) */
    ustk__cc_enter_recovery(s, t, now);
}

void ustk__cc_enter_recovery(ustk_stack *s, ustk_tcb *t, ustk_time now)
{
    /* RFC 6582 §3.2 step 1 (RFC 6675 §5 likewise): a new recovery only
     * once everything sent before the last one is acknowledged. */
    if (ustk_seq_lt(t->snd_una, t->x->recover))
        return;
    ustk__rack_undo_start(t, false);
    t->ssthresh =
        ustk__cc_ops(t->cc_kind)->ssthresh_on_loss(t, ustk__cc_flight(t), now);
    /* RFC 8985 §7: no tail loss probe during a recovery. */
    if (t->x->rack)
        t->x->rack->pto_at = USTK_TIME_NEVER;
    t->flags &= ~(uint32_t)TF_TLP;
    t->x->recover = t->x->snd_max;
    if ((t->flags & TF_SACK) && !ustk__sb_empty(t)) {
        /* RFC 6675 §5 steps 4.1-4.3: cwnd = ssthresh, retransmit the
         * first segment presumed dropped at once; after it the scoreboard
         * chooses what goes out as the pipe allows. */
        t->cwnd = t->ssthresh;
        t->x->sb->high_rxt = t->snd_una;
        t->flags |= TF_IN_RECOVERY | TF_SACK_RECOVERY | TF_FAST_RTX;
        /* RFC 9937: RecoverFS is what is outstanding less what the peer
         * already holds SACKed: data it will be told of, the lost bytes
         * included (their retransmissions are delivered and counted).
         * When an ACK starts the recovery, what it delivered is added
         * back by the input path (tcp_input.c, on_ack). */
        t->x->prr_delivered = t->x->prr_out = 0;
        t->x->prr_recover_fs =
            t->x->snd_max - t->snd_una - ustk__sb_sacked_bytes(t);
    } else {
        t->cwnd = t->ssthresh + 3u * ustk__tcp_smss(t);
        t->flags |= TF_IN_RECOVERY | TF_FAST_RTX;
    }
    ustk__cc_trace(s, t);
}

/* Proportional Rate Reduction (RFC 9937), on every ACK of a SACK
 * recovery, the one that began it included. Setting cwnd to ssthresh at
 * once, as RFC 6675 alone has it, sends nothing until half a window of
 * ACKs has come back and then one segment per ACK; PRR instead sends in
 * proportion to what the peer gets, ssthresh / RecoverFS of it, so the
 * flight shrinks smoothly to ssthresh, and once it is there (a loss of
 * many segments) grows back to it no faster than slow start: what was
 * delivered and not yet matched, and one segment more while the ACKs
 * show progress (SND.UNA advancing, no new loss). cwnd = pipe + the
 * bytes allowed, so plan_data()'s cwnd - pipe is that allowance. */
void ustk__cc_prr_on_ack(ustk_stack *s, ustk_tcb *t, uint32_t delivered,
                         bool safe)
{
    ustk_tcbx *x = t->x;
    uint32_t mss = ustk__tcp_smss(t);
    uint32_t pipe = (t->flags & TF_RACK) ? ustk__rack_pipe(t) : ustk__sb_pipe(t);
    uint32_t before = t->cwnd;
    int64_t sndcnt;

    /* An ACK that delivered nothing changes nothing (RFC 9937 §6.2),
     * except at the start, where the retransmission must be let out. */
    if (!delivered && x->prr_out)
        return;
    x->prr_delivered += delivered;
    if (pipe > t->ssthresh) {
        uint64_t fs = x->prr_recover_fs ? x->prr_recover_fs : 1;
        uint64_t target = ((uint64_t)x->prr_delivered * t->ssthresh + fs - 1) / fs;
        sndcnt = (int64_t)target - x->prr_out;
    } else {
        sndcnt = (int64_t)x->prr_delivered - x->prr_out;
        if (sndcnt < (int64_t)delivered)
            sndcnt = delivered;
        if (safe)
            sndcnt += mss;
        if (sndcnt > (int64_t)(t->ssthresh - pipe))
            sndcnt = t->ssthresh - pipe;
    }
    if (sndcnt < 0)
        sndcnt = 0;
    /* The first retransmission goes whatever the count (it is also
     * sent by TF_FAST_RTX, past the window). */
    if (x->prr_out == 0 && sndcnt == 0)
        sndcnt = mss;
    t->cwnd = pipe + (uint32_t)sndcnt;
    if (t->cwnd < mss)
        t->cwnd = mss;
    if (t->cwnd != before)
        ustk__cc_trace(s, t);
}

void ustk__cc_on_timeout(ustk_stack *s, ustk_tcb *t, ustk_time now)
{
    if (t->cwnd == 0)
        return; /* not established yet */
    /* A timeout inside a recovery or after another timeout continues the
     * episode: the window was already cut for this loss, so ssthresh
     * stays (RFC 5681 §3.1 holds it for a repeated timeout of the same
     * segment; recomputing it from a FlightSize swollen by SACKed data
     * would raise it), and undo would restore the window from before the
     * episode began. */
    bool continued = (t->flags & TF_IN_RECOVERY) || t->x->backoff > 1;
    ustk__rack_undo_start(t, continued);
    if (continued) {
        t->cwnd = ustk__tcp_smss(t);
        t->x->cc.ca_acked = 0;
    } else {
        ustk__cc_ops(t->cc_kind)->on_timeout(t, now);
    }
    /* RFC 2018 §8: after a second timeout in a row the peer may have
     * dropped what it SACKed; forget the scoreboard and resend it all. */
    ustk__cc_end_recovery(t, t->x->backoff >= 2);
    ustk__cc_trace(s, t);
}

void ustk__cc_end_recovery(ustk_tcb *t, bool forget_sacks)
{
    /* RFC 6582 §3.2 step 1 (after a timeout): duplicate ACKs for data
     * sent before it must not start a recovery. */
    t->x->recover = t->x->snd_max;
    t->flags &= ~(uint32_t)(TF_IN_RECOVERY | TF_SACK_RECOVERY);
    t->x->dupacks = 0;
    if (t->x->sb && forget_sacks)
        t->x->sb->n = 0;
    ustk__rack_on_rto(t, forget_sacks);
}

void ustk__cc_idle_check(ustk_stack *s, ustk_tcb *t, ustk_time now)
{
    /* RFC 5681 §4.1: after an idle period longer than the RTO, start
     * again from the restart window. */
    if (t->cwnd == 0 || t->snd_una != t->x->snd_max || t->last_send_ms == 0 ||
        (uint32_t)(now / 1000u) - t->last_send_ms <= t->x->rto / 1000u)
        return;
    uint32_t rw = s->cfg.init_cwnd * ustk__tcp_smss(t);
    if (t->cwnd > rw) {
        t->cwnd = rw;
        t->x->cc.epoch = 0;
        ustk__cc_trace(s, t);
    }
}

int ustk__tcp_set_cc(ustk_stack *s, ustk_tcb *t, int kind)
{
    if (t->cc_kind == kind)
        return 0;
    t->cc_kind = (uint8_t)kind;
    if (t->cwnd) {
        /* Hand the current window to the new algorithm as its start. */
        uint32_t cwnd = t->cwnd, ss = t->ssthresh;
        ustk__cc_ops(kind)->init(t, cwnd);
        t->ssthresh = ss;
        ustk__cc_trace(s, t);
    }
    return 0;
}
