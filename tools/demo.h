/* `ustack demo`: two stacks on a simulated link, a TCP echo over it, and a
 * ladder diagram of everything that crosses the wire. */
#ifndef USTK_TOOLS_DEMO_H
#define USTK_TOOLS_DEMO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ustack/config.h"

typedef enum demo_close {
    DEMO_CLOSE_CLIENT, /* the client closes after reading the whole echo */
    DEMO_CLOSE_SERVER, /* the server closes after echoing everything */
    DEMO_CLOSE_BOTH    /* both close at the same virtual instant */
} demo_close;

typedef struct demo_opts {
    uint64_t bytes;     /* pseudo-random bytes after the greeting */
    uint64_t seed;
    /* The link: per-frame probabilities 0..1, one-way latency, rate. */
    double loss, reorder, dup, corrupt;
    uint64_t delay_ms;
    uint64_t rate_mbit;
    uint64_t path_mtu; /* a router's smaller next hop; 0 = none */
    /* TCP on both stacks. */
    ustk_cc_kind cc;
    bool sack;
    demo_close close;
    ustk_link_kind link;
    const char *pcap;   /* record the client's end here; NULL = no */
    bool quiet;         /* summary only, no ladder */
    bool full;          /* never collapse runs of data lines */
    bool ascii;         /* no box-drawing characters */
} demo_opts;

/* 4096 bytes, seed 1, 10 ms one way at 100 Mbit/s without impairments,
 * NewReno with SACK, the client closes first, Ethernet. */
void demo_opts_default(demo_opts *o);
/* Run the demo, printing to out. Returns the exit status: 0 when the echo
 * came back intact and both connections reached CLOSED, 1 otherwise. */
int demo_run(const demo_opts *o, FILE *out);

/* `ustack demo [options]`: argv[0] is "demo". (demo_cli.c) */
int demo_main(int argc, char **argv);
void demo_usage(FILE *f);

#endif
