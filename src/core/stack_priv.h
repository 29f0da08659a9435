/* Internal definitions of the stack object, shared by src/core and
 * src/socket. Nothing here is public API. */
#ifndef USTK_CORE_STACK_PRIV_H
#define USTK_CORE_STACK_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ustack/ustack.h"
#include "util/heap.h"
#include "util/ring.h"
#include "util/rng.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

typedef struct ustk_tcb ustk_tcb;

/* Freed TCP buffers a stack keeps for reuse, per kind (tcp_conn.c): send
 * buffers, receive buffers, the busy parts of connection blocks and
 * RACK's logs. */
#ifndef USTK_BUF_CACHE
#define USTK_BUF_CACHE 8
#endif
enum { USTK_CACHE_SND, USTK_CACHE_RCV, USTK_CACHE_BUSY, USTK_CACHE_RACK,
       USTK_CACHE_KINDS };
typedef struct ustk_dgram ustk_dgram; /* UDP and ping sockets (udp_priv.h) */
typedef struct ustk_reasm ustk_reasm; /* a datagram in reassembly */

/* One queued outgoing packet: either a complete link frame (ARP) or an IPv4
 * packet still to be framed for the link (RST, ICMP, packets released by
 * ARP resolution). */
typedef struct ustk_pkt {
    uint32_t len;
    uint32_t next_hop; /* IPv4 packets: the neighbour to frame it for */
    bool is_frame;     /* already a complete link frame */
    uint8_t *data;     /* frame_max bytes */
} ustk_pkt;

/* A bounded FIFO of packets over a fixed array. */
typedef struct ustk_pktq {
    ustk_pkt *v;
    uint32_t cap, head, len;
} ustk_pktq;

enum ustk_arp_state { ARP_FREE = 0, ARP_PENDING, ARP_RESOLVED };

typedef struct ustk_arp_entry {
    uint8_t state;
    uint8_t mac[6];
    uint32_t ip;
    uint32_t tries;      /* requests sent while pending */
    ustk_time expires;   /* resolved: when it goes stale; pending: next try */
    ustk_time refresh_at; /* stale and in use: next refresh request */
    ustk_pktq waiting;   /* packets held until the address resolves */
} ustk_arp_entry;

/* A socket slot in the handle table. */
typedef struct ustk_slot {
    uint16_t gen;      /* bumped on free, so stale handles are caught */
    uint8_t proto;     /* 0 = free, else ustk_proto: which member is set */
    uint8_t in_events; /* queued on the readiness event list */
    uint32_t next;     /* free list / event list link */
    union {
        ustk_tcb *tcb;  /* USTK_PROTO_TCP */
        ustk_dgram *dg; /* USTK_PROTO_UDP, USTK_PROTO_ICMP */
    };
} ustk_slot;

/* One entry of the routing table: dst/prefix_len via gateway (0 = the
 * destination is on the link). */
typedef struct ustk_route {
    uint32_t dst, mask, gateway;
    uint8_t prefix_len;
} ustk_route;

/* A path MTU learned for one destination (RFC 1191), until it expires.
 * no_df: the hop takes less than USTK_PMTU_MIN, and the path is used at
 * that size with DF clear, so that the hop fragments (as Linux does). */
typedef struct ustk_pmtu {
    uint32_t dst;
    uint16_t mtu;
    bool no_df;
    ustk_time expires;
} ustk_pmtu;

/* The smallest path MTU believed (Linux's min_pmtu, 552): a forged ICMP
 * error could otherwise make every segment mostly header. */
#define USTK_PMTU_MIN 552

#define USTK_SLOT_NONE UINT32_MAX

struct ustk_stack {
    ustk_config cfg;
    ustk_time now;
    ustk_rng rng;
    uint8_t isn_key[16];  /* RFC 6528 secret */
    uint8_t hash_key[16]; /* connection table hashing */
    uint32_t netmask;
    size_t frame_max;
    /* Offloads, set only while ustk_poll_output_meta() or ustk_input_meta()
     * runs: where the frame's metadata goes (NULL: a complete frame), the
     * payload a TSO segment may carry (0: none), and whether the link
     * vouches for the checksums of the frame being input. */
    ustk_frame_meta *tx_meta;
    uint32_t tso_room;
    bool rx_csum_ok;
    bool rx_gro;        /* the frame being input was coalesced by the link */
    size_t link_hdr;      /* 14 on Ethernet, 0 on raw IP */
    uint16_t ip_id;

    /* Socket handles: free slots are taken oldest-freed first (the list
     * runs from free_slot to free_tail), and a handle is the slot index
     * in the low idx_bits and the slot's generation above (socket.c). */
    ustk_slot *slots;
    uint32_t free_slot, free_tail;
    uint32_t idx_bits, idx_mask, gen_max;
    uint32_t ev_head, ev_tail;

    /* TCP connections: established/embryonic by 4-tuple; bound and
     * listening sockets by local port. */
    ustk_tcb **conn_tab;
    ustk_tcb *last_tcb;   /* the last lookup's hit or hash-in (tcp_conn.c) */
    uint32_t last_hash;   /* its 4-tuple's hash, when last_tcb is set */
    /* Freed buffers, busy parts and RACK logs kept for reuse, by
     * USTK_CACHE_* kind. */
    void *buf_cache[USTK_CACHE_KINDS][USTK_BUF_CACHE];
    uint32_t buf_cached[USTK_CACHE_KINDS];
    uint32_t conn_mask;
    ustk_tcb **port_tab;
    uint32_t port_mask;
    uint32_t ntcb;
    uint32_t nbusy;       /* blocks holding their busy part */
    uint16_t next_ephemeral;

    /* Timers of all connections, earliest first. The slot array grows
     * with the busy parts (tcp_conn.c), as only they hold timers. */
    ustk_heap timers;
    ustk_heap_node **timer_slots;

    /* Orphaned TIME-WAIT connections, compact (tcp_tw.c); NULL until
     * the first. */
    struct ustk_tw_tab *tw;

    /* Connections that want to send now, oldest first. */
    ustk_tcb *pend_head, *pend_tail;

    /* Control output: RSTs with no connection, ARP, ICMP errors. */
    ustk_pktq ctl;
    /* Packets to our own address (ip.c), delivered to our input by the
     * next ustk_poll_output(), as Linux's lo would; the array is taken
     * on first use. loop_cap (ustk_stack_set_loop_capture) is shown each
     * packet the queue takes. */
    ustk_pktq loop;
    ustk_loop_capture_fn loop_cap;
    void *loop_cap_ctx;
    /* Datagram output: UDP and ping sockets, echo replies; IPv4 packets,
     * fragments included. dg_turn: the next frame is a datagram's when TCP
     * also has something (they take turns). */
    ustk_pktq dgq;
    bool dg_turn;

    /* Routing table (cfg.max_routes entries), longest prefix first. */
    ustk_route *routes;
    uint32_t nroutes;

    /* Path MTUs: cfg.pmtu_entries rounded up to a power of two slots,
     * direct-mapped by a keyed hash of the destination; npmtu in use. */
    ustk_pmtu *pmtu;
    uint32_t pmtu_mask, pmtu_key, npmtu;

    /* Datagram sockets: UDP by local port, ping sockets by echo
     * identifier (port_mask + 1 buckets each); sockets that found the
     * datagram output queue full and wait for room. */
    ustk_dgram **udp_tab;
    ustk_dgram **ping_tab;
    ustk_dgram *dg_wait;

    /* IPv4 reassembly: datagrams by (src, dst, id, proto), and by age,
     * oldest first (the fixed timeout makes that the order of expiry). */
    ustk_reasm **frag_tab;
    uint32_t frag_mask;
    ustk_reasm *frag_oldest, *frag_newest;
    uint32_t nfrag;
    size_t frag_used; /* bytes charged to cfg.frag_mem */

    /* ICMP error token bucket, in millionths of a token. */
    uint64_t icmp_tokens;
    ustk_time icmp_last;

    ustk_arp_entry *arp;
    ustk_time arp_next; /* earliest ARP timer */

    ustk_stack_stats stats;
    uint64_t drops[USTK_DROP__COUNT];
    int last_drop;
};

/* ---- stack.c ---- */
void *ustk__alloc(ustk_stack *s, size_t n);
void ustk__free(ustk_stack *s, void *p);
void *ustk__alloc_zero(ustk_stack *s, size_t n);
/* Count a drop and report it to the trace; returns reason. */
int ustk__drop(ustk_stack *s, int reason, const ustk_tcb *t,
               const ustk_tcp_hdr *h, uint32_t len);

/* ---- pktq (stack.c) ---- */
int ustk__pktq_init(ustk_stack *s, ustk_pktq *q, uint32_t cap);
void ustk__pktq_fini(ustk_stack *s, ustk_pktq *q);
/* A slot to fill at the tail, or NULL when full; ustk__pktq_push commits. */
ustk_pkt *ustk__pktq_tail(ustk_pktq *q);
void ustk__pktq_push(ustk_pktq *q);
ustk_pkt *ustk__pktq_head(ustk_pktq *q);
void ustk__pktq_pop(ustk_pktq *q);

/* ---- route.c ---- */
int ustk__route_init(ustk_stack *s);
void ustk__route_fini(ustk_stack *s);
/* The neighbour to send to for dst, or 0 when there is no route. */
uint32_t ustk__route(const ustk_stack *s, uint32_t dst);

/* ---- pmtu.c ---- */
int ustk__pmtu_init(ustk_stack *s);
void ustk__pmtu_fini(ustk_stack *s);
/* The path MTU to dst: the interface MTU unless a smaller one was learned
 * and has not expired by now. *no_df (may be NULL): send with DF clear. */
uint32_t ustk__pmtu_get(const ustk_stack *s, ustk_time now, uint32_t dst,
                        bool *no_df);
/* An ICMP "fragmentation needed" about a datagram of quoted_len bytes to
 * dst, naming next_mtu (0 from routers older than RFC 1191): remember a
 * smaller path MTU. Returns the path MTU to use from now on, the new one
 * or what the cache knew already (*no_df as above). */
uint32_t ustk__pmtu_learn(ustk_stack *s, ustk_time now, uint32_t dst,
                          uint16_t next_mtu, uint16_t quoted_len,
                          bool *no_df);

/* ---- ip.c ---- */
/* Packets to ourselves waiting for delivery: the most the loopback queue
 * holds (more are dropped and counted, LOOP_QUEUE_FULL). */
#ifndef USTK_LOOP_QUEUE
#define USTK_LOOP_QUEUE 256
#endif
/* Deliver to our input the packets to ourselves queued before this call
 * (ustk_poll_output); what they cause to be sent to us waits for the
 * next call. */
void ustk__loop_input(ustk_stack *s, ustk_time now);
/* Write a 20-byte IPv4 header from src to dst in front of an upper-layer
 * payload of plen bytes already at pkt + 20. */
void ustk__ip_header(ustk_stack *s, uint8_t *pkt, uint8_t proto, uint32_t src,
                     uint32_t dst, uint16_t plen, bool df);
/* Frame the IPv4 packet at buf + link_hdr (ip_len bytes) for the link: on
 * Ethernet, resolve next_hop; when it is not resolved the packet is queued
 * and buf receives an ARP request instead (or nothing). Returns the frame
 * length to send now (0 when nothing). */
/* Whether a packet to next_hop would be framed at once (raw IP, or the
 * neighbour's address is known), rather than held for ARP. */
bool ustk__tx_direct(const ustk_stack *s, uint32_t next_hop);
size_t ustk__frame_ip(ustk_stack *s, ustk_time now, uint8_t *buf,
                      uint32_t ip_len, uint32_t next_hop);
/* Queue an IPv4 packet (built by fill at pkt+0) on the control queue. */
uint8_t *ustk__ctl_ip_begin(ustk_stack *s);
void ustk__ctl_ip_commit(ustk_stack *s, uint32_t ip_len, uint32_t dst);
/* An IPv4 packet from the link; link_bcast when its frame was sent to the
 * link's broadcast address. */
void ustk__ip_input(ustk_stack *s, ustk_time now, const uint8_t *pkt,
                    size_t len, bool link_bcast);
/* A whole (unfragmented or reassembled) datagram for us: hand it to its
 * protocol. pkt holds h->total_len bytes. */
void ustk__ip_deliver(ustk_stack *s, ustk_time now, const ustk_ipv4_hdr *h,
                      const uint8_t *pkt, bool link_bcast);
/* Send an upper-layer message, its 8-byte header (UDP, ICMP) then dlen
 * bytes of data, from src (one of ours) to dst, through queue q (s->ctl or
 * s->dgq): one packet when it fits the MTU, else fragments (DF clear,
 * RFC 791 §3.2). All or nothing. Returns 0, USTK_ENETUNREACH (no route),
 * USTK_EMSGSIZE (more than 65535 bytes, or more fragments than q can ever
 * hold), USTK_EAGAIN (q has no room now) or USTK_ENOMEM. */
int ustk__ip_send(ustk_stack *s, ustk_pktq *q, uint8_t proto, uint32_t src,
                  uint32_t dst, const uint8_t hdr[8], const uint8_t *data,
                  size_t dlen);
/* Whether a is a broadcast address for us: limited (255.255.255.255),
 * our subnet's (all ones or, RFC 1122 §3.3.6, all zeros in the host
 * part) or the loopback network's (127.255.255.255, as Linux routes it;
 * 127.0.0.0 is an address of this host there). */
bool ustk__ip_is_bcast(const ustk_stack *s, uint32_t a);
/* The smallest power of two >= n and >= min (at most 2^30): hash table
 * sizes. */
static inline uint32_t ustk__pow2_at_least(uint32_t n, uint32_t min)
{
    uint32_t p = min;
    while (p < n && p < (1u << 30))
        p <<= 1;
    return p;
}

/* 127.0.0.0/8: loopback, "this host" (RFC 1122 §3.2.1.3: such an
 * address "MUST NOT appear outside a host"). Every one of them is ours,
 * reached through the loopback queue and never through a link. */
static inline bool ustk__ip_is_loopback(uint32_t a)
{
    return (a >> 24) == 127;
}

/* One of this host's own unicast addresses: the configured one or any of
 * 127/8 (whose broadcast, 127.255.255.255, the callers have refused
 * already). */
static inline bool ustk__ip_is_local(const ustk_stack *s, uint32_t a)
{
    return a == s->cfg.ip || ustk__ip_is_loopback(a);
}

/* An address a socket can be bound to: any (0), ours, or one of 127/8
 * but its broadcast (ustk__ip_is_bcast). */
static inline bool ustk__ip_bindable(const ustk_stack *s, uint32_t a)
{
    return a == 0 || a == s->cfg.ip ||
           (ustk__ip_is_loopback(a) && !ustk__ip_is_bcast(s, a));
}

/* Whether a socket bound to laddr (0: any) can talk to dst. A loopback
 * address never leaves the host, so from one only this host's addresses
 * are reached; Linux refuses the rest with EINVAL too (a loopback source
 * on a route that is not lo's). */
static inline bool ustk__ip_reaches(const ustk_stack *s, uint32_t laddr,
                                    uint32_t dst)
{
    return !ustk__ip_is_loopback(laddr) || ustk__ip_is_local(s, dst);
}

/* The source address of a packet to dst from a socket bound to no
 * address: dst itself for a loopback destination, so that the answer
 * comes back to the address the sender used (Linux takes 127.0.0.1, lo's
 * address, for all of 127/8), else ours. */
static inline uint32_t ustk__ip_src(const ustk_stack *s, uint32_t dst)
{
    return ustk__ip_is_loopback(dst) ? dst : s->cfg.ip;
}

/* 224.0.0.0/4: a multicast group. */
static inline bool ustk__ip_is_multicast(uint32_t a)
{
    return (a >> 28) == 0xe;
}

/* 224.0.0.0/4 (multicast) or 240.0.0.0/4 (reserved, RFC 1122 §3.2.1.3). */
static inline bool ustk__ip_is_class_de(uint32_t a)
{
    return (a >> 28) >= 0xe;
}

/* ---- ip_frag.c: reassembly (RFC 791 §3.2, RFC 815, RFC 5722) ---- */
int ustk__frag_init(ustk_stack *s);
void ustk__frag_fini(ustk_stack *s);
/* A fragment for us (h parsed from pkt). */
void ustk__frag_input(ustk_stack *s, ustk_time now, const ustk_ipv4_hdr *h,
                      const uint8_t *pkt);
/* Give up the datagrams whose time has come; the earliest deadline. */
void ustk__frag_timers(ustk_stack *s, ustk_time now);
ustk_time ustk__frag_deadline(const ustk_stack *s);

/* ---- icmp.c ---- */
void ustk__icmp_input(ustk_stack *s, ustk_time now, const ustk_ipv4_hdr *h,
                      const uint8_t *pkt);
/* Send an ICMP error (type, code) about the datagram pkt (h parsed from
 * it; pkt holds at least its header and min(8, payload) bytes), unless RFC
 * 1122 §3.2.2 forbids one or the rate limit says no (counted). */
void ustk__icmp_error(ustk_stack *s, ustk_time now, const ustk_ipv4_hdr *h,
                      const uint8_t *pkt, uint8_t type, uint8_t code,
                      bool link_bcast);
/* A packet of ours (pkt, len: an IPv4 packet we built) was lost because the
 * neighbour did not answer ARP: tell the datagram socket that sent it. */
void ustk__icmp_local_unreachable(ustk_stack *s, const uint8_t *pkt,
                                  uint32_t len);

/* ---- arp.c ---- */
int ustk__arp_init(ustk_stack *s);
void ustk__arp_fini(ustk_stack *s);
void ustk__arp_input(ustk_stack *s, ustk_time now, const uint8_t *p,
                     size_t len);
/* MAC for ip, or NULL; when NULL and hold is not NULL the packet is copied
 * into the neighbour's queue and a request is scheduled. */
/* Whether ustk__arp_lookup() would give ip's address now (no request, no
 * queue). */
bool ustk__arp_known(const ustk_stack *s, ustk_time now, uint32_t ip);
const uint8_t *ustk__arp_lookup(ustk_stack *s, ustk_time now, uint32_t ip,
                                const uint8_t *hold, uint32_t hold_len);
void ustk__arp_timers(ustk_stack *s, ustk_time now);
void ustk__arp_announce(ustk_stack *s);

/* ---- tcp ---- */
void ustk__tcp_input(ustk_stack *s, ustk_time now, uint32_t src, uint32_t dst,
                     const uint8_t *seg, size_t len);
void ustk__tcp_timers(ustk_stack *s, ustk_time now);
/* Free the compact TIME-WAIT records (stack destruction). */
void ustk__tw_fini(ustk_stack *s);
void ustk__tcb_buf_cache_fini(ustk_stack *s);
/* A buffer of a USTK_CACHE_* kind: a cached one (which the caller knows
 * to be of the right size), else n bytes from the allocator. */
void *ustk__buf_get(ustk_stack *s, int kind, size_t n);
/* Keep p for reuse (up to USTK_BUF_CACHE of a kind), else free it. */
void ustk__buf_put(ustk_stack *s, int kind, void *p);
uint32_t ustk__tw_count(const ustk_stack *s);
/* Emit the next segment of the connections waiting to send into buf.
 * Returns the frame length; -1 when a segment was made but is held (ARP);
 * 0 when no connection wants to send. */
long ustk__tcp_output(ustk_stack *s, ustk_time now, uint8_t *buf);
/* Hard error from ICMP or ARP for the connection to dst. */
void ustk__tcp_unreachable(ustk_stack *s, ustk_time now, uint32_t dst, int err);
/* An ICMP error quoting a TCP segment we sent (RFC 5927): q the quoted
 * headers (local = the quoted source), err the USTK_E* it means, hard when
 * RFC 1122 §4.2.3.9 calls it hard (protocol/port unreachable, for
 * instance), frag_needed for "fragmentation needed" naming next_mtu
 * (RFC 1191). */
void ustk__tcp_icmp_error(ustk_stack *s, ustk_time now,
                          const ustk_icmp_quote *q, int err, bool hard,
                          bool frag_needed, uint16_t next_mtu);

/* ---- udp.c: UDP and ping sockets, the network side ---- */
int ustk__dgram_init(ustk_stack *s);
void ustk__dgram_fini(ustk_stack *s);
void ustk__udp_input(ustk_stack *s, ustk_time now, const ustk_ipv4_hdr *h,
                     const uint8_t *pkt, bool link_bcast);
/* An echo reply (msg, len: the whole ICMP message, checksum checked) for
 * the ping socket with identifier id. Returns 0 or the drop reason (not yet
 * counted). */
int ustk__ping_input(ustk_stack *s, const ustk_ipv4_hdr *h, uint16_t id,
                     const uint8_t *msg, size_t len);
/* An error, from ICMP or from ARP giving up, about a datagram a UDP
 * (proto USTK_PROTO_UDP, lport the quoted source port) or ping socket
 * (USTK_PROTO_ICMP, lport the echo identifier) sent from laddr to
 * e->dst (a socket bound to another address sent no such thing); e says
 * what it means (e->err) and the rest of what ustk_sock_error_info()
 * gives. The socket takes e->err as its pending error and keeps e when it
 * is a ping socket, or a UDP socket connected to e->dst and the error is
 * hard (RFC 1122 §4.1.3.3 passes ICMP errors up; like Linux without
 * IP_RECVERR, a UDP socket only hard ones about its peer). Returns 0 or
 * the drop reason (not yet counted). */
int ustk__dgram_icmp_error(ustk_stack *s, uint8_t proto, ustk_ip4 laddr,
                           uint16_t lport, const ustk_sock_err_info *e,
                           bool hard);
/* A packet left the datagram output queue: wake sockets waiting for
 * room. */
void ustk__dgram_room(ustk_stack *s);

/* ---- socket events (socket.c) ---- */
void ustk__sock_notify(ustk_stack *s, int sock);

#endif
