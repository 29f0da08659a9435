/* ustack — stack configuration.
 *
 * A stack is created from one of these. ustk_config_default() fills in
 * today's good practice; change what you need before ustk_stack_create().
 * Every limit that bounds memory is here, so a stack never grows past what
 * its config allows.
 */
#ifndef USTACK_CONFIG_H
#define USTACK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Time is always given by the caller, in microseconds from any origin. */
typedef uint64_t ustk_time;
#define USTK_TIME_NEVER UINT64_MAX
#define USTK_MS(x) ((ustk_time)(x) * 1000u)
#define USTK_SEC(x) ((ustk_time)(x) * 1000000u)

/* An IPv4 address in host byte order: 10.0.0.1 is 0x0a000001. */
typedef uint32_t ustk_ip4;
#define USTK_IP4(a, b, c, d)                                                  \
    ((ustk_ip4)(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) |              \
                ((uint32_t)(c) << 8) | (uint32_t)(d)))

typedef enum ustk_link_kind {
    USTK_LINK_ETHERNET = 0, /* frames carry an Ethernet II header; ARP runs */
    USTK_LINK_IP = 1        /* frames are bare IPv4 packets (TUN) */
} ustk_link_kind;

/* Memory hooks: the core library allocates only through these. */
typedef void *(*ustk_alloc_fn)(void *ctx, size_t size);
typedef void (*ustk_free_fn)(void *ctx, void *ptr);

struct ustk_trace_event;
typedef void (*ustk_trace_fn)(void *ctx, const struct ustk_trace_event *ev);

/* Congestion control algorithms. */
typedef enum ustk_cc_kind {
    USTK_CC_NEWRENO = 0, /* RFC 5681 + RFC 6582 */
    USTK_CC_CUBIC = 1    /* RFC 9438 */
} ustk_cc_kind;

typedef struct ustk_config {
    /* Interface */
    ustk_link_kind link;
    uint8_t mac[6];     /* our MAC (Ethernet links) */
    ustk_ip4 ip;        /* our address (not 0, not in 127/8, which is
                           loopback: the stack's own, always) */
    uint8_t prefix_len; /* subnet mask length, 0..32 */
    ustk_ip4 gateway;   /* default route next hop; 0 = none (not in
                           127/8) */
    uint16_t mtu;       /* IP MTU, 128..65535; default 1500 */
    /* Seeds the ISN secret (RFC 6528), the connection-table hash key and
     * the ephemeral ports. The default (1) is for simulations, which must
     * repeat: a stack on a real network MUST be given a random seed (for
     * instance from getrandom()), or ISNs and hash buckets are predictable
     * to anyone who knows the default. */
    uint64_t seed;

    /* Tables and buffers */
    uint32_t max_sockets;     /* sockets of all kinds, including accepted */
    uint32_t max_time_wait;   /* orphaned TIME-WAIT connections kept as
                                 64-byte records, besides max_sockets;
                                 0 = none (they stay full blocks) */
    uint32_t max_backlog;     /* upper bound for listen(backlog) */
    uint32_t max_half_open;   /* SYN-RECEIVED connections per listener */
    uint32_t snd_buf;         /* bytes per TCP send buffer */
    uint32_t rcv_buf;         /* bytes per TCP receive buffer */
    uint32_t arp_entries;     /* ARP cache size */
    uint32_t arp_queue;       /* packets held per unresolved neighbour
                                 (buffers held only while unresolved) */
    uint32_t ctl_queue;       /* control frames (RST, ARP, ICMP) queued */
    uint16_t ephemeral_lo;    /* ephemeral port range (TCP and UDP ports,
                                 ICMP echo identifiers) */
    uint16_t ephemeral_hi;

    /* IPv4, ICMP and UDP */
    uint8_t ttl;              /* TTL of the datagrams we send, 1..255 */
    uint32_t max_routes;      /* routing table entries, the connected subnet
                                 and the default route included (>= 2) */
    uint32_t frag_mem;        /* bytes held by IPv4 reassembly, all
                                 datagrams together */
    uint32_t frag_max;        /* datagrams under reassembly at once;
                                 0 = fragments are dropped */
    ustk_time frag_timeout;   /* reassembly gives up after this (fixed from
                                 the first fragment, RFC 1122 §3.3.2) */
    uint32_t icmp_rate;       /* ICMP errors per second (token bucket);
                                 0 = never send ICMP errors */
    uint32_t icmp_burst;      /* ICMP errors that may go out at once */
    uint32_t udp_rcv_buf;     /* payload bytes queued per UDP or ping
                                 socket */
    uint32_t udp_rcv_max;     /* datagrams queued per UDP or ping socket */
    uint32_t dgram_queue;     /* IPv4 packets (fragments included) queued
                                 for output by UDP and ping sockets and
                                 echo replies */
    /* Path MTU discovery (RFC 1191): TCP sends with DF set and, told by
     * ICMP "fragmentation needed" that a hop takes less, sends smaller
     * segments. A destination's path MTU is remembered for the
     * connections that follow. */
    uint32_t pmtu_entries;    /* destinations remembered, 0..65536 (a
                                 direct-mapped cache of this many slots,
                                 rounded up to a power of two); 0 = each
                                 connection learns on its own */
    ustk_time pmtu_expire;    /* a learned path MTU is forgotten after this
                                 (RFC 1191 §6.3: ten minutes) */

    /* ARP timers */
    ustk_time arp_ttl;        /* how long a resolved entry lives */
    ustk_time arp_retry;      /* interval between requests */
    uint32_t arp_max_retries; /* requests before giving up */

    /* TCP timers and retries */
    ustk_time msl;             /* TIME-WAIT lasts 2*msl (RFC 9293 §3.6.1) */
    ustk_time rto_initial;     /* RFC 6298 §2.1: 1 s */
    ustk_time rto_min;         /* RFC 6298 §2.4 says 1 s; 200 ms is practice */
    ustk_time rto_max;         /* upper bound for backoff */
    uint32_t syn_retries;      /* SYN retransmissions before ETIMEDOUT */
    uint32_t synack_retries;   /* SYN-ACK retransmissions before dropping */
    uint32_t data_retries;     /* data/FIN retransmissions before ETIMEDOUT */
    ustk_time fin_wait2_timeout; /* orphaned FIN-WAIT-2 lifetime */
    ustk_time delack;          /* delayed ACK timer */

    /* TCP options offered in SYNs */
    /* Sending */
    uint8_t cc;                /* congestion control, USTK_CC_* */
    uint32_t init_cwnd;        /* initial window in segments (RFC 6928: 10) */
    bool nodelay;              /* default for new sockets: Nagle off */
    /* Loss detection when SACK is agreed: RACK (RFC 8985 §6) in place of
     * counting duplicate ACKs, and tail loss probes (§7). */
    bool tcp_rack;
    bool tcp_tlp;
    /* Header prediction: in-order data that acknowledges nothing new (what
     * a receiver gets nearly always) takes a short path that does what
     * the full checks would. On by default; off sends every segment the
     * long way, with the same outcome, for comparison. */
    bool tcp_predict;

    /* Keepalive defaults for sockets that turn it on (RFC 1122 §4.2.3.6) */
    ustk_time keepalive_idle;
    ustk_time keepalive_intvl;
    uint32_t keepalive_count;

    bool opt_wscale;
    bool opt_sack;
    bool opt_timestamps;
    uint8_t wscale;            /* shift we offer, 0..14 */

    /* Offloads the link does for us (a TAP device with virtio-net
     * headers, say). They apply only to frames taken with
     * ustk_poll_output_meta(), whose metadata tells the link what to do;
     * ustk_poll_output() always hands out complete frames. Off by default. */
    uint32_t tso_max;          /* TCP segmentation offload: new in-order
                                  data goes out as one IPv4 packet of up to
                                  this many payload bytes (a multiple of the
                                  segment size, at most 65,455), which the
                                  link cuts into segments; 0 = off. Such a
                                  packet always carries a partial checksum */
    bool tx_csum_offload;      /* TCP segments carry a partial checksum
                                  (the pseudo-header sum) that the link
                                  completes */

    /* Hooks */
    ustk_alloc_fn alloc;  /* NULL: the C library's malloc */
    ustk_free_fn free;
    void *alloc_ctx;
    ustk_trace_fn trace;  /* NULL: no tracing */
    void *trace_ctx;
} ustk_config;

/* Fill *cfg with defaults (addresses zero: set ip, prefix_len and mac). */
void ustk_config_default(ustk_config *cfg);

#endif
