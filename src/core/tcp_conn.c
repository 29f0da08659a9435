/* TCP connections: allocation, the connection and port tables, initial
 * sequence numbers, state changes and their trace. */
#include <string.h>

#include "tcp_priv.h"
#include "util/hot.h"
#include "util/siphash.h"

/* SipHash of the 4-tuple under a key: the connection table's key for the
 * bucket, the ISN secret for RFC 6528's F(). */
uint32_t ustk__tuple_hash(const uint8_t key[16], ustk_ip4 laddr,
                          uint16_t lport, ustk_ip4 raddr, uint16_t rport)
{
    uint8_t k[12];
    memcpy(k, &laddr, 4);
    memcpy(k + 4, &raddr, 4);
    memcpy(k + 8, &lport, 2);
    memcpy(k + 10, &rport, 2);
    return (uint32_t)ustk_siphash24(key, k, sizeof(k));
}

static uint32_t port_slot(const ustk_stack *s, uint16_t port)
{
    /* Ports are few and not chosen by remote peers: a multiplicative hash
     * is enough. */
    return (uint32_t)(port * 2654435761u) & s->port_mask;
}

ustk_tcb *ustk__tcb_new(ustk_stack *s)
{
    if (s->ntcb >= s->cfg.max_sockets)
        return NULL;
    ustk_tcb *t = ustk__alloc(s, sizeof(*t));
    if (!t)
        return NULL;
    ustk_zero(t, sizeof(*t));
    t->sock = -1;
    t->state = USTK_TCP_CLOSED;
    t->cc_kind = s->cfg.cc & 3u;
    t->nodelay = s->cfg.nodelay;
    t->rack_on = s->cfg.tcp_rack;
    t->tlp_on = s->cfg.tcp_tlp;
    /* A new block is about to do something (connect, listen, a
     * handshake): it starts with its busy part. */
    if (!ustk__tcb_busy(s, t)) {
        ustk__free(s, t);
        return NULL;
    }
    s->ntcb++;
    return t;
}

/* Buffers are taken when a connection has bytes to hold and given back
 * as soon as it has none, so an idle connection holds no buffer memory.
 * A few freed ones are kept for reuse: a stream whose reader drains the
 * receive ring at every read must not pay a large allocation each time. */
void *ustk__buf_get(ustk_stack *s, int kind, size_t n)
{
    if (s->buf_cached[kind])
        return s->buf_cache[kind][--s->buf_cached[kind]];
    return ustk__alloc(s, n);
}

void ustk__buf_put(ustk_stack *s, int kind, void *p)
{
    if (!p)
        return;
    if (s->buf_cached[kind] < USTK_BUF_CACHE)
        s->buf_cache[kind][s->buf_cached[kind]++] = p;
    else
        ustk__free(s, p);
}

void ustk__tcb_buf_cache_fini(ustk_stack *s)
{
    for (int k = 0; k < USTK_CACHE_KINDS; k++)
        while (s->buf_cached[k])
            ustk__free(s, s->buf_cache[k][--s->buf_cached[k]]);
}

/* ---- the busy part ---- */

/* The timer heap's slots, moved to an array of cap; false (and the heap
 * as it was) without memory. */
static bool heap_resize(ustk_stack *s, uint32_t cap)
{
    ustk_heap *h = &s->timers;
    ustk_heap_node **v = ustk__alloc(s, (size_t)cap * sizeof(*v));
    if (!v)
        return false;
    if (h->n)
        memcpy(v, h->v, (size_t)h->n * sizeof(*v));
    ustk__free(s, h->v);
    h->v = v;
    h->cap = cap;
    s->timer_slots = v;
    return true;
}

/* The timer heap holds only busy parts' nodes (and the TIME-WAIT
 * table's), so it grows with the busy parts instead of being sized for
 * max_sockets: idle connections cost it nothing. Room is made before a
 * part is taken, so that arming a timer never fails. */
static bool timers_reserve(ustk_stack *s, uint32_t need)
{
    ustk_heap *h = &s->timers;
    if (need <= h->cap)
        return true;
    uint32_t cap = h->cap ? h->cap : 16;
    while (cap < need)
        cap *= 2;
    return heap_resize(s, cap);
}

/* What a fresh busy part holds; a quiet connection's part holds the same
 * (tcb_quiet), so giving it back and taking a new one changes nothing. */
static void busy_init(const ustk_stack *s, ustk_tcb *t, ustk_tcbx *x)
{
    ustk_zero(x, sizeof(*x)); /* not memset: see util/hot.h */
    x->tcb = t;
    ustk_heap_node_init(&x->timer);
    x->snd_nxt = x->snd_max = x->snd_sml = t->snd_una;
    x->last_ack_sent = t->rcv_nxt;
    x->rto = ustk__tcp_rto_base(s, t);
    x->recover = t->snd_una;
    x->rtx_at = x->delack_at = x->persist_at = x->tw_at = USTK_TIME_NEVER;
    x->keep_at = USTK_TIME_NEVER;
    x->keep_idle_s = (uint32_t)(s->cfg.keepalive_idle / 1000000u);
    x->keep_intvl_s = (uint32_t)(s->cfg.keepalive_intvl / 1000000u);
    x->keep_cnt = s->cfg.keepalive_count;
}

bool ustk__tcb_busy_take(ustk_stack *s, ustk_tcb *t)
{
    if (t->x)
        return true;
    /* One heap slot per busy part, one for the TIME-WAIT table. */
    if (!timers_reserve(s, s->nbusy + 2))
        return false;
    ustk_tcbx *x = ustk__buf_get(s, USTK_CACHE_BUSY, sizeof(*x));
    if (!x)
        return false;
    busy_init(s, t, x);
    t->x = x;
    s->nbusy++;
    return true;
}

static void busy_put(ustk_stack *s, ustk_tcb *t)
{
    ustk__buf_put(s, USTK_CACHE_BUSY, t->x);
    t->x = NULL;
    s->nbusy--;
    /* A burst of handshakes grew the heap: once busy parts are down to a
     * quarter of its slots, halve it (the quarter keeps growing and
     * shrinking from alternating). Failure only leaves it larger. */
    ustk_heap *h = &s->timers;
    if (h->cap > 64 && s->nbusy + 2 <= h->cap / 4 && h->n <= h->cap / 4) {
        (void)heap_resize(s, h->cap / 2); /* kept as it is without memory */
    }
}

/* Nothing going on: the busy part holds only what busy_init puts there
 * (but for the congestion-avoidance epoch, which restarts as after an
 * idle period), and no deadline is due. Keepalive and non-default
 * timeouts keep the part: their values and the keepalive deadline live
 * there. An ACK to an unacceptable segment less than 500 ms ago keeps it
 * too (its rate limit, RFC 5961 §7), until the connection's next event. */
static bool tcb_quiet(const ustk_stack *s, const ustk_tcb *t)
{
    const ustk_tcbx *x = t->x;
    if (t->state != USTK_TCP_ESTABLISHED && t->state != USTK_TCP_CLOSE_WAIT)
        return false;
    if ((t->flags & TCB_BUSY_FLAGS) || t->keepalive)
        return false;
    if (ustk_heap_contains(&x->timer) || x->listener || x->aq_next ||
        x->aq_prev || x->snd.buf || x->rcv.buf || x->ooo || x->sb ||
        x->rack)
        return false;
    if (x->snd_nxt != t->snd_una || x->snd_max != t->snd_una ||
        x->last_ack_sent != t->rcv_nxt || ustk_seq_gt(x->recover, t->snd_una))
        return false;
    /* An RTO still backed off, or set without a sample (after a SYN
     * timeout, RFC 6298 §5.7), is not what a fresh part would get. */
    if (x->rto != ustk__tcp_rto_base(s, t))
        return false;
    if (x->rtx_at != USTK_TIME_NEVER || x->delack_at != USTK_TIME_NEVER ||
        x->persist_at != USTK_TIME_NEVER || x->tw_at != USTK_TIME_NEVER ||
        x->keep_at != USTK_TIME_NEVER || x->una_since)
        return false;
    if (x->oow_ack_at && s->now - x->oow_ack_at < USTK_MS(500))
        return false;
    if (x->dupacks || x->keep_probes || x->backoff || x->persist_backoff ||
        x->probes_unanswered || x->unacked_segs)
        return false;
    if (x->keep_idle_s != (uint32_t)(s->cfg.keepalive_idle / 1000000u) ||
        x->keep_intvl_s != (uint32_t)(s->cfg.keepalive_intvl / 1000000u) ||
        x->keep_cnt != s->cfg.keepalive_count || x->user_timeout_ms)
        return false;
    return true;
}

void ustk__tcb_settle_now(ustk_stack *s, ustk_tcb *t)
{
    if (t->x && tcb_quiet(s, t))
        busy_put(s, t);
}

void ustk__tcb_snd_release(ustk_stack *s, ustk_tcb *t)
{
    if (!t->x)
        return;
    ustk__buf_put(s, USTK_CACHE_SND, t->x->snd.buf);
    memset(&t->x->snd, 0, sizeof(t->x->snd));
    /* The RACK log goes with the data it describes, and so does the
     * scoreboard: with nothing unacknowledged it is empty. */
    ustk__rack_free(s, t);
    ustk__free(s, t->x->sb);
    t->x->sb = NULL;
}

void ustk__tcb_rcv_release(ustk_stack *s, ustk_tcb *t)
{
    if (!t->x)
        return;
    ustk__buf_put(s, USTK_CACHE_RCV, t->x->rcv.buf);
    memset(&t->x->rcv, 0, sizeof(t->x->rcv));
    ustk__free(s, t->x->ooo);
    t->x->ooo = NULL;
}

void ustk__tcb_free_buffers(ustk_stack *s, ustk_tcb *t)
{
    if (!t->x)
        return;
    ustk__tcb_snd_release(s, t);
    ustk__tcb_rcv_release(s, t);
    ustk__free(s, t->x->sb);
    t->x->sb = NULL;
}

bool ustk__tcb_snd_alloc(ustk_stack *s, ustk_tcb *t)
{
    if (t->x->snd.buf)
        return true;
    uint8_t *m = ustk__buf_get(s, USTK_CACHE_SND, TCB_SND_CAP(s));
    if (!m)
        return false;
    ustk_ring_init(&t->x->snd, m, TCB_SND_CAP(s));
    return true;
}

bool ustk__tcb_rcv_alloc(ustk_stack *s, ustk_tcb *t)
{
    if (t->x->rcv.buf)
        return true;
    uint8_t *m = ustk__buf_get(s, USTK_CACHE_RCV, TCB_RCV_CAP(s));
    if (!m)
        return false;
    ustk_ring_init(&t->x->rcv, m, TCB_RCV_CAP(s));
    return true;
}

/* Remove t from one of its listener's child lists. They are doubly
 * linked: a SYN flood fills the half-open list to its limit, and every
 * handshake that completes or times out must leave it in O(1). */
static void list_remove(ustk_tcb **head, ustk_tcb **tail, ustk_tcb *t)
{
    if (t->x->aq_prev)
        t->x->aq_prev->x->aq_next = t->x->aq_next;
    else
        *head = t->x->aq_next;
    if (t->x->aq_next)
        t->x->aq_next->x->aq_prev = t->x->aq_prev;
    else if (tail)
        *tail = t->x->aq_prev;
    t->x->aq_next = t->x->aq_prev = NULL;
}

/* Detach a child from its listener: from the accept queue when it is
 * established, from the half-open list otherwise. */
static void child_detach(ustk_tcb *t)
{
    ustk_tcb *l = t->x ? t->x->listener : NULL;
    if (!l)
        return;
    if (t->flags & TF_ACCEPTQ) {
        list_remove(&l->x->aq_head, &l->x->aq_tail, t);
        l->x->aq_len--;
        t->flags &= ~(uint32_t)TF_ACCEPTQ;
    } else {
        list_remove(&l->x->hq_head, NULL, t);
        l->x->half_open--;
    }
    t->x->listener = NULL;
}

void ustk__tcb_child_established(ustk_tcb *t)
{
    ustk_tcb *l = t->x->listener;
    list_remove(&l->x->hq_head, NULL, t);
    l->x->half_open--;
    t->flags |= TF_ACCEPTQ;
    t->x->aq_prev = l->x->aq_tail;
    t->x->aq_next = NULL;
    if (l->x->aq_tail)
        l->x->aq_tail->x->aq_next = t;
    else
        l->x->aq_head = t;
    l->x->aq_tail = t;
    l->x->aq_len++;
}

void ustk__tcb_child_add(ustk_tcb *l, ustk_tcb *t)
{
    t->x->listener = l;
    t->x->aq_prev = NULL;
    t->x->aq_next = l->x->hq_head;
    if (l->x->hq_head)
        l->x->hq_head->x->aq_prev = t;
    l->x->hq_head = t;
    l->x->half_open++;
}

ustk_tcb *ustk__tcb_child_take(ustk_tcb *l)
{
    ustk_tcb *t = l->x->aq_head;
    if (t)
        child_detach(t);
    return t;
}

void ustk__tcb_free(ustk_stack *s, ustk_tcb *t)
{
    ustk__tcb_unhash(s, t);
    ustk__tcb_unbind(s, t);
    if (t->x) {
        ustk__pend_remove(s, t);
        if (ustk_heap_contains(&t->x->timer))
            ustk_heap_remove(&s->timers, &t->x->timer);
        child_detach(t);
        ustk__tcb_free_buffers(s, t);
        busy_put(s, t);
    }
    s->ntcb--;
    ustk__free(s, t);
}

void ustk__tcb_close(ustk_stack *s, ustk_tcb *t, int err)
{
    if (t->state == USTK_TCP_LISTEN) {
        /* Closing a listener resets the connections nobody accepted
         * (RFC 9293 §3.10.4: pending connections are aborted) and forgets
         * the half-open ones. */
        while (t->x->aq_head) {
            ustk_tcb *c = t->x->aq_head;
            child_detach(c);
            ustk__tcp_abort(s, c, s->now);
        }
        while (t->x->hq_head) {
            ustk_tcb *c = t->x->hq_head;
            child_detach(c);
            ustk__tcb_close(s, c, 0);
        }
    }
    int old = t->state;
    if (t->x) {
        ustk__pend_remove(s, t);
        if (ustk_heap_contains(&t->x->timer))
            ustk_heap_remove(&s->timers, &t->x->timer);
        t->x->rtx_at = t->x->delack_at = t->x->persist_at = t->x->tw_at =
            USTK_TIME_NEVER;
        t->x->keep_at = USTK_TIME_NEVER;
    }
    ustk__tcb_unhash(s, t);
    ustk__tcb_unbind(s, t);
    child_detach(t);
    t->flags |= TF_DEAD;
    if (old != USTK_TCP_CLOSED) {
        t->state = USTK_TCP_CLOSED;
        ustk__trace_state(s, t, old);
    }
    if (t->sock >= 0) {
        /* The handle still owns the block: keep the error and the unread
         * bytes (a reset discards them, RFC 9293 §3.10.7.4). */
        if (err && !t->err)
            t->err = (int16_t)err;
        if (err)
            ustk__tcb_free_buffers(s, t);
        else
            ustk__tcb_snd_release(s, t);
        ustk__tcb_notify(s, t);
    } else {
        ustk__tcb_free(s, t);
    }
}

void ustk__tcb_set_state(ustk_stack *s, ustk_tcb *t, int state)
{
    int old = t->state;
    if (old == state)
        return;
    t->state = (uint8_t)state;
    ustk__trace_state(s, t, old);
    ustk__tcb_notify(s, t);
}

void ustk__tcb_notify(ustk_stack *s, ustk_tcb *t)
{
    if (t->sock >= 0)
        ustk__sock_notify(s, t->sock);
    else if (t->x && t->x->listener && (t->flags & TF_ACCEPTQ) &&
             t->x->listener->sock >= 0)
        ustk__sock_notify(s, t->x->listener->sock);
}

/* ---- tables ---- */

uint32_t ustk__conn_hash(const ustk_stack *s, ustk_ip4 laddr, uint16_t lport,
                         ustk_ip4 raddr, uint16_t rport)
{
    return ustk__tuple_hash(s->hash_key, laddr, lport, raddr, rport);
}

uint32_t ustk__tcb_hash_of(const ustk_stack *s, const ustk_tcb *t)
{
    if (t == s->last_tcb)
        return s->last_hash;
    return ustk__conn_hash(s, t->laddr, t->lport, t->raddr, t->rport);
}

void ustk__tcb_hash(ustk_stack *s, ustk_tcb *t, uint32_t hash)
{
    if (t->flags & TF_HASHED)
        return;
    uint32_t i = hash & s->conn_mask;
    t->hnext = s->conn_tab[i];
    s->conn_tab[i] = t;
    t->flags |= TF_HASHED;
    /* The next segment is most likely for the new connection (the
     * SYN,ACK to our SYN, the ACK that completes the handshake): finding
     * it must not cost a hash. */
    s->last_tcb = t;
    s->last_hash = hash;
}

void ustk__tcb_unhash(ustk_stack *s, ustk_tcb *t)
{
    if (!(t->flags & TF_HASHED))
        return;
    /* The block does not keep its hash (4 more bytes for every idle
     * connection). A connection is usually unhashed just after a segment
     * for it, as the last connection found, whose hash is kept. */
    uint32_t i = ustk__tcb_hash_of(s, t) & s->conn_mask;
    if (s->last_tcb == t)
        s->last_tcb = NULL;
    for (ustk_tcb **pp = &s->conn_tab[i]; *pp; pp = &(*pp)->hnext)
        if (*pp == t) {
            *pp = t->hnext;
            break;
        }
    t->hnext = NULL;
    t->flags &= ~(uint32_t)TF_HASHED;
}

/* The connection of the last lookup (or hash-in) is checked first: a bulk
 * stream brings segment after segment for the same one, and the keyed
 * hash is the costliest step of finding it. */
ustk_tcb *ustk__tcb_find(ustk_stack *s, ustk_ip4 laddr, uint16_t lport,
                         ustk_ip4 raddr, uint16_t rport, uint32_t *hash)
{
    ustk_tcb *c = s->last_tcb;
    if (c && c->lport == lport && c->rport == rport && c->raddr == raddr &&
        c->laddr == laddr)
        return c;
    uint32_t h = ustk__conn_hash(s, laddr, lport, raddr, rport);
    if (hash)
        *hash = h;
    /* A 4-tuple not found here is looked for next among the TIME-WAIT
     * records (a SYN, a port being chosen): their bucket starts loading
     * now, so that the two cache misses overlap. */
    if (s->tw && s->tw->n)
        USTK_PREFETCH(&s->tw->tab[h & s->tw->mask]);
    for (ustk_tcb *t = s->conn_tab[h & s->conn_mask]; t; t = t->hnext)
        if (t->lport == lport && t->rport == rport && t->raddr == raddr &&
            t->laddr == laddr) {
            s->last_tcb = t;
            s->last_hash = h;
            return t;
        }
    return NULL;
}

ustk_tcb *ustk__tcb_lookup(ustk_stack *s, ustk_ip4 laddr, uint16_t lport,
                           ustk_ip4 raddr, uint16_t rport)
{
    return ustk__tcb_find(s, laddr, lport, raddr, rport, NULL);
}

ustk_tcb *ustk__tcb_listener(ustk_stack *s, ustk_ip4 laddr, uint16_t lport)
{
    ustk_tcb *wild = NULL;
    for (ustk_tcb *t = s->port_tab[port_slot(s, lport)]; t; t = t->x->bnext) {
        if (t->lport != lport || t->state != USTK_TCP_LISTEN)
            continue;
        if (t->laddr == laddr)
            return t;
        if (t->laddr == 0)
            wild = t;
    }
    return wild;
}

int ustk__tcb_bind(ustk_stack *s, ustk_tcb *t, ustk_ip4 addr, uint16_t port)
{
    for (ustk_tcb *o = s->port_tab[port_slot(s, port)]; o; o = o->x->bnext)
        if (o->lport == port &&
            (o->laddr == 0 || addr == 0 || o->laddr == addr))
            return USTK_EADDRINUSE;
    t->laddr = addr;
    t->lport = port;
    uint32_t i = port_slot(s, port);
    t->x->bnext = s->port_tab[i];
    s->port_tab[i] = t;
    t->flags |= TF_BOUND;
    return 0;
}

void ustk__tcb_unbind(ustk_stack *s, ustk_tcb *t)
{
    if (!(t->flags & TF_BOUND))
        return;
    for (ustk_tcb **pp = &s->port_tab[port_slot(s, t->lport)]; *pp;
         pp = &(*pp)->x->bnext)
        if (*pp == t) {
            *pp = t->x->bnext;
            break;
        }
    t->x->bnext = NULL;
    t->flags &= ~(uint32_t)TF_BOUND;
}

static bool port_bound(ustk_stack *s, uint16_t port)
{
    for (ustk_tcb *o = s->port_tab[port_slot(s, port)]; o; o = o->x->bnext)
        if (o->lport == port)
            return true;
    return false;
}

/* Choose an ephemeral port for an unbound connection to raddr:rport whose
 * 4-tuple is unused (RFC 6056 §3.3: any port in the range will do as long
 * as the tuple is unique; we start from a random point and step). The loop
 * is bounded by the size of the range, and each probe is a hash lookup. */
int ustk__tcb_pick_port(ustk_stack *s, ustk_tcb *t, uint32_t *hash)
{
    uint32_t lo = s->cfg.ephemeral_lo, hi = s->cfg.ephemeral_hi;
    uint32_t span = hi - lo + 1;
    for (uint32_t i = 0; i < span; i++) {
        uint16_t p = s->next_ephemeral;
        s->next_ephemeral = (uint16_t)(p >= hi ? lo : p + 1u);
        if (port_bound(s, p))
            continue;
        uint32_t h;
        if (ustk__tcb_find(s, t->laddr, p, t->raddr, t->rport, &h) ||
            ustk__tw_lookup(s, h, t->laddr, p, t->raddr, t->rport))
            continue;
        t->lport = p;
        *hash = h;
        return 0;
    }
    return USTK_EADDRNOTAVAIL;
}

/* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), where M is a timer that ticks every 4 microseconds and F a
 * keyed hash, so ISNs of one 4-tuple increase over time (RFC 9293 §3.4.1)
 * and ISNs of other tuples cannot be predicted from them. */
uint32_t ustk__tcp_isn(ustk_stack *s, ustk_time now, const ustk_tcb *t)
{
    uint32_t h = ustk__tuple_hash(s->isn_key, t->laddr, t->lport, t->raddr,
                            t->rport);
    return (uint32_t)(now / 4) + h;
}

void ustk__tcb_init_seq(ustk_stack *s, ustk_time now, ustk_tcb *t)
{
    t->iss = ustk__tcp_isn(s, now, t);
    t->snd_una = t->x->snd_nxt = t->x->snd_max = t->x->snd_sml = t->iss;
    t->x->rto = (uint32_t)s->cfg.rto_initial;
    t->srtt = t->rttvar = 0;
    t->x->backoff = 0;
    t->mss = (uint16_t)(s->cfg.mtu - 40);
    t->peer_mss = 0;
    /* A per-connection offset keeps timestamps from revealing uptime
     * (RFC 7323 §7.1). */
    t->ts_offset = (uint32_t)ustk_rng_next(&s->rng);
}

/* ---- trace ---- */

void ustk__trace_fill(const ustk_stack *s, const ustk_tcb *t,
                      ustk_trace_event *ev, ustk_trace_kind kind)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    ev->now = s->now;
    ev->sock = t->sock;
    ev->laddr = t->laddr ? t->laddr : s->cfg.ip;
    ev->raddr = t->raddr;
    ev->lport = t->lport;
    ev->rport = t->rport;
    ev->iss = t->iss;
    ev->irs = t->irs;
    ev->state = t->state;
}

void ustk__trace_state(ustk_stack *s, const ustk_tcb *t, int old_state)
{
    if (!s->cfg.trace)
        return;
    ustk_trace_event ev;
    ustk__trace_fill(s, t, &ev, USTK_TRACE_STATE);
    ev.old_state = old_state;
    s->cfg.trace(s->cfg.trace_ctx, &ev);
}

void ustk__trace_timer(ustk_stack *s, const ustk_tcb *t, int timer)
{
    if (!s->cfg.trace)
        return;
    ustk_trace_event ev;
    ustk__trace_fill(s, t, &ev, USTK_TRACE_TIMER);
    ev.timer = timer;
    s->cfg.trace(s->cfg.trace_ctx, &ev);
}

void ustk__trace_seg_emit(ustk_stack *s, const ustk_tcb *t,
                          ustk_trace_kind kind, const ustk_tcp_hdr *h,
                          uint32_t len, bool rtx)
{
    ustk_trace_event ev;
    ustk__trace_fill(s, t, &ev, kind);
    ustk_trace_seg *g = &ev.seg;
    g->seq = h->seq;
    g->ack = h->ack;
    g->wnd = h->wnd;
    g->flags = h->flags;
    g->opts = h->opts.has;
    g->len = len;
    g->mss = h->opts.mss;
    g->wscale = h->opts.wscale;
    g->nsack = h->opts.nsack;
    memcpy(g->sack, h->opts.sack, sizeof(g->sack));
    g->ts_val = h->opts.ts_val;
    g->ts_ecr = h->opts.ts_ecr;
    g->rtx = rtx;
    s->cfg.trace(s->cfg.trace_ctx, &ev);
}
