/* Two ustack stacks in one process joined by the shortest possible wire:
 * a frame that one stack's ustk_poll_output() writes into a buffer is
 * handed to the other's ustk_input() from that same buffer. No queue, no
 * copy, no clock of its own: whatever time the benches measure is the
 * stacks' (and the application calls around them).
 *
 * The client (stack 0) is 10.0.0.1, the server (stack 1) 10.0.0.2. Each
 * frame handed over is followed by whatever it makes the receiver send,
 * before the next one, as on a wire (link/pump.c does the same).
 */
#ifndef USTK_TOOLS_BENCH_PAIR_H
#define USTK_TOOLS_BENCH_PAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "bench_common.h"
#include "ustack/ustack.h"

#define BENCH_CLIENT 0
#define BENCH_SERVER 1

typedef struct bench_pair_cfg {
    uint32_t max_sockets[2]; /* 0: the config default */
    uint32_t max_time_wait[2]; /* TIME-WAIT records; 0: the default */
    uint32_t buf;            /* snd_buf and rcv_buf; 0: the default */
    uint16_t mtu;            /* 0: 1500 */
    bool ethernet;           /* Ethernet frames and ARP; else raw IP */
    uint16_t eph_lo, eph_hi; /* the client's ephemeral ports; 0: default */
    uint32_t backlog;        /* max_backlog and max_half_open; 0: default */
    bool count_mem;          /* a counting allocator on each stack */
    uint32_t batch;          /* bench_pair_stream's frames per delivery
                                (see below); 0 or 1: one at a time */
} bench_pair_cfg;

typedef struct bench_pair {
    ustk_stack *s[2];
    bench_mem mem[2];
    uint8_t *frame[2];
    size_t frame_cap;
    /* Batched delivery: room for `batch` frames from the sender. */
    uint8_t *bframe;
    size_t *blen;
    uint32_t batch;
    ustk_time now;
    /* bench_pair_stream: how often and how long it slept for a timer. */
    uint64_t waits, wait_us;
} bench_pair;

void bench_pair_cfg_default(bench_pair_cfg *c);
/* Returns 0 or a USTK_E* code. */
int bench_pair_create(bench_pair *p, const bench_pair_cfg *c, ustk_time now);
void bench_pair_destroy(bench_pair *p);

/* Up to max frames from stack `from`, each followed by everything it makes
 * the other stack send. Returns the frames moved (both ways). */
uint64_t bench_pair_push(bench_pair *p, int from, uint64_t max);
/* Up to max frames from stack `from`, in batches: the sender writes up to
 * p->batch frames, the receiver takes them all, then whatever that makes
 * it send goes back one frame at a time. This is how frames reach a host
 * through a NIC's receive ring, one interrupt (NAPI poll) per batch:
 * the receiver's ACK decisions are made once per batch, as Linux's GRO
 * makes them once per merged super-segment. Returns the frames moved. */
uint64_t bench_pair_push_batch(bench_pair *p, int from, uint64_t max);
/* Move frames both ways until neither stack has anything to send at
 * p->now. Returns the frames moved. */
uint64_t bench_pair_exchange(bench_pair *p);

/* A listener on the server at port. Returns the handle or a USTK_E*. */
int bench_pair_listen(bench_pair *p, uint16_t port, int backlog);

/* Open n connections to the listeners on ports port0 .. port0 + nl - 1
 * (lsock[i] listens on port0 + i) and accept them all. Each listener
 * takes as many connections as the client has ephemeral ports before the
 * next one is used, so n may reach nl times that. The handles go to
 * csock[i] and ssock[i] when those are not NULL. Returns NULL or why it
 * failed. */
const char *bench_pair_establish(bench_pair *p, uint32_t n, const int *lsock,
                                 unsigned nl, uint16_t port0, int *csock,
                                 int *ssock);

/* One connection's whole life: connect, accept, one byte each way, the
 * server closes first (its end goes to TIME-WAIT and stays there), then
 * the client reads the end of stream and closes (its end goes through
 * LAST-ACK to CLOSED and is freed). Returns NULL or why it failed. */
const char *bench_pair_churn_one(bench_pair *p, int lsock, uint16_t port);

/* TCP segments both stacks have sent so far. */
uint64_t bench_pair_segs(const bench_pair *p);

/* Move `bytes` of the pattern stream (from stream offset stream_off) from
 * the client's connection ch to the server's sh, in real time (p->now is
 * read from the clock as it goes): the client's application keeps the
 * send buffer full, the server's reads into rbuf (BENCH_CHUNK bytes) and
 * checks what it reads (every byte with verify). Returns NULL or why it
 * failed. */
const char *bench_pair_stream(bench_pair *p, int ch, int sh, uint8_t *rbuf,
                              uint64_t bytes, bool verify,
                              uint64_t stream_off);

/* The byte stream the bulk benches send: byte i of the stream is
 * bench_pattern()[i % BENCH_PAT_LEN], and the buffer runs on for
 * BENCH_CHUNK more bytes, so a chunk from any offset is contiguous. */
#define BENCH_PAT_LEN (1u << 20)
#define BENCH_CHUNK (64u * 1024u)
const uint8_t *bench_pattern(void);
/* Check a chunk received at stream offset off: its first and last 8
 * bytes (sampled), or every byte when full. */
bool bench_pattern_check(const uint8_t *buf, size_t len, uint64_t off,
                         bool full);

#endif
