/* A scripted client/server conversation between two stacks over the
 * simulated link: connect, send, echo (or both sides sending their own
 * streams at once), close (by the client, the server or both at once),
 * TIME-WAIT; and what came of it. The simulation tier of the tests and the
 * demo's checks are built on it. */
#ifndef USTK_TEST_SIM_SCENARIO_H
#define USTK_TEST_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link/sim.h"
#include "ustack/ustack.h"

typedef enum {
    SCEN_CLOSE_CLIENT, /* client closes first, after reading the echo */
    SCEN_CLOSE_SERVER, /* server closes first, after echoing everything */
    SCEN_CLOSE_BOTH    /* both close at the same instant */
} scen_close;

typedef enum {
    /* The client sends `bytes`, the server sends back what it reads. */
    SCEN_ECHO,
    /* Both directions at once: the client sends `bytes` of its stream, the
     * server `back_bytes` of another, from the moment it has accepted; each
     * side checks what it reads. back_bytes = 0 is a one-way transfer.
     * "Echoing everything" in the close rules reads "sending everything". */
    SCEN_DUPLEX
} scen_mode;

typedef struct scen_cfg {
    ustk_link_kind link;
    size_t bytes;          /* client to server; the server echoes them */
    scen_close close;
    uint64_t seed;         /* data pattern and stacks' seeds */
    ustk_sim_params sim;   /* latency, rate, impairments, drop mask */
    ustk_time msl;         /* TIME-WAIT = 2 * msl */
    ustk_time limit;       /* give up at this virtual time */
    uint32_t snd_buf, rcv_buf; /* 0 = defaults */
    bool options;          /* offer wscale/SACK/timestamps (default true) */
    ustk_time arp_ttl;     /* 0 = the default */
    /* What scen_cfg_default() sets below keeps the behaviour of before. */
    scen_mode mode;        /* SCEN_ECHO */
    size_t back_bytes;     /* SCEN_DUPLEX: server to client */
    int cc;                /* ustk_cc_kind for both stacks; -1 = default */
    int sack;              /* -1 = as `options`, 0 = off, 1 = on */
    uint32_t syn_retries;  /* SYN and SYN-ACK retries; 0 = defaults */
    uint32_t data_retries; /* 0 = the default */
    ustk_time rto_max;     /* 0 = the default */
    uint32_t arp_retries;  /* ARP requests before giving up; 0 = default */
    uint64_t max_steps;    /* give up after this many simulation steps
                              (counts as timed_out); 0 = no limit */
    bool tso;              /* both stacks use TSO and checksum offload,
                              cut and completed by a software GSO link
                              (link/gso.h) on each end of the pair */
    bool no_predict;       /* both stacks without header prediction */
} scen_cfg;

typedef struct scen_result {
    bool connected;
    bool data_ok;          /* the server got exactly the client's bytes,
                              and the client got exactly what it expected
                              (the echo, or the server's stream) */
    size_t server_got, client_got; /* bytes each side read */
    int client_state, server_state; /* last state seen in the trace */
    uint32_t client_visited, server_visited; /* 1 << state, every state */
    int client_err, server_err;     /* first error a call returned */
    bool timed_out;        /* the limit (or max_steps) was reached */
    ustk_time end;         /* virtual time when both were CLOSED */
    uint32_t frames;       /* frames sent on the link */
    ustk_sim_stats sim;    /* the link's counters (lost, masked, ...) */
    uint64_t retransmits;  /* TCP retransmissions, both stacks */
    uint64_t tso_frames;   /* TSO segments made, both stacks */
    uint64_t arp_requests; /* ARP requests sent, both stacks */
    uint64_t steps;        /* simulation steps taken */
    ustk_time data_done;   /* virtual time when both sides had read all */
    ustk_time max_stall;   /* the longest time, from the start until
                              data_done, in which neither side read a byte */
    /* Each side's connection as it was when its handle was closed. */
    bool client_info_ok, server_info_ok;
    ustk_tcp_info client_info, server_info;
    uint64_t predicted;    /* segments taken by header prediction, both */
    /* A hash of every trace event of each stack, in order: segments in
     * and out with all their fields, states, timers, cwnd, drops. */
    uint64_t client_events, server_events;
} scen_result;

void scen_cfg_default(scen_cfg *c);
/* Run it. Returns 0 when the scenario could be set up at all. */
int scen_run(const scen_cfg *c, scen_result *r);
/* FNV-1a, 64 bits, over 64-bit words (then the last bytes one by one). */
uint64_t scen_hash(const void *p, size_t n);

#endif
