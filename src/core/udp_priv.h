/* Internal definitions of datagram sockets: UDP (RFC 768) and ICMP echo
 * ("ping") sockets, and the calls the socket layer makes on them. */
#ifndef USTK_CORE_UDP_PRIV_H
#define USTK_CORE_UDP_PRIV_H

#include "stack_priv.h"

/* Datagram socket flags. */
enum {
    DG_BOUND = 1u << 0,     /* in udp_tab / ping_tab */
    DG_CONNECTED = 1u << 1, /* raddr/rport are the default peer and filter */
    DG_WAIT_ROOM = 1u << 2, /* on s->dg_wait: a send found no room */
    DG_SHUT_RD = 1u << 3,
    DG_SHUT_WR = 1u << 4
};

/* The details of the errors a datagram socket took, kept for
 * ustk_sock_error_info(): the newest USTK_DGRAM_ERRQ not yet read, in a
 * ring taken with the first error and given back when read empty. */
#ifndef USTK_DGRAM_ERRQ
#define USTK_DGRAM_ERRQ 8
#endif

typedef struct ustk_dgram_errq {
    uint8_t head, len; /* len >= 1: an empty ring is given back */
    uint32_t lost;     /* pushed out unread since the last one was taken */
    ustk_sock_err_info v[USTK_DGRAM_ERRQ];
} ustk_dgram_errq;

/* One received datagram, waiting to be read. */
typedef struct ustk_dgram_msg {
    struct ustk_dgram_msg *next;
    ustk_ip4 from;
    uint16_t port;
    uint32_t len;
    uint8_t data[]; /* len bytes */
} ustk_dgram_msg;

struct ustk_dgram {
    ustk_dgram *bnext; /* udp_tab / ping_tab chain */
    ustk_dgram *wnext; /* s->dg_wait */
    int sock;
    uint8_t proto;     /* USTK_PROTO_UDP or USTK_PROTO_ICMP */
    uint8_t flags;
    ustk_ip4 laddr, raddr; /* laddr 0 = any of ours */
    uint16_t lport, rport; /* ping sockets: lport is the echo identifier */
    int err;               /* pending error, taken by the next call */
    ustk_dgram_errq *errq; /* NULL while no error's details are kept */
    /* Receive queue, bounded by cfg.udp_rcv_max datagrams and
     * cfg.udp_rcv_buf payload bytes: a circular list reached from its
     * newest datagram (rq_last->next is the oldest), so that one pointer
     * holds it and the socket keeps to 64 bytes, one cache line. */
    ustk_dgram_msg *rq_last;
    uint32_t rq_len, rq_bytes;
};

ustk_dgram *ustk__dgram_new(ustk_stack *s, uint8_t proto);
/* Free a socket and everything it holds (the handle is gone). */
void ustk__dgram_free(ustk_stack *s, ustk_dgram *d);
int ustk__dgram_bind(ustk_stack *s, ustk_dgram *d, const ustk_sockaddr *a);
int ustk__dgram_connect(ustk_stack *s, ustk_dgram *d, const ustk_sockaddr *to);
ptrdiff_t ustk__dgram_sendto(ustk_stack *s, ustk_dgram *d, const void *buf,
                             size_t len, const ustk_sockaddr *to);
ptrdiff_t ustk__dgram_recvfrom(ustk_stack *s, ustk_dgram *d, void *buf,
                               size_t len, ustk_sockaddr *from);
/* Take the details of the oldest error kept: 0, or USTK_EAGAIN when none
 * is. Taking the last one clears the pending error. */
int ustk__dgram_error_info(ustk_stack *s, ustk_dgram *d,
                           ustk_sock_err_info *out);
/* The length of the oldest queued datagram, 0 when none. */
uint32_t ustk__dgram_nread(const ustk_dgram *d);
int ustk__dgram_shutdown(ustk_stack *s, ustk_dgram *d, int how);
int ustk__dgram_poll(const ustk_stack *s, const ustk_dgram *d);
void ustk__dgram_sockname(const ustk_stack *s, const ustk_dgram *d,
                          ustk_sockaddr *out);

#endif
