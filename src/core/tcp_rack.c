/* RACK-TLP loss detection (RFC 8985) and the undo of spurious window
 * reductions found by D-SACK (RFC 2883 §4, RFC 3708).
 *
 * RACK asks one question per unacknowledged segment: was a segment sent
 * later than this one delivered, long enough ago (an RTT plus a reordering
 * window) that this one should have arrived too? That needs the send time
 * of each segment in flight, which the log below keeps: one record per
 * segment, in sequence order, taken from the first transmission and
 * updated by every retransmission. Tail loss probes (TLP) cover the case
 * RACK cannot see: the last segments lost, with nothing after them to be
 * delivered.
 *
 * Cost: new data appends a record; a cumulative ACK drops records from the
 * head; a SACK block finds its records by binary search. Loss detection
 * walks from the head only over segments sent before the most recently
 * delivered one, so with no loss it stops at the first record. */
#include <string.h>

#include "tcp_priv.h"
#include "util/hot.h"

#define DUP_THRESH 3           /* RFC 6675 §2: DupThresh */
#define WC_DEL_ACK_US 200000u  /* RFC 8985 §7.2: WCDelAckT */
#define REO_PERSIST 16         /* RFC 8985 §6.2 step 4 */
#define MIN_RTT_WINDOW USTK_SEC(300)

/* ---- the log ---- */

static ustk_txseg *rec(ustk_rack *r, uint32_t i)
{
    return &r->v[r->head + i];
}

static const ustk_txseg *crec(const ustk_rack *r, uint32_t i)
{
    return &r->v[r->head + i];
}

/* The log is taken with the first data segment and given back when
 * everything sent is acknowledged: twice per end for a short exchange.
 * Freed logs are kept in the stack's cache like the buffers; one of
 * another size (a connection with another MSS) is not reused, as the
 * capacity decides when the log is full. */
static ustk_rack *log_get(ustk_stack *s, uint32_t cap)
{
    uint32_t *n = &s->buf_cached[USTK_CACHE_RACK];
    while (*n) {
        ustk_rack *r = s->buf_cache[USTK_CACHE_RACK][--*n];
        if (r->cap == cap)
            return r;
        ustk__free(s, r);
    }
    return ustk__alloc(s, sizeof(ustk_rack) + cap * sizeof(ustk_txseg));
}

static bool ensure(ustk_stack *s, ustk_tcb *t)
{
    if (t->x->rack)
        return true;
    uint32_t smss = ustk__tcp_smss(t);
    uint32_t cap = TCB_SND_CAP(s) / (smss ? smss : 536) * 2 + 4;
    if (cap < 16)
        cap = 16;
    if (cap > 65536)
        cap = 65536;
    ustk_rack *r = log_get(s, cap);
    if (!r) {
        /* No memory for the log: RFC 6675's own loss detection (and
         * duplicate ACKs) takes over for this connection. */
        t->flags &= ~(uint32_t)TF_RACK;
        return false;
    }
    ustk_zero(r, sizeof(*r));
    r->cap = cap;
    r->reo_wnd_mult = 1;
    r->reo_at = r->pto_at = USTK_TIME_NEVER;
    r->fack = t->snd_una;
    t->x->rack = r;
    return true;
}

void ustk__rack_free(ustk_stack *s, ustk_tcb *t)
{
    ustk__buf_put(s, USTK_CACHE_RACK, t->x->rack);
    t->x->rack = NULL;
}

int ustk__rack_set(ustk_stack *s, ustk_tcb *t, bool rack, bool tlp)
{
    t->tlp_on = tlp;
    if (!tlp && t->x->rack) {
        t->x->rack->pto_at = USTK_TIME_NEVER;
        t->flags &= ~(uint32_t)TF_TLP;
    }
    if (t->rack_on == rack)
        return 0;
    t->rack_on = rack;
    if (!rack) {
        /* RFC 6675's IsLost takes over from the next ACK on. */
        t->flags &= ~(uint32_t)(TF_RACK | TF_TLP);
        ustk__rack_free(s, t);
    } else if (t->flags & TF_SACK) {
        t->flags |= TF_RACK; /* the log starts with the next segment */
    }
    return 0;
}

/* Index of the first record whose end is beyond seq (n when none). The
 * records are in sequence order, so offsets from SND.UNA are monotonic. */
static uint32_t find(const ustk_tcb *t, uint32_t seq)
{
    const ustk_rack *r = t->x->rack;
    uint32_t lo = 0, hi = r->n;
    uint32_t key = seq - t->snd_una;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (crec(r, mid)->end - t->snd_una <= key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void set_flag(ustk_rack *r, ustk_txseg *g, uint32_t f)
{
    if (g->flags & f)
        return;
    g->flags |= f;
    uint32_t len = g->end - g->seq;
    if (f == TX_SACKED) {
        r->sacked_bytes += len;
        r->sacked_segs++;
        if (g->flags & TX_LOST) {
            g->flags &= ~(uint32_t)TX_LOST;
            r->lost_bytes -= len;
        }
    } else if (f == TX_LOST) {
        r->lost_bytes += len;
    }
}

static void clear_lost(ustk_rack *r, ustk_txseg *g)
{
    if (g->flags & TX_LOST) {
        g->flags &= ~(uint32_t)TX_LOST;
        r->lost_bytes -= g->end - g->seq;
    }
}

/* When the records reach the end of the array, move them to its front
 * (the head advances as ACKs arrive, so this is amortised O(1)). */
static void make_room(ustk_rack *r)
{
    if (r->head > 0 && r->head + r->n == r->cap) {
        memmove(&r->v[0], &r->v[r->head], r->n * sizeof(r->v[0]));
        r->head = 0;
    }
}

/* Split record i at seq (strictly inside it): room permitting. */
static bool split(ustk_rack *r, uint32_t i, uint32_t seq)
{
    if (r->n == r->cap)
        return false;
    make_room(r);
    ustk_txseg *g = rec(r, i);
    memmove(g + 1, g, (r->n - i) * sizeof(*g));
    r->n++;
    g->end = seq;
    (g + 1)->seq = seq;
    if (g->flags & TX_SACKED)
        r->sacked_segs++;
    return true;
}

/* The last slot of the log is kept for a FIN, so that it always has a
 * record of its own. */
bool ustk__rack_can_send_new(const ustk_tcb *t)
{
    const ustk_rack *r = t->x->rack;
    if (!r || r->n + 1 < r->cap)
        return true;
    /* Full: new data can only extend the last record, which must still
     * be a plain first transmission. */
    return crec(r, r->n - 1)->flags == 0;
}

uint32_t ustk__rack_free_records(const ustk_tcb *t)
{
    const ustk_rack *r = t->x ? t->x->rack : NULL;
    /* Without RACK there is no log; a log not taken yet is sized for a
     * full send buffer of the smallest segments. */
    if (!(t->flags & TF_RACK) || !r)
        return UINT32_MAX;
    return r->n + 1 < r->cap ? r->cap - r->n - 1 : 0;
}

void ustk__rack_on_send(ustk_stack *s, ustk_tcb *t, uint32_t seq,
                        uint32_t end, bool fin, bool rtx, ustk_time now)
{
    if (!(t->flags & TF_RACK) || !ensure(s, t))
        return;
    ustk_rack *r = t->x->rack;
    uint32_t nw = rtx ? t->x->snd_max : seq; /* where new data starts */
    if (rtx) {
        /* Mark what this covers as sent again now. Records that the
         * segment covers only in part are split, so that a record is
         * always all sent at one time. */
        uint32_t i = find(t, seq);
        if (i < r->n && ustk_seq_lt(rec(r, i)->seq, seq))
            i += split(r, i, seq) ? 1 : 0;
        uint32_t stop = ustk_seq_lt(end, t->x->snd_max) ? end : t->x->snd_max;
        for (; i < r->n && ustk_seq_lt(rec(r, i)->seq, stop); i++) {
            if (rec(r, i)->flags & TX_SACKED)
                continue; /* the peer has it: nothing was resent for it */
            /* With no room to split, the whole record counts as resent. */
            if (ustk_seq_gt(rec(r, i)->end, stop))
                (void)split(r, i, stop);
            ustk_txseg *g = rec(r, i);
            g->xmit = now;
            g->flags |= TX_RETRANS;
            clear_lost(r, g);
            if (r->undo_valid)
                r->undo_retrans++;
        }
        if (!ustk_seq_gt(end, t->x->snd_max))
            return;
    }
    /* New data [nw, end), appended in order. */
    if (r->n && rec(r, r->n - 1)->end != nw)
        return; /* not contiguous: cannot happen; keep the log sane */
    make_room(r);
    bool fin_only = fin && end - nw == 1;
    if (r->n == r->cap || (r->n + 1 == r->cap && !fin_only)) {
        /* Full (many tiny segments): extend the last record. It then
         * carries the later send time, which only delays its loss
         * detection, never hastens it. */
        ustk_txseg *g = rec(r, r->n - 1);
        g->end = end;
        g->xmit = now;
        return;
    }
    ustk_txseg *g = rec(r, r->n);
    g->seq = nw;
    g->end = end;
    g->xmit = now;
    g->flags = 0;
    r->n++;
}

/* ---- RACK ---- */

/* RFC 8985 §6.2: was segment 1 sent after segment 2? */
static bool sent_after(ustk_time t1, uint32_t e1, ustk_time t2, uint32_t e2)
{
    return t1 > t2 || (t1 == t2 && ustk_seq_gt(e1, e2));
}


/* §6.2 step 2: a segment delivered by this ACK updates RACK, unless it
 * was retransmitted and the ACK may be for the original. */
static void delivered(ustk_tcb *t, const ustk_txseg *g, uint32_t ts_ecr,
                      bool has_ts, ustk_time now)
{
    ustk_rack *r = t->x->rack;
    uint32_t rtt = now > g->xmit ? (uint32_t)(now - g->xmit) : 0;
    if (g->flags & TX_RETRANS) {
        if (r->min_rtt && rtt < r->min_rtt)
            return;
        if (has_ts && ustk_seq_lt(ts_ecr, ustk__tcp_ts(t, g->xmit)))
            return;
    }
    if (sent_after(g->xmit, g->end, r->xmit, r->end)) {
        r->xmit = g->xmit;
        r->end = g->end;
        r->rtt = rtt;
    }
    /* Step 1: the minimum RTT, over a window of five minutes. */
    if (!(g->flags & TX_RETRANS) &&
        (r->min_rtt == 0 || rtt < r->min_rtt ||
         now - r->min_rtt_at > MIN_RTT_WINDOW)) {
        r->min_rtt = rtt ? rtt : 1;
        r->min_rtt_at = now;
    }
    /* Step 3: a first transmission delivered below what was already
     * delivered was reordered. */
    if (!(g->flags & TX_RETRANS) && ustk_seq_lt(g->end, r->fack))
        r->reordering_seen = true;
}

/* §6.2 step 4. */
static uint32_t reo_wnd(const ustk_tcb *t)
{
    const ustk_rack *r = t->x->rack;
    if (!r->reordering_seen) {
        if (t->flags & TF_IN_RECOVERY)
            return 0;
        if (r->sacked_segs >= DUP_THRESH)
            return 0;
    }
    uint64_t w = (uint64_t)r->reo_wnd_mult * r->min_rtt / 4;
    if (t->srtt && w > t->srtt)
        w = t->srtt;
    return (uint32_t)w;
}

/* §6.2 step 5: mark lost every segment sent before the most recently
 * delivered one whose time is up; set the reordering timer for the
 * rest. Returns true when a segment was newly marked lost. */
static bool detect_loss(ustk_tcb *t, ustk_time now)
{
    ustk_rack *r = t->x->rack;
    uint32_t wnd = reo_wnd(t);
    ustk_time wait = 0;
    bool marked = false;
    for (uint32_t i = 0; i < r->n; i++) {
        ustk_txseg *g = rec(r, i);
        if (g->flags & (TX_SACKED | TX_LOST))
            continue;
        if (!sent_after(r->xmit, r->end, g->xmit, g->end)) {
            /* A first transmission sent after the reference: so is
             * everything beyond it (retransmissions went out later
             * still). */
            if (!(g->flags & TX_RETRANS))
                break;
            continue;
        }
        ustk_time due = g->xmit + r->rtt + wnd;
        if (due <= now) {
            set_flag(r, g, TX_LOST);
            marked = true;
        } else if (due - now > wait) {
            wait = due - now;
        }
    }
    r->reo_at = wait ? now + wait : USTK_TIME_NEVER;
    return marked;
}

/* RFC 2883 §4 + RFC 8985 §6.2 step 4: a D-SACK widens the reordering
 * window once per round trip; it also counts toward undoing the last
 * reduction when it reports a retransmission of that episode. */
static void on_dsack(ustk_stack *s, ustk_tcb *t, uint32_t l, uint32_t rr)
{
    ustk_rack *r = t->x->rack;
    if (!r->dsack_round_set || ustk_seq_geq(t->snd_una, r->dsack_round)) {
        r->dsack_round = t->x->snd_max;
        r->dsack_round_set = true;
        if (r->reo_wnd_mult < 255)
            r->reo_wnd_mult++;
        r->reo_wnd_persist = REO_PERSIST;
    }
    /* Only data that was in flight when the episode began can have been
     * resent in it. */
    if (!r->undo_valid || ustk_seq_lt(l, r->undo_marker) ||
        ustk_seq_gt(rr, r->undo_high) || !r->undo_retrans)
        return;
    uint32_t segs = 0;
    if (ustk_seq_geq(l, t->snd_una)) {
        /* Still in the log: only a duplicate of a retransmission counts;
         * the network may duplicate anything (RFC 2883 §4.2). */
        for (uint32_t i = find(t, l); i < r->n; i++) {
            const ustk_txseg *g = crec(r, i);
            if (!ustk_seq_lt(g->seq, rr))
                break;
            if (g->flags & TX_RETRANS)
                segs++;
        }
    } else {
        uint32_t smss = ustk__tcp_smss(t);
        segs = (rr - l + smss - 1) / smss;
    }
    if (!segs)
        return;
    r->undo_retrans = r->undo_retrans > segs ? r->undo_retrans - segs : 0;
    if (r->undo_retrans)
        return;
    /* Every retransmission of the episode reached the peer twice: the
     * loss was not one. Put the window back (RFC 3708 §3 suggests the
     * response; this is the one Linux uses). */
    r->undo_valid = false;
    r->reordering_seen = true;
    if (t->cwnd < r->prior_cwnd)
        t->cwnd = r->prior_cwnd;
    if (t->ssthresh < r->prior_ssthresh)
        t->ssthresh = r->prior_ssthresh;
    /* The recovery was for no loss: it ends, so that PRR stops steering
     * the window it just gave back. */
    t->flags &= ~(uint32_t)(TF_IN_RECOVERY | TF_SACK_RECOVERY);
    t->undos++;
    ustk__cc_trace(s, t);
}

/* §7.4: what the ACK says about an outstanding tail loss probe. A probe
 * of new data needs nothing (RACK sees any loss before it). A resent
 * probe ends the episode with nothing lost when both copies arrived: the
 * peer reports the probe as a D-SACK, or answers it with a duplicate ACK
 * that carries no SACK option. An ACK beyond the probe says the probe
 * repaired a loss, and the window is cut as for any loss (§7.4.2), unless
 * a recovery begun after the probe already did. An ACK that just reaches
 * the probe's end is undecided: it may be the original's, with the
 * probe's report still to come. A segment that carries data or moves the
 * window is no duplicate ACK (RFC 5681 §2; Linux counts the same way),
 * so it says nothing about the probe. */
static void tlp_on_ack(ustk_stack *s, ustk_tcb *t, uint32_t ack, bool dup,
                       const ustk_tcp_opts *o, bool dsack, uint32_t dsack_r,
                       ustk_time now)
{
    ustk_rack *r = t->x->rack;
    if (!r->tlp_active || ustk_seq_lt(ack, r->tlp_end))
        return;
    if (!r->tlp_is_retrans) {
        r->tlp_active = false;
        return;
    }
    if ((dsack && dsack_r == r->tlp_end) ||
        (dup && !(o->has & USTK_OPT_SACK))) {
        r->tlp_active = false;
        return;
    }
    if (!ustk_seq_gt(ack, r->tlp_end))
        return;
    r->tlp_active = false;
    if (!t->cwnd || (t->flags & TF_IN_RECOVERY) ||
        ustk_seq_geq(t->x->recover, r->tlp_end))
        return;
    ustk__rack_undo_start(t, false);
    uint32_t flight = r->tlp_flight < t->cwnd ? r->tlp_flight : t->cwnd;
    t->ssthresh = ustk__cc_ops(t->cc_kind)->ssthresh_on_loss(t, flight, now);
    t->cwnd = t->ssthresh;
    t->x->recover = t->x->snd_max;
    ustk__cc_trace(s, t);
}

bool ustk__rack_on_ack(ustk_stack *s, ustk_tcb *t, uint32_t prior_una,
                       bool dup, const ustk_tcp_opts *o, bool dsack,
                       uint32_t dsack_l, uint32_t dsack_r, ustk_time now)
{
    ustk_rack *r = t->x->rack;
    if (!r)
        return false;
    bool has_ts = (t->flags & TF_TS) && (o->has & USTK_OPT_TS);
    bool advanced = false;
    uint32_t fack = r->fack;
    /* RFC 6298 sample: the newest segment this ACK covers that was sent
     * only once (Karn), like the timing of one segment per RTT, but on
     * every ACK (RFC 7323 Appendix G finds that safe). */
    ustk_time sample_at = 0;
    bool acked_rtx = false;
    /* Cumulatively acknowledged records leave the log. */
    while (r->n && ustk_seq_leq(rec(r, 0)->end, t->snd_una)) {
        ustk_txseg *g = rec(r, 0);
        if (!(g->flags & TX_SACKED)) {
            delivered(t, g, o->ts_ecr, has_ts, now);
            advanced = true;
            if (g->flags & TX_RETRANS)
                acked_rtx = true;
            else if (g->xmit > sample_at)
                sample_at = g->xmit;
        } else {
            r->sacked_bytes -= g->end - g->seq;
            r->sacked_segs--;
        }
        clear_lost(r, g);
        r->head++;
        r->n--;
    }
    /* One sample per round trip, as RFC 6298's estimator expects (more
     * would shrink RTTVAR too fast; RFC 7323 Appendix G), at once after a
     * timeout. An ACK that covers a retransmission may have been sent for
     * it, so it gives none (Karn). */
    bool due = !t->srtt || r->sample_now || now - r->sampled_at >= t->srtt;
    if (!due) {
        /* no sample this time */
    } else if (sample_at && !acked_rtx && now >= sample_at) {
        ustk__tcp_rtt_sample(s, t, now - sample_at);
        t->flags &= ~(uint32_t)TF_RTT_TIMING;
        r->sampled_at = now;
        r->sample_now = false;
    }
    /* No sample from the echoed timestamp either: for a duplicate the
     * peer echoes the TS.Recent of the segment that last advanced its
     * window (RFC 7323 §5.3 R2 rejects the duplicate before R3), which
     * can be seconds old after a lost ACK. */
    if (r->n == 0) {
        r->head = 0;
        r->sacked_bytes = r->lost_bytes = r->sacked_segs = 0;
    } else if (ustk_seq_lt(rec(r, 0)->seq, t->snd_una)) {
        /* A record acknowledged in part: keep the rest. */
        ustk_txseg *g = rec(r, 0);
        uint32_t gone = t->snd_una - g->seq;
        if (g->flags & TX_LOST)
            r->lost_bytes -= gone;
        if (g->flags & TX_SACKED)
            r->sacked_bytes -= gone;
        g->seq = t->snd_una;
    }
    /* Newly SACKed records, found through the SACK blocks. */
    if ((o->has & USTK_OPT_SACK) && t->x->sb) {
        for (uint32_t b = 0; b < o->nsack; b++) {
            uint32_t l = o->sack[b][0], rr = o->sack[b][1];
            if (!ustk_seq_lt(l, rr) || ustk_seq_leq(rr, t->snd_una) ||
                ustk_seq_gt(rr, t->x->snd_max))
                continue;
            for (uint32_t i = find(t, l); i < r->n; i++) {
                ustk_txseg *g = rec(r, i);
                if (!ustk_seq_lt(g->seq, rr))
                    break;
                if (g->flags & TX_SACKED)
                    continue;
                if (ustk__sb_unsacked(t, g->seq, g->end) != 0)
                    continue; /* covered only in part */
                delivered(t, g, o->ts_ecr, has_ts, now);
                set_flag(r, g, TX_SACKED);
                advanced = true;
            }
        }
    }
    /* RACK.fack: the highest sequence delivered so far. */
    if (ustk_seq_gt(t->snd_una, fack))
        fack = t->snd_una;
    if (t->x->sb)
        for (uint32_t i = 0; i < t->x->sb->n; i++)
            if (ustk_seq_gt(t->x->sb->blk[i][1], fack))
                fack = t->x->sb->blk[i][1];
    r->fack = fack;

    /* D-SACKs for an episode arrive within about an RTT of its end;
     * after that a D-SACK says nothing about the cut any more. */
    if (r->undo_valid && !(t->flags & TF_IN_RECOVERY) && !t->x->backoff &&
        ustk_seq_geq(t->snd_una, t->x->recover)) {
        if (!r->undo_until)
            r->undo_until = now + (t->srtt ? t->srtt : USTK_MS(200));
        else if (now > r->undo_until)
            r->undo_valid = false;
    }
    if (dsack)
        on_dsack(s, t, dsack_l, dsack_r);
    tlp_on_ack(s, t, t->snd_una, dup, o, dsack, dsack_r, now);

    /* Leaving recovery counts toward forgetting old reordering. */
    if (!(t->flags & TF_IN_RECOVERY) && r->reo_wnd_persist &&
        ustk_seq_geq(t->snd_una, t->x->recover) &&
        ustk_seq_gt(t->snd_una, prior_una) &&
        ustk_seq_lt(prior_una, t->x->recover)) {
        if (--r->reo_wnd_persist == 0)
            r->reo_wnd_mult = 1;
    }
    bool marked = false;
    if (advanced || r->reo_at != USTK_TIME_NEVER)
        marked = detect_loss(t, now);
    if (r->n == 0) {
        r->reo_at = USTK_TIME_NEVER;
        r->pto_at = USTK_TIME_NEVER;
        t->flags &= ~(uint32_t)TF_TLP;
    }
    return marked;
}

bool ustk__rack_on_reo_timer(ustk_stack *s, ustk_tcb *t, ustk_time now)
{
    if (!t->x->rack)
        return false;
    t->x->rack->reo_at = USTK_TIME_NEVER;
    return detect_loss(t, now);
}

bool ustk__rack_next_lost(const ustk_tcb *t, uint32_t *seq, uint32_t *len)
{
    const ustk_rack *r = t->x->rack;
    if (!r || r->lost_bytes == 0)
        return false;
    for (uint32_t i = 0; i < r->n; i++) {
        const ustk_txseg *g = crec(r, i);
        if (g->flags & TX_LOST) {
            *seq = g->seq;
            /* Runs of lost records go out together, up to the caller's
             * segment size. */
            uint32_t end = g->end;
            for (uint32_t k = i + 1; k < r->n; k++) {
                const ustk_txseg *h = crec(r, k);
                if (!(h->flags & TX_LOST) || h->seq != end)
                    break;
                end = h->end;
            }
            *len = end - g->seq;
            return true;
        }
    }
    return false;
}

uint32_t ustk__rack_pipe(const ustk_tcb *t)
{
    const ustk_rack *r = t->x->rack;
    uint32_t out = t->x->snd_max - t->snd_una;
    if (!r)
        return out;
    uint32_t gone = r->sacked_bytes + r->lost_bytes;
    return out > gone ? out - gone : 0;
}

bool ustk__rack_last(const ustk_tcb *t, uint32_t *seq, uint32_t *end)
{
    const ustk_rack *r = t->x->rack;
    if (!r || r->n == 0)
        return false;
    const ustk_txseg *g = crec(r, r->n - 1);
    *seq = g->seq;
    *end = g->end;
    return true;
}

/* ---- TLP ---- */

void ustk__rack_arm_pto(ustk_stack *s, ustk_tcb *t, ustk_time now)
{
    ustk_rack *r = t->x->rack;
    if (!r)
        return;
    r->pto_at = USTK_TIME_NEVER;
    /* §7.2: only in the open state, with SACK, one probe per episode,
     * and only with data in flight. */
    if (!t->tlp_on || (t->flags & TF_IN_RECOVERY) || r->tlp_active ||
        t->snd_una == t->x->snd_max || t->x->backoff || r->sacked_segs ||
        !(t->flags & TF_SYN_ACKED))
        return;
    ustk_time pto;
    if (t->srtt) {
        pto = 2 * (ustk_time)t->srtt;
        if (t->x->snd_max - t->snd_una <= ustk__tcp_smss(t))
            pto += WC_DEL_ACK_US;
    } else {
        pto = USTK_SEC(1);
    }
    /* No later than the RTO would fire: the probe then goes in its
     * place, and the RTO is armed again after it. */
    ustk_time at = now + pto;
    if (at > t->x->rtx_at)
        at = t->x->rtx_at;
    r->pto_at = at;
}

void ustk__rack_tlp_sent(ustk_tcb *t, uint32_t end, bool rtx)
{
    ustk_rack *r = t->x->rack;
    if (!r)
        return;
    r->tlp_active = true;
    r->tlp_end = end;
    r->tlp_is_retrans = rtx;
    r->tlp_flight = t->x->snd_max - t->snd_una;
    r->pto_at = USTK_TIME_NEVER;
}

/* ---- undo ---- */

void ustk__rack_undo_start(ustk_tcb *t, bool continued)
{
    ustk_rack *r = t->x->rack;
    if (!r)
        return;
    if (r->undo_valid && continued)
        return;
    r->undo_valid = true;
    r->undo_until = 0;
    r->undo_marker = t->snd_una;
    r->undo_high = t->x->snd_max;
    /* A resent tail loss probe still out belongs to the episode. */
    r->undo_retrans = (r->tlp_active && r->tlp_is_retrans) ? 1u : 0u;
    r->prior_cwnd = t->cwnd;
    /* Back in slow start the window to return to is the one we had,
     * not an unbounded ssthresh. */
    r->prior_ssthresh = t->ssthresh >= USTK_CWND_MAX ? t->cwnd : t->ssthresh;
}

void ustk__rack_on_rto(ustk_tcb *t, bool forget_sacks)
{
    ustk_rack *r = t->x->rack;
    if (!r)
        return;
    uint32_t drop = TX_LOST | (forget_sacks ? TX_SACKED : 0u);
    for (uint32_t i = 0; i < r->n; i++)
        rec(r, i)->flags &= ~drop;
    r->lost_bytes = 0;
    if (forget_sacks) {
        r->sacked_bytes = r->sacked_segs = 0;
        r->fack = t->snd_una; /* nothing beyond SND.UNA counts delivered */
    }
    r->sample_now = true;
    r->tlp_active = false;
    r->pto_at = USTK_TIME_NEVER;
    r->reo_at = USTK_TIME_NEVER;
    t->flags &= ~(uint32_t)TF_TLP;
}
