/* TCP output. One function, tcp_decide(), says what a connection wants to
 * send now and, when nothing, when it next needs attention. The output path
 * and the timer schedule both ask it, so they can never disagree. */
#include <string.h>

#include "tcp_priv.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

typedef struct tcp_plan {
    bool send;       /* a segment is due now */
    bool fast;       /* a fast retransmission (duplicate ACKs) */
    bool keepalive;  /* a keepalive probe */
    bool sack_rtx;   /* a retransmission chosen by the scoreboard */
    bool probe;      /* a zero-window probe */
    bool tlp;        /* a tail loss probe (RFC 8985 §7.3) */
    uint8_t flags;
    uint32_t seq;
    uint32_t len;    /* payload bytes */
    ustk_time wake;  /* the earliest timer, when nothing is due */
} tcp_plan;

/* ---- pending-output list (doubly linked: removal is O(1)) ---- */

static void pend_add(ustk_stack *s, ustk_tcb *t)
{
    if (t->flags & TF_PENDING)
        return;
    t->flags |= TF_PENDING;
    t->x->pnext = NULL;
    t->x->pprev = s->pend_tail;
    if (s->pend_tail)
        s->pend_tail->x->pnext = t;
    else
        s->pend_head = t;
    s->pend_tail = t;
}

void ustk__pend_remove(ustk_stack *s, ustk_tcb *t)
{
    if (!(t->flags & TF_PENDING))
        return;
    if (t->x->pprev)
        t->x->pprev->x->pnext = t->x->pnext;
    else
        s->pend_head = t->x->pnext;
    if (t->x->pnext)
        t->x->pnext->x->pprev = t->x->pprev;
    else
        s->pend_tail = t->x->pprev;
    t->x->pnext = t->x->pprev = NULL;
    t->flags &= ~(uint32_t)TF_PENDING;
}

/* ---- windows and sizes ---- */

uint32_t ustk__tcp_rcv_window(const ustk_stack *s, const ustk_tcb *t)
{
    uint32_t free_space =
        TCB_RCV_CAP(s) - (t->x ? ustk_ring_len(&t->x->rcv) : 0);
    uint32_t max = (uint32_t)65535 << t->rcv_wscale;
    if (free_space > max)
        free_space = max;
    /* RFC 9293 §3.8.6.2.2: do not shrink the window we already offered
     * (rcv_adv is only meaningful once the peer's ISN is known). */
    if (t->state != USTK_TCP_SYN_SENT && ustk_seq_gt(t->rcv_adv, t->rcv_nxt) &&
        t->rcv_adv - t->rcv_nxt > free_space && t->rcv_adv - t->rcv_nxt <= max)
        free_space = t->rcv_adv - t->rcv_nxt;
    return free_space;
}

uint32_t ustk__tcp_seg_payload_max(const ustk_tcb *t)
{
    /* RFC 9293 §3.7.1: the MSS counts data only, so options we put in
     * every segment come out of it (RFC 6691). */
    uint32_t m = t->mss;
    if (t->flags & TF_TS)
        m -= 12;
    /* SACK blocks ride on data segments too: NOP NOP kind len + 8 each. */
    uint32_t blocks = ustk__ooo_sack_count(t);
    if (blocks)
        m -= 4 + 8 * blocks;
    return m;
}

/* First sequence number of data: the SYN takes ISS. */
static uint32_t data_base(const ustk_tcb *t)
{
    return (t->flags & TF_SYN_ACKED) ? t->snd_una : t->iss + 1;
}

/* States in which we may still send data and FIN. */
static bool can_send_data(int state)
{
    return state == USTK_TCP_ESTABLISHED || state == USTK_TCP_CLOSE_WAIT ||
           state == USTK_TCP_FIN_WAIT_1 || state == USTK_TCP_CLOSING ||
           state == USTK_TCP_LAST_ACK;
}

static ustk_time min_time(ustk_time a, ustk_time b)
{
    return a < b ? a : b;
}

/* The congestion window the sender may use now. Before it is set (a FIN
 * from SYN-RECEIVED) the initial window applies; the first two duplicate
 * ACKs each let one more segment out (RFC 3042, limited transmit). When
 * the peer SACKs, what it holds no longer counts as in flight
 * (plan_data()), which lets one segment out per segment SACKed already:
 * adding the duplicates too would send two per duplicate ACK. */
static uint32_t send_cwnd(const ustk_stack *s, const ustk_tcb *t)
{
    uint32_t cwnd = t->cwnd ? t->cwnd : s->cfg.init_cwnd * t->mss;
    if (!(t->flags & TF_IN_RECOVERY) && t->x->dupacks > 0 &&
        t->x->dupacks < 3 && ustk__sb_empty(t))
        cwnd += t->x->dupacks * (uint32_t)t->mss;
    return cwnd;
}

/* Should a segment of len < MSS wait? Nagle's algorithm (RFC 9293
 * §3.7.4, RFC 896) in Minshall's form (as Linux has it): hold a small
 * final piece while a small segment sent before is unacknowledged, unless
 * TCP_NODELAY. Holding it behind full segments, as RFC 896 has it, stalls
 * the end of every stream whose full segments the peer acknowledges with
 * a delayed ACK (40 ms and more); one small segment in flight at a time
 * still keeps a chatty sender from flooding the network. Sender-side SWS
 * avoidance (§3.8.6.2.1): a small piece that only the window cuts short
 * waits too, unless it is at least half the largest window the peer ever
 * offered. With nothing in flight everything goes: no ACK would wake us. */
static bool small_in_flight(const ustk_tcb *t)
{
    return ustk_seq_gt(t->x->snd_sml, t->snd_una) &&
           ustk_seq_leq(t->x->snd_sml, t->x->snd_nxt);
}

static bool should_hold(const ustk_tcb *t, uint32_t len, uint32_t unsent)
{
    bool in_flight = t->x->snd_nxt != t->snd_una;
    if (!in_flight)
        return false;
    if (len == unsent)
        return !t->nodelay && small_in_flight(t);
    return len < t->max_snd_wnd / 2;
}

/* Resend a lost run [seq, seq+len), one segment's worth; when the run
 * reaches our FIN (sequence number data_end), the FIN goes with it, alone
 * if need be. */
static bool plan_lost(const ustk_tcb *t, uint32_t seq, uint32_t len,
                      uint32_t data_end, uint32_t max, tcp_plan *p)
{
    if (ustk_seq_gt(seq, data_end))
        return false;
    uint32_t end = seq + len;
    bool fin = (t->flags & TF_FIN_QUEUED) && ustk_seq_gt(end, data_end);
    uint32_t dlen = (fin ? data_end : end) - seq;
    if (dlen > max) {
        dlen = max;
        fin = false;
    }
    if (dlen == 0 && !fin)
        return false;
    p->send = true;
    p->sack_rtx = true;
    p->seq = seq;
    p->len = dlen;
    p->flags = (uint8_t)(USTK_TCP_ACK | (fin ? USTK_TCP_FIN : 0));
    return true;
}

/* How much of len (> max) goes in one segment. With TSO (the caller of
 * ustk_poll_output_meta() lets the link cut segments), new data outside a
 * recovery, to a neighbour whose address is known, goes out as whole
 * segments of max bytes in one packet, no more than RACK's log can record
 * one by one; a short tail only where it would not be held anyway (it ends
 * what is buffered and TCP_NODELAY is on, or the FIN follows it).
 * Otherwise one segment. */
static uint32_t tso_len(const ustk_stack *s, const ustk_tcb *t, uint32_t len,
                        uint32_t unsent, uint32_t nxt, uint32_t max)
{
    if (s->tso_room < 2 * max || nxt != t->x->snd_max ||
        (t->flags & (TF_IN_RECOVERY | TF_SACK_RECOVERY)) ||
        !ustk__tx_direct(s, ustk__route(s, t->raddr)))
        return max;
    uint32_t segs = s->tso_room / max;
    uint32_t recs = ustk__rack_free_records(t);
    if (segs > recs)
        segs = recs;
    if (segs < 2)
        return max;
    if (len > segs * max)
        return segs * max;
    uint32_t tail = len % max;
    /* A short tail goes along where Nagle (should_hold) lets it go. */
    if (tail && !(len == unsent && (t->nodelay || (t->flags & TF_FIN_QUEUED) ||
                                    !small_in_flight(t))))
        len -= tail;
    return len;
}

/* The next data segment (and FIN): new data as the windows allow, or,
 * after a timeout pulled SND.NXT back, the next bytes the peer lacks.
 * During SACK recovery the scoreboard's pipe replaces the flight size and
 * lost holes go first (RFC 6675 §5, NextSeg). Returns true with p filled
 * when something is due. */
static bool plan_data(const ustk_stack *s, const ustk_tcb *t, tcp_plan *p)
{
    uint32_t base = data_base(t);
    uint32_t buffered = ustk_ring_len(&t->x->snd);
    bool sack_rec = (t->flags & TF_SACK_RECOVERY) != 0;
    bool rack = (t->flags & TF_RACK) != 0;
    uint32_t data_end = base + buffered; /* where our FIN goes */
    /* No loss to repair, and nothing buffered and no FIN to send, or all
     * of it (FIN included) sent: the rules below all come to "nothing"
     * (no bytes unsent, no FIN due), so say it without working out the
     * window. Most decisions of a pure ACK, a handshake, or a sender
     * waiting for its ACK end here. */
    bool fin = (t->flags & TF_FIN_QUEUED) != 0;
    uint32_t nxt0 = t->x->snd_nxt;
    bool all_sent = ustk_seq_geq(nxt0, t->x->snd_max) &&
                    ustk_seq_geq(nxt0, data_end) && !(fin && nxt0 == data_end);
    if (!sack_rec && !(rack && t->x->rack && t->x->rack->lost_bytes) &&
        ((buffered == 0 && !fin) || all_sent))
        return false;
    uint32_t max = ustk__tcp_seg_payload_max(t);

    uint32_t room = 0; /* bytes the congestion window allows beyond nxt */
    uint32_t nxt = t->x->snd_nxt;
    if (rack && !sack_rec && t->x->rack && t->x->rack->lost_bytes) {
        /* Outside a recovery (after a timeout, whose go-back-N is under
         * way), a segment RACK finds lost is resent first, as the pipe
         * allows: a lost retransmission need not wait for another
         * timeout. */
        uint32_t pipe = ustk__rack_pipe(t);
        uint32_t cw = send_cwnd(s, t);
        uint32_t seq, len;
        if (cw > pipe && cw - pipe >= max &&
            ustk__rack_next_lost(t, &seq, &len) &&
            plan_lost(t, seq, len, data_end, max, p))
            return true;
    }
    if (sack_rec) {
        uint32_t pipe = rack ? ustk__rack_pipe(t) : ustk__sb_pipe(t);
        room = t->cwnd > pipe ? t->cwnd - pipe : 0;
        if (room < max)
            return false; /* RFC 6675 §5 step (C): cwnd - pipe >= SMSS */
        /* NextSeg rule 1: what RACK (or, without it, IsLost) marked. */
        uint32_t seq, len;
        bool lost = rack ? ustk__rack_next_lost(t, &seq, &len)
                         : ustk__sb_next_lost(t, &seq, &len);
        if (lost && plan_lost(t, seq, len, data_end, max, p))
            return true;
    }
    /* Resending after a timeout: skip what the peer already holds. */
    uint32_t hole_end = data_end;
    if (ustk_seq_lt(nxt, t->x->snd_max) && !ustk__sb_empty(t)) {
        nxt = ustk__sb_skip(t, nxt);
        hole_end = ustk__sb_hole_end(t, nxt, t->x->snd_max);
        if (ustk_seq_geq(hole_end, t->x->snd_max))
            hole_end = data_end;
    }
    if (!sack_rec) {
        /* In flight: what was sent from SND.UNA up to here, less what
         * the peer has SACKed. */
        uint32_t cw = send_cwnd(s, t);
        uint32_t flight = ustk__sb_unsacked(t, t->snd_una, nxt);
        room = cw > flight ? cw - flight : 0;
    }
    uint32_t sent = ustk_seq_gt(nxt, base) ? nxt - base : 0;
    uint32_t unsent = sent < buffered ? buffered - sent : 0;
    uint32_t peer_edge = ustk__tcp_peer_edge(t);
    uint32_t usable = ustk_seq_gt(peer_edge, nxt) ? peer_edge - nxt : 0;
    if (usable > room)
        usable = room;
    /* RACK keeps a record per segment in flight; when its log is full,
     * new data waits for ACKs to free records. */
    if (ustk_seq_geq(nxt, t->x->snd_max) && !ustk__rack_can_send_new(t))
        usable = 0;
    uint32_t len = unsent < usable ? unsent : usable;
    if (len > max)
        len = tso_len(s, t, len, unsent, nxt, max);
    if (ustk_seq_lt(nxt, hole_end) && ustk_seq_lt(hole_end, nxt + len))
        len = hole_end - nxt;
    bool fin_due = (t->flags & TF_FIN_QUEUED) && ustk_seq_leq(nxt, data_end) &&
                   nxt + len == data_end;
    /* Nagle and the sender's SWS avoidance hold back new data only: a
     * resend cut short by the end of a hole the peer reported (after a
     * go-back-N from SND.UNA) goes at once. */
    if (len > 0 && len < max && !fin_due && ustk_seq_geq(nxt, t->x->snd_max) &&
        should_hold(t, len, unsent))
        len = 0;
    if (len == 0 && !fin_due)
        return false;
    p->send = true;
    p->seq = nxt;
    p->len = len;
    p->flags = USTK_TCP_ACK;
    if (len > 0 && len == unsent)
        p->flags |= USTK_TCP_PSH;
    if (fin_due)
        p->flags |= USTK_TCP_FIN;
    return true;
}

/* RFC 8985 §7.3: the probe is one new segment when the peer's window
 * allows (whatever cwnd says), else the last segment sent again. */
static bool plan_tlp(const ustk_tcb *t, tcp_plan *p)
{
    uint32_t base = data_base(t);
    uint32_t buffered = ustk_ring_len(&t->x->snd);
    uint32_t data_end = base + buffered;
    uint32_t max = ustk__tcp_seg_payload_max(t);
    uint32_t peer_edge = ustk__tcp_peer_edge(t);
    if (t->x->snd_nxt != t->x->snd_max)
        return false;
    uint32_t nxt = t->x->snd_max;
    uint32_t unsent = ustk_seq_lt(nxt, data_end) ? data_end - nxt : 0;
    uint32_t usable = ustk_seq_gt(peer_edge, nxt) ? peer_edge - nxt : 0;
    uint32_t len = unsent < usable ? unsent : usable;
    if (len > max)
        len = max;
    if (len > 0 && ustk__rack_can_send_new(t)) {
        p->send = true;
        p->tlp = true;
        p->seq = nxt;
        p->len = len;
        p->flags = USTK_TCP_ACK;
        if (len == unsent)
            p->flags |= USTK_TCP_PSH;
        if ((t->flags & TF_FIN_QUEUED) && nxt + len == data_end)
            p->flags |= USTK_TCP_FIN;
        return true;
    }
    uint32_t seq, end;
    if (!ustk__rack_last(t, &seq, &end))
        return false;
    bool fin = (t->flags & TF_FIN_QUEUED) && end == data_end + 1;
    uint32_t dend = fin ? end - 1 : end;
    if (dend - seq > max)
        seq = dend - max;
    p->send = true;
    p->tlp = true;
    p->seq = seq;
    p->len = dend - seq;
    p->flags = USTK_TCP_ACK;
    if (fin)
        p->flags |= USTK_TCP_FIN;
    else if (p->len)
        p->flags |= USTK_TCP_PSH;
    return true;
}

/* The earliest of the connection's deadlines: the decision's answer
 * when nothing is due now. */
static inline ustk_time tcp_wake(const ustk_stack *s, const ustk_tcb *t)
{
    ustk_time wake = min_time(min_time(t->x->rtx_at, t->x->delack_at),
                              min_time(min_time(t->x->persist_at, t->x->tw_at),
                                       t->x->keep_at));
    if (t->x->rack)
        wake = min_time(wake, min_time(t->x->rack->reo_at, t->x->rack->pto_at));
    /* The rate limit on ACKs to unacceptable segments keeps the busy part
     * for 500 ms (tcp_conn.c, tcb_quiet): wake then, so that a connection
     * in a state that can be quiet gives it back. */
    if (t->x->oow_ack_at && s->now - t->x->oow_ack_at < USTK_MS(500) &&
        (t->state == USTK_TCP_ESTABLISHED || t->state == USTK_TCP_CLOSE_WAIT))
        wake = min_time(wake, t->x->oow_ack_at + USTK_MS(500));
    return wake;
}

/* The decision. Pure: it reads the connection and changes nothing. */
static void tcp_decide(const ustk_stack *s, const ustk_tcb *t, tcp_plan *p)
{
    memset(p, 0, sizeof(*p));
    p->wake = tcp_wake(s, t);
    if (t->state == USTK_TCP_CLOSED || t->state == USTK_TCP_LISTEN)
        return;

    /* The SYN (again, after a timeout pulled snd_nxt back to ISS). In
     * FIN-WAIT-1 reached from SYN-RECEIVED the SYN may still be due. */
    if (!(t->flags & TF_SYN_ACKED) && t->x->snd_nxt == t->iss &&
        t->state != USTK_TCP_TIME_WAIT &&
        t->state != USTK_TCP_FIN_WAIT_2) {
        p->send = true;
        p->seq = t->iss;
        p->flags = USTK_TCP_SYN;
        if (t->state != USTK_TCP_SYN_SENT)
            p->flags |= USTK_TCP_ACK;
        return;
    }

    if ((t->flags & TF_FAST_RTX) && can_send_data(t->state) &&
        t->snd_una != t->x->snd_max && (t->flags & TF_SYN_ACKED)) {
        /* RFC 5681 §3.2: resend what appears to be missing, one segment
         * from SND.UNA, whatever the window. With RACK, the first segment
         * it marked lost. */
        uint32_t buffered = ustk_ring_len(&t->x->snd);
        uint32_t max = ustk__tcp_seg_payload_max(t);
        uint32_t seq, lost_len;
        if ((t->flags & TF_RACK) &&
            ustk__rack_next_lost(t, &seq, &lost_len) &&
            plan_lost(t, seq, lost_len, data_base(t) + buffered, max, p))
            return;
        seq = t->snd_una;
        uint32_t left = buffered;
        uint32_t len = left < max ? left : max;
        if (ustk_seq_gt(seq + len, t->x->snd_max))
            len = t->x->snd_max - seq;
        p->send = true;
        p->fast = !p->sack_rtx;
        p->seq = seq;
        p->len = len;
        p->flags = USTK_TCP_ACK;
        if ((t->flags & TF_FIN_QUEUED) && len == left &&
            ustk_seq_gt(t->x->snd_max, seq + len))
            p->flags |= USTK_TCP_FIN;
        return;
    }
    if ((t->flags & TF_TLP) && can_send_data(t->state) &&
        t->snd_una != t->x->snd_max && plan_tlp(t, p))
        return;
    if (can_send_data(t->state) && plan_data(s, t, p))
        return;
    if (t->flags & TF_PROBE) {
        /* RFC 9293 §3.8.6.1 zero-window probe, in the form Linux uses: a
         * bare ACK with an old sequence number, which the peer must
         * answer with its current window. Sending no data keeps SND.NXT
         * and SND.MAX where the peer's window says they may be. */
        p->send = true;
        p->seq = t->snd_una - 1;
        p->flags = USTK_TCP_ACK;
        p->probe = true;
        return;
    }
    if (t->flags & TF_KEEP_PROBE) {
        /* A keepalive probe: no data, a sequence number the peer has
         * already seen, so it answers with an ACK (RFC 1122 §4.2.3.6). */
        p->send = true;
        p->seq = t->snd_una - 1;
        p->flags = USTK_TCP_ACK;
        p->keepalive = true;
        return;
    }
    if (t->flags & TF_ACK_NOW) {
        /* A pure ACK carries the highest sequence number sent, not
         * SND.NXT: after a timeout pulled SND.NXT back, the peer may hold
         * data beyond it, and would find an older sequence number
         * unacceptable and drop the ACK unread (Linux does the same). */
        p->send = true;
        p->seq = t->x->snd_max;
        p->flags = USTK_TCP_ACK;
        if (t->state == USTK_TCP_SYN_SENT)
            p->send = false; /* nothing to acknowledge yet */
    }
}

/* RFC 9293 §3.8.6.1: with data waiting, a zero window and nothing in
 * flight, only a probe will ever learn that the window opened. */
static void arm_persist(ustk_stack *s, ustk_tcb *t)
{
    if (!can_send_data(t->state) ||
        ustk_seq_gt(ustk__tcp_peer_edge(t), t->x->snd_nxt) ||
        t->x->snd_nxt != t->snd_una || t->x->rtx_at != USTK_TIME_NEVER ||
        t->x->persist_at != USTK_TIME_NEVER || (t->flags & TF_PROBE))
        return;
    if (ustk_ring_len(&t->x->snd) == 0)
        return;
    t->x->persist_at = s->now + t->x->rto;
}

static void arm_keepalive(ustk_stack *s, ustk_tcb *t)
{
    bool idle_state = t->state == USTK_TCP_ESTABLISHED ||
                      t->state == USTK_TCP_CLOSE_WAIT;
    if (!t->keepalive || !idle_state) {
        t->x->keep_at = USTK_TIME_NEVER;
        return;
    }
    if (t->x->keep_at == USTK_TIME_NEVER)
        t->x->keep_at = s->now + (ustk_time)t->x->keep_idle_s * 1000000u;
}

/* The interval before the next probe: RTO doubled per probe already sent
 * in this zero-window spell, at most rto_max (RFC 9293 §3.8.6.1: "SHOULD
 * increase exponentially the interval between successive probes"). */
static ustk_time persist_interval(const ustk_stack *s, const ustk_tcb *t)
{
    ustk_time iv = t->x->rto;
    for (uint32_t i = 0; i < t->x->persist_backoff && iv < s->cfg.rto_max; i++)
        iv *= 2;
    return iv < s->cfg.rto_max ? iv : s->cfg.rto_max;
}

/* The connection's timer at its next deadline, or off the heap. */
static void file_wake(ustk_stack *s, ustk_tcb *t, ustk_time wake)
{
    if (wake == USTK_TIME_NEVER) {
        if (ustk_heap_contains(&t->x->timer))
            ustk_heap_remove(&s->timers, &t->x->timer);
    } else {
        ustk_heap_set(&s->timers, &t->x->timer, wake);
    }
}

void ustk__tcp_reschedule(ustk_stack *s, ustk_tcb *t)
{
    if (t->flags & TF_DEAD)
        return;
    /* An ACK is due (tcp_decide sends one in every state but these):
     * the connection goes on the list, and the next poll decides what
     * the segment is and then files the deadlines, so that a segment
     * that asks for an ACK costs one decision, not two. Until then
     * ustk_next_deadline() says "now". */
    if ((t->flags & TF_ACK_NOW) && t->state != USTK_TCP_SYN_SENT &&
        t->state != USTK_TCP_CLOSED && t->state != USTK_TCP_LISTEN) {
        pend_add(s, t);
        return;
    }
    arm_persist(s, t);
    arm_keepalive(s, t);
    tcp_plan p;
    tcp_decide(s, t, &p);
    if (p.send)
        pend_add(s, t);
    else
        ustk__pend_remove(s, t);
    file_wake(s, t, p.wake);
}

void ustk__tcp_output_due(ustk_stack *s, ustk_tcb *t)
{
    /* Deciding here would be deciding twice: the poll that sends the
     * segment decides again. Until that poll, ustk_next_deadline() says
     * "now"; if it finds nothing to send after all (Nagle, a closed
     * window), it files the deadlines as ustk__tcp_reschedule() would
     * have (ustk__tcp_output()). */
    if (t->flags & TF_DEAD)
        return;
    pend_add(s, t);
}

/* ---- building segments ---- */

static void syn_options(const ustk_stack *s, const ustk_tcb *t,
                        ustk_tcp_opts *o)
{
    bool active = t->state == USTK_TCP_SYN_SENT;
    o->has |= USTK_OPT_MSS;
    o->mss = (uint16_t)(s->cfg.mtu - 40);
    /* A SYN offers what the config enables; a SYN-ACK answers only what the
     * SYN offered (RFC 7323 §2.2, §3.2; RFC 2018 §2). */
    if (active ? s->cfg.opt_sack : (t->flags & TF_SACK) != 0)
        o->has |= USTK_OPT_SACK_PERM;
    if (active ? s->cfg.opt_wscale : (t->flags & TF_WSCALE) != 0) {
        o->has |= USTK_OPT_WSCALE;
        o->wscale = ustk__tcp_wscale_offer(s);
    }
    if (active ? s->cfg.opt_timestamps : (t->flags & TF_TS) != 0)
        o->has |= USTK_OPT_TS;
}


/* Write the segment of plan p into buf (at the link header offset), update
 * the send state, and return the frame length (0 when ARP holds it). */
static size_t tcp_emit(ustk_stack *s, ustk_tcb *t, ustk_time now,
                       const tcp_plan *p, uint8_t *buf)
{
    ustk_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.sport = t->lport;
    h.dport = t->rport;
    h.seq = p->seq;
    h.flags = p->flags;
    if (p->flags & USTK_TCP_ACK)
        h.ack = t->rcv_nxt;
    uint32_t wnd = ustk__tcp_rcv_window(s, t);
    if (p->flags & USTK_TCP_SYN) {
        syn_options(s, t, &h.opts);
        /* RFC 7323 §2.2: the window in a SYN is never scaled. */
        h.wnd = (uint16_t)(wnd > 65535 ? 65535 : wnd);
        wnd = h.wnd;
    } else {
        uint32_t w = wnd >> t->rcv_wscale;
        h.wnd = (uint16_t)(w > 65535 ? 65535 : w);
        wnd = (uint32_t)h.wnd << t->rcv_wscale;
    }
    bool syn_ts = (h.opts.has & USTK_OPT_TS) != 0;
    if ((t->flags & TF_TS) || syn_ts) {
        h.opts.has |= USTK_OPT_TS;
        h.opts.ts_val = ustk__tcp_ts(t, now);
        h.opts.ts_ecr = (p->flags & USTK_TCP_ACK) ? t->ts_recent : 0;
    }

    if (!(p->flags & USTK_TCP_SYN))
        ustk__ooo_sack(t, &h.opts, (h.opts.has & USTK_OPT_TS) ? 3 : 4);

    uint8_t *ip = buf + s->link_hdr;
    uint8_t *tcp = ip + USTK_IPV4_HDR_LEN;
    size_t hdr = USTK_TCP_HDR_LEN + ustk_tcp_opts_len(&h.opts);
    /* A TSO segment (tso_len()) is cut by the link into segs segments of
     * gso bytes, each with this header; the link also completes its
     * checksum, and may complete any other's (tx_csum_offload) that goes
     * out at once rather than waiting for ARP. */
    uint32_t hop = ustk__route(s, t->raddr);
    uint32_t gso = ustk__tcp_seg_payload_max(t);
    uint32_t segs = p->len > gso ? (p->len + gso - 1) / gso : 1;
    bool partial = s->tx_meta &&
                   (segs > 1 || (s->cfg.tx_csum_offload &&
                                 ustk__tx_direct(s, hop)));
    size_t cap = (segs > 1 ? 65535u : (size_t)s->cfg.mtu) - USTK_IPV4_HDR_LEN;
    size_t n;
    if (partial) {
        if (p->len)
            ustk_ring_peek(&t->x->snd, p->seq - data_base(t), tcp + hdr,
                           p->len);
        n = ustk_tcp_emit_partial(&h, NULL, p->len, t->laddr, t->raddr, tcp,
                                  cap);
    } else {
        /* The payload is summed as it is copied out of the send ring: one
         * pass over the bytes, not two. */
        uint32_t psum = 0;
        if (p->len) {
            const uint8_t *sp[2];
            uint32_t sl[2];
            ustk_ring_spans(&t->x->snd, p->seq - data_base(t), p->len, sp,
                            sl);
            psum = ustk_csum_copy(0, tcp + hdr, sp[0], sl[0]);
            if (sl[1])
                psum = ustk_csum_join(
                    psum, ustk_csum_copy(0, tcp + hdr + sl[0], sp[1], sl[1]),
                    sl[0] & 1);
        }
        n = ustk_tcp_emit_summed(&h, p->len, psum, t->laddr, t->raddr, tcp,
                                 cap);
    }
    /* The plan never asks for more than fits the MTU (the payload limit
     * counts every option we put in); an empty result would be a bug. */
    if (n == 0)
        return 0;
    ustk__ip_header(s, ip, USTK_IP_PROTO_TCP, t->laddr, t->raddr,
                    (uint16_t)n, !(t->flags & TF_NO_DF));
    if (partial) {
        ustk_frame_meta *m = s->tx_meta;
        m->flags = USTK_META_NEEDS_CSUM;
        m->csum_start = (uint16_t)(s->link_hdr + USTK_IPV4_HDR_LEN);
        m->csum_offset = 16; /* the TCP checksum field */
        m->hdr_len = (uint16_t)(s->link_hdr + USTK_IPV4_HDR_LEN + hdr);
        m->gso_segs = (uint16_t)segs;
        if (segs > 1) {
            m->gso_type = USTK_GSO_TCPV4;
            m->gso_size = (uint16_t)gso;
            /* Linux gives the segments consecutive IDs from this one's. */
            s->ip_id = (uint16_t)(s->ip_id + segs - 1);
            s->stats.tcp_tso_frames++;
        }
    }

    /* Account for what went out. */
    uint32_t seq_len = p->len + ((p->flags & USTK_TCP_SYN) ? 1 : 0) +
                       ((p->flags & USTK_TCP_FIN) ? 1 : 0);
    bool rtx = seq_len > 0 && ustk_seq_lt(p->seq, t->x->snd_max);
    uint32_t end = p->seq + seq_len;
    if (seq_len > 0 && (t->flags & TF_RACK) && (t->flags & TF_SYN_ACKED) &&
        !(p->flags & USTK_TCP_SYN)) {
        /* One record per segment the link makes, so that SACKs, losses
         * and retransmissions of a TSO segment go piece by piece. */
        uint32_t q = p->seq;
        for (uint32_t i = 1; i < segs; i++, q += gso)
            ustk__rack_on_send(s, t, q, q + gso, false, rtx, now);
        ustk__rack_on_send(s, t, q, end, (p->flags & USTK_TCP_FIN) != 0,
                           rtx, now);
    }
    /* Only what takes sequence space moves SND.NXT: a pure ACK is sent at
     * SND.MAX, and must not carry SND.NXT past data a timeout left to be
     * resent. */
    if (seq_len > 0 && ustk_seq_gt(end, t->x->snd_nxt))
        t->x->snd_nxt = end;
    /* Nagle, Minshall's form (should_hold): a segment, or a TSO segment's
     * last piece, shorter than the segment size, of new data (a short
     * copy resent must not pull SND.SML back behind a short segment
     * still in flight). */
    if (p->len && !rtx && (!gso || p->len % gso))
        t->x->snd_sml = p->seq + p->len;
    if (ustk_seq_gt(end, t->x->snd_max)) {
        t->x->snd_max = end;
        /* RFC 6298 §3 / Karn: time one new segment at a time. */
        if (!(t->flags & TF_RTT_TIMING) && !rtx) {
            t->flags |= TF_RTT_TIMING;
            t->x->rtt_seq = p->seq;
            t->x->rtt_start = now;
        }
    }
    if (rtx) {
        s->stats.tcp_retransmits++;
        if (p->fast)
            t->rtx_fast++;
        else if (p->tlp)
            t->rtx_tlp++;
        else if (p->sack_rtx)
            t->rtx_sack++;
        else
            t->rtx_timeout++;
        /* Karn: a timed segment that is sent again gives no sample. */
        if ((t->flags & TF_RTT_TIMING) && ustk_seq_leq(p->seq, t->x->rtt_seq))
            t->flags &= ~(uint32_t)TF_RTT_TIMING;
    }
    t->flags &= ~(uint32_t)TF_FAST_RTX;
    if (t->flags & TF_SACK_RECOVERY)
        t->x->prr_out += p->len; /* RFC 9937: sent during the recovery */
    if (p->probe) {
        /* A zero-window probe is timed by the persist timer, not the
         * retransmission timer: the peer answering with a zero window is
         * not a loss. */
        t->flags &= ~(uint32_t)TF_PROBE;
        t->x->persist_backoff++;
        t->x->probes_unanswered++;
        t->x->persist_at = now + persist_interval(s, t);
    } else if (p->tlp) {
        /* RFC 8985 §7.3: after the probe, the RTO guards what is left. */
        t->flags &= ~(uint32_t)TF_TLP;
        ustk__rack_tlp_sent(t, t->x->snd_max, rtx);
        ustk__tcp_rearm_rtx(s, t, now);
    } else if (seq_len > 0 && t->x->rtx_at == USTK_TIME_NEVER) {
        ustk__tcp_rearm_rtx(s, t, now);
    }
    if (seq_len > 0 && !rtx && !p->tlp && t->x->rack)
        ustk__rack_arm_pto(s, t, now);
    if (p->flags & USTK_TCP_ACK) {
        /* A segment that came out of order is owed a duplicate ACK of
         * its own, without data (RFC 5681 §4.2: the sender counts only
         * those), even when input brought several before this output:
         * a sender without SACK needs three to retransmit. */
        if (t->x->ooo_acks && p->len == 0 &&
            !(p->flags & (USTK_TCP_SYN | USTK_TCP_FIN)) && !p->probe &&
            !p->keepalive)
            t->x->ooo_acks--;
        if (!t->x->ooo_acks)
            t->flags &= ~(uint32_t)TF_ACK_NOW;
        t->x->delack_at = USTK_TIME_NEVER;
        t->x->unacked_segs = 0;
        t->x->last_ack_sent = t->rcv_nxt;
        if (ustk_seq_gt(t->rcv_nxt + wnd, t->rcv_adv))
            t->rcv_adv = t->rcv_nxt + wnd;
    }
    if (p->keepalive)
        t->flags &= ~(uint32_t)TF_KEEP_PROBE;
    if ((p->sack_rtx || p->fast) && t->x->sb && ustk_seq_gt(end, t->x->sb->high_rxt))
        t->x->sb->high_rxt = end;
    if (h.opts.has & USTK_OPT_SACK)
        t->flags &= ~(uint32_t)TF_DSACK;
    if (p->len) {
        if (t->x->una_since == 0)
            t->x->una_since = now ? now : 1;
        uint32_t ms = (uint32_t)(now / 1000u);
        t->last_send_ms = ms ? ms : 1;
    }
    t->segs_out += segs;
    s->stats.tcp_segs_out += segs;
    ustk__trace_seg(s, t, USTK_TRACE_SEG_OUT, &h, p->len, rtx);

    size_t len = ustk__frame_ip(s, now, buf,
                                (uint32_t)(USTK_IPV4_HDR_LEN + n), hop);
    /* Not sent after all (ARP): the next frame handed out has metadata of
     * its own, or none. */
    if (len == 0 && s->tx_meta)
        memset(s->tx_meta, 0, sizeof(*s->tx_meta));
    return len;
}

long ustk__tcp_output(ustk_stack *s, ustk_time now, uint8_t *buf)
{
    ustk_tcb *t = s->pend_head;
    if (!t)
        return 0;
    /* Round robin: one segment from the connection at the head, then it
     * goes to the back if it has more. */
    ustk__pend_remove(s, t);
    tcp_plan p;
    tcp_decide(s, t, &p);
    if (!p.send) {
        /* Nothing (more) is due: file the connection's next deadline, as
         * ustk__tcp_reschedule() would, without deciding again (arming
         * persist or keepalive changes no decision, only the deadlines;
         * it is off the list already). */
        if (!(t->flags & TF_DEAD)) {
            arm_persist(s, t);
            arm_keepalive(s, t);
            file_wake(s, t, tcp_wake(s, t));
        }
        ustk__tcb_settle(s, t);
        return -1;
    }
    /* The payload must be bytes the send ring holds. A plan that names
     * others means the connection's sequence state is inconsistent (a
     * bug: it once let a SYN-SENT connection send stale memory as its
     * first data). Reset the connection and count it rather than send. */
    if (p.len && p.seq - data_base(t) + (uint64_t)p.len >
                     ustk_ring_len(&t->x->snd)) {
        s->stats.tcp_self_check++;
        ustk__tcp_abort(s, t, now);
        return -1;
    }
    size_t n = tcp_emit(s, t, now, &p, buf);
    /* An orphan whose last ACK just went out may shrink to a TIME-WAIT
     * record (tcp_tw.c); the frame is already in buf. */
    if (ustk__tw_compact(s, t))
        return n ? (long)n : -1;
    /* New data comes in bursts. While more is buffered and the window
     * the peer offers still has room beyond SND.NXT, rather than decide
     * now whether another segment is due, and again when it is sent, the
     * connection goes back on the list: the next call decides once, then
     * sends or files the deadlines (above). A caller that asks
     * ustk_next_deadline() meanwhile is told "now", and the next poll
     * settles it. Anything else is decided at once, so the deadline is
     * exact after a connection's last segment of a burst. */
    if (p.len && ustk_seq_geq(t->x->snd_nxt, t->x->snd_max) &&
        ustk_ring_len(&t->x->snd) > t->x->snd_nxt - data_base(t) &&
        ustk_seq_gt(ustk__tcp_peer_edge(t), t->x->snd_nxt)) {
        pend_add(s, t);
    } else {
        ustk__tcp_reschedule(s, t);
        ustk__tcb_settle(s, t);
    }
    return n ? (long)n : -1;
}

bool ustk__tcp_send_bare(ustk_stack *s, ustk_ip4 laddr, ustk_ip4 raddr,
                         const ustk_tcp_hdr *h, const ustk_tcb *like)
{
    uint8_t *pkt = ustk__ctl_ip_begin(s);
    if (!pkt) {
        ustk__drop(s, USTK_DROP_TX_QUEUE_FULL, NULL, NULL, 0);
        return false;
    }
    size_t n = ustk_tcp_emit(h, NULL, 0, laddr, raddr,
                             pkt + USTK_IPV4_HDR_LEN, 64);
    ustk__ip_header(s, pkt, USTK_IP_PROTO_TCP, laddr, raddr, (uint16_t)n,
                    true);
    ustk__ctl_ip_commit(s, (uint32_t)(USTK_IPV4_HDR_LEN + n), raddr);
    s->stats.tcp_segs_out++;
    if (s->cfg.trace) {
        /* The trace names a segment by its connection: one made up from
         * the addresses, with like's numbers and state when there is one. */
        ustk_tcb fake;
        memset(&fake, 0, sizeof(fake));
        fake.sock = -1;
        if (like) {
            fake.iss = like->iss;
            fake.irs = like->irs;
            fake.state = like->state;
            fake.sock = like->sock;
        }
        fake.laddr = laddr;
        fake.lport = h->sport;
        fake.raddr = raddr;
        fake.rport = h->dport;
        ustk__trace_seg(s, &fake, USTK_TRACE_SEG_OUT, h, 0, false);
    }
    return true;
}

void ustk__tcp_send_rst(ustk_stack *s, ustk_ip4 laddr, uint16_t lport,
                        ustk_ip4 raddr, uint16_t rport, uint32_t seq,
                        uint32_t ack, bool ack_flag)
{
    ustk_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.sport = lport;
    h.dport = rport;
    h.seq = seq;
    h.ack = ack_flag ? ack : 0;
    h.flags = (uint8_t)(USTK_TCP_RST | (ack_flag ? USTK_TCP_ACK : 0));
    const ustk_tcb *like =
        s->cfg.trace ? ustk__tcb_lookup(s, laddr, lport, raddr, rport) : NULL;
    if (ustk__tcp_send_bare(s, laddr, raddr, &h, like))
        s->stats.tcp_resets_sent++;
}
