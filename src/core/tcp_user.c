/* The user calls of RFC 9293 §3.10.1-3.10.6 (OPEN, SEND, RECEIVE, CLOSE,
 * ABORT, STATUS) as the socket layer makes them. */
#include <string.h>

#include "tcp_priv.h"

static bool synchronized(int state)
{
    return state >= USTK_TCP_ESTABLISHED;
}

/* Whether a connection to raddr:rport can be tried. A connection has one
 * peer: a broadcast address (limited or our subnet's) and a multicast
 * group are refused at once with ENETUNREACH, as Linux's
 * tcp_v4_connect() does for a route that is broadcast or multicast,
 * rather than after ARP for an address nobody answers for. */
static int tcp_dest_check(const ustk_stack *s, ustk_ip4 raddr,
                          uint16_t rport)
{
    if (rport == 0)
        return USTK_EINVAL;
    if (raddr == 0xffffffffu || ustk__ip_is_bcast(s, raddr) ||
        ustk__ip_is_multicast(raddr))
        return USTK_ENETUNREACH;
    /* "This host" (RFC 1122 §3.2.1.3: never a destination on the wire)
     * and class E (reserved; we drop what comes from it, so no answer
     * could arrive): not an address to connect to, as for UDP. */
    if (raddr == 0 || ustk__ip_is_class_de(raddr))
        return USTK_EINVAL;
    if (ustk__route(s, raddr) == 0)
        return USTK_ENETUNREACH;
    return 0;
}

int ustk__tcp_connect(ustk_stack *s, ustk_tcb *t, ustk_ip4 raddr,
                      uint16_t rport, ustk_time now)
{
    if (t->state == USTK_TCP_SYN_SENT || t->state == USTK_TCP_SYN_RECEIVED)
        return USTK_EALREADY;
    if (t->state == USTK_TCP_LISTEN || synchronized(t->state))
        return USTK_EISCONN;
    if (t->flags & TF_DEAD)
        return USTK_EINVAL; /* a failed or closed connection is not reused */
    int err = tcp_dest_check(s, raddr, rport);
    if (err)
        return err;
    if (!ustk__ip_reaches(s, t->laddr, raddr))
        return USTK_EINVAL;
    t->raddr = raddr;
    t->rport = rport;
    uint32_t hash = 0;
    bool have_hash = false;
    /* The source: the bound address, else the one chosen for the peer
     * (ours; a loopback peer's own address for one in 127/8). A socket
     * bound to "any" leaves its port table entry as it is. */
    ustk_ip4 la = t->laddr ? t->laddr : ustk__ip_src(s, raddr);
    if (t->flags & TF_BOUND) {
        if (ustk__tcb_find(s, la, t->lport, raddr, rport, &hash) ||
            ustk__tw_lookup(s, hash, la, t->lport, raddr, rport)) {
            t->raddr = 0;
            t->rport = 0;
            return USTK_EADDRINUSE;
        }
        have_hash = true;
    }
    ustk_ip4 bound_addr = t->laddr;
    t->laddr = la;
    if (!(t->flags & TF_BOUND)) {
        err = ustk__tcb_pick_port(s, t, &hash);
        have_hash = true;
        if (err) {
            t->raddr = 0;
            t->rport = 0;
            t->laddr = bound_addr;
            return err;
        }
    }
    ustk__tcb_init_seq(s, now, t);
    if (!have_hash)
        hash = ustk__conn_hash(s, t->laddr, t->lport, t->raddr, t->rport);
    ustk__tcb_hash(s, t, hash);
    ustk__tcb_set_state(s, t, USTK_TCP_SYN_SENT);
    s->stats.tcp_active_opens++;
    ustk__tcp_output_due(s, t);
    return USTK_EINPROGRESS;
}

int ustk__tcp_listen(ustk_stack *s, ustk_tcb *t, int backlog)
{
    /* POSIX listen(): EINVAL when "the socket is already connected". */
    if (t->state != USTK_TCP_CLOSED && t->state != USTK_TCP_LISTEN)
        return USTK_EINVAL;
    if ((t->flags & TF_DEAD) || !(t->flags & TF_BOUND))
        return USTK_EINVAL;
    if (backlog < 1)
        backlog = 1;
    if ((uint32_t)backlog > s->cfg.max_backlog)
        backlog = (int)s->cfg.max_backlog;
    t->x->backlog = (uint32_t)backlog;
    ustk__tcb_set_state(s, t, USTK_TCP_LISTEN);
    return 0;
}

ustk_tcb *ustk__tcp_accept(ustk_stack *s, ustk_tcb *l)
{
    (void)s;
    return ustk__tcb_child_take(l);
}

ptrdiff_t ustk__tcp_send(ustk_stack *s, ustk_tcb *t, const void *buf,
                         size_t len, ustk_time now)
{
    if (t->err) {
        int e = t->err;
        t->err = 0;
        return e;
    }
    switch (t->state) {
    case USTK_TCP_SYN_SENT:
    case USTK_TCP_SYN_RECEIVED:
    case USTK_TCP_ESTABLISHED:
    case USTK_TCP_CLOSE_WAIT:
        break;
    case USTK_TCP_CLOSED:
        return (t->flags & TF_DEAD) ? USTK_EPIPE : USTK_ENOTCONN;
    case USTK_TCP_LISTEN:
        return USTK_ENOTCONN;
    default:
        return USTK_EPIPE;
    }
    if (t->flags & TF_FIN_QUEUED)
        return USTK_EPIPE;
    if (len == 0)
        return 0;
    if (!ustk__tcb_snd_alloc(s, t))
        return USTK_ENOBUFS;
    ustk__cc_idle_check(s, t, now);
    if (len > UINT32_MAX)
        len = UINT32_MAX;
    uint32_t n = ustk_ring_write(&t->x->snd, buf, (uint32_t)len);
    if (n == 0)
        return USTK_EAGAIN;
    ustk__tcp_output_due(s, t);
    return (ptrdiff_t)n;
}

ptrdiff_t ustk__tcp_recv(ustk_stack *s, ustk_tcb *t, void *buf, size_t len,
                         ustk_time now)
{
    (void)now;
    if (t->state == USTK_TCP_LISTEN ||
        (t->state == USTK_TCP_CLOSED && !(t->flags & TF_DEAD)))
        return USTK_ENOTCONN;
    /* After shutdown(SHUT_RD) what had arrived is still read (Linux does
     * the same); nothing is added to it. */
    uint32_t avail = ustk_ring_len(&t->x->rcv);
    if (avail == 0) {
        if (t->err) {
            int e = t->err;
            t->err = 0;
            return e;
        }
        if ((t->flags & (TF_FIN_RCVD | TF_RD_SHUT | TF_DEAD)))
            return 0;
        return USTK_EAGAIN;
    }
    if (len > UINT32_MAX)
        len = UINT32_MAX;
    /* The window the peer knows of, before the read. */
    uint32_t before = ustk_seq_gt(t->rcv_adv, t->rcv_nxt)
                          ? t->rcv_adv - t->rcv_nxt : 0;
    uint32_t n = ustk_ring_read(&t->x->rcv, buf, (uint32_t)len);
    if (ustk_ring_len(&t->x->rcv) == 0 && (t->flags & TF_DEAD)) {
        ustk__tcb_free_buffers(s, t);
        return (ptrdiff_t)n;
    }
    /* Drained, with nothing held out of order: the buffer goes back (the
     * window is the buffer's size whether it is there or not). */
    if (ustk_ring_len(&t->x->rcv) == 0 && ustk__ooo_empty(t))
        ustk__tcb_rcv_release(s, t);
    if (!(t->flags & TF_DEAD) && !(t->flags & TF_FIN_RCVD)) {
        /* RFC 9293 §3.8.6.2.2: announce a larger window once it has
         * grown by min(half the buffer, one MSS). While the peer still
         * sees half the buffer or more, the next ACK will carry it: an
         * update of its own would only add a segment. */
        uint32_t after = ustk__tcp_rcv_window(s, t);
        uint32_t half = TCB_RCV_CAP(s) / 2;
        uint32_t step = half < t->mss ? half : t->mss;
        if (after >= before + step && before < half) {
            t->flags |= TF_ACK_NOW;
            ustk__tcp_reschedule(s, t);
        }
    }
    return (ptrdiff_t)n;
}

/* Queue our FIN: the close half of RFC 9293 §3.10.4. */
static void queue_fin(ustk_stack *s, ustk_tcb *t)
{
    if (t->flags & TF_FIN_QUEUED)
        return;
    t->flags |= TF_FIN_QUEUED;
    /* Keepalive is for the idle states only (arm_keepalive() in
     * tcp_output.c); the poll that sends the FIN files the deadlines, and
     * a probe must not go out before it. */
    t->x->keep_at = USTK_TIME_NEVER;
    if (t->state == USTK_TCP_CLOSE_WAIT)
        ustk__tcb_set_state(s, t, USTK_TCP_LAST_ACK);
    else
        ustk__tcb_set_state(s, t, USTK_TCP_FIN_WAIT_1);
}

int ustk__tcp_shutdown(ustk_stack *s, ustk_tcb *t, int how, ustk_time now)
{
    (void)now;
    if (how != USTK_SHUT_RD && how != USTK_SHUT_WR && how != USTK_SHUT_RDWR)
        return USTK_EINVAL;
    if (t->state == USTK_TCP_CLOSED || t->state == USTK_TCP_LISTEN ||
        t->state == USTK_TCP_SYN_SENT)
        return USTK_ENOTCONN;
    if (how != USTK_SHUT_WR && !(t->flags & TF_RD_SHUT)) {
        /* From now on data is acknowledged and discarded (tcp_input.c);
         * ranges held out of order are forgotten with it, as their bytes
         * could never join what the reader gets. */
        t->flags |= TF_RD_SHUT;
        if (t->x->ooo)
            t->x->ooo->n = 0;
        /* Nothing left to read: the buffer goes back now (recv, which
         * would give it back once drained, has nothing to drain). */
        if (ustk_ring_len(&t->x->rcv) == 0)
            ustk__tcb_rcv_release(s, t);
    }
    bool fin = how != USTK_SHUT_RD &&
               (t->state == USTK_TCP_SYN_RECEIVED ||
                t->state == USTK_TCP_ESTABLISHED ||
                t->state == USTK_TCP_CLOSE_WAIT) &&
               !(t->flags & TF_FIN_QUEUED);
    if (fin)
        queue_fin(s, t);
    ustk__tcb_notify(s, t);
    if (fin)
        ustk__tcp_output_due(s, t);
    else
        ustk__tcp_reschedule(s, t);
    return 0;
}

void ustk__tcp_abort(ustk_stack *s, ustk_tcb *t, ustk_time now)
{
    (void)now;
    /* RFC 9293 §3.10.5: send <SEQ=SND.NXT><CTL=RST> in the states where
     * the peer has a connection to reset. */
    switch (t->state) {
    case USTK_TCP_SYN_RECEIVED:
    case USTK_TCP_ESTABLISHED:
    case USTK_TCP_FIN_WAIT_1:
    case USTK_TCP_FIN_WAIT_2:
    case USTK_TCP_CLOSE_WAIT:
        /* SND.MAX rather than a SND.NXT a timeout pulled back, which
         * the peer could find outside its window. */
        ustk__tcp_send_rst(s, t->laddr, t->lport, t->raddr, t->rport,
                           ustk__tcb_snd_max(t), 0, false);
        break;
    default:
        break;
    }
    ustk__tcb_close(s, t, t->sock >= 0 ? USTK_ECONNABORTED : 0);
}

void ustk__tcp_close(ustk_stack *s, ustk_tcb *t, ustk_time now)
{
    /* The handle is already gone (t->sock < 0). */
    t->flags |= TF_ORPHAN;
    if (t->flags & TF_DEAD) {
        ustk__tcb_free(s, t);
        return;
    }
    switch (t->state) {
    case USTK_TCP_CLOSED:
    case USTK_TCP_LISTEN:
    case USTK_TCP_SYN_SENT:
        ustk__tcb_close(s, t, 0);
        return;
    default:
        break;
    }
    /* RFC 9293 §3.10.4 and RFC 2525 §2.17: closing with received data
     * nobody read loses it, so tell the peer with a reset. */
    if (ustk_ring_len(&t->x->rcv) > 0 && t->state != USTK_TCP_TIME_WAIT) {
        ustk__tcp_abort(s, t, now);
        return;
    }
    ustk__tcb_rcv_release(s, t);
    switch (t->state) {
    case USTK_TCP_SYN_RECEIVED:
    case USTK_TCP_ESTABLISHED:
    case USTK_TCP_CLOSE_WAIT:
        queue_fin(s, t);
        ustk__tcp_output_due(s, t);
        return;
    case USTK_TCP_FIN_WAIT_2:
        t->x->tw_at = now + s->cfg.fin_wait2_timeout;
        break;
    case USTK_TCP_TIME_WAIT:
        ustk__tcb_free_buffers(s, t);
        if (ustk__tw_compact(s, t))
            return;
        break;
    default:
        break;
    }
    ustk__tcp_reschedule(s, t);
}

int ustk__tcp_poll(const ustk_stack *s, const ustk_tcb *t)
{
    int f = 0;
    if (t->state == USTK_TCP_LISTEN)
        return t->x && t->x->aq_len ? USTK_READABLE : 0;
    bool dead = (t->flags & TF_DEAD) != 0;
    /* A quiet block has no busy part: no buffers, so nothing queued. */
    const ustk_tcbx *x = t->x;
    if ((x && ustk_ring_len(&x->rcv)) || (t->flags & (TF_FIN_RCVD | TF_RD_SHUT)) ||
        dead)
        f |= USTK_READABLE;
    bool can_write = t->state == USTK_TCP_ESTABLISHED ||
                     t->state == USTK_TCP_CLOSE_WAIT;
    if (can_write && !(t->flags & TF_FIN_QUEUED) &&
        (!x || !x->snd.buf || ustk_ring_space(&x->snd) > 0))
        f |= USTK_WRITABLE;
    if (dead)
        f |= USTK_WRITABLE; /* a write reports the error at once */
    if ((t->flags & TF_FIN_RCVD) || dead)
        f |= USTK_HUP;
    if (t->err)
        f |= USTK_ERROR;
    (void)s;
    return f;
}

void ustk__tcp_info(const ustk_stack *s, const ustk_tcb *t, ustk_tcp_info *o)
{
    memset(o, 0, sizeof(*o));
    o->state = t->state;
    o->iss = t->iss;
    o->irs = t->irs;
    o->snd_una = t->snd_una;
    o->snd_nxt = ustk__tcb_snd_nxt(t);
    o->snd_wnd = t->snd_wnd;
    o->rcv_nxt = t->rcv_nxt;
    o->rcv_wnd = ustk__tcp_rcv_window(s, t);
    o->mss = (uint16_t)ustk__tcp_seg_payload_max(t);
    o->peer_mss = t->peer_mss;
    o->snd_wscale = t->snd_wscale;
    o->rcv_wscale = t->rcv_wscale;
    o->sack_ok = (t->flags & TF_SACK) != 0;
    o->ts_ok = (t->flags & TF_TS) != 0;
    o->srtt_us = t->srtt;
    o->rttvar_us = t->rttvar;
    o->rto_us = t->x ? t->x->rto : ustk__tcp_rto_base(s, t);
    o->retransmits = t->rtx_timeout + t->rtx_fast + t->rtx_sack + t->rtx_tlp;
    o->bytes_sent = t->bytes_acked;
    o->bytes_received = t->bytes_rcvd;
    o->segs_out = t->segs_out;
    o->segs_in = t->segs_in;
    o->cc = t->cc_kind;
    o->cwnd = t->cwnd;
    o->ssthresh = t->ssthresh;
    o->bytes_in_flight = ustk__tcb_snd_max(t) - t->snd_una;
    o->rtx_tlp = t->rtx_tlp;
    o->undos = t->undos;
    o->rtx_timeout = t->rtx_timeout;
    o->rtx_fast = t->rtx_fast;
    o->rtx_sack = t->rtx_sack;
    /* A quiet block has no busy part: no backoff, nothing queued, in
     * flight, SACKed or lost (the zeroes above). */
    if (!t->x)
        return;
    o->backoff = t->x->backoff;
    o->snd_queued = ustk_ring_len(&t->x->snd);
    o->rcv_queued = ustk_ring_len(&t->x->rcv);
    o->sacked_out = ustk__sb_sacked_bytes(t);
    o->lost_out = t->x->rack ? t->x->rack->lost_bytes : ustk__sb_lost_out(t);
}
