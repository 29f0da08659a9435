/* ustack — trace events.
 *
 * A stack reports what it does to an optional sink (ustk_config.trace or
 * ustk_stack_set_trace()). The sink is called synchronously, after the event
 * has been applied; it must not call back into the stack. Tools turn these
 * events into ladder diagrams, state timelines and sequence plots.
 */
#ifndef USTACK_TRACE_H
#define USTACK_TRACE_H

#include <stdint.h>

#include "config.h"

typedef enum ustk_trace_kind {
    USTK_TRACE_SEG_IN,   /* a TCP segment was accepted for processing */
    USTK_TRACE_SEG_OUT,  /* a TCP segment was put on the wire */
    USTK_TRACE_STATE,    /* a connection changed state */
    USTK_TRACE_TIMER,    /* a connection timer fired */
    USTK_TRACE_DROP,     /* input was dropped (see ustack/drop.h) */
    USTK_TRACE_ARP,      /* an ARP request/reply was sent or received */
    USTK_TRACE_CWND      /* cwnd or ssthresh changed (see cwnd, ssthresh) */
} ustk_trace_kind;

typedef enum ustk_timer_kind {
    USTK_TIMER_RTX,       /* retransmission (SYN, SYN-ACK, data, FIN) */
    USTK_TIMER_DELACK,    /* delayed ACK */
    USTK_TIMER_TIME_WAIT, /* 2*MSL expired */
    USTK_TIMER_FIN_WAIT2, /* orphaned FIN-WAIT-2 timed out */
    USTK_TIMER_PERSIST,   /* zero-window probe */
    USTK_TIMER_KEEPALIVE,
    USTK_TIMER_RACK,      /* RACK reordering window ran out (RFC 8985) */
    USTK_TIMER_TLP        /* tail loss probe timeout (RFC 8985 §7) */
} ustk_timer_kind;

/* TCP header flags, as on the wire. */
enum {
    USTK_TCP_FIN = 0x01,
    USTK_TCP_SYN = 0x02,
    USTK_TCP_RST = 0x04,
    USTK_TCP_PSH = 0x08,
    USTK_TCP_ACK = 0x10,
    USTK_TCP_URG = 0x20,
    USTK_TCP_ECE = 0x40,
    USTK_TCP_CWR = 0x80
};

/* Which options a segment carried. */
enum {
    USTK_OPT_MSS = 0x01,
    USTK_OPT_WSCALE = 0x02,
    USTK_OPT_SACK_PERM = 0x04,
    USTK_OPT_SACK = 0x08,
    USTK_OPT_TS = 0x10
};

typedef struct ustk_trace_seg {
    uint32_t seq, ack;
    uint16_t wnd;        /* raw 16-bit field, unscaled */
    uint8_t flags;       /* USTK_TCP_* */
    uint8_t opts;        /* USTK_OPT_* present */
    uint32_t len;        /* payload bytes */
    uint16_t mss;
    uint8_t wscale;
    uint8_t nsack;
    uint32_t sack[4][2];
    uint32_t ts_val, ts_ecr;
    uint8_t rtx;         /* 1 when this output segment is a retransmission */
} ustk_trace_seg;

typedef struct ustk_trace_event {
    ustk_trace_kind kind;
    ustk_time now;
    int sock;             /* socket handle, or -1 when none */
    ustk_ip4 laddr, raddr;
    uint16_t lport, rport;
    /* The connection's ISS and IRS (0 until known), so that a viewer can
     * print relative sequence numbers. */
    uint32_t iss, irs;
    int state;            /* state after the event (USTK_TCP_*, see socket.h) */
    int old_state;        /* USTK_TRACE_STATE: state before */
    int timer;            /* USTK_TRACE_TIMER: ustk_timer_kind */
    int reason;           /* USTK_TRACE_DROP: enum ustk_drop */
    ustk_trace_seg seg;   /* SEG_IN / SEG_OUT / DROP of a TCP segment */
    /* USTK_TRACE_ARP: operation (1 request, 2 reply), whether we sent it (1)
     * or received it (0), the other host's address (raddr) and, for a
     * reply, the MAC it resolves to. */
    uint32_t cwnd, ssthresh; /* USTK_TRACE_CWND: bytes, after the change */
    uint16_t arp_op;
    uint8_t arp_sent;
    uint8_t arp_mac[6];
} ustk_trace_event;

#endif
