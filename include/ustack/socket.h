/* ustack — the socket API.
 *
 * Sockets are integer handles (>= 0) named after the BSD calls. Nothing
 * blocks: a call that cannot proceed returns USTK_EAGAIN (or
 * USTK_EINPROGRESS for connect), and the caller waits for readiness, which
 * ustk_sock_poll() and ustk_events() report. Calls that change protocol
 * state take `now`, like every other entry point of the stack. Misuse (a bad
 * handle, send on a listener, connect twice) returns an error and changes
 * nothing.
 */
#ifndef USTACK_SOCKET_H
#define USTACK_SOCKET_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "stack.h"

typedef enum ustk_proto {
    USTK_PROTO_ICMP = 1, /* echo ("ping") sockets, like Linux's
                            SOCK_DGRAM + IPPROTO_ICMP: see ustk_sendto */
    USTK_PROTO_TCP = 6,
    USTK_PROTO_UDP = 17
} ustk_proto;

/* The 11 TCP states of RFC 9293 §3.3.2, plus USTK_TCP_NONE for a socket that
 * is not (or no longer) a connection. */
#define USTK_TCP_STATE_MAP(X)                                                 \
    X(CLOSED, "CLOSED")                                                       \
    X(LISTEN, "LISTEN")                                                       \
    X(SYN_SENT, "SYN-SENT")                                                   \
    X(SYN_RECEIVED, "SYN-RECEIVED")                                           \
    X(ESTABLISHED, "ESTABLISHED")                                             \
    X(FIN_WAIT_1, "FIN-WAIT-1")                                               \
    X(FIN_WAIT_2, "FIN-WAIT-2")                                               \
    X(CLOSE_WAIT, "CLOSE-WAIT")                                               \
    X(CLOSING, "CLOSING")                                                     \
    X(LAST_ACK, "LAST-ACK")                                                   \
    X(TIME_WAIT, "TIME-WAIT")

typedef enum ustk_tcp_state {
#define USTK__STATE_ENUM(name, text) USTK_TCP_##name,
    USTK_TCP_STATE_MAP(USTK__STATE_ENUM)
#undef USTK__STATE_ENUM
    USTK_TCP__STATE_COUNT
} ustk_tcp_state;

/* The RFC's name of a state ("SYN-SENT"); never NULL. */
const char *ustk_tcp_state_name(int state);

typedef struct ustk_sockaddr {
    ustk_ip4 addr; /* host order; 0 = any (bind) */
    uint16_t port; /* host order; 0 = ephemeral (bind) */
} ustk_sockaddr;

/* Readiness flags. */
enum {
    USTK_READABLE = 0x01, /* recv/accept will not return EAGAIN */
    USTK_WRITABLE = 0x02, /* send will accept at least one byte */
    USTK_HUP = 0x04,      /* the peer has closed its sending side */
    USTK_ERROR = 0x08     /* an error is pending (ustk_sock_error) */
};

enum { USTK_SHUT_RD = 0, USTK_SHUT_WR = 1, USTK_SHUT_RDWR = 2 };

/* Create a socket. Returns a handle >= 0; USTK_EMFILE when every handle
 * is taken; USTK_ENOMEM when max_sockets connections exist or memory ran
 * out (connections without a handle count too: half-open ones, those not
 * yet accepted, and closed ones still finishing their teardown);
 * USTK_EPROTONOSUPPORT for an unknown protocol; USTK_EINVAL without a
 * stack. A closed handle stays invalid (USTK_EBADF) until its slot has
 * been reused 65,535 times (up to 32,768 sockets; half as many with each
 * doubling above, 2,047 above 524,288), every other free slot being
 * reused in between. */
int ustk_open(ustk_stack *s, ustk_proto proto);
/* Bind to our address, to one of 127.0.0.0/8 but its broadcast, or to any
 * (0); any other address is USTK_EADDRNOTAVAIL. A socket receives what is
 * sent to the address it is bound to, one bound to any what is sent to
 * any of them. A socket bound to a 127/8 address talks only to this
 * host's addresses: ustk_connect and ustk_sendto to any other fail with
 * USTK_EINVAL, as on Linux. A UDP or ping port is one socket's, whatever
 * the address (Linux lets sockets on different addresses share it). */
int ustk_bind(ustk_stack *s, int sock, const ustk_sockaddr *addr);
/* Start listening; backlog is clamped to the config's max_backlog. */
int ustk_listen(ustk_stack *s, int sock, int backlog);
/* Take an established connection from the listener's accept queue.
 * Returns a new handle, USTK_EAGAIN when none is waiting, USTK_EMFILE
 * when one is waiting but every handle is taken (the listener stays
 * readable, as on Linux: close something, or the loop spins), or
 * USTK_EINVAL when the socket is not listening. `peer` may be NULL. */
int ustk_accept(ustk_stack *s, int sock, ustk_sockaddr *peer);
/* Start an active open. Returns USTK_EINPROGRESS when the SYN is under way;
 * the outcome shows as USTK_WRITABLE (connected) or USTK_ERROR. A TCP
 * connection needs one peer, so some addresses fail at once, sending
 * nothing, with what Linux says: USTK_ENETUNREACH for a broadcast address
 * (255.255.255.255, or our subnet's, host part all ones or all zeros) or a
 * multicast group (224.0.0.0/4), and for an address with no route;
 * USTK_EINVAL for 0.0.0.0, a class E address (240.0.0.0/4) or port 0,
 * and from a socket bound to a 127/8 address for any address not this
 * host's.
 * (UDP: see below.) Our own address, and every address of 127.0.0.0/8
 * but its broadcast 127.255.255.255, is a peer like any other: what is
 * sent to it comes back into our input (loopback) on the next
 * ustk_poll_output(), and never reaches the link. An unbound socket
 * talks to a 127/8 address from that same address (Linux: always from
 * 127.0.0.1). */
int ustk_connect(ustk_stack *s, int sock, const ustk_sockaddr *to,
                 ustk_time now);
/* Queue bytes for sending. Returns the count taken (possibly fewer than len),
 * USTK_EAGAIN when the buffer is full, or an error. */
ptrdiff_t ustk_send(ustk_stack *s, int sock, const void *buf, size_t len,
                  ustk_time now);
/* Read received bytes. Returns the count, 0 at end of stream (peer's FIN),
 * USTK_EAGAIN when nothing is there yet, or an error. */
ptrdiff_t ustk_recv(ustk_stack *s, int sock, void *buf, size_t len,
                  ustk_time now);
/* Datagram sockets (UDP and ICMP echo). ustk_sendto sends one datagram to
 * `to` (NULL on a connected socket); it returns len, USTK_EMSGSIZE when the
 * datagram cannot be sent even in fragments, USTK_EAGAIN when the output
 * queue is full, USTK_EDESTADDRREQ when `to` is NULL on an unconnected
 * socket.
 *
 * ustk_recvfrom (and ustk_recv) take the oldest queued datagram whole:
 * they copy at most len bytes of it, discard the rest, store the sender in
 * `from` (may be NULL) and return the count copied, as BSD and Linux
 * recvfrom() do without MSG_TRUNC; or USTK_EAGAIN. There is no flags
 * argument, so a short buffer is not reported by the call itself: to learn
 * whether a datagram would be cut, ask ustk_sock_nread() for its length
 * first (Linux's FIONREAD), or read into a buffer of 65,507 bytes, the
 * largest UDP payload, which nothing exceeds.
 *
 * Without ustk_connect, a UDP socket receives from anyone, and ustk_recv
 * works on it as ustk_recvfrom with `from` NULL (as on Linux and BSD);
 * ustk_send needs a peer (USTK_EDESTADDRREQ). A broadcast destination is
 * USTK_EACCES (Linux without SO_BROADCAST, which we do not offer), and so
 * is a multicast group (no group support); 0.0.0.0 and class E are
 * USTK_EINVAL, and so is any address not this host's from a socket bound
 * to a 127/8 address; this for ustk_sendto and ustk_connect alike.
 * Datagrams and echo requests to our own address or to 127/8 are
 * delivered to us (loopback), from the destination's own address when it
 * is in 127/8 and the socket is bound to none; 127.255.255.255 is a
 * broadcast. On a UDP socket, ustk_connect sets the default peer and
 * filters what is received; it completes at once (returns 0), and an ICMP
 * port unreachable for the peer then shows as USTK_ECONNREFUSED
 * (ustk_sock_error, USTK_ERROR readiness; who sent it and about which
 * datagram: ustk_sock_error_info).
 *
 * ICMP echo sockets: the buffer given to ustk_sendto is an ICMP echo
 * request (8-byte header, type 8, then data); the stack sets the identifier
 * to the socket's bound identifier (its "port", ephemeral when unbound) and
 * computes the checksum. ustk_recvfrom returns the matching echo replies,
 * header included. An ICMP error about a request (time exceeded,
 * destination unreachable, ...) becomes the pending error, and
 * ustk_sock_error_info tells who sent it and which request (identifier
 * and sequence number) it quotes. */
ptrdiff_t ustk_sendto(ustk_stack *s, int sock, const void *buf, size_t len,
                      const ustk_sockaddr *to, ustk_time now);
ptrdiff_t ustk_recvfrom(ustk_stack *s, int sock, void *buf, size_t len,
                        ustk_sockaddr *from, ustk_time now);

/* Close one or both directions of a connection that is at least
 * SYN-RECEIVED; otherwise (SYN-SENT, a listener, an unconnected or reset
 * socket, an unconnected datagram socket) USTK_ENOTCONN for any `how`,
 * though ustk_send in SYN-SENT queues data for after the handshake: wait
 * for USTK_WRITABLE. USTK_SHUT_WR queues our FIN after the data already
 * queued. USTK_SHUT_RD: what has arrived in order is still read, then
 * ustk_recv returns 0 (or a pending error); what arrives later is
 * acknowledged and discarded (the peer is not told). USTK_EINVAL for any
 * other `how`. */
int ustk_shutdown(ustk_stack *s, int sock, int how, ustk_time now);
/* Graceful close: the handle is released at once; the connection finishes
 * its teardown in the background. Unread received data makes it a reset
 * (RFC 9293 §3.10.4, RFC 2525 §2.17). */
int ustk_close(ustk_stack *s, int sock, ustk_time now);
/* Abortive close: send RST (when synchronized) and release everything. */
int ustk_abort(ustk_stack *s, int sock, ustk_time now);

/* Current readiness (USTK_READABLE | ...), or a negative error. */
int ustk_sock_poll(const ustk_stack *s, int sock);
/* What the next read would find, like Linux's FIONREAD (SIOCINQ): on a
 * datagram socket the length of the oldest queued datagram (0 when none,
 * or when it is empty), on a TCP connection the bytes ready to be read.
 * USTK_EINVAL on a listener, USTK_EBADF for a bad handle. */
ptrdiff_t ustk_sock_nread(const ustk_stack *s, int sock);
/* Take the pending error (0 when none), like SO_ERROR. */
int ustk_sock_error(ustk_stack *s, int sock);

/* Where an error a datagram socket took came from. */
enum {
    USTK_ERR_ORIGIN_LOCAL = 1, /* our own stack: ARP gave up on the next
                                  hop, and the datagram was lost */
    USTK_ERR_ORIGIN_ICMP = 2   /* an ICMP error message from `offender` */
};

/* What an error told a datagram socket: who said what about which of its
 * datagrams, like Linux's sock_extended_err and offender address from an
 * IP_RECVERR error queue. */
typedef struct ustk_sock_err_info {
    int err;            /* the USTK_E* it made the pending error */
    uint8_t origin;     /* USTK_ERR_ORIGIN_* */
    uint8_t type, code; /* the ICMP type and code (USTK_ERR_ORIGIN_LOCAL:
                           3 and 1, host unreachable, as Linux says it) */
    uint8_t pointer;    /* parameter problem (type 12): the octet in error
                           (RFC 792); 0 otherwise */
    uint16_t mtu;       /* fragmentation needed (type 3, code 4): the next
                           hop's MTU (RFC 1191; 0 from a router that names
                           none); 0 otherwise */
    ustk_ip4 offender;  /* who sent it: the destination, a router on the
                           way, or our own address (USTK_ERR_ORIGIN_LOCAL) */
    ustk_sockaddr dst;  /* the datagram it is about (from the quote): its
                           destination and, on a UDP socket, port (0 on a
                           ping socket) */
    uint16_t echo_id;   /* ping sockets: the quoted echo request's
                           identifier (the socket's) */
    uint16_t echo_seq;  /* and sequence number; both 0 on a UDP socket */
    uint32_t lost;      /* errors taken since the previous one was read
                           whose details were not kept (see below) */
} ustk_sock_err_info;

/* Take the details of the oldest error a datagram socket keeps into *out:
 * returns 0, or USTK_EAGAIN when it keeps none (USTK_EOPNOTSUPP on a TCP
 * socket, USTK_EBADF for a bad handle, USTK_EINVAL when out is NULL).
 *
 * A datagram socket keeps the details of the errors it takes, the same
 * ones that become its pending error: on a ping socket every ICMP error
 * quoting one of its echo requests, on a connected UDP socket the hard
 * ones (port or protocol unreachable, the administrative codes) about
 * datagrams to its peer, and on both a datagram lost because ARP gave up.
 * It keeps the newest 8 unread, oldest first (USTK_DGRAM_ERRQ, a build
 * option): a ninth pushes out the oldest, which the next one read counts
 * in `lost` (as does the stack, in dgram_err_lost). They cost nothing
 * until an error comes, and are given back once read.
 *
 * The pending error is as before: each error sets it, USTK_ERROR
 * readiness shows it, and ustk_sock_error(), send and recv take it
 * (leaving the details to be read). Taking the last detail kept also
 * clears it, since every error it came from has then been told. So an
 * application that wants the details calls this until USTK_EAGAIN when it
 * sees USTK_ERROR (and ustk_sock_error() after, for an error whose
 * details memory could not hold); one that does not sees what it always
 * saw. Details nobody reads stay (at most 8, and their memory) until they
 * are read or the socket is closed, even after the pending error was
 * taken: a later reader gets those older ones first. */
int ustk_sock_error_info(ustk_stack *s, int sock, ustk_sock_err_info *out);
int ustk_getsockname(const ustk_stack *s, int sock, ustk_sockaddr *out);
int ustk_getpeername(const ustk_stack *s, int sock, ustk_sockaddr *out);

/* Sockets whose readiness may have changed since the last call. Each handle
 * appears once; the list costs nothing to keep for idle sockets. Returns the
 * number written to out (up to max). */
typedef struct ustk_event {
    int sock;
    int flags; /* readiness at the time of the call */
} ustk_event;
int ustk_events(ustk_stack *s, ustk_event *out, int max);

/* Socket options (ustk_setsockopt / ustk_getsockopt), values are ints. */
enum {
    USTK_SO_KEEPALIVE = 1,     /* 0/1: send keepalive probes when idle */
    USTK_TCP_NODELAY = 2,      /* 0/1: 1 turns Nagle's algorithm off */
    USTK_TCP_KEEPIDLE = 3,     /* seconds idle before the first probe */
    USTK_TCP_KEEPINTVL = 4,    /* seconds between probes */
    USTK_TCP_KEEPCNT = 5,      /* unanswered probes before ETIMEDOUT */
    USTK_TCP_USER_TIMEOUT = 6, /* ms data may stay unacknowledged; 0 = off
                                  (RFC 5482 semantics) */
    USTK_TCP_CONGESTION = 7,   /* ustk_cc_kind */
    USTK_TCP_RACK = 8,         /* 0/1: RACK loss detection when SACK is
                                  agreed (RFC 8985); 0 = RFC 6675's own */
    USTK_TCP_TLP = 9           /* 0/1: tail loss probes (RFC 8985 §7) */
};

int ustk_setsockopt(ustk_stack *s, int sock, int opt, int value);
int ustk_getsockopt(const ustk_stack *s, int sock, int opt, int *value);

/* A snapshot of a TCP connection, like Linux's tcp_info. */
typedef struct ustk_tcp_info {
    int state; /* ustk_tcp_state */
    uint32_t iss, irs;
    uint32_t snd_una, snd_nxt, snd_wnd; /* snd_wnd scaled, in bytes */
    uint32_t rcv_nxt, rcv_wnd;
    uint16_t mss;      /* effective send MSS */
    uint16_t peer_mss; /* what the peer announced */
    uint8_t snd_wscale, rcv_wscale;
    uint8_t sack_ok, ts_ok;
    uint32_t srtt_us, rttvar_us, rto_us;
    uint32_t retransmits;   /* segments retransmitted in total */
    uint32_t backoff;       /* current consecutive timeouts */
    uint64_t bytes_sent;    /* application bytes acknowledged by the peer */
    uint64_t bytes_received;/* application bytes delivered in order */
    uint64_t segs_out, segs_in;
    uint32_t snd_queued;    /* bytes in the send buffer (unsent + unacked) */
    uint32_t rcv_queued;    /* bytes waiting to be read */
    /* Congestion control and loss recovery */
    uint8_t cc;             /* ustk_cc_kind in use */
    uint32_t cwnd, ssthresh;/* bytes */
    uint32_t bytes_in_flight;
    uint32_t sacked_out;    /* bytes the peer reported in SACK blocks */
    uint32_t lost_out;      /* bytes considered lost, not yet resent */
    uint32_t rtx_timeout;   /* retransmissions by cause: timeout, */
    uint32_t rtx_fast;      /* duplicate ACKs (fast retransmit/recovery), */
    uint32_t rtx_sack;      /* SACK or RACK loss detection, */
    uint32_t rtx_tlp;       /* tail loss probes that resent data */
    uint32_t undos;         /* window cuts undone as spurious (D-SACK) */
} ustk_tcp_info;

int ustk_tcp_info_get(const ustk_stack *s, int sock, ustk_tcp_info *out);

#endif
