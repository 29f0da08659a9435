/* CUBIC congestion control (RFC 9438). The window after a loss grows as a
 * cubic function of the time since the loss, W(t) = C (t - K)^3 + W_max,
 * flat near the old maximum and fast away from it, and never slower than
 * what Reno would reach (the Reno-friendly estimate of §4.3). Windows are
 * kept in bytes, times in microseconds; the cubic itself is computed in
 * segments and seconds, as the RFC states it. */
#include "tcp_priv.h"

#define CUBIC_C 0.4    /* §5.1 */
#define CUBIC_BETA 0.7 /* §4.6 */

/* Cube root of x >= 0 by Newton's method: no libm needed. */
static double cbrt_pos(double x)
{
    if (x <= 0)
        return 0;
    double r = x < 1 ? 1 : x / 3;
    for (int i = 0; i < 100; i++) {
        double next = r - (r * r * r - x) / (3 * r * r);
        double d = next > r ? next - r : r - next;
        r = next;
        if (d < 1e-9 * r)
            break;
    }
    return r;
}

static void cubic_init(ustk_tcb *t, uint32_t iw)
{
    t->cwnd = iw;
    t->ssthresh = UINT32_MAX;
    t->x->cc.ca_acked = 0;
    t->x->cc.w_max = t->x->cc.w_last_max = 0;
    t->x->cc.epoch = 0;
}

/* W_cubic(t) in bytes, t in microseconds since the epoch. */
static double w_cubic(const ustk_tcb *t, ustk_time since)
{
    double secs = (double)since / 1e6 - (double)t->x->cc.k_us / 1e6;
    double segs = CUBIC_C * secs * secs * secs;
    return segs * ustk__tcp_smss(t) + t->x->cc.w_max;
}

static void cubic_on_ack(ustk_tcb *t, uint32_t acked, ustk_time now)
{
    if (t->cwnd < t->ssthresh) {
        ustk__cc_reno_grow(t, acked); /* slow start, §4.10 */
        return;
    }
    if (t->x->cc.epoch == 0) {
        /* §4.2: a new congestion-avoidance epoch. */
        t->x->cc.epoch = now ? now : 1;
        if (t->cwnd < t->x->cc.w_max) {
            double segs = (double)(t->x->cc.w_max - t->cwnd) / ustk__tcp_smss(t);
            t->x->cc.k_us = (uint32_t)(cbrt_pos(segs / CUBIC_C) * 1e6);
        } else {
            t->x->cc.k_us = 0;
            t->x->cc.w_max = t->cwnd;
        }
        t->x->cc.w_est = t->cwnd;
        t->x->cc.ca_acked = 0;
    }
    ustk_time since = now - t->x->cc.epoch;
    /* §4.3: the Reno-friendly window grows by alpha = 3 (1 - beta) /
     * (1 + beta) segments per window, and by one once it has reached the
     * old maximum. */
    double alpha = 3.0 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
    if (t->x->cc.w_est >= t->x->cc.w_max)
        alpha = 1.0;
    t->x->cc.ca_acked += acked;
    uint32_t step = (uint32_t)(alpha * ustk__tcp_smss(t));
    while (t->x->cc.ca_acked >= t->cwnd && step) {
        t->x->cc.ca_acked -= t->cwnd;
        t->x->cc.w_est += step;
    }
    double now_w = w_cubic(t, since);
    if (now_w < t->x->cc.w_est) {
        if (t->x->cc.w_est > t->cwnd && t->x->cc.w_est < USTK_CWND_MAX)
            t->cwnd = t->x->cc.w_est;
        return;
    }
    /* §4.4: aim at W_cubic one RTT ahead, at most 1.5 cwnd. */
    double target = w_cubic(t, since + (t->srtt ? t->srtt : 100000));
    if (target < t->cwnd)
        target = t->cwnd;
    if (target > 1.5 * t->cwnd)
        target = 1.5 * t->cwnd;
    double inc = (target - t->cwnd) * acked / t->cwnd;
    if (t->cwnd + inc < USTK_CWND_MAX)
        t->cwnd += (uint32_t)inc;
}

/* §4.6 and §4.7 (fast convergence): W_max from cwnd, the new ssthresh
 * from the flight size ("ssthresh = flight_size * beta_cubic"), which after
 * a timeout still counts what was outstanding before it. */
static uint32_t cubic_ssthresh(ustk_tcb *t, uint32_t flight, ustk_time now)
{
    (void)now;
    uint32_t cwnd = t->cwnd;
    if (cwnd < t->x->cc.w_last_max) {
        t->x->cc.w_last_max = cwnd;
        t->x->cc.w_max = (uint32_t)(cwnd * (1 + CUBIC_BETA) / 2);
    } else {
        t->x->cc.w_last_max = cwnd;
        t->x->cc.w_max = cwnd;
    }
    t->x->cc.epoch = 0;
    uint32_t ss = (uint32_t)(flight * CUBIC_BETA);
    return ss > 2u * ustk__tcp_smss(t) ? ss : 2u * ustk__tcp_smss(t);
}

/* §4.8: a timeout reduces like a loss, then restarts from one segment. */
static void cubic_on_timeout(ustk_tcb *t, ustk_time now)
{
    t->ssthresh = cubic_ssthresh(t, ustk__cc_flight(t), now);
    t->cwnd = ustk__tcp_smss(t);
    t->x->cc.ca_acked = 0;
}

const ustk_cc_ops ustk__cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .on_ack = cubic_on_ack,
    .ssthresh_on_loss = cubic_ssthresh,
    .on_timeout = cubic_on_timeout,
};
