/* UDP (RFC 768) and ICMP echo ("ping") sockets: local ports and echo
 * identifiers, sending through the datagram output queue, the bounded
 * receive queues, and the errors ICMP and ARP report about what a socket
 * sent.
 *
 * Each kind has its own table of bound sockets, hashed by port (UDP) or
 * identifier (ping). A host has one address, so a port names at most one
 * socket and a lookup is one short chain. */
#include <string.h>

#include "udp_priv.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

/* The largest payloads that fit an IPv4 datagram (RFC 791: 65535 bytes,
 * a 20-byte header, then the 8-byte UDP or ICMP header). */
#define UDP_PAYLOAD_MAX (0xffffu - USTK_IPV4_HDR_LEN - USTK_UDP_HDR_LEN)
#define ICMP_MSG_MAX (0xffffu - USTK_IPV4_HDR_LEN)

/* An idle socket costs this, so keep it to one cache line. */
_Static_assert(sizeof(struct ustk_dgram) <= 64,
               "a datagram socket grew past 64 bytes");
_Static_assert(USTK_DGRAM_ERRQ >= 1 && USTK_DGRAM_ERRQ <= 255,
               "USTK_DGRAM_ERRQ must fit the ring's 8-bit counts");

static ustk_dgram **tab_of(const ustk_stack *s, uint8_t proto)
{
    return proto == USTK_PROTO_UDP ? s->udp_tab : s->ping_tab;
}

static uint32_t port_slot(const ustk_stack *s, uint16_t port)
{
    /* Local ports are chosen by us and the application, not by peers: a
     * multiplicative hash spreads them well enough. */
    return (uint32_t)(port * 2654435761u) & s->port_mask;
}

static ustk_dgram *dgram_lookup(const ustk_stack *s, uint8_t proto,
                                uint16_t port)
{
    for (ustk_dgram *d = tab_of(s, proto)[port_slot(s, port)]; d;
         d = d->bnext)
        if (d->lport == port)
            return d;
    return NULL;
}

int ustk__dgram_init(ustk_stack *s)
{
    size_t n = (size_t)s->port_mask + 1;
    s->udp_tab = ustk__alloc(s, sizeof(*s->udp_tab) * n);
    s->ping_tab = ustk__alloc(s, sizeof(*s->ping_tab) * n);
    if (!s->udp_tab || !s->ping_tab)
        return USTK_ENOMEM;
    memset(s->udp_tab, 0, sizeof(*s->udp_tab) * n);
    memset(s->ping_tab, 0, sizeof(*s->ping_tab) * n);
    s->dg_wait = NULL;
    return 0;
}

void ustk__dgram_fini(ustk_stack *s)
{
    ustk__free(s, s->udp_tab);
    ustk__free(s, s->ping_tab);
    s->udp_tab = s->ping_tab = NULL;
}

ustk_dgram *ustk__dgram_new(ustk_stack *s, uint8_t proto)
{
    ustk_dgram *d = ustk__alloc(s, sizeof(*d));
    if (!d)
        return NULL;
    memset(d, 0, sizeof(*d));
    d->sock = -1;
    d->proto = proto;
    return d;
}

static void dgram_unbind(ustk_stack *s, ustk_dgram *d)
{
    if (!(d->flags & DG_BOUND))
        return;
    for (ustk_dgram **pp = &tab_of(s, d->proto)[port_slot(s, d->lport)]; *pp;
         pp = &(*pp)->bnext)
        if (*pp == d) {
            *pp = d->bnext;
            break;
        }
    d->bnext = NULL;
    d->flags &= (uint8_t)~DG_BOUND;
}

/* The oldest queued datagram, or NULL. */
static ustk_dgram_msg *rq_first(const ustk_dgram *d)
{
    return d->rq_last ? d->rq_last->next : NULL;
}

/* Unlink the oldest datagram from a queue that has one. */
static ustk_dgram_msg *rq_pop(ustk_dgram *d)
{
    ustk_dgram_msg *m = d->rq_last->next;
    if (m == d->rq_last)
        d->rq_last = NULL;
    else
        d->rq_last->next = m->next;
    d->rq_len--;
    d->rq_bytes -= m->len;
    return m;
}

void ustk__dgram_free(ustk_stack *s, ustk_dgram *d)
{
    if (!d)
        return;
    dgram_unbind(s, d);
    if (d->flags & DG_WAIT_ROOM) {
        /* The wait list holds only sockets that were refused; walking it
         * on close is bounded by those. */
        for (ustk_dgram **pp = &s->dg_wait; *pp; pp = &(*pp)->wnext)
            if (*pp == d) {
                *pp = d->wnext;
                break;
            }
    }
    while (d->rq_last)
        ustk__free(s, rq_pop(d));
    ustk__free(s, d->errq);
    ustk__free(s, d);
}

/* ---- ports ---- */

static int bind_port(ustk_stack *s, ustk_dgram *d, ustk_ip4 laddr,
                     uint16_t port)
{
    /* One address: a port (or identifier) is one socket's, whether it
     * was bound to the address or to "any". */
    if (dgram_lookup(s, d->proto, port))
        return USTK_EADDRINUSE;
    d->laddr = laddr;
    d->lport = port;
    uint32_t i = port_slot(s, port);
    ustk_dgram **tab = tab_of(s, d->proto);
    d->bnext = tab[i];
    tab[i] = d;
    d->flags |= DG_BOUND;
    return 0;
}

/* RFC 6056 §3.3: any free port of the range will do; start where the last
 * search stopped. Bounded by the size of the range, a hash probe each. */
static int bind_ephemeral(ustk_stack *s, ustk_dgram *d, ustk_ip4 laddr)
{
    uint32_t lo = s->cfg.ephemeral_lo, hi = s->cfg.ephemeral_hi;
    for (uint32_t i = 0; i <= hi - lo; i++) {
        uint16_t p = s->next_ephemeral;
        s->next_ephemeral = (uint16_t)(p >= hi ? lo : p + 1u);
        if (bind_port(s, d, laddr, p) == 0)
            return 0;
    }
    return USTK_EADDRINUSE;
}

int ustk__dgram_bind(ustk_stack *s, ustk_dgram *d, const ustk_sockaddr *a)
{
    if (d->flags & DG_BOUND)
        return USTK_EINVAL;
    if (!ustk__ip_bindable(s, a->addr))
        return USTK_EADDRNOTAVAIL;
    if (a->port)
        return bind_port(s, d, a->addr, a->port);
    return bind_ephemeral(s, d, a->addr);
}

static int autobind(ustk_stack *s, ustk_dgram *d)
{
    return (d->flags & DG_BOUND) ? 0 : bind_ephemeral(s, d, 0);
}

/* A destination we can send to: one host, not "this host", a broadcast
 * (which needs SO_BROADCAST on BSD and Linux; we do not offer it) or a
 * multicast group (not supported). */
static int dest_check(const ustk_stack *s, ustk_ip4 a)
{
    if (a == 0 || (a >> 28) == 0xf)
        return a == 0xffffffffu ? USTK_EACCES : USTK_EINVAL;
    if (ustk__ip_is_bcast(s, a) || ustk__ip_is_multicast(a))
        return USTK_EACCES;
    return 0;
}

int ustk__dgram_connect(ustk_stack *s, ustk_dgram *d, const ustk_sockaddr *to)
{
    /* Address and port 0 dissolve the association, as connect() with
     * AF_UNSPEC does. */
    if (to->addr == 0 && to->port == 0) {
        d->flags &= (uint8_t)~DG_CONNECTED;
        d->raddr = 0;
        d->rport = 0;
        return 0;
    }
    int err = dest_check(s, to->addr);
    if (err)
        return err;
    if (d->proto == USTK_PROTO_UDP && to->port == 0)
        return USTK_EINVAL;
    if (!ustk__ip_reaches(s, d->laddr, to->addr))
        return USTK_EINVAL;
    if (ustk__route(s, to->addr) == 0)
        return USTK_ENETUNREACH;
    err = autobind(s, d);
    if (err)
        return err;
    d->raddr = to->addr;
    d->rport = d->proto == USTK_PROTO_UDP ? to->port : 0;
    d->flags |= DG_CONNECTED;
    return 0;
}

/* ---- sending ---- */

static void wait_room(ustk_stack *s, ustk_dgram *d)
{
    if (d->flags & DG_WAIT_ROOM)
        return;
    d->flags |= DG_WAIT_ROOM;
    d->wnext = s->dg_wait;
    s->dg_wait = d;
}

void ustk__dgram_room(ustk_stack *s)
{
    /* Wake the refused senders once half the queue is free, not at every
     * packet, so that a large datagram does not retry 45 times. */
    if (!s->dg_wait || s->dgq.len > s->dgq.cap / 2)
        return;
    while (s->dg_wait) {
        ustk_dgram *d = s->dg_wait;
        s->dg_wait = d->wnext;
        d->wnext = NULL;
        d->flags &= (uint8_t)~DG_WAIT_ROOM;
        if (d->sock >= 0)
            ustk__sock_notify(s, d->sock);
    }
}

static int take_error(ustk_dgram *d)
{
    int e = d->err;
    d->err = 0;
    return e;
}

ptrdiff_t ustk__dgram_sendto(ustk_stack *s, ustk_dgram *d, const void *buf,
                             size_t len, const ustk_sockaddr *to)
{
    /* A pending error is reported by the next call, as Linux does. */
    if (d->err)
        return take_error(d);
    if (d->flags & DG_SHUT_WR)
        return USTK_EPIPE;
    ustk_ip4 dst;
    uint16_t dport;
    if (to) {
        int err = dest_check(s, to->addr);
        if (err)
            return err;
        if (d->proto == USTK_PROTO_UDP && to->port == 0)
            return USTK_EINVAL;
        if (!ustk__ip_reaches(s, d->laddr, to->addr))
            return USTK_EINVAL;
        dst = to->addr;
        dport = to->port;
    } else if (d->flags & DG_CONNECTED) {
        dst = d->raddr;
        dport = d->rport;
    } else {
        return USTK_EDESTADDRREQ;
    }
    const uint8_t *p = buf;
    uint8_t hdr[8];
    const uint8_t *data;
    size_t dlen;
    int err;
    ustk_ip4 src = d->laddr ? d->laddr : ustk__ip_src(s, dst);
    if (d->proto == USTK_PROTO_UDP) {
        if (len > UDP_PAYLOAD_MAX)
            return USTK_EMSGSIZE;
        if ((err = autobind(s, d)) != 0)
            return err;
        ustk_udp_emit_header(d->lport, dport, p, len, src, dst, hdr);
        data = p;
        dlen = len;
    } else {
        /* The application writes the echo request; the stack owns the
         * identifier and the checksum (like Linux's ping sockets). */
        ustk_icmp_hdr h;
        if (len > ICMP_MSG_MAX)
            return USTK_EMSGSIZE;
        if (ustk_icmp_parse_header(p, len, &h) != 0 ||
            h.type != USTK_ICMP_ECHO_REQUEST || h.code != 0)
            return USTK_EINVAL;
        if ((err = autobind(s, d)) != 0)
            return err;
        h.rest = (uint32_t)d->lport << 16 | (h.rest & 0xffffu);
        ustk_icmp_emit_header(&h, hdr);
        data = h.data;
        dlen = h.data_len;
    }
    err = ustk__ip_send(s, &s->dgq,
                        d->proto == USTK_PROTO_UDP ? USTK_IP_PROTO_UDP
                                                   : USTK_IP_PROTO_ICMP,
                        src, dst, hdr, data, dlen);
    if (err == USTK_EAGAIN)
        wait_room(s, d);
    if (err)
        return err;
    if (d->proto == USTK_PROTO_UDP) {
        s->stats.udp_datagrams_out++;
    } else {
        s->stats.icmp_out++;
        s->stats.icmp_echo_requests_out++;
    }
    return (ptrdiff_t)len;
}

/* ---- receiving ---- */

ptrdiff_t ustk__dgram_recvfrom(ustk_stack *s, ustk_dgram *d, void *buf,
                               size_t len, ustk_sockaddr *from)
{
    if (d->err)
        return take_error(d);
    ustk_dgram_msg *m = rq_first(d);
    if (!m)
        return (d->flags & DG_SHUT_RD) ? 0 : USTK_EAGAIN;
    /* A datagram is read whole or not at all: what does not fit in len
     * is discarded, and the count copied is returned (BSD and Linux
     * recvfrom() without MSG_TRUNC). ustk_sock_nread() tells the length
     * beforehand. */
    size_t n = len < m->len ? len : m->len;
    if (n)
        memcpy(buf, m->data, n);
    if (from) {
        from->addr = m->from;
        from->port = m->port;
    }
    ustk__free(s, rq_pop(d));
    return (ptrdiff_t)n;
}

uint32_t ustk__dgram_nread(const ustk_dgram *d)
{
    const ustk_dgram_msg *m = rq_first(d);
    return m ? m->len : 0;
}

/* Queue a datagram for the socket; 0 or full_reason when either bound of
 * the queue (or memory) says no. */
static int dgram_enqueue(ustk_stack *s, ustk_dgram *d, ustk_ip4 from,
                         uint16_t port, const uint8_t *data, size_t len,
                         int full_reason)
{
    if (d->rq_len >= s->cfg.udp_rcv_max ||
        len > (size_t)s->cfg.udp_rcv_buf - d->rq_bytes)
        return full_reason;
    ustk_dgram_msg *m = ustk__alloc(s, sizeof(*m) + len);
    if (!m)
        return full_reason;
    m->from = from;
    m->port = port;
    m->len = (uint32_t)len;
    if (len)
        memcpy(m->data, data, len);
    if (d->rq_last) {
        m->next = d->rq_last->next;
        d->rq_last->next = m;
    } else {
        m->next = m;
    }
    d->rq_last = m;
    d->rq_len++;
    d->rq_bytes += (uint32_t)len;
    if (d->sock >= 0)
        ustk__sock_notify(s, d->sock);
    return 0;
}

void ustk__udp_input(ustk_stack *s, ustk_time now, const ustk_ipv4_hdr *h,
                     const uint8_t *pkt, bool link_bcast)
{
    const uint8_t *p = pkt + h->hdr_len;
    size_t plen = (size_t)h->total_len - h->hdr_len;
    ustk_udp_hdr u;
    int r = ustk_udp_parse(p, plen, h->src, h->dst, &u);
    if (r) {
        ustk__drop(s, r, NULL, NULL, 0);
        return;
    }
    ustk_dgram *d = dgram_lookup(s, USTK_PROTO_UDP, u.dport);
    /* A socket bound to one of our addresses takes only what is sent to
     * that address (not to another of ours, nor to a broadcast). */
    if (d && d->laddr && d->laddr != h->dst)
        d = NULL;
    r = 0;
    if (!d)
        r = USTK_DROP_UDP_NO_SOCKET;
    else if ((d->flags & DG_CONNECTED) &&
             (h->src != d->raddr || u.sport != d->rport))
        r = USTK_DROP_UDP_NOT_PEER;
    if (r) {
        /* RFC 1122 §4.1.3.1: no one listens there; a connected socket
         * does not listen to others (Linux answers them the same way). */
        ustk__icmp_error(s, now, h, pkt, USTK_ICMP_DEST_UNREACH,
                         USTK_ICMP_PORT_UNREACH, link_bcast);
        ustk__drop(s, r, NULL, NULL, 0);
        return;
    }
    r = dgram_enqueue(s, d, h->src, u.sport, p + USTK_UDP_HDR_LEN,
                      (size_t)u.len - USTK_UDP_HDR_LEN,
                      USTK_DROP_UDP_QUEUE_FULL);
    if (r)
        ustk__drop(s, r, NULL, NULL, 0);
    else
        s->stats.udp_datagrams_in++;
}

int ustk__ping_input(ustk_stack *s, const ustk_ipv4_hdr *h, uint16_t id,
                     const uint8_t *msg, size_t len)
{
    ustk_dgram *d = dgram_lookup(s, USTK_PROTO_ICMP, id);
    if (!d || (d->laddr && d->laddr != h->dst) ||
        ((d->flags & DG_CONNECTED) && h->src != d->raddr))
        return USTK_DROP_ICMP_ECHO_NO_SOCKET;
    int r = dgram_enqueue(s, d, h->src, 0, msg, len, USTK_DROP_ICMP_QUEUE_FULL);
    if (!r)
        s->stats.icmp_echo_replies_in++;
    return r;
}

/* Keep the details of an error the socket took: the newest
 * USTK_DGRAM_ERRQ unread, so that a socket nobody reads holds a bounded
 * ring, and a reader that falls behind learns how many it missed. */
static void errq_push(ustk_stack *s, ustk_dgram *d, const ustk_sock_err_info *e)
{
    ustk_dgram_errq *q = d->errq;
    if (!q) {
        q = ustk__alloc(s, sizeof(*q));
        if (!q) {
            s->stats.dgram_err_lost++; /* the pending error still tells */
            return;
        }
        q->head = q->len = 0;
        q->lost = 0;
        d->errq = q;
    }
    if (q->len == USTK_DGRAM_ERRQ) {
        q->head = (uint8_t)((q->head + 1u) % USTK_DGRAM_ERRQ);
        q->len--;
        q->lost++;
        s->stats.dgram_err_lost++;
    }
    q->v[(q->head + q->len) % USTK_DGRAM_ERRQ] = *e;
    q->len++;
}

int ustk__dgram_error_info(ustk_stack *s, ustk_dgram *d,
                           ustk_sock_err_info *out)
{
    ustk_dgram_errq *q = d->errq;
    if (!q)
        return USTK_EAGAIN;
    *out = q->v[q->head];
    out->lost = q->lost;
    q->lost = 0;
    q->head = (uint8_t)((q->head + 1u) % USTK_DGRAM_ERRQ);
    if (--q->len == 0) {
        /* Every error the pending one came from has now been told, with
         * its details; the ring goes back until the next error. */
        d->err = 0;
        d->errq = NULL;
        ustk__free(s, q);
    }
    return 0;
}

int ustk__dgram_icmp_error(ustk_stack *s, uint8_t proto, ustk_ip4 laddr,
                           uint16_t lport, const ustk_sock_err_info *e,
                           bool hard)
{
    ustk_dgram *d = dgram_lookup(s, proto, lport);
    if (!d || (d->laddr && d->laddr != laddr))
        return USTK_DROP_ICMP_NO_MATCH;
    bool connected = (d->flags & DG_CONNECTED) != 0;
    if (connected && (d->raddr != e->dst.addr ||
                      (proto == USTK_PROTO_UDP && d->rport != e->dst.port)))
        return USTK_DROP_ICMP_NO_MATCH;
    /* A ping socket is there to learn what happens to its echoes: it
     * takes every error. A UDP socket takes hard ones about its peer, as
     * Linux's do without IP_RECVERR: an error about another destination
     * (or a soft one) would otherwise fail the next send, whatever it is
     * sent to. */
    if (proto == USTK_PROTO_UDP && (!connected || !hard))
        return USTK_DROP_ICMP_UNREPORTED;
    d->err = e->err;
    errq_push(s, d, e);
    if (d->sock >= 0)
        ustk__sock_notify(s, d->sock);
    return 0;
}

/* ---- the rest of the socket calls ---- */

int ustk__dgram_shutdown(ustk_stack *s, ustk_dgram *d, int how)
{
    if (how != USTK_SHUT_RD && how != USTK_SHUT_WR && how != USTK_SHUT_RDWR)
        return USTK_EINVAL;
    if (!(d->flags & DG_CONNECTED))
        return USTK_ENOTCONN;
    if (how != USTK_SHUT_WR)
        d->flags |= DG_SHUT_RD;
    if (how != USTK_SHUT_RD)
        d->flags |= DG_SHUT_WR;
    if (d->sock >= 0)
        ustk__sock_notify(s, d->sock);
    return 0;
}

int ustk__dgram_poll(const ustk_stack *s, const ustk_dgram *d)
{
    int f = 0;
    if (d->rq_last || (d->flags & DG_SHUT_RD))
        f |= USTK_READABLE;
    if (!(d->flags & DG_SHUT_WR) && s->dgq.len < s->dgq.cap)
        f |= USTK_WRITABLE;
    if ((d->flags & (DG_SHUT_RD | DG_SHUT_WR)) == (DG_SHUT_RD | DG_SHUT_WR))
        f |= USTK_HUP;
    if (d->err)
        f |= USTK_ERROR;
    return f;
}

void ustk__dgram_sockname(const ustk_stack *s, const ustk_dgram *d,
                          ustk_sockaddr *out)
{
    /* Once connected, the address the datagrams come from is the one
     * chosen for the peer (ustk__ip_src: a loopback peer's own). */
    out->addr = d->laddr ? d->laddr
                         : ((d->flags & DG_CONNECTED)
                                ? ustk__ip_src(s, d->raddr)
                                : 0);
    out->port = d->lport;
}
