/* TIME-WAIT without the connection block.
 *
 * A connection in TIME-WAIT that nobody holds a handle to needs only what
 * it takes to answer a retransmitted FIN, reject old duplicates and decide
 * whether a new SYN may reopen the 4-tuple (RFC 9293 §3.6.1, RFC 6191).
 * That fits a 56-byte record: busy servers keep tens of thousands of
 * these, and the full block (over 500 bytes) would dominate their memory.
 * Records sit in chunks of USTK_TW_CHUNK and link to each other by 32-bit
 * number, and the hash buckets are 32-bit numbers too, so one entry costs
 * 56 bytes plus about 4 to 8 of bucket.
 *
 * Records live in their own hash table and in one FIFO in order of
 * expiry: every record expires 2*MSL after it was made or last restarted,
 * so a restarted record goes to the back, as a fresh record.
 * One heap node, keyed by the head's expiry, puts the whole FIFO into the
 * stack's timer heap: expiry costs O(1) per record, and nothing scans.
 *
 * A segment for a record is rare (a retransmitted FIN, a stray ACK, a new
 * SYN), so it is handled by turning the record back into a full block,
 * which then goes through the ordinary input path; the block is made
 * compact again when it is still in TIME-WAIT afterwards. When no block
 * can be had, the record answers a retransmitted FIN itself
 * (ustk__tw_no_block). */
#include <string.h>

#include "tcp_priv.h"

#ifndef USTK_TW_CHUNK
#define USTK_TW_CHUNK 1024u
#endif

enum { TW_TS = 1, TW_WSCALE = 2, TW_SACK = 4, TW_DEAD = 8 };

struct ustk_tw {
    uint32_t hnext, qnext; /* record numbers, 0 = none */
    ustk_time expires;
    ustk_ip4 laddr, raddr;
    uint16_t lport, rport;
    uint32_t iss, irs;
    uint32_t snd_nxt, rcv_nxt;
    uint32_t ts_recent, ts_offset;
    uint16_t mss;
    uint8_t wscale; /* snd_wscale << 4 | rcv_wscale */
    uint8_t flags;  /* TW_* */
};

_Static_assert(sizeof(struct ustk_tw) <= 56,
               "a TIME-WAIT record must fit in 56 bytes");

static uint32_t nchunks(const ustk_stack *s)
{
    return (s->cfg.max_time_wait + USTK_TW_CHUNK - 1) / USTK_TW_CHUNK;
}

static ustk_tw *rec(const ustk_tw_tab *w, uint32_t id)
{
    return &w->chunk[(id - 1) / USTK_TW_CHUNK][(id - 1) % USTK_TW_CHUNK];
}

static bool table(ustk_stack *s)
{
    if (s->tw)
        return true;
    uint32_t max = s->cfg.max_time_wait;
    if (max == 0)
        return false;
    uint32_t buckets = ustk__pow2_at_least(max, 1);
    ustk_tw_tab *w = ustk__alloc(s, sizeof(*w));
    if (!w)
        return false;
    memset(w, 0, sizeof(*w));
    w->chunk = ustk__alloc(s, nchunks(s) * sizeof(w->chunk[0]));
    w->tab = ustk__alloc(s, (size_t)buckets * sizeof(w->tab[0]));
    if (!w->chunk || !w->tab) {
        ustk__free(s, w->chunk);
        ustk__free(s, w->tab);
        ustk__free(s, w);
        return false;
    }
    memset(w->chunk, 0, nchunks(s) * sizeof(w->chunk[0]));
    memset(w->tab, 0, (size_t)buckets * sizeof(w->tab[0]));
    ustk_heap_node_init(&w->timer);
    w->mask = buckets - 1;
    s->tw = w;
    return true;
}

void ustk__tw_fini(ustk_stack *s)
{
    ustk_tw_tab *w = s->tw;
    if (!w)
        return;
    for (uint32_t i = 0; i < nchunks(s); i++)
        ustk__free(s, w->chunk[i]);
    if (ustk_heap_contains(&w->timer))
        ustk_heap_remove(&s->timers, &w->timer);
    ustk__free(s, w->chunk);
    ustk__free(s, w->tab);
    ustk__free(s, w);
    s->tw = NULL;
}

uint32_t ustk__tw_count(const ustk_stack *s)
{
    return s->tw ? s->tw->n : 0;
}

/* A free record's number, 0 when none can be had. */
static uint32_t take(ustk_stack *s)
{
    ustk_tw_tab *w = s->tw;
    if (w->free) {
        uint32_t id = w->free;
        w->free = rec(w, id)->hnext;
        return id;
    }
    if (w->used >= s->cfg.max_time_wait)
        return 0;
    uint32_t c = w->used / USTK_TW_CHUNK;
    if (!w->chunk[c]) {
        w->chunk[c] = ustk__alloc(s, USTK_TW_CHUNK * sizeof(ustk_tw));
        if (!w->chunk[c])
            return 0;
    }
    return ++w->used;
}

static void give(ustk_tw_tab *w, uint32_t id)
{
    rec(w, id)->hnext = w->free;
    w->free = id;
}

/* The table is keyed by the connection table's hash (same key, same
 * function, its own mask), so a 4-tuple is hashed once for both. */
static uint32_t *bucket(ustk_stack *s, uint32_t hash)
{
    return &s->tw->tab[hash & s->tw->mask];
}

static uint32_t rec_hash(const ustk_stack *s, const ustk_tw *r)
{
    return ustk__conn_hash(s, r->laddr, r->lport, r->raddr, r->rport);
}

ustk_tw *ustk__tw_lookup(ustk_stack *s, uint32_t hash, ustk_ip4 laddr,
                         uint16_t lport, ustk_ip4 raddr, uint16_t rport)
{
    ustk_tw_tab *w = s->tw;
    if (!w || w->n == 0)
        return NULL;
    for (uint32_t id = *bucket(s, hash); id;) {
        ustk_tw *r = rec(w, id);
        if (r->laddr == laddr && r->lport == lport && r->raddr == raddr &&
            r->rport == rport)
            return r;
        id = r->hnext;
    }
    return NULL;
}

static void unhash(ustk_stack *s, ustk_tw *r, uint32_t hash)
{
    ustk_tw_tab *w = s->tw;
    for (uint32_t *pp = bucket(s, hash); *pp; pp = &rec(w, *pp)->hnext)
        if (rec(w, *pp) == r) {
            *pp = r->hnext;
            break;
        }
    r->hnext = 0;
    w->n--;
}

static void rearm(ustk_stack *s)
{
    ustk_tw_tab *w = s->tw;
    if (w->head)
        ustk_heap_set(&s->timers, &w->timer, rec(w, w->head)->expires);
    else if (ustk_heap_contains(&w->timer))
        ustk_heap_remove(&s->timers, &w->timer);
}

static void enqueue(ustk_tw_tab *w, uint32_t id)
{
    rec(w, id)->qnext = 0;
    if (w->tail)
        rec(w, w->tail)->qnext = id;
    else
        w->head = id;
    w->tail = id;
}

bool ustk__tw_compact_now(ustk_stack *s, ustk_tcb *t)
{
    if (t->sock >= 0 || !(t->flags & TF_ORPHAN) || (t->flags & TF_DEAD) ||
        !table(s) || s->tw->n >= s->cfg.max_time_wait)
        return false;
    /* An ACK still to go (for the FIN that brought us here) goes first;
     * the output path makes the block compact once it is out. */
    if ((t->flags & TF_ACK_NOW) || t->x->delack_at != USTK_TIME_NEVER)
        return false;
    uint32_t id = take(s);
    if (!id)
        return false;
    ustk_tw_tab *w = s->tw;
    ustk_tw *r = rec(w, id);
    memset(r, 0, sizeof(*r));
    r->expires = t->x->tw_at;
    r->laddr = t->laddr;
    r->raddr = t->raddr;
    r->lport = t->lport;
    r->rport = t->rport;
    r->iss = t->iss;
    r->irs = t->irs;
    r->snd_nxt = t->x->snd_max;
    r->rcv_nxt = t->rcv_nxt;
    r->ts_recent = t->ts_recent;
    r->ts_offset = t->ts_offset;
    r->mss = t->mss;
    r->wscale = (uint8_t)(t->snd_wscale << 4 | t->rcv_wscale);
    r->flags = (uint8_t)(((t->flags & TF_TS) ? TW_TS : 0) |
                         ((t->flags & TF_WSCALE) ? TW_WSCALE : 0) |
                         ((t->flags & TF_SACK) ? TW_SACK : 0));
    /* The block's own hash, kept since its hash-in; the record has no
     * room for it, so expiry computes it again. */
    uint32_t hash = ustk__tcb_hash_of(s, t);
    /* The block goes without a trace event: to the peer and to anyone
     * watching, the connection is still in TIME-WAIT. */
    ustk__tcb_free(s, t);
    uint32_t *b = bucket(s, hash);
    r->hnext = *b;
    *b = id;
    w->n++;
    enqueue(w, id);
    rearm(s);
    return true;
}
/* Make a full block from a record, in TIME-WAIT, in the connection table
 * and with its timer set, exactly as it was before it was made compact.
 * The record is marked dead; the FIFO frees it when its time comes. When
 * the block is made compact again, its new record joins the back of the
 * FIFO: after a retransmitted FIN restarted the timer that is its place;
 * otherwise it may wait behind younger records, so TIME-WAIT can last up
 * to twice 2*MSL after a stray segment, never less than 2*MSL. NULL when
 * there is no memory (the segment is then dropped). */
ustk_tcb *ustk__tw_expand(ustk_stack *s, ustk_tw *r, uint32_t hash,
                          ustk_time now)
{
    ustk_tcb *t = ustk__tcb_new(s);
    if (!t)
        return NULL;
    t->state = USTK_TCP_TIME_WAIT;
    t->flags = TF_ORPHAN | TF_SYN_ACKED | TF_FIN_RCVD | TF_FIN_QUEUED;
    if (r->flags & TW_TS)
        t->flags |= TF_TS;
    if (r->flags & TW_WSCALE)
        t->flags |= TF_WSCALE;
    if (r->flags & TW_SACK)
        t->flags |= TF_SACK;
    t->laddr = r->laddr;
    t->raddr = r->raddr;
    t->lport = r->lport;
    t->rport = r->rport;
    t->iss = r->iss;
    t->irs = r->irs;
    t->snd_una = t->x->snd_nxt = t->x->snd_max = t->x->snd_sml = r->snd_nxt;
    t->snd_wl2 = r->snd_nxt;
    t->rcv_nxt = t->x->last_ack_sent = r->rcv_nxt;
    t->mss = r->mss;
    t->snd_wscale = (uint8_t)(r->wscale >> 4);
    t->rcv_wscale = (uint8_t)(r->wscale & 15);
    t->max_snd_wnd = (uint32_t)65535 << t->snd_wscale;
    /* RCV.ADV first at RCV.NXT: the window never shrinks below what was
     * offered, and a zero RCV.ADV would pass for an offer far ahead of
     * an RCV.NXT in the upper half of the sequence space. */
    t->rcv_adv = t->rcv_nxt;
    t->rcv_adv += ustk__tcp_rcv_window(s, t);
    t->ts_recent = r->ts_recent;
    t->ts_recent_at_s = (uint32_t)(now / USTK_SEC(1));
    t->ts_offset = r->ts_offset;
    t->x->rto = s->cfg.rto_initial;
    t->x->tw_at = r->expires;
    unhash(s, r, hash);
    r->flags |= TW_DEAD; /* the FIFO frees it when its time comes */
    ustk__tcb_hash(s, t, hash);
    ustk__tcp_reschedule(s, t);
    return t;
}

/* The FIFO's head is due: free what has expired. A record restarted
 * since it was queued goes to the back; a traced connection is expanded
 * first so that the trace shows the timer and the move to CLOSED. */
void ustk__tw_timer(ustk_stack *s, ustk_time now)
{
    ustk_tw_tab *w = s->tw;
    while (w->head && rec(w, w->head)->expires <= now) {
        uint32_t id = w->head;
        ustk_tw *r = rec(w, id);
        w->head = r->qnext;
        if (!w->head)
            w->tail = 0;
        if (r->flags & TW_DEAD) {
            give(w, id);
            continue;
        }
        if (s->cfg.trace) {
            uint32_t hash = rec_hash(s, r);
            ustk_tcb *t = ustk__tw_expand(s, r, hash, now);
            /* No block to show it in (the table is full): it expires
             * untraced, out of its bucket before its number is reused. */
            if (!t)
                unhash(s, r, hash);
            give(w, id);
            if (t) {
                ustk__trace_timer(s, t, USTK_TIMER_TIME_WAIT);
                ustk__tcb_close(s, t, 0);
            }
            continue;
        }
        unhash(s, r, rec_hash(s, r));
        give(w, id);
    }
    rearm(s);
}


/* Restart a record's 2*MSL. It moves to the back of the FIFO as a fresh
 * record, the old one left dead for the FIFO to free, so the FIFO stays
 * in expiry order. When no record can be had for the move, it restarts
 * where it is: the records behind it then wait for it, up to 2*MSL
 * longer than theirs, never less. */
static void restart(ustk_stack *s, ustk_tw *r, uint32_t hash, ustk_time now)
{
    ustk_tw_tab *w = s->tw;
    ustk_time expires = now + 2 * s->cfg.msl;
    uint32_t id = take(s);
    if (!id) {
        r->expires = expires;
        return;
    }
    ustk_tw *n = rec(w, id);
    *n = *r;
    n->expires = expires;
    unhash(s, r, hash);
    r->flags |= TW_DEAD;
    uint32_t *b = bucket(s, hash);
    n->hnext = *b;
    *b = id;
    w->n++;
    enqueue(w, id);
    rearm(s);
}

/* The ACK the block would send from TIME-WAIT: SND.NXT, RCV.NXT, the
 * window of an empty receive buffer, our timestamp and TS.Recent. */
static void send_ack(ustk_stack *s, const ustk_tw *r, ustk_time now)
{
    uint8_t rcv_ws = (uint8_t)(r->wscale & 15);
    uint32_t wnd = TCB_RCV_CAP(s) >> rcv_ws;
    ustk_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.sport = r->lport;
    h.dport = r->rport;
    h.seq = r->snd_nxt;
    h.ack = r->rcv_nxt;
    h.flags = USTK_TCP_ACK;
    h.wnd = (uint16_t)(wnd > 65535 ? 65535 : wnd);
    if (r->flags & TW_TS) {
        h.opts.has |= USTK_OPT_TS;
        h.opts.ts_val = (uint32_t)(now / 1000) + r->ts_offset;
        h.opts.ts_ecr = r->ts_recent;
    }
    ustk_tcb like;
    memset(&like, 0, sizeof(like));
    like.iss = r->iss;
    like.irs = r->irs;
    like.state = USTK_TCP_TIME_WAIT;
    like.sock = -1;
    ustk__tcp_send_bare(s, r->laddr, r->raddr, &h, &like);
}

void ustk__tw_no_block(ustk_stack *s, ustk_tw *r, uint32_t hash,
                       const ustk_tcp_hdr *h, uint32_t len, ustk_time now)
{
    /* Only a segment that lies wholly before RCV.NXT and takes sequence
     * space is answered; anything else (a new SYN, a RST, a bare ACK,
     * data beyond the FIN) needs the block's input path. */
    uint32_t seg_len = len + ((h->flags & USTK_TCP_FIN) ? 1u : 0u);
    if ((h->flags & (USTK_TCP_SYN | USTK_TCP_RST)) || seg_len == 0 ||
        ustk_seq_gt(h->seq + seg_len, r->rcv_nxt)) {
        ustk__drop(s, USTK_DROP_TCP_NO_MEMORY, NULL, h, len);
        return;
    }
    /* RFC 7323 as the block checks it: no timestamp, no answer; an old
     * one fails PAWS (§5.3 R1) and is acknowledged, without a restart. */
    if (r->flags & TW_TS) {
        if (!(h->opts.has & USTK_OPT_TS)) {
            ustk__drop(s, USTK_DROP_TCP_NO_TIMESTAMP, NULL, h, len);
            return;
        }
        if (ustk_seq_lt(h->opts.ts_val, r->ts_recent)) {
            send_ack(s, r, now);
            ustk__drop(s, USTK_DROP_TCP_PAWS, NULL, h, len);
            return;
        }
    }
    /* RFC 9293 §3.10.7.4, TIME-WAIT: "The only thing that can arrive in
     * this state is a retransmission of the remote FIN. Acknowledge it,
     * and restart the 2 MSL timeout." Old data is acknowledged too, as
     * any unacceptable segment is. */
    if (h->flags & USTK_TCP_FIN)
        restart(s, r, hash, now);
    send_ack(s, r, now);
    ustk__drop(s, USTK_DROP_TCP_UNACCEPTABLE, NULL, h, len);
}
