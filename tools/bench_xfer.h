/* One bulk transfer for the benches: two stacks on a simulated raw-IP link,
 * a client that sends N bytes as fast as the stack takes them, a server
 * that reads and checks them. Nothing here prints; the run is exact and
 * repeatable for its parameters. Runs share nothing, so several may go at
 * once on different threads.
 */
#ifndef USTK_TOOLS_BENCH_XFER_H
#define USTK_TOOLS_BENCH_XFER_H

#include <stdbool.h>
#include <stdint.h>

#include "link/sim.h"
#include "ustack/ustack.h"

typedef struct xfer_params {
    ustk_cc_kind cc;
    bool sack;             /* both stacks offer SACK */
    double loss;           /* per frame, each direction, 0..1 */
    ustk_time latency;     /* one way: the base RTT is twice this */
    uint64_t rate_bps;
    uint32_t queue_limit;  /* frames per direction */
    uint32_t buf;          /* snd_buf and rcv_buf of both stacks */
    uint16_t mtu;
    uint64_t bytes;
    uint64_t seed;
    ustk_time limit;       /* virtual time before giving up */
} xfer_params;

typedef struct xfer_result {
    bool done;             /* every byte arrived */
    bool intact;           /* and in order, unchanged */
    const char *why;       /* when not done: why it stopped */
    uint64_t bytes;        /* bytes the server read */
    ustk_time duration;    /* connect() to the last byte read (or the end) */
    double goodput_bps;    /* bytes * 8 / duration */
    /* The sender's connection when the last byte was read, and from its
     * trace: retransmission timeouts, and cuts of ssthresh (one per loss
     * recovery or timeout that lowered it). */
    ustk_tcp_info snd;
    uint32_t rto_fired, ssthresh_cuts;
    ustk_sim_stats wire;
} xfer_result;

/* Defaults: NewReno with SACK, no loss, 10 ms one way, 100 Mbit/s, a
 * 4096-frame queue, 4 MiB buffers, MTU 1500, 10 MB, seed 1, one hour. */
void xfer_params_default(xfer_params *p);

/* Run one transfer. Returns 0 with *r filled in (r->done says whether it
 * finished), or a USTK_E* code when it could not be set up. */
int xfer_run(const xfer_params *p, xfer_result *r);

#endif
