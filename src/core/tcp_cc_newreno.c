/* NewReno congestion control: slow start and congestion avoidance as in
 * RFC 5681 §3.1, halving on loss. Fast recovery itself (RFC 6582) lives in
 * the state machine, since CUBIC uses it too. */
#include "tcp_priv.h"

static void newreno_init(ustk_tcb *t, uint32_t iw)
{
    t->cwnd = iw;
    t->ssthresh = UINT32_MAX; /* RFC 5681 §3.1: "arbitrarily high" */
    t->x->cc.ca_acked = 0;
}

/* Slow start grows by the bytes acknowledged, at most one SMSS per ACK
 * (RFC 5681 eq. 2, with RFC 3465 byte counting, L = 1); congestion
 * avoidance by one SMSS per window's worth of acknowledged bytes (eq. 3's
 * byte-counting form). */
void ustk__cc_reno_grow(ustk_tcb *t, uint32_t acked)
{
    uint32_t smss = ustk__tcp_smss(t);
    /* Growing past what the peer's window ever allowed (twice over) means
     * nothing but an overflow later (RFC 7661's concern). */
    if (t->cwnd >= USTK_CWND_MAX || (t->max_snd_wnd &&
                                     t->cwnd > 2 * t->max_snd_wnd))
        return;
    if (t->cwnd < t->ssthresh) {
        t->cwnd += acked < smss ? acked : smss;
        return;
    }
    t->x->cc.ca_acked += acked;
    if (t->x->cc.ca_acked >= t->cwnd) {
        t->x->cc.ca_acked -= t->cwnd;
        t->cwnd += smss;
    }
}

static void newreno_on_ack(ustk_tcb *t, uint32_t acked, ustk_time now)
{
    (void)now;
    ustk__cc_reno_grow(t, acked);
}

/* RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS). */
static uint32_t newreno_ssthresh(ustk_tcb *t, uint32_t flight,
                                 ustk_time now)
{
    (void)now;
    uint32_t half = flight / 2;
    return half > 2u * ustk__tcp_smss(t) ? half : 2u * ustk__tcp_smss(t);
}

static void newreno_on_timeout(ustk_tcb *t, ustk_time now)
{
    t->ssthresh = newreno_ssthresh(t, ustk__cc_flight(t), now);
    t->cwnd = ustk__tcp_smss(t); /* RFC 5681 §3.1: the loss window is one SMSS */
    t->x->cc.ca_acked = 0;
}

const ustk_cc_ops ustk__cc_newreno = {
    .name = "newreno",
    .init = newreno_init,
    .on_ack = newreno_on_ack,
    .ssthresh_on_loss = newreno_ssthresh,
    .on_timeout = newreno_on_timeout,
};
