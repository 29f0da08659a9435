/* The socket layer: integer handles over protocol control blocks (TCP
 * connections, UDP and ping sockets), argument checks, dispatch to the
 * protocol, and the readiness event list. Every misuse is caught here or in
 * the protocol call and returns an error without changing anything. */
#include <string.h>

#include "core/tcp_priv.h"
#include "core/udp_priv.h"

/* A handle is the slot index in the low idx_bits (as many as max_sockets
 * needs) and the slot's generation above, so a stale handle of a reused
 * slot is refused (USTK_EBADF). Slots are reused oldest-freed first: a
 * stale handle could only name a new socket after its slot has been
 * reused gen_max times (65,535 up to 32,768 sockets, half as many with
 * each doubling above, 2,047 above 524,288), and every other free slot in
 * between each time. */
static int make_handle(const ustk_stack *s, uint32_t idx, uint16_t gen)
{
    return (int)(((uint32_t)gen << s->idx_bits) | idx);
}

static ustk_slot *slot_of(const ustk_stack *s, int sock)
{
    if (!s || sock < 0)
        return NULL;
    uint32_t idx = (uint32_t)sock & s->idx_mask;
    uint32_t gen = (uint32_t)sock >> s->idx_bits;
    if (idx >= s->cfg.max_sockets)
        return NULL;
    ustk_slot *sl = &s->slots[idx];
    if (!sl->proto || sl->gen != gen)
        return NULL;
    return sl;
}

static ustk_tcb *tcb_of(const ustk_stack *s, int sock)
{
    ustk_slot *sl = slot_of(s, sock);
    return sl && sl->proto == USTK_PROTO_TCP ? sl->tcb : NULL;
}

/* A call that may change a connection takes its busy part first
 * (tcp_priv.h); the caller gives it back with ustk__tcb_settle when the
 * call leaves the connection quiet. */
static int tcb_busy(ustk_stack *s, ustk_tcb *t)
{
    return ustk__tcb_busy(s, t) ? 0 : USTK_ENOBUFS;
}

static bool is_dgram(uint8_t proto)
{
    return proto == USTK_PROTO_UDP || proto == USTK_PROTO_ICMP;
}

static ustk_dgram *dg_of(const ustk_stack *s, int sock)
{
    ustk_slot *sl = slot_of(s, sock);
    return sl && is_dgram(sl->proto) ? sl->dg : NULL;
}

/* The endpoint behind a handle from one look at its slot: *d for a
 * datagram socket, *t for TCP; false, with both NULL, for a bad handle. */
static bool endpoint_of(const ustk_stack *s, int sock, ustk_dgram **d,
                        ustk_tcb **t)
{
    ustk_slot *sl = slot_of(s, sock);
    *d = sl && is_dgram(sl->proto) ? sl->dg : NULL;
    *t = sl && sl->proto == USTK_PROTO_TCP ? sl->tcb : NULL;
    return *d || *t;
}

/* For calls only TCP has: EBADF for a bad handle, EOPNOTSUPP for a
 * datagram socket. */
static int not_tcp(const ustk_stack *s, int sock)
{
    return dg_of(s, sock) ? USTK_EOPNOTSUPP : USTK_EBADF;
}

static int slot_poll(const ustk_stack *s, const ustk_slot *sl)
{
    return sl->proto == USTK_PROTO_TCP ? ustk__tcp_poll(s, sl->tcb)
                                       : ustk__dgram_poll(s, sl->dg);
}

static void now_seen(ustk_stack *s, ustk_time now)
{
    if (now > s->now)
        s->now = now;
}

static int slot_take(ustk_stack *s, uint8_t proto, uint32_t *idx_out)
{
    uint32_t idx = s->free_slot;
    ustk_slot *sl = &s->slots[idx];
    s->free_slot = sl->next;
    if (s->free_slot == USTK_SLOT_NONE)
        s->free_tail = USTK_SLOT_NONE;
    if (sl->gen == 0 || sl->gen > s->gen_max)
        sl->gen = 1;
    sl->proto = proto;
    sl->in_events = 0;
    sl->next = USTK_SLOT_NONE;
    *idx_out = idx;
    return make_handle(s, idx, sl->gen);
}

static int slot_alloc(ustk_stack *s, ustk_tcb *t)
{
    if (s->free_slot == USTK_SLOT_NONE)
        return USTK_EMFILE;
    uint32_t idx;
    int h = slot_take(s, USTK_PROTO_TCP, &idx);
    s->slots[idx].tcb = t;
    t->sock = h;
    return h;
}

static int slot_alloc_dgram(ustk_stack *s, ustk_dgram *d)
{
    uint32_t idx;
    int h = slot_take(s, d->proto, &idx);
    s->slots[idx].dg = d;
    d->sock = h;
    return h;
}

/* Append slot idx to a list of slots linked through `next` (the free
 * list and the event list: a slot is on one at most). */
static void slot_append(ustk_stack *s, uint32_t *head, uint32_t *tail,
                        uint32_t idx)
{
    s->slots[idx].next = USTK_SLOT_NONE;
    if (*tail != USTK_SLOT_NONE)
        s->slots[*tail].next = idx;
    else
        *head = idx;
    *tail = idx;
}

static void slot_free(ustk_stack *s, int sock)
{
    uint32_t idx = (uint32_t)sock & s->idx_mask;
    ustk_slot *sl = &s->slots[idx];
    if (sl->in_events) {
        /* Unlink from the event list. It is singly linked; a freed slot is
         * rare enough to walk it, and the list holds only sockets with news. */
        uint32_t *pp = &s->ev_head, prev = USTK_SLOT_NONE;
        while (*pp != USTK_SLOT_NONE && *pp != idx) {
            prev = *pp;
            pp = &s->slots[*pp].next;
        }
        if (*pp == idx) {
            *pp = sl->next;
            if (s->ev_tail == idx)
                s->ev_tail = prev;
        }
    }
    sl->proto = 0;
    sl->in_events = 0;
    sl->tcb = NULL;
    sl->gen++;
    slot_append(s, &s->free_slot, &s->free_tail, idx);
}

void ustk__sock_notify(ustk_stack *s, int sock)
{
    ustk_slot *sl = slot_of(s, sock);
    if (!sl)
        return;
    s->stats.sock_events++;
    if (sl->in_events)
        return;
    sl->in_events = 1;
    slot_append(s, &s->ev_head, &s->ev_tail, (uint32_t)sock & s->idx_mask);
}

int ustk_events(ustk_stack *s, ustk_event *out, int max)
{
    if (!s || !out || max < 0)
        return USTK_EINVAL;
    int n = 0;
    while (n < max && s->ev_head != USTK_SLOT_NONE) {
        uint32_t idx = s->ev_head;
        ustk_slot *sl = &s->slots[idx];
        s->ev_head = sl->next;
        if (s->ev_head == USTK_SLOT_NONE)
            s->ev_tail = USTK_SLOT_NONE;
        sl->in_events = 0;
        sl->next = USTK_SLOT_NONE;
        out[n].sock = make_handle(s, idx, sl->gen);
        out[n].flags = slot_poll(s, sl);
        n++;
    }
    return n;
}

int ustk_open(ustk_stack *s, ustk_proto proto)
{
    if (!s)
        return USTK_EINVAL;
    if (proto == USTK_PROTO_UDP || proto == USTK_PROTO_ICMP) {
        if (s->free_slot == USTK_SLOT_NONE)
            return USTK_EMFILE;
        ustk_dgram *d = ustk__dgram_new(s, (uint8_t)proto);
        if (!d)
            return USTK_ENOMEM;
        return slot_alloc_dgram(s, d);
    }
    if (proto != USTK_PROTO_TCP)
        return USTK_EPROTONOSUPPORT;
    if (s->free_slot == USTK_SLOT_NONE)
        return USTK_EMFILE;
    ustk_tcb *t = ustk__tcb_new(s);
    if (!t)
        return USTK_ENOMEM;
    return slot_alloc(s, t);
}

int ustk_bind(ustk_stack *s, int sock, const ustk_sockaddr *addr)
{
    ustk_dgram *d = dg_of(s, sock);
    if (d)
        return addr ? ustk__dgram_bind(s, d, addr) : USTK_EINVAL;
    ustk_tcb *t = tcb_of(s, sock);
    if (!t)
        return USTK_EBADF;
    if (!addr)
        return USTK_EINVAL;
    if ((t->flags & (TF_BOUND | TF_DEAD)) || t->state != USTK_TCP_CLOSED)
        return USTK_EINVAL;
    if (!ustk__ip_bindable(s, addr->addr))
        return USTK_EADDRNOTAVAIL;
    if (addr->port != 0)
        return ustk__tcb_bind(s, t, addr->addr, addr->port);
    /* Port 0: any free ephemeral port. */
    uint32_t lo = s->cfg.ephemeral_lo, hi = s->cfg.ephemeral_hi;
    for (uint32_t i = 0; i <= hi - lo; i++) {
        uint16_t p = s->next_ephemeral;
        s->next_ephemeral = (uint16_t)(p >= hi ? lo : p + 1u);
        if (ustk__tcb_bind(s, t, addr->addr, p) == 0)
            return 0;
    }
    return USTK_EADDRINUSE;
}

int ustk_listen(ustk_stack *s, int sock, int backlog)
{
    ustk_tcb *t = tcb_of(s, sock);
    if (!t)
        return not_tcp(s, sock);
    int err = tcb_busy(s, t);
    if (err)
        return err;
    err = ustk__tcp_listen(s, t, backlog);
    ustk__tcb_settle(s, t);
    return err;
}

int ustk_accept(ustk_stack *s, int sock, ustk_sockaddr *peer)
{
    ustk_tcb *l = tcb_of(s, sock);
    if (!l)
        return not_tcp(s, sock);
    if (l->state != USTK_TCP_LISTEN)
        return USTK_EINVAL;
    if (s->free_slot == USTK_SLOT_NONE)
        return l->x->aq_len ? USTK_EMFILE : USTK_EAGAIN;
    ustk_tcb *c = ustk__tcp_accept(s, l);
    if (!c)
        return USTK_EAGAIN;
    int h = slot_alloc(s, c);
    /* Off the accept queue, an idle connection is quiet now. */
    ustk__tcb_settle(s, c);
    if (peer) {
        peer->addr = c->raddr;
        peer->port = c->rport;
    }
    /* Whatever already happened on it (data, FIN) is news to the new
     * handle. */
    ustk__sock_notify(s, h);
    return h;
}

int ustk_connect(ustk_stack *s, int sock, const ustk_sockaddr *to,
                 ustk_time now)
{
    ustk_dgram *d = dg_of(s, sock);
    if (d) {
        if (!to)
            return USTK_EINVAL;
        now_seen(s, now);
        return ustk__dgram_connect(s, d, to);
    }
    ustk_tcb *t = tcb_of(s, sock);
    if (!t)
        return USTK_EBADF;
    if (!to)
        return USTK_EINVAL;
    now_seen(s, now);
    int err = tcb_busy(s, t);
    if (err)
        return err;
    err = ustk__tcp_connect(s, t, to->addr, to->port, now);
    ustk__tcb_settle(s, t);
    return err;
}

ptrdiff_t ustk_send(ustk_stack *s, int sock, const void *buf, size_t len,
                    ustk_time now)
{
    return ustk_sendto(s, sock, buf, len, NULL, now);
}

ptrdiff_t ustk_recv(ustk_stack *s, int sock, void *buf, size_t len,
                    ustk_time now)
{
    return ustk_recvfrom(s, sock, buf, len, NULL, now);
}

ptrdiff_t ustk_sendto(ustk_stack *s, int sock, const void *buf, size_t len,
                      const ustk_sockaddr *to, ustk_time now)
{
    ustk_dgram *d;
    ustk_tcb *t;
    if (!endpoint_of(s, sock, &d, &t))
        return USTK_EBADF;
    if (!buf && len)
        return USTK_EINVAL;
    now_seen(s, now);
    if (d)
        return ustk__dgram_sendto(s, d, buf, len, to);
    /* A connection has its peer; naming one is a mistake. */
    if (to)
        return USTK_EISCONN;
    int err = tcb_busy(s, t);
    if (err)
        return err;
    ptrdiff_t n = ustk__tcp_send(s, t, buf, len, now);
    ustk__tcb_settle(s, t);
    return n;
}

ptrdiff_t ustk_recvfrom(ustk_stack *s, int sock, void *buf, size_t len,
                        ustk_sockaddr *from, ustk_time now)
{
    ustk_dgram *d;
    ustk_tcb *t;
    if (!endpoint_of(s, sock, &d, &t))
        return USTK_EBADF;
    if (!buf && len)
        return USTK_EINVAL;
    now_seen(s, now);
    if (d)
        return ustk__dgram_recvfrom(s, d, buf, len, from);
    int err = tcb_busy(s, t);
    if (err)
        return err;
    ptrdiff_t n = ustk__tcp_recv(s, t, buf, len, now);
    ustk__tcb_settle(s, t);
    if (from && n >= 0) {
        from->addr = t->raddr;
        from->port = t->rport;
    }
    return n;
}

int ustk_shutdown(ustk_stack *s, int sock, int how, ustk_time now)
{
    ustk_dgram *d = dg_of(s, sock);
    if (d) {
        now_seen(s, now);
        return ustk__dgram_shutdown(s, d, how);
    }
    ustk_tcb *t = tcb_of(s, sock);
    if (!t)
        return USTK_EBADF;
    now_seen(s, now);
    int err = tcb_busy(s, t);
    if (err)
        return err;
    err = ustk__tcp_shutdown(s, t, how, now);
    ustk__tcb_settle(s, t);
    return err;
}

/* A datagram socket has nothing to finish: close and abort free it. */
static int dgram_close(ustk_stack *s, int sock, ustk_dgram *d, ustk_time now)
{
    now_seen(s, now);
    slot_free(s, sock);
    ustk__dgram_free(s, d);
    return 0;
}

/* A connection that has lost its handle ends with a reset (or is freed,
 * if it has already ended). */
static void orphan_reset(ustk_stack *s, ustk_tcb *t, ustk_time now)
{
    t->flags |= TF_ORPHAN;
    if (t->flags & TF_DEAD)
        ustk__tcb_free(s, t);
    else
        ustk__tcp_abort(s, t, now);
}

int ustk_close(ustk_stack *s, int sock, ustk_time now)
{
    ustk_dgram *d;
    ustk_tcb *t;
    if (!endpoint_of(s, sock, &d, &t))
        return USTK_EBADF;
    if (d)
        return dgram_close(s, sock, d, now);
    now_seen(s, now);
    slot_free(s, sock);
    t->sock = -1;
    /* Without memory for the busy part there is no graceful close: the
     * connection is reset. */
    if (!ustk__tcb_busy(s, t)) {
        orphan_reset(s, t, now);
        return 0;
    }
    ustk__tcp_close(s, t, now);
    return 0;
}

int ustk_abort(ustk_stack *s, int sock, ustk_time now)
{
    ustk_dgram *d;
    ustk_tcb *t;
    if (!endpoint_of(s, sock, &d, &t))
        return USTK_EBADF;
    if (d)
        return dgram_close(s, sock, d, now);
    now_seen(s, now);
    slot_free(s, sock);
    t->sock = -1;
    orphan_reset(s, t, now);
    return 0;
}

int ustk_sock_poll(const ustk_stack *s, int sock)
{
    const ustk_slot *sl = slot_of(s, sock);
    if (!sl)
        return USTK_EBADF;
    return slot_poll(s, sl);
}

ptrdiff_t ustk_sock_nread(const ustk_stack *s, int sock)
{
    const ustk_dgram *d = dg_of(s, sock);
    if (d)
        return (ptrdiff_t)ustk__dgram_nread(d);
    const ustk_tcb *t = tcb_of(s, sock);
    if (!t)
        return USTK_EBADF;
    if (t->state == USTK_TCP_LISTEN)
        return USTK_EINVAL; /* as Linux's SIOCINQ on a listener */
    /* A quiet block has no busy part, so no buffer and nothing to read. */
    return t->x ? (ptrdiff_t)ustk_ring_len(&t->x->rcv) : 0;
}

int ustk_sock_error(ustk_stack *s, int sock)
{
    ustk_dgram *d = dg_of(s, sock);
    if (!d) {
        ustk_tcb *t = tcb_of(s, sock);
        if (!t)
            return USTK_EBADF;
        int e = t->err;
        t->err = 0;
        return e;
    }
    int e = d->err;
    d->err = 0;
    return e;
}

int ustk_sock_error_info(ustk_stack *s, int sock, ustk_sock_err_info *out)
{
    ustk_dgram *d = dg_of(s, sock);
    if (!d)
        return tcb_of(s, sock) ? USTK_EOPNOTSUPP : USTK_EBADF;
    if (!out)
        return USTK_EINVAL;
    return ustk__dgram_error_info(s, d, out);
}

int ustk_getsockname(const ustk_stack *s, int sock, ustk_sockaddr *out)
{
    const ustk_dgram *d = dg_of(s, sock);
    if (d) {
        if (!out)
            return USTK_EINVAL;
        ustk__dgram_sockname(s, d, out);
        return 0;
    }
    const ustk_tcb *t = tcb_of(s, sock);
    if (!t)
        return USTK_EBADF;
    if (!out)
        return USTK_EINVAL;
    out->addr = t->laddr;
    out->port = t->lport;
    return 0;
}

int ustk_getpeername(const ustk_stack *s, int sock, ustk_sockaddr *out)
{
    const ustk_dgram *d = dg_of(s, sock);
    if (d) {
        if (!out)
            return USTK_EINVAL;
        if (!(d->flags & DG_CONNECTED))
            return USTK_ENOTCONN;
        out->addr = d->raddr;
        out->port = d->rport;
        return 0;
    }
    const ustk_tcb *t = tcb_of(s, sock);
    if (!t)
        return USTK_EBADF;
    if (!out)
        return USTK_EINVAL;
    if (t->rport == 0)
        return USTK_ENOTCONN;
    out->addr = t->raddr;
    out->port = t->rport;
    return 0;
}

int ustk_tcp_info_get(const ustk_stack *s, int sock, ustk_tcp_info *out)
{
    const ustk_tcb *t = tcb_of(s, sock);
    if (!t)
        return not_tcp(s, sock);
    if (!out)
        return USTK_EINVAL;
    ustk__tcp_info(s, t, out);
    return 0;
}

static int tcb_setopt(ustk_stack *s, ustk_tcb *t, int opt, int value);

int ustk_setsockopt(ustk_stack *s, int sock, int opt, int value)
{
    ustk_tcb *t = tcb_of(s, sock);
    if (!t)
        return not_tcp(s, sock); /* the options are all TCP's */
    if (value < 0)
        return USTK_EINVAL;
    int err = tcb_busy(s, t);
    if (err)
        return err;
    err = tcb_setopt(s, t, opt, value);
    if (!err)
        ustk__tcp_reschedule(s, t);
    ustk__tcb_settle(s, t);
    return err;
}

/* One option on a busy block; the caller reschedules. */
static int tcb_setopt(ustk_stack *s, ustk_tcb *t, int opt, int value)
{
    switch (opt) {
    case USTK_SO_KEEPALIVE:
        t->keepalive = value != 0;
        break;
    case USTK_TCP_NODELAY:
        t->nodelay = value != 0;
        break;
    case USTK_TCP_KEEPIDLE:
    case USTK_TCP_KEEPINTVL:
        /* Linux bounds these to 1..32767 s; so do we. */
        if (value < 1 || value > 32767)
            return USTK_EINVAL;
        if (opt == USTK_TCP_KEEPIDLE)
            t->x->keep_idle_s = (uint32_t)value;
        else
            t->x->keep_intvl_s = (uint32_t)value;
        break;
    case USTK_TCP_KEEPCNT:
        if (value < 1 || value > 127)
            return USTK_EINVAL;
        t->x->keep_cnt = (uint32_t)value;
        break;
    case USTK_TCP_USER_TIMEOUT:
        t->x->user_timeout_ms = (uint32_t)value;
        break;
    case USTK_TCP_CONGESTION:
        if (value > USTK_CC_CUBIC)
            return USTK_EINVAL;
        return ustk__tcp_set_cc(s, t, value);
    case USTK_TCP_RACK:
        (void)ustk__rack_set(s, t, value != 0, t->tlp_on);
        break;
    case USTK_TCP_TLP:
        (void)ustk__rack_set(s, t, t->rack_on, value != 0);
        break;
    default:
        return USTK_EINVAL;
    }
    return 0;
}

int ustk_getsockopt(const ustk_stack *s, int sock, int opt, int *value)
{
    const ustk_tcb *t = tcb_of(s, sock);
    if (!t)
        return not_tcp(s, sock);
    if (!value)
        return USTK_EINVAL;
    switch (opt) {
    case USTK_SO_KEEPALIVE:
        *value = t->keepalive;
        break;
    case USTK_TCP_NODELAY:
        *value = t->nodelay;
        break;
    /* A quiet block has these at the stack's defaults (tcp_conn.c). */
    case USTK_TCP_KEEPIDLE:
        *value = t->x ? (int)t->x->keep_idle_s
                      : (int)(s->cfg.keepalive_idle / 1000000u);
        break;
    case USTK_TCP_KEEPINTVL:
        *value = t->x ? (int)t->x->keep_intvl_s
                      : (int)(s->cfg.keepalive_intvl / 1000000u);
        break;
    case USTK_TCP_KEEPCNT:
        *value = t->x ? (int)t->x->keep_cnt : (int)s->cfg.keepalive_count;
        break;
    case USTK_TCP_USER_TIMEOUT:
        *value = t->x ? (int)t->x->user_timeout_ms : 0;
        break;
    case USTK_TCP_CONGESTION:
        *value = t->cc_kind;
        break;
    case USTK_TCP_RACK:
        *value = t->rack_on;
        break;
    case USTK_TCP_TLP:
        *value = t->tlp_on;
        break;
    default:
        return USTK_EINVAL;
    }
    return 0;
}
