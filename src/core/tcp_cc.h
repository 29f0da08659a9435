/* Congestion control behind a small vtable (RFC 5681 and its successors).
 * The state machine decides *when* something happened (new data
 * acknowledged, loss detected by duplicate ACKs, a timeout, an idle
 * restart); the algorithm decides what cwnd and ssthresh become. Adding an
 * algorithm touches only its own file and the table in tcp_cc.c. */
#ifndef USTK_CORE_TCP_CC_H
#define USTK_CORE_TCP_CC_H

#include <stdint.h>

#include "ustack/config.h"

struct ustk_tcb;

typedef struct ustk_cc_ops {
    const char *name;
    /* The connection is established: set the initial window. */
    void (*init)(struct ustk_tcb *t, uint32_t iw);
    /* acked bytes of new data were acknowledged outside recovery. */
    void (*on_ack)(struct ustk_tcb *t, uint32_t acked, ustk_time now);
    /* Loss detected: return the new ssthresh for a loss found with
     * flight bytes outstanding (RFC 5681's FlightSize). */
    uint32_t (*ssthresh_on_loss)(struct ustk_tcb *t, uint32_t flight,
                                 ustk_time now);
    /* The retransmission timer expired. */
    void (*on_timeout)(struct ustk_tcb *t, ustk_time now);
} ustk_cc_ops;

/* Per-algorithm state, in the connection's busy part: it starts afresh
 * when a connection that went quiet becomes busy again. The epoch restarts
 * as RFC 9438 §5.8 does after idle; CUBIC also forgets W_max (its memory
 * of the last loss) and grows from the current cwnd as after a first
 * start, which keeps the core of the block small. */
typedef struct ustk_cc_state {
    uint32_t ca_acked;     /* bytes acked toward the next cwnd step (CA) */
    /* CUBIC (RFC 9438), in bytes and microseconds */
    uint32_t w_max;        /* window before the last reduction */
    uint32_t w_last_max;   /* for fast convergence (§4.7) */
    uint32_t w_est;        /* Reno-friendly estimate (§4.3) */
    uint32_t k_us;         /* time to reach w_max again */
    ustk_time epoch;       /* start of this congestion-avoidance epoch */
} ustk_cc_state;

const ustk_cc_ops *ustk__cc_ops(int kind);

extern const ustk_cc_ops ustk__cc_newreno;
extern const ustk_cc_ops ustk__cc_cubic;

#endif
