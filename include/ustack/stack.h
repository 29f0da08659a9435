/* ustack — the stack object and its sans-I/O interface.
 *
 * A stack never reads a clock, never makes a system call and has no global
 * state: the caller feeds it frames with ustk_input(), takes frames from it
 * with ustk_poll_output(), and asks ustk_next_deadline() when it next needs
 * to be called. Every call takes the current time in microseconds; time must
 * never go backwards between calls on one stack.
 */
#ifndef USTACK_STACK_H
#define USTACK_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct ustk_stack ustk_stack;

/* Create a stack. Returns 0, USTK_EINVAL for a bad config, USTK_ENOMEM. */
int ustk_stack_create(ustk_stack **out, const ustk_config *cfg, ustk_time now);
/* Free the stack and every socket in it. No frames are sent. */
void ustk_stack_destroy(ustk_stack *s);

/* Hand one received frame (Ethernet or IP, per the config) to the stack.
 * Returns 0 when the frame was consumed, or the USTK_DROP_* reason (> 0)
 * when it was dropped; drops are also counted. */
int ustk_input(ustk_stack *s, ustk_time now, const uint8_t *frame, size_t len);

/* Take the next frame the stack wants to send, running any timers due at
 * `now` first. Returns 0 with *len > 0 for a frame, USTK_EAGAIN when there
 * is nothing to send now, USTK_EINVAL when cap is too small for a frame of
 * the configured MTU. */
int ustk_poll_output(ustk_stack *s, ustk_time now, uint8_t *buf, size_t cap,
                     size_t *len);

/* Per-frame offload metadata, in the terms of virtio-net's header
 * (struct virtio_net_hdr) and Linux's CHECKSUM_PARTIAL. Offsets count from
 * the start of the frame (the Ethernet header on Ethernet links). */
enum {
    USTK_META_NEEDS_CSUM = 1, /* the checksum at csum_start + csum_offset
                                 holds the pseudo-header sum; the one's
                                 complement sum from csum_start to the end
                                 of the frame is still to be stored there */
    USTK_META_DATA_VALID = 2  /* input: the link (or the sender, for a
                                 local one) vouches for the checksums */
};
enum {
    USTK_GSO_NONE = 0,
    USTK_GSO_TCPV4 = 1        /* a TCP/IPv4 packet to be cut into segments
                                 of gso_size payload bytes each */
};
typedef struct ustk_frame_meta {
    uint8_t flags;            /* USTK_META_* */
    uint8_t gso_type;         /* USTK_GSO_* */
    uint16_t gso_size;        /* payload bytes per segment (TCP: the MSS
                                 less the options every segment carries) */
    uint16_t gso_segs;        /* output: segments the link will make */
    uint16_t hdr_len;         /* output: link, IP and TCP headers */
    uint16_t csum_start;
    uint16_t csum_offset;
} ustk_frame_meta;

/* ustk_input() for a frame that comes with metadata from the link. With
 * USTK_META_DATA_VALID or USTK_META_NEEDS_CSUM the TCP checksum is not
 * verified (the IPv4 header checksum always is). A frame with a gso_type
 * may be larger than the MTU (Linux's GRO, or a local sender's GSO). meta
 * may be NULL: then this is ustk_input(). */
int ustk_input_meta(ustk_stack *s, ustk_time now, const uint8_t *frame,
                    size_t len, const ustk_frame_meta *meta);

/* ustk_poll_output() that may use the config's offloads (tso_max,
 * tx_csum_offload) and says in *meta what the link must do with the
 * frame (all zero for a complete frame). A segment larger than the MTU is
 * made only when cap holds it. */
int ustk_poll_output_meta(ustk_stack *s, ustk_time now, uint8_t *buf,
                          size_t cap, size_t *len, ustk_frame_meta *meta);

/* The earliest time at which ustk_poll_output() may have something to do:
 * `now` (or earlier) when output is waiting, USTK_TIME_NEVER when idle.
 * Never later than needed; it may be earlier (a timer that finds nothing
 * due), so callers just call again. */
ustk_time ustk_next_deadline(const ustk_stack *s, ustk_time now);

/* The routing table (longest prefix wins). The interface's connected subnet
 * (config ip/prefix_len) and the default route (config gateway) are in it
 * from the start. Our own address and 127.0.0.0/8 are this host, reached
 * through the loopback queue whatever the table says (their next hop is
 * themselves). ustk_route_add adds dst/prefix_len via gateway (0 = on
 * link); returns 0, USTK_EINVAL (bad prefix, a prefix inside 127/8,
 * gateway not on a connected subnet or in 127/8), USTK_EEXIST when the
 * prefix is there already, USTK_ENOBUFS when the table (config max_routes)
 * is full. ustk_route_del removes it (USTK_ENOENT when absent). */
int ustk_route_add(ustk_stack *s, ustk_ip4 dst, uint8_t prefix_len,
                   ustk_ip4 gateway);
int ustk_route_del(ustk_stack *s, ustk_ip4 dst, uint8_t prefix_len);
/* The next hop for dst: 0 with *next_hop set, or USTK_ENETUNREACH. */
int ustk_route_lookup(const ustk_stack *s, ustk_ip4 dst, ustk_ip4 *next_hop);

/* Largest frame the stack will emit: MTU plus the link header. */
size_t ustk_stack_frame_max(const ustk_stack *s);

/* Give back what the stack keeps only for reuse (freed connection
 * buffers, at most a few per stack, the loopback queue's buffers when no
 * packet to ourselves is waiting in it, and the TIME-WAIT table once no
 * record is left in it); nothing in use is touched. */
void ustk_stack_trim(ustk_stack *s);

/* Install or remove (fn = NULL) the trace sink. */
void ustk_stack_set_trace(ustk_stack *s, ustk_trace_fn fn, void *ctx);

/* A packet the stack sent to itself: an IPv4 packet of len bytes, header
 * included, complete (checksums and all), at the `now` of the call that
 * sent it. */
typedef void (*ustk_loop_capture_fn)(void *ctx, ustk_time now,
                                     const uint8_t *pkt, size_t len);
/* Install or remove (fn = NULL) the loopback capture sink. Packets to our
 * own address and to 127/8 go through the stack's loopback queue and cross
 * no link, so a link decorator (the pcap recorder) never sees them; the
 * sink is given each one once, when the queue takes it (Linux shows each
 * once on lo). Like the trace sink it is called from inside the stack and
 * must not call back into it. Without a sink this costs nothing but a test
 * of the pointer per packet to ourselves. */
void ustk_stack_set_loop_capture(ustk_stack *s, ustk_loop_capture_fn fn,
                                 void *ctx);

/* Count of input dropped for a reason (enum ustk_drop). */
uint64_t ustk_stack_drops(const ustk_stack *s, int reason);

typedef struct ustk_stack_stats {
    uint64_t frames_in, frames_out;
    uint64_t tcp_segs_in, tcp_segs_out, tcp_retransmits;
    uint64_t tcp_active_opens, tcp_passive_opens, tcp_resets_sent;
    uint64_t tcp_tso_frames;   /* TCP packets handed out for the link to
                                  cut (each counts its segments in
                                  tcp_segs_out) */
    uint64_t tcp_gro_frames;   /* TCP packets received, parsed and
                                  checked, that the link had coalesced
                                  (ustk_input_meta() with a gso_type) */
    uint64_t tcp_predicted;    /* TCP segments taken by header prediction
                                  (config tcp_predict) */
    uint64_t tcp_self_check;   /* connections reset because the stack
                                  found its own state inconsistent: a
                                  segment planned from bytes its send
                                  buffer does not hold (a bug in ustack,
                                  never expected; reset rather than put
                                  stale memory on the wire) */
    uint64_t arp_requests_sent, arp_replies_sent;
    uint64_t icmp_echo_replies;     /* echo replies sent */
    uint64_t drops_total;
    uint64_t sock_events;      /* socket readiness changes signalled: an
                                  event loop that sees it move while it
                                  ran the stack looks at its sockets
                                  before it sleeps */
    /* Gauges: connections now in the tables. */
    uint64_t tcp_connections;  /* connection blocks (any state) */
    uint64_t tcp_busy;         /* of those, holding their busy part (not
                                  quiet: see docs/DESIGN.md) */
    uint64_t tcp_time_wait;    /* compact TIME-WAIT records */
    /* IPv4 fragments and reassembly */
    uint64_t ip_frags_in;           /* fragments received */
    uint64_t ip_frags_out;          /* fragments sent */
    uint64_t ip_fragmented;         /* datagrams sent in fragments */
    uint64_t ip_reassembled;        /* datagrams reassembled and delivered */
    uint64_t ip_reasm_failed;       /* datagrams given up (timeout, overlap,
                                       memory, too big) */
    /* UDP */
    uint64_t udp_datagrams_in;      /* delivered to a socket's queue */
    uint64_t udp_datagrams_out;     /* sent */
    /* ICMP */
    uint64_t icmp_in, icmp_out;     /* messages received (checksum good) and
                                       sent */
    uint64_t icmp_echo_requests;    /* echo requests received */
    uint64_t icmp_echo_requests_out;/* echo requests sent by ping sockets */
    uint64_t icmp_echo_replies_in;  /* echo replies given to ping sockets */
    uint64_t icmp_errors_sent;      /* destination unreachable, time
                                       exceeded */
    uint64_t icmp_errors_in;        /* errors received (destination
                                       unreachable, source quench, time
                                       exceeded, parameter problem) */
    uint64_t dgram_err_lost;        /* errors a UDP or ping socket took
                                       whose details it did not keep:
                                       it held USTK_DGRAM_ERRQ unread
                                       (the oldest went), or memory was
                                       short (ustk_sock_error_info) */
    uint64_t pmtu_learned;          /* smaller path MTUs put in the cache
                                       from "fragmentation needed"
                                       (RFC 1191) */
    uint64_t tcp_pmtu_shrunk;       /* times a connection's segments were
                                       made smaller (or lost DF) for it */
} ustk_stack_stats;

void ustk_stack_stats_get(const ustk_stack *s, ustk_stack_stats *out);
const ustk_config *ustk_stack_config(const ustk_stack *s);

#endif
