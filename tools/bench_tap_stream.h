/* The two streams `ustack bench tap` measures, each in one thread on one
 * core, both ending in the same Linux receiver (a socket that reads 64 KiB
 * at a time and checks what it reads):
 *
 *  - ustack on a TAP device: the stack's frames written to the device one
 *    per write(), Linux's ACKs read from it, the receiving socket read in
 *    the same loop; everything Linux does for the stream (the TAP writes,
 *    its IP and TCP input, its ACKs, the reads) happens in this process's
 *    system calls;
 *  - Linux over a veth pair: a sending socket in one namespace, the
 *    receiving one in the other, non-blocking writes and reads in turn.
 *
 * The CPU of a run is the process's (CLOCK_PROCESS_CPUTIME_ID, which on a
 * kernel without IRQ_TIME_ACCOUNTING includes the softirq work done in the
 * process's context), plus what the softirq thread of the core
 * (ksoftirqd) used meanwhile: the same measure as `bench bulk`.
 */
#ifndef USTK_TOOLS_BENCH_TAP_STREAM_H
#define USTK_TOOLS_BENCH_TAP_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "bench_common.h"
#include "link/link.h"

/* What a run measured besides bench_run. */
typedef struct tapb_extra {
    double user, sys;       /* getrusage of the process, seconds */
    double softirq, busy;   /* /proc/stat of the core (sampled at the tick) */
    uint64_t frames_out;    /* ustack: frames written to the device */
    uint64_t frames_in;     /* ustack: frames read from it */
    uint64_t refused;       /* ustack: frames the device refused (lost) */
    uint64_t retrans;       /* the sender's retransmitted segments */
    uint64_t sleeps;        /* waits for the other side or a timer */
    uint64_t tso_frames;    /* ustack: TSO segments among frames_out */
    uint64_t gso_in;        /* ustack: coalesced frames among frames_in */
} tapb_extra;

/* ustack on the TAP device, talking to a listener of Linux's. */
typedef struct tapb_us_cfg {
    ustk_link *tap;
    uint8_t mac[6];
    uint32_t ip, peer;     /* ustack's address, Linux's (host order) */
    unsigned prefix;
    uint16_t mtu;
    uint32_t buf;          /* ustack's send and receive buffers */
    int lsock;             /* Linux's listener, non-blocking */
    uint16_t port;
    uint64_t bytes;
    bool verify;
    int cpu;
    bool offload;          /* the device has virtio-net headers: TSO and
                              checksum offload (ustk_poll_output_meta) */
} tapb_us_cfg;

/* One run: connect, 4 MiB not measured (slow start, buffers touched),
 * then c->bytes measured, then abort. value: Gbit/s per CPU second.
 * Returns NULL or why it failed. */
const char *tapb_us_stream(const tapb_us_cfg *c, bench_run *out,
                           tapb_extra *x);

/* Linux to Linux. The sending socket is made in namespace tx_ns
 * (tapb_ns_enter). */
typedef struct tapb_kern_cfg {
    int tx_ns;
    int lsock;             /* the receiver's listener, non-blocking */
    uint32_t dst;          /* the listener's address on this veth pair */
    uint16_t port;
    uint64_t bytes;
    bool verify;
    int cpu;
    int snmp_tx, snmp_rx;  /* /proc/net/snmp of each namespace */
} tapb_kern_cfg;

const char *tapb_kern_stream(const tapb_kern_cfg *c, bench_run *out,
                             tapb_extra *x);

#endif
