/* TCP timers: retransmission (RFC 6298), delayed ACK, zero-window probe,
 * FIN-WAIT-2 and TIME-WAIT. Each connection keeps its deadlines; the
 * stack's heap holds the earliest of them, so expiry costs O(log n) and no
 * timer ever scans the connections. */
#include <stddef.h>

#include "tcp_priv.h"

static ustk_tcb *tcb_of(ustk_heap_node *n)
{
    return ((ustk_tcbx *)(void *)((char *)n - offsetof(ustk_tcbx, timer)))
        ->tcb;
}

static uint32_t clamp_rto(const ustk_stack *s, uint64_t rto)
{
    if (rto < s->cfg.rto_min)
        rto = s->cfg.rto_min;
    if (rto > s->cfg.rto_max)
        rto = s->cfg.rto_max;
    return rto > UINT32_MAX ? UINT32_MAX : (uint32_t)rto;
}

/* RFC 6298 §2.3: RTO = SRTT + max(G, K*RTTVAR). The configured minimum
 * bounds the variance term, not the sum, as Linux does: RFC 6298's
 * 1-second floor exists to absorb delay variation the estimator has not
 * seen, and a floor on the sum would let the RTO sink to SRTT itself on
 * a path whose RTT nears the minimum (a 200 ms RTO on a steady 150 ms
 * path fires at the first queueing spike). */
static uint32_t rto_of(const ustk_stack *s, const ustk_tcb *t, uint32_t g)
{
    uint64_t var = (uint64_t)t->rttvar * 4;
    if (var < g)
        var = g;
    if (var < s->cfg.rto_min)
        var = s->cfg.rto_min;
    return clamp_rto(s, (uint64_t)t->srtt + var);
}

/* RFC 6298 §2.2 and §2.3, with alpha = 1/8, beta = 1/4, K = 4 and a clock
 * granularity G of 1 ms. */
void ustk__tcp_rtt_sample(ustk_stack *s, ustk_tcb *t, ustk_time rtt)
{
    const uint32_t g = 1000;
    uint32_t r = rtt > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)rtt;
    if (r == 0)
        r = 1;
    if (t->srtt == 0) {
        t->srtt = r;
        t->rttvar = r / 2;
    } else {
        uint32_t diff = t->srtt > r ? t->srtt - r : r - t->srtt;
        t->rttvar = (uint32_t)(((uint64_t)t->rttvar * 3 + diff) / 4);
        t->srtt = (uint32_t)(((uint64_t)t->srtt * 7 + r) / 8);
    }
    t->x->rto = rto_of(s, t, g);
}

uint32_t ustk__tcp_rto_base(const ustk_stack *s, const ustk_tcb *t)
{
    return t->srtt ? rto_of(s, t, 1000) : (uint32_t)s->cfg.rto_initial;
}

void ustk__tcp_rto_restore(ustk_stack *s, ustk_tcb *t)
{
    if (t->srtt)
        t->x->rto = rto_of(s, t, 1000);
}

void ustk__tcp_rearm_rtx(ustk_stack *s, ustk_tcb *t, ustk_time now)
{
    (void)s;
    t->x->rtx_at = now + t->x->rto;
    /* RFC 5482 / RFC 9293 §3.8.3: with a user timeout the connection
     * must not outlive it, so wake no later than when it runs out. */
    if (t->x->user_timeout_ms && t->x->una_since) {
        ustk_time end = t->x->una_since + (ustk_time)t->x->user_timeout_ms * 1000;
        if (end < t->x->rtx_at)
            t->x->rtx_at = end > now ? end : now;
    }
}

void ustk__tcp_enter_time_wait(ustk_stack *s, ustk_tcb *t, ustk_time now)
{
    ustk__tcb_set_state(s, t, USTK_TCP_TIME_WAIT);
    /* Nothing is sent or retransmitted any more: stop the other timers and
     * give the buffers back. A TIME-WAIT connection holds no data. */
    t->x->rtx_at = t->x->delack_at = t->x->persist_at = t->x->keep_at = USTK_TIME_NEVER;
    t->flags &= ~(uint32_t)TF_RTT_TIMING;
    t->x->tw_at = now + 2 * s->cfg.msl;
    if (t->flags & TF_ORPHAN)
        ustk__tcb_free_buffers(s, t);
}

/* The retransmission timer expired (RFC 6298 §5.4-5.6). Returns false when
 * the connection is gone. */
static bool on_rto(ustk_stack *s, ustk_tcb *t, ustk_time now)
{
    ustk__trace_timer(s, t, USTK_TIMER_RTX);
    uint32_t limit = s->cfg.data_retries;
    if (t->state == USTK_TCP_SYN_SENT)
        limit = s->cfg.syn_retries;
    else if (t->state == USTK_TCP_SYN_RECEIVED)
        limit = s->cfg.synack_retries;
    bool user_timeout = t->x->user_timeout_ms && t->x->una_since &&
                        now - t->x->una_since >=
                            (ustk_time)t->x->user_timeout_ms * 1000;
    if (t->x->backoff >= limit || user_timeout) {
        /* A passive half-open connection just goes away; the others tell
         * their user. */
        bool quiet = t->state == USTK_TCP_SYN_RECEIVED &&
                     (t->flags & TF_PASSIVE);
        /* A soft ICMP error seen meanwhile says more than "timed out"
         * (RFC 1122 §4.2.3.9: report it to the application). */
        int err = t->soft_err ? t->soft_err : USTK_ETIMEDOUT;
        ustk__tcb_close(s, t, quiet ? 0 : err);
        return false;
    }
    t->x->backoff++;
    ustk__cc_on_timeout(s, t, now);
    /* §5.5: back off the timer. */
    t->x->rto = clamp_rto(s, (uint64_t)t->x->rto * 2);
    /* §5.4: retransmit the earliest unacknowledged segment; we go back to
     * SND.UNA and resend from there as the window allows. */
    t->x->snd_nxt = t->snd_una;
    /* Karn: no RTT sample from a segment that was retransmitted. */
    t->flags &= ~(uint32_t)TF_RTT_TIMING;
    t->x->rtx_at = USTK_TIME_NEVER;
    if (t->state == USTK_TCP_SYN_SENT || t->state == USTK_TCP_SYN_RECEIVED)
        t->flags |= TF_SYN_RTO;
    /* With the peer's window closed the persist timer takes over. */
    if (ustk_seq_gt(ustk__tcp_peer_edge(t), t->snd_una) ||
        !(t->flags & TF_SYN_ACKED))
        ustk__tcp_rearm_rtx(s, t, now);
    return true;
}

static bool on_timers(ustk_stack *s, ustk_tcb *t, ustk_time now)
{
    if (t->x->tw_at <= now) {
        t->x->tw_at = USTK_TIME_NEVER;
        if (t->state == USTK_TCP_TIME_WAIT) {
            ustk__trace_timer(s, t, USTK_TIMER_TIME_WAIT);
            ustk__tcb_close(s, t, 0);
            return false;
        }
        if (t->state == USTK_TCP_FIN_WAIT_2) {
            /* An orphaned FIN-WAIT-2 would wait forever for a FIN from a
             * peer that may be gone (RFC 9293 §3.6, note on FIN-WAIT-2). */
            ustk__trace_timer(s, t, USTK_TIMER_FIN_WAIT2);
            ustk__tcb_close(s, t, 0);
            return false;
        }
    }
    if (t->x->rack && t->x->rack->pto_at <= now) {
        /* RFC 8985 §7.3: no ACK for two round trips: probe the tail. A
         * probe due with the RTO goes in its place; the RTO is armed
         * again once the probe is out. */
        t->x->rack->pto_at = USTK_TIME_NEVER;
        if (!t->x->rack->tlp_active && t->snd_una != t->x->snd_max &&
            t->x->snd_nxt == t->x->snd_max && !(t->flags & TF_IN_RECOVERY)) {
            ustk__trace_timer(s, t, USTK_TIMER_TLP);
            t->flags |= TF_TLP;
            if (t->x->rtx_at <= now)
                t->x->rtx_at = now + t->x->rto;
        }
    }
    if (t->x->rtx_at <= now && !on_rto(s, t, now))
        return false;
    if (t->x->rack && t->x->rack->reo_at <= now) {
        /* RFC 8985 §6.3: the reordering window of a segment ran out. */
        ustk__trace_timer(s, t, USTK_TIMER_RACK);
        if (ustk__rack_on_reo_timer(s, t, now) && t->cwnd &&
            !(t->flags & TF_IN_RECOVERY)) {
            ustk__cc_enter_recovery(s, t, now);
            /* No ACK delivered anything: PRR allows the retransmission
             * alone, not a burst up to ssthresh (Linux does the same). */
            if (t->flags & TF_SACK_RECOVERY)
                ustk__cc_prr_on_ack(s, t, 0, false);
        }
    }

    if (t->x->persist_at <= now) {
        t->x->persist_at = USTK_TIME_NEVER;
        ustk__trace_timer(s, t, USTK_TIMER_PERSIST);
        /* RFC 1122 §4.2.2.17: stay open while probes are answered; give up
         * like a retransmission when they are not. */
        if (t->x->probes_unanswered > s->cfg.data_retries) {
            ustk__tcb_close(s, t, USTK_ETIMEDOUT);
            return false;
        }
        t->flags |= TF_PROBE;
    }
    if (t->x->keep_at <= now) {
        t->x->keep_at = USTK_TIME_NEVER;
        /* RFC 1122 §4.2.3.6: probe an idle connection; give up after
         * keep_cnt unanswered probes. A connection with data in flight
         * or queued is not idle: the retransmission or persist timer
         * watches over it (Linux's tcp_keepalive_timer() skips it too),
         * and the time counts again from now. */
        if (t->snd_una == t->x->snd_max && ustk_ring_len(&t->x->snd) == 0) {
            if (t->x->keep_probes >= t->x->keep_cnt) {
                ustk__trace_timer(s, t, USTK_TIMER_KEEPALIVE);
                ustk__tcb_close(s, t, USTK_ETIMEDOUT);
                return false;
            }
            ustk__trace_timer(s, t, USTK_TIMER_KEEPALIVE);
            t->x->keep_probes++;
            t->flags |= TF_KEEP_PROBE;
            t->x->keep_at = now + (ustk_time)t->x->keep_intvl_s * 1000000u;
        }
    }
    if (t->x->delack_at <= now) {
        t->x->delack_at = USTK_TIME_NEVER;
        ustk__trace_timer(s, t, USTK_TIMER_DELACK);
        t->flags |= TF_ACK_NOW;
    }
    return true;
}

void ustk__tcp_timers(ustk_stack *s, ustk_time now)
{
    for (;;) {
        ustk_heap_node *n = ustk_heap_top(&s->timers);
        if (!n || n->key > now)
            return;
        if (s->tw && n == &s->tw->timer) {
            ustk__tw_timer(s, now);
            continue;
        }
        ustk_tcb *t = tcb_of(n);
        ustk_heap_remove(&s->timers, n);
        if (on_timers(s, t, now)) {
            ustk__tcp_reschedule(s, t);
            ustk__tcb_settle(s, t);
        }
    }
}
